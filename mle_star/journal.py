"""The journal of attempts: every script a run executed (or tried to), with parent links.

The state keeps only names that point into the journal; every view of the search (a path's
candidates, the plans tried for a block, the ensemble rounds, the lineage of the submission)
is derived here, so run.json, the report and resume tell the same story.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from typing_extensions import Unpack

from mle_star.state import ATTEMPT_DEFAULTS, Attempt, AttemptFields, AttemptKind, PlanScore


def attempt(name: str, kind: AttemptKind, **fields: Unpack[AttemptFields]) -> Attempt:
    """A whole journal entry: ``fields`` over the defaults (an attempt that never ran, an
    unusable reply or a skipped plan, keeps the default empty workdir)."""
    entry: Attempt = {"name": name, "kind": kind, **ATTEMPT_DEFAULTS, **fields}
    entry["leakage"] = list(entry.get("leakage") or [])  # never the defaults' own list
    return entry


def from_record(record: Mapping[str, Any]) -> Attempt:
    """An attempt read back from run.json: fields a record lacks (written by an older
    mle-star) take their defaults."""
    known = {k: v for k, v in record.items() if k in ATTEMPT_DEFAULTS}
    return attempt(str(record.get("name", "")), record.get("kind", "candidate"), **known)


def find(journal: Iterable[Attempt], name: str | None) -> Attempt | None:
    """The attempt called ``name`` (the latest, should a name ever repeat)."""
    found = None
    for entry in journal:
        if entry["name"] == name:
            found = entry
    return found


def get(journal: Iterable[Attempt], name: str) -> Attempt:
    entry = find(journal, name)
    if entry is None:
        raise KeyError(f"no attempt '{name}' in the journal")
    return entry


def final_attempts(journal: Iterable[Attempt]) -> list[Attempt]:
    """Attempts that are not superseded by a debug round of their own (what a stage produced)."""
    entries = list(journal)
    fixed = {e["parent"] for e in entries if e["debug_round"] > 0}
    return [e for e in entries if e["name"] not in fixed]


def of_kind(journal: Iterable[Attempt], kind: AttemptKind, path_id: int | None = None,
            step: str | None = None) -> list[Attempt]:
    """The final attempts of one kind (on one path, at one loop step), in journal order."""
    return [e for e in final_attempts(journal) if e["kind"] == kind
            and (path_id is None or e["path_id"] == path_id) and (step is None or e["step"] == step)]


def plan_history(journal: Iterable[Attempt], path_id: int, step_prefix: str) -> list[PlanScore]:
    """Every (plan, score) of the refinements of one target block, in order (scores of failed
    runs are None) - what the refiner planner sees."""
    return [PlanScore(plan=e["plan"], score=e["score"] if e["ok"] else None)
            for e in of_kind(journal, "refinement", path_id) if e["step"].startswith(step_prefix)]


def lineage(journal: Iterable[Attempt], name: str) -> list[Attempt]:
    """The chain of attempts from the first ancestor down to ``name``."""
    entries = list(journal)
    chain: list[Attempt] = []
    seen: set[str] = set()
    current = find(entries, name)
    while current is not None and current["name"] not in seen:
        chain.append(current)
        seen.add(current["name"])
        current = find(entries, current["parent"])
    return chain[::-1]
