"""The registry's one schema and its versioned migrations.

Migrations are plain functions applied in order inside one transaction each, and
``prefect_storage_schema.version`` records the last one applied. A small table of our
own instead of Alembic: the schema is five tables, the package must upgrade a user's
database by itself on first use (no ``alembic.ini``, no script folder to ship), and
SQLAlchemy's DDL already hides the SQLite/PostgreSQL differences. A new migration is a
function appended to :data:`MIGRATIONS`; released ones are never edited.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa

metadata = sa.MetaData()

schema_version = sa.Table(
    "prefect_storage_schema",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("version", sa.Integer, nullable=False),
)

projects = sa.Table(
    "projects",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False, unique=True),
    sa.Column("created", sa.DateTime(timezone=True), nullable=False),
)

flows = sa.Table(
    "flows",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("project_id", sa.String(36), sa.ForeignKey("projects.id"), nullable=False),
    sa.Column("name", sa.String(500), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("idempotency_key", sa.String(200), nullable=False),
    sa.Column("labels", sa.JSON, nullable=False),
    sa.Column("storage", sa.JSON, nullable=False),
    sa.Column("serialized", sa.JSON, nullable=False),
    sa.Column("archived", sa.Boolean, nullable=False, default=False),
    sa.Column("created", sa.DateTime(timezone=True), nullable=False),
    sa.UniqueConstraint("project_id", "name", "version", name="uq_flows_project_name_version"),
)

flow_runs = sa.Table(
    "flow_runs",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("flow_id", sa.String(36), sa.ForeignKey("flows.id"), nullable=False),
    sa.Column("state", sa.String(20), nullable=False),
    sa.Column("message", sa.Text),
    sa.Column("parameters", sa.JSON, nullable=False),
    sa.Column("labels", sa.JSON, nullable=False),
    sa.Column("tasks", sa.JSON),
    sa.Column("agent", sa.String(200)),
    sa.Column("created", sa.DateTime(timezone=True), nullable=False),
    sa.Column("started", sa.DateTime(timezone=True)),
    sa.Column("heartbeat", sa.DateTime(timezone=True)),
    sa.Column("ended", sa.DateTime(timezone=True)),
    sa.Index("ix_flow_runs_state_created", "state", "created"),
    # schedules (migration 2): when the run is due, and which schedule made it
    sa.Column("scheduled_start_time", sa.DateTime(timezone=True)),
    sa.Column("schedule_id", sa.String(36)),
    # tells apart two clocks firing at one time with different parameters or labels
    sa.Column("schedule_event", sa.String(32)),
    sa.Index("uq_flow_runs_schedule_time", "schedule_id", "scheduled_start_time", "schedule_event", unique=True),
    sa.Index("ix_flow_runs_state_start", "state", "scheduled_start_time"),
)

logs = sa.Table(
    "logs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("flow_run_id", sa.String(36), sa.ForeignKey("flow_runs.id"), nullable=False, index=True),
    sa.Column("timestamp", sa.DateTime(timezone=True), nullable=False),
    sa.Column("level", sa.String(20), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("message", sa.Text, nullable=False),
)


schedules = sa.Table(
    "schedules",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("project_id", sa.String(36), sa.ForeignKey("projects.id"), nullable=False),
    sa.Column("flow_name", sa.String(500), nullable=False),
    sa.Column("flow_id", sa.String(36), sa.ForeignKey("flows.id"), nullable=False),  # the version runs are made for
    sa.Column("schedule", sa.JSON, nullable=False),  # Schedule.serialize()
    sa.Column("active", sa.Boolean, nullable=False, default=True),  # False: paused
    sa.Column("check_after", sa.DateTime(timezone=True)),  # the scheduler looks again once this has passed
    sa.Column("created_until", sa.DateTime(timezone=True)),  # latest scheduled time created
    sa.Column("updated", sa.DateTime(timezone=True), nullable=False),
    sa.UniqueConstraint("project_id", "flow_name", name="uq_schedules_project_flow"),
)


def _v1_initial(conn: sa.Connection) -> None:
    for table in (projects, flows, flow_runs, logs):
        table.create(conn, checkfirst=True)


def _v2_schedules(conn: sa.Connection) -> None:
    # A registry made by version 1 lacks the run columns; one made fresh got them from
    # the table definition above, so only what is missing is added.
    have = {c["name"] for c in sa.inspect(conn).get_columns("flow_runs")}
    for name in ("scheduled_start_time", "schedule_id", "schedule_event"):
        if name not in have:
            column = flow_runs.c[name]
            conn.exec_driver_sql(f"ALTER TABLE flow_runs ADD COLUMN {name} {column.type.compile(conn.dialect)}")
    for index in flow_runs.indexes:
        if index.name in ("uq_flow_runs_schedule_time", "ix_flow_runs_state_start"):
            index.create(conn, checkfirst=True)
    schedules.create(conn, checkfirst=True)


# -- version 3 (agent area): flow-of-flows, key-value store, artifacts ------------------------

child_flow_runs = sa.Table(
    "child_flow_runs",
    metadata,
    sa.Column("idempotency_key", sa.String(500), primary_key=True),
    sa.Column("flow_id", sa.String(36), sa.ForeignKey("flows.id"), nullable=False),
    sa.Column("flow_run_id", sa.String(36), sa.ForeignKey("flow_runs.id")),  # NULL while being created
    sa.Column("parent_flow_run_id", sa.String(36)),
    sa.Column("run_name", sa.String(500)),
    sa.Column("created", sa.DateTime(timezone=True), nullable=False),
    sa.Index("ix_child_flow_runs_run", "flow_run_id"),
)

task_run_results = sa.Table(
    "task_run_results",
    metadata,
    sa.Column("flow_run_id", sa.String(36), sa.ForeignKey("flow_runs.id"), primary_key=True),
    sa.Column("task_slug", sa.String(500), primary_key=True),
    sa.Column("map_index", sa.Integer, primary_key=True),
    sa.Column("state", sa.String(40), nullable=False),
    sa.Column("location", sa.Text),
    sa.Column("value", sa.LargeBinary),  # cloudpickle of the result, when small enough
)

kv_store = sa.Table(
    "kv_store",
    metadata,
    sa.Column("key", sa.String(500), primary_key=True),
    sa.Column("id", sa.String(36), nullable=False, unique=True),
    sa.Column("value", sa.JSON),
    sa.Column("updated", sa.DateTime(timezone=True), nullable=False),
)

artifacts = sa.Table(
    "artifacts",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("flow_run_id", sa.String(36), sa.ForeignKey("flow_runs.id"), nullable=False, index=True),
    sa.Column("task_run_id", sa.String(200)),
    sa.Column("task_slug", sa.String(500)),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("data", sa.Text, nullable=False),
    sa.Column("created", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated", sa.DateTime(timezone=True), nullable=False),
)


def _v3_agent(conn: sa.Connection) -> None:
    for table in (child_flow_runs, task_run_results, kv_store, artifacts):
        table.create(conn, checkfirst=True)


#: (version, what it does, function); append only.
MIGRATIONS: list[tuple[int, str, Callable[[sa.Connection], None]]] = [
    (1, "projects, flows, flow runs and logs", _v1_initial),
    (2, "schedules; flow runs get scheduled_start_time, schedule_id, schedule_event (unique together)", _v2_schedules),
    (3, "child flow runs (idempotency keys), task run results, key-value store, artifacts", _v3_agent),
]
LATEST = MIGRATIONS[-1][0]
