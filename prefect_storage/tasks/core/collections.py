"""Collection tasks built when a list, tuple, set or dict passed to a task holds tasks
(classic ``prefect.tasks.core.collections``)."""

from __future__ import annotations

import builtins
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from prefect_storage.core.task import Task

if TYPE_CHECKING:
    from prefect_storage.core.flow import Flow

__all__ = ["Dict", "List", "Set", "Tuple", "VarArgsTask"]


def _ordered(task_results: dict[str, Any]) -> builtins.list[Any]:
    return [v for _, v in sorted(task_results.items(), key=lambda item: int(item[0].split("_")[-1]))]


class VarArgsTask(Task):
    """A task whose positional inputs are bound as ``arg_1 ... arg_n``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)

    def bind(  # type: ignore[override]
        self,
        *args: Any,
        upstream_tasks: Iterable[Any] | None = None,
        mapped: bool = False,
        flow: Flow | None = None,
    ) -> Task:
        kwargs = {f"arg_{i + 1}": a for i, a in enumerate(args)}
        return super().bind(upstream_tasks=upstream_tasks, mapped=mapped, flow=flow, **kwargs)


class List(VarArgsTask):
    """Collects its inputs into a list, in argument order."""

    def run(self, **task_results: Any) -> list:  # type: ignore[override]
        return _ordered(task_results)


class Tuple(VarArgsTask):
    """Collects its inputs into a tuple, in argument order."""

    def run(self, **task_results: Any) -> tuple:  # type: ignore[override]
        return tuple(_ordered(task_results))


class Set(VarArgsTask):
    """Collects its inputs into a set."""

    def run(self, **task_results: Any) -> set:  # type: ignore[override]
        return set(task_results.values())


class Dict(Task):
    """Builds a dict from ``keys`` and ``values`` lists."""

    def run(self, keys: Iterable[Any], values: Iterable[Any]) -> dict:  # type: ignore[override]
        keys, values = builtins.list(keys), builtins.list(values)
        if len(keys) != len(values):
            raise ValueError("A different number of keys and values were provided!")
        return dict(zip(keys, values))
