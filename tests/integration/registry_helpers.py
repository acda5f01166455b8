"""Small flow scripts for the registry, agent and CLI tests: script storage, so a child
process (the agent's run) loads them from disk with nothing else installed."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from prefect_storage.core.flow import Flow
from prefect_storage.serialization import extract_flow_from_file

ROOT = Path(__file__).resolve().parents[2]

TEMPLATE = '''
from prefect_storage import Flow, Parameter, context, task
from prefect_storage.storage import Local

{body}

with Flow({name!r}, storage=Local(path=__file__, stored_as_script=True, add_default_labels=False,
                                  labels={labels!r}, secrets={secrets!r})) as flow:
    {wiring}
'''

TRIVIAL = '''
@task
def one():
    return 1
'''


def write_flow(
    folder: Path,
    name: str,
    body: str = TRIVIAL,
    wiring: str = "one()",
    labels: list[str] | None = None,
    secrets: list[str] | None = None,
    filename: str | None = None,
) -> Path:
    path = folder / (filename or f"{name.replace(' ', '_').replace('-', '_')}.py")
    path.write_text(
        TEMPLATE.format(body=textwrap.dedent(body), name=name, labels=labels or [], secrets=secrets or [], wiring=wiring)
    )
    return path


def load_flow(path: Path) -> Flow:
    return extract_flow_from_file(file_path=str(path))


def cli_process(registry_url: str, *args: str, timeout: float = 120, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run ``prefect-storage`` as a separate process (agents racing each other need real processes)."""
    return subprocess.run(
        [sys.executable, "-m", "prefect_storage.cli", "--registry", registry_url, *args],
        capture_output=True, text=True, timeout=timeout, cwd=ROOT, env=env, check=False,
    )


def as_json(output: str) -> object:
    return json.loads(output)
