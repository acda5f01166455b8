"""``prefect-storage deploy``, ``init`` and ``deployments ls|inspect|run|delete``."""

from __future__ import annotations

import sys
from typing import Any

import click

from prefect_storage.cli.app import EXIT_FAILED, CliState
from prefect_storage.cli.output import print_json, print_table


def _deployment_errors(func: Any) -> Any:
    """Typed deployment errors -> a clean ``Error: ...`` and exit code 1."""
    import functools

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from prefect_storage.exceptions import DeploymentError, EntrypointError, StepError

        try:
            return func(*args, **kwargs)
        except (DeploymentError, EntrypointError, StepError) as exc:
            raise click.ClickException(str(exc)) from None

    return wrapper


@click.command()
@click.argument("names", nargs=-1)
@click.option("--all", "all_", is_flag=True, help="Deploy every deployment in the file.")
@click.option("--prefect-file", default="prefect.yaml", show_default=True, type=click.Path(dir_okay=False),
              help="The project file to read.")
@click.pass_obj
@_deployment_errors
def deploy(state: CliState, names: tuple[str, ...], all_: bool, prefect_file: str) -> None:
    """Run prefect.yaml's build and push steps and record its deployments (NAMES, or --all)."""
    from prefect_storage.deployments.project import deploy_project

    records = deploy_project(prefect_file, list(names), all_, registry=state.registry, echo=click.echo)
    click.echo(f"Deployed {len(records)} deployment(s). Run one with: prefect-storage deployments run FLOW/DEPLOYMENT")


@click.command()
@click.option("--recipe", type=click.Choice(["git", "s3", "gcs", "azure", "docker", "local"]), default="local",
              show_default=True, help="Where the code will be kept.")
@click.option("--field", "fields", multiple=True, metavar="KEY=VALUE",
              help="A recipe value: repository=, branch=, bucket=, container=, folder=, image_name=, tag=, credentials=.")
@click.option("--name", default=None, help="Project name (default: the folder name).")
@click.option("--force", is_flag=True, help="Replace an existing prefect.yaml.")
def init(recipe: str, fields: tuple[str, ...], name: str | None, force: bool) -> None:
    """Write a starter prefect.yaml (and .prefectignore) in the current folder."""
    from prefect_storage.deployments.project import init_project
    from prefect_storage.exceptions import DeploymentError

    values = {}
    for item in fields:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{item!r} is not KEY=VALUE.", param_hint="--field")
        values[key] = value
    try:
        written = init_project(recipe, values, ".", name=name, overwrite=force)
    except DeploymentError as exc:
        raise click.ClickException(str(exc)) from None
    for path in written:
        click.echo(f"Wrote {path}")


@click.group()
def deployments() -> None:
    """Modern deployments: list, inspect, run, delete."""


@deployments.command("ls")
@click.option("--pool", default=None, help="Only deployments in this work pool.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def ls(state: CliState, pool: str | None, as_json: bool) -> None:
    """List deployments."""
    from prefect_storage.registry.deployments import list_deployments

    records = list_deployments(state.registry, work_pool=pool)
    if as_json:
        print_json([r.to_json() for r in records])
        return
    rows = []
    for r in records:
        schedules = ", ".join(
            s.get("cron") or (f"every {s['interval']:g}s" if s.get("interval") else s.get("rrule", "")) for s in r.spec.get("schedules") or []
        )
        rows.append([r.full_name, r.entrypoint, r.work_pool or "", schedules, "paused" if r.paused else "", r.updated.strftime("%Y-%m-%d %H:%M")])
    print_table(None, ["DEPLOYMENT", "ENTRYPOINT", "WORK POOL", "SCHEDULES", "", "UPDATED"], rows)


@deployments.command("inspect")
@click.argument("name")
@click.pass_obj
def inspect_(state: CliState, name: str) -> None:
    """Show a deployment (pull steps as stored: templates, never secret values)."""
    from prefect_storage.registry.deployments import get_deployment

    print_json(get_deployment(state.registry, name).to_json())


@deployments.command("delete")
@click.argument("name")
@click.pass_obj
def delete(state: CliState, name: str) -> None:
    """Delete a deployment (its past runs and logs stay)."""
    from prefect_storage.registry.deployments import delete_deployment

    record = delete_deployment(state.registry, name)
    click.echo(f"Deleted deployment '{record.full_name}'.")


@deployments.command("run")
@click.argument("name")
@click.option("--param", "params", multiple=True, metavar="NAME=VALUE", help="A parameter value (repeatable; JSON decoded).")
@click.option("--wait", is_flag=True, help="Wait for the run to finish; exit 1 if it fails.")
@click.option("--timeout", type=float, default=None, help="With --wait: give up after this many seconds.")
@click.option("--json", "as_json", is_flag=True, help="Print the run as JSON.")
@click.pass_obj
def run(state: CliState, name: str, params: tuple[str, ...], wait: bool, timeout: float | None, as_json: bool) -> None:
    """Schedule a run of deployment NAME (FLOW/DEPLOYMENT) for an agent in its work pool."""
    schedule_deployment_run(state, name, params, wait, timeout, as_json)


def schedule_deployment_run(
    state: CliState, name: str, params: tuple[str, ...], wait: bool, timeout: float | None, as_json: bool
) -> None:
    from prefect_storage.cli.runs import _wait, parse_params
    from prefect_storage.registry.deployments import create_deployment_run, get_deployment

    registry = state.registry
    record = get_deployment(registry, name)
    values = parse_params(params)
    flow = registry.get_flow(record.flow_id) if record.flow_id else None
    declared = {p["name"] for p in (flow.serialized.get("parameters") or [])} if flow else set()
    if record.spec.get("enforce_parameter_schema", True) and declared:
        unknown = sorted(set(values) - declared)
        if unknown:
            raise click.BadParameter(f"{unknown} are not parameters of {record.full_name!r}; it has {sorted(declared)}.", param_hint="--param")
    flow_run = create_deployment_run(registry, record.full_name, values)
    if not as_json:
        pool = f" in work pool {record.work_pool!r}" if record.work_pool else ""
        click.echo(f"Created flow run {flow_run.id} of deployment '{record.full_name}'{pool}")
    if wait:
        flow_run = _wait(registry, flow_run.id, timeout)
    if as_json:
        print_json(flow_run.to_json())
    elif wait:
        click.echo(f"{flow_run.state}: {flow_run.message or ''}".rstrip())
    if wait and flow_run.state != "Success":
        sys.exit(EXIT_FAILED)
