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
