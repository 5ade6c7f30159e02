"""The offline scripted provider: deterministic, rule-driven, honest about what it is."""

import json
from pathlib import Path

import pytest

from agentstage.runtime.errors import ConfigError
from agentstage.runtime.llm.scripted import ScriptedProvider, load_rules
from agentstage.runtime.llm.types import ChatMessage, LLMRequest, ToolSpec

CALCULATOR = ToolSpec("calculator", "math", {"type": "object"})


def ask(provider: ScriptedProvider, *messages: ChatMessage, tools=(CALCULATOR,)):
    return provider.generate(LLMRequest(tuple(messages), tuple(tools)))


def test_asks_for_a_tool_when_the_prompt_needs_one() -> None:
    response = ask(ScriptedProvider(), ChatMessage("user", "What is 12 * 3?"))
    assert [(c.name, c.arguments) for c in response.tool_calls] == [("calculator", {"expression": "12 * 3"})]
    assert response.metadata == {"scripted": True, "rule": "calculate"}


def test_summarises_tool_results_into_an_answer() -> None:
    response = ask(ScriptedProvider(), ChatMessage("user", "calculate 2+2"),
                   ChatMessage("tool", json.dumps({"expression": "2+2", "result": 4}), tool_call_id="c", name="calculator"))
    assert response.content == "2+2 = 4" and not response.tool_calls


def summary(tool: str, result: object) -> str:
    return ask(ScriptedProvider(), ChatMessage("user", "go"),
               ChatMessage("tool", json.dumps(result), tool_call_id="c", name=tool)).content


def test_time_and_text_stats_results_read_as_sentences() -> None:
    assert summary("current_time", {"timezone": "UTC", "iso": "2026-12-02T06:26:59+00:00", "weekday": "Wednesday"}) \
        == "It is 06:26 on Wednesday 02 December 2026 (UTC, 2026-12-02T06:26:59+00:00)."
    assert summary("text_stats", {"characters": 9, "lines": 1, "sentences": 1, "words": 2,
                                  "top_words": [{"word": "one", "count": 1}]}) \
        == "The text has 2 words, 9 characters, 1 line, 1 sentence; most frequent: one (1)."


def test_other_results_read_as_key_value_pairs_or_json() -> None:
    assert summary("count", {"count": 6, "unit": "words"}) == "count returned count 6, unit words."
    assert summary("shout", "HI") == "shout returned HI."
    assert summary("lookup", {"items": [1]}) == 'lookup returned: {"items": [1]}'
    assert summary("lookup", {"error": "boom"}) == "The lookup tool failed: boom"


def test_secops_prompts_get_an_offline_summary_of_their_counts() -> None:
    from agentstage.runtime.secops.domain import build_logs_prompt, build_trivy_prompt

    finding = {"Severity": "CRITICAL", "VulnerabilityID": "CVE-1", "PkgName": "curl", "InstalledVersion": "8.3",
               "FixedVersion": "8.4", "Title": "overflow"}
    trivy = build_trivy_prompt({"artifactName": "shop/api:1", "critical": [finding], "high": [], "mediumCount": 2,
                                "lowCount": 0, "totalCount": 3})
    answer = ask(ScriptedProvider(), ChatMessage("user", trivy), tools=())
    assert answer.metadata["rule"] == "trivy-triage"
    assert answer.content.startswith("Offline summary of shop/api:1: 1 critical, 0 high, 2 medium and 0 low findings")
    assert answer.content.endswith("\n- [CRITICAL] CVE-1 in curl 8.3 (fixed in 8.4): overflow")
    logs = build_logs_prompt("ERROR boom", {"errors": 1, "warnings": 0, "info": 0, "rejects": []})
    answer = ask(ScriptedProvider(), ChatMessage("user", logs), tools=())
    assert answer.content.startswith("Offline summary: 1 errors, 0 warnings and 0 info lines (0 malformed")


def test_says_when_a_tool_is_not_enabled() -> None:
    response = ask(ScriptedProvider(), ChatMessage("user", "calculate 2+2"), tools=())
    assert "not enabled" in response.content


def test_is_deterministic_and_never_pretends_to_be_a_model() -> None:
    provider = ScriptedProvider()
    first = ask(provider, ChatMessage("user", "tell me a story"))
    assert first == ask(provider, ChatMessage("user", "tell me a story"))
    assert "not a language model" in first.content


def test_rule_tables_load_from_json(tmp_path: Path) -> None:
    path = tmp_path / "rules.json"
    path.write_text(json.dumps([{"name": "echo", "pattern": r"say (\w+)", "reply": "you said {1}"}]))
    response = ask(ScriptedProvider(load_rules(path)), ChatMessage("user", "please say cheese"))
    assert response.content == "you said cheese"
    path.write_text(json.dumps([{"name": "both", "pattern": "x", "reply": "a", "tool": "b"}]))
    with pytest.raises(ConfigError, match="exactly one"):
        load_rules(path)


def test_streams_the_answer_word_by_word_then_the_final_response() -> None:
    request = LLMRequest((ChatMessage("user", "Stream this response"),), ())
    deltas = list(ScriptedProvider().stream(request))
    texts, final = [d.text for d in deltas[:-1]], deltas[-1].final
    assert len(texts) > 5 and all(texts) and deltas[-1].text in ("", None)
    assert "".join(texts) == final.content == ScriptedProvider().generate(request).content
