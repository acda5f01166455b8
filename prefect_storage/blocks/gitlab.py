"""The blocks of ``prefect_gitlab`` under one roof: ``from prefect_gitlab import X`` becomes ``from prefect_storage.blocks.gitlab import X``."""

from prefect_storage.blocks.credentials import GitLabCredentials

__all__ = ['GitLabCredentials']
