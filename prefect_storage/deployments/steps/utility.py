"""Utility steps, usable in ``build``, ``push`` and ``pull``: shell commands and pip."""

from __future__ import annotations

import logging
import os
import shlex
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from prefect_storage.secrets import redact

logger = logging.getLogger("prefect_storage.deployments.steps")

__all__ = ["pip_install_requirements", "run_shell_script"]


def _run(argv: list[str] | str, cwd: str | None, env: Mapping[str, str], stream_output: bool, shell: bool) -> tuple[int, str, str]:
    proc = subprocess.run(argv, cwd=cwd, env=dict(env), capture_output=True, text=True, shell=shell)
    if stream_output:
        for line in proc.stdout.splitlines():
            logger.info("%s", redact(line))
        for line in proc.stderr.splitlines():
            logger.info("%s", redact(line))
    return proc.returncode, proc.stdout, proc.stderr


def run_shell_script(
    script: str,
    directory: str | None = None,
    env: Mapping[str, str] | None = None,
    stream_output: bool = True,
    expand_env_vars: bool = False,
    shell: bool = False,
) -> dict[str, str]:
    """Run each line of ``script`` in ``directory`` (default: the cwd) with ``env``
    added to the environment; ``expand_env_vars`` expands ``$VAR`` in the lines;
    ``shell`` runs them through ``/bin/sh``. A failing line raises ``RuntimeError``
    with its (redacted) stderr. Returns ``{"stdout", "stderr"}``, stripped."""
    full_env = {**os.environ, **{k: str(v) for k, v in (env or {}).items()}}
    stdout_parts: list[str] = []
    stderr_parts: list[str] = []
    for raw in script.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if expand_env_vars:
            saved = dict(os.environ)
            os.environ.update(full_env)
            try:
                line = os.path.expandvars(line)
            finally:
                os.environ.clear()
                os.environ.update(saved)
        argv: list[str] | str = line if shell else shlex.split(line)
        code, out, err = _run(argv, directory, full_env, stream_output, shell)
        stdout_parts.append(out.strip())
        stderr_parts.append(err.strip())
        if code != 0:
            raise RuntimeError(f"`{redact(line)}` exited with code {code}: {redact(err.strip())[-1000:]}")
    return {
        "stdout": "\n".join(p for p in stdout_parts if p),
        "stderr": "\n".join(p for p in stderr_parts if p),
    }


def pip_install_requirements(
    directory: str | None = None, requirements_file: str = "requirements.txt", stream_output: bool = True
) -> dict[str, str]:
    """``python -m pip install -r <directory>/<requirements_file>`` with the running
    interpreter. Returns ``{"stdout", "stderr"}``; a failure raises ``RuntimeError``."""
    path = Path(directory or ".") / requirements_file
    if not path.is_file():
        raise FileNotFoundError(f"pip_install_requirements: {path.resolve()} does not exist.")
    code, out, err = _run(
        [sys.executable, "-m", "pip", "install", "-r", str(path)], directory, os.environ, stream_output, False
    )
    if code != 0:
        raise RuntimeError(f"pip install -r {path} failed: {redact(err.strip())[-1000:]}")
    return {"stdout": out.strip(), "stderr": err.strip()}
