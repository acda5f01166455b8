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

import datetime
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
    if (spec.get("storage") or {}).get("type") == "Deployment":  # a modern deployment: pull steps + entrypoint
        from prefect_storage.deployments.runtime import run_deployment_spec

        return run_deployment_spec(spec)
    from prefect_storage.storage import Storage

    try:
        storage = Storage.deserialize(spec["storage"])
        flow = storage.get_flow(spec["flow_name"])
    except Exception as exc:
        message = f"Failed to load flow from storage: {exc}"
        return {"state": "Failed", "message": message + load_hint(message), "tasks": []}
    if spec.get("executor_address"):  # the agent's --executor-address overrides the flow's executor
        from prefect_storage.core.executors.dask import use_dask_address

        try:
            use_dask_address(flow, spec["executor_address"])
        except Exception as exc:
            return {"state": "Failed", "message": f"Cannot use the agent's executor address: {exc}", "tasks": []}
    scheduled = spec.get("scheduled_start_time")  # the time a scheduled run was due (classic context key)
    run_context = {"scheduled_start_time": datetime.datetime.fromisoformat(scheduled)} if scheduled else {}
    try:
        # the classic Flow.run loop: retries wait their delay; the scheduler made this run
        state = flow.run(
            parameters=dict(spec.get("parameters") or {}),
            run_on_schedule=False,
            checkpoint=spec.get("checkpoint"),
            flow_run_id=spec.get("flow_run_id"),
            **({"context": run_context} if run_context else {}),
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
    results = [
        entry
        for task, task_state in (state.result or {}).items()
        for entry in task_results(flow.slugs.get(task, task.slug), task_state)
    ]
    return {
        "state": "Success" if state.is_successful() else "Failed",
        "message": state.message,
        "tasks": tasks,
        "results": results,
    }


MAX_RESULT_BYTES = 1_000_000


def task_results(slug: str | None, task_state: Any, map_index: int = -1) -> list[dict[str, Any]]:
    """The records ``get_task_run_result`` reads back: state, location and, for a
    successful task, its value pickled with cloudpickle (base64) when it is small."""
    import base64

    import cloudpickle

    if slug is None:
        return []
    value = None
    if task_state.is_successful():
        try:
            raw = cloudpickle.dumps(task_state.result)
        except Exception:  # an unpicklable result can still be read from its location
            raw = None
        if raw is not None and len(raw) <= MAX_RESULT_BYTES:
            value = base64.b64encode(raw).decode()
    entries = [{
        "slug": slug,
        "map_index": map_index,
        "state": type(task_state).__name__,
        "location": getattr(task_state, "location", None),
        "value": value,
    }]
    for index, child in enumerate(getattr(task_state, "map_states", None) or []):
        entries.extend(task_results(slug, child, index))
    return entries


def parse_outcome(stdout: str) -> dict[str, Any] | None:
    """The outcome a run printed, or ``None`` if it printed none (it crashed)."""
    for line in reversed(stdout.splitlines()):
        if line.startswith(OUTCOME_MARKER):
            return json.loads(line[len(OUTCOME_MARKER) :])
    return None


def run_main(spec: Mapping[str, Any], stdout: TextIO = sys.stdout) -> int:
    """Configure redacted logging to standard error, run ``spec``, print its outcome line."""
    from prefect_storage.log import RedactingFilter

    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RedactingFilter())
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.getLogger().addHandler(handler)
    logging.getLogger().setLevel(logging.INFO)
    _verify_signatures_through_agent(spec.get("signing_configured"))
    outcome = run_spec(spec)
    from prefect_storage.secrets import redact

    stdout.write(OUTCOME_MARKER + redact(json.dumps(outcome, default=repr)) + "\n")
    stdout.flush()
    return 0


def _verify_signatures_through_agent(agent_has_key: bool | None = None) -> None:
    """A run never holds the agent's signing key: when its agent serves a broker, signed
    flows are checked by asking the agent (which answers yes or no, nothing more).

    ``agent_has_key`` is what the agent wrote in the run spec (``signing_configured``);
    ``None`` (an older agent) means ask it."""
    import base64
    import os

    from prefect_storage import config

    broker, token = config.run_broker()
    if not broker or not token or os.environ.get(config.SIGNING_KEY_SECRET):
        return
    from prefect_storage.serialization import flow_pickle

    if agent_has_key is False:
        return  # nothing to verify with: unsigned flows load as they would in the agent
    answer: dict[str, bool] = {} if agent_has_key is None else {"configured": bool(agent_has_key)}

    def configured() -> bool:
        if "configured" not in answer:
            answer["configured"] = bool(_broker_call(broker, token, "signing_configured"))
        return answer["configured"]

    def verify(message: bytes, signature: str) -> bool:
        return bool(_broker_call(broker, token, "verify_signature", message=base64.b64encode(message).decode(), signature=signature))

    flow_pickle.set_signature_verifier(verify, configured)


def _broker_call(path: str, token: str, method: str, **params: Any) -> Any:
    """One call to the agent's run broker, without importing the registry (SQLAlchemy):
    loading a flow must stay cheap. See prefect_storage.agent.broker for the protocol."""
    import socket

    from prefect_storage.exceptions import FlowIntegrityError

    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(60)
            sock.connect(path)
            sock.sendall(json.dumps({"token": token, "method": method, "params": params}).encode() + b"\n")
            with sock.makefile("rb") as answers:
                answer = json.loads(answers.readline() or b"{}")
    except (OSError, ValueError) as exc:
        raise FlowIntegrityError(f"Could not ask the agent to check the flow's signature: {exc}") from None
    if "error" in answer or "result" not in answer:
        raise FlowIntegrityError(f"The agent could not check the flow's signature: {answer.get('error')}")
    return answer["result"]


def main(stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout) -> int:
    spec = json.load(stdin)
    lifeline = spec.pop("lifeline_fd", None)
    if isinstance(lifeline, int):  # started by a local agent: die (with our children) when it does
        import signal
        import threading

        from prefect_storage.agent.zygote import die_with_group_on, watch_lifeline

        die_with_group_on(signal.SIGTERM)
        threading.Thread(target=watch_lifeline, args=(lifeline,), daemon=True).start()
    return run_main(spec, stdout)


if __name__ == "__main__":
    raise SystemExit(main())
