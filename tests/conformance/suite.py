"""The behaviour every storage class must show, as one inheritable test class.

A backend's test module supplies a ``harness`` fixture (a :class:`StorageHarness`
subclass that knows how to configure that storage against its service) and
inherits :class:`StorageConformance` (pickled and script flows), or only
:class:`PickleConformance` / :class:`ScriptConformance` for a class that stores
one kind::

    @pytest.fixture
    def harness(s3_service, tmp_path):
        return S3Harness(s3_service, tmp_path)

    class TestS3Conformance(StorageConformance):
        pass

Every test here goes through the public API (plus the harness for out-of-band
actions such as tampering with stored bytes), so it holds for any transport.
"""

from __future__ import annotations

import json
import logging
import os
import pickle
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from prefect_storage.core.flow import Flow
from prefect_storage.exceptions import FlowIntegrityError, FlowNotFoundError
from prefect_storage.serialization import extract_flow_from_file, flow_to_bytes_pickle
from prefect_storage.storage import Storage
from tests.conformance.flows import FLOW_NAME, final_value, flow_script, make_flow

REPO_ROOT = Path(__file__).resolve().parents[2]


class StorageHarness:
    """How the suite drives one storage class. Override what the class supports."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path

    def pickle_storage(self, **kwargs: Any) -> Storage:
        """A fresh storage for pickled flows, configured against the service."""
        raise NotImplementedError

    def script_storage(self, script_path: Path, **kwargs: Any) -> Storage:
        """A fresh storage that loads the flow script now at ``script_path``
        (publish it to the service first if the class reads it from there)."""
        raise NotImplementedError

    def publish_script(self, storage: Storage, script_path: Path) -> None:
        """Make an edited ``script_path`` visible to ``storage`` (upload, commit + push...)."""
        storage.build()

    def templated_storage(self, monkeypatch: pytest.MonkeyPatch, script_path: Path | None = None) -> tuple[Storage, str]:
        """Like :meth:`pickle_storage` (or :meth:`script_storage` when ``script_path`` is
        given), but with a ``${NAME}`` template in a setting the storage needs (a
        bucket, a token, a folder); set NAME with ``monkeypatch.setenv`` to a value of
        at least 4 characters that makes it work and return ``(storage, value)``."""
        raise NotImplementedError

    def tamper(self, storage: Storage, flow_name: str) -> None:
        """Change one byte of the stored pickle, behind the storage's back."""
        raise NotImplementedError

    def delete(self, storage: Storage, flow_name: str) -> None:
        """Remove the stored flow, behind the storage's back."""
        raise NotImplementedError

    def subprocess_env(self) -> dict[str, str]:
        """Environment a fresh process needs to reach the service (endpoints, credentials)."""
        return {}


_LOADER = """
import json, sys
from prefect_storage.core.flow import Flow
from prefect_storage.storage import Storage
data = json.load(open(sys.argv[1]))
storage = Storage.deserialize(data)
flow = storage.get_flow(sys.argv[2])
state = flow.run()
(terminal,) = flow.terminal_tasks()
print(json.dumps({"ok": state.is_successful(), "value": state.result[terminal].result, "name": flow.name}))
"""


def load_in_fresh_process(harness: StorageHarness, storage: Storage, flow_name: str, tmp_path: Path) -> dict[str, Any]:
    """Serialize ``storage`` to JSON, load ``flow_name`` from it in a new Python process, run it."""
    spec = tmp_path / "storage.json"
    spec.write_text(json.dumps(storage.serialize()))
    env = {**os.environ, **harness.subprocess_env()}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if p)
    proc = subprocess.run(
        [sys.executable, "-c", _LOADER, str(spec), flow_name],
        capture_output=True, text=True, env=env, timeout=120, cwd=tmp_path,
    )
    assert proc.returncode == 0, f"loader failed:\n{proc.stdout}\n{proc.stderr}"
    return json.loads(proc.stdout.strip().splitlines()[-1])


class _Basics:
    """Bookkeeping every storage shares; ``_fresh`` and ``_flow`` come from the mixins."""

    def _fresh(self, harness: StorageHarness, **kwargs: Any) -> Storage:
        raise NotImplementedError

    def _flow(self, harness: StorageHarness) -> Flow:
        raise NotImplementedError

    def test_name_conflict_is_refused(self, harness: StorageHarness) -> None:
        storage = self._fresh(harness)
        storage.add_flow(self._flow(harness))
        with pytest.raises(ValueError, match="Name conflict"):
            storage.add_flow(self._flow(harness))
        assert list(storage.flows) == [FLOW_NAME]

    def test_unknown_flow_names_what_storage_holds(self, harness: StorageHarness) -> None:
        storage = self._fresh(harness)
        storage.add_flow(self._flow(harness))
        storage.build()
        with pytest.raises(ValueError, match="Flow is not contained in this Storage") as info:
            storage.get_flow("no such flow")
        assert repr(FLOW_NAME) in str(info.value)

    def test_flows_and_membership(self, harness: StorageHarness) -> None:
        storage = self._fresh(harness)
        flow = self._flow(harness)
        assert storage.flows == {} and FLOW_NAME not in storage
        location = storage.add_flow(flow)
        assert storage.flows == {FLOW_NAME: location}
        assert FLOW_NAME in storage
        assert flow not in storage  # classic: membership is by name only
        assert 42 not in storage

    def test_labels(self, harness: StorageHarness) -> None:
        plain = self._fresh(harness, labels=["team-a"], add_default_labels=False)
        assert plain.labels == ["team-a"]
        with_defaults = self._fresh(harness, labels=["team-a"], add_default_labels=True)
        assert set(with_defaults.labels) == {"team-a", *with_defaults.default_labels}

    def test_secret_names_are_serialized(self, harness: StorageHarness) -> None:
        storage = self._fresh(harness, secrets=["SOME_TOKEN"])
        assert storage.serialize()["secrets"] == ["SOME_TOKEN"]
        assert Storage.deserialize(storage.serialize()).secrets == ["SOME_TOKEN"]

    def test_repr_and_name(self, harness: StorageHarness) -> None:
        storage = self._fresh(harness)
        assert repr(storage) == f"<Storage: {type(storage).__name__}>" or type(storage).__name__ == "Docker"


def assert_no_secret_leak(storage: Storage, secret: str, caplog: pytest.LogCaptureFixture, extra: dict[str, str]) -> None:
    """Fail naming every place ``secret`` shows up."""
    rebuilt = Storage.deserialize(json.loads(json.dumps(storage.serialize())))
    with pytest.raises(ValueError) as unknown:
        rebuilt.get_flow("missing")
    exposed = {
        "serialize": json.dumps(storage.serialize()),
        "repr": repr(storage) + repr(rebuilt),
        "pickle": pickle.dumps(storage).decode("latin-1"),
        "logs": caplog.text,
        "error": str(unknown.value),
        **extra,
    }
    leaks = [where for where, text in exposed.items() if secret in text]
    assert leaks == [], f"secret value found in: {leaks}"


class PickleConformance(_Basics):
    """Pickled flows, bookkeeping, labels and secrets. Needs a ``harness`` fixture."""

    def _fresh(self, harness: StorageHarness, **kwargs: Any) -> Storage:
        return harness.pickle_storage(**kwargs)

    def _flow(self, harness: StorageHarness) -> Flow:
        return make_flow()

    def test_pickled_flow_round_trip_in_fresh_process(self, harness: StorageHarness, tmp_path: Path) -> None:
        storage = harness.pickle_storage()
        storage.add_flow(make_flow(value=21))
        storage.build()
        outcome = load_in_fresh_process(harness, storage, FLOW_NAME, tmp_path)
        assert outcome == {"ok": True, "value": 42, "name": FLOW_NAME}

    def test_serialize_json_deserialize_get_flow(self, harness: StorageHarness) -> None:
        storage = harness.pickle_storage()
        location = storage.add_flow(make_flow(value=5))
        storage.build()
        data = json.loads(json.dumps(storage.serialize()))
        assert data["type"] == type(storage).__name__
        assert data["flows"] == {FLOW_NAME: location}
        rebuilt = Storage.deserialize(data)
        assert type(rebuilt) is type(storage)
        assert rebuilt.flows == storage.flows
        assert final_value(rebuilt.get_flow(FLOW_NAME)) == 10

    def test_build_twice_is_safe_and_writes_nothing_unchanged(self, harness: StorageHarness, monkeypatch: pytest.MonkeyPatch) -> None:
        storage = harness.pickle_storage()
        storage.add_flow(make_flow(value=3))
        assert storage.build() is storage
        writes: list[str] = []
        original = storage._write
        monkeypatch.setattr(storage, "_write", lambda loc, data: (writes.append(loc), original(loc, data)))
        assert storage.build() is storage
        assert writes == []
        assert final_value(storage.get_flow(FLOW_NAME)) == 6

    def test_tampered_payload_is_refused(self, harness: StorageHarness) -> None:
        storage = harness.pickle_storage()
        storage.add_flow(make_flow())
        storage.build()
        harness.tamper(storage, FLOW_NAME)
        rebuilt = Storage.deserialize(storage.serialize())
        with pytest.raises(FlowIntegrityError):
            rebuilt.get_flow(FLOW_NAME)

    def test_deleted_flow_is_a_clear_not_found_error(self, harness: StorageHarness) -> None:
        storage = harness.pickle_storage()
        storage.add_flow(make_flow())
        storage.build()
        harness.delete(storage, FLOW_NAME)
        rebuilt = Storage.deserialize(storage.serialize())
        with pytest.raises(FlowNotFoundError):
            rebuilt.get_flow(FLOW_NAME)

    def test_no_secret_value_in_serialize_repr_logs_or_errors(
        self, harness: StorageHarness, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
    ) -> None:
        caplog.set_level(logging.DEBUG)
        storage, secret = harness.templated_storage(monkeypatch)
        assert len(secret) >= 4
        flow = make_flow(value=4)
        storage.add_flow(flow)
        storage.build()
        rebuilt = Storage.deserialize(json.loads(json.dumps(storage.serialize())))
        assert final_value(rebuilt.get_flow(FLOW_NAME)) == 8
        assert_no_secret_leak(storage, secret, caplog, {"flow pickle": flow_to_bytes_pickle(flow).decode("latin-1")})


class ScriptConformance(_Basics):
    """Flows stored as scripts. Needs a ``harness`` fixture."""

    def _script_path(self, harness: StorageHarness, value: int = 21) -> Path:
        script = harness.tmp_path / "conformance_flow.py"
        script.write_text(flow_script(value=value))
        return script

    def _fresh(self, harness: StorageHarness, **kwargs: Any) -> Storage:
        return harness.script_storage(self._script_path(harness), **kwargs)

    def _flow(self, harness: StorageHarness) -> Flow:
        return extract_flow_from_file(file_path=self._script_path(harness))

    def _script(self, harness: StorageHarness, value: int = 21) -> tuple[Storage, Path]:
        script = self._script_path(harness, value)
        storage = harness.script_storage(script)
        storage.add_flow(extract_flow_from_file(file_path=script))
        storage.build()
        return storage, script

    def test_script_round_trip_picks_up_edit_without_reregistration(self, harness: StorageHarness) -> None:
        storage, script = self._script(harness, value=21)
        assert storage.stored_as_script
        agent_side = Storage.deserialize(json.loads(json.dumps(storage.serialize())))
        assert final_value(agent_side.get_flow(FLOW_NAME)) == 42
        script.write_text(flow_script(value=50))
        harness.publish_script(storage, script)
        assert final_value(agent_side.get_flow(FLOW_NAME)) == 100

    def test_script_flow_loads_in_fresh_process(self, harness: StorageHarness, tmp_path: Path) -> None:
        storage, _ = self._script(harness, value=7)
        outcome = load_in_fresh_process(harness, storage, FLOW_NAME, tmp_path)
        assert outcome == {"ok": True, "value": 14, "name": FLOW_NAME}

    def test_script_storage_no_secret_leak(
        self, harness: StorageHarness, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
    ) -> None:
        caplog.set_level(logging.DEBUG)
        script = self._script_path(harness, value=8)
        storage, secret = harness.templated_storage(monkeypatch, script_path=script)
        assert len(secret) >= 4
        storage.add_flow(extract_flow_from_file(file_path=script))
        storage.build()
        rebuilt = Storage.deserialize(json.loads(json.dumps(storage.serialize())))
        assert final_value(rebuilt.get_flow(FLOW_NAME)) == 16
        assert_no_secret_leak(storage, secret, caplog, {})


class StorageConformance(PickleConformance, ScriptConformance):
    """Both kinds of flow: what most storage classes must pass."""


__all__ = [
    "PickleConformance",
    "ScriptConformance",
    "StorageConformance",
    "StorageHarness",
    "assert_no_secret_leak",
    "load_in_fresh_process",
]
