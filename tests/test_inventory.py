"""Data-folder inventory: bounded facts for tables, JSON, images, audio, archives and folders.

Fixtures are built from data shipped with scikit-learn (digits images and signals, breast
cancer and diabetes tables), so every shape is real data, written in the formats Kaggle uses.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import struct
import tarfile
import tracemalloc
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from scipy.io import wavfile
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits

from mle_star.tools.task.inventory import (
    InventoryError,
    archive_facts,
    archive_listing,
    audio_facts,
    count_rows,
    csv_facts,
    image_facts,
    json_facts,
    open_table,
    render_inventory,
    take_inventory,
)
from mle_star.tools.task.inventory import records as json_records


@pytest.fixture(scope="module")
def digits():
    return load_digits()


@pytest.fixture(scope="module")
def cancer() -> pd.DataFrame:
    frame = load_breast_cancer(as_frame=True).frame
    frame.insert(0, "id", range(1000, 1000 + len(frame)))
    return frame


@pytest.fixture(scope="module")
def diabetes() -> pd.DataFrame:
    """Diabetes with the column kinds a Kaggle table has: id, date, category, free text."""
    data = load_diabetes(as_frame=True, scaled=False)
    frame = data.frame.copy()
    sentences = [ln.strip() for ln in data.DESCR.splitlines() if len(ln.strip()) > 40]
    frame.insert(0, "patient_id", [f"P{i:05d}" for i in range(len(frame))])
    frame["visit_date"] = pd.date_range("2020-01-01", periods=len(frame), freq="D").strftime("%Y-%m-%d")
    frame["sex"] = frame["sex"].map({1.0: "F", 2.0: "M"})
    frame["note"] = [f"{sentences[i % len(sentences)]} (visit {i})" for i in range(len(frame))]
    return frame


def png_bytes(image: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray((image * 15).astype(np.uint8)).save(buf, "PNG")
    return buf.getvalue()


def digit_signal(digits, n_rows: int = 200) -> np.ndarray:
    """A real signal: digit pixel rows played back to back, in [-1, 1]."""
    return (digits.data[:n_rows].ravel() - 8.0) / 8.0


def records(diabetes: pd.DataFrame) -> list[dict]:
    """Nested JSON records; 'followup' only on every other record."""
    out = []
    for i, row in enumerate(diabetes.itertuples(index=False)):
        rec = {"patient_id": row.patient_id, "vitals": {"bmi": row.bmi, "bp": {"mean": row.bp}},
               "note": row.note, "tags": [row.sex, "diabetes"], "target": row.target}
        if i % 2 == 0:
            rec["followup"] = bool(row.target > 150)
        out.append(rec)
    return out


# ---------------------------------------------------------------- tables


def test_csv_plain_zip_and_gzip_give_the_same_facts(tmp_path, cancer):
    cancer.to_csv(tmp_path / "train.csv", index=False)
    cancer.to_csv(tmp_path / "train.csv.gz", index=False)
    cancer.to_csv(tmp_path / "train.csv.zip", index=False)
    for name, compression in [("train.csv", "none"), ("train.csv.gz", "gzip"),
                              ("train.csv.zip", "zip")]:
        facts = csv_facts(tmp_path / name)
        assert facts["compression"] == compression
        assert facts["n_rows"] == len(cancer) and facts["n_rows_exact"] is True
        assert facts["columns"] == list(cancer.columns)
        assert facts["head"][0][:2] == ["1000", "17.99"]
        assert len(facts["head"]) == 3
        kinds = {f["name"]: f["kind"] for f in facts["column_facts"]}
        assert kinds["id"] == "id-like" and kinds["mean radius"] == "numeric"
        assert count_rows(tmp_path / name) == len(cancer)
        head = open_table(tmp_path / name, nrows=5)
        pd.testing.assert_frame_equal(head, cancer.head(5), check_dtype=False)


def test_open_table_reads_at_most_2000_rows_by_default(tmp_path, cancer):
    big = pd.concat([cancer] * 5, ignore_index=True)
    big.to_csv(tmp_path / "big.tsv", sep="\t", index=False)
    df = open_table(tmp_path / "big.tsv")
    assert df.shape == (2000, cancer.shape[1])  # the tab delimiter was sniffed from .tsv
    assert len(open_table(tmp_path / "big.tsv", nrows=None)) == len(big)


def test_column_kinds_from_the_first_rows(tmp_path, diabetes):
    diabetes.to_csv(tmp_path / "train.csv", index=False)
    facts = {f["name"]: f for f in csv_facts(tmp_path / "train.csv")["column_facts"]}
    assert facts["patient_id"]["kind"] == "id-like"
    assert facts["visit_date"]["kind"] == "date-like"
    assert facts["sex"]["kind"] == "categorical" and facts["sex"]["unique"] == 2
    assert facts["note"]["kind"] == "text" and facts["note"]["mean_len"] > 40
    assert facts["bmi"]["kind"] == "numeric"
    assert facts["bmi"]["min"] == diabetes["bmi"].min()


def test_quoted_line_breaks_are_not_rows(tmp_path, diabetes):
    frame = diabetes[["patient_id", "note", "target"]].copy()
    frame["note"] = frame["note"].str.replace(" (", "\n(", regex=False)  # a break in every note
    frame.to_csv(tmp_path / "notes.csv", index=False)
    facts = csv_facts(tmp_path / "notes.csv")
    assert facts["n_rows"] == len(pd.read_csv(tmp_path / "notes.csv")) == len(frame)
    assert facts["n_rows_exact"] is False and "line breaks" in facts["n_rows_note"]
    assert [row[0] for row in facts["head"]] == ["P00000", "P00001", "P00002"]
    assert count_rows(tmp_path / "notes.csv") == len(frame)


def test_large_csv_is_streamed_not_loaded(tmp_path, cancer):
    block = cancer.to_csv(index=False, header=False).encode()
    repeats = (150 << 20) // len(block)
    path = tmp_path / "data" / "train.csv"
    path.parent.mkdir()
    with open(path, "wb") as fh:
        fh.write(",".join(cancer.columns).encode() + b"\n")
        for _ in range(repeats):
            fh.write(block)
    assert path.stat().st_size > 140 << 20
    tracemalloc.start()
    try:
        inventory = take_inventory(path.parent)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    facts = inventory.find("train.csv")
    assert facts is not None
    assert facts.details["n_rows"] == repeats * len(cancer)
    assert facts.details["n_rows_exact"] is True
    assert peak < 100 << 20, f"peak {peak / 2**20:.0f} MB"
    # out of time after the first chunk: an estimate, labelled as one
    estimate = csv_facts(path, time_budget=0)
    assert estimate["n_rows_exact"] is False and "estimated" in estimate["n_rows_note"]
    assert estimate["n_rows"] == pytest.approx(repeats * len(cancer), rel=0.05)


def test_empty_and_header_only_tables(tmp_path):
    (tmp_path / "empty.csv").write_text("")
    (tmp_path / "header.csv").write_text("id,target\n")
    inventory = take_inventory(tmp_path)
    assert inventory.find("empty.csv").details["error"] == "empty file"
    header = inventory.find("header.csv").details
    assert header["n_rows"] == 0 and header["columns"] == ["id", "target"]


# ---------------------------------------------------------------- JSON


def test_json_array_and_lines_with_nested_keys(tmp_path, diabetes):
    recs = records(diabetes)
    (tmp_path / "train.json").write_text(json.dumps(recs, indent=1))
    (tmp_path / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in recs))
    with gzip.open(tmp_path / "test.jsonl.gz", "wt") as fh:
        fh.writelines(json.dumps(r) + "\n" for r in recs[:100])
    for name, fmt, n in [("train.json", "array", len(recs)), ("train.jsonl", "lines", len(recs)),
                         ("test.jsonl.gz", "lines", 100)]:
        facts = json_facts(tmp_path / name)
        assert facts["format"] == fmt and facts["n_records"] == n
        keys = {k["key"]: k for k in facts["keys"]}
        assert keys["vitals.bp.mean"]["types"] == ["float"]
        assert keys["followup"]["present"] == 0.5
        assert keys["note"]["mean_len"] > 40
        assert keys["tags"]["types"] == ["list[str]"]
        assert facts["example"]["patient_id"] == "P00000"
        assert all(len(v) <= 60 for v in facts["example"].values() if isinstance(v, str))


def test_large_json_array_is_sampled_not_counted(tmp_path, diabetes, monkeypatch):
    recs = records(diabetes)
    (tmp_path / "train.json").write_text(json.dumps(recs))
    monkeypatch.setattr(json_records, "JSON_COUNT_LIMIT", 10_000)
    monkeypatch.setattr(json_records, "JSON_PEEK", 20_000)
    facts = json_facts(tmp_path / "train.json")
    assert facts["n_records"] == "unknown"
    assert 0 < facts["n_sampled"] < len(recs)  # only the first ~20 kB were decoded
    assert {k["key"] for k in facts["keys"]} >= {"patient_id", "vitals.bmi", "note"}


def test_json_object_holding_records(tmp_path, diabetes):
    recs = records(diabetes)[:50]
    (tmp_path / "data.json").write_text(json.dumps({"version": 2, "images": recs}))
    facts = json_facts(tmp_path / "data.json")
    assert facts["format"] == "object"
    assert facts["records_key"] == "images" and facts["n_records"] == 50
    assert "vitals.bmi" in {k["key"] for k in facts["record_keys"]}


def test_truncated_json_records_an_error(tmp_path, diabetes):
    text = json.dumps(records(diabetes)[:40])
    (tmp_path / "train.json").write_text(text[: len(text) // 2])
    inventory = take_inventory(tmp_path)
    facts = inventory.find("train.json")
    assert "truncated" in facts.details["error"]
    assert 0 < facts.details["n_sampled"] < 40  # the records before the cut are described
    with pytest.raises(InventoryError, match="bad.json"):
        (tmp_path / "bad.json").write_text("[{]")
        json_facts(tmp_path / "bad.json")


# ---------------------------------------------------------------- images, audio, arrays


def test_image_header_only(tmp_path, digits):
    big = np.kron(digits.images[0], np.ones((40, 50)))  # 320 x 400 pixels
    (tmp_path / "a.png").write_bytes(png_bytes(big))
    assert image_facts(tmp_path / "a.png") == {"format": "PNG", "width": 400, "height": 320,
                                               "mode": "L"}
    # the size comes from the header: a file cut after 100 bytes still reports it
    (tmp_path / "cut.png").write_bytes(png_bytes(big)[:100])
    assert image_facts(tmp_path / "cut.png")["width"] == 400


def test_wav_aiff_and_unreadable_audio(tmp_path, digits):
    signal = digit_signal(digits)
    wavfile.write(tmp_path / "pcm.wav", 8000, (signal * 20000).astype(np.int16))
    wavfile.write(tmp_path / "float.wav", 16000, np.stack([signal, -signal], 1).astype(np.float32))
    pcm = audio_facts(tmp_path / "pcm.wav")
    assert (pcm["sample_rate"], pcm["channels"], pcm["sample_width"]) == (8000, 1, 2)
    assert pcm["duration"] == pytest.approx(len(signal) / 8000, abs=1e-3)
    flt = audio_facts(tmp_path / "float.wav")  # the wave module refuses float: RIFF fallback
    assert (flt["encoding"], flt["channels"], flt["sample_width"]) == ("float", 2, 4)
    assert flt["duration"] == pytest.approx(len(signal) / 16000, abs=1e-3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import aifc
    with aifc.open(str(tmp_path / "clip.aiff"), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(2000)
        out.writeframes((signal * 20000).astype(">i2").tobytes())
    aiff = audio_facts(tmp_path / "clip.aiff")
    assert aiff["n_frames"] == len(signal) and aiff["sample_rate"] == 2000
    (tmp_path / "song.mp3").write_bytes(b"ID3" + bytes(100))
    assert "extra package" in audio_facts(tmp_path / "song.mp3")["note"]


def test_npy_shape_from_the_header_only(tmp_path, digits):
    np.save(tmp_path / "x.npy", digits.data)
    np.savez(tmp_path / "xy.npz", X=digits.data, y=digits.target)
    with open(tmp_path / "huge.npy", "wb") as fh:  # claims 8 GB of data, holds none
        np.lib.format.write_array_header_1_0(
            fh, {"descr": "<f8", "fortran_order": False, "shape": (10**9,)})
    inventory = take_inventory(tmp_path)
    assert inventory.find("x.npy").details["shape"] == [1797, 64]
    assert inventory.find("huge.npy").details["shape"] == [10**9]
    arrays = inventory.find("xy.npz").details["arrays"]
    assert arrays["y"] == {"format": "npy", "shape": [1797], "dtype": "int64",
                           "fortran_order": False}


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        out.append((n & 0x7F) | (0x80 if n > 0x7F else 0))
        n >>= 7
        if not n:
            return bytes(out)


def _zz(n: int) -> bytes:
    return _varint((n << 1) ^ (n >> 63))


def _name(delta: int, text: str) -> bytes:
    return bytes([(delta << 4) | 8]) + _varint(len(text)) + text.encode()


def test_parquet_rows_and_columns_from_the_footer(tmp_path):
    # FileMetaData in Thrift's compact protocol, as parquet writers emit it
    root = _name(4, "schema") + b"\x15" + _zz(2) + b"\x00"
    col_a = b"\x15" + _zz(2) + b"\x25" + _zz(0) + _name(1, "carat") + b"\x00"  # INT64 required
    col_b = b"\x15" + _zz(6) + b"\x25" + _zz(1) + _name(1, "cut") + b"\x25" + _zz(0) + b"\x00"
    footer = (b"\x15" + _zz(1) + b"\x19" + bytes([(3 << 4) | 12]) + root + col_a + col_b
              + b"\x16" + _zz(53_940) + b"\x19" + bytes([12]) + _name(2, "parquet-cpp") + b"\x00")
    (tmp_path / "train.parquet").write_bytes(
        b"PAR1" + bytes(64) + footer + struct.pack("<I", len(footer)) + b"PAR1")
    facts = take_inventory(tmp_path).find("train.parquet")
    assert facts.kind == "table"
    assert facts.details["n_rows"] == 53_940
    assert facts.details["columns"] == ["carat", "cut"]
    assert [c["kind"] for c in facts.details["column_facts"]] == ["int64", "string"]
    (tmp_path / "bad.parquet").write_bytes(b"not parquet at all")
    assert "PAR1" in take_inventory(tmp_path).find("bad.parquet").details["error"]


# ---------------------------------------------------------------- archives


def test_zip_of_images_and_zip_of_one_table(tmp_path, digits, cancer):
    with zipfile.ZipFile(tmp_path / "train_images.zip", "w") as zf:
        for i in range(40):
            zf.writestr(f"train/{i}.png", png_bytes(digits.images[i]))
        zf.writestr("train/labels.txt", "\n".join(map(str, digits.target[:40])))
    facts = archive_facts(tmp_path / "train_images.zip")
    assert facts["n_members"] == 41
    assert facts["by_extension"] == {".png": 40, ".txt": 1}
    assert facts["top_dirs"] == {"train/": 41}
    assert facts["sample"]["kind"] == "image" and facts["sample"]["width"] == 8
    with zipfile.ZipFile(tmp_path / "data.zip", "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("train.csv", cancer.to_csv(index=False))
    table = archive_facts(tmp_path / "data.zip")
    assert table["single_table"] == "train.csv" and table["pandas_reads_directly"] is True
    assert table["table"]["n_rows"] == len(cancer)
    assert len(pd.read_csv(tmp_path / "data.zip")) == len(cancer)  # the claim holds


def test_tar_gz_and_unopened_formats(tmp_path, digits, cancer, monkeypatch):
    wavfile.write(tmp_path / "clip.wav", 8000, (digit_signal(digits) * 20000).astype(np.int16))
    cancer.to_csv(tmp_path / "meta.csv", index=False)
    with tarfile.open(tmp_path / "audio.tar.gz", "w:gz") as tf:
        for i in range(3):
            tf.add(tmp_path / "clip.wav", f"audio/clip{i}.wav")
        tf.add(tmp_path / "meta.csv", "audio/meta.csv")
    facts = archive_facts(tmp_path / "audio.tar.gz")
    assert facts["format"] == "tar" and facts["compression"] == "gzip"
    assert facts["n_members"] == 4 and facts["by_extension"] == {".wav": 3, ".csv": 1}
    assert facts["sample"]["member"] == "audio/clip0.wav"
    assert facts["sample"]["sample_rate"] == 8000
    monkeypatch.setattr(archive_listing, "TAR_MAX_MEMBERS", 2)  # tar is read sequentially: bounded
    partial = archive_facts(tmp_path / "audio.tar.gz")
    assert partial["n_members"] == 2 and partial["listing_complete"] is False
    (tmp_path / "extra.7z").write_bytes(b"7z\xbc\xaf\x27\x1c" + bytes(32))
    assert "not opened" in archive_facts(tmp_path / "extra.7z")["note"]


# ---------------------------------------------------------------- folders and safety


def test_big_image_folder_is_summarised(tmp_path, digits, cancer):
    (tmp_path / "train").mkdir()
    for i in range(500):
        (tmp_path / "train" / f"{i}.png").write_bytes(png_bytes(digits.images[i]))
    for label in ("cat", "dog"):  # a few large class folders: one summary each
        (tmp_path / "classes" / label).mkdir(parents=True)
        for i in range(25):
            (tmp_path / "classes" / label / f"{label}.{i}.png").write_bytes(png_bytes(digits.images[i]))
    for i in range(25):  # many small folders: one summary for their parent
        (tmp_path / "by_id" / f"{i:03d}").mkdir(parents=True)
        (tmp_path / "by_id" / f"{i:03d}" / "scan.png").write_bytes(png_bytes(digits.images[i]))
    (tmp_path / "meta").mkdir()
    cancer.head(10).to_csv(tmp_path / "meta" / "labels.csv", index=False)
    inventory = take_inventory(tmp_path)
    assert inventory.n_files == 576
    assert [f.path for f in inventory.files] == ["meta/labels.csv"]  # small folders are listed
    folders = {f.path: f for f in inventory.folders}
    assert set(folders) == {"train", "classes/cat", "classes/dog", "by_id"}
    train = folders["train"]
    assert train.n_files == 500 and train.by_extension == {".png": 500}
    assert train.sample.path == "train/0.png" and train.sample.details["mode"] == "L"
    assert inventory.find("train/0.png") is train.sample
    assert folders["classes/dog"].examples[0] == "dog.0.png"
    by_id = folders["by_id"]
    assert by_id.n_files == 25 and by_id.n_subfolders == 25 and len(by_id.subfolders) == 20
    assert by_id.examples[0] == "000/scan.png" and by_id.sample.details["width"] == 8
    assert "- by_id/: 25 files (25 .png), " in render_inventory(inventory)
    assert "in 25 sub-folders: 000/ (1), 001/ (1)" in render_inventory(inventory)


def test_symlink_out_of_the_root_is_refused(tmp_path, cancer):
    root = tmp_path / "data"
    (root / "sub").mkdir(parents=True)
    cancer.to_csv(root / "train.csv", index=False)
    (tmp_path / "secret.csv").write_text("a,b\n1,2\n")
    os.symlink(root / "train.csv", root / "sub" / "train_link.csv")
    os.symlink(root / "sub", root / "sub_link")
    inventory = take_inventory(root)
    link = inventory.find("sub/train_link.csv")
    assert link.details["symlink_to"] == "train.csv" and link.details["n_rows"] == len(cancer)
    assert inventory.find("sub_link").details["folder_link"] is True  # noted, not followed
    os.symlink(tmp_path / "secret.csv", root / "sub" / "escape.csv")
    with pytest.raises(InventoryError, match="sub/escape.csv"):
        take_inventory(root)


def test_corrupt_files_do_not_fail_the_inventory(tmp_path, digits):
    (tmp_path / "broken.png").write_bytes(b"\x00garbage, not an image" * 10)
    (tmp_path / "broken.wav").write_bytes(b"RIFF\x00\x00")
    (tmp_path / "broken.zip").write_bytes(b"PK\x03\x04 torn")
    (tmp_path / "ok.png").write_bytes(png_bytes(digits.images[1]))
    inventory = take_inventory(tmp_path)
    for name in ("broken.png", "broken.wav", "broken.zip"):
        error = inventory.find(name).details["error"]
        assert error and "\n" not in error
    assert inventory.find("ok.png").details["width"] == 8
    assert "broken.png (" in render_inventory(inventory) and "unreadable" in render_inventory(inventory)


def test_exclude_bounds_and_missing_root(tmp_path, cancer):
    (tmp_path / "description.md").write_text("# Predict the diagnosis")
    for i in range(10):
        cancer.iloc[i * 50:(i + 1) * 50].to_csv(tmp_path / f"part{i}.csv", index=False)
    inventory = take_inventory(tmp_path, exclude={"description.md"}, max_listed=4)
    assert inventory.find("description.md") is None and inventory.n_files == 10
    assert [f.path for f in inventory.files] == [f"part{i}.csv" for i in range(4)]
    rest = inventory.folders[0]
    assert rest.path == "." and rest.n_files == 6 and rest.sample.details["n_rows"] == 50
    assert take_inventory(tmp_path, max_walk=3).truncated is True
    assert take_inventory(tmp_path, time_budget=0).truncated is True
    assert inventory.truncated is False
    with pytest.raises(InventoryError, match="not found"):
        take_inventory(tmp_path / "nope")


def test_unknown_extension_is_sniffed(tmp_path, digits):
    (tmp_path / "image_0001").write_bytes(png_bytes(digits.images[2]))
    (tmp_path / "LICENSE").write_text("CC BY 4.0\nattribution required\n")
    inventory = take_inventory(tmp_path)
    assert inventory.find("image_0001").kind == "image"
    license_ = inventory.find("LICENSE")
    assert license_.kind == "text" and license_.details["n_lines"] == 2


# ---------------------------------------------------------------- the whole picture


@pytest.fixture
def kaggle_task(tmp_path, digits, cancer, diabetes) -> Path:
    root = tmp_path / "task"
    (root / "train").mkdir(parents=True)
    (root / "description.md").write_text("# Diagnose")
    cancer.to_csv(root / "train.csv", index=False)
    cancer.drop(columns="target").head(100).to_csv(root / "test.csv.zip", index=False)
    (root / "train.json").write_text(json.dumps(records(diabetes)))
    for i in range(30):
        (root / "train" / f"digit_{i}.png").write_bytes(png_bytes(digits.images[i]))
    with zipfile.ZipFile(root / "audio.zip", "w") as zf:
        for i in range(25):
            buf = io.BytesIO()
            wavfile.write(buf, 8000, (digit_signal(digits, 20 + i) * 20000).astype(np.int16))
            zf.writestr(f"audio/clip{i}.wav", buf.getvalue())
    return root


def test_render_names_what_a_loading_script_needs(kaggle_task):
    inventory = take_inventory(kaggle_task, exclude={"description.md"})
    json.dumps(inventory.to_dict())  # JSON-serialisable throughout
    text = render_inventory(inventory)
    assert text.startswith("Data folder: 34 files")
    assert "- train.csv (" in text and "569 rows x 32 columns" in text
    assert "id-like (1): id" in text and "target" in text
    assert "zip-compressed CSV (pandas reads it directly), 100 rows x 31 columns" in text
    assert "JSON array, 442 records; keys: patient_id (str)" in text
    assert "note (str, ~" in text and "followup (bool, 50% present)" in text
    assert "- train/: 30 files (30 .png)" in text and "PNG image 8x8 L" in text
    assert "zip archive, 25 members (25 .wav)" in text and "8,000 Hz, mono" in text
    assert "First rows of train.csv:\n  id,mean radius" in text
    assert text.index("train.csv (") < text.index("train/:") < text.index("audio.zip")


def test_render_is_bounded_with_a_visible_note(kaggle_task):
    text = render_inventory(take_inventory(kaggle_task), max_chars=700)
    assert len(text) <= 700
    assert "more entries cut" in text and "700" in text
