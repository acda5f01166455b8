"""Classic ``prefect.backend``: the key-value store, artifacts and flow run views, kept
in the embedded registry instead of Prefect Cloud/Server.

Inside an agent's flow run these reach the registry through the agent's run broker
(:func:`prefect_storage.registry.client.run_registry`); elsewhere through the
configured registry (``PREFECT_STORAGE_REGISTRY_URL``, default SQLite in the home folder).
"""

from prefect_storage.backend.artifacts import (
    create_link_artifact,
    create_markdown_artifact,
    delete_artifact,
    update_link_artifact,
    update_markdown_artifact,
)
from prefect_storage.backend.flow import FlowView
from prefect_storage.backend.flow_run import FlowRunView
from prefect_storage.backend.kv_store import delete_key, get_key_value, list_keys, set_key_value
from prefect_storage.backend.task_run import TaskRunView

__all__ = [
    "FlowRunView",
    "FlowView",
    "TaskRunView",
    "create_link_artifact",
    "create_markdown_artifact",
    "delete_artifact",
    "delete_key",
    "get_key_value",
    "list_keys",
    "set_key_value",
    "update_link_artifact",
    "update_markdown_artifact",
]
