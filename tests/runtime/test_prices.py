"""The price table: exact names, prefixes, a missing file, and bad files named in one line."""

from __future__ import annotations

import json

import pytest

from agentstage.runtime.errors import ConfigError
from agentstage.runtime.prices import load_prices


def test_exact_names_win_over_prefixes_and_the_longest_prefix_wins(tmp_path) -> None:
    path = tmp_path / "prices.json"
    path.write_text(json.dumps({"gpt-4o": {"input": 2.5, "output": 10}, "gpt-*": {"input": 1, "output": 2},
                                "gpt-4o-*": {"input": 0.15, "output": 0.6}}))
    table = load_prices(path)
    assert table.price_of("gpt-4o").input_per_mtok == 2.5
    assert table.price_of("gpt-4o-mini").model == "gpt-4o-*"
    assert table.price_of("gpt-3.5").model == "gpt-*"
    assert table.price_of("claude") is None
    assert table.price_of("gpt-4o").cost(1_000_000, 500_000) == pytest.approx(7.5)


def test_a_missing_file_is_an_empty_table(tmp_path) -> None:
    assert load_prices(tmp_path / "none.json").prices == ()


@pytest.mark.parametrize("text, needle", [("[1]", "must be an object"), ("{", "not readable JSON"),
                                          ('{"m": {"input": -1}}', "non-negative"),
                                          ('{"m": {"input": true}}', "non-negative"),
                                          ('{"m": {"inptu": 1}}', "'m' must be")])
def test_bad_files_are_a_config_error_naming_the_file(tmp_path, text: str, needle: str) -> None:
    path = tmp_path / "prices.json"
    path.write_text(text)
    with pytest.raises(ConfigError, match=needle) as caught:
        load_prices(path)
    assert str(path) in str(caught.value)
