"""Modern runner storage: where a deployment's code lives and how it is pulled before a run.

See :mod:`prefect_storage.runner.storage` (the Prefect-compatible import path).
"""

from prefect_storage.runner.storage import (
    BlockStorageAdapter,
    GitCredentials,
    GitRepository,
    LocalStorage,
    RemoteStorage,
    RunnerStorage,
    create_storage_from_source,
    pull_sync,
)

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
