"""``switch``, ``ifelse`` and ``merge`` (classic ``prefect.tasks.control_flow.conditional``).

Branches that do not match are ``Skipped`` (their comparison task raises ``SKIP``) and
the skip propagates downstream; ``merge`` picks the value of the branch that ran.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from prefect_storage.core import signals, triggers
from prefect_storage.core.task import Task, task
from prefect_storage.core.utilities import as_task, tags

if TYPE_CHECKING:
    from prefect_storage.core.flow import Flow

__all__ = ["CompareValue", "Merge", "ifelse", "merge", "switch"]


class Merge(Task):
    """Returns the first non-``None`` input, by input name (``task_1``, ``task_10``,
    ``task_2``... string order, as in the classic engine). Runs unless every branch
    was skipped."""

    def __init__(self, **kwargs: Any) -> None:
        if kwargs.setdefault("skip_on_upstream_skip", False):
            raise ValueError("Merge tasks must have `skip_on_upstream_skip=False`.")
        kwargs.setdefault("trigger", triggers.not_all_skipped)
        super().__init__(**kwargs)

    def run(self, **task_results: Any) -> Any:  # type: ignore[override]
        return next((v for _, v in sorted(task_results.items()) if v is not None), None)


class CompareValue(Task):
    """Raises ``SKIP`` unless its input equals ``value``."""

    def __init__(self, value: Any, **kwargs: Any) -> None:
        self.value = value
        kwargs.setdefault("name", f'CompareValue: "{value}"')
        super().__init__(**kwargs)

    def run(self, value: Any) -> None:  # type: ignore[override]
        if value != self.value:
            raise signals.SKIP(f'Provided value "{value}" did not match "{self.value}"')


def switch(condition: Task, cases: dict[Any, Task], mapped: bool = False) -> None:
    """Run only the task of ``cases`` whose key equals ``condition``'s result; the
    others (and what depends on them) are skipped."""
    with tags("switch"):
        for value, branch in cases.items():
            branch = as_task(branch)
            match = CompareValue(value=value).bind(value=condition, mapped=mapped)
            branch.set_dependencies(upstream_tasks=[match], mapped=mapped)


@task
def _as_bool(x: Any) -> bool:
    return bool(x)


def ifelse(condition: Task, true_task: Task, false_task: Task, mapped: bool = False) -> None:
    """Run ``true_task`` if ``condition`` is truthy, else ``false_task``."""
    cases = {c: t for c, t in [(True, true_task), (False, false_task)] if t is not None}
    if cases:
        bool_condition = _as_bool.copy(name="as_bool")(condition, mapped=mapped)
        switch(condition=bool_condition, cases=cases, mapped=mapped)


def merge(*tasks: Task, flow: Flow | None = None, mapped: bool = False, **kwargs: Any) -> Task:
    """A task returning the result of whichever of ``tasks`` ran (the first non-None)."""
    return Merge(**kwargs).bind(**{f"task_{i + 1}": t for i, t in enumerate(tasks)}, flow=flow, mapped=mapped)
