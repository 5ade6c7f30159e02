"""secret_redactor: 27 named patterns, counts and types; keys kept, values redacted."""

import pytest

from agentstage.runtime.errors import ToolArgumentsError
from agentstage.runtime.tools.redaction import SECRET_PATTERNS, redact_secrets

SAMPLES = {
    "aws_access_key": "AKIAIOSFODNN7EXAMPLE",
    "aws_secret_key": "aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "github_token": "ghp_" + "a1B2" * 9,
    "generic_api_key": "api_key: abcd1234efgh5678",
    "bearer_token": "Authorization: Bearer abc.def-ghi_jkl",
    "jwt": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.c2lnbmF0dXJlX2hlcmU",
    "private_key": "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----",
    "password": "password=hunter22",
    "password_in_url": "https://admin:s3cret@example.com/x",
    "slack_token": "xoxb-1234567890-abcdefghij",
    "stripe_key": "sk_live_" + "a" * 24,
    "openai_api_key": "sk-proj-" + "Ab3_-" * 10,
    "anthropic_api_key": "sk-ant-api03-" + "Zy9-_" * 18,
    "google_api_key": "AIza" + "B" * 35,
    "google_oauth_secret": "GOCSPX-" + "c" * 28,
    "heroku_api_key": "HEROKU_API_KEY=01234567-89ab-cdef-0123-456789abcdef",
    "sendgrid_key": "SG." + "d" * 22 + "." + "e" * 43,
    "twilio_key": "SK" + "0123456789abcdef" * 2,
    "mailgun_key": "key-" + "f" * 32,
    "npm_token": "npm_" + "g" * 36,
    "pypi_token": "pypi-" + "h" * 60,
    "azure_key": "AccountKey=" + "i" * 44,
    "digitalocean_token": "dop_v1_" + "a" * 64,
    "datadog_key": "DD_API_KEY=" + "b" * 32,
    "generic_secret": "client_secret: Zm9vYmFyYmF6cXV4",
    "db_connection_string": "postgres://app:pw@db.internal:5432/app",
    "hex_secret": "signing_salt=" + "0123456789abcdef" * 2,
}


def test_there_are_27_named_patterns() -> None:
    assert len(SECRET_PATTERNS) == 27
    assert {name for name, _ in SECRET_PATTERNS} == set(SAMPLES)


@pytest.mark.parametrize("kind", sorted(SAMPLES))
def test_each_pattern_redacts_its_sample(kind: str) -> None:
    result = redact_secrets(f"before {SAMPLES[kind]} after")
    assert kind in result["detected_types"]
    assert result["redaction_count"] >= 1
    assert f"[REDACTED:{kind}]" in result["redacted_text"]
    assert result["redacted_text"].startswith("before ") and result["redacted_text"].endswith(" after")


def test_model_vendor_keys_old_and_new_are_redacted_but_look_alike_words_are_not() -> None:
    legacy = "sk-" + "T3BlbkFJ" * 6
    text = f"a {legacy} b sk-svcacct-{'x1' * 20} c sk-ant-admin01-{'q' * 30} d"
    assert redact_secrets(text)["redacted_text"] == ("a [REDACTED:openai_api_key] b [REDACTED:openai_api_key] c "
                                                     "[REDACTED:anthropic_api_key] d")
    plain = "use sk-learn-compatible-estimators, a risk-assessment-of-the-quarter, and task-abcdefghijklmnopqrstuvw"
    assert redact_secrets(plain)["redacted_text"] == plain


def test_keys_are_kept_and_plain_text_untouched() -> None:
    result = redact_secrets("user=bob password=hunter22 note: the token is short")
    assert result["redacted_text"] == "user=bob password=[REDACTED:password] note: the token is short"
    assert (result["redaction_count"], result["detected_types"]) == (1, ["password"])


def test_tool_validates_arguments(tools) -> None:
    assert tools.get("secret_redactor")({"text": "no secrets"})["redaction_count"] == 0
    with pytest.raises(ToolArgumentsError):
        tools.get("secret_redactor")({})
