"""Mapping: .map, unmapped, flatten, nested maps, apply_map, reduce; property tests for shapes."""

from __future__ import annotations

import datetime
import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from prefect_storage import Flow, Parameter, apply_map, flatten, mapped, task, unmapped
from prefect_storage.core.state import Mapped, TriggerFailed


@task
def inc(x: int) -> int:
    return x + 1


@task
def add(x: int, y: int) -> int:
    return x + y


@task
def ident(x):  # type: ignore[no-untyped-def]
    return x


@task
def rng(n: int) -> list[int]:
    return list(range(n))


@task
def total(xs: list[int]) -> int:
    return sum(xs)


def test_map_over_parameter_upstream_and_constants() -> None:
    with Flow("m") as flow:
        p = Parameter("p", default=[1, 2, 3])
        a = inc.map(p)
        b = add.map(a, unmapped(10))
        c = inc.map(inc.map(rng(3)))
        s = total(b)
    state = flow.run()
    assert state.result[a].result == [2, 3, 4] and state.result[b].result == [12, 13, 14]
    assert state.result[c].result == [2, 3, 4] and state.result[s].result == 39
    assert isinstance(state.result[a], Mapped) and state.result[a].n_map_states == 3
    assert flow.constants[b] == {"y": 10}
    assert flow.run(p=[]).result[s].result == 0


def test_truncation_mapped_annotation_and_empty() -> None:
    with Flow("t") as flow:
        a = add.map([1, 2, 3], [10, 20])
        b = add(mapped([1, 2]), 5)
        e = inc.map([])
    state = flow.run()
    assert state.result[a].result == [11, 22] and state.result[b].result == [6, 7]
    assert state.result[e].result == [] and state.result[e].map_states == []


def test_child_failures_and_context() -> None:
    from prefect_storage import context

    @task
    def maybe(x: int) -> int:
        if x == 2:
            raise ValueError("two")
        return x

    @task
    def where(x: int) -> tuple:
        return context.map_index, context.task_full_name

    with Flow("f") as flow:
        m = maybe.map([1, 2, 3])
        after = inc.map(m)
        red = total(m)
        w = where.map([7, 8])
    state = flow.run()
    assert state.is_failed()
    assert state.result[m].is_mapped() and isinstance(state.result[m].result[1], ValueError)
    assert [type(s).__name__ for s in state.result[after].map_states] == ["Success", "TriggerFailed", "Success"]
    assert isinstance(state.result[red], TriggerFailed)
    assert state.result[w].result == [(0, "where[0]"), (1, "where[1]")]


def test_mapped_children_retry() -> None:
    calls: dict[int, int] = {}

    @task(max_retries=2, retry_delay=datetime.timedelta(0))
    def flaky(x: int) -> int:
        calls[x] = calls.get(x, 0) + 1
        if x == 1 and calls[x] < 3:
            raise OSError("again")
        return x

    with Flow("r") as flow:
        f = flaky.map([0, 1, 2])
    state = flow.run()
    assert state.is_successful() and state.result[f].result == [0, 1, 2] and calls == {0: 1, 1: 3, 2: 1}


def test_flatten() -> None:
    with Flow("fl") as flow:
        a = ident.map(flatten([[1, 2], [3], []]))
        b = inc.map(flatten(rng.map([1, 2, 3])))
        c = ident(flatten(rng.map([1, 2, 3])))
        d = add.map(x=[1, 2, 3], y=unmapped(flatten(100)))
    state = flow.run()
    assert state.result[a].result == [1, 2, 3]
    assert state.result[b].result == [1, 1, 2, 1, 2, 3]
    assert state.result[c].result == [0, 0, 1, 0, 1, 2]
    assert state.result[d].result == [101, 102, 103]


def test_apply_map() -> None:
    with Flow("am") as flow:
        res = apply_map(lambda x, y: inc(ident(x)) + y, [1, 2, 3], y=unmapped(10))
    state = flow.run()
    assert state.result[res].result == [12, 13, 14]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(st.integers(-5, 5), max_size=4), max_size=5))
def test_flatten_shape_property(nested: list[list[int]]) -> None:
    with Flow("prop-flat") as flow:
        flat_map = ident.map(flatten(nested))
        per_list = ident.map(nested)
        reflattened = ident(flatten(per_list))
    state = flow.run()
    expected = list(itertools.chain.from_iterable(nested))
    assert state.result[flat_map].result == expected
    assert state.result[per_list].result == nested
    assert state.result[reflattened].result == expected


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.integers(0, 100), max_size=8), st.lists(st.integers(0, 100), max_size=8), st.integers(-3, 3))
def test_map_length_is_the_shortest_input(xs: list[int], ys: list[int], k: int) -> None:
    with Flow("prop-len") as flow:
        summed = add.map(xs, ys)
        shifted = add.map(summed, unmapped(k))
        reduced = total(shifted)
    state = flow.run()
    expected = [x + y + k for x, y in zip(xs, ys)]
    assert state.result[shifted].result == expected
    assert state.result[summed].n_map_states == min(len(xs), len(ys))
    assert state.result[reduced].result == sum(expected)
