"""The journal of attempts: every script a run executed (or tried to), with parent links.

The state keeps only names that point into the journal; every view of the search (a path's
candidates, the plans tried for a block, the ensemble rounds, the lineage of the submission)
is derived here, so run.json, the report and resume tell the same story.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from typing_extensions import Unpack

from mle_star.state import ATTEMPT_DEFAULTS, Attempt, AttemptFields, AttemptKind


def attempt(name: str, kind: AttemptKind, **fields: Unpack[AttemptFields]) -> Attempt:
    """A whole journal entry: ``fields`` over the defaults (an attempt that never ran, an
    unusable reply or a skipped plan, keeps the default empty workdir)."""
    entry: Attempt = {"name": name, "kind": kind, **ATTEMPT_DEFAULTS, **fields}
    entry["leakage"] = list(entry.get("leakage") or [])  # never the defaults' own list
    if "step" not in fields:
        entry["step"] = where(entry)
    return entry


def where(entry: Attempt) -> str:
    """Its loop coordinates in words: "t=1 k=2", "t=1", "round 3" or ""."""
    t, k, r = entry.get("t"), entry.get("k"), entry.get("round")
    if r is not None:
        return f"round {r}"
    return "" if t is None else f"t={t}" + ("" if k is None else f" k={k}")


def from_record(record: Mapping[str, Any]) -> Attempt:
    """An attempt read back from run.json: fields a record lacks (written by an older
    mle-star) take their defaults; an older record's loop coordinates come from its step."""
    known = {k: v for k, v in record.items() if k in ATTEMPT_DEFAULTS}
    if not {"t", "round"} & set(record):
        found = dict(re.findall(r"\b(t|k|round)[= ](\d+)", str(record.get("step", ""))))
        known |= {key: int(value) for key, value in found.items()}
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
            t: int | None = None) -> list[Attempt]:
    """The final attempts of one kind (on one path, in one outer step), in journal order."""
    return [e for e in final_attempts(journal) if e["kind"] == kind
            and (path_id is None or e["path_id"] == path_id) and (t is None or e.get("t") == t)]


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
