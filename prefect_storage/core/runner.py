"""The runner base (classic ``prefect.engine.runner``): state-change handling shared by
the flow and task runners.

Old import path: ``from prefect_storage.core.runner import FlowRunner`` still works.
"""

from __future__ import annotations

import collections.abc
import functools
from collections.abc import Callable, Iterable
from typing import Any

from prefect_storage.context import _current
from prefect_storage.core import signals
from prefect_storage.core.signals import ENDRUN
from prefect_storage.core.state import Failed, State
from prefect_storage.log import get_logger

__all__ = ["ENDRUN", "Runner", "call_state_handlers"]  # FlowRunner/TaskRunner: lazy, below


def call_state_handlers(method: Callable[..., State]) -> Callable[..., State]:
    """Wrap a pipeline step: signals become their state, other errors ``Failed``; when the
    state changed, the handlers run; an ``ENDRUN`` is re-raised after them."""

    @functools.wraps(method)
    def inner(self: Runner, state: State, *args: Any, **kwargs: Any) -> State:
        end_run = False
        try:
            new_state = method(self, state, *args, **kwargs)
        except ENDRUN as exc:
            end_run = True
            new_state = exc.state
        except signals.PrefectStateSignal as exc:
            self.logger.info(f"{type(exc).__name__} signal raised: {exc!r}")
            if _current().get("raise_on_exception"):
                raise
            new_state = exc.state
        except Exception as exc:
            formatted = f"Unexpected error: {exc!r}"
            self.logger.exception(formatted)
            if _current().get("raise_on_exception"):
                raise
            new_state = Failed(formatted, result=exc)
        if new_state is not state:
            new_state = self.handle_state_change(old_state=state, new_state=new_state)
        if end_run:
            raise ENDRUN(new_state)
        return new_state

    return inner


class Runner:
    """Base of the flow and task runners: ``state_handlers`` are runner-level handlers
    called as ``handler(runner, old_state, new_state)`` after the target's own."""

    def __init__(self, state_handlers: Iterable[Callable[..., Any]] | None = None) -> None:
        if state_handlers is not None and not isinstance(state_handlers, collections.abc.Sequence):
            raise TypeError("state_handlers should be iterable.")
        self.state_handlers = list(state_handlers or [])
        cls = type(self)
        logger = cls.__dict__.get("_class_logger")
        if logger is None:
            logger = get_logger(cls.__name__)
            cls._class_logger = logger  # type: ignore[attr-defined]
        self.logger = logger

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"

    def initialize_run(self, state: State | None, context: dict[str, Any]) -> tuple[State, dict[str, Any]]:
        while isinstance(state, State) and state.is_meta_state():
            state = state.state  # type: ignore[attr-defined]
        from prefect_storage.core.state import Pending

        return state or Pending(), context

    def call_runner_target_handlers(self, old_state: State, new_state: State) -> State:
        return new_state

    def handle_state_change(self, old_state: State, new_state: State) -> State:
        """Run the target's handlers, then the runner's; a handler may return a new state.
        A handler raising a signal gives that signal's state; any other error ends the
        run ``Failed``."""
        try:
            new_state = self.call_runner_target_handlers(old_state, new_state)
            for handler in self.state_handlers:
                new_state = handler(self, old_state, new_state) or new_state
        except (signals.PAUSE, ENDRUN):
            raise
        except signals.PrefectStateSignal as exc:
            if _current().get("raise_on_exception"):
                raise
            return exc.state
        except Exception as exc:
            if _current().get("raise_on_exception"):
                raise
            msg = f"Unexpected error while calling state handlers: {exc!r}"
            self.logger.exception(msg)
            raise ENDRUN(Failed(msg, result=exc)) from exc
        return new_state


def __getattr__(name: str) -> Any:
    if name == "FlowRunner":
        from prefect_storage.core.flow_runner import FlowRunner

        return FlowRunner
    if name == "TaskRunner":
        from prefect_storage.core.task_runner import TaskRunner

        return TaskRunner
    raise AttributeError(name)
