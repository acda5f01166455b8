"""The classic flow model: functional API, running, states, retries, checkpointing."""

from __future__ import annotations

import datetime
import warnings
from pathlib import Path

import pytest

from prefect_storage import Flow, Parameter, Task, task
from prefect_storage.core import Cached, TriggerFailed, UniversalRun
from prefect_storage.core.context import loading
from prefect_storage.results import LocalResult
from prefect_storage.storage import Local


@task
def add(x: int, y: int) -> int:
    return x + y


@task
def fail(x: int) -> int:
    raise RuntimeError(f"bad input {x}")


def test_functional_api_builds_edges_and_constants() -> None:
    with Flow("f") as flow:
        p = Parameter("p", default=1)
        first = add(p, 2)
        second = add(first, y=first)
    assert len(flow.tasks) == 4 - 1  # p, first, second (add itself is copied, not added)
    assert {(e.upstream_task.name, e.key) for e in flow.edges if e.downstream_task is second} == {("add", "x"), ("add", "y")}
    assert flow.constants[first] == {"y": 2}
    assert flow.root_tasks() == {p} and flow.terminal_tasks() == {second}
    state = flow.run(p=5)
    assert state.is_successful() and state.result[second].result == 14


def test_failure_propagates_as_states_not_exceptions() -> None:
    with Flow("f") as flow:
        bad = fail(1)
        downstream = add(bad, 1)
        independent = add(1, 1)
    state = flow.run()
    assert state.is_failed()
    assert isinstance(state.result[downstream], TriggerFailed)
    assert "bad input 1" in state.result[bad].message
    assert state.result[independent].is_successful()


def test_reference_tasks_decide_the_flow_state() -> None:
    with Flow("f") as flow:
        fail(1)
        ok = add(1, 1)
    flow.set_reference_tasks([ok])
    assert flow.run().is_successful()


def test_required_parameter_and_unknown_parameter() -> None:
    with Flow("f") as flow:
        add(Parameter("x"), 1)
    with pytest.raises(ValueError, match="did not receive the following required parameters: x"):
        flow.run()
    with pytest.raises(ValueError, match="unexpected parameters: nope"):
        flow.run(parameters={"nope": 1})


def test_retries() -> None:
    calls = []

    @task(max_retries=2, retry_delay=datetime.timedelta(0))
    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise OSError("transient")
        return "ok"

    with Flow("f") as flow:
        t = flaky()
    assert flow.run().result[t].result == "ok" and len(calls) == 3
    with pytest.raises(ValueError, match="retry_delay"):
        task(max_retries=1)(lambda: 1)


def test_cycles_are_reported_by_validate() -> None:
    a, b = Task(name="a"), Task(name="b")
    flow = Flow("f")
    flow.add_edge(a, b)
    with pytest.raises(ValueError, match="Cycle found"):
        flow.add_edge(b, a, validate=True)
    with pytest.raises(ValueError, match="Cycle found"):
        flow.validate()


def test_slugs_are_unique_and_sorting_is_deterministic() -> None:
    with Flow("f") as flow:
        results = [add(i, i) for i in range(5)]
    assert [flow.slugs[t] for t in flow.sorted_tasks()] == [f"add-{i}" for i in range(1, 6)]
    flow.serialize()  # classic: serializing writes the flow's slugs onto the tasks
    assert flow.get_tasks(slug="add-3") == [results[2]]


def test_task_subclass_run_signature() -> None:
    class Multiply(Task):
        def run(self, x: int, factor: int = 2) -> int:
            return x * factor

    with Flow("f") as flow:
        m = Multiply()(3)
    assert flow.run().result[m].result == 6
    with Flow("g"), pytest.raises(TypeError, match="Multiply"):
        Multiply()(1, 2, 3)


def test_calling_a_task_outside_a_flow() -> None:
    with pytest.raises(ValueError, match="Could not infer an active Flow context"):
        add(1, 2)


def test_checkpointing_through_flow_and_storage_results(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with Flow("f", result=LocalResult(dir=tmp_path / "r", location="{task_slug}.bin")) as flow:
        s = add(1, 2)
    assert flow.run().result[s].location is None  # checkpointing is off by default
    state = flow.run(checkpoint=True)
    assert state.result[s].location == str(tmp_path / "r" / "add-1.bin")
    monkeypatch.setenv("PREFECT__FLOWS__CHECKPOINTING", "true")
    with Flow("g", storage=Local(directory=tmp_path / "flows")) as stored:
        t = add(2, 2)
    written = stored.run().result[t].location
    assert written is not None and Path(written).parent == tmp_path / "flows"  # the storage's paired result


def test_target_caches_results(tmp_path: Path) -> None:
    calls = []

    @task(target="{task_name}-{x}.bin", checkpoint=True)
    def expensive(x: int) -> int:
        calls.append(x)
        return x * 10

    with Flow("f", result=LocalResult(dir=tmp_path)) as flow:
        e = expensive(4)
    assert flow.run(checkpoint=True).result[e].result == 40
    second = flow.run(checkpoint=True).result[e]
    assert isinstance(second, Cached) and second.result == 40 and calls == [4]


def test_run_and_register_are_skipped_while_loading() -> None:
    with Flow("f") as flow:
        add(1, 1)
    with loading(), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert flow.run() is None
    assert "flow.run" in str(caught[0].message)


def test_nested_flow_blocks_build_separate_flows() -> None:
    with Flow("outer") as outer:
        first = add(1, 1)
        with Flow("inner") as inner:
            second = add(2, 2)
        third = add(3, 3)
    assert outer.tasks == {first, third} and inner.tasks == {second}


def test_serialize_is_json_metadata_and_hash_is_stable(tmp_path: Path) -> None:
    with Flow("f", storage=Local(directory=tmp_path, add_default_labels=False), run_config=UniversalRun(labels=["x"])) as flow:
        add(Parameter("p", default=[1]), 1)
    data = flow.serialize()
    assert data["name"] == "f" and data["storage"]["type"] == "Local"
    (param,) = data["parameters"]
    assert {k: param[k] for k in ("name", "slug", "default", "required")} == {"name": "p", "slug": "p", "default": [1], "required": False}
    assert data["run_config"]["labels"] == ["x"]
    assert flow.serialized_hash() == flow.serialized_hash()
    with pytest.raises(ValueError, match="This flow has no storage to build"):
        Flow("nostorage").serialize(build=True)


def test_flow_survives_pickling_with_indexes() -> None:
    import cloudpickle

    with Flow("f") as flow:
        first = add(1, 2)
        add(first, 3)
    again = cloudpickle.loads(cloudpickle.dumps(flow))
    (terminal,) = again.terminal_tasks()
    assert again.run().result[terminal].result == 6


def test_save_and_load(tmp_path: Path, _isolated_home: Path) -> None:
    with Flow("Saved Flow") as flow:
        add(20, 22)
    default_path = flow.save()
    assert default_path == str(_isolated_home / "flows" / "saved-flow.prefect")
    for where in ("Saved Flow", default_path, flow.save(tmp_path / "x.prefect")):
        loaded = Flow.load(where)
        (terminal,) = loaded.terminal_tasks()
        assert loaded.run().result[terminal].result == 42
