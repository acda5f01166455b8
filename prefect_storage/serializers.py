"""Serializers turn task results into bytes and back (classic ``prefect.engine.serializers``)."""

from __future__ import annotations

import base64
import importlib
import json
from collections.abc import Callable
from typing import Any

__all__ = [
    "CompressedSerializer",
    "DateTimeSerializer",
    "JSONSerializer",
    "PandasSerializer",
    "PickleSerializer",
    "Serializer",
]


class Serializer:
    """Base class: ``serialize(value) -> bytes`` and ``deserialize(bytes) -> value``."""

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other)

    def __hash__(self) -> int:
        return hash(type(self))

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    def serialize(self, value: Any) -> bytes:
        raise NotImplementedError

    def deserialize(self, value: bytes) -> Any:
        raise NotImplementedError


class PickleSerializer(Serializer):
    """cloudpickle; also reads the base64-wrapped pickles very old results used."""

    def serialize(self, value: Any) -> bytes:
        import cloudpickle

        return cloudpickle.dumps(value)

    def deserialize(self, value: bytes) -> Any:
        import cloudpickle

        try:
            return cloudpickle.loads(value)
        except Exception as exc:
            try:
                return cloudpickle.loads(base64.b64decode(value))
            except Exception:
                raise exc from None


class JSONSerializer(Serializer):
    """``json.dumps`` as UTF-8 bytes."""

    def serialize(self, value: Any) -> bytes:
        return json.dumps(value).encode()

    def deserialize(self, value: bytes) -> Any:
        return json.loads(value)


class DateTimeSerializer(Serializer):
    """A ``datetime`` as ISO 8601 text (UTC offsets kept)."""

    def serialize(self, value: Any) -> bytes:
        import datetime

        if not isinstance(value, datetime.datetime):
            raise TypeError(f"DateTimeSerializer serializes datetime objects, not {type(value).__name__}.")
        return value.isoformat().encode()

    def deserialize(self, value: bytes) -> Any:
        import datetime

        return datetime.datetime.fromisoformat(value.decode().replace("Z", "+00:00"))


class PandasSerializer(Serializer):
    """A pandas DataFrame through ``DataFrame.to_<file_type>`` and ``pandas.read_<file_type>``
    (``"csv"``, ``"parquet"``, ``"json"``...). Needs ``pip install 'prefect-storage[pandas]'``.

    Both methods are looked up when the serializer is made, so a bad ``file_type``
    fails at once rather than at the first checkpoint.
    """

    def __init__(
        self,
        file_type: str,
        deserialize_kwargs: dict[str, Any] | None = None,
        serialize_kwargs: dict[str, Any] | None = None,
    ) -> None:
        from prefect_storage.backends.optional import require

        pd = require("pandas", extra="pandas", purpose="PandasSerializer")
        self.file_type = file_type
        self.deserialize_kwargs = deserialize_kwargs or {}
        self.serialize_kwargs = serialize_kwargs or {}
        if not callable(getattr(pd, f"read_{file_type}", None)):
            raise ValueError(f"Could not find deserialization methods for {file_type}")
        if not callable(getattr(pd.DataFrame, f"to_{file_type}", None)):
            raise ValueError(f"Could not find serialization methods for {file_type}")
        self._pd = pd

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, PandasSerializer)
            and (self.file_type, self.serialize_kwargs, self.deserialize_kwargs)
            == (other.file_type, other.serialize_kwargs, other.deserialize_kwargs)
        )

    __hash__ = Serializer.__hash__

    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "_pd"}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        import pandas

        self._pd = pandas

    def serialize(self, value: Any) -> bytes:
        import io

        write = getattr(value, f"to_{self.file_type}")
        buffer = io.BytesIO()
        try:
            write(buffer, **self.serialize_kwargs)
            return buffer.getvalue()
        except TypeError:  # text formats (csv, json) want a text buffer
            text = io.StringIO()
            write(text, **self.serialize_kwargs)
            return text.getvalue().encode()

    def deserialize(self, value: bytes) -> Any:
        import io

        return getattr(self._pd, f"read_{self.file_type}")(io.BytesIO(value), **self.deserialize_kwargs)


_FORMATS = ("bz2", "gzip", "lzma", "zlib")


class CompressedSerializer(Serializer):
    """Wraps another serializer with compression: a ``format`` module (``gzip``,
    ``bz2``, ``lzma``, ``zlib``) or a ``compress``/``decompress`` pair."""

    def __init__(
        self,
        serializer: Serializer,
        format: str | None = None,
        compress: Callable[..., bytes] | None = None,
        decompress: Callable[..., bytes] | None = None,
        compress_kwargs: dict[str, Any] | None = None,
        decompress_kwargs: dict[str, Any] | None = None,
    ) -> None:
        self.serializer = serializer
        self.compress_kwargs = compress_kwargs or {}
        self.decompress_kwargs = decompress_kwargs or {}
        if format is not None and (compress is not None or decompress is not None):
            raise ValueError("You must specify either `format` or `compress`/`decompress`, but not both.")
        if format is not None:
            try:
                module = importlib.import_module(format)
            except ImportError:
                raise ImportError(
                    f"Compression module for {format!r} is not installed. Did you mean to use one of {set(_FORMATS)}?"
                ) from None
            if not (hasattr(module, "compress") and hasattr(module, "decompress")):
                raise ValueError(
                    f"Given compression format {format!r} module does not have 'compress' and 'decompress' "
                    f"attributes. Try one of {set(_FORMATS)}."
                )
            compress, decompress = module.compress, module.decompress
        elif compress is None or decompress is None:
            raise ValueError("You must specify either `format` or `compress`/`decompress`.")
        self._compress, self._decompress = compress, decompress

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, CompressedSerializer)
            and self.serializer == other.serializer
            and self._compress is other._compress
            and self.compress_kwargs == other.compress_kwargs
        )

    __hash__ = Serializer.__hash__

    def serialize(self, value: Any) -> bytes:
        return self._compress(self.serializer.serialize(value), **self.compress_kwargs)

    def deserialize(self, value: bytes) -> Any:
        return self.serializer.deserialize(self._decompress(value, **self.decompress_kwargs))
