"""Document tools: document_generator, pdf_generator, document_preview (google_docs_manager is unavailable)."""

from __future__ import annotations

import html
import re
from typing import Any

from agentstage.runtime.errors import ToolError
from agentstage.runtime.tools._kit import obj, unavailable_tool
from agentstage.runtime.tools.context import ToolContext
from agentstage.runtime.tools.limits import MAX_TEXT, bounded
from agentstage.runtime.tools.paths import read_text, sandbox_path
from agentstage.runtime.tools.registry import Tool

__all__ = ["docs_tools", "render_document", "simple_pdf"]

_DEFAULT_SECTIONS = {
    "plan": ["Goal", "Scope", "Steps", "Risks", "Timeline"],
    "report": ["Summary", "Findings", "Recommendations"],
    "rfc": ["Summary", "Motivation", "Design", "Alternatives", "Open questions"],
    "runbook": ["Purpose", "Prerequisites", "Procedure", "Verification", "Rollback"],
    "notes": ["Notes"],
    "generic": [],
}


def render_document(title: str, kind: str, sections: list[dict[str, str]], fmt: str) -> str:
    """A document as markdown, plain text or HTML; missing standard sections of `kind` are added empty."""
    given = {s.get("heading", ""): s.get("content", "") for s in sections}
    ordered = [(h, given.pop(h, "")) for h in _DEFAULT_SECTIONS[kind]] + list(given.items())
    if fmt == "html":
        body = "".join(f"<h2>{html.escape(h)}</h2>\n<p>{html.escape(c)}</p>\n" for h, c in ordered)
        return f"<!DOCTYPE html>\n<html><head><title>{html.escape(title)}</title></head><body>\n" \
               f"<h1>{html.escape(title)}</h1>\n{body}</body></html>\n"
    if fmt == "text":
        return f"{title}\n{'=' * len(title)}\n\n" + "".join(f"{h}\n{'-' * len(h)}\n{c}\n\n" for h, c in ordered)
    return f"# {title}\n\n" + "".join(f"## {h}\n\n{c}\n\n" for h, c in ordered)


def simple_pdf(text: str) -> bytes:
    """A minimal one-font PDF (Helvetica, 60 lines a page) of plain text."""
    lines = [line.encode("latin-1", "replace").decode("latin-1") for line in text.splitlines()] or [""]
    pages = [lines[i:i + 60] for i in range(0, len(lines), 60)]
    objects = ["<< /Type /Catalog /Pages 2 0 R >>", "", "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    kids = []
    for page in pages:
        escaped = [line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") for line in page]
        stream = "BT /F1 11 Tf 50 790 Td 13 TL " + " ".join(f"({line}) '" for line in escaped) + " ET"
        objects.append(f"<< /Length {len(stream)} >>\nstream\n{stream}\nendstream")
        objects.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents {len(objects)} 0 R "
                       f"/Resources << /Font << /F1 3 0 R >> >> >>")
        kids.append(f"{len(objects)} 0 R")
    objects[1] = f"<< /Type /Pages /Kids [{' '.join(kids)}] /Count {len(kids)} >>"
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out.extend(f"{number} 0 obj\n{body}\nendobj\n".encode("latin-1"))
    xref = len(out)
    out.extend(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    out.extend("".join(f"{o:010d} 00000 n \n" for o in offsets).encode())
    out.extend(f"trailer << /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode())
    return bytes(out)


def _safe_name(title: str, suffix: str) -> str:
    return (re.sub(r"[^A-Za-z0-9]+", "-", title).strip("-").lower() or "document")[:60] + suffix


def _generator(context: ToolContext) -> Any:
    def generate(title: str, type: str = "generic", sections: list[dict[str, str]] | None = None,
                 format: str = "markdown", save: bool = False) -> dict[str, Any]:
        bounded("document_generator", "title", title, 1000)
        for section in sections or []:
            bounded("document_generator", "section content", section.get("content", ""), MAX_TEXT // 10)
        content = render_document(title, type, sections or [], format)
        result: dict[str, Any] = {"title": title, "format": format, "content": content}
        if save:
            context.storage_dir.mkdir(parents=True, exist_ok=True)
            path = context.storage_dir / _safe_name(title, {"markdown": ".md", "text": ".txt", "html": ".html"}[format])
            path.write_text(content)
            result["path"] = str(path.relative_to(context.sandbox))
        return result
    return generate


def _pdf(context: ToolContext) -> Any:
    def generate(output: str, text: str = "", source: str = "") -> dict[str, Any]:
        if not text and not source:
            raise ToolError("pdf_generator", "give text or a source file")
        if source:
            text = read_text("pdf_generator", sandbox_path(context, "pdf_generator", source, must_exist=True))
        bounded("pdf_generator", "text", text)
        target = sandbox_path(context, "pdf_generator", output)
        if target.suffix.lower() != ".pdf":
            raise ToolError("pdf_generator", "output must end in .pdf")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(simple_pdf(text))
        return {"path": str(target.relative_to(context.sandbox)), "bytes": target.stat().st_size}
    return generate


def _preview(context: ToolContext) -> Any:
    def preview(mode: str, path: str = "", content: str = "", max_chars: int = 2000) -> dict[str, Any]:
        if mode == "from_path":
            file = sandbox_path(context, "document_preview", path, must_exist=True)
            content, name = read_text("document_preview", file), str(file.relative_to(context.sandbox))
        else:
            name = "inline"
        bounded("document_preview", "content", content)
        clipped = content[:max_chars]
        return {"name": name, "characters": len(content), "lines": len(content.splitlines()),
                "preview": clipped + ("…" if len(content) > max_chars else "")}
    return preview


def docs_tools(context: ToolContext) -> list[Tool]:
    """Fresh instances of the document tools bound to `context`."""
    s = {"type": "string"}
    section = obj({"heading": s, "content": s}, ("heading",))
    return [
        Tool("document_generator", "Build a plan, report, rfc, runbook, notes or generic document as markdown, "
             "text or html from a title and sections; optionally save it under the sandbox's generated/ folder.",
             obj({"title": {"type": "string", "minLength": 1}, "type": {"type": "string", "enum": list(_DEFAULT_SECTIONS)},
                  "sections": {"type": "array", "items": section, "maxItems": 100},
                  "format": {"type": "string", "enum": ["markdown", "text", "html"]}, "save": {"type": "boolean"}},
                 ("title",)), _generator(context)),
        Tool("pdf_generator", "Write a simple PDF from text or a sandbox file to an output path in the sandbox.",
             obj({"output": s, "text": s, "source": s}, ("output",)), _pdf(context), side_effects=True),
        Tool("document_preview", "A chat-ready preview of a sandbox file (from_path) or of given content "
             "(from_content).", obj({"mode": {"type": "string", "enum": ["from_path", "from_content"]}, "path": s,
                                     "content": s, "max_chars": {"type": "integer", "minimum": 1, "maximum": 100000}},
                                    ("mode",)), _preview(context)),
        unavailable_tool("google_docs_manager", "Google Docs and Drive: create_doc, get_doc, append_text, "
                         "batch_update, list_docs, export_pdf_link.",
                         obj({"operation": {"type": "string", "enum": ["create_doc", "get_doc", "append_text",
                                                                      "batch_update", "list_docs", "export_pdf_link"]},
                              "document_id": s, "title": s, "text": s, "requests": {"type": "array"}},
                             ("operation",)), "it needs the Google Docs API and an OAuth token"),
    ]
