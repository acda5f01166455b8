"""case (nested), merge, ifelse, switch, FilterTask, skip propagation, resource manager."""

from __future__ import annotations

from prefect_storage import Flow, case, resource_manager, task
from prefect_storage.core import signals
from prefect_storage.core.state import Skipped, Success
from prefect_storage.tasks.control_flow import FilterTask, ifelse, merge, switch


@task
def value(x):  # type: ignore[no-untyped-def]
    return x


@task
def say(x: str) -> str:
    return x


@task
def after(x):  # type: ignore[no-untyped-def]
    return f"after {x}"


def test_case_merge_and_propagation() -> None:
    with Flow("c") as flow:
        cond = value(True)
        with case(cond, True):
            yes = say("yes")
            yes_after = after(yes)
        with case(cond, False):
            no = say("no")
        picked = merge(yes_after, no)
    state = flow.run()
    assert state.result[picked].result == "after yes"
    assert isinstance(state.result[no], Skipped) and state.result[yes_after].is_successful()
    assert "skip_on_upstream_skip" in state.result[no].message


def test_nested_cases() -> None:
    with Flow("n") as flow:
        a, b = value(1), value("x")
        with case(a, 1):
            with case(b, "x"):
                inner = say("both")
            with case(b, "y"):
                other = say("never")
    state = flow.run()
    assert state.result[inner].result == "both" and state.result[other].is_skipped()


def test_ifelse_switch_and_merge_order() -> None:
    with Flow("s") as flow:
        t, f = say("t"), say("f")
        ifelse(value(0), t, f)
        x, y, z = say("x"), say("y"), say("z")
        switch(value("b"), {"a": x, "b": y, "c": z})
    state = flow.run()
    assert state.result[t].is_skipped() and state.result[f].result == "f"
    assert [state.result[v].is_skipped() for v in (x, y, z)] == [True, False, True]
    with Flow("order") as flow2:
        m = merge(*[value(v) for v in [None, "two", *[None] * 7, "ten"]])
    assert flow2.run().result[m].result == "ten"  # classic: keys compared as strings


def test_all_skipped_merge_is_skipped() -> None:
    @task
    def skip() -> None:
        raise signals.SKIP("not today")

    with Flow("k") as flow:
        m = merge(skip(), skip())
    state = flow.run()
    assert state.is_successful() and state.result[m].is_skipped() and state.result[m].result is None


def test_skip_on_upstream_skip_false_receives_the_signal() -> None:
    @task
    def skip() -> None:
        raise signals.SKIP("skipping now")

    @task(skip_on_upstream_skip=False)
    def keep(x):  # type: ignore[no-untyped-def]
        return x

    with Flow("keep") as flow:
        k = keep(skip())
    result = flow.run().result[k].result
    assert isinstance(result, signals.SKIP)


def test_filter_task() -> None:
    @task
    def maybe(x: int):  # type: ignore[no-untyped-def]
        if x == 1:
            raise ValueError("one")
        return None if x == 2 else x

    with Flow("filter") as flow:
        kept = FilterTask()(maybe.map([0, 1, 2, 3]))
    state = flow.run()
    assert state.is_successful() and state.result[kept].result == [0, 3]


def test_resource_manager_cleans_up_after_failures() -> None:
    events: list[str] = []

    @resource_manager
    class Res:
        def __init__(self, n: int) -> None:
            self.n = n

        def setup(self) -> int:
            events.append("setup")
            return self.n * 10

        def cleanup(self, resource: int) -> None:
            events.append(f"cleanup {resource}")

    @task
    def use_bad(r: int) -> None:
        raise ValueError("bad")

    with Flow("res") as flow:
        with Res(3) as r:
            used = value(r)
            use_bad(r)
    state = flow.run()
    assert state.is_failed() and state.result[used].result == 30
    assert events == ["setup", "cleanup 30"]
    assert {t.name for t in flow.reference_tasks()} == {"value", "use_bad"}
    assert isinstance(state.result[flow.get_tasks(name="Res.cleanup")[0]], Success)
