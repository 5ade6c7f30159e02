"""The tree of runs in headless Chromium: a run's page shows the whole orchestration it belongs to (graph
node runs, delegations), nested, the current run marked, live while the page is open; the runs list
nests a delegation under its agent run."""

from __future__ import annotations

from agentstage.api import create_app
from agentstage.runtime import System
from agentstage.runtime.clock import new_id, utc_now
from agentstage.runtime.state import Event
from tests.api.browser import served, shot
from tests.api.helpers import LOGIN_TOKENS, Keys, wait_for
from tests.api.test_ui_browser import PHONE, browser, opened, url  # noqa: F401  (the page fixtures)


def _run(run_id: str, *, parent: str | None = None, tokens: int = 0, ended: bool = True, **data) -> list[Event]:
    """A run's events as the runtime stores them: started (a child of `parent`), a model call using
    `tokens`, and its end unless not `ended`."""
    now, session = utc_now(), f"s-{run_id}"
    link = {"parent_run_id": parent} if parent else {}
    events = [Event(run_id, 1, "run.started", now, session, {"input": f"work of {run_id}", **link, **data})]
    if tokens:
        usage = {"input_tokens": tokens - tokens // 3, "output_tokens": tokens // 3}
        events.append(Event(run_id, 2, "llm.response", now, session, {"usage": usage, **link}))
    if ended:
        events.append(Event(run_id, 3, "run.completed", now, session, {"output": "done"}))
    return events


def _orchestration(system: System) -> dict[str, str]:
    """A graph run with two node runs (classify, summarise); summarise delegated to a researcher."""
    graph = f"g{new_id()[-10:]}"
    ids = {"graph": graph, "classify": f"{graph}.2", "summarise": f"{graph}.3",
           "research": f"{graph}.3.researcher.ab12cd34"}
    system.write([
        *_run(graph, kind="graph", workflow="triage"),
        *_run(ids["classify"], parent=graph, tokens=12, agent="default",
              metadata={"parent_run_id": graph, "graph_node": "classify", "graph_step": 2}),
        *_run(ids["summarise"], parent=graph, tokens=18, agent="default",
              metadata={"parent_run_id": graph, "graph_node": "summarise", "graph_step": 3}),
        *_run(ids["research"], parent=ids["summarise"], tokens=5, agent="researcher",
              metadata={"parent_run_id": ids["summarise"]}),
    ])
    return ids


def _item(*path: str) -> str:
    """The selector of the tree item at `path` (root first), each one nested in the one before."""
    return "#run-tree ul.run-tree > " + " > ul > ".join(f"li[data-run='{run_id}']" for run_id in path)


def test_run_page_shows_its_orchestration_as_a_nested_tree_with_itself_marked(browser, url, keys: Keys,  # noqa: F811
                                                                             api_system: System) -> None:
    ids = _orchestration(api_system)
    graph, classify, summarise, research = ids["graph"], ids["classify"], ids["summarise"], ids["research"]
    with opened(browser, url, keys.viewer, path=f"/ui/#/runs/{research}") as page:
        page.wait_for_selector(_item(graph, summarise, research))
        assert page.query_selector(_item(graph, classify)) is not None
        assert page.query_selector(f"{_item(graph, classify)} > ul") is None
        marked = [a.get_attribute("href") for a in page.query_selector_all("#run-tree a[aria-current=page]")]
        assert marked == [f"#/runs/{research}"]
        assert "current" in page.get_attribute(f"{_item(graph, summarise, research)} > .tree-node", "class")
        root = page.inner_text(f"{_item(graph)} > .tree-node")
        assert "workflow triage" in root and "completed" in root
        node = page.inner_text(f"{_item(graph, summarise)} > .tree-node")
        assert "agent default" in node and "node summarise" in node and "23 tokens" in node
        assert "agent researcher" in page.inner_text(f"{_item(graph, summarise, research)} > .tree-node")
        assert page.query_selector("#run-tree-cut") is None
        shot(page, "run-tree")

        page.click(f"{_item(graph, summarise)} > .tree-node a")
        page.wait_for_url(lambda address: address.endswith(f"#/runs/{summarise}"))
        page.wait_for_selector(f"{_item(graph, summarise)} > .tree-node a[aria-current=page]")
        assert page.query_selector(f"{_item(graph, summarise, research)} a[aria-current]") is None
        assert summarise in page.inner_text("#view h1")


def test_a_new_child_run_appears_in_the_open_tree_and_leaving_stops_the_reloads(browser, keys: Keys,
                                                                              api_system: System) -> None:
    ids = _orchestration(api_system)
    graph, classify = ids["graph"], ids["classify"]
    app, root_reads = create_app(api_system, login_tokens=LOGIN_TOKENS), []

    async def counting(scope, receive, send):
        if scope["type"] == "http" and scope["path"] == f"/api/v1/runs/{graph}":
            root_reads.append(scope["path"])
        await app(scope, receive, send)

    with served(app, counting) as base, opened(browser, base, keys.viewer, path=f"/ui/#/runs/{classify}") as page:
        page.wait_for_selector(_item(graph, classify))
        page.wait_for_selector("#run-tree-live[data-state=live]")
        helper = f"{classify}.writer.cd34ef56"
        api_system.write(_run(helper, parent=classify, ended=False, agent="writer",
                              metadata={"parent_run_id": classify}))
        page.wait_for_selector(f"{_item(graph, classify, helper)}[data-status=running]")
        api_system.write([Event(helper, 3, "run.completed", utc_now(), f"s-{helper}", {"output": "done"})])
        page.wait_for_selector(f"{_item(graph, classify, helper)}[data-status=completed]")
        shot(page, "run-tree-live")

        page.click("nav a[data-screen=runs]")
        page.wait_for_selector("#runs-live[data-state=live]")
        reads, marker = len(root_reads), f"m{new_id()[-10:]}"
        api_system.write([*_run(f"{classify}.writer.ef56ab78", parent=classify, agent="writer",
                                metadata={"parent_run_id": classify}), *_run(marker, agent="default")])
        page.wait_for_selector(f"#runs-list tr[data-run='{marker}']")
        page.wait_for_timeout(1500)  # NOTE: longer than the tree's one reload a second
        assert len(root_reads) == reads, "the tree of a screen left behind still reloads"


def test_a_tree_deeper_than_the_limit_says_it_is_cut_and_fits_a_phone(browser, url, keys: Keys,  # noqa: F811
                                                                       api_system: System) -> None:
    chain = [f"d{new_id()[-10:]}"]
    while len(chain) < 8:
        chain.append(f"{chain[-1]}.{len(chain)}")
    api_system.write([e for i, run_id in enumerate(chain)
                      for e in _run(run_id, parent=chain[i - 1] if i else None, agent="default")])
    with opened(browser, url, keys.viewer, viewport=PHONE, path=f"/ui/#/runs/{chain[2]}") as page:
        page.wait_for_selector(_item(*chain[:7]))
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"the tree scrolls sideways by {overflow}px"
        shot(page, "phone-run-tree")
        assert page.query_selector(f"#run-tree li[data-run='{chain[7]}']") is None
        assert "6 levels" in page.inner_text("#run-tree-cut")
        assert page.get_attribute(f"{_item(*chain[:3])} > .tree-node a", "aria-current") == "page"


def test_runs_list_nests_a_delegated_run_under_its_agent_run(browser, url, keys: Keys,  # noqa: F811
                                                             api_system: System) -> None:
    lead, alone = f"a{new_id()[-10:]}", f"b{new_id()[-10:]}"
    helper = f"{lead}.researcher.0badcafe"
    api_system.write([*_run(lead, tokens=9, agent="lead"), *_run(alone, agent="default"),
                      *_run(helper, parent=lead, tokens=6, agent="researcher", metadata={"parent_run_id": lead})])
    with opened(browser, url, keys.viewer) as page:
        page.wait_for_selector(f"#runs-list tr[data-run='{helper}']")
        listed = [row.get_attribute("data-run") for row in page.query_selector_all("#runs-list tbody tr")]
        assert listed[listed.index(lead) + 1] == helper and listed.count(helper) == 1
        row = f"#runs-list tr[data-run='{helper}']"
        assert page.get_attribute(row, "data-parent") == lead and "child-run" in page.get_attribute(row, "class")
        assert page.inner_text(f"tr[data-run='{lead}'] td[data-label=Tokens]") == "15 (6 in 1 child run)"
        page.click(f"{row} a")
        page.wait_for_selector(_item(lead, helper))
