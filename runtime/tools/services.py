"""Tools for outside services: docker, docker_compose, kubectl, k3s through their CLIs when present;
cron_manager and self_api, which need a scheduler and an API this runtime does not attach."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from typing import Any

from agentstage.runtime.errors import ToolError
from agentstage.runtime.tools._kit import obj, require, unavailable_tool
from agentstage.runtime.tools.registry import Tool

__all__ = ["service_tools"]

Argv = Callable[[dict[str, Any]], list[str]]
_PROTECTED_NAMESPACES = {"kube-system", "kube-public", "kube-node-lease"}


def _cli_tool(name: str, description: str, binary: list[str], operations: dict[str, Argv],
              properties: dict[str, Any], default_timeout: int, max_timeout: int) -> Tool:
    available = shutil.which(binary[0]) is not None

    def run(operation: str, timeout: int = default_timeout, **a: Any) -> dict[str, Any]:
        if shutil.which(binary[0]) is None:
            raise ToolError(name, f"{name} is not available on this host: no {binary[0]} CLI on PATH")
        argv = [*binary, *operations[operation](a)]
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=min(timeout, max_timeout))
        except subprocess.TimeoutExpired:
            raise ToolError(name, f"{name} {operation} timed out after {timeout}s") from None
        if done.returncode:
            raise ToolError(name, f"{name} {operation} failed: {(done.stderr or done.stdout).strip()[:500]}")
        return {"operation": operation, "output": done.stdout[-200_000:]}

    schema = obj({"operation": {"type": "string", "enum": list(operations)}, **properties,
                  "timeout": {"type": "integer", "minimum": 1, "maximum": max_timeout}}, ("operation",))
    return Tool(name, description, schema, run, side_effects=True, available=available)


def _opt(a: dict[str, Any], key: str, flag: str) -> list[str]:
    return [flag, str(a[key])] if a.get(key) else []


def _kubectl_ops() -> dict[str, Argv]:
    def ns(a: dict[str, Any]) -> list[str]:
        return _opt(a, "namespace", "-n")

    def delete(a: dict[str, Any]) -> list[str]:
        if a.get("namespace") in _PROTECTED_NAMESPACES:
            raise ToolError("kubectl", f"deletes in namespace {a['namespace']!r} are blocked")
        return ["delete", *require("kubectl", a, "resource", "name"), *ns(a)]

    return {
        "get": lambda a: ["get", require("kubectl", a, "resource")[0], *([a["name"]] if a.get("name") else []),
                          *ns(a), *_opt(a, "output", "-o")],
        "describe": lambda a: ["describe", *require("kubectl", a, "resource", "name"), *ns(a)],
        "logs": lambda a: ["logs", require("kubectl", a, "name")[0], *ns(a), "--tail", str(a.get("tail") or 200)],
        "apply": lambda a: ["apply", "-f", require("kubectl", a, "file")[0], *ns(a)],
        "delete": delete,
        "exec": lambda a: ["exec", require("kubectl", a, "name")[0], *ns(a), "--", *require("kubectl", a, "command")[0]],
        "rollout": lambda a: ["rollout", a.get("action") or "status", require("kubectl", a, "name")[0], *ns(a)],
        "scale": lambda a: ["scale", require("kubectl", a, "name")[0], f"--replicas={int(a.get('replicas', 1))}", *ns(a)],
    }


_DOCKER: dict[str, Argv] = {
    "ps": lambda a: ["ps", *(["-a"] if a.get("all") else [])],
    "images": lambda a: ["images"],
    "run": lambda a: ["run", "-d", *_opt(a, "name", "--name"), require("docker", a, "image")[0], *(a.get("command") or [])],
    "stop": lambda a: ["stop", require("docker", a, "container")[0]],
    "logs": lambda a: ["logs", "--tail", str(a.get("tail") or 200), require("docker", a, "container")[0]],
    "inspect": lambda a: ["inspect", require("docker", a, "container")[0]],
    "build": lambda a: ["build", "-t", *require("docker", a, "image", "context")],
    "pull": lambda a: ["pull", require("docker", a, "image")[0]],
    "exec": lambda a: ["exec", require("docker", a, "container")[0], *require("docker", a, "command")[0]],
}
_COMPOSE: dict[str, Argv] = {
    "up": lambda a: [*_opt(a, "file", "-f"), "up", "-d"],
    "down": lambda a: [*_opt(a, "file", "-f"), "down"],
    "ps": lambda a: [*_opt(a, "file", "-f"), "ps"],
    "logs": lambda a: [*_opt(a, "file", "-f"), "logs", "--tail", str(a.get("tail") or 200)],
    "build": lambda a: [*_opt(a, "file", "-f"), "build"],
    "restart": lambda a: [*_opt(a, "file", "-f"), "restart"],
    "exec": lambda a: [*_opt(a, "file", "-f"), "exec", "-T", require("docker_compose", a, "service")[0],
                       *require("docker_compose", a, "command")[0]],
}
_K3S: dict[str, Argv] = {
    "status": lambda a: ["kubectl", "get", "nodes"],
    "kubectl": lambda a: ["kubectl", *require("k3s", a, "args")[0]],
    "crictl": lambda a: ["crictl", *require("k3s", a, "args")[0]],
}


def service_tools() -> list[Tool]:
    """Fresh instances of the outside-service tools (available when their CLI is on PATH)."""
    s = {"type": "string"}
    argv = {"type": "array", "items": s}
    tail = {"type": "integer", "minimum": 1, "maximum": 10000}
    return [
        _cli_tool("docker", "Docker CLI: ps, images, run, stop, logs, inspect, build, pull, exec.", ["docker"], _DOCKER,
                  {"image": s, "container": s, "name": s, "context": s, "command": argv, "all": {"type": "boolean"},
                   "tail": tail}, 120, 600),
        _cli_tool("docker_compose", "Docker Compose: up, down, ps, logs, build, restart, exec.", ["docker", "compose"],
                  _COMPOSE, {"file": s, "service": s, "command": argv, "tail": tail}, 120, 600),
        _cli_tool("kubectl", "kubectl: get, describe, logs, apply, delete, exec, rollout (status/restart/undo), "
                  "scale; output wide/json/yaml/name. Deletes in kube-system, kube-public and kube-node-lease are "
                  "blocked.", ["kubectl"], _kubectl_ops(),
                  {"resource": s, "name": s, "namespace": s, "file": s, "command": argv, "tail": tail,
                   "output": {"type": "string", "enum": ["wide", "json", "yaml", "name"]},
                   "action": {"type": "string", "enum": ["status", "restart", "undo"]},
                   "replicas": {"type": "integer", "minimum": 0}}, 60, 300),
        _cli_tool("k3s", "k3s: status, kubectl and crictl passthrough (install and uninstall are left to an "
                  "operator).", ["k3s"], _K3S, {"args": argv}, 120, 600),
        unavailable_tool("cron_manager", "Scheduled jobs: list, get, add, remove, trigger, enable, disable.",
                         obj({"operation": {"type": "string", "enum": ["list", "get", "add", "remove", "trigger",
                                                                      "enable", "disable"]},
                              "name": s, "schedule": s, "input": s}, ("operation",)),
                         "no scheduler is attached to this runtime"),
        unavailable_tool("self_api", "Call this runtime's own HTTP API (method, path, body, query).",
                         obj({"method": {"type": "string", "enum": ["GET", "POST", "PUT", "DELETE"]}, "path": s,
                              "body": {}, "query": {"type": "object"}}, ("method", "path")),
                         "no HTTP API is attached to this runtime"),
    ]
