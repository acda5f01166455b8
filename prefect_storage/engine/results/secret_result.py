"""Classic ``prefect.engine.results.secret_result``."""

from prefect_storage.results.secret import SecretResult

__all__ = ["SecretResult"]
