"""Bad input that would break readers is refused at the edge: 4xx naming the field, nothing half-written."""

from __future__ import annotations

import json

from agentstage.api.validation import MAX_DEPTH, json_problems, loads
from tests.api.helpers import finished_run


def _post_run(client, keys, body: str):
    return client.simulate_post("/api/v1/runs", body=body, headers={**keys.headers("operator"),
                                                                    "Content-Type": "application/json"})


def _audited_starts(client, keys) -> int:
    audit = client.simulate_get("/api/v1/audit", params={"action": "run.start"}, headers=keys.headers("admin"))
    return len(audit.json["items"])


def test_problems_are_named_by_their_path() -> None:
    value = loads('{"a": {"b": [1, NaN, 1e999]}, "c": "\\ud800", "\\udfff": 1, "n": 100000000000000000000000,'
                  ' "ok": [true, 1.5, -9223372036854775807]}')
    problems = json_problems(value)
    assert set(problems) == {"a.b.1", "a.b.2", "c", "\\udfff", "n"}
    assert "finite" in problems["a.b.1"][0] and "surrogate" in problems["c"][0] and "range" in problems["n"][0]
    nested = "[" * (MAX_DEPTH + 2) + "]" * (MAX_DEPTH + 2)
    assert "nested" in next(iter(json_problems(loads(nested)).values()))[0]


def test_nan_and_infinity_in_metadata_are_refused_and_listing_still_works(client, keys, api_system) -> None:
    finished_run(client, keys, api_system)
    before = _audited_starts(client, keys)
    for literal in ("NaN", "Infinity", "-Infinity", "1e999"):
        result = _post_run(client, keys, f'{{"input": "calculate 1 + 1", "metadata": {{"x": {literal}}}}}')
        assert result.status_code == 422 and "metadata.x" in result.json["errors"], literal
    assert _audited_starts(client, keys) == before, "nothing was started or audited as started"
    listed = client.simulate_get("/api/v1/runs", headers=keys.headers("viewer"))
    assert listed.status_code == 200 and json.loads(listed.text)


def test_a_lone_surrogate_in_the_input_is_refused_not_lost(client, keys) -> None:
    before = _audited_starts(client, keys)
    result = _post_run(client, keys, '{"input": "calculate \\ud800 1 + 1"}')
    assert result.status_code == 422 and "input" in result.json["errors"]
    assert _audited_starts(client, keys) == before


def test_huge_integers_are_refused_by_field(client, keys) -> None:
    result = _post_run(client, keys, '{"input": "hi", "metadata": {"n": 100000000000000000000000}}')
    assert result.status_code == 422 and "metadata.n" in result.json["errors"]
    step = client.simulate_get("/api/v1/runs/any/checkpoints/10000000000000000000000", headers=keys.headers("viewer"))
    assert step.status_code == 422 and "step" in step.json["errors"]


def test_deep_json_is_a_4xx_not_a_crash(client, keys) -> None:
    too_deep = '{"input": "hi", "metadata": {"x": ' + "[" * 5000 + "]" * 5000 + "}}"
    assert _post_run(client, keys, too_deep).status_code == 400
    deep = '{"input": "hi", "metadata": {"x": ' + "[" * 200 + "]" * 200 + "}}"
    result = _post_run(client, keys, deep)
    assert result.status_code == 422 and any(name.startswith("metadata.x") for name in result.json["errors"])


def test_far_offset_time_stamps_are_refused_by_field(client, keys) -> None:
    for name, value in (("since", "0001-01-01T00:00:00+23:59"), ("until", "9999-12-31T23:59:59-23:59")):
        result = client.simulate_get("/api/v1/runs", params={name: value}, headers=keys.headers("viewer"))
        assert result.status_code == 422 and name in result.json["errors"], name
        audit = client.simulate_get("/api/v1/audit", params={name: value}, headers=keys.headers("admin"))
        assert audit.status_code == 422 and name in audit.json["errors"]
    metrics = client.simulate_get("/api/v1/metrics/summary", params={"since": "0001-01-01T00:00:00+10:00"},
                                  headers=keys.headers("viewer"))
    assert metrics.status_code == 422 and "since" in metrics.json["errors"]
