"""Agents: claim flow runs from the registry, load each flow from its storage, run it.

``LocalAgent`` runs each flow run in a child process through a :class:`Launcher`
(``ProcessLauncher`` here); every launcher speaks the contract of
:mod:`prefect_storage.agent.execute`. Importing this package imports nothing heavy;
``LocalAgent`` (which needs the registry, hence SQLAlchemy) is loaded on first use.
"""

from __future__ import annotations

from typing import Any

__all__ = ["LaunchOutcome", "Launcher", "LocalAgent", "ProcessLauncher"]


def __getattr__(name: str) -> Any:
    if name == "LocalAgent":
        from prefect_storage.agent.local import LocalAgent

        return LocalAgent
    if name in {"LaunchOutcome", "Launcher", "ProcessLauncher"}:
        from prefect_storage.agent import launcher

        return getattr(launcher, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
