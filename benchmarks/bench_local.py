"""Local storage and the envelope: import time, cold and warm loads, bytes on disk.

Comparisons (issue 2), each measured in one run:
* ``import prefect_storage`` timed inside a fresh process (target: median <= 60 ms);
* a whole cold process: start Python, import, rebuild Local storage from its JSON,
  ``get_flow`` of a 100-task pickled flow (target: median <= 90 ms);
* warm ``get_flow`` of a 1000-task flow against reading the same file plus bare
  ``cloudpickle.loads`` of its payload, interleaved (target: ratio <= 1.1);
* bytes on disk against the raw cloudpickle payload (target: overhead <= 2%).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import cloudpickle

from benchmarks._harness import compare, emit_value, measure, timed
from benchmarks.flows import chain_flow
from prefect_storage.serialization.flow_pickle import read_envelope
from prefect_storage.storage import Local, Storage

ROOT = Path(__file__).resolve().parents[1]
COLD = """
from prefect_storage.storage import Storage
import json, sys
Storage.deserialize(json.loads(sys.argv[1])).get_flow(sys.argv[2])
"""
IMPORT = "import time;t=time.perf_counter();import prefect_storage;print(time.perf_counter()-t)"
N = 30


def _process(argv: list[str], env: dict[str, str]) -> float:
    return timed(lambda: subprocess.run(argv, check=True, env=env, cwd=ROOT))


def bench_imports(emit, env: dict[str, str]) -> None:
    inside = [
        float(subprocess.run([sys.executable, "-c", IMPORT], check=True, env=env, cwd=ROOT, capture_output=True, text=True).stdout)
        for _ in range(N)
    ]
    emit("import prefect_storage (timed inside a fresh process)", inside, target_ms=60, classic_prefect_ms=300)


def bench_size(emit, home: str, env: dict[str, str], size: int) -> None:
    storage = Local(directory=Path(home) / "flows", add_default_labels=False)
    flow = chain_flow(size)
    location = storage.add_flow(flow)
    spec = json.dumps(storage.serialize())
    data = Path(location).read_bytes()
    raw = cloudpickle.dumps(flow, protocol=5)
    emit_value(
        f"bytes on disk, {size} tasks", file_bytes=len(data), raw_cloudpickle_bytes=len(raw),
        overhead_pct=round(100 * (len(data) - len(raw)) / len(raw), 2), target_pct=2, classic_overhead_pct=33,
    )
    if size == 100:
        bare = measure(lambda: _process([sys.executable, "-c", "pass"], env), n=N)
        emit("python startup alone (reference)", bare)
        cold = measure(lambda: _process([sys.executable, "-c", COLD, spec, flow.name], env), n=N)
        emit("cold process: start Python, import, Local from JSON, get_flow (100 tasks)", cold, target_ms=90, classic_ms=370)
    payload = bytes(read_envelope(data).payload)
    loaded = Storage.deserialize(json.loads(spec))

    def bare_load() -> None:
        with open(location, "rb") as fh:
            fh.read()
        cloudpickle.loads(payload)

    warm, reference, ratio = compare(lambda: loaded.get_flow(flow.name), bare_load, n=N)
    emit(
        f"warm get_flow, {size} tasks", warm, reference_median_ms=round(sorted(reference)[N // 2] * 1000, 3),
        ratio_vs_read_plus_cloudpickle_loads=round(ratio, 3), target_ratio=1.1 if size == 1000 else None,
    )


def main(emit) -> None:
    home = tempfile.mkdtemp(prefix="bench-local-")
    env = {**os.environ, "PREFECT_STORAGE_HOME": home, "PYTHONPATH": str(ROOT)}
    os.environ["PREFECT_STORAGE_HOME"] = home
    bench_imports(emit, env)
    for size in (10, 100, 1000):
        bench_size(emit, home, env, size)


if __name__ == "__main__":
    from benchmarks._harness import emit as _emit

    main(_emit)
