"""The classic flow model: tasks, parameters, flows, states and run configs."""

from prefect_storage.core.context import context
from prefect_storage.core.flow import Edge, Flow
from prefect_storage.core.run_config import DockerRun, LocalRun, RunConfig, UniversalRun
from prefect_storage.core.state import Cached, Failed, Pending, State, Success, TriggerFailed
from prefect_storage.core.task import Parameter, Task, task

__all__ = [
    "Cached",
    "DockerRun",
    "Edge",
    "Failed",
    "Flow",
    "LocalRun",
    "Parameter",
    "Pending",
    "RunConfig",
    "State",
    "Success",
    "Task",
    "TriggerFailed",
    "UniversalRun",
    "context",
    "task",
]
