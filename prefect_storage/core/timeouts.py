"""Enforcing a task's ``timeout`` (classic ``prefect.utilities.executors``).

* main thread (POSIX): a ``SIGALRM`` timer interrupts the task where it is;
* another thread of a normal process: the call runs in a child process that is terminated
  on timeout (forked where the platform allows, which starts in milliseconds; spawned
  elsewhere, in which case function and arguments must be cloudpickle-able; the result
  always must be);
* a daemonic process (e.g. a Dask worker) or Windows: only a soft limit is possible;
  the run ends ``TimedOut`` but the work goes on in a background thread.
"""

from __future__ import annotations

import multiprocessing
import sys
import threading
import warnings
from collections.abc import Callable
from typing import Any

from prefect_storage.context import _current, _pop, _push
from prefect_storage.exceptions import PrefectSignal, TaskTimeoutSignal

__all__ = ["run_with_timeout"]


def _child_main(queue: Any, payload: Any) -> None:
    import cloudpickle

    request = cloudpickle.loads(payload) if isinstance(payload, bytes) else payload
    token = _push(request["context"])
    try:
        value: Any = request["fn"](**request["kwargs"])
    except (PrefectSignal, Exception) as exc:  # handed back to the parent to re-raise
        value = exc
    finally:
        _pop(token)
    try:
        data = cloudpickle.dumps(value)
    except Exception as exc:
        data = cloudpickle.dumps(
            RuntimeError(
                f"Failed to pickle result of type {type(value).__name__!r} with exception: "
                f'"{type(exc).__name__}: {exc}". This timeout handler requires your function return value '
                "to be serializable with `cloudpickle`."
            )
        )
    queue.put(data)


def _in_process(fn: Callable[..., Any], kwargs: dict[str, Any], timeout: int, name: str) -> Any:
    import queue as queue_module

    import cloudpickle

    forking = "fork" in multiprocessing.get_all_start_methods()
    mp = multiprocessing.get_context("fork" if forking else "spawn")
    results = mp.Queue()
    context = {k: v for k, v in _current().items() if k not in ("logger", "caches")}
    request = {"fn": fn, "kwargs": kwargs, "context": context}
    payload: Any = request if forking else cloudpickle.dumps(request)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # fork with threads: the child only runs `fn`
        process = mp.Process(target=_child_main, args=(results, payload), daemon=True)
        process.start()
    try:
        data = results.get(block=True, timeout=timeout)
    except queue_module.Empty:
        raise TaskTimeoutSignal(f"Execution timed out for {name}.") from None
    finally:
        process.join(0.1)
        process.terminate()
    value = cloudpickle.loads(data)
    if isinstance(value, (Exception, PrefectSignal)):
        raise value
    return value


def _soft(fn: Callable[..., Any], kwargs: dict[str, Any], timeout: int, name: str, reason: str) -> Any:
    warnings.warn(
        f"This task is running {reason}; consequently prefect_storage can only enforce a soft timeout limit, "
        "i.e., if your Task reaches its timeout limit it will enter a TimedOut state but continue running in "
        "the background.",
        stacklevel=3,
    )
    outcome: dict[str, Any] = {}
    values = dict(_current())

    def target() -> None:
        token = _push(values)
        try:
            outcome["value"] = fn(**kwargs)
        except BaseException as exc:  # re-raised in the caller
            outcome["error"] = exc
        finally:
            _pop(token)

    worker = threading.Thread(target=target, name=f"prefect-storage-timeout-{name}", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        raise TaskTimeoutSignal(
            f"Execution timed out but was executed {reason} and will continue to run in the background."
        )
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


def run_with_timeout(fn: Callable[..., Any], kwargs: dict[str, Any], timeout: int | None, name: str) -> Any:
    """Call ``fn(**kwargs)``; after ``timeout`` seconds raise ``TaskTimeoutSignal``."""
    if not timeout:
        return fn(**kwargs)
    if sys.platform.startswith("win"):
        return _soft(fn, kwargs, timeout, name, "on Windows")
    if threading.current_thread() is threading.main_thread():
        import signal

        def on_alarm(signum: int, frame: Any) -> None:
            raise TaskTimeoutSignal("Execution timed out.")

        previous = signal.signal(signal.SIGALRM, on_alarm)
        signal.setitimer(signal.ITIMER_REAL, timeout)
        try:
            return fn(**kwargs)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
    if not multiprocessing.current_process().daemon:
        return _in_process(fn, kwargs, timeout, f"Task '{name}'")
    return _soft(fn, kwargs, timeout, name, "in a daemonic subprocess")
