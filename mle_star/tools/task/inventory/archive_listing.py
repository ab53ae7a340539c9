"""Archives (zip, tar, gzip, ...): their member lists, and facts of a few members read in place."""

from __future__ import annotations

import functools
import heapq
import tarfile
import time
import zipfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import IO, Any

from mle_star.tools.task.inventory.base import (
    SAMPLE_KINDS,
    TAR_MAX_MEMBERS,
    TAR_SECONDS,
    Counting,
    InventoryError,
    _cut,
    _deadline,
    _ext,
    _is_junk,
    _public,
    _reason,
    _suffixes,
    classify,
)
from mle_star.tools.task.inventory.media import (
    _audio_stream_facts,
    _image_stream_facts,
    _npy_stream_facts,
)
from mle_star.tools.task.inventory.records import _json_head
from mle_star.tools.task.inventory.streams import (
    _open_decompressed,
    _open_member,
    _row_facts,
    _scan,
    _Source,
    _source,
)
from mle_star.tools.task.inventory.tables import _table_head

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


