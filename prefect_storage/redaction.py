"""Redaction: every secret value resolved in this process is replaced by ``***`` in text.

The ground floor of secret hygiene, with no dependency of its own: :mod:`prefect_storage.secrets`
registers values here as it resolves them (:func:`remember_secret`), and
:mod:`prefect_storage.log` and every :class:`~prefect_storage.exceptions.StorageError`
call :func:`redact`. Values are replaced as whole tokens (never inside a longer word),
longest first, in the forms they take in text (escaped by ``repr``/JSON, the string
leaves of a JSON value, the password and query of a URL).
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator, Mapping
from typing import Any

__all__ = ["MIN_REDACTED_LENGTH", "REDACTED", "has_revealed_secrets", "redact", "remember_secret"]

REDACTED = "***"
# Shorter values are not redacted: replacing every "a" or "10" would make every
# message unreadable while protecting nothing a guesser could not find anyway.
MIN_REDACTED_LENGTH = 4


_revealed: set[str] = set()
_revealed_lock = threading.Lock()
_revealed_sorted: tuple[str, ...] = ()


def _forms(value: str) -> set[str]:
    """``value`` and the other shapes it takes in text: escaped by ``repr``/JSON, its
    string leaves when it is JSON (``AWS_CREDENTIALS``), and the userinfo and query
    parts when it is a URL (a SAS token survives an SDK rewriting the URL around it)."""
    forms = {value, repr(value)[1:-1], json.dumps(value)[1:-1]}
    if value[:1] in "{[":
        try:
            document = json.loads(value)
        except ValueError:
            document = None
        forms.update(leaf for leaf in _strings(document) if leaf != value)
    if "://" in value:
        from urllib.parse import parse_qsl, urlsplit

        try:
            parts = urlsplit(value)
        except ValueError:
            parts = None
        if parts is not None:
            forms.update(p for p in (parts.password, parts.username if not parts.password else None, parts.query) if p)
            forms.update(v for _, v in parse_qsl(parts.query))
    return {f for f in forms if len(f) >= MIN_REDACTED_LENGTH}


_pattern: re.Pattern[str] | None = None


def _whole(value: str) -> str:
    """A regex for ``value`` as a whole token: an edge that is a letter, digit or ``_``
    must not touch another one, so the secret ``conn`` never garbles ``connect``."""
    pattern = re.escape(value)
    if re.match(r"\w", value[0]):
        pattern = r"(?<!\w)" + pattern
    if re.match(r"\w", value[-1]):
        pattern += r"(?!\w)"
    return pattern


def remember_secret(value: str) -> None:
    """Register ``value`` (and the forms it takes in text) so :func:`redact` hides it from now on."""
    global _revealed_sorted, _pattern
    if not isinstance(value, str) or len(value) < MIN_REDACTED_LENGTH or value in _revealed:
        return
    forms = _forms(value)
    with _revealed_lock:
        _revealed.update(forms)
        # Longest first, so a secret that contains another is hidden whole (the regex
        # alternation takes the first alternative that matches).
        _revealed_sorted = tuple(sorted(_revealed, key=len, reverse=True))
        _pattern = re.compile("|".join(_whole(v) for v in _revealed_sorted))


def has_revealed_secrets() -> bool:
    """Whether any secret value has been resolved in this process yet."""
    return bool(_revealed_sorted)


def redact(text: str) -> str:
    """Return ``text`` with every secret value resolved in this process replaced by ``***``.

    Values are replaced as whole tokens only (never inside a longer word), longest first.
    """
    pattern = _pattern
    if pattern is None or not isinstance(text, str):
        return text
    return pattern.sub(REDACTED, text)


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _strings(item)
