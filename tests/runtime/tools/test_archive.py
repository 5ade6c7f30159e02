"""archive: round trips, and crafted archives (escapes, links, devices, bombs) refused member by member."""

import io
import tarfile
import zipfile

import pytest

from agentstage.runtime.errors import ToolError
from agentstage.runtime.tools import archive as archive_module


def fs(tools, operation, **arguments):
    return tools.get("file_system")({"operation": operation, **arguments})


def extract(tools, name, destination="d"):
    return tools.get("archive")({"operation": "extract", "archive": name, "destination": destination})


def tar_bytes(*members: tuple[tarfile.TarInfo, bytes | None]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.USTAR_FORMAT) as out:
        for info, data in members:
            if data is not None:
                info.size = len(data)
            out.addfile(info, io.BytesIO(data) if data is not None else None)
    return buffer.getvalue()


def member(name: str, kind: bytes = tarfile.REGTYPE, link: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, link
    return info


@pytest.mark.parametrize("name", ["out.tar.gz", "out.zip", "out.tar.xz"])
def test_archive_create_list_extract(tools, name) -> None:
    fs(tools, "write", path="src/a.txt", content="alpha")
    fs(tools, "write", path="src/sub/b.txt", content="beta")
    archive = tools.get("archive")
    archive({"operation": "create", "archive": name, "sources": ["src"]})
    assert "src/sub/b.txt" in archive({"operation": "list", "archive": name})["files"]
    extract(tools, name, "restored")
    assert fs(tools, "read", path="restored/src/sub/b.txt")["content"] == "beta"


def test_tar_written_through_file_system_cannot_write_outside(tools, context, tmp_path) -> None:
    crafted = tar_bytes((member("link", tarfile.SYMTYPE, str(tmp_path)), None), (member("link/pwned"), b"owned"))
    fs(tools, "write", path="evil.tar", content=crafted.decode("ascii"))
    with pytest.raises(ToolError, match="links outside the destination"):
        extract(tools, "evil.tar")
    assert not (tmp_path / "pwned").exists()


@pytest.mark.parametrize("members, reason", [
    ([(member("../../evil.txt"), b"x")], "escape"),
    ([(member("/tmp/evil.txt"), b"x")], "escape"),
    ([(member("up", tarfile.SYMTYPE, "../../.."), None), (member("up/evil.txt"), b"x")], "links outside"),
    ([(member("a/b", tarfile.SYMTYPE, "../../x"), None)], "links outside"),
    ([(member("passwd", tarfile.LNKTYPE, "/etc/passwd"), None)], "escape"),
    ([(member("up", tarfile.LNKTYPE, "../outside.txt"), None)], "escape"),
    ([(member("x"), b"1"), (member("hl", tarfile.LNKTYPE, "missing"), None)], "not an extracted file"),
    ([(member("null", tarfile.CHRTYPE), None)], "device"),
    ([(member("fifo", tarfile.FIFOTYPE), None)], "device"),
])
def test_crafted_tar_members_are_refused(tools, context, tmp_path, members, reason) -> None:
    (tmp_path / "outside.txt").write_text("host file")
    context.sandbox.mkdir(parents=True, exist_ok=True)
    (context.sandbox / "evil.tar").write_bytes(tar_bytes(*members))
    with pytest.raises(ToolError, match=reason):
        extract(tools, "evil.tar", "deep/d")
    assert (tmp_path / "outside.txt").read_text() == "host file"
    assert not (tmp_path / "evil.txt").exists() and not (context.sandbox / "evil.txt").exists()


def test_a_link_already_in_the_destination_is_not_followed_out(tools, context, tmp_path) -> None:
    (context.sandbox / "d").mkdir(parents=True)
    (context.sandbox / "d" / "logs").symlink_to(tmp_path)
    (context.sandbox / "evil.tar").write_bytes(tar_bytes((member("logs/planted.txt"), b"x")))
    with pytest.raises(ToolError, match="escape"):
        extract(tools, "evil.tar")
    assert not (tmp_path / "planted.txt").exists()


def test_links_inside_the_destination_are_extracted(tools, context) -> None:
    (context.sandbox).mkdir(parents=True, exist_ok=True)
    (context.sandbox / "ok.tar").write_bytes(tar_bytes(
        (member("lib/real.txt"), b"data"), (member("lib/alias", tarfile.SYMTYPE, "real.txt"), None),
        (member("copy.txt", tarfile.LNKTYPE, "lib/real.txt"), None)))
    extract(tools, "ok.tar")
    assert fs(tools, "read", path="d/lib/alias")["content"] == "data"
    assert fs(tools, "read", path="d/copy.txt")["content"] == "data"


@pytest.mark.parametrize("name", ["../evil.txt", "/abs/evil.txt", "C:/evil.txt", "..\\evil.txt"])
def test_crafted_zip_names_are_refused(tools, context, name) -> None:
    context.sandbox.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(context.sandbox / "evil.zip", "w") as out:
        out.writestr(name, "x")
    with pytest.raises(ToolError, match="escape"):
        extract(tools, "evil.zip")


def test_zip_symlink_entries_are_checked_like_tar_links(tools, context, tmp_path) -> None:
    context.sandbox.mkdir(parents=True, exist_ok=True)
    info = zipfile.ZipInfo("link")
    info.external_attr = (0o120777 << 16)
    with zipfile.ZipFile(context.sandbox / "evil.zip", "w") as out:
        out.writestr(info, str(tmp_path))
        out.writestr("link/pwned", "x")
    with pytest.raises(ToolError, match="links outside"):
        extract(tools, "evil.zip")
    assert not (tmp_path / "pwned").exists()


def test_zip_bomb_is_stopped_by_the_expanded_size_bound(tools, context, monkeypatch) -> None:
    monkeypatch.setattr(archive_module, "MAX_TOTAL", 1024 * 1024)
    context.sandbox.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(context.sandbox / "bomb.zip", "w", zipfile.ZIP_DEFLATED) as out:
        for index in range(3):
            out.writestr(f"zeros{index}", b"\0" * (512 * 1024))
    assert (context.sandbox / "bomb.zip").stat().st_size < 10_000
    with pytest.raises(ToolError, match="expands past"):
        extract(tools, "bomb.zip")


def test_tar_member_declaring_a_huge_size_is_refused_before_reading(tools, context) -> None:
    context.sandbox.mkdir(parents=True, exist_ok=True)
    huge = member("huge.bin")
    huge.size = 2**40
    buffer = io.BytesIO()
    buffer.write(huge.tobuf(tarfile.GNU_FORMAT))
    (context.sandbox / "huge.tar").write_bytes(buffer.getvalue() + b"\0" * 1024)
    with pytest.raises(ToolError, match="expands past"):
        extract(tools, "huge.tar")


@pytest.mark.parametrize("kind", ["tar", "zip"])
def test_archives_with_too_many_members_are_refused(tools, context, monkeypatch, kind) -> None:
    monkeypatch.setattr(archive_module, "MAX_MEMBERS", 5)
    context.sandbox.mkdir(parents=True, exist_ok=True)
    if kind == "zip":
        with zipfile.ZipFile(context.sandbox / "many.zip", "w") as out:
            for index in range(6):
                out.writestr(f"f{index}", "x")
    else:
        (context.sandbox / "many.tar").write_bytes(tar_bytes(*[(member(f"f{i}"), b"x") for i in range(6)]))
    for operation in ("list", "extract"):
        with pytest.raises(ToolError, match="more than 5 members"):
            tools.get("archive")({"operation": operation, "archive": f"many.{kind}", "destination": "d"})


@pytest.mark.parametrize("name", ["out.zip", "out.tar"])
def test_create_refuses_sources_with_links_out_of_the_sandbox(tools, context, tmp_path, name) -> None:
    (tmp_path / "secret.txt").write_text("s3cret")
    fs(tools, "write", path="src/a.txt", content="a")
    (context.sandbox / "src" / "leak").symlink_to(tmp_path / "secret.txt")
    (context.sandbox / "src" / "leakdir").symlink_to(tmp_path)
    with pytest.raises(ToolError, match="leading outside"):
        tools.get("archive")({"operation": "create", "archive": name, "sources": ["src"]})
