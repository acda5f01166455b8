"""The registry's repository API: projects, flow versions, flow runs and their logs.

It stores flow *metadata* and ``storage.serialize()`` output, never a flow's code:
agents rebuild the storage from that JSON and load the flow from where it is stored.

    registry = Registry()                      # SQLite in ~/.prefect, or $PREFECT_STORAGE_REGISTRY_URL
    record, created = registry.add_flow_version("default", "etl", serialized, storage, labels, key)
    run = registry.create_flow_run(record.id, parameters={"n": 3})
    claimed = registry.claim_flow_runs(agent_labels={"prod"}, agent="agent-1")
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from prefect_storage.registry import schema
from prefect_storage.registry.artifacts import ArtifactsMixin
from prefect_storage.registry.child_runs import ChildRunsMixin
from prefect_storage.registry.engine import create_engine, registry_url
from prefect_storage.registry.errors import NotRegisteredError, SchemaVersionError
from prefect_storage.registry.kv import KeyValueMixin
from prefect_storage.registry.records import (  # noqa: F401  (some re-exported: their old home)
    DEFAULT_PROJECT,
    FAILED,
    FINISHED_STATES,
    RUNNING,
    SCHEDULED,
    SUCCESS,
    FlowRecord,
    FlowRun,
    LogEntry,
)


def utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


def _utc(value: datetime.datetime | None) -> datetime.datetime | None:
    # SQLite hands timestamps back without a zone; they were written in UTC.
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=datetime.timezone.utc)
    return value


def _as_utc(value: datetime.datetime | None) -> datetime.datetime | None:
    # stored in UTC: SQLite keeps the wall time only, so every writer must agree on the zone
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=datetime.timezone.utc)
    return value.astimezone(datetime.timezone.utc)


@dataclasses.dataclass(frozen=True)
class _ClaimStatements:
    candidates: sa.Select
    claim: sa.Update
    runs: sa.Select


@functools.cache
def _claim_statements() -> _ClaimStatements:
    """The claim's statements, built once with bound parameters: an agent claims many
    times a second, and building SQLAlchemy expressions costs more than running them."""
    r = schema.flow_runs
    due = sa.or_(r.c.scheduled_start_time.is_(None), r.c.scheduled_start_time <= sa.bindparam("due_by"))  # not future runs
    return _ClaimStatements(
        candidates=sa.select(r.c.id, r.c.labels)
        .where(r.c.state == SCHEDULED, due)
        .order_by(sa.func.coalesce(r.c.scheduled_start_time, r.c.created), r.c.id)
        .limit(sa.bindparam("page"))
        .offset(sa.bindparam("skip")),
        claim=r.update()
        .where(r.c.id == sa.bindparam("run_id"), r.c.state == SCHEDULED)
        .values(state=RUNNING, agent=sa.bindparam("claimer"), started=sa.bindparam("claimed_at"),
                heartbeat=sa.bindparam("claimed_at")),
        runs=Registry._runs_query().where(r.c.id.in_(sa.bindparam("ids", expanding=True))),
    )


class Registry(ChildRunsMixin, KeyValueMixin, ArtifactsMixin):
    """Access to one registry database (see :mod:`prefect_storage.registry.engine` for URLs).

    The schema is created or upgraded on first use. Every method runs in its own short
    transaction, so a Registry may be shared by threads.
    """

    def __init__(self, url: str | None = None) -> None:
        self.url = registry_url(url)
        self.engine = create_engine(self.url)
        self._migrated = False

    def __repr__(self) -> str:
        return f"<Registry: {sa.make_url(self.url).render_as_string(hide_password=True)}>"

    def __enter__(self) -> Registry:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.engine.dispose()

    # -- schema -------------------------------------------------------------------------

    def migrate(self) -> int:
        """Apply the migrations this database lacks; return the schema version."""
        with self.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                # one migrator at a time across processes and machines
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(7216311)"))
            schema.schema_version.create(conn, checkfirst=True)
            current = conn.execute(sa.select(schema.schema_version.c.version)).scalar() or 0
            if current > schema.LATEST:
                raise SchemaVersionError(
                    f"The registry at {self!r} has schema version {current}, but this prefect_storage knows only "
                    f"up to {schema.LATEST}. Upgrade prefect-storage on this machine."
                )
            for version, _description, apply in schema.MIGRATIONS:
                if version > current:
                    apply(conn)
            if current == 0:
                conn.execute(schema.schema_version.insert().values(id=1, version=schema.LATEST))
            elif current < schema.LATEST:
                conn.execute(schema.schema_version.update().values(version=schema.LATEST))
        self._migrated = True
        return schema.LATEST

    def _begin(self) -> Any:
        if not self._migrated:
            self.migrate()
        return self.engine.begin()

    # -- projects -----------------------------------------------------------------------

    def ensure_project(self, name: str) -> str:
        """The id of project ``name``, created if missing."""
        with self._begin() as conn:
            return self._ensure_project(conn, name)

    def _ensure_project(self, conn: sa.Connection, name: str) -> str:
        p = schema.projects
        found = conn.execute(sa.select(p.c.id).where(p.c.name == name)).scalar()
        if found:
            return found
        project_id = str(uuid.uuid4())
        conn.execute(p.insert().values(id=project_id, name=name, created=utcnow()))
        return project_id

    def list_projects(self) -> list[str]:
        with self._begin() as conn:
            return list(conn.execute(sa.select(schema.projects.c.name).order_by(schema.projects.c.name)).scalars())

    # -- flows ----------------------------------------------------------------------------

    def add_flow_version(
        self,
        project: str,
        name: str,
        serialized: Mapping[str, Any],
        storage: Mapping[str, Any],
        labels: Iterable[str],
        idempotency_key: str,
    ) -> tuple[FlowRecord, bool]:
        """Record a new version of flow ``name`` in ``project`` unless the latest version
        has the same ``idempotency_key``; return ``(record, created)``.

        A new version archives the earlier ones: runs are created for the latest.
        """
        f = schema.flows
        with self._begin() as conn:
            project_id = self._ensure_project(conn, project)
            latest = conn.execute(
                sa.select(f).where(f.c.project_id == project_id, f.c.name == name).order_by(f.c.version.desc()).limit(1)
            ).first()
            if latest is not None and latest.idempotency_key == idempotency_key:
                return self._flow_record(latest, project), False
            conn.execute(f.update().where(f.c.project_id == project_id, f.c.name == name).values(archived=True))
            values = {
                "id": str(uuid.uuid4()),
                "project_id": project_id,
                "name": name,
                "version": (latest.version if latest is not None else 0) + 1,
                "idempotency_key": idempotency_key,
                "labels": sorted(set(labels)),
                "storage": dict(storage),
                "serialized": dict(serialized),
                "archived": False,
                "created": utcnow(),
            }
            conn.execute(f.insert().values(**values))
            row = conn.execute(sa.select(f).where(f.c.id == values["id"])).one()
            return self._flow_record(row, project), True

    @staticmethod
    def _flow_record(row: Any, project: str) -> FlowRecord:
        return FlowRecord(
            id=row.id,
            project=project,
            name=row.name,
            version=row.version,
            labels=list(row.labels),
            storage=dict(row.storage),
            serialized=dict(row.serialized),
            idempotency_key=row.idempotency_key,
            archived=bool(row.archived),
            created=_utc(row.created),
        )

    def _flows_query(self) -> sa.Select:
        f, p = schema.flows, schema.projects
        return sa.select(f, p.c.name.label("project_name")).join(p, p.c.id == f.c.project_id)

    def get_flow(self, flow_id: str) -> FlowRecord:
        """The flow version with id ``flow_id``."""
        with self._begin() as conn:
            row = conn.execute(self._flows_query().where(schema.flows.c.id == flow_id)).first()
        if row is None:
            raise NotRegisteredError(f"No flow with id {flow_id!r} is registered.")
        return self._flow_record(row, row.project_name)

    def find_flow(self, name: str, project: str | None = None, version: int | None = None) -> FlowRecord:
        """The latest (or the given) version of flow ``name``; ``name`` may also be a flow id.

        Without ``project``, the name must be unique across projects.
        """
        f, p = schema.flows, schema.projects
        query = self._flows_query().where(sa.or_(f.c.name == name, f.c.id == name))
        if project is not None:
            query = query.where(p.c.name == project)
        query = query.where(f.c.version == version) if version is not None else query.where(f.c.archived.is_(False))
        with self._begin() as conn:
            rows = conn.execute(query.order_by(f.c.version.desc())).all()
        if not rows:
            where = f" in project {project!r}" if project else ""
            raise NotRegisteredError(
                f"No flow named {name!r}{where} is registered. Register it with `prefect-storage register` "
                "or flow.register(); `prefect-storage flows ls` lists what is."
            )
        projects = sorted({r.project_name for r in rows})
        if len(projects) > 1:
            raise NotRegisteredError(f"Flow {name!r} exists in several projects ({projects}); name one with --project.")
        return self._flow_record(rows[0], rows[0].project_name)

    def list_flows(self, project: str | None = None, all_versions: bool = False) -> list[FlowRecord]:
        f, p = schema.flows, schema.projects
        query = self._flows_query()
        if project is not None:
            query = query.where(p.c.name == project)
        if not all_versions:
            query = query.where(f.c.archived.is_(False))
        with self._begin() as conn:
            rows = conn.execute(query.order_by(p.c.name, f.c.name, f.c.version)).all()
        return [self._flow_record(r, r.project_name) for r in rows]

    # -- flow runs --------------------------------------------------------------------------

    def create_flow_run(
        self,
        flow_id: str,
        parameters: Mapping[str, Any] | None = None,
        labels: Iterable[str] | None = None,
        scheduled_start_time: datetime.datetime | None = None,
    ) -> FlowRun:
        """Schedule a run of flow version ``flow_id``; labels default to the flow's labels.
        With ``scheduled_start_time`` no agent claims it before that time."""
        flow = self.get_flow(flow_id)
        run_id = str(uuid.uuid4())
        with self._begin() as conn:
            conn.execute(
                schema.flow_runs.insert().values(
                    id=run_id,
                    flow_id=flow.id,
                    state=SCHEDULED,
                    message=None,
                    parameters=dict(parameters or {}),
                    labels=sorted(set(flow.labels if labels is None else labels)),
                    created=utcnow(),
                    scheduled_start_time=_as_utc(scheduled_start_time),
                )
            )
        return self.get_flow_run(run_id)

    @staticmethod
    def _runs_query() -> sa.Select:
        r, f, p = schema.flow_runs, schema.flows, schema.projects
        return (
            sa.select(
                r,
                f.c.name.label("flow_name"),
                f.c.version.label("flow_version"),
                f.c.storage.label("flow_storage"),
                p.c.name.label("project_name"),
            )
            .join(f, f.c.id == r.c.flow_id)
            .join(p, p.c.id == f.c.project_id)
        )

    @staticmethod
    def _run_record(row: Any) -> FlowRun:
        return FlowRun(
            id=row.id,
            flow_id=row.flow_id,
            flow_name=row.flow_name,
            flow_version=row.flow_version,
            project=row.project_name,
            state=row.state,
            message=row.message,
            parameters=dict(row.parameters),
            labels=list(row.labels),
            tasks=list(row.tasks) if row.tasks is not None else None,
            agent=row.agent,
            created=_utc(row.created),
            started=_utc(row.started),
            ended=_utc(row.ended),
            storage=dict(row.flow_storage),
            scheduled_start_time=_utc(row.scheduled_start_time),
            schedule_id=row.schedule_id,
        )

    def get_flow_run(self, run_id: str) -> FlowRun:
        """The run with id ``run_id`` (a unique prefix of at least 6 characters will do)."""
        r = schema.flow_runs
        with self._begin() as conn:
            rows = conn.execute(self._runs_query().where(r.c.id == run_id)).all()
            if not rows and len(run_id) >= 6:
                rows = conn.execute(self._runs_query().where(r.c.id.startswith(run_id, autoescape=True)).limit(2)).all()
        if len(rows) != 1:
            problem = "matches several runs" if rows else "matches no run"
            raise NotRegisteredError(f"Flow run id {run_id!r} {problem}; `prefect-storage runs ls` lists them.")
        return self._run_record(rows[0])

    def list_flow_runs(
        self, flow_name: str | None = None, state: str | None = None, limit: int | None = None
    ) -> list[FlowRun]:
        """Runs, newest first, optionally of one flow (any version) or in one state."""
        r, f = schema.flow_runs, schema.flows
        query = self._runs_query()
        if flow_name is not None:
            query = query.where(f.c.name == flow_name)
        if state is not None:
            query = query.where(r.c.state == state)
        query = query.order_by(r.c.created.desc(), r.c.id)
        if limit is not None:
            query = query.limit(limit)
        with self._begin() as conn:
            return [self._run_record(row) for row in conn.execute(query)]

    def claim_flow_runs(self, agent_labels: Iterable[str], agent: str, limit: int = 1) -> list[FlowRun]:
        """Move up to ``limit`` Scheduled runs whose labels ⊆ ``agent_labels`` to Running
        for ``agent`` and return them, oldest first.

        Each claim is ``UPDATE … WHERE id = ? AND state = 'Scheduled'`` checked by its
        row count, so two agents racing for a run can never both get it (on PostgreSQL
        the second UPDATE waits for the first and then matches nothing).
        """
        have = set(agent_labels)
        statements = _claim_statements()
        claimed: list[str] = []
        skipped = 0
        page = 4 * limit + 4  # most claims find their runs on the first page
        # one transaction: a claim costs one commit, not one per run plus reads
        with self._begin() as conn:
            now = utcnow()
            while len(claimed) < limit:
                candidates = conn.execute(statements.candidates, {"due_by": now, "page": page, "skip": skipped}).all()
                for run_id, labels in candidates:
                    if len(claimed) >= limit:
                        break
                    if set(labels) <= have and conn.execute(
                        statements.claim, {"run_id": run_id, "claimer": agent, "claimed_at": now}
                    ).rowcount == 1:
                        claimed.append(run_id)  # no longer Scheduled: gone from the next page's order
                    else:
                        skipped += 1  # still Scheduled (another agent's labels, or it lost a race)
                if len(candidates) < page:
                    break
            if not claimed:
                return []
            rows = {row.id: row for row in conn.execute(statements.runs, {"ids": claimed})}
        return [self._run_record(rows[run_id]) for run_id in claimed]

    def heartbeat(self, run_ids: Iterable[str]) -> None:
        """Note that the agent running ``run_ids`` is alive (see :meth:`fail_lost_runs`)."""
        ids = list(run_ids)
        if ids:
            r = schema.flow_runs
            with self._begin() as conn:
                conn.execute(r.update().where(r.c.id.in_(ids), r.c.state == RUNNING).values(heartbeat=utcnow()))

    def fail_lost_runs(self, lost_after: float) -> list[str]:
        """Mark Failed every Running run whose agent sent no heartbeat for ``lost_after``
        seconds (the agent was killed, or lost the registry for that long); return their ids.

        Such runs are not started again: the flow may have done part of its work, and
        running it twice is worse than a clear failure the operator can retry.
        """
        r = schema.flow_runs
        cutoff = utcnow() - datetime.timedelta(seconds=lost_after)
        with self._begin() as conn:
            stale = conn.execute(sa.select(r.c.id, r.c.agent).where(r.c.state == RUNNING, r.c.heartbeat < cutoff)).all()
        failed = []
        for run_id, agent in stale:
            message = (
                f"The agent {agent!r} running this flow run sent no heartbeat for {lost_after:g}s (it was stopped, "
                "or lost the registry), so the run's outcome is unknown. Check the flow's effects and run it again."
            )
            with self._begin() as conn:
                result = conn.execute(
                    r.update()
                    .where(r.c.id == run_id, r.c.state == RUNNING, r.c.heartbeat < cutoff)
                    .values(state=FAILED, message=message, ended=utcnow())
                )
            if result.rowcount == 1:
                failed.append(run_id)
        return failed

    def set_flow_run_state(
        self,
        run_id: str,
        state: str,
        message: str | None = None,
        tasks: Sequence[Mapping[str, Any]] | None = None,
        agent: str | None = None,
    ) -> None:
        """Record a run's new state (and, for a finished run, its task states and end time).

        With ``agent``, the write happens only while the run is Running and held by that
        agent; otherwise :class:`~prefect_storage.exceptions.RunOwnershipError` says who
        finished it (a reconnecting agent cannot overwrite a run already marked Failed).
        """
        values: dict[str, Any] = {"state": state, "message": message}
        if tasks is not None:
            values["tasks"] = [dict(t) for t in tasks]
        if state in FINISHED_STATES:
            values["ended"] = utcnow()
        r = schema.flow_runs
        where = [r.c.id == run_id]
        if agent is not None:
            where += [r.c.state == RUNNING, r.c.agent == agent]
        with self._begin() as conn:
            result = conn.execute(r.update().where(*where).values(**values))
        if result.rowcount != 1:
            if agent is not None:
                current = self.get_flow_run(run_id)
                from prefect_storage.exceptions import RunOwnershipError

                raise RunOwnershipError(
                    f"Flow run {run_id} is {current.state} (agent {current.agent!r}); agent {agent!r} no longer holds it, "
                    f"so its outcome {state} was not recorded."
                )
            raise NotRegisteredError(f"No flow run with id {run_id!r}.")

    # -- logs -------------------------------------------------------------------------------

    def write_logs(self, run_id: str, entries: Iterable[LogEntry]) -> None:
        rows = [
            {"flow_run_id": run_id, "timestamp": e.timestamp, "level": e.level, "name": e.name, "message": e.message}
            for e in entries
        ]
        if rows:
            with self._begin() as conn:
                conn.execute(schema.logs.insert(), rows)

    def get_logs(self, run_id: str) -> list[LogEntry]:
        lg = schema.logs
        with self._begin() as conn:
            rows = conn.execute(sa.select(lg).where(lg.c.flow_run_id == run_id).order_by(lg.c.id)).all()
        return [LogEntry(_utc(r.timestamp), r.level, r.name, r.message) for r in rows]
