"""The registry's key-value store (the classic ``prefect.backend.kv_store``, kept in the
registry instead of Prefect Cloud): small JSON values under string keys."""

from __future__ import annotations

import datetime
import json
import uuid
from typing import Any

import sqlalchemy as sa

from prefect_storage.exceptions import KeyValueError
from prefect_storage.registry import schema

MAX_VALUE_CHARS = 10_000  # the classic limit on a value's JSON form
MAX_KEY_CHARS = 500


def check_key(key: Any) -> str:
    if not isinstance(key, str) or not key.strip():
        raise KeyValueError(f"A key-value store key must be a non-empty string, not {key!r}.")
    if len(key) > MAX_KEY_CHARS:
        raise KeyValueError(f"Key-value store keys are at most {MAX_KEY_CHARS} characters; this one has {len(key)}.")
    return key


def check_value(value: Any) -> Any:
    """The value as it will be stored (its JSON round trip); refuses non-JSON and > 10 KB values."""
    try:
        text = json.dumps(value)
    except (TypeError, ValueError) as exc:
        raise KeyValueError(f"Key-value store values must be JSON serializable: {exc}.") from None
    if len(text) > MAX_VALUE_CHARS:
        raise KeyValueError(f"Value payload exceeds the 10 KB limit ({len(text)} characters as JSON); store a reference instead.")
    return json.loads(text)


class KeyValueMixin:
    """``set_key_value``/``get_key_value``/``delete_key``/``list_keys`` on :class:`Registry`."""

    _begin: Any

    def set_key_value(self, key: str, value: Any) -> str:
        """Store ``value`` under ``key`` (replacing any value); return the entry's id."""
        key, value = check_key(key), check_value(value)
        kv = schema.kv_store
        now = datetime.datetime.now(datetime.timezone.utc)
        with self._begin() as conn:
            existing = conn.execute(sa.select(kv.c.id).where(kv.c.key == key)).scalar()
            if existing is not None:
                conn.execute(kv.update().where(kv.c.key == key).values(value=value, updated=now))
                return str(existing)
            entry_id = str(uuid.uuid4())
            conn.execute(kv.insert().values(key=key, id=entry_id, value=value, updated=now))
            return entry_id

    def get_key_value(self, key: str) -> Any:
        """The value stored under ``key``; a missing key raises :class:`KeyValueError`."""
        kv = schema.kv_store
        with self._begin() as conn:
            row = conn.execute(sa.select(kv.c.value).where(kv.c.key == check_key(key))).first()
        if row is None:
            raise KeyValueError(f"No value found for key: {key}")
        return row.value

    def delete_key(self, key: str) -> bool:
        """Remove ``key``; a missing key raises :class:`KeyValueError`."""
        kv = schema.kv_store
        with self._begin() as conn:
            result = conn.execute(kv.delete().where(kv.c.key == check_key(key)))
        if result.rowcount != 1:
            raise KeyValueError(f"No key {key} found to delete")
        return True

    def list_keys(self) -> list[str]:
        """Every key, sorted."""
        kv = schema.kv_store
        with self._begin() as conn:
            return sorted(conn.execute(sa.select(kv.c.key)).scalars())
