"""The classic ``Flow``: a graph of tasks with a storage, a result and a run config."""

from __future__ import annotations

import collections
import heapq
import os
import warnings
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, NamedTuple

from prefect_storage.core.context import building_flow, flow_block, loading_flow
from prefect_storage.core.task import Parameter, Task

if TYPE_CHECKING:
    from prefect_storage.core.run_config import RunConfig
    from prefect_storage.core.state import State
    from prefect_storage.results.base import Result
    from prefect_storage.storage.base import Storage

__all__ = ["Edge", "Flow"]


class Edge(NamedTuple):
    """``upstream`` runs before ``downstream``; with a ``key``, its result is passed
    to ``downstream.run`` as the argument of that name."""

    upstream_task: Task
    downstream_task: Task
    key: str | None = None


class Flow:
    """A named graph of tasks, built with the functional API or explicit calls.

    Args:
        name: the flow's name; storages and the registry identify flows by it.
        tasks: tasks to add up front.
        edges: edges to add up front.
        storage: where the flow is stored for agents (default: set at registration).
        result: where task outputs are checkpointed; when unset, the storage's
            paired result is used.
        run_config: labels and environment for runs (``UniversalRun``, ``LocalRun``, ...).
        reference_tasks: tasks whose states decide the flow's state; default: the
            terminal tasks.
    """

    def __init__(
        self,
        name: str,
        tasks: Iterable[Task] | None = None,
        edges: Iterable[Edge] | None = None,
        storage: Storage | None = None,
        result: Result | None = None,
        run_config: RunConfig | None = None,
        reference_tasks: Iterable[Task] | None = None,
        schedule: Any = None,
        executor: Any = None,
    ) -> None:
        if not isinstance(name, str) or not name.strip():
            raise ValueError("A flow needs a non-empty name.")
        self.name = name
        self.storage = storage
        self.result = result
        self.run_config = run_config
        self.schedule = schedule
        self.executor = executor
        self.tasks: dict[Task, None] = {}  # insertion-ordered set
        self.edges: set[Edge] = set()
        self.constants: dict[Task, dict[str, Any]] = collections.defaultdict(dict)
        self._reference_tasks: set[Task] = set()
        self._slugs: collections.Counter[str] = collections.Counter()
        self._slug_set: set[str] = set()
        # adjacency indexes kept next to `edges`, so graph queries do not rescan it
        self._upstream: dict[Task, set[Task]] = collections.defaultdict(set)
        self._downstream: dict[Task, set[Task]] = collections.defaultdict(set)
        for t in tasks or ():
            self.add_task(t)
        for e in edges or ():
            self.add_edge(e.upstream_task, e.downstream_task, key=e.key)
        if reference_tasks:
            self.set_reference_tasks(reference_tasks)

    def __repr__(self) -> str:
        return f"<Flow: name={self.name!r}>"

    def __enter__(self) -> Flow:
        if building_flow() is not None:
            raise ValueError("Flow contexts cannot be nested.")
        self._block = flow_block(self)
        self._block.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._block.__exit__(*exc)
        del self._block

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_block", None)
        # the indexes are rebuilt from `edges` on load: smaller pickles, one source of truth
        for derived in ("_upstream", "_downstream", "_slug_set"):
            state.pop(derived, None)
        state["constants"] = dict(self.constants)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        state["constants"] = collections.defaultdict(dict, state["constants"])
        self.__dict__.update(state)
        self._slug_set = {t.slug for t in self.tasks}
        self._upstream = collections.defaultdict(set)
        self._downstream = collections.defaultdict(set)
        for e in self.edges:
            self._upstream[e.downstream_task].add(e.upstream_task)
            self._downstream[e.upstream_task].add(e.downstream_task)

    # -- graph ----------------------------------------------------------------------

    def add_task(self, task: Task) -> Task:
        """Add ``task`` (no-op if present); give it a flow-unique slug if it has none."""
        if not isinstance(task, Task):
            raise TypeError(f"Tasks must be Task instances (received {type(task).__name__}).")
        if task in self.tasks:
            return task
        if isinstance(task, Parameter) and any(
            isinstance(t, Parameter) and t.name == task.name for t in self.tasks
        ):
            raise ValueError(f'A parameter with the name "{task.name}" was already added to the flow.')
        if task.slug is None or task.slug in self._slug_set:
            self._slugs[task.name] += 1
            task.slug = f"{task.name}-{self._slugs[task.name]}"
            while task.slug in self._slug_set:
                self._slugs[task.name] += 1
                task.slug = f"{task.name}-{self._slugs[task.name]}"
        self._slug_set.add(task.slug)
        self.tasks[task] = None
        return task

    def add_edge(self, upstream_task: Task, downstream_task: Task, key: str | None = None) -> Edge:
        """Make ``downstream_task`` wait for ``upstream_task`` (and receive its result as ``key``)."""
        if key is not None and any(e.downstream_task is downstream_task and e.key == key for e in self.edges):
            raise ValueError(f"Argument {key!r} of task {downstream_task.name!r} already has an upstream task.")
        if upstream_task is downstream_task or self._reaches(downstream_task, upstream_task):
            raise ValueError(f"Adding the edge {upstream_task.name} -> {downstream_task.name} would create a cycle.")
        self.add_task(upstream_task)
        self.add_task(downstream_task)
        edge = Edge(upstream_task, downstream_task, key)
        self.edges.add(edge)
        self._upstream[downstream_task].add(upstream_task)
        self._downstream[upstream_task].add(downstream_task)
        return edge

    def _reaches(self, start: Task, goal: Task) -> bool:
        seen, stack = {start}, [start]
        while stack:
            for nxt in self._downstream.get(stack.pop(), ()):
                if nxt is goal:
                    return True
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append(nxt)
        return False

    def set_dependencies(
        self,
        task: Task,
        upstream_tasks: Iterable[Task] | None = None,
        downstream_tasks: Iterable[Task] | None = None,
        keyword_tasks: dict[str, Any] | None = None,
    ) -> None:
        """Add ``task`` with its upstream/downstream tasks; non-task keyword values become constants."""
        self.add_task(task)
        for upstream in upstream_tasks or ():
            self.add_edge(upstream, task)
        for downstream in downstream_tasks or ():
            self.add_edge(task, downstream)
        for key, value in (keyword_tasks or {}).items():
            if isinstance(value, Task):
                self.add_edge(value, task, key=key)
            else:
                self.constants[task][key] = value

    def get_tasks(self, name: str | None = None, slug: str | None = None, tags: Iterable[str] | None = None) -> list[Task]:
        """Tasks matching every given criterion."""
        wanted_tags = set(tags or ())
        return [
            t
            for t in self.tasks
            if (name is None or t.name == name) and (slug is None or t.slug == slug) and wanted_tags <= t.tags
        ]

    def upstream_tasks(self, task: Task) -> set[Task]:
        return set(self._upstream.get(task, ()))

    def downstream_tasks(self, task: Task) -> set[Task]:
        return set(self._downstream.get(task, ()))

    def root_tasks(self) -> set[Task]:
        return {t for t in self.tasks if not self._upstream.get(t)}

    def terminal_tasks(self) -> set[Task]:
        return {t for t in self.tasks if not self._downstream.get(t)}

    def parameters(self) -> set[Parameter]:
        return {t for t in self.tasks if isinstance(t, Parameter)}

    def reference_tasks(self) -> set[Task]:
        return set(self._reference_tasks) or self.terminal_tasks()

    def set_reference_tasks(self, tasks: Iterable[Task]) -> None:
        tasks = set(tasks)
        missing = [t.name for t in tasks if t not in self.tasks]
        if missing:
            raise ValueError(f"Reference tasks must be part of the flow: {missing}")
        self._reference_tasks = tasks

    def sorted_tasks(self) -> list[Task]:
        """Tasks in an order where every task comes after its upstream tasks
        (ties keep insertion order, so runs are deterministic)."""
        order = list(self.tasks)
        position = {t: i for i, t in enumerate(order)}
        pending = {t: len(self._upstream.get(t, ())) for t in order}
        ready = [(position[t], t) for t in order if pending[t] == 0]
        heapq.heapify(ready)
        result: list[Task] = []
        while ready:
            _, t = heapq.heappop(ready)
            result.append(t)
            for d in self._downstream.get(t, ()):
                pending[d] -= 1
                if pending[d] == 0:
                    heapq.heappush(ready, (position[d], d))
        return result

    def copy(self) -> Flow:
        new = Flow.__new__(Flow)
        new.__setstate__(self.__getstate__())
        new.tasks = dict(self.tasks)
        new.edges = set(self.edges)
        new.constants = collections.defaultdict(dict, {t: dict(c) for t, c in self.constants.items()})
        new._slug_set = set(self._slug_set)
        new._upstream = collections.defaultdict(set, {t: set(u) for t, u in self._upstream.items()})
        new._downstream = collections.defaultdict(set, {t: set(d) for t, d in self._downstream.items()})
        return new

    # -- running --------------------------------------------------------------------

    def run(self, parameters: dict[str, Any] | None = None, checkpoint: bool | None = None, **kwargs: Any) -> State | None:
        """Run every task in this process, in dependency order, and return the flow's state.

        A failing task fails the flow (and skips its downstream tasks) without raising.
        ``parameters`` (or extra keyword arguments) give parameter values. Task
        outputs are checkpointed through the task's, the flow's or the storage's
        result when ``checkpoint`` is true, or when it is None and
        ``PREFECT__FLOWS__CHECKPOINTING`` is true.
        """
        if loading_flow():
            warnings.warn(
                "Attempting to call `flow.run` during execution of flow file will lead to unexpected results.",
                stacklevel=2,
            )
            return None
        from prefect_storage.core.runner import FlowRunner

        values = {**(parameters or {}), **kwargs}
        unknown = set(values) - {p.name for p in self.parameters()}
        if unknown:
            raise ValueError(f"Flow.run received parameters that are not in the flow: {sorted(unknown)}")
        return FlowRunner(self).run(parameters=values, checkpoint=checkpoint)

    # -- saving to a file ---------------------------------------------------------------

    def save(self, fpath: str | os.PathLike[str] | None = None) -> str:
        """Pickle this flow (in the integrity-checked envelope) to ``fpath``; default
        ``<home>/flows/<slug(name)>.prefect``. Returns the path written."""
        from prefect_storage import config
        from prefect_storage.backends.local import atomic_write
        from prefect_storage.serialization.flow_pickle import flow_to_bytes_pickle
        from prefect_storage.storage.base import flow_slug

        path = os.fspath(fpath) if fpath is not None else str(config.home_dir() / "flows" / f"{flow_slug(self.name)}.prefect")
        atomic_write(path, flow_to_bytes_pickle(self))
        return path

    @classmethod
    def load(cls, fpath: str | os.PathLike[str]) -> Flow:
        """Load a flow written by :meth:`save`. A bare name (not an absolute path) is
        read from ``<home>/flows/<slug(name)>.prefect``, as in the classic API."""
        from prefect_storage import config
        from prefect_storage.backends.local import read_bytes
        from prefect_storage.serialization.flow_pickle import flow_from_bytes_pickle
        from prefect_storage.storage.base import flow_slug

        path = os.fspath(fpath)
        if not os.path.isabs(path):
            path = str(config.home_dir() / "flows" / f"{flow_slug(path)}.prefect")
        return flow_from_bytes_pickle(read_bytes(path), source=path)

    # -- registration -----------------------------------------------------------------

    def register(
        self,
        project_name: str | None = None,
        labels: Iterable[str] | None = None,
        build: bool = True,
        idempotency_key: str | None = None,
        registry: Any = None,
        **kwargs: Any,
    ) -> str | None:
        """Build this flow's storage and record the flow in the registry; return its id.

        A flow without storage gets the default storage class (``**kwargs`` go to its
        constructor). Labels = run config labels | storage labels | ``labels``;
        ``flow.result`` defaults to the storage's result. Registering unchanged
        metadata again returns the same id and version (the idempotency key is the
        sha256 of the serialized flow unless ``idempotency_key`` is given).
        ``registry`` is a :class:`~prefect_storage.registry.Registry` or a URL; default:
        ``$PREFECT_STORAGE_REGISTRY_URL`` or SQLite in the home folder. ``project_name``
        defaults to ``"default"``; projects are created on first use.
        """
        if building_flow() is not None:
            raise ValueError(
                "Don't call `flow.register()` from within a `Flow` context manager. "
                "Call it after the `with Flow(...)` block."
            )
        if loading_flow():
            warnings.warn(
                "Attempting to call `flow.register` during execution of flow file will lead to unexpected results.",
                stacklevel=2,
            )
            return None
        from prefect_storage.registry.register import register_flow

        registration = register_flow(self, project_name, labels, build, idempotency_key, registry, **kwargs)
        return registration.flow.id

    # -- serialization ----------------------------------------------------------------

    def serialize(self, build: bool = False) -> dict[str, Any]:
        """JSON-safe metadata of this flow (never its code), with its storage serialized.

        With ``build=True`` the flow is added to its storage (if not yet there) and the
        storage is built first.
        """
        if build:
            if self.storage is None:
                raise ValueError("This flow has no storage to build")
            if self.name not in self.storage:
                self.storage.add_flow(self)
            else:
                warnings.warn(
                    "A flow with the same name is already contained in storage; if you changed your Flow since "
                    "the last build, you might experience unexpected issues and should re-create your storage object.",
                    stacklevel=2,
                )
            self.storage.build()
        from prefect_storage._version import __version__

        ordered = self.sorted_tasks()
        return {
            "type": "Flow",
            "__version__": __version__,
            "name": self.name,
            "tasks": [
                {"name": t.name, "slug": t.slug, "type": f"{type(t).__module__}.{type(t).__qualname__}", "tags": sorted(t.tags)}
                for t in ordered
            ],
            "edges": sorted(
                ({"upstream_task": e.upstream_task.slug, "downstream_task": e.downstream_task.slug, "key": e.key} for e in self.edges),
                key=lambda e: (e["upstream_task"], e["downstream_task"], e["key"] or ""),
            ),
            "parameters": [
                {"name": p.name, "slug": p.slug, "default": _json_safe(p.default), "required": p.required}
                for p in sorted(self.parameters(), key=lambda p: p.name)
            ],
            "reference_tasks": sorted(t.slug for t in self.reference_tasks()),
            "run_config": self.run_config.serialize() if self.run_config is not None else None,
            "storage": self.storage.serialize() if self.storage is not None else None,
            "result": self.result.serialize() if self.result is not None else None,
        }

    def serialized_hash(self, build: bool = False) -> str:
        """sha256 of :meth:`serialize` with sorted keys: the classic idempotency key."""
        import hashlib
        import json

        return hashlib.sha256(json.dumps(self.serialize(build), sort_keys=True).encode()).hexdigest()


def _json_safe(value: Any) -> Any:
    import json

    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)
    return value
