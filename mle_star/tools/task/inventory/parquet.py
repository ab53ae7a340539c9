"""A Parquet file's schema and row count from its footer (Thrift compact protocol), with no Parquet library."""

from __future__ import annotations

import os
import struct
from pathlib import Path
from typing import Any

from mle_star.tools.task.inventory.base import HEAD_BYTES, MAX_COLUMNS, InventoryError, _cut

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


