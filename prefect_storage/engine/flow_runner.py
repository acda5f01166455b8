"""Classic ``prefect.engine.flow_runner`` (implemented in :mod:`prefect_storage.core.flow_runner`)."""

from prefect_storage.core.flow_runner import ENDRUN, FlowRunner, FlowRunnerInitializeResult, run_task

__all__ = ["ENDRUN", "FlowRunner", "FlowRunnerInitializeResult", "run_task"]
