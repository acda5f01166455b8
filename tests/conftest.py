"""Shared test setup.

* Every test gets its own ``PREFECT_STORAGE_HOME`` (and so its own flows folder,
  results, cache and registry), and no stray classic settings from the machine.
* Service fixtures live in ``tests/services/``; every module there is loaded as a
  plugin, so a new backend adds its fixture module and nothing else.
* ``require_service`` turns a missing service into a skip with the reason printed,
  except under ``CI=true``, where it is a failure: CI can never pass by skipping.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# Service modules import one another; registering the package first lets pytest
# rewrite their asserts whichever is imported first.
pytest.register_assert_rewrite("tests.services")
_SERVICES = Path(__file__).parent / "services"
pytest_plugins = sorted(
    f"tests.services.{p.stem}" for p in _SERVICES.glob("*.py") if p.stem != "__init__" and not p.stem.startswith("_")
)


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("PREFECT_STORAGE_HOME", str(home))
    for name in list(os.environ):
        if name.startswith(("PREFECT__CONTEXT__SECRETS__", "PREFECT_STORAGE_SIGNING", "PREFECT_STORAGE_REQUIRE")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("GIT_TERMINAL_PROMPT", "0")
    return home


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """The CLI configures the ``prefect_storage`` logger (level, handler); undo that after
    each test so that one test's logging setup cannot hide another's records."""
    logger = logging.getLogger("prefect_storage")
    saved = (logger.level, list(logger.handlers), logger.propagate)
    yield
    logger.setLevel(saved[0])
    logger.handlers[:] = saved[1]
    logger.propagate = saved[2]


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def require_service(available: bool, reason: str) -> None:
    """Skip (locally) or fail (in CI) when a service the test needs is missing."""
    if available:
        return
    if in_ci():
        pytest.fail(f"required service missing in CI: {reason}", pytrace=False)
    pytest.skip(reason)


def import_or_skip(module: str) -> Any:
    """``pytest.importorskip`` that fails under ``CI=true``: a missing client library in CI
    is a broken environment, not a reason to skip."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        if in_ci():
            pytest.fail(f"required module {module!r} missing in CI: {exc}", pytrace=False)
        pytest.skip(f"could not import {module!r}: {exc}")
