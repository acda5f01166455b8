"""``Local`` storage: flows as files on this machine's disk."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from prefect_storage import config
from prefect_storage.backends.local import atomic_write, hostname, read_bytes
from prefect_storage.exceptions import StorageConfigError
from prefect_storage.secrets import render
from prefect_storage.storage.base import Storage, flow_slug, timestamp_slug

if TYPE_CHECKING:
    from prefect_storage.core.flow import Flow


class Local(Storage):
    """Store flows as files in a local folder (pickled), or point at a script.

    Pickled flows are written by :meth:`add_flow` to
    ``<directory>/<slug(flow name)>/<slug(utc timestamp)>``, atomically, so every
    registration keeps its own version. In script mode (``stored_as_script=True``)
    ``path`` names the ``.py`` file (or a ``module`` / ``module:attr`` string) to load.
    The default label is this machine's host name, so only agents on this machine
    pick the flows up; pass ``add_default_labels=False`` to drop it.

    Args:
        directory: folder for pickled flows; default ``~/.prefect/flows``.
        validate: expand ``directory`` to an absolute path and create it.
        path: an explicit file (pickle or script) or module for the flow.
        stored_as_script: load ``path`` as a script instead of a pickle.

    Paired result: ``LocalResult(directory)`` (``~/.prefect/results`` for the default
    directory).

    Example::

        flow.storage = Local(directory="/srv/flows")
        flow.storage = Local(path="/srv/flows/etl.py", stored_as_script=True)
    """

    _serialized_fields = ("directory", "path", "stored_as_script")
    _write_on_add = True

    def __init__(
        self,
        directory: str | os.PathLike[str] | None = None,
        validate: bool = True,
        path: str | os.PathLike[str] | None = None,
        stored_as_script: bool = False,
        **kwargs: Any,
    ) -> None:
        if directory is None:
            directory = str((config.ensure_home_dir() if validate else config.home_path()) / "flows")
        directory = os.fspath(directory)
        # A `$NAME` template is kept as given and rendered at each use, so its value
        # never lands in `flows` or `serialize()`; the folder is created on first write.
        if validate and "$" not in directory:
            directory = os.path.abspath(os.path.expanduser(directory))
            os.makedirs(directory, exist_ok=True)
        self.directory = directory
        self.path = os.fspath(path) if path is not None else None
        if "result" not in kwargs:
            from prefect_storage.results.local import LocalResult

            kwargs["result"] = LocalResult(directory, validate_dir=validate)
        super().__init__(stored_as_script=stored_as_script, **kwargs)

    @property
    def default_labels(self) -> list[str]:
        return [hostname()] if self.add_default_labels else []

    def _location_for(self, flow: Flow) -> str:
        if self.stored_as_script:
            if not self.path:
                raise StorageConfigError("A `path` must be provided to show where flow `.py` file is stored.")
            return self.path
        if self.path:
            return self.path
        return os.path.join(self.directory, flow_slug(flow.name), timestamp_slug())

    def _generated_location(self, location: str) -> bool:
        return not self.stored_as_script and not self.path

    def _write(self, location: str, data: bytes) -> None:
        atomic_write(render(location), data)

    def _read(self, location: str) -> bytes:
        return read_bytes(render(location))

    def _load(self, flow_name: str, location: str) -> Flow:
        if _looks_like_module(location) and not os.path.isfile(render(location)):
            from prefect_storage.serialization.extract import extract_flow_from_module

            return extract_flow_from_module(location, flow_name=flow_name)
        return super()._load(flow_name, location)

    def _load_script(self, flow_name: str, location: str) -> Flow:
        from prefect_storage.serialization.extract import extract_flow_from_file

        path = render(location)
        return extract_flow_from_file(file_contents=read_bytes(path, "Flow script"), file_path=path, flow_name=flow_name)

    @classmethod
    def _from_serialized(cls, data: Mapping[str, Any]) -> Storage:
        kwargs = {f: data[f] for f in (*cls._serialized_fields, "secrets") if f in data}
        return cls(validate=False, **kwargs)


def _looks_like_module(location: str) -> bool:
    """``pkg.mod`` or ``pkg.mod:attr`` rather than a file path (classic Local accepted both)."""
    module = location.partition(":")[0]
    return bool(module) and os.sep not in location and "/" not in location and all(
        part.isidentifier() for part in module.split(".")
    )
