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
import threading
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from prefect_storage.agent.execute import parse_outcome
from prefect_storage.secrets import get_logger

logger = get_logger("agent.launcher")


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
    results: list[dict[str, Any]] = dataclasses.field(default_factory=list)


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

    By default children are forked from a warm template process that has already
    imported prefect_storage and cloudpickle (:mod:`prefect_storage.agent.zygote`):
    each run still has its own process and process group, but starts in a few
    milliseconds instead of ~100 ms. ``warm=False`` starts a new interpreter per run.

    Either way a child dies with its agent (``PR_SET_PDEATHSIG`` on Linux plus a
    lifeline pipe it watches), and a timeout kills the run's whole process group.

    Args:
        python: the interpreter to run (default: the agent's own).
        cwd: the child's working directory (default: the agent's).
        warm: fork runs from a pre-imported template process.
    """

    isolated_environment = False

    def __init__(self, python: str | None = None, cwd: str | None = None, warm: bool = True) -> None:
        self.python = python or sys.executable
        self.cwd = cwd
        self.warm = warm
        self._zygote: Any = None
        self._zygote_lock = threading.Lock()
        self.template_env: dict[str, str] | None = None

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
        if self.warm:
            from prefect_storage.agent.zygote import ZygoteError

            try:
                return self._launch_warm(spec, env, timeout)
            except ZygoteError as exc:
                logger.warning("Warm run template unavailable (%s); starting a fresh interpreter for this run", exc)
        return self._launch_cold(spec, env, timeout)

    def close(self) -> None:
        """Stop the warm template process, if one was started."""
        with self._zygote_lock:
            if self._zygote is not None:
                self._zygote.close()
                self._zygote = None

    def _template(self, env: Mapping[str, str]) -> Any:
        from prefect_storage.agent.zygote import Zygote

        with self._zygote_lock:
            if self._zygote is None:
                base = self.template_env if self.template_env is not None else {
                    k: v for k, v in env.items() if not k.startswith("PREFECT__CONTEXT__")
                }
                self._zygote = Zygote(self.python, base, self.cwd)
            return self._zygote

    def _launch_warm(self, spec: Mapping[str, Any], env: Mapping[str, str], timeout: float | None) -> LaunchOutcome:
        zygote = self._template(env)
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        life_r, life_w = os.pipe()
        try:
            run_key, child = zygote.spawn(spec, env, spec.get("working_dir") or self.cwd or os.getcwd(), (out_w, err_w, life_r))
        except BaseException:
            for fd in (out_r, err_r, life_w):
                os.close(fd)
            raise
        finally:
            for fd in (out_w, err_w, life_r):
                os.close(fd)
        outputs: dict[int, bytes] = {}
        readers = [threading.Thread(target=_drain, args=(fd, outputs), daemon=True) for fd in (out_r, err_r)]
        for reader in readers:
            reader.start()
        try:
            finished = child.finished.wait(timeout)
            if not finished:
                _kill_pgid(child.pid)
                child.finished.wait(30)
            else:
                _kill_pgid(child.pid)  # what the run left behind dies with it
            for reader in readers:
                reader.join(30)
        finally:
            os.close(life_w)
            zygote.forget(run_key)
        stdout = outputs.get(out_r, b"").decode(errors="replace")
        stderr = outputs.get(err_r, b"").decode(errors="replace")
        if not finished:
            return _timed_out(timeout, stderr, child.exit)
        return outcome_from_output(stdout, stderr, child.exit)

    def _launch_cold(self, spec: Mapping[str, Any], env: Mapping[str, str], timeout: float | None) -> LaunchOutcome:
        life_r, life_w = os.pipe()  # the child kills its process group when this closes (the agent died)
        try:
            proc = subprocess.Popen(
                self.command(),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=dict(env),
                cwd=spec.get("working_dir") or self.cwd,
                start_new_session=True,  # its own process group: a timeout kills the flow's children too
                preexec_fn=_die_with_parent,
                pass_fds=(life_r,),
                text=True,
            )
        except OSError as exc:
            os.close(life_w)
            return LaunchOutcome("Failed", f"Could not start the flow run process {self.python!r}: {exc}", [], "")
        finally:
            os.close(life_r)
        try:
            stdout, stderr = proc.communicate(json.dumps({**spec, "lifeline_fd": life_r}), timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            stdout, stderr = proc.communicate()
            return _timed_out(timeout, stderr, proc.returncode)
        finally:
            os.close(life_w)
        _kill_pgid(proc.pid)  # what the run left behind dies with it
        return outcome_from_output(stdout, stderr, proc.returncode)


def _timed_out(timeout: float | None, stderr: str, exit_code: int | None) -> LaunchOutcome:
    return LaunchOutcome(
        "Failed",
        f"Flow run timed out after {timeout:g} seconds and was killed. Raise the agent's --timeout if the flow needs longer.",
        [],
        stderr,
        exit_code,
        timed_out=True,
    )


def _drain(fd: int, into: dict[int, bytes]) -> None:
    chunks = []
    with open(fd, "rb", buffering=0, closefd=True) as stream:
        while True:
            chunk = stream.read(65536)
            if not chunk:
                break
            chunks.append(chunk)
    into[fd] = b"".join(chunks)


def _kill_pgid(pid: int | None) -> None:
    if pid:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)


def _die_with_parent() -> None:
    from prefect_storage.agent.zygote import set_parent_death_signal

    set_parent_death_signal(signal.SIGKILL)


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
        outcome.get("state", "Failed"),
        outcome.get("message") or "",
        list(outcome.get("tasks") or []),
        stderr,
        exit_code,
        results=list(outcome.get("results") or []),
    )


def _kill_group(proc: subprocess.Popen[str]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError):
        proc.kill()
