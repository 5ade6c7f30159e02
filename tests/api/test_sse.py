"""Server-Sent Events over the real server (uvicorn, loopback): a run's stream is live, ends with the run,
and resumes after Last-Event-ID; the all-events feed filters, starts with a backlog, and polls the store."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from agentstage.actors.store import Publish
from agentstage.api import create_app
from agentstage.api.sse import format_event
from agentstage.runtime.state.records import Event
from agentstage.runtime.clock import utc_now
from agentstage.runtime.state import Event, SQLiteWriter
from tests.api.browser import served
from tests.api.helpers import GATE_PROMPT, finished_run, start_run, status, wait_for


class Served:
    """GETs against the app on a real local server; each returns the whole (ended) response."""

    def __init__(self, url: str) -> None:
        self.url = url

    def simulate_get(self, path: str, *, headers: dict | None = None, params: dict | None = None) -> httpx.Response:
        return httpx.get(self.url + path, headers=headers, params=params, timeout=60)


@pytest.fixture
def server(app) -> Iterator[Served]:
    with served(app) as url:
        yield Served(url)


def _events(body: str) -> list[dict]:
    """The `data:` payloads of an SSE body, checking each `id:` matches its event's seq."""
    found = []
    for block in body.split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines() if line and not line.startswith(":")
                     and ": " in line)
        if "data" in lines:
            event = json.loads(lines["data"])
            if "id" in lines:
                assert int(lines["id"]) == event["seq"]
            assert lines["event"] == event["type"]
            found.append(event)
    return found


def _in_thread(fn) -> tuple[threading.Thread, dict]:
    box: dict = {}
    thread = threading.Thread(target=lambda: box.update(result=fn()), daemon=True)
    thread.start()
    return thread, box


def _new_subscription(system, before: set[int]) -> bool:
    """Whether a subscription opened after `before` was taken is registered with the observer."""
    return any(id(s) not in before for s in list(system._subscriptions))


def test_format_event_carries_seq_type_and_json() -> None:
    chunk = format_event(Event("r1", 7, "tool.call", "t0", "s1", {"a": 1}, tool="add")).decode()
    assert chunk == ('id: 7\nevent: tool.call\ndata: {"run_id":"r1","seq":7,"type":"tool.call","ts":"t0","session_id":"s1",'
                     '"data":{"a":1},"node":null,"tool":"add","provider":null,"duration_ms":null,"error":null}\n\n')


def test_run_stream_delivers_live_events_until_the_run_ends(server, client, keys, api_system, gate) -> None:
    run_id = start_run(client, keys, GATE_PROMPT)
    assert gate.entered.wait(20)
    seen = api_system.reader().events(run_id)[-1].seq
    before = {id(s) for s in api_system._subscriptions}
    resume_from = {**keys.headers("viewer"), "Last-Event-ID": str(seen)}
    thread, box = _in_thread(lambda: server.simulate_get(f"/api/v1/runs/{run_id}/events/stream", headers=resume_from))
    wait_for(lambda: _new_subscription(api_system, before))
    gate.set()
    thread.join(timeout=30)
    result = box["result"]
    assert result.status_code == 200 and result.headers["content-type"] == "text/event-stream"
    events = _events(result.text)
    assert [e["seq"] for e in events] == list(range(seen + 1, seen + 1 + len(events)))
    # NOTE: tool.call is durable before the tool runs, so the live tail starts with the tool's result.
    assert events[0]["type"] == "tool.result" and events[-1]["type"] == "run.completed"


def test_run_stream_resumes_after_last_event_id_without_repeats(server, client, keys, api_system) -> None:
    run_id = finished_run(client, keys, api_system)
    headers = keys.headers("viewer")
    everything = _events(server.simulate_get(f"/api/v1/runs/{run_id}/events/stream", headers=headers).text)
    assert everything[0]["seq"] == 1 and everything[-1]["type"] == "run.completed"
    resumed = _events(server.simulate_get(f"/api/v1/runs/{run_id}/events/stream",
                                          headers={**headers, "Last-Event-ID": "3"}).text)
    assert [e["seq"] for e in resumed] == [e["seq"] for e in everything if e["seq"] > 3]
    bounded = _events(server.simulate_get(f"/api/v1/runs/{run_id}/events/stream", params={"max_events": 2},
                                          headers=headers).text)
    assert [e["seq"] for e in bounded] == [1, 2]
    bad = server.simulate_get(f"/api/v1/runs/{run_id}/events/stream", headers={**headers, "Last-Event-ID": "x"})
    assert bad.status_code == 422 and "Last-Event-ID" in bad.json()["errors"]


def test_run_stream_sends_pings_while_idle(server, client, keys, api_system, gate) -> None:
    run_id = start_run(client, keys, GATE_PROMPT)
    assert gate.entered.wait(20)
    result = server.simulate_get(f"/api/v1/runs/{run_id}/events/stream", params={"timeout": 1.0},
                                 headers=keys.headers("viewer"))
    assert ": ping" in result.text


def test_all_events_stream_filters_by_type(server, client, keys, api_system) -> None:
    before = {id(s) for s in api_system._subscriptions}
    thread, box = _in_thread(lambda: server.simulate_get(
        "/api/v1/stream/events", params={"type": ["run.completed", "run.failed"], "max_events": 2, "timeout": 30},
        headers=keys.headers("viewer")))
    wait_for(lambda: _new_subscription(api_system, before))
    first = finished_run(client, keys, api_system)
    second = finished_run(client, keys, api_system)
    thread.join(timeout=30)
    events = _events(box["result"].text)
    assert [(e["run_id"], e["type"]) for e in events] == [(first, "run.completed"), (second, "run.completed")]
    assert "id:" not in box["result"].text


def test_all_events_stream_starts_with_a_backlog(server, client, keys, api_system) -> None:
    run_id = finished_run(client, keys, api_system)
    result = server.simulate_get("/api/v1/stream/events", params={"run_id": run_id, "backlog": 2, "max_events": 2},
                                 headers=keys.headers("viewer"))
    assert [e["type"] for e in _events(result.text)][-1] == "run.completed"


def test_run_stream_passes_live_deltas_through_without_an_id(server, client, keys, api_system, gate) -> None:
    run_id = start_run(client, keys, GATE_PROMPT)
    assert gate.entered.wait(20)
    run = api_system.reader().get_run(run_id)
    lines: list[str] = []
    with httpx.stream("GET", f"{server.url}/api/v1/runs/{run_id}/events/stream", headers=keys.headers("viewer"),
                      timeout=60) as stream:
        for line in stream.iter_lines():
            lines.append(line)
            if line == ": ping" and not gate.is_set():
                # NOTE: a ping comes only from the live tail, so the delta cannot race the stored history.
                delta = Event(run_id, 0, "llm.delta", utc_now(), run.session_id, {"text": "par", "after_seq": 2})
                api_system.observer.tell(Publish((delta,)))
                gate.set()
    text = "\n".join(lines) + "\n"
    events = _events(text)
    assert [e["seq"] for e in events if e["type"] != "llm.delta"] == list(range(1, len(events)))
    assert [e["data"]["text"] for e in events if e["type"] == "llm.delta"] == ["par"]
    assert "id: 0\n" not in text


def _write_elsewhere(system, *events: Event) -> None:
    """Store events through a second writer, as a distributed coordinator would."""
    other = SQLiteWriter(system.config.state_path)
    try:
        other.write(events)
    finally:
        other.close()


def test_run_stream_polls_the_store_for_events_other_processes_write(server, client, keys, api_system) -> None:
    _write_elsewhere(api_system, Event("remote", 1, "run.started", utc_now(), "s", {"input": "x"}))
    before = {id(s) for s in api_system._subscriptions}
    thread, box = _in_thread(lambda: server.simulate_get("/api/v1/runs/remote/events/stream",
                                                         headers=keys.headers("viewer")))
    wait_for(lambda: _new_subscription(api_system, before))
    _write_elsewhere(api_system, Event("remote", 2, "run.completed", utc_now(), "s", {"output": "y"}))
    thread.join(timeout=30)
    assert [e["seq"] for e in _events(box["result"].text)] == [1, 2]


def test_all_events_stream_picks_up_events_other_processes_store(api_system, ops, keys) -> None:
    with served(create_app(api_system, ops=ops)) as url:
        _picks_up_stored_events(Served(url), api_system, keys)


def _picks_up_stored_events(server: Served, api_system, keys) -> None:
    before = {id(s) for s in api_system._subscriptions}
    thread, box = _in_thread(lambda: server.simulate_get(
        "/api/v1/stream/events", params={"run_id": "elsewhere", "max_events": 2, "timeout": 30},
        headers=keys.headers("viewer")))
    wait_for(lambda: _new_subscription(api_system, before))
    _write_elsewhere(api_system, Event("elsewhere", 1, "run.started", utc_now(), "s", {"input": "x"}),
                     Event("elsewhere", 2, "run.completed", utc_now(), "s", {"output": "y"}))
    thread.join(timeout=30)
    assert [(e["seq"], e["type"]) for e in _events(box["result"].text)] == [(1, "run.started"), (2, "run.completed")]


def _first_events(url: str, path: str, headers: dict, count: int) -> list[dict]:
    """Read `count` events of a stream, then hang up (the client goes away mid-stream)."""
    lines: list[str] = []
    with httpx.stream("GET", url + path, headers=headers, timeout=60) as stream:
        for line in stream.iter_lines():
            lines.append(line)
            if sum(1 for seen in lines if seen.startswith("data: ")) == count and line == "":
                break
    return _events("\n".join(lines) + "\n")


def test_a_resumed_run_stream_loses_and_repeats_nothing(server, client, keys, api_system, gate) -> None:
    run_id = start_run(client, keys, GATE_PROMPT)
    assert gate.entered.wait(20)
    headers = keys.headers("viewer")
    path = f"/api/v1/runs/{run_id}/events/stream"
    first = _first_events(server.url, path, headers, 2)
    gate.set()
    rest = _events(server.simulate_get(path, headers={**headers, "Last-Event-ID": str(first[-1]["seq"])}).text)
    wait_for(lambda: status(api_system, run_id) == "completed")
    stored = [e.seq for e in api_system.reader().events(run_id)]
    assert [e["seq"] for e in first + rest] == stored
    assert rest[-1]["type"] == "run.completed"


def test_a_client_that_hangs_up_gives_its_stream_slot_back(app, server, keys) -> None:
    with httpx.stream("GET", server.url + "/api/v1/stream/events", headers=keys.headers("viewer"), timeout=60) as s:
        assert s.status_code == 200
        wait_for(lambda: app.backend.streams.open_count() == 1)
    wait_for(lambda: app.backend.streams.open_count() == 0)


def test_live_streams_are_limited_per_key_and_in_total(api_system, keys) -> None:
    app = create_app(api_system, api_system.config.replace(api_streams_per_key="2", api_streams_total="3"))
    path = "/api/v1/stream/events"
    with served(app) as url, httpx.Client(base_url=url, timeout=60) as http, contextlib.ExitStack() as streams:
        def open_stream(role: str) -> httpx.Response:
            return streams.enter_context(http.stream("GET", path, headers=keys.headers(role)))

        assert [open_stream("viewer").status_code for _ in range(2)] == [200, 200]
        refused = http.get(path, headers=keys.headers("viewer"))
        assert refused.status_code == 429 and refused.headers["Retry-After"]
        body = refused.json()
        assert body["title"] == "Too many event streams" and "per_key" in body["errors"]["stream"][0]
        assert open_stream("operator").status_code == 200
        full = http.get(path, headers=keys.headers("admin"))
        assert full.status_code == 429 and "total" in full.json()["errors"]["stream"][0]
        streams.close()
        wait_for(lambda: app.backend.streams.open_count() == 0)
        with http.stream("GET", path, headers=keys.headers("admin")) as again:
            assert again.status_code == 200


def test_all_events_stream_keeps_an_event_stamped_just_before_it_started_but_stored_after(api_system, ops,
                                                                                          keys) -> None:
    with served(create_app(api_system, ops=ops)) as url:
        server = Served(url)
        before = {id(s) for s in api_system._subscriptions}
        # NOTE: stamped once the server is up (its start may take seconds under load), just before the stream opens.
        stamped = utc_now()
        thread, box = _in_thread(lambda: server.simulate_get(
            "/api/v1/stream/events", params={"run_id": "late", "max_events": 1, "timeout": 30},
            headers=keys.headers("viewer")))
        wait_for(lambda: _new_subscription(api_system, before))
        time.sleep(0.2)
        _write_elsewhere(api_system, Event("late", 1, "run.started", stamped, "s", {"input": "x"}))
        thread.join(timeout=30)
    assert [(e["seq"], e["type"]) for e in _events(box["result"].text)] == [(1, "run.started")]
