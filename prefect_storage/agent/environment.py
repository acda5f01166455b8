"""What a flow run's process gets from the agent: environment, secrets, import path."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any

from prefect_storage.exceptions import RunSecretError, SecretNotFoundError

SECRET_ENV_PREFIX = "PREFECT__CONTEXT__SECRETS__"

__all__ = ["SECRET_ENV_PREFIX", "RunSecretError", "resolve_storage_secrets"]  # RunSecretError: re-exported


def resolve_storage_secrets(storage: Mapping[str, Any]) -> dict[str, str]:
    """Resolve every name in ``storage["secrets"]`` through the agent's secret chain.

    The values are remembered for redaction, so they are hidden in the run's logs.
    """
    from prefect_storage import secrets

    values: dict[str, str] = {}
    for name in storage.get("secrets") or []:
        try:
            values[name] = secrets.resolve(name)
        except SecretNotFoundError as exc:
            raise RunSecretError(
                f"Failed to load flow secret {name!r}: {exc} Hint: provide the secret to the agent "
                f"(environment variable {name} or {SECRET_ENV_PREFIX}{name}, the secrets file or a secret provider)."
            ) from None
    return values


def run_environment(
    base: Mapping[str, str],
    secrets: Mapping[str, str],
    run_env: Mapping[str, str] | None = None,
    import_paths: Iterable[str] = (),
    context: Mapping[str, str] | None = None,
    python_path: bool = True,
) -> dict[str, str]:
    """The child's environment: ``base`` + the run config's env + context values, the
    secrets as ``PREFECT__CONTEXT__SECRETS__NAME`` and, with ``python_path``,
    ``PYTHONPATH`` = the agent's working directory + existing + ``import_paths`` (the
    classic LocalAgent order; meaningless inside a container, hence the switch)."""
    env = dict(base)
    env.update(run_env or {})
    for key, value in (context or {}).items():
        env[f"PREFECT__CONTEXT__{key.upper()}"] = value
    for name, value in secrets.items():
        env[f"{SECRET_ENV_PREFIX}{name}"] = value
    if python_path:
        paths = [os.getcwd(), *filter(None, env.get("PYTHONPATH", "").split(os.pathsep)), *import_paths]
        env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
    return env
