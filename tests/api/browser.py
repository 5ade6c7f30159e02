"""What the browser tests need: the app on a real local HTTP server (uvicorn), and headless Chromium.

Chromium is Debian's (`apt-get install chromium chromium-driver`), driven by Playwright's Python
package; Playwright never downloads a browser of its own here. Without Chromium the browser tests
skip on a developer's machine and fail in CI.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from agentstage.api.serve import listen, uvicorn_server
from tests.redis_server import in_ci

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "ui"


@contextmanager
def served(app, front=None) -> Iterator[str]:
    """`app` (from `create_app`; `front` when an ASGI callable wraps it) under uvicorn on 127.0.0.1 (a free
    port), in a thread; yields its URL.

    On the way out the server ends its live event streams and stops, as `agentstage ui-api` does.
    """
    sock = listen("127.0.0.1", 0)
    server = uvicorn_server(app, app.backend.config, front)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        while not server.started:
            assert thread.is_alive(), "the server did not start"
            time.sleep(0.01)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        app.backend.streams.end_all()
        server.should_exit = True
        thread.join(10)
        sock.close()


def require_chromium() -> None:
    """Skip (fail in CI) when Chromium or Playwright is missing."""
    missing = []
    if shutil.which(CHROMIUM) is None:
        missing.append(f"Chromium at {CHROMIUM} (apt-get install chromium chromium-driver)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("the playwright package (pip install -e '.[dev]')")
    if missing:
        message = "browser tests need " + " and ".join(missing)
        if in_ci():
            pytest.fail(message)
        pytest.skip(message)


@contextmanager
def chromium() -> Iterator[object]:
    """Headless Chromium (each Playwright launch has a fresh profile directory of its own)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


def shot(page, name: str) -> None:
    """Save a full-page screenshot under test-artifacts/ui/."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
