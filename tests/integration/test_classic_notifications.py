"""Notification tasks and state handlers against loopback servers: SlackTask and
slack_notifier over real HTTP, EmailTask over real SMTP (plain and TLS)."""

from __future__ import annotations

from pathlib import Path

import pytest

from prefect_storage import Flow, task
from prefect_storage.engine.state import Failed, Running, Success
from prefect_storage.tasks.notifications import EmailTask, SlackTask
from prefect_storage.utilities.notifications import callback_factory, slack_message_formatter, slack_notifier
from tests.services.notify import SlackSink, SmtpSink

pytestmark = pytest.mark.integration


def _task(flow: Flow, name: str):
    (t,) = flow.get_tasks(name=name)
    return t


def test_slack_task_posts_to_the_secret_webhook_or_the_given_url(slack_sink: SlackSink, monkeypatch) -> None:
    monkeypatch.setenv("SLACK_WEBHOOK_URL", slack_sink.url("/hooks/secret"))
    SlackTask(message="deploy finished").run()
    SlackTask().run(message={"blocks": [{"type": "divider"}]}, webhook_url=slack_sink.url("/hooks/direct"))
    monkeypatch.setenv("OTHER_HOOK", slack_sink.url("/hooks/other"))
    SlackTask(webhook_secret="OTHER_HOOK").run(message="via other")
    assert [(p["path"], p["json"]) for p in slack_sink.posts] == [
        ("/hooks/secret", {"text": "deploy finished"}),
        ("/hooks/direct", {"blocks": [{"type": "divider"}]}),
        ("/hooks/other", {"text": "via other"}),
    ]
    import requests

    with pytest.raises(requests.HTTPError):
        SlackTask().run(message="x", webhook_url=slack_sink.url("/fail"))


def test_slack_notifier_filters_states_and_posts_the_classic_payload(slack_sink: SlackSink, monkeypatch) -> None:
    monkeypatch.setenv("SLACK_WEBHOOK_URL", slack_sink.url())

    @task(state_handlers=[slack_notifier(only_states=[Failed])])
    def explode():
        raise RuntimeError("disk full")

    @task(state_handlers=[slack_notifier(ignore_states=[Running])])
    def fine():
        return 1

    with Flow("notified", state_handlers=[slack_notifier]) as flow:
        explode()
        fine()
    state = flow.run()
    assert state.is_failed()
    texts = [b["attachments"][0]["text"] for b in slack_sink.bodies()]
    assert "explode is now in a Failed state" in texts
    assert "fine is now in a Success state" in texts
    assert "fine is now in a Running state" not in texts
    assert "explode is now in a Running state" not in texts
    assert texts[-1] == "notified is now in a Failed state"  # the flow handler saw every state
    failed = next(b for b in slack_sink.bodies() if b["attachments"][0]["text"].startswith("explode"))
    attachment = failed["attachments"][0]
    assert attachment["color"] == Failed.color and attachment["title"] == "Failed"
    assert attachment["footer"] == "Prefect notification" and attachment["fallback"] == "State change notification"
    assert "disk full" in attachment["fields"][0]["value"]


def test_slack_notifier_without_the_secret_fails_the_task(monkeypatch) -> None:
    monkeypatch.delenv("SLACK_WEBHOOK_URL", raising=False)

    @task(state_handlers=[slack_notifier(only_states=[Failed])])
    def quiet():
        return 1

    with Flow("no-secret") as flow:
        quiet()
    state = flow.run()
    quiet_state = state.result[_task(flow, "quiet")]
    assert quiet_state.is_failed() and "SLACK_WEBHOOK_URL" in str(quiet_state.result)


def test_slack_notifier_raises_on_a_failed_post(slack_sink: SlackSink, monkeypatch) -> None:
    monkeypatch.setenv("SLACK_WEBHOOK_URL", slack_sink.url("/fail"))

    class Obj:
        name = "thing"

        def __repr__(self) -> str:
            return "<Task: thing>"

    with pytest.raises(ValueError, match="Slack notification for <Task: thing> failed"):
        slack_notifier(Obj(), Running(), Success(message="done"))


def test_formatter_and_callback_factory() -> None:
    class Obj:
        name = "t"

    payload = slack_message_formatter(Obj(), Failed(message="m", result=ValueError("bad")))
    assert payload["attachments"][0]["fields"] == [{"title": "Message", "value": "```ValueError('bad')```", "short": False}]
    assert slack_message_formatter(Obj(), Success())["attachments"][0]["fields"] == []
    calls = []
    handler = callback_factory(lambda obj, state: calls.append(state), lambda s: s.is_failed())
    new = Failed()
    assert handler(Obj(), Running(), new) is new and handler(Obj(), Running(), Success()) is not None
    assert calls == [new]


def test_email_task_insecure_with_html_plain_cc_and_attachment(smtp_sink: SmtpSink, tmp_path: Path) -> None:
    report = tmp_path / "report.csv"
    report.write_text("a,b\n1,2\n")
    email_task = EmailTask(
        subject="Nightly report",
        email_from="flows@example.com",
        smtp_server="127.0.0.1",
        smtp_port=smtp_sink.port,
        smtp_type="INSECURE",
        email_to_cc="boss@example.com",
        attachments=[str(report)],
    )
    with Flow("mail") as flow:
        email_task(msg="<b>All good</b>", msg_plain="All good", email_to="team@example.com")
    assert flow.run().is_successful()
    (sent,) = smtp_sink.messages
    message = sent["message"]
    assert message["Subject"] == "Nightly report" and message["To"] == "team@example.com"
    assert message["Cc"] == "boss@example.com" and sent["login"] is None
    parts = {p.get_content_type(): p for p in message.walk() if not p.is_multipart()}
    assert parts["text/plain"].get_payload(decode=True) == b"All good"
    assert parts["text/html"].get_payload(decode=True) == b"<b>All good</b>"
    assert parts["application/octet-stream"].get_payload(decode=True) == b"a,b\n1,2\n"
    assert "report.csv" in parts["application/octet-stream"]["Content-Disposition"]


def test_email_task_ssl_logs_in_with_the_email_secrets(smtp_tls_sink: SmtpSink, monkeypatch) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", smtp_tls_sink.cert_file)
    monkeypatch.setenv("EMAIL_USERNAME", "robot@example.com")
    monkeypatch.setenv("EMAIL_PASSWORD", "app-password-123")
    EmailTask(smtp_server="127.0.0.1", smtp_port=smtp_tls_sink.port).run(
        subject="tls", msg="hi", email_to="team@example.com"
    )
    (sent,) = smtp_tls_sink.messages
    assert sent["login"] == ("robot@example.com", "app-password-123")
    assert sent["message"]["Subject"] == "tls"


def test_email_task_rejects_unknown_smtp_type() -> None:
    with pytest.raises(ValueError, match="TLS13 is an unsupported value for smtp_type."):
        EmailTask(smtp_type="TLS13").run(email_to="x@example.com")


def test_gmail_notifier_sends_to_the_username_over_tls(smtp_tls_sink: SmtpSink, monkeypatch) -> None:
    from prefect_storage.utilities.notifications import gmail_notifier, notifications

    monkeypatch.setattr(notifications, "GMAIL_SMTP_SERVER", ("127.0.0.1", smtp_tls_sink.port))
    monkeypatch.setenv("SSL_CERT_FILE", smtp_tls_sink.cert_file)
    monkeypatch.setenv("EMAIL_USERNAME", "me@example.com")
    monkeypatch.setenv("EMAIL_PASSWORD", "pw-987")

    @task(state_handlers=[gmail_notifier(only_states=[Failed])])
    def flaky():
        raise ValueError("nope")

    with Flow("gmail") as flow:
        flaky()
    assert flow.run().is_failed()
    (sent,) = smtp_tls_sink.messages
    assert sent["login"] == ("me@example.com", "pw-987")
    assert sent["message"]["To"] == "me@example.com"
    assert sent["message"]["Subject"] == "Prefect state change notification for flaky"
