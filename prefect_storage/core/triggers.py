"""Triggers: when may a task run, given its upstream states (classic ``prefect.triggers``).

A trigger is called with ``{edge: upstream_state}`` and returns True or raises a
signal (``TRIGGERFAIL``, ``SKIP``, ``PAUSE``). Mapped upstream states count as their
children's states.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from prefect_storage.context import _current

if TYPE_CHECKING:
    from prefect_storage.core.state import State

# Signals and states load when a trigger first runs, not when a task is defined or a
# flow unpickled: every Task refers to a trigger, and a cold flow load needs no states.

__all__ = [
    "all_failed",
    "all_finished",
    "all_successful",
    "always_run",
    "any_failed",
    "any_successful",
    "manual_only",
    "not_all_skipped",
    "some_failed",
    "some_successful",
]

Trigger = Callable[[Mapping[Any, "State"]], bool]


def _signals() -> Any:
    from prefect_storage.core import signals

    return signals


def _states(upstream_states: Mapping[Any, State]) -> set[State]:
    from prefect_storage.core.state import Mapped

    found: set[State] = set()
    for state in upstream_states.values():
        if isinstance(state, Mapped):
            found.update(state.map_states)
        else:
            found.add(state)
    return found


def all_finished(upstream_states: Mapping[Any, State]) -> bool:
    """Run once every upstream task finished, whatever its outcome."""
    if not all(s.is_finished() for s in _states(upstream_states)):
        raise _signals().TRIGGERFAIL('Trigger was "all_finished" but some of the upstream tasks were not finished.')
    return True


always_run = all_finished


def manual_only(upstream_states: Mapping[Any, State]) -> bool:
    """Wait for a manual approval. Local runs cannot be approved: ``flow.run`` ends such a
    task ``Failed`` saying so; set ``context.resume`` to let it run."""
    if _current().get("resume"):
        return True
    raise _signals().PAUSE('Trigger function is "manual_only"')


def all_successful(upstream_states: Mapping[Any, State]) -> bool:
    """The default: run if every upstream task succeeded (Skipped, Cached, Mapped count)."""
    if not all(s.is_successful() for s in _states(upstream_states)):
        raise _signals().TRIGGERFAIL('Trigger was "all_successful" but some of the upstream tasks failed.')
    return True


def all_failed(upstream_states: Mapping[Any, State]) -> bool:
    """Run if every upstream task failed."""
    if not all(s.is_failed() for s in _states(upstream_states)):
        raise _signals().TRIGGERFAIL('Trigger was "all_failed" but some of the upstream tasks succeeded.')
    return True


def any_successful(upstream_states: Mapping[Any, State]) -> bool:
    """Run if there is no upstream task or at least one succeeded."""
    if upstream_states and not any(s.is_successful() for s in _states(upstream_states)):
        raise _signals().TRIGGERFAIL('Trigger was "any_successful" but none of the upstream tasks succeeded.')
    return True


def any_failed(upstream_states: Mapping[Any, State]) -> bool:
    """Run if there is no upstream task or at least one failed."""
    if upstream_states and not any(s.is_failed() for s in _states(upstream_states)):
        raise _signals().TRIGGERFAIL('Trigger was "any_failed" but none of the upstream tasks failed.')
    return True


def _bounds(count: int, at_least: float | None, at_most: float | None) -> tuple[float, float]:
    low = 0.0 if at_least is None else (count * at_least if at_least < 1 else at_least)
    high = float(count) if at_most is None else (count * at_most if at_most < 1 else at_most)
    return low, high


def some_failed(at_least: float | None = None, at_most: float | None = None) -> Trigger:
    """A trigger that runs when the number (``>= 1``) or fraction (``< 1``) of failed
    upstream tasks is within ``[at_least, at_most]``."""

    def _some_failed(upstream_states: Mapping[Any, State]) -> bool:
        if not upstream_states:
            return True
        states = _states(upstream_states)
        low, high = _bounds(len(states), at_least, at_most)
        if not low <= sum(1 for s in states if s.is_failed()) <= high:
            raise _signals().TRIGGERFAIL('Trigger was "some_failed" but thresholds were not met.')
        return True

    _some_failed.trigger_kwargs = {"at_least": at_least, "at_most": at_most}  # type: ignore[attr-defined]
    return _some_failed


def some_successful(at_least: float | None = None, at_most: float | None = None) -> Trigger:
    """Like :func:`some_failed`, counting successful upstream tasks."""

    def _some_successful(upstream_states: Mapping[Any, State]) -> bool:
        if not upstream_states:
            return True
        states = _states(upstream_states)
        low, high = _bounds(len(states), at_least, at_most)
        if not low <= sum(1 for s in states if s.is_successful()) <= high:
            raise _signals().TRIGGERFAIL('Trigger was "some_successful" but thresholds were not met.')
        return True

    _some_successful.trigger_kwargs = {"at_least": at_least, "at_most": at_most}  # type: ignore[attr-defined]
    return _some_successful


def not_all_skipped(upstream_states: Mapping[Any, State]) -> bool:
    """Run if every upstream succeeded and not all were skipped; skip if all were."""
    states = _states(upstream_states)
    if all(s.is_skipped() for s in states):
        raise _signals().SKIP("All upstreams were skipped", result=None)
    if not all(s.is_successful() for s in states):
        raise _signals().TRIGGERFAIL('Trigger was "not_all_skipped" but some of the upstream tasks failed.')
    return True
