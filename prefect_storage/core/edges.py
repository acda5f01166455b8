"""Edges between tasks and the argument annotations ``mapped``, ``unmapped``, ``flatten``
(classic ``prefect.core.edge`` and ``prefect.utilities.edges``).

    add.map(numbers, unmapped(10))      # map over `numbers`, pass 10 whole to every child
    total(flatten(nested_lists))        # one level of nesting removed before use
"""

from __future__ import annotations

import keyword
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from prefect_storage.core.flow import Flow
    from prefect_storage.core.task import Task

__all__ = ["Edge", "EdgeAnnotation", "flatten", "mapped", "unmapped"]


class EdgeAnnotation:
    """Wraps a task argument to put flags on the edge it creates."""

    annotations: dict[str, Any] = {}

    def __init__(self, value: Any) -> None:
        self.annotations = dict(type(self).annotations)
        if isinstance(value, EdgeAnnotation):
            self.annotations.update(value.annotations)
            value = value.value
        self.value = value

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.value!r})"


class mapped(EdgeAnnotation):
    """Map over this argument even in a plain call: ``add(mapped([1, 2]), 5)``."""

    annotations = {"mapped": True}


class unmapped(EdgeAnnotation):
    """Pass this argument whole to every mapped child."""

    annotations = {"mapped": False}


class flatten(EdgeAnnotation):
    """Flatten this argument (a list of lists, or a mapped task's lists) by one level."""

    annotations = {"flattened": True}


def is_valid_identifier(string: str) -> bool:
    return string.isidentifier() and not keyword.iskeyword(string)


class Edge:
    """``upstream_task`` runs before ``downstream_task``; with a ``key`` its result is
    passed as that argument. ``mapped`` edges are mapped over, ``flattened`` ones
    flattened first. Annotations on either end override ``mapped``/``flattened``.
    """

    __slots__ = ("downstream_task", "flattened", "key", "mapped", "upstream_task")

    def __init__(
        self,
        upstream_task: Any,
        downstream_task: Any,
        key: str | None = None,
        mapped: bool | None = None,
        flattened: bool | None = None,
        flow: Flow | None = None,
    ) -> None:
        if upstream_task is downstream_task:
            raise ValueError("Edges can not connect a task to itself.")
        if key is not None and not (isinstance(key, str) and is_valid_identifier(key)):
            raise ValueError(f'Key must be a valid identifier (received "{key}")')
        annotations: dict[str, Any] = {}
        if isinstance(upstream_task, EdgeAnnotation):
            annotations.update(upstream_task.annotations)
        if isinstance(downstream_task, EdgeAnnotation):
            annotations.update(downstream_task.annotations)
        from prefect_storage.core.task import Task
        from prefect_storage.core.utilities import as_task

        self.upstream_task: Task = upstream_task if isinstance(upstream_task, Task) else as_task(upstream_task, flow=flow)
        self.downstream_task: Task = downstream_task if isinstance(downstream_task, Task) else as_task(downstream_task, flow=flow)
        self.key = key
        self.mapped: bool = annotations.get("mapped", mapped or False)
        self.flattened: bool = annotations.get("flattened", flattened or False)

    @property
    def tasks(self) -> set[Task]:
        return {self.upstream_task, self.downstream_task}

    def __repr__(self) -> str:
        desc = f"Edge(key={self.key}, mapped={self.mapped}, flattened={self.flattened})"
        return f"<{desc}: {self.upstream_task.name} to {self.downstream_task.name}>"

    def __eq__(self, other: object) -> bool:
        if type(self) is not type(other):
            return False
        return (
            self.upstream_task is other.upstream_task  # type: ignore[attr-defined]
            and self.downstream_task is other.downstream_task  # type: ignore[attr-defined]
            and self.key == other.key  # type: ignore[attr-defined]
            and self.mapped == other.mapped  # type: ignore[attr-defined]
            and self.flattened == other.flattened  # type: ignore[attr-defined]
        )

    def __hash__(self) -> int:
        return hash((id(self.upstream_task), id(self.downstream_task), self.key, self.mapped, self.flattened))

    def __getstate__(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__}

    def __setstate__(self, state: dict[str, Any]) -> None:
        for name, value in state.items():
            setattr(self, name, value)

    def serialize(self) -> dict[str, Any]:
        """``{"upstream_task": {"slug"}, "downstream_task": {"slug"}, key, mapped, flattened}``."""
        from prefect_storage._version import __version__

        return {
            "upstream_task": {"slug": self.upstream_task.slug, "__version__": __version__},
            "downstream_task": {"slug": self.downstream_task.slug, "__version__": __version__},
            "key": self.key,
            "mapped": self.mapped,
            "flattened": self.flattened,
            "__version__": __version__,
        }
