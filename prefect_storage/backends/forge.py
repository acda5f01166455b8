"""What the API-based git storages (GitHub, GitLab, Bitbucket, CodeCommit) share: a
ref resolved to a commit id once per load, and the file cached by (repository, path, commit)."""

from __future__ import annotations

from collections.abc import Callable

from prefect_storage.backends.cache import PayloadCache


def cached_file(namespace: str, repo_key: str, path: str, commit: str, fetch: Callable[[], bytes]) -> bytes:
    """The bytes of ``path`` at ``commit``: from the on-disk cache, else ``fetch()`` (then cached).

    A commit id names immutable content, so a hit needs no request at all.
    ``repo_key`` must identify the repository without credentials (host + name).
    """
    cache = PayloadCache(namespace)
    key = f"{repo_key}\0{path}\0{commit}"
    hit = cache.get(key)
    if hit is not None and hit[0] == commit:
        return hit[1]
    data = fetch()
    cache.put(key, commit, data)
    return data
