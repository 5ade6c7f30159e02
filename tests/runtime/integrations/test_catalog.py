"""The tool catalog API on a running System: persisted definitions, reload at start, no secret leaks."""

import dataclasses
import json
from pathlib import Path

import pytest
from loguru import logger

from agentstage.runtime import AgentSpec, Config, System
from agentstage.runtime.clock import new_id, utc_now
from agentstage.runtime.errors import NotFound
from agentstage.runtime.integrations import Conflict
from agentstage.runtime.llm.scripted import Rule, ScriptedProvider
from agentstage.runtime.state.records import AuditEntry
from agentstage.runtime.tools.custom import DefinitionError

SECRET = "tok-9f8e7d6c5b4a"


@pytest.fixture
def secret_config(config: Config) -> Config:
    return Config.from_env({**config.env, "HOOK_TOKEN": SECRET}, dotenv=None, home=config.home, agent_pool_size=1,
                           credential_env=config.credential_env)


def audit(action: str, detail: dict) -> AuditEntry:
    return AuditEntry(new_id(), utc_now(), action, "ok", key_id="k1", role="admin", detail=detail)


def hook_spec(http) -> dict:
    return {"name": "notify", "url": f"{http.url}/hook", "secretHeaders": {"Authorization": "env:HOOK_TOKEN"},
            "jsonSchema": {"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]}}


def test_custom_tool_is_persisted_reloaded_and_called_by_an_agent(secret_config, http) -> None:
    http.routes["/hook"] = (200, {"delivered": True})
    logs: list[str] = []
    logger.enable("agentstage")
    sink = logger.add(lambda m: logs.append(str(m)), level="DEBUG")
    try:
        with System(secret_config) as system:
            created = system.catalog.create_custom_tool(hook_spec(http), audit("tools.create", hook_spec(http)))
            assert created["secretHeaders"] == {"Authorization": "env:HOOK_TOKEN"}
            with pytest.raises(Conflict):
                system.catalog.create_custom_tool(hook_spec(http))
        spec = AgentSpec.from_config(secret_config, name="notifier", tools=("notify",), pool_size=1)
        rules = [Rule("send", r"send (.+)", tool="notify", arguments={"text": "{1}"})]
        with System(secret_config, agents=[spec], providers={"notifier": ScriptedProvider(rules)}) as system:
            result = system.run("send disk is full", agent="notifier")
            events = system.events(result.run_id)
            outputs = [json.dumps(system.catalog.tool_registry()), json.dumps(system.catalog.custom_tools()),
                       json.dumps(system.catalog.credentials())]
            audit_rows = list(system.reader().connection.execute("SELECT * FROM audit_log"))
            stored = list(system.reader().connection.execute("SELECT * FROM catalog_entries"))
    finally:
        logger.remove(sink)
        logger.disable("agentstage")
    assert http.requests[-1]["headers"]["Authorization"] == SECRET
    assert json.loads(http.requests[-1]["body"]) == {"text": "disk is full"}
    result_event = next(e for e in events if e.type == "tool.result")
    assert result_event.data["status"] == "completed" and result_event.data["result"]["body"] == {"delivered": True}
    for place in (json.dumps([dataclasses.asdict(e) for e in events]), *outputs, json.dumps(audit_rows), json.dumps(stored), "\n".join(logs)):
        assert SECRET not in place
    assert len(audit_rows) == 1


def test_missing_credential_is_a_failed_tool_call_naming_the_reference(config, http) -> None:
    http.routes["/hook"] = (200, {})
    spec = AgentSpec.from_config(config, name="notifier", tools=("notify",), pool_size=1)
    rules = [Rule("send", r"send (.+)", tool="notify", arguments={"text": "{1}"})]
    with System(config) as system:
        system.catalog.create_custom_tool(hook_spec(http))
        assert system.catalog.credentials()[0]["resolvable"] is False
    with System(config, agents=[spec], providers={"notifier": ScriptedProvider(rules)}) as system:
        result = system.run("send hi", agent="notifier")
        failed = next(e for e in system.events(result.run_id) if e.type == "tool.result")
    assert failed.data["status"] == "failed"
    assert "env:HOOK_TOKEN" in failed.error and "not set" in failed.error
    assert http.requests == []


def test_instances_validate_persist_update_and_delete(config) -> None:
    body = {"name": "oncall", "template": "pagerduty", "credentials": {"routing_key": "env:PD_KEY"},
            "config": {"events_url": "http://127.0.0.1:1/enqueue"}}
    with System(config) as system:
        catalog = system.catalog
        for bad, field in (({**body, "template": "fax"}, "template"), ({**body, "credentials": {}},
                                                                         "credentials.routing_key"),
                           ({**body, "credentials": {"routing_key": "PD_KEY"}}, "credentials.routing_key"),
                           ({**body, "config": {"events_url": "https://u:hunter22@pd.example/enqueue"}},
                            "config.events_url"),
                           ({**body, "name": "calculator"}, None)):
            with pytest.raises((DefinitionError, Conflict)) as caught:
                catalog.create_instance(bad)
            if field:
                assert caught.value.field == field
        catalog.create_instance(body)
        assert [i["name"] for i in catalog.instances()] == ["oncall"]
        catalog.update_instance("oncall", {**body, "enabled": False})
    with System(config) as system:
        assert system.catalog.instances()[0]["enabled"] is False
        assert next(t for t in system.catalog.tool_registry() if t["name"] == "oncall")["kind"] == "instance"
        system.catalog.delete_instance("oncall")
        assert "oncall" not in system.tools
        with pytest.raises(NotFound):
            system.catalog.delete_instance("oncall")


def test_bindings_merge_into_a_workflow_selection(config) -> None:
    with System(config) as system:
        catalog = system.catalog
        catalog.bind("secops", "@security")
        catalog.bind("secops", "json_parser")
        with pytest.raises(DefinitionError):
            catalog.bind("secops", "@nope")
        assert catalog.selection_for("secops", "calculator,json_parser") == [
            "calculator", "json_parser", "secret_redactor", "hash_generator"]
        catalog.unbind("secops", "@security")
        assert catalog.binding("secops").tools == ("json_parser",)
        assert catalog.selection_for("other", "calculator") == ["calculator"]


def test_catalog_listings(system) -> None:
    assert len(system.catalog.providers()) == 10
    templates = {t["name"]: t for t in system.catalog.templates()}
    assert list(templates["slack"]["credential_fields"]) == ["webhook_url"]
    assert templates["s3"]["available"] is False
    assert {b["name"] for b in system.catalog.bundles()} >= {"default", "all", "linux"}


def test_spec_directory_is_loaded_persisted_and_bad_files_skipped(config, http) -> None:
    spec_dir = Path(config.tool_spec_dir)
    spec_dir.mkdir(parents=True)
    (spec_dir / "ping.json").write_text(json.dumps({"name": "ping", "url": f"{http.url}/ping", "method": "GET"}))
    (spec_dir / "broken.json").write_text('{"name": "x"}')
    (spec_dir / "shadow.json").write_text(json.dumps({"name": "calculator", "url": "http://h/x"}))
    http.routes["/ping"] = (200, {"pong": True})
    with System(config) as system:
        assert system.tools.get("ping")({"n": 1})["body"] == {"pong": True}
        assert [t["name"] for t in system.catalog.custom_tools()] == ["ping"]
        assert system.tools.get("calculator")({"expression": "1+1"})["result"] == 2
    (spec_dir / "ping.json").unlink()
    with System(config) as system:
        assert "ping" in system.tools


def test_a_stored_definition_never_shadows_a_built_in(config) -> None:
    from agentstage.runtime.state.records import CatalogEntry

    with System(config) as system:
        system.write([CatalogEntry("custom_tool", "calculator", {"name": "calculator", "url": "http://h/x"}, utc_now())])
    with System(config) as system:
        assert system.tools.get("calculator")({"expression": "2*3"})["result"] == 6
