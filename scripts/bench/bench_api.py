"""HTTP API latency and throughput on a large store, through the production server over loopback.

Builds a store of `--runs` runs and `--events-per-run` events each (direct inserts into a temp
file), starts `agentstage ui-api` (uvicorn) on it, and times
`GET /api/v1/runs?limit=50` (first page and a deep keyset page) and `GET /api/v1/runs/{id}/events`.
The same is measured on a small store, to show list latency does not grow with the store.
Prints `name: value unit` lines.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import apsw
import httpx

from agentstage.runtime.state.sqlite import open_connection

AGENTSTAGE = str(Path(sys.executable).with_name("agentstage"))


def build_store(path: Path, runs: int, events_per_run: int) -> list[str]:
    """Write `runs` completed runs with their events straight into a fresh store file; returns run ids."""
    open_connection(path).close()
    db = apsw.Connection(str(path))
    db.pragma("synchronous", "OFF")
    base = datetime(2030, 1, 1, tzinfo=UTC)
    run_ids = [f"{n:08d}{random.getrandbits(64):016x}" for n in range(runs)]
    statuses = ("completed", "completed", "completed", "failed")
    data = json.dumps({"content": "x" * 80, "usage": {"input_tokens": 10, "output_tokens": 5}})
    with db:
        db.executemany(
            "INSERT INTO sessions(session_id, created_at, updated_at) VALUES (?,?,?)",
            ((f"s{n}", _ts(base), _ts(base)) for n in range(max(1, runs // 10))))
        db.executemany(
            "INSERT INTO runs(run_id, session_id, kind, agent, provider, model, status, input, output,"
            " input_tokens, output_tokens, last_seq, created_at, started_at, updated_at, ended_at)"
            " VALUES (?,?,'agent','default','scripted','scripted-v1',?,?,?,?,?,?,?,?,?,?)",
            ((rid, f"s{n % max(1, runs // 10)}", statuses[n % 4], f"prompt {n}", "answer", 10, 5, events_per_run,
              _ts(base + timedelta(seconds=n)), _ts(base + timedelta(seconds=n)), _ts(base + timedelta(seconds=n)),
              _ts(base + timedelta(seconds=n, milliseconds=500))) for n, rid in enumerate(run_ids)))
        db.executemany(
            "INSERT INTO events(run_id, seq, type, ts, session_id, provider, data) VALUES (?,?,?,?,?,'scripted',?)",
            ((rid, seq, "llm.response", _ts(base + timedelta(seconds=n, milliseconds=seq)),
              f"s{n % max(1, runs // 10)}", data)
             for n, rid in enumerate(run_ids) for seq in range(1, events_per_run + 1)))
    db.execute("ANALYZE")
    db.close()
    return run_ids


def _ts(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(home: Path, db: Path, threads: int) -> tuple[subprocess.Popen, str, str]:
    env = {**os.environ, "AGENTSTAGE_HOME": str(home), "AGENTSTAGE_DB": str(db), "AGENTSTAGE_PROVIDER": "scripted",
           "AGENTSTAGE_LOG_LEVEL": "WARNING"}
    key = subprocess.run([AGENTSTAGE, "ui-admin", "create-key", "--role", "viewer"], env=env, check=True,
                         capture_output=True, text=True).stdout.strip()
    addr = f"127.0.0.1:{free_port()}"
    server = subprocess.Popen([AGENTSTAGE, "ui-api", "--ui-addr", addr, "--api-threads", str(threads)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://{addr}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                return server, url, key
        except httpx.TransportError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit("the API server did not start")


def timed(client: httpx.Client, paths: list[str], repeat: int) -> list[float]:
    latencies = []
    for n in range(repeat):
        path = paths[n % len(paths)]
        started = time.perf_counter()
        response = client.get(path)
        latencies.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"{path}: {response.status_code} {response.text[:200]}")
    return latencies


def throughput(url: str, key: str, paths: list[str], clients: int, seconds: float) -> float:
    done = [0] * clients
    stop = time.monotonic() + seconds

    def work(i: int) -> None:
        with httpx.Client(base_url=url, headers={"X-API-Key": key}, timeout=10) as client:
            n = 0
            while time.monotonic() < stop:
                client.get(paths[(i + n) % len(paths)]).raise_for_status()
                n += 1
            done[i] = n

    threads = [threading.Thread(target=work, args=(i,)) for i in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(done) / (time.perf_counter() - started)


def p(values: list[float], q: float) -> float:
    return sorted(values)[min(len(values) - 1, int(q * len(values)))]


def measure(label: str, runs: int, events_per_run: int, repeat: int, clients: int, seconds: float) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.db"
        started = time.perf_counter()
        run_ids = build_store(db, runs, events_per_run)
        elapsed = time.perf_counter() - started
        print(f"{label}_store_build: {elapsed:.1f} s ({runs} runs, {runs * events_per_run} events)")
        server, url, key = serve(Path(tmp), db, threads=max(4, clients * 2))
        try:
            with httpx.Client(base_url=url, headers={"X-API-Key": key}, timeout=10) as client:
                first = client.get("/api/v1/runs", params={"limit": 50}).json()
                cursor = first["next_cursor"]
                for _ in range(min(20, runs // 50 - 2)):
                    cursor = client.get("/api/v1/runs", params={"limit": 50, "cursor": cursor}).json()["next_cursor"]
                deep = f"/api/v1/runs?limit=50&cursor={cursor}"
                sample = random.sample(run_ids, min(200, len(run_ids)))
                events = [f"/api/v1/runs/{rid}/events" for rid in sample]
                timed(client, ["/api/v1/runs?limit=50"] + events[:20], 50)
                cases = {"runs_list": ["/api/v1/runs?limit=50"], "runs_list_deep_page": [deep],
                         "runs_list_failed": ["/api/v1/runs?limit=50&status=failed"], "run_events": events}
                for name, paths in cases.items():
                    lat = timed(client, paths, repeat)
                    print(f"{label}_{name}_p50: {statistics.median(lat):.2f} ms")
                    print(f"{label}_{name}_p99: {p(lat, 0.99):.2f} ms")
            for name, paths in (("runs_list", ["/api/v1/runs?limit=50"]), ("run_events", events)):
                rate = throughput(url, key, paths, clients, seconds)
                print(f"{label}_{name}_throughput: {rate:.0f} req/s ({clients} clients)")
        finally:
            server.terminate()
            server.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--events-per-run", type=int, default=10)
    parser.add_argument("--small-runs", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=500, help="timed requests per case")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=3.0, help="duration of each throughput run")
    args = parser.parse_args()
    measure("small", args.small_runs, args.events_per_run, args.repeat, args.clients, args.seconds)
    measure("large", args.runs, args.events_per_run, args.repeat, args.clients, args.seconds)


if __name__ == "__main__":
    main()
