"""Mimics of the MLE-bench Lite scan and recording competitions: hydrophone clips (AIFF), scanned pages (PNG),
dermoscopy photos with their DICOM twins, chest X-rays with lines and tubes, and bird-song recordings (WAV)
with their spectrograms, each in its competition's real public layout and written with numpy, PIL and the
standard library only.
One builder per competition, side by side, as in :mod:`mle_star.lite.tables`."""

from __future__ import annotations

import io
import struct
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from mle_star.examples.audio import _wav_bytes
from mle_star.examples.common import _hex_ids, _split, _write_zip
from mle_star.lite.common import Grading, mimic

# ---------------------------------------------------------------- file formats


def _aiff(samples: np.ndarray, rate: int) -> bytes:
    """A mono 16-bit AIFF file: big-endian PCM, the rate as an 80-bit extended float."""
    pcm = (np.clip(samples, -1, 1) * 32767).astype(">i2").tobytes()
    exponent, mantissa = 16383 + 63, rate
    while mantissa < (1 << 63):
        mantissa, exponent = mantissa << 1, exponent - 1
    comm = struct.pack(">hIh", 1, len(samples), 16) + struct.pack(">HQ", exponent, mantissa)
    ssnd = struct.pack(">II", 0, 0) + pcm
    body = b"AIFF" + b"COMM" + struct.pack(">I", len(comm)) + comm + b"SSND" + struct.pack(">I", len(ssnd)) + ssnd
    return b"FORM" + struct.pack(">I", len(body)) + body


def _wav(samples: np.ndarray, rate: int) -> bytes:
    """A mono 16-bit PCM WAV file of samples in [-1, 1]."""
    return _wav_bytes((np.clip(samples, -1, 1) * 32767).astype("<i2"), rate)


def _image_bytes(img: Image.Image, fmt: str) -> bytes:
    buffer = io.BytesIO()
    img.save(buffer, format=fmt, **({"quality": 92} if fmt == "JPEG" else {}))
    return buffer.getvalue()


def _element(group: int, elem: int, vr: str, value: bytes) -> bytes:
    """One explicit-VR little-endian data element, its value padded to an even length."""
    if len(value) % 2:
        value += b"\0" if vr in ("UI", "OB") else b" "
    if vr in ("OB", "OW", "UN", "SQ", "UT"):  # these carry two reserved bytes and a 32-bit length
        return struct.pack("<HH2s2xI", group, elem, vr.encode(), len(value)) + value
    return struct.pack("<HH2sH", group, elem, vr.encode(), len(value)) + value


def _dicom(img: Image.Image, uid: str, fields: dict[tuple[int, int, str], str]) -> bytes:
    """A minimal valid DICOM Part 10 file: the 128-byte preamble, ``DICM``, the file meta group, then the
    dataset (``fields`` plus the image pixel module) in explicit VR little endian, uncompressed RGB pixels."""
    sop_class = b"1.2.840.10008.5.1.4.1.1.77.1.4"  # VL Photographic Image Storage, as dermoscopy images are
    syntax = b"1.2.840.10008.1.2.1"  # explicit VR little endian
    meta = (_element(0x0002, 0x0001, "OB", b"\0\1") + _element(0x0002, 0x0002, "UI", sop_class)
            + _element(0x0002, 0x0003, "UI", uid.encode()) + _element(0x0002, 0x0010, "UI", syntax))
    head = b"\0" * 128 + b"DICM" + _element(0x0002, 0x0000, "UL", struct.pack("<I", len(meta))) + meta
    rgb = np.asarray(img.convert("RGB"))
    items = {(0x0008, 0x0016, "UI"): sop_class, (0x0008, 0x0018, "UI"): uid.encode(), (0x0008, 0x0060, "CS"): b"XC",
             **{k: v.encode() for k, v in fields.items()},
             (0x0028, 0x0002, "US"): struct.pack("<H", 3), (0x0028, 0x0004, "CS"): b"RGB",
             (0x0028, 0x0006, "US"): struct.pack("<H", 0), (0x0028, 0x0010, "US"): struct.pack("<H", rgb.shape[0]),
             (0x0028, 0x0011, "US"): struct.pack("<H", rgb.shape[1]), (0x0028, 0x0100, "US"): struct.pack("<H", 8),
             (0x0028, 0x0101, "US"): struct.pack("<H", 8), (0x0028, 0x0102, "US"): struct.pack("<H", 7),
             (0x0028, 0x0103, "US"): struct.pack("<H", 0), (0x7FE0, 0x0010, "OB"): rgb.tobytes()}
    return head + b"".join(_element(g, e, vr, v) for (g, e, vr), v in sorted(items.items()))


def _grey(values: np.ndarray) -> Image.Image:
    """An 8-bit greyscale picture of values in [0, 1]."""
    return Image.fromarray((np.clip(values, 0, 1) * 255).round().astype(np.uint8), "L")


# ---------------------------------------------------------------- the-icml-2013-whale-challenge-right-whale-redux

WHALE_RATE = 2000  # the real clips: two seconds at 2 kHz


def _hydrophone(rng: np.random.Generator, call: bool) -> np.ndarray:
    """Two seconds of ocean noise (a low rumble, sometimes a ship's hum, a broadband click train as a decoy);
    a right-whale up-call adds a one-second sweep rising from about 80 to 200 Hz, at a varying loudness."""
    t = np.arange(2 * WHALE_RATE) / WHALE_RATE
    noise = rng.standard_normal(len(t))
    rumble = np.convolve(noise, np.ones(8) / 8, mode="same")  # low-frequency dominated background
    x = 0.25 * rng.uniform(0.6, 1.4) * (rumble + 0.3 * rng.standard_normal(len(t)))
    if rng.random() < 0.4:  # a ship: a steady tone, in both classes
        x += rng.uniform(0.05, 0.2) * np.sin(2 * np.pi * rng.uniform(60, 400) * t + rng.uniform(0, 6.3))
    if rng.random() < 0.3:  # clicks of other animals
        x[rng.integers(0, len(t), int(rng.integers(3, 12)))] += rng.uniform(0.5, 1.0)
    if call:
        start, length = rng.uniform(0.1, 0.9), rng.uniform(0.6, 1.0)
        f0, f1 = rng.uniform(70, 100), rng.uniform(170, 230)
        u = np.clip((t - start) / length, 0, 1)
        phase = 2 * np.pi * np.cumsum(f0 + (f1 - f0) * u) / WHALE_RATE
        envelope = np.sin(np.pi * u) ** 2 * ((t >= start) & (t <= start + length))
        x += rng.uniform(0.08, 0.35) * envelope * np.sin(phase)
    return x


def _clip_stamps(rng: np.random.Generator, date: str, n: int) -> list[str]:
    """``n`` sorted clip stamps of one day, ``<date>_<HHMMSS>_<sss>s<m>ms``: the quarter hour the recording
    file began and the clip's offset in it, as the real clip names are."""
    quarters = np.sort(rng.integers(0, 96, n))
    stamps = []
    for q in quarters:
        offset = rng.uniform(0, 898)
        stamps.append(f"{date}_{q // 4:02d}{q % 4 * 15:02d}00_{int(offset):03d}s{int(offset % 1 * 10)}ms")
    return sorted(set(stamps))


@mimic("the-icml-2013-whale-challenge-right-whale-redux",
       "train2.zip of train2/<date>_<time>_<s>s<m>ms_TRAIN<i>_<label>.aif, test2.zip of test2/..._Test<i>.aif "
       "(2 s, 2 kHz, 16-bit AIFF; train and test are different days); sampleSubmission.csv clip,probability; AUC")
def right_whale(task_dir: Path, rng: np.random.Generator) -> Grading:
    """The real task: the probability that each two-second hydrophone clip holds a North Atlantic right whale
    up-call (ROC AUC). prepare.py keeps the labelled training days only: the first two days become train2/
    (renumbered TRAIN<i>, the label still the name's last digit) and the last two test2/ (named
    ``<stamp>_Test<i>.aif``); both are zipped with their folder, and the sample says 0 for every clip."""
    public = task_dir / "public"
    days = {d: _clip_stamps(rng, d, 60) for d in ("20090328", "20090329", "20090330", "20090331")}
    train_stamps, test_stamps = days["20090328"] + days["20090329"], days["20090330"] + days["20090331"]
    members = {}
    for i, stamp in enumerate(train_stamps):
        label = int(rng.random() < 0.3)  # about one clip in four holds a call
        members[f"train2/{stamp}_TRAIN{i}_{label}.aif"] = _aiff(_hydrophone(rng, bool(label)), WHALE_RATE)
    _write_zip(public / "train2.zip", members)
    names = [f"{stamp}_Test{i}.aif" for i, stamp in enumerate(test_stamps)]
    labels = (rng.random(len(names)) < 0.3).astype(int)
    _write_zip(public / "test2.zip", {f"test2/{name}": _aiff(_hydrophone(rng, bool(y)), WHALE_RATE)
                                      for name, y in zip(names, labels, strict=True)})
    answers = pd.DataFrame({"clip": names, "probability": labels})
    answers.to_csv(task_dir / "private" / "answers.csv", index=False)
    answers.assign(probability=0).to_csv(public / "sampleSubmission.csv", index=False)
    (public / "description.md").write_text(f"""# The ICML 2013 Whale Challenge - Right Whale Redux

## Overview

### Description

Autonomous recorders moored on the sea floor listen for North Atlantic right whales, an endangered species.
Their archives are far too long to hear through by ear, so a detector has to pick out the clips in which a
whale makes its typical rising "up-call" from those holding only ocean noise, ships and other animals.

## Evaluation

Submissions are scored on the area under the ROC curve between your probabilities and the true labels
(1: a whale call, 0: noise).

## Submission File

Give one row per test clip with the columns `clip` and `probability`, and a header:

```
clip,probability
{names[0]},0
{names[1]},0
...
```

# Data

## Dataset Description

Training clips come from two days of recordings and test clips from two later days. Each clip is two
seconds of audio (2 kHz, 16-bit mono AIFF).

### File descriptions

- **train2.zip** - {len(train_stamps)} training clips in a `train2/` folder. The label is the end of the name:
  `..._1.aif` is a whale call, `..._0.aif` is noise.
- **test2.zip** - {len(names)} test clips in a `test2/` folder; predict a probability for each.
- **sampleSubmission.csv** - a sample submission in the correct format.
""")
    return Grading("auc", True, "probability", "clip", ["probability"], ["probability"], shape="audio",
                   sample="sampleSubmission.csv")


# ---------------------------------------------------------------- denoising-dirty-documents

WORDS = ("the", "of", "and", "report", "data", "page", "total", "noise", "paper", "clean", "value", "scan", "form",
         "line", "table", "office", "letter", "number", "date", "name", "signed", "copy", "file", "ink")


def _page(rng: np.random.Generator, size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """A clean page (white, lines of dark printed words) and its dirty scan: a textured background of one of a
    few paper styles, a coffee stain or a crease, faded ink and pixel noise. Values in [0, 1]."""
    w, h = size
    page = Image.new("L", (w, h), 255)
    draw = ImageDraw.Draw(page)
    font = ImageFont.load_default()
    y = int(rng.integers(1, 4))
    while y < h - 8:
        x, line = int(rng.integers(1, 5)), " ".join(rng.choice(WORDS, 12))
        draw.text((x, y), line, fill=int(rng.integers(0, 40)), font=font)
        y += int(rng.integers(11, 14))
    clean = np.asarray(page, float) / 255
    yy, xx = np.mgrid[0:h, 0:w]
    style = int(rng.integers(3))
    if style == 0:  # mottled grey paper
        background = 0.8 + 0.08 * np.asarray(_grey(rng.random((h // 4 + 1, w // 4 + 1))).resize((w, h)), float) / 255
    elif style == 1:  # a light-to-dark gradient across the sheet
        background = 0.95 - 0.3 * (xx / w if rng.random() < 0.5 else yy / h)
    else:  # a fold: a dark crease line
        c = rng.uniform(0.2, 0.8) * w
        background = 0.9 - 0.35 * np.exp(-((xx - c - 0.3 * (yy - h / 2)) ** 2) / 8)
    cy, cx, r = rng.uniform(0, h), rng.uniform(0, w), rng.uniform(6, 16)
    ring = np.abs(np.hypot(yy - cy, xx - cx) - r)
    stain = 0.25 * np.exp(-(ring ** 2) / 4) * (rng.random() < 0.6)  # a coffee-cup ring
    ink = 1 - (1 - clean) * rng.uniform(0.6, 0.9)  # printing fades in the scan
    dirty = np.minimum(ink, background - stain) + 0.04 * rng.standard_normal((h, w))
    return clean, np.clip(dirty, 0, 1)


@mimic("denoising-dirty-documents",
       "train/, train_cleaned/ and test/ of <n>.png (greyscale pages of two sizes); sampleSubmission.csv id,value "
       "with one row per test pixel, id <n>_<row>_<col> from 1; rmse")
def denoising(task_dir: Path, rng: np.random.Generator) -> Grading:
    """The real task: remove stains, creases and noise from scanned text pages; every test pixel's clean
    intensity in [0, 1] is scored on the RMSE. prepare.py moves a fifth of the training pages (and their
    clean twins, which become the answers) to test/; the sample says 1 (white) for every pixel."""
    public, n = task_dir / "public", 36
    numbers = rng.choice(np.arange(1, 217), n, replace=False)  # the real pages are numbered up to 216
    train, test = _split(n, rng, 0.2)
    for folder in ("train", "train_cleaned", "test"):
        (public / folder).mkdir()
    rows = []
    for k, number in enumerate(numbers):
        clean, dirty = _page(rng, (60, 42 if rng.random() < 0.6 else 26))  # the real pages: 540 wide, 420 or 258 high
        _grey(dirty).save(public / ("test" if k in test else "train") / f"{number}.png")
        if k in train:
            _grey(clean).save(public / "train_cleaned" / f"{number}.png")
            continue
        stored = np.asarray(_grey(clean), float) / 255  # the answers are the PNG's values, as prepare.py reads them
        rows.append(pd.DataFrame({"id": [f"{number}_{r + 1}_{c + 1}" for r in range(stored.shape[0])
                                         for c in range(stored.shape[1])], "value": stored.ravel()}))
    order = sorted(range(len(rows)), key=lambda i: f"{rows[i]['id'].iloc[0].split('_')[0]}.png")  # sorted paths
    answers = pd.concat([rows[i] for i in order], ignore_index=True)
    answers.to_csv(task_dir / "private" / "answers.csv", index=False)
    answers.assign(value=1).to_csv(public / "sampleSubmission.csv", index=False)
    first = answers["id"].iloc[0].split("_")[0]
    (public / "description.md").write_text(f"""# Denoising Dirty Documents

## Overview

Old scanned documents carry coffee stains, creased and faded paper and scanner noise that defeat text
recognition. Build a model that restores the clean page from its dirty scan.

## Evaluation

Submissions are scored on the root mean squared error between your pixel intensities and the clean
page's intensities.

### Submission File

Melt every test image into its pixels: each pixel's id is `<image>_<row>_<col>` (rows and columns from 1),
and its value is the intensity from 0 (black) to 1 (white). With a header:

```
id,value
{first}_1_1,1
{first}_1_2,1
...
```

# Data

## Dataset Description

- `train/` - {len(train)} dirty page scans (greyscale PNG), named `<n>.png`
- `train_cleaned/` - the same pages without the noise, under the same names
- `test/` - {len(test)} dirty scans to clean
- `sampleSubmission.csv` - a sample submission in the correct format (one row per test pixel)
""")
    return Grading("rmse", False, "targets", "id", ["value"], ["value"], shape="image targets",
                   sample="sampleSubmission.csv")


# ---------------------------------------------------------------- siim-isic-melanoma-classification

SITES = ["torso", "lower extremity", "upper extremity", "head/neck", "palms/soles", "oral/genital"]
BENIGN = ["unknown"] * 14 + ["nevus"] * 4 + ["seborrheic keratosis", "lentigo NOS", "lichenoid keratosis",
                                             "solar lentigo"]  # the real benign diagnoses, roughly in proportion


def _lesion(rng: np.random.Generator, malignant: bool, skin: tuple[int, int, int]) -> Image.Image:
    """A 32x32 dermoscopy crop: skin of the patient's tone with hairs, and a mole. A benign mole is small,
    round and evenly brown; a melanoma is larger, lopsided, and mixes dark brown, black and blue-grey."""
    size = 32
    base = np.asarray(skin, float) + rng.normal(0, 6, (size, size, 3))
    img = Image.fromarray(np.clip(base, 0, 255).astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(img)
    c = size / 2 + rng.normal(0, 2, 2)
    r = rng.uniform(8, 12) if malignant else rng.uniform(4.5, 9)
    n = 14
    wobble = rng.uniform(0.55, 1.35, n) if malignant else rng.uniform(0.9, 1.1, n)  # an irregular border
    angles = np.linspace(0, 2 * np.pi, n, endpoint=False)
    outline = [(float(c[0] + r * w * np.cos(a)), float(c[1] + r * w * np.sin(a))) for a, w in zip(angles, wobble,
                                                                                                   strict=True)]
    brown = tuple(int(v) for v in np.clip(np.asarray((120, 75, 45)) + rng.normal(0, 15, 3), 0, 255))
    draw.polygon(outline, fill=brown)
    if malignant:  # several colours inside the lesion
        for colour in ((40, 25, 20), (90, 95, 125), (60, 35, 25)):
            k = rng.uniform(-0.5, 0.5, 2) * r
            s = rng.uniform(1.5, 4)
            draw.ellipse((c[0] + k[0] - s, c[1] + k[1] - s, c[0] + k[0] + s, c[1] + k[1] + s), fill=colour)
    for _ in range(int(rng.integers(0, 4))):  # hairs across the picture, in both classes
        x0, y0, x1, y1 = rng.uniform(0, size, 4)
        draw.line((x0, y0, x1, y1), fill=(50, 35, 30), width=1)
    return img.filter(ImageFilter.GaussianBlur(0.6))


@mimic("siim-isic-melanoma-classification",
       "train.csv image_name,patient_id,sex,age_approx,anatom_site_general_challenge,diagnosis,benign_malignant,"
       "target; test.csv (the first five); jpeg/train, jpeg/test <image_name>.jpg; train/, test/ <image_name>.dcm "
       "(DICOM); patients do not cross the split; sample_submission.csv image_name,target; AUC (no tfrecords/)")
def melanoma(task_dir: Path, rng: np.random.Generator) -> Grading:
    """The real task: the probability that each skin-lesion photo shows a melanoma (ROC AUC), with the patient's
    sex, approximate age and the lesion's body site beside it. prepare.py takes two of the sixteen TFRecord
    shards of the training set (the shards keep each patient's pictures together) as the test set and copies each
    image's DICOM to train/ or test/ and its JPEG to jpeg/train/ or jpeg/test/. The real public folder also
    holds tfrecords/ (the shards, renamed train00.. and test00..); this mimic leaves it out, as TFRecords need
    protobuf. Melanoma is 2% of the real images; here it is 15%, so that a small test set holds a few."""
    public, n_patients = task_dir / "public", 110
    patients = [f"IP_{v:07d}" for v in rng.choice(10**7, n_patients, replace=False)]
    rows = []
    for patient in patients:
        sex, age = rng.choice(["male", "female"]), float(5 * rng.integers(5, 17))
        skin = tuple(int(v) for v in np.clip(np.asarray((225, 185, 160)) - rng.uniform(0, 60) + rng.normal(0, 5, 3),
                                             0, 255))
        prone = rng.random() < 0.25  # a few patients have most of the melanomas
        for _ in range(int(rng.integers(1, 7))):
            malignant = bool(rng.random() < (0.4 if prone else 0.06) + (age - 45) / 400)
            rows.append({"patient_id": patient, "sex": sex, "age_approx": age,
                         "anatom_site_general_challenge": rng.choice(SITES, p=[.5, .25, .15, .06, .02, .02]),
                         "diagnosis": "melanoma" if malignant else rng.choice(BENIGN),
                         "benign_malignant": "malignant" if malignant else "benign", "target": int(malignant),
                         "skin": skin})
    frame = pd.DataFrame(rows)
    frame.insert(0, "image_name", [f"ISIC_{v:07d}" for v in rng.choice(10**7, len(frame), replace=False)])
    frame = frame.sort_values("image_name", ignore_index=True)  # the real table is in image order, patients mixed
    for column, share in (("sex", 0.01), ("age_approx", 0.01), ("anatom_site_general_challenge", 0.03)):
        frame.loc[rng.random(len(frame)) < share, column] = np.nan  # a few blanks, as in the real table
    test_patients = set(rng.choice(patients, n_patients // 5, replace=False))
    is_test = frame["patient_id"].isin(test_patients).to_numpy()
    for part, rows_of in (("train", frame[~is_test]), ("test", frame[is_test])):
        (public / "jpeg" / part).mkdir(parents=True)
        (public / part).mkdir()
        for row in rows_of.itertuples():
            img = _lesion(rng, bool(row.target), row.skin)
            (public / "jpeg" / part / f"{row.image_name}.jpg").write_bytes(_image_bytes(img, "JPEG"))
            dicom_age = "" if pd.isna(row.age_approx) else f"{int(row.age_approx):03d}Y"
            fields = {(0x0010, 0x0010, "PN"): row.patient_id, (0x0010, 0x0020, "LO"): row.patient_id,
                      (0x0010, 0x0040, "CS"): {"male": "M", "female": "F"}.get(str(row.sex), ""),
                      (0x0010, 0x1010, "AS"): dicom_age,
                      (0x0018, 0x0015, "CS"): str(row.anatom_site_general_challenge).upper()[:16]}
            uid = f"1.3.6.1.4.1.5962.99.1.{int(row.image_name[5:])}"
            (public / part / f"{row.image_name}.dcm").write_bytes(_dicom(img, uid, fields))
    frame = frame.drop(columns="skin")
    train, test = frame[~is_test], frame[is_test]
    train.to_csv(public / "train.csv", index=False)
    test[["image_name", "patient_id", "sex", "age_approx", "anatom_site_general_challenge"]].to_csv(
        public / "test.csv", index=False)
    test[["image_name", "target"]].to_csv(task_dir / "private" / "answers.csv", index=False)
    test[["image_name"]].assign(target=0).to_csv(public / "sample_submission.csv", index=False)
    (public / "description.md").write_text(f"""# SIIM-ISIC Melanoma Classification

## Overview

Melanoma is the deadliest skin cancer, and it is curable when caught early. Dermatologists photograph
suspicious skin lesions through a dermatoscope; your model should tell which lesions are malignant, using the
images and what is known about the patient.

## Evaluation

Submissions are scored on the area under the ROC curve between the predicted probability and the observed
target.

### Submission File

For each `image_name` in the test set, predict the probability (`target`) that the lesion is malignant. With
a header:

```
image_name,target
{test['image_name'].iloc[0]},0.7
{test['image_name'].iloc[1]},0.1
...
```

# Dataset Description

The images come both as DICOM files (which also hold patient metadata) and as JPEGs. Every image belongs to a
patient (`patient_id`); a patient can have several images, and the patients of the test set are not in the
training set.

## Files

- `train.csv` - the training set: `image_name`, `patient_id`, `sex`, `age_approx`,
  `anatom_site_general_challenge` (where on the body the lesion is), `diagnosis`, `benign_malignant`, and
  `target` (1 for malignant, 0 for benign)
- `test.csv` - the test set: the first five of those columns
- `train/`, `test/` - the images as DICOM, `<image_name>.dcm` ({len(train)} and {len(test)} files)
- `jpeg/train/`, `jpeg/test/` - the same images as JPEG, `<image_name>.jpg`
- `sample_submission.csv` - a sample submission in the correct format
""")
    return Grading("auc", True, "probability", "image_name", ["target"], ["target"], shape="image")


# ---------------------------------------------------------------- ranzcr-clip-catheter-line-classification

LINES = ["ETT - Abnormal", "ETT - Borderline", "ETT - Normal", "NGT - Abnormal", "NGT - Borderline",
         "NGT - Incompletely Imaged", "NGT - Normal", "CVC - Abnormal", "CVC - Borderline", "CVC - Normal",
         "Swan Ganz Catheter Present"]
SCORED = LINES[:9]  # the mle-bench grader and sample use only the first nine (its classes.py)
XRAY = 96  # pixels a side; the real radiographs are about 2,500


def _route(rng: np.random.Generator, points: list[tuple[float, float]]) -> list[list[int]]:
    """A catheter's path through fractions of the picture: jittered and densified, in pixel coordinates."""
    out = []
    for (x0, y0), (x1, y1) in zip(points, points[1:], strict=False):
        for s in np.linspace(0, 1, 6, endpoint=False):
            out.append([int(round((x0 + s * (x1 - x0)) * XRAY + rng.normal(0, 0.4))),
                        int(round((y0 + s * (y1 - y0)) * XRAY + rng.normal(0, 0.4)))])
    out.append([int(round(points[-1][0] * XRAY)), int(round(points[-1][1] * XRAY))])
    return out


def _study(rng: np.random.Generator) -> tuple[dict[str, int], list[tuple[str, list[list[int]]]]]:
    """Which lines and tubes one chest film holds and where each runs: an endotracheal tube down the trachea
    (its tip too low or too high is abnormal), a nasogastric tube down to the stomach (curling into a lung,
    stopping at the diaphragm, or running off the film), central venous catheters from the neck (tips short of,
    in, or past the vena cava) and now and then a Swan-Ganz catheter out to the pulmonary artery."""
    labels, paths = dict.fromkeys(LINES, 0), []
    u = rng.uniform
    if rng.random() < 0.5:
        kind = rng.choice(["Normal", "Borderline", "Abnormal"], p=[0.5, 0.25, 0.25])
        tip = {"Normal": u(0.22, 0.29), "Borderline": u(0.32, 0.36), "Abnormal": u(0.42, 0.5)}[kind]
        paths.append((f"ETT - {kind}", _route(rng, [(0.5 + u(-0.02, 0.02), 0.0), (0.5, tip)])))
    if rng.random() < 0.5:
        kind = rng.choice(["Normal", "Borderline", "Incompletely Imaged", "Abnormal"], p=[0.4, 0.2, 0.2, 0.2])
        x = 0.47 + u(-0.02, 0.02)
        route = {"Normal": [(x, 0.0), (x, 0.62), (0.62, u(0.8, 0.88))], "Borderline": [(x, 0.0), (x, u(0.6, 0.68))],
                 "Incompletely Imaged": [(x, 0.0), (x, 0.62), (0.6, 1.0)],
                 "Abnormal": [(x, 0.0), (x, 0.35), (u(0.22, 0.32), u(0.45, 0.6))]}[kind]
        paths.append((f"NGT - {kind}", _route(rng, route)))
    for _ in range(int(rng.choice([0, 1, 2], p=[0.3, 0.6, 0.1]))):
        kind = rng.choice(["Normal", "Borderline", "Abnormal"], p=[0.55, 0.25, 0.2])
        side = rng.choice([0.15, 0.85])
        end = {"Normal": (0.55, u(0.36, 0.44)), "Borderline": (0.5 + (side - 0.5) * 0.4, u(0.24, 0.3)),
               "Abnormal": (u(0.3, 0.4) if side > 0.5 else u(0.6, 0.7), u(0.55, 0.65))}[kind]
        paths.append((f"CVC - {kind}", _route(rng, [(side, 0.1), (0.55, 0.22), end])))
    if rng.random() < 0.12:
        paths.append(("Swan Ganz Catheter Present",
                      _route(rng, [(0.85, 0.1), (0.55, 0.25), (0.55, 0.5), (0.62, 0.58), (0.38, u(0.4, 0.45))])))
    for label, _ in paths:
        labels[label] = 1
    return labels, paths


def _radiograph(rng: np.random.Generator, paths: list[tuple[str, list[list[int]]]]) -> Image.Image:
    """A frontal chest film: a bright body, two dark lungs, the spine and the heart, and every line in
    ``paths`` drawn as a thin bright wire (tubes a little thicker)."""
    yy, xx = np.mgrid[0:XRAY, 0:XRAY] / XRAY
    body = 0.55 + 0.1 * rng.standard_normal()
    film = np.full((XRAY, XRAY), body)
    for cx in (0.3, 0.7):  # lungs
        film -= 0.3 * (((xx - cx) / 0.17) ** 2 + ((yy - 0.45) / 0.28) ** 2 < 1)
    film += 0.2 * (np.abs(xx - 0.5) < 0.05)  # spine
    film += 0.2 * (((xx - 0.56) / 0.14) ** 2 + ((yy - 0.6) / 0.12) ** 2 < 1)  # heart
    img = _grey(film + 0.04 * rng.standard_normal((XRAY, XRAY))).filter(ImageFilter.GaussianBlur(1.2))
    draw = ImageDraw.Draw(img)
    for label, points in paths:
        draw.line([tuple(p) for p in points], fill=int(rng.integers(215, 255)), width=2 if label[:3] in "ETTNGT" else 1)
    return img.filter(ImageFilter.GaussianBlur(0.4))


def _study_uids(rng: np.random.Generator, n: int) -> list[str]:
    """``n`` unique study UIDs: the real ones are this root and 38 random digits."""
    heads, rests = rng.integers(10**18, 9 * 10**18, n + 10), rng.integers(0, 10**18, n + 10)
    tails = dict.fromkeys(f"{a}{b:019d}" for a, b in zip(heads, rests, strict=True))  # unique, in a fixed order
    return ["1.2.826.0.1.3680043.8.498." + t for t in list(tails)[:n]]


@mimic("ranzcr-clip-catheter-line-classification",
       "train.csv StudyInstanceUID + 11 label columns + PatientID; train_annotations.csv StudyInstanceUID,label,data "
       "(line points); train/ and test/ of <uid>.jpg (greyscale); sample_submission.csv StudyInstanceUID + the first "
       "9 label columns; mean column AUC")
def ranzcr(task_dir: Path, rng: np.random.Generator) -> Grading:
    """The real task: for each chest radiograph, the probability of each of eleven findings about the position of
    its tubes and lines (mean AUC over the columns). prepare.py splits train.csv (train_test_split, 10%), keeps
    the point annotations of the training studies only, and writes a sample with the nine label columns of its
    classes.py (CVC - Normal and Swan Ganz are left out of the sample and the grading)."""
    public, n = task_dir / "public", 380
    while True:  # every graded column needs both classes among the test studies
        studies = [_study(rng) for _ in range(n)]
        frame = pd.DataFrame([labels for labels, _ in studies])
        train, test = _split(n, rng, 0.15)
        if frame.loc[test, SCORED].sum().between(2, len(test) - 2).all():
            break
    patients = _hex_ids(n // 2, rng, 9)
    frame.insert(0, "StudyInstanceUID", _study_uids(rng, n))
    frame["PatientID"] = rng.choice(patients, n)  # about two films a patient
    annotations = []
    for part, rows in (("train", train), ("test", test)):
        (public / part).mkdir()
        for k in rng.permutation(rows):
            uid, paths = frame["StudyInstanceUID"].iloc[k], studies[k][1]
            (public / part / f"{uid}.jpg").write_bytes(_image_bytes(_radiograph(rng, paths), "JPEG"))
            if part == "train" and rng.random() < 0.5:  # the real annotations cover a share of the studies
                annotations += [{"StudyInstanceUID": uid, "label": label, "data": str(points)}
                                for label, points in paths]
    train_rows, test_rows = frame.iloc[rng.permutation(train)], frame.iloc[rng.permutation(test)]
    train_rows.to_csv(public / "train.csv", index=False)
    pd.DataFrame(annotations, columns=["StudyInstanceUID", "label", "data"]).to_csv(
        public / "train_annotations.csv", index=False)
    test_rows.to_csv(task_dir / "private" / "answers.csv", index=False)
    test_rows[["StudyInstanceUID", *SCORED]].assign(**dict.fromkeys(SCORED, 0)).to_csv(
        public / "sample_submission.csv", index=False)
    (public / "description.md").write_text(f"""# RANZCR CLiP - Catheter and Line Position Challenge

## Overview

Tubes and catheters placed in a patient in hospital can do harm when they sit in the wrong place, and
radiologists check their position on chest X-rays. Your model should find each line and tube on a chest film
and say whether it is placed normally, borderline or abnormally.

## Evaluation

Submissions are scored on the area under the ROC curve between the predicted probability and the observed
target, computed for each label column and then averaged over the columns.

### Submission File

For each `StudyInstanceUID` in the test set, predict a probability for every label column. With a header:

```
StudyInstanceUID,{','.join(SCORED)}
{test_rows['StudyInstanceUID'].iloc[0]},{','.join(['0'] * len(SCORED))}
...
```

# Data

## Dataset Description

Each film may hold no lines at all, or several: an endotracheal tube (ETT), a nasogastric tube (NGT), one or more
central venous catheters (CVC) and a Swan-Ganz catheter. `PatientID` says which patient a film belongs to.

## Files

- `train.csv` - `StudyInstanceUID`, a 0/1 column for each of the {len(LINES)} labels, and `PatientID`
- `train_annotations.csv` - for some training films, the points along each line (`data`, a list of `[x, y]`
  pixel coordinates) and the line's `label`
- `train/` - {len(train)} training films, `<StudyInstanceUID>.jpg` (greyscale JPEG)
- `test/` - {len(test)} test films
- `sample_submission.csv` - a sample submission in the correct format
""")
    return Grading("mean_column_auc", True, "probability", "StudyInstanceUID", SCORED, SCORED, shape="image")


# ---------------------------------------------------------------- mlsp-2013-birds

SPECIES = [("BRCR", "Brown Creeper"), ("PAWR", "Pacific Wren"), ("PSFL", "Pacific-slope Flycatcher"),
           ("RBNU", "Red-breasted Nuthatch"), ("DEJU", "Dark-eyed Junco"), ("OSFL", "Olive-sided Flycatcher"),
           ("HETH", "Hermit Thrush"), ("CBCH", "Chestnut-backed Chickadee"), ("VATH", "Varied Thrush"),
           ("HEWA", "Hermit Warbler"), ("SWTH", "Swainson's Thrush"), ("HAFL", "Hammond's Flycatcher"),
           ("WETA", "Western Tanager"), ("BHGB", "Black-headed Grosbeak"), ("GCKI", "Golden Crowned Kinglet"),
           ("WAVI", "Warbling Vireo"), ("MGWA", "MacGillivray's Warbler"), ("STJA", "Stellar's Jay"),
           ("CONI", "Common Nighthawk")]  # the real species_list.txt, in its order
BIRD_RATE, BIRD_SECONDS, NFFT = 16000, 0.5, 128  # the real recordings: 10 s at 16 kHz


def _song(rng: np.random.Generator, species: int, t: np.ndarray) -> tuple[np.ndarray, list[tuple[float, float,
                                                                                                  float, float]]]:
    """One species' syllables: each species sings in its own band (1.5 to 7 kHz) with its own shape (a rising or
    falling sweep, a trill or a steady whistle). Returns the signal and each syllable's (t0, t1, f_low, f_high)."""
    base, shape = 1500 + species * 290, species % 4
    x, boxes = np.zeros_like(t), []
    for _ in range(int(rng.integers(1, 3))):
        t0, length = rng.uniform(0, BIRD_SECONDS - 0.15), rng.uniform(0.06, 0.14)
        u = np.clip((t - t0) / length, 0, 1)
        sweep = {0: 500 * u, 1: 500 * (1 - u), 2: 150 * np.sin(2 * np.pi * 40 * (t - t0)), 3: 0 * u}[shape]
        f = base * rng.uniform(0.97, 1.03) + sweep
        on = (t >= t0) & (t <= t0 + length)
        x += rng.uniform(0.15, 0.35) * on * np.sin(np.pi * u) * np.sin(2 * np.pi * np.cumsum(f) / BIRD_RATE)
        boxes.append((t0, t0 + length, float(f[on].min()), float(f[on].max())))
    return x, boxes


def _spectrogram(x: np.ndarray) -> np.ndarray:
    """|FFT| of Hamming-windowed frames (hop = window), normalised to max 1 and square-rooted as the real BMPs
    are; rows are frequencies, the highest at the top."""
    frames = x[: len(x) // NFFT * NFFT].reshape(-1, NFFT) * np.hamming(NFFT)
    mag = np.abs(np.fft.rfft(frames, axis=1))[:, 1:].T[::-1]  # drop DC: NFFT/2 rows from 8 kHz down
    return np.sqrt(mag / mag.max())


def _segment_features(spec: np.ndarray, box: tuple[int, int, int, int]) -> list[float]:
    """38 numbers about one segment's patch: its size and place, its loudness, and its frequency profile."""
    x0, x1, y0, y1 = box
    patch = spec[y0:y1 + 1, x0:x1 + 1]
    profile = np.interp(np.linspace(0, len(patch) - 1, 28), np.arange(len(patch)), patch.mean(axis=1))
    rows = np.arange(y0, y1 + 1)
    centre = float((patch.sum(axis=1) * rows).sum() / max(patch.sum(), 1e-9)) / len(spec)
    return [x1 - x0 + 1, y1 - y0 + 1, patch.size, patch.mean(), patch.std(), patch.max(), y0 / len(spec),
            y1 / len(spec), centre, (x1 - x0 + 1) / spec.shape[1], *profile]


def _tile(patches: list[np.ndarray], columns: int = 10) -> Image.Image:
    """Patches resized to 12x12 and laid out in a grid (the segment mosaic and the cluster picture)."""
    rows = max(1, -(-len(patches) // columns))
    sheet = Image.new("L", (12 * columns, 12 * rows))
    for k, patch in enumerate(patches):
        sheet.paste(_grey(patch / max(patch.max(), 1e-9)).resize((12, 12)), (12 * (k % columns), 12 * (k // columns)))
    return sheet


@mimic("mlsp-2013-birds",
       "essential_data/ CVfolds_2.txt, rec_id2filename.txt, rec_labels_test_hidden.txt ('?' for test), "
       "species_list.txt, src_wavs/<filename>.wav (16 kHz); supplemental_data/ spectrogram BMPs and segment "
       "tables; sample_submission.csv Id (rec_id*100+species),Probability; AUC over all pairs")
def birds(task_dir: Path, rng: np.random.Generator) -> Grading:
    """The real task: which of 19 bird species sing in each forest recording, a probability per (recording,
    species) pair, scored on one ROC AUC over all pairs. prepare.py keeps the original training fold only,
    renumbers its recordings 0..n-1, marks a fifth of them fold 1 (test) with '?' labels, and writes the answers
    and the sample in the long form Id = rec_id * 100 + species. The supplemental data are a baseline's
    spectrograms (raw, noise-filtered, with segments outlined), hand-painted segmentation examples, and its
    segment features, rectangles and histogram-of-segments vectors."""
    public, n = task_dir / "public", 90
    essential, supplemental = public / "essential_data", public / "supplemental_data"
    (essential / "src_wavs").mkdir(parents=True)
    for folder in ("spectrograms", "filtered_spectrograms", "segmentation_examples", "supervised_segmentation"):
        (supplemental / folder).mkdir(parents=True)
    test = set(_split(n, rng, 0.2)[1].tolist())
    names = [f"PC{int(rng.integers(1, 19))}_2009{int(rng.integers(5, 9)):02d}{int(rng.integers(1, 29)):02d}_"
             f"0{int(rng.integers(5, 8))}{int(rng.integers(0, 6))}000_{k:04d}" for k in range(n)]
    popular = rng.dirichlet(np.full(len(SPECIES), 0.8))  # some species are common, some rare
    t = np.arange(int(BIRD_RATE * BIRD_SECONDS)) / BIRD_RATE
    label_sets, segments, specs = [], [], []
    for rec, name in enumerate(names):
        present = sorted(set(rng.choice(len(SPECIES), int(rng.choice(4, p=[.1, .45, .3, .15])), p=popular).tolist()))
        wind = np.convolve(rng.standard_normal(len(t)), np.ones(24) / 24, mode="same") * rng.uniform(0.2, 1.5)
        x = wind + 0.02 * rng.standard_normal(len(t))  # wind below ~500 Hz and a hiss
        boxes: list[tuple[float, float, float, float]] = []
        for s in present:
            song, calls = _song(rng, s, t)
            x, boxes = x + song, boxes + calls
        (essential / "src_wavs" / f"{name}.wav").write_bytes(_wav(x / max(1.0, np.abs(x).max()), BIRD_RATE))
        spec = _spectrogram(x)
        filtered = np.clip(spec - np.median(spec, axis=1, keepdims=True), 0, None)  # the stationary noise filter
        filtered /= max(filtered.max(), 1e-9)
        hz = BIRD_RATE / NFFT  # one row per 125 Hz, the top row the highest
        rects = [(int(t0 * BIRD_RATE // NFFT), min(spec.shape[1] - 1, int(t1 * BIRD_RATE // NFFT)),
                  max(0, int(len(spec) - f1 / hz) - 1), min(len(spec) - 1, int(len(spec) - f0 / hz) + 1))
                 for t0, t1, f0, f1 in boxes if rng.random() < 0.85]  # the baseline misses a few calls
        _grey(spec).save(supplemental / "spectrograms" / f"{name}.bmp")
        _grey(filtered).save(supplemental / "filtered_spectrograms" / f"{name}.bmp")
        outlined = _grey(filtered).convert("RGB")
        for x0, x1, y0, y1 in rects:
            ImageDraw.Draw(outlined).rectangle((x0, y0, x1, y1), outline=(255, 255, 0))
        outlined.convert("P").save(supplemental / "supervised_segmentation" / f"{name}.bmp")  # 8-bit, colour outlines
        if rec not in test and rec % 12 == 0:  # a few hand-painted examples: red bird sound, blue wind
            painted = np.zeros((*spec.shape, 3), np.uint8)
            painted[-4:, :, 2] = 255
            for x0, x1, y0, y1 in rects:
                painted[y0:y1 + 1, x0:x1 + 1] = (255, 0, 0)
            Image.fromarray(painted, "RGB").save(supplemental / "segmentation_examples" / f"{name}.bmp")
        label_sets.append(present)
        segments += [(rec, k, r) for k, r in enumerate(rects)]
        specs.append(filtered)
    pd.DataFrame({"rec_id": range(n), "fold": [int(r in test) for r in range(n)]}).to_csv(
        essential / "CVfolds_2.txt", index=False)
    pd.DataFrame({"rec_id": range(n), "filename": names}).to_csv(essential / "rec_id2filename.txt", index=False)
    (essential / "species_list.txt").write_text("class_id,code,species\n" + "".join(
        f"{k},{code},{name}\n" for k, (code, name) in enumerate(SPECIES)))
    lines = [f"{r}" + (",?" if r in test else "".join(f",{s}" for s in label_sets[r])) for r in range(n)]
    (essential / "rec_labels_test_hidden.txt").write_text("rec_id,[labels]\n" + "\n".join(lines) + "\n")
    # the baseline's segment tables; prepare.py rewrites each with this same header line
    from sklearn.cluster import KMeans

    features = np.array([_segment_features(specs[rec], r) for rec, _, r in segments])
    scaled = (features - features.mean(axis=0)) / (features.std(axis=0) + 1e-9)
    k = min(100, len(segments))
    clusters = KMeans(k, n_init=1, random_state=int(rng.integers(2**31))).fit_predict(scaled)
    histogram = np.zeros((n, 100))
    for (rec, _, _), c in zip(segments, clusters, strict=True):
        histogram[rec, c] += 1
    histogram /= np.maximum(histogram.sum(axis=1, keepdims=True), 1)
    header = "rec_id,[histogram of segment features]\n"
    (supplemental / "histogram_of_segments.txt").write_text(header + "".join(
        f"{r}," + ",".join(f"{v:.6f}" for v in histogram[r]) + "\n" for r in range(n)))
    (supplemental / "segment_features.txt").write_text(header + "".join(
        f"{rec},{s}," + ",".join(f"{v:.6f}" for v in f) + "\n" for (rec, s, _), f in zip(segments, features,
                                                                                          strict=True)))
    (supplemental / "segment_rectangles.txt").write_text(header + "".join(
        f"{rec},{s},{x0},{x1},{y0},{y1},\n" for rec, s, (x0, x1, y0, y1) in segments))
    patches = [specs[rec][y0:y1 + 1, x0:x1 + 1] for rec, _, (x0, x1, y0, y1) in segments]
    _tile(patches).save(supplemental / "segment_mosaic.bmp")
    first_of = [patches[int(np.flatnonzero(clusters == c)[0])] for c in range(k)]  # one segment of each cluster
    _tile(first_of).save(supplemental / "segment_clusters.bmp")
    test_ids = sorted(test)
    answers = pd.DataFrame({"Id": [r * 100 + s for r in test_ids for s in range(len(SPECIES))],
                            "Probability": [int(s in label_sets[r]) for r in test_ids for s in range(len(SPECIES))]})
    answers.to_csv(task_dir / "private" / "answers.csv", index=False)
    answers.assign(Probability=0).to_csv(public / "sample_submission.csv", index=False)
    (public / "description.md").write_text(f"""# MLSP 2013 Bird Classification Challenge

## Overview

Microphones left in a forest record many hours of sound. Biologists want to know which bird species sing in
each recording, to follow where the birds live and how many there are. Several species may sing in one
recording, among wind, rain and streams.

## Evaluation

Submissions are judged on the area under the ROC curve, computed over every (recording, species) pair of the
test set together.

### Submission Format

There are {len(SPECIES)} species. For every test recording give the probability that each species is present,
one row per (recording, species) pair, with `Id = rec_id * 100 + species` and a header:

```
Id,Probability
{test_ids[0] * 100},0
{test_ids[0] * 100 + 1},0
...
{test_ids[0] * 100 + 18},0
{test_ids[1] * 100},0
...
```

# Data

## Dataset Description

{n} short recordings ({BIRD_SECONDS} s each, 16 kHz, 16-bit mono WAV), each with a recording id `rec_id`.

### Essential files (`essential_data/`)

- `src_wavs/` - the recordings, `<filename>.wav`
- `rec_id2filename.txt` - `rec_id,filename`: the file of each recording
- `species_list.txt` - `class_id,code,species`: the {len(SPECIES)} species, numbered from 0
- `CVfolds_2.txt` - `rec_id,fold`: 0 for training recordings, 1 for test recordings
- `rec_labels_test_hidden.txt` - the labels: each line is a `rec_id` then the species numbers heard in it
  (e.g. `14,0,4`); a recording with no bird is its `rec_id` alone, and test recordings show `?`

### Supplemental files (`supplemental_data/`)

A baseline's processing steps, which you may use or ignore:

- `spectrograms/` - a BMP spectrogram of each recording (time across, frequency up to 8 kHz upwards)
- `filtered_spectrograms/` - the same after a stationary noise filter
- `segmentation_examples/` - a few training spectrograms painted by hand: red is bird sound, blue is wind
- `supervised_segmentation/` - filtered spectrograms with the baseline's segments outlined
- `segment_features.txt` - `rec_id,segment_id,` and 38 features of each segment
- `segment_rectangles.txt` - `rec_id,segment_id,min_x,max_x,min_y,max_y` of each segment in the BMP pixels
- `histogram_of_segments.txt` - `rec_id,` and 100 numbers: how often each of 100 clusters of segment
  features occurs in the recording (normalised to sum to 1)
- `segment_mosaic.bmp`, `segment_clusters.bmp` - pictures of all segments and of the clusters
- `sample_submission.csv` - a sample submission in the correct format
""")
    return Grading("auc", True, "probability", "Id", ["Probability"], ["Probability"], shape="audio")
