"""Blocks: named, typed settings saved in the registry, secret fields encrypted at rest.

``prefect_storage.blocks.system`` mirrors ``prefect.blocks.system`` (``Secret``,
``String``, ``JSON``); credentials and storage blocks live in
:mod:`prefect_storage.blocks.credentials` and :mod:`prefect_storage.blocks.storage`
(also under Prefect-integration-like names: ``blocks.aws``, ``blocks.gcp``,
``blocks.azure``, ``blocks.github``, ``blocks.gitlab``, ``blocks.bitbucket``).

Importing this package makes ``Secret`` blocks a provider in the secret chain, so a
``$NAME`` template can come from a ``Secret`` block (see :mod:`prefect_storage.blocks.provider`).
"""

from prefect_storage.blocks.core import Block, Field, SecretStr, block_types, get_block_class
from prefect_storage.blocks.credentials import (
    AwsCredentials,
    AzureBlobStorageCredentials,
    BitBucketCredentials,
    GcpCredentials,
    GitHubCredentials,
    GitLabCredentials,
)
from prefect_storage.blocks.provider import install_provider
from prefect_storage.blocks.storage import (
    AzureBlobStorageContainer,
    GcsBucket,
    LocalFileSystem,
    RemoteFileSystem,
    S3Bucket,
)
from prefect_storage.blocks.system import JSON, Secret, String

install_provider()

__all__ = [
    "JSON",
    "AwsCredentials",
    "AzureBlobStorageContainer",
    "AzureBlobStorageCredentials",
    "BitBucketCredentials",
    "Block",
    "Field",
    "GcpCredentials",
    "GcsBucket",
    "GitHubCredentials",
    "GitLabCredentials",
    "LocalFileSystem",
    "RemoteFileSystem",
    "S3Bucket",
    "Secret",
    "SecretStr",
    "String",
    "block_types",
    "get_block_class",
]
