"""File- and key-safe names: the slug of a flow name and of a timestamp.

A small ground-floor module (it imports nothing of the package) shared by storages,
results and the classic ``Flow.save``; :mod:`prefect_storage.storage.base` re-exports both
functions, where they used to live.
"""

from __future__ import annotations

import datetime

from prefect_storage.digests import sha256_hex

__all__ = ["MAX_SLUG_LENGTH", "flow_slug", "name_hash", "timestamp_slug"]

MAX_SLUG_LENGTH = 80


def flow_slug(name: str) -> str:
    """A file- and key-safe form of a flow name: lower case, ``[a-z0-9-]`` only.

    It can never contain ``/``, ``\\`` or ``..``, so a flow name cannot steer a
    location outside its storage's folder or prefix. A name with no letters or
    digits (``"!!!"``, ``".."``) gets ``flow-`` plus a short hash of the name; a slug
    longer than 80 characters is cut and ends with a short hash of the full name,
    so it always fits in a file name.
    """
    from slugify import slugify

    slug = slugify(name)
    if not slug:
        return "flow-" + name_hash(name)
    if len(slug) > MAX_SLUG_LENGTH:
        return slug[: MAX_SLUG_LENGTH - 13].rstrip("-") + "-" + name_hash(name)
    return slug


def name_hash(name: str) -> str:
    """A short, stable hash of ``name`` (12 hex digits)."""
    return sha256_hex(name.encode())[:12]


def timestamp_slug(now: datetime.datetime | None = None) -> str:
    """``slug(utc now in ISO 8601)``, e.g. ``2026-11-21t04-41-20-858863-00-00`` (the classic form)."""
    from slugify import slugify

    return slugify((now or datetime.datetime.now(datetime.timezone.utc)).isoformat())
