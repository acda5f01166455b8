"""Classic ``prefect.engine.result``: the ``Result`` base class and ``NoResult``."""

from prefect_storage.results.base import NoResult, NoResultType, Result

__all__ = ["NoResult", "NoResultType", "Result"]
