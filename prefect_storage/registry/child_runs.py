"""Flow-of-flows in the registry: child flow runs created exactly once per idempotency
key, the task results a parent reads back from a finished run, and the agent-side
checks on who may finish a run."""

from __future__ import annotations

import base64
import dataclasses
import datetime
import functools
import inspect
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from prefect_storage.registry import schema
from prefect_storage.registry.errors import NotRegisteredError

# A key claimed by a creator that died before recording its run is taken over after this.
STALE_CLAIM_SECONDS = 30.0
MAX_STORED_RESULT_BYTES = 1_000_000


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


@dataclasses.dataclass(frozen=True)
class _FinishStatements:
    finish: sa.Update
    forget_results: sa.Delete


@functools.cache
def _finish_statements() -> _FinishStatements:
    """Built once with bound parameters: every run ends with them (see ``_claim_statements``)."""
    r, t = schema.flow_runs, schema.task_run_results
    return _FinishStatements(
        finish=r.update()
        .where(r.c.id == sa.bindparam("run_id"), r.c.state == "Running", r.c.agent == sa.bindparam("holder"))
        .values(state=sa.bindparam("final"), message=sa.bindparam("note"), tasks=sa.bindparam("task_states", type_=r.c.tasks.type),
                ended=sa.bindparam("ended_at")),
        forget_results=t.delete().where(t.c.flow_run_id == sa.bindparam("run_id")),
    )


class ChildRunsMixin:
    """Child flow runs and task results on :class:`Registry`."""

    _begin: Any
    create_flow_run: Any
    get_flow_run: Any

    def create_child_flow_run(
        self,
        flow_id: str,
        parameters: Mapping[str, Any] | None = None,
        labels: Iterable[str] | None = None,
        idempotency_key: str | None = None,
        run_name: str | None = None,
        scheduled_start_time: datetime.datetime | None = None,
        parent_flow_run_id: str | None = None,
    ) -> Any:
        """Schedule a run of ``flow_id``; a second call with the same ``idempotency_key``
        returns the first call's run instead of creating another (a retried parent task
        does not start a second child).

        The key is claimed first (a primary key, so exactly one caller wins on SQLite
        and PostgreSQL alike); the winner creates the run and records it; the others
        wait for that record.
        """
        key = idempotency_key or f"no-key-{uuid.uuid4()}"
        c = schema.child_flow_runs
        try:
            with self._begin() as conn:
                conn.execute(c.insert().values(
                    idempotency_key=key, flow_id=flow_id, flow_run_id=None, parent_flow_run_id=parent_flow_run_id,
                    run_name=run_name, created=_now(),
                ))
        except sa.exc.IntegrityError:
            return self._wait_for_claimed_run(key, flow_id, parameters, labels, run_name, scheduled_start_time, parent_flow_run_id)
        return self._create_and_record(key, flow_id, parameters, labels, scheduled_start_time)

    def _create_and_record(
        self, key: str, flow_id: str, parameters: Any, labels: Any, scheduled_start_time: Any
    ) -> Any:
        kwargs: dict[str, Any] = {}
        if scheduled_start_time is not None and "scheduled_start_time" in inspect.signature(self.create_flow_run).parameters:
            kwargs["scheduled_start_time"] = scheduled_start_time
        try:
            run = self.create_flow_run(flow_id, parameters, labels=labels, **kwargs)
        except BaseException:
            with self._begin() as conn:  # let a retry claim the key again
                conn.execute(schema.child_flow_runs.delete().where(
                    schema.child_flow_runs.c.idempotency_key == key, schema.child_flow_runs.c.flow_run_id.is_(None)
                ))
            raise
        with self._begin() as conn:
            conn.execute(schema.child_flow_runs.update().where(schema.child_flow_runs.c.idempotency_key == key).values(flow_run_id=run.id))
        return run

    def _wait_for_claimed_run(
        self, key: str, flow_id: str, parameters: Any, labels: Any, run_name: Any, scheduled_start_time: Any, parent: Any
    ) -> Any:
        c = schema.child_flow_runs
        deadline = time.monotonic() + STALE_CLAIM_SECONDS + 5
        while True:
            with self._begin() as conn:
                row = conn.execute(sa.select(c).where(c.c.idempotency_key == key)).first()
            if row is None:  # the other creator failed and released the key
                return self.create_child_flow_run(flow_id, parameters, labels, key, run_name, scheduled_start_time, parent)
            if row.flow_run_id is not None:
                return self.get_flow_run(row.flow_run_id)
            created = row.created if row.created.tzinfo else row.created.replace(tzinfo=datetime.timezone.utc)
            if (_now() - created).total_seconds() > STALE_CLAIM_SECONDS or time.monotonic() > deadline:
                with self._begin() as conn:  # its creator died between claim and record: take the claim over
                    taken = conn.execute(c.update().where(c.c.idempotency_key == key, c.c.flow_run_id.is_(None), c.c.created == row.created).values(created=_now())).rowcount
                if taken == 1:
                    return self._create_and_record(key, flow_id, parameters, labels, scheduled_start_time)
            time.sleep(0.05)

    def child_flow_runs(self, parent_flow_run_id: str) -> list[str]:
        """Ids of the runs created by flow run ``parent_flow_run_id``."""
        c = schema.child_flow_runs
        with self._begin() as conn:
            return [r for r in conn.execute(
                sa.select(c.c.flow_run_id).where(c.c.parent_flow_run_id == parent_flow_run_id, c.c.flow_run_id.is_not(None)).order_by(c.c.created)
            ).scalars()]

    # -- task results ---------------------------------------------------------------------

    def save_task_results(self, flow_run_id: str, results: Sequence[Mapping[str, Any]]) -> None:
        """Record ``[{"slug", "map_index", "state", "location", "value" (base64 cloudpickle or None)}]``."""
        rows = []
        for item in results:
            value = item.get("value")
            raw = base64.b64decode(value) if value else None
            rows.append({
                "flow_run_id": flow_run_id,
                "task_slug": str(item["slug"]),
                "map_index": int(item.get("map_index", -1) if item.get("map_index") is not None else -1),
                "state": str(item.get("state") or ""),
                "location": item.get("location"),
                "value": raw if raw is not None and len(raw) <= MAX_STORED_RESULT_BYTES else None,
            })
        if rows:
            t = schema.task_run_results
            with self._begin() as conn:
                conn.execute(t.delete().where(t.c.flow_run_id == flow_run_id))
                conn.execute(t.insert(), rows)

    def get_task_result_record(self, flow_run_id: str, task_slug: str, map_index: int = -1) -> dict[str, Any]:
        """``{"state", "location", "value"}`` (value: base64 cloudpickle or None) of one task run."""
        t = schema.task_run_results
        with self._begin() as conn:
            row = conn.execute(sa.select(t).where(
                t.c.flow_run_id == flow_run_id, t.c.task_slug == task_slug, t.c.map_index == map_index
            )).first()
            if row is None:
                slugs = sorted(set(conn.execute(sa.select(t.c.task_slug).where(t.c.flow_run_id == flow_run_id)).scalars()))
        if row is None:
            where = f" (map index {map_index})" if map_index != -1 else ""
            raise NotRegisteredError(
                f"Flow run {flow_run_id} has no result for task {task_slug!r}{where}; its tasks are {slugs or 'not recorded'}."
            )
        return {
            "state": row.state,
            "location": row.location,
            "value": base64.b64encode(row.value).decode() if row.value is not None else None,
        }

    # -- who may finish a run ---------------------------------------------------------------

    def finish_flow_run(
        self,
        run_id: str,
        agent: str,
        state: str,
        message: str | None,
        tasks: Sequence[Mapping[str, Any]],
        logs: Iterable[Any] = (),
        results: Sequence[Mapping[str, Any]] = (),
    ) -> bool:
        """Record a run's end in one transaction: its logs, task results and final state,
        only while ``agent`` still holds it (Running under that agent). Returns False,
        writing nothing, when it does not (the run was failed as lost meanwhile)."""
        lg, t = schema.logs, schema.task_run_results
        log_rows = [
            {"flow_run_id": run_id, "timestamp": e.timestamp, "level": e.level, "name": e.name, "message": e.message}
            for e in logs
        ]
        result_rows = [
            {
                "flow_run_id": run_id,
                "task_slug": str(item["slug"]),
                "map_index": int(item["map_index"]) if item.get("map_index") is not None else -1,
                "state": str(item.get("state") or ""),
                "location": item.get("location"),
                "value": raw if (raw := base64.b64decode(item["value"]) if item.get("value") else None) is not None
                and len(raw) <= MAX_STORED_RESULT_BYTES else None,
            }
            for item in results
            if item.get("slug") is not None
        ]
        statements = _finish_statements()
        with self._begin() as conn:
            updated = conn.execute(
                statements.finish,
                {"run_id": run_id, "holder": agent, "final": state, "note": message,
                 "task_states": [dict(x) for x in tasks], "ended_at": _now()},
            ).rowcount
            if updated != 1:
                return False
            if log_rows:
                conn.execute(lg.insert(), log_rows)
            if result_rows:
                conn.execute(statements.forget_results, {"run_id": run_id})
                conn.execute(t.insert(), result_rows)
        return True

    def running_runs_by_agent(self, agent_prefix: str) -> list[tuple[str, str]]:
        """``(run id, agent)`` of Running runs whose agent name starts with ``agent_prefix``."""
        r = schema.flow_runs
        with self._begin() as conn:
            rows = conn.execute(sa.select(r.c.id, r.c.agent).where(
                r.c.state == "Running", r.c.agent.startswith(agent_prefix, autoescape=True)
            )).all()
        return [(row.id, row.agent) for row in rows]

    def fail_run_of_agent(self, run_id: str, agent: str, message: str) -> bool:
        """Mark ``run_id`` Failed if it is still Running under ``agent``; True if it was."""
        r = schema.flow_runs
        with self._begin() as conn:
            result = conn.execute(
                r.update().where(r.c.id == run_id, r.c.state == "Running", r.c.agent == agent)
                .values(state="Failed", message=message, ended=_now())
            )
        return result.rowcount == 1
