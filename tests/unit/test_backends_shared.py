"""Shared backend helpers: optional imports, atomic writes, retries, the payload cache, AWS options."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from prefect_storage.backends.aws import public_options
from prefect_storage.backends.cache import PayloadCache
from prefect_storage.backends.local import atomic_write, read_bytes
from prefect_storage.backends.optional import require
from prefect_storage.backends.retry import call_with_retries
from prefect_storage.exceptions import BackendNotInstalledError, FlowNotFoundError, FlowStorageError


def test_require_names_the_extra() -> None:
    with pytest.raises(BackendNotInstalledError, match=r"pip install 'prefect-storage\[aws\]'") as info:
        require("surely_not_installed_sdk", extra="aws", purpose="S3 storage")
    assert isinstance(info.value, ImportError)
    assert require("json", extra="none").__name__ == "json"


def test_atomic_write_replaces_whole_file_and_cleans_up_on_failure(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "file"
    atomic_write(target, b"one")
    atomic_write(target, b"two")
    assert target.read_bytes() == b"two"

    with pytest.raises(TypeError):
        atomic_write(target, object())  # type: ignore[arg-type]
    assert target.read_bytes() == b"two"
    assert sorted(p.name for p in target.parent.iterdir()) == ["file"]


def test_read_bytes_errors(tmp_path: Path) -> None:
    with pytest.raises(FlowNotFoundError, match="Flow file not found"):
        read_bytes(tmp_path / "missing")
    with pytest.raises(FlowStorageError, match="is a directory"):
        read_bytes(tmp_path)


def test_retries_transient_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PREFECT_STORAGE_RETRY_ATTEMPTS", "3")
    calls: list[int] = []

    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise ConnectionResetError("reset")
        return "done"

    assert call_with_retries(flaky, lambda e: isinstance(e, ConnectionError), "upload", max_wait=0.01) == "done"
    assert len(calls) == 3
    calls.clear()

    def denied() -> None:
        calls.append(1)
        raise PermissionError("denied")

    with pytest.raises(PermissionError):
        call_with_retries(denied, lambda e: isinstance(e, ConnectionError), "upload")
    assert len(calls) == 1


def test_payload_cache_hit_miss_and_validator(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PREFECT_STORAGE_CACHE_DIR", str(tmp_path))
    cache = PayloadCache("s3")
    assert cache.get("s3://b/k") is None
    cache.put("s3://b/k", '"etag1"', b"payload")
    assert cache.get("s3://b/k") == ('"etag1"', b"payload")
    cache.put("s3://b/k", '"etag2"', b"newer")
    assert cache.get("s3://b/k") == ('"etag2"', b"newer")
    cache.discard("s3://b/k")
    assert cache.get("s3://b/k") is None
    assert all(oct(os.stat(p).st_mode)[-3:] == "600" for p in (tmp_path / "s3").iterdir())


def test_payload_cache_evicts_least_recently_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PREFECT_STORAGE_CACHE_DIR", str(tmp_path))
    cache = PayloadCache("x")
    cache.put("probe", "v", bytes(60))
    entry_size = os.path.getsize(cache._path("probe"))
    cache.discard("probe")
    cache.max_bytes = int(entry_size * 3.5)  # room for three entries, not four
    for i in range(3):
        cache.put(f"k{i}", "v", bytes(60))
        os.utime(cache._path(f"k{i}"), (1000 + i, 1000 + i))
    cache.get("k0")  # k0 becomes the most recently used
    cache.put("k3", "v", bytes(60))
    present = {k for k in ("k0", "k1", "k2", "k3") if cache.get(k) is not None}
    assert present == {"k0", "k2", "k3"}
    cache.put("too-big", "v", bytes(cache.max_bytes + 1))
    assert cache.get("too-big") is None


def test_payload_cache_ignores_damaged_entries(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PREFECT_STORAGE_CACHE_DIR", str(tmp_path))
    cache = PayloadCache("x")
    cache.put("k", "v", b"12345")
    path = cache._path("k")
    path.write_bytes(path.read_bytes()[:-2])
    assert cache.get("k") is None


def test_public_options_drop_literal_credentials_only() -> None:
    options = {"endpoint_url": "http://x", "aws_access_key_id": "AKIAREAL", "aws_secret_access_key": "${AWS_SECRET}"}
    assert public_options(options) == {"endpoint_url": "http://x", "aws_secret_access_key": "${AWS_SECRET}"}
    assert public_options(None) is None


def test_forge_errors_classify_status_codes_and_chain_nothing() -> None:
    from prefect_storage.backends.forge import ForgeErrors, forge_call, status_kind
    from prefect_storage.exceptions import BackendUnavailableError, StorageAuthError, StorageError

    assert [status_kind(s) for s in (401, 403, 404, 422, 500)] == ["auth", "denied", "missing", "failed", "failed"]
    assert status_kind(422, missing=(404, 422)) == "missing"
    errors = ForgeErrors(auth="auth {what}", denied="denied {what}", failed="failed {what}: {detail}",
                         offline="offline {detail}", missing_suffix=" ({detail})")

    def boom() -> None:
        raise RuntimeError("token=abc")

    def classify(kind: str):  # type: ignore[no-untyped-def]
        return lambda exc: (kind, {"detail": "d"}) if isinstance(exc, RuntimeError) else None

    expected = {"auth": StorageAuthError, "denied": StorageAuthError, "missing": FlowNotFoundError,
                "failed": StorageError, "offline": BackendUnavailableError}
    for kind, cls in expected.items():
        with pytest.raises(cls) as info:
            forge_call(boom, classify(kind), errors, "nothing at x", what="reading")
        assert info.value.__context__ is None and info.value.__cause__ is None  # the SDK's exception is not chained
    assert str(errors.error("missing", "nothing at x", detail="Code")) == "nothing at x (Code)"
    assert str(errors.error("denied", "", what="reading")) == "denied reading"
    with pytest.raises(ValueError):  # not classified: propagates unchanged
        forge_call(lambda: int("x"), classify("auth"), errors, "", what="")
