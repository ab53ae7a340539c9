"""The files of one script execution: its output streams captured head and tail within a
bound, its declared outputs collected as regular files only (no links, no devices, within a
size), names checked before they become paths, and records written atomically; a folder is
removed even where a script left it unwritable; and the score line a script prints
(``Final Validation Performance: X``), read as the stream goes by."""

from __future__ import annotations

import os
import re
import shutil
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

SCORE_RE = re.compile(r"Final Validation Performance:\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|nan|inf)")
_SCORE_LINE_RE = re.compile(rb"Final Validation Performance:[ \t]*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|nan|inf)")
_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
CHUNK = 1 << 20


def bounded(text: str, limit: int = 4000) -> str:
    """Head and tail of a long text, so a chatty script never floods a prompt."""
    if len(text) <= limit:
        return text
    half = limit // 2
    return f"{text[:half]}\n... [{len(text) - limit} characters omitted] ...\n{text[-half:]}"


def parse_score(stdout: str) -> float | None:
    matches = SCORE_RE.findall(stdout)
    return _finite(matches[-1]) if matches else None


def _finite(text: str | bytes) -> float | None:
    value = float(text)
    return value if value == value and abs(value) != float("inf") else None


def write_atomic(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Write via a temp file + os.replace, so readers never see half a file."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def rmtree(path: Path) -> None:
    """Remove a tree a script wrote (it may have made folders read-only)."""
    def fix(func: Callable[..., Any], failed: str, _exc: Any) -> None:
        parent = os.path.dirname(failed)
        os.chmod(parent, 0o700)
        if os.path.isdir(failed) and not os.path.islink(failed):
            os.chmod(failed, 0o700)
        func(failed)

    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.exists():
        shutil.rmtree(path, onerror=fix)


def read_regular(path: Path, limit: int) -> bytes | None:
    """The content of a regular file (never following a symlink, never blocking on a FIFO)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as fh:
        info = os.fstat(fh.fileno())
        if not stat.S_ISREG(info.st_mode) or info.st_size > limit:
            return None
        return fh.read(limit + 1)[:limit]


def excerpt(path: Path, limit: int) -> str:
    """``bounded(text, limit)`` of a file, reading only its head and tail."""
    size = path.stat().st_size
    with open(path, "rb") as fh:
        if size <= 4 * limit:
            return bounded(fh.read().decode("utf-8", errors="replace"), limit)
        half = limit // 2
        head = fh.read(4 * half).decode("utf-8", errors="replace")[:half]
        fh.seek(size - 4 * half)
        tail = fh.read().decode("utf-8", errors="replace")[-half:]
    omitted = size - len(head.encode()) - len(tail.encode())
    return f"{head}\n... [{omitted} characters omitted] ...\n{tail}"


class Capture:
    """One output stream: the head and the tail kept on disk, the score parsed on the fly.

    Memory stays at one chunk whatever the script prints; the tail is a ring file on disk.
    """

    def __init__(self, final: Path, limit: int):
        self.final = final
        self.head_max = limit // 2
        self.tail_max = limit - self.head_max
        fd, tmp = tempfile.mkstemp(prefix=f".{final.name}.", dir=final.parent)
        self.tmp = Path(tmp)
        self.out = os.fdopen(fd, "w+b")
        self.ring = tempfile.TemporaryFile(dir=final.parent)
        self.total = self.head = self.tail = 0  # bytes seen / in head / passed into the ring
        self.partial = b""
        self.score: bytes | None = None

    def feed(self, data: bytes) -> None:
        self._scan(data)
        self.total += len(data)
        if self.head < self.head_max:
            take = data[: self.head_max - self.head]
            self.out.write(take)
            self.head += len(take)
            data = data[len(take):]
        if data and self.tail_max:
            if len(data) > self.tail_max:
                self.tail += len(data) - self.tail_max
                data = data[-self.tail_max:]
            pos = self.tail % self.tail_max
            first = data[: self.tail_max - pos]
            self.ring.seek(pos)
            self.ring.write(first)
            if len(first) < len(data):
                self.ring.seek(0)
                self.ring.write(data[len(first):])
            self.tail += len(data)

    def _scan(self, data: bytes) -> None:
        buf = self.partial + data
        cut = buf.rfind(b"\n")
        if cut >= 0:
            self._match(buf[: cut + 1])
            buf = buf[cut + 1:]
        self.partial = buf[-4096:]  # a score line longer than this is not a score line

    def _match(self, lines: bytes) -> None:
        if b"Final Validation Performance" in lines:
            for match in _SCORE_LINE_RE.finditer(lines):
                self.score = match.group(1)

    def printed_score(self) -> float | None:
        return _finite(self.score) if self.score is not None else None

    def finish(self) -> None:
        self._match(self.partial)
        kept = min(self.tail, self.tail_max)
        omitted = self.total - self.head - kept
        if omitted > 0:
            self.out.write(f"\n... [{omitted} bytes omitted] ...\n".encode())
        start = self.tail % self.tail_max if self.tail > self.tail_max else 0
        for offset, length in ((start, kept - start), (0, start)) if self.tail > self.tail_max else ((0, kept),):
            self.ring.seek(offset)
            self.out.write(self.ring.read(length))
        self.ring.close()
        self.out.close()
        os.chmod(self.tmp, 0o644)
        os.replace(self.tmp, self.final)

    def abort(self) -> None:
        for fh in (self.ring, self.out):
            fh.close()
        self.tmp.unlink(missing_ok=True)


def collect(workdir: Path, rel: str, dest: Path, limit: int) -> str:
    """Copy the declared output ``rel`` from the work folder to ``dest``; '' or why not.

    Only a regular file with one link, within ``limit``, reached through real directories:
    each component is opened with O_NOFOLLOW relative to its parent, so a symlink planted
    anywhere on the path (to /etc/shadow, to the record) is refused, and a FIFO never blocks.
    """
    parts = rel.split("/")
    opened: list[int] = []
    try:
        dirfd = os.open(workdir, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
        opened.append(dirfd)
        for part in parts[:-1]:
            try:
                info = os.stat(part, dir_fd=dirfd, follow_symlinks=False)
            except FileNotFoundError:
                return "missing"
            if not stat.S_ISDIR(info.st_mode):
                return f"'{part}' on its path is not a real folder (symlink?)"
            dirfd = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dirfd)
            opened.append(dirfd)
        try:
            info = os.stat(parts[-1], dir_fd=dirfd, follow_symlinks=False)
        except FileNotFoundError:
            return "missing"
        if stat.S_ISLNK(info.st_mode):
            return "is a symbolic link"
        if not stat.S_ISREG(info.st_mode):
            return "is not a regular file (folder, FIFO, socket or device)"
        if info.st_nlink != 1:
            return "has several hard links"
        if info.st_size > limit:
            return f"is too large ({info.st_size} bytes > {limit})"
        fd = os.open(parts[-1], os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=dirfd)
        with os.fdopen(fd, "rb") as src:
            now = os.fstat(src.fileno())
            if (now.st_dev, now.st_ino) != (info.st_dev, info.st_ino) or not stat.S_ISREG(now.st_mode):
                return "changed while being collected"
            dest.parent.mkdir(parents=True, exist_ok=True)
            copied = 0
            with open(dest, "wb") as out:
                while chunk := src.read(min(CHUNK, limit + 1 - copied)):
                    out.write(chunk)
                    copied += len(chunk)
                    if copied > limit:
                        break
            if copied > limit:
                dest.unlink()
                return f"is too large (more than {limit} bytes)"
        return ""
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"
    finally:
        for fd in opened:
            os.close(fd)


def check_relpath(path: str) -> str:
    parts = path.split("/")
    if not path or path.startswith("/") or "\0" in path or any(p in ("", ".", "..") for p in parts):
        raise ValueError(f"declared output must be a plain relative path, not {path!r}")
    return path


def check_name(kind: str, name: str) -> str:
    if not _NAME_RE.fullmatch(name):
        raise ValueError(f"{kind} {name!r}: use letters, digits, '.', '_' or '-' (one path component)")
    return name


def check_entry(name: str) -> str:
    """An input entry is one path component (task files may have spaces in their names)."""
    if name in ("", ".", "..") or "/" in name or "\0" in name or len(name.encode()) > 255:
        raise ValueError(f"input entry {name!r} must be a single file or folder name")
    return name
