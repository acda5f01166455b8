"""``BlockStorageAdapter``: any storage block with ``get_directory`` as a runner storage.

The Prefect 2/3 storage-block protocol is ``get_directory(from_path=None,
local_path=None)`` (sync or async). Our own storage blocks (``S3Bucket``,
``GcsBucket``, ``AzureBlobStorageContainer``, ``RemoteFileSystem``,
``LocalFileSystem``) pull incrementally and delete what was removed upstream, so the
adapter leaves the destination to them; a foreign block gets Prefect's behaviour
(the destination is emptied first, so no stale file survives).
"""

from __future__ import annotations

import asyncio
import inspect
import shutil
import uuid
from pathlib import Path
from typing import Any

from filelock import FileLock

from prefect_storage.exceptions import BlockNotSavedError, StorageConfigError
from prefect_storage.runner.base import StorageBase

__all__ = ["BlockStorageAdapter"]


class BlockStorageAdapter(StorageBase):
    """Wraps ``block`` (anything with ``get_directory``) so a runner can pull from it."""

    def __init__(self, block: Any, pull_interval: int | None = 60) -> None:
        super().__init__(pull_interval)
        if not callable(getattr(block, "get_directory", None)):
            raise StorageConfigError(
                f"{type(block).__name__} cannot be used as code storage: it has no get_directory() method."
            )
        self._block = block
        slug = _slug(block)
        name = getattr(block, "_block_document_name", None) or uuid.uuid4().hex[:12]
        self._name = f"{slug}-{name}"

    @property
    def destination(self) -> Path:
        return self._storage_base_path / self._name

    def pull_code_sync(self) -> None:
        """Fetch the block's folder into :attr:`destination` (under a file lock)."""
        destination = self.destination
        destination.parent.mkdir(parents=True, exist_ok=True)
        with FileLock(str(destination) + ".lock"):
            incremental = getattr(self._block, "_incremental_get_directory", False)
            if destination.exists() and not incremental:
                for child in destination.iterdir():
                    if child.is_dir() and not child.is_symlink():
                        shutil.rmtree(child)
                    else:
                        child.unlink()
            destination.mkdir(parents=True, exist_ok=True)
            result = self._block.get_directory(local_path=str(destination))
            if inspect.isawaitable(result):
                asyncio.run(_await(result))

    def to_pull_step(self) -> dict[str, Any]:
        """The block's own ``get_pull_step()`` if it has one, else ``pull_with_block``."""
        own = getattr(self._block, "get_pull_step", None)
        if callable(own):
            step: dict[str, Any] = own()
            return step
        name = getattr(self._block, "_block_document_name", None)
        if name is None:
            raise BlockNotSavedError("Block must be saved with `.save()` before it can be converted to a pull step.")
        return {
            "prefect.deployments.steps.pull_with_block": {"block_type_slug": _slug(self._block), "block_document_name": name}
        }

    def __eq__(self, other: object) -> bool:
        return isinstance(other, BlockStorageAdapter) and self._block == other._block

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"BlockStorageAdapter(block={self._block!r})"


async def _await(awaitable: Any) -> Any:
    return await awaitable


def _slug(block: Any) -> str:
    getter = getattr(block, "get_block_type_slug", None)
    if callable(getter):
        return str(getter())
    return type(block).__name__.lower()
