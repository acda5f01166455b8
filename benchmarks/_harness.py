"""Timing helpers shared by the benchmark modules."""

from __future__ import annotations

import json
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any


def emit(name: str, samples_s: list[float], **extra: Any) -> dict[str, Any]:
    """Print (and return) one JSON line: median/min/max in milliseconds, n, and ``extra``."""
    ms = [s * 1000 for s in samples_s]
    row = {
        "name": name,
        "median_ms": round(statistics.median(ms), 3),
        "min_ms": round(min(ms), 3),
        "max_ms": round(max(ms), 3),
        "n": len(ms),
        **{k: v for k, v in extra.items() if v is not None},
    }
    print(json.dumps(row), flush=True)
    return row


def emit_value(name: str, **fields: Any) -> dict[str, Any]:
    """Print one JSON line for a measurement that is not a time (sizes, counts)."""
    row = {"name": name, **fields}
    print(json.dumps(row), flush=True)
    return row


def timed(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def measure(fn: Callable[[], Any], n: int = 20, warmup: int = 1, setup: Callable[[], Any] | None = None) -> list[float]:
    """Run ``fn`` ``warmup`` + ``n`` times (``setup`` before each, untimed); return the timed samples."""
    samples = []
    for i in range(warmup + n):
        if setup is not None:
            setup()
        elapsed = timed(fn)
        if i >= warmup:
            samples.append(elapsed)
    return samples


def compare(a: Callable[[], Any], b: Callable[[], Any], n: int = 20, warmup: int = 2) -> tuple[list[float], list[float], float]:
    """Time ``a`` and ``b`` alternately (so machine noise hits both alike); return both
    sample lists and the median of the per-round ratios a/b."""
    for _ in range(warmup):
        a(), b()
    sa, sb = [], []
    for i in range(n):
        first, second = (a, b) if i % 2 == 0 else (b, a)
        t1, t2 = timed(first), timed(second)
        ta, tb = (t1, t2) if i % 2 == 0 else (t2, t1)
        sa.append(ta)
        sb.append(tb)
    ratio = statistics.median(x / y for x, y in zip(sa, sb))
    return sa, sb, ratio


def python() -> str:
    return sys.executable
