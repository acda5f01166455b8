"""JSON metadata of tasks, parameters and edges (classic ``TaskSchema`` /
``ParameterSchema`` keys). Never code, never result values."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from prefect_storage.core.parameter import Parameter
    from prefect_storage.core.task import Task

__all__ = [
    "from_qualified_name",
    "function_reference",
    "qualified_name",
    "serialize_parameter",
    "serialize_task",
    "to_qualified_name",
]


def qualified_name(obj: Any) -> str:
    return f"{getattr(obj, '__module__', '')}.{getattr(obj, '__qualname__', getattr(obj, '__name__', repr(obj)))}"


def _version() -> str:
    from prefect_storage._version import __version__

    return __version__


def function_reference(fn: Any, kwargs_attr: str) -> Any:
    """``{"fn": qualified name, "kwargs": {...}}`` for known stateful functions, else
    the qualified name."""
    kwargs = getattr(fn, kwargs_attr, None)
    name = qualified_name(fn)
    if kwargs is not None:
        return {"fn": name, "kwargs": {k: (list(v) if isinstance(v, (set, tuple)) else v) for k, v in kwargs.items()}}
    return name


def _seconds(delta: Any) -> Any:
    return None if delta is None else delta.total_seconds()


def serialize_task(task: Task) -> dict[str, Any]:
    return {
        "type": qualified_name(type(task)),
        "name": task.name,
        "slug": task.slug,
        "tags": sorted(task.tags),
        "max_retries": task.max_retries,
        "retry_delay": _seconds(task.retry_delay),
        "inputs": {k: {"required": v["required"], "type": str(v["type"])} for k, v in task.inputs().items()},
        "outputs": str(task.outputs()),
        "timeout": task.timeout,
        "trigger": function_reference(task.trigger, "trigger_kwargs"),
        "skip_on_upstream_skip": task.skip_on_upstream_skip,
        "cache_for": _seconds(task.cache_for),
        "cache_key": task.cache_key,
        "cache_validator": function_reference(task.cache_validator, "validator_kwargs"),
        "auto_generated": task.auto_generated,
        "__version__": _version(),
    }


def _json_safe(value: Any) -> Any:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)
    return value


def serialize_parameter(parameter: Parameter) -> dict[str, Any]:
    return {
        "type": qualified_name(type(parameter)),
        "name": parameter.name,
        "slug": parameter.slug,
        "default": _json_safe(parameter.default),
        "required": parameter.required,
        "tags": sorted(parameter.tags),
        "outputs": str(parameter.outputs()),
        "__version__": _version(),
    }


def to_qualified_name(obj: Any) -> str:
    """``module.QualifiedName`` of a class or function."""
    return qualified_name(obj)


def from_qualified_name(name: str) -> Any:
    """The object at ``package.module.attr`` (importing the longest module prefix)."""
    import importlib

    parts = name.split(".")
    for i in range(len(parts) - 1, 0, -1):
        try:
            obj: Any = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        for attr in parts[i:]:
            obj = getattr(obj, attr)
        return obj
    raise ValueError(f"Could not import {name!r}")


# -------------------------------------------------------------------- loading metadata
#
# Classic ``TaskSchema().load`` / ``FlowSchema().load``: the metadata comes back as base
# ``Task`` objects (the code was never serialized), wired as the flow was. Triggers and
# cache validators are restored only from the engine's own modules, by name: loading
# metadata never imports anything else.

_FUNCTION_MODULES = ("prefect_storage.core.triggers", "prefect_storage.core.cache_validators")


def _delta(seconds: Any) -> Any:
    import datetime

    return None if seconds is None else datetime.timedelta(seconds=seconds)


def _engine_function(reference: Any) -> Any:
    """The trigger or cache validator ``reference`` names, or ``None`` when it is not one
    of the engine's (a user's own function cannot be restored from metadata)."""
    if reference is None:
        return None
    name, kwargs = (reference.get("fn"), reference.get("kwargs") or {}) if isinstance(reference, dict) else (reference, None)
    if not isinstance(name, str):
        return None
    module, _, attr = name.partition(".<locals>")[0].rpartition(".")
    if module not in _FUNCTION_MODULES:
        return None
    import importlib

    function = getattr(importlib.import_module(module), attr, None)
    if function is None:
        return None
    return function(**kwargs) if kwargs is not None else function  # stateful: call its factory


def deserialize_task(data: dict[str, Any], cache: dict[str, Task] | None = None) -> Task:
    """A base :class:`Task` from :func:`serialize_task` metadata (one per slug in ``cache``)."""
    from prefect_storage.core.task import Task

    slug = data.get("slug")
    if cache is not None and slug in cache:
        return cache[slug]
    options: dict[str, Any] = {
        "name": data.get("name"),
        "slug": slug,
        "tags": data.get("tags") or None,
        "max_retries": data.get("max_retries"),
        "retry_delay": _delta(data.get("retry_delay")),
        "timeout": data.get("timeout"),
        "skip_on_upstream_skip": data.get("skip_on_upstream_skip", True),
        "cache_for": _delta(data.get("cache_for")),
        "cache_key": data.get("cache_key"),
    }
    for field in ("trigger", "cache_validator"):
        function = _engine_function(data.get(field))
        if function is not None:
            options[field] = function
    task = Task(**{k: v for k, v in options.items() if v is not None or k == "skip_on_upstream_skip"})
    task.auto_generated = bool(data.get("auto_generated", False))
    if cache is not None and slug is not None:
        cache[slug] = task
    return task


def deserialize_parameter(data: dict[str, Any]) -> Parameter:
    """A :class:`Parameter` from :func:`serialize_parameter` metadata."""
    from prefect_storage.core.parameter import Parameter

    return Parameter(
        name=data["name"], default=data.get("default"), required=bool(data.get("required", False)), tags=data.get("tags") or None
    )


def deserialize_flow(data: dict[str, Any]) -> Any:
    """A :class:`Flow` from ``Flow.serialize()`` metadata: parameters, base tasks, the
    same edges and reference tasks, the schedule, run config and storage (its flows'
    locations; never their code). Edges are not validated against the tasks' inputs,
    which base tasks no longer have."""
    from prefect_storage.core.edges import Edge
    from prefect_storage.core.flow import Flow

    cache: dict[str, Task] = {}
    for entry in data.get("parameters") or []:  # parameters first: their tasks entries reuse them
        parameter = deserialize_parameter(entry)
        cache[entry.get("slug") or parameter.name] = parameter
    tasks = [deserialize_task(t, cache) for t in data.get("tasks") or []]
    edges = [
        Edge(
            cache[e["upstream_task"]["slug"]],
            cache[e["downstream_task"]["slug"]],
            key=e.get("key"),
            mapped=e.get("mapped", False),
            flattened=e.get("flattened", False),
        )
        for e in data.get("edges") or []
    ]
    schedule = data.get("schedule")
    if isinstance(schedule, dict) and "clocks" in schedule:
        from prefect_storage.core.schedules.serialization import deserialize_schedule

        schedule = deserialize_schedule(schedule)
    else:
        schedule = None
    run_config = data.get("run_config")
    if isinstance(run_config, dict):
        from prefect_storage.core.run_config import RunConfig

        run_config = RunConfig.deserialize(run_config)
    storage = data.get("storage")
    if isinstance(storage, dict):
        from prefect_storage.storage.base import Storage

        storage = Storage.deserialize(storage)
    flow = Flow(
        name=data["name"],
        tasks=tasks,
        edges=edges,
        reference_tasks=[cache[r["slug"]] for r in data.get("reference_tasks") or []],
        schedule=schedule,
        run_config=run_config,
        storage=storage,
        validate=False,
    )
    for task in tasks:  # the flow keeps the serialized slugs, as the classic schema did
        flow.slugs[task] = task.slug
    return flow
