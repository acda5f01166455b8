"""Classic ``prefect.utilities.serialization``: the qualified-name helpers flow code and
tests use (implemented in :mod:`prefect_storage.core.serialize`). The marshmallow schemas
of the classic module are not provided: each object has ``serialize()``."""

from prefect_storage.core.serialize import from_qualified_name, to_qualified_name

__all__ = ["from_qualified_name", "to_qualified_name"]
