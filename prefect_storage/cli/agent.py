"""``prefect-storage agent local``."""

from __future__ import annotations

import logging
import signal

import click

from prefect_storage.cli.app import CliState, _configure_logging


@click.group()
def agent() -> None:
    """Agents that run flow runs."""


@agent.command("local")
@click.option("-l", "--label", "labels", multiple=True, help="A label this agent carries (repeatable).")
@click.option("--once", is_flag=True, help="Run every claimable run, then exit.")
@click.option("--poll-interval", type=float, default=2.0, show_default=True, help="Seconds between polls.")
@click.option("--concurrency", type=click.IntRange(min=1), default=1, show_default=True, help="Runs executed at once.")
@click.option("--timeout", type=float, default=None, help="Kill a run's process after this many seconds (run Failed).")
@click.option("-p", "--import-path", "import_paths", multiple=True, help="Folder appended to the runs' PYTHONPATH.")
@click.option("-e", "--env", "env", multiple=True, metavar="KEY=VALUE", help="Environment variable for every run.")
@click.option("--no-hostname-label", is_flag=True, help="Do not add this machine's host name to the labels.")
@click.option("--name", default=None, help="Agent name recorded on the runs it claims.")
@click.option("--lost-run-after", type=float, default=120.0, show_default=True,
              help="Fail Running runs whose agent sent no heartbeat for this many seconds.")
@click.pass_obj
def local(
    state: CliState,
    labels: tuple[str, ...],
    once: bool,
    poll_interval: float,
    concurrency: int,
    timeout: float | None,
    import_paths: tuple[str, ...],
    env: tuple[str, ...],
    no_hostname_label: bool,
    name: str | None,
    lost_run_after: float,
) -> None:
    """Claim Scheduled runs whose labels this agent covers and run each in a child process."""
    from prefect_storage.agent.local import LocalAgent

    variables = {}
    for item in env:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{item!r} is not KEY=VALUE.", param_hint="--env")
        variables[key] = value
    if logging.getLogger("prefect_storage").level > logging.INFO:
        _configure_logging(logging.INFO)
    runner = LocalAgent(
        state.registry,
        labels=labels,
        concurrency=concurrency,
        poll_interval=poll_interval,
        timeout=timeout,
        import_paths=import_paths,
        env=variables,
        hostname_label=not no_hostname_label,
        name=name,
        lost_run_after=lost_run_after,
    )
    signal.signal(signal.SIGTERM, lambda *_: runner.stop())
    try:
        executed = runner.start(once=once)
    except KeyboardInterrupt:
        runner.stop()
        executed = None
    if executed is not None:
        click.echo(f"Agent {runner.name} executed {executed} flow run(s).")
