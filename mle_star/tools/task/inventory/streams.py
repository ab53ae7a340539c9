"""A file's bytes through its compression, and counting its records by streaming them."""

from __future__ import annotations

import bz2
import gzip
import lzma
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, cast

import numpy as np

from mle_star.tools.task.inventory.base import CHUNK, InventoryError, MiB, _is_junk, _late, classify

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


