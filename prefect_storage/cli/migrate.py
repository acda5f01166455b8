"""``prefect-storage migrate``: move classic code and flows to the modern ways."""

from __future__ import annotations

import click


@click.group()
def migrate() -> None:
    """Migrate classic imports and registered flows."""
