"""The end-to-end path on one machine: register the example flows (Local pickle, Local
script, Module) in the embedded SQLite registry with the CLI, schedule a run of each,
let an agent run them once in child processes, then print every run with its final
state and result.

Everything lives in ``.demo/`` under the repository (recreated on each run), so the
demo never touches ``~/.prefect``.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
HOME = ROOT / ".demo"
RUNS = [("etl (pickled)", ["--param", "n=4"]), ("hello (script)", ["--param", "name=agent"]), ("arithmetic (module)", [])]


def cli(*args: str) -> None:
    print(f"\n$ prefect-storage {shlex.join(args)}", flush=True)
    subprocess.run([sys.executable, "-m", "prefect_storage.cli", *args], check=True)


def main() -> int:
    shutil.rmtree(HOME, ignore_errors=True)
    HOME.mkdir()
    os.environ["PREFECT_STORAGE_HOME"] = str(HOME)
    os.environ.pop("PREFECT_STORAGE_REGISTRY_URL", None)
    modules = str(HERE / "modules")
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [modules, str(ROOT), os.environ.get("PYTHONPATH")]))
    sys.path[:0] = [modules, str(ROOT)]

    cli("register", "--path", str(HERE / "flows"), "--module", "arithmetic_flows", "--project", "demo")
    for name, params in RUNS:
        cli("run", name, *params)
    cli("agent", "local", "--once", "--concurrency", "3", "--no-hostname-label")
    return report()


def report() -> int:
    from rich.console import Console
    from rich.table import Table

    from prefect_storage.registry import Registry
    from prefect_storage.results.base import Result

    table = Table(title="Demo flow runs", header_style="bold")
    for column in ("flow", "storage", "state", "result", "run id"):
        table.add_column(column)
    failures = 0
    with Registry() as registry:
        for run in sorted(registry.list_flow_runs(), key=lambda r: r.flow_name):
            flow = registry.get_flow(run.flow_id)
            value = _terminal_result(run, flow.serialized, Result)
            mode = "script" if flow.storage.get("stored_as_script") else "pickle" if flow.storage["type"] == "Local" else "import"
            colour = "green" if run.state == "Success" else "red"
            table.add_row(run.flow_name, f"{flow.storage['type']} ({mode})", f"[{colour}]{run.state}[/]", value, run.id[:8])
            failures += run.state != "Success"
    Console().print(table)
    return 1 if failures or not table.row_count else 0


def _terminal_result(run, serialized, result_class) -> str:
    """The reference task's value, read back through the flow's result from where the run checkpointed it."""
    references = set(serialized["reference_tasks"])
    for task in run.tasks or []:
        if task["slug"] in references and task.get("location") and serialized.get("result"):
            return repr(result_class.deserialize(serialized["result"]).read(task["location"]).value)
    return run.message or "-"


if __name__ == "__main__":
    raise SystemExit(main())
