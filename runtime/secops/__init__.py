"""SecOps triage: Trivy reports and application logs, as domain functions and the `secops` workflow."""

from agentstage.runtime.lazy import lazy_exports as _lazy_exports

__getattr__ = _lazy_exports(__name__, {
    "MalformedReport": "agentstage.runtime.secops.domain",
    "build_logs_prompt": "agentstage.runtime.secops.domain",
    "build_trivy_prompt": "agentstage.runtime.secops.domain",
    "classify_logs": "agentstage.runtime.secops.domain",
    "parse_trivy": "agentstage.runtime.secops.domain",
    "redact_logs": "agentstage.runtime.secops.domain",
    "route": "agentstage.runtime.secops.domain",
})

__all__ = ["MalformedReport", "build_logs_prompt", "build_trivy_prompt", "classify_logs", "parse_trivy",
           "redact_logs", "route"]
