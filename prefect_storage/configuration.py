"""Classic ``prefect.configuration`` (implemented in :mod:`prefect_storage.core.configuration`).

``prefect_storage.config.flows.checkpointing`` reads the same object; environment settings
are described in :mod:`prefect_storage.config`.
"""

from prefect_storage.core.configuration import Config, config, process_task_defaults, set_temporary_config

#: the classic user config file path (``~/.prefect/config.toml``); only diagnostics read it
USER_CONFIG = "~/.prefect/config.toml"
ENV_VAR_PREFIX = "PREFECT"

__all__ = ["ENV_VAR_PREFIX", "USER_CONFIG", "Config", "config", "process_task_defaults", "set_temporary_config"]
