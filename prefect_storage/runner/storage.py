"""``prefect_storage.runner.storage``: the modern runner storage API (mirrors ``prefect.runner.storage``).

``from prefect.runner.storage import GitRepository`` becomes
``from prefect_storage.runner.storage import GitRepository``; nothing else changes.
"""

from __future__ import annotations

from prefect_storage.runner.base import RunnerStorage, pull_sync
from prefect_storage.runner.block import BlockStorageAdapter
from prefect_storage.runner.factory import create_storage_from_source
from prefect_storage.runner.git import GitCredentials, GitRepository
from prefect_storage.runner.local import LocalStorage
from prefect_storage.runner.remote import RemoteStorage

__all__ = [
    "BlockStorageAdapter",
    "GitCredentials",
    "GitRepository",
    "LocalStorage",
    "RemoteStorage",
    "RunnerStorage",
    "create_storage_from_source",
    "pull_sync",
]
