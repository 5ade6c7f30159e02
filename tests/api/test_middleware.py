"""Request middleware: security headers on the page and the API, no caching of secrets, Vary with CORS, a log
line for every 5xx."""

from __future__ import annotations

from falcon import testing
from loguru import logger

from agentstage.api import create_app
from agentstage.api.middleware import API_POLICY, PAGE_POLICY
from agentstage.api.resources.meta import HealthResource
from tests.api.helpers import LOGIN_TOKENS


def _hardened(headers) -> bool:
    return (headers["X-Content-Type-Options"] == "nosniff" and headers["X-Frame-Options"] == "DENY"
            and headers["Referrer-Policy"] == "no-referrer")


def test_the_page_may_load_only_its_own_scripts_and_cannot_be_framed(client) -> None:
    for path in ("/ui/", "/ui/js/app.js", "/ui/runs/anything"):
        result = client.simulate_get(path)
        assert result.status_code == 200 and _hardened(result.headers)
        assert result.headers["Content-Security-Policy"] == PAGE_POLICY
    assert "frame-ancestors 'none'" in PAGE_POLICY and "'unsafe-inline'" not in PAGE_POLICY


def test_api_answers_allow_nothing_to_run_even_errors(client, keys) -> None:
    for path, headers in (("/api/v1/runs", keys.headers("viewer")), ("/api/v1/runs", {}), ("/nowhere", {}),
                          ("/healthz", {})):
        result = client.simulate_get(path, headers=headers)
        assert _hardened(result.headers) and result.headers["Content-Security-Policy"] == API_POLICY


def test_answers_that_carry_a_secret_are_not_cached(client, keys) -> None:
    created = client.simulate_post("/api/v1/auth/keys", json={"role": "viewer"}, headers=keys.headers("admin"))
    assert created.status_code == 201 and created.headers["Cache-Control"] == "no-store"
    login = client.simulate_post("/api/v1/auth/login", json={"token": LOGIN_TOKENS[0]})
    assert login.status_code == 201 and login.headers["Cache-Control"] == "no-store"
    assert "no-store" not in client.simulate_get("/api/v1/auth/keys", headers=keys.headers("admin")).headers.get(
        "Cache-Control", "")


def test_answers_vary_by_origin_when_cors_is_on(api_system) -> None:
    client = testing.TestClient(create_app(api_system, api_system.config.replace(api_cors_origins="https://x.test")))
    for origin in ("https://x.test", "https://evil.test"):
        result = client.simulate_get("/healthz", headers={"Origin": origin})
        assert "Origin" in result.headers["Vary"]
    assert result.headers.get("Access-Control-Allow-Origin") is None


def test_every_5xx_is_logged_with_its_request_id(api_system, monkeypatch) -> None:
    async def explode(self, req, resp) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(HealthResource, "on_get", explode)
    messages: list[str] = []
    logger.enable("agentstage.api")
    sink = logger.add(lambda message: messages.append(message.record["message"]), level="ERROR")
    try:
        result = testing.TestClient(create_app(api_system)).simulate_get("/healthz",
                                                                         headers={"X-Request-ID": "req-500-a"})
        ok = testing.TestClient(create_app(api_system)).simulate_get("/readyz", headers={"X-Request-ID": "req-ok"})
    finally:
        logger.remove(sink)
        logger.disable("agentstage.api")
    assert result.status_code == 500 and ok.status_code == 200
    assert any("answered 500" in m and "req-500-a" in m and "GET /healthz" in m for m in messages)
    assert not any("req-ok" in m for m in messages)
