"""``python -m benchmarks [name ...]``: run all benchmark modules, or the named ones."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

from benchmarks._harness import emit


def main(argv: list[str]) -> int:
    available = sorted(p.stem.removeprefix("bench_") for p in Path(__file__).parent.glob("bench_*.py"))
    names = argv or available
    unknown = sorted(set(names) - set(available))
    if unknown:
        print(f"unknown benchmark(s) {unknown}; available: {available}", file=sys.stderr)
        return 2
    for name in names:
        importlib.import_module(f"benchmarks.bench_{name}").main(emit)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
