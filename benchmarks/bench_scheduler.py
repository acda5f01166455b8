"""The registry scheduler: one step creating the next runs of 1000 scheduled flows.

Half the flows have a 1-minute ``IntervalClock``, half a ``*/5 * * * *`` cron read in
America/New_York. A step creates the next 10 runs of each (10,000 runs) in an SQLite
registry. Measured:

* ``scheduler_step_1000_flows_cold`` — a new :class:`Scheduler` (schedules parsed from
  their JSON) on a registry without runs: the figure to keep under 1 s;
* ``scheduler_step_1000_flows_warm`` — the same with the parsed schedules cached (an
  agent's steady state after a restart of its runs);
* ``scheduler_step_nothing_due`` — a step when every schedule is covered (what each
  agent poll costs);
* the baseline: a bare bulk INSERT of the same 10,000 rows, so ``ratio_vs_bulk_insert``
  is what computing the schedules and the exactly-once bookkeeping add.
"""

from __future__ import annotations

import datetime
import tempfile
import uuid
from pathlib import Path
from typing import Any

FLOWS = 1000
ROUNDS = 5


def _setup(url: str) -> Any:
    from prefect_storage.registry import Registry
    from prefect_storage.registry.schedules import sync_flow_schedule
    from prefect_storage.schedules import CronSchedule, IntervalSchedule

    registry = Registry(url)
    start = datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc)
    interval = IntervalSchedule(start_date=start, interval=datetime.timedelta(minutes=1)).serialize()
    from zoneinfo import ZoneInfo

    cron = CronSchedule("*/5 * * * *", start_date=start.astimezone(ZoneInfo("America/New_York"))).serialize()
    storage = {"type": "Local", "flows": {}, "secrets": []}
    for i in range(FLOWS):
        name = f"flow-{i}"
        serialized = {"name": name, "schedule": interval if i % 2 else cron}
        record, _ = registry.add_flow_version("bench", name, serialized, {**storage, "flows": {name: "x"}}, [], name)
        sync_flow_schedule(registry, record, serialized["schedule"])
    return registry


def _reset(registry: Any) -> None:
    from prefect_storage.registry import schema

    with registry._begin() as conn:
        conn.execute(schema.flow_runs.delete())
        conn.execute(schema.schedules.update().values(check_after=None, created_until=None))


def _bulk_rows(registry: Any, count: int) -> list[dict[str, Any]]:
    from prefect_storage.registry import schema

    with registry._begin() as conn:
        flow_ids = [r.id for r in conn.execute(schema.flows.select().with_only_columns(schema.flows.c.id))]
    now = datetime.datetime.now(datetime.timezone.utc)
    return [
        {
            "id": str(uuid.uuid4()), "flow_id": flow_ids[i % len(flow_ids)], "state": "Scheduled", "message": None,
            "parameters": {}, "labels": [], "created": now,
            "scheduled_start_time": now + datetime.timedelta(minutes=i // len(flow_ids)),
            "schedule_id": None, "schedule_event": None,
        }
        for i in range(count)
    ]


def main(emit: Any) -> None:
    import statistics
    import time

    import sqlalchemy as sa

    from benchmarks._harness import timed
    from prefect_storage.registry import schema
    from prefect_storage.registry.schedules import Scheduler

    with tempfile.TemporaryDirectory() as tmp:
        registry = _setup(f"sqlite:///{Path(tmp) / 'registry.db'}")
        try:
            cold, warm, idle, bulk, created, cpu = [], [], [], [], [], []
            warm_scheduler = Scheduler(registry)
            _reset(registry)
            warm_scheduler.step()  # parse and cache every schedule once
            for _ in range(ROUNDS):
                _reset(registry)
                scheduler = Scheduler(registry)
                cpu_start = time.process_time()
                cold.append(timed(scheduler.step))
                cpu.append(time.process_time() - cpu_start)
                with registry._begin() as conn:
                    created.append(conn.execute(sa.select(sa.func.count()).select_from(schema.flow_runs)).scalar())
                idle.append(timed(scheduler.step))
                _reset(registry)
                warm.append(timed(warm_scheduler.step))
                _reset(registry)
                rows = _bulk_rows(registry, created[-1])

                def insert(rows: list[dict[str, Any]] = rows) -> None:
                    with registry._begin() as conn:
                        conn.execute(schema.flow_runs.insert(), rows)

                bulk.append(timed(insert))
            ratio = statistics.median(cold) / statistics.median(bulk)
            # the machine may be shared: the CPU time of the step (SQLite runs in this process) is the
            # figure that does not depend on what else runs
            emit("scheduler_step_1000_flows_cold", cold, flows=FLOWS, runs_created=created[0],
                 cpu_median_ms=round(statistics.median(cpu) * 1000, 1), under_1s=statistics.median(cold) < 1.0,
                 ratio_vs_bulk_insert=round(ratio, 2))
            emit("scheduler_step_1000_flows_warm", warm, flows=FLOWS, runs_created=created[0])
            emit("scheduler_step_nothing_due", idle, flows=FLOWS)
            emit("baseline_bulk_insert_same_rows", bulk, rows=created[0])
        finally:
            registry.close()


if __name__ == "__main__":
    from benchmarks._harness import emit as _emit

    main(_emit)
