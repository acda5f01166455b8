"""Classic ``prefect.engine.results.gcs_result``."""

from prefect_storage.results.gcs import GCSResult

__all__ = ["GCSResult"]
