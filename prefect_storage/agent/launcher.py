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
import selectors
import signal
import subprocess
import sys
import threading
import time
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
        try:
            outputs, finished = _collect((out_r, err_r), child, timeout)
            stdout = outputs[out_r].decode(errors="replace")
            stderr = outputs[err_r].decode(errors="replace")
            if finished and parse_outcome(stdout) is None:
                child.finished.wait(30)  # a crash: its exit code (or signal) says how
        finally:
            os.close(life_w)
            zygote.forget(run_key)
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


def _collect(fds: Sequence[int], child: Any, timeout: float | None) -> tuple[dict[int, bytes], bool]:
    """Read the child's output pipes to their end in this thread; return what each held
    and whether the run ended in time (``False``: it was killed at ``timeout``).

    The child closes its output as its last act, so the end of both pipes is the end of
    the run; the exit report from the template (``child.finished``) covers a child whose
    own subprocesses still hold the pipes. Either way the run's process group is killed,
    and what it wrote up to then is read.
    """
    chunks: dict[int, list[bytes]] = {fd: [] for fd in fds}
    deadline = None if timeout is None else time.monotonic() + timeout
    finished = True
    killed_at: float | None = None
    with selectors.DefaultSelector() as selector:
        for fd in fds:
            selector.register(fd, selectors.EVENT_READ)
        while selector.get_map():
            now = time.monotonic()
            if killed_at is None and (child.finished.is_set() or (deadline is not None and now >= deadline)):
                finished = child.finished.is_set()
                _kill_pgid(child.pid)  # what the run left behind (holding the pipes) dies with it
                if not finished:
                    child.finished.wait(30)
                killed_at = now
            if killed_at is not None and now - killed_at > 30:
                break  # a process outside the group still holds a pipe: stop reading
            wait = 0.05 if deadline is None else max(0.0, min(0.05, deadline - now))
            for key, _ in selector.select(wait):
                fd = int(key.fd)  # type: ignore[arg-type]
                data = os.read(fd, 65536)
                if data:
                    chunks[fd].append(data)
                else:
                    selector.unregister(fd)
    for fd in fds:
        os.close(fd)
    if killed_at is None:
        _kill_pgid(child.pid)
    return {fd: b"".join(parts) for fd, parts in chunks.items()}, finished


def _kill_pgid(pid: int | None) -> None:
    if pid:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)


def _die_with_parent() -> None:
    from prefect_storage.agent.zygote import set_parent_death_signal

    # SIGTERM, not SIGKILL: the child answers it by killing its whole process group
    # (execute.main installs that handler), so the flow's own subprocesses die too.
    set_parent_death_signal(signal.SIGTERM)


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
