"""Incremental, deleting, atomic-per-file mirror of a remote folder into a local one.

One pull:

1. takes a file lock beside the destination (``.<name>.lock``), so two processes or
   threads pulling into one destination never interleave;
2. lists the remote folder once (:func:`prefect_storage.backends.fsspec.list_folder`);
3. compares each entry's validator (ETag / generation / md5, with the size; else size
   and mtime) with the manifest kept beside the destination (``.<name>.manifest.json``)
   and with the local file's size;
4. downloads only new and changed files, each to a temporary name in its folder and
   then ``os.replace``\\d in, so a run never sees half a file;
5. deletes the files it had pulled before that are gone remotely (files a run wrote
   itself, never listed in the manifest, are left alone);
6. writes the new manifest atomically.

A repeat pull of an unchanged folder is therefore one list request and nothing else.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from filelock import FileLock

from prefect_storage.backends.fsspec import RemoteEntry, list_folder, translate
from prefect_storage.exceptions import FlowNotFoundError, StorageError
from prefect_storage.secrets import get_logger

__all__ = ["MirrorResult", "manifest_path", "mirror_folder"]

logger = get_logger("runner.mirror")
MANIFEST_VERSION = 1


@dataclasses.dataclass(frozen=True)
class MirrorResult:
    """What one pull did."""

    listed: int
    downloaded: list[str]
    deleted: list[str]
    unchanged: int


def manifest_path(destination: Path) -> Path:
    return destination.parent / f".{destination.name}.manifest.json"


def _lock_path(destination: Path) -> Path:
    return destination.parent / f".{destination.name}.lock"


def _read_manifest(path: Path, source: str) -> dict[str, dict[str, Any]]:
    with contextlib.suppress(FileNotFoundError, ValueError):
        data = json.loads(path.read_text())
        if isinstance(data, dict) and data.get("version") == MANIFEST_VERSION and data.get("source") == source:
            files = data.get("files")
            if isinstance(files, dict):
                return files
    return {}


def _write_manifest(path: Path, source: str, files: dict[str, dict[str, Any]]) -> None:
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", dir=path.parent)
    with os.fdopen(fd, "w") as fh:
        json.dump({"version": MANIFEST_VERSION, "source": source, "files": files}, fh, sort_keys=True)
    os.replace(tmp, path)


def _is_current(entry: RemoteEntry, recorded: dict[str, Any] | None, local: str) -> bool:
    if not recorded or recorded.get("validator") != entry.validator:
        return False
    try:
        return os.stat(local).st_size == entry.size
    except FileNotFoundError:
        return False


def mirror_folder(
    fs: Any,
    root: str,
    destination: Path,
    *,
    source: str,
    fetch: Callable[[Any, list[str], list[str]], None] | None = None,
) -> MirrorResult:
    """Make ``destination`` hold exactly the files under ``root`` of ``fs`` (see the module docstring).

    ``source`` names the remote folder in the manifest and in messages (no secret in it).
    ``fetch(fs, remote_paths, local_paths)`` downloads a batch (default: ``fs.get``, which
    s3fs, gcsfs and adlfs run concurrently).
    """
    destination = Path(destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(_lock_path(destination))):
        manifest_file = manifest_path(destination)
        recorded = _read_manifest(manifest_file, source)
        try:
            entries = list_folder(fs, root)
        except Exception as exc:
            raise translate(exc, source, "listing") from None
        if not entries:
            raise FlowNotFoundError(f"No files found at {source}. Check the URL (bucket and folder) and the credentials.")
        destination.mkdir(parents=True, exist_ok=True)
        wanted: list[tuple[RemoteEntry, Path]] = []
        # list_folder() dropped names with "", "." or ".." parts: nothing lands outside the destination
        root_prefix = str(destination) + os.sep
        for relative, entry in sorted(entries.items()):
            local = root_prefix + relative  # a str: a repeat pull stats every file, pathlib costs more than the stat
            if not _is_current(entry, recorded.get(relative), local):
                wanted.append((entry, Path(local)))
        if wanted:
            _download(fs, wanted, source, fetch)
        deleted = []
        for relative in sorted(set(recorded) - set(entries)):
            with contextlib.suppress(FileNotFoundError):
                (destination / relative).unlink()
                deleted.append(relative)
            _prune_empty(destination / relative, destination)
        files = {rel: {"validator": e.validator, "size": e.size} for rel, e in entries.items()}
        if files != recorded:  # an unchanged folder writes nothing either
            _write_manifest(manifest_file, source, files)
    result = MirrorResult(len(entries), [e.relative for e, _ in wanted], deleted, len(entries) - len(wanted))
    logger.debug(
        "Pulled %s into %s: %d listed, %d downloaded, %d deleted.",
        source, destination, result.listed, len(result.downloaded), len(result.deleted),
    )
    return result


def _download(
    fs: Any, wanted: list[tuple[RemoteEntry, Path]], source: str, fetch: Callable[[Any, list[str], list[str]], None] | None
) -> None:
    token = uuid.uuid4().hex[:8]
    temps: list[Path] = []
    for _, local in wanted:
        local.parent.mkdir(parents=True, exist_ok=True)
        temps.append(local.with_name(f".{local.name}.{token}.part"))
    try:
        remote_paths = [entry.path for entry, _ in wanted]
        local_paths = [str(t) for t in temps]
        try:
            if fetch is not None:
                fetch(fs, remote_paths, local_paths)
            else:
                fs.get(remote_paths, local_paths)
        except StorageError:
            raise
        except Exception as exc:
            raise translate(exc, source, "download") from None
        for (entry, local), temp in zip(wanted, temps):
            if not temp.exists() and entry.size == 0:
                temp.touch()  # some drivers skip empty objects
            os.replace(temp, local)
    finally:
        for temp in temps:
            with contextlib.suppress(FileNotFoundError):
                temp.unlink()


def _prune_empty(path: Path, stop: Path) -> None:
    parent = path.parent
    while parent != stop and stop in parent.parents:
        try:
            parent.rmdir()
        except OSError:
            return
        parent = parent.parent
