"""Classic ``prefect.engine.results.prefect_result``."""

from prefect_storage.results.prefect import PrefectResult

__all__ = ["PrefectResult"]
