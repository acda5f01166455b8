"""Helpers flow code uses to build graphs (classic ``prefect.utilities.tasks``):
``tags``, ``as_task``, ``apply_map``, ``defaults_from_attrs``, ``pause_task``, ``task``,
plus ``callback_factory`` for state handlers and ``resource_manager``."""

from __future__ import annotations

import contextlib
import datetime
import functools
import itertools
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from prefect_storage.context import _current, building_flow, context
from prefect_storage.core.edges import EdgeAnnotation, flatten, unmapped
from prefect_storage.core.task import FunctionTask, Task, task

if TYPE_CHECKING:
    from prefect_storage.core.flow import Flow

__all__ = [
    "FunctionTask",
    "apply_map",
    "as_task",
    "callback_factory",
    "defaults_from_attrs",
    "pause_task",
    "tags",
    "task",
]


@contextlib.contextmanager
def tags(*tags: str) -> Iterator[None]:
    """Tasks created inside get these tags (added to the enclosing blocks' tags)."""
    tag_set = set(tags) | set(_current().get("tags") or ())
    with context(tags=tag_set):
        yield


def _is_constant(x: Any) -> bool:
    if isinstance(x, (Task, EdgeAnnotation)):
        return False
    if isinstance(x, (list, tuple, set)):
        return all(_is_constant(i) for i in x)
    if isinstance(x, dict):
        return all(_is_constant(i) for i in x.values())
    return True


def as_task(x: Any, flow: Flow | None = None) -> Task:
    """``x`` as a task: tasks as they are, constants as ``Constant``, collections holding
    tasks as ``List``/``Tuple``/``Set``/``Dict`` tasks."""
    if isinstance(x, Task):
        return x
    if isinstance(x, EdgeAnnotation):
        return as_task(x.value, flow=flow)
    from prefect_storage.tasks.core import collections as coll
    from prefect_storage.tasks.core.constants import Constant

    made: Task
    if _is_constant(x):
        made = Constant(x)
    elif isinstance(x, list):
        made = coll.List().bind(*x, flow=flow)
    elif isinstance(x, tuple):
        made = coll.Tuple().bind(*x, flow=flow)
    elif isinstance(x, set):
        made = coll.Set().bind(*x, flow=flow)
    elif isinstance(x, dict):
        made = coll.Dict().bind(keys=list(x.keys()), values=list(x.values()), flow=flow)
    else:
        return x  # type: ignore[no-any-return]
    made.auto_generated = True
    return made


def pause_task(message: str | None = None, duration: datetime.timedelta | None = None) -> None:
    """Raise ``PAUSE`` unless the run was resumed. Local runs cannot be resumed by a
    person: ``flow.run`` ends a paused task ``Failed`` saying so."""
    from prefect_storage.core.signals import PAUSE

    start = datetime.datetime.now(datetime.timezone.utc) + duration if duration is not None else None
    if _current().get("resume", False) is False:
        raise PAUSE(message=message or "Pause signal raised during task execution.", start_time=start)


def defaults_from_attrs(*attr_args: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Fill missing keyword arguments of a ``run`` method from same-named attributes."""

    def wrapper(run_method: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(run_method)
        def method(self: Any, *args: Any, **kwargs: Any) -> Any:
            for attr in attr_args:
                kwargs.setdefault(attr, getattr(self, attr))
            return run_method(self, *args, **kwargs)

        return method

    return wrapper


def callback_factory(fn: Callable[[Any, Any], None], check: Callable[[Any], bool]) -> Callable[..., Any]:
    """A state handler calling ``fn(obj, new_state)`` when ``check(new_state)`` holds."""

    def state_handler(obj: Any, old_state: Any, new_state: Any) -> Any:
        if check(new_state) is True:
            fn(obj, new_state)
        return new_state

    return state_handler


def apply_map(func: Callable[..., Any], *args: Any, flow: Flow | None = None, **kwargs: Any) -> Any:
    """Build ``func(*args, **kwargs)`` once and map the whole subgraph over the
    (non-``unmapped``) arguments: ``apply_map(lambda x: inc(double(x)), [1, 2, 3])``."""
    from prefect_storage.core.flow import Flow
    from prefect_storage.tasks.core.constants import Constant

    no_flow_given = flow is None
    if flow is None:
        flow = building_flow()
        if flow is None:
            raise ValueError("Couldn't infer a flow in the current context")
    original = set(flow.tasks)
    for x in itertools.chain(args, kwargs.values()):
        if not isinstance(x, (Task, EdgeAnnotation, Sequence)):
            raise TypeError(f"Cannot map over non-sequence object of type `{type(x).__name__}`")
    sub = Flow("temporary flow")
    info: dict[Task, tuple[bool, bool, bool]] = {}
    id_to_const: dict[int, Task] = {}

    def preprocess(a: Any) -> Task:
        with context(case=None, resource=None):
            a2 = as_task(a, flow=sub)
            is_mapped = not isinstance(a, unmapped)
            is_constant = isinstance(a2, Constant)
            is_flat = isinstance(a, flatten)
            if not is_constant:
                sub.add_task(a2)
        info[a2] = (is_mapped, is_constant, is_flat)
        if not is_constant:
            flow.add_task(a2)  # type: ignore[union-attr]
        if is_mapped and is_constant:
            id_to_const[id(a2.value)] = a2  # type: ignore[attr-defined]
        return a2

    args2 = [preprocess(a) for a in args]
    kwargs2 = {k: preprocess(v) for k, v in kwargs.items()}
    with context(mapped=True, case=None, resource=None), sub:
        res = func(*args2, **kwargs2) if no_flow_given else func(*args2, flow=sub, **kwargs2)
    for t in sub.tasks:
        flow.add_task(t)
    for edge in list(sub.edges):
        flow.add_edge(
            upstream_task=edge.upstream_task,
            downstream_task=edge.downstream_task,
            key=edge.key,
            mapped=info.get(edge.upstream_task, (True, False, False))[0],
            flattened=info.get(edge.upstream_task, (False, False, False))[2],
        )
    for t, constants in sub.constants.items():
        for key, c in constants.items():
            if id(c) in id_to_const:
                c_task = id_to_const[id(c)]
                flow.add_task(c_task)
                flow.add_edge(c_task, t, key=key, mapped=True, flattened=info.get(c_task, (False, False, False))[2])
            else:
                flow.constants[t][key] = c
    new_tasks = set(sub.tasks) - original - set(info)
    for t in new_tasks:
        ups = flow.upstream_tasks(t)
        if not ups & new_tasks:
            for arg_task, (is_mapped, is_constant, is_flat) in info.items():
                if arg_task not in ups and (is_mapped or not is_constant):
                    flow.add_edge(arg_task, t, mapped=is_mapped, flattened=is_flat)
    return res


def __getattr__(name: str) -> Any:
    if name in ("resource_manager", "ResourceManager"):
        from prefect_storage.tasks.core import resource_manager as module

        return getattr(module, name)
    raise AttributeError(name)
