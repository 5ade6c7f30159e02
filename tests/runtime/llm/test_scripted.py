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
