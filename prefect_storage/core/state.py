"""The classic run states (``prefect.engine.state``).

Every task and flow run moves through states: ``Pending`` -> ``Running`` -> a
``Finished`` state (``Success``, ``Failed``, ``Skipped``, ``Mapped``, ``Cached`` ...).
A flow state's ``result`` is ``{task: task_state}``; a task state's ``result`` is the
task's return value (the state keeps it inside a :class:`~prefect_storage.results.Result`
as ``state._result``, whose ``location`` says where it was checkpointed).
"""

from __future__ import annotations

import datetime
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from prefect_storage.context import _current

if TYPE_CHECKING:
    from prefect_storage.results.base import Result


_RESULTS: Any = None


def _results() -> Any:
    global _RESULTS
    if _RESULTS is None:
        from prefect_storage.results import base  # lazy: results pull in serializers

        _RESULTS = base
    return _RESULTS

__all__ = [
    "Cached",
    "Cancelled",
    "Cancelling",
    "ClientFailed",
    "Failed",
    "Finished",
    "Looped",
    "Mapped",
    "Paused",
    "Pending",
    "Queued",
    "Resume",
    "Retrying",
    "Running",
    "Scheduled",
    "Skipped",
    "State",
    "Submitted",
    "Success",
    "TimedOut",
    "TriggerFailed",
    "ValidationFailed",
]


def _utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


def _aware(when: datetime.datetime) -> datetime.datetime:
    if isinstance(when, datetime.datetime) and when.tzinfo is None:
        return when.replace(tzinfo=datetime.timezone.utc)
    return when


class State:
    """The base state.

    Args:
        message: what happened (e.g. ``"Task run succeeded."``).
        result: the payload: the task's return value, an exception for failures, or a
            :class:`~prefect_storage.results.Result` (kept as is, with its ``location``).
        context: JSON-like details (tags, run count, ...).
        cached_inputs: ``{argument: Result}`` kept for re-runs.

    Predicates (``is_failed()``, ``is_successful()``, ...) hold for subclasses too.
    Equality compares the type, the result and public attributes, never the message.
    """

    color = "#696969"

    def __init__(
        self,
        message: str | None = None,
        result: Any = None,
        context: dict[str, Any] | None = None,
        cached_inputs: dict[str, Result] | None = None,
    ) -> None:
        self.message = message
        self.result = result if result is not None else _results().NoResult
        self.context = context or {}
        self.cached_inputs = cached_inputs or {}
        tags = _current().get("task_tags")
        if tags is not None:
            self.context.setdefault("tags", list(tags))

    # -- result -------------------------------------------------------------------

    @property
    def result(self) -> Any:
        return getattr(self._result, "value", self._result)

    @result.setter
    def result(self, value: Any) -> None:
        base = _results()
        if isinstance(value, base.Result):
            self._result = value
        else:
            self._result = base.Result(value=value)

    @property
    def location(self) -> str | None:
        """Where this state's result was checkpointed, or ``None``."""
        return getattr(self._result, "location", None)

    @location.setter
    def location(self, value: str | None) -> None:
        base = _results()
        self._result = self._result.copy() if self._result is not base.NoResult else base.Result()
        self._result.location = value

    def load_result(self, result: Result | None = None) -> State:
        """Read the value from ``_result.location`` (with ``result`` as the reader) when
        this state holds only a location."""
        if isinstance(self, Mapped):
            self.map_states = [s.load_result(result) if s is not None else None for s in self.map_states]
            if self.map_states:
                self.result = [s.result if s is not None else None for s in self.map_states]
            return self
        reader = result or self._result
        location = getattr(self._result, "location", None)
        if getattr(self._result, "value", None) is None and location is not None:
            self._result = reader.read(location)
        return self

    def load_cached_results(self, results: Mapping[str, Result | None] | None = None) -> State:
        """Hydrate ``cached_inputs`` whose values are only locations."""
        results = results or {}
        loaded: dict[str, Result] = {}
        for key, res in self.cached_inputs.items():
            reader = results.get(key) or res
            location = res.location or getattr(reader, "location", None)
            if res.value is None and location is not None:
                loaded[key] = reader.read(location)
            else:
                loaded[key] = res
        self.cached_inputs = loaded
        return self

    # -- dunder -------------------------------------------------------------------

    def __repr__(self) -> str:
        if self.message is not None:
            return f'<{type(self).__name__}: "{self.message}">'
        return f"<{type(self).__name__}>"

    def __eq__(self, other: object) -> bool:
        if type(self) is not type(other):
            return False
        try:
            equal = bool(self.result == other.result)  # type: ignore[attr-defined]
        except Exception:
            equal = self.result is other.result  # type: ignore[attr-defined]
        for attr in self.__dict__:
            if attr.startswith("_") or attr in ("context", "message", "result"):
                continue
            equal = equal and getattr(self, attr, object()) == getattr(other, attr, object())
        return equal

    def __hash__(self) -> int:
        return id(self)

    def __getstate__(self) -> dict[str, Any]:
        data = self.__dict__
        value = self.result
        if isinstance(value, Exception):
            from prefect_storage.core.signals import PrefectStateSignal

            if not isinstance(value, PrefectStateSignal):
                import cloudpickle

                try:
                    cloudpickle.dumps(value)
                except Exception as exc:
                    data = dict(data)
                    replaced = data["_result"].copy()
                    replaced.value = f"The following exception could not be pickled due to {exc!r}: {value!r}"
                    data["_result"] = replaced
        return data

    def __setstate__(self, data: dict[str, Any]) -> None:
        self.__dict__.update(data)

    def __sizeof__(self) -> int:
        return super().__sizeof__() + sys.getsizeof(self.result, 0)

    # -- class helpers ------------------------------------------------------------

    @classmethod
    def children(cls, include_self: bool = False, names_only: bool = False) -> list[Any]:
        """Every public subclass of this state class."""
        found: list[Any] = []
        for sub in cls.__subclasses__():
            if not sub.__name__.startswith("_"):
                found.append(sub)
            found.extend(sub.children())
        if include_self:
            found.append(cls)
        return [s.__name__ for s in found] if names_only else found

    @classmethod
    def parents(cls, include_self: bool = False, names_only: bool = False) -> list[Any]:
        """Every public base class of this state class."""
        found = [s for s in cls.mro() if s not in (object, cls) and not s.__name__.startswith("_")]
        if include_self:
            found.append(cls)
        return [s.__name__ for s in found] if names_only else found

    # -- predicates ---------------------------------------------------------------

    def is_pending(self) -> bool:
        return isinstance(self, Pending)

    def is_queued(self) -> bool:
        return isinstance(self, Queued)

    def is_retrying(self) -> bool:
        return isinstance(self, Retrying)

    def is_running(self) -> bool:
        return isinstance(self, Running)

    def is_cached(self) -> bool:
        return isinstance(self, Cached)

    def is_finished(self) -> bool:
        return isinstance(self, Finished)

    def is_looped(self) -> bool:
        return isinstance(self, Looped)

    def is_scheduled(self) -> bool:
        return isinstance(self, (Scheduled, Queued))

    def is_submitted(self) -> bool:
        return isinstance(self, Submitted)

    def is_skipped(self) -> bool:
        return isinstance(self, Skipped)

    def is_successful(self) -> bool:
        return isinstance(self, Success)

    def is_failed(self) -> bool:
        return isinstance(self, Failed)

    def is_mapped(self) -> bool:
        return isinstance(self, Mapped)

    def is_meta_state(self) -> bool:
        return isinstance(self, _MetaState)

    # -- JSON ---------------------------------------------------------------------

    def serialize(self) -> dict[str, Any]:
        """JSON-safe description: type, message, context, result location (never values
        other than JSON-safe results of ``PrefectResult``-like results)."""
        data: dict[str, Any] = {
            "type": type(self).__name__,
            "message": self.message if isinstance(self.message, str) or self.message is None else str(self.message),
            "context": _json_safe(self.context),
            "_result": {"type": type(self._result).__name__, "location": getattr(self._result, "location", None)},
            "__version__": _version(),
        }
        for key in ("start_time", "cached_result_expiration"):
            value = getattr(self, key, None)
            if isinstance(value, datetime.datetime):
                data[key] = value.isoformat()
        for key in ("run_count", "loop_count", "n_map_states"):
            if hasattr(self, key):
                data[key] = getattr(self, key)
        return data

    @staticmethod
    def deserialize(json_blob: Mapping[str, Any]) -> State:
        """Rebuild a state from :meth:`serialize` output (its result holds the location only)."""
        classes = {c.__name__: c for c in State.children(include_self=True)}
        try:
            cls = classes[json_blob["type"]]
        except KeyError:
            raise ValueError(f"Unknown state type {json_blob.get('type')!r}") from None
        state = cls.__new__(cls)
        State.__init__(state, message=json_blob.get("message"), context=dict(json_blob.get("context") or {}))
        location = (json_blob.get("_result") or {}).get("location")
        base = _results()
        state._result = base.Result(location=location) if location else base.NoResult
        for key in ("start_time", "cached_result_expiration"):
            if key in json_blob or (issubclass(cls, Scheduled) and key == "start_time"):
                raw = json_blob.get(key)
                setattr(state, key, datetime.datetime.fromisoformat(raw) if raw else None)
        if issubclass(cls, Cached):
            state.hashed_inputs = None
            state.cached_parameters = None
            state.cached_result_expiration = getattr(state, "cached_result_expiration", None)
        if issubclass(cls, Retrying):
            state.run_count = json_blob.get("run_count", 1)
        if issubclass(cls, Looped):
            state.loop_count = json_blob.get("loop_count", 1)
        if issubclass(cls, Mapped):
            state.map_states = []
            state._n_map_states = json_blob.get("n_map_states")
        if issubclass(cls, _MetaState):
            state._state = None
        return state


def _json_safe(value: Any) -> Any:
    import json

    try:
        json.dumps(value)
        return value
    except (TypeError, ValueError):
        if isinstance(value, dict):
            return {str(k): _json_safe(v) for k, v in value.items()}
        if isinstance(value, (list, tuple, set)):
            return [_json_safe(v) for v in value]
        return repr(value)


def _version() -> str:
    from prefect_storage._version import __version__

    return __version__


# -------------------------------------------------------------------------- pending


class Pending(State):
    """Waiting to run."""

    color = "#7ebdff"

    def __init__(
        self,
        message: str | None = None,
        result: Any = None,
        cached_inputs: dict[str, Result] | None = None,
        context: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message=message, result=result, context=context, cached_inputs=cached_inputs)


class Scheduled(Pending):
    """Waiting until ``start_time`` (default: now, UTC)."""

    color = "#ffab00"

    def __init__(
        self,
        message: str | None = None,
        result: Any = None,
        start_time: datetime.datetime | None = None,
        cached_inputs: dict[str, Result] | None = None,
        context: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message=message, result=result, cached_inputs=cached_inputs, context=context)
        self.start_time: datetime.datetime | None = _aware(start_time) if start_time is not None else _utcnow()
        run_count = _current().get("task_run_count")
        if run_count is not None:
            self.context.update(task_run_count=run_count)


class Paused(Scheduled):
    """Waiting for a manual resume (``start_time`` ``None``) or until ``start_time``."""

    color = "#99a8e8"

    def __init__(
        self,
        message: str | None = None,
        result: Any = None,
        start_time: datetime.datetime | None = None,
        cached_inputs: dict[str, Result] | None = None,
        context: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message=message, result=result, start_time=start_time, cached_inputs=cached_inputs, context=context)
        if start_time is None:
            self.start_time = None


class Resume(Scheduled):
    """A paused run that may proceed."""

    color = "#f58c0c"


class Retrying(Scheduled):
    """A failed run that will run again at ``start_time``; ``run_count`` runs so far."""

    color = "#f66a0a"

    def __init__(
        self,
        message: str | None = None,
        result: Any = None,
        start_time: datetime.datetime | None = None,
        cached_inputs: dict[str, Result] | None = None,
        context: dict[str, Any] | None = None,
        run_count: int | None = None,
    ) -> None:
        super().__init__(message=message, result=result, start_time=start_time, cached_inputs=cached_inputs, context=context)
        if run_count is None:
            run_count = _current().get("task_run_count", 1)
        self.run_count: int = run_count


class _MetaState(State):
    """A state wrapping another (``state``); used by backends."""

    def __init__(
        self,
        message: str | None = None,
        result: Any = None,
        state: State | None = None,
        context: dict[str, Any] | None = None,
        cached_inputs: dict[str, Result] | None = None,
    ) -> None:
        super().__init__(message=message, result=result, context=context, cached_inputs=cached_inputs)
        self.state = state

    @property
    def state(self) -> State | None:
        return self._state

    @state.setter
    def state(self, value: State | None) -> None:
        while isinstance(value, State) and value.is_meta_state():
            value = value.state  # type: ignore[attr-defined]
        self._state = value


class ClientFailed(_MetaState):
    color = "#eb0000"


class Submitted(_MetaState):
    color = "#ffdf5d"


class Queued(_MetaState):
    color = "#ffea7f"

    def __init__(
        self,
        message: str | None = None,
        result: Any = None,
        state: State | None = None,
        start_time: datetime.datetime | None = None,
        context: dict[str, Any] | None = None,
        cached_inputs: dict[str, Result] | None = None,
    ) -> None:
        super().__init__(message=message, result=result, state=state, context=context, cached_inputs=cached_inputs)
        self.start_time = start_time or _utcnow()


# -------------------------------------------------------------------------- running


class Running(State):
    color = "#3d67ff"


class Cancelling(Running):
    color = "#E8E8E8"


# -------------------------------------------------------------------------- finished


class Finished(State):
    color = "#003ccb"


class Looped(Finished):
    """One pass of a looping task (``LOOP`` signal); ``loop_count`` passes so far."""

    color = "#003ccb"

    def __init__(
        self,
        message: str | None = None,
        result: Any = None,
        loop_count: int | None = None,
        context: dict[str, Any] | None = None,
        cached_inputs: dict[str, Result] | None = None,
    ) -> None:
        super().__init__(message=message, result=result, context=context, cached_inputs=cached_inputs)
        if loop_count is None:
            loop_count = _current().get("task_loop_count", 1)
        self.loop_count: int = loop_count


class Success(Finished):
    color = "#28a745"


class Cached(Success):
    """A result reused from a cache or a task ``target`` instead of running."""

    color = "#34d058"

    def __init__(
        self,
        message: str | None = None,
        result: Any = None,
        cached_inputs: dict[str, Result] | None = None,
        cached_parameters: dict[str, Any] | None = None,
        cached_result_expiration: datetime.datetime | None = None,
        context: dict[str, Any] | None = None,
        hashed_inputs: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message=message, result=result, context=context, cached_inputs=cached_inputs)
        self.hashed_inputs = hashed_inputs
        self.cached_parameters = cached_parameters
        self.cached_result_expiration = _aware(cached_result_expiration) if cached_result_expiration is not None else None


class Mapped(Success):
    """A mapped task's parent: ``map_states`` are the children's states and ``result``
    is the list of their results."""

    color = "#003ccb"

    def __init__(
        self,
        message: str | None = None,
        result: Any = None,
        map_states: list[State] | None = None,
        context: dict[str, Any] | None = None,
        cached_inputs: dict[str, Result] | None = None,
        n_map_states: int | None = None,
    ) -> None:
        super().__init__(message=message, result=result, context=context, cached_inputs=cached_inputs)
        self.map_states: list[State] = map_states or []
        self.n_map_states = n_map_states  # type: ignore[assignment]

    @property
    def n_map_states(self) -> int:
        return self._n_map_states or len(self.map_states)

    @n_map_states.setter
    def n_map_states(self, value: int | None) -> None:
        self._n_map_states = value


class Cancelled(Finished):
    color = "#bdbdbd"


class Failed(Finished):
    color = "#eb0000"

    def __init__(
        self,
        message: str | None = None,
        result: Any = None,
        cached_inputs: dict[str, Result] | None = None,
        context: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message=message, result=result, context=context, cached_inputs=cached_inputs)


class TimedOut(Failed):
    color = "#ff4e33"


class TriggerFailed(Failed):
    color = "#ff5131"


class ValidationFailed(Failed):
    color = "#ff5131"


class Skipped(Success):
    color = "#62757f"

    def __init__(
        self,
        message: str | None = None,
        result: Any = None,
        context: dict[str, Any] | None = None,
        cached_inputs: dict[str, Result] | None = None,
    ) -> None:
        super().__init__(message=message, result=result, context=context, cached_inputs=cached_inputs)
