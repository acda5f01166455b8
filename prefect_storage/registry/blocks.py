"""Block documents in the registry: one row per (block type, name), data as JSON.

Secret fields arrive here already encrypted (:mod:`prefect_storage.blocks.crypto`);
this module never sees a plain secret. Functions take a :class:`Registry` so that
inside an agent run the broker-provided registry can be passed instead.
"""

from __future__ import annotations

import dataclasses
import datetime
import uuid
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from prefect_storage.exceptions import BlockNotFoundError, BlockValidationError
from prefect_storage.registry import schema
from prefect_storage.registry.repository import Registry, utcnow

__all__ = ["BlockDocument", "delete_block_document", "list_block_documents", "read_block_document",
           "replace_block_data", "save_block_document"]


@dataclasses.dataclass(frozen=True)
class BlockDocument:
    id: str
    block_type: str
    name: str
    data: dict[str, Any]
    created: datetime.datetime
    updated: datetime.datetime


def _row(row: Any) -> BlockDocument:
    created, updated = row.created, row.updated
    if created.tzinfo is None:
        created = created.replace(tzinfo=datetime.timezone.utc)
    if updated.tzinfo is None:
        updated = updated.replace(tzinfo=datetime.timezone.utc)
    return BlockDocument(row.id, row.block_type, row.name, dict(row.data), created, updated)


def save_block_document(
    registry: Registry, block_type: str, name: str, data: Mapping[str, Any], overwrite: bool = False
) -> str:
    """Insert (or, with ``overwrite``, replace) the document; return its id."""
    t = schema.block_documents
    now = utcnow()
    with registry._begin() as conn:
        found = conn.execute(sa.select(t.c.id).where(t.c.block_type == block_type, t.c.name == name)).scalar()
        if found is not None:
            if not overwrite:
                raise BlockValidationError(
                    f"A {block_type} block named {name!r} already exists; pass overwrite=True to replace it."
                )
            conn.execute(t.update().where(t.c.id == found).values(data=dict(data), updated=now))
            return str(found)
        document_id = str(uuid.uuid4())
        conn.execute(t.insert().values(id=document_id, block_type=block_type, name=name, data=dict(data),
                                       created=now, updated=now))
        return document_id


def read_block_document(registry: Registry, block_type: str, name: str) -> BlockDocument:
    t = schema.block_documents
    with registry._begin() as conn:
        row = conn.execute(sa.select(t).where(t.c.block_type == block_type, t.c.name == name)).first()
    if row is None:
        raise BlockNotFoundError(
            f"Unable to find a {block_type} block named {name!r} in the registry. "
            f"Create it first (e.g. `prefect-storage block create {block_type} {name}` or .save({name!r}))."
        )
    return _row(row)


def list_block_documents(registry: Registry, block_type: str | None = None) -> list[BlockDocument]:
    t = schema.block_documents
    query = sa.select(t).order_by(t.c.block_type, t.c.name)
    if block_type:
        query = query.where(t.c.block_type == block_type)
    with registry._begin() as conn:
        return [_row(r) for r in conn.execute(query)]


def delete_block_document(registry: Registry, block_type: str, name: str) -> None:
    t = schema.block_documents
    with registry._begin() as conn:
        deleted = conn.execute(t.delete().where(t.c.block_type == block_type, t.c.name == name)).rowcount
    if not deleted:
        raise BlockNotFoundError(f"No {block_type} block named {name!r} to delete.")


def replace_block_data(registry: Registry, document_id: str, data: Mapping[str, Any]) -> None:
    """Rewrite one document's data in place (key rotation)."""
    t = schema.block_documents
    with registry._begin() as conn:
        conn.execute(t.update().where(t.c.id == document_id).values(data=dict(data), updated=utcnow()))
