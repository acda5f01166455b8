"""The blocks of ``prefect_github`` under one roof: ``from prefect_github import X`` becomes ``from prefect_storage.blocks.github import X``."""

from prefect_storage.blocks.credentials import GitHubCredentials

__all__ = ['GitHubCredentials']
