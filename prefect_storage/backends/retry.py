"""Retries with exponential backoff for transient service errors (built on tenacity).

Each backend says what is transient for its service (5xx, throttling, connection
resets); auth and not-found errors are never retried, so they surface at once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from prefect_storage import config
from prefect_storage.secrets import get_logger

T = TypeVar("T")
logger = get_logger("backends.retry")


def attempts() -> int:
    """Attempts per call (``PREFECT_STORAGE_RETRY_ATTEMPTS``, default 4)."""
    return config.retry_attempts()


def call_with_retries(
    fn: Callable[[], T],
    is_transient: Callable[[BaseException], bool],
    what: str,
    max_attempts: int | None = None,
    max_wait: float = 4.0,
) -> T:
    """Call ``fn``; on an exception that ``is_transient`` accepts, wait and try again.

    Waits are random up to an exponentially growing bound (0.1 s, 0.2 s, 0.4 s, ...
    capped at ``max_wait``: "full jitter"), so retrying clients do not stampede. The
    last exception is re-raised unchanged, so callers translate it as usual.
    """
    import tenacity

    def log_retry(state: tenacity.RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        logger.warning("%s failed (%r); retry %d of %d.", what, exc, state.attempt_number, (max_attempts or attempts()) - 1)

    retrying = tenacity.Retrying(
        stop=tenacity.stop_after_attempt(max_attempts or attempts()),
        wait=tenacity.wait_random_exponential(multiplier=0.1, max=max_wait),
        retry=tenacity.retry_if_exception(is_transient),
        before_sleep=log_retry,
        reraise=True,
    )
    return retrying(fn)


def retrying_call(is_transient: Callable[[BaseException], bool], what: str) -> Callable[[Callable[[], T]], T]:
    """``retrying_call(pred, "upload")(fn)`` is ``call_with_retries(fn, pred, "upload")``."""

    def run(fn: Callable[[], Any]) -> Any:
        return call_with_retries(fn, is_transient, what)

    return run
