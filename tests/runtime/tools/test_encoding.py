"""Encoding tools: base64, hashes, JSON, URLs, UUIDs, timestamps; happy paths and refusals."""

import pytest

from agentstage.runtime.errors import ToolArgumentsError, ToolError


def call(tools, name, **arguments):
    return tools.get(name)(arguments)


def test_base64_round_trip_and_bad_input(tools) -> None:
    encoded = call(tools, "base64_codec", operation="encode", text="héllo?>")["result"]
    assert call(tools, "base64_codec", operation="decode", text=encoded)["result"] == "héllo?>"
    url_safe = call(tools, "base64_codec", operation="encode", text="??>>", url_safe=True)["result"]
    assert "/" not in url_safe and "+" not in url_safe
    with pytest.raises(ToolError, match="not valid base64"):
        call(tools, "base64_codec", operation="decode", text="@@@")


def test_hash_generator_digests(tools) -> None:
    assert call(tools, "hash_generator", input="abc", algorithm="md5")["hash"] == "900150983cd24fb0d6963f7d28e17f72"
    assert call(tools, "hash_generator", input="abc")["hash"].startswith("ba7816bf")
    with pytest.raises(ToolArgumentsError):
        call(tools, "hash_generator", input="abc", algorithm="crc32")


def test_json_parser_validates_and_queries(tools) -> None:
    assert call(tools, "json_parser", json_text='{"a": [1, {"b": 2}]}', query="a.1.b")["value"] == 2
    assert call(tools, "json_parser", json_text="{oops")["valid"] is False


def test_url_parser_operations(tools) -> None:
    parsed = call(tools, "url_parser", operation="parse", url="https://u@ex.com:8443/p?q=1&r=2#f")
    assert (parsed["host"], parsed["port"], parsed["query"], parsed["fragment"]) == ("ex.com", 8443, {"q": "1", "r": "2"}, "f")
    assert call(tools, "url_parser", operation="validate", url="not a url")["valid"] is False
    assert call(tools, "url_parser", operation="encode", url="a b/c")["result"] == "a%20b%2Fc"
    assert call(tools, "url_parser", operation="decode", url="a%20b")["result"] == "a b"


def test_uuid_generator_formats_and_limits(tools) -> None:
    result = call(tools, "uuid_generator", count=3, format="no-dashes")
    assert len(result["uuids"]) == 3 and all(len(u) == 32 for u in result["uuids"])
    with pytest.raises(ToolArgumentsError):
        call(tools, "uuid_generator", count=101)


def test_timestamp_converter(tools) -> None:
    assert call(tools, "timestamp_converter", value=0, to_format="rfc3339")["result"] == "1970-01-01T00:00:00Z"
    assert call(tools, "timestamp_converter", value="2024-03-01T12:00:00Z", to_format="unix")["result"] == 1709294400
    assert call(tools, "timestamp_converter", value="1709294400000", to_format="date")["result"] == "2024-03-01"
    with pytest.raises(ToolError, match="cannot read"):
        call(tools, "timestamp_converter", value="yesterday-ish")


@pytest.mark.parametrize("depth", [65, 5000, 400_000])
def test_deep_json_is_refused(tools, depth) -> None:
    nested = "[" * depth + "]" * depth
    with pytest.raises(ToolError, match="nested deeper than 64"):
        call(tools, "json_parser", json_text=nested)
    with pytest.raises(ToolError, match="nested deeper than 64"):
        call(tools, "json_query", document=nested)


def test_deep_json_documents_given_as_values_are_refused(tools) -> None:
    document: list = []
    for _ in range(200):
        document = [document]
    with pytest.raises(ToolError, match="nested deeper"):
        call(tools, "json_query", document=document)


def test_oversized_inputs_are_refused(tools) -> None:
    with pytest.raises(ToolError, match="longer than"):
        call(tools, "hash_generator", input="x" * 1_000_001)
    with pytest.raises(ToolError, match="longer than"):
        call(tools, "json_parser", json_text=" " * 1_000_001 + "1")
