"""The classic run states, reduced to what a flow run reports."""

from __future__ import annotations

from typing import Any


class State:
    """The outcome of a task or flow run.

    ``result`` holds the task's return value for a task state, and a dict of
    task -> task state for a flow state (``state.result[task].result``), as in
    Prefect 1.x.
    """

    color = "grey"

    def __init__(self, message: str | None = None, result: Any = None, location: str | None = None) -> None:
        self.message = message
        self.result = result
        #: where a checkpointed result was written (``None`` when not checkpointed)
        self.location = location

    def __repr__(self) -> str:
        text = f"<{type(self).__name__}"
        return text + (f": {self.message!r}>" if self.message else ">")

    def is_successful(self) -> bool:
        return isinstance(self, Success)

    def is_failed(self) -> bool:
        return isinstance(self, Failed)

    def is_finished(self) -> bool:
        return isinstance(self, (Success, Failed))

    def is_pending(self) -> bool:
        return isinstance(self, Pending)


class Pending(State):
    pass


class Success(State):
    color = "green"


class Cached(Success):
    """A task whose ``target`` already existed; its value was read, not computed."""


class Failed(State):
    color = "red"


class TriggerFailed(Failed):
    """A task that did not run because an upstream task failed."""
