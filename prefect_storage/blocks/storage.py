"""Storage blocks with ``get_directory`` / ``put_directory`` (Prefect's filesystem blocks).

``S3Bucket``, ``GcsBucket``, ``AzureBlobStorageContainer``, ``RemoteFileSystem`` and
``LocalFileSystem`` all reach their service through fsspec
(:mod:`prefect_storage.backends.fsspec`). ``get_directory`` is the incremental mirror
of :mod:`prefect_storage.runner.mirror` (one listing; only changed files downloaded;
remote deletes propagated; atomic per file), so a ``BlockStorageAdapter`` over one of
these blocks pulls as cheaply as ``RemoteStorage``.
"""

from __future__ import annotations

import abc
import fnmatch
import os
from pathlib import Path
from typing import Any

from prefect_storage.backends import fsspec as fsspec_backend
from prefect_storage.blocks.core import Block, Field
from prefect_storage.blocks.credentials import AwsCredentials, AzureBlobStorageCredentials, GcpCredentials
from prefect_storage.runner._values import reveal

__all__ = ["AzureBlobStorageContainer", "GcsBucket", "LocalFileSystem", "RemoteFileSystem", "S3Bucket"]


class _FolderBlock(Block, abc.ABC):
    """A folder reached through fsspec: subclasses say which URL and which settings."""

    _incremental_get_directory = True

    @abc.abstractmethod
    def _base_url(self) -> str:
        """``s3://bucket/folder``: the block's folder as an fsspec URL."""

    def _fs_settings(self) -> dict[str, Any]:
        return {}

    def _url(self, path: str | None) -> str:
        base = self._base_url().rstrip("/")
        return f"{base}/{path.strip('/')}" if path else base

    def _fs(self) -> Any:
        scheme, _ = fsspec_backend.split_url(self._base_url())
        return fsspec_backend.filesystem(scheme, reveal(self._fs_settings()))

    def get_directory(self, from_path: str | None = None, local_path: str | None = None) -> None:
        """Mirror ``from_path`` (default: the block's folder) into ``local_path`` (default: the cwd)."""
        from prefect_storage.runner.mirror import mirror_folder

        url = self._url(from_path)
        _, root = fsspec_backend.split_url(url)
        mirror_folder(self._fs(), root, Path(local_path or ".").resolve(), source=url)

    def put_directory(self, local_path: str | None = None, to_path: str | None = None,
                      ignore_file: str | None = None) -> int:
        """Upload the files under ``local_path`` (default: the cwd) to ``to_path``; return how many.

        ``ignore_file`` holds gitignore-style patterns (e.g. ``.prefectignore``)."""
        source = Path(local_path or ".").resolve()
        patterns = _ignore_patterns(Path(ignore_file)) if ignore_file else []
        _, root = fsspec_backend.split_url(self._url(to_path))
        locals_, remotes = [], []
        for path in sorted(p for p in source.rglob("*") if p.is_file()):
            relative = path.relative_to(source).as_posix()
            if _ignored(relative, patterns):
                continue
            locals_.append(str(path))
            remotes.append(f"{root}/{relative}")
        if locals_:
            fs = self._fs()
            try:
                fs.put(locals_, remotes)
            except Exception as exc:
                raise fsspec_backend.translate(exc, self._url(to_path), "upload") from None
        return len(locals_)

    def read_path(self, path: str) -> bytes:
        _, full = fsspec_backend.split_url(self._url(path))
        try:
            return bytes(self._fs().cat_file(full))
        except Exception as exc:
            raise fsspec_backend.translate(exc, self._url(path), "download") from None

    def write_path(self, path: str, content: bytes) -> str:
        _, full = fsspec_backend.split_url(self._url(path))
        try:
            self._fs().pipe_file(full, content)
        except Exception as exc:
            raise fsspec_backend.translate(exc, self._url(path), "upload") from None
        return full


def _ignore_patterns(path: Path) -> list[str]:
    lines = path.read_text().splitlines() if path.exists() else []
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def _ignored(relative: str, patterns: list[str]) -> bool:
    import importlib.util

    if importlib.util.find_spec("pathspec") is not None:
        import pathspec

        return bool(patterns) and bool(pathspec.GitIgnoreSpec.from_lines(patterns).match_file(relative))
    ignored = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        pattern = pattern[1:] if negate else pattern
        pattern = pattern.rstrip("/")
        parts = relative.split("/")
        hit = fnmatch.fnmatch(relative, pattern.lstrip("/")) or any(fnmatch.fnmatch(p, pattern) for p in parts)
        if hit:
            ignored = not negate
    return ignored


class S3Bucket(_FolderBlock):
    """An S3 bucket folder (``prefect_aws.S3Bucket``)."""

    bucket_name: str
    credentials: AwsCredentials | None
    bucket_folder: str

    _block_type_slug = "s3-bucket"
    _fields = {
        "bucket_name": Field(required=True, aliases=("bucket",), description="The bucket."),
        "credentials": Field(block="aws-credentials", description="An AwsCredentials block."),
        "bucket_folder": Field(default="", aliases=("folder",), description="A folder in the bucket."),
    }

    def _base_url(self) -> str:
        return f"s3://{self.bucket_name}/{(self.bucket_folder or '').strip('/')}".rstrip("/")

    def _fs_settings(self) -> dict[str, Any]:
        return self.credentials.fsspec_settings() if self.credentials is not None else {}


class GcsBucket(_FolderBlock):
    """A GCS bucket folder (``prefect_gcp.GcsBucket``)."""

    bucket: str
    gcp_credentials: GcpCredentials | None
    bucket_folder: str

    _block_type_slug = "gcs-bucket"
    _fields = {
        "bucket": Field(required=True, description="The bucket."),
        "gcp_credentials": Field(block="gcp-credentials", aliases=("credentials",), description="A GcpCredentials block."),
        "bucket_folder": Field(default="", aliases=("folder",), description="A folder in the bucket."),
    }

    def _base_url(self) -> str:
        return f"gs://{self.bucket}/{(self.bucket_folder or '').strip('/')}".rstrip("/")

    def _fs_settings(self) -> dict[str, Any]:
        settings = self.gcp_credentials.fsspec_settings() if self.gcp_credentials is not None else {}
        if "token" not in settings and os.environ.get("STORAGE_EMULATOR_HOST"):
            settings["token"] = "anon"  # an emulator takes no credentials
        return settings


class AzureBlobStorageContainer(_FolderBlock):
    """An Azure Blob Storage container folder (``prefect_azure.AzureBlobStorageContainer``)."""

    container_name: str
    credentials: AzureBlobStorageCredentials | None
    base_folder: str

    _block_type_slug = "azure-blob-storage-container"
    _fields = {
        "container_name": Field(required=True, aliases=("container",), description="The container."),
        "credentials": Field(block="azure-blob-storage-credentials", description="An AzureBlobStorageCredentials block."),
        "base_folder": Field(default="", aliases=("folder",), description="A folder in the container."),
    }

    def _base_url(self) -> str:
        return f"az://{self.container_name}/{(self.base_folder or '').strip('/')}".rstrip("/")

    def _fs_settings(self) -> dict[str, Any]:
        return self.credentials.fsspec_settings() if self.credentials is not None else {}


class RemoteFileSystem(_FolderBlock):
    """Any fsspec folder (``prefect.filesystems.RemoteFileSystem``): ``basepath`` + fsspec ``settings``."""

    basepath: str
    settings: dict[str, Any]

    _block_type_slug = "remote-file-system"
    _fields = {
        "basepath": Field(required=True, description="e.g. s3://bucket/folder"),
        "settings": Field(default={}, description="fsspec settings; values may be $VAR templates."),
    }

    def _base_url(self) -> str:
        return str(self.basepath)

    def _fs_settings(self) -> dict[str, Any]:
        return dict(self.settings or {})


class LocalFileSystem(_FolderBlock):
    """A local folder (``prefect.filesystems.LocalFileSystem``)."""

    basepath: str | None

    _block_type_slug = "local-file-system"
    _fields = {"basepath": Field(description="The folder (default: the working directory).")}

    def _base_url(self) -> str:
        return "file://" + str(Path(self.basepath or ".").expanduser().resolve())
