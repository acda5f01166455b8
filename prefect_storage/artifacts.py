"""Classic ``prefect.artifacts``: ``create_link``, ``create_markdown``, ``update_link``,
``update_markdown``, ``delete_link``, ``delete_markdown``.

They attach to the running task run of an agent's flow run (see
:mod:`prefect_storage.backend.artifacts`, where the one implementation lives) and do
nothing in a local ``flow.run()``, as classic did without a backend.
"""

from __future__ import annotations

from prefect_storage.backend.artifacts import (
    create_link_artifact,
    create_markdown_artifact,
    delete_artifact,
    update_link_artifact,
    update_markdown_artifact,
)


def create_link(link: str) -> str | None:
    """Attach a link to the running task run; returns its id (None outside an agent run)."""
    return create_link_artifact(link)


def create_markdown(markdown: str) -> str | None:
    """Attach markdown to the running task run; returns its id (None outside an agent run)."""
    return create_markdown_artifact(markdown)


def update_link(task_run_artifact_id: str, link: str) -> None:
    """Replace the link of artifact ``task_run_artifact_id``."""
    update_link_artifact(task_run_artifact_id, link)


def update_markdown(task_run_artifact_id: str, markdown: str) -> None:
    """Replace the markdown of artifact ``task_run_artifact_id``."""
    update_markdown_artifact(task_run_artifact_id, markdown)


def delete_link(task_run_artifact_id: str) -> None:
    """Delete link artifact ``task_run_artifact_id``."""
    delete_artifact(task_run_artifact_id)


def delete_markdown(task_run_artifact_id: str) -> None:
    """Delete markdown artifact ``task_run_artifact_id``."""
    delete_artifact(task_run_artifact_id)


delete_artifact = delete_artifact

__all__ = [
    "create_link",
    "create_markdown",
    "delete_artifact",
    "delete_link",
    "delete_markdown",
    "update_link",
    "update_markdown",
]
