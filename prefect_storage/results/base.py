"""The ``Result`` base class: where a task's output is written, and how to read it back."""

from __future__ import annotations

import datetime
import importlib
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from prefect_storage.exceptions import ResultNotImplementedError  # re-exported
from prefect_storage.serializers import PickleSerializer, Serializer

__all__ = ["NoResult", "NoResultType", "Result", "ResultNotImplementedError"]


_NOT_IMPLEMENTED = (
    "Not implemented on the base Result class - if you are seeing this error you might be trying to use "
    "features that require choosing a Result subclass, such as LocalResult or S3Result."
)

# Serialized type name -> "module:Class"; subclasses defined elsewhere register themselves.
_BUILTIN_RESULTS: dict[str, str] = {
    "Result": "prefect_storage.results.base:Result",
    "NoResultType": "prefect_storage.results.base:NoResultType",
    "LocalResult": "prefect_storage.results.local:LocalResult",
    "PrefectResult": "prefect_storage.results.prefect:PrefectResult",
    "ConstantResult": "prefect_storage.results.constant:ConstantResult",
    "SecretResult": "prefect_storage.results.secret:SecretResult",
    "S3Result": "prefect_storage.results.s3:S3Result",
    "GCSResult": "prefect_storage.results.gcs:GCSResult",
    "AzureResult": "prefect_storage.results.azure:AzureResult",
}
_registered: dict[str, type[Result]] = {}


class Result:
    """Where a task's output lives.

    Args:
        value: the value this result holds (set by :meth:`read` / :meth:`write`).
        location: a ``str.format`` template (``"{flow_name}/{task_name}.pkl"``) or a
            callable taking the same keyword arguments; formatted with the run's
            context, parameters and task inputs when the result is written.
        serializer: how values become bytes; default :class:`PickleSerializer`.

    :meth:`read` and :meth:`write` return new ``Result`` objects; the original is
    never changed, so one result object can serve every task.
    """

    #: fields (besides ``location``) kept by :meth:`serialize`; never credentials
    _serialized_fields: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _registered.setdefault(cls.__name__, cls)

    def __init__(self, value: Any = None, location: str | Callable[..., str] | None = None, serializer: Serializer | None = None) -> None:
        self.value = value
        self.serializer = serializer if serializer is not None else PickleSerializer()
        if callable(location):
            self._formatter: Callable[..., str] | None = location
            self.location: str | None = None
        else:
            self._formatter = None
            self.location = location

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {self.value!r}>"

    def __eq__(self, other: object) -> bool:
        if type(self) is not type(other):
            return False
        public = lambda r: {k: v for k, v in vars(r).items() if not k.startswith("_")}  # noqa: E731
        return public(self) == public(other)

    __hash__ = None  # type: ignore[assignment]

    @property
    def default_location(self) -> str:
        import uuid

        today = datetime.datetime.now(datetime.timezone.utc)
        return f"{today.year}/{today.month}/{today.day}/{uuid.uuid4()}.prefect_result"

    def copy(self) -> Result:
        """A shallow copy in this process. Not ``copy.copy``: that goes through
        ``__getstate__``, which subclasses use to keep credentials out of pickles."""
        new = object.__new__(type(self))
        new.__dict__.update(self.__dict__)
        return new

    def format(self, **kwargs: Any) -> Result:
        """A copy whose ``location`` is the formatted template (or the default)."""
        new = self.copy()
        if isinstance(self.location, str):
            new.location = self.location.format(**kwargs)
        elif self._formatter is not None:
            new.location = self._formatter(**kwargs)
        else:
            new.location = self.default_location
        return new

    def from_value(self, value: Any) -> Result:
        new = self.copy()
        new.location = None
        new.value = value
        return new

    def read(self, location: str) -> Result:
        """A new result holding the value stored at ``location``."""
        raise ResultNotImplementedError(_NOT_IMPLEMENTED)

    def write(self, value_: Any, **kwargs: Any) -> Result:
        """Store ``value_`` at the location formatted with ``kwargs``; return the new result."""
        raise ResultNotImplementedError(_NOT_IMPLEMENTED)

    def exists(self, location: str, **kwargs: Any) -> bool:
        """Whether a value is stored at ``location`` (formatted with ``kwargs``)."""
        raise ResultNotImplementedError(_NOT_IMPLEMENTED)

    # -- JSON (for the registry) ----------------------------------------------------

    def serialize(self) -> dict[str, Any]:
        """JSON-safe description: ``type``, ``location`` and the class's fields (never
        a value, a serializer, client options or a credential)."""
        from prefect_storage._version import __version__

        name = type(self).__name__
        data: dict[str, Any] = {
            "type": name if name in _BUILTIN_RESULTS else "CustomResult",
            "__version__": __version__,
            "location": self.location,
        }
        data.update({f: getattr(self, f) for f in self._serialized_fields})
        return data

    @staticmethod
    def deserialize(data: Mapping[str, Any]) -> Result:
        """Rebuild a result from :meth:`serialize` output; unknown types become a base ``Result``."""
        name = str(data.get("type"))
        cls = _result_class(name)
        return cls._from_serialized(data)

    @classmethod
    def _from_serialized(cls, data: Mapping[str, Any]) -> Result:
        """Call the constructor with the serialized fields; override to pass extra flags."""
        obj = cls(**{field: data.get(field) for field in cls._serialized_fields})
        obj.location = data.get("location")
        return obj


def _result_class(name: str) -> type[Result]:
    if name in _registered:
        return _registered[name]
    target = _BUILTIN_RESULTS.get(name)
    if target is None:
        return Result
    module, _, attr = target.partition(":")
    return getattr(importlib.import_module(module), attr)


class NoResultType(Result):
    """The absence of a result (classic ``NoResult``)."""

    def __repr__(self) -> str:
        return "<No result>"

    def serialize(self) -> dict[str, Any]:
        return {"type": "NoResultType"}

    @classmethod
    def _from_serialized(cls, data: Mapping[str, Any]) -> Result:
        return NoResult


NoResult = NoResultType()
_registered["Result"] = Result
