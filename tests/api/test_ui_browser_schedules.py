"""The DevUI Schedules screen in headless Chromium: an operator adds, disables, enables and triggers a
schedule and reads its history with a link to the run; a viewer sees the list without mutation controls."""

from __future__ import annotations

from agentstage.runtime import System
from agentstage.runtime.schedules import new_schedule
from tests.api.browser import shot
from tests.api.helpers import Keys, wait_for
from tests.api.test_ui_browser import browser, opened, url  # noqa: F401  (the page fixtures)


def test_operator_adds_toggles_triggers_and_reads_a_schedule_s_history(browser, url, keys: Keys,  # noqa: F811
                                                                       api_system: System) -> None:
    with opened(browser, url, keys.operator, path="/ui/#/schedules") as page:
        page.wait_for_selector("#schedules-list .empty")
        page.fill("#add-schedule input[name=name]", "nightly")
        page.fill("#add-schedule input[name=cronExpr]", "61 2 * * *")
        page.fill("#add-schedule input[name=timezone]", "Europe/Paris")
        page.fill("#add-schedule input[name=input]", "What is 6 * 7?")
        page.click("#add-schedule button[type=submit]")
        page.wait_for_selector(".status-line .error:has-text('cronExpr: Bad minute')")
        page.fill("#add-schedule input[name=cronExpr]", "0 2 * * *")
        page.click("#add-schedule button[type=submit]")
        row = page.wait_for_selector("#schedules-list tr[data-schedule=nightly][data-enabled=true]")
        assert "0 2 * * * (Europe/Paris)" in row.inner_text()
        page.select_option("#add-schedule select[name=kind]", "interval")
        page.fill("#add-schedule input[name=name]", "poll")
        page.fill("#add-schedule input[name=intervalSeconds]", "900")
        page.click("#add-schedule button[type=submit]")
        page.wait_for_selector("#schedules-list tr[data-schedule=poll]:has-text('every 900 s')")
        page.click("#schedules-list tr[data-schedule=nightly] button:has-text('Disable')")
        page.wait_for_selector("#schedules-list tr[data-schedule=nightly][data-enabled=false]")
        page.click("#schedules-list tr[data-schedule=nightly] button:has-text('Enable')")
        page.wait_for_selector("#schedules-list tr[data-schedule=nightly][data-enabled=true]")
        page.click("#schedules-list tr[data-schedule=nightly] button:has-text('Trigger now')")
        page.wait_for_selector(".status-line .ok:has-text('Triggered nightly')")
        shot(page, "schedules")
        run_id = api_system.reader().list_runs().items[0].run_id
        wait_for(lambda: api_system.reader().get_run(run_id).status == "completed")
        page.click("#schedules-list tr[data-schedule=nightly] a")
        row = page.wait_for_selector("#schedule-detail tr[data-trigger=manual]")
        assert "completed" in row.inner_text()
        shot(page, "schedule-detail")
        page.click("#schedule-detail tr[data-trigger=manual] a.mono")
        page.wait_for_selector("#timeline li[data-type='run.completed']")


def test_viewer_sees_schedules_without_mutation_controls(browser, url, keys: Keys,  # noqa: F811
                                                         api_system: System) -> None:
    api_system.write([new_schedule("poll", every_s=900.0, input="hi")])
    with opened(browser, url, keys.viewer, path="/ui/#/schedules") as page:
        page.wait_for_selector("#schedules-list tr[data-schedule=poll]")
        assert page.query_selector("#add-schedule") is None
        assert page.query_selector("#schedules-list button") is None
