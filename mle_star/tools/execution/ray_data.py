"""How a run's files reach Ray workers: the shared path when a worker sees it, else the object store.

Each input is named by its driver path and a signature (file: size and mtime; folder: file
count, total size and newest mtime). A worker that finds the same signature at the same path
sees the driver's file (a shared filesystem, or the driver's own machine) and uses it in
place: nothing is copied. A worker that does not asks the driver for it; the driver puts it
into Ray's object store once per run (a file as its bytes, a folder as an uncompressed tar),
and each node copies it once into a node-local cache keyed by the run and the signature, so
later scripts on that node (and a resumed run) reuse the copy.

This module needs ``ray`` only where it calls it; importing it imports no Ray.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import socket
import tarfile
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

Signature = tuple[Any, ...]
CACHE_ENV = "MLE_STAR_RAY_CACHE"  # node-local folder for copies and scratch (default: the temp dir)


def signature(path: str) -> Signature | None:
    """What identifies ``path``'s content cheaply: ('f', size, mtime_ns) or ('d', files, bytes,
    newest mtime_ns); None when it does not exist. Symlinks inside a folder are not followed."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    if not os.path.isdir(path):
        return ("f", info.st_size, info.st_mtime_ns)
    files = total = 0
    newest = info.st_mtime_ns
    for root, dirs, names in os.walk(path):
        for name in names + dirs:
            try:
                st = os.lstat(os.path.join(root, name))
            except OSError:
                continue
            newest = max(newest, st.st_mtime_ns)
            if name in names:
                files += 1
                total += st.st_size
    return ("d", files, total, newest)


def item_key(path: str, sig: Signature) -> str:
    """The name of one input's copy in a node cache (its driver path and signature)."""
    return hashlib.sha256(json.dumps([path, list(sig)]).encode()).hexdigest()[:24]


def run_key(run_dir: str | Path) -> str:
    """One run's name on every node: the driver's host and run folder."""
    return hashlib.sha256(f"{socket.gethostname()}:{Path(run_dir).absolute()}".encode()).hexdigest()[:16]


def node_root(key: str) -> Path:
    """This node's folder for one run: copies of inputs (data/) and scripts' scratch (run/)."""
    base = Path(os.environ.get(CACHE_ENV) or tempfile.gettempdir()) / "mle-star-ray" / key
    base.mkdir(parents=True, exist_ok=True)
    return base


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive lock between the worker processes of one node."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


# -- driver: putting an input into the object store -------------------------------------------------
def pack(path: str) -> Any:
    """The object to put for ``path``: a read-only uint8 array (a file's bytes, or an uncompressed
    tar of a folder), memory-mapped so the driver never holds a second copy in its heap."""
    import numpy as np

    if os.path.isdir(path):
        fd, tar_path = tempfile.mkstemp(prefix="mle-star-ray-", suffix=".tar")
        os.close(fd)
        try:
            with tarfile.open(tar_path, "w") as tar:
                tar.add(path, arcname="data")
            return _mapped(tar_path)
        finally:
            os.unlink(tar_path)  # the mapping keeps the pages until the put has copied them
    if os.path.getsize(path) == 0:
        return np.zeros(0, dtype=np.uint8)
    return _mapped(path)


def _mapped(path: str) -> Any:
    import numpy as np

    if os.path.getsize(path) == 0:
        return np.zeros(0, dtype=np.uint8)
    return np.memmap(path, dtype=np.uint8, mode="r")


class Shipment:
    """The driver's side of one run's inputs: which ones are in the object store (put once)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.refs: dict[str, Any] = {}  # item_key -> ObjectRef
        self.puts = 0
        self.bytes = 0

    def put(self, items: dict[str, Signature]) -> dict[str, Any]:
        """Refs for ``items`` (driver path -> signature), putting each one at most once per run."""
        import ray

        with self.lock:
            for path, sig in items.items():
                key = item_key(path, sig)
                if key in self.refs:
                    continue
                data = pack(path)
                self.refs[key] = ray.put(data)
                self.puts += 1
                self.bytes += int(data.nbytes)
                del data
            return {path: self.refs[item_key(path, sig)] for path, sig in items.items()}

    def known(self, items: dict[str, Signature]) -> dict[str, Any]:
        """The refs already put for any of ``items`` (passed along so no worker has to ask)."""
        with self.lock:
            return {p: self.refs[k] for p, s in items.items() if (k := item_key(p, s)) in self.refs}


# -- worker: seeing or copying an input ----------------------------------------------------------------
_seen: dict[tuple[str, Signature], bool] = {}  # per worker process: folder walks are not free


def visible(path: str, sig: Signature) -> bool:
    """Does this worker see the driver's ``path`` with the same content?"""
    cached = _seen.get((path, sig))
    if cached is not None:
        return cached
    found = signature(path) == sig
    if sig[0] == "d":
        _seen[(path, sig)] = found
    return found


def cached_copy(key: str, path: str, sig: Signature) -> str | None:
    """This node's copy of an input, if an earlier script (or run attempt) made it."""
    target = node_root(key) / "data" / item_key(path, sig) / "data"
    return str(target) if target.exists() else None


def materialize(key: str, path: str, sig: Signature, ref: Any) -> str:
    """This node's copy of an input, fetched from the object store once per node and run."""
    import ray

    item = node_root(key) / "data" / item_key(path, sig)
    target = item / "data"
    with _locked(item.parent / f"{item.name}.lock"):
        if target.exists():
            return str(target)
        item.mkdir(parents=True, exist_ok=True)
        item.chmod(0o755)
        array = ray.get(ref)
        view = memoryview(array).cast("B")
        if sig[0] == "f":
            fd, tmp = tempfile.mkstemp(prefix=".data.", dir=item)
            with os.fdopen(fd, "wb") as fh:
                fh.write(view)
            os.chmod(tmp, 0o644)
            os.replace(tmp, target)
        else:
            staging = Path(tempfile.mkdtemp(prefix=".data.", dir=item))
            tar_path = staging / "data.tar"
            try:
                with open(tar_path, "wb") as fh:
                    fh.write(view)
                del view, array
                with tarfile.open(tar_path) as tar:
                    tar.extractall(staging / "out", filter="data")
                os.replace(staging / "out" / "data", target)
            finally:
                shutil.rmtree(staging, ignore_errors=True)
    return str(target)


def release(key: str) -> bool:
    """Remove this node's folder for one run (copies and scratch); True if there was one."""
    base = Path(os.environ.get(CACHE_ENV) or tempfile.gettempdir()) / "mle-star-ray" / key
    if not base.exists():
        return False
    shutil.rmtree(base, ignore_errors=True)
    return True
