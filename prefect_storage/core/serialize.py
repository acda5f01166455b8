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
