"""Zip archives: ``Zip`` and ``Unzip`` (classic ``prefect.tasks.files.compression``)."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path
from typing import Any

from prefect_storage.core.task import Task
from prefect_storage.core.utilities import defaults_from_attrs

__all__ = ["Unzip", "Zip"]

_METHODS = {
    "store": zipfile.ZIP_STORED,
    "deflate": zipfile.ZIP_DEFLATED,
    "bzip2": zipfile.ZIP_BZIP2,
    "lzma": zipfile.ZIP_LZMA,
}


class Unzip(Task):
    """Extract ``zip_path`` into ``extract_dir`` (default: the current folder); returns the folder."""

    def __init__(self, zip_path: str | Path = "", extract_dir: str | Path = "", **kwargs: Any) -> None:
        self.zip_path = zip_path
        self.extract_dir = extract_dir
        super().__init__(**kwargs)

    @defaults_from_attrs("zip_path", "extract_dir")
    def run(self, zip_path: str | Path = "", extract_dir: str | Path = "", password: bytes | str | None = None) -> Path:
        """Extract; ``ValueError`` for a missing archive, ``TypeError`` when it is not a zip file."""
        if not zip_path:
            raise ValueError("No `zip_path` provided")
        archive = Path(zip_path)
        target = Path(extract_dir or Path.cwd())
        if not archive.exists():
            raise ValueError(f"`zip_path` '{archive}' not found")
        if not zipfile.is_zipfile(archive):
            raise TypeError(f"`zip_path` '{archive}' is not a zip file")
        self.logger.info(f"Extracting '{archive}' to '{target}'")
        pwd = password.encode("utf-8") if isinstance(password, str) else password
        with zipfile.ZipFile(archive, "r") as zf:
            zf.extractall(target, pwd=pwd)
        return target


class Zip(Task):
    """Write ``source_path`` (a file, a folder, or a list of them) into the archive ``zip_path``.

    ``compression_method`` is ``store``, ``deflate`` (default), ``bzip2`` or ``lzma``.
    """

    def __init__(
        self,
        source_path: str | Path | list[str] | list[Path] = "",
        zip_path: str | Path = "",
        compression_method: str = "deflate",
        compression_level: int | None = None,
        **kwargs: Any,
    ) -> None:
        if compression_method not in _METHODS:
            raise ValueError(f"Compression method {compression_method} is not supported!")
        self.source_path = source_path
        self.zip_path = zip_path
        self.compression = _METHODS[compression_method]
        self.compression_level = compression_level
        super().__init__(**kwargs)

    @defaults_from_attrs("source_path", "zip_path")
    def run(self, source_path: str | Path | list[str] | list[Path] = "", zip_path: str | Path = "") -> None:
        """Create the archive; folders are stored with their own name as the top folder."""
        if not source_path:
            raise ValueError("No `source_path` provided.")
        if not zip_path:
            raise ValueError("No `zip_path` provided.")
        sources = [Path(p) for p in source_path] if isinstance(source_path, list) else [Path(source_path)]
        with zipfile.ZipFile(zip_path, "w", compression=self.compression, compresslevel=self.compression_level) as zf:
            self.logger.info(f"Creating zip archive {zip_path}")
            for src in sources:
                self.logger.info(f"Adding {src.name} to archive")
                if src.is_file():
                    zf.write(src, arcname=src.name)
                    continue
                for root, _dirs, files in os.walk(src):
                    for name in sorted(files):
                        path = Path(root) / name
                        zf.write(path, arcname=path.relative_to(src.parent))
