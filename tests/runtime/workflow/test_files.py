"""Workflow files written by the registry route: the reference's sanitised names, never out of the directory,
never over another file, and no partial file left behind."""

from __future__ import annotations

import json

import pytest

from agentstage.runtime.errors import Refused
from agentstage.runtime.workflow.files import file_stem, write_workflow_file


@pytest.mark.parametrize(("name", "stem"), [("Workflow From Postman", "workflow-from-postman"),
                                            ("../../etc/passwd", "etc-passwd"), ("..", ""), ("a/b\\c", "a-b-c"),
                                            ("x" * 90, "x" * 80), ("-.Flow_1.-", "flow_1")])
def test_file_stems_follow_the_reference_and_never_leave_the_directory(name, stem) -> None:
    assert file_stem(name) == stem


def test_writes_once_and_refuses_to_replace(tmp_path) -> None:
    path = write_workflow_file(tmp_path / "wf", "My-Flow", {"name": "My-Flow"})
    assert path == tmp_path / "wf" / "my-flow.json" and json.loads(path.read_text()) == {"name": "My-Flow"}
    with pytest.raises(Refused) as refused:
        write_workflow_file(tmp_path / "wf", "my-flow", {"name": "my-flow"})
    assert refused.value.field == "name" and json.loads(path.read_text()) == {"name": "My-Flow"}
    with pytest.raises(Refused):
        write_workflow_file(tmp_path / "wf", "...", {})
    assert sorted(p.name for p in (tmp_path / "wf").iterdir()) == ["my-flow.json"]
