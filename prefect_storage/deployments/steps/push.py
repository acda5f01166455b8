"""Push the project folder to S3, GCS or Azure Blob Storage, and pull it back.

``push_to_*`` uploads the current directory to ``<bucket>/<folder>``, skipping what
``.prefectignore`` excludes (gitignore syntax, through ``pathspec``) and every file
whose remote copy already has the same size and MD5 (S3 ETag, GCS ``md5Hash``, Azure
``content_md5``): a redeploy of an unchanged project uploads nothing. ``pull_from_*``
pulls the folder incrementally through :class:`~prefect_storage.runner.storage.RemoteStorage`
(one listing; only changed files downloaded; files deleted remotely removed locally).

``credentials`` is a credentials block (``AwsCredentials``, ``GcpCredentials``,
``AzureBlobStorageCredentials``) or the dict a ``{{ prefect.blocks... }}`` placeholder
resolves to; ``client_parameters`` (S3) are boto/s3fs client options such as
``endpoint_url``.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from prefect_storage.exceptions import StorageConfigError

logger = logging.getLogger("prefect_storage.deployments.steps")

__all__ = [
    "included_files",
    "pull_from_azure_blob_storage",
    "pull_from_gcs",
    "pull_from_s3",
    "push_to_azure_blob_storage",
    "push_to_gcs",
    "push_to_s3",
]


# -- credentials -> fsspec settings ---------------------------------------------------------


def _plain(value: Any) -> Any:
    """A secret-wrapped value's plain value (SecretStr, Secret block), else the value."""
    for attr in ("get_secret_value", "get"):
        method = getattr(value, attr, None)
        if callable(method) and not isinstance(value, (dict, str)):
            try:
                return method()
            except TypeError:
                continue
    return value


def _fields(credentials: Any) -> dict[str, Any]:
    if credentials is None:
        return {}
    if isinstance(credentials, Mapping):
        data = dict(credentials)
    elif hasattr(credentials, "model_dump"):
        data = dict(credentials.model_dump())
    elif hasattr(credentials, "dict") and callable(credentials.dict):
        data = dict(credentials.dict())
    else:
        data = {k: v for k, v in vars(credentials).items() if not k.startswith("_")}
    # model_dump gives masked values for secret fields: read the attributes themselves
    if not isinstance(credentials, Mapping):
        for key in list(data):
            data[key] = getattr(credentials, key, data[key])
    return {k: _plain(v) for k, v in data.items() if v is not None}


def _block_settings(credentials: Any) -> dict[str, Any] | None:
    """A credentials block's own fsspec settings (the runner blocks know their fields best)."""
    method = getattr(credentials, "fsspec_settings", None)
    return dict(method()) if callable(method) else None


def s3_settings(credentials: Any = None, client_parameters: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """s3fs settings from an AWS credentials block/dict and client parameters."""
    own = _block_settings(credentials)
    if own is not None:
        if client_parameters:
            kwargs = dict(own.get("client_kwargs") or {})
            kwargs.update({k: v for k, v in client_parameters.items() if v is not None})
            own["client_kwargs"] = kwargs
        return own
    fields = _fields(credentials)
    settings: dict[str, Any] = {}
    if fields.get("aws_access_key_id"):
        settings["key"] = fields["aws_access_key_id"]
    if fields.get("aws_secret_access_key"):
        settings["secret"] = fields["aws_secret_access_key"]
    if fields.get("aws_session_token"):
        settings["token"] = fields["aws_session_token"]
    if fields.get("profile_name"):
        settings["profile"] = fields["profile_name"]
    client_kwargs: dict[str, Any] = {}
    nested = fields.get("aws_client_parameters") or {}
    for source in (_fields(nested) if nested else {}, dict(client_parameters or {})):
        for key, value in source.items():
            if key in ("endpoint_url", "region_name", "verify", "use_ssl", "api_version") and value is not None:
                client_kwargs[key] = value
    if fields.get("region_name"):
        client_kwargs.setdefault("region_name", fields["region_name"])
    if client_kwargs:
        settings["client_kwargs"] = client_kwargs
    return settings


def gcs_settings(credentials: Any = None) -> dict[str, Any]:
    """gcsfs settings from a GCP credentials block/dict (service account info or file)."""
    import json

    own = _block_settings(credentials)
    if own is not None:
        settings = own
        if os.environ.get("STORAGE_EMULATOR_HOST"):
            settings.setdefault("token", "anon")
            settings.setdefault("endpoint_url", os.environ["STORAGE_EMULATOR_HOST"])
        return settings
    fields = _fields(credentials)
    settings = {}
    info = fields.get("service_account_info")
    if isinstance(info, str):
        info = json.loads(info)
    if info:
        settings["token"] = dict(info)
    elif fields.get("service_account_file"):
        settings["token"] = str(fields["service_account_file"])
    elif os.environ.get("STORAGE_EMULATOR_HOST"):
        settings["token"] = "anon"  # the emulator takes no credentials
    if fields.get("project"):
        settings["project"] = fields["project"]
    if os.environ.get("STORAGE_EMULATOR_HOST"):
        settings["endpoint_url"] = os.environ["STORAGE_EMULATOR_HOST"]
    return settings


def azure_settings(credentials: Any = None) -> dict[str, Any]:
    """adlfs settings from an Azure Blob Storage credentials block/dict."""
    own = _block_settings(credentials)
    if own is not None:
        return own
    fields = _fields(credentials)
    settings: dict[str, Any] = {}
    if fields.get("connection_string"):
        settings["connection_string"] = fields["connection_string"]
    if fields.get("account_url"):
        url = str(fields["account_url"])
        settings["account_name"] = url.split("//", 1)[-1].split(".", 1)[0]
    for key in ("account_name", "account_key", "sas_token", "tenant_id", "client_id", "client_secret"):
        if fields.get(key):
            settings[key] = fields[key]
    return settings


# -- ignore files -------------------------------------------------------------------------------


def included_files(root: str | os.PathLike[str], ignore_file: str | None = ".prefectignore") -> list[str]:
    """Relative posix paths of the files under ``root`` that ``ignore_file`` (gitignore
    syntax, read from ``root``) does not exclude."""
    import pathspec

    base = Path(root)
    patterns: list[str] = []
    if ignore_file:
        path = base / ignore_file
        if path.is_file():
            patterns = path.read_text(encoding="utf-8").splitlines()
    spec = pathspec.GitIgnoreSpec.from_lines(patterns)
    files = []
    for dirpath, dirnames, filenames in os.walk(base):
        rel_dir = Path(dirpath).relative_to(base)
        # prune ignored folders early (".git/", ".venv/")
        dirnames[:] = sorted(d for d in dirnames if not spec.match_file((rel_dir / d).as_posix() + "/"))
        for name in sorted(filenames):
            rel = (rel_dir / name).as_posix()
            if not spec.match_file(rel):
                files.append(rel)
    return files


def _md5(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _remote_md5(info: Mapping[str, Any]) -> str | None:
    """The MD5 the service reports for an object, as hex (GCS ``md5Hash``, Azure
    ``content_md5``, an S3 ETag of a single-part upload), or ``None``."""
    md5 = info.get("md5Hash")
    if isinstance(md5, str):
        return base64.b64decode(md5).hex()
    content = info.get("content_settings") or {}
    raw = content.get("content_md5") if isinstance(content, Mapping) else getattr(content, "content_md5", None)
    if raw:
        return bytes(raw).hex()
    etag = info.get("ETag") or info.get("etag")
    if isinstance(etag, str):
        value = etag.strip('"').lower()
        if len(value) == 32 and all(c in "0123456789abcdef" for c in value):
            return value
    return None


def _filesystem(protocol: str, settings: Mapping[str, Any]) -> Any:
    """The fsspec filesystem through the shared backend (scheme map, install hints, emulator quirks)."""
    from prefect_storage.backends import fsspec as fsspec_backend

    return fsspec_backend.filesystem({"abfs": "az", "gcs": "gs"}.get(protocol, protocol), dict(settings))


def _push(protocol: str, bucket: str, folder: str, settings: Mapping[str, Any], ignore_file: str | None) -> dict[str, Any]:
    if not bucket:
        raise StorageConfigError(f"push to {protocol}: no bucket/container given.")
    fs = _filesystem(protocol, settings)
    root = Path.cwd()
    prefix = f"{bucket}/{folder.strip('/')}".rstrip("/") if folder else bucket
    try:
        listing = fs.find(prefix, detail=True)
    except FileNotFoundError:
        listing = {}
    remote: dict[str, Mapping[str, Any]] = {}
    for path, info in listing.items():
        key = path.split("://", 1)[-1]
        if key.startswith(prefix + "/"):
            remote[key[len(prefix) + 1 :]] = info
    uploaded = skipped = 0
    for rel in included_files(root, ignore_file):
        local = root / rel
        info = remote.get(rel)
        if info is not None and int(info.get("size") or -1) == local.stat().st_size and _remote_md5(info) == _md5(local):
            skipped += 1
            continue
        fs.put_file(str(local), f"{prefix}/{rel}")
        uploaded += 1
    logger.info("Pushed %s to %s://%s: %d file(s) uploaded, %d unchanged", root, protocol, prefix, uploaded, skipped)
    return {"uploaded": uploaded, "unchanged": skipped}


def _pull(url: str, settings: Mapping[str, Any]) -> str:
    from prefect_storage.deployments.steps.pull import _relative, pull_with_retries
    from prefect_storage.runner.storage import RemoteStorage

    storage = RemoteStorage(url, **settings)
    storage.set_base_path(Path.cwd())
    pull_with_retries(storage, url)
    return _relative(Path(storage.destination))


# -- S3 -----------------------------------------------------------------------------------------


def push_to_s3(
    bucket: str,
    folder: str,
    credentials: Any = None,
    client_parameters: Mapping[str, Any] | None = None,
    ignore_file: str | None = ".prefectignore",
) -> dict[str, Any]:
    """Upload the current directory to ``s3://bucket/folder``. Returns ``{"bucket", "folder"}``
    (plus ``uploaded``/``unchanged`` counts)."""
    result = _push("s3", bucket, folder, s3_settings(credentials, client_parameters), ignore_file)
    return {"bucket": bucket, "folder": folder, **result}


def pull_from_s3(
    bucket: str, folder: str, credentials: Any = None, client_parameters: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Pull ``s3://bucket/folder`` into the current directory. Returns ``{"bucket", "folder", "directory"}``."""
    directory = _pull(f"s3://{bucket}/{folder.strip('/')}", s3_settings(credentials, client_parameters))
    return {"bucket": bucket, "folder": folder, "directory": directory}


# -- GCS ----------------------------------------------------------------------------------------


def push_to_gcs(
    bucket: str,
    folder: str,
    project: str | None = None,
    credentials: Any = None,
    ignore_file: str | None = ".prefectignore",
) -> dict[str, Any]:
    """Upload the current directory to ``gs://bucket/folder``. Returns ``{"bucket", "folder"}``."""
    settings = gcs_settings(credentials)
    if project:
        settings["project"] = project
    result = _push("gcs", bucket, folder, settings, ignore_file)
    return {"bucket": bucket, "folder": folder, **result}


def pull_from_gcs(bucket: str, folder: str, project: str | None = None, credentials: Any = None) -> dict[str, Any]:
    """Pull ``gs://bucket/folder`` into the current directory. Returns ``{"bucket", "folder", "directory"}``."""
    settings = gcs_settings(credentials)
    if project:
        settings["project"] = project
    directory = _pull(f"gs://{bucket}/{folder.strip('/')}", settings)
    return {"bucket": bucket, "folder": folder, "directory": directory}


# -- Azure --------------------------------------------------------------------------------------


def push_to_azure_blob_storage(
    container: str,
    folder: str,
    credentials: Any = None,
    ignore_file: str | None = ".prefectignore",
) -> dict[str, Any]:
    """Upload the current directory to ``az://container/folder``. Returns ``{"container", "folder"}``."""
    result = _push("abfs", container, folder, azure_settings(credentials), ignore_file)
    return {"container": container, "folder": folder, **result}


def pull_from_azure_blob_storage(container: str, folder: str, credentials: Any = None) -> dict[str, Any]:
    """Pull ``az://container/folder`` into the current directory. Returns ``{"container", "folder", "directory"}``."""
    directory = _pull(f"az://{container}/{folder.strip('/')}", azure_settings(credentials))
    return {"container": container, "folder": folder, "directory": directory}
