"""Webhook storage against a real loopback HTTP blob server with bearer auth."""

from __future__ import annotations

import itertools
import json
import logging
from pathlib import Path
from typing import Any

import pytest

from prefect_storage.exceptions import FlowNotFoundError, SecretNotFoundError, StorageAuthError
from prefect_storage.storage import Storage
from prefect_storage.storage.webhook import Webhook, WebhookConfigError
from tests.conformance.flows import FLOW_NAME, final_value, make_flow
from tests.conformance.suite import StorageConformance, StorageHarness
from tests.services.webhook import WEBHOOK_TOKEN, BlobServer

_paths = itertools.count()
AUTH = {"Authorization": "Bearer ${WEBHOOK_TOKEN}"}


def webhook_for(server: BlobServer, path: str | None = None, **kwargs: Any) -> Webhook:
    url = f"{server.url}/flows/{path or next(_paths)}"
    return Webhook(
        build_request_kwargs={"url": url, "headers": dict(AUTH)},
        build_request_http_method="PUT",
        get_flow_request_kwargs={"url": url, "headers": dict(AUTH)},
        get_flow_request_http_method="GET",
        **kwargs,
    )


def blob_path(storage: Webhook) -> str:
    return "/" + storage.get_flow_request_kwargs["url"].split("/", 3)[3]


class WebhookHarness(StorageHarness):
    def __init__(self, tmp_path: Path, server: BlobServer) -> None:
        super().__init__(tmp_path)
        self.server = server

    def pickle_storage(self, **kwargs: Any) -> Storage:
        return webhook_for(self.server, **kwargs)

    def script_storage(self, script_path: Path, **kwargs: Any) -> Storage:
        return webhook_for(self.server, stored_as_script=True, flow_script_path=str(script_path), **kwargs)

    def templated_storage(self, monkeypatch: pytest.MonkeyPatch, script_path: Path | None = None) -> tuple[Storage, str]:
        monkeypatch.setenv("WEBHOOK_TOKEN", WEBHOOK_TOKEN)
        if script_path is not None:
            return self.script_storage(script_path), WEBHOOK_TOKEN
        return self.pickle_storage(), WEBHOOK_TOKEN

    def tamper(self, storage: Storage, flow_name: str) -> None:
        path = blob_path(storage)  # type: ignore[arg-type]
        data = bytearray(self.server.blobs[path])
        data[-1] ^= 0xFF
        self.server.blobs[path] = bytes(data)

    def delete(self, storage: Storage, flow_name: str) -> None:
        del self.server.blobs[blob_path(storage)]  # type: ignore[arg-type]

    def subprocess_env(self) -> dict[str, str]:
        return {"WEBHOOK_TOKEN": WEBHOOK_TOKEN}


@pytest.fixture
def harness(tmp_path: Path, webhook_server: BlobServer, monkeypatch: pytest.MonkeyPatch) -> WebhookHarness:
    monkeypatch.setenv("WEBHOOK_TOKEN", WEBHOOK_TOKEN)
    return WebhookHarness(tmp_path, webhook_server)


class TestWebhookConformance(StorageConformance):
    pass


@pytest.fixture
def token(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("WEBHOOK_TOKEN", WEBHOOK_TOKEN)
    return WEBHOOK_TOKEN


def test_templates_render_in_headers_and_lists_at_request_time(webhook_server: BlobServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLOW_VERSION", "v7")
    monkeypatch.delenv("WEBHOOK_TOKEN", raising=False)
    monkeypatch.setenv("PREFECT__CONTEXT__SECRETS__WEBHOOK_TOKEN", WEBHOOK_TOKEN)  # found through the secret chain
    url = f"{webhook_server.url}/flows/templated"
    storage = Webhook(
        build_request_kwargs={"url": url, "headers": dict(AUTH), "params": [("version", "${FLOW_VERSION}")]},
        build_request_http_method="POST",
        get_flow_request_kwargs={"url": url, "headers": {"Authorization": "Bearer $WEBHOOK_TOKEN"}},
        get_flow_request_http_method="GET",
    )
    storage.add_flow(make_flow(value=2))
    storage.build()
    (stored,) = webhook_server.log_since(0)
    assert stored["method"] == "POST" and stored["query"] == "version=v7"
    assert stored["headers"]["Authorization"] == f"Bearer {WEBHOOK_TOKEN}"
    assert storage.build_responses[FLOW_NAME].json()["size"] == stored["size"]
    assert storage.build_responses[FLOW_NAME].request is None  # it held the rendered token
    serialized = json.dumps(storage.serialize())
    assert WEBHOOK_TOKEN not in serialized and "${FLOW_VERSION}" in serialized
    assert final_value(storage.get_flow(FLOW_NAME)) == 4


def test_environment_wins_over_the_secret_chain(webhook_server: BlobServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEBHOOK_TOKEN", WEBHOOK_TOKEN)
    monkeypatch.setenv("PREFECT__CONTEXT__SECRETS__WEBHOOK_TOKEN", "a-wrong-token")
    storage = webhook_for(webhook_server)
    storage.add_flow(make_flow())
    storage.build()  # would be a 401 with the secret's value


def test_missing_variable_is_named(webhook_server: BlobServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WEBHOOK_TOKEN", raising=False)
    storage = webhook_for(webhook_server)
    storage.add_flow(make_flow())
    with pytest.raises(SecretNotFoundError, match="WEBHOOK_TOKEN"):
        storage.build()
    assert webhook_server.log_since(0) == []  # nothing was sent


def test_wrong_token_is_an_auth_error_on_build_and_load(
    webhook_server: BlobServer, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("WEBHOOK_TOKEN", "not-the-token-0000")
    storage = webhook_for(webhook_server)
    storage.add_flow(make_flow())
    with pytest.raises(StorageAuthError, match="401") as build_error:
        storage.build()
    monkeypatch.setenv("WEBHOOK_TOKEN", WEBHOOK_TOKEN)
    storage.build()
    monkeypatch.setenv("WEBHOOK_TOKEN", "not-the-token-0000")
    with pytest.raises(StorageAuthError, match="refused to fetch the flow") as load_error:
        Storage.deserialize(storage.serialize()).get_flow(FLOW_NAME)
    for text in (str(build_error.value), str(load_error.value), caplog.text):
        assert "not-the-token-0000" not in text and WEBHOOK_TOKEN not in text


def test_missing_flow_is_not_found(webhook_server: BlobServer, token: str) -> None:
    storage = webhook_for(webhook_server, path="never-stored")
    storage.flows = {FLOW_NAME: FLOW_NAME}
    with pytest.raises(FlowNotFoundError, match="404"):
        storage.get_flow(FLOW_NAME)


def test_warm_load_transfers_no_payload(webhook_server: BlobServer, token: str) -> None:
    storage = webhook_for(webhook_server)
    storage.add_flow(make_flow(value=3))
    storage.build()
    agent_side = Storage.deserialize(json.loads(json.dumps(storage.serialize())))
    mark = len(webhook_server.log_since(0))
    assert final_value(agent_side.get_flow(FLOW_NAME)) == 6
    again = Storage.deserialize(storage.serialize())  # a new instance: the cache is on disk
    assert final_value(again.get_flow(FLOW_NAME)) == 6
    cold, warm = webhook_server.log_since(mark)
    assert cold["status"] == 200 and cold["response_size"] > 0
    assert warm["status"] == 304 and warm["response_size"] == 0
    assert warm["headers"]["If-None-Match"]


def test_changed_flow_is_downloaded_again(webhook_server: BlobServer, token: str) -> None:
    storage = webhook_for(webhook_server, path="changing")
    storage.add_flow(make_flow(value=3))
    storage.build()
    assert final_value(Storage.deserialize(storage.serialize()).get_flow(FLOW_NAME)) == 6
    newer = webhook_for(webhook_server, path="changing")
    newer.add_flow(make_flow(value=10))
    newer.build()
    assert final_value(Storage.deserialize(storage.serialize()).get_flow(FLOW_NAME)) == 20


@pytest.mark.parametrize("method", ["DELETE", "get", "HEAD"])
def test_method_whitelist(method: str) -> None:
    with pytest.raises(RuntimeError, match=f"HTTP method '{method}' not recognized"):
        Webhook({"url": "http://x"}, method, {"url": "http://x"}, "GET")
    with pytest.raises(RuntimeError, match=f"HTTP method '{method}' not recognized"):
        Webhook({"url": "http://x"}, "POST", {"url": "http://x"}, method)


def test_data_in_build_kwargs_is_overwritten_with_a_warning(webhook_server: BlobServer, token: str) -> None:
    storage = webhook_for(webhook_server)
    storage.build_request_kwargs["data"] = b"ignored"
    storage.add_flow(make_flow(value=5))
    with pytest.warns(RuntimeWarning, match="'data' found in build_request_kwargs"):
        storage.build()
    assert final_value(storage.get_flow(FLOW_NAME)) == 10


def test_script_path_is_checked_at_build_not_construction(webhook_server: BlobServer, token: str, tmp_path: Path) -> None:
    storage = webhook_for(webhook_server, stored_as_script=True)
    storage.add_flow(make_flow())
    with pytest.raises(RuntimeError, match="flow_script_path must be provided if stored_as_script=True"):
        storage.build()
    missing = webhook_for(webhook_server, stored_as_script=True, flow_script_path=str(tmp_path / "nope.py"))
    missing.add_flow(make_flow())
    with pytest.raises(RuntimeError, match="passed to flow_script_path does not exist"):
        missing.build()
    assert "flow_script_path" not in storage.serialize()


def test_one_flow_per_storage(webhook_server: BlobServer) -> None:
    storage = webhook_for(webhook_server)
    storage.add_flow(make_flow())
    with pytest.raises(WebhookConfigError, match="holds one flow"):
        storage.add_flow(make_flow(name="another flow"))
    assert list(storage.flows) == [FLOW_NAME]


def test_transient_server_errors_are_retried(webhook_server: BlobServer, token: str) -> None:
    storage = webhook_for(webhook_server)
    storage.add_flow(make_flow(value=6))
    webhook_server.fail_next = 2
    storage.build()
    webhook_server.fail_next = 1
    assert final_value(Storage.deserialize(storage.serialize()).get_flow(FLOW_NAME)) == 12
    assert [(r["method"], r["status"]) for r in webhook_server.log_since(0)] == [("PUT", 503), ("PUT", 503), ("PUT", 201), ("GET", 503), ("GET", 200)]
