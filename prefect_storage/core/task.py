"""Tasks: the classic ``Task`` class, the ``@task`` decorator and ``Parameter``."""

from __future__ import annotations

import copy
import datetime
import functools
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from prefect_storage.core.context import building_flow, context

if TYPE_CHECKING:
    from prefect_storage.core.flow import Flow
    from prefect_storage.results.base import Result

__all__ = ["Parameter", "Task", "task"]

_NO_DEFAULT = object()


class Task:
    """A unit of work; subclass it and implement :meth:`run`, or use :func:`task`.

    Calling a task inside a ``with Flow(...)`` block adds a copy of it to that flow,
    with every task passed as an argument becoming an upstream dependency whose
    result feeds that argument (the classic functional API)::

        with Flow("etl") as flow:
            data = extract()
            load(transform(data))

    Args:
        name: display name; defaults to the class (or function) name.
        slug: a flow-unique identifier; assigned by the flow when not given.
        tags: free-form tags.
        max_retries: how many times to re-run the task after it raises.
        retry_delay: wait between retries; required when ``max_retries`` > 0.
        checkpoint: ``False`` disables writing this task's result even when
            checkpointing is on.
        result: where to checkpoint this task's output; overrides the flow's result.
        target: a location template; when the result already exists there, the task
            is not run and its stored value is used (state ``Cached``).
    """

    def __init__(
        self,
        name: str | None = None,
        slug: str | None = None,
        tags: Iterable[str] | None = None,
        max_retries: int | None = None,
        retry_delay: datetime.timedelta | None = None,
        checkpoint: bool | None = None,
        result: Result | None = None,
        target: str | Callable[..., str] | None = None,
    ) -> None:
        self.name = name or type(self).__name__
        self.slug = slug
        self.tags = set(tags or ())
        self.max_retries = max_retries or 0
        if self.max_retries > 0 and retry_delay is None:
            raise ValueError("A datetime.timedelta `retry_delay` must be provided if max_retries > 0")
        self.retry_delay = retry_delay or datetime.timedelta(0)
        self.checkpoint = checkpoint
        self.result = result
        self.target = target

    def __repr__(self) -> str:
        return f"<Task: {self.name}>"

    def run(self) -> Any:
        """The task's work. Subclasses override this; its signature defines the inputs."""
        raise NotImplementedError(f"{type(self).__name__} must implement run().")

    # -- functional API -------------------------------------------------------------

    def copy(self, **task_args: Any) -> Task:
        """A shallow copy with ``task_args`` applied as attributes; slug cleared."""
        new = copy.copy(self)
        new.tags = set(self.tags)
        for key, value in task_args.items():
            if not hasattr(new, key):
                raise AttributeError(f"{type(self).__name__} has no attribute {key!r}")
            setattr(new, key, value)
        if "slug" not in task_args:
            new.slug = None
        return new

    def __call__(
        self,
        *args: Any,
        upstream_tasks: Iterable[Task] | None = None,
        flow: Flow | None = None,
        task_args: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> Task:
        new = self.copy(**(task_args or {}))
        new.bind(*args, upstream_tasks=upstream_tasks, flow=flow, **kwargs)
        return new

    def bind(
        self,
        *args: Any,
        upstream_tasks: Iterable[Task] | None = None,
        flow: Flow | None = None,
        **kwargs: Any,
    ) -> Task:
        """Add this task to ``flow`` (or the open flow) with ``args``/``kwargs`` as inputs."""
        flow = flow or building_flow()
        if flow is None:
            raise ValueError(
                f"Could not infer an active Flow context while binding task {self.name!r}: "
                "call it inside `with Flow(...):` or pass flow=."
            )
        import inspect

        try:
            bound = inspect.signature(self.run).bind(*args, **kwargs)
        except TypeError as exc:
            raise TypeError(f"Task {self.name!r}: {exc}") from None
        keyword_tasks: dict[str, Any] = dict(bound.arguments)
        flow.set_dependencies(self, upstream_tasks=upstream_tasks, keyword_tasks=keyword_tasks)
        return self

    def set_upstream(self, task: Task, key: str | None = None, flow: Flow | None = None) -> None:
        flow = flow or building_flow()
        if flow is None:
            raise ValueError("No Flow was passed and no Flow context is open.")
        flow.add_edge(task, self, key=key)

    def set_downstream(self, task: Task, key: str | None = None, flow: Flow | None = None) -> None:
        flow = flow or building_flow()
        if flow is None:
            raise ValueError("No Flow was passed and no Flow context is open.")
        flow.add_edge(self, task, key=key)

    def input_names(self) -> list[str]:
        import inspect

        return list(inspect.signature(self.run).parameters)


class FunctionTask(Task):
    """A task whose ``run`` is a plain function (what ``@task`` makes)."""

    def __init__(self, fn: Callable[..., Any], name: str | None = None, **kwargs: Any) -> None:
        if not callable(fn):
            raise TypeError("fn must be callable.")
        self.run = fn  # type: ignore[method-assign]
        functools.update_wrapper(self, fn)  # keeps __doc__, __module__ for tooling
        super().__init__(name=name or getattr(fn, "__name__", type(self).__name__), **kwargs)


def task(fn: Callable[..., Any] | None = None, **task_init_kwargs: Any) -> Any:
    """Turn a function into a :class:`Task`; usable bare (``@task``) or with options
    (``@task(name="x", max_retries=2, retry_delay=timedelta(seconds=1))``)."""
    if fn is None:
        return lambda f: FunctionTask(fn=f, **task_init_kwargs)
    return FunctionTask(fn=fn, **task_init_kwargs)


class Parameter(Task):
    """A flow input, given to ``flow.run(parameters={...})`` or to a flow run.

    Args:
        name: the parameter's name; unique within a flow.
        default: used when the run gives no value.
        required: a run without a value fails; defaults to True when there is no default.
    """

    def __init__(self, name: str, default: Any = _NO_DEFAULT, required: bool | None = None, **kwargs: Any) -> None:
        if required is None:
            required = default is _NO_DEFAULT
        self.default = None if default is _NO_DEFAULT else default
        self.required = required
        super().__init__(name=name, slug=name, checkpoint=False, **kwargs)

    def __repr__(self) -> str:
        return f"<Parameter: {self.name}>"

    def __call__(self, *args: Any, **kwargs: Any) -> Task:  # classic: parameters are not copied
        raise TypeError(f"Parameter {self.name!r} cannot be called; pass it to tasks as an argument.")

    def copy(self, **task_args: Any) -> Task:
        if "name" in task_args and "slug" not in task_args:
            task_args["slug"] = task_args["name"]
        new = super().copy(**task_args)
        new.slug = task_args.get("slug", self.slug)
        return new

    def run(self) -> Any:
        parameters = context.get("parameters", {})
        if self.name in parameters:
            return parameters[self.name]
        if self.required:
            raise ValueError(f'No value provided for the required parameter "{self.name}".')
        return self.default
