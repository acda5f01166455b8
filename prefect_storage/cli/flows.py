"""``prefect-storage flows ls``."""

from __future__ import annotations

import click

from prefect_storage.cli.app import CliState
from prefect_storage.cli.output import print_json, print_table


@click.group()
def flows() -> None:
    """Registered flows."""


@flows.command("ls")
@click.option("--project", default=None, help="Only flows of this project.")
@click.option("--all-versions", is_flag=True, help="Include archived (older) versions.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_obj
def list_flows(state: CliState, project: str | None, all_versions: bool, as_json: bool) -> None:
    """List registered flows (latest versions unless --all-versions)."""
    records = state.registry.list_flows(project=project, all_versions=all_versions)
    if as_json:
        print_json([r.to_json() for r in records])
        return
    print_table(
        "Flows",
        ["NAME", "PROJECT", "VERSION", "STORAGE", "MODE", "LABELS", "ID", "CREATED"],
        [
            (
                r.name,
                r.project,
                r.version,
                r.storage.get("type"),
                "script" if r.storage.get("stored_as_script") else "pickle" if r.storage.get("type") != "Module" else "module",
                r.labels,
                r.id,
                r.created,
            )
            for r in records
        ],
    )
