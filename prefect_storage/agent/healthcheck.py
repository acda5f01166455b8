"""Load a registered flow from its storage without running it (``prefect-storage storage check``).

Same contract as :mod:`prefect_storage.agent.execute` (spec JSON on stdin, one
outcome line on stdout), run in a fresh process like the classic Docker
healthcheck, so the check sees what an agent's run would see::

    {"flow_name": "etl", "storage": {...}}   ->   {"ok": true, "message": "..."}
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from typing import Any, TextIO

from prefect_storage.agent.execute import OUTCOME_MARKER, load_hint


def check_spec(spec: Mapping[str, Any]) -> dict[str, Any]:
    """Rebuild the storage and ``get_flow``; never raises."""
    from prefect_storage.storage import Storage

    try:
        storage = Storage.deserialize(spec["storage"])
        flow = storage.get_flow(spec["flow_name"])
    except Exception as exc:
        message = f"Failed to load flow from storage: {exc}"
        return {"ok": False, "message": message + load_hint(message)}
    return {"ok": True, "message": f"loaded {flow.name!r} ({len(flow.tasks)} tasks) from {storage.name} storage"}


def main(stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout) -> int:
    from prefect_storage.secrets import redact

    outcome = check_spec(json.load(stdin))
    stdout.write(OUTCOME_MARKER + redact(json.dumps(outcome)) + "\n")
    stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
