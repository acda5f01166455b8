"""A loopback blob server for Webhook storage tests (stdlib only).

* ``POST``/``PUT``/``PATCH`` to any path store the body (chunked too) and answer
  ``201`` with ``{"path", "size", "sha256", "etag"}`` and an ``ETag`` header;
* ``GET`` returns the bytes with their ``ETag``; ``If-None-Match`` gives ``304``;
  a missing path ``404``; ``DELETE`` gives ``204``;
* ``fail_next = N`` makes the next N requests answer ``503`` (retry tests);
* with a token, every request needs ``Authorization: Bearer <token>`` or gets ``401``;
* every request is logged (method, path, headers, request and response body sizes)
  for assertions: :attr:`BlobServer.requests`.

It runs in a thread of the test process, on 127.0.0.1 and a free port, over real HTTP.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import pytest

WEBHOOK_TOKEN = "webhook-token-5678"


@dataclass
class BlobServer:
    token: str | None = None
    blobs: dict[str, bytes] = field(default_factory=dict)
    requests: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    port: int = 0
    #: answer this many next requests with 503 (to exercise client retries)
    fail_next: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def reset(self) -> None:
        with self.lock:
            self.blobs.clear()
            self.requests.clear()
            self.fail_next = 0

    def log_since(self, index: int) -> list[dict[str, Any]]:
        with self.lock:
            return list(self.requests[index:])


def _etag(data: bytes) -> str:
    return '"' + hashlib.sha256(data).hexdigest()[:32] + '"'


def _handler(server: BlobServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def _body(self) -> bytes:
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                chunks = []
                while True:
                    size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                    if size == 0:
                        self.rfile.readline()
                        break
                    chunks.append(self.rfile.read(size))
                    self.rfile.readline()
                return b"".join(chunks)
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def _reply(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None, size_in: int = 0) -> None:
            with server.lock:
                server.requests.append(
                    {
                        "method": self.command,
                        "path": urlsplit(self.path).path,
                        "query": urlsplit(self.path).query,
                        "headers": dict(self.headers.items()),
                        "size": size_in,
                        "status": status,
                        "response_size": len(body),
                    }
                )
            self.send_response(status)
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if body and self.command != "HEAD":
                self.wfile.write(body)

        def _unavailable(self, size_in: int = 0) -> bool:
            with server.lock:
                if server.fail_next <= 0:
                    return False
                server.fail_next -= 1
            self._reply(503, b'{"error": "try again"}', {"Retry-After": "0"}, size_in=size_in)
            return True

        def _authorized(self) -> bool:
            return server.token is None or self.headers.get("Authorization") == f"Bearer {server.token}"

        def _store(self) -> None:
            body = self._body()
            if self._unavailable(len(body)):
                return
            if not self._authorized():
                self._reply(401, b'{"error": "unauthorized"}', size_in=len(body))
                return
            path = urlsplit(self.path).path
            with server.lock:
                server.blobs[path] = body
            etag = _etag(body)
            answer = json.dumps({"path": path, "size": len(body), "sha256": hashlib.sha256(body).hexdigest(), "etag": etag})
            self._reply(201, answer.encode(), {"ETag": etag, "Content-Type": "application/json"}, size_in=len(body))

        do_POST = do_PUT = do_PATCH = _store

        def do_GET(self) -> None:
            if self._unavailable():
                return
            if not self._authorized():
                self._reply(401, b'{"error": "unauthorized"}')
                return
            path = urlsplit(self.path).path
            with server.lock:
                data = server.blobs.get(path)
            if data is None:
                self._reply(404, b'{"error": "not found"}')
                return
            etag = _etag(data)
            if self.headers.get("If-None-Match") == etag:
                self._reply(304, b"", {"ETag": etag})
                return
            self._reply(200, data, {"ETag": etag, "Content-Type": "application/octet-stream"})

        def do_DELETE(self) -> None:
            if not self._authorized():
                self._reply(401)
                return
            with server.lock:
                found = server.blobs.pop(urlsplit(self.path).path, None)
            self._reply(204 if found is not None else 404)

    return Handler


def start_blob_server(token: str | None = None) -> tuple[BlobServer, ThreadingHTTPServer]:
    state = BlobServer(token=token)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    httpd.daemon_threads = True
    state.port = httpd.server_address[1]
    threading.Thread(target=httpd.serve_forever, name="webhook-blob-server", daemon=True).start()
    return state, httpd


@pytest.fixture(scope="session")
def webhook_server_session() -> Iterator[BlobServer]:
    """One blob server (bearer token :data:`WEBHOOK_TOKEN`) for the whole session."""
    state, httpd = start_blob_server(WEBHOOK_TOKEN)
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture
def webhook_server(webhook_server_session: BlobServer) -> BlobServer:
    """The session's blob server, emptied for this test."""
    webhook_server_session.reset()
    return webhook_server_session
