"""Runner behaviour: retries, timeouts, signals, looping, pause, log_stdout, run names,
state handlers, caching, executors and the runners used directly."""

from __future__ import annotations

import datetime
import logging
import time
from typing import Any

import pytest

from prefect_storage import Flow, Parameter, Task, context, task
from prefect_storage.core import signals, triggers
from prefect_storage.core.cache_validators import all_inputs, all_parameters
from prefect_storage.core.edges import Edge
from prefect_storage.core.executors import Executor, LocalExecutor
from prefect_storage.core.flow_runner import FlowRunner
from prefect_storage.core.state import (
    Cached,
    Failed,
    Looped,
    Pending,
    Retrying,
    Running,
    Skipped,
    Success,
    TimedOut,
    TriggerFailed,
)
from prefect_storage.core.task_runner import TaskRunner

ZERO = datetime.timedelta(0)


def test_retries_with_delay_and_retry_on() -> None:
    attempts: list[float] = []

    @task(max_retries=2, retry_delay=datetime.timedelta(seconds=0.2))
    def flaky() -> str:
        attempts.append(time.monotonic())
        if len(attempts) < 3:
            raise OSError("transient")
        return "ok"

    @task(max_retries=3, retry_delay=ZERO, retry_on=[OSError])
    def wrong_kind() -> None:
        raise KeyError("no retry")

    with Flow("r") as flow:
        f = flaky()
        w = wrong_kind()
    state = flow.run()
    assert state.result[f].result == "ok" and len(attempts) == 3
    assert attempts[2] - attempts[0] >= 0.35  # the delay is honoured in real time
    assert isinstance(state.result[w], Failed) and isinstance(state.result[w].result, KeyError)


def test_failure_messages_and_trigger_failed() -> None:
    @task
    def boom() -> None:
        raise ValueError("bad 1")

    @task
    def down(x: Any) -> None:
        return None

    with Flow("f") as flow:
        d = down(boom())
    state = flow.run()
    assert state.message == "Some reference tasks failed."
    assert state.result[d].message == 'Trigger was "all_successful" but some of the upstream tasks failed.'
    assert isinstance(state.result[d], TriggerFailed)


def test_signals_from_task_code() -> None:
    @task
    def succeed() -> None:
        raise signals.SUCCESS("yay", result=5)

    @task
    def fail() -> None:
        try:
            raise signals.FAIL("explicit")
        except Exception:  # signals are not Exceptions
            pytest.fail("caught")

    @task
    def skip() -> None:
        raise signals.SKIP("skip me")

    @task
    def endrun() -> None:
        raise signals.ENDRUN(Success("ended", result=1))

    with Flow("s") as flow:
        a, b, c, e = succeed(), fail(), skip(), endrun()
    state = flow.run()
    assert (state.result[a].message, state.result[a].result) == ("yay", 5)
    assert state.result[b].message == "explicit" and isinstance(state.result[c], Skipped)
    assert state.result[e].message == "ended"


def test_loop_with_task_loop_result() -> None:
    seen: list[Any] = []

    @task(state_handlers=[lambda t, old, new: seen.append(type(new).__name__)])
    def fib(n: int) -> int:
        loop = context.get("task_loop_result", {"a": 0, "b": 1, "i": 0})
        if loop["i"] >= n:
            return loop["a"]
        raise signals.LOOP(message=f"iter {loop['i']}", result={"a": loop["b"], "b": loop["a"] + loop["b"], "i": loop["i"] + 1})

    with Flow("loop") as flow:
        f = fib(10)
    state = flow.run()
    assert state.result[f].result == 55
    assert seen.count("Looped") == 10 and seen[-1] == "Success"


def test_timeout_ends_timed_out() -> None:
    @task(timeout=1)
    def slow() -> None:
        time.sleep(3)

    with Flow("t") as flow:
        s = slow()
    started = time.monotonic()
    state = flow.run()
    assert isinstance(state.result[s], TimedOut) and time.monotonic() - started < 2.5


def test_pause_and_manual_only_are_refused_clearly() -> None:
    from prefect_storage.core.utilities import pause_task

    @task
    def pauses() -> None:
        pause_task()

    with Flow("p") as flow:
        p = pauses()
        m = Task(name="manual", trigger=triggers.manual_only)(upstream_tasks=[Task(name="first")])
    state = flow.run()
    for t in (p, m):
        assert isinstance(state.result[t], Failed) and "manual approval" in state.result[t].message
    with Flow("resumed") as flow2:
        p2 = pauses()
    assert flow2.run(context={"resume": True}).result[p2].is_successful()


def test_log_stdout_and_task_run_name(caplog: pytest.LogCaptureFixture) -> None:
    @task(log_stdout=True, task_run_name="run-{x}-{flow_name}")
    def chatty(x: int) -> str:
        print("hello from print")
        return context.task_run_name

    with Flow("names") as flow:
        c = chatty(5)
    with caplog.at_level(logging.INFO):
        state = flow.run()
    assert state.result[c].result == "run-5-names"
    assert any(r.getMessage() == "hello from print" for r in caplog.records)


def test_state_handlers_replace_fail_and_order() -> None:
    seen: list[tuple[str, str]] = []

    def record(obj: Any, old: Any, new: Any) -> None:
        seen.append((type(old).__name__, type(new).__name__))

    def override(obj: Any, old: Any, new: Any) -> Any:
        return Failed("overridden") if new.is_successful() else None

    def broken(obj: Any, old: Any, new: Any) -> None:
        raise ValueError("handler boom")

    failures: list[Any] = []
    flow_seen: list[str] = []
    with Flow(
        "h",
        state_handlers=[lambda f, o, n: flow_seen.append(type(n).__name__)],
        on_failure=lambda f, s: failures.append(s),
    ) as flow:
        a = Task(name="a", state_handlers=[record])()
        b = Task(name="b", state_handlers=[override])()
        c = Task(name="c", state_handlers=[broken])()
    state = flow.run()
    assert seen == [("Pending", "Running"), ("Running", "Success")]
    assert state.result[b].message == "overridden" and state.result[a].is_successful()
    assert state.result[c].message == "Unexpected error while calling state handlers: ValueError('handler boom')"
    assert flow_seen == ["Running", "Failed"] and len(failures) == 1


def test_terminal_state_handler() -> None:
    received: list[Any] = []

    def handler(flow: Flow, state: Any, reference_states: set) -> Any:
        received.append((state.message, reference_states))
        return Success("replaced")

    with Flow("term", terminal_state_handler=handler) as flow:
        Task(name="x")()
    state = flow.run()
    assert state.message == "replaced" and received[0][0] == "All reference tasks succeeded."


def test_caching_cache_for_validators_and_cache_key() -> None:
    calls: list[Any] = []

    @task(cache_for=datetime.timedelta(hours=1))
    def cached(p: int) -> int:
        calls.append(p)
        return p * 2

    @task(cache_for=datetime.timedelta(hours=1), cache_validator=all_inputs, cache_key="shared")
    def keyed(x: int) -> int:
        calls.append(("k", x))
        return x

    with Flow("cache") as flow:
        p = Parameter("p")
        c = cached(p)
        k = keyed(p)
    first = flow.run(p=1)
    assert isinstance(first.result[c], Cached) and first.result[c].message == "Task run succeeded."
    second = flow.run(p=2)  # duration_only: different inputs reuse the cache (classic)
    assert second.result[c].result == 2 and calls.count(1) == 1 and 2 not in calls
    assert second.result[k].result == 2 and ("k", 2) in calls
    with Flow("other") as other:
        again = keyed.copy(name="elsewhere")(1)
    assert other.run().result[again].result == 1 and calls.count(("k", 1)) == 1  # shared by cache_key

    @task(cache_for=datetime.timedelta(hours=1), cache_validator=all_parameters)
    def by_params() -> int:
        calls.append("bp")
        return 1

    with Flow("bp") as bp_flow:
        Parameter("q")()
        by_params()
    bp_flow.run(q=1)
    bp_flow.run(q=1)
    bp_flow.run(q=2)
    assert calls.count("bp") == 2


def test_caching_across_runs_inside_a_context_block_and_with_temporary_config() -> None:
    # flow.run inside `with context(...)` (or set_temporary_config, which opens one) keeps
    # its caches where its tasks look for them: the block's scope
    from prefect_storage.core.configuration import set_temporary_config

    context.pop("caches", None)  # no caches yet outside the block, as in a fresh process
    calls: list[int] = []

    @task(cache_for=datetime.timedelta(hours=1))
    def cached_in_block(p: int) -> int:  # a name of its own: caches are keyed by task name
        calls.append(p)
        return p

    with Flow("cache-in-block") as flow:
        cached_in_block(Parameter("p"))
    with context(user="me"), set_temporary_config({"flows.checkpointing": False}):
        flow.run(p=1)
        flow.run(p=1)
    assert calls == [1]


def test_target_with_local_result(tmp_path: Any) -> None:
    from prefect_storage.results import LocalResult

    calls: list[int] = []

    @task(target="{task_name}-{x}.txt", checkpoint=True)
    def targ(x: int) -> int:
        calls.append(x)
        return x * 10

    with Flow("target", result=LocalResult(dir=tmp_path)) as flow:
        t = targ(4)
    assert flow.run(checkpoint=True).result[t].result == 40
    again = flow.run(checkpoint=True).result[t]
    assert isinstance(again, Cached) and again.result == 40 and calls == [4]
    assert again.message == f"Result found at task target {'targ-4.txt'}"


class RecordingExecutor(Executor):
    """Runs calls later, at wait(): exercises the futures protocol of the runner."""

    def __init__(self) -> None:
        super().__init__()
        self.submitted: list[dict] = []

    def submit(self, fn: Any, *args: Any, extra_context: Any = None, **kwargs: Any) -> Any:
        self.submitted.append(extra_context or {})
        return _Lazy(self, fn, args, kwargs)

    def wait(self, futures: Any) -> Any:
        if isinstance(futures, _Lazy):
            return futures.result()
        if isinstance(futures, dict):
            return {k: self.wait(v) for k, v in futures.items()}
        if isinstance(futures, (list, tuple)):
            return type(futures)(self.wait(v) for v in futures)
        return futures


class _Lazy:
    def __init__(self, executor: RecordingExecutor, fn: Any, args: Any, kwargs: Any) -> None:
        self.executor, self.fn, self.args, self.kwargs, self.done = executor, fn, args, kwargs, None

    def result(self) -> Any:
        if self.done is None:
            self.done = self.fn(*self.executor.wait(self.args), **self.executor.wait(self.kwargs))
        return self.done


def test_flow_runs_only_through_the_executor_interface() -> None:
    @task
    def inc(x: int) -> int:
        return x + 1

    @task
    def total(xs: list) -> int:
        return sum(xs)

    executor = RecordingExecutor()
    with Flow("ex", executor=executor) as flow:
        t = total(inc.map(inc.map([1, 2, 3])))
    state = flow.run()
    assert state.is_successful() and state.result[t].result == 12
    assert {e.get("task_name") for e in executor.submitted} >= {"inc", "total"}
    assert any("task_index" in e for e in executor.submitted)
    assert repr(LocalExecutor()) == "<Executor: LocalExecutor>"


def test_flow_runner_and_task_runner_directly() -> None:
    one, two = Task(name="one"), Task(name="two")
    flow = Flow("direct")
    flow.add_edge(one, two)
    state = FlowRunner(flow).run(return_tasks=[two], task_states={one: Failed("given")})
    assert state.is_failed() and isinstance(state.result[two], TriggerFailed)
    assert set(state.result) == {two}
    add = Task(name="add")
    add.run = lambda x, y: x + y  # type: ignore[method-assign]
    upstream = {Edge(Task(), add, key="x"): Success(result=1), Edge(Task(), add, key="y"): Success(result=2)}
    assert TaskRunner(add).run(upstream_states=upstream).result == 3
    assert TaskRunner(add).run(state=Running()).is_running()
    assert TaskRunner(add).run(upstream_states={Edge(Task(), add, key="x"): Pending()}).is_pending()
    retry = TaskRunner(Task(max_retries=1, retry_delay=ZERO)).run(state=Pending())
    assert isinstance(retry, Success)
    flaky = Task(max_retries=1, retry_delay=ZERO)
    flaky.run = lambda: 1 / 0  # type: ignore[method-assign]
    first = TaskRunner(flaky).run()
    assert isinstance(first, Retrying) and first.message == "Retrying Task (after attempt 1 of 2)"
    assert isinstance(TaskRunner(flaky).run(state=first), Failed)
    looped = Looped(loop_count=1)
    assert looped.is_finished()


def test_run_agent_starts_a_local_agent_with_the_flows_labels(monkeypatch: pytest.MonkeyPatch) -> None:
    from prefect_storage.agent import local
    from prefect_storage.run_configs import LocalRun

    made: list[dict[str, Any]] = []

    class Recorder:  # the agent itself runs in the integration tests
        def __init__(self, **kwargs: Any) -> None:
            made.append(kwargs)

        def start(self) -> int:
            return 3

    monkeypatch.setattr(local, "LocalAgent", Recorder)
    flow = Flow("agent-labels", run_config=LocalRun(labels=["b", "a", "b"]))
    assert flow.run_agent(show_flow_logs=True) == 3
    assert made == [{"labels": ["a", "b"], "show_flow_logs": True}]
    assert Flow("no-run-config").run_agent() == 3 and made[-1]["labels"] == []


def test_flow_run_uses_the_configured_flow_and_task_runner_classes() -> None:
    from prefect_storage.core.configuration import set_temporary_config

    seen: list[str] = []

    class LoudFlowRunner(FlowRunner):
        def run(self, *args: Any, **kwargs: Any) -> Any:
            seen.append("flow runner")
            return super().run(*args, **kwargs)

    class LoudTaskRunner(TaskRunner):
        def run(self, *args: Any, **kwargs: Any) -> Any:
            seen.append(f"task runner {self.task.name}")
            return super().run(*args, **kwargs)

    @task
    def one() -> int:
        return 1

    with Flow("configured-runners") as flow:
        result = one()
    with set_temporary_config(
        {"engine.flow_runner.default_class": LoudFlowRunner, "engine.task_runner.default_class": LoudTaskRunner}
    ):
        state = flow.run()
    assert state.result[result].result == 1 and seen == ["flow runner", "task runner one"]
    with set_temporary_config({"engine.flow_runner.default_class": "prefect.engine.nowhere.Runner"}):
        with pytest.warns(UserWarning, match="Could not import prefect.engine.nowhere.Runner"):
            assert flow.run().is_successful()  # falls back to the FlowRunner


def test_classic_engine_class_variables_are_honoured(monkeypatch: pytest.MonkeyPatch) -> None:
    from prefect_storage.core.executors import LocalDaskExecutor, LocalExecutor
    from prefect_storage.engine import get_default_executor_class, get_default_flow_runner_class

    assert get_default_executor_class() is LocalExecutor and get_default_flow_runner_class() is FlowRunner
    monkeypatch.setenv("PREFECT__ENGINE__EXECUTOR__DEFAULT_CLASS", "prefect.executors.LocalDaskExecutor")
    assert get_default_executor_class() is LocalDaskExecutor
