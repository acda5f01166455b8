"""The storage classes. Each is imported on first use, so naming one never imports
the SDK of another (``from prefect_storage.storage import Local`` imports no boto3)."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from prefect_storage.storage.base import BUILTIN_STORAGES, Storage

if TYPE_CHECKING:
    from prefect_storage.storage.azure import Azure
    from prefect_storage.storage.bitbucket import Bitbucket
    from prefect_storage.storage.codecommit import CodeCommit
    from prefect_storage.storage.docker import Docker
    from prefect_storage.storage.gcs import GCS
    from prefect_storage.storage.git import Git
    from prefect_storage.storage.github import GitHub
    from prefect_storage.storage.gitlab import GitLab
    from prefect_storage.storage.local import Local
    from prefect_storage.storage.module import Module
    from prefect_storage.storage.s3 import S3
    from prefect_storage.storage.webhook import Webhook

__all__ = [
    "GCS",
    "S3",
    "Azure",
    "Bitbucket",
    "CodeCommit",
    "Docker",
    "Git",
    "GitHub",
    "GitLab",
    "Local",
    "Module",
    "Storage",
    "Webhook",
    "get_default_storage_class",
]


def __getattr__(name: str) -> Any:
    if name in BUILTIN_STORAGES:
        return getattr(importlib.import_module(BUILTIN_STORAGES[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)


def get_default_storage_class() -> type[Storage]:
    """The class ``flow.register()`` uses when a flow has no storage.

    Set by the classic setting ``flows.defaults.storage.default_class`` (a class or a
    ``module.Class`` name; ``set_temporary_config`` or
    ``PREFECT__FLOWS__DEFAULTS__STORAGE__DEFAULT_CLASS``); a name that cannot be
    imported warns and falls back to :class:`Local`.
    """
    from prefect_storage import config
    from prefect_storage.storage.local import Local

    cls = config.setting_class(
        "flows.defaults.storage.default_class", "PREFECT__FLOWS__DEFAULTS__STORAGE__DEFAULT_CLASS", Local,
        public_name="prefect_storage.storage.Local",
    )
    if isinstance(cls, type) and issubclass(cls, Storage):
        return cls
    import warnings

    warnings.warn(f"{cls!r} is not a Storage class; using prefect_storage.storage.Local instead.", stacklevel=2)
    return Local
