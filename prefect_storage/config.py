"""Settings read from the environment at the moment they are needed. This is the only
module that reads ``PREFECT_STORAGE_*`` / ``PREFECT__*`` variables; ``docs/settings.md``
lists them all (a unit test keeps the two in step).

The classic ``PREFECT__SECTION__KEY`` variables are honoured where Prefect 1.x had
the same setting, so existing deployments keep their behaviour:

=============================================================  =====================  =====================
setting                                                         variables (first wins)  default
=============================================================  =====================  =====================
home directory                                                  ``PREFECT_STORAGE_HOME``, ``PREFECT__HOME_DIR``  ``~/.prefect``
default labels on storage                                       ``PREFECT__FLOWS__DEFAULTS__STORAGE__ADD_DEFAULT_LABELS``  true
default storage class for ``flow.register()``                   ``PREFECT__FLOWS__DEFAULTS__STORAGE__DEFAULT_CLASS``  ``prefect_storage.storage.Local``
checkpoint task results in ``flow.run()``                       ``PREFECT__FLOWS__CHECKPOINTING``  false
signing key secret name                                         (fixed) ``PREFECT_STORAGE_SIGNING_KEY``
refuse unsigned flows                                           ``PREFECT_STORAGE_REQUIRE_SIGNATURE``  false
read unsigned flows although a signing key is set               ``PREFECT_STORAGE_ALLOW_UNSIGNED``  false
modules ``Storage.deserialize`` may import for custom types     ``PREFECT_STORAGE_STORAGE_MODULES``  (none)
load pickles made by another Python minor version               ``PREFECT_STORAGE_ALLOW_PYTHON_MISMATCH``  false
=============================================================  =====================  =====================

Nothing here is cached: tests and long-running agents see changes at once, and a
lookup costs one ``os.environ`` read.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

SIGNING_KEY_SECRET = "PREFECT_STORAGE_SIGNING_KEY"

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_flag(*names: str, default: bool) -> bool:
    """Read the first set variable of ``names`` as a boolean.

    Accepts ``1/true/yes/on`` and ``0/false/no/off`` in any case; anything else is
    a :class:`~prefect_storage.exceptions.StorageConfigError` naming the variable.
    """
    for name in names:
        raw = os.environ.get(name)
        if raw is None:
            continue
        value = raw.strip().lower()
        if value in _TRUE:
            return True
        if value in _FALSE:
            return False
        from prefect_storage.exceptions import StorageConfigError

        raise StorageConfigError(f"{name}={raw!r} is not a boolean; use true or false.")
    return default


def _engine_setting(dotted: str) -> Any:
    """A value set on the classic nested config (``set_temporary_config({...})`` or
    ``prefect.config.flows.x = ...``), else ``None``. It wins over the environment."""
    engine = sys.modules.get("prefect_storage.core.configuration")
    return engine.config.get_nested(dotted) if engine is not None else None


def home_path() -> Path:
    """The folder that holds flows, results, the registry and local secrets.

    (The classic ``prefect.config.home_dir``, a string, is this folder too.)
    """
    raw = _engine_setting("home_dir") or os.environ.get("PREFECT_STORAGE_HOME") or os.environ.get("PREFECT__HOME_DIR")
    return Path(raw or "~/.prefect").expanduser()


def ensure_home_dir() -> Path:
    """:func:`home_path`, created private (``0700``) when it does not exist yet: it holds
    flow pickles (code), the registry and local secrets."""
    home = home_path()
    if not home.is_dir():
        os.makedirs(home.parent, exist_ok=True)
        os.makedirs(home, mode=0o700, exist_ok=True)
    return home


def add_default_labels() -> Any:
    """Whether storages add their default labels: the classic config value as set, else
    ``PREFECT__FLOWS__DEFAULTS__STORAGE__ADD_DEFAULT_LABELS``, else true."""
    value = _engine_setting("flows.defaults.storage.add_default_labels")
    if value is not None:
        return value
    return env_flag("PREFECT__FLOWS__DEFAULTS__STORAGE__ADD_DEFAULT_LABELS", default=True)


def checkpointing() -> bool:
    return env_flag("PREFECT__FLOWS__CHECKPOINTING", "PREFECT__FLOWS__CHECKPOINTING".lower(), default=False)


def require_signature() -> bool:
    return env_flag("PREFECT_STORAGE_REQUIRE_SIGNATURE", default=False)


def allow_unsigned() -> bool:
    """Read classic and unsigned flows even though a signing key is configured."""
    return env_flag("PREFECT_STORAGE_ALLOW_UNSIGNED", default=False)


def allow_python_mismatch() -> bool:
    return env_flag("PREFECT_STORAGE_ALLOW_PYTHON_MISMATCH", default=False)


def storage_modules() -> frozenset[str]:
    """Modules (comma separated) that ``Storage.deserialize`` may import to find a custom
    storage class named in registry data; nothing beyond the built-ins by default."""
    raw = os.environ.get("PREFECT_STORAGE_STORAGE_MODULES", "")
    return frozenset(name.strip() for name in raw.split(",") if name.strip())


def setting_class(dotted: str, variable: str, fallback: type, public_name: str | None = None) -> Any:
    """The class a classic class setting names: the nested config value as set (a class,
    or a ``module.Class`` name), else the ``variable`` environment variable, else
    ``fallback`` (``public_name`` is the path the warnings name it by). A classic
    ``prefect.`` name is read as ``prefect_storage.``; a name that cannot be imported
    warns and gives ``fallback``."""
    value = _engine_setting(dotted) or os.environ.get(variable)
    if not value:
        return fallback
    if not isinstance(value, str):
        return value
    name = "prefect_storage" + value[len("prefect") :] if value.split(".")[0] == "prefect" else value
    fallback_name = public_name or f"{fallback.__module__}.{fallback.__qualname__}"
    if name in (fallback_name, f"{fallback.__module__}.{fallback.__qualname__}"):
        return fallback
    import importlib

    module, _, attr = name.rpartition(".")
    try:
        return getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError, ValueError):
        import warnings

        warnings.warn(f"Could not import {value}; using {fallback_name} instead.", stacklevel=3)
        return fallback


def __getattr__(name: str) -> object:
    # classic `prefect.config.flows.checkpointing` etc.: the engine's nested settings object
    if name.startswith("__"):
        raise AttributeError(name)
    if name == "home_dir":  # classic `prefect.config.home_dir`: the folder, as a string
        return str(home_path())
    from prefect_storage.core.configuration import config as engine_config

    try:
        return engine_config[name]
    except KeyError:
        raise AttributeError(f"module 'prefect_storage.config' has no attribute {name!r}") from None
# -- numbers, lists and URLs -------------------------------------------------------------


def env_number(name: str, default: float, *, integer: bool = False, minimum: float | None = None) -> float:
    """Read ``name`` as a number (``default`` when unset or empty); anything else is a
    :class:`~prefect_storage.exceptions.StorageConfigError` naming the variable."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value: float = int(raw) if integer else float(raw)
    except ValueError:
        value = float("nan")
    if value != value or (minimum is not None and value < minimum):
        from prefect_storage.exceptions import StorageConfigError

        kind = "a whole number" if integer else "a number"
        bound = f" >= {minimum:g}" if minimum is not None else ""
        raise StorageConfigError(f"{name}={raw!r} is not {kind}{bound}; unset it to use the default {default:g}.")
    return value


def env_list(name: str) -> list[str]:
    """Read ``name`` as a comma-separated list (blanks dropped)."""
    return [item.strip() for item in os.environ.get(name, "").split(",") if item.strip()]


REGISTRY_URL_ENV = "PREFECT_STORAGE_REGISTRY_URL"


def registry_url() -> str | None:
    """``PREFECT_STORAGE_REGISTRY_URL``: the registry database URL or path, if set."""
    return os.environ.get(REGISTRY_URL_ENV) or None


def secret_providers() -> list[str]:
    """``PREFECT_STORAGE_SECRET_PROVIDERS``: names of the secret providers to ask, in order."""
    return env_list("PREFECT_STORAGE_SECRET_PROVIDERS")


def retry_attempts() -> int:
    """``PREFECT_STORAGE_RETRY_ATTEMPTS``: attempts per service call (default 4)."""
    return int(env_number("PREFECT_STORAGE_RETRY_ATTEMPTS", 4, integer=True, minimum=1))


def cache_dir() -> Path | None:
    """``PREFECT_STORAGE_CACHE_DIR``: where loaded payloads are cached (default ``<home>/cache``)."""
    raw = os.environ.get("PREFECT_STORAGE_CACHE_DIR")
    return Path(raw).expanduser() if raw else None


def cache_max_bytes(default: int) -> int:
    """``PREFECT_STORAGE_CACHE_MAX_BYTES``: size bound of each cache namespace."""
    return int(env_number("PREFECT_STORAGE_CACHE_MAX_BYTES", default, integer=True, minimum=0))


def git_timeout() -> float:
    """``PREFECT_STORAGE_GIT_TIMEOUT``: seconds a git command may take (default 300)."""
    return env_number("PREFECT_STORAGE_GIT_TIMEOUT", 300.0, minimum=1)


def git_keep_snapshots() -> int:
    """``PREFECT_STORAGE_GIT_KEEP_SNAPSHOTS``: checked-out commits kept per repository (default 20)."""
    return int(env_number("PREFECT_STORAGE_GIT_KEEP_SNAPSHOTS", 20, integer=True, minimum=0))


def aws_secrets_prefix() -> str:
    """``PREFECT_STORAGE_AWS_SECRETS_PREFIX``: prefix added to names asked of AWS Secrets Manager."""
    return os.environ.get("PREFECT_STORAGE_AWS_SECRETS_PREFIX", "")


def aws_secrets_ttl() -> float:
    """``PREFECT_STORAGE_AWS_SECRETS_TTL``: seconds an AWS Secrets Manager answer is reused (default 60)."""
    return env_number("PREFECT_STORAGE_AWS_SECRETS_TTL", 60.0, minimum=0)


# -- agent runs, flow-of-flows and deployments ------------------------------------------


RUN_BROKER_ENV = "PREFECT_STORAGE_RUN_BROKER"
RUN_TOKEN_ENV = "PREFECT_STORAGE_RUN_TOKEN"


def run_broker() -> tuple[str | None, str | None]:
    """``PREFECT_STORAGE_RUN_BROKER`` / ``PREFECT_STORAGE_RUN_TOKEN``: the agent's run broker
    address and this run's token, set by the agent for each run (never inherited)."""
    return os.environ.get(RUN_BROKER_ENV) or None, os.environ.get(RUN_TOKEN_ENV) or None


def start_flow_run_poll() -> float:
    """``PREFECT_STORAGE_START_FLOW_RUN_POLL``: seconds between state checks while a parent waits for a child run (default 1)."""
    return env_number("PREFECT_STORAGE_START_FLOW_RUN_POLL", 1.0, minimum=0)


def fresh_workspace() -> bool:
    """``PREFECT_STORAGE_FRESH_WORKSPACE``: pull every deployment run into a new folder instead of the cached workspace."""
    return env_flag("PREFECT_STORAGE_FRESH_WORKSPACE", default=False)


def allow_install() -> bool:
    """``PREFECT_STORAGE_ALLOW_INSTALL``: deployment steps may pip-install their missing ``requires:``."""
    return env_flag("PREFECT_STORAGE_ALLOW_INSTALL", default=False)


def docker_base_image() -> str | None:
    """``PREFECT_STORAGE_DOCKER_BASE_IMAGE``: base image of auto-generated deployment Dockerfiles."""
    return os.environ.get("PREFECT_STORAGE_DOCKER_BASE_IMAGE") or None


def wheelhouse() -> str | None:
    """``PREFECT_STORAGE_WHEELHOUSE``: a folder of wheels that image builds install from, offline."""
    return os.environ.get("PREFECT_STORAGE_WHEELHOUSE") or None


def pull_attempts() -> int:
    """``PREFECT_STORAGE_PULL_ATTEMPTS``: attempts of a deployment pull step on transient errors (default 3)."""
    return int(env_number("PREFECT_STORAGE_PULL_ATTEMPTS", 3, integer=True, minimum=1))


def logging_level() -> str:
    """``PREFECT__LOGGING__LEVEL``: level of the ``prefect_storage`` loggers unless the
    application sets one (default ``INFO``, as classic)."""
    raw = (os.environ.get("PREFECT__LOGGING__LEVEL") or "INFO").strip().upper()
    if raw not in {"CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG"}:
        from prefect_storage.exceptions import StorageConfigError

        raise StorageConfigError(f"PREFECT__LOGGING__LEVEL={raw!r} is not a logging level; use DEBUG, INFO, WARNING or ERROR.")
    return raw
