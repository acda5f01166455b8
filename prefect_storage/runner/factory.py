"""``create_storage_from_source``: a runner storage from a URL or a path, without guessing silently.

Rules, in order:

1. scheme ``git``/``git+...``/``ssh``, a path ending in ``.git``, an scp-like address
   (``git@host:org/repo``) or an ``https`` URL on a known forge (GitHub, GitLab,
   Bitbucket, ...) -> :class:`GitRepository`;
2. ``file://`` / ``local://`` or a plain path -> :class:`LocalStorage`;
3. a scheme in the scheme map, or any protocol fsspec knows -> :class:`RemoteStorage`;
4. anything else -> :class:`~prefect_storage.exceptions.UnknownSchemeError` listing the
   known schemes (Prefect would silently treat it as a local path).
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from prefect_storage.backends.schemes import FORGE_HOSTS, SCHEMES, describe_known, scheme_of
from prefect_storage.exceptions import UnknownSchemeError
from prefect_storage.runner.base import RunnerStorage
from prefect_storage.runner.git import GitRepository
from prefect_storage.runner.local import LocalStorage
from prefect_storage.runner.remote import RemoteStorage

__all__ = ["create_storage_from_source"]

_SCP_LIKE = re.compile(r"^[\w.-]+@[\w.-]+:(?!//)")


def create_storage_from_source(source: str, pull_interval: int | None = 60) -> RunnerStorage:
    """A runner storage for ``source`` (see the module docstring for the rules)."""
    source = str(source)
    parsed = urlsplit(source)
    scheme = scheme_of(source)
    if _SCP_LIKE.match(source):
        return GitRepository(url=source, pull_interval=pull_interval)
    known = SCHEMES.get(scheme)
    if (known is not None and known.kind == "git") or parsed.path.rstrip("/").endswith(".git"):
        url = source[4:] if scheme.startswith("git+") else source
        return GitRepository(url=url, pull_interval=pull_interval)
    if scheme in ("http", "https") and parsed.hostname and parsed.hostname.lower() in FORGE_HOSTS:
        return GitRepository(url=source, pull_interval=pull_interval)
    if not scheme:
        return LocalStorage(path=source, pull_interval=pull_interval)
    if known is not None and known.kind == "local":
        return LocalStorage(path=source.split("://", 1)[1], pull_interval=pull_interval)
    if known is not None:
        return RemoteStorage(url=source, pull_interval=pull_interval)
    import fsspec

    if scheme in fsspec.available_protocols():
        return RemoteStorage(url=source, pull_interval=pull_interval)
    raise UnknownSchemeError(
        f"Cannot tell what kind of storage {source!r} is: scheme {scheme + '://'!r} is unknown. "
        f"Known schemes: {describe_known()}; a git repository URL ends in .git; a local folder is a path."
    )
