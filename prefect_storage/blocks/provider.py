"""``Secret`` blocks as a provider in the secret chain (:mod:`prefect_storage.secrets`).

``$GITHUB_TOKEN`` / ``${GITHUB_TOKEN}`` (and ``storage.secrets`` names) are looked up
in the environment and the other places first; when none has the name, a ``Secret``
block named ``GITHUB_TOKEN`` or, block-name style, ``github-token`` answers.

Registered by :func:`install_provider` when ``prefect_storage.blocks`` is imported, or
in any process with ``PREFECT_STORAGE_SECRET_PROVIDERS=blocks`` (the secret chain
imports this module by name; it never imports ``blocks`` itself).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from prefect_storage import config
from prefect_storage.exceptions import BlockNotFoundError
from prefect_storage.secrets import SecretProvider, add_secret_provider

__all__ = ["BlockSecretProvider", "install_provider"]


def _candidates(name: str) -> list[str]:
    normalised = re.sub(r"[^a-z0-9-]+", "-", name.lower()).strip("-")
    return [n for n in dict.fromkeys([name, normalised]) if re.match(r"^[a-z0-9][a-z0-9-]*$", n)]


class BlockSecretProvider:
    """Looks a name up among the saved ``Secret`` blocks."""

    description = "Secret blocks in the registry"

    def get(self, name: str) -> str | None:
        candidates = _candidates(name)
        if not candidates or not _registry_exists():
            return None
        from prefect_storage.blocks.system import Secret

        for candidate in candidates:
            try:
                value: Any = Secret.load(candidate).get()
            except BlockNotFoundError:
                continue
            if isinstance(value, str):
                return value
            import json

            return json.dumps(value)
        return None


def _registry_exists() -> bool:
    """False for a default SQLite registry that was never created (a lookup must not create it)."""
    from prefect_storage.registry.engine import registry_url

    url = registry_url()
    if url.startswith("sqlite:///"):
        return Path(url[len("sqlite:///"):]).exists()
    return True


_installed: list[SecretProvider] = []


def install_provider() -> None:
    """Append the block provider to this process's secret chain (once)."""
    if _installed or "blocks" in config.secret_providers():
        return
    provider = BlockSecretProvider()
    add_secret_provider(provider)
    _installed.append(provider)
