"""Classic ``prefect.engine.task_runner`` (implemented in :mod:`prefect_storage.core.task_runner`)."""

from prefect_storage.core.task_runner import ENDRUN, TaskRunner, TaskRunnerInitializeResult

__all__ = ["ENDRUN", "TaskRunner", "TaskRunnerInitializeResult"]
