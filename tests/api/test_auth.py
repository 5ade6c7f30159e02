"""API keys: where they are accepted, expiry, revocation, last use, local admin, one-time login."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from datetime import UTC, datetime, timedelta

import httpx
from falcon import testing

from agentstage.api import create_app
from agentstage.api.auth import check_key, hash_key, new_api_key
from agentstage.runtime.state.admin import AdminReader
from tests.api.browser import served
from tests.api.helpers import LOGIN_TOKENS, wait_for


def test_new_key_is_stored_as_a_hash_with_a_visible_prefix() -> None:
    record, secret = new_api_key("operator", "ci", timedelta(days=1))
    assert secret.startswith("ags_") and record.prefix == secret[:12]
    assert record.key_hash == hash_key(secret) and secret not in record.key_hash
    assert record.expires_at is not None and record.role == "operator"


def test_key_is_accepted_as_bearer_or_x_api_key(client, keys) -> None:
    bearer = client.simulate_get("/api/v1/auth/me", headers={"Authorization": f"Bearer {keys.viewer}"})
    assert bearer.json["role"] == "viewer"
    assert client.simulate_get("/api/v1/auth/me", headers={"X-API-Key": keys.operator}).json["role"] == "operator"


def test_key_in_the_query_string_is_refused(client, keys) -> None:
    result = client.simulate_get("/api/v1/runs", query_string=f"api_key={keys.admin}")
    assert result.status_code == 400
    assert "query string" in result.json["title"]


def test_missing_unknown_expired_and_revoked_keys_get_401_with_a_challenge(client, keys) -> None:
    for headers, reason in (({}, "required"), ({"X-API-Key": "ags_00000000_nope"}, "invalid"),
                            (keys.headers("expired"), "expired"), (keys.headers("revoked"), "revoked")):
        result = client.simulate_get("/api/v1/runs", headers=headers)
        assert result.status_code == 401
        assert result.headers["WWW-Authenticate"].startswith("Bearer")
        assert reason in result.json["description"]


def test_check_key_rejects_a_key_after_its_expiry(api_system) -> None:
    record, secret = new_api_key("viewer", "", timedelta(minutes=5))
    api_system.write([record])
    reader = AdminReader(api_system.config.state_path)
    assert check_key(reader, secret)[0] is not None
    assert check_key(reader, secret, datetime.now(UTC) + timedelta(minutes=6)) == (None, "expired")
    assert check_key(reader, secret[:-1] + "x") == (None, "invalid")


def test_last_used_time_is_recorded(client, keys, api_system) -> None:
    client.simulate_get("/api/v1/auth/me", headers=keys.headers("viewer"))
    reader = AdminReader(api_system.config.state_path)
    used = wait_for(lambda: reader.api_key(keys.ids["viewer"]).last_used_at)
    assert used.endswith("Z")


def test_admin_can_create_list_and_revoke_keys(client, keys) -> None:
    created = client.simulate_post("/api/v1/auth/keys", json={"role": "viewer", "name": "dash", "expires_in": 3600},
                                   headers=keys.headers("admin"))
    assert created.status_code == 201
    secret = created.json["secret"]
    assert client.simulate_get("/api/v1/auth/me", headers={"X-API-Key": secret}).status_code == 200
    listed = client.simulate_get("/api/v1/auth/keys", headers=keys.headers("admin")).json
    assert all("secret" not in k and "key_hash" not in k for k in listed)
    assert created.json["id"] in {k["id"] for k in listed}
    revoked = client.simulate_delete(f"/api/v1/auth/keys/{created.json['id']}", headers=keys.headers("admin"))
    assert revoked.json == {"ok": True}
    assert client.simulate_get("/api/v1/auth/me", headers={"X-API-Key": secret}).status_code == 401
    assert client.simulate_delete("/api/v1/auth/keys/nope", headers=keys.headers("admin")).status_code == 404


def test_key_creation_validates_role_and_expiry(client, keys) -> None:
    result = client.simulate_post("/api/v1/auth/keys", json={"role": "root", "expires_in": -5},
                                  headers=keys.headers("admin"))
    assert result.status_code == 422
    assert set(result.json["errors"]) == {"role", "expires_in"}


def test_loopback_is_admin_only_when_local_admin_is_asked_for(api_system) -> None:
    closed = testing.TestClient(create_app(api_system))
    assert closed.simulate_get("/api/v1/auth/me").status_code == 401
    local = testing.TestClient(create_app(api_system, local_admin=True))
    assert local.simulate_get("/api/v1/auth/me", host="127.0.0.1").json == {"key_id": "local", "role": "admin",
                                                                            "name": "loopback"}
    remote = local.simulate_get("/api/v1/auth/me", host="127.0.0.1", remote_addr="10.1.2.3")
    assert remote.status_code == 401


def test_login_token_works_once_and_yields_an_expiring_admin_key(client) -> None:
    token = LOGIN_TOKENS[-1]
    first = client.simulate_post("/api/v1/auth/login", json={"token": token})
    assert first.status_code == 201
    assert first.json["role"] == "admin" and first.json["expires_at"]
    assert client.simulate_get("/api/v1/auth/me", headers={"X-API-Key": first.json["secret"]}).json["role"] == "admin"
    again = client.simulate_post("/api/v1/auth/login", json={"token": token})
    assert again.status_code == 401


def test_the_last_active_admin_key_cannot_be_revoked(client, keys) -> None:
    admin = keys.headers("admin")
    refused = client.simulate_delete(f"/api/v1/auth/keys/{keys.ids['admin']}", headers=admin)
    assert refused.status_code == 409 and "key_id" in refused.json["errors"]
    assert client.simulate_get("/api/v1/auth/me", headers=admin).status_code == 200
    second = client.simulate_post("/api/v1/auth/keys", json={"role": "admin"}, headers=admin).json
    assert client.simulate_delete(f"/api/v1/auth/keys/{keys.ids['admin']}", headers=admin).status_code == 200
    last = client.simulate_delete(f"/api/v1/auth/keys/{second['id']}",
                                  headers={"Authorization": f"Bearer {second['secret']}"})
    assert last.status_code == 409


def test_two_admins_revoking_each_other_at_once_leave_one_admin(app, keys, monkeypatch) -> None:
    client = testing.TestClient(app)
    second = client.simulate_post("/api/v1/auth/keys", json={"role": "admin"}, headers=keys.headers("admin")).json
    commit = app.backend.commit

    async def slow_commit(*args, **kwargs) -> None:
        await asyncio.sleep(0.3)  # both revocations would pass the check before either is written
        await commit(*args, **kwargs)

    monkeypatch.setattr(app.backend, "commit", slow_commit)
    calls = [(keys.ids["admin"], second["secret"]), (second["id"], keys.admin)]
    with served(app) as url:
        with ThreadPoolExecutor(2) as pool:
            codes = sorted(pool.map(lambda call: httpx.delete(f"{url}/api/v1/auth/keys/{call[0]}", timeout=30,
                                                              headers={"Authorization": f"Bearer {call[1]}"}
                                                              ).status_code, calls))
    assert codes in ([200, 401], [200, 409])
    with closing(AdminReader(app.backend.system.config.state_path)) as reader:
        active = [k for k in reader.api_keys() if k.role == "admin" and k.revoked_at is None and k.expires_at is None]
    assert len(active) == 1


def _local(api_system) -> testing.TestClient:
    return testing.TestClient(create_app(api_system, local_admin=True))


def _as_local(client: testing.TestClient, method: str, path: str, **kwargs):
    return client.simulate_request(method, path, host="127.0.0.1:7070", remote_addr="127.0.0.1", **kwargs)


def test_local_admin_needs_a_host_naming_this_machine(api_system) -> None:
    local = _local(api_system)
    assert _as_local(local, "GET", "/api/v1/auth/me").json["role"] == "admin"
    for host in ("localhost:7070", "[::1]:7070"):
        assert local.simulate_get("/api/v1/auth/me", host=host, remote_addr="127.0.0.1").status_code == 200
    rebound = local.simulate_get("/api/v1/auth/me", host="attacker.example:7070", remote_addr="127.0.0.1")
    assert rebound.status_code == 401 and "Host" in rebound.json["description"]


def test_local_admin_is_refused_behind_a_proxy(api_system) -> None:
    local = _local(api_system)
    for header in ("X-Forwarded-For", "Forwarded", "X-Real-IP", "X-Forwarded-Host"):
        proxied = _as_local(local, "GET", "/api/v1/auth/me", headers={header: "203.0.113.9"})
        assert proxied.status_code == 401 and header in proxied.json["description"]


def test_local_admin_refuses_other_origins(api_system) -> None:
    local = _local(api_system)
    same = _as_local(local, "POST", "/api/v1/auth/keys", json={"role": "viewer"},
                     headers={"Origin": "http://127.0.0.1:7070", "Sec-Fetch-Site": "same-origin"})
    assert same.status_code == 201
    for headers in ({"Origin": "http://evil.example"}, {"Origin": "null"}, {"Origin": "http://127.0.0.1:9999"},
                    {"Sec-Fetch-Site": "cross-site"}):
        refused = _as_local(local, "POST", "/api/v1/auth/keys", json={"role": "admin"}, headers=headers)
        assert refused.status_code == 401, headers


def test_a_form_post_cannot_create_a_key_in_local_admin_mode(api_system) -> None:
    local = _local(api_system)
    before = len(_as_local(local, "GET", "/api/v1/auth/keys").json)
    attempts = [
        {"body": "role=admin&name=pwned", "headers": {"Content-Type": "application/x-www-form-urlencoded"}},
        {"body": '{"role": "admin"}', "headers": {"Content-Type": "text/plain"}},
        {"body": "--x\r\nContent-Disposition: form-data; name=role\r\n\r\nadmin\r\n--x--\r\n",
         "headers": {"Content-Type": "multipart/form-data; boundary=x"}},
        {"body": '{"role": "admin"}', "headers": {}},
    ]
    for attempt in attempts:
        result = _as_local(local, "POST", "/api/v1/auth/keys", **attempt)
        assert result.status_code == 415, attempt
    assert len(_as_local(local, "GET", "/api/v1/auth/keys").json) == before


def test_local_admin_over_a_real_socket_checks_the_host_it_was_sent(api_system) -> None:
    with served(create_app(api_system, local_admin=True)) as url:
        assert httpx.get(f"{url}/api/v1/auth/me", timeout=30).json()["role"] == "admin"
        rebound = httpx.get(f"{url}/api/v1/auth/me", headers={"Host": "rebound.example"}, timeout=30)
        assert rebound.status_code == 401
        form = httpx.post(f"{url}/api/v1/auth/keys", data={"role": "admin"}, timeout=30)
        assert form.status_code == 415
