"""The tool bundles a selection can name with `@bundle`."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["BUNDLES", "Bundle", "bundle_map"]


@dataclass(frozen=True, slots=True)
class Bundle:
    """A named group of tools."""

    name: str
    description: str
    tools: tuple[str, ...]


BUNDLES: tuple[Bundle, ...] = (
    Bundle("default", "General-purpose offline tools", (
        "calculator", "json_parser", "base64_codec", "timestamp_converter", "uuid_generator", "url_parser",
        "regex_matcher", "text_processor", "document_generator")),
    Bundle("security", "Secret redaction and hashing", ("secret_redactor", "hash_generator")),
    Bundle("encoding", "Encoders and parsers", ("base64_codec", "json_parser", "url_parser")),
    Bundle("code", "Repositories, code search and diffs", ("git_repo", "code_search", "diff_generator")),
    Bundle("network", "HTTP, scraping, search and DNS", (
        "http_client", "web_search", "web_scraper", "curl", "dns_lookup", "network_utils")),
    Bundle("system", "Host, shell and files", (
        "shell_command", "file_system", "env_vars", "tmpdir", "process_manager", "disk_usage", "system_info",
        "log_viewer", "archive")),
    Bundle("memory", "Per-session memory and todo list", ("memory_store", "todo_manager")),
    Bundle("text", "Text and document processing", (
        "text_processor", "document_generator", "pdf_generator", "json_parser", "regex_matcher")),
    Bundle("docs", "Documents", (
        "document_generator", "pdf_generator", "google_docs_manager", "document_preview", "file_system",
        "text_processor", "json_parser")),
    Bundle("container", "Containers", ("docker", "docker_compose")),
    Bundle("kubernetes", "Kubernetes", ("kubectl", "k3s")),
    Bundle("devops", "Containers and Kubernetes", ("docker", "docker_compose", "kubectl", "k3s")),
    Bundle("scheduling", "Scheduler and the runtime's own API", ("cron_manager", "self_api")),
    Bundle("linux", "Linux host inspection", (
        "curl", "dns_lookup", "network_utils", "process_manager", "disk_usage", "system_info", "archive",
        "log_viewer")),
)


def bundle_map(all_tools: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """Bundle name -> tool names, with `all` holding every built-in tool given."""
    return {**{b.name: b.tools for b in BUNDLES}, "all": tuple(sorted(all_tools))}
