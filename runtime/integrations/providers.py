"""The integration catalog: ten providers, their capabilities and the credential fields they need."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

__all__ = ["PROVIDERS", "IntegrationProvider", "provider"]


@dataclass(frozen=True, slots=True)
class IntegrationProvider:
    """One kind of outside system a tool instance can talk to."""

    name: str
    display_name: str
    description: str
    capabilities: tuple[str, ...]
    credential_fields: tuple[str, ...]
    config_fields: tuple[str, ...] = ()
    optional_credentials: tuple[str, ...] = ()
    available: bool = True
    unavailable_reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


PROVIDERS: dict[str, IntegrationProvider] = {p.name: p for p in (
    IntegrationProvider("http_webhook", "HTTP/Webhook", "Call an HTTP endpoint or deliver a webhook.",
                        ("request", "webhook"), (), ("url",), ("token",)),
    IntegrationProvider("slack", "Slack", "Post messages through a Slack incoming webhook.",
                        ("message", "notify"), ("webhook_url",)),
    IntegrationProvider("github", "GitHub", "Create issues and comment on pull requests.",
                        ("issue_create", "pr_comment"), ("token",), ("repository",)),
    IntegrationProvider("jira", "Jira", "Create and update Jira issues.", ("issue_create", "issue_update"),
                        ("email", "api_token"), ("base_url", "project")),
    IntegrationProvider("postgresql", "PostgreSQL", "Run SQL queries.", ("query",), ("dsn",),
                        available=False, unavailable_reason="no PostgreSQL driver is installed"),
    IntegrationProvider("redis", "Redis", "Run Redis commands.", ("command",), ("url",)),
    IntegrationProvider("s3", "Amazon S3", "Read and write S3 objects.", ("object_read", "object_write"),
                        ("access_key_id", "secret_access_key"), ("bucket",),
                        available=False, unavailable_reason="no S3 client library is installed"),
    IntegrationProvider("gcs", "Google Cloud Storage", "Read and write GCS objects.", ("object_read", "object_write"),
                        ("service_account_json",), ("bucket",),
                        available=False, unavailable_reason="no Google Cloud Storage client library is installed"),
    IntegrationProvider("pagerduty", "PagerDuty", "Trigger PagerDuty events.", ("event_trigger",),
                        ("routing_key",)),
    IntegrationProvider("smtp", "SMTP", "Send email through an SMTP server.", ("email_send",), ("password",),
                        ("host", "port", "username", "sender")),
)}


def provider(name: str) -> IntegrationProvider:
    """The provider called `name`; KeyError when unknown."""
    return PROVIDERS[name]
