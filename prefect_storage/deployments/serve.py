"""``flow.serve(...)``: register the flow as a deployment and run an agent for it here.

The deployment goes into the work pool ``serve:<flow>/<name>``, which only the agent
started by ``serve`` carries, so its runs (``prefect-storage deployments run``, or
its own ``cron``/``interval`` schedule) are executed by this process until it is
interrupted. With ``once=True`` it runs what is already scheduled and returns.
"""

from __future__ import annotations

import datetime
import logging
import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from prefect_storage.core.modern_flow import ModernFlow

logger = logging.getLogger("prefect_storage.deployments")

__all__ = ["serve_flow"]


def _next_due(schedules: list[dict[str, Any]], after: datetime.datetime) -> datetime.datetime | None:
    due: list[datetime.datetime] = []
    for entry in schedules:
        if not entry.get("active", True):
            continue
        if entry.get("interval"):
            due.append(after + datetime.timedelta(seconds=float(entry["interval"])))
        elif entry.get("cron"):
            from croniter import croniter

            due.append(croniter(str(entry["cron"]), after).get_next(datetime.datetime))
    return min(due) if due else None


def serve_flow(
    flow: ModernFlow,
    name: str,
    parameters: dict[str, Any] | None = None,
    cron: Any = None,
    interval: Any = None,
    tags: list[str] | None = None,
    description: str | None = None,
    version: str | None = None,
    limit: int | None = None,
    once: bool = False,
    registry: Any = None,
) -> int:
    from prefect_storage.agent.local import LocalAgent
    from prefect_storage.deployments.deploy import _registry, deploy_flow, normalize_schedules
    from prefect_storage.registry.deployments import create_deployment_run, pool_label

    reg = _registry(registry)
    pool = f"serve:{flow.name}/{name}"
    deploy_flow(
        flow,
        name=name,
        work_pool_name=pool,
        parameters=parameters,
        tags=tags,
        description=description,
        version=version,
        cron=cron,
        interval=interval,
        print_next_steps=False,
        registry=reg,
    )
    full_name = f"{flow.name}/{name}"
    print(f"Serving deployment '{full_name}'. Run it with: prefect-storage deployments run '{full_name}'")
    agent = LocalAgent(reg, labels=[pool_label(pool)], concurrency=limit or 1, hostname_label=False, poll_interval=0.5)
    schedules = normalize_schedules(cron, interval)
    stop = threading.Event()

    def scheduler() -> None:
        now = datetime.datetime.now(datetime.timezone.utc)
        due = _next_due(schedules, now)
        while due is not None and not stop.wait(max(0.0, (due - datetime.datetime.now(datetime.timezone.utc)).total_seconds())):
            create_deployment_run(reg, full_name)
            due = _next_due(schedules, due)

    ticker = threading.Thread(target=scheduler, name="serve-schedule", daemon=True)
    if schedules and not once:
        ticker.start()
    try:
        return agent.start(once=once)
    except KeyboardInterrupt:
        agent.stop()
        return 0
    finally:
        stop.set()
