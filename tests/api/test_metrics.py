"""Metrics over HTTP: the bucketed time series with costs from the configured price table."""

from __future__ import annotations

import json

from falcon import testing

from agentstage.api import create_app
from agentstage.runtime.clock import utc_ago
from agentstage.runtime.state import Event


def test_timeseries_buckets_runs_tokens_and_costs_with_the_price_table(api_system, keys, tmp_path) -> None:
    prices = tmp_path / "prices.json"
    prices.write_text(json.dumps({"gpt-*": {"input": 2, "output": 8}}))
    api_system.write([Event("r1", 1, "run.started", utc_ago(90), "s", {"input": "x"}),
                      Event("r1", 2, "llm.response", utc_ago(89), "s",
                            {"model": "gpt-4o", "usage": {"input_tokens": 1000, "output_tokens": 250}}),
                      Event("r1", 3, "run.completed", utc_ago(88), "s", {"output": "y"})])
    client = testing.TestClient(create_app(api_system, api_system.config.replace(prices_file=str(prices))))
    doc = client.simulate_get("/api/v1/metrics/timeseries", params={"bucket": 60},
                              headers=keys.headers("viewer")).json
    assert len(doc["buckets"]) == 60 and doc["queues"] is False
    used = [b for b in doc["buckets"] if b["input_tokens"]]
    assert len(used) == 1 and used[0]["cost_usd"] == 0.004 and used[0]["runs"] == {"completed": 1}
    assert doc["cost_usd"] == 0.004 and doc["prices"][0] == {"model": "gpt-*", "input_per_mtok": 2.0,
                                                              "output_per_mtok": 8.0}
    assert used[0]["queue_depth"] is None


def test_timeseries_parameters_are_checked(client, keys) -> None:
    headers = keys.headers("viewer")
    for params, field in (({"bucket": 5}, "bucket"), ({"since": "2030-01-02T00:00:00Z", "until": "2030-01-01T00:00:00Z"},
                                                     "since"),
                          ({"since": "2030-01-01T00:00:00Z", "until": "2030-01-02T00:00:00Z", "bucket": 10}, "bucket")):
        result = client.simulate_get("/api/v1/metrics/timeseries", params=params, headers=headers)
        assert result.status_code == 422 and field in result.json["errors"], result.json


def test_a_bad_price_table_is_a_500_naming_the_file(api_system, keys, tmp_path) -> None:
    prices = tmp_path / "prices.json"
    prices.write_text("{")
    client = testing.TestClient(create_app(api_system, api_system.config.replace(prices_file=str(prices))))
    result = client.simulate_get("/api/v1/metrics/timeseries", headers=keys.headers("viewer"))
    assert result.status_code == 500 and str(prices) in result.json["description"]
