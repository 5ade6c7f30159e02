"""Custom HTTP tools: spec rules, GET as query, JSON body otherwise, >= 400 is an error with the response."""

import json

import pytest

from agentstage.runtime.errors import ToolError
from agentstage.runtime.tools.custom import DefinitionError, HttpToolSpec, http_tool, load_spec_dir


def test_spec_defaults_and_clamp() -> None:
    spec = HttpToolSpec.from_dict({"name": "lookup", "url": "http://h/x", "timeoutMs": 5})
    assert (spec.method, spec.timeout_ms, spec.description) == ("POST", 1000, "Runtime custom HTTP tool")
    assert HttpToolSpec.from_dict({"name": "lookup", "url": "http://h/x", "timeoutMs": 10**9}).timeout_ms == 120000
    assert HttpToolSpec.from_dict(spec.to_dict()) == spec


@pytest.mark.parametrize("raw, field", [
    ({"name": "1bad", "url": "http://h"}, "name"), ({"name": "ab", "url": "http://h"}, "name"),
    ({"name": "okay", "url": "/relative"}, "url"), ({"name": "okay", "url": "http://h", "method": "TRACE"}, "method"),
    ({"name": "okay", "url": "http://h", "jsonSchema": {"type": "string"}}, "jsonSchema"),
    ({"name": "okay", "url": "http://h", "headers": {"a": 1}}, "headers"),
    ({"name": "okay", "url": "http://h", "extra": 1}, "extra")])
def test_bad_specs_name_the_field(raw, field) -> None:
    with pytest.raises(DefinitionError) as caught:
        HttpToolSpec.from_dict(raw)
    assert caught.value.field == field


def test_get_sends_arguments_as_query(context, http) -> None:
    http.routes["/search"] = (200, {"hits": 2})
    tool = http_tool(HttpToolSpec.from_dict({"name": "search", "url": f"{http.url}/search?fixed=1", "method": "GET"}),
                     context)
    assert tool({"q": "disk full", "n": 3}) == {"status": 200, "headers": tool({"q": "x"})["headers"],
                                                "body": {"hits": 2}, "truncated": False}
    assert http.requests[0]["path"] == "/search?fixed=1&q=disk+full&n=3"


def test_post_sends_json_body_and_resolves_secret_headers(context, http) -> None:
    http.routes["/hook"] = (200, {"ok": True})
    spec = HttpToolSpec.from_dict({"name": "hook", "url": f"{http.url}/hook", "headers": {"X-A": "1"},
                                   "secretHeaders": {"Authorization": "env:HOOK_TOKEN"},
                                   "jsonSchema": {"type": "object", "properties": {"n": {"type": "integer"}},
                                                  "required": ["n"]}})
    tool = http_tool(spec, context, resolve=lambda ref: "Bearer s3cr3t" if ref == "env:HOOK_TOKEN" else "")
    assert tool({"n": 1})["body"] == {"ok": True}
    sent = http.requests[-1]
    assert (json.loads(sent["body"]), sent["headers"]["Authorization"], sent["headers"]["X-A"]) == (
        {"n": 1}, "Bearer s3cr3t", "1")
    assert tool.side_effects is True and "s3cr3t" not in json.dumps(spec.to_dict())


def test_status_400_and_more_is_an_error_carrying_the_response(context, http) -> None:
    http.routes["/fail"] = (503, {"error": "down"})
    tool = http_tool(HttpToolSpec.from_dict({"name": "fail", "url": f"{http.url}/fail"}), context)
    with pytest.raises(ToolError, match='HTTP 503: .*"down"'):
        tool({})


def test_spec_dir_keeps_objects_and_reports_bad_files(tmp_path) -> None:
    (tmp_path / "a.json").write_text('{"name": "alpha", "url": "http://h"}')
    (tmp_path / "b.json").write_text("[1]")
    (tmp_path / "c.json").write_text("{broken")
    specs, rejects = load_spec_dir(tmp_path)
    assert specs == [{"name": "alpha", "url": "http://h"}]
    assert [name for name, _ in rejects] == ["b.json", "c.json"]


@pytest.mark.parametrize("headers", [{"Authorization": "Bearer abc"}, {"X-Api-Key": "k"},
                                     {"X-Note": "password=hunter22"}])
def test_secrets_in_plain_headers_are_refused(headers) -> None:
    with pytest.raises(DefinitionError, match="secretHeaders") as caught:
        HttpToolSpec.from_dict({"name": "leaky", "url": "http://h/x", "headers": headers})
    assert caught.value.field == f"headers.{next(iter(headers))}"
