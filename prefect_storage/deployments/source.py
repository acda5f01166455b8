"""``flow.from_source(source, entrypoint)``: pull the code once, load the flow from it.

``source`` is a URL string (git URL, fsspec URL, or a local folder — the rules of
:func:`~prefect_storage.runner.storage.create_storage_from_source`), any
``RunnerStorage`` (``GitRepository``, ``RemoteStorage``, ``LocalStorage``...), or a
storage block (anything with ``get_directory``, wrapped in ``BlockStorageAdapter``).

A source is pulled at most once per process: loading 100 flows from one repository
clones it once (Prefect clones it for every ``from_source`` call). The copy lives in
a temporary folder removed when the process exits.
"""

from __future__ import annotations

import atexit
import json
import shutil
import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from prefect_storage.core.modern_flow import ModernFlow

__all__ = ["as_runner_storage", "load_from_source", "pull_step_of"]

_pulled: dict[str, Path] = {}
_lock = threading.Lock()


def as_runner_storage(source: Any) -> Any:
    """A ``RunnerStorage`` for ``source`` (see the module docstring)."""
    from prefect_storage.runner.storage import BlockStorageAdapter, create_storage_from_source

    if isinstance(source, Path):
        source = str(source)
    if isinstance(source, str):
        return create_storage_from_source(source)
    if hasattr(source, "pull_code") and hasattr(source, "set_base_path"):
        return source
    if hasattr(source, "get_directory"):
        return BlockStorageAdapter(source)
    from prefect_storage.exceptions import StorageConfigError

    raise StorageConfigError(
        f"from_source cannot use a {type(source).__name__}: give a git or fsspec URL, a folder path, a RunnerStorage "
        "(GitRepository, RemoteStorage, LocalStorage) or a storage block."
    )


def pull_step_of(storage: Any) -> list[dict[str, Any]]:
    """The storage's pull steps as a list (``to_pull_step()`` may return one step)."""
    step = storage.to_pull_step()
    return [dict(s) for s in step] if isinstance(step, list) else [dict(step)]


def _is_local(storage: Any) -> bool:
    return type(storage).__name__ == "LocalStorage"


def _cleanup() -> None:
    for path in list(_pulled.values()):
        shutil.rmtree(path.parent, ignore_errors=True)


atexit.register(_cleanup)


def pulled_directory(storage: Any) -> Path:
    """Where ``storage``'s code is on this machine: pulled once per process (a local
    storage is used in place)."""
    from prefect_storage.deployments.steps.pull import pull_with_retries

    if _is_local(storage):
        return Path(storage.destination)
    key = json.dumps(pull_step_of(storage), sort_keys=True, default=str)
    with _lock:
        if key in _pulled and _pulled[key].exists():
            return _pulled[key]
        base = Path(tempfile.mkdtemp(prefix="prefect-storage-source-"))
        storage.set_base_path(base)
        try:
            pull_with_retries(storage, "the flow source")
        except BaseException:
            shutil.rmtree(base, ignore_errors=True)
            raise
        _pulled[key] = Path(storage.destination)
        return _pulled[key]


def load_from_source(source: Any, entrypoint: str) -> ModernFlow:
    from prefect_storage.core.modern_flow import to_modern_flow
    from prefect_storage.serialization.entrypoint import load_entrypoint

    storage = as_runner_storage(source)
    directory = pulled_directory(storage)
    flow = to_modern_flow(load_entrypoint(entrypoint, directory), entrypoint)
    flow = flow.with_options() if getattr(flow, "_storage", None) is not None else flow
    flow._storage = storage
    flow._entrypoint = entrypoint
    return flow
