"""A pre-imported template process that forks one child per flow run.

Starting a fresh interpreter and importing prefect_storage, cloudpickle and the
storage code costs ~90 ms of CPU per run; forking a process that has already done
that costs a few milliseconds. Each run still gets its own process (its own memory,
its own crash, its own process group), exactly as with ``subprocess``:

* the agent starts ``python -m prefect_storage.agent.zygote FD`` once, with the
  filtered base environment (never the agent's sensitive settings), and talks to it
  over a Unix socket pair;
* per run it sends ``{"id", "spec", "env", "cwd"}`` plus three file descriptors
  (the child's stdout and stderr pipes and the read end of a *lifeline* pipe);
* the template forks; the child starts a new session, asks the kernel to kill it
  when the template dies (``PR_SET_PDEATHSIG``), watches the lifeline (EOF = the
  agent died: kill the whole process group), takes the run's environment and
  working directory, and runs :func:`prefect_storage.agent.execute.main`;
* the template reports ``{"id", "pid"}`` and later ``{"id", "exit"}`` (the exit code,
  negative for a signal, as :mod:`subprocess` reports it).

The template itself dies with the agent: ``PR_SET_PDEATHSIG`` on Linux, and EOF on
its socket everywhere; either way it kills the process groups of its children first.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import functools
import importlib
import json
import os
import selectors
import signal
import socket
import struct
import subprocess
import sys
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from prefect_storage.exceptions import ZygoteError

_HEADER = struct.Struct(">I")
PR_SET_PDEATHSIG = 1


@functools.lru_cache(maxsize=1)
def _libc() -> Any:
    # find_library runs `ldconfig -p` in a subprocess (~3 ms): once per template, not per run
    return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)


def set_parent_death_signal(sig: int) -> bool:
    """Ask Linux to send ``sig`` to this process when its parent dies; False elsewhere."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        return bool(_libc().prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0) == 0)
    except (OSError, AttributeError):
        return False


def _send(sock: socket.socket, message: Mapping[str, Any], fds: Sequence[int] = ()) -> None:
    body = json.dumps(message).encode()
    data = _HEADER.pack(len(body)) + body
    if fds:
        sent = socket.send_fds(sock, [data], list(fds))
        data = data[sent:]
    if data:
        sock.sendall(data)


def _recv_exact(sock: socket.socket, size: int, buffer: bytes = b"") -> bytes | None:
    while len(buffer) < size:
        chunk = sock.recv(size - len(buffer))
        if not chunk:
            return None
        buffer += chunk
    return buffer


def _recv(sock: socket.socket, with_fds: bool = False) -> tuple[dict[str, Any] | None, list[int]]:
    fds: list[int] = []
    if with_fds:
        first, fds, _flags, _addr = socket.recv_fds(sock, _HEADER.size, 8)
        if not first:
            return None, fds
        head = _recv_exact(sock, _HEADER.size, first)
    else:
        head = _recv_exact(sock, _HEADER.size)
    if head is None:
        return None, fds
    body = _recv_exact(sock, _HEADER.unpack(head)[0])
    return (json.loads(body) if body is not None else None), fds


# -- the template process ------------------------------------------------------------------


def _preload() -> None:
    """Import what every run needs, once, in the template."""
    import cloudpickle  # noqa: F401

    import prefect_storage.agent.execute
    import prefect_storage.core.runner
    import prefect_storage.log
    import prefect_storage.results
    import prefect_storage.serialization
    import prefect_storage.storage  # noqa: F401

    for optional in (
        "prefect_storage.storage.local",
        "prefect_storage.results.local",
        "prefect_storage.core.flow",
        "prefect_storage.core.flow_runner",
        "prefect_storage.core.task_runner",
        "prefect_storage.context",
        "prefect_storage.core.executors.local",
        "prefect_storage.tasks.core",
        "heapq",
        "prefect_storage.registry.client",  # flow-of-flows, KV and artifacts through the broker
        "prefect_storage.serialization.flow_pickle",
        "slugify",  # result locations; its regexes cost ~50 ms to compile
    ):
        with contextlib.suppress(ImportError):
            importlib.import_module(optional)
    with contextlib.suppress(Exception):
        _rehearse()
    import gc

    gc.collect()
    gc.freeze()  # children share the template's objects without copying them on the first collection


def _rehearse() -> None:
    """Run a one-task flow once, as a run would (the runner, a result pickled for the
    registry, the outcome line), so that what the engine builds lazily on first use
    (caches, compiled patterns, bound methods) is built here once and shared by every
    child, instead of being rebuilt, and its pages copied, in each one."""
    import io
    import logging

    from prefect_storage.agent import execute
    from prefect_storage.core.flow import Flow
    from prefect_storage.core.task import Task
    from prefect_storage.secrets import redact

    class _Rehearsal(Task):  # type: ignore[misc]
        def run(self) -> int:
            return 1

    previous = logging.root.manager.disable
    logging.disable(logging.CRITICAL)  # the template has no run to log for
    try:
        flow = Flow("prefect-storage template rehearsal", tasks=[_Rehearsal()])
        state = flow.run()
        for task, task_state in (state.result or {}).items():
            execute.task_results(flow.slugs.get(task, task.slug), task_state)
        io.StringIO().write(redact(json.dumps({"state": "Success"})))
    finally:
        logging.disable(previous)


def _kill_groups(pids: Sequence[int]) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)


def serve(fd: int) -> int:
    """The template's loop: fork a child per request, report pids and exit codes."""
    set_parent_death_signal(signal.SIGTERM)
    sock = socket.socket(fileno=fd)
    children: dict[int, str] = {}
    signal.signal(signal.SIGTERM, lambda *_: (_kill_groups(list(children)), os._exit(0)))
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the agent, which ends us
    if os.getppid() == 1:
        return 0
    _preload()
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_r, False)
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    selector = selectors.DefaultSelector()
    selector.register(sock, selectors.EVENT_READ)
    selector.register(wake_r, selectors.EVENT_READ)
    _send(sock, {"ready": os.getpid()})
    while True:
        for key, _ in selector.select():
            if key.fileobj is sock:
                try:
                    request, fds = _recv(sock, with_fds=True)
                except ConnectionResetError:  # the agent closed with our last report unread
                    request, fds = None, []
                if request is None:  # the agent is gone: its runs go with it
                    _kill_groups(list(children))
                    return 0
                sys.stdout.flush()
                sys.stderr.flush()
                pid = os.fork()
                if pid == 0:
                    selector.close()
                    os.close(wake_r)
                    os.close(wake_w)
                    _child(sock, request, fds)  # never returns
                for child_fd in fds:
                    os.close(child_fd)
                children[pid] = request["id"]
                _send(sock, {"id": request["id"], "pid": pid})
            else:
                with contextlib.suppress(BlockingIOError):
                    while os.read(wake_r, 512):
                        pass
        while children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            run_id = children.pop(pid, None)
            if run_id is not None:
                _send(sock, {"id": run_id, "exit": os.waitstatus_to_exitcode(status)})


def _child(sock: socket.socket, request: Mapping[str, Any], fds: Sequence[int]) -> None:
    code = 1
    try:
        sock.close()
        signal.set_wakeup_fd(-1)
        for sig in (signal.SIGCHLD, signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, signal.SIG_DFL)
        os.setsid()  # its own process group: a timeout or the agent's death kills the flow's children too
        die_with_group_on(signal.SIGTERM)
        set_parent_death_signal(signal.SIGTERM)
        out_fd, err_fd, lifeline = fds
        os.dup2(out_fd, 1)
        os.dup2(err_fd, 2)
        os.close(out_fd)
        os.close(err_fd)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.close(null)
        threading.Thread(target=watch_lifeline, args=(lifeline,), daemon=True).start()
        _become_run(request)
        from prefect_storage.agent import execute

        code = execute.run_main(request["spec"], sys.stdout)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:
        import traceback

        traceback.print_exc()
        code = 1
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        with contextlib.suppress(OSError):
            os.close(1)  # the end of both pipes tells the agent the run is over, before the
            os.close(2)  # kernel has torn this process down (a few ms it need not wait)
        os._exit(code)


def die_with_group_on(sig: int) -> None:
    """On ``sig`` (the parent-death signal), kill this whole process group, not just this
    process: a plain SIGKILL from the kernel would leave the flow's own subprocesses behind."""
    signal.signal(sig, lambda *_: os.killpg(0, signal.SIGKILL))


def watch_lifeline(fd: int) -> None:
    """Block until the agent's end of pipe ``fd`` closes, then kill this process group."""
    with contextlib.suppress(OSError):
        while os.read(fd, 1):
            pass
    os.killpg(0, signal.SIGKILL)  # the agent died (or dropped the run): take the whole group down


def _become_run(request: Mapping[str, Any]) -> None:
    """Take on the run's working directory, environment and import path."""
    cwd = request.get("cwd")
    old_cwd = os.getcwd()
    if cwd:
        os.chdir(cwd)
    os.environ.clear()
    os.environ.update(request.get("env") or {})
    # What a fresh interpreter started in `cwd` with this PYTHONPATH would have.
    extra = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    base = [p for p in sys.path if p not in (old_cwd, "")]
    sys.path[:] = list(dict.fromkeys([os.getcwd(), *extra, *base]))


# -- the agent's side ------------------------------------------------------------------------


class _Pending:
    def __init__(self) -> None:
        self.pid: int | None = None
        self.exit: int | None = None
        self.started = threading.Event()
        self.finished = threading.Event()


class Zygote:
    """The agent's handle on one template process (started on first use, restarted if it dies)."""

    def __init__(self, python: str, env: Mapping[str, str], cwd: str | None = None) -> None:
        self.python = python
        self.env = dict(env)
        self.cwd = cwd
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[bytes] | None = None
        self._sock: socket.socket | None = None
        self._pending: dict[str, _Pending] = {}
        self._counter = 0
        self._keeper_stop: threading.Event | None = None

    def _ensure(self) -> socket.socket:
        if self._sock is not None and self._proc is not None and self._proc.poll() is None:
            return self._sock
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self._proc = self._start_template(theirs.fileno())
        finally:
            theirs.close()
        ours.settimeout(60)
        ready, _ = _recv(ours)
        ours.settimeout(None)
        if not ready or "ready" not in ready:
            self._proc.kill()
            raise ZygoteError("The run template process did not start.")
        self._sock = ours
        threading.Thread(target=self._read, args=(ours,), name="zygote-reader", daemon=True).start()
        return ours

    def _start_template(self, fd: int) -> subprocess.Popen[bytes]:
        """Start the template from a thread that lives until :meth:`close`.

        The template asks for ``PR_SET_PDEATHSIG``, which Linux fires when the *thread*
        that forked it ends, not the process: started from a run's worker thread, it
        would die with that thread (and be restarted, ~0.5 s) whenever the agent's pool
        winds down.
        """
        if self._keeper_stop is not None:
            self._keeper_stop.set()  # the keeper of a template that died
        stop = self._keeper_stop = threading.Event()
        started: dict[str, Any] = {}
        ready = threading.Event()

        def keep() -> None:
            try:
                started["proc"] = subprocess.Popen(
                    [self.python, "-m", "prefect_storage.agent.zygote", str(fd)],
                    pass_fds=[fd],
                    env=self.env,
                    cwd=self.cwd,
                    stdin=subprocess.DEVNULL,
                )
            except BaseException as exc:
                started["error"] = exc
            finally:
                ready.set()
            stop.wait()

        threading.Thread(target=keep, name="zygote-keeper", daemon=True).start()
        ready.wait()
        if "error" in started:
            raise started["error"]
        proc: subprocess.Popen[bytes] = started["proc"]
        return proc

    def _read(self, sock: socket.socket) -> None:
        while True:
            try:
                message, _ = _recv(sock)
            except OSError:
                message = None
            if message is None:
                break
            pending = self._pending.get(message.get("id", ""))
            if pending is None:
                continue
            if "pid" in message:
                pending.pid = message["pid"]
                pending.started.set()
            if "exit" in message:
                pending.exit = message["exit"]
                pending.finished.set()
        with self._lock:  # the template died: every run it had is over (crashed)
            if self._sock is sock:
                self._sock = None
            for pending in list(self._pending.values()):
                pending.started.set()
                pending.finished.set()

    def spawn(self, spec: Mapping[str, Any], env: Mapping[str, str], cwd: str | None, fds: Sequence[int]) -> tuple[str, _Pending]:
        """Fork a child for ``spec``; ``fds`` = (stdout write end, stderr write end, lifeline read end)."""
        with self._lock:
            sock = self._ensure()
            self._counter += 1
            run_key = f"r{self._counter}"
            pending = self._pending[run_key] = _Pending()
            _send(sock, {"id": run_key, "spec": dict(spec), "env": dict(env), "cwd": cwd}, fds)
        if not pending.started.wait(60) or pending.pid is None:
            self._pending.pop(run_key, None)
            raise ZygoteError("The run template process did not fork a child for the run.")
        return run_key, pending

    def forget(self, run_key: str) -> None:
        self._pending.pop(run_key, None)

    def close(self) -> None:
        with self._lock:
            if self._sock is not None:
                with contextlib.suppress(OSError):
                    # shutdown first: close() alone neither wakes the reader thread blocked
                    # in recv() nor, while it is blocked, tells the template we are gone
                    self._sock.shutdown(socket.SHUT_RDWR)
                with contextlib.suppress(OSError):
                    self._sock.close()
                self._sock = None
            if self._proc is not None:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self._proc.wait(10)
                if self._proc.poll() is None:
                    self._proc.kill()
                    self._proc.wait()
                self._proc = None
            if self._keeper_stop is not None:
                self._keeper_stop.set()
                self._keeper_stop = None


if __name__ == "__main__":
    raise SystemExit(serve(int(sys.argv[1])))
