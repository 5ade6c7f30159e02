"""SecOps triage rules: route an input, categorise a Trivy report, redact and classify logs, build
the prompts for the agent. Plain functions, deterministic, no I/O."""

from __future__ import annotations

import json
import re
from typing import Any

from agentstage.runtime.tools.redaction import redact_secrets

__all__ = ["MalformedReport", "build_logs_prompt", "build_trivy_prompt", "classify_logs", "parse_trivy",
           "redact_logs", "route"]

_KEY_VALUE = re.compile(r"(?i)\b(api_key|apikey|token|secret|password|passwd|authorization)(\s*[:=])\s*"
                        r"(?:(?:bearer|basic)\s+)?(?:\"[^\"]*\"|'[^']*'|[^\s,;]+)")
_BEARER = re.compile(r"(?i)\b(bearer)\s+(?!\[REDACTED)[A-Za-z0-9\-._~+/]+=*")
_ERROR = re.compile(r"(?i)panic|fatal|error")
_WARN = re.compile(r"(?i)warn")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
MAX_LINE = 4096
LOG_PROMPT_CHARS = 1200
_PROMPT_FINDINGS = 20


class MalformedReport(ValueError):
    """The input looks like a Trivy report but cannot be read as one."""


def _decode(text: str) -> Any:
    value: Any = json.loads(text)
    if isinstance(value, str):
        value = json.loads(value)
    return value


def route(text: str) -> str:
    """`trivy` when the trimmed input is a JSON object (or a JSON string holding one) with `Results` or
    `ArtifactName`; `logs` otherwise, including empty input."""
    stripped = text.strip()
    if not stripped:
        return "logs"
    try:
        value = _decode(stripped)
    except ValueError:
        return "logs"
    return "trivy" if isinstance(value, dict) and ("Results" in value or "ArtifactName" in value) else "logs"


def parse_trivy(text: str) -> dict[str, Any]:
    """Categorise a Trivy report: CRITICAL and HIGH listed, MEDIUM counted, anything else counted as low.

    Entries that are not vulnerability objects with an id become `rejects` with a reason.
    Raises MalformedReport when the report itself is unreadable.
    """
    try:
        report = _decode(text.strip())
    except ValueError as exc:
        raise MalformedReport(f"report is not JSON: {exc}") from None
    if not isinstance(report, dict):
        raise MalformedReport("report is not a JSON object")
    results = report.get("Results") or []
    if not isinstance(results, list):
        raise MalformedReport("Results is not a list")
    critical: list[dict[str, str]] = []
    high: list[dict[str, str]] = []
    medium = low = total = 0
    rejects: list[dict[str, Any]] = []
    for r_index, result in enumerate(results):
        vulns = result.get("Vulnerabilities") if isinstance(result, dict) else None
        if not isinstance(result, dict) or not isinstance(vulns, (list, type(None))):
            rejects.append({"where": f"Results[{r_index}]", "reason": "not a result object with a Vulnerabilities list"})
            continue
        for v_index, vuln in enumerate(vulns or []):
            where = f"Results[{r_index}].Vulnerabilities[{v_index}]"
            if not isinstance(vuln, dict) or not isinstance(vuln.get("VulnerabilityID"), str) \
                    or not vuln["VulnerabilityID"].strip():
                rejects.append({"where": where, "reason": "not a vulnerability object with a VulnerabilityID"})
                continue
            total += 1
            entry = {key: str(vuln.get(key) or "") for key in
                     ("VulnerabilityID", "PkgName", "InstalledVersion", "FixedVersion", "Title")}
            severity = str(vuln.get("Severity") or "").strip().upper()
            entry["Severity"] = severity
            if severity == "CRITICAL":
                critical.append(entry)
            elif severity == "HIGH":
                high.append(entry)
            elif severity == "MEDIUM":
                medium += 1
            else:
                low += 1
    return {"artifactName": str(report.get("ArtifactName") or ""), "critical": critical, "high": high,
            "mediumCount": medium, "lowCount": low, "totalCount": total, "rejects": rejects}


def redact_logs(text: str) -> dict[str, Any]:
    """Redact `key: value` / `key=value` secrets (api_key, token, secret, password, passwd, authorization)
    and `Bearer <token>` to `[REDACTED]`, then anything the 25 secret patterns still find."""
    redacted, pairs = _KEY_VALUE.subn(lambda m: f"{m.group(1)}{m.group(2)} [REDACTED]", text)
    redacted, bearers = _BEARER.subn(lambda m: f"{m.group(1)} [REDACTED]", redacted)
    patterns = redact_secrets(redacted)
    return {"redactedLogs": patterns["redacted_text"],
            "redactions": pairs + bearers + patterns["redaction_count"],
            "detectedTypes": patterns["detected_types"]}


def classify_logs(text: str) -> dict[str, Any]:
    """Classify each non-empty line: panic/fatal/error -> errors, warn -> warnings, else info.

    ANSI colour codes are ignored; lines with other control characters or longer than MAX_LINE are
    rejects (line number and reason).
    """
    counts = {"errors": 0, "warnings": 0, "info": 0}
    rejects = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = _ANSI.sub("", raw)
        if not line.strip():
            continue
        if len(line) > MAX_LINE:
            rejects.append({"line": number, "reason": f"longer than {MAX_LINE} characters"})
        elif _CONTROL.search(line):
            rejects.append({"line": number, "reason": "contains control characters"})
        elif _ERROR.search(line):
            counts["errors"] += 1
        elif _WARN.search(line):
            counts["warnings"] += 1
        else:
            counts["info"] += 1
    return {**counts, "rejects": rejects}


def build_trivy_prompt(categorized: dict[str, Any]) -> str:
    """The agent prompt for a categorised report: artifact, counts, CRITICAL/HIGH findings, the rules."""
    findings = [*categorized["critical"], *categorized["high"]][:_PROMPT_FINDINGS]
    lines = [f"- [{f['Severity']}] {f['VulnerabilityID']} in {f['PkgName']} {f['InstalledVersion']}"
             f" (fixed in {f['FixedVersion'] or 'no fixed version'}): {f['Title'] or 'no title'}" for f in findings]
    more = len(categorized["critical"]) + len(categorized["high"]) - len(findings)
    return "\n".join([
        "You are a security engineer triaging a Trivy vulnerability report.",
        f"Artifact: {categorized['artifactName'] or 'unknown'}",
        f"Counts: critical={len(categorized['critical'])} high={len(categorized['high'])} "
        f"medium={categorized['mediumCount']} low={categorized['lowCount']} total={categorized['totalCount']}",
        "Critical and high findings:",
        *(lines or ["- none"]),
        *([f"- ... and {more} more"] if more > 0 else []),
        "Answer with at most 8 bullets, CRITICAL and HIGH first, in under 140 words, "
        "naming the immediate actions (upgrade, mitigate, rebuild).",
    ])


def build_logs_prompt(redacted: str, classified: dict[str, Any]) -> str:
    """The agent prompt for redacted logs: counts, the first LOG_PROMPT_CHARS characters of the lines
    that were not rejected (colour codes removed), the rules."""
    rejected = {r["line"] for r in classified["rejects"]}
    kept = "\n".join(_ANSI.sub("", line) for number, line in enumerate(redacted.splitlines(), 1)
                     if number not in rejected)
    return "\n".join([
        "You are an SRE reviewing application logs; secrets are already redacted.",
        f"Counts: errors={classified['errors']} warnings={classified['warnings']} info={classified['info']} "
        f"rejected={len(classified['rejects'])}",
        f"Logs (first {LOG_PROMPT_CHARS} characters):",
        kept[:LOG_PROMPT_CHARS],
        "Answer with at most 3 issues, at most 3 fixes, and a summary of at most 80 words.",
    ])
