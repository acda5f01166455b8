"""``create_flow_run``, ``wait_for_flow_run``, ``get_task_run_result`` and ``StartFlowRun``
with the classic signatures, against the registry (see :mod:`prefect_storage.tasks.prefect`).

Inside an agent's run they reach the registry through the agent's run broker, never
with the registry's URL; in a local ``flow.run()`` through the configured registry.
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from prefect_storage.backend.flow_run import FlowRunView, load_task_result, registry_state, watch_flow_run
from prefect_storage.core.task import Task, task
from prefect_storage.exceptions import RunRegistryError
from prefect_storage.secrets import get_logger

T = TypeVar("T")
_fallback_logger = get_logger("tasks.prefect")


def _logger() -> Any:
    from prefect_storage import context

    return context.get("logger") or _fallback_logger


def _registry_call(call: Callable[[Any], T]) -> T:
    """``call(registry)``; a registry that cannot be reached becomes a clear RunRegistryError."""
    from prefect_storage.registry.client import run_registry

    registry = run_registry()
    try:
        return call(registry)
    except RunRegistryError:
        raise
    except Exception as exc:
        from prefect_storage.registry.errors import is_transient

        if is_transient(exc):
            raise RunRegistryError(
                f"The registry is not reachable from this flow run ({type(exc).__name__}). Check "
                "PREFECT_STORAGE_REGISTRY_URL where the flow runs, or run it through an agent."
            ) from None
        raise


def _start_time(value: datetime.datetime | datetime.timedelta | None) -> datetime.datetime | None:
    if isinstance(value, datetime.timedelta):
        return datetime.datetime.now(datetime.timezone.utc) + value
    return value


def _default_idempotency_key(with_map_index: bool = True) -> str | None:
    from prefect_storage import context

    key = context.get("task_run_id")
    map_index = context.get("map_index")
    if key and with_map_index and map_index is not None and map_index != -1:
        key = f"{key}-{map_index}"
    return str(key) if key else None


def _create(
    flow_record: Any,
    parameters: dict[str, Any] | None,
    labels: Iterable[str] | None,
    run_name: str | None,
    scheduled_start_time: Any,
    idempotency_key: str | None,
) -> str:
    from prefect_storage import context

    run = _registry_call(lambda r: r.create_child_flow_run(
        flow_record.id,
        parameters=dict(parameters or {}),
        labels=None if labels is None else list(labels),
        idempotency_key=idempotency_key,
        run_name=run_name,
        scheduled_start_time=_start_time(scheduled_start_time),
        parent_flow_run_id=context.get("flow_run_id"),
    ))
    return str(run.id)


@task
def create_flow_run(
    flow_id: str | None = None,
    flow_name: str | None = None,
    project_name: str = "",
    parameters: dict[str, Any] | None = None,
    context: dict[str, Any] | None = None,
    labels: Iterable[str] | None = None,
    run_name: str | None = None,
    run_config: Any = None,
    scheduled_start_time: datetime.datetime | datetime.timedelta | None = None,
    idempotency_key: str | None = None,
) -> str:
    """Schedule a run of a registered flow (by ``flow_id``, or ``flow_name`` in
    ``project_name``) and return its id. Any agent whose labels cover the run executes it.

    ``idempotency_key`` defaults to the running task run's id (plus its map index), so
    a retried task returns the run it already created instead of starting another.
    ``scheduled_start_time`` may be a datetime or a timedelta from now. ``context`` and
    ``run_config`` are accepted for compatibility; the child runs with its own
    registered run config.
    """
    from prefect_storage import context as run_context

    if flow_id and flow_name:
        raise ValueError("Received both `flow_id` and `flow_name`. Only one flow identifier can be passed.")
    if not flow_id and not flow_name:
        raise ValueError("Both `flow_id` and `flow_name` are null. You must pass a flow identifier")
    logger = _logger()
    logger.debug("Looking up flow metadata...")
    if flow_id:
        flow = _registry_call(lambda r: r.get_flow(flow_id))
    else:
        flow = _registry_call(lambda r: r.find_flow(str(flow_name), project=project_name or None))
    if not run_name:
        current = run_context.get("flow_run_name")
        if current:
            run_name = f"{current}-{flow.name}"
    shown = run_name or "<generated-name>"
    logger.info(f"Creating flow run {shown!r} for flow {flow.name!r}...")
    if idempotency_key is None:
        idempotency_key = _default_idempotency_key()
    flow_run_id = _create(flow, parameters, labels, run_name, scheduled_start_time, idempotency_key)
    logger.info(f"Created flow run {shown!r}: {flow_run_id}")
    return flow_run_id


@task
def wait_for_flow_run(
    flow_run_id: str,
    stream_states: bool = True,
    stream_logs: bool = False,
    raise_final_state: bool = False,
    max_duration: datetime.timedelta = datetime.timedelta(hours=12),
) -> FlowRunView:
    """Wait for flow run ``flow_run_id`` to finish, logging its state changes (and, with
    ``stream_logs``, its log lines) as ``Flow '<name>': ...``; return a
    :class:`~prefect_storage.backend.flow_run.FlowRunView` of the finished run.

    With ``raise_final_state`` this task ends in the child's final state instead
    (message ``"<id> finished in state <state>"``).
    """
    flow_run = _registry_call(lambda r: FlowRunView(r.get_flow_run(flow_run_id)))
    logger = _logger()
    for level, message in watch_flow_run(flow_run_id, stream_states=stream_states, stream_logs=stream_logs, max_duration=max_duration):
        logger.log(level, f"Flow {flow_run.name!r}: {message}")
    flow_run = flow_run.get_latest()
    if raise_final_state:
        _raise_state(flow_run, flow_run_id, result=flow_run)
    return flow_run


def _raise_state(flow_run: FlowRunView, flow_run_id: str, result: Any = None) -> None:
    from prefect_storage.core.signals import signal_from_state

    state = flow_run.state
    raise signal_from_state(state)(message=f"{flow_run_id} finished in state {state}", result=result)


@task
def get_task_run_result(flow_run_id: str, task_slug: str, map_index: int = -1, poll_time: int = 5) -> Any:
    """The value task ``task_slug`` returned in flow run ``flow_run_id`` (``map_index``
    for one mapped child; -1 for an unmapped task or a mapped task's whole list).

    Waits for the run to finish first, polling every ``poll_time`` seconds (at most).
    The value comes from what the run's agent recorded, else from the task's result
    location (which must then be readable from here).
    """
    from prefect_storage import context
    from prefect_storage.registry.repository import FINISHED_STATES

    if not task_slug:
        raise ValueError("Required argument `task_slug` is empty")
    if context.get("flow_run_id") == flow_run_id:
        raise ValueError(
            "Given `flow_run_id` is the same as the currently running flow. The `get_task_run_result` task cannot "
            "be used to retrieve results from the flow run it belongs to."
        )
    shown = repr(task_slug) if map_index == -1 else f"'{task_slug}[{map_index}]'"
    logger = _logger()
    run = _registry_call(lambda r: r.get_flow_run(flow_run_id))
    delay = min(0.25, poll_time)
    while run.state not in FINISHED_STATES:
        logger.debug(f"Waiting for flow run {flow_run_id} to finish before retrieving result for task run {shown}...")
        time.sleep(delay)
        delay = min(delay * 2, poll_time)
        run = _registry_call(lambda r: r.get_flow_run(flow_run_id))
    return load_task_result(run, task_slug, map_index)


class StartFlowRun(Task):
    """The older class form: schedule a run of ``flow_name`` in ``project_name`` and, with
    ``wait=True``, wait for it and end in its final state (classic ``StartFlowRun``).

    Static arguments go to the constructor; any of them may instead be given when the
    task is called in a flow (``StartFlowRun(flow_name="etl", project_name="p")(parameters=...)``).
    """

    def __init__(
        self,
        flow_name: str | None = None,
        project_name: str | None = None,
        parameters: dict[str, Any] | None = None,
        run_config: Any = None,
        wait: bool = False,
        new_flow_context: dict[str, Any] | None = None,
        run_name: str | None = None,
        scheduled_start_time: datetime.datetime | None = None,
        poll_interval: datetime.timedelta = datetime.timedelta(seconds=10),
        create_link_artifact: bool = True,
        **kwargs: Any,
    ) -> None:
        for value in (parameters or {}).values():
            if isinstance(value, Task):
                raise TypeError(
                    "An instance of `Task` was passed to the `StartFlowRun` constructor via the `parameters` kwarg. "
                    "Pass task-valued parameters when calling the task instead:\n\n"
                    "  start_flow_run = StartFlowRun(...)  # static (non-Task) args go here\n"
                    "  res = start_flow_run(parameters=...)  # dynamic (Task) args go here\n"
                )
        if poll_interval.total_seconds() < 3:
            raise ValueError(
                "`poll_interval` needs to be at least 3 seconds to avoid spamming the registry. "
                f"(poll_interval == {poll_interval.total_seconds()} seconds)!"
            )
        self.flow_name = flow_name
        self.project_name = project_name
        self.parameters = parameters
        self.run_config = run_config
        self.wait = wait
        self.new_flow_context = new_flow_context
        self.run_name = run_name
        self.scheduled_start_time = scheduled_start_time
        self.poll_interval = poll_interval
        self.create_link_artifact = create_link_artifact
        if flow_name:
            kwargs.setdefault("name", f"Flow {flow_name}")
        super().__init__(**kwargs)

    def run(  # type: ignore[override]
        self,
        flow_name: str | None = None,
        project_name: str | None = None,
        parameters: dict[str, Any] | None = None,
        run_config: Any = None,
        new_flow_context: dict[str, Any] | None = None,
        run_name: str | None = None,
        idempotency_key: str | None = None,
        scheduled_start_time: datetime.datetime | None = None,
    ) -> str:
        """Schedule the run; return its id, or (``wait=True``) end in its final state."""
        from prefect_storage import context

        flow_name = flow_name if flow_name is not None else self.flow_name
        project_name = project_name if project_name is not None else self.project_name
        parameters = parameters if parameters is not None else self.parameters
        run_name = run_name if run_name is not None else self.run_name
        scheduled_start_time = scheduled_start_time if scheduled_start_time is not None else self.scheduled_start_time
        if flow_name is None:
            raise ValueError("Must provide a flow name.")
        if project_name is None:
            raise ValueError("Must provide a project name.")
        from prefect_storage.registry.errors import NotRegisteredError

        try:
            flow = _registry_call(lambda r: r.find_flow(flow_name, project=project_name or None))
        except NotRegisteredError:
            raise ValueError(f"Flow '{flow_name}' not found.") from None
        if idempotency_key is None:
            idempotency_key = context.get("task_run_id")
        flow_run_id = _create(flow, parameters, None, run_name, scheduled_start_time, idempotency_key)
        self.logger.debug(f"Flow Run {flow_run_id} created.")
        if self.create_link_artifact:
            from prefect_storage.backend.artifacts import create_link_artifact

            create_link_artifact(f"flow-run/{flow_run_id}")
        self.logger.info(f"Flow Run: {flow_run_id}")
        if not self.wait:
            return flow_run_id
        from prefect_storage.registry.repository import FINISHED_STATES

        while True:
            time.sleep(min(self.poll_interval.total_seconds(), _wait_poll_seconds()))
            run = _registry_call(lambda r: r.get_flow_run(flow_run_id))
            if run.state in FINISHED_STATES:
                from prefect_storage.core.signals import signal_from_state

                state = registry_state(run.state, run.message)
                raise signal_from_state(state)(f"{flow_run_id} finished in state {state}")


def _wait_poll_seconds() -> float:
    """How often ``StartFlowRun(wait=True)`` checks the registry: a local database poll is
    cheap, so the classic 10 s default is capped (``PREFECT_STORAGE_START_FLOW_RUN_POLL``)."""
    import os

    try:
        return float(os.environ.get("PREFECT_STORAGE_START_FLOW_RUN_POLL", "1"))
    except ValueError:
        return 1.0


__all__ = ["StartFlowRun", "create_flow_run", "get_task_run_result", "wait_for_flow_run"]
