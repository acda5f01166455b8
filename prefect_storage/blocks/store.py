"""Where blocks are saved: the registry (``$PREFECT_STORAGE_REGISTRY_URL``, else SQLite in the home folder).

Inside an agent run the registry is reached through the agent's broker
(``prefect_storage.registry.client.run_registry()``) when that module exists.
"""

from __future__ import annotations

import contextlib
import contextvars
import threading
from collections.abc import Iterator, Mapping
from typing import Any

__all__ = ["delete_document", "list_documents", "read_document", "registry", "save_document", "using"]

_lock = threading.Lock()
_registries: dict[str, Any] = {}
_override: contextvars.ContextVar[Any] = contextvars.ContextVar("prefect_storage_blocks_registry", default=None)


@contextlib.contextmanager
def using(registry: Any) -> Iterator[None]:
    """Save and load blocks in ``registry`` inside the block (the CLI's ``--registry``)."""
    token = _override.set(registry)
    try:
        yield
    finally:
        _override.reset(token)


def registry() -> Any:
    """The registry blocks use (one per registry URL per process)."""
    if _override.get() is not None:
        return _override.get()
    try:
        from prefect_storage.registry.client import run_registry  # provided by the agent helper
    except ImportError:
        run_registry = None
    if run_registry is not None:
        return run_registry()
    from prefect_storage.registry import Registry
    from prefect_storage.registry.engine import registry_url

    url = registry_url()
    with _lock:
        if url not in _registries:
            _registries[url] = Registry(url)
        return _registries[url]


def save_document(block_type: str, name: str, data: Mapping[str, Any], overwrite: bool = False) -> str:
    from prefect_storage.registry.blocks import save_block_document

    return save_block_document(registry(), block_type, name, data, overwrite=overwrite)


def read_document(block_type: str, name: str) -> dict[str, Any]:
    from prefect_storage.registry.blocks import read_block_document

    reg = registry()
    if not hasattr(reg, "_begin") and hasattr(reg, "call"):  # inside an agent run: through its broker
        from prefect_storage.exceptions import BlockNotFoundError

        answer = reg.call("read_block_document", block_type=block_type, name=name)
        if "missing" in answer:
            raise BlockNotFoundError(answer["missing"])
        return dict(answer["data"])
    return read_block_document(reg, block_type, name).data


def list_documents(block_type: str | None = None) -> list[Any]:
    from prefect_storage.registry.blocks import list_block_documents

    return list_block_documents(registry(), block_type)


def delete_document(block_type: str, name: str) -> None:
    from prefect_storage.registry.blocks import delete_block_document

    delete_block_document(registry(), block_type, name)
