"""The blocks of ``prefect_gcp`` under one roof: ``from prefect_gcp import X`` becomes ``from prefect_storage.blocks.gcp import X``."""

from prefect_storage.blocks.credentials import GcpCredentials
from prefect_storage.blocks.storage import GcsBucket

GCSBucket = GcsBucket  # prefect_gcp's spelling

__all__ = ['GCSBucket', 'GcpCredentials', 'GcsBucket']
