"""What the browser tests need: the app on a real local HTTP server, and headless Chromium.

Chromium is Debian's (`apt-get install chromium chromium-driver`), driven by Playwright's Python
package; Playwright never downloads a browser of its own here. Without Chromium the browser tests
skip on a developer's machine and fail in CI.
"""

from __future__ import annotations

import shutil
import socketserver
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest

from tests.redis_server import in_ci

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "ui"


class _ThreadingServer(socketserver.ThreadingMixIn, WSGIServer):
    """One thread per request, kept so `served` can wait for open event streams on the way out."""

    def process_request(self, request, client_address) -> None:
        thread = threading.Thread(target=self.process_request_thread, args=(request, client_address), daemon=True)
        self.request_threads = [t for t in getattr(self, "request_threads", []) if t.is_alive()] + [thread]
        thread.start()


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def served(app) -> Iterator[str]:
    """`app` on 127.0.0.1 (a free port, one thread per request: event streams stay open); yields its URL.

    Close the browser contexts first: their open event streams are waited for (10 s at most each).
    """
    server = make_server("127.0.0.1", 0, app, server_class=_ThreadingServer, handler_class=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        # NOTE: an event stream ends at its next heartbeat once the browser has gone; wait for that,
        # so no stream still uses the runtime when the test stops it.
        for worker in getattr(server, "request_threads", []):
            worker.join(10)
        server.server_close()
        thread.join(5)


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
