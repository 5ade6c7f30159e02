"""The DevUI page end to end in headless Chromium, over the real app on a local HTTP server."""

from __future__ import annotations

import json
import urllib.error
from datetime import UTC, datetime, timedelta
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis

from agentstage.runtime.wire import Requeue, from_wire
from agentstage.api import create_app
from agentstage.runtime import System
from agentstage.runtime.clock import new_id, utc_now
from agentstage.runtime.control import QueuedControl, RunControl
from agentstage.runtime.distributed.ops import RuntimeOps
from agentstage.runtime.errors import NotFound
from agentstage.runtime.evals import Assertion, EvalCase, run_eval
from agentstage.runtime.graph.builder import Graph
from agentstage.runtime.schedules import new_schedule
from agentstage.runtime.graph.nodes import ToolNode
from agentstage.runtime.state import Event, QueueEvent
from agentstage.runtime.streams import StreamLayout, apply_ops, dlq_fields
from tests.api.browser import chromium, require_chromium, served, shot
from tests.api.helpers import GATE_PROMPT, LOGIN_TOKENS, Gate, Keys, issue_keys, wait_for
from tests.runtime.distributed.harness import Cluster, coordinator, distributed_config, live_workers

TIMEOUT_MS = 20_000
SECRET = "ghp_" + "Zq7x" * 9
PHONE = {"width": 375, "height": 740}


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    require_chromium()
    with chromium() as launched:
        yield launched


@pytest.fixture
def url(api_system: System) -> Iterator[str]:
    with served(create_app(api_system, login_tokens=LOGIN_TOKENS)) as base:
        yield base


@contextmanager
def opened(browser, base: str, key: str | None, viewport: dict | None = None, path: str = "/") -> Iterator[object]:
    """A fresh tab at `path`, signed in with `key` (or not); fails on any script error or CSP violation."""
    context = browser.new_context(viewport=viewport or {"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda message: errors.append(message.text)
            if "Content Security Policy" in message.text else None)
    try:
        page.goto(f"{base}{path}")
        if key is not None:
            page.fill("#api-key", key)
            page.click("#sign-in-form button[type=submit]")
            page.wait_for_selector("#nav a", state="attached")
        yield page
    finally:
        context.close()
    assert errors == []


def holding_workflow() -> Graph:
    """calc, then a tool node that waits on the gate: a graph run that stays running until the test lets it go."""
    graph = Graph("holding", description="compute, then wait on the gate")
    graph.add(ToolNode("calc", "calculator", {"expression": "6 * 7"}, output_key="answer"),
              ToolNode("hold", "gate", {}, output_key="held"))
    return graph.chain("calc", "hold").entry("calc")


def test_sign_in_keeps_the_key_in_the_tab_only(browser, url, keys: Keys) -> None:
    with opened(browser, url, None) as page:
        assert page.is_visible("#sign-in") and not page.is_visible("#nav")
        shot(page, "sign-in")
        page.fill("#api-key", "ags_00000000_not-a-key")
        page.click("#sign-in-form button[type=submit]")
        page.wait_for_selector("#sign-in-error:has-text('not valid')")
        page.fill("#api-key", keys.viewer)
        page.click("#sign-in-form button[type=submit]")
        page.wait_for_selector("#runs-list")
        assert page.evaluate("sessionStorage.getItem('agentstage.key')") == keys.viewer
        assert page.evaluate("localStorage.length") == 0 and keys.viewer not in page.url
        assert "viewer" in page.inner_text("#who-role")
        page.click("#sign-out")
        page.wait_for_selector("#sign-in:not([hidden])")
        assert page.evaluate("sessionStorage.getItem('agentstage.key')") is None


def test_one_time_login_link_signs_in_as_admin(browser, url) -> None:
    with opened(browser, url, None, path=f"/ui/#login={LOGIN_TOKENS[0]}") as page:
        page.wait_for_selector("nav a[data-screen=keys]")
        assert "login" not in page.url and "admin" in page.inner_text("#who-role")


def test_run_appears_and_completes_live_in_the_list(browser, keys: Keys, api_system: System, gate: Gate) -> None:
    app, feeds = create_app(api_system), []

    async def counting(scope, receive, send):
        if scope["type"] == "http" and scope["path"] == "/api/v1/stream/events":
            feeds.append(scope["path"])
        await app(scope, receive, send)

    with served(app, counting) as url, opened(browser, url, keys.operator) as page:
        page.wait_for_selector("#runs-live[data-state=live]")
        run_id = api_system.run_async(GATE_PROMPT).run_id
        page.wait_for_selector(f"#runs-list tr[data-run='{run_id}'][data-status=running]")
        assert gate.entered.wait(20)
        shot(page, "runs-live-running")
        gate.set()
        page.wait_for_selector(f"#runs-list tr[data-run='{run_id}'][data-status=completed]")
        shot(page, "runs")
        page.click(f"#runs-list tr[data-run='{run_id}'] a")
        page.wait_for_selector("#timeline li[data-type='run.completed']")
        page.click("nav a[data-screen=runs]")
        page.wait_for_selector("#runs-live[data-state=live]")
        assert len(feeds) == 1, "each tab keeps one live feed of all events, whatever the screens"


def test_timeline_streams_live_and_a_checkpoint_shows_state_and_diff(browser, url, keys: Keys, api_system: System,
                                                                      gate: Gate) -> None:
    api_system.register_workflow("holding", holding_workflow())
    run_id = api_system.graph_run_async("holding", "hold on").run_id
    assert gate.entered.wait(20)
    with opened(browser, url, keys.viewer) as page:
        page.click(f"#runs-list tr[data-run='{run_id}'] a")
        page.wait_for_selector("#timeline li[data-type='node.entered']:has-text('hold')")
        assert page.query_selector("#timeline li[data-type='run.completed']") is None
        page.click("a:has-text('holding')")
        page.wait_for_selector("svg.graph g.current[data-node=hold]")
        assert page.query_selector("svg.graph g.visited[data-node=calc]") is not None
        shot(page, "graph-live")
        page.go_back()
        page.wait_for_selector("#timeline li[data-type='checkpoint.saved']")
        gate.set()
        page.wait_for_selector("#timeline li[data-type='run.completed']")
        page.wait_for_selector("#timeline-live[data-state=ended]")
        page.locator("#checkpoints button[data-step='2']").click()
        page.wait_for_selector("#checkpoint-diff li.d-added:has-text('held')")
        assert json.loads(page.inner_text("#checkpoint-state"))["answer"]["result"] == 42
        page.click("#timeline li[data-type='node.exited'][data-seq] summary >> nth=0")
        shot(page, "run-detail")


@dataclass
class Deployment:
    """The page's server in one mode: its URL, the System it reads, keys in its store, its run control."""

    base: str
    system: System
    keys: Keys
    control: RunControl


@pytest.fixture(params=["ui", "ui-api --distributed"])
def deployment(request, api_system: System, keys: Keys, tmp_path: Path, redis_url: str) -> Iterator[Deployment]:
    """`ui` (the embedded runtime), or `ui-api --distributed` with a coordinator and a worker (subprocesses)."""
    if request.param == "ui":
        app = create_app(api_system, login_tokens=LOGIN_TOKENS)
        with served(app) as base:
            yield Deployment(base, api_system, keys, app.backend.control)
        return
    home = tmp_path / "cluster"
    home.mkdir()
    cluster = Cluster(distributed_config(home, redis_url, stream_prefix=f"ui{new_id()[-10:]}"), home)
    cluster.coordinator()
    cluster.worker("w1")
    try:
        with System(cluster.config) as system, RuntimeOps(cluster.config) as ops:
            wait_for(lambda: live_workers(ops, "w1"))
            app = create_app(system, control=QueuedControl(system, ops))
            with served(app) as base:
                yield Deployment(base, system, issue_keys(system), app.backend.control)
    finally:
        cluster.stop()


def _history_run(run_id: str, created_at: str, input_: str, *, status: str = "completed", tokens: int = 0,
                 error: str | None = None, **data) -> list[Event]:
    """A finished run as the runtime stores it: started, one model call using `tokens`, then its end."""
    session = f"s-{run_id}"
    events = [Event(run_id, 1, "run.started", created_at, session, {"input": input_, **data})]
    if tokens:
        usage = {"input_tokens": tokens - tokens // 3, "output_tokens": tokens // 3}
        parent = {"parent_run_id": data["parent_run_id"]} if "parent_run_id" in data else {}
        events.append(Event(run_id, 2, "llm.response", created_at, session, {"usage": usage, **parent}))
    end = {"output": "done"} if status == "completed" else {}
    events.append(Event(run_id, 3, f"run.{status}", created_at, session, end, error=error))
    return events


def seeded_history(system: System) -> dict[str, str]:
    """A populated history: a graph run with two child runs, a failed run, another agent's run, an old run."""
    now, graph = utc_now(), f"g{new_id()[-10:]}"
    ids = {"graph": graph, "child": f"{graph}.2", "failed": f"f{new_id()[-10:]}", "writer": f"w{new_id()[-10:]}",
           "old": f"o{new_id()[-10:]}"}
    system.write([
        *_history_run(graph, now, "triage the incident", kind="graph", workflow="triage"),
        *_history_run(ids["child"], now, "classify: triage the incident", tokens=12, agent="default",
                      parent_run_id=graph),
        *_history_run(f"{graph}.3", now, "summarise: triage the incident", tokens=18, agent="default",
                      parent_run_id=graph),
        *_history_run(ids["failed"], now, "divide by zero please", status="failed", agent="default",
                      error="tool calculator failed: division by zero\nTraceback (most recent call last)"),
        *_history_run(ids["writer"], now, "Summarise the quarterly report\nIt is attached below.", tokens=9,
                      agent="writer"),
        *_history_run(ids["old"], "2025-06-01T12:00:00.000Z", "an old question", tokens=3, agent="default"),
    ])
    return ids


def _listed(page) -> list[str]:
    return [row.get_attribute("data-run") for row in page.query_selector_all("#runs-list tbody tr")]


def _wait_listed(page, expected: list[str]) -> None:
    """Wait until the runs list shows exactly `expected`, in order."""
    try:
        wait_for(lambda: _listed(page) == expected)
    except AssertionError:
        assert _listed(page) == expected


def test_runs_list_shows_input_error_and_child_runs_and_searches(browser, url, keys: Keys, api_system: System) -> None:
    ids = seeded_history(api_system)
    graph, failed, writer = ids["graph"], ids["failed"], ids["writer"]
    with opened(browser, url, keys.viewer, viewport={"width": 1400, "height": 900}) as page:
        page.wait_for_selector(f"#runs-list tr[data-run='{graph}']")
        listed = _listed(page)
        assert listed[listed.index(graph) + 1:listed.index(graph) + 3] == [ids["child"], f"{graph}.3"]
        assert page.get_attribute(f"tr[data-run='{ids['child']}']", "data-parent") == graph
        assert page.inner_text(f"tr[data-run='{graph}'] td[data-label=Tokens]") == "30 (30 in 2 child runs)"
        assert page.inner_text(f"tr[data-run='{writer}'] td[data-label=Input]") == "Summarise the quarterly report"
        error = page.inner_text(f"tr[data-run='{failed}'] td[data-label=Error]")
        assert error == "tool calculator failed: division by zero"
        assert page.inner_text(f"tr[data-run='{writer}'] td[data-label=Error]") == ""
        heights = page.evaluate("[...document.querySelectorAll('#runs-list .badge, #view button')]"
                                ".map((el) => el.getBoundingClientRect().height)")
        assert max(heights) < 2 * min(heights), "a badge or button wrapped onto two lines"
        shot(page, "runs-history")

        page.fill("form[role=search] input[name=id]", failed[:6])
        page.click("form[role=search] button[type=submit]")
        _wait_listed(page, [failed])
        assert "id_prefix=" in page.url

        page.goto(f"{url}/ui/#/runs")
        page.fill("form[role=search] input[name=q]", "QUARTERLY")
        page.click("form[role=search] button[type=submit]")
        _wait_listed(page, [writer])

        page.goto(f"{url}/ui/#/runs")
        page.fill("form[role=search] input[name=agent]", "writer")
        page.click("form[role=search] button[type=submit]")
        _wait_listed(page, [writer])

        page.goto(f"{url}/ui/#/runs")
        page.fill("form[role=search] input[name=workflow]", "triage")
        page.click("form[role=search] button[type=submit]")
        _wait_listed(page, [graph, ids["child"], f"{graph}.3"])

        page.goto(f"{url}/ui/#/runs")
        page.fill("form[role=search] input[name=since]", "2025-06-01T00:00")
        page.fill("form[role=search] input[name=until]", "2025-06-02T00:00")
        page.click("form[role=search] button[type=submit]")
        _wait_listed(page, [ids["old"]])
        assert page.input_value("form[role=search] input[name=since]") == "2025-06-01T00:00"
        shot(page, "runs-filtered")


def _stored_status(system: System, run_id: str) -> str | None:
    try:
        return system.reader().get_run(run_id).status
    except NotFound:
        return None


def test_operator_starts_a_run_and_reads_api_errors_in_words(browser, deployment: Deployment) -> None:
    with opened(browser, deployment.base, deployment.keys.operator) as page:
        page.fill("#start-run input[name=input]", "   ")
        page.click("#start-run button[type=submit]")
        page.wait_for_selector(".status-line .error:has-text('input: must not be blank')")
        page.fill("#start-run input[name=input]", "calculate 2 + 3")
        page.click("#start-run button[type=submit]")
        started = page.wait_for_selector(".status-line a").get_attribute("href")
        page.wait_for_selector(f"#runs-list tr a[href='{started}']")
        page.fill("form[role=search] input[name=id]", "no-such-run")
        page.click("form[role=search] button[type=submit]")
        page.wait_for_selector("#runs-list .empty:has-text('No runs match these filters')")
        page.fill("form[role=search] input[name=id]", started.split("/")[-1])
        page.click("form[role=search] button[type=submit]")
        page.wait_for_selector("#run-summary .badge:text-is('completed')")


def test_operator_answers_a_waiting_graph_run_then_forks_it(browser, deployment: Deployment) -> None:
    d = deployment
    run_id = d.control.start("calculate", workflow="ask").run_id
    wait_for(lambda: _stored_status(d.system, run_id) == "waiting")
    with opened(browser, d.base, d.keys.operator, path=f"/ui/#/runs/{run_id}") as page:
        screens = {a.get_attribute("data-screen") for a in page.query_selector_all("#nav a")}
        assert ("dlq" in screens) is (d.control.mode == "queued")
        page.wait_for_selector("#timeline li[data-type='run.waiting']")
        page.wait_for_selector("#run-actions .prompt:has-text('which expression')")
        page.fill("#run-actions input", "6 * 7")
        page.click("#run-actions button:has-text('Answer and resume')")
        page.wait_for_selector("#timeline li[data-type='run.completed']")
        page.wait_for_selector("#run-summary .badge:text-is('completed')")
        assert json.loads(page.inner_text("#run-output"))["result"] == 42
        step = max(c["step"] for c in d.system.reader().checkpoints(run_id) if c["next_node"] == "solve")
        page.locator(f"#checkpoints button[data-step='{step}']").click()
        page.click(f"#checkpoint-detail button:has-text('Fork from step {step}')")
        page.wait_for_url(lambda url: "#/runs/" in url and run_id not in url)
        page.wait_for_selector("#timeline li[data-type='run.completed']")
        forked = page.url.split("/")[-1]
    row = d.system.reader().get_run(forked)
    assert row.metadata["forked_from"] == run_id and json.loads(row.output)["result"] == 42
    assert d.system.reader().checkpoints(run_id)[-1]["step"] >= 2


@pytest.fixture
def distributed(api_system: System, redis_url: str) -> Iterator[tuple[str, RuntimeOps]]:
    """The app of the distributed runtime (queues, DLQ, cancel, requeue) on the suite's redis-server."""
    with RuntimeOps(api_system.config.replace(redis_url=redis_url, stream_prefix="uitest")) as ops:
        with served(create_app(api_system, ops=ops)) as base:
            yield base, ops


def _dead_letter(ops: RuntimeOps, api_system: System) -> tuple[str, str]:
    """A failed run in the store and its dead-lettered task, as the runtime writes them."""
    now = utc_now()
    api_system.write([Event("dead-run", 1, "run.started", now, "s1", {"input": "x"}),
                      Event("dead-run", 2, "run.failed", now, "s1", error="worker lost 5 times")])
    apply_ops(ops.client, [("dlq", ops.layout.dlq, dlq_fields(stream=ops.layout.tasks, entry_id="1-0", raw=b"{}",
                                                                reason="max deliveries", run_id="dead-run",
                                                                task_id="task-1", attempts=5, worker="w1",
                                                                last_error="worker lost"))])
    return "dead-run", ops.dlq_list()[0]["id"]


def test_operator_requeues_a_dead_lettered_run(browser, distributed, keys: Keys, api_system: System) -> None:
    base, ops = distributed
    run_id, entry = _dead_letter(ops, api_system)
    with coordinator(ops.config), opened(browser, base, keys.operator) as page:
        page.click("nav a[data-screen=workers]")
        page.wait_for_selector("#runtime-health:has-text('1 dead-lettered')")
        page.wait_for_selector("tr[data-kind=dlq] td[data-label=Length]:text-is('1')")
        shot(page, "workers-queues")
        page.click("nav a[data-screen=dlq]")
        row = page.locator(f"#dlq-list tr[data-entry='{entry}']")
        assert "worker lost" in row.inner_text() and "max deliveries" in row.inner_text()
        shot(page, "dlq")
        page.locator(f"#dlq-list tr[data-entry='{entry}'] button:has-text('Requeue')").click()
        page.wait_for_selector("#dlq-status:has-text('requeued')")
        page.wait_for_selector("#dlq-list :text('The DLQ is empty')")
    control = [from_wire(fields[b"m"]) for _, fields in ops.client.xrange(StreamLayout("uitest").control)]
    assert [(m.run_id, m.dlq_id) for m in control if isinstance(m, Requeue)] == [(run_id, entry)]


def _failed_deploy(system: System) -> str:
    """A run whose model call succeeded and whose tool call then failed, with a secret in its input."""
    run_id, session, t0 = f"d{new_id()[-10:]}", new_id(), datetime.now(UTC)

    def at(ms: int) -> str:
        return (t0 + timedelta(milliseconds=ms)).isoformat(timespec="milliseconds").replace("+00:00", "Z")

    system.write([
        Event(run_id, 1, "run.started", at(0), session, {"input": f"deploy with token {SECRET}", "agent": "default"}),
        Event(run_id, 2, "llm.request", at(5), session, {"iteration": 1, "messages": 2, "tools": ["deploy"]}),
        Event(run_id, 3, "llm.response", at(45), session, {"iteration": 1, "usage": {"input_tokens": 20,
              "output_tokens": 5}, "tool_calls": [{"name": "deploy"}]}, provider="scripted", duration_ms=40),
        Event(run_id, 4, "tool.call", at(50), session, {"arguments": {"token": SECRET}}, tool="deploy"),
        Event(run_id, 5, "tool.result", at(250), session, {"status": "failed"}, tool="deploy", duration_ms=200,
              error="HTTP 500 from the deploy hook"),
        Event(run_id, 6, "run.failed", at(260), session, {}, error="tool deploy failed: HTTP 500 from the deploy hook"),
    ])
    return run_id


def test_run_detail_shows_a_waterfall_the_failed_step_its_dlq_entry_and_no_secret(browser, distributed, keys: Keys,
                                                                                     api_system: System) -> None:
    base, ops = distributed
    run_id = _failed_deploy(api_system)
    raw = json.dumps({"run_id": run_id, "input": f"deploy with token {SECRET}"}).encode()
    apply_ops(ops.client, [("dlq", ops.layout.dlq, dlq_fields(stream=ops.layout.tasks, entry_id="2-0", raw=raw,
                                                                reason="max deliveries", run_id=run_id,
                                                                task_id="task-9", attempts=3, worker="w1",
                                                                last_error="HTTP 500"))])
    entry = ops.dlq_list()[0]["id"]
    with opened(browser, base, keys.viewer, viewport={"width": 1400, "height": 900},
                path=f"/ui/#/runs/{run_id}") as page:
        page.wait_for_selector("#timeline li[data-type='run.failed']")
        page.wait_for_selector("#waterfall li[data-kind=tool][data-status=failed]")
        kinds = [(li.get_attribute("data-kind"), li.get_attribute("data-status"))
                 for li in page.query_selector_all("#waterfall li")]
        assert kinds == [("llm", "completed"), ("tool", "failed")]
        assert page.inner_text("#waterfall li[data-kind=llm] .took") == "40 ms"
        assert page.inner_text("#waterfall li[data-kind=tool] .took") == "200 ms"
        assert "tool deploy: HTTP 500 from the deploy hook" in page.inner_text("#failed-step")
        text = page.inner_text("#view")
        assert SECRET not in text and "deploy with token [REDACTED:github_token]" in text
        assert SECRET not in page.content(), "not in the DOM either (event details included)"
        empty = page.evaluate("[...document.querySelectorAll('#view section, #view .panel')]"
                              ".filter((p) => p.offsetHeight > 0 && !p.textContent.trim()).length")
        assert empty == 0, "no empty card"
        page.click("#waterfall li[data-kind=tool] button")
        page.wait_for_selector("#timeline li[data-seq='5'].picked details[open]")
        shot(page, "run-waterfall")
        page.click(f"#run-dlq a:has-text('{entry}')")
        page.wait_for_selector(f"#dlq-list tr[data-entry='{entry}'].picked")
        page.click(f"#dlq-list tr[data-entry='{entry}'] a:has-text('{entry}')")
        payload = json.loads(page.wait_for_selector("#dlq-payload pre").inner_text())
        assert payload == {"run_id": run_id, "input": "deploy with token [REDACTED:github_token]"}
        assert "HTTP 500" in page.inner_text("#dlq-entry")
        shot(page, "dlq-entry")


def test_a_failed_node_is_drawn_failed(browser, url, keys: Keys, api_system: System) -> None:
    graph = Graph("breaking", description="compute, then divide by zero")
    graph.add(ToolNode("calc", "calculator", {"expression": "6 * 7"}, output_key="answer"),
              ToolNode("divide", "calculator", {"expression": "1 / 0"}, output_key="broken"))
    api_system.register_workflow("breaking", graph.chain("calc", "divide").entry("calc"))
    run_id = api_system.graph_run_async("breaking", "go").run_id
    wait_for(lambda: _stored_status(api_system, run_id) == "failed")
    with opened(browser, url, keys.viewer, path=f"/ui/#/graphs/breaking?run={run_id}") as page:
        page.wait_for_selector("svg.graph g.failed[data-node=divide]")
        assert page.query_selector("svg.graph g.failed[data-node=calc]") is None
        assert page.query_selector("svg.graph g.visited[data-node=calc]") is not None
        assert "failed at divide" in page.inner_text("#failed-node")
        shot(page, "graph-failed-node")


def test_router_edges_and_labels_come_from_the_api_and_fit_the_drawing(browser, url, keys: Keys) -> None:
    with opened(browser, url, keys.viewer, path="/ui/#/graphs/review") as page:
        page.wait_for_selector("svg.graph text.edge-label")
        labels = page.evaluate("[...document.querySelectorAll('svg.graph text.edge-label')]"
                               ".map((t) => t.firstChild.textContent)")
        assert sorted(labels) == ["default", "yes"]
        outside = page.evaluate("""(() => {
          const svg = document.querySelector('svg.graph'), box = svg.viewBox.baseVal;
          return [...svg.querySelectorAll('text')].map((t) => t.getBBox()).filter((b) =>
            b.x < box.x || b.y < box.y || b.x + b.width > box.x + box.width || b.y + b.height > box.y + box.height).length;
        })()""")
        assert outside == 0, "a label is clipped by the drawing's edge"
        shot(page, "graph-router")


EDGE_CROSSINGS = """(() => {
  // Each edge as segments (curves sampled along their length); pairs of edges with no node in common that properly cross.
  const edges = [...document.querySelectorAll('svg.graph path.edge')].map((p) => {
    const length = p.getTotalLength(), steps = p.getAttribute('d').includes('C') ? 32 : 1;
    const points = [...Array(steps + 1).keys()].map((i) => p.getPointAtLength(length * i / steps));
    return { ends: [p.dataset.from, p.dataset.to], segments: points.slice(1).map((b, i) => [points[i], b]) };
  });
  const side = (a, b, c) => Math.sign((b.x - a.x) * (c.y - a.y) - (b.y - a.y) * (c.x - a.x));
  const cross = ([a, b], [c, d]) => side(a, b, c) * side(a, b, d) < 0 && side(c, d, a) * side(c, d, b) < 0;
  const pairs = [];
  edges.forEach((e, i) => edges.slice(i + 1).forEach((f) => {
    if (e.ends.some((n) => f.ends.includes(n))) return;
    if (e.segments.some((s) => f.segments.some((t) => cross(s, t)))) pairs.push(`${e.ends.join('>')} x ${f.ends.join('>')}`);
  }));
  return pairs;
})()"""


def test_the_secops_graph_is_drawn_without_crossing_edges(browser, url, keys: Keys) -> None:
    with opened(browser, url, keys.viewer, path="/ui/#/graphs/secops") as page:
        page.wait_for_selector("svg.graph path.edge[data-to=end]", state="attached")
        assert page.locator("svg.graph path.edge").count() == 11
        assert page.evaluate(EDGE_CROSSINGS) == []
        shot(page, "graph-secops")


def test_a_session_reads_as_a_conversation(browser, url, keys: Keys, api_system: System) -> None:
    session, now = f"chat-{new_id()[-8:]}", utc_now()
    turns = [("hi, what is 6 * 7?", "completed", "42", None), ("and divided by zero?", "failed", None, "division by zero"),
             ("thanks", "completed", "You are welcome.", None)]
    records = []
    for n, (prompt, status, output, error) in enumerate(turns):
        run_id = f"{session}-{n}"
        records += [Event(run_id, 1, "run.started", now, session, {"input": prompt, "agent": "default"}),
                    Event(run_id, 2, f"run.{status}", now, session, {"output": output} if output else {}, error=error)]
    api_system.write(records)
    with opened(browser, url, keys.viewer, viewport={"width": 1400, "height": 900},
                path=f"/ui/#/sessions/{session}") as page:
        page.wait_for_selector("#conversation li.turn")
        said = [(li.get_attribute("class").split()[1], li.query_selector("p").inner_text())
                for li in page.query_selector_all("#conversation li.turn")]
        assert said == [("user", "hi, what is 6 * 7?"), ("assistant", "42"), ("user", "and divided by zero?"),
                        ("assistant", "division by zero"), ("user", "thanks"), ("assistant", "You are welcome.")]
        assert page.query_selector("#conversation li.assistant.failed .badge.s-failed") is not None
        shot(page, "session-conversation")


def test_overview_charts_runs_durations_tokens_cost_queue_and_throughput(browser, api_system: System, keys: Keys,
                                                                          redis_url: str, tmp_path: Path) -> None:
    prices = tmp_path / "prices.json"
    prices.write_text(json.dumps({"gpt-4o*": {"input": 2.5, "output": 10}}))
    now = datetime.now(UTC)

    def ago(seconds: float) -> str:
        return (now - timedelta(seconds=seconds)).isoformat(timespec="milliseconds").replace("+00:00", "Z")

    records: list = []
    for n, (age, took_s, status) in enumerate([(600, 1, "completed"), (590, 3, "completed"), (300, 2, "failed"),
                                               (120, 1, "completed")]):
        run_id, session = f"ov{n}-{new_id()[-6:]}", new_id()
        records += [Event(run_id, 1, "run.started", ago(age), session, {"input": "x", "agent": "default"}),
                    Event(run_id, 2, "llm.response", ago(age - 0.5), session,
                          {"model": "gpt-4o-mini" if n else "local-llama", "usage": {"input_tokens": 400_000,
                                                                                      "output_tokens": 100_000}}),
                    Event(run_id, 3, f"run.{status}", ago(age - took_s), session, {}, error="boom" if status == "failed"
                          else None)]
        records += [QueueEvent(f"task-{run_id}", 1, "enqueued", ago(age + 5), run_id),
                    QueueEvent(f"task-{run_id}", 1, "claimed", ago(age), run_id, {"worker_id": "w1"}),
                    QueueEvent(f"task-{run_id}", 1, "acked", ago(age - took_s), run_id)]
    records.append(QueueEvent("task-waiting", 1, "enqueued", ago(200), "never-claimed"))
    api_system.write(records)
    settings = api_system.config.replace(redis_url=redis_url, stream_prefix="uiov", prices_file=str(prices))
    with RuntimeOps(settings) as ops, served(create_app(api_system, settings, ops=ops)) as base, \
            opened(browser, base, keys.viewer, viewport={"width": 1400, "height": 900}) as page:
        page.click("nav a[data-screen=overview]")
        page.wait_for_selector("#chart-runs svg g[data-total] rect")
        totals = [float(g.get_attribute("data-total")) for g in page.query_selector_all("#chart-runs g[data-bucket]")]
        assert len(totals) == 60 and sum(totals) == 4, "per minute with minute buckets: one run counts 1"
        assert page.query_selector("#chart-runs g[data-bucket] rect.c-failed") is not None
        assert page.query_selector("#chart-duration path[data-series=p95]") is not None
        assert page.query_selector("#chart-tokens rect.c-output") is not None
        assert page.inner_text("#overview-cost") == "$6.00", "3 priced calls, each 0.4M in at $2.5 + 0.1M out at $10"
        assert "gpt-4o*" in page.inner_text("#price-table") and "local-llama" in page.inner_text("#unpriced")
        depth = page.query_selector("#chart-queue path[data-series=waiting]")
        assert depth is not None and page.query_selector("#chart-throughput rect.c-acked") is not None
        shot(page, "overview")
        page.set_viewport_size(PHONE)
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"the overview scrolls sideways by {overflow}px on a phone"
        shot(page, "phone-overview")


def test_viewer_sees_no_mutation_buttons(browser, distributed, keys: Keys, api_system: System, gate: Gate) -> None:
    base, ops = distributed
    _, entry = _dead_letter(ops, api_system)
    running = api_system.run_async(GATE_PROMPT).run_id
    assert gate.entered.wait(20)
    with opened(browser, base, keys.viewer) as page:
        screens = {a.get_attribute("data-screen") for a in page.query_selector_all("#nav a")}
        assert {"runs", "workers", "dlq", "sessions"} <= screens and not {"audit", "keys"} & screens
        assert page.query_selector("#start-run") is None
        assert "null" not in page.inner_text("#view"), "no stray text where the start form would be"
        page.click(f"#runs-list tr[data-run='{running}'] a")
        page.wait_for_selector("#run-summary .facts")
        assert page.query_selector("#run-actions") is None
        page.goto(f"{base}/ui/#/runs/dead-run")
        page.wait_for_selector("#run-summary .facts")
        assert page.query_selector("#run-actions") is None
        page.goto(f"{base}/ui/#/dlq")
        page.wait_for_selector(f"#dlq-list tr[data-entry='{entry}']")
        assert page.query_selector_all("#view button") == []
        page.goto(f"{base}/ui/#/graphs/triage")
        page.wait_for_selector("svg.graph")
        assert page.query_selector("#bindings") is None
        page.goto(f"{base}/ui/#/keys")
        page.wait_for_selector("#runs-list")
    with opened(browser, base, keys.operator) as page:
        page.on("dialog", lambda dialog: dialog.accept())
        page.goto(f"{base}/ui/#/runs/{running}")
        page.locator("#run-actions button:has-text('Cancel')").click()
        page.wait_for_selector(".status-line:has-text('Cancelling')")
        assert ops.client.get(ops.layout.cancel_key(running)) == b"cancelled from the DevUI"
        page.goto(f"{base}/ui/#/runs/dead-run")
        page.wait_for_selector("#run-actions button:has-text('Requeue')")
    gate.set()


def _status_with(base: str, secret: str) -> int:
    request = urllib.request.Request(f"{base}/api/v1/auth/me", headers={"Authorization": f"Bearer {secret}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_admin_creates_and_revokes_a_key(browser, url, keys: Keys) -> None:
    with opened(browser, url, keys.admin) as page:
        page.on("dialog", lambda dialog: dialog.accept())
        page.click("nav a[data-screen=keys]")
        page.fill("#create-key input[name=name]", "ci-bot")
        page.select_option("#create-key select[name=role]", "operator")
        page.click("#create-key button[type=submit]")
        secret = page.wait_for_selector("#new-secret code.secret").inner_text()
        assert _status_with(url, secret) == 200
        row = page.wait_for_selector("#keys-list tr[data-name=ci-bot]")
        assert "active" in row.inner_text()
        shot(page, "keys")
        page.locator("#keys-list tr[data-name=ci-bot] button:has-text('Revoke')").click()
        page.wait_for_selector("#keys-list tr[data-name=ci-bot] .badge:text-is('revoked')")
        assert _status_with(url, secret) == 401
        page.click("nav a[data-screen=audit]")
        page.wait_for_selector("#audit-list td:text-is('auth.key.revoke')")
        shot(page, "audit")


def test_admin_binds_and_unbinds_a_tool_of_a_workflow(browser, url, keys: Keys, api_system: System) -> None:
    with opened(browser, url, keys.admin, path="/ui/#/graphs/triage") as page:
        page.fill("#bind-tool input[name=tool]", "calculator")
        page.click("#bind-tool button[type=submit]")
        page.wait_for_selector("#bound-tools li[data-tool=calculator]")
        assert "calculator" in api_system.catalog.binding("triage").tools
        shot(page, "graph-bindings")
        page.click("#bound-tools li[data-tool=calculator] button")
        page.wait_for_selector("#bound-tools li[data-tool=calculator]", state="detached")
        assert "calculator" not in api_system.catalog.binding("triage").tools
        page.fill("#bind-tool input[name=tool]", "no_such_tool")
        page.click("#bind-tool button[type=submit]")
        page.wait_for_selector("#binding-status .error")


def seeded_evals(system: System) -> tuple[str, str]:
    """Two evals of the same cases: in the newer one `math` regressed and `greet` improved."""
    math = EvalCase("math", "What is 6 * 7?", 1, assertions=(Assertion("contains", value="42"),),
                    required_tools=("calculator",), tags=("math",))
    greet = EvalCase("greet", "hello", 2, assertions=(Assertion("contains", value="bye"),), tags=("smalltalk",))
    base = run_eval(system, [math, greet],
                    dataset="smoke.jsonl")
    head = run_eval(system, [EvalCase("math", "What is 6 * 7?", 1, assertions=(Assertion("contains", value="43"),)),
                             EvalCase("greet", "hello", 2, assertions=(Assertion("contains", value="hello"),))],
                    dataset="smoke.jsonl")
    return base.eval_id, head.eval_id


def test_evaluations_list_detail_with_run_links_and_compare(browser, url, keys: Keys, api_system: System) -> None:
    base, head = seeded_evals(api_system)
    with opened(browser, url, keys.viewer) as page:
        page.click("nav a[data-screen=evals]")
        page.wait_for_selector(f"#evals-list tr[data-eval='{head}']")
        assert page.query_selector("#start-eval") is None, "viewers get no start form"
        shot(page, "evals")
        page.click(f"#evals-list tr[data-eval='{base}'] a")
        page.wait_for_selector("#eval-facts[data-status=completed]")
        row = page.wait_for_selector("tr[data-case=greet][data-status=failed]")
        assert "contains 'bye': not in the answer" in row.inner_text()
        assert page.inner_text("tr[data-case=math] td[data-label=Tools]") == "calculator"
        assert "held in 100% of the cases that set them" in page.inner_text("#eval-facts")
        assert "1 (100%)" in page.inner_text("#eval-tags tr[data-tag=math]")
        assert "0 (0%)" in page.inner_text("#eval-tags tr[data-tag=smalltalk]")
        shot(page, "eval-detail")
        page.click("tr[data-case=math] a.mono")
        page.wait_for_selector("#timeline li[data-type='run.completed']")
        page.go_back()
        page.wait_for_selector("#eval-facts")
        page.click("nav a[data-screen=evals]")
        page.check(f"#evals-list tr[data-eval='{base}'] input[type=checkbox]")
        assert page.is_disabled("#compare-evals"), "a comparison needs two evals"
        page.check(f"#evals-list tr[data-eval='{head}'] input[type=checkbox]")
        page.click("#compare-evals")
        page.wait_for_selector("#eval-compare section[data-group=regressed] tr[data-case=math]")
        assert page.query_selector("section[data-group=improved] tr[data-case=greet]") is not None
        assert f"base={base}" in page.url and f"head={head}" in page.url
        assert "contains '43'" in page.inner_text("section[data-group=regressed]")
        shot(page, "eval-compare")


def test_operator_starts_an_eval_and_reads_a_bad_case_in_words(browser, url, keys: Keys) -> None:
    with opened(browser, url, keys.operator, path="/ui/#/evals") as page:
        page.fill("#start-eval textarea", '{"input": "hello", "assertions": [{"type": "fuzzy"}]}')
        page.click("#start-eval button[type=submit]")
        page.wait_for_selector(".status-line .error:has-text('cases[0].assertions[0].type')")
        page.fill("#start-eval textarea", "not json")
        page.click("#start-eval button[type=submit]")
        page.wait_for_selector(".status-line .error:has-text('Line 1 is not JSON')")
        page.fill("#start-eval textarea", '{"id": "hi", "input": "hello", "expected_output": "hello"}\n'
                                          '{"id": "sum", "input": "calculate 2 + 3", "expected_output": "5"}')
        page.click("#start-eval button[type=submit]")
        page.click(".status-line a")
        page.wait_for_selector("#eval-facts[data-status=completed]")
        assert page.query_selector("tr[data-case=sum][data-status=passed]") is not None
        assert "2/2" in page.inner_text("#eval-facts")


def test_every_screen_fits_a_phone_width(browser, url, keys: Keys, api_system: System) -> None:
    run_id = api_system.graph_run_async("triage", "calculate 2 + 3").result(timeout=30).run_id
    base, head = seeded_evals(api_system)
    api_system.write([new_schedule("nightly", cron="0 2 * * *", timezone="Europe/Paris", input="hi")])
    with opened(browser, url, keys.admin, viewport=PHONE) as page:
        screens = {"runs": "#runs-list table", f"runs/{run_id}": "#checkpoints table",
                   f"graphs/triage?run={run_id}": "svg.graph", "graphs": "table", "workers": "#throughput",
                   "sessions": "#sessions-list table", "tools": "#tools table", "audit": "#audit-list :is(table, .empty)",
                   "keys": "#keys-list table", "evals": "#evals-list table", "schedules": "#schedules-list table",
                   f"evals/{base}": "#eval-detail table",
                   f"evals/compare?base={base}&head={head}": "#eval-compare table"}
        for screen, ready in screens.items():
            page.goto(f"{url}/ui/#/{screen}")
            page.wait_for_selector(ready)
            overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert overflow <= 0, f"{screen} scrolls sideways by {overflow}px"
            shot(page, "phone-" + screen.split("?")[0].replace("/", "-").replace(run_id, "run").replace(base, "eval"))
        page.click("#menu-toggle")
        assert page.is_visible("#nav a[data-screen=keys]")


def test_a_run_cut_by_the_output_token_limit_is_marked_truncated(browser, url, keys: Keys, api_system: System) -> None:
    run_id, session = new_id(), new_id()
    api_system.write((
        Event(run_id, 1, "run.started", utc_now(), session, {"input": "write a long essay", "agent": "default"}),
        Event(run_id, 2, "llm.truncated", utc_now(), session, {"iteration": 1, "finish_reason": "length"}),
        Event(run_id, 3, "run.completed", utc_now(), session, {"output": "It was a dark and", "truncated": True}),
    ))
    with opened(browser, url, keys.viewer, path=f"/ui/#/runs/{run_id}") as page:
        page.wait_for_selector("#timeline li[data-type='run.completed']")
        assert page.wait_for_selector("#run-truncated").inner_text() == "truncated"
