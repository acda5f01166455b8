"""HTTP transport: ``requests`` sessions with retries on transient failures (Webhook,
Bitbucket, ...), one request with typed errors, and conditional (ETag) fetches through
the local payload cache.

Messages name the URL *template* (``https://host/flow?token=${TOKEN}``), never the
rendered URL, which may hold a token; requests' own exceptions are not chained.
"""

from __future__ import annotations

from typing import Any

from prefect_storage.backends.errors import status_kind, typed_error
from prefect_storage.backends.optional import require
from prefect_storage.exceptions import FlowStorageError, with_sdk_error

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


def send(session: Any, method: str, kwargs: dict[str, Any], url_template: str, action: str) -> Any:
    """One request (``kwargs`` already rendered); a connection failure that retries did
    not cure is a :class:`BackendUnavailableError` naming ``url_template``."""
    import requests

    kwargs.setdefault("timeout", 60)
    try:
        return session.request(method, **kwargs)
    except requests.exceptions.RequestException as exc:
        failure = type(exc).__name__
    # Raised outside the except block: requests' exception (kept as __context__ even
    # with "from None") holds the rendered URL, which may carry a token.
    raise typed_error(
        "offline",
        f"Could not connect to {url_template} to {action}: {failure}. Check that the server is reachable from here.",
    )


def check(response: Any, url_template: str, action: str) -> None:
    """Raise the typed error for a 4xx/5xx answer (:mod:`.errors`): 401/403
    :class:`StorageAuthError`, 404 :class:`FlowNotFoundError`, others
    :class:`FlowStorageError`. Each is also a ``requests.HTTPError`` (what classic code
    caught), without the response attached: its URL and request hold rendered (secret) values."""
    status = response.status_code
    if status < 400:
        return
    kind = status_kind(status)
    if kind in ("auth", "denied"):
        message = (
            f"{url_template} refused to {action} ({status} {response.reason}): check the credentials in the request "
            "headers/auth (their $VAR templates and the secrets behind them)."
        )
    elif kind == "missing":
        message = f"Flow not found: {url_template} answered 404 when asked to {action}."
    else:
        message = f"{url_template} failed to {action}: {status} {response.reason}."
    raise with_sdk_error(typed_error(kind, message, failed=FlowStorageError), "requests", "HTTPError")


def conditional_fetch(
    session: Any, method: str, kwargs: dict[str, Any], url_template: str, action: str, cache_key: str
) -> bytes:
    """The response body, through the local payload cache: with a cached copy the request
    carries ``If-None-Match`` and a ``304`` answer reuses the cached bytes. ``cache_key``
    must be built from templates, never rendered values (it is written to disk)."""
    from prefect_storage.backends.cache import PayloadCache

    cache = PayloadCache("webhook")
    cached = cache.get(cache_key)
    if cached is not None:
        headers = dict(kwargs.get("headers") or {})
        headers["If-None-Match"] = cached[0]
        kwargs["headers"] = headers
    response = send(session, method, kwargs, url_template, action)
    if response.status_code == 304 and cached is not None:
        return cached[1]
    check(response, url_template, action)
    data: bytes = response.content
    etag = response.headers.get("ETag")
    if etag:
        cache.put(cache_key, etag, data)
    else:
        cache.discard(cache_key)
    return data
