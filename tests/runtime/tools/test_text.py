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
