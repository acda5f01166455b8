"""``EnvVarSecret``: a secret read from an environment variable (classic ``prefect.tasks.secrets.env_var``)."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from prefect_storage.secrets import remember_secret
from prefect_storage.tasks.secrets.base import SecretBase

__all__ = ["EnvVarSecret"]


class EnvVarSecret(SecretBase):
    """Return the environment variable ``name``, optionally passed through ``cast``.

    A missing variable gives ``None``, or ``ValueError`` with ``raise_if_missing=True``.
    The value is remembered for redaction, so it never shows in logs or errors.
    """

    def __init__(
        self,
        name: str | None = None,
        cast: Callable[[Any], Any] | None = None,
        raise_if_missing: bool = False,
        **kwargs: Any,
    ) -> None:
        self.secret_name = name
        self.cast = cast
        self.raise_if_missing = raise_if_missing
        super().__init__(name=name, **kwargs)

    def run(self, name: str | None = None) -> Any:
        """The (cast) value of environment variable ``name`` (default: the constructor's)."""
        name = name if name is not None else self.secret_name
        if name is None:
            raise ValueError("A secret name must be provided.")
        if self.raise_if_missing and name not in os.environ:
            raise ValueError(f"Environment variable not set: {name}")
        value: Any = os.environ.get(name)
        if value is not None:
            remember_secret(value)
            if self.cast is not None:
                value = self.cast(value)
        return value
