"""Logging that cannot leak secrets: every record passes through :func:`prefect_storage.redaction.redact`.

Kept apart from :mod:`prefect_storage.secrets` so that loading a flow (which renders
templates) does not import :mod:`logging` until something actually logs. It depends on
:mod:`prefect_storage.redaction` only, not on the secret lookup.
"""

from __future__ import annotations

import logging

from prefect_storage.redaction import has_revealed_secrets, redact

__all__ = ["RedactingFilter", "get_logger"]


class RedactingFilter(logging.Filter):
    """Redacts the formatted message (and traceback text) of every record it sees.

    Attach it to a handler to cover every logger that handler serves; :func:`get_logger`
    attaches it to the ``prefect_storage`` loggers themselves.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if has_revealed_secrets():
            message = record.getMessage()
            clean = redact(message)
            if clean != message or record.args:
                record.msg, record.args = clean, None
            if record.exc_info and record.exc_info[1] is not None and not record.exc_text:
                record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        return True


_FILTER = RedactingFilter()
_level_set = False


def _set_package_level() -> None:
    """Give the ``prefect_storage`` logger the classic default level (``INFO``, or
    ``PREFECT__LOGGING__LEVEL``) unless the application already chose one. No handler is
    added: records reach whatever handlers the application configured (and pytest's
    ``caplog``), and with none configured Python's last-resort handler shows only warnings."""
    global _level_set
    _level_set = True
    package = logging.getLogger("prefect_storage")
    if package.level == logging.NOTSET:
        from prefect_storage import config

        package.setLevel(config.logging_level())


def get_logger(name: str) -> logging.Logger:
    """A logger named ``prefect_storage.<name>`` whose records are redacted before any handler sees them."""
    full = name if name.startswith("prefect_storage") else f"prefect_storage.{name}"
    if not _level_set:
        _set_package_level()
    logger = logging.getLogger(full)
    if _FILTER not in logger.filters:
        logger.addFilter(_FILTER)
    return logger
