"""Executors on Dask: ``LocalDaskExecutor`` (dask's local schedulers) and ``DaskExecutor``
(a ``dask.distributed`` cluster, started for the run or reached at an address).

Both implement the flow runner's executor interface (``start()``, ``submit()``, ``map()``,
``wait()``). ``dask`` and ``distributed`` are imported on first use; without them a
:class:`~prefect_storage.exceptions.BackendNotInstalledError` names the ``dask`` extra.
"""

from __future__ import annotations

import concurrent.futures
import importlib
import logging
import os
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from prefect_storage.backends.optional import require
from prefect_storage.core.executors.base import Executor
from prefect_storage.exceptions import ExecutorConfigError, ExecutorNotStartedError

__all__ = ["DaskExecutor", "DaskFuture", "LocalDaskExecutor", "LocalDaskFuture", "use_dask_address"]

#: classic configuration variable for a default scheduler address
ADDRESS_ENV = "PREFECT__ENGINE__EXECUTOR__DASK__ADDRESS"
DEFAULT_CLUSTER = "distributed.LocalCluster"
_WAIT_ROUNDS = 20
_MAX_QUEUED = 2000  # queued submissions are sent at the latest at this many
_MAX_CHUNK = 64  # calls per cluster task, at most

_SCHEDULERS = {
    "threads": "threads",
    "threading": "threads",
    "processes": "processes",
    "multiprocessing": "processes",
    "sync": "synchronous",
    "synchronous": "synchronous",
    "single-threaded": "synchronous",
}


# -- helpers shared by both executors ---------------------------------------------------


def _task_key(extra_context: dict[str, Any] | None) -> str | None:
    """A readable, unique dask key: ``{task_name}[-{task_index}]-{uuid}`` (None without a name)."""
    ctx = extra_context or {}
    name = ctx.get("task_name")
    if not name:
        return None
    index = ctx.get("task_index")
    suffix = uuid.uuid4().hex
    return f"{name}-{index}-{suffix}" if index is not None else f"{name}-{suffix}"


def _resources(extra_context: dict[str, Any] | None) -> dict[str, float] | None:
    """Worker resources from task tags of the form ``dask-resource:NAME=AMOUNT``."""
    found: dict[str, float] = {}
    for tag in (extra_context or {}).get("task_tags") or ():
        if not isinstance(tag, str) or not tag.lower().startswith("dask-resource:"):
            continue
        name, sep, amount = tag.split(":", 1)[1].partition("=")
        try:
            found[name.strip()] = float(amount)
        except ValueError:
            raise ExecutorConfigError(
                f"Task tag {tag!r} is not a Dask resource request: write it as 'dask-resource:NAME=AMOUNT', "
                "e.g. 'dask-resource:GPU=1'."
            ) from None
        if not sep or not name.strip():
            raise ExecutorConfigError(f"Task tag {tag!r} needs a resource name and an amount: 'dask-resource:GPU=1'.")
    return found or None


def _leaves(obj: Any, is_leaf: Callable[[Any], bool], out: list[Any]) -> list[Any]:
    """Collect the leaves of nested lists/tuples/sets/dict values for which ``is_leaf`` holds."""
    if is_leaf(obj):
        out.append(obj)
    elif isinstance(obj, (list, tuple, set, frozenset)):
        for item in obj:
            _leaves(item, is_leaf, out)
    elif isinstance(obj, dict):
        for item in obj.values():
            _leaves(item, is_leaf, out)
    return out


def _replace(obj: Any, is_leaf: Callable[[Any], bool], value: Callable[[Any], Any]) -> Any:
    """Rebuild ``obj`` with each leaf replaced by ``value(leaf)`` (same container types)."""
    if is_leaf(obj):
        return value(obj)
    if isinstance(obj, list):
        return [_replace(item, is_leaf, value) for item in obj]
    if isinstance(obj, tuple):
        items = [_replace(item, is_leaf, value) for item in obj]
        return type(obj)(*items) if hasattr(obj, "_fields") else tuple(items)
    if isinstance(obj, (set, frozenset)):
        return type(obj)(_replace(item, is_leaf, value) for item in obj)
    if isinstance(obj, dict):
        items = {k: _replace(v, is_leaf, value) for k, v in obj.items()}
        if type(obj) is dict:
            return items
        try:
            return type(obj)(items)
        except TypeError:  # e.g. defaultdict: a plain dict holds the same mapping
            return items
    return obj


def _lost_task_state(exc: BaseException, extra_context: dict[str, Any] | None) -> Any:
    """The state of a submitted task whose run never reported back (its worker died,
    its function could not be shipped, the cluster went away): Failed, for that task only."""
    from prefect_storage.core.state import Failed

    name = (extra_context or {}).get("task_name") or "task"
    return Failed(f"Task run of {name!r} was lost by the Dask cluster: {type(exc).__name__}: {exc}", result=exc)


# -- shipping a call with its upstream futures ---------------------------------------


class _Ref:
    """Stands for a future's value inside shipped arguments (a future itself must not travel);
    ``index`` picks one result out of a cluster task that ran several calls."""

    __slots__ = ("index", "key")

    def __init__(self, key: Any, index: int | None = None) -> None:
        self.key = key
        self.index = index

    def __reduce__(self) -> tuple[Any, ...]:
        return (_Ref, (self.key, self.index))


def _deref(found: dict[Any, Any], ref: _Ref) -> Any:
    value = found[ref.key]
    if ref.index is None:
        return value
    value = value[ref.index]
    if isinstance(value, _Lost):
        raise value.exc
    return value


class _Payload:
    """The arguments of one call, shipped as one opaque object: dask does not walk into it
    (walking every task's context dict costs more than running most tasks)."""

    __slots__ = ("args", "keys", "kwargs")

    def __init__(self, args: tuple[Any, ...], kwargs: dict[str, Any], keys: list[Any]) -> None:
        self.args, self.kwargs, self.keys = args, kwargs, keys

    def __reduce__(self) -> tuple[Any, ...]:
        return (_Payload, (self.args, self.kwargs, self.keys))


def _is_ref(obj: Any) -> bool:
    return type(obj) is _Ref


def _apply(fn: Callable[..., Any], payload: _Payload, *values: Any) -> Any:
    """Run on the worker: put the upstream values where their futures were, call ``fn``."""
    if payload.keys:
        found = dict(zip(payload.keys, values))
        args = _replace(payload.args, _is_ref, lambda r: _deref(found, r))
        kwargs = _replace(payload.kwargs, _is_ref, lambda r: _deref(found, r))
        return fn(*args, **kwargs)
    return fn(*payload.args, **payload.kwargs)


def _pack(args: tuple[Any, ...], kwargs: dict[str, Any], is_future: Callable[[Any], bool]) -> tuple[_Payload, list[Any]]:
    """Swap the futures inside ``args``/``kwargs`` (nested lists, tuples, dicts) for ``_Ref``s;
    return the payload and the distinct futures it depends on."""
    deps: dict[Any, Any] = {}

    def ref(future: Any) -> _Ref:
        deps.setdefault(future.key, future)
        return _Ref(future.key)

    packed_args = _replace(args, is_future, ref)
    packed_kwargs = _replace(kwargs, is_future, ref)
    return _Payload(packed_args, packed_kwargs, list(deps)), list(deps.values())


# -- LocalDaskExecutor --------------------------------------------------------------------


class LocalDaskFuture:
    """A not yet computed call submitted to a :class:`LocalDaskExecutor` (a key in its graph)."""

    __slots__ = ("key",)

    def __init__(self, key: str) -> None:
        self.key = key

    def __repr__(self) -> str:
        return f"<LocalDaskFuture {self.key}>"

    def __reduce__(self) -> tuple[Any, ...]:
        return (LocalDaskFuture, (self.key,))


def _is_local_future(obj: Any) -> bool:
    return type(obj) is LocalDaskFuture


class _Box:
    """Holds an already computed value in a legacy dask graph without dask looking into it."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


def _unbox(box: _Box) -> Any:
    return box.value


def _constant(key: Any, value: Any) -> Any:
    """A graph node holding an already computed value (dask's task spec, or a legacy tuple)."""
    try:
        from dask._task_spec import DataNode
    except ImportError:  # dask < 2024.12: tuple graphs
        return (_unbox, _Box(value))
    return DataNode(key, value)


def _call_node(key: Any, fn: Callable[..., Any], payload: _Payload, deps: list[Any]) -> Any:
    try:
        from dask._task_spec import Task, TaskRef
    except ImportError:  # dask < 2024.12: tuple graphs (keys in a task tuple are references)
        return (_apply, fn, payload, *deps)
    return Task(key, _apply, fn, payload, *(TaskRef(k) for k in deps))


class LocalDaskExecutor(Executor):
    """Run tasks on one machine with one of dask's local schedulers.

    Args:
        scheduler: ``"threads"`` (default; also ``"threading"``), ``"processes"`` (also
            ``"multiprocessing"``) or ``"synchronous"`` (also ``"sync"``, ``"single-threaded"``).
        num_workers: size of the thread or process pool (default: dask's ``num_workers``
            setting, else the number of CPUs).
        **kwargs: dask configuration set while the executor runs (``dask.config.set``).

    ``submit`` is lazy (as classic): work runs when the flow runner waits for it, all that
    is ready at once on the pool. Results computed once are reused by later waits of the
    same run, so shared upstream tasks never run twice.
    """

    def __init__(self, scheduler: str = "threads", num_workers: int | None = None, **kwargs: Any) -> None:
        if not isinstance(scheduler, str) or scheduler.lower() not in _SCHEDULERS:
            raise ExecutorConfigError(
                f"Unknown scheduler {scheduler!r}: use 'threads', 'processes' or 'synchronous'."
            )
        if num_workers is not None and (not isinstance(num_workers, int) or num_workers < 1):
            raise ExecutorConfigError(f"num_workers must be a positive integer, not {num_workers!r}.")
        self.scheduler = _SCHEDULERS[scheduler.lower()]
        self.num_workers = num_workers
        self.dask_config = dict(kwargs)
        if num_workers is not None:
            self.dask_config["num_workers"] = num_workers
        self._pool: concurrent.futures.Executor | None = None
        self._graph: dict[str, Any] = {}
        self._deps: dict[str, list[str]] = {}
        self._done: dict[str, Any] = {}
        super().__init__()

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state.update(_pool=None, _graph={}, _deps={}, _done={})
        return state

    @contextmanager
    def start(self) -> Iterator[None]:
        """Create the worker pool for the duration of a flow run."""
        dask = require("dask", extra="dask", purpose="LocalDaskExecutor")
        with dask.config.set(self.dask_config):
            if self.scheduler == "synchronous":
                self._pool = None
            else:
                workers = dask.config.get("num_workers", None) or os.cpu_count() or 1
                if self.scheduler == "threads":
                    self._pool = concurrent.futures.ThreadPoolExecutor(workers, thread_name_prefix="LocalDaskExecutor")
                else:
                    self._pool = concurrent.futures.ProcessPoolExecutor(workers)
            failed = False
            try:
                yield
            except BaseException:
                failed = True
                raise
            finally:
                pool, self._pool = self._pool, None
                self._graph, self._deps, self._done = {}, {}, {}
                if pool is not None:
                    # On an error do not wait for work nobody will collect.
                    pool.shutdown(wait=not failed, cancel_futures=failed)

    def submit(self, fn: Callable[..., Any], *args: Any, extra_context: dict[str, Any] | None = None, **kwargs: Any) -> LocalDaskFuture:
        """Add ``fn(*args, **kwargs)`` to the run's graph and return its future; futures among
        the arguments (also inside lists, tuples and dicts) are resolved before ``fn`` runs."""
        key = _task_key(extra_context) or f"call-{uuid.uuid4().hex}"
        payload, deps = _pack(args, kwargs, _is_local_future)
        dep_keys = [d.key for d in deps]
        self._graph[key] = _call_node(key, fn, payload, dep_keys)
        self._deps[key] = dep_keys
        return LocalDaskFuture(key)

    def submit_many(
        self,
        fn: Callable[..., Any],
        calls: Sequence[tuple[tuple[Any, ...], dict[str, Any]]],
        extra_contexts: Sequence[dict[str, Any] | None] | None = None,
    ) -> list[Any]:
        """Submit ``fn`` once per ``(args, kwargs)`` in ``calls``."""
        contexts = extra_contexts or [None] * len(calls)
        return [self.submit(fn, *a, extra_context=c, **k) for (a, k), c in zip(calls, contexts)]

    def map(self, fn: Callable[..., Any], *iterables: Iterable[Any], extra_context: dict[str, Any] | None = None, **kwargs: Any) -> list[Any]:
        """Submit ``fn`` once per element of ``zip(*iterables)`` (``task_index`` = position)."""
        ctx = dict(extra_context or {})
        return [
            self.submit(fn, *args, extra_context={**ctx, "task_index": i}, **kwargs)
            for i, args in enumerate(zip(*iterables))
        ]

    def wait(self, futures: Any) -> Any:
        """Compute every future in ``futures`` (nested lists/tuples/dicts) and return the same
        structure holding their values."""
        wanted = _leaves(futures, _is_local_future, [])
        if not wanted:
            return futures
        todo = list(dict.fromkeys(f.key for f in wanted if f.key not in self._done))
        if todo:
            self._compute(todo)
        return _replace(futures, _is_local_future, lambda f: self._done[f.key])

    def _compute(self, keys: list[str]) -> None:
        import dask
        from dask.callbacks import Callback

        # The part of the graph the wanted keys still need; values computed by an earlier
        # wait enter as constants (their upstreams are not run again).
        needed: dict[str, Any] = {}
        stack = list(keys)
        while stack:
            key = stack.pop()
            if key in needed:
                continue
            if key in self._done:
                needed[key] = _constant(key, self._done[key])
            elif key in self._graph:
                needed[key] = self._graph[key]
                stack.extend(self._deps[key])
            else:
                raise ExecutorNotStartedError(f"{key!r} was not submitted to this executor during the current run.")

        def record(key: Any, result: Any, dsk: Any, state: Any, worker_id: Any) -> None:
            self._done[key] = result
            self._graph.pop(key, None)

        callbacks = (Callback(posttask=record)._callback,)
        if self.scheduler == "threads":
            from dask.threaded import get

            results = get(needed, keys, pool=self._pool, callbacks=callbacks)
        elif self.scheduler == "processes":
            from dask.multiprocessing import get

            # Fusion off and one task per chunk: each task runs as soon as a process is free.
            with dask.config.set({"optimization.fuse.active": False}):
                results = get(needed, keys, pool=self._pool, chunksize=1, callbacks=callbacks, optimize_graph=False)
        else:
            from dask.local import get_sync

            results = get_sync(needed, keys, callbacks=callbacks)
        self._done.update(zip(keys, results))
        for key in keys:
            self._graph.pop(key, None)


# -- DaskExecutor -------------------------------------------------------------------------


def _import_cluster_class(spec: Any) -> Any:
    if not isinstance(spec, str):
        return spec
    module, _, name = spec.rpartition(".")
    if not module:
        raise ExecutorConfigError(f"cluster_class {spec!r} must be an import path such as 'distributed.LocalCluster'.")
    try:
        return getattr(importlib.import_module(module), name)
    except ImportError as exc:
        raise ExecutorConfigError(
            f"cluster_class {spec!r} could not be imported ({exc}); install the package that provides it."
        ) from None
    except AttributeError:
        raise ExecutorConfigError(f"cluster_class {spec!r}: module {module!r} has no attribute {name!r}.") from None


def _quietly(call: Callable[..., Any], *args: Any) -> None:
    try:
        call(*args)
    except Exception:  # the client may already be closing
        pass


class DaskExecutor(Executor):
    """Run tasks on a ``dask.distributed`` cluster.

    Args:
        address: address of a running Dask scheduler (``"tcp://10.0.0.5:8786"``). When not
            given, the ``PREFECT__ENGINE__EXECUTOR__DASK__ADDRESS`` variable is used if set,
            else a temporary cluster is created for the flow run and closed after it.
        cluster_class: the cluster to create when there is no address: a class or an import
            path string (default ``distributed.LocalCluster``; e.g. ``dask_kubernetes.KubeCluster``).
        cluster_kwargs: keyword arguments for ``cluster_class``.
        adapt_kwargs: when given, ``cluster.adapt(**adapt_kwargs)`` (adaptive scaling).
        client_kwargs: keyword arguments for ``distributed.Client`` (``set_as_default`` is False
            unless given).
        debug: keep the temporary ``LocalCluster``'s logs at WARNING instead of silencing them.
        performance_report_path: write dask's HTML performance report of the run there.
        disable_cancellation_event: accepted as in the classic class. Runs here never
            share a dask ``Event``: the work a finished run leaves queued is cancelled
            through its futures either way.
        watch_worker_status: log (DEBUG) each worker the scheduler adds or removes, through
            :meth:`on_worker_status_changed`. ``None`` (the default) watches unless
            ``adapt_kwargs`` is given, as in the classic class.

    Task tags ``dask-resource:NAME=AMOUNT`` become worker resource requests. A task whose
    run is lost by the cluster (its worker died more often than the scheduler's
    ``allowed-failures``) ends ``Failed`` on its own; the rest of the run goes on.
    """

    def __init__(
        self,
        address: str | None = None,
        cluster_class: str | Callable[..., Any] | None = None,
        cluster_kwargs: dict[str, Any] | None = None,
        adapt_kwargs: dict[str, Any] | None = None,
        client_kwargs: dict[str, Any] | None = None,
        debug: bool = False,
        performance_report_path: str | os.PathLike[str] | None = None,
        disable_cancellation_event: bool = False,
        watch_worker_status: bool | None = None,
    ) -> None:
        if address is None:
            address = os.environ.get(ADDRESS_ENV) or None
        if address is not None and not isinstance(address, str):
            raise ExecutorConfigError(f"address must be a scheduler address string such as 'tcp://host:8786', not {address!r}.")
        if address and (cluster_class is not None or cluster_kwargs is not None):
            raise ExecutorConfigError(
                "Cannot specify `address` and `cluster_class`/`cluster_kwargs`: either connect to an existing "
                "scheduler or let the executor create a cluster."
            )
        for name, value in (("cluster_kwargs", cluster_kwargs), ("adapt_kwargs", adapt_kwargs), ("client_kwargs", client_kwargs)):
            if value is not None and not isinstance(value, dict):
                raise ExecutorConfigError(f"{name} must be a dict of keyword arguments, not {type(value).__name__}.")
        if cluster_class is not None and not (isinstance(cluster_class, str) or callable(cluster_class)):
            raise ExecutorConfigError(f"cluster_class must be a class or an import path string, not {cluster_class!r}.")
        self.address = address or None
        self.cluster_class = None if self.address else (cluster_class or DEFAULT_CLUSTER)
        self.cluster_kwargs = dict(cluster_kwargs or {})
        if self.cluster_class in (DEFAULT_CLUSTER, "distributed.deploy.local.LocalCluster"):
            self.cluster_kwargs.setdefault("silence_logs", logging.WARNING if debug else logging.CRITICAL)
        self.adapt_kwargs = dict(adapt_kwargs or {})
        self.client_kwargs = dict(client_kwargs or {})
        self.client_kwargs.setdefault("set_as_default", False)
        self.debug = bool(debug)
        self.performance_report_path = os.fspath(performance_report_path) if performance_report_path is not None else None
        self.disable_cancellation_event = bool(disable_cancellation_event)
        self.watch_worker_status = watch_worker_status
        self.client: Any = None
        self._futures: list[Any] = []
        self._queue: list[DaskFuture] = []
        self._nthreads: int | None = None
        super().__init__()

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state.update(client=None, _futures=[], _queue=[], _nthreads=None)
        return state

    @property
    def performance_report(self) -> str:
        """The HTML of the last run's performance report ("" when there is none)."""
        if not self.performance_report_path:
            return ""
        path = Path(self.performance_report_path)
        if not path.exists():
            self.logger.warning("No performance report at %s (has a flow run finished with this executor?)", path)
            return ""
        return path.read_text(encoding="utf-8")

    @contextmanager
    def start(self) -> Iterator[None]:
        """Connect a client (creating the cluster first when there is no address) for one run."""
        distributed = require("distributed", extra="dask", purpose="DaskExecutor")
        with ExitStack() as stack:
            if self.address:
                self.logger.info("Connecting to an existing Dask cluster at %s", self.address)
                client = stack.enter_context(distributed.Client(self.address, **self.client_kwargs))
            else:
                cls = _import_cluster_class(self.cluster_class)
                self.logger.info("Creating a new Dask cluster with `%s.%s`...", cls.__module__, cls.__qualname__)
                cluster = stack.enter_context(cls(**self.cluster_kwargs))
                link = getattr(cluster, "dashboard_link", None)
                if link:
                    self.logger.info("The Dask dashboard is available at %s", link)
                if self.adapt_kwargs:
                    cluster.adapt(**self.adapt_kwargs)
                client = stack.enter_context(distributed.Client(cluster, **self.client_kwargs))
            if self.performance_report_path:
                stack.enter_context(distributed.performance_report(filename=self.performance_report_path))
            if self.watch_worker_status is True or (self.watch_worker_status is None and not self.adapt_kwargs):
                client.subscribe_topic("all", self._on_scheduler_event)
                stack.callback(_quietly, client.unsubscribe_topic, "all")
            self.client = client
            try:
                yield
            finally:
                # Work of this run that is still queued must not run after the run ended.
                active = [f for f in self._futures if not f.done()]
                if active:
                    self.logger.info("Stopping executor, cancelling %d active tasks", len(active))
                    try:
                        client.cancel(active)
                    except Exception:  # the cluster may already be gone
                        self.logger.debug("Cancelling tasks failed", exc_info=True)
                self.client, self._futures, self._queue, self._nthreads = None, [], [], None

    def on_worker_status_changed(self, op: str, message: dict[str, Any]) -> None:
        """Called when the scheduler adds (``op="add"``) or removes (``"remove"``) a worker,
        when ``watch_worker_status`` is on. Logs it at DEBUG; override to do more."""
        if op == "add":
            for worker in message.get("workers", ()):
                self.logger.debug("Worker %s added", worker)
        elif op == "remove":
            self.logger.debug("Worker %s removed", message.get("worker", message))

    def _on_scheduler_event(self, event: tuple[float, Any]) -> None:
        # runs on the client's event loop: the scheduler's "all" topic, worker changes only
        message = event[1] if isinstance(event, tuple) and len(event) == 2 else event
        if not isinstance(message, dict):
            return
        action = message.get("action")
        if action == "add-worker":
            self.on_worker_status_changed("add", {"workers": [message.get("worker")]})
        elif action == "remove-worker":
            self.on_worker_status_changed("remove", message)

    def _started(self) -> Any:
        if self.client is None:
            raise ExecutorNotStartedError(
                "This executor has not been started: submit work inside `with executor.start():` "
                "(flow.run() does this for you)."
            )
        return self.client

    def submit(self, fn: Callable[..., Any], *args: Any, extra_context: dict[str, Any] | None = None, **kwargs: Any) -> DaskFuture:
        """Submit ``fn(*args, **kwargs)`` and return a :class:`DaskFuture`; futures among the
        arguments (also inside lists, tuples and dicts) are resolved on the workers first.

        Submissions are sent to the scheduler when they are waited for (or when many are
        queued). Consecutive submissions of the same function for the same task (mapped
        children) go in one message, grouped into a few cluster tasks of several children
        each: scheduling one cluster task costs about as much as running a small task."""
        self._started()
        handle = DaskFuture((fn, args, kwargs), extra_context)
        self._queue.append(handle)
        if len(self._queue) >= _MAX_QUEUED:
            self._flush()
        return handle

    def submit_many(
        self,
        fn: Callable[..., Any],
        calls: Sequence[tuple[tuple[Any, ...], dict[str, Any]]],
        extra_contexts: Sequence[dict[str, Any] | None] | None = None,
    ) -> list[DaskFuture]:
        """Submit ``fn`` once per ``(args, kwargs)`` in ``calls`` (mapped children)."""
        contexts = list(extra_contexts or [None] * len(calls))
        return [self.submit(fn, *a, extra_context=c, **k) for (a, k), c in zip(calls, contexts)]

    def map(self, fn: Callable[..., Any], *iterables: Iterable[Any], extra_context: dict[str, Any] | None = None, **kwargs: Any) -> list[DaskFuture]:
        """Submit ``fn`` once per element of ``zip(*iterables)`` (``task_index`` = position)."""
        ctx = dict(extra_context or {})
        rows = list(zip(*iterables))
        return self.submit_many(fn, [(row, dict(kwargs)) for row in rows], [{**ctx, "task_index": i} for i in range(len(rows))])

    # -- sending queued submissions ---------------------------------------------------

    def _threads(self, client: Any) -> int:
        if self._nthreads is None:
            try:
                self._nthreads = max(1, sum(client.nthreads().values()))
            except Exception:
                self._nthreads = 1
        return self._nthreads

    def _flush(self) -> None:
        queue, self._queue = self._queue, []
        group: list[tuple[DaskFuture, _Payload, list[Any]]] = []
        for handle in queue:
            fn, args, kwargs = handle.call
            if any(h.future is None for h in _leaves((args, kwargs), _is_handle, [])):
                self._send(group)  # its upstreams are in the group being built: send them first
                group = []
            payload, deps = _pack_handles(args, kwargs)
            if group and (group[0][0].call[0] is not fn or _name(group[0][0].ctx) != _name(handle.ctx)):
                self._send(group)
                group = []
            group.append((handle, payload, deps))
        self._send(group)

    def _send(self, group: list[tuple[DaskFuture, _Payload, list[Any]]]) -> None:
        if not group:
            return
        client = self.client
        # Work of different resource needs never shares a cluster task.
        by_resources: dict[Any, list[tuple[DaskFuture, _Payload, list[Any]]]] = {}
        for item in group:
            res = _resources(item[0].ctx)
            by_resources.setdefault(tuple(sorted(res.items())) if res else None, []).append(item)
        for res_key, items in by_resources.items():
            resources = dict(res_key) if res_key else None
            size = 1 if len(items) < 2 * self._threads(client) else max(1, min(_MAX_CHUNK, -(-len(items) // (4 * self._threads(client)))))
            for start in range(0, len(items), size):
                chunk = items[start : start + size]
                fn = chunk[0][0].call[0]
                if len(chunk) == 1:
                    handle, payload, deps = chunk[0]
                    key = _task_key(handle.ctx) or f"call-{uuid.uuid4().hex}"
                    future = client.submit(_apply, fn, payload, *deps, key=key, pure=False, resources=resources)
                    handle.future, handle.index = future, None
                else:
                    deps_all: dict[Any, Any] = {}
                    for _, _, deps in chunk:
                        for d in deps:
                            deps_all.setdefault(d.key, d)
                    first = chunk[0][0].ctx or {}
                    name = first.get("task_name") or "call"
                    lo, hi = first.get("task_index"), (chunk[-1][0].ctx or {}).get("task_index")
                    key = f"{name}-{lo}..{hi}-{uuid.uuid4().hex}" if lo is not None else f"{name}-x{len(chunk)}-{uuid.uuid4().hex}"
                    future = client.submit(
                        _apply_chunk, fn, [p for _, p, _ in chunk], list(deps_all), *deps_all.values(),
                        key=key, pure=False, resources=resources,
                    )
                    for i, (handle, _, _) in enumerate(chunk):
                        handle.future, handle.index = future, i
                self._futures.append(future)
                for handle, _, _ in chunk:
                    handle.call = None  # drop the arguments: the cluster has them

    def _lost(self, handle: DaskFuture, exc: BaseException) -> Any:
        self.logger.error("Dask lost the run of %s: %r", _name(handle.ctx) or handle.future.key, exc)
        return _lost_task_state(exc, handle.ctx)

    def wait(self, futures: Any) -> Any:
        """Block until every future in ``futures`` (nested lists/tuples/dicts) is finished and
        return the same structure with values. A run the cluster lost (its worker died more
        often than the scheduler allows) becomes a ``Failed`` state for that task instead of
        an error for the whole run."""
        from distributed import wait as dwait

        handles = _leaves(futures, _is_handle, [])
        if not handles:
            return futures
        client = self._started()
        if any(h.future is None for h in handles):
            self._flush()
        results: dict[Any, Any] = {}
        pending = list({h.future.key: h.future for h in handles}.values())
        # A finished future can turn "lost" again when the worker holding its result dies;
        # the scheduler then recomputes it, so wait again for those (bounded).
        for _ in range(_WAIT_ROUNDS):
            with client.as_current():
                dwait(pending)
            ready = [f for f in pending if f.status == "finished"]
            try:
                got = client.gather(ready) if ready else []
            except Exception:
                self.logger.debug("Gathering results failed; waiting again", exc_info=True)
                continue
            results.update(zip((f.key for f in ready), got))
            for f in pending:
                if f.key not in results and f.status in ("error", "cancelled"):
                    results[f.key] = _Lost(_exception_of(f))
            pending = [f for f in pending if f.key not in results]
            if not pending:
                break
        for f in pending:
            results[f.key] = _Lost(_exception_of(f))

        def value(handle: DaskFuture) -> Any:
            got = results[handle.future.key]
            if isinstance(got, _Lost):
                return self._lost(handle, got.exc)
            if handle.index is not None:
                got = got[handle.index]
                if isinstance(got, _Lost):
                    return self._lost(handle, got.exc)
            return got

        return _replace(futures, _is_handle, value)


class DaskFuture:
    """A call submitted to a :class:`DaskExecutor`: the ``distributed.Future`` of the cluster
    task that runs it (with its position when several calls share one cluster task)."""

    __slots__ = ("call", "ctx", "future", "index")

    def __init__(self, call: Any, ctx: dict[str, Any] | None) -> None:
        self.call = call
        self.ctx = ctx
        self.future: Any = None
        self.index: int | None = None

    def __repr__(self) -> str:
        where = "queued" if self.future is None else self.future.key + ("" if self.index is None else f"[{self.index}]")
        return f"<DaskFuture {_name(self.ctx) or 'call'}: {where}>"

    def __reduce__(self) -> tuple[Any, ...]:
        # Shipped inside an object the executor does not look into (e.g. a Mapped state's
        # children, which the engine replaces with their values on the worker): an inert
        # marker travels instead of the future.
        return (_Unresolved, (repr(self),))


class _Unresolved:
    """What a :class:`DaskFuture` becomes when pickled: a marker, not a value."""

    __slots__ = ("what",)

    def __init__(self, what: str) -> None:
        self.what = what

    def __repr__(self) -> str:
        return f"<unresolved {self.what}>"

    def __reduce__(self) -> tuple[Any, ...]:
        return (_Unresolved, (self.what,))


class _Lost:
    __slots__ = ("exc",)

    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


def _is_handle(obj: Any) -> bool:
    return type(obj) is DaskFuture


def _name(ctx: dict[str, Any] | None) -> Any:
    return (ctx or {}).get("task_name")


def _pack_handles(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[_Payload, list[Any]]:
    """Like ``_pack`` for DaskFutures (already sent): refs name the cluster task and position."""
    deps: dict[Any, Any] = {}

    def ref(handle: DaskFuture) -> _Ref:
        deps.setdefault(handle.future.key, handle.future)
        return _Ref(handle.future.key, handle.index)

    packed_args = _replace(args, _is_handle, ref)
    packed_kwargs = _replace(kwargs, _is_handle, ref)
    return _Payload(packed_args, packed_kwargs, list(deps)), list(deps.values())


def _apply_chunk(fn: Callable[..., Any], payloads: list[_Payload], keys: list[Any], *values: Any) -> list[Any]:
    """Run several calls in one cluster task; a call that raises is reported on its own."""
    found = dict(zip(keys, values))
    out: list[Any] = []
    for payload in payloads:
        try:
            out.append(_apply(fn, payload, *(found[k] for k in payload.keys)))
        except Exception as exc:
            out.append(_Lost(exc))
    return out


def _exception_of(future: Any) -> BaseException:
    try:
        if future.status == "error":
            return future.exception(timeout=5)  # type: ignore[no-any-return]
    except BaseException as err:
        return err
    return RuntimeError(f"the Dask future ended {future.status!r}")


def use_dask_address(flow: Any, address: str) -> Any:
    """Make ``flow`` run on the Dask scheduler at ``address`` (the agent's
    ``--executor-address``): its executor becomes ``DaskExecutor(address=address)``, keeping
    the client options, debug flag and report path of a DaskExecutor it already had.
    Returns the flow."""
    if not isinstance(address, str) or not address.strip():
        raise ExecutorConfigError(f"--executor-address must be a Dask scheduler address such as 'tcp://host:8786', not {address!r}.")
    old = getattr(flow, "executor", None)
    if isinstance(old, DaskExecutor):
        new = DaskExecutor(
            address=address,
            client_kwargs={k: v for k, v in old.client_kwargs.items() if k != "set_as_default"} or None,
            debug=old.debug,
            performance_report_path=old.performance_report_path,
        )
    else:
        new = DaskExecutor(address=address)
    flow.executor = new
    return flow
