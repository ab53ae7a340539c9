"""A task-folder fuzzer: variants of the example tasks saved the way people save tables.

From each cheap example task (breast-cancer, diabetes) it builds variants that change the
encoding, delimiter, decimal mark, line ends, header names, column order, id position and
format, file names and extensions, compression and format, add or remove files, damage rows,
empty or blow up cells, and duplicate or drop ids. Each variant says what a serious tool must
do with it:

- ``valid``: exit 0 with ``final/submission.csv``, graded against the variant's own answers
  (kept consistent with every id and column change) at least as well as ``Base.good`` says;
  a submission that cannot be graded or scores like a guess is a *silent wrong submission*;
- ``refused``: exit 2 with exactly one line on stderr, ``mle-star: error: ...``, that names the
  file concerned and the problem, and no Python exception name.

Mutations compose: ``combined_variants`` joins 2-3 compatible ones with a seeded generator
(each mutation claims *slots*, e.g. ``enc:train``; two that claim the same slot never meet, and
a variant holds at most one refused mutation, so its expected reason is unambiguous).

    python tests/fuzz_tasks.py OUT_DIR                  # the CI sample (8 variants, seed 0)
    python tests/fuzz_tasks.py OUT_DIR --all            # every variant
    python tests/fuzz_tasks.py OUT_DIR --sample 20 --seed 3 --only bom tsv

prints a Markdown table (variant, expected, outcome, exit code, the error line or the score)
and the counts, as the README's reliability table shows them.
"""

from __future__ import annotations

import argparse
import bz2
import gzip
import io
import json
import lzma
import os
import random
import re
import shutil
import subprocess
import sys
import time
import zipfile
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

Expect = Literal["valid", "refused"]
ROLES = ("train", "test", "sample")
ASPECTS = ("exist", "enc", "sep", "dec", "eol", "tail", "quote", "rows", "typed", "big", "comp", "fmt", "name",
           "order", "idcol")
COMPRESSED = {"gzip": ".gz", "bz2": ".bz2", "xz": ".xz", "zip": ".zip"}
# A Python exception's name in what a user reads means the tool let an error escape unexplained.
EXCEPTION_NAME = re.compile(r"Traceback|\b[A-Z]\w*(Error|Exception)\b|\bBadZipFile\b|\bStopIteration\b|\bErrno\b")
MINIMAL_LOOPS = ["--num-candidates", "1", "--outer-loops", "1", "--inner-loops", "1",
                 "--parallel-solutions", "1", "--ensemble-rounds", "1", "--quiet"]
CLI = "import sys; from mle_star.cli import main; sys.exit(main(sys.argv[1:]))"


@dataclass(frozen=True)
class Base:
    """An example task and the grade a valid run of any variant of it must reach."""

    name: str
    good: float  # AUC at least this, or RMSE at most this
    higher_is_better: bool

    def good_enough(self, score: float) -> bool:
        return score >= self.good if self.higher_is_better else score <= self.good


# The unmutated tasks score AUC 0.995 and RMSE 60.3 with the minimal loops; guessing scores
# AUC 0.5 and RMSE 77.2 (the sample's constant), so these bounds tell a real model from a guess.
BASES = {
    "breast-cancer": Base("breast-cancer", 0.9, True),
    "diabetes": Base("diabetes", 66.0, False),
}


# ---------------------------------------------------------------- a task folder, in memory


@dataclass
class Table:
    """One table of the task and how it is saved."""

    frame: pd.DataFrame
    name: str
    encoding: str = "utf-8"
    sep: str = ","
    decimal: str = "."
    line_end: str = "\n"
    compression: str | None = None  # gzip | bz2 | xz | zip
    fmt: str = "csv"  # csv | parquet | excel
    present: bool = True
    raw: bytes | None = None  # the file's bytes, whatever the frame says
    text_edits: list[Callable[[str, Table], str]] = field(default_factory=list)
    byte_edits: list[Callable[[bytes], bytes]] = field(default_factory=list)  # after compression

    @property
    def file_name(self) -> str:
        return self.name + COMPRESSED.get(self.compression or "", "")

    def text(self) -> str:
        out = self.frame.to_csv(index=False, sep=self.sep, decimal=self.decimal, lineterminator=self.line_end)
        for edit in self.text_edits:
            out = edit(out, self)
        return out

    def payload(self) -> bytes:
        """The file's bytes as saved (before compression)."""
        if self.raw is not None:
            return self.raw
        if self.fmt == "parquet":
            buffer = io.BytesIO()
            self.frame.to_parquet(buffer, index=False)
            return buffer.getvalue()
        if self.fmt == "excel":
            buffer = io.BytesIO()
            self.frame.to_excel(buffer, index=False)
            return buffer.getvalue()
        return self.text().encode(self.encoding)

    def file_bytes(self) -> bytes:
        data = _compress(self.payload(), self.compression, self.name)
        for edit in self.byte_edits:
            data = edit(data)
        return data


def _compress(data: bytes, how: str | None, member: str) -> bytes:
    if how == "gzip":
        return gzip.compress(data, mtime=0)
    if how == "bz2":
        return bz2.compress(data)
    if how == "xz":
        return lzma.compress(data)
    if how == "zip":
        return _zip({member: data})
    return data


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))  # fixed time: the same bytes per seed
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return buffer.getvalue()


@dataclass
class Folder:
    """A task folder being mutated: its tables, its answers and the grading facts (task.json)."""

    tables: dict[str, Table]
    answers: pd.DataFrame
    meta: dict
    description: str
    has_description: bool = True
    extra: dict[str, bytes] = field(default_factory=dict)  # path under public/ -> bytes
    bundle: str | None = None  # a zip holding the train and test files instead of the folder

    @property
    def id_column(self) -> str:
        return str(self.meta["id_column"])

    @property
    def targets(self) -> list[str]:
        return [str(c) for c in self.meta["prediction_columns"]]

    def frame(self, role: str) -> pd.DataFrame:
        return self.tables[role].frame

    def features(self) -> list[str]:
        return [c for c in self.frame("test").columns if c != self.id_column]

    def rename(self, mapping: dict[str, str]) -> None:
        """Rename columns everywhere a column of that name appears, and in the grading facts."""
        for table in self.tables.values():
            table.frame = table.frame.rename(columns=mapping)
        self.answers = self.answers.rename(columns=mapping)
        for key in ("prediction_columns", "answer_columns"):
            self.meta[key] = [mapping.get(c, c) for c in self.meta[key]]
        self.meta["id_column"] = mapping.get(self.id_column, self.id_column)

    def map_ids(self, change: Callable[[pd.Series], pd.Series]) -> None:
        """Rewrite the ids of every table and of the answers the same way."""
        for frame_owner in [*self.tables.values()]:
            if self.id_column in frame_owner.frame.columns:
                frame_owner.frame = frame_owner.frame.assign(**{self.id_column: change(frame_owner.frame[self.id_column])})
        self.answers = self.answers.assign(**{self.id_column: change(self.answers[self.id_column])})

    def file_names(self, role: str) -> list[str]:
        """The names a message about ``role``'s file may use."""
        table = self.tables[role]
        names = [table.file_name, table.name]
        if role in ("train", "test") and self.bundle:
            names.append(self.bundle)
        return names


def load_folder(base_dir: Path) -> Folder:
    """The example task at ``base_dir`` (written by ``mle-star example``) as a mutable folder."""
    public = base_dir / "public"
    meta = json.loads((base_dir / "task.json").read_text())
    ids = {meta["id_column"]: str}
    tables = {role: Table(pd.read_csv(public / f"{stem}.csv", dtype=ids), f"{stem}.csv")
              for role, stem in (("train", "train"), ("test", "test"), ("sample", "sample_submission"))}
    answers = pd.read_csv(base_dir / "private" / "answers.csv", dtype=ids)
    return Folder(tables, answers, meta, (public / "description.md").read_text())


def write_folder(folder: Folder, out: Path) -> Path:
    """Write ``folder`` as ``out/{public/, private/answers.csv, task.json}``; returns ``out/public``."""
    public = out / "public"
    public.mkdir(parents=True)
    (out / "private").mkdir()
    folder.answers.to_csv(out / "private" / "answers.csv", index=False)
    meta = {k: v for k, v in folder.meta.items() if k != "null_score"}
    (out / "task.json").write_text(json.dumps(meta, indent=1) + "\n")
    if folder.has_description:
        (public / "description.md").write_text(folder.description)
    bundled: dict[str, bytes] = {}
    for role, table in folder.tables.items():
        if not table.present:
            continue
        if folder.bundle and role in ("train", "test"):
            bundled[table.file_name] = table.file_bytes()
        else:
            (public / table.file_name).write_bytes(table.file_bytes())
    if bundled:
        (public / str(folder.bundle)).write_bytes(_zip(bundled))
    for relative, data in folder.extra.items():
        (public / relative).parent.mkdir(parents=True, exist_ok=True)
        (public / relative).write_bytes(data)
    return public


# ---------------------------------------------------------------- the mutations


@dataclass(frozen=True)
class Mutation:
    """One way people save a task folder, and what a serious tool must make of it."""

    name: str
    what: str
    expect: Expect
    apply: Callable[[Folder, np.random.Generator], None]
    slots: frozenset[str] = frozenset()
    concerns: tuple[str, ...] = ()  # roles (train/test/sample) or words: a refusal names one of them
    problem: tuple[str, ...] = ()  # a refusal also says one of these words (the problem), when given
    bases: tuple[str, ...] = ("breast-cancer",)


def _slots(aspects: Iterable[str], roles: Iterable[str] = ROLES) -> frozenset[str]:
    return frozenset(f"{a}:{r}" for a in aspects for r in roles)


def _every(role: str) -> frozenset[str]:
    return _slots(ASPECTS, [role])


def _each(roles: Iterable[str], **settings: object) -> Callable[[Folder, np.random.Generator], None]:
    """A mutation that sets the same saving options on some tables."""
    def apply(folder: Folder, rng: np.random.Generator) -> None:
        for role in roles:
            for key, value in settings.items():
                setattr(folder.tables[role], key, value)
    return apply


def _edit(roles: Iterable[str], edit: Callable[[str, Table], str]) -> Callable[[Folder, np.random.Generator], None]:
    def apply(folder: Folder, rng: np.random.Generator) -> None:
        for role in roles:
            folder.tables[role].text_edits.append(edit)
    return apply


TEXT_CITIES = ["Zürich", "Malmö", "Besançon", "Córdoba", "Århus", "Graz"]


def _cp1252(folder: Folder, rng: np.random.Generator) -> None:
    """Western European text (a header and a column of town names) saved as Windows-1252."""
    folder.rename({folder.features()[0]: "Größe (µm²)"})
    for role in ("train", "test"):
        frame = folder.frame(role)
        folder.tables[role].frame = frame.assign(clinic=rng.choice(TEXT_CITIES, size=len(frame)))
        folder.tables[role].encoding = "cp1252"


def _units(folder: Folder, rng: np.random.Generator) -> None:
    folder.rename({c: f"{c.replace('_', ' ')} (mm)" for c in folder.features()[:6]})


def _unicode(folder: Folder, rng: np.random.Generator) -> None:
    names = ["rayon µ", "面积", "Glättung²", "Dichte (g/cm³)"]
    folder.rename(dict(zip(folder.features()[:4], names, strict=False)))


def _rename_target(folder: Folder, rng: np.random.Generator) -> None:
    folder.rename({t: f"{t.title()} (label)" for t in folder.targets})


def _rename_id(folder: Folder, rng: np.random.Generator) -> None:
    folder.rename({folder.id_column: "Patient ID"})


def _shuffle_columns(folder: Folder, rng: np.random.Generator) -> None:
    for role in ("train", "test"):
        frame = folder.frame(role)
        folder.tables[role].frame = frame[list(rng.permutation(frame.columns))]


def _move(role: str, column: Callable[[Folder], list[str]], first: bool) -> Callable[[Folder, np.random.Generator], None]:
    def apply(folder: Folder, rng: np.random.Generator) -> None:
        frame = folder.frame(role)
        moved = [c for c in column(folder) if c in frame.columns]
        rest = [c for c in frame.columns if c not in moved]
        folder.tables[role].frame = frame[moved + rest if first else rest + moved]
    return apply


def _id_last(folder: Folder, rng: np.random.Generator) -> None:
    for role in ("train", "test"):
        _move(role, lambda f: [f.id_column], first=False)(folder, rng)


def _drop_train_id(folder: Folder, rng: np.random.Generator) -> None:
    folder.tables["train"].frame = folder.frame("train").drop(columns=[folder.id_column])


def _leading_zeros(folder: Folder, rng: np.random.Generator) -> None:
    folder.map_ids(lambda ids: ids.map(lambda v: f"{int(v):07d}"))


def _hex_ids(folder: Folder, rng: np.random.Generator) -> None:
    every = sorted({v for t in folder.tables.values() if folder.id_column in t.frame.columns
                    for v in t.frame[folder.id_column]})
    codes = rng.choice(16 ** 8, size=len(every), replace=False)
    mapping = {old: f"{code:08x}" for old, code in zip(every, codes, strict=True)}
    folder.map_ids(lambda ids: ids.map(mapping))


def _shuffle_rows(role: str) -> Callable[[Folder, np.random.Generator], None]:
    def apply(folder: Folder, rng: np.random.Generator) -> None:
        frame = folder.frame(role)
        folder.tables[role].frame = frame.iloc[rng.permutation(len(frame))].reset_index(drop=True)
    return apply


def _repeat_rows(role: str, n: int) -> Callable[[Folder, np.random.Generator], None]:
    def apply(folder: Folder, rng: np.random.Generator) -> None:
        frame = folder.frame(role)
        copies = frame.iloc[rng.choice(len(frame), size=n, replace=False)]
        folder.tables[role].frame = pd.concat([frame, copies], ignore_index=True)
    return apply


NOTES = ["seen twice,\nsecond opinion pending", 'marked "urgent" by the clinic', "line one\r\nline two, three",
         "", "plain", 'a "quoted, comma" and\nnewline']


def _quoted_newlines(folder: Folder, rng: np.random.Generator) -> None:
    """A free-text column whose cells hold newlines, commas and quotes (written quoted)."""
    for role in ("train", "test"):
        frame = folder.frame(role)
        folder.tables[role].frame = frame.assign(notes=rng.choice(NOTES, size=len(frame)))


def _blank_cells(folder: Folder, rng: np.random.Generator) -> None:
    for role in ("train", "test"):
        frame = folder.frame(role).copy()
        for column in folder.features():
            frame.loc[rng.random(len(frame)) < 0.1, column] = np.nan
        folder.tables[role].frame = frame


def _question_marks(folder: Folder, rng: np.random.Generator) -> None:
    """'?' for a missing number, as in many UCI files."""
    for role in ("train", "test"):
        frame = folder.frame(role).astype({c: object for c in folder.features()})
        for column in folder.features():
            frame.loc[rng.random(len(frame)) < 0.03, column] = "?"
        folder.tables[role].frame = frame


def _huge_cell(folder: Folder, rng: np.random.Generator) -> None:
    """A 2 MB text cell (a pasted log), beyond the csv module's default field limit."""
    frame = folder.frame("train")
    words = rng.choice(["scan", "normal", "follow-up", "artefact", "repeat", "lab"], size=300_000)
    remark = [""] * len(frame)
    if remark:
        remark[len(frame) // 2] = " ".join(words)
    folder.tables["train"].frame = frame.assign(remark=remark)


def _truncate_last_row(text: str, table: Table) -> str:
    """The file ends in the middle of its last row (a copy or download cut short)."""
    body = text.rstrip("\r\n")
    cut = body.rfind(table.line_end)
    last = body[cut + len(table.line_end):]
    return body[: cut + len(table.line_end)] + last[: max(1, len(last) // 2)]


def _short_row(text: str, table: Table) -> str:
    """A row in the middle that stops after a few fields (pandas reads the rest as missing)."""
    lines = text.split(table.line_end)
    middle = len(lines) // 2
    lines[middle] = table.sep.join(lines[middle].split(table.sep)[:4])
    return table.line_end.join(lines)


def _extra_field(text: str, table: Table) -> str:
    lines = text.split(table.line_end)
    middle = len(lines) // 2
    lines[middle] = lines[middle] + table.sep + "999"
    return table.line_end.join(lines)


def _unterminated_quote(text: str, table: Table) -> str:
    lines = text.split(table.line_end)
    middle = len(lines) // 2
    fields = lines[middle].split(table.sep)
    fields[1] = '"' + fields[1]
    lines[middle] = table.sep.join(fields)
    return table.line_end.join(lines)


def _blank_tail(text: str, table: Table) -> str:
    return text + table.line_end * 3


def _rename_files(mapping: dict[str, str]) -> Callable[[Folder, np.random.Generator], None]:
    def apply(folder: Folder, rng: np.random.Generator) -> None:
        for role, name in mapping.items():
            folder.tables[role].name = name
    return apply


def _formatted(fmt: str, suffix: str, roles: tuple[str, ...]) -> Callable[[Folder, np.random.Generator], None]:
    def apply(folder: Folder, rng: np.random.Generator) -> None:
        for role in roles:
            table = folder.tables[role]
            table.fmt = fmt
            table.name = table.name.rsplit(".", 1)[0] + suffix
    return apply


def _tsv(folder: Folder, rng: np.random.Generator) -> None:
    for table in folder.tables.values():
        table.sep = "\t"
        table.name = table.name.rsplit(".", 1)[0] + ".tsv"


def _bundle(folder: Folder, rng: np.random.Generator) -> None:
    folder.bundle = "data.zip"


DS_STORE = b"\x00\x00\x00\x01Bud1" + bytes(range(256)) * 4
APPLE_DOUBLE = b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        " + bytes(64)


def _extra_files(folder: Folder, rng: np.random.Generator) -> None:
    """What a folder copied from a laptop carries along: notes, a data dictionary, Finder files."""
    folder.extra.update({
        "README.txt": b"Data exported from the clinic database on 2024-03-01. Ask Ana about row 17.\n",
        "feature_descriptions.csv": ("column,meaning\n" + "".join(f"{c},measured {c}\n" for c in folder.features()))
        .encode(),
        ".DS_Store": DS_STORE,
        "__MACOSX/._train.csv": APPLE_DOUBLE,
    })


def _empty_extra(folder: Folder, rng: np.random.Generator) -> None:
    folder.extra["extra_features.csv"] = b""


def _absent(role: str) -> Callable[[Folder, np.random.Generator], None]:
    def apply(folder: Folder, rng: np.random.Generator) -> None:
        folder.tables[role].present = False
    return apply


def _no_description(folder: Folder, rng: np.random.Generator) -> None:
    folder.has_description = False


def _garbage(role: str, size: int = 8192) -> Callable[[Folder, np.random.Generator], None]:
    def apply(folder: Folder, rng: np.random.Generator) -> None:
        folder.tables[role].raw = rng.integers(0, 256, size=size, dtype=np.uint8).tobytes()
    return apply


def _empty_file(role: str) -> Callable[[Folder, np.random.Generator], None]:
    def apply(folder: Folder, rng: np.random.Generator) -> None:
        folder.tables[role].raw = b""
    return apply


def _header_only(folder: Folder, rng: np.random.Generator) -> None:
    folder.tables["train"].frame = folder.frame("train").head(0)


def _damaged_gzip(folder: Folder, rng: np.random.Generator) -> None:
    table = folder.tables["train"]
    table.compression = "gzip"
    table.byte_edits.append(lambda data: data[: len(data) // 2])


def _sample_without_predictions(folder: Folder, rng: np.random.Generator) -> None:
    folder.tables["sample"].frame = folder.frame("sample")[[folder.id_column]]


def _sample_ids_elsewhere(folder: Folder, rng: np.random.Generator) -> None:
    frame = folder.frame("sample")
    folder.tables["sample"].frame = frame.assign(**{folder.id_column: frame[folder.id_column] + "000999"})


def _blank_test_ids(folder: Folder, rng: np.random.Generator) -> None:
    frame = folder.frame("test").copy()
    frame.loc[rng.choice(len(frame), size=2, replace=False), folder.id_column] = np.nan
    folder.tables["test"].frame = frame


BOTH = ("breast-cancer", "diabetes")
TT = ("train", "test")
DUPLICATE = ("duplicate", "unique", "twice", "repeated", "more than once")
FILE_SHAPE = ("comp", "fmt", "enc", "sep", "dec", "eol", "tail", "quote", "typed")

# Catalogue order is application order: content first (names, ids, cells), then how files are
# saved, then the damage, so a composed variant damages the file as it is finally written.
MUTATIONS: list[Mutation] = [
    # headers, columns and ids
    Mutation("header-units", "feature headers with spaces and units: 'mean radius (mm)'", "valid", _units),
    Mutation("header-unicode", "feature headers in other scripts: 'rayon µ', '面积'", "valid", _unicode,
             _slots(["nonlatin"], TT)),
    Mutation("target-renamed", "the label column (in train and the sample) is 'Malignant (label)'", "valid",
             _rename_target, bases=BOTH),
    Mutation("id-renamed", "the id column is 'Patient ID' in every file", "valid", _rename_id, bases=BOTH),
    Mutation("columns-shuffled", "train and test list their columns in different random orders", "valid",
             _shuffle_columns, _slots(["order"], TT)),
    Mutation("target-first", "the label is train's first column", "valid",
             _move("train", lambda f: f.targets, first=True), _slots(["order"], ["train"])),
    Mutation("id-second-in-sample", "the sample's columns are (label, id)", "valid",
             _move("sample", lambda f: f.targets, first=True), _slots(["order"], ["sample"]), bases=BOTH),
    Mutation("id-last", "the id is the last column of train and test", "valid", _id_last,
             _slots(["order"], TT)),
    Mutation("no-id-in-train", "train has no id column (test and sample have one)", "valid", _drop_train_id,
             _slots(["idcol", "rows"], ["train"])),
    Mutation("ids-leading-zeros", "ids written with leading zeros: '0000042'", "valid", _leading_zeros,
             frozenset({"idval"}), bases=BOTH),
    Mutation("ids-hex", "ids are random hex strings", "valid", _hex_ids, frozenset({"idval"})),
    Mutation("sample-rows-shuffled", "the sample lists the test ids in another order", "valid",
             _shuffle_rows("sample"), _slots(["rows"], ["sample"])),
    Mutation("train-duplicate-rows", "20 train rows appear twice", "valid", _repeat_rows("train", 20),
             _slots(["rows", "idcol"], ["train"])),
    # cells
    Mutation("quoted-newlines", "a free-text column whose quoted cells hold newlines, commas and quotes", "valid",
             _quoted_newlines, _slots(["quote"], TT)),
    Mutation("empty-cells", "10% of the feature cells are empty", "valid", _blank_cells, bases=BOTH),
    Mutation("question-marks", "3% of the feature cells are '?' (UCI's missing value)", "valid", _question_marks,
             _slots(["typed"], TT)),
    Mutation("huge-cell", "one 2 MB text cell in train", "valid", _huge_cell, _slots(["big", "rows"], ["train"])),
    # encodings, delimiters, line ends
    Mutation("bom", "every table starts with a UTF-8 byte-order mark (Excel)", "valid",
             _each(ROLES, encoding="utf-8-sig"), _slots(["enc"]), bases=BOTH),
    Mutation("cp1252", "train and test in Windows-1252 with a header 'Größe (µm²)' and town names", "valid",
             _cp1252, _slots(["enc", "nonlatin"], TT), bases=BOTH),
    Mutation("utf16-tabs", "train and test as Excel's 'Unicode Text': UTF-16, tab-separated", "valid",
             _each(TT, encoding="utf-16", sep="\t"), _slots(["enc", "sep"], TT)),
    Mutation("semicolon-decimal-comma", "every table ';'-separated with decimal commas (European Excel)", "valid",
             _each(ROLES, sep=";", decimal=","), _slots(["sep", "dec"]), bases=BOTH),
    Mutation("tsv", "every table tab-separated, named .tsv", "valid", _tsv, _slots(["sep", "name"]), bases=BOTH),
    Mutation("pipe", "train and test '|'-separated", "valid", _each(TT, sep="|"), _slots(["sep"], TT)),
    Mutation("crlf", "every table ends its lines with CRLF (Windows)", "valid", _each(ROLES, line_end="\r\n"),
             _slots(["eol"]), bases=BOTH),
    Mutation("cr", "train and test end lines with a bare CR (classic Mac)", "valid", _each(TT, line_end="\r"),
             _slots(["eol"], TT)),
    Mutation("blank-trailing-lines", "three blank lines at the end of every table", "valid",
             _edit(ROLES, _blank_tail), _slots(["tail"])),
    Mutation("truncated-last-row", "train ends in the middle of its last row", "valid",
             _edit(["train"], _truncate_last_row), _slots(["tail", "quote", "rows"], ["train"])),
    Mutation("short-row", "a train row in the middle stops after 4 fields", "valid",
             _edit(["train"], _short_row), _slots(["quote", "rows"], ["train"])),
    # file names, compression, formats, extra files
    Mutation("renamed-files", "train and test are 'training_data.csv' and 'test_data.csv'", "valid",
             _rename_files({"train": "training_data.csv", "test": "test_data.csv"}), _slots(["name"], TT)),
    Mutation("upper-case-names", "'Train.CSV' and 'Test.CSV'", "valid",
             _rename_files({"train": "Train.CSV", "test": "Test.CSV"}), _slots(["name"], TT)),
    Mutation("kaggle-sample-name", "the sample is 'sampleSubmission.csv' (older Kaggle name)", "valid",
             _rename_files({"sample": "sampleSubmission.csv"}), _slots(["name"], ["sample"])),
    Mutation("gzip-train", "train.csv.gz", "valid", _each(["train"], compression="gzip"),
             _slots(["comp", "fmt"], ["train"]), bases=BOTH),
    Mutation("zip-train", "train.csv.zip (one member)", "valid", _each(["train"], compression="zip"),
             _slots(["comp", "fmt"], ["train"])),
    Mutation("bz2-test", "test.csv.bz2", "valid", _each(["test"], compression="bz2"), _slots(["comp", "fmt"], ["test"])),
    Mutation("xz-test", "test.csv.xz", "valid", _each(["test"], compression="xz"), _slots(["comp", "fmt"], ["test"])),
    Mutation("zip-sample", "sample_submission.csv.zip", "valid", _each(["sample"], compression="zip"),
             _slots(["comp", "fmt"], ["sample"])),
    Mutation("bundle-zip", "train and test only inside data.zip (a Kaggle download)", "valid", _bundle,
             _slots(["comp", "name"], TT)),
    Mutation("parquet", "train and test as Parquet", "valid", _formatted("parquet", ".parquet", TT),
             _slots(FILE_SHAPE + ("big",), TT), bases=BOTH),
    Mutation("excel-train", "train as an Excel workbook (.xlsx)", "valid", _formatted("excel", ".xlsx", ("train",)),
             _slots(FILE_SHAPE + ("big",), ["train"]), bases=BOTH),
    Mutation("extra-files", "a README.txt, a data dictionary CSV, .DS_Store and __MACOSX files", "valid",
             _extra_files, frozenset({"docs"})),
    Mutation("empty-extra-table", "an unused, empty extra_features.csv", "valid", _empty_extra,
             frozenset({"docs"})),
    # what cannot be a task, or would doom the submission: refused with the file and the reason
    Mutation("no-sample", "no sample submission", "refused", _absent("sample"), _every("sample"), ("sample",)),
    Mutation("no-test", "no test table", "refused", _absent("test"), _every("test"), ("test",)),
    Mutation("no-train", "no table with labels", "refused", _absent("train"), _every("train"),
             ("train", "label")),
    Mutation("no-description", "no description file", "refused", _no_description, frozenset({"docs"}),
             ("description",)),
    Mutation("train-garbage", "train.csv is 8 KB of random bytes", "refused", _garbage("train"), _every("train"),
             ("train",)),
    Mutation("test-garbage", "test.csv is 8 KB of random bytes", "refused", _garbage("test"), _every("test"),
             ("test",)),
    Mutation("sample-garbage", "the sample is 8 KB of random bytes", "refused", _garbage("sample"),
             _every("sample"), ("sample",)),
    Mutation("test-empty-file", "test.csv is an empty file", "refused", _empty_file("test"), _every("test"),
             ("test",)),
    Mutation("train-header-only", "train has a header and no rows", "refused", _header_only,
             _slots(["rows", "tail", "quote", "big", "idcol"], ["train"]), ("train",)),
    Mutation("train-damaged-gzip", "train.csv.gz cut off halfway", "refused", _damaged_gzip,
             _slots(["comp", "fmt"], ["train"]), ("train",)),
    Mutation("train-extra-field", "a train row in the middle has one field too many", "refused",
             _edit(["train"], _extra_field), _slots(["quote", "rows", "fmt"], ["train"]), ("train",),
             ("line", "row", "field")),
    Mutation("test-unterminated-quote", "a test row opens a quote it never closes", "refused",
             _edit(["test"], _unterminated_quote), _slots(["quote", "fmt"], ["test"]), ("test",)),
    Mutation("test-duplicate-ids", "3 test rows appear twice (same id)", "refused", _repeat_rows("test", 3),
             _slots(["rows"], ["test"]), ("test",), DUPLICATE, bases=BOTH),
    Mutation("test-missing-ids", "2 test rows have an empty id", "refused", _blank_test_ids,
             _slots(["rows"], ["test"]), ("test", "sample")),
    Mutation("sample-duplicate-ids", "3 sample rows appear twice", "refused", _repeat_rows("sample", 3),
             _slots(["rows"], ["sample"]), ("sample",), DUPLICATE),
    Mutation("sample-ids-not-in-test", "the sample's ids are not the test file's", "refused",
             _sample_ids_elsewhere, _slots(["rows"], ["sample"]), ("sample", "test")),
    Mutation("sample-without-predictions", "the sample has only its id column", "refused",
             _sample_without_predictions, _slots(["order"], ["sample"]), ("sample",)),
]
BY_NAME = {m.name: m for m in MUTATIONS}


# ---------------------------------------------------------------- variants


@dataclass(frozen=True)
class Variant:
    """A base task with some mutations applied, and what the run must give."""

    base: str
    mutations: tuple[str, ...]

    @property
    def name(self) -> str:
        return f"{self.base}/{'+'.join(self.mutations)}"

    @property
    def slug(self) -> str:
        return re.sub(r"[^A-Za-z0-9.+-]+", "_", self.name)

    @property
    def refusing(self) -> Mutation | None:
        return next((BY_NAME[m] for m in self.mutations if BY_NAME[m].expect == "refused"), None)

    @property
    def expect(self) -> Expect:
        return "refused" if self.refusing else "valid"

    def what(self) -> str:
        return "; ".join(BY_NAME[m].what for m in self.mutations)


def compatible(names: Iterable[str]) -> bool:
    """No two claim a slot, at most one is refused, and every one applies to the same base."""
    chosen = [BY_NAME[n] for n in names]
    claimed: set[str] = set()
    for mutation in chosen:
        if claimed & mutation.slots:
            return False
        claimed |= mutation.slots
    return sum(m.expect == "refused" for m in chosen) <= 1


def single_variants() -> list[Variant]:
    return [Variant(base, (m.name,)) for m in MUTATIONS for base in m.bases]


def combined_variants(n: int = 24, seed: int = 0) -> list[Variant]:
    """``n`` seeded compositions of 2-3 compatible mutations (about one in four refused)."""
    rng = random.Random(seed)
    out: list[Variant] = []
    seen: set[tuple[str, tuple[str, ...]]] = set()
    valid = [m.name for m in MUTATIONS if m.expect == "valid"]
    refused = [m.name for m in MUTATIONS if m.expect == "refused"]
    while len(out) < n:
        base = rng.choice(list(BASES))  # every mutation applies to every base; ``bases`` only limits singles
        size = rng.choice([2, 2, 3])
        picked = rng.sample(valid, size - 1) + [rng.choice(refused)] if rng.random() < 0.25 else rng.sample(valid, size)
        if not compatible(picked):
            continue
        ordered = tuple(m.name for m in MUTATIONS if m.name in picked)  # catalogue order is application order
        if (base, ordered) not in seen:
            seen.add((base, ordered))
            out.append(Variant(base, ordered))
    return out


def all_variants() -> list[Variant]:
    return single_variants() + combined_variants()


def sample_variants(n: int = 8, seed: int = 0) -> list[Variant]:
    """A seeded sample for CI: about a third refused (fast), the rest valid, combinations included."""
    rng = random.Random(seed)
    variants = all_variants()
    refused = [v for v in variants if v.expect == "refused"]
    valid = [v for v in variants if v.expect == "valid"]
    n_refused = min(len(refused), max(1, n // 3))
    return rng.sample(valid, n - n_refused) + rng.sample(refused, n_refused)


def base_task(name: str, root: Path) -> Path:
    """The unmutated example task, written once under ``root``."""
    from mle_star.examples import write_example

    out = root / name
    if not (out / "task.json").exists():
        shutil.rmtree(out, ignore_errors=True)
        write_example(name, out)
    return out


def build_variant(variant: Variant, bases_root: Path, out: Path) -> Folder:
    """Write ``variant`` into ``out`` (public/, private/answers.csv, task.json); returns its folder."""
    folder = load_folder(base_task(variant.base, bases_root))
    rng = np.random.default_rng(zlib.crc32(variant.name.encode()))
    for name in variant.mutations:
        BY_NAME[name].apply(folder, rng)
    write_folder(folder, out)
    return folder


# ---------------------------------------------------------------- running a variant


@dataclass(frozen=True)
class Result:
    variant: Variant
    outcome: str  # valid | refused | wrong submission | no submission | unclear refusal | crashed
    code: int | None
    detail: str  # the error line, the score, or what went wrong
    seconds: float

    @property
    def ok(self) -> bool:
        return self.outcome == self.variant.expect


def _one_line(text: str, limit: int = 200) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 3] + "..."


def judge_refusal(variant: Variant, folder: Folder, stderr: str) -> tuple[str, str]:
    """('refused', line) when stderr is one clear line naming the file and problem, else why not."""
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    if len(lines) != 1 or not lines[0].startswith("mle-star: error:"):
        return "unclear refusal", f"{len(lines)} lines on stderr: {_one_line(lines[-1] if lines else '')}"
    line = lines[0]
    if EXCEPTION_NAME.search(line):
        return "unclear refusal", f"names an exception: {_one_line(line)}"
    mutation = variant.refusing
    if mutation is None:  # refused a variant that should run: report the line as it is
        return "refused", _one_line(line)
    names = [n for c in mutation.concerns for n in (folder.file_names(c) if c in ROLES else [c])]
    low = line.lower()
    if not any(n.lower() in low for n in names):
        return "unclear refusal", f"names none of {names}: {_one_line(line)}"
    if mutation.problem and not any(w in low for w in mutation.problem):
        return "unclear refusal", f"says none of {list(mutation.problem)}: {_one_line(line)}"
    return "refused", _one_line(line)


def judge_submission(variant: Variant, folder: Folder, out: Path, run_dir: Path) -> tuple[str, str]:
    """('valid', score) when the submission matches the sample and grades like a real model."""
    from mle_star.examples import score_submission

    path = run_dir / "final" / "submission.csv"
    if not path.is_file():
        return "no submission", "exit 0 without final/submission.csv"
    meta = json.loads((out / "task.json").read_text())
    sub = pd.read_csv(path, dtype={meta["id_column"]: str})
    expected = [str(c) for c in folder.frame("sample").columns]
    if sorted(map(str, sub.columns)) != sorted(expected):
        return "wrong submission", _one_line(f"columns {list(sub.columns)}, the sample has {expected}")
    n_ids = folder.answers[folder.id_column].nunique()
    if len(sub) != n_ids:
        return "wrong submission", f"{len(sub)} rows for {n_ids} test ids"
    try:
        score = score_submission(out, sub, meta)
    except ValueError as exc:  # the grader's own words: missing ids, absent columns
        return "wrong submission", _one_line(f"cannot be graded: {exc}")
    base = BASES[variant.base]
    text = f"{meta['metric']} {score:.4f}"
    if not base.good_enough(score):
        return "wrong submission", f"{text} (needs {'>=' if base.higher_is_better else '<='} {base.good})"
    return "valid", text


def _traceback_summary(stderr: str) -> str:
    """The first traceback's exception line and the project frame it came from."""
    lines = stderr.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Traceback"))
    frames = [line.strip() for line in lines[start:] if line.strip().startswith('File "') and "/mle_star/" in line]
    raised = next((line for line in lines[start + 1:] if line and not line.startswith(" ")), "")
    where = frames[-1] if frames else ""
    return _one_line(f"traceback on stderr: {raised} ({where})")


def run_variant(variant: Variant, root: Path, timeout: float = 600) -> Result:
    """Build ``variant`` under ``root`` and run the CLI on it with the minimal loops."""
    out = root / variant.slug
    shutil.rmtree(out, ignore_errors=True)
    folder = build_variant(variant, root / "_bases", out)
    run_dir = out / "run"
    env = {**os.environ, "OMP_WAIT_POLICY": "passive"}
    command = [sys.executable, "-c", CLI, "run", str(out / "public"), "--run-dir", str(run_dir), *MINIMAL_LOOPS]
    start = time.monotonic()
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env, cwd=out)
    except subprocess.TimeoutExpired:
        return Result(variant, "crashed", None, f"no exit within {timeout:.0f} s", time.monotonic() - start)
    seconds = time.monotonic() - start
    (out / "stderr.txt").write_text(done.stderr)
    if "Traceback" in done.stderr:  # even a run that submits must not show a user a traceback
        return Result(variant, "crashed", done.returncode, _traceback_summary(done.stderr), seconds)
    if done.returncode == 2:
        outcome, detail = judge_refusal(variant, folder, done.stderr)
    elif done.returncode == 0:
        outcome, detail = judge_submission(variant, folder, out, run_dir)
    elif done.returncode == 3:  # valid, but the agent's prior: no script solved the task
        outcome, detail = "unsolved", _one_line(done.stderr.strip().splitlines()[-1])
    else:
        tail = [line for line in done.stderr.strip().splitlines() if line.strip()]
        outcome = "no submission" if done.returncode == 1 else "crashed"
        detail = _one_line(tail[-1] if tail else f"exit {done.returncode}, nothing on stderr")
    return Result(variant, outcome, done.returncode, detail, seconds)


# ---------------------------------------------------------------- the report


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("`", "'")


def markdown(results: list[Result]) -> str:
    """The outcome table and the counts, for the README."""
    rows = ["| variant | expected | outcome | exit | error line or score |", "| --- | --- | --- | --- | --- |"]
    for r in results:
        mark = "" if r.ok else " ✗"
        code = "-" if r.code is None else str(r.code)
        rows.append(f"| `{r.variant.name}` | {r.variant.expect} | {r.outcome}{mark} | {code} | {_cell(r.detail)} |")
    return "\n".join(rows) + "\n\n" + counts(results) + "\n"


def counts(results: list[Result]) -> str:
    valid = sum(r.outcome == "valid" for r in results)
    refused = sum(r.outcome == "refused" for r in results)
    wrong = sum(r.outcome == "wrong submission" for r in results)
    other = len(results) - valid - refused - wrong
    expected = sum(r.ok for r in results)
    return (f"{len(results)} variants: {expected} as expected; {valid} valid submissions, {refused} refused with "
            f"a reason, {wrong} wrong submissions, {other} crashed or unclear")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run task-folder variants through mle-star and tabulate them.")
    parser.add_argument("out_dir", type=Path)
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--all", action="store_true", help="every variant")
    which.add_argument("--sample", type=int, default=8, help="a seeded sample of N variants (default 8)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--only", nargs="+", metavar="MUTATION", help="only variants with one of these mutations")
    parser.add_argument("--list", action="store_true", help="list the chosen variants without running them")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--timeout", type=float, default=600, help="seconds per run")
    args = parser.parse_args(argv)
    variants = all_variants() if args.all or args.only else sample_variants(args.sample, args.seed)
    if args.only:
        unknown = sorted(set(args.only) - set(BY_NAME))
        if unknown:
            parser.error(f"unknown mutations: {', '.join(unknown)}")
        variants = [v for v in variants if set(v.mutations) & set(args.only)]
    if args.list:
        for v in variants:
            print(f"{v.expect:8} {v.name}: {v.what()}")
        return 0
    args.out_dir.mkdir(parents=True, exist_ok=True)
    results = []
    for variant in variants:
        result = run_variant(variant, args.out_dir, args.timeout)
        results.append(result)
        print(f"{'ok ' if result.ok else 'BAD'} {result.seconds:5.1f}s {variant.name}: {result.outcome} "
              f"({result.detail})", file=sys.stderr, flush=True)
    print(markdown(results))
    if args.json:
        args.json.write_text(json.dumps([{"variant": r.variant.name, "expected": r.variant.expect,
                                          "outcome": r.outcome, "exit": r.code, "detail": r.detail,
                                          "seconds": round(r.seconds, 1)} for r in results], indent=1) + "\n")
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
