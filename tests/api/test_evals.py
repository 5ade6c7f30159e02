"""Eval routes: start inline cases (operator), list, read with run links, compare two; 422s name the field."""

from __future__ import annotations

import time

import pytest

from agentstage.runtime.evals.judge import JUDGE_AGENT, judge_spec

CASES = [{"id": "math", "input": "What is 6 * 7?", "expected_output": "42", "required_tools": ["calculator"]},
         {"id": "greet", "input": "hello", "assertions": [{"type": "contains", "value": "hello"}]}]


def start(client, keys, cases=CASES, **options) -> str:
    result = client.simulate_post("/api/v1/evals", json={"cases": cases, "dataset": "smoke", **options},
                                  headers=keys.headers("operator"))
    assert result.status_code == 202, result.text
    assert result.json["status"] == "running" and result.json["cases"] == len(cases)
    return result.json["eval_id"]


def finished(client, keys, eval_id: str) -> dict:
    for _ in range(1000):
        found = client.simulate_get(f"/api/v1/evals/{eval_id}", headers=keys.headers("viewer")).json
        if found["status"] != "running":
            return found
        time.sleep(0.02)
    raise AssertionError(f"eval {eval_id} did not finish")


def test_an_eval_started_through_the_api_runs_its_cases_as_recorded_runs(client, keys, api_system) -> None:
    eval_id = start(client, keys)
    stored = client.simulate_get(f"/api/v1/evals/{eval_id}", headers=keys.headers("viewer"))
    assert stored.status_code == 200, "the eval is readable as soon as the start is answered"
    done = finished(client, keys, eval_id)
    assert (done["status"], done["passed"], done["cases"], done["ok"], done["dataset"]) == (
        "completed", 2, 2, True, "smoke")
    math = done["results"][0]
    run = client.simulate_get(f"/api/v1/runs/{math['run_id']}", headers=keys.headers("viewer")).json
    assert run["metadata"]["eval_id"] == eval_id and math["tools"] == ["calculator"]
    listed = client.simulate_get("/api/v1/evals", headers=keys.headers("viewer")).json
    assert [e["eval_id"] for e in listed] == [eval_id] and "results" not in listed[0]
    audit = api_system.reader().connection.execute("SELECT action, target FROM audit_log WHERE action = 'eval.start'")
    assert list(audit) == [("eval.start", eval_id)]


def test_compare_names_the_cases_that_regressed_and_improved(client, keys) -> None:
    base = start(client, keys, [{**CASES[0]}, {"id": "greet", "input": "hello", "expected_output": "nope"}])
    head = start(client, keys, [{**CASES[0], "expected_output": "43"}, CASES[1]])
    finished(client, keys, base), finished(client, keys, head)
    diff = client.simulate_get("/api/v1/evals/compare", params={"base": base, "head": head},
                               headers=keys.headers("viewer"))
    assert diff.status_code == 200, diff.text
    assert [c["case_id"] for c in diff.json["regressed"]] == ["math"]
    assert [c["case_id"] for c in diff.json["improved"]] == ["greet"]
    assert diff.json["regressed"][0]["head"]["reason"].startswith("contains '43'")
    assert diff.json["pass_rate_delta"] == 0.0


@pytest.mark.parametrize(("body", "field"), [
    ({"cases": []}, "cases"),
    ({"cases": [{"input": "x"}, {"input": "y", "assertions": [{"type": "fuzzy"}]}]}, "cases[1].assertions[0].type"),
    ({"cases": [{"input": "x", "agent": "ghost"}]}, "cases[0].agent"),
    ({"cases": [{"id": "a", "input": "x"}, {"id": "a", "input": "y"}]}, "cases[1].id"),
    ({"cases": [{"input": "x", "judge": "polite"}]}, "cases[0].judge"),
    ({"cases": [{"input": "x"}], "judge": "ghost"}, "judge"),
    ({"cases": [{"input": "x"}], "fail_under": 80}, "fail_under"),
    ({"cases": [{"input": "x"}], "workers": 0}, "workers"),
    ({"cases": [{"input": "x"}], "agent": "ghost"}, "agent"),
    ({"cases": [{"input": "x"}], "workflow": "ghost"}, "workflow"),
    ({"cases": [{"input": "x", "workflow": "ghost"}]}, "cases[0].workflow"),
    ({"cases": [{"input": "x"}], "surprise": 1}, "surprise"),
])
def test_bad_input_is_a_422_naming_the_field(client, keys, body: dict, field: str) -> None:
    result = client.simulate_post("/api/v1/evals", json=body, headers=keys.headers("operator"))
    assert result.status_code == 422 and field in result.json["errors"], result.text
    assert client.simulate_get("/api/v1/evals", headers=keys.headers("viewer")).json == []


def test_a_judge_on_the_scripted_provider_is_refused(client, keys, api_system) -> None:
    api_system.add_agent(judge_spec(api_system.config, provider="scripted"))
    result = client.simulate_post("/api/v1/evals", json={"cases": [{"input": "x"}], "judge": JUDGE_AGENT},
                                  headers=keys.headers("operator"))
    assert result.status_code == 422 and "cannot judge" in result.json["errors"]["judge"][0]


def test_unknown_evals_are_404(client, keys) -> None:
    eval_id = start(client, keys, [CASES[1]])
    finished(client, keys, eval_id)
    assert client.simulate_get("/api/v1/evals/nope", headers=keys.headers("viewer")).status_code == 404
    result = client.simulate_get("/api/v1/evals/compare", params={"base": eval_id, "head": "nope"},
                                 headers=keys.headers("viewer"))
    assert result.status_code == 404 and result.json["description"] == "unknown eval: nope"
    assert client.simulate_get("/api/v1/evals/compare", headers=keys.headers("viewer")).status_code == 422


def test_viewers_cannot_start_evals(client, keys) -> None:
    result = client.simulate_post("/api/v1/evals", json={"cases": CASES}, headers=keys.headers("viewer"))
    assert result.status_code == 403
