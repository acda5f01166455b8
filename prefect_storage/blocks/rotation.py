"""Rotating the key that encrypts block secret fields.

* Key in the file (``<home>/blocks.key``): :func:`rotate_key` makes a new key, writes
  it to ``blocks.key.new``, re-encrypts every saved block with it, then moves it into
  place (the old key is kept as ``blocks.key.previous``, mode 0600).
* Key in ``PREFECT_STORAGE_BLOCKS_KEY``: put the new key there and the old one in
  ``PREFECT_STORAGE_BLOCKS_OLD_KEYS``, then call :func:`rotate_key` (``reencrypt_only``)
  so every block is re-encrypted with the new key; the old one can then be dropped.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from prefect_storage.blocks import crypto, store

__all__ = ["reencrypt_document", "rotate_key"]


def reencrypt_document(data: Any, key: bytes) -> Any:
    """``data`` with every encrypted value decrypted (any known key) and encrypted with ``key``."""
    if crypto.is_encrypted(data):
        return crypto.encrypt(crypto.decrypt(data), key=key)
    if isinstance(data, Mapping):
        return {k: reencrypt_document(v, key) for k, v in data.items()}
    if isinstance(data, list):
        return [reencrypt_document(v, key) for v in data]
    return data


def rotate_key(reencrypt_only: bool = False) -> tuple[int, str]:
    """Re-encrypt every saved block with a new key; return ``(documents, new key id)``."""
    from prefect_storage.registry.blocks import list_block_documents, replace_block_data

    registry = store.registry()
    documents = list_block_documents(registry)
    if os.environ.get(crypto.KEY_ENV) or reencrypt_only:
        key = crypto.current_key(create=False)
        new_documents = [(d.id, reencrypt_document(d.data, key)) for d in documents]
        for document_id, data in new_documents:
            replace_block_data(registry, document_id, data)
        return len(new_documents), crypto.key_id(key)
    path = crypto.key_file()
    crypto.current_key(create=True)  # the old key must be readable (or is created for an empty registry)
    key = crypto.generate_key()
    # decrypt everything first: a wrong old key fails before anything changes
    new_documents = [(d.id, reencrypt_document(d.data, key)) for d in documents]
    staged = path.with_name(path.name + ".new")
    fd = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(key)
    for document_id, data in new_documents:
        replace_block_data(registry, document_id, data)
    previous = path.with_name(path.name + ".previous")
    os.replace(path, previous)
    os.replace(staged, path)
    return len(new_documents), crypto.key_id(key)
