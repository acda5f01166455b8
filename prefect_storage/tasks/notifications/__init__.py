"""Classic ``prefect.tasks.notifications``: ``SlackTask`` and ``EmailTask``.

``PushbulletTask`` is not provided (it needs the Pushbullet SDK); importing it raises
an ImportError saying so.
"""

from __future__ import annotations

from typing import Any

from prefect_storage.tasks.notifications.email_task import EmailTask
from prefect_storage.tasks.notifications.slack_task import SlackTask

__all__ = ["EmailTask", "SlackTask"]


def __getattr__(name: str) -> Any:
    if name == "PushbulletTask":
        from prefect_storage._not_provided import missing_name

        raise missing_name(__name__, name, "Pushbullet notifications")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
