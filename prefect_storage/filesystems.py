"""``prefect.filesystems`` after the import swap: the filesystem blocks."""

from prefect_storage.blocks.storage import LocalFileSystem, RemoteFileSystem

__all__ = ["LocalFileSystem", "RemoteFileSystem"]
