"""Deployment steps (the ``prefect.deployments.steps`` of this project).

Pull: :func:`git_clone`, :func:`pull_from_remote_storage`, :func:`pull_with_block`,
:func:`set_working_directory`. Utility: :func:`run_shell_script`,
:func:`pip_install_requirements`. Push/pull pairs: :func:`push_to_s3` /
:func:`pull_from_s3`, :func:`push_to_gcs` / :func:`pull_from_gcs`,
:func:`push_to_azure_blob_storage` / :func:`pull_from_azure_blob_storage`. Build:
:func:`build_docker_image`, :func:`push_docker_image`. Classic:
:func:`load_classic_flow`. :func:`run_steps` runs a list of them with templating.

Importing this package imports no SDK; each step imports what it needs when it runs.
"""

from __future__ import annotations

from typing import Any

from prefect_storage.deployments.steps.core import known_steps, resolve_step, run_step, run_steps

__all__ = [
    "build_docker_image",
    "git_clone",
    "known_steps",
    "load_classic_flow",
    "pip_install_requirements",
    "pull_from_azure_blob_storage",
    "pull_from_gcs",
    "pull_from_remote_storage",
    "pull_from_s3",
    "pull_with_block",
    "push_docker_image",
    "push_to_azure_blob_storage",
    "push_to_gcs",
    "push_to_s3",
    "resolve_step",
    "run_shell_script",
    "run_step",
    "run_steps",
    "set_working_directory",
]


def __getattr__(name: str) -> Any:
    if name in __all__:
        return resolve_step(name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
