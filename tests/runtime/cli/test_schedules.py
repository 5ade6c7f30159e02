"""`agentstage schedules ...` on a store file: add, list, show, enable/disable, remove, trigger; bad input is
one line naming the flag and exit 2; every change leaves an audit row."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agentstage.runtime.state.admin import AdminReader


def test_add_list_show_and_trigger_a_schedule(cli) -> None:
    assert cli("schedules", "list") == (0, "no schedules yet\n", "")
    code, out, _ = cli("schedules", "add", "nightly", "--cron", "0 2 * * *", "--timezone", "Europe/Paris",
                       "--input", "What is 6 * 7?")
    assert (code, out) == (0, "schedule nightly added\n")
    assert cli("schedules", "add", "poll", "--every", "15m", "--workflow", "review", "--disabled")[0] == 0
    code, out, _ = cli("schedules", "list", "--json")
    rows = {r["name"]: r for r in json.loads(out)}
    assert rows["nightly"]["next_tick"].endswith(("01:00:00.000Z", "00:00:00.000Z"))
    assert (rows["poll"]["every_s"], rows["poll"]["enabled"], rows["poll"]["next_tick"]) == (900.0, False, None)
    code, out, _ = cli("schedules", "trigger", "nightly")
    assert code == 0 and "completed" in out and "42" in out
    code, out, _ = cli("schedules", "show", "nightly", "--json")
    [fire] = json.loads(out)["history"]
    assert (fire["trigger"], fire["status"], fire["run"]["status"]) == ("manual", "started", "completed")


def test_enable_disable_and_remove(cli) -> None:
    cli("schedules", "add", "s", "--every", "60")
    assert cli("schedules", "disable", "s")[1] == "schedule s disabled\n"
    assert json.loads(cli("schedules", "list", "--json")[1])[0]["enabled"] is False
    assert cli("schedules", "enable", "s")[0] == 0
    assert cli("schedules", "remove", "s")[0] == 0
    assert cli("schedules", "remove", "s") == (2, "", "agentstage: unknown schedule: s\n")


@pytest.mark.parametrize(("args", "message"), [
    (["--cron", "61 * * * *"], "agentstage: --cron: Bad minute in '61 * * * *'\n"),
    (["--cron", "* * * *"], "agentstage: --cron: expected 5 fields"),
    (["--every", "5x"], "agentstage: --every: expected a duration"),
    (["--cron", "* * * * *", "--timezone", "Mars/Olympus"], "agentstage: --timezone: unknown time zone"),
    (["--cron", "* * * * *", "--every", "60"], "agentstage: --cron: give either"),
    (["--every", "60", "--grace", "-1"], "agentstage: --grace: expected 0 to"),
])
def test_bad_input_is_one_line_naming_the_flag_and_exit_2(cli, args, message) -> None:
    code, out, err = cli("schedules", "add", "s", *args)
    assert (code, out) == (2, "") and err.startswith(message) and err.count("\n") == 1
    assert cli("schedules", "list")[1] == "no schedules yet\n"


def test_a_taken_name_is_refused_unless_replaced(cli) -> None:
    cli("schedules", "add", "s", "--every", "60")
    assert cli("schedules", "add", "s", "--every", "90") == (
        2, "", "agentstage: schedule 's' exists (--replace to replace it)\n")
    assert cli("schedules", "add", "s", "--every", "90", "--replace")[0] == 0
    assert json.loads(cli("schedules", "list", "--json")[1])[0]["every_s"] == 90.0


def test_changes_are_audited_as_the_cli(cli, tmp_path: Path) -> None:
    cli("schedules", "add", "s", "--every", "60")
    cli("schedules", "disable", "s")
    cli("schedules", "trigger", "s")
    cli("schedules", "remove", "s")
    reader = AdminReader(tmp_path / "home" / "agentstage.db")
    try:
        entries = reader.audit(limit=10).items
    finally:
        reader.close()
    assert sorted(e.action for e in entries) == ["cron.create", "cron.delete", "cron.trigger", "cron.update"]
    assert {e.role for e in entries} == {"cli"}
