"""Classic ``prefect.utilities.configuration``: ``set_temporary_config``.

prefect_storage reads its settings from ``PREFECT__SECTION__KEY`` environment variables
at the moment of use (:mod:`prefect_storage.config`), so a temporary setting is a
temporary variable: ``{"flows.checkpointing": True}`` sets ``PREFECT__FLOWS__CHECKPOINTING``.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping
from typing import Any

from prefect_storage.utilities.collections import DotDict, flatdict_to_dict

__all__ = ["set_temporary_config"]


def _env_name(key: str) -> str:
    return "PREFECT__" + "__".join(part.upper() for part in key.split("."))


def _env_value(value: Any) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


@contextlib.contextmanager
def set_temporary_config(temp_config: Mapping[str, Any]) -> Iterator[DotDict]:
    """Set (``.``-delimited) configuration keys for the duration of the block.

    Yields the temporary settings as a nested :class:`DotDict`; the previous
    environment is restored on exit, even after an error.
    """
    saved = {name: os.environ.get(name) for name in map(_env_name, temp_config)}
    try:
        for key, value in temp_config.items():
            os.environ[_env_name(key)] = _env_value(value)
        yield flatdict_to_dict({tuple(k.split(".")): v for k, v in temp_config.items()}, DotDict)
    finally:
        for name, old in saved.items():
            if old is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = old
