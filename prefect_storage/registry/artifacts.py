"""Artifacts in the registry: links and markdown attached to a flow run's task runs
(the classic ``prefect.artifacts``/``prefect.backend.artifacts``)."""

from __future__ import annotations

import datetime
import uuid
from typing import Any

import sqlalchemy as sa

from prefect_storage.exceptions import ArtifactError
from prefect_storage.registry import schema
from prefect_storage.registry.records import Artifact

KINDS = ("link", "markdown")


def _utc(value: datetime.datetime) -> datetime.datetime:
    return value.replace(tzinfo=datetime.timezone.utc) if value.tzinfo is None else value


def _check(kind: str, data: Any) -> str:
    if kind not in KINDS:
        raise ArtifactError(f"Unknown artifact kind {kind!r}; use one of {list(KINDS)}.")
    if not isinstance(data, str):
        raise ArtifactError(f"A {kind} artifact is a string, not {type(data).__name__}.")
    return data


class ArtifactsMixin:
    """Artifact methods on :class:`Registry`."""

    _begin: Any

    def create_artifact(
        self, flow_run_id: str, kind: str, data: str, task_run_id: str | None = None, task_slug: str | None = None
    ) -> str:
        """Attach a ``link`` or ``markdown`` artifact to a task run of ``flow_run_id``; return its id."""
        data = _check(kind, data)
        artifact_id = str(uuid.uuid4())
        now = datetime.datetime.now(datetime.timezone.utc)
        with self._begin() as conn:
            conn.execute(
                schema.artifacts.insert().values(
                    id=artifact_id, flow_run_id=flow_run_id, task_run_id=task_run_id, task_slug=task_slug,
                    kind=kind, data=data, created=now, updated=now,
                )
            )
        return artifact_id

    def get_artifact(self, artifact_id: str) -> Artifact:
        a = schema.artifacts
        with self._begin() as conn:
            row = conn.execute(sa.select(a).where(a.c.id == artifact_id)).first()
        if row is None:
            raise ArtifactError(f"No artifact with id {artifact_id!r}.")
        return self._artifact(row)

    def update_artifact(self, artifact_id: str, data: str, flow_run_id: str | None = None) -> None:
        """Replace the content of an artifact (of ``flow_run_id`` when given)."""
        existing = self.get_artifact(artifact_id)
        if flow_run_id is not None and existing.flow_run_id != flow_run_id:
            raise ArtifactError(f"Artifact {artifact_id!r} belongs to another flow run.")
        data = _check(existing.kind, data)
        a = schema.artifacts
        with self._begin() as conn:
            conn.execute(a.update().where(a.c.id == artifact_id).values(data=data, updated=datetime.datetime.now(datetime.timezone.utc)))

    def delete_artifact(self, artifact_id: str, flow_run_id: str | None = None) -> None:
        """Remove an artifact (of ``flow_run_id`` when given)."""
        existing = self.get_artifact(artifact_id)
        if flow_run_id is not None and existing.flow_run_id != flow_run_id:
            raise ArtifactError(f"Artifact {artifact_id!r} belongs to another flow run.")
        a = schema.artifacts
        with self._begin() as conn:
            conn.execute(a.delete().where(a.c.id == artifact_id))

    def list_artifacts(self, flow_run_id: str) -> list[Artifact]:
        """The artifacts of a flow run, oldest first."""
        a = schema.artifacts
        with self._begin() as conn:
            rows = conn.execute(sa.select(a).where(a.c.flow_run_id == flow_run_id).order_by(a.c.created, a.c.id)).all()
        return [self._artifact(r) for r in rows]

    @staticmethod
    def _artifact(row: Any) -> Artifact:
        return Artifact(
            id=row.id, flow_run_id=row.flow_run_id, task_run_id=row.task_run_id, task_slug=row.task_slug,
            kind=row.kind, data=row.data, created=_utc(row.created), updated=_utc(row.updated),
        )
