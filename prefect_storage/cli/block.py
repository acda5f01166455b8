"""``prefect-storage block``: create, list, inspect and delete blocks; rotate their encryption key.

Secret values are read from a hidden prompt or from standard input, never from argv
(which ``ps`` and shell history would show), and are masked when inspected.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from prefect_storage.cli.app import CliState, NotFound
from prefect_storage.cli.output import print_json, print_table


def _blocks() -> Any:
    import prefect_storage.blocks as blocks

    return blocks


def _split(ref: str, block_type: str | None = None) -> tuple[str, str]:
    if block_type:
        return block_type, ref
    slug, sep, name = ref.partition("/")
    if not sep or not slug or not name:
        raise click.UsageError(f"{ref!r}: give the block as TYPE/NAME (e.g. secret/my-token).")
    return slug, name


def _with_registry(state: CliState) -> Any:
    from prefect_storage.blocks import store

    return store.using(state.registry)


def _read_value(prompt: str) -> str:
    if sys.stdin.isatty():
        return click.prompt(prompt, hide_input=True, confirmation_prompt=False)
    value = sys.stdin.read()
    return value[:-1] if value.endswith("\n") else value


@click.group()
def block() -> None:
    """Blocks: secrets, strings, JSON, credentials and storage settings saved in the registry."""


@block.group("create")
def create() -> None:
    """Create a block (values come from a prompt or stdin, never from the command line)."""


@create.command("secret")
@click.argument("name")
@click.option("--overwrite", is_flag=True, help="Replace an existing secret of that name.")
@click.option("--json", "as_json_value", is_flag=True, help="The value is JSON (a dict, a list...).")
@click.pass_obj
def create_secret(state: CliState, name: str, overwrite: bool, as_json_value: bool) -> None:
    """Create the Secret block NAME; its value is read from a hidden prompt or stdin."""
    value: Any = _read_value("Secret value")
    if as_json_value:
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise click.UsageError(f"--json: the value is not JSON ({exc.msg}).") from None
    if value == "":
        raise click.UsageError("The secret value is empty.")
    with _with_registry(state):
        _save(_blocks().Secret(value=value), name, overwrite)
    click.echo(f"Created secret block {name!r}. Use it as Secret.load({name!r}) or {{{{ prefect.blocks.secret.{name} }}}}.")


@create.command("string")
@click.argument("name")
@click.argument("value")
@click.option("--overwrite", is_flag=True)
@click.pass_obj
def create_string(state: CliState, name: str, value: str, overwrite: bool) -> None:
    """Create the String block NAME with VALUE (not secret)."""
    with _with_registry(state):
        _save(_blocks().String(value=value), name, overwrite)
    click.echo(f"Created string block {name!r}.")


def _save(instance: Any, name: str, overwrite: bool) -> None:
    from prefect_storage.exceptions import BlockValidationError

    try:
        instance.save(name, overwrite=overwrite)
    except BlockValidationError as exc:
        raise click.ClickException(str(exc)) from None


@block.command("ls")
@click.option("--type", "block_type", default=None, help="Only blocks of this type (e.g. secret).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_obj
def list_blocks(state: CliState, block_type: str | None, as_json: bool) -> None:
    """List saved blocks (names and types; never values)."""
    from prefect_storage.registry.blocks import list_block_documents

    documents = list_block_documents(state.registry, block_type)
    if as_json:
        print_json([{"type": d.block_type, "name": d.name, "id": d.id, "updated": d.updated} for d in documents])
        return
    print_table("Blocks", ["TYPE", "NAME", "SLUG", "ID", "UPDATED"],
                [(d.block_type, d.name, f"{d.block_type}/{d.name}", d.id, d.updated) for d in documents])


@block.command("inspect")
@click.argument("ref")
@click.pass_obj
def inspect_block(state: CliState, ref: str) -> None:
    """Show block TYPE/NAME with its secret fields masked."""
    from prefect_storage.exceptions import BlockNotFoundError

    slug, name = _split(ref)
    with _with_registry(state):
        try:
            instance = _blocks().get_block_class(slug).load(name)
        except BlockNotFoundError as exc:
            raise NotFound(str(exc)) from None
    print_json({"type": slug, "name": name, "reference": "{{ " + instance.get_block_placeholder() + " }}",
                "fields": instance.masked()})


@block.command("delete")
@click.argument("ref")
@click.pass_obj
def delete_block(state: CliState, ref: str) -> None:
    """Delete block TYPE/NAME."""
    from prefect_storage.exceptions import BlockNotFoundError
    from prefect_storage.registry.blocks import delete_block_document

    slug, name = _split(ref)
    try:
        delete_block_document(state.registry, slug, name)
    except BlockNotFoundError as exc:
        raise NotFound(str(exc)) from None
    click.echo(f"Deleted {slug}/{name}.")


@block.command("types")
def list_types() -> None:
    """List the block types and their fields (secret fields marked)."""
    rows = []
    for slug, cls in sorted(_blocks().block_types().items()):
        fields = ", ".join(f"{n}{' (secret)' if f.secret else ''}" for n, f in cls._fields.items())
        rows.append((slug, cls.__name__, fields))
    print_table("Block types", ["SLUG", "CLASS", "FIELDS"], rows)


@block.command("rotate-key")
@click.option("--reencrypt-only", is_flag=True,
              help="Only re-encrypt with the current key (after changing PREFECT_STORAGE_BLOCKS_KEY).")
@click.pass_obj
def rotate_key(state: CliState, reencrypt_only: bool) -> None:
    """Re-encrypt every block's secret fields with a new key (see docs/blocks.md)."""
    from prefect_storage.blocks.rotation import rotate_key as rotate
    from prefect_storage.exceptions import BlockEncryptionKeyError

    with _with_registry(state):
        try:
            count, key_id = rotate(reencrypt_only=reencrypt_only)
        except BlockEncryptionKeyError as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(f"Re-encrypted {count} block(s) with key {key_id}.")
