"""Delimited, Excel and Parquet tables: dialect, first rows, column facts and row counts."""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import re
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import pandas as pd

from mle_star.tools.task.dialect import Dialect, NotText, sniff
from mle_star.tools.task.inventory.base import (
    COMPRESSED,
    HEAD_BYTES,
    HEAD_ROWS,
    MAX_COLUMNS,
    Counting,
    InventoryError,
    MiB,
    _cut,
    _deadline,
    _public,
    _reason,
    classify,
)
from mle_star.tools.task.inventory.parquet import _parquet_facts
from mle_star.tools.task.inventory.streams import _count_chunk, _row_facts, _scan, _Source, _source

# ---------------------------------------------------------------- tables


def _last_record_end(buf: bytes, in_quote_at_end: bool, nl_byte: bytes = b"\n") -> int | None:
    """Offset just after the last line break that lies outside quotes."""
    pos, parity = len(buf), 0
    for _ in range(1000):
        nl = buf.rfind(nl_byte, 0, pos)
        if nl < 0:
            return None
        parity ^= buf.count(b'"', nl, pos) % 2
        if not (in_quote_at_end ^ bool(parity)):
            return nl + 1
        pos = nl
    return None


def _head_bytes(fh: IO[bytes], max_records: int = HEAD_ROWS + 1) -> bytes:
    """The first whole records of a delimited stream, at most HEAD_BYTES of them."""
    parts: list[bytes] = []
    n, size, in_quote, nl = 0, 0, False, 10
    while n < max_records and size < HEAD_BYTES:
        chunk = fh.read(MiB)
        if not chunk:
            return b"".join(parts)
        if not parts and b"\n" not in chunk and b"\r" in chunk:
            nl = 13  # classic Mac line ends
        parts.append(chunk)
        size += len(chunk)
        _, outside, in_quote = _count_chunk(chunk, in_quote, nl)
        n += outside
    buf = b"".join(parts)
    end = _last_record_end(buf, in_quote, bytes([nl]))
    if end is None:
        raise InventoryError(f"no complete row in the first {HEAD_BYTES // MiB} MB")
    return buf[:end]


ID_NAMES = {"id", "uuid", "guid", "key", "index"}


def _id_name(name: str) -> bool:
    return (name.lower() in ID_NAMES or bool(re.search(r"(?:^|[_\W])id$", name, re.I))
            or bool(re.search(r"[a-z]I[dD]$", name)))


def _looks_like_dates(values: pd.Series) -> bool:
    sample = values.head(50).astype(str)
    if not sample.str.contains(r"\d").all() or not sample.str.contains(r"[-/:]").all():
        return False
    if not sample.str.len().between(6, 40).all():
        return False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        parsed = pd.to_datetime(sample, errors="coerce", format="mixed")
    return bool(parsed.notna().mean() >= 0.9)


def _column_kind(name: str, s: pd.Series, non_null: pd.Series, unique: int) -> str:
    """numeric / categorical / text / id-like / date-like, from the sampled rows."""
    all_unique = len(non_null) > 1 and unique == len(non_null)
    if pd.api.types.is_bool_dtype(s):
        return "categorical"
    if pd.api.types.is_numeric_dtype(s):
        integral = pd.api.types.is_integer_dtype(s)
        return "id-like" if all_unique and integral and _id_name(name) else "numeric"
    strings = non_null.astype(str)
    if strings.empty:
        return "categorical"
    if _looks_like_dates(strings):
        return "date-like"
    mean_len = float(strings.str.len().mean())
    if all_unique and (_id_name(name) or (mean_len <= 40 and not strings.str.contains(" ").any())):
        return "id-like"
    if mean_len >= 30 and unique > 0.3 * len(s):
        return "text"
    return "categorical"


def _column_facts(df: pd.DataFrame) -> list[dict]:
    """Per column: kind, dtype, missing share, unique count (+ range, levels or length)."""
    facts = []
    for col in list(df.columns)[:MAX_COLUMNS]:
        s = df[col]
        non_null = s.dropna()
        unique = int(non_null.nunique())
        kind = _column_kind(str(col), s, non_null, unique)
        fact: dict[str, Any] = {
            "name": str(col), "kind": kind, "dtype": str(s.dtype),
            "missing": round(float(s.isna().mean()), 4) if len(s) else 0.0, "unique": unique,
        }
        if kind == "numeric" and len(non_null) and not pd.api.types.is_bool_dtype(s):
            fact["min"], fact["max"] = float(non_null.min()), float(non_null.max())
        elif kind == "categorical":
            fact["top"] = [_cut(str(v), 30) for v in non_null.value_counts().index[:5]]
        elif kind == "text":
            fact["mean_len"] = round(float(non_null.astype(str).str.len().mean()), 1)
        facts.append(fact)
    return facts


def _table_head(src: _Source) -> dict:
    """Delimiter, header, first rows and column facts from the first records only."""
    with src.open() as fh:
        buf = _head_bytes(fh)
    if not buf.strip():
        raise InventoryError("empty file")
    dialect = sniff(buf, src.name)
    text = _decoded(buf, dialect)
    sep = dialect.delimiter
    try:
        rows = list(itertools.islice(csv.reader(io.StringIO(text, newline=""), delimiter=sep), 4))
    except csv.Error:  # e.g. a field above the csv module's size limit
        rows = []
    details: dict[str, Any] = {"format": "tsv" if sep == "\t" else "csv", "delimiter": sep,
                               "compression": src.compression}
    if not dialect.standard(src.name):
        details["dialect"] = dialect.describe()
    try:
        df = pd.read_csv(io.StringIO(text), nrows=HEAD_ROWS, low_memory=False,
                         **{**dialect.read_kwargs(), "encoding": None, "encoding_errors": "strict"})
    except Exception as exc:  # the header and rows are still worth reporting
        details["error"] = f"pandas cannot parse the first rows: {_reason(exc)}"
        df = None
    header = rows[0] if rows else [str(c) for c in df.columns] if df is not None else []
    details["n_columns"] = len(header)
    details["columns"] = header[:MAX_COLUMNS]
    details["head"] = [[_cut(cell) for cell in row[:MAX_COLUMNS]] for row in rows[1:4]]
    if df is not None:
        details["column_facts"] = _column_facts(df)
    return details


def _decoded(buf: bytes, dialect: Dialect) -> str:
    """The text of a table's first bytes in its own encoding (a cut last character dropped)."""
    codec = "utf-16" if dialect.encoding == "utf-16" else dialect.encoding
    return codecs.getincrementaldecoder(codec)(errors="replace").decode(buf, final=False).lstrip("\ufeff")


def _table(path: Path, compression: str) -> tuple[dict, Counting | None]:
    if compression == "parquet":
        return _parquet_facts(path), None
    if compression == "excel":
        return _excel_facts(path), None
    src = _source(path, compression)
    details = _table_head(src)
    if compression == "zip":
        details["member"] = src.name
    return details, lambda deadline: details.update(_row_facts(_scan(src, deadline)))


@_public
def csv_facts(path: Path, *, time_budget: float | None = None) -> dict:
    """Facts of a CSV/TSV (plain, .zip, .gz, .bz2, .xz) or parquet file; rows counted by streaming."""
    path = Path(path)
    kind, compression = classify(path.name)
    if kind != "table":  # e.g. train.zip wrapping one CSV, or a CSV with an odd extension
        compression = "zip" if compression == "zip" else "none"
    details, count = _table(path, compression)
    if count:
        count(_deadline(time_budget))
    return details


@_public
def count_rows(path: Path) -> int:
    """Data rows of a (possibly zipped/gzipped) CSV, streamed; quoted line breaks are not rows."""
    path = Path(path)
    _, compression = classify(path.name)
    if compression == "parquet":
        return int(_parquet_facts(path)["n_rows"])
    if compression == "excel":
        return len(_read_excel(path, None, {}))
    src = _source(path, compression if compression in COMPRESSED.values() else "none")
    return int(_row_facts(_scan(src, None))["n_rows"])


def _compression(path: Path) -> str:
    _, compression = classify(path.name)
    return compression if compression in (*COMPRESSED.values(), "parquet", "excel") else "none"


@_public
def table_dialect(path: Path) -> Dialect:
    """How a table is written (sniffed from its first bytes; Parquet and Excel by name)."""
    path = Path(path)
    compression = _compression(path)
    if compression in ("parquet", "excel"):
        return Dialect(format=compression)
    src = _source(path, compression)
    with src.open() as fh:
        head = fh.read(4 * MiB)
    try:
        return sniff(head, src.name)
    except NotText as exc:
        raise InventoryError(f"{path.name}: {exc}") from exc


@_public
def open_table(path: Path, **read_csv_kwargs: Any) -> pd.DataFrame:
    """A table read as its writer meant it (encoding, delimiter, decimal mark sniffed; plain,
    compressed, a zip of one table, Parquet or Excel), first 2000 rows.

    Pass ``nrows=None`` to read everything, which the caller then owns the memory for; pass
    ``chunksize`` to get an iterator of frames instead (delimited tables only).
    """
    path = Path(path)
    compression = _compression(path)
    nrows = read_csv_kwargs.pop("nrows", HEAD_ROWS)
    if compression == "parquet":
        return _read_parquet(path, nrows, read_csv_kwargs.get("usecols"), read_csv_kwargs.get("dtype"))
    if compression == "excel":
        return _read_excel(path, nrows, read_csv_kwargs)
    dialect = table_dialect(path)
    for key, value in dialect.read_kwargs().items():
        read_csv_kwargs.setdefault("sep" if key == "delimiter" else key, value)
    if "delimiter" in read_csv_kwargs:
        read_csv_kwargs.pop("sep")
    src = _source(path, compression)
    if read_csv_kwargs.get("chunksize"):
        return _chunks(src, nrows, read_csv_kwargs)
    with src.open() as fh:
        return pd.read_csv(fh, nrows=nrows, **read_csv_kwargs)


def _chunks(src: _Source, nrows: int | None, kwargs: dict[str, Any]) -> Iterator[pd.DataFrame]:
    with src.open() as fh:
        yield from pd.read_csv(fh, nrows=nrows, **kwargs)


def _read_excel(path: Path, nrows: int | None, kwargs: dict[str, Any]) -> pd.DataFrame:
    """The first sheet of a workbook (openpyxl reads .xlsx, xlrd .xls: the [tables] extra)."""
    allowed = {k: v for k, v in kwargs.items() if k in ("usecols", "dtype", "keep_default_na", "header")}
    try:
        return pd.read_excel(path, nrows=nrows, **allowed)
    except ImportError as exc:
        package = "xlrd" if path.suffix.lower() == ".xls" else "openpyxl"
        raise InventoryError(f"reading Excel needs {package} (pip install 'mle-star[tables]'): {exc}") from None


def _excel_facts(path: Path) -> dict:
    frame = _read_excel(path, HEAD_ROWS, {})
    return {"format": "excel", "compression": "excel", "n_columns": frame.shape[1],
            "columns": [str(c) for c in frame.columns[:MAX_COLUMNS]],
            "head": [[_cut(str(v)) for v in row[:MAX_COLUMNS]] for row in frame.head(3).itertuples(index=False)],
            "column_facts": _column_facts(frame), "n_rows": len(frame), "n_rows_exact": len(frame) < HEAD_ROWS,
            "dialect": "an Excel workbook (first sheet)"}


def _read_parquet(path: Path, nrows: int | None, usecols: list | None = None, dtype: Any = None) -> pd.DataFrame:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise InventoryError("reading parquet needs pyarrow (pip install 'mle-star[tables]')") from None
    columns = [str(c) for c in usecols] if usecols is not None else None
    if nrows == 0:
        schema = pq.read_schema(path)
        return pd.DataFrame(columns=[n for n in schema.names if columns is None or n in columns])
    if nrows is None:
        frame = pq.read_table(path, columns=columns).to_pandas()
    else:
        batch = next(pq.ParquetFile(path).iter_batches(batch_size=nrows, columns=columns), None)
        frame = batch.to_pandas() if batch is not None else pd.DataFrame()
    return frame.astype(dtype) if dtype is not None else frame


