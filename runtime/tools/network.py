"""Network tools behind the host allow-list: http_client, curl, web_scraper, dns_lookup, network_utils."""

from __future__ import annotations

import functools
import json
import socket
import ssl
import time
from typing import Any
from urllib.parse import urlsplit

from agentstage.runtime.errors import ToolError
from agentstage.runtime.tools._kit import obj, op_tool, require, unavailable_tool
from agentstage.runtime.tools.context import ToolContext
from agentstage.runtime.tools.limits import check_depth
from agentstage.runtime.tools.registry import Tool

__all__ = ["fetch", "network_tools", "tls_context"]

_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]


def fetch(context: ToolContext, tool: str, method: str, url: str, *, headers: dict[str, str] | None = None,
          body: Any = None, timeout: float | None = None, follow: bool = True, max_redirects: int = 10,
          verify: bool = True, auth: tuple[str, str] | None = None, cookies: dict[str, str] | None = None,
          check: bool = True) -> dict[str, Any]:
    """One HTTP request; the body is size-capped.

    With `check`, every connection (redirect hops included) goes to an address the allow-list
    allowed, resolved once (see `pinned.PinnedTransport`). Returns {status, headers, body, truncated,
    url, elapsed_ms}; body is parsed JSON when it is JSON.
    """
    import httpx

    from agentstage.runtime.tools.pinned import PinnedTransport

    _scheme(tool, url)
    content = None if body is None or isinstance(body, str) else json.dumps(body).encode()
    headers = dict(headers or {})
    if content is not None:
        headers.setdefault("Content-Type", "application/json")
    tls = tls_context() if verify else _insecure_context()
    transport = PinnedTransport(context.hosts, tool, tls) if check else None
    hooks = {"request": [lambda request: _scheme(tool, str(request.url))]}
    started = time.perf_counter()
    try:
        with httpx.Client(timeout=timeout or context.http_timeout, follow_redirects=follow, transport=transport,
                          max_redirects=max_redirects, verify=tls, event_hooks=hooks, trust_env=False) as client:
            with client.stream(method, url, headers=headers, content=content if content is not None else body,
                               auth=auth, cookies=cookies) as response:
                raw, truncated = bytearray(), False
                for chunk in response.iter_bytes():
                    raw.extend(chunk)
                    if len(raw) > context.max_response_bytes:
                        truncated = True
                        del raw[context.max_response_bytes:]
                        break
    except ToolError:
        raise
    except httpx.TimeoutException:
        raise ToolError(tool, f"{method} {url} timed out") from None
    except httpx.TooManyRedirects:
        raise ToolError(tool, f"{method} {url}: more than {max_redirects} redirects") from None
    except httpx.HTTPError as exc:
        raise ToolError(tool, f"{method} {url} failed: {exc}") from None
    text = raw.decode(response.encoding or "utf-8", errors="replace")
    try:
        parsed: Any = check_depth(tool, json.loads(text)) if text and not truncated else text
    except (ValueError, RecursionError):
        parsed = text
    return {"status": response.status_code, "headers": {k: v for k, v in response.headers.items()},
            "body": parsed, "truncated": truncated, "url": str(response.url),
            "elapsed_ms": round((time.perf_counter() - started) * 1000, 1)}


def _scheme(tool: str, url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ToolError(tool, f"url {url!r} needs an http(s) scheme and a host")


@functools.cache
def _insecure_context() -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


@functools.cache
def tls_context() -> ssl.SSLContext:
    """The certifi-backed TLS context httpx would build, made once per process."""
    # PERF: building it loads the CA bundle (~20 ms per client otherwise).
    import certifi

    return ssl.create_default_context(cafile=certifi.where())


def _http_client(context: ToolContext) -> Any:
    def call(url: str, method: str = "GET", headers: dict[str, str] | None = None, body: Any = None,
             follow_redirects: bool = True, timeout: float = 30) -> dict[str, Any]:
        return fetch(context, "http_client", method, url, headers=headers, body=body, timeout=timeout,
                     follow=follow_redirects)
    return call


def _curl(context: ToolContext) -> Any:
    def call(url: str, method: str = "GET", headers: dict[str, str] | None = None, data: Any = None,
             user: str = "", bearer: str = "", cookies: dict[str, str] | None = None, insecure: bool = False,
             follow: bool = True, max_redirects: int = 10, timeout: float = 30,
             verbose: bool = False) -> dict[str, Any]:
        headers = dict(headers or {})
        if bearer:
            headers["Authorization"] = f"Bearer {bearer}"
        auth = tuple(user.split(":", 1)) if ":" in user else None
        result = fetch(context, "curl", method, url, headers=headers, body=data, timeout=timeout, follow=follow,
                       max_redirects=max_redirects, verify=not insecure, auth=auth, cookies=cookies)
        if not verbose:
            result.pop("elapsed_ms")
        return result
    return call


def _scraper(context: ToolContext) -> Any:
    def scrape(url: str, extract: str = "text") -> dict[str, Any]:
        response = fetch(context, "web_scraper", "GET", url, timeout=30)
        if response["status"] >= 400:
            raise ToolError("web_scraper", f"GET {url} returned HTTP {response['status']}")
        from agentstage.runtime.tools.html_page import Page

        page = Page()
        page.feed(response["body"] if isinstance(response["body"], str) else json.dumps(response["body"]))
        parts = {"text": " ".join(page.text)[:100_000], "links": page.links, "headings": page.headings,
                 "images": page.images, "meta": page.meta}
        return {"url": url, **(parts if extract == "all" else {extract: parts[extract]})}
    return scrape


_RECORD_TYPES = ["A", "AAAA", "MX", "NS", "TXT", "CNAME", "SRV", "PTR"]


def _dns(context: ToolContext) -> Any:
    def lookup(host: str, record_type: str = "A", server: str = "", port: int = 53) -> dict[str, Any]:
        """Resolve a name the allow-list allows, through the system resolver (hosts file included for A,
        AAAA and PTR) or by asking `server`, itself an allowed host (dnspython, 15 s lifetime)."""
        policy = context.hosts
        if record_type == "PTR" and _is_address(host):
            policy.resolve("dns_lookup", host, port)
        else:
            policy.check_name("dns_lookup", host)
        if not server and record_type in ("A", "AAAA", "PTR"):
            return _system_lookup(host, record_type)
        import dns.exception
        import dns.resolver
        import dns.reversename

        resolver = dns.resolver.Resolver(configure=not server)
        if server:
            resolver.nameservers, resolver.port = [*policy.resolve("dns_lookup", server, port)[:1]], port
        elif not all(policy.check_name("dns_lookup", ns, port) for ns in resolver.nameservers):
            raise ToolError("dns_lookup", "the system name servers are not on the allow-list")
        resolver.lifetime = 15.0
        name = dns.reversename.from_address(host) if record_type == "PTR" and _is_address(host) else host
        try:
            answer = resolver.resolve(name, record_type, search=False)
        except (dns.exception.DNSException, ValueError, OSError) as exc:
            raise ToolError("dns_lookup", f"cannot resolve {host!r} ({record_type}): {type(exc).__name__}: "
                                          f"{exc}") from None
        return {"host": host, "type": record_type, "ttl": answer.rrset.ttl if answer.rrset else None,
                "records": sorted(_record(record_type, r) for r in answer)}
    return lookup


def _system_lookup(host: str, record_type: str) -> dict[str, Any]:
    try:
        if record_type == "PTR":
            name, aliases, _ = socket.gethostbyaddr(host)
            return {"host": host, "type": "PTR", "ttl": None, "records": [name, *aliases]}
        family = socket.AF_INET6 if record_type == "AAAA" else socket.AF_INET
        infos = socket.getaddrinfo(host, None, family, socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise ToolError("dns_lookup", f"cannot resolve {host!r} ({record_type}): {exc}") from None
    return {"host": host, "type": record_type, "ttl": None, "records": sorted({info[4][0] for info in infos})}


def _is_address(text: str) -> bool:
    try:
        socket.inet_pton(socket.AF_INET6 if ":" in text else socket.AF_INET, text)
    except OSError:
        return False
    return True


def _record(record_type: str, rdata: Any) -> str:
    if record_type == "MX":
        return f"{rdata.preference} {rdata.exchange.to_text()}"
    if record_type == "SRV":
        return f"{rdata.priority} {rdata.weight} {rdata.port} {rdata.target.to_text()}"
    if record_type == "TXT":
        return "".join(part.decode(errors="replace") for part in rdata.strings)
    return rdata.to_text()


def _network(context: ToolContext) -> dict[str, Any]:
    def connect(host: str, port: int) -> float | None:
        """TCP connect time to a checked address of an allowed host:port; None when closed."""
        started = time.perf_counter()
        try:
            with context.hosts.connect("network_utils", host, port, timeout=5):
                return round((time.perf_counter() - started) * 1000, 2)
        except OSError:
            return None

    def scan(a: dict[str, Any]) -> dict[str, Any]:
        host, ports = require("network_utils", a, "host")[0], a.get("ports") or [22, 80, 443]
        if len(ports) > 100:
            raise ToolError("network_utils", "port_scan checks at most 100 ports")
        return {"host": host, "open": [p for p in ports if connect(host, p) is not None]}

    def resolve(a: dict[str, Any]) -> dict[str, Any]:
        host = require("network_utils", a, "host")[0]
        return {"host": host, "addresses": sorted(context.hosts.resolve("network_utils", host, a.get("port") or 80))}

    return {
        "ping": lambda a: {"host": a["host"], "port": a.get("port") or 80,
                           "rtt_ms": connect(require("network_utils", a, "host")[0], a.get("port") or 80)},
        "port_check": lambda a: {"host": a["host"], "port": require("network_utils", a, "port")[0],
                                 "open": connect(a["host"], a["port"]) is not None},
        "port_scan": scan,
        "resolve": resolve,
    }


def network_tools(context: ToolContext) -> list[Tool]:
    """Fresh instances of the network tools bound to `context`'s allow-list."""
    s = {"type": "string"}
    headers = {"type": "object", "additionalProperties": s}
    timeout = {"type": "number", "exclusiveMinimum": 0, "maximum": 120}
    return [
        Tool("http_client", "HTTP request (GET/POST/PUT/PATCH/DELETE/HEAD/OPTIONS) to an allow-listed host; "
             "returns status, headers and body (JSON parsed when possible, 2 MB cap).",
             obj({"url": s, "method": {"type": "string", "enum": _METHODS}, "headers": headers, "body": {},
                  "follow_redirects": {"type": "boolean"}, "timeout": timeout}, ("url",)),
             _http_client(context), side_effects=True),
        Tool("curl", "curl-like HTTP client for allow-listed hosts: basic (user) or bearer auth, cookies, "
             "insecure TLS, redirects with a maximum, verbose timings.",
             obj({"url": s, "method": {"type": "string", "enum": _METHODS}, "headers": headers, "data": {},
                  "user": s, "bearer": s, "cookies": headers, "insecure": {"type": "boolean"},
                  "follow": {"type": "boolean"}, "max_redirects": {"type": "integer", "minimum": 0, "maximum": 20},
                  "timeout": timeout, "verbose": {"type": "boolean"}}, ("url",)), _curl(context), side_effects=True),
        Tool("web_scraper", "Fetch a page from an allow-listed host and extract text, links, headings, images, "
             "meta or all.", obj({"url": s, "extract": {"type": "string", "enum": [
                 "text", "links", "headings", "images", "meta", "all"]}}, ("url",)), _scraper(context)),
        unavailable_tool("web_search", "Search the web and return result titles, URLs and snippets.",
                         obj({"query": s, "num_results": {"type": "integer", "minimum": 1, "maximum": 10}},
                             ("query",)), "it needs a public search service"),
        Tool("dns_lookup", "DNS records of an allow-listed name: A, AAAA, MX, NS, TXT, CNAME, SRV or PTR (give an "
             "address), through the system resolver or a given (allow-listed) DNS server.",
             obj({"host": {"type": "string", "minLength": 1}, "record_type": {"type": "string", "enum": _RECORD_TYPES},
                  "server": s, "port": {"type": "integer", "minimum": 1, "maximum": 65535}}, ("host",)),
             _dns(context)),
        op_tool("network_utils", "Reachability of allow-listed hosts: ping (TCP connect time), port_check, "
                "port_scan (up to 100 ports), resolve.", _network(context),
                {"host": s, "port": {"type": "integer", "minimum": 1, "maximum": 65535},
                 "ports": {"type": "array", "items": {"type": "integer", "minimum": 1, "maximum": 65535}}},
                ("host",)),
    ]
