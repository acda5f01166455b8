"""Run-time context: which flow is being built, whether a flow file is being loaded,
and the classic ``prefect.context`` values tasks may read during a run."""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from prefect_storage.core.flow import Flow

_building: contextvars.ContextVar[Flow | None] = contextvars.ContextVar("prefect_storage_flow", default=None)
_loading: contextvars.ContextVar[bool] = contextvars.ContextVar("prefect_storage_loading_flow", default=False)
_values: contextvars.ContextVar[Mapping[str, Any]] = contextvars.ContextVar(
    "prefect_storage_context", default=MappingProxyType({})
)


def building_flow() -> Flow | None:
    """The flow whose ``with Flow(...)`` block is open, if any."""
    return _building.get()


@contextlib.contextmanager
def flow_block(flow: Flow) -> Iterator[None]:
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
    return _loading.get()


@contextlib.contextmanager
def loading() -> Iterator[None]:
    token = _loading.set(True)
    try:
        yield
    finally:
        _loading.reset(token)


class _Context:
    """Read access to the current run's values, by key or attribute (``context.flow_name``)."""

    def get(self, key: str, default: Any = None) -> Any:
        return _values.get().get(key, default)

    def __getitem__(self, key: str) -> Any:
        return _values.get()[key]

    def __contains__(self, key: object) -> bool:
        return key in _values.get()

    def __getattr__(self, key: str) -> Any:
        try:
            return _values.get()[key]
        except KeyError:
            raise AttributeError(key) from None

    def to_dict(self) -> dict[str, Any]:
        return dict(_values.get())

    @contextlib.contextmanager
    def __call__(self, **values: Any) -> Iterator[None]:
        """``with context(a=1):`` makes ``a`` visible to the code inside."""
        token = _values.set({**_values.get(), **values})
        try:
            yield
        finally:
            _values.reset(token)


context = _Context()
