"""SecOps domain rules against golden files of every sample, and their edge cases."""

import json

import pytest

from agentstage.runtime.secops import (
    MalformedReport,
    build_logs_prompt,
    build_trivy_prompt,
    classify_logs,
    parse_trivy,
    redact_logs,
    route,
)
from tests.runtime.secops.golden import SAMPLE_NAMES, check, sample


def domain_result(text: str) -> dict:
    if route(text) == "trivy":
        categorized = parse_trivy(text)
        return {"route": "trivy", "categorized": categorized, "prompt": build_trivy_prompt(categorized)}
    redacted = redact_logs(text)
    classified = classify_logs(redacted["redactedLogs"])
    return {"route": "logs", "redacted": redacted, "classified": classified,
            "prompt": build_logs_prompt(redacted["redactedLogs"], classified)}


@pytest.mark.parametrize("name", SAMPLE_NAMES)
def test_sample_matches_golden(name: str) -> None:
    check(f"{name}.domain.json", domain_result(sample(name)))


def test_samples_cover_both_routes_rejects_and_secrets() -> None:
    results = {name: domain_result(sample(name)) for name in SAMPLE_NAMES}
    assert {r["route"] for r in results.values()} == {"trivy", "logs"}
    assert any(r["route"] == "trivy" and r["categorized"]["rejects"] for r in results.values())
    assert any(r["route"] == "logs" and r["classified"]["rejects"] for r in results.values())
    for name, result in results.items():
        if result["route"] == "logs":
            for secret in ("Sup3rS3cret", "sk_live_51Hx", "tok_1NvQ", "eyJhbGci", "correct-horse", "AKIAIOSF",
                           "s3cr3t-value"):
                assert secret not in result["redacted"]["redactedLogs"] and secret not in result["prompt"], name


@pytest.mark.parametrize("text, expected", [
    ("", "logs"), ("   ", "logs"), ('{"Results": []}', "trivy"), ('{"ArtifactName": "x"}', "trivy"),
    (json.dumps(json.dumps({"ArtifactName": "x"})), "trivy"), ('{"other": 1}', "logs"), ("[1, 2]", "logs"),
    ('{"ArtifactName": "x"', "logs"), ("2025-01-01 ERROR failed token=abc123", "logs")])
def test_route(text: str, expected: str) -> None:
    assert route(text) == expected


def test_reference_log_line() -> None:
    redacted = redact_logs("2025-01-01 ERROR failed token=abc123")
    assert (redacted["redactedLogs"], redacted["redactions"]) == ("2025-01-01 ERROR failed token= [REDACTED]", 1)
    assert classify_logs(redacted["redactedLogs"]) == {"errors": 1, "warnings": 0, "info": 0, "rejects": []}


def test_severity_is_uppercased_and_unknown_counts_as_low() -> None:
    report = {"ArtifactName": "a", "Results": [{"Vulnerabilities": [
        {"VulnerabilityID": "C1", "Severity": "critical"}, {"VulnerabilityID": "H1", "Severity": " High "},
        {"VulnerabilityID": "M1", "Severity": "medium"}, {"VulnerabilityID": "U1", "Severity": "UNKNOWN"},
        {"VulnerabilityID": "N1"}]}]}
    result = parse_trivy(json.dumps(report))
    assert [v["VulnerabilityID"] for v in result["critical"] + result["high"]] == ["C1", "H1"]
    assert (result["mediumCount"], result["lowCount"], result["totalCount"]) == (1, 2, 5)


@pytest.mark.parametrize("text", ["{oops", "[1]", '{"Results": "x"}', json.dumps("not json inside")])
def test_malformed_reports_raise_with_a_reason(text: str) -> None:
    with pytest.raises(MalformedReport):
        parse_trivy(text)


def test_logs_prompt_keeps_the_first_1200_characters() -> None:
    text = "x" * 2000
    prompt = build_logs_prompt(text, classify_logs(text))
    assert "x" * 1200 in prompt and "x" * 1201 not in prompt
