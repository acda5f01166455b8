"""Smart-HTTP git server for the tests: ``git http-backend`` behind HTTP Basic auth.

Run as ``python -m tests.services._git_http_server --root DIR --port 0 --token TOKEN``;
it prints ``LISTENING <port>`` once it accepts connections. Any user name is
accepted with the token as password (as GitHub does with personal access tokens).

What ``http.server`` does not do for a CGI, this does: request bodies sent with
``Transfer-Encoding: chunked`` (git uses it for large pushes) are decoded before
they reach the backend, and the ``Git-Protocol`` header is passed as
``GIT_PROTOCOL`` so clients negotiate protocol v2. With ``--stats FILE`` one line
``METHOD PATH STATUS BYTES`` per request is appended to FILE (bytes sent back), which
the benchmarks use to count what a load transferred.
"""

from __future__ import annotations

import argparse
import base64
import http.server
import subprocess
import sys
import threading
import urllib.parse


def read_chunked(rfile) -> bytes:
    body = bytearray()
    while True:
        size_line = rfile.readline().split(b";")[0].strip()
        size = int(size_line or b"0", 16)
        if size == 0:
            while rfile.readline() not in (b"\r\n", b"\n", b""):
                pass  # trailers
            return bytes(body)
        body += rfile.read(size)
        rfile.readline()  # the CRLF after each chunk


class GitHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "prefect-storage-test-git/1"

    def log_message(self, format: str, *args: object) -> None:
        sys.stderr.write("%s\n" % (format % args))

    def _authorized(self) -> bool:
        header = self.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return False
        try:
            _, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except ValueError:
            return False
        return password == self.server.token  # type: ignore[attr-defined]

    def _deny(self) -> None:
        body = b"authentication required\n"
        self.send_response(401)
        self.send_header("WWW-Authenticate", 'Basic realm="git"')
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self._record(401, len(body))

    def _record(self, status: int, size: int) -> None:
        stats = self.server.stats  # type: ignore[attr-defined]
        if stats:
            with self.server.stats_lock, open(stats, "a") as fh:  # type: ignore[attr-defined]
                fh.write(f"{self.command} {self.path.split('?')[0]} {status} {size}\n")

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def _serve(self) -> None:
        if not self._authorized():
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                read_chunked(self.rfile)
            elif self.headers.get("Content-Length"):
                self.rfile.read(int(self.headers["Content-Length"]))
            self._deny()
            return
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            body = read_chunked(self.rfile)
        else:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        path, _, query = self.path.partition("?")
        env = {
            "PATH": "/usr/bin:/bin",
            "GIT_PROJECT_ROOT": self.server.root,  # type: ignore[attr-defined]
            "GIT_HTTP_EXPORT_ALL": "1",
            "REQUEST_METHOD": self.command,
            "PATH_INFO": urllib.parse.unquote(path),
            "QUERY_STRING": query,
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(len(body)),
            "REMOTE_USER": "git",
            "REMOTE_ADDR": self.client_address[0],
        }
        if self.headers.get("Git-Protocol"):
            env["GIT_PROTOCOL"] = self.headers["Git-Protocol"]
        if self.headers.get("Content-Encoding"):
            env["HTTP_CONTENT_ENCODING"] = self.headers["Content-Encoding"]
        proc = subprocess.run(["git", "http-backend"], input=body, env=env, capture_output=True)
        head, _, payload = proc.stdout.partition(b"\r\n\r\n")
        if not _:
            head, _, payload = proc.stdout.partition(b"\n\n")
        status = 200
        headers = []
        for line in head.decode("latin-1").splitlines():
            name, _, value = line.partition(":")
            if name.lower() == "status":
                status = int(value.strip().split()[0])
            elif name:
                headers.append((name, value.strip()))
        if proc.returncode != 0 and not head:
            status, payload = 500, proc.stderr
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)
        self._record(status, len(payload))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--root", required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--token", required=True)
    parser.add_argument("--stats")
    args = parser.parse_args(argv)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), GitHandler)
    server.root, server.token, server.stats = args.root, args.token, args.stats  # type: ignore[attr-defined]
    server.stats_lock = threading.Lock()  # type: ignore[attr-defined]
    print(f"LISTENING {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
