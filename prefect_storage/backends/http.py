"""``requests`` sessions with retries on transient failures (Webhook, Bitbucket, ...)."""

from __future__ import annotations

from typing import Any

from prefect_storage.backends.optional import require

TRANSIENT_STATUS = (429, 500, 502, 503, 504)


def session(extra: str = "webhook", total_retries: int = 3, backoff: float = 0.2) -> Any:
    """A ``requests.Session`` that retries connection errors and 429/5xx answers with
    exponential backoff (urllib3's ``Retry``), for every method, honouring
    ``Retry-After``. Auth (401/403) and not-found (404) answers are returned at once."""
    requests = require("requests", extra=extra, purpose="HTTP storage")
    from urllib3.util.retry import Retry

    _redact_urllib3_logs()

    retry = Retry(
        total=total_retries,
        connect=total_retries,
        read=total_retries,
        status=total_retries,
        backoff_factor=backoff,
        status_forcelist=TRANSIENT_STATUS,
        allowed_methods=None,  # retry every method: a flow upload is an idempotent PUT/POST of the same bytes
        raise_on_status=False,
        respect_retry_after_header=True,
    )
    adapter = requests.adapters.HTTPAdapter(max_retries=retry)
    s = requests.Session()
    s.mount("http://", adapter)
    s.mount("https://", adapter)
    return s


def _redact_urllib3_logs() -> None:
    """urllib3 logs the URL of every retried request, and a rendered URL may hold a
    token (``?token=${TOKEN}``). Filters on a parent logger do not apply to records of
    its children, so each logger that writes URLs gets the redacting filter itself."""
    import logging

    from prefect_storage.log import RedactingFilter

    for name in ("urllib3.connectionpool", "urllib3.util.retry"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactingFilter) for f in logger.filters):
            logger.addFilter(RedactingFilter())
