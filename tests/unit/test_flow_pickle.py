"""The pickle envelope: integrity, signatures, versions, classic formats."""

from __future__ import annotations

import base64
import json
import pickle
import struct
import sys
import types

import cloudpickle
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prefect_storage.exceptions import FlowDeserializationError, FlowIntegrityError
from prefect_storage.serialization import flow_from_bytes_pickle, flow_to_bytes_pickle, read_envelope
from prefect_storage.serialization.flow_pickle import MAGIC, _digest
from tests.conformance.flows import final_value, make_flow


@pytest.fixture
def data() -> bytes:
    return flow_to_bytes_pickle(make_flow(value=3))


def test_round_trip(data: bytes) -> None:
    assert final_value(flow_from_bytes_pickle(data)) == 6


def test_no_base64_blow_up(data: bytes) -> None:
    raw = cloudpickle.dumps(make_flow(value=3), protocol=5)
    assert len(data) - len(raw) < 300


def test_header_records_versions(data: bytes) -> None:
    versions = read_envelope(data).versions
    assert set(versions) == {"python", "cloudpickle", "prefect_storage"}


def test_truncated(data: bytes) -> None:
    for cut in (3, len(MAGIC) + 2, len(MAGIC) + 10, len(data) - 1):
        with pytest.raises(FlowIntegrityError, match="truncated"):
            flow_from_bytes_pickle(data[:cut], source="s3://b/k")


def test_tampered_payload(data: bytes) -> None:
    altered = bytearray(data)
    altered[-5] ^= 1
    with pytest.raises(FlowIntegrityError, match="altered"):
        flow_from_bytes_pickle(bytes(altered))


def test_appended_bytes(data: bytes) -> None:
    with pytest.raises(FlowIntegrityError, match="longer than recorded"):
        flow_from_bytes_pickle(data + b"x")


def test_damaged_header(data: bytes) -> None:
    (length,) = struct.unpack_from(">I", data, len(MAGIC))
    broken = data[: len(MAGIC) + 4] + b"{" * length + data[len(MAGIC) + 4 + length :]
    with pytest.raises(FlowIntegrityError, match="damaged envelope header"):
        flow_from_bytes_pickle(broken)


def test_not_a_flow_at_all() -> None:
    with pytest.raises(FlowIntegrityError, match="is not a stored flow"):
        flow_from_bytes_pickle(b"hello world", source="/tmp/x")


def test_signed_round_trip_and_wrong_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PREFECT_STORAGE_SIGNING_KEY", "key-number-one")
    signed = flow_to_bytes_pickle(make_flow())
    assert read_envelope(signed).signed
    assert final_value(flow_from_bytes_pickle(signed)) == 42
    monkeypatch.setenv("PREFECT_STORAGE_SIGNING_KEY", "key-number-two")
    with pytest.raises(FlowIntegrityError, match="wrong signature"):
        flow_from_bytes_pickle(signed)


def test_signature_covers_header(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PREFECT_STORAGE_SIGNING_KEY", "key-number-one")
    signed = flow_to_bytes_pickle(make_flow())
    (length,) = struct.unpack_from(">I", signed, len(MAGIC))
    header = json.loads(signed[len(MAGIC) + 4 : len(MAGIC) + 4 + length])
    payload = signed[len(MAGIC) + 4 + length :]
    header["v"]["prefect_storage"] = "9.9.9"
    header["sha256"] = _digest(header, payload)  # a forger can recompute the unkeyed digest...
    encoded = json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
    forged = MAGIC + struct.pack(">I", len(encoded)) + encoded + payload  # ...but not the signature
    with pytest.raises(FlowIntegrityError, match="wrong signature"):
        flow_from_bytes_pickle(forged)


def test_required_signature_refuses_unsigned(monkeypatch: pytest.MonkeyPatch, data: bytes) -> None:
    monkeypatch.setenv("PREFECT_STORAGE_REQUIRE_SIGNATURE", "true")
    with pytest.raises(FlowIntegrityError, match="not signed"):
        flow_from_bytes_pickle(data)


def test_required_signature_without_key_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PREFECT_STORAGE_SIGNING_KEY", "key-number-one")
    signed = flow_to_bytes_pickle(make_flow())
    monkeypatch.delenv("PREFECT_STORAGE_SIGNING_KEY")
    monkeypatch.setenv("PREFECT_STORAGE_REQUIRE_SIGNATURE", "true")
    with pytest.raises(FlowIntegrityError, match="no signing key"):
        flow_from_bytes_pickle(signed)


def test_signing_key_is_never_in_the_data(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PREFECT_STORAGE_SIGNING_KEY", "very-secret-signing-key")
    assert b"very-secret-signing-key" not in flow_to_bytes_pickle(make_flow())


def _with_header(data: bytes, change) -> bytes:
    """A consistent envelope (digest recomputed) whose header was changed: what
    another machine with other versions would have written."""
    (length,) = struct.unpack_from(">I", data, len(MAGIC))
    header = json.loads(data[len(MAGIC) + 4 : len(MAGIC) + 4 + length])
    payload = data[len(MAGIC) + 4 + length :]
    change(header)
    header["sha256"] = _digest(header, payload)
    encoded = json.dumps(header).encode()
    return MAGIC + struct.pack(">I", len(encoded)) + encoded + payload


def test_changed_header_without_new_digest_is_altered(data: bytes) -> None:
    (length,) = struct.unpack_from(">I", data, len(MAGIC))
    header = data[len(MAGIC) + 4 : len(MAGIC) + 4 + length].replace(b'"python":"3.', b'"python":"4.')
    with pytest.raises(FlowIntegrityError, match="altered"):
        flow_from_bytes_pickle(data[: len(MAGIC) + 4] + header + data[len(MAGIC) + 4 + length :])


def test_python_minor_mismatch_refused_with_advice(data: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    other = _with_header(data, lambda h: h["v"].__setitem__("python", "3.7.1"))
    with pytest.raises(FlowDeserializationError, match=r"Python 3\.7\.1.*stored_as_script"):
        flow_from_bytes_pickle(other)
    monkeypatch.setenv("PREFECT_STORAGE_ALLOW_PYTHON_MISMATCH", "true")
    assert final_value(flow_from_bytes_pickle(other)) == 6


def test_newer_envelope_format_says_upgrade(data: bytes) -> None:
    with pytest.raises(FlowIntegrityError, match="Upgrade prefect_storage"):
        flow_from_bytes_pickle(_with_header(data, lambda h: h.__setitem__("f", 2)))


def test_other_prefect_storage_version_warns(data: bytes) -> None:
    other = _with_header(data, lambda h: h["v"].__setitem__("prefect_storage", "0.0.1"))
    with pytest.warns(UserWarning, match="built using prefect_storage '0.0.1'"):
        flow_from_bytes_pickle(other)


def _pickle_referencing_missing_module() -> bytes:
    module = types.ModuleType("no_such_mod_xyz")
    exec("def f():\n    return 1\n", module.__dict__)
    sys.modules["no_such_mod_xyz"] = module
    try:
        return pickle.dumps(module.f)  # by reference: loading needs the module
    finally:
        del sys.modules["no_such_mod_xyz"]


def test_missing_module_names_versions_and_hint() -> None:
    payload = _pickle_referencing_missing_module()
    classic = json.dumps({"flow": base64.b64encode(payload).decode(), "versions": {"cloudpickle": "0.1", "python": "3.11.0"}}).encode()
    with pytest.raises(FlowDeserializationError) as info:
        flow_from_bytes_pickle(classic)
    text = str(info.value)
    assert text.startswith("An error occurred while unpickling the flow:")
    assert "cloudpickle: (flow built with '0.1'" in text
    assert "This also may be due to a missing Python module" in text


def test_classic_json_format_is_read() -> None:
    payload = cloudpickle.dumps(make_flow(value=5), protocol=4)
    classic = json.dumps({"flow": base64.b64encode(payload).decode(), "versions": {"cloudpickle": cloudpickle.__version__, "prefect": "1.4.1", "python": "3.11.7"}}).encode()
    assert final_value(flow_from_bytes_pickle(classic)) == 10


def test_classic_json_that_is_damaged() -> None:
    with pytest.raises(FlowIntegrityError, match="classic Prefect 1.x"):
        flow_from_bytes_pickle(b'{"flow": "not base64!!", "versions": {}}')


def test_bare_pickle_is_read_unless_signature_required(monkeypatch: pytest.MonkeyPatch) -> None:
    raw = cloudpickle.dumps(make_flow(value=1))
    assert final_value(flow_from_bytes_pickle(raw)) == 2
    monkeypatch.setenv("PREFECT_STORAGE_REQUIRE_SIGNATURE", "1")
    with pytest.raises(FlowIntegrityError):
        flow_from_bytes_pickle(raw)


def test_not_a_flow_object() -> None:
    with pytest.raises(FlowDeserializationError, match="holds a dict, not a Flow"):
        flow_from_bytes_pickle(cloudpickle.dumps({"a": 1}))


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_arbitrary_bytes_never_unpickle_unchecked(blob: bytes) -> None:
    """Random input is either refused as an integrity error or (bare pickles) fails to load cleanly."""
    if blob[:1] == b"\x80":
        return  # a bare pickle: legacy, loaded as-is by design
    with pytest.raises((FlowIntegrityError, FlowDeserializationError)):
        flow_from_bytes_pickle(MAGIC + blob)


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_any_single_byte_change_is_detected(data: st.DataObject) -> None:
    original = flow_to_bytes_pickle(make_flow())
    position = data.draw(st.integers(min_value=len(MAGIC), max_value=len(original) - 1))
    flip = data.draw(st.integers(min_value=1, max_value=255))
    altered = bytearray(original)
    altered[position] ^= flip
    with pytest.raises((FlowIntegrityError, FlowDeserializationError)):
        flow_from_bytes_pickle(bytes(altered))
