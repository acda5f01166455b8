"""What ``S3``, ``GCS`` and ``Azure`` storage share: classic keys, script uploads,
concurrent builds and cached loads, over an :class:`~prefect_storage.backends.objects.ObjectStore`."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from prefect_storage.backends.objects import ObjectStore, cached_get
from prefect_storage.context import context
from prefect_storage.exceptions import StorageConfigError
from prefect_storage.secrets import render
from prefect_storage.storage.base import Storage, flow_slug, timestamp_slug

if TYPE_CHECKING:
    from prefect_storage.core.flow import Flow
    from prefect_storage.results.base import Result


class ObjectStorage(Storage):
    """Base of the object-store storages. Subclasses supply :meth:`_store`.

    * a flow's key is the given key, or ``<slug(flow name)>/<slug(utc timestamp)>``;
    * ``build()`` uploads pickles (or, in script mode, ``local_script_path``), up to
      :attr:`_max_concurrent_writes` at once, each in a single request;
    * ``get_flow`` goes through the local payload cache: a warm load of an unchanged
      object is one conditional request and no payload.
    """

    _base_class = True  # never deserialized itself: only S3, GCS, Azure
    _max_concurrent_writes = 8
    #: the classic error when script mode has neither a key nor a script to upload
    _script_key_error: ClassVar[str] = ""

    local_script_path: str | None

    def __init__(
        self,
        *,
        stored_as_script: bool,
        paired_result: Callable[[], Result],
        local_script_path: str | None = None,
        **kwargs: Any,
    ) -> None:
        """The arguments every object storage takes: ``local_script_path`` defaults to the
        script the CLI is registering, and ``result`` to the storage's paired result
        (``paired_result()``, made only when no ``result`` is given)."""
        self.local_script_path = local_script_path or context.get("local_script_path")
        if "result" not in kwargs:
            kwargs["result"] = paired_result()
        super().__init__(stored_as_script=stored_as_script, **kwargs)

    @property
    def _key_setting(self) -> str | None:
        """The user's fixed key (``key``, or ``blob_name`` for Azure), if any."""
        return getattr(self, "key", None)

    def _store(self) -> ObjectStore:
        raise NotImplementedError

    def _location_for(self, flow: Flow) -> str:
        return self._key_setting or f"{flow_slug(flow.name)}/{timestamp_slug()}"

    def _generated_location(self, location: str) -> bool:
        return not self._key_setting

    def _validate_build(self) -> None:
        if self.stored_as_script and not self.local_script_path and not self._key_setting:
            raise StorageConfigError(self._script_key_error)

    def _script_payload(self, flow_name: str, flow: Flow) -> bytes | None:
        if not self.local_script_path:
            return None  # the user placed the script at `key` themselves
        path = render(self.local_script_path)
        try:
            with open(path, "rb") as fh:
                return fh.read()
        except OSError as exc:
            raise StorageConfigError(
                f"Cannot read local_script_path {path!r} to upload it: {exc.strerror or exc}."
            ) from None

    def _write(self, location: str, data: bytes) -> None:
        store = self._store()
        key = render(location)
        what = "script" if self.stored_as_script else "flow"
        self.logger.info("Uploading %s to %s (%d bytes)", what, store.describe(key), len(data))
        store.put(key, data)

    def _read(self, location: str) -> bytes:
        store = self._store()
        key = render(location)
        self.logger.info("Downloading flow from %s", store.describe(key))
        data = cached_get(store, key)
        self._downloaded(store)
        return data

    def _downloaded(self, store: ObjectStore) -> None:
        """Called after a load (downloaded or answered by the local cache); S3 logs the
        object's version as the classic class did."""

    def _describe(self, location: str) -> str:
        return self._store().describe(render(location))
