"""Classic ``prefect.engine.serializers`` (implemented in :mod:`prefect_storage.serializers`)."""

from prefect_storage.serializers import (
    CompressedSerializer,
    DateTimeSerializer,
    JSONSerializer,
    PandasSerializer,
    PickleSerializer,
    Serializer,
)

__all__ = [
    "CompressedSerializer",
    "DateTimeSerializer",
    "JSONSerializer",
    "PandasSerializer",
    "PickleSerializer",
    "Serializer",
]
