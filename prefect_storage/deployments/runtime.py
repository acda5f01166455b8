"""Run one deployment run in this process: pull steps, entrypoint, flow.

This is what an agent's child process (or container) does for a run whose storage
is a ``{"type": "Deployment"}`` document (see
:mod:`prefect_storage.registry.deployments`):

1. pick the workspace: ``<home>/workspaces/<deployment id>/<hash of the pull steps>``,
   reused between runs so the runner storages pull only what changed (a repeat run
   of an unchanged git repository fetches nothing); a fresh temporary folder with
   ``PREFECT_STORAGE_FRESH_WORKSPACE=true``. A file lock keeps two runs of the same
   deployment from pulling into it at once;
2. run the pull steps there, rendering ``{{ ... }}`` placeholders now (secrets are
   remembered for redaction, never written anywhere);
3. ``chdir`` to the last ``directory`` a step returned and load the entrypoint;
4. run the flow with the deployment's default parameters overridden by the run's.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

logger = logging.getLogger("prefect_storage.deployments")

__all__ = ["prepare_workspace", "run_deployment_spec", "workspace_for"]


def workspace_for(storage: Mapping[str, Any]) -> Path:
    """The cached workspace folder of a deployment's pull steps."""
    from prefect_storage import config

    steps = json.dumps(storage.get("pull_steps") or [], sort_keys=True)
    digest = hashlib.sha256(steps.encode()).hexdigest()[:16]
    return config.home_path() / "workspaces" / str(storage.get("deployment_id") or "adhoc") / digest


def _fresh() -> bool:
    from prefect_storage import config

    return config.fresh_workspace()


@contextlib.contextmanager
def _workspace(storage: Mapping[str, Any]) -> Iterator[Path]:
    if _fresh():
        folder = Path(tempfile.mkdtemp(prefix="prefect-storage-run-"))
        try:
            yield folder
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return
    folder = workspace_for(storage)
    folder.mkdir(parents=True, exist_ok=True)
    with _locked(str(folder) + ".lock"):
        yield folder


@contextlib.contextmanager
def _locked(path: str) -> Iterator[None]:
    """An exclusive lock between processes (fcntl where it exists: cheaper to import than filelock)."""
    try:
        import fcntl
    except ImportError:  # Windows
        from filelock import FileLock

        with FileLock(path):
            yield
        return
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def prepare_workspace(pull_steps: list[Mapping[str, Any]], workspace: Path) -> Path:
    """Run ``pull_steps`` in ``workspace``; return the folder to load the entrypoint
    from (the last ``directory`` output, else the workspace). Leaves the cwd there."""
    from prefect_storage.deployments.steps import pull
    from prefect_storage.deployments.steps.core import run_step

    os.chdir(workspace)
    directory = Path(workspace)
    outputs: dict[str, Any] = {}
    with pull.pull_context():
        for step in pull_steps:
            result = run_step(step, outputs)
            if isinstance(result, Mapping) and result.get("directory"):
                directory = (Path.cwd() / str(result["directory"])).resolve()
    os.chdir(directory)
    return directory


def run_deployment_spec(spec: Mapping[str, Any]) -> dict[str, Any]:
    """Pull, load and run; return the outcome dict of :mod:`prefect_storage.agent.execute`
    (never raises for a step, load or flow failure)."""
    from prefect_storage.core.context import context
    from prefect_storage.core.modern_flow import to_modern_flow
    from prefect_storage.exceptions import EntrypointError, StepError
    from prefect_storage.serialization.entrypoint import load_entrypoint

    storage = spec["storage"]
    name = storage.get("deployment_name") or storage.get("flow_name")
    parameters = {**(storage.get("parameters") or {}), **(spec.get("parameters") or {})}
    started = time.perf_counter()
    origin = os.getcwd()
    try:
        with _workspace(storage) as workspace:
            try:
                directory = prepare_workspace(list(storage.get("pull_steps") or []), workspace)
            except StepError as exc:
                return _failed(f"Deployment {name!r}: pulling its code failed: {exc}")
            logger.info("Deployment %s: code ready in %s (%.2fs)", name, directory, time.perf_counter() - started)
            try:
                obj = load_entrypoint(storage["entrypoint"], directory)
                flow = to_modern_flow(obj, storage["entrypoint"])
            except EntrypointError as exc:
                return _failed(f"Deployment {name!r}: {exc}")
        with context(flow_run_id=spec.get("flow_run_id"), deployment_name=name):
            try:
                state = flow(return_state=True, **parameters)
            except TypeError as exc:  # bad parameters for the flow's signature
                return _failed(f"Deployment {name!r}: {exc}")
    finally:
        with contextlib.suppress(OSError):
            os.chdir(origin)
    if state.is_successful():
        return {"state": "Success", "message": f"Flow {flow.name!r} of deployment {name!r} finished.", "tasks": []}
    logger.error("%s", state.message)
    return _failed(state.message or f"Flow {flow.name!r} failed.")


def _failed(message: str) -> dict[str, Any]:
    return {"state": "Failed", "message": message, "tasks": []}
