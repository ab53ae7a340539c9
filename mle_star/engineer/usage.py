"""The offline data-usage checker: which of the task's files does a script read, and can the
ones it leaves out be used?

A file counts as used when the script names it (or its folder, or lists ./input/ as a whole).
An unused table that shares the key column of the labelled rows can be joined row by row, so
the reply is a revised script that joins it; item folders (images, audio) and text columns
that a script ignores are brought back by the engineer's own solution. Files that cannot be
used (no shared key, not a table) are named with the reason, and the script is returned
unchanged; the exact ALL_USED sentence is given only when every file is read.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

from mle_star.engineer.blocks import SPARSE_FAMILIES
from mle_star.engineer.params import default_model
from mle_star.engineer.recipe import complete, default_recipe, parse_recipe
from mle_star.prompts.roles import ALL_USED

TABLE_SUFFIXES = (".csv", ".tsv", ".csv.zip", ".csv.gz", ".tsv.gz", ".json", ".jsonl", ".ndjson")
LISTS_INPUT = re.compile(r"(listdir|scandir|glob|iterdir|walk)\(\s*['\"]\.?/?input/?\*?['\"]")


def _reads(code: str, name: str) -> bool:
    stem = name
    for suffix in (".zip", ".gz"):
        stem = stem[: -len(suffix)] if stem.lower().endswith(suffix) else stem
    return name in code or stem in code


def provided_files(task: dict) -> list[str]:
    """The task's data files a solution could learn from (not the sample, held-out or test files)."""
    source = task.get("label_source") or {}
    skip = {task.get("sample_submission"), task.get("holdout_file"), task.get("test_file"), source.get("file")}
    items = {i["dir"] for i in (task.get("train_items"), task.get("test_items")) if i}
    files = []
    for name in task["data_files"]:
        low = name.lower()
        if name in skip or low.endswith((".md", ".txt", ".pdf")) or "test" in low or "sample" in low:
            continue
        if any(low.startswith(d.lower()) and low != d.lower() and low.endswith((".zip", ".tar", ".tar.gz", ".tgz"))
               for d in items):
            continue  # the archive whose extracted folder is listed too
        files.append(name)
    return files


def table_columns(task: dict, name: str) -> list[str] | None:
    """The columns of a data file, read from the task's folder (None when it is not a table)."""
    path = Path(task["data_dir"]) / name
    if not path.is_file():
        zipped = [p for p in Path(task["data_dir"]).glob(name + ".*") if p.is_file()]
        path = zipped[0] if zipped else path
    if not path.is_file() or not path.name.lower().endswith(TABLE_SUFFIXES):
        return None
    if path.name.lower().endswith((".json", ".jsonl", ".ndjson")):
        import pandas as pd

        text = path.read_text(encoding="utf-8", errors="replace")[:1_000_000]
        first = text.lstrip()[:1]
        try:
            records = json.loads(text) if first == "[" else [json.loads(line) for line in text.splitlines()[:50] if line]
        except json.JSONDecodeError:
            return None
        return list(pd.json_normalize(records[:50]).columns) if isinstance(records, list) else None
    from mle_star.tools.task.inventory import open_table

    try:
        return [str(c) for c in open_table(path, nrows=5).columns]
    except Exception:  # noqa: BLE001 - an empty or unreadable extra file is simply not a table to use
        return None


def check_data_usage(code: str, task: dict, render: Callable[[dict], str]) -> str:
    """The data-usage checker's reply for ``code`` (``render`` turns a recipe into a script)."""
    if LISTS_INPUT.search(code):
        return ALL_USED
    source = task.get("label_source") or {}
    key = source.get("key") or task["id_column"]
    unused = [f for f in provided_files(task) if not _reads(code, f)]
    joinable, reasons = [], []
    items = {i["dir"] for i in (task.get("train_items"), task.get("test_items")) if i}
    for name in unused:
        columns = table_columns(task, name)
        if name in items:
            reasons.append(f"{name}/ holds the items (images or audio) the rows name, and the script does not read them")
        elif columns is None:
            reasons.append(f"{name} is not a table of rows, so it cannot be joined to the labelled rows")
        elif key in columns:
            joinable.append((name, key))
        else:
            reasons.append(f"{name} has no '{key}' column to join it to the labelled rows")
    dropped_items = [n for n in unused if n in items]
    text_unused = _text_unused(code, task)
    recipe = parse_recipe(code)
    if not unused and not text_unused:
        return ALL_USED
    if joinable or dropped_items or text_unused:
        base = complete(task, recipe, _family(recipe)) if recipe else default_recipe(task, "xgboost")
        notes = []
        if joinable and "joins" in base["load"]:
            base["load"]["joins"] = sorted({*map(tuple, base["load"].get("joins") or []), *joinable})
            base["load"]["joins"] = [list(j) for j in base["load"]["joins"]]
            notes.append("joins " + ", ".join(n for n, _ in joinable) + f" by '{key}'")
        if dropped_items:
            notes.append("reads the item files (" + ", ".join(dropped_items) + ") and extracts features from them")
        if text_unused:
            base["model"]["models"].append(default_model("linear", task))
            notes.append("adds a TF-IDF linear model so the words of " + ", ".join(text_unused) + " are used")
        revised = render(base)
        if revised.strip() != code.strip():
            why = "; ".join(reasons)
            return (f"The solution leaves information unused. The revision {'; '.join(notes)}."
                    + (f" Still unused: {why}." if why else "") + f"\n\n```python\n{revised.rstrip()}\n```")
    return ("Not every file is used, and the ones left out cannot be used: " + "; ".join(reasons)
            + f". The solution is kept as it is.\n\n```python\n{code.rstrip()}\n```")


def _family(recipe: dict) -> str:
    models = (recipe.get("model") or {}).get("models") or [{}]
    return models[0].get("family", "xgboost")


def _text_unused(code: str, task: dict) -> list[str]:
    """Text columns whose words the script never models (tree-only blends, numeric-only selections)."""
    text = list(task.get("text_columns") or [])
    if not text:
        return []
    recipe = parse_recipe(code)
    if recipe.get("model"):
        families = {m["family"] for m in recipe["model"]["models"]}
        return [] if families & set(SPARSE_FAMILIES) and recipe.get("preprocess", {}).get("text", True) else text
    numeric_only = re.search(r"select_dtypes\([^)]*(include\s*=\s*['\"\[]*(number|float|int)|exclude\s*=\s*['\"\[]*object)",
                             code) is not None
    return text if numeric_only or not any(t in code for t in text) and "Tfidf" not in code else []
