"""``RemoteStorage``: any fsspec folder (``s3://``, ``gs://``, ``az://``, ...) pulled incrementally.

``settings`` go to the fsspec filesystem unchanged, as in Prefect; a value may be a
``Secret`` block (or any block: its value is used) or a ``$VAR`` template, resolved at
pull time and never written into :meth:`RemoteStorage.to_pull_step` output. Pulls are
incremental and delete what was removed upstream (:mod:`prefect_storage.runner.mirror`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from prefect_storage.backends import fsspec as fsspec_backend
from prefect_storage.backends.schemes import SCHEMES, scheme_of
from prefect_storage.runner._values import reveal, to_template
from prefect_storage.runner.base import StorageBase
from prefect_storage.runner.mirror import MirrorResult, mirror_folder

__all__ = ["RemoteStorage"]


class RemoteStorage(StorageBase):
    """Pulls the contents of a remote folder to ``base path / netloc / path``.

    Args:
        url: an fsspec URL (``s3://bucket/folder``, ``gs://...``, ``az://container/folder``).
        pull_interval: seconds between pulls when served; ``None``: once.
        **settings: passed to the fsspec filesystem (``key``, ``secret``, ``client_kwargs``,
            ``token``, ``account_name``, ``connection_string``...).

    Example::

        storage = RemoteStorage(
            url="s3://my-bucket/my-folder",
            key=Secret.load("my-aws-access-key"),
            secret=Secret.load("my-aws-secret-key"),
        )
        await storage.pull_code()
    """

    def __init__(self, url: str, pull_interval: int | None = 60, **settings: Any) -> None:
        super().__init__(pull_interval)
        self._url = url
        self._settings = settings
        self.last_result: MirrorResult | None = None

    @property
    def _remote_path(self) -> Path:
        _, netloc, path, _, _ = urlsplit(self._url)
        return Path(netloc) / path.lstrip("/")

    @property
    def destination(self) -> Path:
        """``base path / netloc / path``."""
        return self._storage_base_path / self._remote_path

    def _filesystem(self) -> Any:
        """The fsspec filesystem, with settings resolved now (blocks, templates)."""
        return fsspec_backend.filesystem(scheme_of(self._url), reveal(self._settings))

    def pull_code_sync(self) -> None:
        """List the folder once and download only what changed (see :mod:`prefect_storage.runner.mirror`)."""
        _, root = fsspec_backend.split_url(self._url)
        try:
            fs = self._filesystem()
        except Exception as exc:
            raise fsspec_backend.translate(exc, self._url, "connection") from None
        self.last_result = mirror_folder(fs, root, self.destination, source=self._url)

    @staticmethod
    def _required_package(scheme: str) -> str | None:
        known = SCHEMES.get(scheme)
        if known is not None:
            return known.package
        import fsspec

        implementation = fsspec.registry.get(scheme)
        return implementation.__module__.split(".")[0] if implementation else None

    def to_pull_step(self) -> dict[str, Any]:
        """A ``pull_from_remote_storage`` step; blocks become ``{{ prefect.blocks... }}`` references.

        A literal secret (``SecretStr``) is refused; plain strings and ``$VAR`` templates are kept.
        """
        step: dict[str, Any] = {"url": self._url, **to_template(self._settings, where="RemoteStorage settings")}
        package = self._required_package(scheme_of(self._url))
        if package:
            step["requires"] = package
        return {"prefect.deployments.steps.pull_from_remote_storage": step}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RemoteStorage) and (self._url, self._settings) == (other._url, other._settings)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"RemoteStorage(url={self._url!r})"
