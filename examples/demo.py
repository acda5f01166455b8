"""Store the example flows with Local storage (pickled and as a script), then load
each one back in a separate Python process, from its serialized storage alone, and
run it there."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

LOADER = """
import json, sys
from prefect_storage.storage import Storage
spec = json.load(sys.stdin)
flow = Storage.deserialize(spec["storage"]).get_flow(spec["name"])
state = flow.run()
(terminal,) = flow.terminal_tasks()
print(json.dumps({"state": type(state).__name__, "result": state.result[terminal].result}))
"""


def main() -> int:
    os.environ.setdefault("PREFECT_STORAGE_HOME", tempfile.mkdtemp(prefix="prefect-storage-demo-"))
    from prefect_storage.serialization import extract_flow_from_file

    failures = 0
    print(f"{'flow':<18} {'storage':<8} {'mode':<7} {'state':<8} result")
    for script in sorted((HERE / "flows").glob("*.py")):
        flow = extract_flow_from_file(file_path=script)
        flow.storage.add_flow(flow)
        flow.storage.build()
        spec = json.dumps({"storage": flow.storage.serialize(), "name": flow.name})
        proc = subprocess.run([sys.executable, "-c", LOADER], input=spec, capture_output=True, text=True)
        if proc.returncode != 0:
            failures += 1
            print(f"{flow.name:<18} FAILED to load in a separate process:\n{proc.stderr}")
            continue
        outcome = json.loads(proc.stdout)
        mode = "script" if flow.storage.stored_as_script else "pickle"
        failures += outcome["state"] != "Success"
        print(f"{flow.name:<18} {flow.storage.name:<8} {mode:<7} {outcome['state']:<8} {outcome['result']!r}")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
