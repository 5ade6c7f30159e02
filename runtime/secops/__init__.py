"""SecOps triage: Trivy reports and application logs, as domain functions and the `secops` workflow."""

from agentstage.runtime.secops.domain import (
    MalformedReport,
    build_logs_prompt,
    build_trivy_prompt,
    classify_logs,
    parse_trivy,
    redact_logs,
    route,
)

__all__ = ["MalformedReport", "build_logs_prompt", "build_trivy_prompt", "classify_logs", "parse_trivy",
           "redact_logs", "route"]
