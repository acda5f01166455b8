"""``prefect-storage run``, ``runs ls`` and ``runs logs``."""

from __future__ import annotations

import json
import sys
import time
from typing import Any

import click

from prefect_storage.cli.app import EXIT_FAILED, CliState
from prefect_storage.cli.output import print_json, print_table


def parse_params(values: tuple[str, ...]) -> dict[str, Any]:
    """``k=v`` pairs; a value that is valid JSON (``3``, ``true``, ``[1,2]``) is decoded."""
    params: dict[str, Any] = {}
    for item in values:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{item!r} is not of the form name=value.", param_hint="--param")
        try:
            params[key] = json.loads(raw)
        except json.JSONDecodeError:
            params[key] = raw
    return params


@click.command()
@click.argument("flow")
@click.option("--project", default=None, help="Project of the flow (needed when the name is in several).")
@click.option("--version", "version", type=int, default=None, help="Run this version instead of the latest.")
@click.option("--param", "params", multiple=True, metavar="NAME=VALUE", help="A parameter value (repeatable; JSON decoded).")
@click.option("--label", "labels", multiple=True, help="Labels for this run instead of the flow's (repeatable).")
@click.option("--wait", is_flag=True, help="Wait for the run to finish; exit 1 if it fails.")
@click.option("--timeout", type=float, default=None, help="With --wait: give up after this many seconds (exit 1).")
@click.option("--json", "as_json", is_flag=True, help="Print the run as JSON.")
@click.pass_obj
def run(
    state: CliState,
    flow: str,
    project: str | None,
    version: int | None,
    params: tuple[str, ...],
    labels: tuple[str, ...],
    wait: bool,
    timeout: float | None,
    as_json: bool,
) -> None:
    """Schedule a run of FLOW (a name or a flow id) for an agent to pick up."""
    registry = state.registry
    record = registry.find_flow(flow, project=project, version=version)
    values = parse_params(params)
    declared = {p["name"]: p for p in record.serialized.get("parameters") or []}
    unknown = sorted(set(values) - set(declared))
    if unknown:
        raise click.BadParameter(
            f"{unknown} not parameters of flow {record.name!r}; it has {sorted(declared) or 'none'}.", param_hint="--param"
        )
    missing = sorted(n for n, p in declared.items() if p.get("required") and n not in values)
    if missing:
        raise click.BadParameter(f"flow {record.name!r} requires {missing}.", param_hint="--param")
    flow_run = registry.create_flow_run(record.id, values, labels=labels or None)
    if not as_json:
        click.echo(f"Created flow run {flow_run.id} of {record.name!r} v{record.version} (labels: {', '.join(flow_run.labels) or 'none'})")
    if wait:
        flow_run = _wait(registry, flow_run.id, timeout)
    if as_json:
        print_json(flow_run.to_json())
    elif wait:
        click.echo(f"{flow_run.state}: {flow_run.message or ''}".rstrip())
    if wait and flow_run.state != "Success":
        sys.exit(EXIT_FAILED)


def _wait(registry: Any, run_id: str, timeout: float | None) -> Any:
    from prefect_storage.registry.repository import FINISHED_STATES

    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        flow_run = registry.get_flow_run(run_id)
        if flow_run.state in FINISHED_STATES:
            return flow_run
        if deadline is not None and time.monotonic() > deadline:
            raise click.ClickException(f"Flow run {run_id} is still {flow_run.state} after {timeout:g}s.")
        time.sleep(0.5)


@click.group()
def runs() -> None:
    """Flow runs and their logs."""


@runs.command("ls")
@click.option("--flow", default=None, help="Only runs of this flow.")
@click.option("--state", "run_state", default=None, type=click.Choice(["Scheduled", "Running", "Success", "Failed"]))
@click.option("--limit", default=20, show_default=True, help="Newest runs shown.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_obj
def list_runs(state: CliState, flow: str | None, run_state: str | None, limit: int, as_json: bool) -> None:
    """List flow runs, newest first."""
    records = state.registry.list_flow_runs(flow_name=flow, state=run_state, limit=limit)
    if as_json:
        print_json([r.to_json() for r in records])
        return
    print_table(
        "Flow runs",
        ["ID", "FLOW", "VERSION", "STATE", "SCHEDULED FOR", "AGENT", "CREATED", "DURATION", "MESSAGE"],
        [
            (
                r.id[:8],
                r.flow_name,
                r.flow_version,
                r.state,
                r.scheduled_start_time,
                r.agent,
                r.created,
                f"{(r.ended - r.started).total_seconds():.2f}s" if r.ended and r.started else None,
                r.message,
            )
            for r in records
        ],
    )


@runs.command("logs")
@click.argument("run_id")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@click.pass_obj
def run_logs(state: CliState, run_id: str, as_json: bool) -> None:
    """Print the logs of flow run RUN_ID (a unique prefix will do)."""
    flow_run = state.registry.get_flow_run(run_id)
    entries = state.registry.get_logs(flow_run.id)
    if as_json:
        print_json([e.to_json() for e in entries])
        return
    for e in entries:
        click.echo(f"{e.timestamp.astimezone():%Y-%m-%d %H:%M:%S} {e.level:<7} {e.name}: {e.message}")


@runs.command("artifacts")
@click.argument("run_id")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_obj
def run_artifacts(state: CliState, run_id: str, as_json: bool) -> None:
    """List the artifacts (links, markdown) the tasks of flow run RUN_ID created."""
    flow_run = state.registry.get_flow_run(run_id)
    artifacts = state.registry.list_artifacts(flow_run.id)
    if as_json:
        print_json([a.to_json() for a in artifacts])
        return
    print_table(
        f"Artifacts of flow run {flow_run.id[:8]}",
        ["ID", "TASK", "KIND", "CONTENT", "UPDATED"],
        [(a.id[:8], a.task_slug, a.kind, a.data, a.updated) for a in artifacts],
    )
