"""The price table of models, for cost estimates: a JSON file mapping a model name to its USD prices
per million input and output tokens.

    {"gpt-4o": {"input": 2.5, "output": 10.0}, "claude-3-5-*": {"input": 3, "output": 15}}

A name ending in `*` matches every model starting with what precedes it (the longest such prefix
wins over shorter ones; an exact name wins over any prefix). No file means no estimates.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from agentstage.runtime.errors import ConfigError

__all__ = ["Price", "PriceTable", "load_prices"]


@dataclass(frozen=True, slots=True)
class Price:
    """USD per million input and output tokens of one model."""

    model: str
    input_per_mtok: float
    output_per_mtok: float

    def cost(self, input_tokens: int, output_tokens: int) -> float:
        return (input_tokens * self.input_per_mtok + output_tokens * self.output_per_mtok) / 1_000_000


@dataclass(frozen=True, slots=True)
class PriceTable:
    """The configured prices; `price_of` finds a model's."""

    prices: tuple[Price, ...] = ()

    def price_of(self, model: str) -> Price | None:
        """The price of `model`: its exact entry, else the longest `prefix*` entry it starts with."""
        exact = next((p for p in self.prices if p.model == model), None)
        if exact is not None:
            return exact
        prefixes = [p for p in self.prices if p.model.endswith("*") and model.startswith(p.model[:-1])]
        return max(prefixes, key=lambda p: len(p.model), default=None)


def _bad(file: Path, reason: str) -> ConfigError:
    return ConfigError("AGENTSTAGE_PRICES_FILE", str(file), reason)


def load_prices(path: str | Path) -> PriceTable:
    """The table in `path` (an empty one when the file does not exist); ConfigError naming the file and
    the entry for anything else than `{model: {"input": number >= 0, "output": number >= 0}}`."""
    file = Path(path)
    if not file.is_file():
        if file.exists():
            raise _bad(file, "not a file")
        return PriceTable()
    try:
        raw = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _bad(file, f"not readable JSON ({exc})") from None
    if not isinstance(raw, dict):
        raise _bad(file, "must be an object of model -> {input, output}")
    prices = []
    for model, entry in raw.items():
        if not model or not isinstance(entry, dict) or set(entry) - {"input", "output"}:
            raise _bad(file, f"{model!r} must be {{\"input\": ..., \"output\": ...}}")
        values = [entry.get(k, 0) for k in ("input", "output")]
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0 for v in values):
            raise _bad(file, f"{model!r} needs non-negative numbers (USD per million tokens)")
        prices.append(Price(model, float(values[0]), float(values[1])))
    return PriceTable(tuple(prices))
