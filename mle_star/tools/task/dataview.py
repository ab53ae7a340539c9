"""The data a run's scripts see, and the held-out labels only the agent sees.

Once per run the agent splits the labelled rows: a held-out share (20%, at most
``MAX_HOLDOUT`` rows, stratified for classes when the labels are small enough to read) has
its labels removed and is shown to scripts as ``holdout.csv`` (or ``.json``); their labels go
to ``RUN_DIR/private/answers.csv``, which no script can reach. Scripts train on the rest,
predict the held-out rows and the test rows, and the agent scores the held-out predictions
itself. Every script of a run sees the same split, so scores compare across stages.

Two views, each a mapping from a name under ``./input/`` to a file or folder on the host:
``search`` (the split) and ``full`` (every labelled row, for the final submission script).
Nothing is copied: entries point at the task's own files; only the split label file and the
held-out file are written, by streaming (a 2 GB table is split in seconds, never loaded).
Archives whose files scripts need are extracted once per run; a zipped table is shown unzipped,
and a table in another dialect (a BOM, semicolons and decimal commas, cp1252, Parquet, Excel)
as a standard UTF-8 CSV, so every script reads it with a plain ``pd.read_csv``.

Over 600 lines because every shape's split (rows, groups, token rows, image targets, listed
labels) writes the same two views and the same answers file; one module keeps them equal.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import re
import shutil
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path, PurePosixPath
from typing import IO, Any, cast

import numpy as np
import pandas as pd

from mle_star.state import ImageTargets, Task
from mle_star.tools.files import atomic_write
from mle_star.tools.scoring.held_out import OutputSpec, as_strings
from mle_star.tools.task.archives import archive_stem, extract
from mle_star.tools.task.dialect import COMMA_NUMBER, Dialect, shown_name
from mle_star.tools.task.intake import (
    CompositeKey,
    Intake,
    TaskError,
    key_values,
    read_records,
    records_frame,
)
from mle_star.tools.task.inventory import classify, render_inventory

HOLDOUT_SHARE = 0.2
MAX_HOLDOUT = 50_000  # enough rows for a stable score; predicting more costs every script
SHOWN_ROWS = 5  # the first rows appear in prompts (data facts), so they are never held out
STRATIFY_MAX_ROWS = 2_000_000  # labels up to this size are read whole (stratified split, NaN rows dropped)
CHUNK = 16 << 20
MANIFEST = "manifest.json"


@dataclass
class RunData:
    task: Task
    views: dict[str, dict[str, str]]  # view -> {name under ./input/: host path}
    answers: str  # RUN_DIR/private/answers.csv, or "" when scores are self-reported


# -- reading records of a table by streaming -------------------------------------------------

def open_stream(path: Path) -> IO[bytes]:
    """The bytes of a table, through its compression (zip with one member, gzip, or none)."""
    low = path.name.lower()
    if low.endswith(".gz"):
        return cast(IO[bytes], gzip.open(path, "rb"))  # a GzipFile in binary mode reads bytes
    if low.endswith(".zip"):
        archive = zipfile.ZipFile(path)
        members = [n for n in archive.namelist() if not n.endswith("/")]
        if len(members) != 1:
            raise TaskError(f"{path.name}: expected one table in the archive, found {len(members)} files")
        return archive.open(members[0])
    return open(path, "rb")


def records(stream: IO[bytes]) -> Iterator[bytes]:
    """Raw CSV records (with their line ends), quote-aware: a quoted field may span lines."""
    pending = b""
    carry = b""
    in_quote = False
    while True:
        chunk = stream.read(CHUNK)
        if not chunk:
            break
        data = carry + chunk
        cut = data.rfind(b"\n") + 1
        if cut == 0:
            carry = data
            continue
        body, carry = data[:cut], data[cut:]
        if not in_quote and not pending and b'"' not in body:  # the fast path: plain lines
            yield from body.splitlines(keepends=True)
            continue
        for line in body.splitlines(keepends=True):
            pending += line
            if line.count(b'"') % 2:
                in_quote = not in_quote
            if not in_quote:
                yield pending
                pending = b""
    rest = pending + carry
    if rest.strip():
        yield rest if rest.endswith(b"\n") else rest + b"\n"


def _parse(record: bytes, delimiter: str) -> list[str]:
    return next(csv.reader(io.StringIO(record.decode("utf-8", errors="replace")), delimiter=delimiter))


# -- the split -------------------------------------------------------------------------------

def choose_holdout(n: int, labels: pd.Series | None, positions: np.ndarray, seed: int) -> np.ndarray:
    """Sorted row positions to hold out: 20% (at most MAX_HOLDOUT), stratified when possible."""
    size = min(MAX_HOLDOUT, max(1, int(round(HOLDOUT_SHARE * len(positions)))))
    rng = np.random.default_rng(seed)
    if labels is not None and labels.nunique() < len(labels) // 10:
        from sklearn.model_selection import train_test_split

        counts = labels.value_counts()
        if counts.min() >= 2 and size >= len(counts):
            _, held = train_test_split(positions, test_size=size, random_state=seed, stratify=labels.to_numpy())
            return np.sort(held)
    return np.sort(rng.choice(positions, size=size, replace=False))


GROUP_NAME = re.compile(
    r"^(sentence|patient|subject|group|session|site|recording|rec|speaker|user|customer|study|document|doc|"
    r"household|family|author|series|station|store|batch|device)[ _\-]?(id|no|key|name)?$", re.I)
MIN_GROUPS = 10


def group_column(columns: list[str], exclude: set[str]) -> str | None:
    """A column that names groups of rows (a sentence, a patient, a site): rows of one group
    are alike, so a held-out row whose group is in training scores too well."""
    return next((c for c in columns if c not in exclude and GROUP_NAME.match(c.strip())), None)


def choose_group_holdout(groups: np.ndarray, positions: np.ndarray, shown_groups: set[str], seed: int
                         ) -> np.ndarray | None:
    """Held-out positions made of whole groups (about 20% of the rows, at most MAX_HOLDOUT), or
    None when the column does not group rows (every value unique, or too few groups)."""
    values, counts = np.unique(groups, return_counts=True)
    if len(values) < MIN_GROUPS or counts.mean() < 1.5:
        return None
    size = min(MAX_HOLDOUT, max(1, int(round(HOLDOUT_SHARE * len(positions)))))
    rng = np.random.default_rng(seed)
    chosen: list[str] = []
    total = 0
    for i in rng.permutation(len(values)):
        if values[i] in shown_groups or total + counts[i] > max(size, counts[i]) * 1.2:
            continue
        chosen.append(values[i])
        total += counts[i]
        if total >= size:
            break
    return np.sort(positions[np.isin(groups, chosen)]) if chosen else None


def split_table(source: Path, train_out: Path, holdout_out: Path, key: str, label_columns: list[str],
                keep_columns: list[str] | None, holdout: np.ndarray, drop: np.ndarray) -> pd.DataFrame:
    """Stream ``source`` into the training part (verbatim records) and the held-out part (the
    same columns minus the labels, or only ``keep_columns``); return the held-out answers."""
    delimiter = "\t" if ".tsv" in source.name.lower() else ","
    held, dropped = set(holdout.tolist()), set(drop.tolist())
    answers: list[list[str]] = []
    with open_stream(source) as stream, open(train_out, "wb") as train, \
            open(holdout_out, "w", newline="", encoding="utf-8") as out:
        rows = records(stream)
        header_raw = next(rows)
        header = _parse(header_raw, delimiter)
        train.write(header_raw)
        index = {c: i for i, c in enumerate(header)}
        label_at = [index[c] for c in label_columns]
        shown = [i for i, c in enumerate(header) if c not in label_columns
                 and (keep_columns is None or c in keep_columns or c == key)]
        writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
        writer.writerow([header[i] for i in shown])
        key_at = index[key]
        i = -1
        for raw in rows:
            if not raw.strip():  # pandas skips blank lines, so they are not rows
                continue
            i += 1
            if i in held:
                values = _parse(raw, delimiter)
                answers.append([values[key_at], *(values[j] for j in label_at)])
                writer.writerow([values[j] if j < len(values) else "" for j in shown])
            elif i not in dropped:
                train.write(raw)
    return pd.DataFrame(answers, columns=["__key__", *label_columns])


def _remove(record: dict, dotted: str) -> None:
    parts = dotted.split(".")
    node: Any = record
    for part in parts[:-1]:
        node = node.get(part) if isinstance(node, dict) else None
        if node is None:
            return
    if isinstance(node, dict):
        node.pop(parts[-1], None)


def split_records(source: Path, train_out: Path, holdout_out: Path, key: str, label_columns: list[str],
                  keep_keys: set[str] | None, holdout: np.ndarray, drop: np.ndarray) -> pd.DataFrame:
    """The JSON records split the same way; held-out records lose their label fields (and any
    field the test records do not have)."""
    items = read_records(source)
    flat = records_frame(items)
    held = set(holdout.tolist())
    dropped = set(drop.tolist())
    train_items, held_items = [], []
    for i, record in enumerate(items):
        if i in held:
            record = json.loads(json.dumps(record))
            for column in label_columns:
                _remove(record, column)
            if keep_keys is not None:  # keep what test records have (flattened names: "review.text")
                record = {k: v for k, v in record.items()
                          if k == key or k in keep_keys or any(c.startswith(k + ".") for c in keep_keys)}
            held_items.append(record)
        elif i not in dropped:
            train_items.append(record)
    lines = source.name.lower().endswith((".jsonl", ".ndjson"))
    for path, values in ((train_out, train_items), (holdout_out, held_items)):
        with open(path, "w", encoding="utf-8") as fh:
            if lines:
                fh.writelines(json.dumps(v) + "\n" for v in values)
            else:
                json.dump(values, fh)
    answers = flat.iloc[sorted(held)][[key, *label_columns]].astype(str)
    return answers.rename(columns={key: "__key__"}).reset_index(drop=True)


# -- archives and zipped tables --------------------------------------------------------------


def standard_table(source: Path, target: Path, composite: CompositeKey | None = None,
                   row_key: str | None = None) -> Dialect:
    """Write ``target``: the table at ``source`` as plain UTF-8 text with decimal points, comma-
    (or, for a .tsv name, tab-) separated, uncompressed; cells are copied as written otherwise.
    With ``composite`` the joined id column comes first; with ``row_key``, a column of that
    name numbering the rows from 0. Returns the source's dialect."""
    from mle_star.tools.task.inventory import open_table, table_dialect

    dialect = table_dialect(source)
    if target.exists():
        return dialect
    if dialect.standard(source.name) and composite is None and row_key is None:  # only compressed
        unzip_table(source, target)
        return dialect
    sep = "\t" if target.name.lower().endswith((".tsv", ".tab")) else ","
    partial = target.with_name(target.name + ".partial")
    with open(partial, "w", encoding="utf-8", newline="") as out:
        done = 0
        for i, frame in enumerate(_frames(source, dialect, open_table)):
            frame = key_values(frame, composite)
            if row_key is not None:
                frame.insert(0, row_key, [str(n) for n in range(done, done + len(frame))])
                done += len(frame)
            frame.to_csv(out, sep=sep, index=False, header=i == 0, lineterminator="\n")
    os.replace(partial, target)
    return dialect


def _frames(source: Path, dialect: Dialect, open_table) -> Iterator[pd.DataFrame]:
    """The table's rows as frames of strings (numbers with decimal commas rewritten)."""
    if dialect.format == "excel":
        yield open_table(source, nrows=None, dtype=str, keep_default_na=False)
        return
    if dialect.format == "parquet":
        import pyarrow.parquet as pq

        for batch in pq.ParquetFile(source).iter_batches(batch_size=100_000):
            yield batch.to_pandas()
        return
    for frame in open_table(source, nrows=None, dtype=str, keep_default_na=False, chunksize=100_000):
        if dialect.decimal == ",":
            for column in frame.columns:
                values = frame[column]
                filled = values != ""
                if filled.any() and values[filled].str.match(COMMA_NUMBER).all():
                    if dialect.thousands:
                        values = values.str.replace(dialect.thousands, "", regex=False)
                    frame[column] = values.str.replace(",", ".", regex=False)
        yield frame


def unzip_table(source: Path, target: Path) -> None:
    if target.exists():
        return
    partial = target.with_name(target.name + ".partial")
    with open_stream(source) as stream, open(partial, "wb") as out:
        shutil.copyfileobj(stream, out, CHUNK)
    os.replace(partial, target)


# -- the run's data --------------------------------------------------------------------------

def _holdout_name(taken: set[str], fmt: str, source: str) -> str:
    ext = ".json" if fmt == "json" else ".tsv" if ".tsv" in source.lower() else ".csv"
    if source.lower().endswith((".jsonl", ".ndjson")):
        ext = ".jsonl"
    for stem in ("holdout", "holdout_rows", "mle_star_holdout"):
        if stem + ext not in taken:
            return stem + ext
    raise TaskError("cannot name the held-out file: holdout.csv and its alternatives are taken")


@dataclass
class _Rows:
    n: int  # labelled rows
    stratify: pd.Series | None  # labels of the eligible rows, for a stratified split
    positions: np.ndarray  # rows eligible to hold out
    drop: np.ndarray  # rows without a label
    groups: np.ndarray | None = None  # the group of each eligible row, where rows come in groups
    group_column: str | None = None
    shown_groups: frozenset[str] = frozenset()  # groups of the rows prompts show (never held out)


def _label_positions(intake: Intake) -> _Rows:
    """Which labelled rows may be held out, and what the split should respect."""
    source = intake.label_source
    assert source is not None
    folder = Path(intake.data_dir)
    label = source["label_columns"][0]
    grouping = None
    if intake.named_labels is not None:
        frame = intake.named_labels
        grouping = group_column([str(c) for c in frame.columns], {source["key"], *source["label_columns"]})
    elif source["format"] == "json":
        frame = records_frame(read_records(folder / source["origin"]))
        grouping = group_column([str(c) for c in frame.columns], {source["key"], *source["label_columns"]})
    elif source["n_rows"] <= STRATIFY_MAX_ROWS:
        from mle_star.tools.task.inventory import open_table

        columns = [str(c) for c in open_table(folder / source["origin"], nrows=0).columns]
        grouping = group_column(columns, {source["key"], *source["label_columns"]})
        frame = open_table(folder / source["origin"], usecols=[*source["label_columns"], *([grouping] if grouping else [])],
                           nrows=None, low_memory=False)
    else:
        return _Rows(source["n_rows"], None, np.arange(SHOWN_ROWS, source["n_rows"]), np.array([], dtype=int))
    missing = frame[source["label_columns"]].isna().any(axis=1).to_numpy()
    positions = np.flatnonzero(~missing)
    positions = positions[positions >= SHOWN_ROWS]
    stratify = None
    if intake.output["kind"] in ("label", "probability", "class_probabilities", "ranked_labels"):
        stratify = pd.Series(as_strings(frame[label].to_numpy()[positions]))
    rows = _Rows(len(frame), stratify, positions, np.flatnonzero(missing))
    if grouping:
        groups = as_strings(frame[grouping].fillna("").to_numpy())
        rows.groups, rows.group_column = np.asarray(groups, dtype=object)[positions], grouping
        rows.shown_groups = frozenset(groups[:SHOWN_ROWS])
    return rows


def prepare_run_data(intake: Intake, run_dir: str | Path, seed: int) -> RunData:
    """Split, extract and lay out the run's data once; a resumed run reads the manifest."""
    run_dir = Path(run_dir)
    data, private = run_dir / "data", run_dir / "private"
    manifest = data / MANIFEST
    if manifest.exists():
        saved = json.loads(manifest.read_text())
        if saved.get("fingerprint") == intake.fingerprint and saved.get("seed") == seed:
            return RunData(task=saved["task"], views=saved["views"], answers=saved["answers"])
    data.mkdir(parents=True, exist_ok=True)
    private.mkdir(exist_ok=True)
    folder = Path(intake.data_dir)
    notes = list(intake.notes)
    full: dict[str, str] = {p.name: str(p) for p in sorted(folder.iterdir())
                            if p.name != intake.description_file and not p.name.startswith(".")}
    for archive in intake.archives:
        stem = archive_stem(archive)
        if stem in full:
            continue
        (data / "extracted").mkdir(exist_ok=True)
        extract(folder / archive, data / "extracted" / stem)
        full[stem] = str(data / "extracted" / stem)
        notes.append(f"{archive} is extracted to ./input/{stem}/")
    source = intake.label_source
    for name in list(full):
        path = folder / name
        if path.is_file() and classify(name)[0] == "table":
            is_labels = bool(source and source["origin"] == name)
            keyed = intake.composite_key if is_labels or name == intake.test_file else None
            _show_standard(name, path, data, full, notes, is_labels=is_labels, composite=keyed,
                           row_key=intake.row_key if is_labels else None)
    if intake.named_labels is not None and source is not None:  # labels read off the items' names
        (data / "full").mkdir(exist_ok=True)
        _atomic_csv(intake.named_labels, data / "full" / source["file"])
        full[source["file"]] = str(data / "full" / source["file"])
    if intake.derived_test is not None and intake.test_file:  # test rows the intake built (listed labels)
        (data / "full").mkdir(exist_ok=True)
        _atomic_csv(intake.derived_test, data / "full" / intake.test_file)
        full[intake.test_file] = str(data / "full" / intake.test_file)
    search = dict(full)
    answers_path, holdout_name, n_holdout, split_group = "", None, 0, None
    n_train = intake.n_labelled
    pixels: dict | None = None
    if intake.scoring == "agent" and intake.image_targets is not None:
        pixels, n_train, n_holdout, answers_path = _split_images(intake, full, search, data, private, seed, notes)
        holdout_name = pixels["holdout"]
    elif intake.scoring == "agent" and source is not None:
        (data / "search").mkdir(exist_ok=True)
        holdout_name = _holdout_name(set(full), source["format"], source["file"])
        rows = _label_positions(intake)
        n_rows, drop = rows.n, rows.drop
        held = None
        if rows.groups is not None:
            held = choose_group_holdout(rows.groups, rows.positions, set(rows.shown_groups), seed)
            if held is not None:
                split_group = rows.group_column
                notes.append(f"the held-out rows are whole '{rows.group_column}' groups: rows of one group are "
                             "alike, so each group is either trained on or held out, never both")
        if held is None:
            held = choose_holdout(n_rows, rows.stratify, rows.positions, seed)
        train_out, holdout_out = data / "search" / source["file"], data / "search" / holdout_name
        keep = _test_columns(intake)
        origin = Path(full[source["file"]])
        if source["format"] == "json":
            answers = split_records(origin, train_out, holdout_out, source["key"], source["label_columns"],
                                    set(keep) if keep else None, held, drop)
        else:
            answers = split_table(origin, train_out, holdout_out, source["key"], source["label_columns"],
                                  keep, held, drop)
        if intake.named_labels is not None and intake.train_items is not None:
            answers = _anonymise_held_out(intake, full, search, holdout_out, answers, data / "search")
        answers = _as_answers(intake, answers)
        answers_path = str(private / "answers.csv")
        _atomic_csv(answers, Path(answers_path))
        search[source["file"]] = str(train_out)
        search[holdout_name] = str(holdout_out)
        if source["origin"] != source["file"]:
            search.pop(source["origin"], None)  # the original still holds the held-out labels
        n_holdout = len(answers)
        n_train = n_rows - len(drop) - n_holdout
        notes.append(f"the agent holds out {n_holdout:,} labelled rows (./input/{holdout_name}, labels removed) "
                     f"and scores predictions for them itself; scripts train on the other {n_train:,}")
    task = _task(intake, search, holdout_name, n_train, n_holdout, notes)
    if intake.image_targets is not None:
        task["image_targets"] = cast(ImageTargets, pixels or {**intake.image_targets, "holdout": ""})
    views = {"search": search, "full": full}
    record = {"fingerprint": intake.fingerprint, "seed": seed, "task": task, "views": views, "answers": answers_path,
              "split_group": split_group}
    atomic_write(manifest, json.dumps(record, indent=1))
    return RunData(task=task, views=views, answers=answers_path)


def _split_images(intake: Intake, full: dict[str, str], search: dict[str, str], data: Path, private: Path,
                  seed: int, notes: list[str]) -> tuple[dict, int, int, str]:
    """Image targets: hold out whole images. The search view's input and target folders show the
    training images only; the held-out inputs are in their own folder; the agent writes their
    targets' pixels, streaming, as the answers."""
    pixels = dict(intake.image_targets or {})
    inputs, targets = Path(full[pixels["inputs"]]), Path(full[pixels["targets"]])
    names = sorted(p.name for p in inputs.iterdir() if p.is_file() and (targets / p.name).is_file())
    rng = np.random.default_rng(seed)
    size = max(1, int(round(HOLDOUT_SHARE * len(names))))
    held = set(rng.choice(names, size=size, replace=False).tolist())
    pixels["holdout"] = next(n for n in ("holdout", "holdout_images", "mle_star_holdout") if n not in full)
    search_dir = data / "search"
    for folder, keep in ((pixels["inputs"], False), (pixels["targets"], False), (pixels["holdout"], True)):
        target = search_dir / folder
        if target.exists():
            shutil.rmtree(target)
        target.mkdir(parents=True)
        source = inputs if folder != pixels["targets"] else targets
        for name in names:
            if (name in held) == keep:
                _link(source / name, target / name)
        search[folder] = str(target)
    answers = private / "answers.csv"
    rows = _write_pixel_answers(targets, sorted(held), answers, intake.output, int(pixels["base"]))
    notes.append(f"the agent holds out {len(held)} whole images (./input/{pixels['holdout']}/, {rows:,} pixels; "
                 f"their targets removed) and scores predictions for every pixel itself; scripts train on the other "
                 f"{len(names) - len(held)}")
    return pixels, len(names) - len(held), rows, str(answers)


def _write_pixel_answers(targets: Path, names: list[str], path: Path, output: OutputSpec, base: int) -> int:
    """Every pixel of the held-out target images, streamed: id <stem>_<row>_<col>, grey level / 255."""
    from PIL import Image

    id_column, value = output["id_column"], output["columns"][0]
    partial = path.with_name(path.name + ".partial")
    count = 0
    with open(partial, "w", encoding="utf-8", newline="") as out:
        out.write(f"{id_column},{value}\n")
        for name in names:
            stem = PurePosixPath(name).stem
            grey = np.asarray(Image.open(targets / name).convert("L"), dtype=np.float64) / 255.0
            rows, cols = np.indices(grey.shape)
            ids = np.char.add(np.char.add(f"{stem}_", (rows.ravel() + base).astype(str)),
                              np.char.add("_", (cols.ravel() + base).astype(str)))
            out.writelines(f"{i},{v:.6g}\n" for i, v in zip(ids, grey.ravel(), strict=True))
            count += grey.size
    os.replace(partial, path)
    return count


def _anonymise_held_out(intake: Intake, full: dict[str, str], search: dict[str, str], holdout_file: Path,
                        answers: pd.DataFrame, out: Path) -> pd.DataFrame:
    """Where labels are read off the items' names, a held-out item's name would give its label
    away: the search view's item folder shows the training items as they are and the held-out
    ones as ``mle_star_holdout/<n><suffix>``; the held-out table and answers use those names."""
    items = intake.train_items
    assert items is not None
    source = Path(full[items["dir"]])
    target = out / items["dir"]
    renamed = {key: f"mle_star_holdout/{i:06d}{PurePosixPath(key).suffix}"
               for i, key in enumerate(as_strings(answers["__key__"].to_numpy()))}
    if target.exists():
        shutil.rmtree(target)
    assert intake.label_source is not None
    key_column = intake.label_source["key"]
    labelled = pd.read_csv(out / intake.label_source["file"], dtype=str, keep_default_na=False)
    for key in as_strings(labelled[key_column].to_numpy()):
        _link(source / items["pattern"].format(id=key), target / items["pattern"].format(id=key))
    for key, name in renamed.items():
        _link(source / items["pattern"].format(id=key), target / items["pattern"].format(id=name))
    held = pd.read_csv(holdout_file, dtype=str, keep_default_na=False)
    held[key_column] = [renamed.get(k, k) for k in held[key_column]]
    _atomic_csv(held, holdout_file)
    search[items["dir"]] = str(target)
    return answers.assign(__key__=[renamed.get(k, k) for k in as_strings(answers["__key__"].to_numpy())])


def _link(source: Path, target: Path) -> None:
    """A hard link where the file system allows one (no copy, readable as the original), else a copy."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)
        os.chmod(target, 0o644)  # the sandboxed script runs as another user


def _show_standard(name: str, path: Path, data: Path, view: dict[str, str], notes: list[str],
                   is_labels: bool, composite: CompositeKey | None = None, row_key: str | None = None) -> None:
    """Show a table in another dialect (or the zipped label table) as a standard copy."""
    from mle_star.tools.task.inventory import InventoryError, table_dialect

    try:
        dialect = table_dialect(path)
    except InventoryError:
        return  # the intake described what it could; scripts see the file as it is
    standard = dialect.standard(name)
    shown = shown_name(name, dialect)
    if standard and composite is None and row_key is None and (shown == name or not is_labels):
        return
    (data / "full").mkdir(exist_ok=True)
    try:
        standard_table(path, data / "full" / shown, composite, row_key)
    except Exception as exc:  # noqa: BLE001 - a table the intake read but cannot copy is the task's to fix
        from mle_star.tools.task.intake import table_problem

        raise TaskError(f"cannot read {name}: {table_problem(exc)}") from None
    del view[name]
    view[shown] = str(data / "full" / shown)
    if row_key is not None and standard:
        return  # the intake's note says how the rows are numbered
    if standard and composite is None:
        notes.append(f"{name} is shown unzipped as ./input/{shown}")
    elif standard and composite is not None:
        notes.append(f"{name} is shown as ./input/{shown} with the joined '{composite[0]}' column added first")
    else:
        notes.append(f"{name} is {dialect.describe()}; scripts see a standard UTF-8 copy as ./input/{shown} "
                     f"({'tab' if shown.lower().endswith('.tsv') else 'comma'}-separated, decimal points)")


def _test_columns(intake: Intake) -> list[str] | None:
    """Held-out rows keep only what test rows have (so nothing label-like leaks through)."""
    if not intake.test_file:
        return None
    if intake.derived_test is not None:
        return [str(c) for c in intake.derived_test.columns]
    from mle_star.tools.task.intake import columns_of

    return columns_of(Path(intake.data_dir), intake.test_file) or None


def _as_answers(intake: Intake, frame: pd.DataFrame) -> pd.DataFrame:
    """Held-out answers in the scorer's terms: the sample's id column, label values as the
    prediction columns name them (class columns matched by position when names differ)."""
    out = frame.rename(columns={"__key__": intake.output["id_column"]})
    if intake.output["kind"] == "class_probabilities":
        column = intake.output["label_columns"][0]
        mapping = dict(zip(intake.classes, intake.output["classes"], strict=True))
        out[column] = [mapping.get(v, v) for v in as_strings(out[column].to_numpy())]
    return out


def _task(intake: Intake, view: dict[str, str], holdout: str | None, n_train: int, n_holdout: int,
          notes: list[str]) -> Task:
    run_facts = "\n".join(f"- {n}" for n in notes)
    inventory = render_inventory(intake.inventory, 6000) + ("\n\nIn this run:\n" + run_facts if run_facts else "")
    return Task(
        name=intake.name, data_dir=intake.data_dir, description=intake.description, inventory=inventory,
        data_files=sorted(view), sample_submission=_shown(intake.sample, view), output=intake.output,
        id_column=intake.output["id_column"], target_columns=intake.output["columns"],
        label_source=intake.label_source, holdout_file=holdout,
        test_file=_shown(intake.test_file, view) if intake.test_file else None,
        train_items=intake.train_items, test_items=intake.test_items, modality=intake.modality,
        task_type=intake.task_type, metric=intake.metric.name, metric_title=intake.metric.title,
        lower_is_better=not intake.metric.higher_is_better, metric_implemented=intake.metric.implemented,
        metric_spec=intake.metric.spec(),
        scoring="agent" if holdout else "self_reported", classes=intake.classes, n_train=n_train,
        n_holdout=n_holdout, n_test=intake.n_test, text_columns=intake.text_columns,
        target_min=intake.target_min, notes=notes,
    )


def _shown(name: str, view: dict[str, str]) -> str:
    """The name scripts see a task file under (a table in another dialect may be renamed .csv)."""
    if name in view:
        return name
    shown = shown_name(name, Dialect(format="excel")) if name.lower().endswith((".xlsx", ".xlsm", ".xls", ".parquet",
                                                                                ".pq")) else shown_name(name, None)
    return shown if shown in view else name


def _atomic_csv(frame: pd.DataFrame, path: Path) -> None:
    partial = path.with_name(path.name + ".partial")
    frame.to_csv(partial, index=False)
    os.replace(partial, path)


@lru_cache(maxsize=8)
def _answers(path: str, mtime: float) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def load_answers(path: str) -> pd.DataFrame:
    """The held-out answers (read once per process)."""
    return _answers(path, os.path.getmtime(path))
