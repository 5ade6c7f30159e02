"""text_processor's 25 operations and regex_matcher."""

import pytest

from agentstage.runtime.errors import ToolError


def text(tools, operation, **arguments):
    return tools.get("text_processor")({"operation": operation, **arguments})["result"]


def test_text_processor_has_25_operations(tools) -> None:
    assert len(tools.get("text_processor").parameters["properties"]["operation"]["enum"]) == 25


def test_counts_cases_and_shapes(tools) -> None:
    assert text(tools, "word_count", text="a b  c") == 3
    assert text(tools, "line_count", text="a\nb\n") == 2
    assert text(tools, "title_case", text="hello world") == "Hello World"
    assert text(tools, "camel_case", text="Hello big World") == "helloBigWorld"
    assert text(tools, "snake_case", text="helloBigWorld") == "hello_big_world"
    assert text(tools, "kebab_case", text="Hello, World!") == "hello-world"
    assert text(tools, "slugify", text="  Ünïcode & Co  ") == "n-code-co"
    assert text(tools, "truncate", text="abcdef", length=4) == "abc…"
    assert text(tools, "join", items=["a", "b"], separator="+") == "a+b"
    assert text(tools, "dedupe_lines", text="b\na\nb") == "b\na"
    assert text(tools, "sort_lines", text="b\na") == "a\nb"
    assert text(tools, "summarize", text="One. Two! Three? Four.", sentences=2) == "One. Two!"
    assert len(text(tools, "random_string", length=12)) == 12


def test_extractors(tools) -> None:
    sample = "mail a.b@ex.com or see https://ex.com/x?y=1, pay 3.5 or -2"
    assert text(tools, "extract_emails", text=sample) == ["a.b@ex.com"]
    assert text(tools, "extract_urls", text=sample) == ["https://ex.com/x?y=1"]
    assert text(tools, "extract_numbers", text=sample) == [1, 3.5, -2]


def test_template_reports_missing_variables(tools) -> None:
    assert text(tools, "template", text="Hi {{ name }}", variables={"name": "Ada"}) == "Hi Ada"
    with pytest.raises(ToolError, match="missing: name"):
        text(tools, "template", text="Hi {{name}}")


def test_regex_matcher_operations_and_bad_pattern(tools) -> None:
    regex = tools.get("regex_matcher")
    assert regex({"operation": "find_all", "text": "a1 b22", "pattern": r"\d+"})["matches"] == ["1", "22"]
    assert regex({"operation": "replace", "text": "a1 b22", "pattern": r"\d", "replacement": "#"})["count"] == 3
    assert regex({"operation": "match", "text": "key=v", "pattern": r"(\w+)=(\w+)"})["groups"] == ["key", "v"]
    assert regex({"operation": "test", "text": "ABC", "pattern": "abc", "flags": "i"})["matched"] is True
    assert regex({"operation": "split", "text": "a, b,c", "pattern": r",\s*"})["parts"] == ["a", "b", "c"]
    with pytest.raises(ToolError, match="invalid pattern"):
        regex({"operation": "test", "text": "x", "pattern": "("})


@pytest.mark.parametrize("pattern", [r"(a+)+$", r"(a|a)*$", r"(a|aa)+$", r"(\w+\s?)*!$", r"(.*a){12}b"])
def test_catastrophic_backtracking_patterns_run_in_linear_time(tools, pattern) -> None:
    regex = tools.get("regex_matcher")
    assert regex({"operation": "test", "text": "a" * 100_000 + "!", "pattern": pattern})["matched"] in (True, False)
    assert regex({"operation": "find_all", "text": "a" * 50_000 + "\n", "pattern": pattern})["count"] >= 0


@pytest.mark.parametrize("pattern", [r"(a{10000}){10000}", r"((a{100}){100}){100}", r"(?=x)", r"(a)\1", "x" * 1001])
def test_patterns_too_costly_to_compile_or_unsupported_are_refused(tools, pattern) -> None:
    with pytest.raises(ToolError, match="invalid pattern|longer than"):
        tools.get("regex_matcher")({"operation": "test", "text": "aaaa", "pattern": pattern})


def test_replacements_cannot_grow_text_without_bound(tools) -> None:
    regex = tools.get("regex_matcher")
    with pytest.raises(ToolError, match="longer than"):
        regex({"operation": "replace", "text": "a" * 500_000, "pattern": "", "replacement": "x" * 1000})
    with pytest.raises(ToolError, match="longer than"):
        text(tools, "template", text="{{a}}" * 100_000, variables={"a": "x" * 100_000})
    with pytest.raises(ToolError, match="longer than"):
        text(tools, "join", items=["x" * 1000] * 5000, separator="-" * 1000)


def test_find_all_and_split_results_are_capped(tools) -> None:
    regex = tools.get("regex_matcher")
    found = regex({"operation": "find_all", "text": "a" * 20_000, "pattern": "a"})
    assert (found["count"], found["truncated"]) == (10_000, True)
    assert regex({"operation": "split", "text": "a," * 20_000, "pattern": ","})["truncated"] is True
