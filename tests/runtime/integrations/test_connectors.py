"""Integration tool instances against local services: HTTP providers on a local server, redis on the suite's."""

import base64
import json

import pytest

from agentstage.runtime.errors import ToolError
from agentstage.runtime.integrations.connectors import connector_tool
from agentstage.runtime.integrations.credentials import CredentialResolver
from agentstage.runtime.integrations.instances import ToolInstance

ENV = {"HOOK_TOKEN": "hook-secret", "SLACK_URL": "", "GH_TOKEN": "gh-secret", "JIRA_EMAIL": "ops@example.com",
       "JIRA_TOKEN": "jira-secret", "PD_KEY": "pd-routing", "EMPTY": " "}


def instance(http, provider, config=None, credentials=None, **extra) -> object:
    resolver = CredentialResolver({**ENV, "SLACK_URL": f"{http.url}/slack"}, env_names=list(ENV))
    return connector_tool(ToolInstance(f"{provider}_test", provider, config or {}, credentials or {}, **extra),
                          resolver, timeout=10)


def test_http_webhook_posts_with_bearer_token(http) -> None:
    http.routes["/hook"] = (202, {"queued": True})
    tool = instance(http, "http_webhook", {"url": f"{http.url}/hook"}, {"token": "env:HOOK_TOKEN"})
    assert tool({"payload": {"event": "deploy"}}) == {"status": 202, "body": {"queued": True}}
    assert http.requests[-1]["headers"]["Authorization"] == "Bearer hook-secret"
    assert json.loads(http.requests[-1]["body"]) == {"event": "deploy"}


def test_slack_github_jira_pagerduty_requests(http) -> None:
    for path in ("/slack", "/repos/acme/shop/issues", "/repos/acme/shop/issues/7/comments", "/rest/api/2/issue",
                 "/enqueue"):
        http.routes[path] = (201, {"ok": True})
    instance(http, "slack", credentials={"webhook_url": "env:SLACK_URL"})({"text": "hi"})
    assert json.loads(http.requests[-1]["body"]) == {"text": "hi"}
    github = instance(http, "github", {"repository": "acme/shop", "api_url": http.url}, {"token": "env:GH_TOKEN"})
    github({"operation": "issue_create", "title": "CVE-2023-38545", "body": "upgrade curl"})
    assert http.requests[-1]["headers"]["Authorization"] == "Bearer gh-secret"
    github({"operation": "pr_comment", "number": 7, "body": "lgtm"})
    assert http.requests[-1]["path"] == "/repos/acme/shop/issues/7/comments"
    jira = instance(http, "jira", {"base_url": http.url, "project": "OPS"},
                    {"email": "env:JIRA_EMAIL", "api_token": "env:JIRA_TOKEN"})
    jira({"operation": "issue_create", "summary": "disk full"})
    sent = http.requests[-1]
    assert base64.b64decode(sent["headers"]["Authorization"].split()[1]).decode() == "ops@example.com:jira-secret"
    assert json.loads(sent["body"])["fields"]["project"] == {"key": "OPS"}
    instance(http, "pagerduty", {"events_url": f"{http.url}/enqueue"}, {"routing_key": "env:PD_KEY"})(
        {"summary": "api down", "severity": "critical"})
    assert json.loads(http.requests[-1]["body"])["routing_key"] == "pd-routing"


def test_errors_name_references_never_values(http) -> None:
    http.routes["/hook"] = (500, {"error": "boom"})
    with pytest.raises(ToolError, match="HTTP 500"):
        instance(http, "http_webhook", {"url": f"{http.url}/hook"}, {"token": "env:HOOK_TOKEN"})({})
    with pytest.raises(ToolError) as caught:
        instance(http, "github", {"repository": "a/b", "api_url": http.url}, {"token": "env:EMPTY"})(
            {"operation": "issue_create", "title": "x"})
    assert "env:EMPTY" in caught.value.message and "empty" in caught.value.message
    with pytest.raises(ToolError, match="disabled"):
        instance(http, "slack", credentials={"webhook_url": "env:SLACK_URL"}, enabled=False)({"text": "x"})
    with pytest.raises(ToolError, match="not available on this host"):
        instance(http, "postgresql", credentials={"dsn": "env:X"})({"sql": "select 1"})


def test_redis_commands_and_blocked_ones(http, redis_url, monkeypatch) -> None:
    resolver = CredentialResolver({"REDIS_URL": redis_url}, env_names=["REDIS_URL"])
    tool = connector_tool(ToolInstance("cache", "redis", credentials={"url": "env:REDIS_URL"}), resolver)
    assert tool({"args": ["SET", "k", "v"]})["result"] is True
    assert tool({"args": ["GET", "k"]}) == {"result": "v"}
    with pytest.raises(ToolError, match="not allowed"):
        tool({"args": ["FLUSHALL"]})


def test_an_endpoint_echoing_its_credential_cannot_leak_it(http) -> None:
    http.routes["/echo"] = (200, {"you_sent": "Bearer hook-secret", "token": "hook-secret",
                                  "quoted": "hook%2Dsecret", "b64": "aG9vay1zZWNyZXQ=", "hook-secret": 1})
    tool = instance(http, "http_webhook", {"url": f"{http.url}/echo"}, {"token": "env:HOOK_TOKEN"})
    result = tool({"payload": {}})
    assert "hook-secret" not in json.dumps(result) and "aG9vay1zZWNyZXQ" not in json.dumps(result)
    assert result["body"]["token"] == "[REDACTED]"
    http.routes["/echo"] = (500, {"error": "bad token hook-secret"})
    with pytest.raises(ToolError) as caught:
        tool({"payload": {}})
    assert "hook-secret" not in caught.value.message and "[REDACTED]" in caught.value.message


def test_basic_auth_pairs_echoed_back_are_redacted(http) -> None:
    pair = base64.b64encode(b"ops@example.com:jira-secret").decode()
    http.routes["/rest/api/2/issue"] = (201, {"auth": f"Basic {pair}", "echo": "jira-secret"})
    jira = instance(http, "jira", {"base_url": http.url, "project": "OPS"},
                    {"email": "env:JIRA_EMAIL", "api_token": "env:JIRA_TOKEN"})
    result = json.dumps(jira({"operation": "issue_create", "summary": "x"}))
    assert pair not in result and "jira-secret" not in result


def test_client_errors_quoting_the_secret_are_redacted() -> None:
    resolver = CredentialResolver({"REDIS_URL": "redis://:pw-hunter2@127.0.0.1:1/0"}, env_names=["REDIS_URL"])
    tool = connector_tool(ToolInstance("cache", "redis", credentials={"url": "env:REDIS_URL"}), resolver, timeout=1)
    with pytest.raises(ToolError) as caught:
        tool({"args": ["GET", "k"]})
    assert "hunter2" not in caught.value.message
