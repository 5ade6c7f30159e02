"""document_generator, pdf_generator, document_preview."""

import pytest

from agentstage.runtime.errors import ToolError


def test_document_generator_formats_and_save(tools, context) -> None:
    doc = tools.get("document_generator")
    md = doc({"title": "Deploy", "type": "runbook", "sections": [{"heading": "Procedure", "content": "step 1"}]})
    assert md["content"].startswith("# Deploy\n\n## Purpose\n\n\n\n## Prerequisites")
    assert "## Procedure\n\nstep 1" in md["content"]
    html = doc({"title": "<x>", "format": "html"})["content"]
    assert "<h1>&lt;x&gt;</h1>" in html
    saved = doc({"title": "Weekly Report", "type": "report", "save": True})
    assert saved["path"] == "generated/weekly-report.md"
    assert (context.sandbox / saved["path"]).read_text() == saved["content"]


def test_pdf_generator_writes_a_pdf(tools, context) -> None:
    result = tools.get("pdf_generator")({"output": "out/r.pdf", "text": "Hello (PDF)\n" * 70})
    data = (context.sandbox / "out/r.pdf").read_bytes()
    assert data.startswith(b"%PDF-1.4") and data.rstrip().endswith(b"%%EOF") and b"/Count 2" in data
    assert result["bytes"] == len(data)
    with pytest.raises(ToolError, match=".pdf"):
        tools.get("pdf_generator")({"output": "x.txt", "text": "a"})


def test_document_preview(tools) -> None:
    preview = tools.get("document_preview")({"mode": "from_content", "content": "abcdef", "max_chars": 3})
    assert (preview["preview"], preview["characters"]) == ("abc…", 6)
    with pytest.raises(ToolError, match="does not exist"):
        tools.get("document_preview")({"mode": "from_path", "path": "nope.md"})
