"""Import optional SDKs on first use, with an error that names the extra to install."""

from __future__ import annotations

import importlib
from types import ModuleType

from prefect_storage.exceptions import BackendNotInstalledError


def require(module: str, extra: str, purpose: str | None = None) -> ModuleType:
    """Import ``module`` or raise :class:`BackendNotInstalledError` naming ``extra``.

    >>> boto3 = require("boto3", extra="aws", purpose="S3 storage")  # doctest: +SKIP
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        what = f" for {purpose}" if purpose else ""
        raise BackendNotInstalledError(
            f"{module} is needed{what} but is not installed ({exc}). "
            f"Install it with: pip install 'prefect-storage[{extra}]'"
        ) from None
