"""Run configurations: the labels (and environment) an agent needs to run a flow."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

__all__ = ["DockerRun", "LocalRun", "RunConfig", "UniversalRun"]


class RunConfig:
    """Base run config: ``labels`` an agent must carry, ``env`` for the run's process."""

    _fields: ClassVar[tuple[str, ...]] = ()

    def __init__(self, labels: Iterable[str] | None = None, env: Mapping[str, str] | None = None) -> None:
        self.labels = set(labels or ())
        self.env = dict(env or {})

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: labels={sorted(self.labels)}>"

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self.serialize() == other.serialize()  # type: ignore[attr-defined]

    def serialize(self) -> dict[str, Any]:
        data: dict[str, Any] = {"type": type(self).__name__, "labels": sorted(self.labels), "env": dict(self.env)}
        data.update({f: getattr(self, f) for f in self._fields})
        return data

    @staticmethod
    def deserialize(data: Mapping[str, Any]) -> RunConfig:
        classes = {c.__name__: c for c in (UniversalRun, LocalRun, DockerRun)}
        kind = data.get("type")
        if kind not in classes:
            raise ValueError(f"Unknown run config type {kind!r}; expected one of {sorted(classes)}.")
        kwargs = {k: v for k, v in data.items() if k != "type"}
        return classes[kind](**kwargs)


class UniversalRun(RunConfig):
    """Runs on any agent whose labels cover ``labels``."""


class LocalRun(RunConfig):
    """Runs as a local process; ``working_dir`` is the run's current directory."""

    _fields = ("working_dir",)

    def __init__(self, labels: Iterable[str] | None = None, env: Mapping[str, str] | None = None, working_dir: str | None = None) -> None:
        super().__init__(labels=labels, env=env)
        self.working_dir = working_dir


class DockerRun(RunConfig):
    """Runs in a container of ``image`` under ``prefect-storage agent docker`` (a flow in
    Docker storage runs in its storage's image instead)."""

    _fields = ("image",)

    def __init__(self, labels: Iterable[str] | None = None, env: Mapping[str, str] | None = None, image: str | None = None) -> None:
        super().__init__(labels=labels, env=env)
        self.image = image
