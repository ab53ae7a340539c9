"""A persistent cache of model replies (SQLite), so re-running a run costs no model calls.

The key is the model id, the role and the full request (every message and the structured
inputs the node attached); a hit returns the earlier reply text.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from functools import lru_cache
from pathlib import Path


class ReplyCache:
    def __init__(self, path: str | Path):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(str(path), check_same_thread=False)
        self._lock = threading.Lock()
        with self._lock:
            self._conn.execute("CREATE TABLE IF NOT EXISTS replies (key TEXT PRIMARY KEY, reply TEXT NOT NULL)")
            self._conn.commit()

    @staticmethod
    def key(model: str, role: str, request: list[dict]) -> str:
        blob = json.dumps({"model": model, "role": role, "request": request}, sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()

    def get(self, key: str) -> str | None:
        with self._lock:
            row = self._conn.execute("SELECT reply FROM replies WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def put(self, key: str, reply: str) -> None:
        with self._lock:
            self._conn.execute("INSERT OR REPLACE INTO replies (key, reply) VALUES (?, ?)", (key, reply))
            self._conn.commit()


@lru_cache(maxsize=8)
def open_cache(path: str) -> ReplyCache:
    return ReplyCache(path)
