"""``JinjaTemplate``: a task that renders a Jinja template (needs the ``templates`` extra)."""

from __future__ import annotations

from typing import Any

from prefect_storage.backends.optional import require
from prefect_storage.context import context
from prefect_storage.core.utilities import defaults_from_attrs
from prefect_storage.tasks.templates.strings import StringFormatter

__all__ = ["JinjaTemplate"]


class JinjaTemplate(StringFormatter):
    """Render the Jinja ``template`` with the run's keyword arguments and the values of
    ``prefect_storage.context``.

    Args:
        template: the Jinja template text; ``run(template=...)`` overrides it.
        **kwargs: the standard :class:`Task` arguments.

    ``jinja2`` is imported when the task runs: install ``prefect-storage[templates]``.
    """

    @defaults_from_attrs("template")
    def run(self, template: str | None = None, **format_kwargs: Any) -> str:
        """The rendered template."""
        jinja2 = require("jinja2", extra="templates", purpose="JinjaTemplate")
        with context(**format_kwargs) as values:
            return str(jinja2.Template(template).render(**dict(values)))
