"""Loopback sinks for notification tests (stdlib, plus ``cryptography`` for a TLS cert).

* :class:`SlackSink`: an HTTP server on 127.0.0.1 that records every JSON ``POST``
  (path and body) and answers ``200 ok``; a path under ``/fail`` answers ``500``.
* :class:`SmtpSink`: a small SMTP server (EHLO, AUTH PLAIN/LOGIN, MAIL, RCPT, DATA,
  QUIT), plain or wrapped in TLS with a self-signed certificate for 127.0.0.1, that
  records each message (envelope, login, parsed ``email.message.Message``).

Both run in threads of the test process on free ports.
"""

from __future__ import annotations

import base64
import datetime
import email
import ipaddress
import json
import socketserver
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest


@dataclass
class SlackSink:
    port: int = 0
    posts: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str = "/services/T000/B000/XXXX") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def bodies(self) -> list[Any]:
        with self.lock:
            return [p["json"] for p in self.posts]


def _slack_handler(sink: SlackSink) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with sink.lock:
                sink.posts.append({"path": self.path, "json": json.loads(body or b"null")})
            status, reply = (500, b"boom") if self.path.startswith("/fail") else (200, b"ok")
            self.send_response(status)
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

    return Handler


@pytest.fixture(scope="session")
def slack_sink_session() -> Iterator[SlackSink]:
    sink = SlackSink()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _slack_handler(sink))
    sink.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield sink
    server.shutdown()
    server.server_close()


@pytest.fixture
def slack_sink(slack_sink_session: SlackSink) -> SlackSink:
    with slack_sink_session.lock:
        slack_sink_session.posts.clear()
    return slack_sink_session


# ------------------------------------------------------------------------------- SMTP


@dataclass
class SmtpSink:
    port: int = 0
    tls: bool = False
    cert_file: str | None = None
    messages: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _smtp_handler(sink: SmtpSink) -> type[socketserver.StreamRequestHandler]:
    class Handler(socketserver.StreamRequestHandler):
        timeout = 10

        def _send(self, line: str) -> None:
            self.wfile.write(line.encode() + b"\r\n")
            self.wfile.flush()

        def handle(self) -> None:
            envelope: dict[str, Any] = {"rcpt": [], "login": None}
            self._send("220 127.0.0.1 test SMTP")
            while True:
                raw = self.rfile.readline()
                if not raw:
                    return
                line = raw.decode().rstrip("\r\n")
                verb = line.split(" ", 1)[0].upper()
                if verb in ("EHLO", "HELO"):
                    self._send("250-127.0.0.1")
                    self._send("250 AUTH PLAIN LOGIN")
                elif verb == "AUTH":
                    parts = line.split()
                    if parts[1].upper() == "PLAIN":
                        token = parts[2] if len(parts) > 2 else None
                        if token is None:
                            self._send("334 ")
                            token = self.rfile.readline().decode().strip()
                        _, user, password = base64.b64decode(token).decode().split("\0")
                    else:  # LOGIN
                        self._send("334 VXNlcm5hbWU6")
                        user = base64.b64decode(self.rfile.readline().strip()).decode()
                        self._send("334 UGFzc3dvcmQ6")
                        password = base64.b64decode(self.rfile.readline().strip()).decode()
                    envelope["login"] = (user, password)
                    self._send("235 2.7.0 Authentication successful")
                elif verb == "MAIL":
                    envelope["from"] = line.split(":", 1)[1].strip()
                    self._send("250 OK")
                elif verb == "RCPT":
                    envelope["rcpt"].append(line.split(":", 1)[1].strip())
                    self._send("250 OK")
                elif verb == "DATA":
                    self._send("354 End data with <CR><LF>.<CR><LF>")
                    chunks = []
                    while True:
                        data = self.rfile.readline()
                        if data in (b".\r\n", b""):
                            break
                        chunks.append(data[1:] if data.startswith(b"..") else data)
                    message = email.message_from_bytes(b"".join(chunks))
                    with sink.lock:
                        sink.messages.append({**envelope, "message": message})
                    envelope = {"rcpt": [], "login": envelope["login"]}
                    self._send("250 OK queued")
                elif verb == "QUIT":
                    self._send("221 Bye")
                    return
                elif verb in ("RSET", "NOOP"):
                    self._send("250 OK")
                else:
                    self._send("502 Command not implemented")

    return Handler


def _self_signed(folder: Path) -> tuple[str, str]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "smtp-cert.pem", folder / "smtp-key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return str(cert_file), str(key_file)


class _TLSServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    tls_context: ssl.SSLContext | None = None

    def get_request(self) -> tuple[Any, Any]:
        sock, addr = super().get_request()
        if self.tls_context is not None:
            sock = self.tls_context.wrap_socket(sock, server_side=True)
        return sock, addr


def start_smtp_sink(tls_folder: Path | None = None) -> tuple[SmtpSink, _TLSServer]:
    sink = SmtpSink(tls=tls_folder is not None)
    server = _TLSServer(("127.0.0.1", 0), _smtp_handler(sink))
    if tls_folder is not None:
        cert, key = _self_signed(tls_folder)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        server.tls_context = context
        sink.cert_file = cert
    sink.port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return sink, server


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    sink, server = start_smtp_sink()
    yield sink
    server.shutdown()
    server.server_close()


@pytest.fixture
def smtp_tls_sink(tmp_path: Path) -> Iterator[SmtpSink]:
    sink, server = start_smtp_sink(tmp_path)
    yield sink
    server.shutdown()
    server.server_close()
