"""Where a task's examples are files: items (images, audio clips) named by the table's ids,
labels in file names (``cat.123.jpg``, ``_1.aif``) or class folders, and image targets (a
per-pixel sample with a cleaned twin of every image)."""

from __future__ import annotations

import os
import re
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
import pandas as pd

from mle_star.state import Items, Modality
from mle_star.tools.task.archives import (
    archive_stem,
    is_archive,
    is_junk,
    member_names,
    strip_common_top,
)
from mle_star.tools.task.inventory import AUDIO_EXT, IMAGE_EXT


def folder_files(folder: Path, limit: int = 2_000_000) -> list[str]:
    """Files under a folder, relative to it (bounded)."""
    out: list[str] = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames.sort()
        rel = Path(dirpath).relative_to(folder)
        out += [str(rel / f) if str(rel) != "." else f for f in filenames]
        if len(out) >= limit:
            break
    return out




def _match_items(ids: list[str], files: list[str]) -> str | None:
    """The pattern that maps ids onto these files: "{id}", "{id}.png", "sub/{id}.wav"..."""
    if not ids or not files:
        return None
    probe = ids[:200]
    names = set(files)
    if all(i in names for i in probe):
        return "{id}"
    by_stem: dict[str, str] = {}
    for f in files:
        p = PurePosixPath(f)
        by_stem.setdefault(str(p.with_suffix("")), f)
    hits = [by_stem.get(i) for i in probe]
    if all(hits):
        suffixes = {PurePosixPath(h).suffix for h in hits if h}
        if len(suffixes) == 1:
            return "{id}" + suffixes.pop()
    return None


def find_items(folder: Path, ids: list[str], want: str) -> tuple[Items, str | None] | None:
    """The folder (or archive, to extract) whose files are the items named by ``ids``.

    ``want`` ("train" / "test") is preferred in names. Returns the Items (dir as scripts will
    see it) and the archive to extract, if the files are in one."""
    entries = sorted(folder.iterdir(), key=lambda p: (want not in p.name.lower(), p.name))
    hits: list[tuple[Items, str | None]] = []
    for entry in entries:
        if entry.is_dir():
            files = folder_files(entry)
            pattern = _match_items(ids, files)
            if pattern:
                hits.append((Items(dir=entry.name, pattern=pattern, n_files=len(files)), None))
            for sub in sorted((s for s in entry.iterdir() if s.is_dir()), key=lambda p: (want not in p.name.lower(),
                                                                                        p.name)):
                files = folder_files(sub)  # one level down: siim's jpeg/test/<id>.jpg beside test/<id>.dcm
                pattern = _match_items(ids, files)
                if pattern:
                    hits.append((Items(dir=f"{entry.name}/{sub.name}", pattern=pattern, n_files=len(files)), None))
        elif entry.is_file() and is_archive(entry.name):
            stem = archive_stem(entry.name)
            files = strip_common_top(member_names(entry), stem)
            pattern = _match_items(ids, files)
            if pattern:
                hits.append((Items(dir=stem, pattern=pattern, n_files=len(files)), entry.name))
    readable = IMAGE_EXT | AUDIO_EXT
    # the same items in two formats (DICOM and JPEG): the one scripts can read with the usual libraries
    return next((h for h in hits if PurePosixPath(h[0]["pattern"]).suffix.lower() in readable), hits[0] if hits else None)


# -- labels in file names ---------------------------------------------------------------------

MIN_NAMED = 10  # the intake's least number of labelled rows (MIN_LABELLED)
MAX_NAMED_CLASSES = 1000  # class folders (dog breeds: 120); a file-name label has at most 50 values
NAME_RULES: list[tuple[str, re.Pattern]] = [  # (how, pattern with a 'label' group over the file name)
    ("the last part of the file name (x_<label>.ext)", re.compile(r"^.+[_\-](?P<label>[^_\-./]+)\.[^./]+$")),
    ("the first part of the file name (<label>.<n>.ext)", re.compile(r"^(?P<label>[A-Za-z][A-Za-z_\- ]*)[._\-]\d+\.[^./]+$")),
]


def labels_in_names(folder: Path, id_column: str, predictions: list[str], test_dir: str | None
                    ) -> tuple[pd.DataFrame, str, str] | None:
    """Training labels written into the items' paths, where no table holds them: class folders
    (``train/<label>/x.jpg``), a suffix (``..._TRAIN12_1.aif``) or a prefix (``cat.123.jpg``).

    Returns (table of id -> label, the folder or archive holding the items, how the labels are read)."""
    label_column = predictions[0] if len(predictions) == 1 else "label"
    entries = sorted((p for p in folder.iterdir() if p.name != test_dir and archive_stem(p.name) != test_dir
                      and (p.is_dir() or (p.is_file() and is_archive(p.name)))),
                     key=lambda p: ("train" not in p.name.lower(), p.name))
    for entry in entries:
        files = (folder_files(entry) if entry.is_dir()
                 else strip_common_top(member_names(entry), archive_stem(entry.name)))
        files = [f for f in files if not is_junk(f)]
        if len(files) < MIN_NAMED:
            continue
        found = _named_labels(files)
        if found:
            ids, labels, how = found
            frame = pd.DataFrame({id_column: ids, label_column: labels})
            return frame, entry.name, how
    return None



def _named_labels(files: list[str]) -> tuple[list[str], list[str], str] | None:
    """The rule that gives most files a label with few distinct values (2..50; folders: 2..1000)."""
    parts = [PurePosixPath(f).parts for f in files]
    if all(len(p) == 2 for p in parts):
        classes = {p[0] for p in parts}
        if 2 <= len(classes) <= MAX_NAMED_CLASSES and len(classes) <= len(files) // 2:
            return files, [p[0] for p in parts], "the class folder each file is in (<label>/<file>)"
    for how, pattern in NAME_RULES:
        matches = [pattern.match(PurePosixPath(f).name) for f in files]
        if sum(m is not None for m in matches) < 0.95 * len(files):
            continue
        labels = [m["label"] if m else "" for m in matches]
        distinct = {v for v in labels if v}
        if 2 <= len(distinct) <= 50 and len(distinct) <= len(files) // 5:
            kept = [(f, v) for f, v in zip(files, labels, strict=True) if v]
            return [f for f, _ in kept], [v for _, v in kept], how
    return None


# -- image targets ---------------------------------------------------------------------------

PIXEL_ID = re.compile(r"^(?P<stem>.+)_(?P<row>\d+)_(?P<col>\d+)$")
TARGET_WORDS = re.compile(r"clean|target|mask|label|truth|gt|output|_y$", re.I)


def image_targets(folder: Path, sample_ids: np.ndarray) -> dict[str, Any] | None:
    """Targets that are images: the sample's ids are ``<image>_<row>_<col>`` of the images in one
    folder (the test inputs), and two other folders hold the same file names (inputs, targets)."""
    head = [PIXEL_ID.match(str(i)) for i in sample_ids[:2000]]
    if not head or not all(head):
        return None
    stems = {m["stem"] for m in head if m}
    folders = {p.name: _image_names(p) for p in sorted(folder.iterdir()) if p.is_dir()}
    test = next((name for name, files in folders.items() if stems <= {PurePosixPath(f).stem for f in files}), None)
    if test is None:
        return None
    pairs = [(a, b) for a in folders for b in folders if a != test and b != test and a != b
             and folders[a] and folders[a] == folders[b] and TARGET_WORDS.search(b) and not TARGET_WORDS.search(a)]
    if not pairs:
        return None
    inputs, targets = pairs[0]
    base = min(min(int(m["row"]), int(m["col"])) for m in head if m)
    return {"inputs": inputs, "targets": targets, "test": test, "base": 0 if base == 0 else 1,
            "n_images": len(folders[inputs])}


def _image_names(path: Path) -> set[str]:
    return {f for f in folder_files(path, 100_000) if PurePosixPath(f).suffix.lower() in IMAGE_EXT and "/" not in f}


def item_modality(folder: Path, items: Items | None, archive: str | None) -> Modality | None:
    if items is None:
        return None
    suffix = PurePosixPath(items["pattern"]).suffix.lower()
    if not suffix:  # ids carry the extension: look at one real file name
        files = (member_names(folder / archive) if archive else folder_files(folder / items["dir"], 50))
        suffix = PurePosixPath(files[0]).suffix.lower() if files else ""
    if suffix in IMAGE_EXT:
        return "image"
    if suffix in AUDIO_EXT:
        return "audio"
    return "other"
