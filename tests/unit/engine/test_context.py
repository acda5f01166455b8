"""The classic context: module and object at once, mapping API, run keys."""

from __future__ import annotations

import threading

import pytest

import prefect_storage
from prefect_storage import Flow, context, task
from prefect_storage.context import modern_flow_block, modern_flow_run


def test_module_is_the_context_object() -> None:
    import prefect_storage.context as module
    from prefect_storage.context import building_flow

    assert module is prefect_storage.context is context
    assert callable(building_flow)
    with prefect_storage.context(a=1, **{"b": 2}):
        assert context.a == 1 and context["b"] == 2 and context.get("c", 3) == 3
        assert dict(**prefect_storage.context)["a"] == 1
        assert {"a", "b"} <= set(context.keys()) and ("a", 1) in context.items()
        assert "a" in context and context.to_dict()["b"] == 2
    assert "a" not in context and context.get("a") is None


def test_nesting_update_and_restore() -> None:
    with context({"x": 1}):
        with context(x=2, y=3):
            assert (context.x, context.y) == (2, 3)
            context.update(z=4)
            assert context.z == 4
        assert context.x == 1 and "y" not in context and "z" not in context
    with pytest.raises(AttributeError):
        _ = context.never_set


def test_context_cannot_be_pickled() -> None:
    import pickle

    with pytest.raises(TypeError, match="Pickling context objects is explicitly not supported"):
        pickle.dumps(prefect_storage.context.Context())


def test_threads_see_their_own_values() -> None:
    seen: list[object] = []
    with context(only_here=1):
        worker = threading.Thread(target=lambda: seen.append(context.get("only_here")))
        worker.start()
        worker.join()
    assert seen == [None]


def test_run_keys_and_logger_inside_tasks() -> None:
    @task
    def grab(p: int) -> dict:
        keys = (
            "flow_name flow_run_id flow_run_name task_name task_slug task_full_name task_run_id task_tags map_index "
            "parameters scheduled_start_time date today yesterday tomorrow today_nodash task_run_count logger"
        ).split()
        return {k: context.get(k) for k in keys} | {"secret": context.get("user_key")}

    with Flow("ctx-flow") as flow:
        g = grab(prefect_storage.Parameter("p", default=3))
    state = flow.run(context={"user_key": "v", "date": "2020-02-03T00:00:00"}, flow_run_name="named")
    values = state.result[g].result
    assert values["flow_name"] == "ctx-flow" and values["flow_run_name"] == "named"
    assert values["task_name"] == "grab" and values["task_slug"] == "grab-1" and values["map_index"] is None
    assert values["parameters"] == {"p": 3} and values["task_run_count"] == 1
    assert values["today"] == "2020-02-03" and values["yesterday"] == "2020-02-02" and values["today_nodash"] == "20200203"
    assert values["logger"].name.endswith("grab") and values["secret"] == "v"
    assert "flow_name" not in context  # nothing leaks out of the run


def test_modern_flow_hook_runs_tasks_at_once() -> None:
    @task(max_retries=1, retry_delay=__import__("datetime").timedelta(0))
    def double(x: int) -> int:
        return 2 * x

    @task
    def boom() -> None:
        raise ValueError("nope")

    assert modern_flow_run() is None
    marker = object()
    with modern_flow_block(marker):
        assert modern_flow_run() is marker
        assert double(4) == 8
        with pytest.raises(ValueError, match="nope"):
            boom()
    assert modern_flow_run() is None


def test_context_config_is_a_merged_copy_that_later_changes_do_not_reach() -> None:
    from prefect_storage.core.configuration import Config, config, set_temporary_config

    with set_temporary_config({"flows.checkpointing": "FOO"}):
        inside = prefect_storage.context.config
        assert isinstance(inside, Config) and inside is not config
        assert inside.flows.checkpointing == "FOO"
        config.flows.checkpointing = False  # the global object changes; the block's copy does not
        assert prefect_storage.context.config.flows.checkpointing == "FOO"
        assert inside.tasks.defaults.max_retries == config.tasks.defaults.max_retries  # the rest is merged in
        with prefect_storage.context(config={"flows": {"eager_edge_validation": True}}):
            nested = prefect_storage.context.config
            assert nested.flows.eager_edge_validation is True and nested.flows.checkpointing == "FOO"
        del inside.flows.checkpointing
        assert "checkpointing" not in inside.flows
        with pytest.raises(AttributeError, match="checkpointing"):
            del inside.flows.checkpointing
    assert config.flows.checkpointing is None  # restored after the block
    assert prefect_storage.context.config is config
