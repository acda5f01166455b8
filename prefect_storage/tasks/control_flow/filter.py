"""``FilterTask`` (classic ``prefect.tasks.control_flow.filter``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from prefect_storage.core.task import Task
from prefect_storage.core.triggers import all_finished

__all__ = ["FilterTask"]


class FilterTask(Task):
    """Keeps the items of a list (typically a mapped task's results) that pass
    ``filter_func`` (default: drop ``None`` and exceptions). Runs whatever the upstream
    outcome (``all_finished``) and does not skip on upstream skips.

    Args:
        filter_func: ``item -> bool``.
        log_func: ``kept_items -> str`` logged at INFO.
    """

    def __init__(self, filter_func: Callable[[Any], bool] | None = None, log_func: Callable[[list[Any]], str] | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("skip_on_upstream_skip", False)
        kwargs.setdefault("trigger", all_finished)
        self.filter_func = filter_func or (lambda r: not isinstance(r, (type(None), Exception)))
        self.log_func = log_func
        super().__init__(**kwargs)

    def run(self, task_results: list[Any]) -> list[Any]:  # type: ignore[override]
        filtered = [r for r in task_results if self.filter_func(r)]
        if self.log_func:
            self.logger.info(self.log_func(filtered))
        return filtered
