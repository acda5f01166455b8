"""Runs a flow's tasks in this process, in dependency order (``flow.run()``)."""

from __future__ import annotations

import datetime
import time
import uuid
from typing import TYPE_CHECKING, Any

from prefect_storage import config
from prefect_storage.core.context import context
from prefect_storage.core.state import Cached, Failed, State, Success, TriggerFailed
from prefect_storage.secrets import get_logger

if TYPE_CHECKING:
    from prefect_storage.core.flow import Flow
    from prefect_storage.core.task import Task
    from prefect_storage.results.base import Result

logger = get_logger("flow_runner")


def _date_context(now: datetime.datetime) -> dict[str, Any]:
    day = datetime.timedelta(days=1)
    values: dict[str, Any] = {"date": now}
    for key, when in (("today", now), ("yesterday", now - day), ("tomorrow", now + day)):
        values[key] = when.strftime("%Y-%m-%d")
        values[f"{key}_nodash"] = when.strftime("%Y%m%d")
    return values


class FlowRunner:
    """Executes one flow run; see :meth:`prefect_storage.Flow.run`."""

    def __init__(self, flow: Flow) -> None:
        self.flow = flow

    def _result_for(self, task: Task) -> Result | None:
        if task.result is not None:
            return task.result
        if self.flow.result is not None:
            return self.flow.result
        storage = self.flow.storage
        return getattr(storage, "result", None) if storage is not None else None

    def run(self, parameters: dict[str, Any], checkpoint: bool | None = None, flow_run_id: str | None = None) -> State:
        flow = self.flow
        checkpointing = config.checkpointing() if checkpoint is None else checkpoint
        missing = [p.name for p in flow.parameters() if p.required and p.name not in parameters]
        if missing:
            return Failed(f"Missing required parameters: {sorted(missing)}", result={})
        states: dict[Task, State] = {}
        run_values = {
            **_date_context(datetime.datetime.now(datetime.timezone.utc)),
            "flow_name": flow.name,
            "flow_run_id": flow_run_id or str(uuid.uuid4()),
            "parameters": dict(parameters),
        }
        with context(**run_values):
            for task in flow.sorted_tasks():
                states[task] = self._run_task(task, states, checkpointing)
        failed = sorted(t.name for t in flow.reference_tasks() if states[t].is_failed())
        if failed:
            return Failed(f"Some reference tasks failed: {failed}", result=states)
        return Success("All reference tasks succeeded.", result=states)

    def _run_task(self, task: Task, states: dict[Task, State], checkpointing: bool) -> State:
        flow = self.flow
        upstream_failed = sorted(u.name for u in flow.upstream_tasks(task) if states[u].is_failed())
        if upstream_failed:
            return TriggerFailed(f"Trigger was 'all_successful' but some upstream tasks failed: {upstream_failed}")
        inputs = dict(flow.constants.get(task, {}))
        for edge in flow.edges if flow._upstream.get(task) else ():
            if edge.downstream_task is task and edge.key is not None:
                inputs[edge.key] = states[edge.upstream_task].result
        task_values = {
            "task_name": task.name,
            "task_slug": task.slug,
            "task_full_name": task.name,
            "task_tags": task.tags,
            "map_index": None,
        }
        result = self._result_for(task)
        with context(**task_values):
            format_kwargs = {**context.get("parameters", {}), **context.to_dict(), **inputs}
            if task.target is not None and result is not None:
                cached = self._read_target(task, result, format_kwargs)
                if cached is not None:
                    return cached
            for attempt in range(task.max_retries + 1):
                try:
                    with context(task_run_count=attempt + 1):
                        value = task.run(**inputs)
                    break
                except Exception as exc:  # a task failure is a state, not an exception
                    if attempt < task.max_retries:
                        logger.warning("Task %r failed (%r); retrying in %s.", task.name, exc, task.retry_delay)
                        time.sleep(task.retry_delay.total_seconds())
                        continue
                    logger.error("Task %r failed: %r", task.name, exc)
                    return Failed(f"Error during execution of task: {exc!r}", result=exc)
            state = Success("Task run succeeded.", result=value)
            if checkpointing and task.checkpoint is not False and value is not None and result is not None:
                try:
                    written = self._targeted(task, result).write(value, **format_kwargs)
                except Exception as exc:
                    logger.error("Could not checkpoint the result of task %r: %r", task.name, exc)
                    return Failed(f"Error checkpointing the result of task {task.name!r}: {exc!r}", result=exc)
                state.location = written.location
            return state

    @staticmethod
    def _targeted(task: Task, result: Result) -> Result:
        """``result`` with the task's ``target`` as its location template, if it has one."""
        if task.target is None:
            return result
        targeted = result.copy()
        if callable(task.target):
            targeted._formatter, targeted.location = task.target, None
        else:
            targeted._formatter, targeted.location = None, task.target
        return targeted

    def _read_target(self, task: Task, result: Result, format_kwargs: dict[str, Any]) -> State | None:
        target = task.target(**format_kwargs) if callable(task.target) else task.target.format(**format_kwargs)
        if not result.exists(target, **format_kwargs):
            return None
        stored = result.read(target)
        return Cached(f"Result found at task target {target}", result=stored.value, location=stored.location)
