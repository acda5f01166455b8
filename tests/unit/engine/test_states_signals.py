"""States, signals, triggers and cache validators: the classic contracts."""

from __future__ import annotations

import datetime

import cloudpickle
import pytest

from prefect_storage.core import cache_validators as cv
from prefect_storage.core import signals, triggers
from prefect_storage.core import state as st
from prefect_storage.core.edges import Edge
from prefect_storage.core.task import Task
from prefect_storage.results import Result

NOW = datetime.datetime.now(datetime.timezone.utc)


def test_hierarchy_predicates_and_repr() -> None:
    assert st.Retrying().is_pending() and st.Retrying().is_scheduled() and st.Retrying().is_retrying()
    assert st.Queued().is_scheduled() and not st.Queued().is_pending() and st.Queued().is_meta_state()
    assert st.Mapped().is_successful() and st.Skipped().is_successful() and st.Cached().is_cached()
    assert st.TimedOut().is_failed() and st.Cancelled().is_finished() and not st.Cancelled().is_failed()
    assert st.Looped().is_looped() and st.Cancelling().is_running()
    assert repr(st.Success("m")) == '<Success: "m">' and repr(st.Pending()) == "<Pending>"
    assert "Retrying" in st.Pending.children(names_only=True) and "State" in st.Retrying.parents(names_only=True)


def test_result_wrapping_equality_and_attributes() -> None:
    assert st.State().result is None
    s = st.Success(result=1)
    assert isinstance(s._result, Result) and s.result == 1
    assert s == st.Success(result=1, message="other") and s != st.Cached(result=1)
    assert st.Scheduled().start_time is not None and st.Paused().start_time is None
    assert st.Retrying(run_count=3).run_count == 3 and st.Looped(loop_count=2).loop_count == 2
    mapped = st.Mapped(map_states=[st.Success(), st.Failed()])
    assert mapped.n_map_states == 2 and st.Mapped(n_map_states=5).n_map_states == 5
    cached = st.Cached(cached_result_expiration=NOW, cached_parameters={"a": 1}, hashed_inputs={})
    assert cached.cached_result_expiration == NOW
    inner = st.Success()
    assert st.Queued(state=st.Submitted(state=inner)).state is inner


def test_unpicklable_exception_results_are_replaced_when_pickled() -> None:
    class Bad(Exception):
        def __reduce__(self):  # type: ignore[override]
            raise TypeError("no")

    again = cloudpickle.loads(cloudpickle.dumps(st.Failed(result=Bad("x"))))
    assert "could not be pickled" in again.result


def test_state_serialize_round_trip() -> None:
    data = st.Retrying(message="later", run_count=2).serialize()
    back = st.State.deserialize(data)
    assert isinstance(back, st.Retrying) and back.message == "later" and back.run_count == 2


def test_signals_carry_states() -> None:
    with pytest.raises(signals.FAIL) as info:
        raise signals.FAIL("bad")
    assert isinstance(info.value.state, st.Failed) and info.value.state.result is info.value
    assert not isinstance(signals.SKIP(), Exception)
    assert signals.SUCCESS("yay", result=5).state.result == 5
    assert isinstance(signals.LOOP(result=2).state, st.Looped)
    assert signals.signal_from_state(st.Retrying()) is signals.RETRY
    with pytest.raises(ValueError, match="No signal matches the provided state: <Pending>"):
        signals.signal_from_state(st.Pending())


def _edges(*states: st.State) -> dict:
    return {Edge(Task(), Task()): s for s in states}


@pytest.mark.parametrize(
    ("trigger", "states", "passes"),
    [
        (triggers.all_successful, [st.Success(), st.Skipped()], True),
        (triggers.all_successful, [st.Success(), st.Failed()], False),
        (triggers.all_failed, [st.Failed(), st.TriggerFailed()], True),
        (triggers.all_finished, [st.Failed(), st.Success()], True),
        (triggers.all_finished, [st.Running()], False),
        (triggers.any_successful, [st.Failed(), st.Success()], True),
        (triggers.any_failed, [st.Success()], False),
        (triggers.some_failed(at_least=1), [st.Failed(), st.Success()], True),
        (triggers.some_failed(at_most=0.4), [st.Failed(), st.Success()], False),
        (triggers.some_successful(at_least=2), [st.Success()], False),
        (triggers.any_successful, [], True),
    ],
)
def test_triggers(trigger, states, passes) -> None:  # type: ignore[no-untyped-def]
    if passes:
        assert trigger(_edges(*states)) is True
    else:
        with pytest.raises(signals.TRIGGERFAIL):
            trigger(_edges(*states))


def test_trigger_special_cases() -> None:
    assert triggers.always_run is triggers.all_finished
    with pytest.raises(signals.SKIP, match="All upstreams were skipped"):
        triggers.not_all_skipped(_edges(st.Skipped(), st.Skipped()))
    with pytest.raises(signals.PAUSE, match="manual_only"):
        triggers.manual_only(_edges(st.Success()))
    mapped = st.Mapped(map_states=[st.Success(), st.Failed()])
    with pytest.raises(signals.TRIGGERFAIL):
        triggers.all_successful(_edges(mapped))


def test_cache_validators() -> None:
    later = NOW + datetime.timedelta(hours=1)
    earlier = NOW - datetime.timedelta(hours=1)
    fresh = st.Cached(cached_result_expiration=later, hashed_inputs={"x": cv.tokenize(1)}, cached_parameters={"p": 1})
    stale = st.Cached(cached_result_expiration=earlier)
    assert not cv.never_use(fresh, {}, {})
    assert cv.duration_only(fresh, {"x": 99}, {}) and not cv.duration_only(stale, {}, {})
    assert cv.all_inputs(fresh, {"x": 1}, {}) and not cv.all_inputs(fresh, {"x": 2}, {})
    assert cv.all_parameters(fresh, {}, {"p": 1}) and not cv.all_parameters(fresh, {}, {"p": 2})
    assert cv.partial_inputs_only(["x"])(fresh, {"x": 1, "y": 5}, {})
    assert cv.partial_parameters_only(["p"])(fresh, {}, {"p": 1, "q": 2})
    assert cv.partial_inputs_only()(fresh, {"x": 7}, {})
