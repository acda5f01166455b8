"""What ``S3Result``, ``GCSResult`` and ``AzureResult`` share: read, write and exists
by key through an :class:`~prefect_storage.backends.objects.ObjectStore`."""

from __future__ import annotations

from typing import Any, ClassVar

from prefect_storage.backends.objects import ObjectStore
from prefect_storage.results.base import Result


class ObjectResult(Result):
    """A result stored as one object per location (the formatted ``location`` is the key).

    Nothing that reaches a service is kept on the object beyond names and templates;
    attributes in :attr:`_transient_attributes` (literal credentials) never leave the
    process: they are dropped when the result is pickled with a flow.
    """

    _transient_attributes: ClassVar[tuple[str, ...]] = ()

    def _store(self) -> ObjectStore:
        raise NotImplementedError

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        for name in self._transient_attributes:
            state.pop(name, None)
        return state

    def read(self, location: str) -> Result:
        """A new result holding the value stored at ``location`` (``None`` for an empty object)."""
        new = self.copy()
        new.location = location
        data, _ = self._store().get(location)
        try:
            new.value = self.serializer.deserialize(data)
        except EOFError:
            new.value = None
        return new

    def write(self, value_: Any, **kwargs: Any) -> Result:
        """Store ``value_`` at the location formatted with ``kwargs``, in one request."""
        new = self.format(**kwargs)
        new.value = value_
        self._store().put(str(new.location), self.serializer.serialize(value_))
        return new

    def exists(self, location: str, **kwargs: Any) -> bool:
        """Whether an object is stored at ``location`` (formatted with ``kwargs``)."""
        return self._store().head(location.format(**kwargs)) is not None
