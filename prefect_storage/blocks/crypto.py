"""Encryption at rest of block secret fields, with ``cryptography``'s Fernet.

The key is, first hit wins:

1. ``PREFECT_STORAGE_BLOCKS_KEY`` (a Fernet key: 32 url-safe base64 bytes);
2. the file ``<home>/blocks.key`` (mode 0600; created on the first save when missing,
   refused when group or world readable).

Earlier keys listed in ``PREFECT_STORAGE_BLOCKS_OLD_KEYS`` (comma-separated) still
decrypt, so a key can be rotated (:func:`rotate`, ``prefect-storage block rotate-key``).
A value is stored as ``{"$encrypted": <token>, "key_id": <first 8 hex of sha256(key)>}``;
a missing or wrong key raises :class:`~prefect_storage.exceptions.BlockEncryptionKeyError`
naming the key id the value needs.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from prefect_storage import config
from prefect_storage.backends.optional import require
from prefect_storage.exceptions import BlockEncryptionKeyError

__all__ = ["KEY_ENV", "OLD_KEYS_ENV", "decrypt", "encrypt", "generate_key", "is_encrypted", "key_file", "key_id"]

KEY_ENV = "PREFECT_STORAGE_BLOCKS_KEY"
OLD_KEYS_ENV = "PREFECT_STORAGE_BLOCKS_OLD_KEYS"


def key_file() -> Path:
    return config.home_path() / "blocks.key"


def key_id(key: bytes) -> str:
    return hashlib.sha256(key.strip()).hexdigest()[:8]


def _fernet_module() -> Any:
    return require("cryptography.fernet", extra="blocks", purpose="encrypting block secrets")


def generate_key() -> bytes:
    return _fernet_module().Fernet.generate_key()


def _check(key: bytes, where: str) -> bytes:
    key = key.strip()
    try:
        _fernet_module().Fernet(key)
    except ValueError:
        raise BlockEncryptionKeyError(
            f"The block encryption key in {where} is not a valid Fernet key (32 url-safe base64-encoded bytes). "
            "Generate one with: python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"
        ) from None
    return key


def _read_key_file(path: Path) -> bytes | None:
    try:
        info = path.stat()
    except FileNotFoundError:
        return None
    if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise BlockEncryptionKeyError(
            f"Refusing to use the block encryption key {path}: it is readable by other users "
            f"(mode {stat.S_IMODE(info.st_mode):o}). Run: chmod 600 {path}"
        )
    return _check(path.read_bytes(), str(path))


def current_key(create: bool) -> bytes:
    """The key new values are encrypted with (created in the key file when ``create`` and missing)."""
    raw = os.environ.get(KEY_ENV)
    if raw:
        return _check(raw.encode(), KEY_ENV)
    path = key_file()
    key = _read_key_file(path)
    if key is not None:
        return key
    if not create:
        raise BlockEncryptionKeyError(
            f"No block encryption key: neither {KEY_ENV} nor {path} exists, so saved block secrets cannot be "
            f"decrypted. Restore the key file (or set {KEY_ENV}) from where the blocks were saved, or save the "
            "blocks again."
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    key = generate_key()
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(key)
    try:
        os.link(tmp, path)  # atomic and exclusive: another process may have created it first
    except FileExistsError:
        key = _read_key_file(path) or key
    finally:
        os.unlink(tmp)
    return key


def _all_keys() -> list[bytes]:
    keys = [current_key(create=False)]
    for raw in os.environ.get(OLD_KEYS_ENV, "").split(","):
        if raw.strip():
            keys.append(_check(raw.encode(), OLD_KEYS_ENV))
    return keys


def is_encrypted(value: Any) -> bool:
    return isinstance(value, Mapping) and "$encrypted" in value


def encrypt(value: Any, key: bytes | None = None) -> dict[str, str]:
    """``value`` (any JSON value) encrypted with the current key (or ``key``)."""
    key = key or current_key(create=True)
    token = _fernet_module().Fernet(key).encrypt(json.dumps(value).encode()).decode()
    return {"$encrypted": token, "key_id": key_id(key)}


def decrypt(value: Mapping[str, Any]) -> Any:
    """The JSON value inside ``value``; :class:`BlockEncryptionKeyError` with the key it needs."""
    fernet = _fernet_module()
    wanted = str(value.get("key_id", "?"))
    keys = _all_keys()
    for key in sorted(keys, key=lambda k: key_id(k) != wanted):
        try:
            return json.loads(fernet.Fernet(key).decrypt(str(value["$encrypted"]).encode()))
        except fernet.InvalidToken:
            continue
    raise BlockEncryptionKeyError(
        f"A block secret was encrypted with key {wanted}, but the available keys are "
        f"{', '.join(key_id(k) for k in keys)}: wrong or lost key. Set {KEY_ENV} (or restore {key_file()}) to the key "
        f"the blocks were saved with; after a rotation, list the previous key in {OLD_KEYS_ENV}."
    )
