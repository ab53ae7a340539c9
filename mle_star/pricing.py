"""Estimated cost of a run's model calls from a price table (USD per million tokens).

The built-in table holds list prices at the time of writing; pass your own JSON
(``{"model-id": [input_per_million, output_per_million], ...}``) with ``--prices FILE`` or
``MLE_STAR_PRICES_FILE`` to override or extend it. Unknown models are reported, not guessed.
"""

from __future__ import annotations

import json
from pathlib import Path

PRICES: dict[str, tuple[float, float]] = {
    "offline": (0.0, 0.0),
    "google_genai:gemini-2.5-pro": (1.25, 10.0),
    "google_genai:gemini-2.5-flash": (0.30, 2.50),
    "google_genai:gemini-2.5-flash-lite": (0.10, 0.40),
    "openai:gpt-4o": (2.50, 10.0),
    "openai:gpt-4o-mini": (0.15, 0.60),
    "openai:gpt-4.1": (2.00, 8.00),
    "anthropic:claude-sonnet-4-5": (3.00, 15.0),
}


def price_table(path: str = "") -> dict[str, tuple[float, float]]:
    table = dict(PRICES)
    if path:
        table.update({k: (float(v[0]), float(v[1])) for k, v in json.loads(Path(path).read_text()).items()})
    return table


def estimate_cost(by_model: dict[str, dict], path: str = "") -> dict:
    """{"total_usd": ..., "by_model": {model: usd}, "unpriced": [models without a price]}."""
    table = price_table(path)
    out: dict = {"total_usd": 0.0, "by_model": {}, "unpriced": []}
    for model, usage in by_model.items():
        if model not in table:
            out["unpriced"].append(model)
            continue
        cin, cout = table[model]
        cost = usage.get("input_tokens", 0) / 1e6 * cin + usage.get("output_tokens", 0) / 1e6 * cout
        out["by_model"][model] = round(cost, 6)
        out["total_usd"] = round(out["total_usd"] + cost, 6)
    return out
