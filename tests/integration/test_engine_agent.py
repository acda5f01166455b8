"""The combined classic flow (map + case + triggers + state handlers + caching) through
register -> run -> `agent local --once`, stored as a script and run in a child process."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from prefect_storage.agent.local import LocalAgent
from prefect_storage.registry import FAILED, SUCCESS, Registry
from prefect_storage.serialization import extract_flow_from_file
from prefect_storage.storage import Local

pytestmark = pytest.mark.integration

SOURCE = Path(__file__).resolve().parents[1] / "unit" / "engine" / "combined_flow.py"


def test_combined_flow_through_the_agent(tmp_path: Path) -> None:
    script = tmp_path / "combined.py"
    shutil.copy(SOURCE, script)
    script.write_text(
        script.read_text()
        + "\nfrom prefect_storage.storage import Local\n"
        + f"flow.storage = Local(path={str(script)!r}, stored_as_script=True, add_default_labels=False)\n"
    )
    flow = extract_flow_from_file(file_path=str(script))
    assert isinstance(flow.storage, Local)
    url = f"sqlite:///{tmp_path / 'registry.db'}"
    flow_id = flow.register(registry=url)
    with Registry(url) as registry:
        big = registry.create_flow_run(flow_id)
        small = registry.create_flow_run(flow_id, parameters={"n": 2})
    assert LocalAgent(Registry(url), hostname_label=False, poll_interval=0.1).start(once=True) == 2
    with Registry(url) as registry:
        big_run, small_run = registry.get_flow_run(big.id), registry.get_flow_run(small.id)
    assert big_run.state == SUCCESS, big_run.message
    states = {t["name"]: t["state"] for t in big_run.tasks or []}
    assert states["scale"] == "Mapped" and states["base"] == "Cached" and states["Merge"] == "Success"
    assert sorted(s for name, s in states.items() if name == "label") in (["Skipped"], ["Success"])
    assert small_run.state == FAILED and small_run.message == "Some reference tasks failed."
