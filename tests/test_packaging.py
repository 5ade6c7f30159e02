"""Packaging: every package folder is installed under `agentstage.` (GUIDE item 25)."""

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_package_folder_is_listed_in_pyproject() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    found = {
        "agentstage." + ".".join(init.parent.relative_to(ROOT).parts)
        for top in ("actors", "runtime", "api")
        for init in (ROOT / top).rglob("__init__.py")
    }
    data = {"agentstage." + ".".join(folder.relative_to(ROOT).parts)
            for folder in [ROOT / "api" / "static", *(ROOT / "api" / "static").rglob("*/")] if folder.is_dir()}
    assert found | data == listed and set(config["package-data"]) == data
    assert all(config["package-dir"][name] == name.removeprefix("agentstage.").replace(".", "/") for name in listed)
