"""Classic ``prefect.engine.results.local_result``."""

from prefect_storage.results.local import LocalResult

__all__ = ["LocalResult"]
