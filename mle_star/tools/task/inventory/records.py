"""JSON and JSON Lines: the first records' keys, and the record count by a streaming array reader."""

from __future__ import annotations

import io
import itertools
import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from mle_star.tools.task.inventory.base import (
    COMPRESSED,
    JSON_COUNT_LIMIT,
    JSON_LINES_EXT,
    JSON_MAX_ITEM,
    JSON_MAX_KEYS,
    JSON_PEEK,
    JSON_SAMPLE,
    SMALL_FOLDER,
    Counting,
    InventoryError,
    MiB,
    _cut,
    _deadline,
    _late,
    _public,
    _suffixes,
    classify,
)
from mle_star.tools.task.inventory.streams import _scan, _Source, _source

# ---------------------------------------------------------------- JSON


class _ArrayReader:
    """Decodes a top-level JSON array item by item, holding one chunk and one item in memory."""

    def __init__(self, fh: IO[str], chunk: int = MiB) -> None:
        self.fh, self.chunk = fh, chunk
        self.buf, self.pos, self.eof, self.before = "", 0, False, 0
        self.decoder = json.JSONDecoder()

    @property
    def offset(self) -> int:
        """Characters consumed so far."""
        return self.before + self.pos

    def _more(self) -> None:
        pending = len(self.buf) - self.pos
        if pending > JSON_MAX_ITEM:
            raise InventoryError(f"a JSON record longer than {JSON_MAX_ITEM // MiB} MB")
        data = self.fh.read(max(self.chunk, pending))  # doubling keeps huge items linear
        self.before += self.pos
        self.buf, self.pos, self.eof = self.buf[self.pos:] + data, 0, not data

    def _peek(self) -> str:
        """The next non-space character ('' at the end), reading more as needed."""
        while True:
            while self.pos < len(self.buf) and self.buf[self.pos] in " \t\r\n":
                self.pos += 1
            if self.pos < len(self.buf) or self.eof:
                return self.buf[self.pos:self.pos + 1]
            self._more()

    def _item(self) -> Any:
        while True:
            try:
                value, end = self.decoder.raw_decode(self.buf, self.pos)
            except json.JSONDecodeError as exc:
                if self.eof:
                    raise InventoryError(f"invalid or truncated JSON: {exc.msg}") from None
                self._more()
                continue
            if end == len(self.buf) and not self.eof:  # a number may continue in the next chunk
                self._more()
                continue
            self.pos = end
            return value

    def items(self) -> Iterator[Any]:
        if self._peek() != "[":
            raise InventoryError("not a JSON array")
        self.pos += 1
        if self._peek() == "]":
            return
        while True:
            yield self._item()
            sep = self._peek()
            if sep == "]":
                return
            if sep != ",":
                raise InventoryError("invalid or truncated JSON: expected ',' or ']'")
            self.pos += 1
            self._peek()


def _text_stream(fh: IO[bytes]) -> IO[str]:
    return io.TextIOWrapper(fh, encoding="utf-8-sig", errors="replace")


def _json_format(text: str, name: str) -> str:
    last, inner = _suffixes(name)
    if last in JSON_LINES_EXT or (last in COMPRESSED and inner in JSON_LINES_EXT):
        return "lines"
    body = text.lstrip()
    if body.startswith("["):
        return "array"
    if not body.startswith("{"):
        raise InventoryError("does not start with a JSON array or object")
    try:
        _, end = json.JSONDecoder().raw_decode(body)
    except json.JSONDecodeError:
        return "lines" if "\n{" in body else "object"
    return "lines" if body[end:].lstrip().startswith(("{", "[")) else "object"


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        inner = sorted({_type_name(v) for v in value[:5]})
        return f"list[{'|'.join(inner)}]" if inner else "list"
    return {int: "int", float: "float", str: "str"}.get(type(value), type(value).__name__)


def _collect_keys(record: dict, prefix: str, depth: int, stats: dict[str, dict]) -> None:
    for key, value in record.items():
        path = f"{prefix}{key}"
        entry = stats.get(path)
        if entry is None:
            if len(stats) >= JSON_MAX_KEYS:
                continue
            entry = stats[path] = {"types": Counter(), "present": 0, "chars": 0, "strings": 0}
        entry["present"] += 1
        entry["types"][_type_name(value)] += 1
        if isinstance(value, str):
            entry["chars"] += len(value)
            entry["strings"] += 1
        elif isinstance(value, dict) and depth < 3:
            _collect_keys(value, path + ".", depth + 1, stats)


def _key_facts(records: list) -> list[dict]:
    """Every key (dotted to depth 3) with its types, share present and mean string length."""
    stats: dict[str, dict] = {}
    for record in records:
        if isinstance(record, dict):
            _collect_keys(record, "", 1, stats)
    n = max(1, sum(isinstance(r, dict) for r in records))
    facts = []
    for key, entry in stats.items():
        fact: dict[str, Any] = {"key": key, "types": [t for t, _ in entry["types"].most_common()],
                                "present": round(entry["present"] / n, 3)}
        if entry["strings"]:
            fact["mean_len"] = round(entry["chars"] / entry["strings"], 1)
        facts.append(fact)
    return facts


def _shorten(value: Any, depth: int = 0) -> Any:
    """A JSON value cut down for a prompt: short strings, 3 list items, 20 keys, depth 3."""
    if isinstance(value, str):
        return _cut(value)
    if isinstance(value, list):
        items = [_shorten(v, depth + 1) for v in value[:3]]
        return items + ([f"... {len(value) - 3} more"] if len(value) > 3 else [])
    if isinstance(value, dict):
        if depth >= 3:
            return "{...}"
        out = {str(k): _shorten(v, depth + 1) for k, v in itertools.islice(value.items(), 20)}
        if len(value) > 20:
            out["..."] = f"{len(value) - 20} more keys"
        return out
    return value


def _records_facts(records: list) -> dict:
    facts: dict[str, Any] = {"n_sampled": len(records), "keys": _key_facts(records)}
    kinds = Counter(_type_name(r) for r in records)
    if kinds and kinds.most_common(1)[0][0] != "object":
        facts["record_types"] = dict(kinds)
    if records:
        facts["example"] = _shorten(records[0])
    return facts


def _first_lines(text: str, complete: bool) -> tuple[list, int]:
    """Records from the first JSON lines of a prefix, and how many of them failed to parse."""
    lines = text.split("\n")
    if not complete:
        lines = lines[:-1]  # the last line may be cut mid-record
    records, bad, first_error = [], 0, ""
    for line in itertools.islice((ln for ln in lines if ln.strip()), JSON_SAMPLE):
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError as exc:
            bad += 1
            first_error = first_error or exc.msg
    if bad and not records:
        raise InventoryError(f"no JSON line parses: {first_error}")
    return records, bad


def _first_items(src: _Source) -> tuple[list, str | None]:
    """Records from the start of an array (at most ~JSON_PEEK characters), and any error."""
    records: list = []
    with src.open() as fh:
        reader = _ArrayReader(_text_stream(fh), chunk=256 * 1024)
        try:
            for item in reader.items():
                records.append(item)
                if len(records) >= JSON_SAMPLE or reader.offset > JSON_PEEK:
                    break
        except InventoryError as exc:
            if not records:
                raise
            return records, f"{exc} (after {len(records)} records)"
    return records, None


def _object_facts(src: _Source, text: str, complete: bool) -> dict:
    """A top-level object: its keys, or the records it holds (under a key or as a mapping)."""
    if not complete and (src.raw_size or src.size) > JSON_COUNT_LIMIT:
        return {"format": "object", "keys": [],
                "note": f"JSON object larger than {JSON_COUNT_LIMIT // MiB} MB: not parsed"}
    if complete:
        obj = json.loads(text)
    else:
        with src.open() as fh:
            obj = json.load(_text_stream(fh))
    facts: dict[str, Any] = {"format": "object"}
    if not isinstance(obj, dict):
        return {**facts, **_records_facts([obj])}
    values = list(itertools.islice(obj.values(), JSON_SAMPLE))
    lists = {k: v for k, v in obj.items() if isinstance(v, list) and v and isinstance(v[0], dict)}
    if len(obj) > SMALL_FOLDER and values and all(isinstance(v, dict) for v in values):
        facts["n_entries"] = len(obj)  # {id: record, ...}
        facts["example_keys"] = [_cut(str(k), 40) for k in itertools.islice(obj, 3)]
        return {**facts, **_records_facts(values)}
    facts["keys"] = _key_facts([obj])
    if lists:
        key = max(lists, key=lambda k: len(lists[k]))
        facts["records_key"], facts["n_records"] = key, len(lists[key])
        records = _records_facts(lists[key][:JSON_SAMPLE])
        facts["record_keys"], facts["example"] = records["keys"], records.get("example")
    else:
        facts["example"] = _shorten(obj)
    return facts


def _json_head(src: _Source) -> dict:
    with src.open() as fh:
        raw = fh.read(JSON_PEEK)
        complete = not fh.read(1)
    text = raw.decode("utf-8-sig", errors="replace")
    if not text.strip():
        raise InventoryError("empty file")
    fmt = _json_format(text, src.name)
    if fmt == "object":
        return {"compression": src.compression, **_object_facts(src, text, complete)}
    facts: dict[str, Any] = {"format": fmt, "compression": src.compression}
    if fmt == "lines":
        records, bad = _first_lines(text, complete)
        if bad:
            facts["bad_lines_in_sample"] = bad
    else:
        records, error = _first_items(src)
        if error:
            facts["error"] = error
    return {**facts, **_records_facts(records)}


def _json_count(src: _Source, details: dict, deadline: float | None) -> None:
    """n_records: JSON lines by counting lines, arrays by decoding (only below the size limit)."""
    if details["format"] == "lines":
        scan = _scan(src, deadline, quotes=False)
        details["n_records"], details["n_records_exact"] = scan.lines, scan.done
        if not scan.done and scan.fraction:
            details["n_records"] = round(scan.lines / scan.fraction)
            details["n_records_note"] = f"estimated from the first {scan.fraction:.0%} of the data"
        elif not scan.done:
            details["n_records_note"] = "at least: counting stopped at the time budget"
        return
    if (src.raw_size or src.size) > JSON_COUNT_LIMIT:
        details["n_records"] = "unknown"
        details["n_records_note"] = f"array larger than {JSON_COUNT_LIMIT // MiB} MB: not counted"
        return
    n = 0
    with src.open() as fh:
        for _ in _ArrayReader(_text_stream(fh)).items():
            n += 1
            if n % 1000 == 0 and _late(deadline):
                details.update(n_records=n, n_records_exact=False,
                               n_records_note="at least: counting stopped at the time budget")
                return
    details.update(n_records=n, n_records_exact=True)


def _json(path: Path, compression: str) -> tuple[dict, Counting | None]:
    src = _source(path, compression)
    details = _json_head(src)
    if details["format"] == "object" or "error" in details:
        return details, None

    def count(deadline: float | None) -> None:
        try:
            _json_count(src, details, deadline)
        except InventoryError as exc:
            details["error"] = str(exc)

    return details, count


@_public
def json_facts(path: Path, *, time_budget: float | None = None) -> dict:
    """Format, record count and key facts of a JSON / JSON-lines file (possibly compressed)."""
    path = Path(path)
    kind, compression = classify(path.name)
    details, count = _json(path, compression if kind == "json" else "none")
    if count:
        count(_deadline(time_budget))
    return details


