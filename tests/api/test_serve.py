"""The production server: `agentstage ui-api` and `agentstage ui` as real processes over loopback (uvicorn),
including what slow and idle clients and many open event streams do to it."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
import pytest

from agentstage.api.serve import parse_addr

AGENTSTAGE = str(Path(sys.executable).with_name("agentstage"))


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTSTAGE_")}
    return {**env, "AGENTSTAGE_HOME": str(tmp_path / "home"), "AGENTSTAGE_PROVIDER": "scripted",
            "AGENTSTAGE_LOG_LEVEL": "WARNING"}


def _wait_ready(url: str, process: subprocess.Popen, path: str = "/readyz") -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, "the server exited"
        try:
            if httpx.get(f"{url}{path}", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError("server not ready")


def _stop(process: subprocess.Popen) -> int:
    process.send_signal(signal.SIGTERM)
    return process.wait(timeout=30)


def test_ui_api_serves_runs_and_a_live_event_stream(tmp_path: Path) -> None:
    env = _env(tmp_path)
    key = subprocess.run([AGENTSTAGE, "ui-admin", "create-key", "--role", "operator"], env=env, check=True,
                         capture_output=True, text=True).stdout.strip()
    port = _port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([AGENTSTAGE, "ui-api", "--port", str(port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _wait_ready(url, server)
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=30) as client:
            assert client.get("/api/v1/runs").status_code == 200
            assert httpx.get(f"{url}/api/v1/runs").status_code == 401
            run = client.post("/api/v1/runs", json={"input": "calculate 6 * 7"}).json()
            with client.stream("GET", f"/api/v1/runs/{run['run_id']}/events/stream",
                               headers={"Last-Event-ID": "0"}) as stream:
                assert stream.headers["content-type"] == "text/event-stream"
                types = [json.loads(line[6:])["type"] for line in stream.iter_lines() if line.startswith("data: ")]
        assert types[0] == "run.started" and types[-1] == "run.completed"
    finally:
        code = _stop(server)
    assert code == 0


def test_ui_prints_a_one_time_login_link(tmp_path: Path) -> None:
    port = _port()
    server = subprocess.Popen([AGENTSTAGE, "ui", "--ui-addr", f"127.0.0.1:{port}"], env=_env(tmp_path),
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        line = ""
        while "login=" not in line:
            line = server.stderr.readline()
            assert line, "ui exited before printing its URL"
        token = re.search(r"#login=([\w-]+)", line).group(1)
        url = f"http://127.0.0.1:{port}"
        _wait_ready(url, server)
        assert httpx.get(f"{url}/api/v1/auth/me").status_code == 401
        login = httpx.post(f"{url}/api/v1/auth/login", json={"token": token})
        assert login.status_code == 201
        me = httpx.get(f"{url}/api/v1/auth/me", headers={"X-API-Key": login.json()["secret"]})
        assert me.json()["role"] == "admin"
        assert httpx.post(f"{url}/api/v1/auth/login", json={"token": token}).status_code == 401
    finally:
        _stop(server)


@pytest.mark.parametrize("addr", ["7070", "host:", ":70", "h:99999"])
def test_bad_addresses_are_refused(addr: str) -> None:
    with pytest.raises(ValueError):
        parse_addr(addr)


def test_ui_api_refuses_a_bad_address_with_usage_exit(tmp_path: Path) -> None:
    result = subprocess.run([AGENTSTAGE, "ui-api", "--ui-addr", "nope"], env=_env(tmp_path), capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 2
    assert "host:port" in result.stderr and "Traceback" not in result.stderr


def test_ui_api_with_an_unusable_store_exits_3_with_one_line(tmp_path: Path) -> None:
    (tmp_path / "not-a-dir").write_text("")
    env = {**_env(tmp_path), "AGENTSTAGE_DB": str(tmp_path / "not-a-dir" / "x.db")}
    result = subprocess.run([AGENTSTAGE, "ui-api", "--port", str(_port())], env=env, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 3
    assert "state store" in result.stderr and "Traceback" not in result.stderr


@contextmanager
def _ui_api(tmp_path: Path, keys: int = 1, flags: tuple[str, ...] = (),
            **settings: str) -> Iterator[tuple[str, list[str], subprocess.Popen]]:
    """A real `agentstage ui-api` on a free loopback port with `keys` viewer keys; stopped with SIGTERM (exit 0)."""
    env = {**_env(tmp_path), **{f"AGENTSTAGE_{name.upper()}": value for name, value in settings.items()}}
    secrets = [subprocess.run([AGENTSTAGE, "ui-admin", "create-key", "--role", "viewer"], env=env, check=True,
                              capture_output=True, text=True).stdout.strip() for _ in range(keys)]
    port = _port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path / "ui-api.stderr"
    with log.open("wb") as sink:
        server = subprocess.Popen([AGENTSTAGE, "ui-api", "--port", str(port), *flags], env=env,
                                  stdout=subprocess.DEVNULL, stderr=sink)
    try:
        # NOTE: /healthz, not /readyz: a distributed server without Redis serves, but is not ready.
        _wait_ready(url, server, "/healthz")
        yield url, secrets, server
    finally:
        code = _stop(server)
    assert code == 0, log.read_text()[-2000:]


def _connect(url: str) -> socket.socket:
    host, port = parse_addr(url.removeprefix("http://"))
    sock = socket.create_connection((host, port), timeout=30)
    return sock


def _head(sock: socket.socket) -> bytes:
    """Read a response's status line and headers."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        assert chunk, "the server closed the connection"
        data += chunk
    return data


def test_half_sent_requests_idle_connections_and_open_streams_do_not_stop_healthz(tmp_path: Path) -> None:
    with _ui_api(tmp_path, keys=3, api_header_timeout="120", api_keepalive_timeout="120") as (url, keys, _), \
            ExitStack() as held:
        for n in range(100):
            half = held.enter_context(_connect(url))
            half.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Pad: " + b"x" * n)
        for _ in range(100):
            idle = held.enter_context(_connect(url))
            idle.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            assert _head(idle).startswith(b"HTTP/1.1 200")
        for n in range(90):
            stream = held.enter_context(_connect(url))
            stream.sendall(f"GET /api/v1/stream/events HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                           f"Authorization: Bearer {keys[n % 3]}\r\n\r\n".encode())
            head = _head(stream)
            assert head.startswith(b"HTTP/1.1 200") and b"text/event-stream" in head
        with httpx.Client(base_url=url, timeout=30) as client:
            assert all(client.get("/healthz").status_code == 200 for _ in range(20))
            assert client.get("/api/v1/runs", headers={"Authorization": f"Bearer {keys[0]}"}).status_code == 200


def test_a_request_that_never_completes_is_closed_after_the_header_timeout(tmp_path: Path) -> None:
    with _ui_api(tmp_path, api_header_timeout="0.5") as (url, _, _):
        with _connect(url) as half, _connect(url) as silent, _connect(url) as short_body:
            half.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            short_body.sendall(b"POST /api/v1/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
                               b"application/json\r\nContent-Length: 100\r\n\r\n{")
            assert half.recv(1) == b""
            assert silent.recv(1) == b""
            assert short_body.recv(4096) == b""
            assert httpx.get(f"{url}/healthz", timeout=30).status_code == 200


def test_ui_api_on_a_taken_port_exits_3_with_one_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run([AGENTSTAGE, "ui-api", "--port", str(port)], env=_env(tmp_path), capture_output=True,
                                text=True, timeout=60)
    assert result.returncode == 3
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_ui_api_logs_every_5xx_with_its_request_id(tmp_path: Path) -> None:
    nowhere = f"redis://127.0.0.1:{_port()}/0"
    with _ui_api(tmp_path, flags=("--distributed",), redis_url=nowhere, log_level="INFO") as (url, keys, server):
        headers = {"Authorization": f"Bearer {keys[0]}", "X-Request-ID": "five-hundred-check-1"}
        assert httpx.get(f"{url}/api/v1/runtime/queues", headers=headers, timeout=30).status_code == 503
    logged = (tmp_path / "ui-api.stderr").read_text()
    lines = [json.loads(line) for line in logged.splitlines() if line.startswith("{")]
    answered = [line["message"] for line in lines if "answered 503" in line["message"]]
    assert answered and "five-hundred-check-1" in answered[0]
    assert "GET /api/v1/runtime/queues" in answered[0]
