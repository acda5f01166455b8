"""Classic ``prefect.tasks.templates``: ``StringFormatter`` and ``JinjaTemplate``."""

from prefect_storage.tasks.templates.jinja2 import JinjaTemplate
from prefect_storage.tasks.templates.strings import StringFormatter

__all__ = ["JinjaTemplate", "StringFormatter"]
