"""State handlers that notify people: ``slack_notifier``, ``gmail_notifier`` (and ``callback_factory``,
re-exported from :mod:`prefect_storage.core.utilities`).

Each is a classic state handler, called ``(tracked_obj, old_state, new_state)`` and
returning ``new_state``. ``slack_notifier`` and ``gmail_notifier`` may be configured
first and then passed as the handler::

    @task(state_handlers=[slack_notifier(only_states=[Failed])])
    def load(): ...
"""

from __future__ import annotations

import functools
import smtplib
import ssl
from collections.abc import Callable
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from typing import Any

from prefect_storage.core.utilities import callback_factory
from prefect_storage.secrets import Secret

__all__ = ["callback_factory", "gmail_notifier", "slack_message_formatter", "slack_notifier"]

#: where ``gmail_notifier`` sends from (the classic fixed Gmail SSL endpoint)
GMAIL_SMTP_SERVER = ("smtp.gmail.com", 465)
_PREFECT_ICON = "https://emoji.slack-edge.com/TAN3D79AL/prefect/2497370f58500a5a.png"


def _curried(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Called with fewer than the three handler arguments, return the configured handler.

    A ``functools.partial`` of this module-level function, so flows using it still pickle.
    """

    @functools.wraps(fn)
    def handler(*args: Any, **kwargs: Any) -> Any:
        given = len(args) + sum(1 for k in ("tracked_obj", "old_state", "new_state") if k in kwargs)
        if given < 3:
            return functools.partial(handler, *args, **kwargs)
        return fn(*args, **kwargs)

    return handler


def _state_matches(new_state: Any, ignore_states: list[type] | None, only_states: list[type] | None) -> bool:
    if any(isinstance(new_state, s) for s in ignore_states or ()):
        return False
    return not only_states or any(isinstance(new_state, s) for s in only_states)


def slack_message_formatter(tracked_obj: Any, state: Any, backend_info: bool = True) -> dict[str, Any]:
    """The Slack attachment payload for ``tracked_obj`` (a task or flow) entering ``state``.

    ``backend_info`` is accepted for compatibility; there is no hosted UI to link to.
    """
    if isinstance(state.result, Exception):
        value: str | None = f"```{state.result!r}```"
    else:
        value = state.message
    fields = [{"title": "Message", "value": value, "short": False}] if value is not None else []
    name = type(state).__name__
    return {
        "attachments": [
            {
                "fallback": "State change notification",
                "color": state.color,
                "author_name": "Prefect",
                "author_link": "https://www.prefect.io/",
                "author_icon": _PREFECT_ICON,
                "title": name,
                "fields": fields,
                "text": f"{tracked_obj.name} is now in a {name} state",
                "footer": "Prefect notification",
            }
        ]
    }


@_curried
def slack_notifier(
    tracked_obj: Any,
    old_state: Any,
    new_state: Any,
    ignore_states: list[type] | None = None,
    only_states: list[type] | None = None,
    webhook_secret: str | None = None,
    backend_info: bool = True,
    proxies: dict[str, str] | None = None,
) -> Any:
    """Post state changes of a task or flow to the Slack webhook in secret ``SLACK_WEBHOOK_URL``.

    Args:
        ignore_states: state classes not to notify about.
        only_states: notify only about these state classes (all when empty).
        webhook_secret: the name of the secret holding the webhook URL.
        backend_info: accepted for compatibility (no UI link is added).
        proxies: passed to ``requests.post``.

    As in classic Prefect, the webhook secret is read before the state filters, so a
    missing secret fails the handler (and the task) even for states it would ignore.
    A non-OK response raises ``ValueError("Slack notification for <obj> failed")``.
    Needs ``requests`` (``pip install 'prefect-storage[notifications]'``).
    """
    url = str(Secret(webhook_secret or "SLACK_WEBHOOK_URL").get())
    if not _state_matches(new_state, ignore_states, only_states):
        return new_state
    from prefect_storage.backends.optional import require

    requests = require("requests", extra="notifications", purpose="slack_notifier")
    payload = slack_message_formatter(tracked_obj, new_state, backend_info=backend_info)
    response = requests.post(url, json=payload, proxies=proxies, timeout=30)
    if not response.ok:
        raise ValueError(f"Slack notification for {tracked_obj} failed")
    return new_state


def _email_message(tracked_obj: Any, state: Any, email_to: str) -> MIMEMultipart:
    name = type(state).__name__
    text = f"{tracked_obj.name} is now in a {name} state"
    detail = f"{state.result!r}" if isinstance(state.result, Exception) else (state.message or "")
    message = MIMEMultipart("alternative")
    message["Subject"] = f"Prefect state change notification for {tracked_obj.name}"
    message["From"] = "notifications@prefect.io"
    message["To"] = email_to
    message.attach(MIMEText(f"{text}\n\n{detail}\n", "plain"))
    message.attach(MIMEText(f"<html><body><p>{text}</p><pre>{detail}</pre></body></html>", "html"))
    return message


@_curried
def gmail_notifier(
    tracked_obj: Any,
    old_state: Any,
    new_state: Any,
    ignore_states: list[type] | None = None,
    only_states: list[type] | None = None,
) -> Any:
    """Email state changes to the ``EMAIL_USERNAME`` secret's address through Gmail (SSL).

    Reads the ``EMAIL_USERNAME`` / ``EMAIL_PASSWORD`` secrets first; filters as
    :func:`slack_notifier`. A failed send raises ``ValueError("Email notification for <obj> failed")``.
    """
    username = str(Secret("EMAIL_USERNAME").get())
    password = str(Secret("EMAIL_PASSWORD").get())
    if not _state_matches(new_state, ignore_states, only_states):
        return new_state
    host, port = GMAIL_SMTP_SERVER
    try:
        server = smtplib.SMTP_SSL(host, port, context=ssl.create_default_context(), timeout=60)
        try:
            server.login(username, password)
            server.sendmail(username, username, _email_message(tracked_obj, new_state, username).as_string())
        finally:
            server.quit()
    except (OSError, smtplib.SMTPException) as exc:
        raise ValueError(f"Email notification for {tracked_obj} failed") from exc
    return new_state
