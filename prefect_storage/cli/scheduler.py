"""``prefect-storage scheduler`` and ``prefect-storage flows schedule pause|resume|ls``."""

from __future__ import annotations

import logging
import signal
import threading

import click

from prefect_storage.cli.app import CliState, _configure_logging
from prefect_storage.cli.output import print_json, print_table


@click.command()
@click.option("--interval", type=float, default=1.0, show_default=True, help="Seconds between scheduler steps.")
@click.option("--once", is_flag=True, help="Run one step, then exit.")
@click.option("--max-runs", type=click.IntRange(min=1), default=None,
              help="Scheduled times kept created ahead per schedule (default 10, $PREFECT_STORAGE_SCHEDULER_MAX_RUNS).")
@click.option("--horizon", type=float, default=None,
              help="Seconds ahead runs are created, beyond the next one (default 3600, $PREFECT_STORAGE_SCHEDULER_HORIZON).")
@click.option("--late-run-window", type=float, default=None,
              help="Mark scheduled runs not started this many seconds after their time as missed "
              "(default 3600, $PREFECT_STORAGE_LATE_RUN_WINDOW).")
@click.pass_obj
def scheduler(
    state: CliState, interval: float, once: bool, max_runs: int | None, horizon: float | None, late_run_window: float | None
) -> None:
    """Create the runs of scheduled flows ahead of time (what every agent also does).

    Any number of schedulers and agents may run against one registry: each scheduled
    time becomes exactly one run."""
    from prefect_storage.registry.schedules import Scheduler

    if logging.getLogger("prefect_storage").level > logging.INFO:
        _configure_logging(logging.INFO)
    runner = Scheduler(
        state.registry, max_runs=max_runs, horizon=horizon,
        late_run_window=True if late_run_window is None else late_run_window,
    )
    stop = threading.Event()
    if not once:
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        created = runner.run(interval=interval, stop=stop, once=once)
    except KeyboardInterrupt:
        return
    click.echo(f"Scheduler created {created} flow run(s).")


@click.group()
def schedule() -> None:
    """Schedules of registered flows."""


@schedule.command("pause")
@click.argument("flow")
@click.option("--project", default=None, help="Project of the flow (needed when the name is in several).")
@click.pass_obj
def pause(state: CliState, flow: str, project: str | None) -> None:
    """Stop scheduling FLOW and remove its scheduled runs that have not started."""
    from prefect_storage.registry.schedules import pause_schedule

    removed = pause_schedule(state.registry, flow, project)
    click.echo(f"Paused the schedule of {flow!r}; removed {removed} scheduled run(s).")


@schedule.command("resume")
@click.argument("flow")
@click.option("--project", default=None, help="Project of the flow (needed when the name is in several).")
@click.pass_obj
def resume(state: CliState, flow: str, project: str | None) -> None:
    """Schedule FLOW again, from its next scheduled time after now."""
    from prefect_storage.registry.schedules import resume_schedule

    resume_schedule(state.registry, flow, project)
    click.echo(f"Resumed the schedule of {flow!r}.")


@schedule.command("ls")
@click.option("--project", default=None, help="Only schedules of this project.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_obj
def list_schedules(state: CliState, project: str | None, as_json: bool) -> None:
    """List the flows that have a schedule, whether it is paused, and their next times."""
    from prefect_storage.registry.schedules import list_schedules as _list

    infos = _list(state.registry, project=project)
    if as_json:
        print_json([i.to_json() for i in infos])
        return
    print_table(
        "Schedules",
        ["FLOW", "PROJECT", "VERSION", "ACTIVE", "NEXT"],
        [(i.flow_name, i.project, i.flow_version, "yes" if i.active else "paused", i.upcoming[:1] and i.upcoming[0])
         for i in infos],
    )
