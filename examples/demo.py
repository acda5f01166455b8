"""The end-to-end path on one machine, classic and modern side by side: register the
classic example flows (Local pickle, Local script, Module) and deploy a modern flow from
a Prefect 3 ``prefect.yaml`` into the embedded SQLite registry with the CLI, schedule a
run of each, let one agent run them all once in child processes, then print every run
with its final state and result.

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


def cli(*args: str, cwd: Path | None = None) -> None:
    where = f"(cd {cwd.relative_to(ROOT)}) " if cwd else ""
    print(f"\n$ {where}prefect-storage {shlex.join(args)}", flush=True)
    subprocess.run([sys.executable, "-m", "prefect_storage.cli", *args], check=True, cwd=cwd)


def main() -> int:
    shutil.rmtree(HOME, ignore_errors=True)
    HOME.mkdir()
    os.environ["PREFECT_STORAGE_HOME"] = str(HOME)
    os.environ.pop("PREFECT_STORAGE_REGISTRY_URL", None)
    modules = str(HERE / "modules")
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [modules, str(ROOT), os.environ.get("PYTHONPATH")]))
    sys.path[:0] = [modules, str(ROOT)]

    cli("register", "--path", str(HERE / "flows"), "--module", "arithmetic_flows", "--project", "demo")
    cli("deploy", "--all", cwd=HERE / "modern")  # the modern side: a Prefect 3 prefect.yaml
    for name, params in RUNS:
        cli("run", name, *params)
    cli("deployments", "run", "modern-hello/hello")
    cli("agent", "local", "--once", "--concurrency", "3", "--no-hostname-label", "--pool", "demo")
    return report()


def report() -> int:
    from rich.console import Console
    from rich.table import Table

    from prefect_storage.registry import Registry

    table = Table(title="Demo flow runs", header_style="bold")
    for column in ("flow", "model", "code from", "state", "result", "run id"):
        table.add_column(column)
    failures = 0
    with Registry() as registry:
        for run in sorted(registry.list_flow_runs(), key=lambda r: r.flow_name):
            flow = registry.get_flow(run.flow_id)
            if flow.storage["type"] == "Deployment":  # modern: pull steps + entrypoint
                model, source = "modern", f"{flow.storage['entrypoint']} ({_step_names(flow.storage)})"
                value = _printed(registry, run)
            else:
                mode = "script" if flow.storage.get("stored_as_script") else "pickle" if flow.storage["type"] == "Local" else "import"
                model, source = "classic", f"{flow.storage['type']} ({mode})"
                value = _terminal_result(run, flow.serialized, flow.storage)
            colour = "green" if run.state == "Success" else "red"
            table.add_row(run.flow_name, model, source, f"[{colour}]{run.state}[/]", value, run.id[:8])
            failures += run.state != "Success"
    Console(width=max(Console().width, 110)).print(table)
    return 1 if failures or not table.row_count else 0


def _step_names(storage) -> str:
    return ", ".join(name.rsplit(".", 1)[-1] for step in storage.get("pull_steps") or [] for name in step)


def _printed(registry, run) -> str:
    """What the modern flow printed (``log_prints=True`` sends it to the run's stored logs)."""
    lines = [entry.message for entry in registry.get_logs(run.id) if entry.name != "agent"]
    return repr(lines[-1]) if lines else run.message or "-"


def _terminal_result(run, serialized, storage) -> str:
    """The terminal task's value, read back through the storage's paired result from where
    the agent's run checkpointed it (classic: reference tasks default to the terminal ones)."""
    from prefect_storage.storage import Storage

    slugs = lambda side: {edge[side]["slug"] for edge in serialized["edges"]}  # noqa: E731
    references = set(serialized["reference_tasks"]) or {t["slug"] for t in serialized["tasks"]} - slugs("upstream_task")
    result = Storage.deserialize(storage).result
    for task in run.tasks or []:
        if task["slug"] in references and task.get("location") and result is not None:
            return repr(result.read(task["location"]).value)
    return run.message or "-"


if __name__ == "__main__":
    raise SystemExit(main())
