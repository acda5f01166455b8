"""What GitHub, GitLab, Bitbucket and CodeCommit storage share (as ``objects.py`` is for
S3, GCS and Azure): flows are scripts that live in a repository, read through the host's
API at the commit a ref resolves to, and cached by (repository, path, commit).

A subclass says how to name itself and supplies :meth:`ForgeStorage._fetch`, which
resolves the ref and reads the file with its ``backends/`` transport.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from prefect_storage.exceptions import StorageConfigError
from prefect_storage.secrets import render
from prefect_storage.storage.base import Storage

if TYPE_CHECKING:
    from prefect_storage.core.flow import Flow

__all__ = ["ForgeStorage"]


class ForgeStorage(Storage):
    """Base of the API-based git storages; never serialized itself."""

    _base_class = True
    #: prefix of locations in messages (``"github"``)
    _forge: ClassVar[str] = ""
    #: the host's name in messages (``"GitHub"``)
    _forge_name: ClassVar[str] = ""

    path: str | None

    def __init__(self, **kwargs: Any) -> None:
        kwargs.pop("stored_as_script", None)  # always scripts: the repository holds them
        super().__init__(stored_as_script=True, **kwargs)

    def _location_for(self, flow: Flow) -> str:
        if not self.path:
            raise StorageConfigError(f"{self._forge_name} storage needs `path`: the flow script's path in the repository.")
        return self.path

    def _script_payload(self, flow_name: str, flow: Flow) -> bytes | None:
        return None  # the script lives in the repository; push it there

    def _where(self) -> str:
        """The repository, as named in messages."""
        return str(getattr(self, "repo", ""))

    def _requested_ref(self) -> str | None:
        """The ref the user asked for (``None``: the default branch)."""
        ref: str | None = getattr(self, "ref", None)
        return ref

    def _describe(self, location: str) -> str:
        return f"{self._forge}:{self._where()}@{self._requested_ref() or 'default branch'}:{location}"

    def _read(self, location: str) -> bytes:
        return self._fetch(render(location))

    def _fetch(self, path: str) -> bytes:
        """The bytes of ``path`` at the commit the ref resolves to (through ``backends/``)."""
        raise NotImplementedError
