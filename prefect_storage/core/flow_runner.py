"""Runs a flow once (one pass over its tasks), classic ``prefect.engine.flow_runner``.

``FlowRunner(flow).run(parameters=..., task_states=..., return_tasks=..., executor=...)``
submits every task through the executor in topological order, expands mapped tasks
into children, and decides the flow's state from its reference tasks. ``Flow.run``
calls it in a loop (for retries and schedules).
"""

from __future__ import annotations

import copy
import datetime
import uuid
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, NamedTuple

from prefect_storage.context import _current, _pop, _push
from prefect_storage.core.edges import Edge
from prefect_storage.core.runner import Runner, call_state_handlers
from prefect_storage.core.signals import ENDRUN
from prefect_storage.core.state import Failed, Mapped, Pending, Running, Scheduled, State, Success
from prefect_storage.core.task_runner import TaskRunner

if TYPE_CHECKING:
    from prefect_storage.core.executors.base import Executor
    from prefect_storage.core.flow import Flow
    from prefect_storage.core.task import Task
    from prefect_storage.results.base import Result

__all__ = [
    "ENDRUN",
    "FlowRunner",
    "FlowRunnerInitializeResult",
    "flatten_mapped_children",
    "flatten_upstream_state",
    "run_task",
]


class FlowRunnerInitializeResult(NamedTuple):
    state: State
    task_states: dict[Task, State]
    context: dict[str, Any]
    task_contexts: dict[Task, dict[str, Any]]


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


def _date_context(now: datetime.datetime) -> dict[str, Any]:
    day = datetime.timedelta(days=1)
    values: dict[str, Any] = {}
    for key, when in (("today", now), ("yesterday", now - day), ("tomorrow", now + day)):
        values[key] = when.strftime("%Y-%m-%d")
        values[f"{key}_nodash"] = when.strftime("%Y%m%d")
    return values


def _parse_date(value: Any) -> datetime.datetime:
    if isinstance(value, datetime.datetime):
        return value if value.tzinfo else value.replace(tzinfo=datetime.timezone.utc)
    try:
        import pendulum

        return pendulum.parse(value)  # type: ignore[no-any-return]
    except ImportError:
        parsed = datetime.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=datetime.timezone.utc)


def flatten_upstream_state(upstream_state: State) -> State:
    """``upstream_state`` with its (list of iterables) result flattened one level; a
    result that cannot be flattened is passed as it is."""
    try:
        flat = [y for x in upstream_state.result for y in x]
    except TypeError:
        return upstream_state
    new = copy.copy(upstream_state)
    new.result = new._result.from_value(flat)
    return new


def _with_result(state: State, value: Any) -> State:
    new = copy.copy(state)
    new._result = state._result.from_value(value)
    return new


def _can_flatten(state: State) -> bool:
    return hasattr(state.result, "__len__") and hasattr(state.result, "__getitem__")


def flatten_mapped_children(children: list[State]) -> list[State]:
    """One child state per element of each successful child's result (skipped and failed
    children pass through; a non-sequence result counts as one element)."""
    flat: list[State] = []
    for child in children:
        if not (child.is_successful() and not child.is_skipped()):
            flat.append(child)
        elif not _can_flatten(child):
            _logger().warning(
                "`flatten` was used on upstream task that did not return an iterable. The value will be passed "
                "downstream unmodified."
            )
            flat.append(_with_result(child, child.result))
        else:
            flat.extend(_with_result(child, item) for item in child.result)
    return flat


def _logger() -> Any:
    from prefect_storage.log import get_logger

    return get_logger("FlowRunner")


def run_task(
    task: Task,
    state: State | None,
    upstream_states: dict[Edge, State],
    context: dict[str, Any],
    flow_result: Result | None,
    task_runner_cls: Callable[..., TaskRunner],
    task_runner_state_handlers: Iterable[Callable[..., Any]] | None,
    upstream_mapped_states: dict[Edge, list[State]] | None = None,
    is_mapped_parent: bool = False,
) -> State:
    """Run one task (or mapped child) in the current worker; what executors are given.

    ``upstream_mapped_states`` holds the children of Mapped upstreams feeding unmapped
    edges (the reduce step); they are attached here, once the executor resolved them.
    """
    if upstream_mapped_states:
        upstream_states = dict(upstream_states)
        for edge, children in upstream_mapped_states.items():
            parent = upstream_states[edge]
            if isinstance(parent, Mapped):
                parent = copy.copy(parent)
                parent.map_states = list(children)
                parent.result = [s.result if s is not None else None for s in parent.map_states]
                upstream_states[edge] = parent
    runner = task_runner_cls(task=task, state_handlers=task_runner_state_handlers, flow_result=flow_result)
    return runner.run(state=state, upstream_states=upstream_states, context=context, is_mapped_parent=is_mapped_parent)


class FlowRunner(Runner):
    """Runs a flow's tasks once.

    Args:
        flow: the flow.
        task_runner_cls: the task runner class (default :class:`TaskRunner`).
        state_handlers: runner-level flow state handlers.
    """

    def __init__(
        self,
        flow: Flow,
        task_runner_cls: type | None = None,
        state_handlers: Iterable[Callable[..., Any]] | None = None,
    ) -> None:
        self.flow = flow
        self.task_runner_cls = task_runner_cls or default_task_runner_class()
        super().__init__(state_handlers=state_handlers)

    def __repr__(self) -> str:
        return f"<FlowRunner: {self.flow.name}>"

    def call_runner_target_handlers(self, old_state: State, new_state: State) -> State:
        for handler in self.flow.state_handlers:
            new_state = handler(self.flow, old_state, new_state) or new_state
        return new_state

    def _flow_result(self) -> Result | None:
        if self.flow.result is not None:
            return self.flow.result
        storage = self.flow.storage
        return getattr(storage, "result", None) if storage is not None else None

    def initialize_run(  # type: ignore[override]
        self,
        state: State | None,
        task_states: dict[Task, State],
        context: dict[str, Any],
        task_contexts: dict[Task, dict[str, Any]],
        parameters: dict[str, Any],
    ) -> FlowRunnerInitializeResult:
        while isinstance(state, State) and state.is_meta_state():
            state = state.state  # type: ignore[attr-defined]
        state = state or Pending()
        params = {p.name: p.default for p in self.flow.parameters() if not p.required}
        params.update(context.get("parameters") or {})
        params.update(parameters or {})
        context["parameters"] = params
        context["flow_name"] = self.flow.name
        context.setdefault("scheduled_start_time", _now())
        # the formatted dates follow a `date` given in the context (a string is parsed)
        now = context.get("date")
        if isinstance(now, str):
            try:
                now = _parse_date(now)
                context["date"] = now
            except Exception:
                pass
        if not isinstance(now, datetime.datetime):
            if now is not None:
                self.logger.warning(
                    "`date` was set in the context manually but could not be parsed into a pendulum `DateTime` "
                    "object. Additional context variables that rely on the current date i.e `today` and "
                    "`tomorrow` will be based on the current time instead of the `date` context variable."
                )
            now = _now()
        context.setdefault("date", now)
        for key, value in _date_context(now).items():
            context.setdefault(key, value)
        slugs = self.flow.slugs
        for task in self.flow.tasks:
            task_context = task_contexts.setdefault(task, {})
            task_context.setdefault("task_name", task.name)
            task_context.setdefault("task_slug", slugs.get(task))
        return FlowRunnerInitializeResult(state=state, task_states=task_states, context=context, task_contexts=task_contexts)

    def run(
        self,
        state: State | None = None,
        task_states: dict[Task, State] | None = None,
        return_tasks: Iterable[Task] | None = None,
        parameters: dict[str, Any] | None = None,
        task_runner_state_handlers: Iterable[Callable[..., Any]] | None = None,
        executor: Executor | None = None,
        context: dict[str, Any] | None = None,
        task_contexts: dict[Task, dict[str, Any]] | None = None,
        *,
        checkpoint: bool | None = None,
        flow_run_id: str | None = None,
    ) -> State:
        """One pass over the flow; returns the flow state (``result`` = ``{task: state}``
        for ``return_tasks``). ``checkpoint`` and ``flow_run_id`` are shortcuts for the
        context keys ``checkpointing`` and ``flow_run_id``."""
        self.logger.info("Beginning Flow run for '%s'", self.flow.name)
        run_context = dict(_current())
        run_context.update(context or {})
        if "config" not in run_context:
            from prefect_storage.core.configuration import config

            run_context["config"] = config
        if checkpoint is not None:
            run_context["checkpointing"] = checkpoint
        elif "checkpointing" not in run_context:
            from prefect_storage.core.configuration import setting

            run_context["checkpointing"] = bool(setting("flows.checkpointing"))
        if flow_run_id is not None:
            run_context["flow_run_id"] = flow_run_id
        run_context.setdefault("flow_run_id", str(uuid.uuid4()))
        task_states = dict(task_states or {})
        task_contexts = dict(task_contexts or {})
        return_tasks = set(return_tasks or [])
        if executor is None:
            executor = self.flow.executor
        if executor is None:
            executor = _default_executor_class()()
        token = None
        try:
            if return_tasks.difference(self.flow.tasks):
                raise ValueError("Some tasks in return_tasks were not found in the flow.")
            state, task_states, run_context, task_contexts = self.initialize_run(
                state, task_states, run_context, task_contexts, parameters or {}
            )
            token = _push(run_context)
            state = self.check_flow_is_pending_or_running(state)
            state = self.check_flow_reached_start_time(state)
            state = self.set_flow_to_running(state)
            state = self.get_flow_run_state(
                state,
                task_states=task_states,
                task_contexts=task_contexts,
                return_tasks=return_tasks,
                task_runner_state_handlers=task_runner_state_handlers,
                executor=executor,
            )
        except ENDRUN as exc:
            state = exc.state
        except KeyboardInterrupt:
            self.logger.debug("Interrupt signal raised, cancelling Flow run.")
            raise
        except Exception as exc:
            msg = f"Unexpected error while running flow: {exc!r}"
            self.logger.exception(msg)
            new_state = Failed(message=msg, result=exc)
            try:
                state = self.handle_state_change(state or Pending(), new_state)
            except ENDRUN as end:
                state = end.state
            if _current().get("raise_on_exception"):
                raise
        finally:
            if token is not None:
                _pop(token)
        return state  # type: ignore[return-value]

    @call_state_handlers
    def check_flow_reached_start_time(self, state: State) -> State:
        if isinstance(state, Scheduled) and state.start_time and state.start_time > _now():
            self.logger.debug("Flow '%s': start_time has not been reached; ending run.", self.flow.name)
            raise ENDRUN(state)
        return state

    @call_state_handlers
    def check_flow_is_pending_or_running(self, state: State) -> State:
        if state.is_finished():
            self.logger.info("Flow run has already finished.")
            raise ENDRUN(state)
        if not (state.is_pending() or state.is_running()):
            self.logger.info("Flow is not ready to run.")
            raise ENDRUN(state)
        return state

    @call_state_handlers
    def set_flow_to_running(self, state: State) -> State:
        if state.is_pending():
            return Running(message="Running flow.")
        if state.is_running():
            return state
        raise ENDRUN(state)

    @call_state_handlers
    def get_flow_run_state(
        self,
        state: State,
        task_states: dict[Task, State],
        task_contexts: dict[Task, dict[str, Any]],
        return_tasks: set[Task],
        task_runner_state_handlers: Iterable[Callable[..., Any]] | None,
        executor: Executor,
    ) -> State:
        """Submit every task in order (children for mapped ones), wait for the final ones
        and decide the flow's state."""
        from prefect_storage.tasks.core.constants import Constant

        if not state.is_running():
            raise ENDRUN(state)
        flow = self.flow
        flow_result = self._flow_result()
        runner_cls = self.task_runner_cls
        handlers = task_runner_state_handlers
        upstream_index = flow.all_upstream_edges()
        constants = flow.constants
        base = _current()
        final_tasks = flow.terminal_tasks() | flow.reference_tasks() | return_tasks
        reset_kinds = _reset_kinds()
        with executor.start():
            for task in flow.sorted_tasks():
                task_state = task_states.get(task)
                if task_state is None and isinstance(task, Constant):
                    task_states[task] = task_state = Success(result=task.value)
                if task_state is not None and reset_kinds and isinstance(task, reset_kinds) and task_state.is_finished() and not task_state.is_cached():
                    task_states[task] = task_state = Pending()
                if (
                    (task_state is not None
                    and not isinstance(task_state, State))
                    or (task_state is not None
                    and task_state.is_finished()
                    and not task_state.is_cached()
                    and not task_state.is_mapped())
                ):
                    continue
                upstream_states: dict[Edge, Any] = {}
                mapped_children: dict[Edge, list[Any]] = {}
                is_mapped = False
                for edge in upstream_index.get(task, ()):
                    up = task_states.get(edge.upstream_task)
                    if up is None:
                        up = Pending("Task state not available.")
                    if edge.flattened and not isinstance(up, Mapped):
                        up = executor.submit(flatten_upstream_state, up)
                    upstream_states[edge] = up
                    if edge.mapped:
                        is_mapped = True
                    elif isinstance(up, Mapped):
                        children = up.map_states
                        if edge.flattened:
                            children = flatten_mapped_children(executor.wait(children))
                        mapped_children[edge] = children
                for key, value in (constants.get(task) or {}).items():
                    upstream_states[_constant_edge(task, key)] = Success(
                        "Auto-generated constant value", result=_constant_result(value)
                    )
                task_context = dict(base)
                task_context.update(task_contexts.get(task) or {})
                extra = {"task_name": task.name, "task_tags": task.tags, "task_slug": task_context.get("task_slug")}
                if not is_mapped:
                    task_states[task] = executor.submit(
                        run_task,
                        task=task,
                        state=task_state,
                        upstream_states=upstream_states,
                        context=task_context,
                        flow_result=flow_result,
                        task_runner_cls=runner_cls,
                        task_runner_state_handlers=handlers,
                        upstream_mapped_states=mapped_children,
                        extra_context=extra,
                    )
                    continue
                task_states[task] = self._run_mapped(
                    task, task_state, upstream_states, mapped_children, task_context, extra, flow_result, handlers, executor
                )
            final = {t: task_states.get(t, Pending("Task not evaluated by FlowRunner.")) for t in final_tasks}
            final = executor.wait(final)
            for s in final.values():
                if isinstance(s, Mapped):
                    s.map_states = executor.wait(s.map_states)
                    s.result = [c.result if c is not None else None for c in s.map_states]
            for t in list(task_states):
                if t in final:
                    task_states[t] = final[t]
            return_states = {t: final[t] for t in return_tasks}
            terminal_states = {final[t] for t in flow.terminal_tasks()}
            key_states = {final[t] for t in flow.reference_tasks()}
            state = self.determine_final_state(state, key_states, return_states, terminal_states)
        return state

    def _run_mapped(
        self,
        task: Task,
        task_state: State | None,
        upstream_states: dict[Edge, Any],
        mapped_children: dict[Edge, list[Any]],
        task_context: dict[str, Any],
        extra: dict[str, Any],
        flow_result: Result | None,
        handlers: Iterable[Callable[..., Any]] | None,
        executor: Executor,
    ) -> State:
        upstream_states = executor.wait(upstream_states)
        for edge, up in list(upstream_states.items()):
            if isinstance(up, Mapped):
                up.map_states = executor.wait(up.map_states)
                if edge.mapped and edge.flattened:
                    flat = copy.copy(up)
                    flat.map_states = flatten_mapped_children(up.map_states)
                    flat._n_map_states = None
                    upstream_states[edge] = flat
        mapped_children = {e: executor.wait(c) for e, c in mapped_children.items()}
        parent = executor.wait(
            executor.submit(
                run_task,
                task=task,
                state=task_state,
                upstream_states=upstream_states,
                context=dict(task_context, map_index=None),
                flow_result=flow_result,
                task_runner_cls=self.task_runner_cls,
                task_runner_state_handlers=handlers,
                upstream_mapped_states=mapped_children,
                is_mapped_parent=True,
                extra_context=extra,
            )
        )
        if not isinstance(parent, Mapped):
            return parent  # type: ignore[no-any-return]
        n = parent.n_map_states
        previous = task_state.map_states if isinstance(task_state, Mapped) else []
        for edge, up in list(upstream_states.items()):
            if edge.key in parent.cached_inputs and edge.mapped and not isinstance(up, Mapped):
                up = copy.copy(up)
                up._result = parent.cached_inputs[edge.key]
                upstream_states[edge] = up
        children: list[Any] = []
        for i in range(n):
            prior = previous[i] if i < len(previous) else None
            if prior is not None and prior.is_finished() and not prior.is_cached():
                children.append(prior)
                continue
            child_upstream: dict[Edge, State] = {}
            for edge, up in upstream_states.items():
                if not edge.mapped:
                    child_upstream[edge] = up
                elif isinstance(up, Mapped):
                    child_upstream[edge] = up.map_states[i]
                else:
                    value = up.result[i] if hasattr(up.result, "__getitem__") else None
                    child_upstream[edge] = _with_result(up, value)
            child_extra = dict(extra, task_index=i)
            children.append(
                executor.submit(
                    run_task,
                    task=task,
                    state=prior,
                    upstream_states=child_upstream,
                    context=dict(task_context, map_index=i),
                    flow_result=flow_result,
                    task_runner_cls=self.task_runner_cls,
                    task_runner_state_handlers=handlers,
                    upstream_mapped_states=mapped_children,
                    extra_context=child_extra,
                )
            )
        parent.map_states = children
        return parent

    def determine_final_state(
        self,
        state: State,
        key_states: set[State],
        return_states: dict[Task, State],
        terminal_states: set[State],
    ) -> State:
        """The flow's state from its reference ("key") tasks' states; then the flow's
        ``terminal_state_handler`` may replace it."""
        expanded_terminal = _expand(terminal_states)
        expanded_key = _expand(key_states)
        if not all(s.is_finished() for s in expanded_terminal):
            self.logger.info("Flow run RUNNING: terminal tasks are incomplete.")
            state.result = return_states
        elif any(s.is_failed() for s in expanded_key):
            self.logger.info("Flow run FAILED: some reference tasks failed.")
            state = Failed(message="Some reference tasks failed.", result=return_states)
        elif all(s.is_successful() for s in expanded_key):
            self.logger.info("Flow run SUCCESS: all reference tasks succeeded")
            state = Success(message="All reference tasks succeeded.", result=return_states)
        else:
            self.logger.info("Flow run SUCCESS: no reference tasks failed")
            state = Success(message="No reference tasks failed.", result=return_states)
        handler = getattr(self.flow, "terminal_state_handler", None)  # flows pickled by older versions lack it
        if handler is not None:
            new_state = handler(self.flow, state, set(expanded_key))
            if new_state is not None:
                state = new_state
        return state


def _default_executor_class() -> type:
    """``engine.executor.default_class``, else :class:`LocalExecutor`."""
    from prefect_storage import config
    from prefect_storage.core.executors.local import LocalExecutor

    return config.setting_class("engine.executor.default_class", "PREFECT__ENGINE__EXECUTOR__DEFAULT_CLASS", LocalExecutor)  # type: ignore[no-any-return]


def default_flow_runner_class() -> type:
    """``engine.flow_runner.default_class``, else :class:`FlowRunner`: what ``flow.run()`` uses."""
    from prefect_storage import config

    return config.setting_class("engine.flow_runner.default_class", "PREFECT__ENGINE__FLOW_RUNNER__DEFAULT_CLASS", FlowRunner)  # type: ignore[no-any-return]


def default_task_runner_class() -> type:
    """``engine.task_runner.default_class``, else :class:`TaskRunner`: what a flow runner uses."""
    from prefect_storage import config

    return config.setting_class("engine.task_runner.default_class", "PREFECT__ENGINE__TASK_RUNNER__DEFAULT_CLASS", TaskRunner)  # type: ignore[no-any-return]


def _expand(states: Iterable[State]) -> list[State]:
    out: list[State] = []
    for s in states:
        if isinstance(s, Mapped):
            out.extend(c for c in s.map_states if c is not None)
        else:
            out.append(s)
    return out


def _constant_edge(task: Task, key: str) -> Edge:
    """A synthetic edge carrying a constant argument (no Task construction: cheap)."""
    from prefect_storage.tasks.core.constants import Constant

    placeholder = Constant.__new__(Constant)
    placeholder.__dict__.update(name="Constant", slug=None, tags=set(), auto_generated=True)
    edge = Edge.__new__(Edge)
    edge.upstream_task, edge.downstream_task, edge.key, edge.mapped, edge.flattened = placeholder, task, key, False, False
    return edge


def _constant_result(value: Any) -> Any:
    from prefect_storage.results.constant import ConstantResult

    return ConstantResult(value=value)


def _reset_kinds() -> tuple[type, ...]:
    """Task classes re-run on every pass (resource setup/cleanup, secrets)."""
    import sys

    kinds: list[type] = []
    module = sys.modules.get("prefect_storage.tasks.core.resource_manager")
    if module is not None:
        kinds.extend([module.ResourceSetupTask, module.ResourceCleanupTask])
    secrets = sys.modules.get("prefect_storage.tasks.secrets.base")
    if secrets is not None and hasattr(secrets, "SecretBase"):
        kinds.append(secrets.SecretBase)
    return tuple(kinds)
