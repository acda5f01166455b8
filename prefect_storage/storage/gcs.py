"""``GCS`` storage: flows as blobs in a Google Cloud Storage bucket."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from prefect_storage.backends.objects import ObjectStore
from prefect_storage.secrets import render
from prefect_storage.storage.base import require_text
from prefect_storage.storage.objects import ObjectStorage

if TYPE_CHECKING:
    from prefect_storage.results.gcs import GCSResult


def _result(bucket: str) -> GCSResult:
    from prefect_storage.results.gcs import GCSResult

    return GCSResult(bucket=bucket)


class GCS(ObjectStorage):
    """Store flows in a Google Cloud Storage bucket, pickled or as scripts.

    Args:
        bucket: the bucket (``$NAME`` templates are rendered at use).
        key: the blob name for every flow; default ``<slug(flow name)>/<slug(utc timestamp)>``.
        project: the Google Cloud project (default: from the credentials).
        stored_as_script: store the flow's ``.py`` script instead of a pickle.
        local_script_path: the script ``build()`` uploads in script mode (default: the
            script the CLI is registering). Without it, the script must already be at ``key``.

    Credentials: the ``GCP_CREDENTIALS`` secret (a service account key as JSON), else
    Application Default Credentials; with ``STORAGE_EMULATOR_HOST`` set, anonymous access
    to that emulator. Paired result: ``GCSResult(bucket)``.

    Example::

        flow.storage = GCS(bucket="my-flows", project="my-project")
    """

    _serialized_fields = ("bucket", "key", "project", "stored_as_script")
    _script_key_error = (
        "A `key` must be provided to show where flow `.py` file is stored in GCS or provide a "
        "`local_script_path` pointing to a local script that contains the flow."
    )

    def __init__(
        self,
        bucket: str,
        key: str | None = None,
        project: str | None = None,
        stored_as_script: bool = False,
        local_script_path: str | None = None,
        **kwargs: Any,
    ) -> None:
        self.bucket = require_text(bucket, "bucket", "GCS storage")
        self.key = key
        self.project = project
        super().__init__(
            stored_as_script=stored_as_script, local_script_path=local_script_path, paired_result=lambda: _result(bucket), **kwargs
        )

    def _store(self) -> ObjectStore:
        from prefect_storage.backends.gcs import GCSStore

        return GCSStore(render(self.bucket), render(self.project) if self.project else None)
