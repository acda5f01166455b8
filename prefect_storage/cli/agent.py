"""``prefect-storage agent local`` and ``prefect-storage agent docker``."""

from __future__ import annotations

import logging
import signal
from collections.abc import Callable
from typing import Any

import click

from prefect_storage.cli.app import CliState, _configure_logging


@click.group()
def agent() -> None:
    """Agents that run flow runs."""


def _agent_options(command: Callable[..., None]) -> Callable[..., None]:
    """The options every agent command shares (applied bottom-up, so listed in reverse)."""
    options = [
        click.option("-l", "--label", "labels", multiple=True, help="A label this agent carries (repeatable)."),
        click.option("--pool", "pools", multiple=True, metavar="WORK_POOL",
                     help="Run deployments of this work pool (repeatable; adds the label pool:WORK_POOL)."),
        click.option("--allow-install", is_flag=True,
                     help="Let deployment steps pip-install the packages their `requires:` names."),
        click.option("--once", is_flag=True, help="Run every claimable run, then exit."),
        click.option("--poll-interval", type=float, default=2.0, show_default=True, help="Seconds between polls."),
        click.option("--concurrency", type=click.IntRange(min=1), default=1, show_default=True, help="Runs executed at once."),
        click.option("--timeout", type=float, default=None, help="Kill a run after this many seconds (run Failed)."),
        click.option(
            "-e", "--env", "env", multiple=True, metavar="KEY=VALUE|NAME",
            help="KEY=VALUE: a variable for every run. NAME: pass the agent's own NAME (with --no-pass-env).",
        ),
        click.option(
            "--no-pass-env", is_flag=True,
            help="Give runs only PATH, HOME, locale, TZ, TMPDIR and the --env NAMEs of the agent's environment.",
        ),
        click.option(
            "--secret-env", "secret_env", multiple=True, metavar="NAME",
            help="A variable of the agent's environment that no run may see (repeatable).",
        ),
        click.option(
            "--executor-address", default=None, metavar="ADDRESS",
            help="Run every classic flow's tasks on this Dask scheduler (tcp://host:8786) instead of the flow's executor.",
        ),
        click.option("--no-hostname-label", is_flag=True, help="Do not add this machine's host name to the labels."),
        click.option("--show-flow-logs", is_flag=True, help="Also print each run's log lines when the run ends."),
        click.option("--name", default=None, help="Agent name recorded on the runs it claims."),
        click.option(
            "--lost-run-after", type=float, default=120.0, show_default=True,
            help="Fail Running runs whose agent sent no heartbeat for this many seconds.",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _parse_env(env: tuple[str, ...]) -> tuple[dict[str, str], list[str]]:
    """``--env`` values: ``KEY=VALUE`` pairs set for every run, and bare ``NAME``s of the
    agent's variables to pass along (the allow-list of ``--no-pass-env``)."""
    variables, allowed = {}, []
    for item in env:
        key, sep, value = item.partition("=")
        if not key or not key.replace("_", "").isalnum():
            raise click.BadParameter(f"{item!r} is not KEY=VALUE or a variable NAME.", param_hint="--env")
        if sep:
            variables[key] = value
        else:
            allowed.append(key)
    return variables, allowed


def _run_agent(state: CliState, launcher: Any, import_paths: tuple[str, ...], **options: Any) -> None:
    from prefect_storage.agent.local import LocalAgent

    if logging.getLogger("prefect_storage").level > logging.INFO:
        _configure_logging(logging.INFO)
    variables, allowed = _parse_env(options["env"])
    if options.get("allow_install"):
        variables["PREFECT_STORAGE_ALLOW_INSTALL"] = "true"
    runner = LocalAgent(
        state.registry,
        labels=[*options["labels"], *(f"pool:{pool}" for pool in options.get("pools") or ())],
        concurrency=options["concurrency"],
        poll_interval=options["poll_interval"],
        timeout=options["timeout"],
        import_paths=import_paths,
        env=variables,
        pass_env=not options["no_pass_env"],
        env_allow=allowed,
        secret_env=options["secret_env"],
        hostname_label=not options["no_hostname_label"],
        name=options["name"],
        lost_run_after=options["lost_run_after"],
        executor_address=options["executor_address"],
        show_flow_logs=options.get("show_flow_logs", False),
        launcher=launcher,
    )
    signal.signal(signal.SIGTERM, lambda *_: runner.stop())
    try:
        executed = runner.start(once=options["once"])
    except KeyboardInterrupt:
        runner.stop()
        executed = None
    finally:
        close = getattr(launcher, "close", None)
        if close is not None:
            close()
    if executed is not None:
        click.echo(f"Agent {runner.name} executed {executed} flow run(s).")


@agent.command("local")
@_agent_options
@click.option("-p", "--import-path", "import_paths", multiple=True, help="Folder appended to the runs' PYTHONPATH.")
@click.option("--cold-start", is_flag=True, help="Start a new Python interpreter per run instead of forking a warm template.")
@click.pass_obj
def local(state: CliState, import_paths: tuple[str, ...], cold_start: bool, **options: Any) -> None:
    """Claim Scheduled runs whose labels this agent covers and run each in a child process."""
    from prefect_storage.agent.launcher import ProcessLauncher

    _run_agent(state, ProcessLauncher(warm=not cold_start), import_paths, **options)


@agent.command("docker")
@_agent_options
@click.option("--base-url", default=None, help="Docker engine URL (default: $DOCKER_HOST, else the local socket).")
@click.option("--network", "network_mode", default=None, help="Container network mode (bridge, host, none...).")
@click.option("--pull", type=click.Choice(["missing", "always"]), default="missing", show_default=True,
              help="Pull a flow's image only when missing, or before every run.")
@click.option("--registry-auth-secret", default=None, help="Secret holding {username, password} JSON for pulls.")
@click.option("--image", "default_image", default=None,
              help="Image for flows that are not in Docker storage and whose run config names none.")
@click.pass_obj
def docker(
    state: CliState,
    base_url: str | None,
    network_mode: str | None,
    pull: str,
    registry_auth_secret: str | None,
    default_image: str | None,
    **options: Any,
) -> None:
    """Claim Scheduled runs and run each in a container: of the flow's Docker-storage image,
    else of its DockerRun image, else of --image."""
    from prefect_storage.agent.docker_launcher import DockerLauncher

    launcher = DockerLauncher(
        base_url=base_url, network_mode=network_mode, pull=pull, registry_auth_secret=registry_auth_secret,
        default_image=default_image,
    )
    _run_agent(state, launcher, (), **options)
