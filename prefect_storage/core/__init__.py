"""The classic flow model: tasks, parameters, flows, edges, states and run configs."""

from prefect_storage.context import context
from prefect_storage.core import configuration  # noqa: F401  (puts `config` into the context)
from prefect_storage.core.edges import Edge
from prefect_storage.core.flow import Flow
from prefect_storage.core.parameter import DateTimeParameter, Parameter
from prefect_storage.core.run_config import DockerRun, LocalRun, RunConfig, UniversalRun
from prefect_storage.core.state import Cached, Failed, Pending, State, Success, TriggerFailed
from prefect_storage.core.task import Task, task

__all__ = [
    "Cached",
    "DateTimeParameter",
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
