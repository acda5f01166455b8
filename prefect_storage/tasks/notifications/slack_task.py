"""``SlackTask``: post a message to a Slack incoming webhook (classic ``prefect.tasks.notifications``)."""

from __future__ import annotations

from typing import Any

from prefect_storage.core.task import Task
from prefect_storage.core.utilities import defaults_from_attrs
from prefect_storage.secrets import Secret

__all__ = ["SlackTask"]


class SlackTask(Task):
    """POST ``message`` to a Slack webhook.

    The URL is ``webhook_url`` when given to ``run``, else the value of the secret
    named ``webhook_secret`` (default ``SLACK_WEBHOOK_URL``), looked up through
    prefect_storage's secret chain. A string message is sent as ``{"text": message}``,
    a dict as is. An HTTP error status raises ``requests.HTTPError``.
    Needs ``requests`` (``pip install 'prefect-storage[notifications]'``).
    """

    def __init__(self, message: str | dict[str, Any] | None = None, webhook_secret: str | None = None, **kwargs: Any) -> None:
        self.message = message
        self.webhook_secret = webhook_secret or "SLACK_WEBHOOK_URL"
        super().__init__(**kwargs)

    @defaults_from_attrs("message", "webhook_secret")
    def run(
        self,
        message: str | dict[str, Any] | None = None,
        webhook_secret: str | None = None,
        webhook_url: str | None = None,
    ) -> None:
        """Send the message; ``webhook_url`` overrides the secret lookup."""
        from prefect_storage.backends.optional import require

        requests = require("requests", extra="notifications", purpose="SlackTask")
        url = webhook_url or str(Secret(webhook_secret or "SLACK_WEBHOOK_URL").get())
        response = requests.post(url, json=message if isinstance(message, dict) else {"text": message}, timeout=30)
        response.raise_for_status()
