"""Classic ``prefect.engine.results.azure_result``."""

from prefect_storage.results.azure import AzureResult

__all__ = ["AzureResult"]
