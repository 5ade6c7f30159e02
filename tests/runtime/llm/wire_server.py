"""A local HTTP server speaking the vendors' LLM wire formats, for tests and benchmarks.

Every request is checked against the vendor's documented shape (`wire_rules`); a request that
breaks a rule gets the vendor's 400 error and is recorded in `violations`. Valid requests are
answered from a queue of scripted `Reply`s: JSON bodies, SSE or NDJSON streams (sent with
chunked encoding on a keep-alive HTTP/1.1 connection), delays, bad bodies, cut streams.
"""

from __future__ import annotations

import json
import socket
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.runtime.llm import wire_rules


@dataclass
class Reply:
    """One scripted answer. Exactly one of `json`, `raw`, `sse`, `ndjson` is used (json wins)."""

    status: int = 200
    json: Any = None
    raw: bytes | None = None
    sse: list[tuple[str | None, Any]] | None = None
    ndjson: list[Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    cut: bool = False
    """Streams only: drop the connection after the events instead of ending the body."""
    pace: float = 0.0
    """Streams only: seconds between pieces, like a model producing tokens."""


@dataclass
class Seen:
    """A request as the server received it."""

    vendor: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any


class WireServer:
    """The server; `base` is its root URL, `replies` the answers still to give."""

    def __init__(self, *, compatible: bool = False) -> None:
        self.compatible = compatible
        """Also validate like an OpenAI-compatible server: what it rejects gets its 500 (not a violation)."""
        self.replies: deque[Reply] = deque()
        self.requests: list[Seen] = []
        self.violations: list[str] = []
        self.rejected: list[str] = []
        """What the compatible-server validation refused (answered with a 500)."""
        self.handled_s = 0.0
        self.in_flight = 0
        self.max_in_flight = 0
        """Most requests the server was answering at one time."""
        self._lock = threading.Lock()
        self._httpd = _Server(("127.0.0.1", 0), _handler(self))
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True, name="wire-server")

    @property
    def base(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> WireServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def add(self, *replies: Reply) -> None:
        with self._lock:
            self.replies.extend(replies)

    def next_reply(self) -> Reply:
        with self._lock:
            if self.replies:
                return self.replies.popleft()
        return Reply(status=500, json={"error": {"message": "no scripted reply left", "type": "server_error"}})

    def __enter__(self) -> WireServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024
    """Listen backlog: concurrency tests open hundreds of connections at once."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        # NOTE: clients that time out or stop reading hang up on purpose in these tests.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def _handler(server: WireServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            super().setup()
            # NOTE: headers and body go out in separate writes; without this Nagle + delayed ACK add 40 ms.
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            started = time.perf_counter()
            url = urlsplit(self.path)
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {k.lower(): v for k, v in self.headers.items()}
            vendor, params = wire_rules.route(url.path)
            query = parse_qs(url.query)
            try:
                body = json.loads(raw)
            except ValueError:
                body = None
            server.requests.append(Seen(vendor, url.path, query, headers, body))
            problems = (["request body is not JSON"] if body is None
                        else wire_rules.check(vendor, params, query, headers, body))
            strict = wire_rules.compatible_problems(vendor, body) if server.compatible else []
            if problems:
                server.violations.extend(f"{vendor}: {p}" for p in problems)
                self._send_json(400, wire_rules.error_body(vendor, 400, "; ".join(problems)), {})
            elif strict:
                server.rejected.extend(strict)
                message = f"{len(strict)} validation errors:\n" + "\n".join(f"  {p}" for p in strict)
                self._send_json(500, {"error": {"message": message, "type": "internal_server_error"}}, {})
            else:
                self._answer(server.next_reply())
            server.handled_s += time.perf_counter() - started

        def _answer(self, reply: Reply) -> None:
            with server._lock:
                server.in_flight += 1
                server.max_in_flight = max(server.max_in_flight, server.in_flight)
            try:
                self._reply(reply)
            finally:
                with server._lock:
                    server.in_flight -= 1

        def _reply(self, reply: Reply) -> None:
            if reply.delay:
                time.sleep(reply.delay)
            if reply.json is not None or (reply.raw is None and reply.sse is None and reply.ndjson is None):
                self._send_json(reply.status, reply.json, reply.headers)
            elif reply.raw is not None:
                self._send(reply.status, "application/json", reply.raw, reply.headers)
            elif reply.sse is not None:
                frames = [(f"event: {name}\n" if name else "") + "data: "
                          + (data if isinstance(data, str) else json.dumps(data)) + "\n\n" for name, data in reply.sse]
                self._stream(reply, "text/event-stream", frames)
            else:
                lines = [(item if isinstance(item, str) else json.dumps(item)) + "\n" for item in reply.ndjson or ()]
                self._stream(reply, "application/x-ndjson", lines)

        def _send_json(self, status: int, body: Any, headers: dict[str, str]) -> None:
            self._send(status, "application/json", json.dumps(body).encode(), headers)

        def _send(self, status: int, kind: str, data: bytes, headers: dict[str, str]) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def _stream(self, reply: Reply, kind: str, pieces: list[str]) -> None:
            self.send_response(reply.status)
            self.send_header("Content-Type", kind)
            self.send_header("Transfer-Encoding", "chunked")
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            for piece in pieces:
                data = piece.encode()
                self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                self.wfile.flush()
                if reply.pace:
                    time.sleep(reply.pace)
            if reply.cut:
                self.close_connection = True
                self.wfile.flush()
                self.connection.shutdown(2)
                return
            self.wfile.write(b"0\r\n\r\n")

    return Handler
