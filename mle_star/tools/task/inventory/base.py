"""What an inventory is (its facts and limits), and naming a file's kind from its name or first bytes."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath
from typing import Literal, ParamSpec, TypeVar

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
