"""HTTP plumbing shared by the simulator's origins: a threaded loopback server that hands each
request to a plain `app(Request) -> Response` callable and records what it saw.

Keeping sockets here lets the API logic stay ordinary functions, and the request log lets tests
prove what a client sent (e.g. that no Circle-Token ever reached the download origin).
"""

from __future__ import annotations

import json
import threading
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qsl, urlsplit


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: str
    headers: dict[str, str]  # names lower-cased: HTTP header names are case-insensitive
    body: bytes

    @property
    def params(self) -> dict[str, str]:
        return dict(parse_qsl(self.query, keep_blank_values=True))


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, status: int, payload: Any, headers: dict[str, str] | None = None) -> Response:
        return cls(status, json.dumps(payload).encode(),
                   {"Content-Type": "application/json; charset=utf-8", **(headers or {})})

    @classmethod
    def text(cls, status: int, text: str, content_type: str = "text/plain; charset=utf-8",
             headers: dict[str, str] | None = None) -> Response:
        return cls(status, text.encode(), {"Content-Type": content_type, **(headers or {})})


@dataclass(frozen=True)
class RequestRecord:
    origin: str  # "api" | "download"
    method: str
    path: str
    query: str
    headers: dict[str, str]  # names lower-cased
    status: int


class RequestLog:
    """Thread-safe, append-only (until cleared) list of every request both origins served."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: list[RequestRecord] = []

    def append(self, record: RequestRecord) -> None:
        with self._lock:
            self._records.append(record)

    def clear(self) -> None:
        with self._lock:
            self._records.clear()

    def snapshot(self) -> list[RequestRecord]:
        with self._lock:
            return list(self._records)

    def __iter__(self) -> Iterator[RequestRecord]:
        return iter(self.snapshot())

    def __len__(self) -> int:
        with self._lock:
            return len(self._records)

    def __getitem__(self, index: int | slice) -> RequestRecord | list[RequestRecord]:
        with self._lock:
            return self._records[index]


App = Callable[[Request], Response]


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # a hung client connection must never keep the process alive

    def __init__(self, address: tuple[str, int], origin: str, log: RequestLog) -> None:
        super().__init__(address, _Handler)
        self.app: App | None = None
        self.origin = origin
        self.log = log


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like the real services
    # Headers and body go out in separate writes: without TCP_NODELAY each keep-alive request
    # waits ~40 ms on Nagle's algorithm meeting the client's delayed ACK.
    disable_nagle_algorithm = True
    timeout = 30  # idle keep-alive connections give their thread back
    server: _Server

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_PATCH(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def _serve(self) -> None:
        split = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        request = Request(
            method=self.command,
            path=split.path,
            query=split.query,
            headers={name.lower(): value for name, value in self.headers.items()},
            body=self.rfile.read(length) if length else b"",
        )
        app = self.server.app
        assert app is not None, "serve() sets the app before the server accepts requests"
        try:
            response = app(request)
        except Exception:
            # A simulator bug: show it in the test output and answer like a failing server.
            traceback.print_exc()
            response = Response.json(500, {"message": "Internal server error."})
        # Recorded before answering, so a test that has its response also finds the record.
        self.server.log.append(RequestRecord(self.server.origin, request.method, request.path,
                                             request.query, request.headers, response.status))
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        self.wfile.write(response.body)

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: the request log is the record, and stderr noise would drown test output."""


class RunningServer:
    """One origin on (host, port): bound on creation (so its address is known), serving from
    `serve(app)` in a daemon thread until `stop()`."""

    def __init__(self, host: str, port: int, origin: str, log: RequestLog) -> None:
        self._server = _Server((host, port), origin, log)
        self.host = host
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"simulator-{origin}-{self.port}", daemon=True)

    @property
    def origin(self) -> str:
        return f"http://{self.host}:{self.port}"

    def serve(self, app: App) -> None:
        self._server.app = app
        self._thread.start()

    def stop(self) -> None:
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join(timeout=5)
        self._server.server_close()


class OneOriginSimulator:
    """A simulator serving one origin: `start()` binds and serves what `_app(origin)` returns,
    `stop()` shuts it down; a context manager, like the CircleCI `Simulator`."""

    def __init__(self, host: str, port: int) -> None:
        self.requests = RequestLog()
        self._host, self._port = host, port
        self._server: RunningServer | None = None

    @property
    def origin(self) -> str:
        if self._server is None:
            raise RuntimeError("the simulator is not running: call start() or use it as a context manager")
        return self._server.origin

    def _app(self, origin: str) -> App:
        raise NotImplementedError

    def start(self) -> Self:
        if self._server is None:
            server = RunningServer(self._host, self._port, origin="api", log=self.requests)
            server.serve(self._app(server.origin))
            self._server = server
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
        self._server = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
