"""Sandbox files at the reference DevUI's paths, attacked the way a caller would: traversal (plain, encoded,
absolute), links out of the sandbox, hard links, FIFOs and devices, oversized files, hostile names, HTML that
would run on the API's origin. Only operators are served, and only regular files inside the sandbox."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

VIEW = "/api/v1/files/view"
DOWNLOAD = "/api/v1/files/download"


@pytest.fixture
def sandbox(api_system) -> Path:
    root = api_system.tool_context.sandbox
    root.mkdir(parents=True, exist_ok=True)
    (root / "reports").mkdir(exist_ok=True)
    (root / "reports" / "summary.txt").write_text("all green\n")
    return root


def get(client, keys, route: str, path: str, role: str = "operator"):
    return client.simulate_get(route, params={"path": path}, headers=keys.headers(role))


def refused(answer, status: int) -> None:
    assert answer.status_code == status, answer.text
    assert "path" in answer.json["errors"] and answer.headers["content-type"].startswith("application/json")


def test_an_operator_views_and_downloads_a_sandbox_file(client, keys, sandbox) -> None:
    viewed = get(client, keys, VIEW, "reports/summary.txt")
    assert viewed.status_code == 200 and viewed.content == b"all green\n"
    assert viewed.headers["content-type"] == "text/plain; charset=utf-8"
    assert viewed.headers["content-disposition"].startswith('inline; filename="summary.txt"')
    assert viewed.headers["x-content-type-options"] == "nosniff"
    downloaded = get(client, keys, DOWNLOAD, str(sandbox / "reports" / "summary.txt"))
    assert downloaded.status_code == 200 and downloaded.content == b"all green\n"
    assert downloaded.headers["content-disposition"].startswith('attachment; filename="summary.txt"')


def test_viewers_and_callers_without_a_key_are_not_served(client, keys, sandbox) -> None:
    assert get(client, keys, VIEW, "reports/summary.txt", "viewer").status_code == 403
    assert get(client, keys, DOWNLOAD, "reports/summary.txt", "viewer").status_code == 403
    assert client.simulate_get(VIEW, params={"path": "reports/summary.txt"}).status_code == 401


@pytest.mark.parametrize("path", ["../agentstage.db", "../../../../../../etc/passwd", "/etc/passwd",
                                  "reports/../../agentstage.db", "/proc/self/environ", "~/.ssh/id_rsa"])
def test_traversal_and_absolute_paths_outside_the_sandbox_are_refused(client, keys, sandbox, path) -> None:
    for route in (VIEW, DOWNLOAD):
        answer = get(client, keys, route, path)
        assert answer.status_code in (403, 404), answer.text
        assert "root:" not in answer.text and "SQLite" not in answer.text


def test_percent_encoded_traversal_is_refused(client, keys, sandbox) -> None:
    answer = client.simulate_get(VIEW, query_string="path=..%2f..%2f..%2f..%2f..%2fetc%2fpasswd",
                                 headers=keys.headers("operator"))
    refused(answer, 403)
    double = client.simulate_get(VIEW, query_string="path=..%252f..%252fetc%252fpasswd",
                                 headers=keys.headers("operator"))
    refused(double, 404)


def test_a_nul_byte_or_an_empty_path_is_a_422(client, keys, sandbox) -> None:
    refused(client.simulate_get(VIEW, query_string="path=reports%2fsummary.txt%00.png",
                                headers=keys.headers("operator")), 422)
    refused(client.simulate_get(VIEW, query_string="path=", headers=keys.headers("operator")), 422)
    assert "path" in client.simulate_get(VIEW, headers=keys.headers("operator")).json["errors"]


def test_symlinks_leading_out_of_the_sandbox_are_refused(client, keys, sandbox, tmp_path) -> None:
    secret = tmp_path / "outside-secret.txt"
    secret.write_text("TOP-SECRET")
    (sandbox / "passwd").symlink_to("/etc/passwd")
    (sandbox / "secret.txt").symlink_to(secret)
    (sandbox / "outdir").symlink_to(tmp_path)
    for path in ("passwd", "secret.txt", "outdir/outside-secret.txt"):
        answer = get(client, keys, VIEW, path)
        refused(answer, 403)
        assert "TOP-SECRET" not in answer.text and "root:" not in answer.text
    (sandbox / "alias.txt").symlink_to(sandbox / "reports" / "summary.txt")
    inside = get(client, keys, VIEW, "alias.txt")
    assert inside.status_code == 200 and inside.content == b"all green\n"


def test_a_hard_link_to_a_file_outside_is_refused(client, keys, sandbox, tmp_path) -> None:
    secret = tmp_path / "hardlinked.txt"
    secret.write_text("TOP-SECRET")
    try:
        os.link(secret, sandbox / "hardlinked.txt")
    except OSError as exc:
        pytest.skip(f"no hard link across these directories: {exc}")
    answer = get(client, keys, VIEW, "hardlinked.txt")
    refused(answer, 403)
    assert "TOP-SECRET" not in answer.text


def test_fifos_devices_and_directories_are_refused_without_blocking(client, keys, sandbox) -> None:
    os.mkfifo(sandbox / "pipe")
    refused(get(client, keys, VIEW, "pipe"), 422)
    refused(get(client, keys, DOWNLOAD, "reports"), 422)
    refused(get(client, keys, VIEW, "."), 422)
    (sandbox / "zero").symlink_to("/dev/zero")
    refused(get(client, keys, VIEW, "zero"), 403)
    try:
        os.mknod(sandbox / "null", 0o600 | 0o020000, os.makedev(1, 3))
    except (PermissionError, OSError):
        return
    refused(get(client, keys, VIEW, "null"), 422)


def test_missing_files_are_404_and_files_over_50_mb_are_413(client, keys, sandbox) -> None:
    refused(get(client, keys, VIEW, "reports/nope.txt"), 404)
    refused(get(client, keys, VIEW, "reports/summary.txt/inner"), 404)
    with open(sandbox / "big.bin", "wb") as handle:
        handle.truncate(50 * 1024 * 1024 + 1)
    refused(get(client, keys, DOWNLOAD, "big.bin"), 413)


@pytest.mark.parametrize(("name", "content"), [("page.html", b"<script>alert(1)</script>"),
                                               ("logo.svg", b"<svg onload='alert(1)'/>"),
                                               ("feed.xml", b"<x/>")])
def test_html_svg_and_xml_are_never_rendered_on_the_api_origin(client, keys, sandbox, name, content) -> None:
    (sandbox / name).write_bytes(content)
    viewed = get(client, keys, VIEW, name)
    assert viewed.status_code == 200 and viewed.content == content
    assert viewed.headers["content-type"] == "text/plain; charset=utf-8"
    assert "default-src 'none'" in viewed.headers["content-security-policy"]
    downloaded = get(client, keys, DOWNLOAD, name)
    assert downloaded.headers["content-disposition"].startswith("attachment;")


def test_binary_types_are_attachments_and_hostile_names_are_made_safe(client, keys, sandbox) -> None:
    (sandbox / "bundle.zip").write_bytes(b"PK\x03\x04")
    assert get(client, keys, VIEW, "bundle.zip").headers["content-disposition"].startswith("attachment;")
    (sandbox / "pic.png").write_bytes(b"\x89PNG\r\n")
    picture = get(client, keys, VIEW, "pic.png")
    assert picture.headers["content-type"] == "image/png"
    assert picture.headers["content-disposition"].startswith("inline;")
    hostile = 'we"ird; Set-Cookie=x;é.txt'
    (sandbox / hostile).write_text("ok")
    answer = get(client, keys, DOWNLOAD, hostile)
    assert answer.status_code == 200 and "set-cookie" not in answer.headers
    assert answer.headers["content-disposition"] == (
        "attachment; filename=\"we_ird__Set-Cookie_x__.txt\"; filename*=UTF-8''we%22ird%3B%20Set-Cookie%3Dx%3B%C3%A9.txt")
    (sandbox / "split\r\nSet-Cookie: x=1.txt").write_text("ok")
    refused(get(client, keys, DOWNLOAD, "split\r\nSet-Cookie: x=1.txt"), 422)
