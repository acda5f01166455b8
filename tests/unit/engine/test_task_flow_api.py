"""The classic Task / Parameter / Flow graph API."""

from __future__ import annotations

import datetime
import warnings

import pytest

from prefect_storage import Flow, Parameter, Task, tags, task
from prefect_storage.core.edges import Edge, unmapped
from prefect_storage.core.parameter import DateTimeParameter
from prefect_storage.tasks.core.constants import Constant
from prefect_storage.tasks.core.operators import GetItem


@task
def add(x: int, y: int = 1) -> int:
    return x + y


@task
def pair() -> tuple[int, int]:
    return 1, 2


def test_task_constructor_checks() -> None:
    with pytest.raises(TypeError, match="Tags should be a set of tags, not a string."):
        Task(tags="a")
    with pytest.raises(ValueError, match="retry_delay"):
        Task(max_retries=1)
    with pytest.raises(ValueError, match="max_retries"):
        Task(retry_delay=datetime.timedelta(seconds=1))
    with pytest.raises(ValueError, match="retry_on"):
        Task(retry_on=ValueError)
    with pytest.raises(TypeError, match="Expected an exception type"):
        Task(max_retries=1, retry_delay=datetime.timedelta(0), retry_on=[ValueError("x")])
    with pytest.raises(TypeError, match="Only integer timeouts"):
        Task(timeout=1.5)
    assert Task(timeout=datetime.timedelta(minutes=2)).timeout == 120
    with pytest.warns(UserWarning, match="will not be cached"):
        Task(cache_validator=lambda *a: True)
    with pytest.raises(ValueError, match=r"variable positional arguments \(\*args\)"):

        class Bad(Task):
            def run(self, *args):  # type: ignore[no-untyped-def]
                return args

    with pytest.raises(ValueError, match="reserved keyword arguments"):
        task(lambda upstream_tasks: 1)


def test_task_defaults_and_copy() -> None:
    t = Task()
    assert (t.name, t.slug, t.tags, t.max_retries, t.retry_delay, t.timeout, t.nout, t.auto_generated) == (
        "Task", None, set(), 0, None, None, None, False,
    )
    assert pair.nout == 2
    renamed = add.copy(name="renamed", tags=["z"])
    assert renamed.name == "renamed" and add.name == "add" and renamed.tags == {"z"}
    with pytest.raises(AttributeError, match="does not have nonexistent as an attribute"):
        add.copy(nonexistent=1)
    assert Task(slug="s").copy().slug == "s-copy"


def test_call_bind_constants_and_operators() -> None:
    with tags("outer"), Flow("f") as flow:
        p = Parameter("p", default=2)
        a = add(p, 10)
        b = a + 1
        c = (a * b)[0] if False else a * b
        first, second = pair()
        cmp = c.is_equal(3).not_()
    assert flow.constants[a] == {"y": 10} and "outer" in a.tags
    assert {type(x).__name__ for x in flow.tasks} >= {"Add", "Mul", "GetItem", "Equal", "Not"}
    assert isinstance(first, GetItem) and first.name == "pair[0]"
    state = flow.run()
    assert state.result[c].result == 12 * 13 and state.result[second].result == 2 and state.result[cmp].result is True


def test_bind_errors_and_pipe() -> None:
    with pytest.raises(ValueError, match="Could not infer an active Flow context while creating edge to <Task: add>"):
        add(1)
    with pytest.raises(TypeError, match="Task is not iterable"):
        iter(add)
    with Flow("f") as flow:
        one = add(1)
        two = one.pipe(add, y=5)
    assert {(e.upstream_task, e.key) for e in flow.edges_to(two)} == {(one, "x")}
    assert flow.run().result[two].result == 7
    with pytest.raises(TypeError, match="Cannot map over unsubscriptable object"), Flow("g"):
        add.map(5)


def test_parameters() -> None:
    p = Parameter("x")
    assert p.required and p.default is None and p.slug == "x"
    assert not Parameter("z", default=None).required
    assert DateTimeParameter("d", default="2021-03-04T05:06:07").required
    assert Parameter("r").serialize()["required"] is True
    with Flow("f") as flow:
        add(Parameter("x"), 1)
    with pytest.raises(ValueError, match='A task with the slug "x" already exists in this flow.'):
        flow.add_task(Parameter("x"))
    with pytest.raises(ValueError, match="did not receive the following required parameters: x"):
        flow.run()
    with pytest.raises(ValueError, match="Parameters must be root tasks"):
        flow.add_edge(Task(), p)
    with pytest.raises(TypeError, match="missing 1 required positional argument: 'name'"):
        p.copy()  # type: ignore[call-arg]
    dt_flow = Flow("dt")
    d = dt_flow.add_task(DateTimeParameter("d"))
    assert dt_flow.run(d="2021-03-04T05:06:07").result[d].result.year == 2021


def test_flow_graph_api() -> None:
    a, b, c, d = (Task(name=n) for n in "abcd")
    flow = Flow("g", None, None, None, None, [a])  # classic positional order: tasks is 6th
    assert flow.tasks == {a}
    edges = flow.chain(a, b, c)
    assert repr(edges[0]) == "<Edge(key=None, mapped=False, flattened=False): a to b>"
    assert flow.upstream_tasks(c) == {b} and flow.downstream_tasks(a) == {b}
    assert flow.edges_to(b) == {Edge(a, b)} and flow.sorted_tasks() == (a, b, c)
    assert flow.sorted_tasks(root_tasks=[b]) == (b, c)
    flow.replace(b, d)
    assert flow.upstream_tasks(c) == {d} and b not in flow.tasks and list(flow) == [a, d, c]
    copied = flow.copy()
    assert copied == flow and copied is not flow and copied.tasks is not flow.tasks
    other = Flow("g", tasks=flow.tasks, edges=list(flow.edges))
    assert other == flow and Flow("g") != flow
    assert flow.get_tasks(name="a") == [a] and flow.get_tasks(task_type=Constant) == []
    with pytest.raises(ValueError, match="was not found in Flow"):
        flow.edges_to(Task())
    with pytest.raises(ValueError, match="reference tasks must be part of the flow."):
        flow.set_reference_tasks([Task()])
    with pytest.raises(ValueError, match="A name must be provided for the flow."):
        Flow("")
    with pytest.raises(ValueError, match="Edges can not connect a task to itself."):
        Edge(a, a)
    with pytest.raises(ValueError, match="Key must be a valid identifier"):
        Edge(a, c, key="class")


def test_flow_update_set_dependencies_and_unused_warning() -> None:
    x, y = Task(name="x"), Task(name="y")
    first = Flow("one")
    first.set_dependencies(y, upstream_tasks=[x])
    second = Flow("two")
    second.update(first)
    assert second.edges == first.edges
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with Flow("w"):
            Task(name="orphan")
    assert any("Tasks were created but not added to the flow" in str(w.message) for w in caught)
    with Flow("run-inside") as f, pytest.raises(RuntimeError, match="Don't call `flow.run\\(\\)`"):
        f.run()


def test_flow_serialize_is_classic_metadata() -> None:
    with Flow("s") as flow:
        p = Parameter("p", default=1)
        t = add(p, unmapped(2))
    data = flow.serialize()
    assert set(data) >= {"__version__", "edges", "name", "parameters", "reference_tasks", "run_config", "schedule", "storage", "tasks", "type"}
    assert t.slug == "add-1"  # classic side effect: serialize writes the flow's slugs onto tasks
    entry = next(e for e in data["tasks"] if e["name"] == "add")
    assert {e["name"] for e in data["tasks"]} == {"p", "add"}
    assert entry["name"] == "add" and entry["trigger"].endswith("all_successful") and "inputs" in entry
    assert data["edges"][0]["upstream_task"]["slug"] == "p"
    with pytest.raises(ValueError, match="return_tasks"):
        flow.run(return_tasks=[t])
    with pytest.raises(TypeError):
        flow.run(not_a_parameter=1)


def test_visualize_builds_a_graph_or_names_the_extra(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import shutil
    import sys

    from prefect_storage.exceptions import BackendNotInstalledError

    with Flow("viz") as flow:
        add.map([1, 2], unmapped(1))
    if shutil.which("dot"):
        graph = flow.visualize(filename=str(tmp_path / "g"), format="dot")
    else:
        with pytest.raises(BackendNotInstalledError, match="dot"):
            flow.visualize(filename=str(tmp_path / "g"))
        from prefect_storage.core.visualize import visualize

        monkeypatch.setattr("graphviz.Digraph.render", lambda self, *a, **k: None)
        graph = visualize(flow, flow_state=flow.run(), filename=str(tmp_path / "g"))
    assert "add <map>" in graph.source and "dashed" in graph.source
    monkeypatch.setitem(sys.modules, "graphviz", None)
    with pytest.raises(BackendNotInstalledError, match=r"prefect-storage\[viz\]"):
        flow.visualize()
