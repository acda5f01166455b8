"""Run one flow run in this process: what an agent starts in a child process or container.

The contract between an agent (any launcher: a local child process, a Docker
container, ...) and this module is plain JSON, so it crosses any boundary:

* **in** — a *run spec* on standard input::

      {"flow_run_id": "…", "flow_name": "etl", "storage": {<storage.serialize()>},
       "parameters": {"n": 3}, "checkpoint": true}

  Secret values never travel in the spec: the launcher passes each name the
  storage lists in ``storage.secrets`` as ``PREFECT__CONTEXT__SECRETS__<NAME>`` in
  the environment, where the secret chain finds it.
* **out** — one line on standard output, ``OUTCOME_MARKER`` followed by JSON::

      {"state": "Success" | "Failed", "message": "…",
       "tasks": [{"name": "…", "slug": "…", "state": "Success", "message": "…", "location": null}]}

  Everything else (the flow's logs) goes to standard error, redacted.

The exit code is 0 whenever an outcome was written, even for a failed run; any
other exit means the process crashed and the launcher reports that instead.

Run it as ``python -m prefect_storage.agent.execute < spec.json``.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Mapping
from typing import Any, TextIO

OUTCOME_MARKER = "@@prefect-storage-outcome@@ "

# Substrings of load errors -> what the operator should do about them.
_LOAD_HINTS = (
    ("No module named", "install the missing module where the agent runs the flow"),
    ("Python", "run the agent with the Python version the flow was registered with, or store the flow as a script"),
    ("was not found; looked in", "provide the secret to the agent (environment, secrets file or secret provider)"),
    ("not found", "check that the flow still exists at its storage location, or re-register it"),
    ("Could not connect", "check that the storage service is reachable from the agent"),
    ("altered", "the stored flow changed after registration: re-register it"),
)


def load_hint(message: str) -> str:
    """An actionable hint for a flow that failed to load, or ``""``."""
    for needle, hint in _LOAD_HINTS:
        if needle in message:
            return f" Hint: {hint}."
    return ""


def run_spec(spec: Mapping[str, Any]) -> dict[str, Any]:
    """Load and run the flow a run spec describes; return the outcome dict (never raises
    for a flow failure or a load failure)."""
    from prefect_storage.storage import Storage

    try:
        storage = Storage.deserialize(spec["storage"])
        flow = storage.get_flow(spec["flow_name"])
    except Exception as exc:
        message = f"Failed to load flow from storage: {exc}"
        return {"state": "Failed", "message": message + load_hint(message), "tasks": []}
    try:
        # the classic Flow.run loop: retries wait their delay; the scheduler made this run
        state = flow.run(
            parameters=dict(spec.get("parameters") or {}),
            run_on_schedule=False,
            checkpoint=spec.get("checkpoint"),
            flow_run_id=spec.get("flow_run_id"),
        )
    except Exception as exc:  # the runner turns task errors into states; this is a bug or a bad spec
        return {"state": "Failed", "message": f"Failed to run flow: {exc!r}", "tasks": []}
    tasks = [
        {
            "name": task.name,
            "slug": flow.slugs.get(task, task.slug),
            "state": type(task_state).__name__,
            "message": task_state.message,
            "location": task_state.location,
        }
        for task, task_state in (state.result or {}).items()
    ]
    return {"state": "Success" if state.is_successful() else "Failed", "message": state.message, "tasks": tasks}


def parse_outcome(stdout: str) -> dict[str, Any] | None:
    """The outcome a run printed, or ``None`` if it printed none (it crashed)."""
    for line in reversed(stdout.splitlines()):
        if line.startswith(OUTCOME_MARKER):
            return json.loads(line[len(OUTCOME_MARKER) :])
    return None


def main(stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout) -> int:
    from prefect_storage.log import RedactingFilter

    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RedactingFilter())
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.getLogger().addHandler(handler)
    logging.getLogger().setLevel(logging.INFO)
    outcome = run_spec(json.load(stdin))
    from prefect_storage.secrets import redact

    stdout.write(OUTCOME_MARKER + redact(json.dumps(outcome, default=repr)) + "\n")
    stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
