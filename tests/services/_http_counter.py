"""An HTTP reverse proxy that records every request (method, path, query) and the bytes
of each response, in front of a test service (moto, fake-gcs-server, Azurite).

Tests and benchmarks point a client at :attr:`CountingHTTPProxy.url` and then assert
on :attr:`requests`: "a repeat pull made one list request and no GET of an object".
"""

from __future__ import annotations

import dataclasses
import http.client
import http.server
import threading
import urllib.parse

_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade"}


@dataclasses.dataclass(frozen=True)
class Seen:
    method: str
    path: str
    query: str
    status: int
    size: int


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # headers and body leave in two writes: with Nagle on, a client's delayed ACK would
    # hold every body back ~40 ms, a cost the proxied service itself does not have
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            body = bytearray()
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return bytes(body)
                body += self.rfile.read(size)
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _forward(self) -> None:
        proxy: CountingHTTPProxy = self.server.proxy  # type: ignore[attr-defined]
        body = self._body()
        headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP}
        if body or self.command in ("PUT", "POST", "PATCH"):
            headers["Content-Length"] = str(len(body))
        conn = http.client.HTTPConnection("127.0.0.1", proxy.target_port, timeout=60)
        try:
            conn.request(self.command, self.path, body=body or None, headers=headers)
            response = conn.getresponse()
            data = response.read()
        finally:
            conn.close()
        parts = urllib.parse.urlsplit(self.path)
        # recorded before the answer goes out, so a client that got it always finds it counted
        proxy._record(Seen(self.command, urllib.parse.unquote(parts.path), parts.query, response.status, len(data)))
        self.send_response(response.status, response.reason)
        for key, value in response.getheaders():
            if key.lower() not in _HOP and key.lower() != "content-length":
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = do_PATCH = _forward


class CountingHTTPProxy:
    """Forwards ``http://127.0.0.1:<port>`` to ``127.0.0.1:<target_port>`` and records requests."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.server.daemon_threads = True
        self.server.proxy = self  # type: ignore[attr-defined]
        self.port = self.server.server_address[1]
        self._lock = threading.Lock()
        self.requests: list[Seen] = []
        threading.Thread(target=self.server.serve_forever, daemon=True, name="counting-http-proxy").start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _record(self, seen: Seen) -> None:
        with self._lock:
            self.requests.append(seen)

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()

    def bytes_sent(self) -> int:
        return sum(r.size for r in self.requests)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> CountingHTTPProxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
