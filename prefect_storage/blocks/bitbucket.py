"""The blocks of ``prefect_bitbucket`` under one roof: ``from prefect_bitbucket import X`` becomes ``from prefect_storage.blocks.bitbucket import X``."""

from prefect_storage.blocks.credentials import BitBucketCredentials

__all__ = ['BitBucketCredentials']
