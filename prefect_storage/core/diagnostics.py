"""``Flow.diagnostics()``: what a bug report needs, never a value of a setting or secret
(classic ``prefect.utilities.diagnostics``)."""

from __future__ import annotations

import json
import os
import platform
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from prefect_storage.core.flow import Flow

__all__ = ["diagnostic_info"]


def _presence(data: Any) -> Any:
    """Keys kept, values replaced by whether they are set."""
    if isinstance(data, dict):
        return {k: _presence(v) if v else False for k, v in data.items()}
    return True


def _config_overrides(include_secret_names: bool) -> dict[str, Any]:
    path = getattr(sys.modules.get("prefect_storage.configuration"), "USER_CONFIG", None)
    if not path or not os.path.isfile(str(path)):
        return {}
    try:
        import tomllib

        with open(path, "rb") as fh:
            user = tomllib.load(fh)
    except Exception:
        return {}

    def replace(data: Any) -> Any:
        if isinstance(data, dict):
            return {k: replace(v) if k != "secrets" or include_secret_names else False for k, v in data.items()}
        return True

    return replace(user)  # type: ignore[no-any-return]


def _described(obj: Any) -> Any:
    if not obj:
        return False
    return {"type": type(obj).__name__, **_presence(dict(vars(obj)) if hasattr(obj, "__dict__") else {})}


def diagnostic_info(flow: Flow | None = None, include_secret_names: bool = False) -> str:
    """JSON: system information, which config keys are overridden, which ``PREFECT__``
    variables are set (names only) and what the flow is made of (types and presence)."""
    from prefect_storage._version import __version__
    from prefect_storage.core.configuration import config

    info: dict[str, Any] = {
        "system_information": {
            "platform": platform.platform(),
            "python_version": platform.python_version(),
            "prefect_version": __version__,
            "prefect_backend": config.get("backend"),
        },
        "config_overrides": _config_overrides(include_secret_names),
        "env_vars": sorted(k for k in os.environ if k.startswith("PREFECT__")),
    }
    if flow is not None:
        info["flow_information"] = {
            "run_config": _described(flow.run_config),
            "storage": {"type": type(flow.storage).__name__, **_presence({k: v for k, v in vars(flow.storage).items() if not k.startswith("_")})} if flow.storage else False,
            "result": {"type": type(flow.result).__name__} if flow.result else False,
            "schedule": {"type": type(flow.schedule).__name__} if flow.schedule else False,
            "environment": False,
            "task_count": len(flow.tasks),
        }
    return json.dumps(info, sort_keys=True, indent=2, default=str)
