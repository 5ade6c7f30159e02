"""The `secops` workflow end to end: route, node trace, state and the exact prompts the agent receives
equal the golden files; tool bindings decide what the secops agent may call."""

import json

import pytest

from agentstage.runtime import Config, System
from agentstage.runtime.llm.scripted import Rule, ScriptedProvider
from agentstage.runtime.llm.types import LLMRequest, LLMResponse, Provider, ToolCall
from tests.runtime.secops.golden import GOLDEN, SAMPLE_NAMES, check, sample

ECHO = ScriptedProvider([Rule("echo", r"^", reply="ok:{prompt}")])
STATE_KEYS = ("categorized", "redaction", "classifiedLogs", "trivyPrompt", "logsPrompt")


def outcome(system: System, text: str) -> dict:
    result = system.graph_run("secops", text, timeout=60)
    events = system.events(result.run_id)
    route = next(e.data["route"] for e in events if e.type == "node.exited" and e.node == "route")
    children = list(system.reader().connection.execute(
        "SELECT input, status FROM runs WHERE parent_run_id = ? ORDER BY created_at", (result.run_id,)))
    assert [status for _, status in children] == ["completed"]
    return {"status": result.status, "route": route, "trace": list(result.trace),
            "state": {k: result.state[k] for k in STATE_KEYS if k in result.state},
            "agent_prompt": children[0][0], "output": result.output}


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory) -> dict:
    config = Config.from_env({}, dotenv=None, home=str(tmp_path_factory.mktemp("secops")), agent_pool_size=1)
    with System(config, providers={"secops": ECHO}) as system:
        return {name: outcome(system, sample(name)) for name in SAMPLE_NAMES}


@pytest.mark.parametrize("name", SAMPLE_NAMES)
def test_workflow_matches_golden(outcomes, name) -> None:
    result = outcomes[name]
    check(f"{name}.workflow.json", result)
    assert result["output"] == "ok:" + result["agent_prompt"]


@pytest.mark.parametrize("name", SAMPLE_NAMES)
def test_workflow_agrees_with_the_domain_rules(outcomes, name) -> None:
    result, domain = outcomes[name], json.loads((GOLDEN / f"{name}.domain.json").read_text())
    assert result["route"] == domain["route"]
    assert result["agent_prompt"] == domain["prompt"]
    if domain["route"] == "trivy":
        assert result["trace"] == ["route", "parse_trivy", "build_trivy_prompt", "assistant_trivy", "finalize"]
        assert result["state"]["categorized"] == domain["categorized"]
    else:
        assert result["trace"] == ["route", "redact_logs", "classify_logs", "build_logs_prompt", "assistant_logs",
                                   "finalize"]
        assert result["state"]["redaction"] == domain["redacted"]
        assert result["state"]["classifiedLogs"] == domain["classified"]


def test_malformed_report_is_a_reject_not_a_crash(system) -> None:
    result = system.graph_run("secops", '{"ArtifactName": "x", "Results": "broken"}', timeout=60)
    assert result.status == "completed"
    assert result.state["categorized"]["rejects"] == [{"where": "(report)", "reason": "Results is not a list"}]


class CallsTextStats(Provider):
    """Asks for text_stats whether or not it is offered, then answers with what came back."""

    name = "calls-text-stats"

    def generate(self, request: LLMRequest) -> LLMResponse:
        last = request.messages[-1]
        if last.role == "tool":
            return LLMResponse(content=f"tool said: {last.content}")
        return LLMResponse(tool_calls=(ToolCall("c1", "text_stats", {"text": "a b c"}),))


def test_bindings_are_merged_and_enforced_at_run_time(config) -> None:
    with System(config, providers={"secops": CallsTextStats()}) as system:
        before = system.graph_run("secops", "2025-01-01 WARN disk", timeout=60)
        assert "tool 'text_stats' not found" in before.output
        system.catalog.bind("secops", "text_stats")
        after = system.graph_run("secops", "2025-01-01 WARN disk", timeout=60)
        assert '"words": 3' in after.output
        child = system.reader().connection.execute(
            "SELECT run_id FROM runs WHERE parent_run_id = ?", (before.run_id,)).fetchone()[0]
        failed = [e for e in system.events(child) if e.type == "tool.result"]
        assert [e.data["status"] for e in failed] == ["failed"]
    with System(config, providers={"secops": CallsTextStats()}) as system:
        assert '"words": 3' in system.graph_run("secops", "2025-01-01 WARN disk", timeout=60).output
        system.catalog.unbind("secops", "text_stats")
        assert "not found" in system.graph_run("secops", "2025-01-01 WARN disk", timeout=60).output
