"""The blocks of ``prefect_azure`` under one roof: ``from prefect_azure import X`` becomes ``from prefect_storage.blocks.azure import X``."""

from prefect_storage.blocks.credentials import AzureBlobStorageCredentials
from prefect_storage.blocks.storage import AzureBlobStorageContainer

AzureBlobCredentials = AzureBlobStorageCredentials  # the docs' spelling
AzureBlobStorage = AzureBlobStorageContainer

__all__ = ['AzureBlobCredentials', 'AzureBlobStorage', 'AzureBlobStorageContainer', 'AzureBlobStorageCredentials']
