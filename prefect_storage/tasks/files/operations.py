"""File tasks: ``Copy``, ``Move``, ``Remove``, ``Glob`` (classic ``prefect.tasks.files.operations``)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from prefect_storage.core.task import Task
from prefect_storage.core.utilities import defaults_from_attrs

__all__ = ["Copy", "Glob", "Move", "Remove"]

PathLike = str | Path


def _existing(path: PathLike, what: str) -> Path:
    if not path:
        raise ValueError(f"No `{what}` provided.")
    resolved = Path(path)
    if not resolved.exists():
        raise ValueError(f"{'Source path' if what == 'source_path' else 'Path'} ({resolved}) not found")
    return resolved


class _Transfer(Task):
    """What Move and Copy share: both paths as defaults for ``run``, both required."""

    def __init__(self, source_path: PathLike = "", target_path: PathLike = "", **kwargs: Any) -> None:
        self.source_path = source_path
        self.target_path = target_path
        super().__init__(**kwargs)

    @staticmethod
    def _paths(source_path: PathLike, target_path: PathLike) -> Path:
        """The existing source; ``ValueError`` when a path is missing or the source does not exist."""
        if not source_path:
            raise ValueError("No `source_path` provided.")
        if not target_path:
            raise ValueError("No `target_path` provided.")
        return _existing(source_path, "source_path")


class Move(_Transfer):
    """Move a file or folder from ``source_path`` to ``target_path``; returns the new path."""

    @defaults_from_attrs("source_path", "target_path")
    def run(self, source_path: PathLike = "", target_path: PathLike = "") -> Path:
        """Move; ``ValueError`` when a path is missing or the source does not exist."""
        source = self._paths(source_path, target_path)
        self.logger.info(f"Moving {source} to {target_path}...")
        return Path(shutil.move(str(source), str(target_path)))


class Copy(_Transfer):
    """Copy a file (``shutil.copy``) or a folder tree to ``target_path``; returns the copy's path."""

    @defaults_from_attrs("source_path", "target_path")
    def run(self, source_path: PathLike = "", target_path: PathLike = "") -> Path:
        """Copy; ``ValueError`` when a path is missing or the source does not exist."""
        source = self._paths(source_path, target_path)
        self.logger.info(f"Copying {source} to {target_path}...")
        if source.is_file():
            return Path(shutil.copy(source, target_path))
        return Path(shutil.copytree(source, target_path))


class Remove(Task):
    """Remove a file or an empty folder."""

    def __init__(self, path: PathLike = "", **kwargs: Any) -> None:
        self.path = path
        super().__init__(**kwargs)

    @defaults_from_attrs("path")
    def run(self, path: PathLike = "") -> None:
        """Remove ``path``; ``ValueError`` when it is missing, ``OSError`` for a non-empty folder."""
        target = _existing(path, "path")
        self.logger.info(f"Removing {target}...")
        if target.is_file() or target.is_symlink():
            target.unlink()
        else:
            target.rmdir()


class Glob(Task):
    """The paths under ``path`` matching ``pattern`` (``Path.glob``; ``**`` recurses)."""

    def __init__(self, path: PathLike = "", pattern: str = "*", **kwargs: Any) -> None:
        self.path = path
        self.pattern = pattern
        super().__init__(**kwargs)

    @defaults_from_attrs("path", "pattern")
    def run(self, path: PathLike = "", pattern: str = "*") -> list[Path]:
        """The matches, in the order ``Path.glob`` yields them."""
        if not path:
            raise ValueError("No `path` provided.")
        base = Path(path)
        self.logger.debug("Glob path: %s", base / pattern)
        return list(base.glob(pattern))
