"""``EmailTask``: send an email over SMTP (classic ``prefect.tasks.notifications.email_task``)."""

from __future__ import annotations

import os
import smtplib
import ssl
from email import encoders
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from typing import Any

from prefect_storage.core.task import Task
from prefect_storage.core.utilities import defaults_from_attrs
from prefect_storage.secrets import Secret

__all__ = ["EmailTask"]

_SMTP_TYPES = ("SSL", "STARTTLS", "INSECURE")


class EmailTask(Task):
    """Send an email.

    ``smtp_type`` is ``"SSL"`` (SMTP over TLS, then login), ``"STARTTLS"`` (plain SMTP
    upgraded with STARTTLS, then login) or ``"INSECURE"`` (plain SMTP, no login). Unless
    INSECURE, the login comes from the ``EMAIL_USERNAME`` and ``EMAIL_PASSWORD`` secrets
    (prefect_storage's secret chain). ``msg`` is the HTML part, ``msg_plain`` the text
    part; ``attachments`` are file paths. Every argument may also be given to ``run``.
    """

    def __init__(
        self,
        subject: str | None = None,
        msg: str | None = None,
        email_to: str | None = None,
        email_from: str = "notifications@prefect.io",
        smtp_server: str = "smtp.gmail.com",
        smtp_port: int = 465,
        smtp_type: str = "SSL",
        msg_plain: str | None = None,
        email_to_cc: str | None = None,
        email_to_bcc: str | None = None,
        attachments: list[str] | None = None,
        **kwargs: Any,
    ) -> None:
        self.subject = subject
        self.msg = msg
        self.email_to = email_to
        self.email_from = email_from
        self.smtp_server = smtp_server
        self.smtp_port = smtp_port
        self.smtp_type = smtp_type
        self.msg_plain = msg_plain
        self.email_to_cc = email_to_cc
        self.email_to_bcc = email_to_bcc
        self.attachments = list(attachments or [])
        super().__init__(**kwargs)

    @defaults_from_attrs(
        "subject",
        "msg",
        "email_to",
        "email_from",
        "smtp_server",
        "smtp_port",
        "smtp_type",
        "msg_plain",
        "email_to_cc",
        "email_to_bcc",
        "attachments",
    )
    def run(
        self,
        subject: str | None = None,
        msg: str | None = None,
        email_to: str | None = None,
        email_from: str | None = None,
        smtp_server: str | None = None,
        smtp_port: int | None = None,
        smtp_type: str | None = None,
        msg_plain: str | None = None,
        email_to_cc: str | None = None,
        email_to_bcc: str | None = None,
        attachments: list[str] | None = None,
    ) -> None:
        """Build the MIME message and send it; see the class docstring."""
        if smtp_type not in _SMTP_TYPES:
            raise ValueError(f"{smtp_type} is an unsupported value for smtp_type.")
        message = MIMEMultipart()
        message["Subject"] = subject or ""
        message["From"] = email_from or ""
        message["To"] = email_to or ""
        if email_to_cc:
            message["Cc"] = email_to_cc
        if email_to_bcc:
            message["Bcc"] = email_to_bcc
        # Plain first, then HTML: mail clients show the last part they can render.
        if msg_plain:
            message.attach(MIMEText(msg_plain, "plain"))
        if msg:
            message.attach(MIMEText(msg, "html"))
        for path in attachments or ():
            part = MIMEBase("application", "octet-stream")
            with open(path, "rb") as fh:
                part.set_payload(fh.read())
            encoders.encode_base64(part)
            part.add_header("Content-Disposition", f"attachment; filename= {os.path.basename(path)}")
            message.attach(part)

        server: smtplib.SMTP
        if smtp_type == "INSECURE":
            server = smtplib.SMTP(smtp_server or "", smtp_port or 0, timeout=60)
        else:
            username = str(Secret("EMAIL_USERNAME").get())
            password = str(Secret("EMAIL_PASSWORD").get())
            tls = ssl.create_default_context()
            if smtp_type == "SSL":
                server = smtplib.SMTP_SSL(smtp_server or "", smtp_port or 0, context=tls, timeout=60)
            else:
                server = smtplib.SMTP(smtp_server or "", smtp_port or 0, timeout=60)
                server.starttls(context=tls)
            server.login(username, password)
        try:
            server.send_message(message)
        finally:
            server.quit()
