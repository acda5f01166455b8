"""``LocalStorage``: code that is already on this machine (nothing to pull)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect_storage.runner.base import StorageBase

__all__ = ["LocalStorage"]


class LocalStorage(StorageBase):
    """A local folder used as the working directory of runs.

    Example::

        storage = LocalStorage(path="/path/to/local/flow_directory")
    """

    def __init__(self, path: str | Path, pull_interval: int | None = None) -> None:
        super().__init__(pull_interval)
        self._path = Path(path).expanduser().resolve()

    @property
    def destination(self) -> Path:
        """The folder itself (the base path does not apply)."""
        return self._path

    def pull_code_sync(self) -> None:
        """Nothing to pull: the code is already here."""

    def to_pull_step(self) -> dict[str, Any]:
        """A ``set_working_directory`` step."""
        return {"prefect.deployments.steps.set_working_directory": {"directory": str(self.destination)}}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, LocalStorage) and self._path == other._path

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"LocalStorage(path={self._path!r})"
