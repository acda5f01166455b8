"""Classic ``prefect.tasks.prefect``: flow-of-flows against the registry.

``create_flow_run`` schedules a run of a registered flow (any agent whose labels
cover it runs it), ``wait_for_flow_run`` follows it to the end, and
``get_task_run_result`` reads back what one of its tasks returned. ``StartFlowRun``
is the older class form.
"""

from prefect_storage.tasks.prefect.flow_run import (
    StartFlowRun,
    create_flow_run,
    get_task_run_result,
    wait_for_flow_run,
)

__all__ = ["StartFlowRun", "create_flow_run", "get_task_run_result", "wait_for_flow_run"]
