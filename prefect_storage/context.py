"""The classic run context (``prefect.context``), plus the build-time flags.

``prefect_storage.context`` is both this module and the context object itself::

    import prefect_storage
    from prefect_storage import context

    with context(a=1, **{"b": 2}):
        assert context.a == 1 and context["b"] == 2 and context.get("c") is None
        assert dict(**context)["a"] == 1

Inside a flow run, tasks and state handlers read the classic keys (``flow_name``,
``flow_run_id``, ``task_name``, ``map_index``, ``parameters``, ``today``, ``logger`` ...).

The values live in a :class:`contextvars.ContextVar`, so each thread (and each task a
worker runs) sees its own values; the engine hands a task's context to the worker
explicitly. Outside any ``with context(...)`` block, code sees (and ``update`` writes)
one process-wide mapping, which is where ``flow.run`` keeps its result ``caches``.
"""

from __future__ import annotations

import contextlib as _contextlib
import contextvars as _contextvars
import sys as _sys
import types as _types
from collections.abc import Iterator as _Iterator
from collections.abc import Mapping as _Mapping

TYPE_CHECKING = False  # not typing's: `import prefect_storage` loads this module and no typing
if TYPE_CHECKING:
    from typing import Any as _Any

    from prefect_storage.core.flow import Flow

__all__ = [
    "Context",
    "building_flow",
    "context",
    "flow_block",
    "loading",
    "loading_flow",
    "modern_flow_block",
    "modern_flow_run",
]

_GLOBAL: dict[str, _Any] = {}
_values: _contextvars.ContextVar[dict[str, _Any]] = _contextvars.ContextVar("prefect_storage_context")
_building: _contextvars.ContextVar[Flow | None] = _contextvars.ContextVar("prefect_storage_flow", default=None)
_loading: _contextvars.ContextVar[bool] = _contextvars.ContextVar("prefect_storage_loading_flow", default=False)
_modern: _contextvars.ContextVar[_Any] = _contextvars.ContextVar("prefect_storage_modern_flow", default=None)


def _current() -> dict[str, _Any]:
    return _values.get(_GLOBAL)


def _push(values: _Mapping[str, _Any]) -> _contextvars.Token[dict[str, _Any]]:
    """Make ``values`` (merged over the current ones) current; returns the reset token."""
    new = dict(_values.get(_GLOBAL))
    new.update(values)
    return _values.set(new)


def _pop(token: _contextvars.Token[dict[str, _Any]]) -> None:
    _values.reset(token)


class Context:
    """Mapping-style access to the current context values (``ctx.key``, ``ctx["key"]``)."""

    __slots__ = ()

    def get(self, key: str, default: _Any = None) -> _Any:
        return _values.get(_GLOBAL).get(key, default)

    def __getitem__(self, key: str) -> _Any:
        return _values.get(_GLOBAL)[key]

    def __setitem__(self, key: str, value: _Any) -> None:
        _values.get(_GLOBAL)[key] = value

    def __delitem__(self, key: str) -> None:
        del _values.get(_GLOBAL)[key]

    def __contains__(self, key: object) -> bool:
        return key in _values.get(_GLOBAL)

    def __iter__(self) -> _Iterator[str]:
        return iter(list(_values.get(_GLOBAL)))

    def __len__(self) -> int:
        return len(_values.get(_GLOBAL))

    def __getattr__(self, key: str) -> _Any:
        if key.startswith("__"):
            raise AttributeError(key)
        try:
            return _values.get(_GLOBAL)[key]
        except KeyError:
            raise AttributeError(f"Context has no attribute {key!r}") from None

    def keys(self) -> _Any:
        return _values.get(_GLOBAL).keys()

    def values(self) -> _Any:
        return _values.get(_GLOBAL).values()

    def items(self) -> _Any:
        return _values.get(_GLOBAL).items()

    def to_dict(self) -> dict[str, _Any]:
        """A plain ``dict`` copy of the current values."""
        return dict(_values.get(_GLOBAL))

    def update(self, *args: _Mapping[str, _Any], **kwargs: _Any) -> None:
        """Set values in the current scope (they end with the enclosing ``with`` block)."""
        current = _values.get(_GLOBAL)
        for mapping in args:
            current.update(mapping)
        current.update(kwargs)

    def setdefault(self, key: str, default: _Any = None) -> _Any:
        return _values.get(_GLOBAL).setdefault(key, default)

    def pop(self, key: str, *default: _Any) -> _Any:
        return _values.get(_GLOBAL).pop(key, *default)

    def clear(self) -> None:
        _values.get(_GLOBAL).clear()

    def copy(self) -> dict[str, _Any]:
        return dict(_values.get(_GLOBAL))

    @_contextlib.contextmanager
    def __call__(self, *args: _Mapping[str, _Any], **kwargs: _Any) -> _Iterator[_Any]:
        """``with context(a=1, **mapping):`` makes the values visible to the code inside."""
        merged: dict[str, _Any] = {}
        for mapping in args:
            merged.update(mapping)
        merged.update(kwargs)
        if isinstance(merged.get("config"), _Mapping):
            merged["config"] = _merged_config(_values.get(_GLOBAL).get("config"), merged["config"])
        token = _push(merged)
        try:
            yield _sys.modules[__name__]
        finally:
            _values.reset(token)

    def __reduce__(self) -> _Any:
        raise TypeError(
            "Pickling context objects is explicitly not supported. You should always access context as an "
            "attribute of the `prefect_storage` module, as in `prefect_storage.context`"
        )

    def __repr__(self) -> str:
        return f"<Context: {', '.join(sorted(map(str, _values.get(_GLOBAL))))}>"


def _merged_config(current: _Any, new: _Mapping[str, _Any]) -> _Any:
    """Classic ``context(config=...)``: ``new`` merged over the current config, as a new
    nested structure of the current config's class, so that later changes to either
    object do not reach the context's copy."""
    cls = type(current) if isinstance(current, dict) else dict

    def rebuild(value: _Any) -> _Any:
        return cls({k: rebuild(v) for k, v in value.items()}) if isinstance(value, _Mapping) else value

    def merge(base: _Mapping[str, _Any], extra: _Mapping[str, _Any]) -> dict[str, _Any]:
        out = dict(base)
        for key, value in extra.items():
            old = out.get(key)
            out[key] = merge(old, value) if isinstance(old, _Mapping) and isinstance(value, _Mapping) else value
        return out

    return rebuild(merge(current if isinstance(current, _Mapping) else {}, new))


# ------------------------------------------------------------------ build-time flags


def building_flow() -> Flow | None:
    """The flow whose ``with Flow(...)`` block is open, if any."""
    return _building.get()


@_contextlib.contextmanager
def flow_block(flow: Flow | None) -> _Iterator[None]:
    """Make ``flow`` the flow that task calls are added to (``with Flow(...)``)."""
    token = _building.set(flow)
    try:
        yield
    finally:
        _building.reset(token)


def loading_flow() -> bool:
    """True while a storage executes a flow script or unpickles a flow.

    ``flow.run()`` and ``flow.register()`` inside a loaded script are no-ops then,
    so a script that runs or registers itself at the bottom can still be stored.
    """
    return _loading.get() or bool(_values.get(_GLOBAL).get("loading_flow"))


@_contextlib.contextmanager
def loading() -> _Iterator[None]:
    token = _loading.set(True)
    try:
        yield
    finally:
        _loading.reset(token)


def modern_flow_run() -> _Any:
    """The modern ``@flow`` run in progress in this context, or ``None``."""
    return _modern.get()


@_contextlib.contextmanager
def modern_flow_block(flow: _Any) -> _Iterator[None]:
    """Mark ``flow`` as the running modern flow: classic tasks called inside (outside a
    ``with Flow()`` block) run at once and return their value."""
    token = _modern.set(flow)
    try:
        yield
    finally:
        _modern.reset(token)


# ------------------------------------------------------------------ module == context


class _ContextModule(_types.ModuleType, Context):
    """This module's class: the module object doubles as the context object."""

    def __getattr__(self, key: str) -> _Any:  # only called for names the module lacks
        return Context.__getattr__(self, key)

    def __setattr__(self, key: str, value: _Any) -> None:
        # `prefect_storage.context.name = "f"` sets a context value, as in the classic API
        if key.startswith("__") or key in self.__dict__:
            _types.ModuleType.__setattr__(self, key, value)
        else:
            _values.get(_GLOBAL)[key] = value

    def __delattr__(self, key: str) -> None:
        if key in self.__dict__:
            _types.ModuleType.__delattr__(self, key)
        else:
            del _values.get(_GLOBAL)[key]

    def __repr__(self) -> str:
        return Context.__repr__(self)

    def __reduce__(self) -> _Any:
        # The module itself travels by reference (cloudpickle pickles the submodules a
        # task's code touches, e.g. ``prefect_storage.context`` in ``prefect.context.get``).
        import importlib

        return importlib.import_module, (self.__name__,)


context: _Any = _sys.modules[__name__]
_sys.modules[__name__].__class__ = _ContextModule
del annotations, TYPE_CHECKING  # these would otherwise read as context keys


class _RootLogger:
    """``context.logger`` outside a run: the ``prefect_storage`` logger, made on first use
    (so that importing prefect_storage does not import :mod:`logging`)."""

    def __getattr__(self, name: str) -> _Any:
        if name.startswith("__"):
            raise AttributeError(name)
        from prefect_storage.log import get_logger

        return getattr(get_logger("prefect_storage"), name)

    def __repr__(self) -> str:
        return "<Logger prefect_storage (root)>"


# classic: outside any run (and in flow state handlers) ``context.logger`` is the root logger
_GLOBAL.setdefault("logger", _RootLogger())
