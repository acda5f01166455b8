"""The scheduler against real registries (SQLite and PostgreSQL) and real agent processes:
runs created ahead exactly once, claimed only when due, late runs marked, new versions
taking over, pause/resume, and a 1-second schedule executed on time by an agent."""

from __future__ import annotations

import collections
import datetime
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from prefect_storage.cli import cli
from prefect_storage.registry import FAILED, SCHEDULED, SUCCESS, Registry, schema
from prefect_storage.registry.schedules import MISSED_PREFIX, Scheduler
from tests.integration.registry_helpers import ROOT, load_flow, write_flow

pytestmark = pytest.mark.integration
UTC = datetime.timezone.utc


def _now() -> datetime.datetime:
    return datetime.datetime.now(UTC).replace(microsecond=0)


def _register(
    tmp_path: Path, registry_url: str, name: str, schedule_code: str, start: datetime.datetime,
    body: str = "\n@task\ndef one():\n    return 1\n", wiring: str = "one()",
) -> str:
    """Register a flow script whose Flow gets ``schedule=<schedule_code>`` (``START`` = ``start``)."""
    path = write_flow(tmp_path, name, body, wiring)
    text = path.read_text().replace("secrets=[])) as flow:", f"secrets=[]), schedule={schedule_code}) as flow:", 1)
    header = (
        "import datetime\n"
        "from prefect_storage.schedules import Schedule, clocks\n"
        f"START = datetime.datetime.fromisoformat({start.isoformat()!r})\n"
    )
    path.write_text(header + text)
    return load_flow(path).register(registry=registry_url)


def _scheduled_runs(registry: Registry) -> list:
    return [r for r in registry.list_flow_runs() if r.schedule_id is not None]


def test_runs_are_created_ahead_once_with_the_clock_parameters_and_labels(registry_url: str, tmp_path: Path) -> None:
    start = _now() + datetime.timedelta(days=1)
    code = (
        "Schedule(clocks=[clocks.IntervalClock(datetime.timedelta(minutes=1), start_date=START),"
        " clocks.IntervalClock(datetime.timedelta(minutes=2), start_date=START, parameter_defaults={'x': 2}, labels=['gpu'])])"
    )
    flow_id = _register(tmp_path, registry_url, "ahead", code, start)
    with Registry(registry_url) as registry:
        first = Scheduler(registry, max_runs=5, horizon=datetime.timedelta(days=2)).step()
        again = Scheduler(registry, max_runs=5, horizon=datetime.timedelta(days=2)).step()  # a second scheduler
        runs = sorted(_scheduled_runs(registry), key=lambda r: (r.scheduled_start_time, r.parameters.get("x", 0)))
    assert (first.created, again.created) == (5, 0)
    assert [(r.scheduled_start_time - start, r.parameters, r.labels) for r in runs] == [
        (datetime.timedelta(0), {}, []),
        (datetime.timedelta(0), {"x": 2}, ["gpu"]),
        (datetime.timedelta(minutes=1), {}, []),
        (datetime.timedelta(minutes=2), {}, []),
        (datetime.timedelta(minutes=2), {"x": 2}, ["gpu"]),
    ]
    assert {r.flow_id for r in runs} == {flow_id} and {r.state for r in runs} == {SCHEDULED}


def test_only_due_runs_are_claimed_and_late_ones_beyond_the_window_are_marked(registry_url: str, tmp_path: Path) -> None:
    now = _now()
    code = "Schedule(clocks=[clocks.DatesClock([START, START + datetime.timedelta(minutes=110), START + datetime.timedelta(hours=3)])])"
    _register(tmp_path, registry_url, "late", code, now - datetime.timedelta(hours=2))
    with Registry(registry_url) as registry:
        # a scheduler that ran 3 hours ago created the three runs; no agent ran since
        Scheduler(registry, max_runs=10, horizon=datetime.timedelta(hours=6)).step(now=now - datetime.timedelta(hours=3))
        assert len(_scheduled_runs(registry)) == 3
        missed = Scheduler(registry, late_run_window=3600).step()
        claimed = registry.claim_flow_runs(set(), "agent-1", limit=10)
        runs = {r.scheduled_start_time: r for r in _scheduled_runs(registry)}
    assert missed.missed == 1
    two_hours_late = runs[now - datetime.timedelta(hours=2)]
    assert two_hours_late.state == FAILED and two_hours_late.message.startswith(MISSED_PREFIX)
    assert "3600s" in two_hours_late.message
    assert [r.scheduled_start_time for r in claimed] == [now - datetime.timedelta(minutes=10)]  # late, within the window
    assert runs[now + datetime.timedelta(hours=1)].state == SCHEDULED  # future: not claimable yet


def test_a_new_version_takes_over_the_runs_and_a_changed_schedule_replaces_them(registry_url: str, tmp_path: Path) -> None:
    start = _now() + datetime.timedelta(hours=1)
    code = "Schedule(clocks=[clocks.IntervalClock(datetime.timedelta(minutes=1), start_date=START)])"
    v1 = _register(tmp_path, registry_url, "versions", code, start)
    with Registry(registry_url) as registry:
        Scheduler(registry, max_runs=3, horizon=datetime.timedelta(hours=2)).step()
        before = {r.scheduled_start_time for r in _scheduled_runs(registry)}
        v2 = _register(tmp_path, registry_url, "versions", code, start, body="\n@task\ndef two():\n    return 2\n",
                       wiring="two()")
        moved = _scheduled_runs(registry)
        assert v2 != v1 and {r.flow_id for r in moved} == {v2} and {r.scheduled_start_time for r in moved} == before
        code3 = "Schedule(clocks=[clocks.IntervalClock(datetime.timedelta(minutes=7), start_date=START)])"
        v3 = _register(tmp_path, registry_url, "versions", code3, start)
        assert _scheduled_runs(registry) == []  # the old times are gone ...
        Scheduler(registry, max_runs=3, horizon=datetime.timedelta(hours=2)).step()
        runs = _scheduled_runs(registry)
        assert {r.flow_id for r in runs} == {v3}  # ... and the new schedule's are made for the new version
        assert sorted(r.scheduled_start_time - start for r in runs) == [datetime.timedelta(minutes=m) for m in (0, 7, 14)]
        plain = write_flow(tmp_path, "versions", "\n@task\ndef one():\n    return 4\n")
        load_flow(plain).register(registry=registry_url)  # registered without a schedule: it stops
        assert _scheduled_runs(registry) == [] and Scheduler(registry).step().created == 0


def test_pause_resume_and_runs_ls_on_the_command_line(registry_url: str, tmp_path: Path) -> None:
    code = "Schedule(clocks=[clocks.IntervalClock(datetime.timedelta(minutes=5))])"
    _register(tmp_path, registry_url, "paused", code, _now())
    runner = CliRunner()

    def invoke(*args: str) -> str:
        result = runner.invoke(cli, ["--registry", registry_url, *args], catch_exceptions=False, env={"COLUMNS": "250"})
        assert result.exit_code == 0, result.output
        return result.output

    with Registry(registry_url) as registry:
        Scheduler(registry, max_runs=2).step()
        listed = json.loads(invoke("runs", "ls", "--json"))
        assert len(listed) == 2 and all(r["scheduled_start_time"] for r in listed)
        table = invoke("runs", "ls")
        assert "SCHEDULED FOR" in table
        assert listed[0]["scheduled_start_time"][:10] in table
        assert "removed 2 scheduled run(s)" in invoke("flows", "schedule", "pause", "paused")
        assert _scheduled_runs(registry) == [] and Scheduler(registry).step().created == 0
        assert json.loads(invoke("flows", "schedule", "ls", "--json"))[0]["active"] is False
        invoke("flows", "schedule", "resume", "paused")
        assert Scheduler(registry, max_runs=2).step().created == 2
        assert "Scheduler created 0 flow run(s)." in invoke("scheduler", "--once")
    missing = runner.invoke(cli, ["--registry", registry_url, "flows", "schedule", "pause", "nope"])
    assert missing.exit_code == 3 and "No flow named 'nope'" in missing.output


# -- real processes ------------------------------------------------------------------------------


class _Proc:
    """A prefect-storage process whose stderr is collected in the background."""

    def __init__(self, registry_url: str, *args: str, env: dict[str, str]) -> None:
        self.popen = subprocess.Popen(
            [sys.executable, "-m", "prefect_storage.cli", "--registry", registry_url, *args],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.popen.stderr:  # type: ignore[union-attr]
            self.lines.append(line)

    def said(self, text: str) -> bool:
        return any(text in line for line in self.lines)

    def stop(self) -> str:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
        try:
            self.popen.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait(timeout=10)
        self._reader.join(timeout=5)
        return "".join(self.lines)


def _wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)


def test_three_agents_and_a_scheduler_create_each_of_200_times_exactly_once(registry_url: str, tmp_path: Path) -> None:
    with Registry(registry_url) as registry:
        registry.migrate()
    env = {**os.environ, "PREFECT_STORAGE_SCHEDULER_MAX_RUNS": "60"}
    procs = [
        _Proc(registry_url, "agent", "local", "--no-hostname-label", "--poll-interval", "0.05", "--name", f"a{i}", env=env)
        for i in range(3)
    ]
    procs.append(_Proc(registry_url, "scheduler", "--interval", "0.05", env=env))
    try:
        _wait_for(lambda: all(p.said("Agent a") for p in procs[:3]) and procs[3].said("Scheduler started"), 60, "processes")
        start = datetime.datetime.now(UTC) + datetime.timedelta(seconds=1.5)
        interval = datetime.timedelta(milliseconds=10)
        # labels no agent has: this test is about creating runs, not running them
        code = ("Schedule(clocks=[clocks.IntervalClock(datetime.timedelta(milliseconds=10), start_date=START,"
                " end_date=START + datetime.timedelta(milliseconds=10 * 199), labels=['nowhere'])])")
        _register(tmp_path, registry_url, "race", code, start)
        end = start + 199 * interval
        _wait_for(lambda: datetime.datetime.now(UTC) > end + datetime.timedelta(seconds=0.5), 60, "the last time")

        def created() -> int:
            with Registry(registry_url) as registry:
                return len(_scheduled_runs(registry))

        # a loaded machine may lag behind the clock: creating every time is what matters, not when
        _wait_for(lambda: created() >= 200, 60, "all 200 scheduled runs")
    finally:
        outputs = [p.stop() for p in procs]
    with Registry(registry_url) as registry:
        runs = _scheduled_runs(registry)
    counts = collections.Counter(r.scheduled_start_time for r in runs)
    expected = {(start + k * interval).replace(tzinfo=UTC) for k in range(200)}
    missing, extra = len(expected - set(counts)), len(set(counts) - expected)
    assert (missing, extra) == (0, 0), f"{missing} missing, {extra} unexpected times; scheduler: {outputs[-1][-1500:]}"
    assert set(counts.values()) == {1}  # each scheduled time exactly once
    with Registry(registry_url) as registry, registry.engine.connect() as conn:
        r = schema.flow_runs
        total = conn.execute(sa.select(sa.func.count()).select_from(r).where(r.c.schedule_id.is_not(None))).scalar()
    assert total == 200


def test_an_agent_runs_a_one_second_schedule_on_time(tmp_path: Path) -> None:
    registry_url = f"sqlite:///{tmp_path / 'registry.db'}"
    record = tmp_path / "ran.txt"
    body = f'''
@task
def one():
    now = datetime.datetime.now(datetime.timezone.utc)
    with open({str(record)!r}, "a") as fh:
        fh.write(context.flow_run_id + " " + context.scheduled_start_time.isoformat() + " " + now.isoformat() + "\\n")
'''
    code = "Schedule(clocks=[clocks.IntervalClock(datetime.timedelta(seconds=1), parameter_defaults={})])"
    _register(tmp_path, registry_url, "every second", code, _now(), body=body)
    agent = _Proc(registry_url, "agent", "local", "--no-hostname-label", "--poll-interval", "0.1", "--name", "clock",
                  env=dict(os.environ))
    try:
        _wait_for(lambda: record.exists() and len(record.read_text().splitlines()) >= 4, 60, "four scheduled runs")
    finally:
        output = agent.stop()
    lines = [line.split() for line in record.read_text().splitlines()]
    with Registry(registry_url) as registry:
        by_id = {r.id: r for r in registry.list_flow_runs()}
    scheduled = []
    for run_id, due, ran in lines:
        run = by_id[run_id]
        due_at, ran_at = datetime.datetime.fromisoformat(due), datetime.datetime.fromisoformat(ran)
        assert run.scheduled_start_time == due_at  # the run saw its own scheduled time in its context
        assert run.state == SUCCESS, output[-2000:]
        assert due_at <= run.started < due_at + datetime.timedelta(seconds=3), (due_at, run.started)  # claimed on time
        assert run.started <= ran_at < due_at + datetime.timedelta(seconds=10)
        scheduled.append(due_at)
    assert len(set(scheduled)) == len(scheduled) and all(t.microsecond == 0 for t in scheduled)


def test_a_version_1_registry_is_upgraded_in_place(registry_url: str, tmp_path: Path) -> None:
    flow_id = load_flow(write_flow(tmp_path, "old")).register(registry=registry_url)
    with Registry(registry_url) as registry:
        old_run = registry.create_flow_run(flow_id)
        with registry.engine.begin() as conn:  # take the registry back to what version 1 made
            conn.exec_driver_sql("DROP INDEX uq_flow_runs_schedule_time")
            conn.exec_driver_sql("DROP INDEX ix_flow_runs_state_start")
            for column in ("scheduled_start_time", "schedule_id", "schedule_event"):
                conn.exec_driver_sql(f"ALTER TABLE flow_runs DROP COLUMN {column}")
            conn.exec_driver_sql("DROP TABLE schedules")
            conn.execute(sa.update(schema.schema_version).values(version=1))
    with Registry(registry_url) as registry:
        assert registry.migrate() == schema.LATEST >= 2
        assert registry.get_flow_run(old_run.id).scheduled_start_time is None
        assert [r.id for r in registry.claim_flow_runs(set(), "a")] == [old_run.id]
    code = "Schedule(clocks=[clocks.IntervalClock(datetime.timedelta(minutes=1))])"
    _register(tmp_path, registry_url, "new", code, _now())
    with Registry(registry_url) as registry:
        assert Scheduler(registry, max_runs=3).step().created == 3


def test_a_late_run_starts_with_its_original_scheduled_time_in_context(tmp_path: Path) -> None:
    from prefect_storage.agent.local import LocalAgent

    registry_url = f"sqlite:///{tmp_path / 'registry.db'}"
    record = tmp_path / "ran.txt"
    body = f'''
@task
def one():
    with open({str(record)!r}, "w") as fh:
        fh.write(context.scheduled_start_time.isoformat())
'''
    due = _now() - datetime.timedelta(minutes=5)
    _register(tmp_path, registry_url, "late start", "Schedule(clocks=[clocks.DatesClock([START])])", due, body=body)
    with Registry(registry_url) as registry:
        Scheduler(registry).step(now=due - datetime.timedelta(minutes=1))  # made while an agent was still up
        assert LocalAgent(registry, hostname_label=False, poll_interval=0.1).start(once=True) == 1
        (run,) = _scheduled_runs(registry)
    assert run.state == SUCCESS and run.scheduled_start_time == due
    assert datetime.datetime.fromisoformat(record.read_text()) == due  # not the time it actually started
    assert run.started - due >= datetime.timedelta(minutes=5)


def test_a_schedule_the_scheduler_cannot_read_is_refused_at_registration(tmp_path: Path) -> None:
    from prefect_storage.exceptions import ScheduleSerializationError
    from prefect_storage.registry.register import record_serialized

    registry_url = f"sqlite:///{tmp_path / 'registry.db'}"
    flow = load_flow(write_flow(tmp_path, "custom"))
    serialized = flow.serialize()
    serialized["schedule"] = {"type": "Schedule", "repr": "<MySchedule>"}  # what a custom schedule serializes to
    with pytest.raises(ScheduleSerializationError, match="schedule of flow 'custom' cannot be registered"):
        record_serialized(serialized, registry_url, None, None)
    with Registry(registry_url) as registry:
        assert registry.list_flows() == []
    code = "Schedule(clocks=[clocks.IntervalClock(datetime.timedelta(hours=1))], filters=[lambda dt: True])"
    with pytest.raises(ScheduleSerializationError, match="only the functions of"):
        _register(tmp_path, registry_url, "lambda", code, _now())
