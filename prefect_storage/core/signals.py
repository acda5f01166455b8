"""Signals a task (or a trigger, or a state handler) raises to choose its state
(classic ``prefect.engine.signals``): ``raise FAIL("bad row")``, ``raise SKIP()``,
``raise LOOP(result=next_value)``.

They derive from :class:`BaseException`, so ``except Exception`` in task code does not
catch them. Each carries ``.state``, the state it stands for, whose result defaults
to the signal itself.
"""

from __future__ import annotations

from typing import Any

from prefect_storage.core import state
from prefect_storage.exceptions import PrefectSignal

__all__ = [
    "ENDRUN",
    "FAIL",
    "LOOP",
    "PAUSE",
    "RETRY",
    "SKIP",
    "SUCCESS",
    "TRIGGERFAIL",
    "VALIDATIONFAIL",
    "PrefectStateSignal",
    "signal_from_state",
]


class ENDRUN(PrefectSignal):
    """Engine-internal: stop a runner's pipeline and return ``state`` as it is."""

    def __init__(self, state: state.State) -> None:
        self.state = state
        super().__init__()


class PrefectStateSignal(PrefectSignal):
    """A signal that becomes a state; extra arguments go to the state's constructor."""

    _state_cls: type[state.State] = state.State

    def __init__(self, message: str | None = None, *args: Any, **kwargs: Any) -> None:
        super().__init__(message)  # type: ignore[arg-type]
        kwargs.setdefault("result", self)
        self.state = self._state_cls(message, *args, **kwargs)


class FAIL(PrefectStateSignal):
    """Fail the task (``Failed``); retried like any failure."""

    _state_cls = state.Failed


class LOOP(PrefectStateSignal):
    """Run the task again; ``result`` becomes ``context.task_loop_result`` next time."""

    _state_cls = state.Looped

    def __init__(self, message: str | None = None, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("result", repr(self))
        super().__init__(message, *args, **kwargs)


class TRIGGERFAIL(FAIL):
    """A trigger refused to run the task (``TriggerFailed``)."""

    _state_cls = state.TriggerFailed


class VALIDATIONFAIL(FAIL):
    _state_cls = state.ValidationFailed


class SUCCESS(PrefectStateSignal):
    """End the task ``Success`` (``SUCCESS("done", result=5)``)."""

    _state_cls = state.Success


class RETRY(PrefectStateSignal):
    """Ask for another run (``Retrying``), even past ``max_retries``."""

    _state_cls = state.Retrying


class SKIP(PrefectStateSignal):
    """End the task ``Skipped``; downstream tasks skip too unless
    ``skip_on_upstream_skip=False``."""

    _state_cls = state.Skipped


class PAUSE(PrefectStateSignal):
    """Pause for manual approval (``Paused``); not supported by local runs."""

    _state_cls = state.Paused


def signal_from_state(state: state.State) -> type[PrefectStateSignal]:
    """The signal class whose state class has the same name as ``state``'s class."""
    found: dict[str, type[PrefectStateSignal]] = {}
    todo = list(PrefectStateSignal.__subclasses__())
    while todo:
        sig = todo.pop()
        found[sig._state_cls.__name__] = sig
        todo.extend(sig.__subclasses__())
    try:
        return found[type(state).__name__]
    except KeyError:
        raise ValueError(f"No signal matches the provided state: {state}") from None
