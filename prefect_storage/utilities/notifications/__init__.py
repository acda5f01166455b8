"""Classic ``prefect.utilities.notifications``: notification state handlers.

``jira_notifier`` and the Snowflake loggers are not provided (they need those SDKs).
"""

from __future__ import annotations

from typing import Any

from prefect_storage.utilities.notifications.notifications import (
    callback_factory,
    gmail_notifier,
    slack_message_formatter,
    slack_notifier,
)

__all__ = ["callback_factory", "gmail_notifier", "slack_message_formatter", "slack_notifier"]

_NOT_PROVIDED = {
    "jira_notifier": "Jira notifications (needs the jira SDK)",
    "snowflake_logger": "Snowflake state logging",
    "snowflake_message_formatter": "Snowflake state logging",
}


def __getattr__(name: str) -> Any:
    if name in _NOT_PROVIDED:
        from prefect_storage._not_provided import missing_name

        raise missing_name(__name__, name, _NOT_PROVIDED[name])
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
