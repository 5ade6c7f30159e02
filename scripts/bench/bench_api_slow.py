"""The API under slow and idle clients and many live streams, on one real `agentstage ui-api` process.

Starts `ui-api` on a loopback port over a seeded store (completed runs to list, and runs still
`running` whose event streams stay live), measures `GET /healthz` and `GET /api/v1/runs` idle,
then opens at once `--idle` keep-alive connections (one answered request each, then silent),
`--half` half-sent requests (a request line and part of the headers) and `--streams` live SSE
streams (half `runs/{id}/events/stream` of running runs, half `stream/events`, spread over keys
within the per-key limit), and measures again, side by side. The server's header and keep-alive
timeouts are raised for the run so that none of that load is shed while it is measured.
Prints `name: value unit` lines and the targets: /healthz p99 <= 100 ms, /runs p99 <= 3x idle.
"""

from __future__ import annotations

import argparse
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from agentstage.api.auth import new_api_key
from agentstage.runtime.clock import new_id, utc_now
from agentstage.runtime.state import Event, SQLiteWriter

AGENTSTAGE = str(Path(sys.executable).with_name("agentstage"))
PER_KEY = 32
HOLD = "600"


def raise_open_files(wanted: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    if resource.getrlimit(resource.RLIMIT_NOFILE)[0] < wanted:
        raise SystemExit(f"need {wanted} open files, the hard limit is {hard}")


def seed(db: Path, completed: int, running: int, keys: int) -> tuple[list[str], list[str], str]:
    """Completed and still-running runs plus viewer keys and one operator key, written straight to the store."""
    writer = SQLiteWriter(db)
    records: list = []
    running_ids = []
    for n in range(completed + running):
        run_id, session = new_id(), new_id()
        records.append(Event(run_id, 1, "run.started", utc_now(), session, {"input": f"seeded {n}"}))
        if n < completed:
            records.append(Event(run_id, 2, "run.completed", utc_now(), session, {"output": "ok"}))
        else:
            running_ids.append(run_id)
    secrets = []
    for n in range(keys):
        record, secret = new_api_key("viewer", f"bench viewer {n}")
        records.append(record)
        secrets.append(secret)
    operator, operator_secret = new_api_key("operator", "bench operator")
    records.append(operator)
    writer.write(records)
    writer.close()
    return running_ids, secrets, operator_secret


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(home: Path, db: Path) -> tuple[subprocess.Popen, str]:
    env = {**os.environ, "AGENTSTAGE_HOME": str(home), "AGENTSTAGE_DB": str(db), "AGENTSTAGE_PROVIDER": "scripted",
           "AGENTSTAGE_LOG_LEVEL": "WARNING", "AGENTSTAGE_API_HEADER_TIMEOUT": HOLD,
           "AGENTSTAGE_API_KEEPALIVE_TIMEOUT": HOLD}
    port = free_port()
    server = subprocess.Popen([AGENTSTAGE, "ui-api", "--port", str(port)], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                return server, url
        except httpx.TransportError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit("the API server did not start")


def latencies(client: httpx.Client, path: str, count: int) -> list[float]:
    found = []
    for _ in range(count):
        started = time.perf_counter()
        response = client.get(path)
        found.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"{path}: {response.status_code} {response.text[:200]}")
    return found


def pct(values: list[float], q: float) -> float:
    return sorted(values)[min(len(values) - 1, int(q * len(values)))]


def connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    return sock


def read_head(sock: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise SystemExit("the server closed a connection the bench holds")
        data += chunk
    return data


def open_load(port: int, idle: int, half: int, streams: int, running: list[str],
              keys: list[str]) -> list[socket.socket]:
    """The idle keep-alive connections, half-sent requests and live SSE streams, all open at once."""
    held = []
    for _ in range(idle):
        sock = connect(port)
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        if not read_head(sock).startswith(b"HTTP/1.1 200"):
            raise SystemExit("an idle connection's request failed")
        held.append(sock)
    for n in range(half):
        sock = connect(port)
        sock.sendall(f"GET /api/v1/runs HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow-{n}: ".encode())
        held.append(sock)
    for n in range(streams):
        path = f"/api/v1/runs/{running[n // 2 % len(running)]}/events/stream" if n % 2 else "/api/v1/stream/events"
        sock = connect(port)
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {keys[n // PER_KEY]}\r\n"
                     f"Last-Event-ID: 1\r\n\r\n".encode())
        head = read_head(sock)
        if not head.startswith(b"HTTP/1.1 200"):
            raise SystemExit(f"stream {n} refused: {head.splitlines()[0].decode()}")
        held.append(sock)
    return held


def still_open(held: list[socket.socket]) -> int:
    """How many held connections the server has not closed."""
    count = 0
    for sock in held:
        sock.setblocking(False)
        try:
            count += sock.recv(65536, socket.MSG_PEEK) != b""
        except BlockingIOError:
            count += 1
        except OSError:
            pass
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--idle", type=int, default=500, help="idle keep-alive connections")
    parser.add_argument("--half", type=int, default=200, help="half-sent requests")
    parser.add_argument("--streams", type=int, default=500, help="live SSE streams")
    parser.add_argument("--requests", type=int, default=400, help="timed requests per route and phase")
    parser.add_argument("--runs", type=int, default=2000, help="completed runs in the store")
    args = parser.parse_args()
    raise_open_files(args.idle + args.half + args.streams + 512)
    keys_needed = max(1, -(-args.streams // PER_KEY))
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.db"
        running, keys, operator = seed(db, args.runs, max(1, args.streams // 2), keys_needed)
        server, url = serve(Path(tmp), db)
        port = int(url.rsplit(":", 1)[1])
        try:
            with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {keys[0]}"}, timeout=30) as client:
                runs_path = "/api/v1/runs?limit=50"
                latencies(client, runs_path, 50)
                idle = {"healthz": latencies(client, "/healthz", args.requests),
                        "runs": latencies(client, runs_path, args.requests)}
                held = open_load(port, args.idle, args.half, args.streams, running, keys)
                time.sleep(2)
                loaded = {"healthz": latencies(client, "/healthz", args.requests),
                          "runs": latencies(client, runs_path, args.requests)}
                open_after = still_open(held)
                for sock in held:
                    sock.close()
        finally:
            server.terminate()
            try:
                code = server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                code = -9
    for route in ("healthz", "runs"):
        for phase, figures in (("idle", idle), ("loaded", loaded)):
            print(f"{route}_{phase}_p50: {pct(figures[route], 0.5):.2f} ms")
            print(f"{route}_{phase}_p99: {pct(figures[route], 0.99):.2f} ms")
    healthz_p99 = pct(loaded["healthz"], 0.99)
    ratio = pct(loaded["runs"], 0.99) / pct(idle["runs"], 0.99)
    print(f"load_idle_keepalive: {args.idle} connections")
    print(f"load_half_sent: {args.half} connections")
    print(f"load_sse_streams: {args.streams} streams")
    print(f"load_still_open_after: {open_after} connections")
    print(f"healthz_loaded_p99_vs_target: {healthz_p99 / 100:.2f} x (target <= 1.00: "
          f"{'met' if healthz_p99 <= 100 else 'missed'})")
    print(f"runs_p99_loaded_over_idle: {ratio:.2f} x (target <= 3.00: {'met' if ratio <= 3 else 'missed'})")
    print(f"healthz_p99_loaded_over_idle: {healthz_p99 / pct(idle['healthz'], 0.99):.2f} x")
    print(f"server_exit_after_sigterm: {code} code")


if __name__ == "__main__":
    main()
