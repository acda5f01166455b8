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
        **extra,
    }
    print(json.dumps(row), flush=True)
    return row


def measure(fn: Callable[[], Any], n: int = 20, warmup: int = 1, setup: Callable[[], Any] | None = None) -> list[float]:
    """Run ``fn`` ``warmup`` + ``n`` times (``setup`` before each, untimed); return the timed samples."""
    samples = []
    for i in range(warmup + n):
        if setup is not None:
            setup()
        start = time.perf_counter()
        fn()
        elapsed = time.perf_counter() - start
        if i >= warmup:
            samples.append(elapsed)
    return samples


def python() -> str:
    return sys.executable
