"""Resource managers (classic ``prefect.tasks.core.resource_manager``): set a resource
up before a block of tasks and clean it up after them, even when they fail.

    @resource_manager
    class Cluster:
        def __init__(self, n): self.n = n
        def setup(self): return start_cluster(self.n)
        def cleanup(self, cluster): cluster.close()

    with Flow("f") as flow:
        with Cluster(3) as cluster:
            use(cluster)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from prefect_storage.context import _current, building_flow
from prefect_storage.core import signals
from prefect_storage.core.task import Task

if TYPE_CHECKING:
    from prefect_storage.core.edges import Edge
    from prefect_storage.core.flow import Flow
    from prefect_storage.core.state import State

__all__ = [
    "ResourceCleanupTask",
    "ResourceContext",
    "ResourceInitTask",
    "ResourceManager",
    "ResourceSetupTask",
    "resource_cleanup_trigger",
    "resource_manager",
]


class ResourceInitTask(Task):
    """Instantiates the resource class with the block's arguments."""

    def __init__(self, resource_class: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.run = resource_class  # type: ignore[method-assign]


class ResourceSetupTask(Task):
    """Calls ``mgr.setup()``; its result is the resource."""

    def run(self, mgr: Any) -> Any:  # type: ignore[override]
        return mgr.setup()


class ResourceCleanupTask(Task):
    """Calls ``mgr.cleanup(resource)``."""

    def run(self, mgr: Any, resource: Any = None) -> None:  # type: ignore[override]
        mgr.cleanup(resource)


def resource_cleanup_trigger(upstream_states: dict[Edge, State]) -> bool:
    """Clean up once everything finished; skip when init or setup did not succeed."""
    for edge, state in upstream_states.items():
        if not state.is_finished():
            raise signals.TRIGGERFAIL(
                "Trigger was 'resource_cleanup_trigger' but some of the upstream tasks were not finished."
            )
        if edge.key == "mgr":
            if state.is_skipped():
                raise signals.SKIP("Resource manager init skipped")
            if not state.is_successful():
                raise signals.SKIP("Resource manager init failed")
        elif edge.key == "resource":
            if state.is_skipped():
                raise signals.SKIP("Resource manager setup skipped")
            if not state.is_successful():
                raise signals.SKIP("Resource manager setup failed")
    return True


class ResourceContext:
    """What ``with Manager(...) as resource:`` opens; ``resource`` is the setup task."""

    def __init__(self, init_task: Task, setup_task: Task | None, cleanup_task: Task, flow: Flow) -> None:
        self.init_task = init_task
        self.setup_task = setup_task
        self.cleanup_task = cleanup_task
        self._flow = flow
        self._tasks: set[Task] = set()

    def add_task(self, task: Task, flow: Flow) -> None:
        if self._flow is not flow:
            raise ValueError("Multiple flows cannot be used with the same resource block")
        self._tasks.add(task)

    def __enter__(self) -> Task | None:
        current = _current()
        self._prev_resource = current.get("resource")
        current["resource"] = self
        return self.setup_task

    def __exit__(self, *args: Any) -> None:
        current = _current()
        if self._prev_resource is None:
            current.pop("resource", None)
        else:
            current["resource"] = self._prev_resource
        for child in self._tasks:
            upstream = self._flow.upstream_tasks(child)
            if self.setup_task is not None and not self._tasks.intersection(upstream) and self.setup_task not in upstream:
                child.set_upstream(self.setup_task, flow=self._flow)
            downstream = self._flow.downstream_tasks(child)
            if self.cleanup_task is not None and not self._tasks.intersection(downstream) and self.cleanup_task not in downstream:
                child.set_downstream(self.cleanup_task, flow=self._flow)


class ResourceManager:
    """Built by :func:`resource_manager`; calling it in a flow adds the init, setup and
    cleanup tasks and returns a :class:`ResourceContext`."""

    def __init__(
        self,
        resource_class: Callable[..., Any],
        name: str | None = None,
        init_task_kwargs: dict[str, Any] | None = None,
        setup_task_kwargs: dict[str, Any] | None = None,
        cleanup_task_kwargs: dict[str, Any] | None = None,
    ) -> None:
        self.resource_class = resource_class
        self.init_task_kwargs = dict(init_task_kwargs or {})
        self.setup_task_kwargs = dict(setup_task_kwargs or {})
        self.cleanup_task_kwargs = dict(cleanup_task_kwargs or {})
        if name is None:
            name = getattr(resource_class, "__name__", "resource")
        self.name = name
        self.init_task_kwargs.setdefault("name", name)
        self.setup_task_kwargs.setdefault("name", f"{name}.setup")
        self.setup_task_kwargs.setdefault("checkpoint", False)
        self.cleanup_task_kwargs.setdefault("name", f"{name}.cleanup")
        self.cleanup_task_kwargs.setdefault("trigger", resource_cleanup_trigger)
        self.cleanup_task_kwargs.setdefault("skip_on_upstream_skip", False)
        self.cleanup_task_kwargs.setdefault("checkpoint", False)

    def __call__(self, *args: Any, flow: Flow | None = None, **kwargs: Any) -> ResourceContext:
        if flow is None:
            flow = building_flow()
            if flow is None:
                raise ValueError("Could not infer an active Flow context.")
        init_task = ResourceInitTask(self.resource_class, **self.init_task_kwargs)(*args, flow=flow, **kwargs)
        if hasattr(self.resource_class, "setup"):
            setup_task: Task | None = ResourceSetupTask(**self.setup_task_kwargs)(init_task, flow=flow)
            cleanup_task = ResourceCleanupTask(**self.cleanup_task_kwargs)(init_task, setup_task, flow=flow)
        else:
            setup_task = None
            cleanup_task = ResourceCleanupTask(**self.cleanup_task_kwargs)(init_task, flow=flow)
        return ResourceContext(init_task, setup_task, cleanup_task, flow)


def resource_manager(
    resource_class: Callable[..., Any] | None = None,
    *,
    name: str | None = None,
    init_task_kwargs: dict[str, Any] | None = None,
    setup_task_kwargs: dict[str, Any] | None = None,
    cleanup_task_kwargs: dict[str, Any] | None = None,
) -> Any:
    """Decorate a resource class (``__init__`` args, optional ``setup()`` and
    ``cleanup(resource)``); bare or with options."""

    def inner(cls: Callable[..., Any]) -> ResourceManager:
        return ResourceManager(
            cls,
            name=name,
            init_task_kwargs=init_task_kwargs,
            setup_task_kwargs=setup_task_kwargs,
            cleanup_task_kwargs=cleanup_task_kwargs,
        )

    return inner if resource_class is None else inner(resource_class)
