"""Reading the tables and JSON records of a task folder, with errors a person can act on.

Tables are read with their sniffed dialect (delimiter, BOM, decimal comma), for their header or
the few columns the intake needs; a malformed table becomes one line (which file, which row)."""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import pandas as pd

from mle_star.tools.task.inventory import open_table

TABLE_SUFFIXES = (".csv", ".tsv", ".csv.zip", ".csv.gz", ".tsv.gz", ".tsv.zip", ".csv.bz2", ".csv.xz",
                  ".parquet", ".pq", ".xlsx", ".xlsm", ".xls")
JSON_SUFFIXES = (".json", ".jsonl", ".ndjson", ".json.zip", ".json.gz")
WHOLE_READ_BYTES = 256 << 20  # tables up to this size are parsed whole once, to find malformed rows
JSON_MAX_BYTES = 1 << 30  # JSON label sources larger than this are not split (self-reported scores)


class TaskError(ValueError):
    """Bad task input; the message is one line a user can act on."""


def is_table(name: str) -> bool:
    return name.lower().endswith(TABLE_SUFFIXES)


def is_json(name: str) -> bool:
    return name.lower().endswith(JSON_SUFFIXES)


def read_table(path: Path, **kwargs) -> pd.DataFrame:
    """The table (every row unless ``nrows`` says otherwise), or a TaskError naming the file."""
    kwargs.setdefault("nrows", None)
    try:
        return open_table(path, **kwargs)
    except Exception as exc:  # noqa: BLE001 - any unreadable table is the user's to fix
        raise TaskError(f"cannot read {path.name}: {table_problem(exc)}") from None


def read_columns(path: Path, columns: list[str], **kwargs) -> pd.DataFrame:
    """Some columns of a table. A table up to WHOLE_READ_BYTES is parsed whole, so a ragged row
    (which pandas skips over when told to read only some columns) is found here, by name, rather
    than in every script that reads the file."""
    if path.stat().st_size <= WHOLE_READ_BYTES:
        return read_table(path, **kwargs)[columns]
    return read_table(path, usecols=columns, **kwargs)


def table_problem(exc: BaseException) -> str:
    """What is wrong with a table, in words rather than a library's exception name."""
    cause = exc.__cause__ or exc
    text = str(cause).strip().splitlines()[0] if str(cause).strip() else ""
    fields = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", text)
    if fields:
        return f"line {fields[2]} has {fields[3]} fields where the rows before it have {fields[1]}"
    if isinstance(cause, pd.errors.EmptyDataError):
        return "the file is empty (no header row)"
    if isinstance(cause, zipfile.BadZipFile):
        return "it is not a readable zip archive"
    if isinstance(cause, (EOFError, OSError)) and ("gzip" in text.lower() or "compressed file ended" in text):
        return "the compressed data is damaged or cut short"
    if isinstance(cause, UnicodeError):
        return "its text encoding cannot be read"
    if isinstance(cause, MemoryError):
        return "it does not fit in memory"
    if "EOF inside string" in text:
        return "a quoted field is never closed (the file may be cut short)"
    return re.sub(r"^[A-Za-z_.]*(Error|Exception): ", "", text)[:200] or "the file cannot be parsed as a table"


def table_columns(path: Path) -> list[str]:
    return [str(c) for c in read_table(path, nrows=0).columns]


def read_records(path: Path) -> list[dict]:
    """JSON records (an array, JSON lines, or an object holding one array), flattened one level."""
    if path.stat().st_size > JSON_MAX_BYTES:
        raise TaskError(f"{path.name} is larger than {JSON_MAX_BYTES >> 30} GB")
    text = path.read_text(encoding="utf-8", errors="replace")
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        try:
            value = [json.loads(line) for line in text.splitlines() if line.strip()]
        except json.JSONDecodeError as exc:
            raise TaskError(f"cannot read {path.name}: {exc.msg} at line {exc.lineno}") from None
    if isinstance(value, dict):
        arrays = [v for v in value.values() if isinstance(v, list) and v and isinstance(v[0], dict)]
        value = max(arrays, key=len) if arrays else [value]
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value[:100]):
        raise TaskError(f"{path.name}: expected JSON records (a list of objects)")
    return value


def records_frame(records: list[dict]) -> pd.DataFrame:
    return pd.json_normalize(records, max_level=1)


def columns_of(folder: Path, name: str) -> list[str]:
    if is_table(name):
        return table_columns(folder / name)
    if is_json(name):
        try:
            return list(records_frame(read_records(folder / name)[:200]).columns)
        except TaskError:
            return []
    return []
