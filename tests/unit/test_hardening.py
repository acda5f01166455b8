"""Issue 10 (hardening): each test failed before its fix; the item number is in the name."""

from __future__ import annotations

import base64
import json
import logging
import os
import stat
import struct
import sys
import threading
import traceback
import warnings

import cloudpickle
import pytest

from prefect_storage import exceptions as exc_mod
from prefect_storage.exceptions import (
    FlowIntegrityError,
    FlowStorageError,
    StorageConfigError,
)
from prefect_storage.serialization import flow_from_bytes_pickle, flow_to_bytes_pickle
from prefect_storage.serialization.flow_pickle import MAGIC, _digest
from tests.conformance.flows import final_value, make_flow

# ---------------------------------------------------------------------------- 1, 20, 21: signatures


def _classic_json(flow_value: int = 5) -> bytes:
    payload = cloudpickle.dumps(make_flow(value=flow_value), protocol=4)
    return json.dumps({"flow": base64.b64encode(payload).decode(), "versions": {"python": "3.11.7"}}).encode()


def _unsigned_envelope() -> bytes:
    return flow_to_bytes_pickle(make_flow(value=2))


@pytest.mark.parametrize("kind", ["bare", "classic", "unsigned"])
def test_1_a_signing_key_alone_refuses_unsigned_formats(monkeypatch: pytest.MonkeyPatch, kind: str) -> None:
    data = {"bare": lambda: cloudpickle.dumps(make_flow()), "classic": _classic_json, "unsigned": _unsigned_envelope}[kind]()
    monkeypatch.setenv("PREFECT_STORAGE_SIGNING_KEY", "a-long-signing-key")
    loaded: list[object] = []
    monkeypatch.setattr(cloudpickle, "loads", lambda *a, **k: loaded.append(a) or None)
    with pytest.raises(FlowIntegrityError, match="not signed"):
        flow_from_bytes_pickle(data, source="x")
    assert loaded == []  # refused before anything was unpickled


def test_1_unsigned_formats_load_with_explicit_opt_in(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PREFECT_STORAGE_SIGNING_KEY", "a-long-signing-key")
    monkeypatch.setenv("PREFECT_STORAGE_ALLOW_UNSIGNED", "true")
    assert final_value(flow_from_bytes_pickle(_classic_json(5))) == 10
    monkeypatch.setenv("PREFECT_STORAGE_REQUIRE_SIGNATURE", "true")  # require wins over the opt-in
    with pytest.raises(FlowIntegrityError, match="not signed"):
        flow_from_bytes_pickle(_classic_json(5))


def test_1_signed_envelopes_still_load(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PREFECT_STORAGE_SIGNING_KEY", "a-long-signing-key")
    assert final_value(flow_from_bytes_pickle(flow_to_bytes_pickle(make_flow(value=4)))) == 8


def test_20_classic_json_refused_when_signature_required(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PREFECT_STORAGE_REQUIRE_SIGNATURE", "true")
    with pytest.raises(FlowIntegrityError, match="not signed"):
        flow_from_bytes_pickle(_classic_json())


def test_21_hmac_covers_the_payload(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PREFECT_STORAGE_SIGNING_KEY", "a-long-signing-key")
    signed = flow_to_bytes_pickle(make_flow(value=1))
    (length,) = struct.unpack_from(">I", signed, len(MAGIC))
    header = json.loads(signed[len(MAGIC) + 4 : len(MAGIC) + 4 + length])
    evil = cloudpickle.dumps(make_flow(value=666))
    header["n"] = len(evil)
    header["sha256"] = _digest({k: v for k, v in header.items() if k != "sig"}, evil)
    encoded = json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
    forged = MAGIC + struct.pack(">I", len(encoded)) + encoded + evil
    with pytest.raises(FlowIntegrityError, match="wrong signature"):
        flow_from_bytes_pickle(forged)


# ---------------------------------------------------------------------------- 3: deserialize imports


def test_3_deserialize_never_imports_an_unlisted_module(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    from prefect_storage.storage import Storage

    marker = tmp_path / "ran"
    (tmp_path / "evil_side_effect_mod.py").write_text(f"open({str(marker)!r}, 'w').write('x')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(StorageConfigError, match="PREFECT_STORAGE_STORAGE_MODULES"):
        Storage.deserialize({"type": "X", "__module__": "evil_side_effect_mod"})
    assert not marker.exists()
    sys.modules.pop("evil_side_effect_mod", None)


def test_3_allow_listed_module_is_imported(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    from prefect_storage.storage import Storage

    (tmp_path / "my_custom_storage_mod.py").write_text(
        "from prefect_storage.storage.local import Local\nclass MyLocalXYZ(Local):\n    pass\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("PREFECT_STORAGE_STORAGE_MODULES", "other, my_custom_storage_mod")
    storage = Storage.deserialize({"type": "MyLocalXYZ", "__module__": "my_custom_storage_mod", "directory": str(tmp_path)})
    assert type(storage).__name__ == "MyLocalXYZ"
    sys.modules.pop("my_custom_storage_mod", None)


# ---------------------------------------------------------------------------- 5: chained exceptions


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    while exc is not None and exc not in seen:
        seen.append(exc)
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
    return seen


def assert_chain_clean(exc: BaseException, secret: str) -> None:
    for link in _chain(exc):
        assert secret not in str(link), f"{type(link).__name__} in the chain holds the secret"
        assert secret not in repr(link.args)
    assert secret not in "".join(traceback.format_exception(exc))


def test_5_webhook_connection_error_chain_holds_no_token(monkeypatch: pytest.MonkeyPatch) -> None:
    from prefect_storage.storage import Webhook

    monkeypatch.setenv("HOOK_TOKEN", "tok-abcdef-123456")
    monkeypatch.setenv("PREFECT_STORAGE_RETRY_ATTEMPTS", "1")
    hook = Webhook(
        build_request_kwargs={"url": "http://127.0.0.1:9/x?token=${HOOK_TOKEN}"},
        build_request_http_method="PUT",
        get_flow_request_kwargs={"url": "http://127.0.0.1:9/x?token=${HOOK_TOKEN}"},
        get_flow_request_http_method="GET",
    )
    hook._http().mount("http://", __import__("requests").adapters.HTTPAdapter(max_retries=0))
    hook.add_flow(make_flow())
    with pytest.raises(exc_mod.BackendUnavailableError) as info:
        hook.get_flow(make_flow().name)
    assert_chain_clean(info.value, "tok-abcdef-123456")


def test_5_object_store_translation_drops_the_sdk_exception(monkeypatch: pytest.MonkeyPatch) -> None:
    from prefect_storage.backends.objects import ObjectStore

    class Store(ObjectStore):
        scheme, service = "x", "X"

        def translate(self, exc, key, what):  # type: ignore[no-untyped-def]
            return FlowStorageError("failed")

        get = get_if_changed = put = head = None  # type: ignore[assignment]

        def is_transient(self, exc):  # type: ignore[no-untyped-def]
            return False

    def fail() -> None:
        raise RuntimeError("http://u:s3cr3t-value-xyz@host/")

    with pytest.raises(FlowStorageError) as info:
        Store("b")._call(fail, "k", "get")
    assert_chain_clean(info.value, "s3cr3t-value-xyz")


# ---------------------------------------------------------------------------- 6: typed errors


def test_6_long_flow_name_gets_a_location_that_fits(tmp_path) -> None:
    from prefect_storage.storage import Local

    storage = Local(directory=str(tmp_path), add_default_labels=False)
    flow = make_flow(name="n" * 10_000)
    location = storage.add_flow(flow)
    assert len(os.path.basename(os.path.dirname(location))) <= 100
    assert storage.get_flow(flow.name).name == flow.name


def test_6_disk_errors_are_typed_and_still_oserror(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    import errno

    from prefect_storage.backends import local as backend

    def full(*a: object, **k: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(backend.os, "fsync", full)
    with pytest.raises(FlowStorageError, match="No space left") as info:
        backend.atomic_write(tmp_path / "f", b"x")
    assert isinstance(info.value, OSError)
    assert [p for p in os.listdir(tmp_path)] == []


@pytest.mark.parametrize(
    "data, builtin",
    [
        ({"type": "S3"}, TypeError),
        ({"type": "S3", "bucket": "b", "client_options": "x"}, ValueError),
        ({"type": "Local", "directory": 5}, TypeError),
        ({"type": "ObjectStorage"}, ValueError),
        ({"type": "Storage"}, ValueError),
    ],
)
def test_6_bad_serialized_storage_is_typed(data: dict, builtin: type) -> None:
    from prefect_storage.storage import Storage

    with pytest.raises(StorageConfigError) as info:
        Storage.deserialize(data)
    assert isinstance(info.value, builtin)


def test_6_s3_arguments_checked_at_construction() -> None:
    from prefect_storage.storage import S3

    with pytest.raises(StorageConfigError, match="client_options"):
        S3(bucket="b", client_options="x")  # type: ignore[arg-type]
    with pytest.raises(StorageConfigError, match="bucket"):
        S3(bucket=None)  # type: ignore[arg-type]


def test_6_labels_as_a_string_refused(tmp_path) -> None:
    from prefect_storage.storage import Local

    with pytest.raises(StorageConfigError, match="labels"):
        Local(directory=str(tmp_path), labels="abc")  # type: ignore[arg-type]
    with pytest.raises(StorageConfigError, match="secrets"):
        Local(directory=str(tmp_path), secrets="abc")  # type: ignore[arg-type]


def test_6_sys_exit_in_a_script_is_a_typed_error() -> None:
    from prefect_storage.serialization.extract import extract_flow_from_file

    with pytest.raises(exc_mod.FlowDeserializationError, match="exit"):
        extract_flow_from_file(file_contents="import sys\nsys.exit(3)\n")


def test_6_deep_webhook_kwargs_refused_at_construction() -> None:
    from prefect_storage.storage import Webhook

    deep: dict = {}
    node = deep
    for _ in range(5000):
        node["a"] = {}
        node = node["a"]
    with pytest.raises(StorageConfigError, match="nested"):
        Webhook(
            build_request_kwargs={"url": "http://x", "json": deep},
            build_request_http_method="PUT",
            get_flow_request_kwargs={"url": "http://x"},
            get_flow_request_http_method="GET",
        )


def test_6_missing_module_is_typed() -> None:
    from prefect_storage.storage import Module

    storage = Module("no_such_module_at_all_xyz")
    storage.add_flow(make_flow())
    with pytest.raises(FlowStorageError, match="no_such_module_at_all_xyz") as info:
        storage.get_flow(make_flow().name)
    assert isinstance(info.value, ModuleNotFoundError)


# ---------------------------------------------------------------------------- 7: same slug


def test_7_names_with_one_slug_get_distinct_locations(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    from prefect_storage.storage import Local, base

    monkeypatch.setattr(base, "timestamp_slug", lambda now=None: "same-tick")
    import prefect_storage.storage.local as local_mod

    monkeypatch.setattr(local_mod, "timestamp_slug", lambda now=None: "same-tick")
    storage = Local(directory=str(tmp_path), add_default_labels=False)
    a = storage.add_flow(make_flow(name="Coll A", value=1))
    b = storage.add_flow(make_flow(name="coll-a", value=2))
    assert a != b
    assert storage.get_flow("Coll A").name == "Coll A"
    assert final_value(storage.get_flow("coll-a")) == 4


def test_7_get_flow_checks_the_loaded_name(tmp_path) -> None:
    from prefect_storage.storage import Local

    storage = Local(directory=str(tmp_path), add_default_labels=False)
    location = storage.add_flow(make_flow(name="one"))
    storage.flows["two"] = location
    with pytest.raises(FlowStorageError, match="'one'"):
        storage.get_flow("two")


# ---------------------------------------------------------------------------- 8: result locations


def test_8_local_result_location_stays_inside(tmp_path) -> None:
    from prefect_storage.results import LocalResult

    result = LocalResult(dir=str(tmp_path / "results"), location="{flow_name}.out")
    with pytest.raises(StorageConfigError, match="outside"):
        result.write(1, flow_name="../../../x")
    assert not (tmp_path.parent / "x.out").exists()
    written = result.write(2, flow_name="ok")
    assert written.location == str(tmp_path / "results" / "ok.out")


# ---------------------------------------------------------------------------- 9, 10, 22: local files


def test_9_stale_temporary_files_are_cleaned(tmp_path) -> None:
    from prefect_storage.backends.local import atomic_write

    stale = tmp_path / ".tmp-abc123.part"
    stale.write_bytes(b"x" * 10)
    old = os.path.getmtime(stale) - 7200
    os.utime(stale, (old, old))
    fresh = tmp_path / ".tmp-fresh1.part"  # another writer may still be busy with this one
    fresh.write_bytes(b"y")
    atomic_write(tmp_path / "flow", b"data")
    assert not stale.exists()
    assert fresh.exists()


def test_9_temporary_file_of_a_dead_writer_is_cleaned_at_once(tmp_path) -> None:
    import socket
    import subprocess

    from prefect_storage.backends.local import atomic_write

    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    dead = tmp_path / f".tmp-{socket.gethostname()}-{proc.pid}-xyz.part"
    dead.write_bytes(b"x")
    atomic_write(tmp_path / "flow", b"data")
    assert not dead.exists()


def test_10_flow_files_no_wider_than_their_folder(tmp_path) -> None:
    from prefect_storage.backends.local import atomic_write

    folder = tmp_path / "private"
    folder.mkdir(mode=0o700)
    os.chmod(folder, 0o700)
    atomic_write(folder / "f", b"x")
    assert stat.S_IMODE(os.stat(folder / "f").st_mode) == 0o600
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o750)
    atomic_write(shared / "f", b"x")
    assert stat.S_IMODE(os.stat(shared / "f").st_mode) == 0o640


def test_10_home_and_registry_are_private(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "newhome"
    monkeypatch.setenv("PREFECT_STORAGE_HOME", str(home))
    old = os.umask(0o022)
    try:
        from prefect_storage.registry import Registry
        from prefect_storage.storage import Local

        Local()
        Registry()
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(home).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(home / "prefect_storage.db").st_mode) == 0o600


def test_22_readers_never_see_a_partial_write(tmp_path) -> None:
    from prefect_storage.backends.local import atomic_write

    path = tmp_path / "flow"
    payloads = [bytes([i]) * (2 * 1024 * 1024) for i in range(2)]
    atomic_write(path, payloads[0])
    bad: list[str] = []
    done = threading.Event()

    def read() -> None:
        while not done.is_set():
            try:
                data = path.read_bytes()
            except FileNotFoundError:
                bad.append("missing")
                continue
            if data not in payloads:
                bad.append(f"partial {len(data)}")

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for i in range(30):
            atomic_write(path, payloads[i % 2])
    finally:
        done.set()
        reader.join()
    assert bad == []


# ---------------------------------------------------------------------------- 11, 23: redaction


def test_11_redaction_keeps_unrelated_words() -> None:
    from prefect_storage.secrets import redact, remember_secret

    remember_secret("conn")
    assert redact("Could not connect to host") == "Could not connect to host"
    assert redact("value=conn; next") == "value=***; next"


def test_23_longest_secret_first() -> None:
    from prefect_storage.secrets import redact, remember_secret

    remember_secret("abcd1234")
    remember_secret("abcd1234-and-more-9876")
    assert redact("x abcd1234-and-more-9876 y") == "x *** y"
    assert "and-more" not in redact("abcd1234-and-more-9876")


def test_23_traceback_text_is_redacted(caplog: pytest.LogCaptureFixture) -> None:
    from prefect_storage.log import get_logger
    from prefect_storage.secrets import remember_secret

    remember_secret("tb-secret-55667788")
    logger = get_logger("test.tb")
    with caplog.at_level(logging.ERROR, logger="prefect_storage"):
        try:
            raise RuntimeError("boom tb-secret-55667788")
        except RuntimeError:
            logger.exception("failed")
    text = "\n".join(logging.Formatter().format(r) for r in caplog.records)
    assert "boom ***" in text
    assert "tb-secret-55667788" not in text


# ---------------------------------------------------------------------------- 12: context secrets


def test_12_context_secrets_are_honoured() -> None:
    import prefect_storage
    from prefect_storage.secrets import Secret, find, render

    ctx = prefect_storage.context
    with ctx(secrets={"CTX_ONLY_SECRET": "from-context-123"}):
        assert find("CTX_ONLY_SECRET") == "from-context-123"
        assert render("${CTX_ONLY_SECRET}") == "from-context-123"
        assert Secret("CTX_ONLY_SECRET").get() == "from-context-123"
    assert find("CTX_ONLY_SECRET") is None


# ---------------------------------------------------------------------------- 13, 14: registry path, CLI


@pytest.mark.parametrize("form", ["relative", "absolute", "home"])
def test_13_a_path_is_a_sqlite_registry(tmp_path, monkeypatch: pytest.MonkeyPatch, form: str) -> None:
    from prefect_storage.registry.engine import registry_url

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path))
    given = {"relative": "elsewhere/custom.db", "absolute": str(tmp_path / "abs" / "r.db"), "home": "~/h/r.db"}[form]
    expected = {"relative": tmp_path / "elsewhere/custom.db", "absolute": tmp_path / "abs/r.db", "home": tmp_path / "h/r.db"}[form]
    assert registry_url(given) == f"sqlite:///{expected}"
    from prefect_storage.registry import Registry

    Registry(given)
    assert expected.exists()


def test_14_cli_prints_one_line_for_a_bad_registry() -> None:
    from click.testing import CliRunner

    from prefect_storage.cli import cli

    result = CliRunner().invoke(cli, ["--registry", "mysql+nosuchdriver://x/y", "flows", "ls"])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert "Error:" in result.output


def test_14_cli_bug_says_it_is_a_bug(monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from prefect_storage.cli import cli
    from prefect_storage.registry import Registry

    def boom(*a: object, **k: object) -> None:
        raise ZeroDivisionError("bug here")

    monkeypatch.setattr(Registry, "__init__", boom)
    result = CliRunner().invoke(cli, ["flows", "ls"])
    assert result.exit_code == 70
    assert "bug" in result.output.lower() and "ZeroDivisionError" in result.output


# ---------------------------------------------------------------------------- 15: classic SDK errors


def test_15_s3_errors_are_also_client_errors() -> None:
    from botocore.exceptions import ClientError

    from prefect_storage.backends.s3 import S3Store

    store = S3Store("bucket", {}, {})
    store._safe_bucket_exists = lambda: True  # type: ignore[method-assign]
    sdk = ClientError({"Error": {"Code": "NoSuchKey", "Message": "nope"}}, "GetObject")
    error = store.translate(sdk, "k", "download")
    assert isinstance(error, exc_mod.FlowNotFoundError)
    assert isinstance(error, ClientError)
    assert error.response["Error"]["Code"] == "NoSuchKey"
    assert "Flow not found in S3" in str(error)
    import pickle

    assert isinstance(pickle.loads(pickle.dumps(error)), exc_mod.FlowNotFoundError)


def test_15_webhook_http_errors_are_also_http_errors() -> None:
    import requests

    from prefect_storage.storage.webhook import Webhook

    class Response:
        status_code, reason = 500, "Server Error"

    with pytest.raises(requests.HTTPError) as info:
        Webhook._check(Response(), {"url": "http://x"}, "store the flow")
    assert isinstance(info.value, FlowStorageError)
    Response.status_code = 404
    with pytest.raises(exc_mod.FlowNotFoundError) as info2:
        Webhook._check(Response(), {"url": "http://x"}, "store the flow")
    assert isinstance(info2.value, requests.HTTPError)


def test_15_github_missing_is_unknown_object() -> None:
    import github

    from prefect_storage.backends.github import GitHubRepo

    api = GitHubRepo.__new__(GitHubRepo)
    api.name, api.base_url = "org/repo", "https://api.github.com"

    def missing() -> None:
        raise github.UnknownObjectException(404, {"message": "Not Found"}, {})

    with pytest.raises(github.UnknownObjectException) as info:
        api._call(missing, "reading", "File 'x' not found in repo 'org/repo', ref 'main'.")
    assert isinstance(info.value, exc_mod.FlowNotFoundError)


# ---------------------------------------------------------------------------- 16-19: classic details


def test_16_docker_classic_details(monkeypatch: pytest.MonkeyPatch) -> None:
    from prefect_storage.storage import Docker

    monkeypatch.setenv("DOCKER_HOST", "tcp://127.0.0.1:2375")
    storage = Docker(python_dependencies=["pandas"])
    assert storage.python_dependencies == ["pandas", "wheel"]
    assert "PIP_BREAK_SYSTEM_PACKAGES" not in storage.env_vars
    assert "PIP_DISABLE_PIP_VERSION_CHECK" not in storage.env_vars
    spec = storage._dockerfile_spec()
    assert spec.env_vars["PIP_BREAK_SYSTEM_PACKAGES"] == "1"
    assert storage.base_url == "tcp://127.0.0.1:2375"
    monkeypatch.delenv("DOCKER_HOST")
    assert Docker().base_url == "unix://var/run/docker.sock"
    assert callable(storage.pull_image) and callable(storage.push_image)
    script = Docker(stored_as_script=True)
    script.add_flow(make_flow())  # classic: no error until the Dockerfile is made
    with pytest.raises(StorageConfigError, match="path"):
        script.create_dockerfile_object("/tmp/unused-dir-xyz")


def test_17_azure_connection_string_in_memory_only(monkeypatch: pytest.MonkeyPatch) -> None:
    import pickle

    from prefect_storage.results import AzureResult
    from prefect_storage.storage import Azure

    conn = "DefaultEndpointsProtocol=http;AccountName=a;AccountKey=azure-key-value-xyz;BlobEndpoint=http://127.0.0.1:1/a;"
    monkeypatch.setenv("AZ_CONN_SECRET", conn)
    storage = Azure(container="c", connection_string_secret="AZ_CONN_SECRET")
    assert storage.connection_string == conn
    assert "azure-key-value-xyz" not in json.dumps(storage.serialize())
    assert b"azure-key-value-xyz" not in pickle.dumps(storage)
    result = AzureResult(container="c", connection_string=conn)
    assert result.connection_string == conn
    assert b"azure-key-value-xyz" not in pickle.dumps(result)


def test_18_git_warnings_are_logged_too(caplog: pytest.LogCaptureFixture) -> None:
    from prefect_storage.storage import Git

    with caplog.at_level(logging.WARNING, logger="prefect_storage"), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        Git(flow_path="f.py", repo="org/repo", use_ssh=True, git_token_secret_name="TOKEN")
    assert any("SSH will be used" in str(w.message) for w in caught)
    assert any("SSH will be used" in r.getMessage() and r.name == "prefect_storage.storage.Git" for r in caplog.records)


# ---------------------------------------------------------------------------- 25: GCS auth


@pytest.mark.parametrize("status", [401, 403])
def test_25_gcs_auth_errors_map_to_auth(status: int) -> None:
    from google.api_core import exceptions as gex

    from prefect_storage.backends.gcs import GCSStore

    store = GCSStore.__new__(GCSStore)
    store.container = "b"
    error = store.translate(gex.from_http_status(status, "denied"), "k", "download")
    assert isinstance(error, exc_mod.StorageAuthError)


def test_5_hidden_contexts_are_dropped_by_storage_entry_points(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    from prefect_storage.storage import Local

    storage = Local(directory=str(tmp_path), add_default_labels=False)
    location = storage.add_flow(make_flow())

    def read(self: object, loc: str) -> bytes:
        try:
            raise ConnectionError("https://host/?token=chain-secret-0099")
        except ConnectionError:
            raise FlowStorageError("could not read") from None

    monkeypatch.setattr(Local, "_read", read)
    with pytest.raises(FlowStorageError) as info:
        storage.get_flow(make_flow().name)
    assert location
    assert_chain_clean(info.value, "chain-secret-0099")
