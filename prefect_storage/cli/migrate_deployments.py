"""``prefect-storage migrate deployments``: registered classic flows -> deployments."""

from __future__ import annotations

import click

from prefect_storage.cli.app import CliState


@click.command("deployments")
@click.option("--flow", "flow", default=None, help="Only this registered flow (default: every one).")
@click.option("--name", "deployment_name", default="migrated", show_default=True, help="Deployment name for each flow.")
@click.option("--pool", "work_pool_name", default=None, help="Work pool of the new deployments (default: the flows' labels).")
@click.option("--write", "write", default=None, metavar="PREFECT_YAML", help="Also write them to this prefect.yaml.")
@click.option("--dry-run", is_flag=True, help="Only say what would happen.")
@click.pass_obj
def deployments(state: CliState, flow: str | None, deployment_name: str, work_pool_name: str | None,
                write: str | None, dry_run: bool) -> None:
    """Turn registered classic flows into deployments, saying per flow how (or why not from source)."""
    from prefect_storage.deployments.migrate import migrate_flows, write_prefect_yaml

    results = migrate_flows(state.registry, flow, deployment_name, work_pool_name, record=not dry_run)
    if not results:
        click.echo("No registered classic flows to migrate.")
        return
    for plan, record in results:
        how = "from source" if plan.from_source else "via load_classic_flow"
        done = f"-> {record.full_name}" if record is not None else "(dry run)"
        click.echo(f"{plan.flow_name} [{plan.storage_type}] {how} {done}: {plan.reason}")
    if write:
        write_prefect_yaml([plan for plan, _ in results], write, deployment_name, work_pool_name)
        click.echo(f"Wrote {write}")
