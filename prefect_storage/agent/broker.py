"""The run broker: the few registry calls a flow run may make, served by its agent.

A run needs the registry for child flow runs, the key-value store and artifacts,
but must not get the registry's URL (with its database password) or the agent's
other settings. The agent listens on a Unix socket in a private ``0700`` folder;
each run gets the socket path and a random token valid while the run is running
(see :mod:`prefect_storage.registry.client`). Requests are JSON lines
``{"token", "method", "params"}``; answers ``{"result"}`` or ``{"error": {"type", "message"}}``.

Only the methods in :data:`METHODS` exist. Artifacts are always attached to the
token's own run; a child run records the token's run as its parent.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import socket
import socketserver
import tempfile
import threading
from collections.abc import Callable
from typing import Any

from prefect_storage.registry.client import decode, encode
from prefect_storage.secrets import get_logger, redact

logger = get_logger("agent.broker")

Handler = Callable[[Any, str, dict[str, Any]], Any]


def _find_flow(registry: Any, run_id: str, p: dict[str, Any]) -> Any:
    return registry.find_flow(p["name"], project=p.get("project"), version=p.get("version"))


def _create_child(registry: Any, run_id: str, p: dict[str, Any]) -> Any:
    return registry.create_child_flow_run(
        p["flow_id"], p.get("parameters"), p.get("labels"), p.get("idempotency_key"), p.get("run_name"),
        p.get("scheduled_start_time"), parent_flow_run_id=run_id,
    )


def _signing_configured(registry: Any, run_id: str, p: dict[str, Any]) -> bool:
    from prefect_storage.serialization.flow_pickle import _signing_key

    return _signing_key() is not None


def _verify_signature(registry: Any, run_id: str, p: dict[str, Any]) -> bool:
    """Check an HMAC with the agent's key for a run that does not hold it (a verify-only
    oracle: constant-time compare, nothing about the key comes back)."""
    import base64
    import hashlib
    import hmac

    from prefect_storage.serialization.flow_pickle import _signing_key

    key = _signing_key()
    if key is None:
        return False
    expected = hmac.new(key, base64.b64decode(p["message"]), hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, str(p["signature"]))


def _read_block_document(reg: Any, _run: str, p: dict[str, Any]) -> dict[str, Any]:
    """A block document's stored data (secret fields still encrypted) for a run's pull steps
    (deploy: ``{{ prefect.blocks... }}`` in deployments, runner storages given blocks)."""
    from prefect_storage.exceptions import BlockNotFoundError
    from prefect_storage.registry.blocks import read_block_document

    try:
        return {"data": read_block_document(reg, str(p["block_type"]), str(p["name"])).data}
    except BlockNotFoundError as exc:
        return {"missing": str(exc)}


METHODS: dict[str, Handler] = {
    "read_block_document": _read_block_document,
    "signing_configured": _signing_configured,
    "verify_signature": _verify_signature,
    "find_flow": _find_flow,
    "get_flow": lambda reg, _run, p: reg.get_flow(p["flow_id"]),
    "create_child_flow_run": _create_child,
    "get_flow_run": lambda reg, _run, p: reg.get_flow_run(p["run_id"]),
    "get_logs": lambda reg, _run, p: reg.get_logs(p["run_id"]),
    "get_task_result_record": lambda reg, _run, p: reg.get_task_result_record(p["flow_run_id"], p["task_slug"], int(p.get("map_index", -1))),
    "set_key_value": lambda reg, _run, p: reg.set_key_value(p["key"], p.get("value")),
    "get_key_value": lambda reg, _run, p: reg.get_key_value(p["key"]),
    "delete_key": lambda reg, _run, p: reg.delete_key(p["key"]),
    "list_keys": lambda reg, _run, p: reg.list_keys(),
    "create_artifact": lambda reg, run, p: reg.create_artifact(run, p["kind"], p["data"], p.get("task_run_id"), p.get("task_slug")),
    "update_artifact": lambda reg, run, p: reg.update_artifact(p["artifact_id"], p["data"], flow_run_id=run),
    "delete_artifact": lambda reg, run, p: reg.delete_artifact(p["artifact_id"], flow_run_id=run),
    "list_artifacts": lambda reg, _run, p: reg.list_artifacts(p["flow_run_id"]),
}


class _Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    broker: RunBroker


class _Connection(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        broker = self.server.broker  # type: ignore[attr-defined]
        for line in self.rfile:
            answer = broker.answer(line)
            self.wfile.write(json.dumps(answer, default=str).encode() + b"\n")
            self.wfile.flush()


class RunBroker:
    """Serves :data:`METHODS` of ``registry`` to the agent's runs, one token per run."""

    def __init__(self, registry: Any, with_registry: Callable[[Callable[[], Any]], Any] | None = None) -> None:
        self.registry = registry
        self._with_registry = with_registry or (lambda call: call())
        self._tokens: dict[str, str] = {}
        self._lock = threading.Lock()
        self.folder = tempfile.mkdtemp(prefix="ps-broker-")
        os.chmod(self.folder, 0o700)
        self.path = os.path.join(self.folder, "broker.sock")
        self._server = _Server(self.path, _Connection)
        os.chmod(self.path, 0o600)
        self._server.broker = self
        # a short poll: stop() (every agent shutdown) waits up to one poll interval
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="run-broker", daemon=True
        )
        self._thread.start()

    def open_run(self, run_id: str) -> dict[str, str]:
        """A new token for ``run_id``; returns the variables the run's environment gets."""
        from prefect_storage.registry.client import BROKER_ENV, TOKEN_ENV

        token = secrets.token_urlsafe(24)
        with self._lock:
            self._tokens[token] = run_id
        return {BROKER_ENV: self.path, TOKEN_ENV: token}

    def close_run(self, variables: dict[str, str]) -> None:
        from prefect_storage.registry.client import TOKEN_ENV

        with self._lock:
            self._tokens.pop(variables.get(TOKEN_ENV, ""), None)

    def answer(self, line: bytes) -> dict[str, Any]:
        try:
            request = json.loads(line)
            token, method, params = request.get("token"), request.get("method"), decode(request.get("params") or {})
        except (ValueError, AttributeError):
            return {"error": {"type": "ValueError", "message": "Malformed broker request."}}
        with self._lock:
            run_id = self._tokens.get(str(token))
        if run_id is None:
            return {"error": {"type": "RunRegistryError", "message": "This run's broker token is not valid (the run has ended)."}}
        handler = METHODS.get(str(method))
        if handler is None:
            return {"error": {"type": "ValueError", "message": f"The run broker has no method {method!r}."}}
        try:
            result = self._with_registry(lambda: handler(self.registry, run_id, params))
        except Exception as exc:
            kind = type(exc).__name__
            known = {"NotRegisteredError", "KeyValueError", "ArtifactError", "RegistryError", "ValueError"}
            if kind not in known:
                logger.warning("Run broker call %s for flow run %s failed: %s", method, run_id, redact(repr(exc)))
                kind = "RunRegistryError"
            return {"error": {"type": kind, "message": redact(str(exc))}}
        return {"result": encode(result)}

    def stop(self) -> None:
        stopper = threading.Thread(target=self._server.shutdown, name="run-broker-stop", daemon=True)
        stopper.start()
        with contextlib.suppress(OSError):  # wake the serving loop now, not at its next poll
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as wake:
                wake.connect(self.path)
        stopper.join()
        self._server.server_close()
        self._thread.join(10)
        with contextlib.suppress(OSError):
            shutil.rmtree(self.folder)
