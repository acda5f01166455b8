"""The scheduler: turns the schedules of registered flows into flow runs, ahead of time.

* Registering a flow whose ``schedule`` is set stores the serialized schedule in the
  ``schedules`` table, one row per flow name and project (:func:`sync_flow_schedule`).
  A new version takes over the schedule and its not-yet-started runs.
* :meth:`Scheduler.step` (every agent calls it in its loop; ``prefect-storage
  scheduler`` runs it alone) creates the next runs of each active schedule: the next
  ``max_runs`` (10) times, none further ahead than ``horizon`` (1 hour) except the
  very next one. Each run gets the clock's ``parameter_defaults`` and labels (the
  flow's labels when the clock has none) and its ``scheduled_start_time``.
* **Exactly once**: ``flow_runs`` has a UNIQUE index on ``(schedule_id,
  scheduled_start_time, schedule_event)`` (the last tells apart clocks firing at one
  time with different parameters or labels, which classic runs both) and runs are inserted with ``ON CONFLICT DO NOTHING``, so any
  number of schedulers racing on one registry (SQLite or PostgreSQL) create each
  scheduled time once. No lock, no leader.
* Agents claim a run only once its ``scheduled_start_time`` has passed. A run nobody
  started within ``late_run_window`` (1 hour) of its time is marked Failed with a
  message saying so, instead of starting hours late or vanishing.
* :func:`pause_schedule` stops creating runs and removes the ones not started;
  :func:`resume_schedule` starts again from the next time after now.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import os
import threading
import time
import uuid
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from prefect_storage.registry import schema
from prefect_storage.registry.errors import NotRegisteredError
from prefect_storage.registry.repository import FAILED, SCHEDULED, FlowRecord, Registry, _as_utc, _utc, utcnow
from prefect_storage.secrets import get_logger

logger = get_logger("scheduler")

MAX_RUNS_ENV = "PREFECT_STORAGE_SCHEDULER_MAX_RUNS"
HORIZON_ENV = "PREFECT_STORAGE_SCHEDULER_HORIZON"
LATE_RUN_WINDOW_ENV = "PREFECT_STORAGE_LATE_RUN_WINDOW"
DEFAULT_MAX_RUNS = 10
DEFAULT_HORIZON = datetime.timedelta(hours=1)
DEFAULT_LATE_RUN_WINDOW = datetime.timedelta(hours=1)
MISSED_PREFIX = "Missed:"


def _env_number(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError:
        raise ValueError(f"${name} must be a number, got {raw!r}.") from None


def _canonical(data: Mapping[str, Any]) -> str:
    # compare schedules without the version of the package that serialized them
    return json.dumps({k: v for k, v in data.items() if k != "__version__"}, sort_keys=True, default=str)


# -- registration -------------------------------------------------------------------------------


def sync_flow_schedule(registry: Registry, flow: FlowRecord, serialized_schedule: Mapping[str, Any] | None) -> str | None:
    """Make flow version ``flow`` own the schedule of its flow name; return the schedule id.

    * no schedule: an existing schedule of that flow is removed with its runs not yet started;
    * a new schedule: stored, active; the scheduler creates its runs on its next step;
    * the same schedule: its not-yet-started runs move to this version;
    * a changed schedule: its future runs are dropped and created again from the new one.
    """
    s, r = schema.schedules, schema.flow_runs
    now = utcnow()
    with registry._begin() as conn:
        project_id = conn.execute(sa.select(schema.flows.c.project_id).where(schema.flows.c.id == flow.id)).scalar_one()
        row = conn.execute(sa.select(s).where(s.c.project_id == project_id, s.c.flow_name == flow.name)).first()
        if serialized_schedule is None:
            if row is not None:
                conn.execute(r.delete().where(r.c.schedule_id == row.id, r.c.state == SCHEDULED))
                conn.execute(s.delete().where(s.c.id == row.id))
                logger.info("Flow %r no longer has a schedule; its scheduled runs were removed", flow.name)
            return None
        data = dict(serialized_schedule)
        if row is None:
            schedule_id = str(uuid.uuid4())
            conn.execute(
                _insert_ignore(conn, s).values(
                    id=schedule_id, project_id=project_id, flow_name=flow.name, flow_id=flow.id, schedule=data,
                    active=True, check_after=None, created_until=None, updated=now,
                )
            )
            found = conn.execute(sa.select(s.c.id).where(s.c.project_id == project_id, s.c.flow_name == flow.name))
            return str(found.scalar_one())
        values: dict[str, Any] = {"flow_id": flow.id, "updated": now}
        if _canonical(row.schedule) != _canonical(data):
            conn.execute(
                r.delete().where(r.c.schedule_id == row.id, r.c.state == SCHEDULED, r.c.scheduled_start_time > now)
            )
            values.update(schedule=data, check_after=None, created_until=None)
        conn.execute(s.update().where(s.c.id == row.id).values(**values))
        conn.execute(r.update().where(r.c.schedule_id == row.id, r.c.state == SCHEDULED).values(flow_id=flow.id))
        return str(row.id)


def _event_key(event: Any) -> str:
    """Equal for equal clock events at one time (the classic equality: parameters and labels)."""
    import hashlib

    payload = json.dumps([event.parameter_defaults or {}, event.labels], sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:32]


def _event_values(
    cache: dict[tuple[int, int], tuple[str, dict[str, Any], list[str]]], event: Any, flow_labels: list[str]
) -> tuple[str, dict[str, Any], list[str]]:
    """(event key, run parameters, run labels) of a clock event, computed once per clock:
    a clock's events share its parameter dict and labels list (empty ones are all alike)."""
    params, labels = event.parameter_defaults, event.labels
    key = (id(params) if params else 0, id(labels) if labels is not None else 0)
    found = cache.get(key)
    if found is None:
        run_labels = sorted(set(labels if labels is not None else flow_labels or []))
        found = cache[key] = (_event_key(event), dict(params or {}), run_labels)
    return found


_RUN_COLUMNS = (
    "id", "flow_id", "state", "message", "parameters", "labels", "created", "scheduled_start_time", "schedule_id",
    "schedule_event",
)


def _insert_runs(conn: sa.Connection, runs: list[dict[str, Any]]) -> int:
    """Insert ``runs``, skipping scheduled times that exist; return how many were new."""
    if conn.dialect.name == "sqlite":
        # thousands of rows per step: straight to the driver, in the formats SQLAlchemy
        # itself writes (JSON text, "YYYY-MM-DD HH:MM:SS.ffffff" UTC), so that the unique
        # index and every comparison see one representation
        def sqlite_time(value: datetime.datetime) -> str:
            return value.astimezone(datetime.timezone.utc).replace(tzinfo=None).isoformat(" ", "microseconds")

        texts: dict[int, str] = {}  # a clock's runs share their parameter dict and label list

        def as_json(value: Any) -> str:
            found = texts.get(id(value))
            if found is None:
                found = texts[id(value)] = json.dumps(value)
            return found

        created = {id(run["created"]): sqlite_time(run["created"]) for run in runs[:1]}
        rows = [
            (
                run["id"], run["flow_id"], run["state"], run["message"], as_json(run["parameters"]),
                as_json(run["labels"]), created.get(id(run["created"])) or sqlite_time(run["created"]),
                sqlite_time(run["scheduled_start_time"]), run["schedule_id"], run["schedule_event"],
            )
            for run in runs
        ]
        sql = (
            f"INSERT INTO flow_runs ({', '.join(_RUN_COLUMNS)}) VALUES ({', '.join('?' * len(_RUN_COLUMNS))}) "
            "ON CONFLICT DO NOTHING"
        )
        return max(int(conn.exec_driver_sql(sql, rows).rowcount or 0), 0)  # sqlite3 sums executemany's changes
    r = schema.flow_runs
    # RETURNING counts what this scheduler inserted (a batch's rowcount is driver-specific)
    return len(conn.execute(_insert_ignore(conn, r).returning(r.c.id), runs).all())


def _insert_ignore(conn: sa.Connection, table: sa.Table) -> Any:
    """``INSERT … ON CONFLICT DO NOTHING`` for SQLite and PostgreSQL."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(table).on_conflict_do_nothing()
    from sqlalchemy.dialects import sqlite

    return sqlite.insert(table).on_conflict_do_nothing()


# -- pause / resume / list ----------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class ScheduleInfo:
    """A stored schedule, as ``flows schedule ls`` shows it."""

    id: str
    project: str
    flow_name: str
    flow_id: str
    flow_version: int
    active: bool
    schedule: dict[str, Any]
    upcoming: list[datetime.datetime]

    def to_json(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["upcoming"] = [t.isoformat() for t in self.upcoming]
        return data


def _schedule_row(registry: Registry, flow_name: str, project: str | None) -> Any:
    record = registry.find_flow(flow_name, project=project)
    s = schema.schedules
    with registry._begin() as conn:
        project_id = conn.execute(sa.select(schema.flows.c.project_id).where(schema.flows.c.id == record.id)).scalar_one()
        row = conn.execute(sa.select(s).where(s.c.project_id == project_id, s.c.flow_name == record.name)).first()
    if row is None:
        raise NotRegisteredError(
            f"Flow {record.name!r} has no schedule. Give it one (Flow(..., schedule=...)) and register it again."
        )
    return row


def pause_schedule(registry: Registry, flow_name: str, project: str | None = None) -> int:
    """Stop creating runs for flow ``flow_name`` and delete its scheduled runs not yet
    started; return how many were deleted."""
    row = _schedule_row(registry, flow_name, project)
    s, r = schema.schedules, schema.flow_runs
    with registry._begin() as conn:
        conn.execute(s.update().where(s.c.id == row.id).values(active=False, updated=utcnow()))
        deleted = conn.execute(r.delete().where(r.c.schedule_id == row.id, r.c.state == SCHEDULED)).rowcount
    logger.info("Paused the schedule of flow %r (%d scheduled runs removed)", flow_name, deleted)
    return int(deleted or 0)


def resume_schedule(registry: Registry, flow_name: str, project: str | None = None) -> None:
    """Create runs again for flow ``flow_name``, from its next scheduled time after now."""
    row = _schedule_row(registry, flow_name, project)
    s = schema.schedules
    with registry._begin() as conn:
        conn.execute(
            s.update().where(s.c.id == row.id).values(active=True, check_after=None, created_until=None, updated=utcnow())
        )
    logger.info("Resumed the schedule of flow %r", flow_name)


def list_schedules(registry: Registry, project: str | None = None, upcoming: int = 3) -> list[ScheduleInfo]:
    """Every stored schedule with its flow and its next ``upcoming`` times (when active)."""
    from prefect_storage.core.schedules.serialization import deserialize_schedule

    s, f, p = schema.schedules, schema.flows, schema.projects
    query = (
        sa.select(s, f.c.version, p.c.name.label("project_name"))
        .join(f, f.c.id == s.c.flow_id)
        .join(p, p.c.id == s.c.project_id)
        .order_by(p.c.name, s.c.flow_name)
    )
    if project is not None:
        query = query.where(p.c.name == project)
    with registry._begin() as conn:
        rows = conn.execute(query).all()
    infos = []
    for row in rows:
        times: list[datetime.datetime] = []
        if row.active and upcoming:
            try:
                times = list(deserialize_schedule(row.schedule).next(upcoming))
            except Exception as exc:
                logger.warning("Schedule of flow %r cannot be read: %s", row.flow_name, exc)
        infos.append(
            ScheduleInfo(
                id=row.id, project=row.project_name, flow_name=row.flow_name, flow_id=row.flow_id,
                flow_version=row.version, active=bool(row.active), schedule=dict(row.schedule), upcoming=times,
            )
        )
    return infos


# -- the scheduler ------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class StepResult:
    """What one scheduler step did."""

    schedules: int  # schedules looked at
    created: int  # runs created (times another scheduler had created are not counted)
    missed: int  # runs marked as missed (late beyond the window)


class Scheduler:
    """Creates the runs of the registry's schedules ahead of time; see the module doc.

    Args:
        registry: the registry (or its URL).
        max_runs: scheduled times kept created ahead per schedule
            (default ``$PREFECT_STORAGE_SCHEDULER_MAX_RUNS`` or 10).
        horizon: no run is created further ahead than this, except each schedule's
            very next one (default ``$PREFECT_STORAGE_SCHEDULER_HORIZON`` seconds or 1 h).
        late_run_window: a scheduled run not started this long after its time is
            marked Failed as missed (default ``$PREFECT_STORAGE_LATE_RUN_WINDOW``
            seconds or 1 h); ``None`` never marks.
    """

    def __init__(
        self,
        registry: Registry | str | None = None,
        max_runs: int | None = None,
        horizon: datetime.timedelta | float | None = None,
        late_run_window: datetime.timedelta | float | bool | None = True,
    ) -> None:
        self.registry = registry if isinstance(registry, Registry) else Registry(registry)
        self.max_runs = int(max_runs if max_runs is not None else _env_number(MAX_RUNS_ENV, DEFAULT_MAX_RUNS))
        if self.max_runs < 1:
            raise ValueError("max_runs must be at least 1.")
        if horizon is None:
            horizon = _env_number(HORIZON_ENV, DEFAULT_HORIZON.total_seconds())
        self.horizon = horizon if isinstance(horizon, datetime.timedelta) else datetime.timedelta(seconds=horizon)
        if late_run_window is True:
            late_run_window = _env_number(LATE_RUN_WINDOW_ENV, DEFAULT_LATE_RUN_WINDOW.total_seconds())
        if late_run_window is False or late_run_window is None:
            self.late_run_window: datetime.timedelta | None = None
        elif isinstance(late_run_window, datetime.timedelta):
            self.late_run_window = late_run_window
        else:
            self.late_run_window = datetime.timedelta(seconds=float(late_run_window))
        self._cache: dict[str, tuple[Any, Any]] = {}  # schedule id -> (its "updated" time, Schedule or error)
        self._broken: set[str] = set()

    def _load(self, schedule_id: str, updated: Any, data: Mapping[str, Any]) -> None:
        from prefect_storage.core.schedules.serialization import deserialize_schedule

        try:
            schedule: Any = deserialize_schedule(dict(data))
        except Exception as exc:  # kept as the error: _plan reports it once and skips the schedule
            schedule = exc
        self._cache[schedule_id] = (updated, schedule)

    def _schedule(self, schedule_id: str) -> Any:
        schedule = self._cache[schedule_id][1]
        if isinstance(schedule, Exception):
            raise schedule
        return schedule

    def step(self, now: datetime.datetime | None = None) -> StepResult:
        """Create the due runs of every schedule that needs it and mark missed runs."""
        now = _as_utc(now) or utcnow()
        s, f = schema.schedules, schema.flows
        with self.registry._begin() as conn:
            rows = conn.execute(
                sa.select(s.c.id, s.c.flow_id, s.c.updated, s.c.created_until, f.c.labels)
                .join(f, f.c.id == s.c.flow_id)
                .where(s.c.active.is_(True), sa.or_(s.c.check_after.is_(None), s.c.check_after <= now))
            ).all()
            missing = [row.id for row in rows if self._cache.get(row.id, (None,))[0] != row.updated]
            for chunk in range(0, len(missing), 500):
                ids = missing[chunk : chunk + 500]
                for sid, updated, data in conn.execute(sa.select(s.c.id, s.c.updated, s.c.schedule).where(s.c.id.in_(ids))):
                    self._load(sid, updated, data)
        runs: list[dict[str, Any]] = []
        marks: list[dict[str, Any]] = []
        for row in rows:
            planned = self._plan(row, now)
            if planned is None:
                continue
            new_runs, check_after, created_until = planned
            runs.extend(new_runs)
            marks.append({"sid": row.id, "check_after": check_after, "created_until": created_until})
        created = 0
        if rows or self.late_run_window is not None:
            with self.registry._begin() as conn:
                if runs:
                    created = _insert_runs(conn, runs)
                if marks:
                    conn.execute(
                        s.update()
                        .where(s.c.id == sa.bindparam("sid"))
                        .values(check_after=sa.bindparam("check_after"), created_until=sa.bindparam("created_until")),
                        marks,
                    )
                if runs:
                    self._follow_new_versions(conn)
                missed = self._mark_missed(conn, now)
        else:
            missed = 0
        if created or missed:
            logger.info("Scheduler created %d run(s), marked %d missed run(s)", created, missed)
        return StepResult(schedules=len(rows), created=created, missed=missed)

    def _plan(self, row: Any, now: datetime.datetime) -> tuple[list[dict[str, Any]], datetime.datetime, Any] | None:
        """The runs to insert for one schedule, when to look again, and the new watermark."""
        try:
            schedule = self._schedule(row.id)
            events = schedule.next(self.max_runs, after=now, return_events=True)
        except Exception as exc:  # one broken schedule must not stop the others
            if row.id not in self._broken:
                logger.error("Cannot compute the schedule %s of flow version %s: %s", row.id, row.flow_id, exc)
                self._broken.add(row.id)
            return [], now + self.horizon, row.created_until
        if not events:  # finished (or nothing in the next 10,000 candidates): look again later
            return [], now + self.horizon, row.created_until
        limit = now + self.horizon
        times = [(_as_utc(e.start_time), e) for e in events]
        times = [times[0], *[(t, e) for t, e in times[1:] if t <= limit]]
        watermark = _utc(row.created_until)
        runs = []
        keys: dict[tuple[int, int], tuple[str, dict[str, Any], list[str]]] = {}  # per clock: shared by its events
        for when, event in times:
            if watermark is not None and when <= watermark:
                continue
            event_key, parameters, labels = _event_values(keys, event, row.labels)
            runs.append(
                {
                    "id": str(uuid.uuid4()),
                    "flow_id": row.flow_id,
                    "state": SCHEDULED,
                    "message": None,
                    "parameters": parameters,
                    "labels": labels,
                    "created": now,
                    "scheduled_start_time": when,
                    "schedule_id": row.id,
                    "schedule_event": event_key,
                }
            )
        last = times[-1][0]
        created_until = last if watermark is None or last > watermark else watermark
        # one more run is needed once the first upcoming one has started
        return runs, times[0][0], created_until

    def _follow_new_versions(self, conn: sa.Connection) -> None:
        """Point not-yet-started runs at their schedule's current flow version (a run
        inserted while a new version was being registered)."""
        s, r = schema.schedules, schema.flow_runs
        current = sa.select(s.c.flow_id).where(s.c.id == r.c.schedule_id).scalar_subquery()
        conn.execute(
            r.update()
            .where(r.c.state == SCHEDULED, r.c.schedule_id.is_not(None), r.c.flow_id != current)
            .values(flow_id=current)
        )

    def _mark_missed(self, conn: sa.Connection, now: datetime.datetime) -> int:
        if self.late_run_window is None:
            return 0
        r = schema.flow_runs
        cutoff = now - self.late_run_window
        window = f"{self.late_run_window.total_seconds():g}s"
        message = (
            f"{MISSED_PREFIX} no agent started this scheduled run within the late-run window ({window}) after its "
            "scheduled start time, so it was not run. Start an agent whose labels cover the run's labels; run it "
            "by hand with `prefect-storage run FLOW` if it is still needed."
        )
        result = conn.execute(
            r.update()
            .where(r.c.state == SCHEDULED, r.c.schedule_id.is_not(None), r.c.scheduled_start_time < cutoff)
            .values(state=FAILED, message=message, ended=now)
        )
        return max(int(result.rowcount or 0), 0)

    def run(self, interval: float = 1.0, stop: threading.Event | None = None, once: bool = False) -> int:
        """Step every ``interval`` seconds until ``stop`` is set (or once); return runs created."""
        stop = stop or threading.Event()
        total = 0
        logger.info("Scheduler started (max %d runs ahead, horizon %s)", self.max_runs, self.horizon)
        while True:
            started = time.monotonic()
            try:
                total += self.step().created
            except Exception as exc:
                from prefect_storage.registry.errors import is_transient

                if once or not is_transient(exc):
                    raise
                logger.warning("Registry unreachable (%s); the scheduler tries again", type(exc).__name__)
            if once or stop.wait(max(0.0, interval - (time.monotonic() - started))):
                return total


_SCHEDULERS: dict[int, Scheduler] = {}
_SCHEDULERS_LOCK = threading.Lock()


def scheduler_step(registry: Registry) -> StepResult:
    """One scheduler step against ``registry`` (what every agent does in its loop); the
    scheduler object, with its cache of parsed schedules, is kept per registry."""
    with _SCHEDULERS_LOCK:
        scheduler = _SCHEDULERS.get(id(registry))
        if scheduler is None or scheduler.registry is not registry:
            scheduler = _SCHEDULERS[id(registry)] = Scheduler(registry)
    return scheduler.step()
