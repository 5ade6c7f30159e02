"""Serving the DevUI page: public static files at /ui/, / leads there, nothing loaded from elsewhere."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from falcon import testing

from agentstage.api.ui import STATIC_DIR

ROOT = Path(__file__).resolve().parents[2]
_REFERENCE = re.compile(r"""(?:src|href)="([^"]+)"|from\s+"([^"]+)"|import\s*\(\s*"([^"]+)\"""")


def test_root_redirects_to_the_page(client: testing.TestClient) -> None:
    result = client.simulate_get("/")
    assert result.status_code == 302 and result.headers["location"].endswith("/ui/")


def test_page_and_assets_are_public_with_their_media_types(client: testing.TestClient) -> None:
    for path, media in (("/ui/", "text/html"), ("/ui", "text/html"), ("/ui/app.css", "text/css"),
                        ("/ui/js/app.js", "text/javascript")):
        result = client.simulate_get(path)
        assert result.status_code == 200, path
        assert result.headers["content-type"].startswith(media), path


def test_unknown_page_paths_get_the_page_but_unknown_api_paths_stay_json_404(client: testing.TestClient) -> None:
    assert "<title>agentstage DevUI</title>" in client.simulate_get("/ui/runs/some-run").text
    result = client.simulate_get("/api/v1/no-such-route")
    assert result.status_code == 404 and result.json["title"]
    assert client.simulate_get("/ui/../pyproject.toml").status_code == 404


def test_the_api_still_needs_a_key(client: testing.TestClient) -> None:
    assert client.simulate_get("/api/v1/runs").status_code == 401


def test_every_reference_is_served_by_the_app_itself(client: testing.TestClient) -> None:
    files = [p for p in STATIC_DIR.rglob("*") if p.is_file()]
    assert {p.suffix for p in files} == {".html", ".css", ".js"}
    for file in files:
        text = file.read_text().replace('"http://www.w3.org/2000/svg"', "")  # a namespace name, not a download
        assert not re.search(r"(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}/", text, re.I), f"{file.name} loads from elsewhere"
        assert "innerHTML" not in text and "eval(" not in text, file.name
        for match in _REFERENCE.finditer(text):
            ref = next(g for g in match.groups() if g)
            if ref.startswith(("#", "data:")):
                continue
            url = ref if ref.startswith("/") else "/ui/" + str(
                (file.parent.relative_to(STATIC_DIR) / ref)).replace("./", "")
            result = client.simulate_get(url)
            assert result.status_code == 200 and "<!doctype html>" not in result.text[:20], f"{file.name}: {ref}"


def test_key_never_goes_into_a_url() -> None:
    api = (STATIC_DIR / "js" / "api.js").read_text()
    assert "sessionStorage" in api and "localStorage" not in api
    assert "Authorization" in api and "api_key" not in api and "EventSource" not in api


def test_static_files_ship_as_package_data() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    shipped = {p for package, patterns in config["package-data"].items() for pattern in patterns
               for p in (ROOT / config["package-dir"][package]).glob(pattern) if p.is_file()}
    assert shipped == {p for p in STATIC_DIR.rglob("*") if p.is_file()}
