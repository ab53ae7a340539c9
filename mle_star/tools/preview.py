"""A bounded preview of the task's data for prompts: files, columns, types, missing values."""

from __future__ import annotations

from pathlib import Path

import pandas as pd


def column_facts(df: pd.DataFrame) -> list[dict]:
    facts = []
    for col in df.columns:
        s = df[col]
        kind = "numeric" if pd.api.types.is_numeric_dtype(s) else "text"
        if kind == "text":
            lengths = s.dropna().astype(str).str.len()
            kind = "text" if len(lengths) and lengths.mean() >= 30 and s.nunique() > 0.3 * len(s) else "categorical"
        facts.append({
            "name": str(col), "kind": kind, "dtype": str(s.dtype),
            "missing": round(float(s.isna().mean()), 4), "unique": int(s.nunique()),
        })
    return facts


def data_preview(data_dir: str | Path, max_chars: int = 6000, rows: int = 3) -> str:
    """Text listing every data file and, for tables, columns with type, missing share and rows."""
    data_dir = Path(data_dir)
    parts: list[str] = []
    for path in sorted(data_dir.iterdir()):
        if not path.is_file() or path.suffix == ".md":
            continue
        size = path.stat().st_size
        if path.suffix != ".csv":
            parts.append(f"- {path.name} ({size:,} bytes)")
            continue
        try:
            head = pd.read_csv(path, nrows=2000)
        except Exception as exc:  # noqa: BLE001 - a preview must never fail the run
            parts.append(f"- {path.name}: unreadable ({type(exc).__name__})")
            continue
        with open(path, "rb") as fh:
            n_rows = max(0, sum(1 for _ in fh) - 1)
        parts.append(f"- {path.name}: {n_rows:,} rows x {head.shape[1]} columns")
        for fact in column_facts(head)[:60]:
            parts.append(f"    {fact['name']}: {fact['kind']} ({fact['dtype']}), "
                         f"{fact['missing']:.1%} missing, {fact['unique']} unique (first 2000 rows)")
        sample = head.head(rows).to_string(max_colwidth=40)
        parts.append("    first rows:\n" + "\n".join("      " + line for line in sample.splitlines()))
    text = "\n".join(parts)
    return text if len(text) <= max_chars else text[:max_chars] + "\n... (preview truncated)"
