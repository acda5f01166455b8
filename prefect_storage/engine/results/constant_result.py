"""Classic ``prefect.engine.results.constant_result``."""

from prefect_storage.results.constant import ConstantResult

__all__ = ["ConstantResult"]
