"""Separate virtual environments holding the baselines that benchmarks compare against.

``ensure_venv(name, requirements)`` returns the ``python`` of a venv cached under
``~/.cache/prefect-storage-bench/<name>``, creating it (``python3 -m venv`` + pip) when it
is missing or was created with other requirements. Two baselines are predefined:

* ``prefect1``: Prefect 1.4.1 with the marshmallow pins it needs, plus dask/distributed;
* ``prefect3``: Prefect 3.9.1 with s3fs (falls back to ``--no-deps`` + its requirements
  when the resolver refuses one of its pins).

``python -m benchmarks.baseline_envs [prefect1 prefect3 ...]`` creates them ahead of time.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

CACHE = Path(os.environ.get("PREFECT_STORAGE_BENCH_CACHE", Path.home() / ".cache" / "prefect-storage-bench"))

PREFECT1 = ["prefect==1.4.1", "marshmallow<4", "marshmallow-oneofschema<3.2", "dask", "distributed"]
PREFECT3 = ["prefect==3.9.1", "s3fs"]
BASELINES: dict[str, list[str]] = {"prefect1": PREFECT1, "prefect3": PREFECT3}

_MARKER = ".requirements.json"


class BaselineEnvError(RuntimeError):
    """A baseline environment could not be created (pip's output is in the message)."""


def _python(venv: Path) -> Path:
    return venv / "bin" / "python"


def _pip(python: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(python), "-m", "pip", "install", "--disable-pip-version-check", "-q", *args],
        capture_output=True,
        text=True,
    )


def _install(python: Path, requirements: Sequence[str]) -> None:
    done = _pip(python, *requirements)
    if done.returncode == 0:
        return
    # A resolver conflict (e.g. an exact certifi pin) on the first requirement: install it
    # without its dependencies, then its declared requirements, then the rest.
    first, rest = requirements[0], list(requirements[1:])
    nodeps = _pip(python, "--no-deps", first)
    if nodeps.returncode != 0:
        raise BaselineEnvError(f"pip could not install {list(requirements)}:\n{done.stderr[-4000:]}")
    dist = first.split("==")[0].split("<")[0].split(">")[0].strip()
    reqs = subprocess.run(
        [
            str(python),
            "-c",
            "import sys, importlib.metadata as m; "
            "print('\\n'.join(r.split(';')[0].strip() for r in (m.requires(sys.argv[1]) or []) if 'extra ==' not in r))",
            dist,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    # Loosen exact pins (the cause of the conflict) to lower bounds.
    loose = [r.replace("==", ">=") for r in reqs if r]
    again = _pip(python, *loose, *rest)
    if again.returncode != 0:
        raise BaselineEnvError(f"pip could not install the requirements of {first}:\n{again.stderr[-4000:]}")


def ensure_venv(name: str, requirements: Sequence[str] | None = None) -> Path:
    """Return the python of the cached venv ``name`` holding ``requirements`` (create it if needed).

    ``requirements`` defaults to the predefined baseline of that name. Safe to call from
    several processes at once (a file lock serializes creation).
    """
    if requirements is None:
        if name not in BASELINES:
            raise BaselineEnvError(f"unknown baseline {name!r}: pass requirements or use one of {sorted(BASELINES)}")
        requirements = BASELINES[name]
    requirements = list(requirements)
    venv = CACHE / name
    python = _python(venv)
    wanted = json.dumps(requirements)
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        marker = venv / _MARKER
        if python.exists() and marker.exists() and marker.read_text() == wanted:
            return python
        if venv.exists():
            shutil.rmtree(venv)
        subprocess.run([_base_python(), "-m", "venv", str(venv)], check=True)
        try:
            _install(python, requirements)
        except BaselineEnvError:
            shutil.rmtree(venv, ignore_errors=True)
            raise
        marker.write_text(wanted)
    return python


def _base_python() -> str:
    # python3 from PATH (as the team agreed); fall back to the interpreter running us.
    return shutil.which("python3") or sys.executable


def fingerprint(name: str) -> str:
    """A short hash of a baseline's requirements (for benchmark output)."""
    return hashlib.sha256(json.dumps(BASELINES[name]).encode()).hexdigest()[:8]


def main(argv: list[str]) -> int:
    for name in argv or sorted(BASELINES):
        print(f"{name}: {ensure_venv(name)}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
