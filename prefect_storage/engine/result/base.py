"""Classic ``prefect.engine.result.base``."""

from prefect_storage.results.base import NoResult, NoResultType, Result

__all__ = ["NoResult", "NoResultType", "Result"]
