"""``prefect-storage kv set|get|ls|rm``: the registry's key-value store."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from prefect_storage.cli.app import EXIT_NOT_FOUND, CliState
from prefect_storage.cli.output import print_json, print_table


@click.group()
def kv() -> None:
    """The key-value store flows use (``prefect_storage.backend.set_key_value`` etc.)."""


def _decode(raw: str) -> Any:
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        return raw


@kv.command("set")
@click.argument("key")
@click.argument("value")
@click.pass_obj
def set_value(state: CliState, key: str, value: str) -> None:
    """Store VALUE under KEY (VALUE is decoded as JSON when it is valid JSON, else kept as text)."""
    from prefect_storage.exceptions import KeyValueError

    try:
        state.registry.set_key_value(key, _decode(value))
    except KeyValueError as exc:
        raise click.BadParameter(str(exc)) from None
    click.echo(f"Set {key!r}")


@kv.command("get")
@click.argument("key")
@click.pass_obj
def get_value(state: CliState, key: str) -> None:
    """Print the value stored under KEY as JSON (exit 3 if there is none)."""
    from prefect_storage.exceptions import KeyValueError

    try:
        value = state.registry.get_key_value(key)
    except KeyValueError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(EXIT_NOT_FOUND)
    click.echo(json.dumps(value))


@kv.command("ls")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_obj
def list_keys(state: CliState, as_json: bool) -> None:
    """List the keys, sorted."""
    keys = state.registry.list_keys()
    if as_json:
        print_json(keys)
        return
    print_table("Keys", ["KEY"], [(k,) for k in keys])


@kv.command("rm")
@click.argument("key")
@click.pass_obj
def remove(state: CliState, key: str) -> None:
    """Delete KEY (exit 3 if there is none)."""
    from prefect_storage.exceptions import KeyValueError

    try:
        state.registry.delete_key(key)
    except KeyValueError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(EXIT_NOT_FOUND)
    click.echo(f"Deleted {key!r}")
