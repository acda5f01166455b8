"""``prefect-storage build``: build flows' storage and write their metadata to a flows.json
that ``prefect-storage register --json`` registers later (the classic ``prefect build``)."""

from __future__ import annotations

import collections
import json
import os
import sys

import click

from prefect_storage.cli.app import EXIT_FAILED
from prefect_storage.cli.collect import expand_paths
from prefect_storage.cli.register import collect_flows, load_flows_json, prepare_and_build


@click.command()
@click.option("-p", "--path", "paths", multiple=True, help="A flow script, a folder of scripts or a glob (repeatable).")
@click.option("-m", "--module", "modules", multiple=True, help="An importable module or module.flow (repeatable).")
@click.option("-n", "--name", "names", multiple=True, help="Only build flows with this name (repeatable).")
@click.option("-l", "--label", "labels", multiple=True, help="A label to add to every flow (repeatable).")
@click.option("-o", "--output", default="flows.json", show_default=True, help="The file to write.")
@click.option("-u", "--update", is_flag=True, help="Merge into an existing output file (by flow name).")
def build(
    paths: tuple[str, ...],
    modules: tuple[str, ...],
    names: tuple[str, ...],
    labels: tuple[str, ...],
    output: str,
    update: bool,
) -> None:
    """Build the storage of the flows found in scripts and modules, and write their
    metadata to a flows.json ({"version": 1, "flows": [...]}, sorted by name)."""
    if not paths and not modules:
        raise click.UsageError("Give at least one --path or --module.")
    counts: collections.Counter[str] = collections.Counter(errored=0)
    flows = collect_flows(expand_paths(paths), modules, counts)
    if names:
        missing = sorted(set(names) - {f.name for f in flows})
        if missing:
            raise click.ClickException("Failed to find the following flows:\n" + "\n".join(f"- {n}" for n in missing))
        flows = [f for f in flows if f.name in names]
    built = {flow.name: flow.serialize(build=False) for flow in prepare_and_build(flows, labels, counts)}
    done = len(built)
    for name in built:
        click.echo(f"Building {name!r}... Done")
    if update and os.path.exists(output):
        built = {**{f["name"]: f for f in load_flows_json(output)}, **built}
    document = {"version": 1, "flows": [built[name] for name in sorted(built)]}
    from prefect_storage.backends.local import atomic_write

    atomic_write(output, json.dumps(document, sort_keys=True, indent=2).encode())
    bar = "=" * 40
    click.echo(f"{bar}\n{done} built, {counts['errored']} errored\n{bar}")
    if counts["errored"]:
        sys.exit(EXIT_FAILED)
