"""The tool catalog API: what the HTTP API (and embedding code) calls to read and change tools.

    catalog = system.catalog
    catalog.tool_registry()                  GET    tools/registry
    catalog.bundles()                        GET    tools/bundles
    catalog.templates()                      GET    tools/templates
    catalog.instances()                      GET    tools/instances
    catalog.create_instance(body, audit)     POST   tools/instances
    catalog.update_instance(name, body, audit)  PUT tools/instances/{name}
    catalog.delete_instance(name, audit)     DELETE tools/instances/{name}
    catalog.custom_tools() / create_custom_tool(spec, audit) / update_custom_tool / delete_custom_tool
    catalog.bind(workflow, tool, audit)      PUT    workflows/{name}/tools/{tool}
    catalog.unbind(workflow, tool, audit)    DELETE workflows/{name}/tools/{tool}
    catalog.binding(workflow)                the workflow's bound entries
    catalog.providers()                      GET    integrations/providers
    catalog.credentials()                    GET    integrations/credentials (references only)

Mutations are written through the store in one transaction with the optional `audit` record,
then applied to the live registry. Errors: DefinitionError (422, names the field), Conflict
(409), NotFound (404). Nothing returned or stored ever holds a secret value.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from agentstage.runtime._log import logger
from agentstage.runtime.clock import utc_now
from agentstage.runtime.errors import AgentstageError, NotFound
from agentstage.runtime.integrations.connectors import connector_tool
from agentstage.runtime.integrations.credentials import CredentialResolver
from agentstage.runtime.integrations.instances import ToolInstance, WorkflowBinding, merge_selection
from agentstage.runtime.integrations.providers import PROVIDERS
from agentstage.runtime.state.items import catalog_entries
from agentstage.runtime.state.reader import SQLiteReader
from agentstage.runtime.state.records import AuditEntry, CatalogEntry, Record
from agentstage.runtime.tools.bundles import BUNDLES
from agentstage.runtime.tools.context import ToolContext
from agentstage.runtime.tools.custom import NAME_RULE, DefinitionError, HttpToolSpec, http_tool, load_spec_dir
from agentstage.runtime.tools.registry import ToolRegistry

__all__ = ["Conflict", "ToolCatalog"]

CUSTOM, INSTANCE, BINDING = "custom_tool", "tool_instance", "workflow_binding"


class Conflict(AgentstageError):
    """A definition with this name exists already (or would shadow a built-in tool)."""

    def __init__(self, kind: str, name: str) -> None:
        super().__init__(f"{kind} {name!r} already exists")
        self.kind = kind
        self.name = name


class ToolCatalog:
    """Runtime tool definitions of one System: custom HTTP tools, tool instances, workflow bindings.

    Args:
        registry: the live registry agents select from (built-ins already in it).
        context: limits for custom HTTP tools.
        resolver: credential references -> values, at call time only.
        write: persists records in one transaction (`System.write`).
        reader: a read-only store connection for the calling thread (`System.reader`).
    """

    def __init__(self, registry: ToolRegistry, context: ToolContext, resolver: CredentialResolver,
                 write: Callable[[Iterable[Record]], None], reader: Callable[[], SQLiteReader]) -> None:
        self.registry = registry
        self.context = context
        self.resolver = resolver
        self._write = write
        self._reader = reader
        self._builtin = frozenset(registry.names())
        self.on_binding: Callable[[str], None] | None = None
        """Called with the workflow name after its binding changed (the System restarts that agent's pool)."""

    def load(self, spec_dir: str | None = None, *, persist: bool = True) -> list[str]:
        """Register stored definitions, then persist (unless not `persist`: a worker, which has no store)
        and register the specs in `spec_dir`.

        Returns the names registered; a bad stored or file definition is logged and skipped.
        """
        loaded = []
        for kind, build in ((CUSTOM, self._custom), (INSTANCE, self._instance)):
            for name, body in catalog_entries(self._reader(), kind).items():
                if name in self._builtin:
                    logger.warning("stored {} {} is skipped: it would shadow a built-in tool", kind, name)
                    continue
                try:
                    self.registry.register(build(_strip(body)))
                    loaded.append(name)
                except AgentstageError as exc:
                    logger.warning("stored {} {} is not usable: {}", kind, name, exc)
        specs, rejects = load_spec_dir(spec_dir) if spec_dir else ([], [])
        for file, reason in rejects:
            logger.warning("custom tool file {} skipped: {}", file, reason)
        for raw in specs:
            try:
                spec = HttpToolSpec.from_dict(raw, check_ref=self.resolver.check)
                self._check_name(spec.name, CUSTOM, replacing=True)
                if persist:
                    self._save(CUSTOM, spec.name, spec.to_dict(), None)
                self.registry.register(self._custom(spec.to_dict()))
                loaded.append(spec.name)
            except AgentstageError as exc:
                logger.warning("custom tool spec {} skipped: {}", raw.get("name", "?"), exc)
        return loaded

    # -- reads ---------------------------------------------------------------------------------------
    def tool_registry(self) -> list[dict[str, Any]]:
        kinds = {**dict.fromkeys(self._stored(CUSTOM), "custom"), **dict.fromkeys(self._stored(INSTANCE), "instance")}
        return [{**self.registry.get(n).catalog_entry(), "kind": kinds.get(n, "builtin")} for n in self.registry.names()]

    def bundles(self) -> list[dict[str, Any]]:
        described = {b.name: b.description for b in BUNDLES}
        return [{"name": name, "description": described.get(name, "Every built-in tool"), "tools": list(tools)}
                for name, tools in sorted(self.registry.bundles.items())]

    def providers(self) -> list[dict[str, Any]]:
        return [p.to_dict() for p in sorted(PROVIDERS.values(), key=lambda p: p.name)]

    def templates(self) -> list[dict[str, Any]]:
        """Each provider as a tool template: its tool schema and the config/credential fields it needs."""
        out = []
        for provider in sorted(PROVIDERS.values(), key=lambda p: p.name):
            sample = connector_tool(ToolInstance("template", provider.name), self.resolver)
            out.append({**provider.to_dict(), "parameters": sample.parameters})
        return out

    def instances(self) -> list[dict[str, Any]]:
        return list(self._stored(INSTANCE).values())

    def custom_tools(self) -> list[dict[str, Any]]:
        return list(self._stored(CUSTOM).values())

    def credentials(self) -> list[dict[str, Any]]:
        """Every credential reference in use, with whether it resolves now; never the value."""
        refs = [(i["name"], i["template"], field, ref) for i in self.instances()
                for field, ref in sorted(i["credentials"].items())]
        refs += [(c["name"], "custom_http", f"header:{h}", ref) for c in self.custom_tools()
                 for h, ref in sorted(c["secretHeaders"].items())]
        return [{"tool": tool, "provider": provider, "field": field, "secret_ref": ref,
                 "resolvable": self.resolver.resolvable(ref)} for tool, provider, field, ref in refs]

    def binding(self, workflow: str) -> WorkflowBinding:
        body = self._stored(BINDING).get(workflow)
        return WorkflowBinding(workflow, tuple(body["tools"]) if body else ())

    def bindings(self) -> list[dict[str, Any]]:
        return list(self._stored(BINDING).values())

    def selection_for(self, workflow: str, base: str | Iterable[str]) -> list[str]:
        """Tool names an agent of `workflow` gets: `base` merged with the workflow's binding, expanded.

        The System applies this to the agents serving the workflow's agent nodes (see `bound.py`), so
        a bound tool is offered there and a tool neither selected nor bound cannot be called.

        Raises NotFound when an entry names an unknown tool or bundle.
        """
        return self.registry.expand(merge_selection(base, self.binding(workflow)))

    # -- mutations -----------------------------------------------------------------------------------
    def create_instance(self, body: Any, audit: AuditEntry | None = None) -> dict[str, Any]:
        instance = ToolInstance.from_dict(body, self.resolver.check)
        self._check_name(instance.name, INSTANCE)
        return self._put(INSTANCE, instance.name, instance.to_dict(), audit, self._instance)

    def update_instance(self, name: str, body: Any, audit: AuditEntry | None = None) -> dict[str, Any]:
        self._existing(INSTANCE, name)
        instance = ToolInstance.from_dict({**(body if isinstance(body, dict) else {}), "name": name},
                                          self.resolver.check)
        return self._put(INSTANCE, name, instance.to_dict(), audit, self._instance)

    def delete_instance(self, name: str, audit: AuditEntry | None = None) -> None:
        self._delete(INSTANCE, name, audit)

    def create_custom_tool(self, body: Any, audit: AuditEntry | None = None) -> dict[str, Any]:
        spec = HttpToolSpec.from_dict(body, check_ref=self.resolver.check)
        self._check_name(spec.name, CUSTOM)
        return self._put(CUSTOM, spec.name, spec.to_dict(), audit, self._custom)

    def update_custom_tool(self, name: str, body: Any, audit: AuditEntry | None = None) -> dict[str, Any]:
        self._existing(CUSTOM, name)
        spec = HttpToolSpec.from_dict({**(body if isinstance(body, dict) else {}), "name": name},
                                      check_ref=self.resolver.check)
        return self._put(CUSTOM, name, spec.to_dict(), audit, self._custom)

    def delete_custom_tool(self, name: str, audit: AuditEntry | None = None) -> None:
        self._delete(CUSTOM, name, audit)

    def bind(self, workflow: str, tool: str, audit: AuditEntry | None = None) -> dict[str, Any]:
        """Bind a tool name or `@bundle` to a workflow; raises DefinitionError when it names nothing known."""
        if not NAME_RULE.match(workflow):
            raise DefinitionError("workflow", "a letter then 2-63 letters, digits, '_' or '-'")
        try:
            self.registry.expand([tool])
        except NotFound as exc:
            raise DefinitionError("tool", f"unknown {exc.kind} {exc.key!r}") from None
        current = self.binding(workflow)
        binding = WorkflowBinding(workflow, current.tools + ((tool,) if tool not in current.tools else ()))
        self._save(BINDING, workflow, binding.to_dict(), audit)
        self._binding_changed(workflow)
        return binding.to_dict()

    def unbind(self, workflow: str, tool: str, audit: AuditEntry | None = None) -> None:
        current = self.binding(workflow)
        if tool not in current.tools:
            raise NotFound("workflow tool binding", f"{workflow}/{tool}")
        rest = tuple(t for t in current.tools if t != tool)
        self._save(BINDING, workflow, WorkflowBinding(workflow, rest).to_dict() if rest else None, audit)
        self._binding_changed(workflow)

    # -- helpers -------------------------------------------------------------------------------------
    def _binding_changed(self, workflow: str) -> None:
        if self.on_binding is not None:
            self.on_binding(workflow)

    def _custom(self, body: dict[str, Any]) -> Any:
        return http_tool(HttpToolSpec.from_dict(body), self.context, self.resolver.resolve)

    def _instance(self, body: dict[str, Any]) -> Any:
        return connector_tool(ToolInstance.from_dict(body, self.resolver.check), self.resolver)

    def _stored(self, kind: str) -> dict[str, dict[str, Any]]:
        return catalog_entries(self._reader(), kind)

    def _existing(self, kind: str, name: str) -> None:
        if name not in self._stored(kind):
            raise NotFound(kind.replace("_", " "), name)

    def _check_name(self, name: str, kind: str, replacing: bool = False) -> None:
        if name in self._builtin:
            raise Conflict("built-in tool", name)
        other = INSTANCE if kind == CUSTOM else CUSTOM
        if name in self._stored(other) or (not replacing and name in self._stored(kind)):
            raise Conflict(kind.replace("_", " "), name)

    def _save(self, kind: str, name: str, body: dict[str, Any] | None, audit: AuditEntry | None) -> None:
        self._write([CatalogEntry(kind, name, body, utc_now()), *([audit] if audit else [])])

    def _put(self, kind: str, name: str, body: dict[str, Any], audit: AuditEntry | None,
             build: Callable[[dict[str, Any]], Any]) -> dict[str, Any]:
        tool = build(body)
        self._save(kind, name, body, audit)
        self.registry.register(tool)
        return self._stored(kind)[name]

    def _delete(self, kind: str, name: str, audit: AuditEntry | None) -> None:
        self._existing(kind, name)
        self._save(kind, name, None, audit)
        self.registry.unregister(name)


def _strip(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k not in ("created_at", "updated_at")}
