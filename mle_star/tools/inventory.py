"""Bounded facts about any Kaggle-style data folder, for the model's prompts.

A task may hold a 5 GB CSV, 200,000 images or archives of audio clips, so nothing here reads a
whole large file: tables are counted by streaming bytes and parsed only for their first rows,
images and audio are read for their headers, archives for their member lists, and the folder walk
stops at a number of entries and a time budget. Facts are gathered cheapest-first (headers of
every file, then row and record counts) so a tight budget still describes every file.
"""

from __future__ import annotations

import bz2
import codecs
import csv
import functools
import gzip
import heapq
import io
import itertools
import json
import lzma
import os
import re
import stat
import struct
import tarfile
import time
import warnings
import wave
import zipfile
from collections import Counter, deque
from collections.abc import Callable, Collection, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO, Any, Literal, ParamSpec, TypeVar, cast

import numpy as np
import pandas as pd
from PIL import Image, UnidentifiedImageError

from mle_star.tools.dialect import Dialect, NotText, sniff

Kind = Literal["table", "json", "image", "audio", "archive", "text", "array", "other"]

MiB = 1 << 20
CHUNK = 8 * MiB  # row counting reads this much at a time
HEAD_ROWS = 2000  # rows pandas parses for column facts ...
HEAD_BYTES = 16 * MiB  # ... from at most this many bytes
CUT = 60  # cells and example strings are cut to this many characters
MAX_COLUMNS = 500  # very wide tables: facts for the first columns only
JSON_PEEK = 2 * MiB  # large JSON: records are sampled from this prefix
JSON_SAMPLE = 200  # records whose keys are described
JSON_COUNT_LIMIT = 50 * MiB  # arrays above this are not decoded to the end
JSON_MAX_ITEM = 64 * MiB  # one record larger than this is treated as unreadable
JSON_MAX_KEYS = 300
SMALL_FOLDER = 20  # folders with more files or sub-folders are summarised
TAR_MAX_MEMBERS = 100_000  # tar has no index: listing reads the whole stream
TAR_SECONDS = 5.0
ROOT_KEEP = 50_000  # names the root keeps for choosing what to list

TABLE_EXT = {".csv", ".tsv", ".tab"}
PARQUET_EXT = {".parquet", ".pq"}
EXCEL_EXT = {".xlsx", ".xlsm", ".xls"}
JSON_EXT = {".json", ".jsonl", ".ndjson", ".geojson"}
JSON_LINES_EXT = {".jsonl", ".ndjson"}
IMAGE_EXT = {".jpg", ".jpeg", ".png", ".gif", ".bmp", ".tif", ".tiff", ".webp", ".ppm", ".pgm"}
AUDIO_EXT = {".wav", ".mp3", ".flac", ".ogg", ".aif", ".aiff", ".aifc", ".au", ".m4a", ".opus"}
ARRAY_EXT = {".npy", ".npz"}
TEXT_EXT = {".txt", ".md", ".rst", ".log"}
COMPRESSED = {".gz": "gzip", ".zip": "zip", ".bz2": "bz2", ".xz": "xz"}
TAR_EXT = {".tar", ".tgz", ".tbz2", ".txz"}
ARCHIVE_EXT = {".zip": "zip", ".gz": "gzip", ".bz2": "bz2", ".xz": "xz", ".7z": "7z", ".rar": "rar"}
SAMPLE_KINDS = {"table", "json", "image", "audio", "array", "text"}
MAGIC: list[tuple[bytes, Kind, str]] = [
    (b"\x89PNG", "image", "png"), (b"\xff\xd8\xff", "image", "jpeg"), (b"GIF8", "image", "gif"),
    (b"PK\x03\x04", "archive", "zip"), (b"\x1f\x8b", "archive", "gzip"), (b"PAR1", "table", "parquet"),
    (b"\x93NUMPY", "array", "npy"), (b"7z\xbc\xaf", "archive", "7z"), (b"Rar!", "archive", "rar"),
]

P = ParamSpec("P")
R = TypeVar("R")
Counting = Callable[[float | None], None]  # adds costly counts to facts, until a deadline


class InventoryError(ValueError):
    """A data folder or file that cannot be described; the message is one line."""


@dataclass
class FileFacts:
    path: str  # posix path relative to the data root
    kind: Kind
    size: int  # bytes on disk
    details: dict  # kind-specific, JSON-serialisable; "error" holds a one-line reason


@dataclass
class FolderFacts:
    path: str  # relative folder ("." for the root's files beyond max_listed)
    n_files: int  # all files below it
    total_size: int
    by_extension: dict[str, int]
    examples: list[str]  # file names relative to the folder
    sample: FileFacts | None  # one representative file
    n_subfolders: int = 0
    subfolders: dict[str, int] = field(default_factory=dict)  # name -> files below it (first 20)


@dataclass
class Inventory:
    root: str
    files: list[FileFacts]  # files listed individually
    folders: list[FolderFacts]  # folders with many files, summarised
    n_files: int
    total_size: int
    truncated: bool  # a bound (entries, time) cut the walk or left facts out

    def to_dict(self) -> dict:
        return asdict(self)

    def find(self, path: str) -> FileFacts | None:
        """Facts of a listed file or a folder's sample, by relative path."""
        for facts in self.files + [f.sample for f in self.folders if f.sample]:
            if facts.path == path:
                return facts
        return None

    def render(self, max_chars: int = 6000) -> str:
        """Text for prompts: one line per entry (tables first), then first rows; capped."""
        return _render(self, max_chars)


# ---------------------------------------------------------------- small helpers


def _reason(exc: BaseException) -> str:
    """One line for a failure, so an error never floods a prompt."""
    text = str(exc).strip().splitlines()
    first = text[0] if text else ""
    name = type(exc).__name__
    line = first if isinstance(exc, InventoryError) else f"{name}: {first}" if first else name
    return line[:200]


def _public(fn: Callable[P, R]) -> Callable[P, R]:
    """Public readers raise only InventoryError, naming the file."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        name = Path(str(args[0])).name if args else "file"
        try:
            return fn(*args, **kwargs)
        except InventoryError as exc:
            if str(exc).startswith(name):
                raise
            raise InventoryError(f"{name}: {exc}") from exc
        except Exception as exc:
            raise InventoryError(f"{name}: {_reason(exc)}") from exc

    return wrapper


def _deadline(seconds: float | None) -> float | None:
    return None if seconds is None else time.monotonic() + seconds


def _late(deadline: float | None) -> bool:
    return deadline is not None and time.monotonic() > deadline


def _cut(text: str, n: int = CUT) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def _suffixes(name: str) -> tuple[str, str]:
    """The last suffix and the one before it, lower-cased: 'x.csv.gz' -> ('.gz', '.csv')."""
    path = PurePosixPath(name.lower())
    return path.suffix, PurePosixPath(path.stem).suffix


def _ext(name: str) -> str:
    """Extension for counting, keeping meaningful double ones ('.csv.gz', '.tar.gz')."""
    last, inner = _suffixes(name)
    if last in COMPRESSED and (inner in TABLE_EXT | JSON_EXT or inner == ".tar"):
        return inner + last
    return last or "(none)"


def classify(name: str) -> tuple[Kind, str]:
    """Kind and format by file name; tables and JSON carry their compression as format."""
    last, inner = _suffixes(name)
    if last in COMPRESSED:
        if inner in TABLE_EXT:
            return "table", COMPRESSED[last]
        if inner in JSON_EXT:
            return "json", COMPRESSED[last]
        if inner == ".tar" and last != ".zip":
            return "archive", "tar"
    if last in TABLE_EXT:
        return "table", "none"
    if last in PARQUET_EXT:
        return "table", "parquet"
    if last in EXCEL_EXT:
        return "table", "excel"
    if last in JSON_EXT:
        return "json", "none"
    if last in IMAGE_EXT:
        return "image", last[1:]
    if last in AUDIO_EXT:
        return "audio", last[1:]
    if last in ARRAY_EXT:
        return "array", last[1:]
    if last in TAR_EXT:
        return "archive", "tar"
    if last in ARCHIVE_EXT:
        return "archive", ARCHIVE_EXT[last]
    if last in TEXT_EXT:
        return "text", last[1:]
    return "other", ""


def _sniff_kind(path: Path) -> tuple[Kind, str]:
    """Kind of a file with an unknown extension, from its first bytes."""
    with open(path, "rb") as fh:
        head = fh.read(4096)
    for magic, kind, fmt in MAGIC:
        if head.startswith(magic):
            return kind, fmt
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "audio", "wav"
    if head and b"\x00" not in head:
        try:
            head.decode("utf-8")
        except UnicodeDecodeError:
            return "other", ""
        return "text", ""
    return "other", ""


def _is_junk(name: str) -> bool:
    """macOS archive leftovers that are not data."""
    return name.startswith("__MACOSX/") or PurePosixPath(name).name in {".DS_Store", "Thumbs.db"}


# ---------------------------------------------------------------- byte streams


@dataclass(frozen=True)
class _Source:
    """A file or archive member that can be re-opened as a stream of its decompressed bytes."""

    name: str
    size: int  # bytes as stored
    open: Callable[[], IO[bytes]]
    raw_size: int | None = None  # decompressed bytes when known (for estimates)
    compression: str = "none"


def _open_member(path: Path, member: str) -> IO[bytes]:
    # The member stream keeps the archive file open until it is closed itself.
    archive = zipfile.ZipFile(path)
    try:
        return archive.open(member)
    finally:
        archive.close()


def _single_member(path: Path) -> zipfile.ZipInfo:
    """The data file of a zip that wraps one table or JSON file."""
    with zipfile.ZipFile(path) as archive:
        real = [i for i in archive.infolist() if not i.is_dir() and not _is_junk(i.filename)]
    if len(real) != 1:
        real = [i for i in real if classify(i.filename)[0] in ("table", "json")]
    if len(real) != 1:
        raise InventoryError(f"{path.name}: zip holds {len(real)} data files, expected one")
    return real[0]


def _open_decompressed(path: Path, compression: str) -> IO[bytes]:
    """The decompressed bytes of a gzip / bz2 / xz file, as a binary stream."""
    if compression == "gzip":
        # GzipFile is a full binary file object (read, readline, seek, tell, a context manager),
        # but typeshed does not declare it an IO[bytes] as it does BZ2File and LZMAFile (its
        # ``mode`` is an int); nothing here reads ``mode``.
        return cast(IO[bytes], gzip.open(path, "rb"))
    if compression == "bz2":
        return bz2.open(path, "rb")
    if compression == "xz":
        return lzma.open(path, "rb")
    raise ValueError(f"not a single-stream compression: {compression!r}")


def _source(path: Path, compression: str) -> _Source:
    size = path.stat().st_size
    if compression in ("gzip", "bz2", "xz"):
        return _Source(path.name, size, lambda: _open_decompressed(path, compression), None, compression)
    if compression == "zip":
        info = _single_member(path)
        return _Source(info.filename, size, lambda: _open_member(path, info.filename),
                       info.file_size, "zip")
    return _Source(path.name, size, lambda: open(path, "rb"), size, "none")


def _progress(src: _Source, fh: IO[bytes], n_read: int) -> float | None:
    """Share of the stream read so far, for extrapolating a count cut by the deadline."""
    if src.raw_size:
        return n_read / src.raw_size
    raw = getattr(fh, "fileobj", None)  # gzip: position in the compressed file
    if raw is not None and src.size:
        return raw.tell() / src.size
    return None


# ---------------------------------------------------------------- counting rows


def _count_chunk(chunk: bytes, in_quote: bool, nl: int = 10) -> tuple[int, int, bool]:
    """Line breaks in ``chunk``: all, those outside double quotes, and the quote state after."""
    lines = chunk.count(bytes([nl]))
    quotes = chunk.count(b'"')
    if not quotes:
        return lines, 0 if in_quote else lines, in_quote
    if not lines:
        return 0, 0, in_quote ^ bool(quotes % 2)
    outside = 0
    for start in range(0, len(chunk), MiB):  # 1 MiB slices keep numpy's temporaries small
        part = np.frombuffer(chunk, np.uint8, count=min(MiB, len(chunk) - start), offset=start)
        inside = np.cumsum(part == 34, dtype=np.uint8) & 1  # odd quotes so far (wraps evenly)
        if in_quote:
            inside ^= 1
        outside += int(np.count_nonzero((part == nl) & (inside == 0)))
        in_quote = bool(inside[-1])
    return lines, outside, in_quote


@dataclass
class _Scan:
    lines: int = 0  # line breaks, plus an unterminated last line
    records: int = 0  # line breaks outside quotes, likewise
    balanced: bool = True  # quotes paired up at the end
    done: bool = True  # False: stopped at the deadline
    fraction: float | None = None  # share read when stopped


def _scan(src: _Source, deadline: float | None, quotes: bool = True) -> _Scan:
    """Stream the bytes once, counting lines and (when ``quotes``) records outside quotes."""
    out, in_quote, nl, n_read, tail = _Scan(), False, 10, 0, b""
    with src.open() as fh:
        while chunk := fh.read(CHUNK):
            if not n_read and b"\n" not in chunk and b"\r" in chunk:
                nl = 13  # classic Mac line ends
            if quotes:
                lines, outside, in_quote = _count_chunk(chunk, in_quote, nl)
            else:  # JSON lines and text: a line break is always a record end
                lines = outside = chunk.count(bytes([nl]))
            out.lines += lines
            out.records += outside
            n_read += len(chunk)
            tail = (tail + chunk[-64:])[-64:]
            if _late(deadline):
                out.done, out.fraction = False, _progress(src, fh, n_read)
                return out
    if tail and tail[-1] != nl:
        out.lines += 1
        out.records += not in_quote
    # pandas skips trailing blank lines, so they are not rows
    blank = max(0, tail[len(tail.rstrip(b"\r\n")):].count(bytes([nl])) - 1)
    out.lines -= blank
    out.records -= blank
    out.balanced = not in_quote
    return out


def _row_facts(scan: _Scan) -> dict:
    """n_rows (minus the header) with whether it is exact and why not."""
    if not scan.done:
        if scan.fraction:
            estimate = round(max(0, scan.records - 1) / scan.fraction)
            return {"n_rows": estimate, "n_rows_exact": False,
                    "n_rows_note": f"estimated from the first {scan.fraction:.0%} of the data"}
        return {"n_rows": max(0, scan.records - 1), "n_rows_exact": False,
                "n_rows_note": "at least: counting stopped at the time budget"}
    if not scan.balanced:
        return {"n_rows": max(0, scan.lines - 1), "n_rows_exact": False,
                "n_rows_note": "approximate: unbalanced quotes, counted lines"}
    rows = max(0, scan.records - 1)
    if scan.records != scan.lines:
        return {"n_rows": rows, "n_rows_exact": False,
                "n_rows_note": "approximate: quoted fields contain line breaks"}
    return {"n_rows": rows, "n_rows_exact": True}


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


# ---------------------------------------------------------------- parquet footer


class _Thrift:
    """The part of Thrift's compact protocol needed to read a parquet footer."""

    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def byte(self) -> int:
        value = self.data[self.pos]
        self.pos += 1
        return value

    def varint(self) -> int:
        result = shift = 0
        while True:
            b = self.byte()
            result |= (b & 0x7F) << shift
            if not b & 0x80:
                return result
            shift += 7

    def zigzag(self) -> int:
        n = self.varint()
        return (n >> 1) ^ -(n & 1)

    def value(self, kind: int) -> Any:
        if kind in (1, 2):
            return kind == 1
        if kind == 3:
            return struct.unpack("b", bytes([self.byte()]))[0]
        if kind in (4, 5, 6):
            return self.zigzag()
        if kind == 7:
            self.pos += 8
            return struct.unpack("<d", self.data[self.pos - 8:self.pos])[0]
        if kind == 8:
            n = self.varint()
            self.pos += n
            return self.data[self.pos - n:self.pos]
        if kind in (9, 10):
            return self.list()
        if kind == 11:
            n = self.varint()
            types = self.byte() if n else 0
            return [(self.value(types >> 4), self.value(types & 15)) for _ in range(n)]
        if kind == 12:
            return self.struct()
        raise InventoryError(f"corrupt parquet footer (thrift type {kind})")

    def list(self) -> list:
        head = self.byte()
        size, kind = head >> 4, head & 0x0F
        if size == 15:
            size = self.varint()
        if kind in (1, 2):  # booleans in lists are one byte each
            return [self.byte() == 1 for _ in range(size)]
        return [self.value(kind) for _ in range(size)]

    def struct(self) -> dict[int, Any]:
        out, last = {}, 0
        while (head := self.byte()) != 0:
            delta = head >> 4
            fid = last + delta if delta else self.zigzag()
            out[fid] = self.value(head & 0x0F)
            last = fid
        return out


PARQUET_TYPES = ("boolean", "int32", "int64", "int96", "float", "double", "binary", "fixed_binary")
PARQUET_CONVERTED = {0: "string", 5: "decimal", 6: "date", 9: "timestamp", 10: "timestamp"}


def _parquet_columns(schema: list[dict]) -> list[tuple[str, str]]:
    """Leaf columns (dotted for nested groups) with a readable type."""
    cols: list[tuple[str, str]] = []

    def walk(i: int, prefix: str) -> int:
        element = schema[i]
        name = prefix + element.get(4, b"").decode("utf-8", "replace")
        children = element.get(5, 0)
        if not children:
            ptype = PARQUET_TYPES[element[1]] if element.get(1) in range(8) else "?"
            logical = element.get(10, {})
            cols.append((name, "string" if 1 in logical else
                         PARQUET_CONVERTED.get(element.get(6, -1), ptype)))
            return i + 1
        j = i + 1
        for _ in range(children):
            j = walk(j, name + ".")
        return j

    j = 1
    for _ in range(schema[0].get(5, 0) if schema else 0):
        j = walk(j, "")
    return cols


def _parquet_facts(path: Path) -> dict:
    """Rows, columns and types from the footer; no column data is read."""
    size = path.stat().st_size
    with open(path, "rb") as fh:
        if size < 12:
            raise InventoryError("too small to be a parquet file")
        fh.seek(-8, os.SEEK_END)
        tail = fh.read(8)
        if tail[4:] != b"PAR1":
            raise InventoryError("not a parquet file (no PAR1 footer)")
        n = struct.unpack("<I", tail[:4])[0]
        if n > min(size - 8, HEAD_BYTES * 4):
            raise InventoryError("corrupt parquet footer length")
        fh.seek(-8 - n, os.SEEK_END)
        meta = _Thrift(fh.read(n)).struct()
    columns = _parquet_columns(meta.get(2, []))
    return {
        "format": "parquet", "compression": "parquet", "n_rows": int(meta.get(3, 0)),
        "n_rows_exact": True, "n_columns": len(columns),
        "columns": [c for c, _ in columns[:MAX_COLUMNS]],
        "column_facts": [{"name": c, "kind": t, "dtype": t} for c, t in columns[:MAX_COLUMNS]],
        "n_row_groups": len(meta.get(4, [])),
        "created_by": _cut(meta.get(6, b"").decode("utf-8", "replace"), 80),
    }


# ---------------------------------------------------------------- JSON


class _ArrayReader:
    """Decodes a top-level JSON array item by item, holding one chunk and one item in memory."""

    def __init__(self, fh: IO[str], chunk: int = MiB) -> None:
        self.fh, self.chunk = fh, chunk
        self.buf, self.pos, self.eof, self.before = "", 0, False, 0
        self.decoder = json.JSONDecoder()

    @property
    def offset(self) -> int:
        """Characters consumed so far."""
        return self.before + self.pos

    def _more(self) -> None:
        pending = len(self.buf) - self.pos
        if pending > JSON_MAX_ITEM:
            raise InventoryError(f"a JSON record longer than {JSON_MAX_ITEM // MiB} MB")
        data = self.fh.read(max(self.chunk, pending))  # doubling keeps huge items linear
        self.before += self.pos
        self.buf, self.pos, self.eof = self.buf[self.pos:] + data, 0, not data

    def _peek(self) -> str:
        """The next non-space character ('' at the end), reading more as needed."""
        while True:
            while self.pos < len(self.buf) and self.buf[self.pos] in " \t\r\n":
                self.pos += 1
            if self.pos < len(self.buf) or self.eof:
                return self.buf[self.pos:self.pos + 1]
            self._more()

    def _item(self) -> Any:
        while True:
            try:
                value, end = self.decoder.raw_decode(self.buf, self.pos)
            except json.JSONDecodeError as exc:
                if self.eof:
                    raise InventoryError(f"invalid or truncated JSON: {exc.msg}") from None
                self._more()
                continue
            if end == len(self.buf) and not self.eof:  # a number may continue in the next chunk
                self._more()
                continue
            self.pos = end
            return value

    def items(self) -> Iterator[Any]:
        if self._peek() != "[":
            raise InventoryError("not a JSON array")
        self.pos += 1
        if self._peek() == "]":
            return
        while True:
            yield self._item()
            sep = self._peek()
            if sep == "]":
                return
            if sep != ",":
                raise InventoryError("invalid or truncated JSON: expected ',' or ']'")
            self.pos += 1
            self._peek()


def _text_stream(fh: IO[bytes]) -> IO[str]:
    return io.TextIOWrapper(fh, encoding="utf-8-sig", errors="replace")


def _json_format(text: str, name: str) -> str:
    last, inner = _suffixes(name)
    if last in JSON_LINES_EXT or (last in COMPRESSED and inner in JSON_LINES_EXT):
        return "lines"
    body = text.lstrip()
    if body.startswith("["):
        return "array"
    if not body.startswith("{"):
        raise InventoryError("does not start with a JSON array or object")
    try:
        _, end = json.JSONDecoder().raw_decode(body)
    except json.JSONDecodeError:
        return "lines" if "\n{" in body else "object"
    return "lines" if body[end:].lstrip().startswith(("{", "[")) else "object"


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        inner = sorted({_type_name(v) for v in value[:5]})
        return f"list[{'|'.join(inner)}]" if inner else "list"
    return {int: "int", float: "float", str: "str"}.get(type(value), type(value).__name__)


def _collect_keys(record: dict, prefix: str, depth: int, stats: dict[str, dict]) -> None:
    for key, value in record.items():
        path = f"{prefix}{key}"
        entry = stats.get(path)
        if entry is None:
            if len(stats) >= JSON_MAX_KEYS:
                continue
            entry = stats[path] = {"types": Counter(), "present": 0, "chars": 0, "strings": 0}
        entry["present"] += 1
        entry["types"][_type_name(value)] += 1
        if isinstance(value, str):
            entry["chars"] += len(value)
            entry["strings"] += 1
        elif isinstance(value, dict) and depth < 3:
            _collect_keys(value, path + ".", depth + 1, stats)


def _key_facts(records: list) -> list[dict]:
    """Every key (dotted to depth 3) with its types, share present and mean string length."""
    stats: dict[str, dict] = {}
    for record in records:
        if isinstance(record, dict):
            _collect_keys(record, "", 1, stats)
    n = max(1, sum(isinstance(r, dict) for r in records))
    facts = []
    for key, entry in stats.items():
        fact: dict[str, Any] = {"key": key, "types": [t for t, _ in entry["types"].most_common()],
                                "present": round(entry["present"] / n, 3)}
        if entry["strings"]:
            fact["mean_len"] = round(entry["chars"] / entry["strings"], 1)
        facts.append(fact)
    return facts


def _shorten(value: Any, depth: int = 0) -> Any:
    """A JSON value cut down for a prompt: short strings, 3 list items, 20 keys, depth 3."""
    if isinstance(value, str):
        return _cut(value)
    if isinstance(value, list):
        items = [_shorten(v, depth + 1) for v in value[:3]]
        return items + ([f"... {len(value) - 3} more"] if len(value) > 3 else [])
    if isinstance(value, dict):
        if depth >= 3:
            return "{...}"
        out = {str(k): _shorten(v, depth + 1) for k, v in itertools.islice(value.items(), 20)}
        if len(value) > 20:
            out["..."] = f"{len(value) - 20} more keys"
        return out
    return value


def _records_facts(records: list) -> dict:
    facts: dict[str, Any] = {"n_sampled": len(records), "keys": _key_facts(records)}
    kinds = Counter(_type_name(r) for r in records)
    if kinds and kinds.most_common(1)[0][0] != "object":
        facts["record_types"] = dict(kinds)
    if records:
        facts["example"] = _shorten(records[0])
    return facts


def _first_lines(text: str, complete: bool) -> tuple[list, int]:
    """Records from the first JSON lines of a prefix, and how many of them failed to parse."""
    lines = text.split("\n")
    if not complete:
        lines = lines[:-1]  # the last line may be cut mid-record
    records, bad, first_error = [], 0, ""
    for line in itertools.islice((ln for ln in lines if ln.strip()), JSON_SAMPLE):
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError as exc:
            bad += 1
            first_error = first_error or exc.msg
    if bad and not records:
        raise InventoryError(f"no JSON line parses: {first_error}")
    return records, bad


def _first_items(src: _Source) -> tuple[list, str | None]:
    """Records from the start of an array (at most ~JSON_PEEK characters), and any error."""
    records: list = []
    with src.open() as fh:
        reader = _ArrayReader(_text_stream(fh), chunk=256 * 1024)
        try:
            for item in reader.items():
                records.append(item)
                if len(records) >= JSON_SAMPLE or reader.offset > JSON_PEEK:
                    break
        except InventoryError as exc:
            if not records:
                raise
            return records, f"{exc} (after {len(records)} records)"
    return records, None


def _object_facts(src: _Source, text: str, complete: bool) -> dict:
    """A top-level object: its keys, or the records it holds (under a key or as a mapping)."""
    if not complete and (src.raw_size or src.size) > JSON_COUNT_LIMIT:
        return {"format": "object", "keys": [],
                "note": f"JSON object larger than {JSON_COUNT_LIMIT // MiB} MB: not parsed"}
    if complete:
        obj = json.loads(text)
    else:
        with src.open() as fh:
            obj = json.load(_text_stream(fh))
    facts: dict[str, Any] = {"format": "object"}
    if not isinstance(obj, dict):
        return {**facts, **_records_facts([obj])}
    values = list(itertools.islice(obj.values(), JSON_SAMPLE))
    lists = {k: v for k, v in obj.items() if isinstance(v, list) and v and isinstance(v[0], dict)}
    if len(obj) > SMALL_FOLDER and values and all(isinstance(v, dict) for v in values):
        facts["n_entries"] = len(obj)  # {id: record, ...}
        facts["example_keys"] = [_cut(str(k), 40) for k in itertools.islice(obj, 3)]
        return {**facts, **_records_facts(values)}
    facts["keys"] = _key_facts([obj])
    if lists:
        key = max(lists, key=lambda k: len(lists[k]))
        facts["records_key"], facts["n_records"] = key, len(lists[key])
        records = _records_facts(lists[key][:JSON_SAMPLE])
        facts["record_keys"], facts["example"] = records["keys"], records.get("example")
    else:
        facts["example"] = _shorten(obj)
    return facts


def _json_head(src: _Source) -> dict:
    with src.open() as fh:
        raw = fh.read(JSON_PEEK)
        complete = not fh.read(1)
    text = raw.decode("utf-8-sig", errors="replace")
    if not text.strip():
        raise InventoryError("empty file")
    fmt = _json_format(text, src.name)
    if fmt == "object":
        return {"compression": src.compression, **_object_facts(src, text, complete)}
    facts: dict[str, Any] = {"format": fmt, "compression": src.compression}
    if fmt == "lines":
        records, bad = _first_lines(text, complete)
        if bad:
            facts["bad_lines_in_sample"] = bad
    else:
        records, error = _first_items(src)
        if error:
            facts["error"] = error
    return {**facts, **_records_facts(records)}


def _json_count(src: _Source, details: dict, deadline: float | None) -> None:
    """n_records: JSON lines by counting lines, arrays by decoding (only below the size limit)."""
    if details["format"] == "lines":
        scan = _scan(src, deadline, quotes=False)
        details["n_records"], details["n_records_exact"] = scan.lines, scan.done
        if not scan.done and scan.fraction:
            details["n_records"] = round(scan.lines / scan.fraction)
            details["n_records_note"] = f"estimated from the first {scan.fraction:.0%} of the data"
        elif not scan.done:
            details["n_records_note"] = "at least: counting stopped at the time budget"
        return
    if (src.raw_size or src.size) > JSON_COUNT_LIMIT:
        details["n_records"] = "unknown"
        details["n_records_note"] = f"array larger than {JSON_COUNT_LIMIT // MiB} MB: not counted"
        return
    n = 0
    with src.open() as fh:
        for _ in _ArrayReader(_text_stream(fh)).items():
            n += 1
            if n % 1000 == 0 and _late(deadline):
                details.update(n_records=n, n_records_exact=False,
                               n_records_note="at least: counting stopped at the time budget")
                return
    details.update(n_records=n, n_records_exact=True)


def _json(path: Path, compression: str) -> tuple[dict, Counting | None]:
    src = _source(path, compression)
    details = _json_head(src)
    if details["format"] == "object" or "error" in details:
        return details, None

    def count(deadline: float | None) -> None:
        try:
            _json_count(src, details, deadline)
        except InventoryError as exc:
            details["error"] = str(exc)

    return details, count


@_public
def json_facts(path: Path, *, time_budget: float | None = None) -> dict:
    """Format, record count and key facts of a JSON / JSON-lines file (possibly compressed)."""
    path = Path(path)
    kind, compression = classify(path.name)
    details, count = _json(path, compression if kind == "json" else "none")
    if count:
        count(_deadline(time_budget))
    return details


# ---------------------------------------------------------------- images, audio, arrays, text


def _image_stream_facts(fh: IO[bytes]) -> dict:
    # Image.open parses the header only; pixels are decoded on first access, which never comes.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            im = Image.open(fh)
        except UnidentifiedImageError:  # its message names the file object, not the reason
            raise InventoryError("not a readable image (corrupt or unsupported format)") from None
        with im:
            return {"format": im.format, "width": im.width, "height": im.height, "mode": im.mode}


@_public
def image_facts(path: Path) -> dict:
    """Format, width, height and mode from the image header."""
    with open(path, "rb") as fh:
        return _image_stream_facts(fh)


WAV_ENCODINGS = {1: "PCM", 3: "float", 6: "A-law", 7: "mu-law"}


def _riff_facts(fh: IO[bytes]) -> dict:
    """WAV facts from the RIFF chunks, for encodings the wave module refuses (float, extensible)."""
    head = fh.read(12)
    if head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        raise InventoryError("not a RIFF/WAVE file")
    fmt: tuple[int, int, int, int] | None = None
    while len(chunk := fh.read(8)) == 8:
        cid, size = chunk[:4], struct.unpack("<I", chunk[4:])[0]
        if cid == b"fmt ":
            body = fh.read(size + (size & 1))
            tag, channels, rate, _, _, bits = struct.unpack("<HHIIHH", body[:16])
            if tag == 0xFFFE and len(body) >= 26:
                tag = struct.unpack("<H", body[24:26])[0]
            fmt = (tag, channels, rate, bits)
        elif cid == b"data":
            if fmt is None or not fmt[1] or not fmt[3]:
                raise InventoryError("WAV data before its format chunk")
            tag, channels, rate, bits = fmt
            frames = size // (channels * max(1, bits // 8))
            return {"format": "wav", "encoding": WAV_ENCODINGS.get(tag, f"format {tag}"),
                    "sample_rate": rate, "channels": channels, "sample_width": bits // 8,
                    "n_frames": frames, "duration": round(frames / rate, 3) if rate else None}
        else:
            fh.seek(size + (size & 1), os.SEEK_CUR)
    raise InventoryError("WAV file without a data chunk")


def _audio_stream_facts(fh: IO[bytes], name: str) -> dict:
    ext = _suffixes(name)[0] or ".wav"
    if ext == ".wav":
        try:
            with wave.open(fh) as w:
                rate, frames = w.getframerate(), w.getnframes()
                return {"format": "wav", "encoding": "PCM", "sample_rate": rate,
                        "channels": w.getnchannels(), "sample_width": w.getsampwidth(),
                        "n_frames": frames, "duration": round(frames / rate, 3) if rate else None}
        except (wave.Error, EOFError):
            fh.seek(0)
            return _riff_facts(fh)
    if ext in {".aif", ".aiff", ".aifc"}:
        facts = _aifc_facts(fh, ext)
        if facts is not None:
            return facts
    return {"format": ext[1:],
            "note": f"{ext} audio: reading it needs an extra package (e.g. soundfile or librosa)"}


def _aifc_facts(fh: IO[bytes], ext: str) -> dict | None:
    """An AIFF / AIFC clip's header; None where the aifc module is gone (removed in Python 3.13)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            import aifc
        except ImportError:
            return None
    with aifc.open(fh) as a:
        rate, frames = a.getframerate(), a.getnframes()
        return {"format": ext[1:], "encoding": a.getcomptype().decode("ascii", "replace"),
                "sample_rate": rate, "channels": a.getnchannels(),
                "sample_width": a.getsampwidth(), "n_frames": frames,
                "duration": round(frames / rate, 3) if rate else None}


@_public
def audio_facts(path: Path) -> dict:
    """WAV/AIFF: sample rate, channels, sample width, duration; other formats: format only."""
    with open(path, "rb") as fh:
        return _audio_stream_facts(fh, Path(path).name)


def _npy_stream_facts(fh: IO[bytes]) -> dict:
    """Shape and dtype from the .npy header; the array itself is never loaded."""
    version = np.lib.format.read_magic(fh)
    if version == (1, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_1_0(fh)
    else:  # 2.0 and 3.0 share the 4-byte header length
        shape, fortran, dtype = np.lib.format.read_array_header_2_0(fh)
    return {"format": "npy", "shape": [int(n) for n in shape], "dtype": str(dtype),
            "fortran_order": bool(fortran)}


def _array_facts(path: Path, fmt: str) -> dict:
    if fmt == "npy":
        with open(path, "rb") as fh:
            return _npy_stream_facts(fh)
    arrays = {}
    with zipfile.ZipFile(path) as archive:
        names = [n for n in archive.namelist() if n.endswith(".npy")]
        for name in names[:20]:
            with archive.open(name) as fh:
                arrays[name[:-4]] = _npy_stream_facts(fh)
    return {"format": "npz", "n_arrays": len(names), "arrays": arrays}


def _text_facts(path: Path) -> dict:
    with open(path, "rb") as fh:
        first = fh.readline(1000).decode("utf-8", errors="replace").strip()
    facts: dict[str, Any] = {"first_line": _cut(first, 200)}
    if path.stat().st_size <= JSON_COUNT_LIMIT:
        facts["n_lines"] = _scan(_source(path, "none"), None, quotes=False).lines
    return facts


# ---------------------------------------------------------------- archives


def _examples(names: list[str], exts: Counter, k: int = 5) -> list[str]:
    """A few names: the first of each common extension, then the first names overall."""
    first: dict[str, str] = {}
    for name in names:
        ext = _ext(name)
        if ext not in first or name < first[ext]:
            first[ext] = name
    picked = [first[e] for e, _ in exts.most_common(k) if e in first]
    for name in heapq.nsmallest(k, names):
        if len(picked) >= k:
            break
        if name not in picked:
            picked.append(name)
    return picked[:k]


def _members_summary(entries: list[tuple[str, int]]) -> dict:
    names = [n for n, _ in entries]
    exts = Counter(_ext(n) for n in names)
    dirs = Counter(n.split("/", 1)[0] + "/" for n in names if "/" in n)
    return {"n_members": len(entries), "total_uncompressed": sum(s for _, s in entries),
            "by_extension": dict(exts.most_common(12)), "examples": _examples(names, exts),
            "top_dirs": dict(dirs.most_common(8))}


def _inspect_stream(name: str, opener: Callable[[], IO[bytes]], size: int) -> dict:
    """Facts of an archive member (or a compressed file's content) from its stream."""
    kind, fmt = classify(name)
    facts: dict[str, Any] = {"member": name, "kind": kind}
    try:
        if kind == "image":
            with opener() as fh:
                facts.update(_image_stream_facts(fh))
        elif kind == "audio":
            with opener() as fh:
                facts.update(_audio_stream_facts(fh, name))
        elif kind == "array" and fmt == "npy":
            with opener() as fh:
                facts.update(_npy_stream_facts(fh))
        elif kind == "table" and fmt == "none":
            facts.update(_table_head(_Source(name, size, opener, size)))
        elif kind == "json" and fmt == "none":
            facts.update(_json_head(_Source(name, size, opener, size)))
        elif kind == "text":
            with opener() as fh:
                facts["first_line"] = _cut(fh.readline(1000).decode("utf-8", "replace").strip(), 200)
    except Exception as exc:
        facts["error"] = _reason(exc)
    return facts


def _zip_facts(path: Path) -> dict:
    with zipfile.ZipFile(path) as archive:
        infos = [i for i in archive.infolist() if not i.is_dir()]
    facts: dict[str, Any] = {"format": "zip",
                             **_members_summary([(i.filename, i.file_size) for i in infos])}
    real = [i for i in infos if not _is_junk(i.filename)]
    if not real:
        return facts
    if len(real) == 1 and classify(real[0].filename) == ("table", "none"):
        member = real[0]
        facts["single_table"] = member.filename
        facts["pandas_reads_directly"] = len(infos) == 1  # pandas refuses zips of several files
        facts["table"] = _table_head(_Source(member.filename, path.stat().st_size,
                                             lambda: _open_member(path, member.filename),
                                             member.file_size, "zip"))
        return facts
    top = Counter(_ext(i.filename) for i in real).most_common(1)[0][0]
    pick = min((i for i in real if _ext(i.filename) == top), key=lambda i: i.filename)
    if classify(pick.filename)[0] in SAMPLE_KINDS:
        facts["sample"] = _inspect_stream(
            pick.filename, lambda: _open_member(path, pick.filename), pick.file_size)
    return facts


def _tar_member(archive: tarfile.TarFile, member: tarfile.TarInfo) -> IO[bytes]:
    """The stream of a regular file in a tar (only links and special files have none)."""
    stream = archive.extractfile(member)
    if stream is None:
        raise InventoryError(f"{member.name}: not a regular file")
    return stream


def _tar_facts(path: Path, deadline: float | None) -> dict:
    """Members of a tar (read sequentially, so bounded by count and time)."""
    stop = time.monotonic() + TAR_SECONDS
    if deadline is not None:
        stop = min(stop, deadline)
    entries: list[tuple[str, int]] = []
    sample: dict | None = None
    complete = True
    with tarfile.open(path, "r:*") as archive:
        for member in archive:
            if not member.isfile():
                continue
            entries.append((member.name, member.size))
            if sample is None and classify(member.name)[0] in SAMPLE_KINDS and not _is_junk(member.name):
                sample = _inspect_stream(member.name, functools.partial(_tar_member, archive, member),
                                         member.size)
            if len(entries) >= TAR_MAX_MEMBERS or time.monotonic() > stop:
                complete = False
                break
    last = _suffixes(path.name)[0]
    compression = {".gz": "gzip", ".tgz": "gzip", ".bz2": "bz2", ".tbz2": "bz2",
                   ".xz": "xz", ".txz": "xz"}.get(last, "none")
    facts: dict[str, Any] = {"format": "tar", "compression": compression,
                             **_members_summary(entries)}
    if not complete:
        facts["listing_complete"] = False
    if sample:
        facts["sample"] = sample
    return facts


def _archive(path: Path, fmt: str, deadline: float | None) -> tuple[dict, Counting | None]:
    if fmt == "zip":
        facts = _zip_facts(path)
        if "table" not in facts:
            return facts, None
        src = _source(path, "zip")
        return facts, lambda dl: facts["table"].update(_row_facts(_scan(src, dl)))
    if fmt == "tar":
        return _tar_facts(path, deadline), None
    if fmt in ("gzip", "bz2", "xz"):
        inner = PurePosixPath(path.name).stem
        inner_facts: dict[str, Any] = {"format": fmt, "inner_name": inner}
        if classify(inner)[0] in SAMPLE_KINDS:
            inner_facts["sample"] = _inspect_stream(inner, lambda: _open_decompressed(path, fmt), 0)
        return inner_facts, None
    tool = {"7z": "py7zr or 7-Zip", "rar": "rarfile or unrar"}.get(fmt, "an extra tool")
    return {"format": fmt, "note": f"not opened: listing it needs {tool}"}, None


@_public
def archive_facts(path: Path, *, time_budget: float | None = None) -> dict:
    """Members, sizes and one sample member of a zip / tar(.gz) / 7z / rar; never extracts."""
    path = Path(path)
    kind, fmt = classify(path.name)
    if kind != "archive":
        fmt = "zip" if zipfile.is_zipfile(path) else "tar" if tarfile.is_tarfile(path) else fmt
    deadline = _deadline(time_budget)
    facts, count = _archive(path, fmt, deadline)
    if count:
        count(deadline)
    return facts


# ---------------------------------------------------------------- one file


def _inspect(path: Path, kind: Kind, fmt: str, deadline: float | None
             ) -> tuple[dict, Counting | None]:
    """Cheap facts now, plus a callback that adds the costly counts later."""
    if kind == "table":
        return _table(path, fmt)
    if kind == "json":
        return _json(path, fmt)
    if kind == "archive":
        return _archive(path, fmt, deadline)
    if kind == "image":
        with open(path, "rb") as fh:
            return _image_stream_facts(fh), None
    if kind == "audio":
        with open(path, "rb") as fh:
            name = path.name if _suffixes(path.name)[0] in AUDIO_EXT else f"x.{fmt}"
            return _audio_stream_facts(fh, name), None
    if kind == "array":
        return _array_facts(path, fmt), None
    if kind == "text":
        return _text_facts(path), None
    return {}, None


def _file_facts(base: Path, rel: str, size: int, note: dict, deadline: float | None
                ) -> tuple[FileFacts, Counting | None]:
    """Facts of one file; failures become details['error'] instead of exceptions."""
    path = base / rel
    if "error" in note or "folder_link" in note:
        return FileFacts(rel, "other", size, dict(note)), None
    kind, fmt = classify(path.name)
    try:
        if kind == "other":
            kind, fmt = _sniff_kind(path)
        details, count = _inspect(path, kind, fmt, deadline)
    except Exception as exc:
        details, count = {"error": _reason(exc)}, None
    details.update(note)
    return FileFacts(rel, kind, size, details), count


# ---------------------------------------------------------------- the folder walk


@dataclass
class _Dir:
    rel: str  # "" for the root
    files: list[tuple[str, int]] = field(default_factory=list)  # kept for small folders only
    n_files: int = 0
    size: int = 0
    exts: Counter = field(default_factory=Counter)
    first_by_ext: dict[str, str] = field(default_factory=dict)
    first_names: list[str] = field(default_factory=list)
    children: list[_Dir] = field(default_factory=list)
    rest: _Dir | None = None  # the root's files beyond max_listed
    total_n: int = 0
    total_size: int = 0
    total_exts: Counter = field(default_factory=Counter)

    def join(self, name: str) -> str:
        return f"{self.rel}/{name}" if self.rel else name


def _listing_priority(item: tuple[str, int]) -> tuple[int, str]:
    """Data files a script loads come first when the root holds too many files to list."""
    name = item[0]
    kind = classify(name)[0]
    key = kind in ("table", "json", "archive", "array") or name.lower().startswith(
        ("train", "test", "sample", "submission", "val"))
    return (0 if key else 1, name)


def _add_file(node: _Dir, name: str, size: int, keep: int) -> None:
    """Fold one file into its folder's counts; at most ``keep`` names are kept for listing."""
    node.n_files += 1
    node.size += size
    ext = _ext(name)
    node.exts[ext] += 1
    if ext not in node.first_by_ext or name < node.first_by_ext[ext]:
        node.first_by_ext[ext] = name
    node.first_names.append(name)
    if len(node.first_names) > 64:
        node.first_names = heapq.nsmallest(5, node.first_names)
    if len(node.files) < keep:
        node.files.append((name, size))


def _finish_dir(node: _Dir, keep: int) -> None:
    """Sort the kept names; a root with more than ``keep`` files gets its rest summarised."""
    node.first_names = heapq.nsmallest(5, node.first_names)
    if node.rel or node.n_files <= keep:
        node.files = sorted(node.files) if node.n_files <= SMALL_FOLDER or not node.rel else []
        return
    ordered = sorted(node.files, key=_listing_priority)
    listed = ordered[:keep]
    rest = node.rest = _Dir("")
    for name, size in ordered[keep:]:
        _add_file(rest, name, size, 0)
    # the root may have held more files than it kept names for: count them all
    rest.n_files, rest.size = node.n_files - keep, node.size - sum(s for _, s in listed)
    rest.exts = node.exts - Counter(_ext(n) for n, _ in listed)
    rest.first_names = heapq.nsmallest(5, rest.first_names)
    rest.total_n, rest.total_size, rest.total_exts = rest.n_files, rest.size, rest.exts
    node.files = sorted(listed)


def _entry_size(base: Path, entry: os.DirEntry, rel: str, node: _Dir,
                notes: dict[str, dict]) -> int | None:
    """A file's size (links and special files noted), or None for a sub-folder."""
    if entry.is_symlink():
        target = Path(os.path.realpath(entry.path))
        if not target.is_relative_to(base):
            raise InventoryError(f"{rel}: symlink points outside the data folder (to {target})")
        inside = target.relative_to(base).as_posix()
        if target.is_dir():
            notes[rel] = {"symlink_to": inside, "folder_link": True}
            return 0
        if not target.exists():
            notes[rel] = {"symlink_to": inside, "error": "broken symlink"}
            return 0
        notes[rel] = {"symlink_to": inside}
        return target.stat().st_size
    if entry.is_dir(follow_symlinks=False):
        node.children.append(_Dir(rel))
        return None
    info = entry.stat(follow_symlinks=False)
    if not stat.S_ISREG(info.st_mode):
        notes[rel] = {"error": "not a regular file"}
    return info.st_size


def _walk(base: Path, exclude: Collection[str], max_walk: int, max_listed: int,
          deadline: float) -> tuple[_Dir, dict[str, dict], bool]:
    """Depth-first walk without following links; stops at max_walk entries or the deadline.

    Folders are folded into counts as they are read, so a folder of a million files costs
    a few counters, not a million names (only the root keeps up to ROOT_KEEP names).
    """
    notes: dict[str, dict] = {}
    top, seen, truncated = _Dir(""), 0, False
    stack = [top]
    while stack and not truncated:
        node = stack.pop()
        keep = ROOT_KEEP if node is top else SMALL_FOLDER + 1
        try:
            with os.scandir(base / node.rel if node.rel else base) as it:
                for entry in it:
                    if seen >= max_walk or time.monotonic() > deadline:
                        truncated = True
                        break
                    seen += 1
                    rel = node.join(entry.name)
                    if entry.name in exclude or rel in exclude:
                        continue
                    size = _entry_size(base, entry, rel, node, notes)
                    if size is not None:
                        _add_file(node, entry.name, size, keep)
        except OSError as exc:
            notes[node.rel or "."] = {"error": _reason(exc)}
        _finish_dir(node, max_listed if node is top else SMALL_FOLDER)
        node.children.sort(key=lambda c: c.rel)
        stack.extend(reversed(node.children))
    _add_totals(top)
    return top, notes, truncated


def _add_totals(node: _Dir) -> None:
    node.total_n, node.total_size, node.total_exts = node.n_files, node.size, Counter(node.exts)
    for child in node.children:
        _add_totals(child)
        node.total_n += child.total_n
        node.total_size += child.total_size
        node.total_exts.update(child.total_exts)


def _layout(top: _Dir, max_listed: int) -> tuple[list[tuple[str, int]], list[_Dir]]:
    """Which files are listed one by one and which folders are summarised."""
    listed = [(top.join(n), s) for n, s in top.files]
    summarised = [top.rest] if top.rest else []
    queue = deque(top.children)  # breadth first: shallow folders get listed before deep ones
    while queue:
        node = queue.popleft()
        small = node.n_files <= SMALL_FOLDER and len(node.children) <= SMALL_FOLDER
        if small and len(listed) + node.n_files <= max_listed:
            listed += [(node.join(n), s) for n, s in node.files]
            queue.extend(node.children)
        elif node.total_n:
            summarised.append(node)
    return listed, summarised


def _first_with(node: _Dir, ext: str) -> str | None:
    if ext in node.first_by_ext:
        return node.join(node.first_by_ext[ext])
    for child in node.children:
        if child.total_exts.get(ext) and (found := _first_with(child, ext)):
            return found
    return None


def _folder_plan(node: _Dir) -> tuple[FolderFacts, str | None]:
    """The folder's summary and the relative path of its sample file."""
    prefix = node.rel + "/" if node.rel else ""
    examples: list[str] = []
    for ext, _ in node.total_exts.most_common(5):
        found = _first_with(node, ext)
        if found and found[len(prefix):] not in examples:
            examples.append(found[len(prefix):])
    for name in node.first_names:
        if len(examples) < 5 and name not in examples:
            examples.append(name)
    top_ext = node.total_exts.most_common(1)[0][0] if node.total_exts else None
    facts = FolderFacts(
        path=node.rel or ".", n_files=node.total_n, total_size=node.total_size,
        by_extension=dict(node.total_exts.most_common(12)), examples=examples, sample=None,
        n_subfolders=len(node.children),
        subfolders={c.rel.rsplit("/", 1)[-1]: c.total_n for c in node.children[:20]},
    )
    return facts, _first_with(node, top_ext) if top_ext else None


def take_inventory(
    root: str | Path,
    *,
    exclude: Collection[str] = frozenset(),
    max_listed: int = 200,
    max_walk: int = 1_000_000,
    time_budget: float = 20.0,
) -> Inventory:
    """Bounded facts of every file under ``root``; large folders are summarised.

    Raises InventoryError for a missing root or a symlink leading outside it; unreadable files
    only get ``details['error']``. ``exclude`` holds names or relative paths to skip.
    """
    start = time.monotonic()
    base = Path(root).expanduser()
    if not base.is_dir():
        raise InventoryError(f"data folder not found: {base}")
    base = base.resolve()
    top, notes, truncated = _walk(base, exclude, max_walk, max_listed,
                                  start + 0.4 * time_budget)
    listed, summarised = _layout(top, max_listed)
    plans = [_folder_plan(node) for node in summarised]
    sizes = dict(listed)

    facts_deadline, end = start + 0.7 * time_budget, start + time_budget
    described: dict[str, FileFacts] = {}
    counts: list[tuple[int, FileFacts, Counting]] = []
    for rel in [r for r, _ in listed] + [s for _, s in plans if s]:
        size = sizes[rel] if rel in sizes else (base / rel).stat().st_size
        if time.monotonic() > facts_deadline:
            described[rel] = FileFacts(rel, classify(rel)[0], size, {"skipped": "time budget"})
            truncated = True
            continue
        described[rel], count = _file_facts(base, rel, size, notes.get(rel, {}), end)
        if count:
            counts.append((size, described[rel], count))
    for _, facts, count in sorted(counts, key=lambda c: c[0]):  # cheap counts first
        if time.monotonic() > end:
            facts.details["count_skipped"] = "time budget"
            truncated = True
            continue
        try:
            count(end)
        except Exception as exc:
            facts.details["error"] = _reason(exc)
    for folder, sample in plans:
        folder.sample = described.get(sample) if sample else None
    return Inventory(
        root=str(base), files=[described[r] for r, _ in listed],
        folders=[f for f, _ in plans], n_files=top.total_n, total_size=top.total_size,
        truncated=truncated,
    )


# ---------------------------------------------------------------- rendering


def _human(n: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1024:
            return f"{n:,.0f} {unit}" if unit == "bytes" else f"{n:,.1f} {unit}"
        n /= 1024
    return f"{n:,.1f} TB"


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}" if n == 1 else f"{n:,} {word}s"


def _exts_phrase(by_ext: dict[str, int], limit: int = 4) -> str:
    items = sorted(by_ext.items(), key=lambda kv: -kv[1])
    words = [f"{n:,} {ext}" for ext, n in items[:limit]]
    rest = sum(n for _, n in items[limit:])
    return ", ".join(words + ([f"{rest:,} other"] if rest else []))


def _rows_phrase(d: dict) -> str:
    if "n_rows" not in d:
        return "rows not counted"
    n = d["n_rows"]
    if d.get("n_rows_exact", True):
        return _plural(n, "row")
    note = d.get("n_rows_note", "")
    prefix = "~" if note.startswith(("estimated", "approximate")) else "≥" if "least" in note else ""
    return f"{prefix}{_plural(n, 'row')} ({note})"


def _column_phrase(fact: dict) -> str:
    extra = [fact.get("kind", "")]
    if fact.get("kind") == "categorical":
        extra.append(f"{fact.get('unique', 0):,} levels")
    if fact.get("kind") == "text" and "mean_len" in fact:
        extra.append(f"~{fact['mean_len']:.0f} chars")
    if fact.get("missing"):
        extra.append(f"{fact['missing']:.0%} missing")
    return f"{fact['name']} ({', '.join(e for e in extra if e)})"


def _columns_phrase(d: dict, limit: int = 40) -> str:
    """Few columns one by one; many grouped by kind so a wide table stays short."""
    facts = d.get("column_facts") or [{"name": c} for c in d.get("columns", [])]
    n = d.get("n_columns", len(facts))
    if n <= 12:
        return ", ".join(_column_phrase(f) if "kind" in f else f["name"] for f in facts)
    groups: dict[str, list[dict]] = {}
    for f in facts:
        groups.setdefault(f.get("kind", "not described"), []).append(f)
    share = max(3, limit // len(groups))
    parts = []
    for kind, members in groups.items():
        names = [_column_phrase(f).replace(f"({kind}, ", "(").replace(f" ({kind})", "")
                 for f in members]
        if len(names) > share:  # keep the last name too: it is often the target
            names = names[: share - 1] + [f"... {len(names) - share:,} more", names[-1]]
        parts.append(f"{kind} ({len(members):,}): {', '.join(names)}")
    if n > len(facts):
        parts.append(f"{n - len(facts):,} more not described")
    return "; ".join(parts)


def _table_phrase(d: dict) -> str:
    if d.get("format") in ("parquet", "excel"):
        what = "Parquet table" if d["format"] == "parquet" else "Excel workbook"
        return (f"{what}, {_plural(d['n_rows'], 'row')} x {_plural(d['n_columns'], 'column')}; scripts see it as "
                f"a UTF-8 CSV of the same name ending .csv; columns: {_columns_phrase(d)}")
    what = "TSV" if d.get("delimiter") == "\t" else "CSV"
    if d.get("dialect"):  # the run's data view shows scripts a standard copy of such a table
        what = (f"table written {d['dialect']} (./input/ holds a standard UTF-8 copy: comma-separated for .csv, "
                "tab for .tsv, decimal points, uncompressed)")
    elif d.get("compression", "none") != "none":
        what = f"{d['compression']}-compressed {what} (pandas reads it directly)"
    columns = _plural(d.get("n_columns", 0), "column")
    if "n_rows" in d or "count_skipped" in d:
        shape = f"{_rows_phrase(d)} x {columns}"
    else:  # an archive member's sample: rows are not counted there
        shape = columns
    return f"{what}, {shape}; columns: {_columns_phrase(d)}"


def _keys_phrase(keys: list[dict], limit: int = 30) -> str:
    words = []
    for k in keys[:limit]:
        extra = ["|".join(k["types"])]
        if "mean_len" in k and k["mean_len"] >= 20:
            extra.append(f"~{k['mean_len']:.0f} chars" + (", text" if k["mean_len"] >= 50 else ""))
        if k["present"] < 1:
            extra.append(f"{k['present']:.0%} present")
        words.append(f"{k['key']} ({', '.join(extra)})")
    if len(keys) > limit:
        words.append(f"... and {len(keys) - limit} more keys")
    return ", ".join(words)


def _json_phrase(d: dict) -> str:
    fmt = d.get("format")
    comp = f"{d['compression']}-compressed " if d.get("compression", "none") != "none" else ""
    if fmt == "object":
        if "n_entries" in d:
            return (f"{comp}JSON object mapping {d['n_entries']:,} keys (e.g. {', '.join(d['example_keys'])}) "
                    f"to records; record keys: {_keys_phrase(d['keys'])}")
        if "records_key" in d:
            return (f"{comp}JSON object; {d['records_key']!r} holds {_plural(d['n_records'], 'record')}; "
                    f"record keys: {_keys_phrase(d['record_keys'])}")
        return f"{comp}JSON object; keys: {_keys_phrase(d.get('keys', []))}" + (
            f" ({d['note']})" if "note" in d else "")
    n = d.get("n_records")
    count = (_plural(n, "record") if isinstance(n, int) else f"{n} number of records") if n is not None \
        else "records not counted"
    if n is not None and not d.get("n_records_exact", True):
        count += f" ({d.get('n_records_note', 'approximate')})"
    kind = "JSON lines" if fmt == "lines" else "JSON array"
    if "record_types" in d:
        return f"{comp}{kind}, {count}; records are {', '.join(d['record_types'])}"
    return f"{comp}{kind}, {count}; keys: {_keys_phrase(d.get('keys', []))}"


def _audio_phrase(d: dict) -> str:
    if "sample_rate" not in d:
        return f"{d.get('format', '?')} audio ({d.get('note', 'not read')})"
    channels = {1: "mono", 2: "stereo"}.get(d["channels"], f"{d['channels']} channels")
    duration = f"{d['duration']:.2f} s, " if d.get("duration") is not None else ""
    return (f"{d['format'].upper()} audio, {duration}{d['sample_rate']:,} Hz, {channels}, "
            f"{8 * d['sample_width']}-bit {d.get('encoding', '')}".rstrip())


def _array_phrase(d: dict) -> str:
    if d.get("format") == "npz":
        arrays = ", ".join(f"{k} {tuple(v['shape'])} {v['dtype']}" for k, v in d["arrays"].items())
        return f"numpy .npz with {d['n_arrays']} arrays: {arrays}"
    return f"numpy array, shape {tuple(d['shape'])}, {d['dtype']}"


def _sample_phrase(s: dict) -> str:
    kind = s.get("kind", "")
    if "error" in s:
        return f"{s.get('member', '')}: unreadable ({s['error']})"
    body = _describe(kind, s)
    return f"{s.get('member', '')}: {body}" if s.get("member") else body


def _archive_phrase(d: dict) -> str:
    if "n_members" not in d:
        sample = f"; content: {_sample_phrase(d['sample'])}" if "sample" in d else ""
        return f"{d.get('format', '?')} archive" + (f" ({d['note']})" if "note" in d else "") + sample
    text = (f"{d['format']} archive, {_plural(d['n_members'], 'member')} ({_exts_phrase(d['by_extension'])}), "
            f"{_human(d['total_uncompressed'])} uncompressed")
    if d.get("listing_complete") is False:
        text += " (listing stopped at a bound: counts are lower bounds)"
    if "single_table" in d:
        how = "pandas reads it directly" if d.get("pandas_reads_directly") else "open the member"
        table = _table_phrase({**d["table"], "compression": "none"})
        return f"{text}; one table {d['single_table']} ({how}): {table}"
    text += f"; e.g. {', '.join(d['examples'][:3])}" if d.get("examples") else ""
    if d.get("top_dirs") and len(d["top_dirs"]) > 1:
        text += f"; folders {', '.join(f'{k} ({v:,})' for k, v in list(d['top_dirs'].items())[:5])}"
    if "sample" in d:
        text += f"; sample {_sample_phrase(d['sample'])}"
    return text


def _describe(kind: str, d: dict) -> str:
    """One line of facts for a file's details (without its path)."""
    if "skipped" in d:
        return f"{kind}, not inspected ({d['skipped']})"
    if kind == "table" and "n_columns" in d:
        return _table_phrase(d) + (f"; error: {d['error']}" if "error" in d else "")
    if kind == "json" and "format" in d:
        return _json_phrase(d) + (f"; error: {d['error']}" if "error" in d else "")
    if "error" in d:
        return f"{kind}, unreadable: {d['error']}"
    if kind == "image":
        return f"{d['format']} image {d['width']}x{d['height']} {d['mode']}"
    if kind == "audio":
        return _audio_phrase(d)
    if kind == "archive":
        return _archive_phrase(d)
    if kind == "array":
        return _array_phrase(d)
    if kind == "text":
        lines = f"{_plural(d['n_lines'], 'line')}; " if "n_lines" in d else ""
        return f"text, {lines}first line: {d.get('first_line', '')!r}"
    if "folder_link" in d:
        return f"link to folder {d['symlink_to']}/ (not followed)"
    return "file"


def _file_line(f: FileFacts) -> str:
    link = f" -> {f.details['symlink_to']}" if "symlink_to" in f.details else ""
    return f"- {f.path}{link} ({_human(f.size)}): {_describe(f.kind, f.details)}"


def _folder_line(f: FolderFacts) -> str:
    name = "files at the top level not listed above" if f.path == "." else f"{f.path}/"
    text = f"- {name}: {_plural(f.n_files, 'file')} ({_exts_phrase(f.by_extension)}), {_human(f.total_size)}"
    if f.n_subfolders:
        subs = ", ".join(f"{k}/ ({v:,})" for k, v in list(f.subfolders.items())[:8])
        more = f", ... {f.n_subfolders - 8} more" if f.n_subfolders > 8 else ""
        text += f" in {_plural(f.n_subfolders, 'sub-folder')}: {subs}{more}"
    if f.examples:
        text += f"; e.g. {', '.join(f.examples[:4])}"
    if f.sample:
        text += f"; sample {f.sample.path[len(f.path) + 1:] if f.path != '.' else f.sample.path}: "
        text += _describe(f.sample.kind, f.sample.details)
    return text


KIND_ORDER = {"table": 0, "json": 1, "array": 2, "archive": 4, "image": 5, "audio": 5, "text": 6,
              "other": 7}


def _head_block(f: FileFacts) -> str | None:
    """First rows of a table / example record of a JSON file, for the second part of render."""
    d = f.details.get("table", f.details) if f.kind == "archive" else f.details
    if d.get("head") and d.get("columns"):
        out = io.StringIO()  # written back with the file's own delimiter and quoting
        writer = csv.writer(out, delimiter=d.get("delimiter", ","), lineterminator="\n")
        for row in [d["columns"]] + d["head"]:
            writer.writerow([c.replace("\r", "").replace("\n", "\\n") for c in row])
        rows = [_cut(line, 400) for line in out.getvalue().splitlines()]
        return f"First rows of {f.path}:\n" + "\n".join("  " + r for r in rows)
    if f.kind == "json" and d.get("example") is not None:
        example = _cut(json.dumps(d["example"], ensure_ascii=False, default=str), 600)
        return f"Example record of {f.path}: {example}"
    return None


def _name_rank(path: str) -> int:
    """train, then test, then the sample submission: the order a loading script reads them."""
    name = PurePosixPath(path).name.lower()
    for rank, prefix in enumerate(("train", "test", "sample", "submission")):
        if name.startswith(prefix):
            return min(rank, 2)
    return 3


def _render_order(f: FileFacts) -> tuple[int, int, str]:
    table = f.kind == "archive" and "single_table" in f.details
    return (0 if table else KIND_ORDER[f.kind], _name_rank(f.path), f.path)


def _render(inv: Inventory, max_chars: int) -> str:
    bound = " (the walk stopped at a bound: counts are lower bounds)" if inv.truncated else ""
    blocks = [f"Data folder: {_plural(inv.n_files, 'file')}, {_human(inv.total_size)}{bound}"]
    entries: list[tuple[tuple, str]] = []
    for f in inv.files:
        entries.append((_render_order(f), _cut(_file_line(f), 1200)))
    for folder in inv.folders:
        entries.append(((3, _name_rank(folder.path), folder.path), _cut(_folder_line(folder), 1200)))
    blocks += [line for _, line in sorted(entries)]
    blocks += [b for b in map(_head_block, sorted(inv.files, key=_render_order)) if b]
    text, used = "", 0
    for i, block in enumerate(blocks):
        note = f"\n... ({len(blocks) - i} more entries cut: the data facts are capped at {max_chars:,} characters)"
        if used + len(block) + 1 + len(note) > max_chars:
            room = max_chars - used - len(note) - 1
            if room > 80:
                text += _cut(block, room) + "\n"
            return (text.rstrip("\n") + note)[:max_chars]
        text += block + "\n"
        used = len(text)
    return text.rstrip("\n")
