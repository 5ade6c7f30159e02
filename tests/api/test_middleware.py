"""Request middleware: security headers on the page and the API, no caching of secrets, Vary with CORS."""

from __future__ import annotations

from falcon import testing

from agentstage.api import create_app
from agentstage.api.middleware import API_POLICY, PAGE_POLICY
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
