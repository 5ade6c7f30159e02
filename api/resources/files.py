"""Files of the tool sandbox at the reference DevUI's paths: `files/view` (inline when the browser can show it
safely) and `files/download` (always an attachment).

Unlike the reference, which served any file of the server to any viewer, only regular files inside the
tool sandbox (AGENTSTAGE_TOOL_SANDBOX, the directory the file tools work in) are served, to operators,
up to 50 MB. HTML, SVG and XML are never rendered on the API's origin: viewed, they are sent as plain
text; other types a browser could run or mis-handle are sent as attachments.
"""

from __future__ import annotations

import mimetypes
import re
from urllib.parse import quote

import falcon.asgi

from agentstage.api.errors import FieldError
from agentstage.api.resources.base import Op, Resource, load_query
from agentstage.api.schemas.files import FileQuery
from agentstage.runtime.tools.serving import FileRefused, SandboxFile, read_sandbox_file

__all__ = ["FileDownloadResource", "FileViewResource"]

_STATUS = {"invalid": 422, "outside": 403, "missing": 404, "not_file": 422, "too_large": 413}
_INLINE = frozenset({"application/json", "application/pdf", "image/png", "image/jpeg", "image/gif", "image/webp",
                     "image/bmp", "text/plain", "text/markdown", "text/csv", "text/x-python", "text/css",
                     "text/javascript", "text/x-log", "text/tab-separated-values"})
_AS_TEXT = frozenset({"text/html", "application/xhtml+xml", "image/svg+xml", "text/xml", "application/xml",
                      "text/xsl"})
_BINARY = {"type": "string", "format": "binary"}


def _media_type(name: str) -> str:
    guessed, encoding = mimetypes.guess_type(name, strict=False)
    return "application/octet-stream" if guessed is None or encoding is not None else guessed


def _disposition(kind: str, name: str) -> str:
    """`inline`/`attachment` with an ASCII-safe filename and the exact one as RFC 5987 `filename*`."""
    plain = re.sub(r"[^A-Za-z0-9._-]", "_", name) or "file"
    return f"{kind}; filename=\"{plain}\"; filename*=UTF-8''{quote(name, safe='')}"


class _FileResource(Resource):
    INLINE = False

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        path = load_query(req, FileQuery)["path"]
        root = self.backend.system.tool_context.sandbox
        try:
            found: SandboxFile = await self.backend.call(read_sandbox_file, root, path)
        except FileRefused as exc:
            raise FieldError(_STATUS[exc.kind], title="File not served", description=exc.reason,
                             errors={"path": [exc.reason]}) from None
        media_type = _media_type(found.name)
        disposition = "attachment"
        if self.INLINE and media_type in _AS_TEXT:
            media_type, disposition = "text/plain", "inline"
        elif self.INLINE and media_type in _INLINE:
            disposition = "inline"
        if media_type.startswith("text/"):
            media_type += "; charset=utf-8"
        resp.content_type = media_type
        resp.set_header("Content-Disposition", _disposition(disposition, found.name))
        resp.set_header("Cache-Control", "no-store")
        resp.data = found.data


class FileViewResource(_FileResource):
    OPS = {"GET": Op("A file of the tool sandbox, shown in the browser when that is safe", "files",
                     query=FileQuery, errors=(403, 404, 413, 422), media_type="application/octet-stream",
                     extra={"schema": _BINARY},
                     description="HTML, SVG and XML come back as text/plain; types a browser cannot show safely "
                                 "come back as attachments. Only regular files inside the tool sandbox, 50 MB at "
                                 "most, files with other hard links refused.")}
    INLINE = True


class FileDownloadResource(_FileResource):
    OPS = {"GET": Op("A file of the tool sandbox, as an attachment", "files", query=FileQuery,
                     errors=(403, 404, 413, 422), media_type="application/octet-stream",
                     extra={"schema": _BINARY},
                     description="Only regular files inside the tool sandbox, 50 MB at most.")}
