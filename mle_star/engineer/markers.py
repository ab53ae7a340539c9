"""The markers around each block of an engineer script: ``# mle-star block: KIND {spec}`` and
``# end of KIND block``. The spec is the block's recipe as JSON, so a script carries its own
plan and :func:`mle_star.engineer.recipe.parse_recipe` reads it back from any later version."""

from __future__ import annotations

import json


def header(kind: str, spec: dict) -> str:
    return f"# mle-star block: {kind} {json.dumps(spec, sort_keys=True)}\n"


def footer(kind: str) -> str:
    return f"# end of {kind} block\n"
