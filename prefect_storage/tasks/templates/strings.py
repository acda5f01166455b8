"""``StringFormatter``: a task that fills a ``str.format`` template."""

from __future__ import annotations

from typing import Any

from prefect_storage.context import context
from prefect_storage.core.task import Task
from prefect_storage.core.utilities import defaults_from_attrs

__all__ = ["StringFormatter"]


class StringFormatter(Task):
    """Format ``template`` with the run's keyword arguments (usually upstream results)
    and the values of ``prefect_storage.context`` (``{today}``, ``{flow_name}``, ...).

    Args:
        template: the ``str.format`` template; ``run(template=...)`` overrides it.
        **kwargs: the standard :class:`Task` arguments.

    Example::

        greet = StringFormatter(name="greeting", template="Hi {name}! Today is {today}.")
        with Flow("greet") as flow:
            text = greet(name="Marvin")
    """

    def __init__(self, template: str | None = None, **kwargs: Any) -> None:
        self.template = template or ""
        super().__init__(**kwargs)

    @defaults_from_attrs("template")
    def run(self, template: str | None = None, **format_kwargs: Any) -> str:  # type: ignore[override]
        """The template formatted with ``format_kwargs`` over the context's values."""
        with context(**format_kwargs) as values:
            return str(template).format(**values)
