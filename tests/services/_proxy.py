"""A TCP proxy in front of a test service that counts the bytes each way, can
"die" like a killed server (it drops every open connection and stops listening),
and can emulate a slower network by delaying every chunk it forwards. A new proxy
on the same ``port`` brings the "server" back, as a restarted service would."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable


class CountingProxy:
    """Forwards ``127.0.0.1:<port>`` to ``127.0.0.1:<target_port>``."""

    def __init__(self, target_port: int, delay_s: float = 0.0, port: int = 0) -> None:
        self.target_port = target_port
        self.delay_s = delay_s
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", port))
        self.listener.listen(128)
        self.port = self.listener.getsockname()[1]
        self.upstream_bytes = 0  # client -> server
        self.downstream_bytes = 0  # server -> client
        self.requests = 0  # connections accepted
        self.die_after_upstream: int | None = None
        #: called once when the proxy dies (e.g. to SIGKILL the real server at the same moment)
        self.on_kill: Callable[[], None] | None = None
        self.dead = False
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        threading.Thread(target=self._accept_loop, daemon=True, name="counting-proxy").start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def reset_counts(self) -> None:
        with self._lock:
            self.upstream_bytes = self.downstream_bytes = self.requests = 0

    def _accept_loop(self) -> None:
        while not self.dead:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(("127.0.0.1", self.target_port))
            except OSError:
                client.close()
                continue
            with self._lock:
                if self.dead:
                    client.close()
                    server.close()
                    return
                self.requests += 1
                self._sockets.update((client, server))
            threading.Thread(target=self._pump, args=(client, server, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, False), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, upstream: bool) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                with self._lock:
                    if upstream:
                        self.upstream_bytes += len(data)
                        over = self.die_after_upstream is not None and self.upstream_bytes >= self.die_after_upstream
                    else:
                        self.downstream_bytes += len(data)
                        over = False
                if over:
                    self.kill()
                    return
                if self.delay_s:
                    time.sleep(self.delay_s)
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def kill(self) -> None:
        """Drop every connection at once and refuse new ones, like a killed server."""
        with self._lock:
            first = not self.dead
            self.dead = True
        if first and self.on_kill is not None:
            self.on_kill()
        with contextlib.suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(OSError):
            self.listener.close()
        with self._lock:
            sockets = list(self._sockets)
        for s in sockets:
            # shutdown() (not just close()) wakes the threads blocked in recv() on it,
            # so the client sees the connection drop at once.
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                s.close()

    close = kill
