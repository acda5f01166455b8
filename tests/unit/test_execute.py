"""The agent/child contract: a run spec in, one outcome line out."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from prefect_storage.agent.execute import OUTCOME_MARKER, parse_outcome, run_spec
from prefect_storage.storage import Local
from tests.conformance.flows import make_flow

ROOT = Path(__file__).resolve().parents[2]


def _spec(tmp_path: Path, value: int = 4) -> dict:
    storage = Local(directory=tmp_path)
    storage.add_flow(make_flow(value=value))
    return {"flow_run_id": "r1", "flow_name": "conformance flow", "storage": storage.serialize(), "parameters": {}}


def test_child_process_runs_spec_and_prints_outcome(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "prefect_storage.agent.execute"],
        input=json.dumps(_spec(tmp_path)), capture_output=True, text=True, cwd=ROOT, timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    outcome = parse_outcome(proc.stdout)
    assert outcome is not None and outcome["state"] == "Success"
    assert {t["name"]: t["state"] for t in outcome["tasks"]} == {"produce": "Success", "double": "Success"}


def test_load_failure_is_a_failed_outcome_with_hint(tmp_path: Path) -> None:
    spec = _spec(tmp_path)
    Path(spec["storage"]["flows"]["conformance flow"]).unlink()
    outcome = run_spec(spec)
    assert outcome["state"] == "Failed"
    assert outcome["message"].startswith("Failed to load flow from storage: Flow file not found")
    assert "re-register" in outcome["message"]


def test_parse_outcome_ignores_other_output() -> None:
    assert parse_outcome("noise\n" + OUTCOME_MARKER + '{"state": "Success"}\nmore') == {"state": "Success"}
    assert parse_outcome("crashed") is None
