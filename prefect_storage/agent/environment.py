"""What a flow run's process gets from the agent: environment, secrets, import path."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any

from prefect_storage.exceptions import SecretNotFoundError

SECRET_ENV_PREFIX = "PREFECT__CONTEXT__SECRETS__"

#: The project's own sensitive settings: never passed to a run, whatever the flags say.
SENSITIVE_VARIABLES = (
    "PREFECT_STORAGE_SIGNING_KEY",  # would let flow code forge signed flow files
    "PREFECT_STORAGE_REGISTRY_URL",  # may carry the database password; runs use the broker
    "PREFECT_STORAGE_BLOCKS_KEY",  # decrypts every secret block in the registry
    "PREFECT_STORAGE_RUN_BROKER",  # set per run by the agent, never inherited
    "PREFECT_STORAGE_RUN_TOKEN",
)

#: What a run gets from the agent's environment even with ``--no-pass-env``: enough for
#: a process to find programs, its home folder, temp space, locale and time zone.
BASIC_VARIABLES = ("PATH", "HOME", "USER", "LOGNAME", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR", "SYSTEMROOT")


def agent_environment(
    environ: Mapping[str, str],
    pass_env: bool = True,
    allow: Iterable[str] = (),
    hidden: Iterable[str] = (),
) -> dict[str, str]:
    """The part of the agent's environment a run inherits.

    By default everything (as classic agents did: flows rely on database URLs and cloud
    credentials there) except :data:`SENSITIVE_VARIABLES` and the ``hidden`` names the
    agent was told are secret (also in their ``PREFECT__CONTEXT__SECRETS__`` form).
    With ``pass_env=False`` only :data:`BASIC_VARIABLES` and the ``allow`` names pass.
    """
    never = set(SENSITIVE_VARIABLES) | set(hidden)
    never |= {f"{SECRET_ENV_PREFIX}{name}" for name in list(never)}
    if pass_env:
        chosen = dict(environ)
    else:
        wanted = set(BASIC_VARIABLES) | set(allow)
        chosen = {k: v for k, v in environ.items() if k in wanted}
    return {k: v for k, v in chosen.items() if k not in never}


class RunSecretError(Exception):
    """A secret the flow's storage lists could not be resolved by the agent."""


def resolve_storage_secrets(storage: Mapping[str, Any]) -> dict[str, str]:
    """Resolve every name in ``storage["secrets"]`` through the agent's secret chain.

    The values are remembered for redaction, so they are hidden in the run's logs.
    """
    from prefect_storage import secrets

    values: dict[str, str] = {}
    for name in storage.get("secrets") or []:
        if name in SENSITIVE_VARIABLES:
            raise RunSecretError(
                f"Flow secret {name!r} is one of the agent's own sensitive settings, which no flow run receives; "
                "give the flow a secret of its own."
            )
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
