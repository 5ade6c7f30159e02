"""The DevUI page: the static files under `api/static/`, served at `/ui/` (and `/` leads there).

Static files are public (the page holds no data); everything it shows comes from the
authenticated API, called with the key the user signs in with.
"""

from __future__ import annotations

import re
from pathlib import Path

import falcon
import falcon.asgi

__all__ = ["STATIC_DIR", "UI_PREFIX", "mount_ui"]

STATIC_DIR = Path(__file__).resolve().parent / "static"
UI_PREFIX = "/ui"
_ROOT = re.compile(r"^/$")


async def _to_ui(req: falcon.Request, resp: falcon.Response, **params: object) -> None:
    raise falcon.HTTPFound(f"{UI_PREFIX}/")


def mount_ui(app: falcon.asgi.App) -> None:
    """Serve the page at `/ui/` (unknown paths under it get `index.html`) and redirect `/` to it."""
    app.add_static_route(UI_PREFIX, str(STATIC_DIR), fallback_filename="index.html")
    app.add_sink(_to_ui, _ROOT)
