"""One flow with map + case + triggers + state handlers + caching, through flow.run()."""

from __future__ import annotations

import importlib

from prefect_storage.core.state import Cached, Mapped, Skipped, TriggerFailed


def test_combined_flow_runs_with_classic_semantics() -> None:
    module = importlib.import_module("tests.unit.engine.combined_flow")
    flow = module.flow
    state = flow.run()
    assert state.is_successful(), state
    results = state.result
    scaled = results[module.scaled]
    assert isinstance(scaled, Mapped) and [type(s).__name__ for s in scaled.map_states] == [
        "Success", "Success", "Success", "Failed", "Success",
    ]
    assert results[module.total].result == (0 + 1 + 2 + 4) * 100
    assert results[module.result].result == "big:700"
    assert isinstance(results[module.no], Skipped)
    assert results[module.alarm].result == "some children failed"
    assert isinstance(results[module.factor], Cached)
    assert ("scale", "Failed") in module.TRANSITIONS and ("scale", "Running") in module.TRANSITIONS
    # second run: the cached base is reused, a small input takes the other branch
    again = flow.run(n=2)
    assert again.result[module.result].result == "small:100"
    assert isinstance(again.result[module.alarm], TriggerFailed)  # any_failed: nothing failed
    assert again.is_failed()
