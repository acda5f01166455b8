"""``PrefectResult``: small JSON values kept inline, in the location string itself."""

from __future__ import annotations

from typing import Any

from prefect_storage.results.base import Result
from prefect_storage.serializers import DateTimeSerializer, JSONSerializer, Serializer


class PrefectResult(Result):
    """The value is JSON-serialized into ``location``, so the registry stores it inline."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("serializer", JSONSerializer())
        super().__init__(**kwargs)

    @property  # type: ignore[override]
    def serializer(self) -> Serializer:
        return self._serializer

    @serializer.setter
    def serializer(self, value: Serializer) -> None:
        if not isinstance(value, (JSONSerializer, DateTimeSerializer)):
            raise TypeError("PrefectResult only supports JSONSerializer or DateTimeSerializer")
        self._serializer = value

    def read(self, location: str) -> Result:
        new = self.copy()
        new.location = location
        new.value = self.serializer.deserialize(location.encode())
        return new

    def write(self, value_: Any, **kwargs: Any) -> Result:
        new = self.copy()
        new.value = value_
        new.location = self.serializer.serialize(value_).decode()
        return new

    def exists(self, location: str, **kwargs: Any) -> bool:
        try:
            self.serializer.deserialize(location.encode())
        except Exception:
            return False
        return True
