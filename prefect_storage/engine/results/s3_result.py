"""Classic ``prefect.engine.results.s3_result``."""

from prefect_storage.results.s3 import S3Result

__all__ = ["S3Result"]
