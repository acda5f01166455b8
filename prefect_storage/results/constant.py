"""``ConstantResult``: a value known when the flow is built; never written."""

from __future__ import annotations

from typing import Any

from prefect_storage.results.base import Result


class ConstantResult(Result):
    """Holds a constant ``value``; ``read`` returns itself and ``write`` is refused."""

    def __init__(self, **kwargs: Any) -> None:
        if "serializer" in kwargs:
            raise ValueError("Can't pass a serializer to a ConstantResult.")
        super().__init__(**kwargs)

    def read(self, location: str) -> Result:
        return self

    def write(self, value_: Any, **kwargs: Any) -> Result:
        raise ValueError("Cannot write values to `ConstantResult` types.")

    def exists(self, location: str, **kwargs: Any) -> bool:
        return True
