"""The classic ``Task`` (``prefect.core.task``) and ``FunctionTask`` (what ``@task`` makes).

Subclass :class:`Task` and implement ``run``, or decorate a function with ``@task``.
Calling a task inside ``with Flow(...)`` adds a *copy* of it to the flow; task
arguments become upstream edges, other values constants::

    with Flow("etl") as flow:
        data = extract()
        load(transform(data))
"""

from __future__ import annotations

import collections.abc
import copy
import enum
import functools
import typing
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from prefect_storage.context import _current, building_flow, modern_flow_run
from prefect_storage.core import cache_validators, triggers
from prefect_storage.core.edges import EdgeAnnotation

if TYPE_CHECKING:
    from prefect_storage.core.flow import Flow
    from prefect_storage.results.base import Result

__all__ = ["FunctionTask", "NoDefault", "Task", "TaskMetaclass", "task"]


def _get_logger(name: str) -> Any:
    from prefect_storage.log import get_logger  # lazy: `import prefect_storage` stays free of logging

    return get_logger(name)


class NoDefault(enum.Enum):
    """Sentinel for "no default" (``NoDefault.value``)."""

    value = "no_default"

    def __repr__(self) -> str:
        return "<no default>"


_RESERVED_ARGS = ("upstream_tasks", "mapped", "task_args", "flow")


def _validate_run_signature(run: Callable[..., Any]) -> None:
    import inspect

    func = inspect.unwrap(run)
    try:
        spec = inspect.getfullargspec(func)
    except TypeError as exc:
        if str(exc) == "unsupported callable":
            raise ValueError(
                "This function can not be inspected (this is common with `builtin` and `numpy` functions). "
                "In order to use it as a task, please wrap it in a standard Python function."
            ) from exc
        raise
    if spec.varargs:
        raise ValueError(
            "Tasks with variable positional arguments (*args) are not supported, because all Prefect arguments "
            "are stored as keywords. As a workaround, consider modifying the run() method to accept **kwargs "
            "and feeding the values to *args."
        )
    violations = [kw for kw in _RESERVED_ARGS if kw in spec.args]
    if violations:
        raise ValueError(
            f"Tasks cannot have the following argument names: {', '.join(violations)}. "
            "These are reserved keyword arguments."
        )


def _infer_run_nout(run: Callable[..., Any]) -> int | None:
    import inspect

    try:
        ret = inspect.signature(run).return_annotation
    except Exception:
        return None
    if ret is inspect.Parameter.empty:
        return None
    if isinstance(ret, str):
        try:
            ret = typing.get_type_hints(run).get("return", ret)
        except Exception:
            return None
    origin = typing.get_origin(ret)
    if origin not in (typing.Tuple, tuple):  # noqa: UP006
        return None
    if ret in (typing.Tuple, tuple):  # noqa: UP006
        return None
    args = typing.get_args(ret)
    if len(args) == 1 and args[0] == ():
        return 0
    if len(args) == 2 and args[1] is Ellipsis:
        return None
    return len(args)


class TaskMetaclass(type):
    """Checks ``run`` signatures at class creation; warns when a Task is passed to a
    task constructor (a common mix-up of init and call arguments)."""

    def __new__(mcs, name: str, parents: tuple[type, ...], methods: dict[str, Any]) -> TaskMetaclass:
        if not str(methods.get("__module__", "")).startswith("prefect_storage."):
            # this package's own tasks are known good; skipping them keeps `import` light
            _validate_run_signature(methods.get("run", lambda: None))
        if "__init__" in methods:
            old_init = methods["__init__"]

            @functools.wraps(old_init)
            def init(self: Any, *args: Any, **kwargs: Any) -> None:
                if any(isinstance(a, Task) for a in args + tuple(kwargs.values())):
                    cls_name = type(self).__name__
                    warnings.warn(
                        f"A Task was passed as an argument to {cls_name}, you likely want to first initialize "
                        f"{cls_name} with any static (non-Task) arguments, then call the initialized task with any "
                        "dynamic (Task) arguments instead. For example:\n\n"
                        f"  my_task = {cls_name}(...)  # static (non-Task) args go here\n"
                        "  res = my_task(...)  # dynamic (Task) args go here\n",
                        stacklevel=2,
                    )
                old_init(self, *args, **kwargs)

            methods = dict(methods)
            methods["__init__"] = init
        return type.__new__(mcs, name, parents, methods)

    @property
    def _reserved_attributes(cls) -> tuple[str, ...]:
        if "_cached_reserved_attributes" not in Task.__dict__:
            from prefect_storage.context import context

            with context(_unused_task_tracker=set()):
                Task._cached_reserved_attributes = tuple(sorted(Task().__dict__))  # type: ignore[attr-defined]
        return Task._cached_reserved_attributes  # type: ignore[attr-defined,no-any-return]


class instance_property:
    """A property that exists on instances only (``inspect.signature(task)``)."""

    def __init__(self, func: Callable[[Any], Any]) -> None:
        self.func = func

    def __getattr__(self, key: str) -> Any:
        return getattr(self.func, key)

    def __get__(self, obj: Any, cls: Any) -> Any:
        if obj is None:
            raise AttributeError
        return self.func(obj)


def _track(task: Task) -> None:
    tracker = _current().get("_unused_task_tracker")
    if tracker is not None:
        from prefect_storage.tasks.core.constants import Constant

        if not isinstance(task, Constant):
            tracker.add(task)


class Task(metaclass=TaskMetaclass):
    """A unit of work: subclass it and implement :meth:`run`, or use :func:`task`.

    Args:
        name: display name (default: the class name).
        slug: a flow-unique id (default: assigned by the flow).
        tags: a set of tags (``prefect_storage.tags(...)`` blocks add theirs).
        max_retries: re-runs after a failure; needs ``retry_delay``.
        retry_delay: a ``timedelta`` between attempts.
        retry_on: retry only for these exception types.
        timeout: seconds (int or ``timedelta``) after which the run ends ``TimedOut``.
        trigger: when to run given the upstream states (default ``all_successful``).
        skip_on_upstream_skip: end ``Skipped`` when an upstream task was skipped.
        cache_for: keep the result this long and reuse it (state ``Cached``).
        cache_validator: decides whether a cached result still applies.
        cache_key: share cached results between tasks with the same key.
        checkpoint: ``False`` never writes this task's result.
        state_handlers: ``handler(task, old_state, new_state)`` called on every change.
        on_failure: ``fn(task, state)`` called when the task fails.
        log_stdout: send ``print`` output in ``run`` to the task's logger.
        result: where to checkpoint the output (default: the flow's result).
        target: a location template; when it exists the stored value is used.
        task_run_name: a template or callable naming each run.
        nout: the number of values ``run`` returns, for ``a, b = task()``.
    """

    def __init__(
        self,
        name: str | None = None,
        slug: str | None = None,
        tags: Iterable[str] | None = None,
        max_retries: int | None = None,
        retry_delay: timedelta | None = None,
        retry_on: type[Exception] | Iterable[type[Exception]] | None = None,
        timeout: int | timedelta | None = None,
        trigger: Callable[[dict[Any, Any]], bool] | None = None,
        skip_on_upstream_skip: bool = True,
        cache_for: timedelta | None = None,
        cache_validator: Callable[..., bool] | None = None,
        cache_key: str | None = None,
        checkpoint: bool | None = None,
        state_handlers: list[Callable[..., Any]] | None = None,
        on_failure: Callable[..., Any] | None = None,
        log_stdout: bool = False,
        result: Result | None = None,
        target: str | Callable[..., str] | None = None,
        task_run_name: str | Callable[..., str] | None = None,
        nout: int | None = None,
    ) -> None:
        if type(self) is not Task:
            for attr in type(self)._reserved_attributes:  # type: ignore[attr-defined]
                if hasattr(self, attr):
                    warnings.warn(
                        f"`{type(self).__name__}` sets a `{attr}` attribute, which will be overwritten by "
                        "`prefect_storage.Task`. Please rename this attribute to avoid this issue.",
                        stacklevel=2,
                    )
        self.name = name or type(self).__name__
        self.slug = slug
        self.logger = _get_logger(self.name)
        import inspect

        positional = [
            n for n, p in inspect.signature(self.run).parameters.items() if p.kind == inspect.Parameter.POSITIONAL_ONLY
        ]
        if positional:
            raise TypeError(
                f"Found positional-only parameters in the function signature for task {self.name}: {positional}. "
                "Prefect passes arguments using keywords and does not support positional-only parameters."
            )
        if isinstance(tags, str):
            raise TypeError("Tags should be a set of tags, not a string.")
        current_tags = _current().get("tags") or set()
        self.tags: set[str] = (set(tags) if tags is not None else set()) | set(current_tags)

        from prefect_storage.core.configuration import config

        task_defaults = config.tasks.defaults
        max_retries = max_retries if max_retries is not None else task_defaults.max_retries
        retry_delay = retry_delay if retry_delay is not None or not max_retries else task_defaults.retry_delay
        timeout = timeout if timeout is not None else task_defaults.timeout
        if max_retries > 0 and retry_delay is None:
            raise ValueError("A datetime.timedelta `retry_delay` must be provided if max_retries > 0")
        if retry_on and not max_retries > 0:
            raise ValueError("A number of `max_retries` must be provided if `retry_on` is set.")
        self.retry_on: set[type[Exception]] | None = None
        if retry_on:
            self.retry_on = set(retry_on) if isinstance(retry_on, Iterable) else {retry_on}
            for value in self.retry_on:
                if not isinstance(value, type):
                    raise TypeError(
                        f"Invalid `retry_on` value {value!r}. Expected an exception type but got an instance of "
                        f"{type(value).__name__}"
                    )
                if not issubclass(value, Exception):
                    raise TypeError(f"Invalid `retry_on` value {value!r}. Expected an exception subclass.")
        if retry_delay is not None and not max_retries:
            raise ValueError(
                "A `max_retries` argument greater than 0 must be provided if specifying a retry delay."
            )
        if isinstance(timeout, timedelta):
            if timeout.microseconds > 0:
                warnings.warn(
                    "Task timeouts do not support a sub-second resolution; smaller units will be ignored!",
                    stacklevel=2,
                )
            timeout = int(timeout.total_seconds())
        if timeout is not None and (not isinstance(timeout, int) or isinstance(timeout, bool)):
            raise TypeError("Only integer timeouts (representing seconds) are supported.")
        self.max_retries: int = max_retries
        self.retry_delay = retry_delay
        self.timeout: int | None = timeout
        self.trigger = trigger or triggers.all_successful
        self.skip_on_upstream_skip = skip_on_upstream_skip
        if cache_for is None and cache_validator is not None and cache_validator is not cache_validators.never_use:
            warnings.warn(
                "cache_validator provided without specifying cache expiration (cache_for); this Task will not be "
                "cached.",
                stacklevel=2,
            )
        self.cache_for = cache_for
        self.cache_key = cache_key
        default_validator = cache_validators.never_use if cache_for is None else cache_validators.duration_only
        self.cache_validator = cache_validator or default_validator
        self.checkpoint = checkpoint
        self.result = result
        self.target = target
        self._reconcile_target()
        self.task_run_name = task_run_name
        if state_handlers and not isinstance(state_handlers, collections.abc.Sequence):
            raise TypeError("state_handlers should be iterable.")
        self.state_handlers: list[Callable[..., Any]] = list(state_handlers or [])
        if on_failure is not None:
            from prefect_storage.core.utilities import callback_factory

            self.state_handlers.append(callback_factory(on_failure, check=lambda s: s.is_failed()))
        self.auto_generated = False
        self.log_stdout = log_stdout
        if nout is None:
            nout = _infer_run_nout(self.run)
        self.nout = nout
        _track(self)

    def _reconcile_target(self) -> None:
        if self.target and self.result:
            location = getattr(self.result, "location", None)
            if location and location != self.target:
                warnings.warn(
                    "Both `result.location` and `target` were provided. The `target` value will be used.",
                    stacklevel=3,
                )
            self.result = self.result.copy()
            if callable(self.target):
                self.result._formatter, self.result.location = self.target, None  # type: ignore[union-attr]
            else:
                self.result.location = self.target  # type: ignore[union-attr]

    def __repr__(self) -> str:
        return f"<Task: {self.name}>"

    def __hash__(self) -> int:
        return id(self)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_cached_signature", None)
        return state

    def run(self) -> Any:
        """The task's work. Subclasses override this; its signature defines the inputs."""

    # -- copies and binding --------------------------------------------------------

    def copy(self, **task_args: Any) -> Task:
        """A shallow copy with ``task_args`` set as attributes (each must exist)."""
        flow = building_flow()
        if flow is not None and self in flow.tasks and (flow._upstream_edges.get(self) or flow._downstream_edges.get(self)):
            warnings.warn(
                "You are making a copy of a task that has dependencies on or to other tasks in the active flow "
                "context. The copy will not retain those dependencies.",
                stacklevel=2,
            )
        new = copy.copy(self)
        if new.slug and "slug" not in task_args:
            task_args["slug"] = new.slug + "-copy"
        for attr, value in task_args.items():
            if not hasattr(new, attr):
                raise AttributeError(f"{self} does not have {attr} as an attribute")
            setattr(new, attr, value)
        new._reconcile_target()
        new.tags = set(self.tags) | set(new.tags)
        new.tags.update(_current().get("tags") or ())
        if isinstance(new.state_handlers, list):
            new.state_handlers = list(new.state_handlers)
        tracker = _current().get("_unused_task_tracker")
        if tracker is not None:
            tracker.discard(self)
            _track(new)
        return new

    @instance_property
    def __signature__(self) -> Any:
        cached = self.__dict__.get("_cached_signature")
        if cached is None:
            import inspect

            sig = inspect.Signature.from_callable(self.run)
            by_kind: dict[Any, list[inspect.Parameter]] = collections.defaultdict(list)
            for parameter in sig.parameters.values():
                by_kind[parameter.kind].append(parameter)
            by_kind[inspect.Parameter.KEYWORD_ONLY].extend(_extra_call_parameters())
            ordered: list[inspect.Parameter] = []
            for kind in (
                inspect.Parameter.POSITIONAL_ONLY,
                inspect.Parameter.POSITIONAL_OR_KEYWORD,
                inspect.Parameter.VAR_POSITIONAL,
                inspect.Parameter.KEYWORD_ONLY,
                inspect.Parameter.VAR_KEYWORD,
            ):
                ordered.extend(by_kind[kind])
            cached = inspect.Signature(parameters=ordered, return_annotation="Task")
            self.__dict__["_cached_signature"] = cached
        return cached

    def __call__(
        self,
        *args: Any,
        mapped: bool = False,
        task_args: dict[str, Any] | None = None,
        upstream_tasks: Iterable[Any] | None = None,
        flow: Flow | None = None,
        **kwargs: Any,
    ) -> Any:
        """A copy of this task bound to ``args``/``kwargs`` in the open flow.

        Inside a modern ``@flow`` run (and no ``with Flow()`` block), the task runs at
        once, with its retries, cache and state handlers, and its value is returned.
        """
        if flow is None and building_flow() is None and modern_flow_run() is not None:
            from prefect_storage.core.task_runner import run_task_now

            return run_task_now(self.copy(**(task_args or {})), args, kwargs)
        import inspect

        new = self.copy(**(task_args or {}))
        positional = [
            n for n, p in inspect.signature(new.run).parameters.items() if p.kind == inspect.Parameter.POSITIONAL_ONLY
        ]
        if positional:
            raise TypeError(
                f"Prefect passes arguments to task as keyword arguments. Positional-Only arguments found : {positional}"
            )
        new.bind(*args, mapped=mapped, upstream_tasks=upstream_tasks, flow=flow, **kwargs)
        return new

    def bind(
        self,
        *args: Any,
        mapped: bool = False,
        upstream_tasks: Iterable[Any] | None = None,
        flow: Flow | None = None,
        **kwargs: Any,
    ) -> Task:
        """Add this task (not a copy) to ``flow`` with ``args``/``kwargs`` as inputs."""
        import inspect

        signature = inspect.signature(self.run)
        try:
            callargs = dict(signature.bind(*args, **kwargs).arguments)
        except TypeError as exc:
            raise TypeError(f"{exc} (task {self.name!r}, {type(self).__name__}.run{signature})") from None
        var_kw = next((p for p in signature.parameters.values() if p.kind == inspect.Parameter.VAR_KEYWORD), None)
        if var_kw is not None:
            callargs.update(callargs.pop(var_kw.name, {}))
        flow = flow or building_flow()
        if flow is None:
            task_name = self.name if isinstance(self, FunctionTask) else f"{type(self).__name__}(...)"
            raise ValueError(
                f"Could not infer an active Flow context while creating edge to {self}. This often means you called "
                "a task outside a `with Flow(...)` block. If you're trying to run this task outside of a Flow "
                f"context, you need to call `{task_name}.run(...)`"
            )
        self.set_dependencies(flow=flow, upstream_tasks=upstream_tasks, keyword_tasks=callargs, mapped=mapped)
        self.tags.update(_current().get("tags") or ())
        return self

    def map(
        self,
        *args: Any,
        upstream_tasks: Iterable[Any] | None = None,
        flow: Flow | None = None,
        task_args: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> Task:
        """A copy mapped over its arguments: one child run per element (``unmapped(x)``
        passes ``x`` whole to every child)."""
        for arg in args:
            if not hasattr(arg, "__getitem__") and not isinstance(arg, EdgeAnnotation):
                raise TypeError(f"Cannot map over unsubscriptable object of type {type(arg)}: {repr(arg)[:10]}...")
        task_args = dict(task_args) if task_args else {}
        task_args.setdefault("nout", None)
        new = self.copy(**task_args)
        return new.bind(*args, mapped=True, upstream_tasks=upstream_tasks, flow=flow, **kwargs)

    def set_dependencies(
        self,
        flow: Flow | None = None,
        upstream_tasks: Iterable[object] | None = None,
        downstream_tasks: Iterable[object] | None = None,
        keyword_tasks: Mapping[str, object] | None = None,
        mapped: bool = False,
        validate: bool | None = None,
    ) -> Task:
        flow = flow or building_flow()
        if flow is None:
            raise ValueError("No Flow was passed, and could not infer an active Flow context.")
        flow.set_dependencies(
            task=self,
            upstream_tasks=upstream_tasks,
            downstream_tasks=downstream_tasks,
            keyword_tasks=keyword_tasks,
            validate=validate,
            mapped=mapped,
        )
        return self

    def set_upstream(self, task: object, flow: Flow | None = None, key: str | None = None, mapped: bool = False) -> Task:
        """Make ``task`` run first; with ``key`` its result is passed as that argument."""
        if key is not None:
            self.set_dependencies(flow=flow, keyword_tasks={key: task}, mapped=mapped)
        else:
            self.set_dependencies(flow=flow, upstream_tasks=[task], mapped=mapped)
        return self

    def set_downstream(self, task: Task, flow: Flow | None = None, key: str | None = None, mapped: bool = False) -> Task:
        """Make ``task`` run after this one; with ``key`` it receives this result."""
        if key is not None:
            task.set_dependencies(flow=flow, keyword_tasks={key: self}, mapped=mapped)
        else:
            task.set_dependencies(flow=flow, upstream_tasks=[self], mapped=mapped)
        return self

    # -- introspection --------------------------------------------------------------

    def inputs(self) -> dict[str, dict[str, Any]]:
        """``{argument: {"type", "default", "required"}}`` from the ``run`` signature."""
        import inspect

        found: dict[str, dict[str, Any]] = {}
        for name, parameter in inspect.signature(self.run).parameters.items():
            kind = parameter.annotation if parameter.annotation is not inspect.Parameter.empty else Any
            default = parameter.default
            required = default is inspect.Parameter.empty
            found[name] = {"type": kind, "default": None if required else default, "required": required}
        return found

    def outputs(self) -> Any:
        """The ``run`` return annotation, or ``typing.Any``."""
        import inspect

        annotation = inspect.signature(self.run).return_annotation
        return Any if annotation is inspect.Parameter.empty else annotation

    def serialize(self) -> dict[str, Any]:
        """JSON-safe metadata (classic ``TaskSchema`` keys); never the code."""
        from prefect_storage.core.serialize import serialize_task

        return serialize_task(self)

    def pipe(_prefect_self, _prefect_task: Any, **kwargs: Any) -> Task:
        """``x.pipe(t, **kw)`` is ``t(x, **kw)``."""
        if "self" in kwargs:
            raise ValueError('You cannot use the keyword argument "self" in .pipe.')
        if isinstance(_prefect_task, type) and issubclass(_prefect_task, EdgeAnnotation):
            from prefect_storage.core.utilities import as_task

            return as_task(_prefect_task(_prefect_self))
        return _prefect_task(_prefect_self, **kwargs)  # type: ignore[no-any-return]

    # -- operators (each builds a new task) -------------------------------------------

    def is_equal(self, other: object) -> Task:
        from prefect_storage.tasks.core import operators

        return operators.Equal().bind(self, other)

    def is_not_equal(self, other: object) -> Task:
        from prefect_storage.tasks.core import operators

        return operators.NotEqual().bind(self, other)

    def not_(self) -> Task:
        from prefect_storage.tasks.core import operators

        return operators.Not().bind(self)

    def or_(self, other: object) -> Task:
        from prefect_storage.tasks.core import operators

        return operators.Or().bind(self, other)

    def and_(self, other: object) -> Task:
        from prefect_storage.tasks.core import operators

        return operators.And().bind(self, other)

    def __iter__(self) -> Iterator[Task]:
        if self.nout is None:
            raise TypeError(
                "Task is not iterable. If your task returns multiple results, pass `nout` to the task "
                "decorator/constructor, or provide a `Tuple` return-type annotation to your task."
            )
        return (self[i] for i in range(self.nout))

    def __getitem__(self, key: Any) -> Task:
        from prefect_storage.tasks.core import operators

        name = f"{self.name}[{key.name}]" if isinstance(key, Task) else f"{self.name}[{key!r}]"
        return operators.GetItem(checkpoint=self.checkpoint, name=name, result=self.result).bind(self, key)

    def __or__(self, other: object) -> object:
        self.set_dependencies(downstream_tasks=[other])
        return other

    def __ror__(self, other: object) -> Task:
        self.set_dependencies(upstream_tasks=[other])
        return self

    def _binop(self, op: str, left: object, right: object) -> Task:
        from prefect_storage.tasks.core import operators

        return getattr(operators, op)().bind(left, right)  # type: ignore[no-any-return]

    def __add__(self, other: object) -> Task:
        return self._binop("Add", self, other)

    def __sub__(self, other: object) -> Task:
        return self._binop("Sub", self, other)

    def __mul__(self, other: object) -> Task:
        return self._binop("Mul", self, other)

    def __truediv__(self, other: object) -> Task:
        return self._binop("Div", self, other)

    def __floordiv__(self, other: object) -> Task:
        return self._binop("FloorDiv", self, other)

    def __mod__(self, other: object) -> Task:
        return self._binop("Mod", self, other)

    def __pow__(self, other: object) -> Task:
        return self._binop("Pow", self, other)

    def __and__(self, other: object) -> Task:
        return self._binop("And", self, other)

    def __radd__(self, other: object) -> Task:
        return self._binop("Add", other, self)

    def __rsub__(self, other: object) -> Task:
        return self._binop("Sub", other, self)

    def __rmul__(self, other: object) -> Task:
        return self._binop("Mul", other, self)

    def __rtruediv__(self, other: object) -> Task:
        return self._binop("Div", other, self)

    def __rfloordiv__(self, other: object) -> Task:
        return self._binop("FloorDiv", other, self)

    def __rmod__(self, other: object) -> Task:
        return self._binop("Mod", other, self)

    def __rpow__(self, other: object) -> Task:
        return self._binop("Pow", other, self)

    def __rand__(self, other: object) -> Task:
        return self._binop("And", other, self)

    def __gt__(self, other: object) -> Task:
        return self._binop("GreaterThan", self, other)

    def __ge__(self, other: object) -> Task:
        return self._binop("GreaterThanOrEqual", self, other)

    def __lt__(self, other: object) -> Task:
        return self._binop("LessThan", self, other)

    def __le__(self, other: object) -> Task:
        return self._binop("LessThanOrEqual", self, other)


@functools.lru_cache(maxsize=1)
def _extra_call_parameters() -> list[Any]:
    import inspect

    return [
        p
        for p in inspect.Signature.from_callable(Task.__call__).parameters.values()
        if p.kind == inspect.Parameter.KEYWORD_ONLY
    ]


class FunctionTask(Task):
    """A FunctionTask: a task whose ``run`` is a plain function (what ``@task`` makes).

    Args:
        fn: the function; its signature is the task's inputs.
        name: default: the function's ``__name__``.
        **kwargs: any :class:`Task` option.
    """

    def __init__(self, fn: Callable[..., Any], name: str | None = None, **kwargs: Any) -> None:
        if not callable(fn):
            raise TypeError("`fn` must be callable")
        _validate_run_signature(fn)
        self.run = fn  # type: ignore[method-assign]
        functools.update_wrapper(self, fn)  # type: ignore[arg-type]
        super().__init__(name=name or getattr(fn, "__name__", type(self).__name__), **kwargs)

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        state.pop("__wrapped__", None)  # `run` holds the function already
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        if "run" in state:
            self.__dict__["__wrapped__"] = state["run"]


def task(fn: Callable[..., Any] | None = None, **task_init_kwargs: Any) -> Any:
    """Turn a function into a :class:`Task`; bare (``@task``) or with options
    (``@task(max_retries=2, retry_delay=timedelta(seconds=1), log_stdout=True)``)."""
    if fn is None:
        return lambda fn: FunctionTask(fn=fn, **task_init_kwargs)
    return FunctionTask(fn=fn, **task_init_kwargs)


def __getattr__(name: str) -> Any:
    # old import path: `from prefect_storage.core.task import Parameter`
    if name in ("Parameter", "DateTimeParameter"):
        from prefect_storage.core import parameter

        return getattr(parameter, name)
    raise AttributeError(name)
