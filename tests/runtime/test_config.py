"""Config: precedence of flags, environment and .env; typed parsing; .env.example stays complete."""

from pathlib import Path

import pytest

from agentstage.runtime.config import Config, setting_fields
from agentstage.runtime.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]


def test_defaults_env_dotenv_and_overrides_in_order(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text("AGENTSTAGE_MAX_ITERATIONS=4\nAGENTSTAGE_MODEL=from-dotenv\nOPENAI_API_KEY=sk-test\n")
    config = Config.from_env({"AGENTSTAGE_MODEL": "from-env"}, dotenv=dotenv, agent_pool_size=7)
    assert (config.max_iterations, config.model, config.agent_pool_size) == (4, "from-env", 7)
    assert config.env["OPENAI_API_KEY"] == "sk-test"
    assert "sk-test" not in repr(config)
    assert Config.from_env({}, dotenv=None).max_iterations == 6


@pytest.mark.parametrize(("variable", "value"), [("AGENTSTAGE_AGENT_POOL", "four"),
                                                 ("AGENTSTAGE_PARALLEL_TOOLS", "maybe"),
                                                 ("AGENTSTAGE_TOOL_TIMEOUT", "-1")])
def test_bad_values_name_the_variable(variable: str, value: str) -> None:
    with pytest.raises(ConfigError, match=variable):
        Config.from_env({variable: value}, dotenv=None)


@pytest.mark.parametrize(("setting", "variable", "value"), [("read_linger_ms", "AGENTSTAGE_READ_LINGER_MS", -1.0),
                                                            ("max_queued", "AGENTSTAGE_MAX_QUEUED", -5)])
def test_a_negative_number_given_as_a_number_is_refused_like_text(setting: str, variable: str, value: float) -> None:
    # NOTE: command-line flags reach Config already typed; they had skipped the check text gets.
    with pytest.raises(ConfigError, match=variable) as refused:
        Config.from_env({}, dotenv=None, **{setting: value})
    assert "must not be negative" in str(refused.value)


def test_state_path_defaults_under_home() -> None:
    assert str(Config.from_env({"AGENTSTAGE_HOME": "/x"}, dotenv=None).state_path) == "/x/agentstage.db"


def test_env_example_documents_every_setting() -> None:
    text = (ROOT / ".env.example").read_text()
    missing = [f.metadata["env"] for f in setting_fields() if f"{f.metadata['env']}=" not in text]
    assert not missing
    assert "export " not in text


def test_tool_choice_and_output_cap_settings_parse_from_the_environment() -> None:
    config = Config.from_env({"AGENTSTAGE_TOOL_CHOICE": "required", "AGENTSTAGE_MAX_OUTPUT_TOKENS": "128"}, dotenv=None)
    assert (config.tool_choice, config.max_output_tokens) == ("required", 128)
    assert (Config().tool_choice, Config().max_output_tokens) == ("auto", 0)
