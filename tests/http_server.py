"""A real HTTP server on 127.0.0.1 serving registered files, some misbehaving."""

from __future__ import annotations

import socket
import threading
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Route:
    """How a file is served.

    Attributes:
        body: The file's bytes.
        status: Error status answered instead of the file (e.g. 404, 500).
        failures: Answer ``status`` this many times, then serve the file;
            ``None``: always answer ``status``.
        truncate: Announce the full Content-Length, send half, close.
        stall: Seconds to wait after sending half the body, before the rest.
    """

    body: bytes
    status: int | None = None
    failures: int | None = None
    truncate: bool = False
    stall: float = 0.0


class FileServer:
    """``ThreadingHTTPServer`` on an ephemeral port, run in a thread."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.hits: Counter[str] = Counter()
        self.stopping = threading.Event()
        self._httpd = _Server(("127.0.0.1", 0), _Handler)
        self._httpd.files = self
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, args=(0.05,), daemon=True
        )

    def start(self) -> FileServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()

    def serve(self, name: str, body: bytes, **behaviour: object) -> str:
        """Register ``body`` under ``name`` (see ``Route``); return its URL."""
        self.routes[name] = Route(body, **behaviour)
        return self.url(name)

    def url(self, name: str) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/{name}"


def closed_port() -> int:
    """A local port nobody listens on: connections to it are refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    files: FileServer

    def handle_error(self, request: object, client_address: object) -> None:
        """Stay quiet when a client gave up (timeouts, truncation tests)."""


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        files = self.server.files
        name = self.path.lstrip("/")
        files.hits[name] += 1
        route = files.routes.get(name)
        if route is None:
            self.send_error(404)
            return
        if route.status and (
            route.failures is None or files.hits[name] <= route.failures
        ):
            self.send_error(route.status)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(route.body)))
        self.end_headers()
        half = len(route.body) // 2
        self.wfile.write(route.body[:half])
        self.wfile.flush()
        if route.truncate:
            return
        files.stopping.wait(route.stall)
        self.wfile.write(route.body[half:])

    def log_message(self, format: str, *args: object) -> None:
        """Keep test output clean."""
