"""The `search_documents` tool: the top passages of a document collection for a query."""

from __future__ import annotations

from typing import Any

from agentstage.runtime.errors import NotFound, ToolError
from agentstage.runtime.retrieval.context import Retrieval
from agentstage.runtime.tools.registry import Tool

__all__ = ["search_documents_tool"]

_PARAMETERS = {
    "type": "object",
    "properties": {
        "query": {"type": "string", "minLength": 1, "maxLength": 4000, "description": "what to look for"},
        "collection": {"type": "string", "minLength": 1, "description": "collection name (agentstage docs list)"},
        "k": {"type": "integer", "minimum": 1, "maximum": 20, "description": "passages to return (default 4)"},
    },
    "required": ["query", "collection"],
    "additionalProperties": False,
}


def search_documents_tool(retrieval: Retrieval) -> Tool:
    """The tool over `retrieval`'s store; an unknown collection is a ToolError the model can read."""

    def search(query: str, collection: str, k: int = 4) -> dict[str, Any]:
        try:
            hits = retrieval.search(collection, query, k)
        except NotFound:
            raise ToolError("search_documents", f"no document collection {collection!r}") from None
        except ValueError as exc:
            raise ToolError("search_documents", str(exc)) from None
        return {"collection": collection, "results": [
            {"text": h.text, "source": h.source, "position": h.position, "score": h.score} for h in hits]}

    return Tool("search_documents", "Search a document collection: the passages closest to the query, best first",
                _PARAMETERS, search)
