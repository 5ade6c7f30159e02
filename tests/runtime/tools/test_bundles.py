"""The 15 bundles exist and name only registered tools; `all` holds every built-in."""

import pytest

from agentstage.runtime.errors import ToolError
from agentstage.runtime.tools.bundles import BUNDLES

REFERENCE_TOOLS = {
    "calculator", "secret_redactor", "hash_generator", "json_parser", "regex_matcher", "text_processor",
    "document_generator", "pdf_generator", "google_docs_manager", "document_preview", "base64_codec",
    "timestamp_converter", "uuid_generator", "url_parser", "git_repo", "code_search", "diff_generator",
    "http_client", "web_scraper", "web_search", "shell_command", "file_system", "env_vars", "memory_store", "tmpdir",
    "docker", "docker_compose", "kubectl", "k3s", "cron_manager", "self_api", "curl", "dns_lookup", "network_utils",
    "process_manager", "disk_usage", "system_info", "archive", "log_viewer", "todo_manager"}


def test_every_reference_tool_is_registered(tools) -> None:
    assert len(REFERENCE_TOOLS) == 40
    assert REFERENCE_TOOLS <= set(tools.names())


def test_fifteen_bundles_of_known_tools(tools) -> None:
    assert sorted(tools.bundles) == sorted([b.name for b in BUNDLES] + ["all"])
    assert len(tools.bundles) == 15
    for name, members in tools.bundles.items():
        assert members and set(members) <= set(tools.names()), name
    assert set(tools.bundles["all"]) == {n for n in tools.names() if not n.startswith("secops_")}


def test_unavailable_tools_are_marked_and_fail_clearly(tools) -> None:
    marked = {t.name for t in tools if not t.available}
    assert {"web_search", "google_docs_manager", "cron_manager", "self_api"} <= marked
    with pytest.raises(ToolError, match="not available on this host"):
        tools.get("web_search")({"query": "x"})
