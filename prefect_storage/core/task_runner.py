"""Runs one task (or one mapped child) through the classic pipeline
(classic ``prefect.engine.task_runner``):

ready? -> start time reached? -> upstream finished? -> upstream skipped? -> inputs ->
(mapped parent: ready to map) -> run name -> target / cache -> trigger -> Running ->
run -> cache result -> retry? -> loop?

Every step that changes the state calls the task's state handlers.
"""

from __future__ import annotations

import contextlib
import datetime
import io
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, NamedTuple

from prefect_storage.context import _current, _pop, _push
from prefect_storage.core import signals
from prefect_storage.core.cache_validators import tokenize
from prefect_storage.core.runner import Runner, call_state_handlers
from prefect_storage.core.signals import ENDRUN
from prefect_storage.core.state import (
    Cached,
    Failed,
    Looped,
    Mapped,
    Paused,
    Pending,
    Resume,
    Retrying,
    Running,
    Scheduled,
    Skipped,
    State,
    Success,
    TimedOut,
    TriggerFailed,
)
from prefect_storage.core.timeouts import run_with_timeout
from prefect_storage.exceptions import TaskTimeoutSignal
from prefect_storage.log import get_logger
from prefect_storage.results.base import Result, ResultNotImplementedError

if TYPE_CHECKING:
    from prefect_storage.core.edges import Edge
    from prefect_storage.core.task import Task

__all__ = ["ENDRUN", "RedirectToLog", "TaskRunner", "TaskRunnerInitializeResult", "run_task_now", "run_with_timeout"]


class TaskRunnerInitializeResult(NamedTuple):
    state: State
    context: dict[str, Any]


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


def _checkpointing_default() -> bool:
    from prefect_storage.core.configuration import setting

    return bool(setting("flows.checkpointing"))


class _RecursiveCall(Exception):
    """Internal: run the task again (a LOOP) without growing the stack."""

    def __init__(self, state: State, context: dict[str, Any]) -> None:
        self.state = state
        self.context = context


class RedirectToLog(io.TextIOBase):
    """A stdout replacement logging each non-blank write at INFO."""

    def __init__(self, logger: Any) -> None:
        self.logger = logger

    def write(self, s: str) -> int:
        if s.strip():
            self.logger.info(s.rstrip("\n"))
        return len(s)

    def flush(self) -> None:
        return None


class TaskRunner(Runner):
    """Runs ``task`` once: ``TaskRunner(task).run(upstream_states={edge: state}, context={})``.

    Args:
        task: the task.
        state_handlers: runner-level handlers ``handler(runner, old, new)``.
        flow_result: the result used when the task has none of its own.
    """

    def __init__(
        self,
        task: Task,
        state_handlers: Iterable[Callable[..., Any]] | None = None,
        flow_result: Result | None = None,
    ) -> None:
        self.task = task
        if task.result is not None:
            self.result = task.result
        elif flow_result is not None:
            self.result = flow_result.copy()
        else:
            self.result = Result()
        self.context = dict(_current())
        super().__init__(state_handlers=state_handlers)

    def __repr__(self) -> str:
        return f"<TaskRunner: {self.task.name}>"

    def call_runner_target_handlers(self, old_state: State, new_state: State) -> State:
        for handler in self.task.state_handlers:
            new_state = handler(self.task, old_state, new_state) or new_state
        return new_state

    # -- entry point -----------------------------------------------------------------

    def initialize_run(self, state: State | None, context: dict[str, Any]) -> TaskRunnerInitializeResult:  # type: ignore[override]
        state, context = super().initialize_run(state, context)
        if isinstance(state, Retrying):
            run_count = state.run_count + 1
        else:
            run_count = state.context.get("task_run_count", 1)
        if isinstance(state, Resume) or (
            isinstance(state, Paused) and state.start_time is not None and state.start_time <= _now()
        ):
            context["resume"] = True
        if "_loop_count" in state.context:
            loop_result = state._result
            value = getattr(loop_result, "value", None)
            location = getattr(loop_result, "location", None)
            if value is None and location is not None:
                value = self.result.read(location).value
            context["task_loop_count"] = state.context.pop("_loop_count")
            context["task_loop_result"] = value
        context["task_run_count"] = run_count
        context["task_name"] = self.task.name
        context["task_tags"] = self.task.tags
        if "checkpointing" not in context:
            try:
                context["checkpointing"] = context["config"]["flows"]["checkpointing"]
            except (KeyError, TypeError):
                context["checkpointing"] = None
            if context["checkpointing"] is None:
                context["checkpointing"] = _checkpointing_default()
        map_index = context.get("map_index")
        if isinstance(map_index, int) and context.get("task_full_name"):
            context["logger"] = get_logger(context["task_full_name"])
        else:
            context["logger"] = self.task.logger
        target = self.task.target
        if target:
            if self.result is self.task.result and getattr(self.result, "location", None) == target:
                pass
            else:
                self.result = self.result.copy()
                if isinstance(target, str):
                    self.result._formatter, self.result.location = None, target
                else:
                    self.result._formatter, self.result.location = target, None
        return TaskRunnerInitializeResult(state=state, context=context)

    def run(
        self,
        state: State | None = None,
        upstream_states: dict[Edge, State] | None = None,
        context: dict[str, Any] | None = None,
        is_mapped_parent: bool = False,
    ) -> State:
        """Run the task pipeline once (and again for each ``LOOP``); return the final state."""
        while True:
            try:
                return self._run_once(state, upstream_states, context, is_mapped_parent)
            except _RecursiveCall as call:
                state, context = call.state, call.context

    def _run_once(
        self,
        state: State | None,
        upstream_states: dict[Edge, State] | None,
        context: dict[str, Any] | None,
        is_mapped_parent: bool,
    ) -> State:
        upstream_states = upstream_states or {}
        context = dict(context) if context is not None else dict(_current())
        map_index = context.setdefault("map_index", None)
        name = self.task.name
        full_name = name if map_index is None else f"{name}[{map_index}]"
        context["task_full_name"] = full_name
        task_inputs: dict[str, Result] = {}
        token = None
        logger = self.logger
        try:
            state, context = self.initialize_run(state, context)
            token = _push(context)
            looping = context.get("task_loop_count") is not None
            if not looping:
                logger.info("Task '%s': Starting task run...", full_name)
            state = self.check_task_is_ready(state)
            state = self.check_task_reached_start_time(state)
            state = self.check_upstream_finished(state, upstream_states=upstream_states)
            state = self.check_upstream_skipped(state, upstream_states=upstream_states)
            state, upstream_states = self.load_results(state=state, upstream_states=upstream_states)
            task_inputs = self.get_task_inputs(state=state, upstream_states=upstream_states)
            if is_mapped_parent:
                state = self.check_task_ready_to_map(state, upstream_states=upstream_states)
            self.set_task_run_name(task_inputs=task_inputs)
            if self.task.target:
                state = self.check_target(state, inputs=task_inputs)
            else:
                state = self.check_task_is_cached(state, inputs=task_inputs)
            state = self.check_task_trigger(state, upstream_states=upstream_states)
            state = self.set_task_to_running(state, inputs=task_inputs)
            state = self.get_task_run_state(state, inputs=task_inputs)
            state = self.cache_result(state, inputs=task_inputs)
            state = self.check_for_retry(state, inputs=task_inputs)
            state = self.check_task_is_looping(state, inputs=task_inputs, upstream_states=upstream_states, context=context)
        except (ENDRUN, signals.PrefectStateSignal) as exc:
            state = exc.state
        except _RecursiveCall:
            raise
        except Exception as exc:
            msg = f"Task '{full_name}': Unexpected error while running task: {exc!r}"
            logger.exception(msg)
            state = Failed(message=msg, result=exc)
            if _current().get("raise_on_exception"):
                raise
        finally:
            if token is not None:
                _pop(token)
        if _current().get("task_loop_count") is None:  # the caller's context: loop passes stay quiet
            logger.info("Task '%s': Finished task run for task with final state: '%s'", full_name, type(state).__name__)
        return state  # type: ignore[return-value]

    # -- pipeline steps ------------------------------------------------------------------

    @call_state_handlers
    def check_upstream_finished(self, state: State, upstream_states: dict[Edge, State]) -> State:
        for edge, upstream in upstream_states.items():
            if isinstance(upstream, Mapped) and not edge.mapped:
                if not all(s.is_finished() for s in upstream.map_states):
                    raise ENDRUN(state)
            elif not upstream.is_finished():
                raise ENDRUN(state)
        return state

    @call_state_handlers
    def check_upstream_skipped(self, state: State, upstream_states: dict[Edge, State]) -> State:
        if not self.task.skip_on_upstream_skip:
            return state
        for edge, upstream in upstream_states.items():
            if isinstance(upstream, Mapped) and not edge.mapped:
                skipped = any(s.is_skipped() for s in upstream.map_states)
            else:
                skipped = isinstance(upstream, Skipped)
            if skipped:
                raise ENDRUN(
                    Skipped(
                        "Upstream task was skipped; if this was not the intended behavior, consider changing "
                        "`skip_on_upstream_skip=False` for this task."
                    )
                )
        return state

    @call_state_handlers
    def check_task_ready_to_map(self, state: State, upstream_states: dict[Edge, State]) -> State:
        if isinstance(state, Mapped):
            if len(state.map_states) == 0 and state.n_map_states > 0:
                state.map_states = [None] * state.n_map_states  # type: ignore[list-item]
            state.cached_inputs = {edge.key: s._result for edge, s in upstream_states.items() if edge.key}
            raise ENDRUN(state)
        if upstream_states and not any(edge.mapped and s.is_successful() for edge, s in upstream_states.items()):
            raise ENDRUN(Failed("No upstream states can be mapped over."))
        if not all(
            hasattr(s.result, "__getitem__")
            for edge, s in upstream_states.items()
            if edge.mapped and s.is_successful() and not s.is_mapped()
        ):
            raise ENDRUN(Failed("At least one upstream state has an unmappable result."))
        lengths = [
            len(s.result) for e, s in upstream_states.items() if e.mapped and s.is_successful() and not s.is_mapped()
        ] + [s.n_map_states for e, s in upstream_states.items() if e.mapped and isinstance(s, Mapped)]
        raise ENDRUN(Mapped("Ready to proceed with mapping.", n_map_states=min(lengths, default=0)))

    @call_state_handlers
    def check_task_trigger(self, state: State, upstream_states: dict[Edge, State]) -> State:
        try:
            if not self.task.trigger(upstream_states):
                raise signals.TRIGGERFAIL(message="Trigger failed")
        except signals.PrefectStateSignal as exc:
            if _current().get("raise_on_exception"):
                raise
            raise ENDRUN(exc.state) from exc
        except Exception as exc:
            name = _current().get("task_full_name", self.task.name)
            self.logger.exception(f"Task '{name}': Unexpected error while evaluating task trigger: {exc!r}")
            if _current().get("raise_on_exception"):
                raise
            raise ENDRUN(TriggerFailed(f"Unexpected error while checking task trigger: {exc!r}", result=exc)) from exc
        return state

    @call_state_handlers
    def check_task_is_ready(self, state: State) -> State:
        if state.is_pending() or state.is_mapped() or state.is_cached():
            return state
        raise ENDRUN(state)

    @call_state_handlers
    def check_task_reached_start_time(self, state: State) -> State:
        if isinstance(state, Scheduled):
            if state.start_time is None or state.start_time > _now():
                raise ENDRUN(state)
        return state

    def get_task_inputs(self, state: State, upstream_states: dict[Edge, State]) -> dict[str, Result]:
        return {edge.key: s._result for edge, s in upstream_states.items() if edge.key is not None}

    def load_results(self, state: State, upstream_states: dict[Edge, State]) -> tuple[State, dict[Edge, State]]:
        return state, upstream_states

    def set_task_run_name(self, task_inputs: dict[str, Result]) -> None:
        name = self.task.task_run_name
        if name:
            current = _current()
            kwargs = {**current.get("parameters", {}), **current, **{k: r.value for k, r in task_inputs.items()}}
            current["task_run_name"] = name(**kwargs) if not isinstance(name, str) else name.format(**kwargs)

    def _formatting_kwargs(self, inputs: dict[str, Result]) -> dict[str, Any]:
        current = _current()
        kwargs = {**dict(current.get("parameters") or {}), **current, **{k: r.value for k, r in inputs.items()}}
        kwargs.pop("self", None)
        return kwargs

    @call_state_handlers
    def check_target(self, state: State, inputs: dict[str, Result]) -> State:
        result, target = self.result, self.task.target
        if result is not None and target:
            kwargs = self._formatting_kwargs(inputs)
            template = target(**kwargs) if not isinstance(target, str) else target
            location = template.format(**kwargs)
            if result.exists(location, **kwargs):
                stored = result.read(location)
                return Cached(
                    result=stored,
                    hashed_inputs={key: tokenize(val.value) for key, val in inputs.items()},
                    cached_result_expiration=None,
                    cached_parameters=kwargs.get("parameters"),
                    message=f"Result found at task target {location}",
                )
        return state

    @call_state_handlers
    def check_task_is_cached(self, state: State, inputs: dict[str, Result]) -> State:
        task = self.task
        if isinstance(state, Cached):
            raw = {key: res.value for key, res in inputs.items()}
            if task.cache_validator(state, raw, _current().get("parameters")):
                return state
            state = Pending("Cache was invalid; ready to run.")
        if task.cache_for is not None:
            caches = _current().get("caches") or {}
            candidates = caches.get(task.cache_key or task.name, [])
            raw = {key: res.value for key, res in inputs.items()}
            for candidate in candidates:
                if task.cache_validator(candidate, raw, _current().get("parameters")):
                    return candidate  # type: ignore[no-any-return]
            name = _current().get("task_full_name", task.name)
            self.logger.warning(f"Task '{name}': Can't use cache because it is now invalid")
        return state or Pending("Cache was invalid; ready to run.")

    @call_state_handlers
    def set_task_to_running(self, state: State, inputs: dict[str, Result]) -> State:
        if not state.is_pending():
            raise ENDRUN(state)
        return Running(message="Starting task run.")

    @call_state_handlers
    def get_task_run_state(self, state: State, inputs: dict[str, Result]) -> State:
        task = self.task
        current = _current()
        name = current.get("task_full_name", task.name)
        if not state.is_running():
            raise ENDRUN(state)
        raw_inputs = {k: r.value for k, r in inputs.items()}
        new_state: State | None = None
        value: Any = None
        try:
            redirect = contextlib.redirect_stdout(RedirectToLog(self.logger)) if task.log_stdout else contextlib.nullcontext()
            with redirect:
                value = run_with_timeout(task.run, raw_inputs, task.timeout, name)
        except TaskTimeoutSignal as exc:
            if current.get("raise_on_exception"):
                raise
            return TimedOut("Task timed out during execution.", result=exc)
        except signals.LOOP as exc:
            new_state = exc.state
            value = new_state.result
            new_state.message = exc.state.message or f"Task is looping ({new_state.loop_count})"  # type: ignore[attr-defined]
        except signals.SUCCESS as exc:
            new_state = exc.state
            value = new_state.result
        except Exception as exc:
            if current.get("raise_on_exception"):
                raise
            self.logger.error(f"Task {name!r}: Exception encountered during task execution!", exc_info=True)
            return Failed(f"Error during execution of task: {exc!r}", result=exc)
        if current.get("checkpointing") is True and task.checkpoint is not False and value is not None:
            try:
                result = self.result.write(value, **self._formatting_kwargs(inputs))
            except ResultNotImplementedError:
                result = self.result.from_value(value=value)
        else:
            result = self.result.from_value(value=value)
        if new_state is not None:
            new_state.result = result
            return new_state
        return Success(result=result, message="Task run succeeded.")

    @call_state_handlers
    def cache_result(self, state: State, inputs: dict[str, Result]) -> State:
        if isinstance(state, Success) and not isinstance(state, Skipped) and self.task.cache_for is not None:
            return Cached(
                result=state._result,
                hashed_inputs={key: tokenize(val.value) for key, val in inputs.items()},
                cached_result_expiration=_now() + self.task.cache_for,
                cached_parameters=_current().get("parameters"),
                message=state.message,
            )
        return state

    @call_state_handlers
    def check_for_retry(self, state: State, inputs: dict[str, Result]) -> State:
        if not isinstance(state, Failed):
            return state
        task = self.task
        current = _current()
        if task.retry_on and state.result is not None and not any(isinstance(state.result, t) for t in task.retry_on):
            name = current.get("task_full_name", task.name)
            self.logger.info(
                f"Task '{name}': Skipping retry. Exception of type {type(state.result).__name__!r} is not an "
                "instance of the retry on exception types."
            )
            return state
        run_count = current.get("task_run_count", 1)
        loop_result = None
        state_context = None
        if current.get("task_loop_count") is not None:
            loop_result = self.result.from_value(value=current.get("task_loop_result"))
            if current.get("checkpointing") is True and task.checkpoint is not False and loop_result.value is not None:
                with contextlib.suppress(ResultNotImplementedError):
                    loop_result = self.result.write(loop_result.value, **self._formatting_kwargs(inputs))
            state_context = {"_loop_count": current["task_loop_count"]}
        if run_count <= task.max_retries:
            return Retrying(
                start_time=_now() + (task.retry_delay or datetime.timedelta(0)),
                context=state_context,
                message=f"Retrying Task (after attempt {run_count} of {task.max_retries + 1})",
                run_count=run_count,
                result=loop_result,
            )
        return state

    def check_task_is_looping(
        self,
        state: State,
        inputs: dict[str, Result] | None = None,
        upstream_states: dict[Edge, State] | None = None,
        context: dict[str, Any] | None = None,
    ) -> State:
        if isinstance(state, Looped):
            assert context is not None
            context = dict(context)
            context.update(task_loop_result=state.result, task_loop_count=state.loop_count + 1)
            raise _RecursiveCall(Pending(message=f"Looping task (on loop index {state.loop_count})"), context)
        return state


def run_task_now(task: Task, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """Run ``task`` at once with plain values (inside a modern flow): retries (waiting
    their delay), cache and state handlers apply; return its value or raise its error."""
    import inspect
    import time

    from prefect_storage.core.edges import Edge
    from prefect_storage.tasks.core.constants import Constant

    bound = inspect.signature(task.run).bind(*args, **kwargs)
    values = dict(bound.arguments)
    var_kw = next((p for p in inspect.signature(task.run).parameters.values() if p.kind == inspect.Parameter.VAR_KEYWORD), None)
    if var_kw is not None:
        values.update(values.pop(var_kw.name, {}))
    upstream: dict[Edge, State] = {}
    for key, value in values.items():
        edge = Edge.__new__(Edge)
        edge.upstream_task, edge.downstream_task, edge.key, edge.mapped, edge.flattened = (
            Constant.__new__(Constant),
            task,
            key,
            False,
            False,
        )
        upstream[edge] = Success("Auto-generated constant value", result=value)
    _current().setdefault("caches", {})
    runner = TaskRunner(task)
    state: State | None = None
    base = {**_current(), "task_slug": task.slug or task.name}
    while True:
        state = runner.run(state=state, upstream_states=upstream, context=base)
        if isinstance(state, Retrying) and state.start_time is not None:
            time.sleep(max(0.0, (state.start_time - _now()).total_seconds()))
            continue
        break
    if isinstance(state, Cached) and task.cache_for is not None:
        caches = _current()["caches"]
        caches.setdefault(task.cache_key or task.name, []).insert(0, state)
    if state.is_failed():
        error = state.result
        if isinstance(error, BaseException):
            raise error
        raise RuntimeError(f"Task {task.name!r} ended {type(state).__name__}: {state.message}")
    return state.result


