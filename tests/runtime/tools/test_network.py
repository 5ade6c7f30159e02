"""HTTP tools against a local server: allow-list (hops included), size cap, errors; dns and network utils."""

import pytest

from agentstage.runtime.errors import ToolError
from agentstage.runtime.tools.builtin import builtin_registry
from agentstage.runtime.tools.context import ToolContext
from agentstage.runtime.tools.hosts import HostPolicy
from tests.local_dns import LocalDNS


def test_http_client_methods_headers_and_json(tools, http) -> None:
    http.routes["/items"] = (201, {"ok": True})
    result = tools.get("http_client")({"url": f"{http.url}/items", "method": "POST", "body": {"a": 1},
                                       "headers": {"X-Trace": "t1"}})
    assert (result["status"], result["body"]) == (201, {"ok": True})
    assert http.requests[-1]["body"] == '{"a": 1}' and http.requests[-1]["headers"]["X-Trace"] == "t1"
    http.routes["/missing"] = (404, {"error": "nope"})
    assert tools.get("http_client")({"url": f"{http.url}/missing"})["status"] == 404


def test_hosts_off_the_allow_list_are_refused(tmp_path, http) -> None:
    closed = builtin_registry(ToolContext(sandbox=tmp_path))
    with pytest.raises(ToolError, match="not on the tool allow-list"):
        closed.get("http_client")({"url": f"{http.url}/x"})
    star = builtin_registry(ToolContext(sandbox=tmp_path, allow_hosts=("*",)))
    for url in (f"{http.url}/x", "http://localhost/x", "http://[::1]/x", "http://0.0.0.0/", "http://2130706433/"):
        with pytest.raises(ToolError, match="non-public|allow-list"):
            star.get("curl")({"url": url})
    with pytest.raises(ToolError, match="http"):
        star.get("curl")({"url": "file:///etc/passwd"})
    suffix = HostPolicy(["*.example.test"])
    with pytest.raises(ToolError, match="allow-list"):
        suffix.check_name("curl", "example.test.evil")


def test_redirects_to_hosts_off_the_list_are_refused(tools, http) -> None:
    http.routes["/hop"] = (302, "http://localhost:1/secret")
    with pytest.raises(ToolError, match="'localhost:1' is not on the tool allow-list"):
        tools.get("curl")({"url": f"{http.url}/hop"})


def test_slow_hosts_time_out(tools, http) -> None:
    http.routes["/slow"] = (200, {"late": True}, 2.0)
    with pytest.raises(ToolError, match="timed out"):
        tools.get("http_client")({"url": f"{http.url}/slow", "timeout": 0.2})


def test_response_bodies_are_capped(tmp_path, http) -> None:
    http.routes["/big"] = (200, "x" * 5000)
    small = builtin_registry(ToolContext(sandbox=tmp_path, allow_hosts=("127.0.0.1",), max_response_bytes=1000))
    result = small.get("http_client")({"url": f"{http.url}/big"})
    assert result["truncated"] is True and len(result["body"]) == 1000


def test_curl_auth_cookies_and_timings(tools, http) -> None:
    http.routes["/me"] = (200, {"me": 1})
    result = tools.get("curl")({"url": f"{http.url}/me", "user": "ada:pw", "cookies": {"c": "1"}, "verbose": True})
    headers = http.requests[-1]["headers"]
    assert headers["Authorization"].startswith("Basic ") and headers["Cookie"] == "c=1"
    assert result["elapsed_ms"] >= 0
    tools.get("curl")({"url": f"{http.url}/me", "bearer": "tok"})
    assert http.requests[-1]["headers"]["Authorization"] == "Bearer tok"


def test_web_scraper_extracts(tools, http) -> None:
    http.routes["/page"] = (200, "<html><head><meta name='description' content='d'><script>x()</script></head>"
                                 "<body><h1>Title</h1><p>Hello <a href='/a'>link</a></p><img src='i.png'></body></html>")
    page = tools.get("web_scraper")({"url": f"{http.url}/page", "extract": "all"})
    assert (page["headings"], page["links"], page["images"], page["meta"]) == (
        ["Title"], ["/a"], ["i.png"], {"description": "d"})
    assert page["text"] == "Title Hello link"


def test_dns_lookup_record_types_against_a_local_server(tmp_path) -> None:
    tools = builtin_registry(ToolContext(sandbox=tmp_path, allow_hosts=("127.0.0.1", "example.test", "*.example.test")))
    zone = {("example.test.", "MX"): ["10 mail.example.test.", "20 backup.example.test."],
            ("example.test.", "TXT"): ['"v=spf1 -all"'], ("example.test.", "NS"): ["ns1.example.test."],
            ("www.example.test.", "CNAME"): ["example.test."],
            ("_sip._tcp.example.test.", "SRV"): ["5 10 5060 sip.example.test."],
            ("example.test.", "A"): ["192.0.2.7"]}
    lookup = tools.get("dns_lookup")
    with LocalDNS(zone) as server:
        ask = lambda host, kind: lookup({"host": host, "record_type": kind, "server": "127.0.0.1",  # noqa: E731
                                         "port": server.port})
        assert ask("example.test", "MX")["records"] == ["10 mail.example.test.", "20 backup.example.test."]
        assert ask("example.test", "TXT")["records"] == ["v=spf1 -all"]
        assert ask("example.test", "NS")["records"] == ["ns1.example.test."]
        assert ask("www.example.test", "CNAME")["records"] == ["example.test."]
        assert ask("_sip._tcp.example.test", "SRV")["records"] == ["5 10 5060 sip.example.test."]
        assert ask("example.test", "A") == {"host": "example.test", "type": "A", "ttl": 300, "records": ["192.0.2.7"]}
        with pytest.raises(ToolError, match="NXDOMAIN"):
            ask("missing.example.test", "A")


def test_dns_and_network_utils(tmp_path, http) -> None:
    tools = builtin_registry(ToolContext(sandbox=tmp_path, allow_hosts=("127.0.0.1", "localhost")))
    assert "127.0.0.1" in tools.get("dns_lookup")({"host": "localhost"})["records"]
    port = int(http.url.rsplit(":", 1)[1])
    utils = tools.get("network_utils")
    assert utils({"operation": "port_check", "host": "127.0.0.1", "port": port})["open"] is True
    assert utils({"operation": "port_scan", "host": "127.0.0.1", "ports": [port]})["open"] == [port]
    with pytest.raises(ToolError, match="allow-list"):
        utils({"operation": "port_check", "host": "db.internal", "port": port})
