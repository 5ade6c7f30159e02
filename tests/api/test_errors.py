"""Bad input everywhere gets a JSON error naming the problem; never a traceback."""

from __future__ import annotations

import atexit
import os

import falcon
from falcon import testing

from agentstage.api import create_app, get_app
from agentstage.api.resources.meta import HealthResource
from agentstage.runtime import System


def test_errors_are_json_with_title_description_and_errors(client, keys) -> None:
    result = client.simulate_get("/api/v1/nowhere", headers=keys.headers("viewer"))
    assert result.status_code == 404
    assert set(result.json) == {"title", "description", "errors"}


def test_malformed_json_is_400_and_a_non_object_body_is_422(client, keys) -> None:
    headers = {**keys.headers("operator"), "Content-Type": "application/json"}
    broken = client.simulate_post("/api/v1/runs", body="{not json", headers=headers)
    assert broken.status_code == 400 and broken.json["title"]
    listed = client.simulate_post("/api/v1/runs", body="[1, 2]", headers=headers)
    assert listed.status_code == 422 and "_schema" in listed.json["errors"]
    empty = client.simulate_post("/api/v1/runs", headers=headers)
    assert empty.status_code == 422


def test_wrong_types_are_422_naming_each_field(client, keys) -> None:
    result = client.simulate_post("/api/v1/runs", json={"input": 5, "metadata": [], "session_id": "has space"},
                                  headers=keys.headers("operator"))
    assert result.status_code == 422
    assert set(result.json["errors"]) == {"input", "metadata", "session_id"}


def test_huge_bodies_are_refused_before_they_are_read(api_system, keys) -> None:
    client = testing.TestClient(create_app(api_system, api_system.config.replace(api_max_body="1000")))
    result = client.simulate_post("/api/v1/runs", json={"input": "x" * 2000}, headers=keys.headers("operator"))
    assert result.status_code == 413
    assert result.json["title"] == "Body too large"


def test_request_id_is_echoed_or_made(client) -> None:
    assert client.simulate_get("/healthz", headers={"X-Request-ID": "abc-123"}).headers["X-Request-ID"] == "abc-123"
    made = client.simulate_get("/healthz", headers={"X-Request-ID": "bad id\twith junk"}).headers["X-Request-ID"]
    assert len(made) == 32


def test_unexpected_errors_are_a_bare_500(api_system, monkeypatch) -> None:
    async def explode(self, req, resp) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(HealthResource, "on_get", explode)
    result = testing.TestClient(create_app(api_system)).simulate_get("/healthz")
    assert result.status_code == 500
    assert result.json == {"title": "Internal error", "description": "", "errors": {}}
    assert "secret" not in result.text


def test_cors_is_off_unless_origins_are_configured(api_system) -> None:
    closed = testing.TestClient(create_app(api_system)).simulate_get("/healthz", headers={"Origin": "https://x.test"})
    assert "Access-Control-Allow-Origin" not in closed.headers
    opened = testing.TestClient(create_app(api_system, api_system.config.replace(api_cors_origins="https://x.test")))
    result = opened.simulate_get("/healthz", headers={"Origin": "https://x.test"})
    assert result.headers["Access-Control-Allow-Origin"] == "https://x.test"


def test_health_and_readiness_need_no_key(client) -> None:
    assert client.simulate_get("/healthz").json == {"status": "ok"}
    ready = client.simulate_get("/readyz")
    assert ready.status_code == 200 and ready.json["checks"]["store"] == "ok"
    assert falcon.HTTP_200 == ready.status


def test_readiness_is_503_once_the_runtime_stopped(config) -> None:
    system = System(config).start()
    client = testing.TestClient(create_app(system))
    system.stop()
    result = client.simulate_get("/readyz")
    assert result.status_code == 503 and result.json["status"] == "unavailable"
    assert result.json["checks"]["runtime"].startswith("down")


def test_get_app_builds_the_runtime_from_the_environment(tmp_path, monkeypatch) -> None:
    stops = []
    for name in [n for n in os.environ if n.startswith("AGENTSTAGE_")]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AGENTSTAGE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("AGENTSTAGE_PROVIDER", "scripted")
    monkeypatch.setattr(atexit, "register", stops.append)
    app = get_app()
    try:
        assert testing.TestClient(app).simulate_get("/readyz").status_code == 200
    finally:
        for stop in stops:
            stop()
    assert (tmp_path / "home" / "agentstage.db").exists()
