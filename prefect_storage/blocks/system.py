"""System blocks: ``Secret``, ``String``, ``JSON`` (``prefect.blocks.system``)."""

from __future__ import annotations

import json
from typing import Any

from prefect_storage.blocks.core import Block, Field, SecretStr

__all__ = ["JSON", "Secret", "String"]


class Secret(Block):
    """A secret value (a string, or any JSON value), encrypted at rest and never printed.

    Example::

        Secret(value="sk-...").save("my-api-key", overwrite=True)
        Secret.load("my-api-key").get()
    """

    _block_type_slug = "secret"
    _fields = {"value": Field(secret=True, required=True, description="The secret value.")}
    value: SecretStr

    def get(self) -> Any:
        """The secret value (a JSON string is decoded, as Prefect does)."""
        value = self.value.get_secret_value()
        if isinstance(value, str):
            try:
                return json.loads(value)
            except (json.JSONDecodeError, TypeError):
                return value
        return value


class String(Block):
    """A string value (not secret): ``String.load("x").value``."""

    _block_type_slug = "string"
    _fields = {"value": Field(required=True, description="A string.")}
    value: str


class JSON(Block):
    """Any JSON value (not secret): ``JSON.load("x").value``."""

    _block_type_slug = "json"
    _fields = {"value": Field(required=True, description="Any JSON value.")}
    value: Any
