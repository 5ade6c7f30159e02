"""The DevUI Playground screen in headless Chromium: an operator chats with a flow, the answer streams
in and links to its run, the next turn continues the same session; a viewer is not offered the screen."""

from __future__ import annotations

from agentstage.runtime import System
from tests.api.browser import shot
from tests.api.helpers import Keys
from tests.api.test_ui_browser import browser, opened, url  # noqa: F401  (the page fixtures)

ANSWER = "#chat-transcript li[data-role=assistant]"


def test_operator_chats_with_a_flow_and_the_second_turn_keeps_the_session(browser, url, keys: Keys,  # noqa: F811
                                                                          api_system: System) -> None:
    with opened(browser, url, keys.operator, path="/ui/#/playground") as page:
        page.wait_for_selector("#chat-form")
        page.select_option("select[name=flow]", "support-engineer")
        page.fill("#chat-form textarea", "Stream this response")
        page.keyboard.press("Enter")
        first = page.wait_for_selector(f"{ANSWER}[data-state=completed]")
        first_run = first.get_attribute("data-run")
        row = api_system.get_run(first_run)
        assert first.query_selector(".chat-text").inner_text() == row.output
        chunks = first.query_selector(".chat-text").evaluate("el => el.childNodes.length")
        assert chunks > 1, "the answer was built from the streamed deltas, not set once at the end"
        assert row.agent != "default", "the flow's configuration ran, not the configured agent"
        page.fill("#chat-form textarea", "calculate 2 + 3")
        page.click("#chat-form button[type=submit]")
        page.wait_for_selector(f"{ANSWER}:nth-child(4)[data-state=completed]")
        second_run = page.get_attribute(f"{ANSWER}:nth-child(4)", "data-run")
        assert "5" in page.inner_text(f"{ANSWER}:nth-child(4) .chat-text")
        assert api_system.get_run(second_run).session_id == row.session_id
        assert [li.get_attribute("data-role") for li in page.query_selector_all("#chat-transcript li")] == [
            "user", "assistant", "user", "assistant"]
        shot(page, "playground")
        page.click(f"{ANSWER}:nth-child(4) a.mono")
        page.wait_for_selector("#timeline li[data-type='run.completed']")


def test_a_viewer_is_not_offered_the_playground(browser, url, keys: Keys) -> None:  # noqa: F811
    with opened(browser, url, keys.viewer, path="/ui/#/playground") as page:
        page.wait_for_selector("nav a[data-screen=runs][aria-current]")
        assert page.query_selector("nav a[data-screen=playground]") is None
