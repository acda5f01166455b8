"""Settings read from the environment at the moment they are needed.

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


def home_dir() -> Path:
    """The folder that holds flows, results, the registry and local secrets."""
    engine = sys.modules.get("prefect_storage.core.configuration")  # classic set_temporary_config({"home_dir": ...})
    override = engine.config.get("home_dir") if engine is not None else None
    raw = override or os.environ.get("PREFECT_STORAGE_HOME") or os.environ.get("PREFECT__HOME_DIR") or "~/.prefect"
    return Path(raw).expanduser()


def ensure_home_dir() -> Path:
    """:func:`home_dir`, created private (``0700``) when it does not exist yet: it holds
    flow pickles (code), the registry and local secrets."""
    home = home_dir()
    if not home.is_dir():
        os.makedirs(home.parent, exist_ok=True)
        os.makedirs(home, mode=0o700, exist_ok=True)
    return home


def add_default_labels() -> bool:
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


def default_storage_class_path() -> str:
    return os.environ.get(
        "PREFECT__FLOWS__DEFAULTS__STORAGE__DEFAULT_CLASS", "prefect_storage.storage.Local"
    )


def __getattr__(name: str) -> object:
    # classic `prefect.config.flows.checkpointing` etc.: the engine's nested settings object
    if name.startswith("__"):
        raise AttributeError(name)
    from prefect_storage.core.configuration import config as engine_config

    try:
        return engine_config[name]
    except KeyError:
        raise AttributeError(f"module 'prefect_storage.config' has no attribute {name!r}") from None
