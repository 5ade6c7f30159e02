"""The HTML page reader of the `web_scrape` tool: text, links, images, headings and meta tags.

A module of its own so that html.parser loads when a page is scraped, not at every start.
"""

from __future__ import annotations

from html.parser import HTMLParser

__all__ = ["Page"]


class Page(HTMLParser):
    """Collects what `web_scrape` reports from one document fed to it."""

    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.links: list[str] = []
        self.images: list[str] = []
        self.headings: list[str] = []
        self.meta: dict[str, str] = {}
        self._stack: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        self._stack.append(tag)
        if tag == "a" and values.get("href"):
            self.links.append(values["href"])
        elif tag == "img" and values.get("src"):
            self.images.append(values["src"])
        elif tag == "meta" and (values.get("name") or values.get("property")):
            self.meta[values.get("name") or values["property"]] = values.get("content", "")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._stack:
            del self._stack[len(self._stack) - 1 - self._stack[::-1].index(tag):]

    def handle_data(self, data: str) -> None:
        if self._stack and self._stack[-1] in ("script", "style"):
            return
        if data.strip():
            self.text.append(data.strip())
            if self._stack and self._stack[-1] in ("h1", "h2", "h3", "h4", "h5", "h6"):
                self.headings.append(data.strip())
