"""Artifacts (classic ``prefect.backend.artifacts``): links and markdown attached to the
running task run, listed with ``prefect-storage runs artifacts RUN``.

As in classic Prefect, they are recorded only when the flow runs under an agent (the
classic "running with a backend"); in a local ``flow.run()`` they do nothing and
return ``None``.
"""

from __future__ import annotations

import os
from typing import Any

from prefect_storage.exceptions import ArtifactError


def _target() -> tuple[Any, str, str | None, str | None] | None:
    """(registry, flow run id, task run id, task slug) when running under an agent, else None."""
    from prefect_storage import context
    from prefect_storage.registry.client import BROKER_ENV

    if not os.environ.get(BROKER_ENV) and not context.get("running_with_backend"):
        return None
    flow_run_id = context.get("flow_run_id")
    if not flow_run_id:
        return None
    from prefect_storage.registry.client import run_registry

    return run_registry(), str(flow_run_id), context.get("task_run_id"), context.get("task_slug") or context.get("task_name")


def _create(kind: str, data: str) -> str | None:
    if not isinstance(data, str):
        raise ArtifactError(f"A {kind} artifact is a string, not {type(data).__name__}.")
    target = _target()
    if target is None:
        return None
    registry, flow_run_id, task_run_id, task_slug = target
    return str(registry.create_artifact(flow_run_id, kind, data, task_run_id=task_run_id, task_slug=task_slug))


def _update(artifact_id: str, data: str) -> None:
    target = _target()
    if target is None or not artifact_id:
        return
    registry, flow_run_id, _task, _slug = target
    registry.update_artifact(artifact_id, data, flow_run_id=flow_run_id)


def create_link_artifact(link: str) -> str | None:
    """Attach a link to the running task run; returns the artifact id (None outside an agent run)."""
    return _create("link", link)


def create_markdown_artifact(markdown: str) -> str | None:
    """Attach markdown to the running task run; returns the artifact id (None outside an agent run)."""
    return _create("markdown", markdown)


def update_link_artifact(task_run_artifact_id: str, link: str) -> None:
    """Replace the link of an artifact of this flow run."""
    _update(task_run_artifact_id, link)


def update_markdown_artifact(task_run_artifact_id: str, markdown: str) -> None:
    """Replace the markdown of an artifact of this flow run."""
    _update(task_run_artifact_id, markdown)


def delete_artifact(task_run_artifact_id: str) -> None:
    """Delete an artifact of this flow run."""
    target = _target()
    if target is None or not task_run_artifact_id:
        return
    registry, flow_run_id, _task, _slug = target
    registry.delete_artifact(task_run_artifact_id, flow_run_id=flow_run_id)


__all__ = [
    "create_link_artifact",
    "create_markdown_artifact",
    "delete_artifact",
    "update_link_artifact",
    "update_markdown_artifact",
]
