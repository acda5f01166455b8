"""The one scheme map: which URL schemes ``prefect_storage`` understands, and how.

Every place that turns a URL into a transport (``create_storage_from_source``,
``RemoteStorage``, the storage blocks, the pull steps) asks this module, so a scheme
is known, spelled and hinted in one place. Each entry names the kind of transport
(``git``, ``fsspec``, ``local``), the fsspec protocol, the package that implements
it and the ``pip`` extra that installs it::

    >>> lookup("gs").package
    'gcsfs'
    >>> lookup("abfss").extra
    'azure'
"""

from __future__ import annotations

import dataclasses
import importlib.util
from urllib.parse import urlsplit

from prefect_storage.exceptions import BackendNotInstalledError, UnknownSchemeError

__all__ = ["SCHEMES", "Scheme", "describe_known", "ensure_installed", "lookup", "scheme_of"]


@dataclasses.dataclass(frozen=True)
class Scheme:
    """One URL scheme: how it is reached and what to install for it."""

    name: str
    kind: str  # "git", "fsspec" or "local"
    protocol: str  # the fsspec protocol (or the scheme itself)
    package: str | None  # the importable module that implements it (None: built in)
    extra: str | None  # ``pip install 'prefect-storage[extra]'``
    service: str  # in messages

    def install_hint(self) -> str:
        """What to run so that this scheme works here."""
        if self.package is None:
            return "built in"
        if self.extra is None:
            return f"pip install {self.package}"
        return f"pip install 'prefect-storage[{self.extra}]'  (installs {self.package})"


def _s(name: str, kind: str, protocol: str, package: str | None, extra: str | None, service: str) -> Scheme:
    return Scheme(name, kind, protocol, package, extra, service)


#: every scheme, by name
SCHEMES: dict[str, Scheme] = {
    s.name: s
    for s in (
        _s("s3", "fsspec", "s3", "s3fs", "s3", "Amazon S3"),
        _s("s3a", "fsspec", "s3", "s3fs", "s3", "Amazon S3"),
        _s("gs", "fsspec", "gcs", "gcsfs", "gcs", "Google Cloud Storage"),
        _s("gcs", "fsspec", "gcs", "gcsfs", "gcs", "Google Cloud Storage"),
        _s("az", "fsspec", "az", "adlfs", "azure", "Azure Blob Storage"),
        _s("abfs", "fsspec", "abfs", "adlfs", "azure", "Azure Blob Storage / ADLS Gen2"),
        _s("abfss", "fsspec", "abfs", "adlfs", "azure", "Azure Blob Storage / ADLS Gen2"),
        _s("adl", "fsspec", "adl", "adlfs", "azure", "Azure Data Lake Gen1"),
        _s("memory", "fsspec", "memory", None, None, "fsspec in-memory filesystem"),
        _s("sftp", "fsspec", "sftp", "paramiko", None, "SFTP"),
        _s("ftp", "fsspec", "ftp", None, None, "FTP"),
        _s("file", "local", "file", None, None, "the local filesystem"),
        _s("local", "local", "file", None, None, "the local filesystem"),
        _s("git", "git", "git", None, None, "git"),
        _s("git+https", "git", "git", None, None, "git over HTTPS"),
        _s("git+http", "git", "git", None, None, "git over HTTP"),
        _s("git+ssh", "git", "git", None, None, "git over SSH"),
        _s("ssh", "git", "git", None, None, "git over SSH"),
    )
}

#: hosts whose https URLs are git repositories even without a ``.git`` suffix
FORGE_HOSTS = ("github.com", "gitlab.com", "bitbucket.org", "bitbucket.com", "dev.azure.com", "codeberg.org")


def scheme_of(url: str) -> str:
    """The lower-case scheme of ``url`` (``""`` for a plain path; a Windows drive is a path)."""
    scheme = urlsplit(url).scheme.lower()
    return "" if len(scheme) == 1 else scheme


def lookup(scheme: str) -> Scheme:
    """The :class:`Scheme` for ``scheme``; :class:`UnknownSchemeError` listing the known ones."""
    found = SCHEMES.get(scheme.lower())
    if found is None:
        raise UnknownSchemeError(
            f"Unknown URL scheme {scheme + '://'!r}. Known schemes: {describe_known()}. "
            "For another fsspec filesystem, install its package and pass a URL with its protocol."
        )
    return found


def describe_known() -> str:
    """``s3://, s3a://, gs://, ...``: the known schemes, for messages."""
    return ", ".join(f"{name}://" for name in SCHEMES)


def ensure_installed(scheme: Scheme) -> None:
    """Raise :class:`BackendNotInstalledError` with the install hint when the driver is missing."""
    if scheme.package is not None and importlib.util.find_spec(scheme.package) is None:
        raise BackendNotInstalledError(
            f"{scheme.service} ({scheme.name}://) needs the {scheme.package!r} package, which is not installed. "
            f"Install it with: {scheme.install_hint()}"
        )
