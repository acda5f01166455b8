"""The key-value store (classic ``prefect.backend.kv_store``): small JSON values under
string keys, shared by every flow and agent using the same registry.

    from prefect_storage.backend import set_key_value, get_key_value
    set_key_value("last_processed", "2024-01-31")
    get_key_value("last_processed")          # '2024-01-31'

Values are JSON (at most 10 KB as JSON text, the classic limit). A missing key raises
:class:`~prefect_storage.exceptions.KeyValueError` (a ``ValueError``, as classic).
"""

from __future__ import annotations

from typing import Any


def _registry() -> Any:
    from prefect_storage.registry.client import run_registry

    return run_registry()


def set_key_value(key: str, value: Any) -> str:
    """Store ``value`` under ``key``, replacing any earlier value; returns the entry's id."""
    from prefect_storage.registry.kv import check_key, check_value

    check_key(key)
    check_value(value)  # the size check runs before any registry call, as classic
    return str(_registry().set_key_value(key, value))


def get_key_value(key: str) -> Any:
    """The value stored under ``key``."""
    return _registry().get_key_value(key)


def delete_key(key: str) -> bool:
    """Remove ``key``; returns True."""
    return bool(_registry().delete_key(key))


def list_keys() -> list[str]:
    """Every key, sorted."""
    return list(_registry().list_keys())


__all__ = ["delete_key", "get_key_value", "list_keys", "set_key_value"]
