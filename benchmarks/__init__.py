"""Performance harness: ``python -m benchmarks [name ...]`` runs ``benchmarks/bench_<name>.py``.

Each module defines ``main(emit)``; ``emit`` prints one JSON line per measurement.
These are measurements, not tests: nothing here passes or fails.
"""
