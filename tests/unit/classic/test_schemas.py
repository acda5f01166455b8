"""Classic `prefect.serialization.task` / `.flow`: metadata in, base tasks and flows out."""

from __future__ import annotations

import datetime

import pytest

import prefect_storage
from prefect_storage import Flow, Parameter, Task
from prefect_storage.core import cache_validators, triggers
from prefect_storage.core.schedules import CronSchedule, IntervalSchedule
from prefect_storage.core.schedules.clocks import CronClock


def test_schema_modules_are_attributes_after_import_prefect() -> None:
    schemas = prefect_storage.serialization
    assert schemas.task.TaskSchema and schemas.flow.FlowSchema and schemas.state.StateSchema
    with pytest.raises(AttributeError):
        schemas.edgee  # noqa: B018


def test_task_metadata_loads_as_a_base_task_with_its_settings() -> None:
    class Special(Task):
        def run(self, x: int) -> int:
            return x

    original = Special(
        name="special",
        tags=["a", "b"],
        max_retries=2,
        retry_delay=datetime.timedelta(seconds=5),
        timeout=30,
        trigger=triggers.some_failed(at_least=2),
        skip_on_upstream_skip=False,
        cache_for=datetime.timedelta(minutes=1),
        cache_key="k",
        cache_validator=cache_validators.partial_inputs_only(validate_on=["x"]),
    )
    schema = prefect_storage.serialization.task.TaskSchema()
    loaded = schema.load(schema.dump(original))
    assert type(loaded) is Task
    assert (loaded.name, loaded.tags, loaded.max_retries, loaded.timeout) == ("special", {"a", "b"}, 2, 30)
    assert loaded.retry_delay == datetime.timedelta(seconds=5)
    assert loaded.cache_for == datetime.timedelta(minutes=1) and loaded.cache_key == "k"
    assert loaded.skip_on_upstream_skip is False
    # stateful engine functions come back through their factories, with their arguments
    assert loaded.trigger.__qualname__.startswith("some_failed.") and loaded.trigger.trigger_kwargs["at_least"] == 2
    assert loaded.cache_validator.validator_kwargs == {"validate_on": ["x"]}


def test_a_users_own_trigger_is_not_imported_back() -> None:
    def mine(upstream_states: dict) -> bool:
        return True

    data = Task(name="t", trigger=mine).serialize()
    assert data["trigger"].endswith("mine")
    loaded = prefect_storage.serialization.task.TaskSchema().load(data)
    assert loaded.trigger is triggers.all_successful  # the default, not an import of the test module


def test_parameter_metadata_loads_as_a_parameter() -> None:
    schema = prefect_storage.serialization.task.ParameterSchema()
    loaded = schema.load(Parameter("n", default=3, tags=["p"]).serialize())
    assert isinstance(loaded, Parameter)
    assert (loaded.name, loaded.default, loaded.required, loaded.tags) == ("n", 3, False, {"p"})


def test_flow_metadata_round_trips_its_shape() -> None:
    p, a, b, c = Parameter("p"), Task("a"), Task("b"), Task("c")
    flow = Flow("shape", tasks=[p, a, b, c], schedule=CronSchedule("0 0 * * *"))
    flow.add_edge(p, a)
    flow.add_edge(a, b, key="x")
    flow.add_edge(a, c, mapped=True)
    flow.set_reference_tasks([b])
    data = flow.serialize()

    loaded = prefect_storage.serialization.flow.FlowSchema().load(data)
    assert loaded.name == "shape" and len(loaded.tasks) == 4 and len(loaded.edges) == 3
    by_slug = {loaded.slugs[t]: t for t in loaded.tasks}
    assert set(by_slug) == {flow.slugs[t] for t in flow.tasks}
    edges = {(loaded.slugs[e.upstream_task], loaded.slugs[e.downstream_task], e.key, e.mapped) for e in loaded.edges}
    assert edges == {(flow.slugs[e.upstream_task], flow.slugs[e.downstream_task], e.key, e.mapped) for e in flow.edges}
    assert [t.name for t in loaded.reference_tasks()] == ["b"]
    assert isinstance(loaded.schedule.clocks[0], CronClock)


def test_flow_of_base_tasks_serializes_the_same_after_loading() -> None:
    a, b = Task("a"), Task("b", max_retries=1, retry_delay=datetime.timedelta(seconds=1))
    flow = Flow("same", tasks=[a, b], schedule=IntervalSchedule(interval=datetime.timedelta(hours=1)))
    flow.add_edge(a, b)
    data = flow.serialize()
    assert prefect_storage.serialization.flow.FlowSchema().load(data).serialize() == data


def test_run_config_schema_round_trips() -> None:
    from prefect_storage.run_configs import DockerRun, LocalRun

    schema = prefect_storage.serialization.run_config.RunConfigSchema()
    for run_config in (LocalRun(labels=["a"], env={"X": "1"}, working_dir="/w"), DockerRun(image="python:3.11")):
        loaded = schema.load(schema.dump(run_config))
        assert type(loaded) is type(run_config)
        assert loaded.serialize() == run_config.serialize()


def test_schemas_without_a_counterpart_still_say_so() -> None:
    from prefect_storage.exceptions import ClassicNotProvidedError

    with pytest.raises(ClassicNotProvidedError, match="marshmallow"):
        import prefect_storage.serialization.edge  # noqa: F401


def test_flow_metadata_keeps_parameters_and_storage_and_lists_tasks_by_slug(tmp_path) -> None:
    from prefect_storage.storage import Local

    flow = Flow("params", storage=Local(directory=str(tmp_path), add_default_labels=False))
    x = Parameter("x", default=5)
    d, c = Task("d"), Task("c")
    flow.add_edge(x, d)
    flow.add_edge(c, d)
    data = flow.serialize()
    assert [t["slug"] for t in data["tasks"]] == sorted(t["slug"] for t in data["tasks"])  # classic order

    loaded = prefect_storage.serialization.flow.FlowSchema().load(data)
    (parameter,) = loaded.parameters()
    assert (parameter.name, parameter.default, parameter.required) == ("x", 5, False)
    assert parameter in loaded.tasks and any(e.upstream_task is parameter for e in loaded.edges)
    assert isinstance(loaded.storage, Local) and loaded.storage.directory == str(tmp_path)
