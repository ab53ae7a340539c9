"""Archives in task folders: what they hold, and unpacking them for the run.

Competitions ship their items zipped (``train.zip`` of images, ``train2.zip`` of clips), and a
Kaggle download is one zip of the whole folder. Archives are written by many tools: members
at the top level or under one folder named like the archive, macOS's ``__MACOSX/`` and ``._``
twins, tarballs with or without gzip. Whatever wrote them, an unpacked archive must be
readable by the sandboxed scripts, which run as another user: folders 0755, files 0644.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import tarfile
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path, PurePosixPath

ARCHIVE_SUFFIXES = (".zip", ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz")
TABLE_LIKE = (".csv.zip", ".tsv.zip", ".txt.zip", ".json.zip", ".jsonl.zip", ".parquet.zip", ".csv.tar.gz")
JUNK_FILES = {".DS_Store", "Thumbs.db", "desktop.ini"}
CACHE_ENV = "MLE_STAR_CACHE"  # where Kaggle-download zips are unpacked (default ~/.cache/mle-star)


class ArchiveError(ValueError):
    """An archive that cannot be read or unpacked (the message names it)."""


def is_archive(name: str) -> bool:
    """An archive of several files (a table zipped alone, ``train.csv.zip``, is a table)."""
    low = name.lower()
    return low.endswith(ARCHIVE_SUFFIXES) and not low.endswith(TABLE_LIKE)


def archive_stem(name: str) -> str:
    """The folder an archive unpacks to: ``train.zip`` -> ``train``, ``imgs.tar.gz`` -> ``imgs``."""
    low = name.lower()
    for suffix in sorted(ARCHIVE_SUFFIXES, key=len, reverse=True):
        if low.endswith(suffix):
            return name[: -len(suffix)]
    return name


def is_junk(name: str) -> bool:
    """Files that archivers and file managers add: never data."""
    parts = PurePosixPath(name).parts
    return bool(parts) and (parts[0] == "__MACOSX" or parts[-1].startswith("._") or parts[-1] in JUNK_FILES)


def member_names(path: Path) -> list[str]:
    """The files an archive holds (folders and junk left out); [] when it cannot be read."""
    try:
        if path.name.lower().endswith(".zip"):
            with zipfile.ZipFile(path) as z:
                names = [n for n in z.namelist() if not n.endswith("/")]
        else:
            with tarfile.open(path) as t:
                names = [m.name for m in t.getmembers() if m.isfile()]
    except (zipfile.BadZipFile, tarfile.TarError, OSError, EOFError):
        return []
    return [n.removeprefix("./") for n in names if not is_junk(n.removeprefix("./"))]


def strip_common_top(names: list[str], stem: str) -> list[str]:
    """Archive members as extracted: a single top folder named like the archive is dropped."""
    tops = {PurePosixPath(n).parts[0] for n in names if len(PurePosixPath(n).parts) > 1}
    if len(tops) == 1 and all(len(PurePosixPath(n).parts) > 1 for n in names) and tops.pop() == stem:
        return ["/".join(PurePosixPath(n).parts[1:]) for n in names]
    return names


def extract(archive: Path, target: Path) -> None:
    """Unpack ``archive`` to ``target`` once, atomically: a single top folder named like the
    archive is dropped, junk is left out, unsafe member paths are refused (the libraries' data
    filters), and every folder and file is made readable by other users."""
    if target.exists():
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".extract-", dir=target.parent))
    try:
        try:
            names = _unpack(archive, staging)
        except (zipfile.BadZipFile, tarfile.TarError, EOFError, OSError) as exc:
            raise ArchiveError(f"cannot unpack {archive.name}: {exc}") from None
        stem = archive_stem(archive.name)
        inner = staging / stem if strip_common_top(names, stem) != names else staging
        readable(inner)
        os.replace(inner, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _unpack(archive: Path, into: Path) -> list[str]:
    if archive.name.lower().endswith(".zip"):
        with zipfile.ZipFile(archive) as z:
            infos = [m for m in z.infolist() if not m.is_dir() and not is_junk(m.filename)]
            for info in infos:  # zipfile sanitises each path (no absolute or '..' parts)
                z.extract(info, into)
            return [m.filename for m in infos]
    with tarfile.open(archive) as t:
        members = [m for m in t.getmembers() if m.isfile() and not is_junk(m.name.removeprefix("./"))]
        t.extractall(into, members=members, filter="data")
        return [m.name.removeprefix("./") for m in members]


def readable(root: Path) -> None:
    """Folders 0755 and files 0644 below ``root`` (mkdtemp makes 0700; archives carry any mode)."""
    os.chmod(root, 0o755)
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames:
            os.chmod(os.path.join(dirpath, name), 0o755)
        for name in filenames:
            path = os.path.join(dirpath, name)
            if not os.path.islink(path):
                mode = os.stat(path).st_mode
                os.chmod(path, 0o755 if mode & stat.S_IXUSR else 0o644)


# -- a Kaggle download: the whole task folder in one zip ---------------------------------------

def bundle_archive(folder: Path, is_table: Callable[[str], bool]) -> Path | None:
    """The one archive holding the task's tables, when the folder holds only files and no table
    but (perhaps) the sample: ``competition.zip`` next to ``description.md``."""
    entries = [p for p in folder.iterdir() if not is_junk(p.name) and not p.name.startswith(".")]
    tables = [p for p in entries if p.is_file() and is_table(p.name) and "sample" not in p.name.lower()]
    archives = [p for p in entries if p.is_file() and is_archive(p.name)]
    if tables or len(archives) != 1 or any(p.is_dir() for p in entries):
        return None
    names = member_names(archives[0])
    return archives[0] if any(is_table(PurePosixPath(n).name) for n in names) else None


def unbundle(folder: Path, archive: Path) -> Path:
    """A folder holding the archive's members and links to the folder's other files, made
    once per archive (name, size, time) under MLE_STAR_CACHE; the user's folder is not touched."""
    info = archive.stat()
    key = hashlib.sha256(f"{archive.resolve()}|{info.st_size}|{info.st_mtime_ns}".encode()).hexdigest()[:16]
    base = Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "mle-star") / "bundles"
    target = base / f"{archive_stem(archive.name)}-{key}"
    if target.is_dir():
        return target
    staging = base / f".{target.name}.partial"
    shutil.rmtree(staging, ignore_errors=True)
    extract(archive, staging / "unpacked")
    unpacked = staging / "unpacked"
    for entry in folder.iterdir():
        if entry != archive and entry.is_file() and not is_junk(entry.name) and not (unpacked / entry.name).exists():
            _link(entry, unpacked / entry.name)
    os.replace(unpacked, target)
    shutil.rmtree(staging, ignore_errors=True)
    return target


def _link(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)
        os.chmod(target, 0o644)
