"""Classic ``prefect.utilities.edges`` (implemented in :mod:`prefect_storage.core.edges`)."""

from prefect_storage.core.edges import EdgeAnnotation, flatten, mapped, unmapped

__all__ = ["EdgeAnnotation", "flatten", "mapped", "unmapped"]
