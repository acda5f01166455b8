"""Launchers start one flow run somewhere and report how it ended.

Every launcher speaks the contract of :mod:`prefect_storage.agent.execute`: the run
spec as JSON on the child's standard input, one outcome line on its standard output,
logs on its standard error. :class:`ProcessLauncher` runs the child as a local
process; a container launcher runs the same module in an image.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import signal
import subprocess
import sys
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from prefect_storage.agent.execute import parse_outcome


@dataclasses.dataclass
class LaunchOutcome:
    """How a launched run ended: ``state`` is ``Success`` or ``Failed``; ``logs`` is the
    child's standard error (not yet redacted)."""

    state: str
    message: str
    tasks: list[dict[str, Any]]
    logs: str
    exit_code: int | None = None
    timed_out: bool = False


class Launcher(Protocol):
    """Runs ``python -m prefect_storage.agent.execute`` with ``spec`` somewhere.

    ``isolated_environment`` is true for launchers whose child does not share the
    agent's machine (a container): the agent then passes only the run's own variables
    (run config ``env``, context, secrets), not its whole environment.
    """

    isolated_environment: bool

    def refusal(self, storage_type: str) -> str | None:
        """Why this launcher cannot run flows kept in ``storage_type`` storage, or ``None``."""

    def launch(self, spec: Mapping[str, Any], env: Mapping[str, str], timeout: float | None) -> LaunchOutcome:
        """Run the spec with ``env`` as the child's complete environment; kill it after
        ``timeout`` seconds. Never raises for anything the flow does."""


class ProcessLauncher:
    """Runs each flow run in a child Python process on this machine.

    Args:
        python: the interpreter to run (default: the agent's own).
        cwd: the child's working directory (default: the agent's).
    """

    isolated_environment = False

    def __init__(self, python: str | None = None, cwd: str | None = None) -> None:
        self.python = python or sys.executable
        self.cwd = cwd

    def refusal(self, storage_type: str) -> str | None:
        if storage_type == "Docker":  # the classic LocalAgent's rule: Docker flows live inside their image
            return (
                "Unsupported Storage type: Docker. Hint: flows in Docker storage run inside their image; "
                "run them with `prefect-storage agent docker`."
            )
        return None

    def command(self) -> Sequence[str]:
        return [self.python, "-m", "prefect_storage.agent.execute"]

    def launch(self, spec: Mapping[str, Any], env: Mapping[str, str], timeout: float | None) -> LaunchOutcome:
        """Run ``spec`` in a child process (in ``spec["working_dir"]`` when the run
        config names one); see :class:`Launcher`."""
        try:
            proc = subprocess.Popen(
                self.command(),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=dict(env),
                cwd=spec.get("working_dir") or self.cwd,
                start_new_session=True,  # its own process group: a timeout kills the flow's children too
                text=True,
            )
        except OSError as exc:
            return LaunchOutcome("Failed", f"Could not start the flow run process {self.python!r}: {exc}", [], "")
        try:
            stdout, stderr = proc.communicate(json.dumps(spec), timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            stdout, stderr = proc.communicate()
            return LaunchOutcome(
                "Failed",
                f"Flow run timed out after {timeout:g} seconds and was killed. "
                "Raise the agent's --timeout if the flow needs longer.",
                [],
                stderr,
                proc.returncode,
                timed_out=True,
            )
        return outcome_from_output(stdout, stderr, proc.returncode)


def outcome_from_output(stdout: str, stderr: str, exit_code: int | None) -> LaunchOutcome:
    """Turn a finished child's output into an outcome (a crash when it printed none)."""
    outcome = parse_outcome(stdout)
    if outcome is None:
        tail = stderr.strip().splitlines()[-1:] or ["(no output)"]
        how = f"was killed by signal {-exit_code}" if exit_code is not None and exit_code < 0 else f"exited with code {exit_code}"
        return LaunchOutcome(
            "Failed",
            f"The flow run process {how} without reporting an outcome (it crashed). Last log line: {tail[0]}",
            [],
            stderr,
            exit_code,
        )
    return LaunchOutcome(
        outcome.get("state", "Failed"), outcome.get("message") or "", list(outcome.get("tasks") or []), stderr, exit_code
    )


def _kill_group(proc: subprocess.Popen[str]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError):
        proc.kill()
