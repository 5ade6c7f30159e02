"""Built-in offline tools: happy paths and limits; argument validation in the registry."""

import jsonschema
import pytest

from agentstage.runtime.errors import NotFound, ToolArgumentsError, ToolError
from agentstage.runtime.tools import Tool, ToolRegistry, builtin_tools
from agentstage.runtime.tools.builtin import builtin_registry
from agentstage.runtime.tools.registry import trusted_schemas

registry = ToolRegistry(builtin_tools())


def run(name: str, **arguments):
    return registry.get(name)(arguments)


def test_every_builtin_and_workflow_tool_schema_is_valid_json_schema() -> None:
    tools = list(builtin_registry())
    assert len(tools) > 40
    for tool in tools:
        jsonschema.Draft202012Validator.check_schema(tool.parameters)


def test_a_tool_built_outside_the_runtime_has_its_schema_checked_when_built() -> None:
    bad = {"type": "object", "properties": {"n": {"type": "integer", "minimum": "zero"}}}
    with pytest.raises(jsonschema.SchemaError):
        Tool("bad", "a bad schema", bad, lambda n: n)
    with trusted_schemas():
        unchecked = Tool("bad", "a bad schema", bad, lambda n: n)
    with pytest.raises(jsonschema.SchemaError):
        Tool("bad", "a bad schema", bad, lambda n: n)
    assert unchecked.name == "bad"


def test_calculator_evaluates_without_eval() -> None:
    assert run("calculator", expression="(2+3)*4")["result"] == 20
    assert run("calculator", expression="sqrt(16) + 2^3")["result"] == 12
    for bad in ("__import__('os')", "2**999999", "1/0", "x" * 600):
        with pytest.raises(ToolError):
            run("calculator", expression=bad)


def test_current_time_knows_time_zones() -> None:
    assert run("current_time", timezone="Europe/Paris")["timezone"] == "Europe/Paris"
    with pytest.raises(ToolError, match="unknown time zone"):
        run("current_time", timezone="Mars/Olympus")


def test_json_query_selects_by_path_and_picks_keys() -> None:
    document = {"items": [{"name": "a", "size": 1}, {"name": "b", "size": 2}]}
    assert run("json_query", document=document, path="items.1.name")["value"] == "b"
    assert run("json_query", document='{"a": [1, 2]}', path="a.-1")["value"] == 2
    assert run("json_query", document=document, path="items", pick=["name"])["value"] == [{"name": "a"}, {"name": "b"}]
    with pytest.raises(ToolError, match="no 'missing'"):
        run("json_query", document=document, path="missing")


def test_text_stats_counts() -> None:
    stats = run("text_stats", text="One fish. Two fish! Red fish?")
    assert (stats["words"], stats["sentences"], stats["top_words"][0]) == (6, 3, {"word": "fish", "count": 3})


def test_arguments_are_validated_against_the_schema() -> None:
    with pytest.raises(ToolArgumentsError) as caught:
        run("calculator", expression=1, extra=True)
    assert len(caught.value.errors) == 2


def test_select_keeps_order_drops_duplicates_and_rejects_unknown_names() -> None:
    assert registry.select(["text_stats", "calculator", "text_stats"]).names() == ["calculator", "text_stats"]
    assert [t.name for t in registry.select(["text_stats", "calculator"])] == ["text_stats", "calculator"]
    with pytest.raises(NotFound):
        registry.select(["calculator", "teleport"])


@pytest.mark.parametrize("bomb", [
    "(9**9999)**3000", "9**9**9", "9**9**9**9", "2**10**8", "(10**600)*(10**600)", "99999999999**99999999",
    "(2**3000)*(2**3000)*(2**3000)", "round(1, -10**8)", "'a'*10**9", "[1]*10**9", "(-8)**0.5", "1e308*10",
    "("*240 + "1" + ")"*240])
def test_calculator_refuses_cost_bombs_before_computing(bomb) -> None:
    with pytest.raises(ToolError, match="too large|not a real|not a finite|unsupported|round|not an arithmetic"):
        run("calculator", expression=bomb)


def test_calculator_keeps_large_but_bounded_results() -> None:
    assert run("calculator", expression="10**999")["result"] == 10**999
    assert run("calculator", expression="-" * 400 + "1")["result"] == 1


def test_text_stats_refuses_oversized_text() -> None:
    with pytest.raises(ToolError, match="longer than"):
        run("text_stats", text="a " * 600_000)


def test_a_replaced_tool_validates_with_its_own_schema() -> None:
    import dataclasses

    loose = Tool("t", "any text", {"type": "object", "properties": {"s": {"type": "string"}}}, lambda s="": s)
    assert loose.validate({"s": "x"}) == {"s": "x"}
    with pytest.raises(ToolArgumentsError):
        loose.validate({"s": 1})
    strict = dataclasses.replace(loose, parameters={"type": "object", "properties": {"s": {"type": "integer"}}})
    assert strict.validate({"s": 1}) == {"s": 1}
    with pytest.raises(ToolArgumentsError):
        strict.validate({"s": "x"})
