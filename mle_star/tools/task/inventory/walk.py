"""The bounded folder walk: which files are listed, which folders summarised, and the inventory itself."""

from __future__ import annotations

import heapq
import os
import stat
import time
from collections import Counter, deque
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

from mle_star.tools.task.inventory.archive_listing import _archive
from mle_star.tools.task.inventory.base import (
    AUDIO_EXT,
    ROOT_KEEP,
    SMALL_FOLDER,
    Counting,
    FileFacts,
    FolderFacts,
    Inventory,
    InventoryError,
    Kind,
    _ext,
    _reason,
    _sniff_kind,
    _suffixes,
    classify,
)
from mle_star.tools.task.inventory.media import (
    _array_facts,
    _audio_stream_facts,
    _image_stream_facts,
    _text_facts,
)
from mle_star.tools.task.inventory.records import _json
from mle_star.tools.task.inventory.tables import _table

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


