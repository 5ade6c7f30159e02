"""Selection grammar: @bundle, *, names; order kept, duplicates dropped, unknown entries rejected."""

import pytest

from agentstage.runtime.errors import NotFound
from agentstage.runtime.tools.selection import build_selection, parse_selection

NAMES = ["a", "b", "c", "d"]
BUNDLES = {"first": ("b", "a"), "second": ("c", "b")}


def test_parse_trims_and_skips_empty_entries() -> None:
    assert parse_selection(" @first, ,c ,, ") == ["@first", "c"]
    assert parse_selection(["a,b", " c "]) == ["a", "b", "c"]


def test_bundles_expand_in_order_without_duplicates() -> None:
    assert build_selection("@first,@second,a,d", NAMES, BUNDLES) == ["b", "a", "c", "d"]


def test_star_expands_to_every_tool_sorted() -> None:
    assert build_selection("d,*", NAMES, BUNDLES) == ["d", "a", "b", "c"]


def test_unknown_bundle_and_unknown_tool_are_errors() -> None:
    with pytest.raises(NotFound) as bundle:
        build_selection("@nope", NAMES, BUNDLES)
    assert (bundle.value.kind, bundle.value.key) == ("bundle", "nope")
    with pytest.raises(NotFound) as tool:
        build_selection("a,zzz", NAMES, BUNDLES)
    assert (tool.value.kind, tool.value.key) == ("tool", "zzz")


def test_registry_expands_reference_example(tools) -> None:
    assert tools.expand("@default,@security,json_parser") == [
        "calculator", "json_parser", "base64_codec", "timestamp_converter", "uuid_generator", "url_parser",
        "regex_matcher", "text_processor", "document_generator", "secret_redactor", "hash_generator"]
    assert tools.select("@memory").names() == ["memory_store", "todo_manager"]
