"""The classic ``Flow`` (``prefect.core.flow``): a graph of tasks with a schedule,
executor, run config, storage and result.

    with Flow("etl", storage=Local()) as flow:
        data = extract()
        load(transform(data))
    state = flow.run()
"""

from __future__ import annotations

import collections
import collections.abc
import copy as _copy
import datetime
import itertools
import os
import time
import warnings
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

from prefect_storage.context import _current, _pop, _push, building_flow, flow_block, loading_flow
from prefect_storage.core.edges import Edge
from prefect_storage.core.parameter import Parameter
from prefect_storage.core.task import Task

if TYPE_CHECKING:
    from prefect_storage.core.run_config import RunConfig
    from prefect_storage.core.state import State
    from prefect_storage.results.base import Result
    from prefect_storage.storage.base import Storage

__all__ = ["Edge", "Flow"]


def _eager_validation() -> bool:
    from prefect_storage.core.configuration import setting

    return bool(setting("flows.eager_edge_validation"))


def _run_on_schedule_default() -> bool:
    from prefect_storage.core.configuration import setting

    return bool(setting("flows.run_on_schedule"))


class Flow:
    """A named graph of tasks.

    Args (classic positional order):
        name: the flow's name.
        schedule: a :mod:`~prefect_storage.schedules` schedule; ``flow.run()`` follows it.
        executor: how tasks run (default :class:`~prefect_storage.executors.LocalExecutor`).
        run_config: labels and environment for agent runs.
        storage: where the flow is stored for agents.
        tasks: tasks to add.
        edges: edges to add.
        reference_tasks: tasks whose states decide the flow's state (default: terminal tasks).
        state_handlers: ``handler(flow, old_state, new_state)`` on every flow state change.
        on_failure: ``fn(flow, state)`` when the flow fails.
        validate: validate each added edge (default ``PREFECT__FLOWS__EAGER_EDGE_VALIDATION``).
        result: default result for task checkpoints; when unset, the storage's result.
        terminal_state_handler: ``fn(flow, state, reference_task_states)`` may replace the
            final state.
    """

    def __init__(
        self,
        name: str,
        schedule: Any = None,
        executor: Any = None,
        run_config: RunConfig | None = None,
        storage: Storage | None = None,
        tasks: Iterable[Task] | None = None,
        edges: Iterable[Edge] | None = None,
        reference_tasks: Iterable[Task] | None = None,
        state_handlers: list[Callable[..., Any]] | None = None,
        on_failure: Callable[..., Any] | None = None,
        validate: bool | None = None,
        result: Result | None = None,
        terminal_state_handler: Callable[..., Any] | None = None,
    ) -> None:
        if not name:
            raise ValueError("A name must be provided for the flow.")
        from prefect_storage.log import get_logger

        self.name = name
        self.logger = get_logger(name)
        self.schedule = schedule
        self.executor = executor
        self.run_config = run_config
        self.storage = storage
        self.result = result
        self.terminal_state_handler = terminal_state_handler
        self.tasks: set[Task] = set()
        self.edges: set[Edge] = set()
        self.slugs: dict[Task, str] = {}
        self.constants: collections.defaultdict[Task, dict[str, Any]] = collections.defaultdict(dict)
        self._init_indexes()
        for t in tasks or ():
            self.add_task(t)
        self.set_reference_tasks(reference_tasks or [])
        for e in edges or ():
            self.add_edge(e.upstream_task, e.downstream_task, key=e.key, mapped=e.mapped, flattened=e.flattened, validate=validate)
        if state_handlers and not isinstance(state_handlers, collections.abc.Sequence):
            raise TypeError("state_handlers should be iterable.")
        self.state_handlers: list[Callable[..., Any]] = list(state_handlers or [])
        if on_failure is not None:
            from prefect_storage.core.utilities import callback_factory

            self.state_handlers.append(callback_factory(on_failure, check=lambda s: s.is_failed()))
        from prefect_storage._version import __version__

        self._prefect_version = __version__

    def _init_indexes(self) -> None:
        # adjacency kept beside `edges`, so graph queries never rescan every edge
        self._upstream_edges: dict[Task, set[Edge]] = {}
        self._downstream_edges: dict[Task, set[Edge]] = {}
        self._slug_values: set[str] = set(self.slugs.values())
        self._slug_counters: dict[str, int] = {}
        self._order: dict[Task, int] = {}
        self._cache: dict[str, Any] = {}
        self._reference_tasks: set[Task] = getattr(self, "_reference_tasks", set())
        for i, t in enumerate(self.tasks):
            self._order.setdefault(t, i)
        for e in self.edges:
            self._upstream_edges.setdefault(e.downstream_task, set()).add(e)
            self._downstream_edges.setdefault(e.upstream_task, set()).add(e)

    # -- dunder -------------------------------------------------------------------------

    def __repr__(self) -> str:
        return f'<{type(self).__name__}: name="{self.name}">'

    def __iter__(self) -> Iterator[Task]:
        yield from self.sorted_tasks()

    def __eq__(self, other: object) -> bool:
        if type(self) is not type(other):
            return False
        return (
            self.name == other.name  # type: ignore[attr-defined]
            and self.tasks == other.tasks  # type: ignore[attr-defined]
            and self.edges == other.edges  # type: ignore[attr-defined]
            and self.reference_tasks() == other.reference_tasks()  # type: ignore[attr-defined]
        )

    def __hash__(self) -> int:
        return id(self)

    def __enter__(self) -> Flow:
        tracker: set[Task] = set()
        self._block_stack = getattr(self, "_block_stack", [])
        block = flow_block(self)
        block.__enter__()
        token = _push({"flow": self, "_unused_task_tracker": tracker})
        self._block_stack.append((block, token, tracker))
        return self

    def __exit__(self, *exc: Any) -> None:
        block, token, tracker = self._block_stack.pop()
        _pop(token)
        block.__exit__(*exc)
        if not self._block_stack:
            del self._block_stack
        unused = tracker.difference(self.tasks)
        if unused:
            warnings.warn(
                f"Tasks were created but not added to the flow: {unused}. This can occur when `Task` classes, "
                "including `Parameters`, are instantiated inside a `with Flow(...)` block but not added to the flow "
                "either explicitly or as the input to another task. For more information, see "
                "https://docs.prefect.io/core/advanced_tutorials/task-guide.html#adding-tasks-to-flows.",
                stacklevel=2,
            )

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        for derived in ("_block_stack", "_upstream_edges", "_downstream_edges", "_slug_values", "_slug_counters", "_order"):
            state.pop(derived, None)
        state["constants"] = dict(self.constants)
        state["_task_list"] = sorted(self.tasks, key=lambda t: self._order.get(t, 0))
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        task_list = state.pop("_task_list", None)
        state["constants"] = collections.defaultdict(dict, state.get("constants") or {})
        cache = state.pop("_cache", None)
        self.__dict__.update(state)
        self._init_indexes()
        if cache:
            self._cache.update(cache)
        if task_list is not None:
            self._order = {t: i for i, t in enumerate(task_list)}

    # -- caching of derived views ----------------------------------------------------------

    def _changed(self) -> None:
        self._cache.clear()

    # -- building ----------------------------------------------------------------------

    def _generate_task_slug(self, task: Task) -> str:
        prefix = "-".join([task.name, *sorted(task.tags)])
        n = self._slug_counters.get(prefix, 0)
        while True:
            n += 1
            slug = f"{prefix}-{n}"
            if slug not in self._slug_values:
                self._slug_counters[prefix] = n
                return slug

    def add_task(self, task: Task) -> Task:
        """Add ``task`` (a no-op if present); tasks created in an open ``case`` or resource
        block join that block."""
        if not isinstance(task, Task):
            raise TypeError(f"Tasks must be Task instances (received {type(task)})")
        if task in self.tasks:
            return task
        if task.slug and task.slug in self._slug_values:
            raise ValueError(f'A task with the slug "{task.slug}" already exists in this flow.')
        slug = task.slug or self._generate_task_slug(task)
        self.slugs[task] = slug
        self._slug_values.add(slug)
        self.tasks.add(task)
        self._order[task] = len(self._order)
        self._cache.clear()
        from prefect_storage.tasks.core.constants import Constant

        if not isinstance(task, (Parameter, Constant)):
            current = _current()
            case = current.get("case")
            if case is not None:
                case.add_task(task, self)
            resource = current.get("resource")
            if resource is not None:
                resource.add_task(task, self)
        return task

    def add_edge(
        self,
        upstream_task: Any,
        downstream_task: Any,
        key: str | None = None,
        mapped: bool = False,
        flattened: bool = False,
        validate: bool | None = None,
    ) -> Edge:
        """Make ``downstream_task`` depend on ``upstream_task`` (receiving its result as
        ``key``). Cycles are reported by :meth:`validate` (or here with ``validate=True``)."""
        if validate is None:
            validate = _eager_validation()
        if mapped and _current().get("mapped", False):
            raise ValueError("Cannot set `mapped=True` when running from inside a mapped context")
        if isinstance(downstream_task, Parameter):
            raise ValueError("Parameters must be root tasks and can not have upstream dependencies.")
        edge = Edge(upstream_task=upstream_task, downstream_task=downstream_task, key=key, mapped=mapped, flattened=flattened, flow=self)
        from prefect_storage.tasks.core.constants import Constant

        if isinstance(edge.upstream_task, Constant) and edge.key and not edge.mapped and not edge.flattened:
            self.constants[edge.downstream_task].update({edge.key: edge.upstream_task.value})
            self.add_task(edge.downstream_task)
            return edge
        if edge not in self.edges:
            self.edges.add(edge)
            self._upstream_edges.setdefault(edge.downstream_task, set()).add(edge)
            self._downstream_edges.setdefault(edge.upstream_task, set()).add(edge)
        self.add_task(edge.upstream_task)
        self.add_task(edge.downstream_task)
        if validate and key is not None and key in {e.key for e in self.edges_to(edge.downstream_task) if e is not edge}:
            raise ValueError(
                f'Argument "{key}" for task {edge.downstream_task} has already been assigned in this flow. If you are '
                "trying to call the task again with new arguments, call Task.copy() before adding the result to this "
                "flow."
            )
        if validate and key is not None:
            import inspect

            keys = {e.key: None for e in self.edges_to(edge.downstream_task) if e.key is not None}
            inspect.signature(edge.downstream_task.run).bind_partial(**keys)
        self._cache.clear()
        if validate:
            self.validate()
        return edge

    def _remove_edge(self, edge: Edge) -> None:
        self.edges.discard(edge)
        self._upstream_edges.get(edge.downstream_task, set()).discard(edge)
        self._downstream_edges.get(edge.upstream_task, set()).discard(edge)
        self._cache.clear()

    def chain(self, *tasks: Task, validate: bool | None = None) -> list[Edge]:
        """Unkeyed edges between consecutive ``tasks``; returns them."""
        return [self.add_edge(a, b, validate=validate) for a, b in itertools.pairwise(tasks)]

    def set_dependencies(
        self,
        task: object,
        upstream_tasks: Iterable[object] | None = None,
        downstream_tasks: Iterable[object] | None = None,
        keyword_tasks: collections.abc.Mapping[str, object] | None = None,
        mapped: bool = False,
        validate: bool | None = None,
    ) -> None:
        """Add ``task`` with state-only edges from ``upstream_tasks`` and to
        ``downstream_tasks``, and data edges from ``keyword_tasks`` (constants become
        ``flow.constants``)."""
        from prefect_storage.core.utilities import as_task

        task = as_task(task, flow=self)
        self.add_task(task)
        for t in upstream_tasks or []:
            self.add_edge(upstream_task=t, downstream_task=task, validate=validate, mapped=mapped)
        for t in downstream_tasks or []:
            self.add_edge(upstream_task=task, downstream_task=t, validate=validate)
        for key, t in (keyword_tasks or {}).items():
            self.add_edge(upstream_task=t, downstream_task=task, key=key, validate=validate, mapped=mapped)

    def update(
        self,
        flow: Flow,
        merge_parameters: bool = False,
        validate: bool | None = None,
        merge_reference_tasks: bool = False,
    ) -> None:
        """Add ``flow``'s tasks, edges and constants to this flow."""
        if merge_parameters:
            validate = True
            mine = {p.name: p for p in self.parameters()}
            for p in flow.parameters():
                if p.name in mine and mine[p.name] is not p:
                    self.replace(mine[p.name], p, validate=False)
        for t in flow.tasks:
            if t not in self.tasks:
                self.add_task(t)
        for e in flow.edges:
            if e not in self.edges:
                self.add_edge(e.upstream_task, e.downstream_task, key=e.key, mapped=e.mapped, flattened=e.flattened, validate=validate)
        for t, consts in flow.constants.items():
            self.constants[t].update(consts)
        if merge_reference_tasks:
            self.set_reference_tasks(self.reference_tasks() | flow.reference_tasks())
        self._cache.clear()

    def replace(self, old: Task, new: Task, validate: bool = True) -> None:
        """Put ``new`` where ``old`` was, keeping every edge's key and flags."""
        from prefect_storage.core.utilities import as_task

        if old not in self.tasks:
            raise ValueError(f"Task {old} was not found in Flow {self}")
        new = as_task(new, flow=self)
        edges = list(self.edges_to(old)) + list(self.edges_from(old))
        for e in edges:
            self._remove_edge(e)
        self.tasks.discard(old)
        slug = self.slugs.pop(old, None)
        if slug is not None:
            self._slug_values.discard(slug)
        self._order.pop(old, None)
        self.add_task(new)
        if old in self.constants:
            self.constants[new] = self.constants.pop(old)
        for e in edges:
            self.add_edge(
                upstream_task=new if e.upstream_task is old else e.upstream_task,
                downstream_task=new if e.downstream_task is old else e.downstream_task,
                key=e.key,
                mapped=e.mapped,
                flattened=e.flattened,
                validate=False,
            )
        if old in self._reference_tasks:
            self._reference_tasks = (self._reference_tasks - {old}) | {new}
        self._cache.clear()
        if validate:
            self.validate()

    def copy(self) -> Flow:
        """A shallow copy: new containers, the same Task objects."""
        new = _copy.copy(self)
        new.tasks = set(self.tasks)
        new.edges = set(self.edges)
        new.slugs = dict(self.slugs)
        new.constants = collections.defaultdict(dict, {t: dict(c) for t, c in self.constants.items()})
        new._reference_tasks = set(self._reference_tasks)
        new.state_handlers = list(self.state_handlers)
        new.__dict__.pop("_block_stack", None)
        new._init_indexes()
        new._order = dict(self._order)
        return new

    # -- introspection --------------------------------------------------------------------

    def _check(self, task: Task) -> None:
        if task not in self.tasks:
            raise ValueError(f"Task {task} was not found in Flow {self}")

    def edges_to(self, task: Task) -> set[Edge]:
        self._check(task)
        return set(self._upstream_edges.get(task, ()))

    def edges_from(self, task: Task) -> set[Edge]:
        self._check(task)
        return set(self._downstream_edges.get(task, ()))

    def upstream_tasks(self, task: Task) -> set[Task]:
        return {e.upstream_task for e in self.edges_to(task)}

    def downstream_tasks(self, task: Task) -> set[Task]:
        return {e.downstream_task for e in self.edges_from(task)}

    def _memo(self, key: Any, compute: Callable[[], Any]) -> Any:
        # classic memo keys ("root_tasks", ()); cleared by every change to the graph
        try:
            return self._cache[key]
        except KeyError:
            value = self._cache[key] = compute()
            return value

    def all_upstream_edges(self) -> dict[Task, set[Edge]]:
        """``{task: edges into it}`` for every task (memoised; do not modify)."""
        return self._memo(  # type: ignore[no-any-return]
            ("all_upstream_edges", ()), lambda: {t: set(self._upstream_edges.get(t, ())) for t in self.tasks}
        )

    def all_downstream_edges(self) -> dict[Task, set[Edge]]:
        """``{task: edges out of it}`` for every task (memoised; do not modify)."""
        return self._memo(  # type: ignore[no-any-return]
            ("all_downstream_edges", ()), lambda: {t: set(self._downstream_edges.get(t, ())) for t in self.tasks}
        )

    def root_tasks(self) -> set[Task]:
        """Tasks with no upstream edge."""
        return self._memo(("root_tasks", ()), lambda: {t for t in self.tasks if not self._upstream_edges.get(t)})  # type: ignore[no-any-return]

    def terminal_tasks(self) -> set[Task]:
        """Tasks with no downstream edge."""
        return self._memo(("terminal_tasks", ()), lambda: {t for t in self.tasks if not self._downstream_edges.get(t)})  # type: ignore[no-any-return]

    def parameters(self) -> set[Parameter]:
        return {t for t in self.tasks if isinstance(t, Parameter)}

    def reference_tasks(self) -> set[Task]:
        """The explicit reference tasks, else the terminal tasks (resource-manager
        init/cleanup excluded; a task feeding only cleanups counts as terminal)."""
        if self._reference_tasks:
            return set(self._reference_tasks)
        import sys

        module = sys.modules.get("prefect_storage.tasks.core.resource_manager")
        if module is None:
            return self.terminal_tasks()
        init_cls, cleanup_cls = module.ResourceInitTask, module.ResourceCleanupTask
        found = set()
        for t in self.tasks:
            if isinstance(t, (init_cls, cleanup_cls)):
                continue
            downstream = self._downstream_edges.get(t)
            if not downstream or all(isinstance(e.downstream_task, cleanup_cls) for e in downstream):
                found.add(t)
        return found

    def set_reference_tasks(self, tasks: Iterable[Task]) -> None:
        """Make ``tasks`` decide the flow's state (empty: back to the default)."""
        tasks = set(tasks)
        if any(t not in self.tasks for t in tasks):
            raise ValueError("reference tasks must be part of the flow.")
        self._reference_tasks = tasks
        self._cache.clear()

    def get_tasks(
        self,
        name: str | None = None,
        slug: str | None = None,
        tags: Iterable[str] | None = None,
        task_type: type | None = None,
    ) -> list[Task]:
        """Tasks matching every given criterion (``tags``: a subset of the task's tags)."""
        wanted = set(tags) if tags is not None else None
        found = []
        for t in self.sorted_tasks() if len(self.tasks) < 5000 else self.tasks:
            if name is not None and t.name != name:
                continue
            if slug is not None and t.slug != slug and self.slugs.get(t) != slug:
                continue
            if wanted is not None and not wanted.issubset(t.tags):
                continue
            if task_type is not None and not isinstance(t, task_type):
                continue
            found.append(t)
        return found

    def sorted_tasks(self, root_tasks: Iterable[Task] | None = None) -> tuple[Task, ...]:
        """Tasks in dependency order (ties keep the order tasks were added).
        With ``root_tasks``, only those and their downstream tasks."""
        roots = tuple(root_tasks or ())
        key = ("_sorted_tasks", (("root_tasks", roots),))
        if key in self._cache:
            return self._cache[key]  # type: ignore[no-any-return]
        if roots:
            for t in roots:
                self._check(t)
            wanted: set[Task] = set()
            stack = list(roots)
            while stack:
                t = stack.pop()
                if t in wanted:
                    continue
                wanted.add(t)
                stack.extend(e.downstream_task for e in self._downstream_edges.get(t, ()))
        else:
            wanted = self.tasks
        order = self._order
        missing = [t for t in wanted if t not in order]
        for t in missing:
            order[t] = len(order)
        pending = {t: sum(1 for e in self._upstream_edges.get(t, ()) if e.upstream_task in wanted) for t in wanted}
        import heapq

        ready = [(order[t], id(t), t) for t, n in pending.items() if n == 0]
        heapq.heapify(ready)
        result: list[Task] = []
        while ready:
            _, _, t = heapq.heappop(ready)
            result.append(t)
            for e in self._downstream_edges.get(t, ()):
                d = e.downstream_task
                if d in pending:
                    pending[d] -= 1
                    if pending[d] == 0:
                        heapq.heappush(ready, (order[d], id(d), d))
        if len(result) != len(wanted):
            raise ValueError("Cycle found; flows must be acyclic!")
        value = tuple(result)
        self._cache[key] = value
        return value

    def validate(self) -> None:
        """Check that edges and reference tasks refer to tasks of this flow, and that the
        graph has no cycle (``ValueError`` otherwise)."""
        self._cache.clear()
        if any(e.upstream_task not in self.tasks or e.downstream_task not in self.tasks for e in self.edges):
            raise ValueError("Some edges refer to tasks not contained in this flow.")
        self.sorted_tasks()
        if any(t not in self.tasks for t in self._reference_tasks):
            raise ValueError("Some reference tasks are not contained in this flow.")

    # -- running -------------------------------------------------------------------------

    def run(
        self,
        parameters: dict[str, Any] | None = None,
        run_on_schedule: bool | None = None,
        runner_cls: type | None = None,
        **kwargs: Any,
    ) -> State | None:
        """Run the flow in this process and return its final state (``state.result`` =
        ``{task: task_state}``).

        Parameters come from ``parameters`` or keyword arguments named like them.
        Retries wait their ``retry_delay``. With a schedule (and ``run_on_schedule``,
        default True) the flow runs at each scheduled time. ``checkpoint=True`` turns on
        result checkpointing (as ``PREFECT__FLOWS__CHECKPOINTING`` does). Other keyword
        arguments (``executor``, ``context``, ``task_states``, ``flow_run_id``,
        ``flow_run_name``) go to the runner.
        """
        current = _current()
        if building_flow() is self or current.get("flow") is self:
            raise RuntimeError(
                "Don't call `flow.run()` from within a `Flow` context manager. Call it after the `with Flow(...)` block."
            )
        if loading_flow():
            warnings.warn(
                "Attempting to call `flow.run` during execution of flow file will lead to unexpected results.",
                stacklevel=2,
            )
            return None
        if "return_tasks" in kwargs:
            raise ValueError(
                "The `return_tasks` keyword cannot be provided to `flow.run()`; all task states are always returned. "
                "If you would like to use `return_tasks`, use a `FlowRunner` directly."
            )
        if runner_cls is None:
            from prefect_storage.core.flow_runner import default_flow_runner_class

            runner_cls = default_flow_runner_class()
        parameters = dict(parameters or {})
        names = {p.name for p in self.parameters()}
        for name in list(kwargs):
            if name in names:
                parameters[name] = kwargs.pop(name)
        unknown = set(parameters) - names
        if unknown:
            raise ValueError(f"Flow.run received the following unexpected parameters: {', '.join(sorted(unknown))}")
        missing = sorted(p.name for p in self.parameters() if p.required and p.name not in parameters)
        if missing and not (run_on_schedule is not False and self.schedule is not None):
            raise ValueError(f"Flow.run did not receive the following required parameters: {', '.join(missing)}")
        _current().setdefault("caches", {})
        if run_on_schedule is None:
            run_on_schedule = _run_on_schedule_default()

        def run_once(params: dict[str, Any], scheduled_start_time: datetime.datetime) -> State:
            return self._run(params, scheduled_start_time, runner_cls, dict(kwargs))

        if run_on_schedule and self.schedule is not None:
            from prefect_storage.core.schedules.loop import run_on_schedule as schedule_loop

            return schedule_loop(self, lambda params, when: run_once({**parameters, **(params or {})}, when))
        # a run made by the registry's scheduler keeps the time it was due (schedules helper)
        due = (kwargs.get("context") or {}).get("scheduled_start_time")
        return run_once(parameters, due or datetime.datetime.now(datetime.timezone.utc))

    def _run(self, parameters: dict[str, Any], scheduled_start_time: datetime.datetime, runner_cls: type, kwargs: dict[str, Any]) -> State:
        """One flow run: runner passes until the state is finished, waiting for retries."""
        import uuid

        from prefect_storage.core.state import Failed, Mapped, Paused, Pending, Scheduled, State

        missing = sorted(p.name for p in self.parameters() if p.required and p.name not in parameters)
        if missing:
            raise ValueError(f"Flow.run did not receive the following required parameters: {', '.join(missing)}")
        if not isinstance(scheduled_start_time, datetime.datetime):  # e.g. a user's context value
            scheduled_start_time = datetime.datetime.now(datetime.timezone.utc)
        flow_state = kwargs.pop("state", None) or Scheduled(start_time=scheduled_start_time, result={})
        task_states = dict(kwargs.pop("task_states", None) or {})
        flow_run_context = dict(kwargs.pop("context", None) or {})
        flow_run_id = kwargs.pop("flow_run_id", None) or flow_run_context.get("flow_run_id") or str(uuid.uuid4())
        flow_run_name = kwargs.pop("flow_run_name", None) or flow_run_context.get("flow_run_name") or str(uuid.uuid4())
        flow_run_context.update(
            scheduled_start_time=scheduled_start_time,
            flow_id=self.name,
            flow_run_id=flow_run_id,
            flow_run_name=flow_run_name,
        )
        _sleep_until(scheduled_start_time, self.logger, "Waiting for next scheduled run at %s")
        while not flow_state.is_finished():
            runner = runner_cls(flow=self)
            task_contexts = {t: {"task_run_id": str(uuid.uuid4()), "task_id": self.slugs.get(t)} for t in self.tasks}
            try:
                flow_state = runner.run(
                    parameters=parameters,
                    return_tasks=self.tasks,
                    state=flow_state,
                    task_states=task_states,
                    context=flow_run_context,
                    task_contexts=task_contexts,
                    **kwargs,
                )
            except TypeError:
                raise
            except Exception as exc:
                if _current().get("raise_on_exception"):  # utilities.debug.raise_on_exception
                    raise
                self.logger.exception(f"Unexpected error occured in {runner_cls.__name__}: {exc!r}")
                return Failed(f"Unexpected error: {exc!r}", result=exc)
            if not isinstance(flow_state.result, dict) or (isinstance(flow_state, Scheduled) and not flow_state.is_finished() and flow_state.start_time and flow_state.start_time > datetime.datetime.now(datetime.timezone.utc)):
                break
            task_states = dict(flow_state.result)
            if flow_state.is_finished():
                break
            # a paused task would wait for a person: local runs cannot be approved
            paused = [t for t, s in task_states.items() if isinstance(s, Paused)]
            for t in paused:
                task_states[t] = Failed(
                    f"Task {t.name!r} was paused for manual approval (manual_only trigger or PAUSE signal); "
                    "prefect_storage runs cannot be resumed by hand. Use another trigger, or run with "
                    "context={'resume': True} to let it proceed."
                )
            starts = []
            for s in task_states.values():
                for candidate in [s, *s.map_states] if isinstance(s, Mapped) else [s]:
                    if isinstance(candidate, Scheduled) and candidate.start_time is not None:
                        starts.append(candidate.start_time)
            if starts:
                _sleep_until(min(starts), self.logger, "Waiting for next available Task run at %s")
            elif not paused and not any(isinstance(s, (Pending,)) for s in task_states.values()):
                break
        if isinstance(flow_state, State) and not isinstance(flow_state.result, BaseException):
            final = dict(flow_state.result) if isinstance(flow_state.result, dict) else {}
            for t in self.tasks:
                final.setdefault(t, Pending("Task not run."))
            flow_state.result = final
            self._store_caches(final)
        return flow_state

    def _store_caches(self, task_states: dict[Task, State]) -> None:
        """Keep this run's unexpired Cached states (mapped children too) in the current
        ``context.caches``, after the older ones: the first valid candidate wins."""
        from prefect_storage.core.state import Cached, Mapped

        caches = _current().setdefault("caches", {})
        now = datetime.datetime.now(datetime.timezone.utc)
        for t, s in task_states.items():
            if isinstance(s, Cached):
                new = [s]
            elif isinstance(s, Mapped):
                new = [c for c in s.map_states if isinstance(c, Cached)]
            else:
                new = []
            key = t.cache_key or t.name
            if not new and key not in caches:
                continue
            caches[key] = [
                c for c in caches.get(key, []) + new if c.cached_result_expiration and c.cached_result_expiration > now
            ]

    def visualize(self, flow_state: State | None = None, filename: str | None = None, format: str | None = None, horizontal: bool = False) -> Any:
        """A ``graphviz.Digraph`` of the flow (needs the ``viz`` extra); with ``filename``
        it is rendered there, with ``flow_state`` nodes are coloured by state."""
        from prefect_storage.core.visualize import visualize

        return visualize(self, flow_state=flow_state, filename=filename, format=format, horizontal=horizontal)

    def diagnostics(self, include_secret_names: bool = False) -> str:
        """JSON facts for a bug report: system, overridden config keys and ``PREFECT__``
        variable names, the flow's parts (types and presence only; no values)."""
        from prefect_storage.core.diagnostics import diagnostic_info

        return diagnostic_info(self, include_secret_names=include_secret_names)

    # -- saving to a file ---------------------------------------------------------------

    def save(self, fpath: str | os.PathLike[str] | None = None) -> str:
        """Pickle this flow (in the integrity-checked envelope) to ``fpath``; default
        ``<home>/flows/<slug(name)>.prefect``. Returns the path written."""
        from prefect_storage import config
        from prefect_storage.backends.local import atomic_write
        from prefect_storage.serialization.flow_pickle import flow_to_bytes_pickle
        from prefect_storage.storage.base import flow_slug

        path = os.fspath(fpath) if fpath is not None else str(config.home_path() / "flows" / f"{flow_slug(self.name)}.prefect")
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
            path = str(config.home_path() / "flows" / f"{flow_slug(path)}.prefect")
        return flow_from_bytes_pickle(read_bytes(path), source=path)

    # -- registration -----------------------------------------------------------------

    def run_agent(self, token: str | None = None, show_flow_logs: bool = False, log_to_cloud: bool | None = None) -> int:
        """Run a local agent in this process that carries this flow's run config labels
        (classic ``flow.run_agent()``): it runs the registered runs it can claim until it is
        stopped (Ctrl-C). ``token`` and ``log_to_cloud`` were for the hosted backend and are
        ignored. Returns the number of runs executed."""
        import prefect_storage.agent.local as agent_module  # the agent sits above the engine

        labels = sorted(set(self.run_config.labels)) if self.run_config is not None else []
        agent = agent_module.LocalAgent(labels=labels, show_flow_logs=show_flow_logs)
        try:
            return int(agent.start())
        except KeyboardInterrupt:
            agent.stop()
            return 0

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
        self.validate()
        from prefect_storage._version import __version__

        for t in self.tasks:  # classic: the flow's slugs are written onto the tasks
            t.slug = self.slugs[t]
        ordered = sorted(self.tasks, key=lambda t: self.slugs[t])  # classic: every nested list by slug
        return {
            "type": f"{type(self).__module__}.{type(self).__qualname__}",
            "__version__": __version__,
            "name": self.name,
            "tasks": [t.serialize() for t in ordered],
            "edges": sorted(
                (e.serialize() for e in self.edges),
                key=lambda e: (e["upstream_task"]["slug"], e["downstream_task"]["slug"], e["key"] or ""),
            ),
            "parameters": [p.serialize() for p in sorted(self.parameters(), key=lambda p: self.slugs[p])],
            "reference_tasks": sorted(({"slug": self.slugs[t]} for t in self._reference_tasks), key=lambda r: r["slug"]),
            "schedule": _serialize_schedule(self.schedule),
            "run_config": self.run_config.serialize() if self.run_config is not None else None,
            "storage": self.storage.serialize() if self.storage is not None else None,
        }

    def serialized_hash(self, build: bool = False) -> str:
        """sha256 of :meth:`serialize` with sorted keys: the classic idempotency key."""
        import hashlib
        import json

        return hashlib.sha256(json.dumps(self.serialize(build), sort_keys=True).encode()).hexdigest()


def _serialize_schedule(schedule: Any) -> Any:
    if schedule is None:
        return None
    serialize = getattr(schedule, "serialize", None)
    if callable(serialize):
        return serialize()
    return {"type": type(schedule).__name__, "repr": repr(schedule)}


def _is_annotation(value: Any) -> bool:
    from prefect_storage.core.edges import EdgeAnnotation

    return isinstance(value, EdgeAnnotation)


def _sleep_until(when: datetime.datetime, logger: Any, message: str) -> None:
    delay = (when - datetime.datetime.now(datetime.timezone.utc)).total_seconds()
    if delay > 0:
        logger.info(message, when)
        time.sleep(delay)
