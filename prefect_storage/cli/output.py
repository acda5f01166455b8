"""Printing for the CLI: rich tables for people, ``--json`` for scripts."""

from __future__ import annotations

import datetime
import json
from collections.abc import Sequence
from typing import Any

import click

STATE_STYLES = {"Success": "green", "Failed": "red", "Running": "yellow", "Scheduled": "cyan"}


def console() -> Any:
    from rich.console import Console

    return Console(soft_wrap=False)


def print_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, sort_keys=True, default=str))


def print_table(title: str | None, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    from rich.table import Table

    table = Table(title=title, show_lines=False, header_style="bold")
    for column in columns:
        # a state is read whole; long text columns fold instead
        table.add_column(column, overflow="fold", no_wrap=column.upper() == "STATE")
    for row in rows:
        table.add_row(*(_cell(column, value) for column, value in zip(columns, row)))
    console().print(table)


def _cell(column: str, value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, datetime.datetime):
        return value.astimezone().strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, (list, tuple, set)):
        return ", ".join(str(v) for v in value) or "-"
    text = str(value)
    if column.upper() == "STATE" and text in STATE_STYLES:
        return f"[{STATE_STYLES[text]}]{text}[/]"
    from rich.markup import escape

    return escape(text)
