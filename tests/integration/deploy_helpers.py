"""Helpers for the deployment tests: run scripts and the CLI against one registry, run
an agent for a work pool, read a run's outcome and logs."""

from __future__ import annotations

import os
import textwrap
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from prefect_storage.agent.local import LocalAgent
from prefect_storage.registry import Registry

ROOT = Path(__file__).resolve().parents[2]

# The flow the reference page's examples deploy (my_file.py:my_flow, gh_no_block.py:my_flow...).
MY_FLOW = '''
from prefect_storage import flow

@flow(log_prints=True)
def my_flow(name: str = "World"):
    print(f"Hello {name}! from " + __file__.rsplit("/", 2)[-2])
    return name
'''


def env_for(registry_url: str, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {**os.environ, "PREFECT_STORAGE_REGISTRY_URL": registry_url, **(extra or {})}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH", "")]))
    return env


def run_script(path: Path, registry_url: str, extra_env: Mapping[str, str] | None = None, timeout: float = 120) -> str:
    """Run ``path`` as ``__main__`` (the reference page's ``if __name__ == "__main__":`` deploy
    scripts) in this process, from its folder, against ``registry_url``; return its output."""
    import contextlib
    import io
    import runpy

    out = io.StringIO()
    saved = {k: os.environ.get(k) for k in ("PREFECT_STORAGE_REGISTRY_URL", *(extra_env or {}))}
    os.environ.update({"PREFECT_STORAGE_REGISTRY_URL": registry_url, **(extra_env or {})})
    try:
        with contextlib.chdir(path.parent), contextlib.redirect_stdout(out):
            runpy.run_path(str(path), run_name="__main__")
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return out.getvalue()


def cli(registry_url: str, *args: str, cwd: Path | None = None, extra_env: Mapping[str, str] | None = None,
        check: bool = True, timeout: float = 120) -> Any:
    """``prefect-storage --registry URL ARGS`` in this process (click's runner), in ``cwd``;
    the result has ``returncode``, ``stdout`` and ``stderr`` like a subprocess's."""
    import contextlib
    import types

    from click.testing import CliRunner

    from prefect_storage.cli import cli as command

    runner = CliRunner()
    with contextlib.chdir(cwd or os.getcwd()):
        result = runner.invoke(command, ["--registry", registry_url, *args], env=dict(extra_env or {}), catch_exceptions=False)
    done = types.SimpleNamespace(returncode=result.exit_code, stdout=result.stdout, stderr=result.stderr)
    if check:
        assert done.returncode == 0, done.stdout + done.stderr
    return done


def write(folder: Path, files: Mapping[str, str]) -> Path:
    for rel, text in files.items():
        target = folder / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(text))
    return folder


def run_deployment(registry_url: str, name: str, pool: str | None, parameters: dict[str, Any] | None = None,
                   launcher: Any = None, env: Mapping[str, str] | None = None) -> tuple[Any, str]:
    """Schedule a run of deployment ``name``, run an agent for ``pool`` once; return (run, logs)."""
    from prefect_storage.registry.deployments import create_deployment_run

    with Registry(registry_url) as registry:
        run = create_deployment_run(registry, name, parameters)
        agent = LocalAgent(
            registry, labels=[f"pool:{pool}"] if pool else [], hostname_label=False, poll_interval=0.1,
            launcher=launcher, env=dict(env or {}), timeout=180,
        )
        agent.start(once=True)
        run = registry.get_flow_run(run.id)
        logs = "\n".join(entry.message for entry in registry.get_logs(run.id))
    return run, logs
