"""``prefect-storage storage check``: load every registered flow in a fresh process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import click

from prefect_storage.cli.app import EXIT_FAILED, CliState
from prefect_storage.cli.output import print_json, print_table


@click.group()
def storage() -> None:
    """Flow storage."""


@storage.command("check")
@click.argument("flow", required=False)
@click.option("--project", default=None, help="Only flows of this project.")
@click.option("--timeout", type=float, default=120.0, show_default=True, help="Seconds allowed per flow.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_obj
def check(state: CliState, flow: str | None, project: str | None, timeout: float, as_json: bool) -> None:
    """Load FLOW (default: every registered flow) from its storage with get_flow in a
    fresh process, without running it; exit 1 if any fails."""
    registry = state.registry
    records = [registry.find_flow(flow, project=project)] if flow else registry.list_flows(project=project)
    results = [_check_one(r, timeout) for r in records]
    if as_json:
        print_json([{"flow": r.name, "version": r.version, "id": r.id, **res} for r, res in zip(records, results)])
    else:
        print_table(
            "Storage check",
            ["FLOW", "VERSION", "STORAGE", "RESULT", "MESSAGE"],
            [(r.name, r.version, r.storage.get("type"), "pass" if res["ok"] else "FAIL", res["message"]) for r, res in zip(records, results)],
        )
    if any(not res["ok"] for res in results):
        sys.exit(EXIT_FAILED)


def _check_one(record: Any, timeout: float) -> dict[str, Any]:
    from prefect_storage.agent.environment import RunSecretError, resolve_storage_secrets, run_environment
    from prefect_storage.agent.execute import parse_outcome
    from prefect_storage.secrets import redact

    try:
        secrets = resolve_storage_secrets(record.storage)
    except RunSecretError as exc:
        return {"ok": False, "message": str(exc)}
    env = run_environment(os.environ, secrets)
    spec = json.dumps({"flow_name": record.name, "storage": record.storage})
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "prefect_storage.agent.healthcheck"],
            input=spec, capture_output=True, text=True, env=env, timeout=timeout, check=False,
        )
    except subprocess.TimeoutExpired:
        return {"ok": False, "message": f"Loading the flow took longer than {timeout:g}s."}
    outcome = parse_outcome(proc.stdout)
    if outcome is None:
        tail = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
        return {"ok": False, "message": redact(f"The check process exited with {proc.returncode}: {tail}")}
    return {"ok": bool(outcome["ok"]), "message": redact(outcome["message"])}
