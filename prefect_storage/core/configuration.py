"""The engine's settings as a classic nested ``config`` object (``prefect.config``).

    from prefect_storage.core.configuration import config, set_temporary_config

    config.flows.eager_edge_validation            # False
    with set_temporary_config({"tasks.defaults.max_retries": 2, ...}):
        ...

Values left at ``None`` fall back to the environment (``PREFECT__FLOWS__CHECKPOINTING``
and friends, read when needed; see :mod:`prefect_storage.config`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping

# `import prefect_storage` loads this module (classic code reads `prefect.context.config`
# at once), so it imports neither typing nor copy nor datetime until they are needed.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["Config", "config", "process_task_defaults", "set_temporary_config", "setting"]


class Config(dict):  # type: ignore[type-arg]
    """A dict with attribute access; nested dicts are ``Config`` too."""

    def __getattr__(self, key: str) -> Any:
        try:
            return self[key]
        except KeyError:
            raise AttributeError(f"Config has no key {key!r}") from None

    def __setattr__(self, key: str, value: Any) -> None:
        self[key] = value

    def __delattr__(self, key: str) -> None:
        try:
            del self[key]
        except KeyError:
            raise AttributeError(f"Config has no key {key!r}") from None

    def __setitem__(self, key: str, value: Any) -> None:
        if isinstance(value, Mapping) and not isinstance(value, Config):
            value = Config(value)
        super().__setitem__(key, value)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()
        for key, value in dict(*args, **kwargs).items():
            self[key] = value

    def set_nested(self, dotted: str, value: Any) -> None:
        node = self
        *parents, last = dotted.split(".")
        for part in parents:
            if not isinstance(node.get(part), Config):
                node[part] = Config()
            node = node[part]
        node[last] = value

    def get_nested(self, dotted: str, default: Any = None) -> Any:
        node: Any = self
        for part in dotted.split("."):
            if not isinstance(node, Mapping) or part not in node:
                return default
            node = node[part]
        return node

    def to_dict(self) -> dict[str, Any]:
        return {k: v.to_dict() if isinstance(v, Config) else v for k, v in self.items()}

    def copy(self) -> Config:
        import copy

        return copy.deepcopy(self)


def _defaults() -> Config:
    return Config(
        {
            "debug": False,
            "flows": {
                "eager_edge_validation": False,
                "run_on_schedule": None,
                "checkpointing": None,
                # None: the environment decides (see prefect_storage.config)
                "defaults": {"storage": {"add_default_labels": None, "default_class": None}},
            },
            "tasks": {"defaults": {"max_retries": 0, "retry_delay": None, "timeout": None}},
            "engine": {
                "executor": {
                    "default_class": None,  # None here: the environment decides, else LocalExecutor
                    "dask": {"address": "", "cluster_class": "distributed.deploy.local.LocalCluster"},
                },
                "flow_runner": {"default_class": None},  # else FlowRunner
                "task_runner": {"default_class": None},  # else TaskRunner
            },
            "logging": {
                "level": "INFO",
                "format": "[%(asctime)s] %(levelname)s - %(name)s | %(message)s",
                "datefmt": "%Y-%m-%d %H:%M:%S%z",
            },
            "context": {"secrets": {}},
            "backend": "local",
        }
    )


def process_task_defaults(cfg: Config) -> Config:
    """Normalise ``tasks.defaults``: false-y retries -> 0, false-y delay/timeout ->
    ``None``, seconds -> ``timedelta`` for ``retry_delay``."""
    defaults = cfg.setdefault("tasks", Config()).setdefault("defaults", Config())
    defaults["max_retries"] = defaults.get("max_retries") or 0
    delay = defaults.get("retry_delay") or None
    if isinstance(delay, (int, float)) and not isinstance(delay, bool):
        import datetime

        delay = datetime.timedelta(seconds=delay)
    defaults["retry_delay"] = delay
    defaults["timeout"] = defaults.get("timeout") or None
    return cfg


config: Config = process_task_defaults(_defaults())


def _publish() -> None:
    # classic: `context.config` is the configuration, from the start of the process
    from prefect_storage.context import _GLOBAL

    _GLOBAL.setdefault("config", config)


_publish()


def setting(dotted: str) -> Any:
    """A setting: the config value, or (when ``None``) the environment's."""
    value = config.get_nested(dotted)
    if value is not None:
        return value
    from prefect_storage import config as env

    if dotted == "flows.checkpointing":
        return env.checkpointing()
    if dotted == "flows.run_on_schedule":
        return env.env_flag("PREFECT__FLOWS__RUN_ON_SCHEDULE", default=True)
    if dotted == "flows.eager_edge_validation":
        return env.env_flag("PREFECT__FLOWS__EAGER_EDGE_VALIDATION", default=False)
    return None


@contextlib.contextmanager
def set_temporary_config(temp_config: Mapping[str, Any]) -> Iterator[Config]:
    """Set dotted keys (``{"flows.checkpointing": True}``) for the block, then restore."""
    global config
    import copy

    saved = copy.deepcopy(config)
    try:
        for key, value in temp_config.items():
            config.set_nested(key, value)
        # classic: the context gets a copy of the new config for the block
        from prefect_storage.context import context

        with context(config=config):
            yield config
    finally:
        config.clear()
        config.update(saved)
