"""I/O-bound agent runs: agentstage against LangGraph and the machine's ceiling, in one run.

A local OpenAI-compatible server (aiohttp, its own process) answers every chat completion
after `--delay` seconds. Measured side by side, each in a fresh process:
Each system sends a cold batch (its connections open during it) and then a warm batch:
- `ceiling`: a bare aiohttp client sending all requests at once (what the machine can do);
- `langgraph`: a one-node LangGraph graph whose node posts with aiohttp, `ainvoke` per run;
- `agentstage`: `System.run_async` per run with the OpenAI provider and default settings
  (every run durable in SQLite: run.started, llm.request, llm.response, run.completed).
Each comparison runs `--rounds` times, interleaved, and medians are printed (the machine may be
shared). Then `--inflight` runs against a server that answers after `--slow-delay` seconds, with the
admission limit and the connection limit raised to hold them all (every model call open at once),
printing resident memory per in-flight run (and through coordinator + 2 workers: the workers' per
run they hold, and the coordinator's per active run).
Prints `name: value unit` lines. Needs the `bench` extra (langgraph, aiohttp).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ANSWER = {"id": "cmpl-1", "object": "chat.completion", "model": "bench",
          "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "done"}}],
          "usage": {"prompt_tokens": 5, "completion_tokens": 1, "total_tokens": 6}}


def raise_fd_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def serve(port: int, delay: float) -> None:
    """The OpenAI-compatible server: every completion answers after `delay` seconds."""
    from aiohttp import web

    raise_fd_limit()
    body = json.dumps(ANSWER).encode()

    async def completion(request: web.Request) -> web.Response:
        await request.read()
        await asyncio.sleep(delay)
        return web.Response(body=body, content_type="application/json")

    app = web.Application()
    app.router.add_post("/v1/chat/completions", completion)
    web.run_app(app, host="127.0.0.1", port=port, print=None, backlog=16384, access_log=None)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(delay: float) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    process = subprocess.Popen([sys.executable, __file__, "--serve", str(port), "--delay", str(delay)])
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process, f"http://127.0.0.1:{port}/v1"
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise SystemExit("bench server did not start")


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def rss_kb(pid: int | str = "self") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


class PeakMemory:
    """The resident KB of `pids` (summed) when entered, and the most seen while inside (sampled every 0.2 s)."""

    def __init__(self, pids: list[int | str]) -> None:
        self.pids = pids
        self.before = self.peak = 0
        self._done = threading.Event()
        self._sampler = threading.Thread(target=self._sample, daemon=True)

    def _now(self) -> int:
        return sum(rss_kb(pid) for pid in self.pids)

    def _sample(self) -> None:
        while not self._done.wait(0.2):
            self.peak = max(self.peak, self._now())

    def __enter__(self) -> PeakMemory:
        self.before = self.peak = self._now()
        self._sampler.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._sampler.join()
        self.peak = max(self.peak, self._now())

    def per_run_kb(self, runs: int) -> float:
        return (self.peak - self.before) / runs


async def ceiling(url: str, runs: int) -> float:
    import aiohttp

    payload = {"model": "bench", "messages": [{"role": "user", "content": "hi"}]}
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:
        async def one() -> None:
            async with session.post(f"{url}/chat/completions", json=payload) as response:
                await response.json()

        started = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(runs)))
        cold = runs / (time.perf_counter() - started)
        started, cpu = time.perf_counter(), cpu_seconds()
        await asyncio.gather(*(one() for _ in range(runs)))
        return cold, runs / (time.perf_counter() - started), cpu_seconds() - cpu


async def langgraph(url: str, runs: int) -> float:
    from typing import TypedDict

    import aiohttp
    from langgraph.graph import END, START, StateGraph

    class State(TypedDict):
        prompt: str
        output: str

    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:
        async def model(state: State) -> dict[str, str]:
            payload = {"model": "bench", "messages": [{"role": "user", "content": state["prompt"]}]}
            async with session.post(f"{url}/chat/completions", json=payload) as response:
                answer = await response.json()
            return {"output": answer["choices"][0]["message"]["content"]}

        builder = StateGraph(State)
        builder.add_node("model", model)
        builder.add_edge(START, "model")
        builder.add_edge("model", END)
        graph = builder.compile()
        started = time.perf_counter()
        await asyncio.gather(*(graph.ainvoke({"prompt": f"warm {i}", "output": ""}) for i in range(runs)))
        cold = runs / (time.perf_counter() - started)
        started, cpu = time.perf_counter(), cpu_seconds()
        results = await asyncio.gather(*(graph.ainvoke({"prompt": f"run {i}", "output": ""}) for i in range(runs)))
        elapsed, cpu = time.perf_counter() - started, cpu_seconds() - cpu
        assert all(r["output"] == "done" for r in results)
        return cold, runs / elapsed, cpu


def agentstage(url: str, runs: int, warm: bool = True,
               **settings: object) -> tuple[float, float, float, int, int]:
    """Cold and warm runs/s, CPU seconds (warm), resident KB before the runs and at most while in flight."""
    from agentstage.runtime import Config, System

    env = {"OPENAI_BASE_URL": url, "OPENAI_API_KEY": "bench"}
    with tempfile.TemporaryDirectory() as home:
        config = Config.from_env(env, dotenv=None, home=home, provider="openai", model="bench", tools="", **settings)
        with System(config) as system:
            system.run("warm up", timeout=120)
            cold = 0.0
            if warm:
                started = time.perf_counter()
                for handle in [system.run_async(f"warm {i}") for i in range(runs)]:
                    handle.result(timeout=900)
                cold = runs / (time.perf_counter() - started)
            with PeakMemory(["self"]) as memory:
                started, cpu = time.perf_counter(), cpu_seconds()
                handles = [system.run_async(f"run {i}") for i in range(runs)]
                results = [handle.result(timeout=900) for handle in handles]
                elapsed, cpu = time.perf_counter() - started, cpu_seconds() - cpu
            failed = [r for r in results if r.status != "completed"]
            if failed:
                raise SystemExit(f"{len(failed)} runs did not complete: {failed[0].error}")
    return cold, runs / elapsed, cpu, memory.before, memory.peak


def distributed(url: str, runs: int, concurrency: int, workers: int = 2,
                connections: int = 0) -> tuple[float, float, float, float]:
    """Cold and warm runs/s through a private redis-server, a coordinator and `workers` worker processes:
    a first batch (the workers open their connections during it), then a second one; and, during the first,
    the resident KB per run in flight of the workers (each holds its share of the runs) and of the coordinator.
    `connections`, if given, is each worker's limit of connections to the model server."""
    sys.path.insert(0, str(Path(__file__).parent))
    from bench_distributed import Deployment, start_redis

    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        server, redis_url = start_redis(base)
        env = {"AGENTSTAGE_PROVIDER": "openai", "OPENAI_BASE_URL": url, "OPENAI_API_KEY": "bench",
               "AGENTSTAGE_MODEL": "bench", "AGENTSTAGE_TOOLS": "", "AGENTSTAGE_MAX_QUEUED": str(max(runs * 2, 10000))}
        if connections:
            env["AGENTSTAGE_LLM_MAX_CONNECTIONS"] = str(connections)
        deployment = Deployment(base / "home", redis_url, "io", workers, concurrency, env)
        try:
            coordinator, *worker_processes = deployment.processes
            with PeakMemory([p.pid for p in worker_processes]) as held, PeakMemory([coordinator.pid]) as recorded:
                cold = runs / deployment.run_batch(runs)
            warm = runs / deployment.run_batch(runs)
        finally:
            deployment.stop()
            server.terminate()
            server.wait()
    return cold, warm, held.per_run_kb(runs), recorded.per_run_kb(runs)


def measure(kind: str, url: str, runs: int, max_runs: int) -> None:
    """One system in this (fresh) process; prints one JSON line (rate, CPU ms per run, memory)."""
    raise_fd_limit()
    if kind == "ceiling":
        cold, rate, cpu = asyncio.run(ceiling(url, runs))
        result = {"cold": cold, "rate": rate}
    elif kind == "langgraph":
        cold, rate, cpu = asyncio.run(langgraph(url, runs))
        result = {"cold": cold, "rate": rate}
    else:
        # NOTE: every run of the in-flight batch holds its model call open: as many connections as runs
        settings = {"max_runs": max_runs, "llm_max_connections": max_runs} if max_runs else {}
        cold, rate, cpu, before, peak = agentstage(url, runs, warm=not max_runs, **settings)
        result = {"cold": cold, "rate": rate, "rss_before_kb": before, "rss_peak_kb": peak}
    result["cpu_ms_per_run"] = cpu * 1000 / runs
    print(json.dumps(result))


def child(kind: str, url: str, runs: int, max_runs: int = 0) -> dict[str, float]:
    out = subprocess.run([sys.executable, __file__, "--measure", kind, "--url", url, "--runs", str(runs),
                          "--max-runs", str(max_runs)], check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=500, help="runs per system (default 500)")
    parser.add_argument("--delay", type=float, default=0.2, help="server answer delay, seconds (default 0.2)")
    parser.add_argument("--inflight", type=int, default=10_000, help="runs held in flight at once (default 10000)")
    parser.add_argument("--slow-delay", type=float, default=10.0, help="answer delay for --inflight (default 10)")
    parser.add_argument("--rounds", type=int, default=3,
                        help="interleaved rounds of the comparison; medians are printed (default 3)")
    parser.add_argument("--skip-inflight", action="store_true", help="measure only the --runs comparison")
    parser.add_argument("--skip-distributed", action="store_true", help="skip coordinator + 2 workers")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--max-runs", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.delay)
        return
    if args.measure:
        measure(args.measure, args.url, args.runs, args.max_runs)
        return
    server, url = start_server(args.delay)
    kinds = ("ceiling", "langgraph", "agentstage")
    rounds: dict[str, list[dict[str, float]]] = {kind: [] for kind in kinds}
    try:
        for _ in range(args.rounds):
            for kind in kinds:
                rounds[kind].append(child(kind, url, args.runs))
    finally:
        server.kill()
    keys = ("cold", "rate", "cpu_ms_per_run")
    measured = {kind: {key: statistics.median(r[key] for r in results) for key in keys}
                for kind, results in rounds.items()}
    print(f"io_ideal: {args.runs / args.delay:.0f} runs/s ({args.runs} runs at once, {args.delay * 1000:.0f} ms server,"
          f" no overhead; medians of {args.rounds} interleaved rounds below)")
    for batch, key in (("cold", "cold"), ("warm", "rate")):
        figures = [measured[kind][key] for kind in kinds]
        print(f"io_{batch}_ceiling_aiohttp: {figures[0]:.0f} runs/s ({batch} connections)")
        print(f"io_{batch}_langgraph_ainvoke: {figures[1]:.0f} runs/s")
        print(f"io_{batch}_agentstage: {figures[2]:.0f} runs/s (default settings, durable runs)")
        print(f"io_{batch}_agentstage_vs_ceiling: {figures[2] / figures[0]:.2f} x (target >= 0.80)")
        print(f"io_{batch}_agentstage_vs_langgraph: {figures[2] / figures[1]:.2f} x (target >= 1.5)")
    for kind, figures in measured.items():
        print(f"io_cpu_per_run_{kind}: {figures['cpu_ms_per_run']:.2f} ms (client process CPU, warm batch)")
    if not args.skip_distributed:
        # NOTE: each deployment beside a ceiling measured just before it, as the machine's speed drifts
        server, url = start_server(args.delay)
        try:
            paired = [(child("ceiling", url, args.runs), distributed(url, args.runs, concurrency=args.runs))
                      for _ in range(args.rounds)]
        finally:
            server.kill()
        for batch, at, key in (("cold", 0, "cold"), ("warm", 1, "rate")):
            rate = statistics.median(spread[at] for _, spread in paired)
            ratio = statistics.median(spread[at] / ceiling[key] for ceiling, spread in paired)
            print(f"io_{batch}_distributed_2w: {rate:.0f} runs/s (coordinator + 2 workers, {args.runs} runs at once,"
                  f" median of {args.rounds} deployments)")
            print(f"io_{batch}_distributed_vs_ceiling: {ratio:.2f} x (each deployment against the ceiling measured"
                  " just before it)")
            print(f"io_{batch}_distributed_vs_langgraph: {rate / measured['langgraph'][key]:.2f} x")
    if args.skip_inflight:
        return
    server, url = start_server(args.slow_delay)
    try:
        held = child("agentstage", url, args.inflight, max_runs=args.inflight)
        if not args.skip_distributed:
            spread, _, worker_kb, coordinator_kb = distributed(url, args.inflight, concurrency=args.inflight // 2,
                                                               connections=args.inflight // 2)
    finally:
        server.kill()
    per_run = (held["rss_peak_kb"] - held["rss_before_kb"]) * 1024 / args.inflight
    print(f"inflight_runs_completed: {args.inflight} runs ({args.slow_delay:.0f} s server, all in flight at once, "
          "each with its model call open: AGENTSTAGE_LLM_MAX_CONNECTIONS raised from 1000 to one per run)")
    print(f"inflight_rate: {held['rate']:.0f} runs/s")
    print(f"inflight_memory_per_run: {per_run / 1024:.1f} KB (goal <= 20 KB)")
    if not args.skip_distributed:
        print(f"inflight_distributed_2w: {args.inflight} runs completed, {spread:.0f} runs/s")
        print(f"inflight_distributed_worker_memory_per_run: {worker_kb:.1f} KB (the workers' resident memory per run "
              f"they hold, goal <= 20 KB)")
        print(f"inflight_distributed_coordinator_memory_per_run: {coordinator_kb:.1f} KB (its record of each active run)")


if __name__ == "__main__":
    main()
