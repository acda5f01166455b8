"""Clear errors for classic ``prefect`` modules and names that prefect_storage does not provide.

After an import swap, ``from prefect_storage.tasks.snowflake import SnowflakeQuery``
should say that the Snowflake tasks are not part of prefect_storage, not just
"No module named ...". A finder at the END of ``sys.meta_path`` answers only for
``prefect_storage.*`` modules that no regular finder found and that classic Prefect
had; modules that exist but lack a classic name use :func:`missing_name` from their
module ``__getattr__``.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from types import ModuleType

TYPE_CHECKING = False
if TYPE_CHECKING:  # `import prefect_storage` installs the finder: keep it light
    from typing import Any

    from prefect_storage.exceptions import ClassicNotProvidedError

__all__ = ["IMPORTABLE_NOT_PROVIDED", "NOT_PROVIDED", "install", "missing_name", "not_provided_reason"]

_TASK_LIBRARY = "the classic task library integration"
_USE_SDK = "call the service's own Python SDK from a @task"

#: classic module path (below ``prefect``) -> what it was; every submodule is covered too.
NOT_PROVIDED: dict[str, str] = {
    **{
        f"tasks.{name}": f"{_TASK_LIBRARY} {name!r}"
        for name in (
            "airbyte airtable asana aws azure azureml census cubejs databricks dbt docker "
            "dremio dropbox exasol firebolt fivetran gcp github great_expectations gsheets hightouch "
            "jira jupyter kafka kubernetes mixpanel monday monte_carlo mysql neo4j postgres "
            "prometheus redis rss sendgrid sftp snowflake sodaspark sodasql spacy sql_server sqlite "
            "toloka transform trello twitter zendesk"
        ).split()
    },
    "client.client": "the Prefect Server/Cloud API client (`Client`)",
    "engine.cloud": "the Prefect Cloud flow and task runners",
    "utilities.aws": "the boto3 client helpers of the classic backend",
    "utilities.gcp": "the Google client helpers of the classic backend",
    "utilities.kubernetes": "the Kubernetes client helpers of the classic backend",
    "utilities.graphql": "the GraphQL helpers of the Prefect Server/Cloud API",
    "utilities.plugins": "the plugin registries of the Prefect Server/Cloud API",
    "utilities.backend": "the backend selection helpers of the classic CLI",
    "utilities.agent": "the classic agents' helpers",
    "utilities.diagnostics": "the classic `prefect diagnostics` command",
    "utilities.cli": "the classic command line helpers",
    "agent.kubernetes": "the classic Kubernetes agent",
    "agent.ecs": "the classic ECS agent",
    "agent.vertex": "the classic Vertex agent",
    "agent.docker": "the classic Docker agent (use `prefect-storage agent docker`)",
    "hello_world": "the classic hello-world example flow",
    **{
        f"utilities.{name}": "an internal helper module of the classic engine"
        for name in "compatibility datetimes executors filesystems git importtools storage".split()
    },
    **{
        f"serialization.{name}": "the classic marshmallow schemas (use each object's serialize())"
        for name in "edge result storage".split()
    },
    "agent.agent": "the classic agent base class (use `prefect-storage agent local`)",
    "cli.agent.kubernetes": "the classic `prefect agent kubernetes` command",
}

#: names that import (so that a script that only imports them runs) but refuse to be used:
#: ``prefect_storage.<path>`` -> what it was; the migration report still lists them.
IMPORTABLE_NOT_PROVIDED: dict[str, str] = {
    "Client": "the Prefect Server/Cloud API client",
    "client.Client": "the Prefect Server/Cloud API client",
}

#: what to do instead, per module prefix (the longest match wins)
_ADVICE: dict[str, str] = {
    "tasks.": _USE_SDK,
    "client": "use prefect_storage.client.Secret for secrets and the prefect-storage registry for runs",
    "Client": "use prefect_storage.client.Secret for secrets and the prefect-storage registry for runs",
    "agent.": "use the `prefect-storage agent local` or `agent docker` commands",
}


def _suffix(fullname: str) -> str | None:
    return fullname.split(".", 1)[1] if fullname.startswith("prefect_storage.") else None


def not_provided_reason(fullname: str) -> str | None:
    """What ``prefect_storage.<x>`` was in classic Prefect, when it is a module we do not provide."""
    suffix = _suffix(fullname)
    if suffix is None:
        return None
    parts = suffix.split(".")
    for i in range(len(parts), 0, -1):
        key = ".".join(parts[:i])
        if key in NOT_PROVIDED:
            return NOT_PROVIDED[key]
    return None


def _advice(suffix: str) -> str:
    best = max((p for p in _ADVICE if suffix.startswith(p)), key=len, default=None)
    return f" Instead, {_ADVICE[best]}." if best else ""


def _module_error(fullname: str, reason: str) -> ClassicNotProvidedError:
    from prefect_storage.exceptions import ClassicNotProvidedError

    err = ClassicNotProvidedError(
        f"{fullname} ({_classic(fullname)}: {reason}) is not provided by prefect_storage.{_advice(_suffix(fullname) or '')} "
        "See docs/migrating.md for what is provided."
    )
    err.name = fullname
    return err


def _classic(module: str) -> str:
    return "prefect" + module[len("prefect_storage") :] if module.startswith("prefect_storage") else module


def missing_name(module: str, name: str, what: str | None = None) -> ClassicNotProvidedError:
    """The error a module ``__getattr__`` raises for a classic name it does not provide."""
    from prefect_storage.exceptions import ClassicNotProvidedError

    suffix = _suffix(module) or ""
    detail = f" ({what})" if what else ""
    err = ClassicNotProvidedError(
        f"{module}.{name} (classic {_classic(module)}.{name}{detail}) is not provided by prefect_storage."
        f"{_advice(f'{suffix}.{name}' if suffix else name)} See docs/migrating.md for what is provided."
    )
    err.name = module
    return err


class _NotProvidedFinder:  # a meta path finder by protocol (importlib.abc is slow to import)
    """Consulted last: turns a failed import of a known classic module into a clear error."""

    def find_spec(self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None) -> Any:
        reason = not_provided_reason(fullname)
        if reason is None:
            return None
        raise _module_error(fullname, reason)


_FINDER = _NotProvidedFinder()


def install() -> None:
    """Append the finder to ``sys.meta_path`` once (idempotent)."""
    if not any(isinstance(f, _NotProvidedFinder) for f in sys.meta_path):
        sys.meta_path.append(_FINDER)
