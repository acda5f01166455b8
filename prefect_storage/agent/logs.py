"""Turning a run's standard error into redacted log entries for the registry."""

from __future__ import annotations

import datetime
import re

from prefect_storage.registry.repository import LogEntry, utcnow
from prefect_storage.secrets import redact

# The format execute.py configures: "2026-11-21 06:15:56,118 INFO name: message"
_LINE = re.compile(
    r"^(?P<ts>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) (?P<level>[A-Z]+) (?P<name>[^:\s]+): (?P<message>.*)$"
)

MAX_LOG_LINES = 2000


def parse_logs(stderr: str, default_name: str = "flow-run") -> list[LogEntry]:
    """One entry per record; continuation lines (tracebacks, prints) join the entry
    before them. Every message is redacted; only the last MAX_LOG_LINES are kept."""
    entries: list[LogEntry] = []
    for line in stderr.splitlines():
        match = _LINE.match(line)
        if match:
            stamp = datetime.datetime.strptime(match["ts"], "%Y-%m-%d %H:%M:%S,%f").astimezone(datetime.timezone.utc)
            entries.append(LogEntry(stamp, match["level"], match["name"], match["message"]))
        elif entries and entries[-1].name != default_name:
            last = entries[-1]
            entries[-1] = LogEntry(last.timestamp, last.level, last.name, f"{last.message}\n{line}")
        elif line.strip():
            entries.append(LogEntry(utcnow(), "INFO", default_name, line))
    entries = entries[-MAX_LOG_LINES:]
    return [LogEntry(e.timestamp, e.level[:20], e.name[:200], redact(e.message)) for e in entries]


def agent_entry(level: str, message: str, name: str = "agent") -> LogEntry:
    return LogEntry(utcnow(), level, name, redact(message))
