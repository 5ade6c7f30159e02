"""Session-scoped tools kept in the store: memory_store and todo_manager; and the middleware that
tells them which session a call belongs to."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any

from agentstage.runtime.clock import parse_ts, utc_now
from agentstage.runtime.errors import ToolError
from agentstage.runtime.llm.types import ToolCall
from agentstage.runtime.middleware import Middleware, RunContext
from agentstage.runtime.tools._kit import op_tool, require
from agentstage.runtime.tools.context import SessionItems, ToolContext
from agentstage.runtime.tools.registry import RUN_ARG, SESSION_ARG, Tool, ToolRegistry

__all__ = ["SessionBinding", "session_tools"]

_MAX_KEYS = 1000
_STATUSES = ["pending", "in_progress", "done", "blocked"]
_PRIORITIES = ["low", "medium", "high", "critical"]


class SessionBinding(Middleware):
    """Sets the run's session (and, for tools that need it, the run's id) on tool calls, overriding
    anything the model sent."""

    def __init__(self, tools: ToolRegistry) -> None:
        self.tools = tools

    def before_tool(self, ctx: RunContext, call: ToolCall) -> ToolCall | None:
        if call.name not in self.tools:
            return None
        tool = self.tools.get(call.name)
        bound = {**({SESSION_ARG: ctx.session_id} if tool.needs_session else {}),
                 **({RUN_ARG: ctx.run_id} if tool.needs_run else {})}
        return dataclasses.replace(call, arguments={**call.arguments, **bound}) if bound else None


def _store(context: ToolContext, tool: str) -> SessionItems:
    if context.items is None:
        raise ToolError(tool, f"{tool} needs the runtime's store (run it inside a started System)")
    return context.items


def _memory(context: ToolContext) -> Any:
    def handler(operation: str) -> Any:
        def run(a: dict[str, Any]) -> Any:
            store, session = _store(context, "memory_store"), a.pop("session_id")
            values = store.items(session, "memory")
            if operation == "set":
                key, value = require("memory_store", a, "key", "value")
                if key not in values and len(values) >= _MAX_KEYS:
                    raise ToolError("memory_store", f"a session keeps at most {_MAX_KEYS} keys")
                ttl = a.get("ttl_seconds")
                expires = (parse_ts(utc_now()) + timedelta(seconds=ttl)).isoformat(timespec="milliseconds").replace(
                    "+00:00", "Z") if ttl else None
                store.put(session, "memory", {key: (value, expires)})
                return {"key": key, "stored": True, "expires_at": expires}
            if operation == "get":
                (key,) = require("memory_store", a, "key")
                return {"key": key, "found": key in values, "value": values[key][0] if key in values else None}
            if operation == "delete":
                (key,) = require("memory_store", a, "key")
                if key in values:
                    store.put(session, "memory", {key: None})
                return {"key": key, "deleted": key in values}
            if operation == "list":
                return {"keys": list(values), "count": len(values)}
            if operation == "search":
                query = str(require("memory_store", a, "query")[0]).lower()
                return {"matches": {k: v for k, (v, _) in values.items() if query in k.lower() or query in str(v).lower()}}
            store.put(session, "memory", dict.fromkeys(values))
            return {"cleared": len(values)}
        return run
    return {op: handler(op) for op in ("set", "get", "delete", "list", "search", "clear")}


def _ready(item: dict[str, Any], items: dict[str, dict[str, Any]]) -> bool:
    return item["status"] == "pending" and all(items.get(b, {}).get("status") == "done" for b in item["blocked_by"])


def _todo(context: ToolContext) -> Any:
    def load(a: dict[str, Any]) -> tuple[SessionItems, str, dict[str, dict[str, Any]]]:
        store, session = _store(context, "todo_manager"), a.pop("session_id")
        return store, session, {k: v for k, (v, _) in store.items(session, "todo").items()}

    def view(item: dict[str, Any], items: dict[str, dict[str, Any]]) -> dict[str, Any]:
        return {**item, "ready": _ready(item, items)}

    def item_of(a: dict[str, Any], items: dict[str, dict[str, Any]]) -> dict[str, Any]:
        (item_id,) = require("todo_manager", a, "id")
        if str(item_id) not in items:
            raise ToolError("todo_manager", f"no todo item {item_id!r}")
        return items[str(item_id)]

    def check_blockers(blockers: list[str], items: dict[str, dict[str, Any]], own: str) -> list[str]:
        unknown = [b for b in blockers if b not in items or b == own]
        if unknown:
            raise ToolError("todo_manager", f"blocked_by names unknown items: {', '.join(unknown)}")
        return blockers

    def add(a: dict[str, Any]) -> dict[str, Any]:
        store, session, items = load(a)
        (title,) = require("todo_manager", a, "title")
        new_id = str(max((int(k) for k in items), default=0) + 1)
        now = utc_now()
        item = {"id": new_id, "title": title, "description": a.get("description", ""),
                "status": a.get("status") or "pending", "priority": a.get("priority") or "medium",
                "tags": a.get("tags") or [], "blocked_by": check_blockers(a.get("blocked_by") or [], items, new_id),
                "created_at": now, "updated_at": now}
        store.put(session, "todo", {new_id: (item, None)})
        return view(item, {**items, new_id: item})

    def update(a: dict[str, Any]) -> dict[str, Any]:
        store, session, items = load(a)
        item = dict(item_of(a, items))
        for field in ("title", "description", "status", "priority", "tags"):
            if a.get(field) is not None:
                item[field] = a[field]
        if a.get("blocked_by") is not None:
            item["blocked_by"] = check_blockers(a["blocked_by"], items, item["id"])
        item["updated_at"] = utc_now()
        store.put(session, "todo", {item["id"]: (item, None)})
        return view(item, {**items, item["id"]: item})

    def remove(a: dict[str, Any]) -> dict[str, Any]:
        store, session, items = load(a)
        item = item_of(a, items)
        store.put(session, "todo", {item["id"]: None})
        return {"id": item["id"], "removed": True}

    def listing(a: dict[str, Any]) -> dict[str, Any]:
        _, _, items = load(a)
        chosen = [view(i, items) for i in sorted(items.values(), key=lambda i: int(i["id"]))
                  if (not a.get("status") or i["status"] == a["status"]) and (not a.get("tag") or a["tag"] in i["tags"])]
        if a.get("ready_only"):
            chosen = [i for i in chosen if i["ready"]]
        return {"items": chosen, "count": len(chosen)}

    def get(a: dict[str, Any]) -> dict[str, Any]:
        _, _, items = load(a)
        return view(item_of(a, items), items)

    def clear(a: dict[str, Any]) -> dict[str, Any]:
        store, session, items = load(a)
        store.put(session, "todo", dict.fromkeys(items))
        return {"cleared": len(items)}

    return {"add": add, "get": get, "update": update, "remove": remove, "list": listing, "clear": clear}


def session_tools(context: ToolContext) -> list[Tool]:
    """memory_store and todo_manager bound to `context`'s store."""
    s = {"type": "string"}
    strings = {"type": "array", "items": s, "maxItems": 50}
    return [
        op_tool("memory_store", "Key/value memory of this session, kept in the store: set (optional ttl_seconds), "
                "get, delete, list, search, clear.", _memory(context),
                {"key": {"type": "string", "minLength": 1, "maxLength": 200},
                 "value": {"not": {"type": "null"}}, "ttl_seconds": {"type": "integer", "minimum": 1},
                 "query": s}, side_effects=True, needs_session=True),
        op_tool("todo_manager", "This session's todo list, kept in the store: add, get, update, remove, list, "
                "clear. Items have status (pending, in_progress, done, blocked), priority (low..critical), tags and "
                "blocked_by dependencies; list shows which items are ready.", _todo(context),
                {"id": {"type": ["string", "integer"]}, "title": s, "description": s,
                 "status": {"type": "string", "enum": _STATUSES}, "priority": {"type": "string", "enum": _PRIORITIES},
                 "tags": strings, "blocked_by": strings, "tag": s, "ready_only": {"type": "boolean"}},
                side_effects=True, needs_session=True),
    ]
