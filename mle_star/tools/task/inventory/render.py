"""The inventory as text for prompts: one line per entry, tables first, then first rows; capped."""

from __future__ import annotations

import csv
import io
import json
from pathlib import PurePosixPath

from mle_star.tools.task.inventory.base import FileFacts, FolderFacts, Inventory, _cut

# ---------------------------------------------------------------- rendering


def _human(n: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1024:
            return f"{n:,.0f} {unit}" if unit == "bytes" else f"{n:,.1f} {unit}"
        n /= 1024
    return f"{n:,.1f} TB"


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}" if n == 1 else f"{n:,} {word}s"


def _exts_phrase(by_ext: dict[str, int], limit: int = 4) -> str:
    items = sorted(by_ext.items(), key=lambda kv: -kv[1])
    words = [f"{n:,} {ext}" for ext, n in items[:limit]]
    rest = sum(n for _, n in items[limit:])
    return ", ".join(words + ([f"{rest:,} other"] if rest else []))


def _rows_phrase(d: dict) -> str:
    if "n_rows" not in d:
        return "rows not counted"
    n = d["n_rows"]
    if d.get("n_rows_exact", True):
        return _plural(n, "row")
    note = d.get("n_rows_note", "")
    prefix = "~" if note.startswith(("estimated", "approximate")) else "≥" if "least" in note else ""
    return f"{prefix}{_plural(n, 'row')} ({note})"


def _column_phrase(fact: dict) -> str:
    extra = [fact.get("kind", "")]
    if fact.get("kind") == "categorical":
        extra.append(f"{fact.get('unique', 0):,} levels")
    if fact.get("kind") == "text" and "mean_len" in fact:
        extra.append(f"~{fact['mean_len']:.0f} chars")
    if fact.get("missing"):
        extra.append(f"{fact['missing']:.0%} missing")
    return f"{fact['name']} ({', '.join(e for e in extra if e)})"


def _columns_phrase(d: dict, limit: int = 40) -> str:
    """Few columns one by one; many grouped by kind so a wide table stays short."""
    facts = d.get("column_facts") or [{"name": c} for c in d.get("columns", [])]
    n = d.get("n_columns", len(facts))
    if n <= 12:
        return ", ".join(_column_phrase(f) if "kind" in f else f["name"] for f in facts)
    groups: dict[str, list[dict]] = {}
    for f in facts:
        groups.setdefault(f.get("kind", "not described"), []).append(f)
    share = max(3, limit // len(groups))
    parts = []
    for kind, members in groups.items():
        names = [_column_phrase(f).replace(f"({kind}, ", "(").replace(f" ({kind})", "")
                 for f in members]
        if len(names) > share:  # keep the last name too: it is often the target
            names = names[: share - 1] + [f"... {len(names) - share:,} more", names[-1]]
        parts.append(f"{kind} ({len(members):,}): {', '.join(names)}")
    if n > len(facts):
        parts.append(f"{n - len(facts):,} more not described")
    return "; ".join(parts)


def _table_phrase(d: dict) -> str:
    if d.get("format") in ("parquet", "excel"):
        what = "Parquet table" if d["format"] == "parquet" else "Excel workbook"
        return (f"{what}, {_plural(d['n_rows'], 'row')} x {_plural(d['n_columns'], 'column')}; scripts see it as "
                f"a UTF-8 CSV of the same name ending .csv; columns: {_columns_phrase(d)}")
    what = "TSV" if d.get("delimiter") == "\t" else "CSV"
    if d.get("dialect"):  # the run's data view shows scripts a standard copy of such a table
        what = (f"table written {d['dialect']} (./input/ holds a standard UTF-8 copy: comma-separated for .csv, "
                "tab for .tsv, decimal points, uncompressed)")
    elif d.get("compression", "none") != "none":
        what = f"{d['compression']}-compressed {what} (pandas reads it directly)"
    columns = _plural(d.get("n_columns", 0), "column")
    if "n_rows" in d or "count_skipped" in d:
        shape = f"{_rows_phrase(d)} x {columns}"
    else:  # an archive member's sample: rows are not counted there
        shape = columns
    return f"{what}, {shape}; columns: {_columns_phrase(d)}"


def _keys_phrase(keys: list[dict], limit: int = 30) -> str:
    words = []
    for k in keys[:limit]:
        extra = ["|".join(k["types"])]
        if "mean_len" in k and k["mean_len"] >= 20:
            extra.append(f"~{k['mean_len']:.0f} chars" + (", text" if k["mean_len"] >= 50 else ""))
        if k["present"] < 1:
            extra.append(f"{k['present']:.0%} present")
        words.append(f"{k['key']} ({', '.join(extra)})")
    if len(keys) > limit:
        words.append(f"... and {len(keys) - limit} more keys")
    return ", ".join(words)


def _json_phrase(d: dict) -> str:
    fmt = d.get("format")
    comp = f"{d['compression']}-compressed " if d.get("compression", "none") != "none" else ""
    if fmt == "object":
        if "n_entries" in d:
            return (f"{comp}JSON object mapping {d['n_entries']:,} keys (e.g. {', '.join(d['example_keys'])}) "
                    f"to records; record keys: {_keys_phrase(d['keys'])}")
        if "records_key" in d:
            return (f"{comp}JSON object; {d['records_key']!r} holds {_plural(d['n_records'], 'record')}; "
                    f"record keys: {_keys_phrase(d['record_keys'])}")
        return f"{comp}JSON object; keys: {_keys_phrase(d.get('keys', []))}" + (
            f" ({d['note']})" if "note" in d else "")
    n = d.get("n_records")
    count = (_plural(n, "record") if isinstance(n, int) else f"{n} number of records") if n is not None \
        else "records not counted"
    if n is not None and not d.get("n_records_exact", True):
        count += f" ({d.get('n_records_note', 'approximate')})"
    kind = "JSON lines" if fmt == "lines" else "JSON array"
    if "record_types" in d:
        return f"{comp}{kind}, {count}; records are {', '.join(d['record_types'])}"
    return f"{comp}{kind}, {count}; keys: {_keys_phrase(d.get('keys', []))}"


def _audio_phrase(d: dict) -> str:
    if "sample_rate" not in d:
        return f"{d.get('format', '?')} audio ({d.get('note', 'not read')})"
    channels = {1: "mono", 2: "stereo"}.get(d["channels"], f"{d['channels']} channels")
    duration = f"{d['duration']:.2f} s, " if d.get("duration") is not None else ""
    return (f"{d['format'].upper()} audio, {duration}{d['sample_rate']:,} Hz, {channels}, "
            f"{8 * d['sample_width']}-bit {d.get('encoding', '')}".rstrip())


def _array_phrase(d: dict) -> str:
    if d.get("format") == "npz":
        arrays = ", ".join(f"{k} {tuple(v['shape'])} {v['dtype']}" for k, v in d["arrays"].items())
        return f"numpy .npz with {d['n_arrays']} arrays: {arrays}"
    return f"numpy array, shape {tuple(d['shape'])}, {d['dtype']}"


def _sample_phrase(s: dict) -> str:
    kind = s.get("kind", "")
    if "error" in s:
        return f"{s.get('member', '')}: unreadable ({s['error']})"
    body = _describe(kind, s)
    return f"{s.get('member', '')}: {body}" if s.get("member") else body


def _archive_phrase(d: dict) -> str:
    if "n_members" not in d:
        sample = f"; content: {_sample_phrase(d['sample'])}" if "sample" in d else ""
        return f"{d.get('format', '?')} archive" + (f" ({d['note']})" if "note" in d else "") + sample
    text = (f"{d['format']} archive, {_plural(d['n_members'], 'member')} ({_exts_phrase(d['by_extension'])}), "
            f"{_human(d['total_uncompressed'])} uncompressed")
    if d.get("listing_complete") is False:
        text += " (listing stopped at a bound: counts are lower bounds)"
    if "single_table" in d:
        how = "pandas reads it directly" if d.get("pandas_reads_directly") else "open the member"
        table = _table_phrase({**d["table"], "compression": "none"})
        return f"{text}; one table {d['single_table']} ({how}): {table}"
    text += f"; e.g. {', '.join(d['examples'][:3])}" if d.get("examples") else ""
    if d.get("top_dirs") and len(d["top_dirs"]) > 1:
        text += f"; folders {', '.join(f'{k} ({v:,})' for k, v in list(d['top_dirs'].items())[:5])}"
    if "sample" in d:
        text += f"; sample {_sample_phrase(d['sample'])}"
    return text


def _describe(kind: str, d: dict) -> str:
    """One line of facts for a file's details (without its path)."""
    if "skipped" in d:
        return f"{kind}, not inspected ({d['skipped']})"
    if kind == "table" and "n_columns" in d:
        return _table_phrase(d) + (f"; error: {d['error']}" if "error" in d else "")
    if kind == "json" and "format" in d:
        return _json_phrase(d) + (f"; error: {d['error']}" if "error" in d else "")
    if "error" in d:
        return f"{kind}, unreadable: {d['error']}"
    if kind == "image":
        return f"{d['format']} image {d['width']}x{d['height']} {d['mode']}"
    if kind == "audio":
        return _audio_phrase(d)
    if kind == "archive":
        return _archive_phrase(d)
    if kind == "array":
        return _array_phrase(d)
    if kind == "text":
        lines = f"{_plural(d['n_lines'], 'line')}; " if "n_lines" in d else ""
        return f"text, {lines}first line: {d.get('first_line', '')!r}"
    if "folder_link" in d:
        return f"link to folder {d['symlink_to']}/ (not followed)"
    return "file"


def _file_line(f: FileFacts) -> str:
    link = f" -> {f.details['symlink_to']}" if "symlink_to" in f.details else ""
    return f"- {f.path}{link} ({_human(f.size)}): {_describe(f.kind, f.details)}"


def _folder_line(f: FolderFacts) -> str:
    name = "files at the top level not listed above" if f.path == "." else f"{f.path}/"
    text = f"- {name}: {_plural(f.n_files, 'file')} ({_exts_phrase(f.by_extension)}), {_human(f.total_size)}"
    if f.n_subfolders:
        subs = ", ".join(f"{k}/ ({v:,})" for k, v in list(f.subfolders.items())[:8])
        more = f", ... {f.n_subfolders - 8} more" if f.n_subfolders > 8 else ""
        text += f" in {_plural(f.n_subfolders, 'sub-folder')}: {subs}{more}"
    if f.examples:
        text += f"; e.g. {', '.join(f.examples[:4])}"
    if f.sample:
        text += f"; sample {f.sample.path[len(f.path) + 1:] if f.path != '.' else f.sample.path}: "
        text += _describe(f.sample.kind, f.sample.details)
    return text


KIND_ORDER = {"table": 0, "json": 1, "array": 2, "archive": 4, "image": 5, "audio": 5, "text": 6,
              "other": 7}


def _head_block(f: FileFacts) -> str | None:
    """First rows of a table / example record of a JSON file, for the second part of render."""
    d = f.details.get("table", f.details) if f.kind == "archive" else f.details
    if d.get("head") and d.get("columns"):
        out = io.StringIO()  # written back with the file's own delimiter and quoting
        writer = csv.writer(out, delimiter=d.get("delimiter", ","), lineterminator="\n")
        for row in [d["columns"]] + d["head"]:
            writer.writerow([c.replace("\r", "").replace("\n", "\\n") for c in row])
        rows = [_cut(line, 400) for line in out.getvalue().splitlines()]
        return f"First rows of {f.path}:\n" + "\n".join("  " + r for r in rows)
    if f.kind == "json" and d.get("example") is not None:
        example = _cut(json.dumps(d["example"], ensure_ascii=False, default=str), 600)
        return f"Example record of {f.path}: {example}"
    return None


def _name_rank(path: str) -> int:
    """train, then test, then the sample submission: the order a loading script reads them."""
    name = PurePosixPath(path).name.lower()
    for rank, prefix in enumerate(("train", "test", "sample", "submission")):
        if name.startswith(prefix):
            return min(rank, 2)
    return 3


def _render_order(f: FileFacts) -> tuple[int, int, str]:
    table = f.kind == "archive" and "single_table" in f.details
    return (0 if table else KIND_ORDER[f.kind], _name_rank(f.path), f.path)


def render_inventory(inv: Inventory, max_chars: int = 6000) -> str:
    """Text for prompts: one line per entry (tables first), then first rows; capped."""
    bound = " (the walk stopped at a bound: counts are lower bounds)" if inv.truncated else ""
    blocks = [f"Data folder: {_plural(inv.n_files, 'file')}, {_human(inv.total_size)}{bound}"]
    entries: list[tuple[tuple, str]] = []
    for f in inv.files:
        entries.append((_render_order(f), _cut(_file_line(f), 1200)))
    for folder in inv.folders:
        entries.append(((3, _name_rank(folder.path), folder.path), _cut(_folder_line(folder), 1200)))
    blocks += [line for _, line in sorted(entries)]
    blocks += [b for b in map(_head_block, sorted(inv.files, key=_render_order)) if b]
    text, used = "", 0
    for i, block in enumerate(blocks):
        note = f"\n... ({len(blocks) - i} more entries cut: the data facts are capped at {max_chars:,} characters)"
        if used + len(block) + 1 + len(note) > max_chars:
            room = max_chars - used - len(note) - 1
            if room > 80:
                text += _cut(block, room) + "\n"
            return (text.rstrip("\n") + note)[:max_chars]
        text += block + "\n"
        used = len(text)
    return text.rstrip("\n")
