"""Mimics of the MLE-bench Lite photo competitions: small colour pictures drawn with numpy and PIL
(cacti from the air, pets, dog breeds, tissue patches, retinas, leaves) in each competition's real
public layout, with classes that differ visibly in colour, texture or shapes."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image, ImageDraw

from mle_star.examples.common import _hex_ids, _split, _write_zip
from mle_star.lite.common import Grading, mimic

RGB = tuple[int, int, int]


# ---------------------------------------------------------------- drawing


def _canvas(rng: np.random.Generator, size: tuple[int, int], colour: RGB, spread: float) -> Image.Image:
    """A (width, height) background of ``colour`` with per-pixel noise, so no two pictures are alike."""
    w, h = size
    noise = rng.normal(0, spread, (h, w, 3)) + rng.normal(0, spread / 2, 3)  # pixel noise and a per-picture cast
    pixels = np.clip(np.asarray(colour, float) + noise, 0, 255).astype(np.uint8)
    return Image.fromarray(pixels, "RGB")


def _jitter(rng: np.random.Generator, colour: RGB, spread: float = 18) -> RGB:
    r, g, b = np.clip(np.asarray(colour) + rng.normal(0, spread, 3), 0, 255).astype(int)
    return int(r), int(g), int(b)


def _spots(rng: np.random.Generator, img: Image.Image, n: int, colour: RGB, radius: tuple[float, float],
           box: tuple[float, float, float, float] = (0, 0, 1, 1)) -> None:
    """``n`` round spots of ``colour`` inside ``box`` (fractions of the width and height)."""
    draw = ImageDraw.Draw(img)
    w, h = img.size
    for _ in range(n):
        x, y = rng.uniform(box[0], box[2]) * w, rng.uniform(box[1], box[3]) * h
        r = rng.uniform(*radius)
        draw.ellipse((x - r, y - r, x + r, y + r), fill=_jitter(rng, colour))


def _encoded(img: Image.Image, fmt: str) -> bytes:
    buffer = io.BytesIO()
    img.save(buffer, format=fmt, **({"quality": 90} if fmt == "JPEG" else {}))
    return buffer.getvalue()


def _save_all(folder: Path, pictures: dict[str, Image.Image], fmt: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, img in pictures.items():
        (folder / name).write_bytes(_encoded(img, fmt))


def _ids(n: int, rng: np.random.Generator, width: int) -> list[str]:
    """``n`` unique random lowercase hex ids of ``width`` digits (the real ids are 12, 32 or 40 hex digits)."""
    head = _hex_ids(n, rng)  # unique 8-digit heads; the tails only add length
    return [h + "".join(f"{v:08x}" for v in rng.integers(0, 16**8, (width - 1) // 8))[: width - 8] for h in head]


def _rows(frame: pd.DataFrame, rows: np.ndarray, rng: np.random.Generator) -> pd.DataFrame:
    """The rows in a shuffled order, as train_test_split leaves them in the real prepare.py."""
    return frame.iloc[rng.permutation(rows)].reset_index(drop=True)


# ---------------------------------------------------------------- aerial-cactus-identification


def _cactus(rng: np.random.Generator, has_cactus: bool) -> Image.Image:
    """A 32x32 aerial tile of sand with stones and shrubs; a cactus is a long dark-green column."""
    img = _canvas(rng, (32, 32), _jitter(rng, (188, 168, 128), 14), 10)
    _spots(rng, img, int(rng.integers(0, 4)), (120, 110, 95), (1, 2.5))  # stones, in both classes
    _spots(rng, img, int(rng.integers(0, 3)), (120, 135, 85), (1.5, 3))  # round shrubs, a decoy
    if has_cactus:
        draw = ImageDraw.Draw(img)
        x, y, length = rng.uniform(6, 26), rng.uniform(2, 14), rng.uniform(12, 26)
        width = rng.uniform(2.5, 5)
        draw.rounded_rectangle((x - width / 2, y, x + width / 2, min(31, y + length)), radius=2,
                               fill=_jitter(rng, (55, 105, 45), 12))
    return img


@mimic("aerial-cactus-identification",
       "train.zip and test.zip of 32x32 <id>.jpg at the zips' roots; train.csv id,has_cactus (id ends in .jpg); "
       "sample_submission.csv id,has_cactus; AUC")
def aerial_cactus(task_dir: Path, rng: np.random.Generator) -> Grading:
    """The real task: does a 32x32 aerial photo hold a columnar cactus (probability, ROC AUC)? prepare.py splits
    the labelled train.zip in two and re-zips each half with the images at the archive's root."""
    public, n = task_dir / "public", 500
    ids = [f"{h}.jpg" for h in _ids(n, rng, 32)]
    labels = (rng.random(n) < 0.75).astype(int)  # three in four tiles hold a cactus, as in the real data
    frame = pd.DataFrame({"id": ids, "has_cactus": labels})
    train, test = _split(n, rng, 0.19)
    train_rows, test_rows = _rows(frame, train, rng), _rows(frame, test, rng)
    for part, rows in (("train", train_rows), ("test", test_rows)):
        _write_zip(public / f"{part}.zip", {i: _encoded(_cactus(rng, bool(y)), "JPEG")
                                            for i, y in zip(rows["id"], rows["has_cactus"], strict=True)})
    train_rows.to_csv(public / "train.csv", index=False)
    test_rows.assign(has_cactus=0.5).to_csv(public / "sample_submission.csv", index=False)
    test_rows.to_csv(task_dir / "private" / "answers.csv", index=False)
    (public / "description.md").write_text(f"""# Aerial Cactus Identification

## Overview

A survey of a protected desert area wants to know where columnar cacti grow. Drones photograph the ground,
and the photos are cut into small tiles. Your model must tell whether a tile shows a cactus.

## Evaluation

Submissions are scored on the area under the ROC curve between the predicted probability and the true label.

## Submission File

For each image `id` in the test set, give the probability that the tile holds a cactus (`has_cactus`).
The file needs a header and looks like:

```
id,has_cactus
{test_rows['id'].iloc[0]},0.5
{test_rows['id'].iloc[1]},0.5
...
```

## Data

- `train.zip` - {len(train_rows)} aerial tiles (32x32 colour JPEG), named `<id>` (the name ends in `.jpg`)
- `train.csv` - `id`, `has_cactus` (1 if the tile shows a cactus) for each training tile
- `test.zip` - {len(test_rows)} tiles to predict
- `sample_submission.csv` - a sample submission file in the correct format
""")
    return Grading("auc", True, "probability", "id", ["has_cactus"], ["has_cactus"], shape="image")


# ---------------------------------------------------------------- dogs-vs-cats-redux-kernels-edition


def _pet(rng: np.random.Generator, dog: bool) -> Image.Image:
    """A picture of varying size: a cat is a striped grey or ginger coat with pointed ears; a dog a smooth
    brown or black body with round ears. The background (lawn, sofa, floor) says nothing."""
    w, h = int(rng.integers(28, 49)), int(rng.integers(28, 49))
    background = [(90, 140, 70), (150, 60, 60), (170, 150, 120)][int(rng.integers(3))]
    img = _canvas(rng, (w, h), _jitter(rng, background), 12)
    draw = ImageDraw.Draw(img)
    cx, cy, rx, ry = w * rng.uniform(0.4, 0.6), h * rng.uniform(0.45, 0.6), w * 0.3, h * 0.28
    if dog:
        coat = _jitter(rng, [(120, 80, 45), (40, 35, 30), (200, 170, 120)][int(rng.integers(3))])
        draw.ellipse((cx - rx, cy - ry, cx + rx, cy + ry), fill=coat)
        for side in (-1, 1):  # floppy round ears beside the head
            ex = cx + side * rx * 0.8
            draw.ellipse((ex - 5, cy - ry - 4, ex + 5, cy - ry + 8), fill=coat)
    else:
        coat = _jitter(rng, [(130, 130, 135), (215, 130, 50), (60, 60, 65)][int(rng.integers(3))])
        dark = tuple(int(c * 0.45) for c in coat)
        draw.ellipse((cx - rx, cy - ry, cx + rx, cy + ry), fill=coat)
        for k in range(-3, 4):  # tabby stripes across the coat
            y = cy + k * ry / 3.5
            draw.line((cx - rx * 0.8, y, cx + rx * 0.8, y + rng.uniform(-2, 2)), fill=dark, width=2)
        for side in (-1, 1):  # pointed ears above the head
            ex = cx + side * rx * 0.55
            draw.polygon([(ex - 4, cy - ry + 3), (ex + 4, cy - ry + 3), (ex, cy - ry - 7)], fill=coat)
    return img


@mimic("dogs-vs-cats-redux-kernels-edition",
       "train.zip of cat.<n>.jpg / dog.<n>.jpg and test.zip of <n>.jpg (n from 1), at the zips' roots, sizes vary; "
       "sample_submission.csv id,label (P(dog)); log loss")
def dogs_vs_cats(task_dir: Path, rng: np.random.Generator) -> Grading:
    """The real task: the probability that each test photo shows a dog, scored on the binary log loss. prepare.py
    renames the training photos cat.0.jpg, dog.0.jpg, ... by class and the test photos 1.jpg, 2.jpg, ..."""
    public, n_train, n_test = task_dir / "public", 360, 100
    counters = {"cat": 0, "dog": 0}
    members = {}
    for _ in range(n_train):
        kind = "dog" if rng.random() < 0.5 else "cat"
        members[f"{kind}.{counters[kind]}.jpg"] = _encoded(_pet(rng, kind == "dog"), "JPEG")
        counters[kind] += 1
    _write_zip(public / "train.zip", members)
    labels = (rng.random(n_test) < 0.5).astype(int)
    _write_zip(public / "test.zip", {f"{i}.jpg": _encoded(_pet(rng, bool(y)), "JPEG")
                                     for i, y in enumerate(labels, start=1)})
    answers = pd.DataFrame({"id": range(1, n_test + 1), "label": labels})
    answers.to_csv(task_dir / "private" / "answers.csv", index=False)
    answers.assign(label=0.5).to_csv(public / "sample_submission.csv", index=False)
    (public / "description.md").write_text(f"""# Dogs vs. Cats Redux: Kernels Edition

## Overview

Tell dogs from cats. Every photo shows one animal, either a dog or a cat; your model gives the
probability that it is a dog.

## Evaluation

Submissions are scored on the log loss

$$\\textrm{{LogLoss}} = - \\frac{{1}}{{n}} \\sum_{{i=1}}^n \\left[ y_i \\log(\\hat{{y}}_i) + (1 - y_i) \\log(1 - \\hat{{y}}_i)\\right],$$

where n is the number of test images, $\\hat{{y}}_i$ the predicted probability that image i shows a dog and
$y_i$ is 1 for a dog and 0 for a cat. Confident wrong answers cost a lot; a smaller score is better.

## Submission File

For each test image `id` (its file name without `.jpg`), predict the probability that it shows a dog:

```
id,label
1,0.5
2,0.5
...
```

## Data

- `train.zip` - {n_train} colour JPEG photos of varying sizes; the label is in the name: `dog.<n>.jpg`, `cat.<n>.jpg`
- `test.zip` - {n_test} photos named `<id>.jpg`, numbered from 1
- `sample_submission.csv` - a sample submission file in the correct format
""")
    return Grading("logloss", False, "probability", "id", ["label"], ["label"], shape="image")


# ---------------------------------------------------------------- dog-breed-identification

# a few of the real competition's 120 breeds, each drawn with its own coat colour and markings
BREEDS: dict[str, tuple[RGB, str]] = {
    "beagle": ((190, 130, 70), "patch"),
    "bluetick": ((205, 210, 220), "spots"),
    "border_collie": ((30, 30, 30), "blaze"),
    "chihuahua": ((225, 190, 140), "plain"),
    "golden_retriever": ((215, 165, 70), "plain"),
    "pug": ((200, 175, 130), "mask"),
    "samoyed": ((245, 245, 245), "plain"),
    "siberian_husky": ((130, 130, 140), "blaze"),
}


def _breed(rng: np.random.Generator, breed: str) -> Image.Image:
    coat, marking = BREEDS[breed]
    w, h = int(rng.integers(30, 49)), int(rng.integers(30, 49))
    img = _canvas(rng, (w, h), _jitter(rng, (100, 130, 90), 30), 12)
    draw = ImageDraw.Draw(img)
    cx, cy, r = w * rng.uniform(0.4, 0.6), h * rng.uniform(0.4, 0.6), min(w, h) * rng.uniform(0.3, 0.38)
    draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=_jitter(rng, coat, 12))
    if marking == "spots":
        _spots(rng, img, 8, (20, 20, 20), (1, 2), ((cx - r * 0.7) / w, (cy - r * 0.7) / h,
                                                 (cx + r * 0.7) / w, (cy + r * 0.7) / h))
    elif marking == "blaze":  # a white stripe down the face
        draw.rectangle((cx - r * 0.2, cy - r * 0.9, cx + r * 0.2, cy + r * 0.9), fill=_jitter(rng, (240, 240, 240), 8))
    elif marking == "mask":  # a dark muzzle
        draw.ellipse((cx - r * 0.5, cy, cx + r * 0.5, cy + r * 0.8), fill=_jitter(rng, (45, 35, 30), 8))
    elif marking == "patch":  # a dark saddle on one side
        draw.pieslice((cx - r, cy - r, cx + r, cy + r), 180, 300, fill=_jitter(rng, (50, 40, 30), 8))
    return img


@mimic("dog-breed-identification",
       "labels.csv id,breed; train/ and test/ of <id>.jpg (32-hex ids, sizes vary); "
       "sample_submission.csv id + one probability column per breed; multi-class log loss")
def dog_breed(task_dir: Path, rng: np.random.Generator) -> Grading:
    """The real task: a probability for each of 120 breeds for every test photo (multi-class log loss); this
    mimic keeps 8 breeds. prepare.py splits labels.csv, copies the photos into train/ and test/ and writes a
    sample with a uniform probability in a column per breed (alphabetical, as the real breed list is)."""
    public, n = task_dir / "public", 440
    breeds = sorted(BREEDS)
    frame = pd.DataFrame({"id": _ids(n, rng, 32), "breed": rng.choice(breeds, n)})
    train, test = _split(n, rng, 0.2)
    train_rows, test_rows = _rows(frame, train, rng), _rows(frame, test, rng)
    for part, rows in (("train", train_rows), ("test", test_rows)):
        _save_all(public / part, {f"{i}.jpg": _breed(rng, b) for i, b in zip(rows["id"], rows["breed"], strict=True)},
                  "JPEG")
    train_rows.to_csv(public / "labels.csv", index=False)
    sample = test_rows[["id"]].assign(**{b: 1 / len(breeds) for b in breeds})
    sample.to_csv(public / "sample_submission.csv", index=False)
    test_rows.rename(columns={"breed": "label"}).to_csv(task_dir / "private" / "answers.csv", index=False)
    p = f"{1 / len(breeds):.3f}"
    (public / "description.md").write_text(f"""# Dog Breed Identification

## Overview

Which breed is this dog? Every photo shows one dog of one of {len(breeds)} breeds; your model gives the
probability of each breed.

## Evaluation

Submissions are scored on the multi-class log loss: the mean over test images of minus the natural log of
the probability given to the true breed. Each row of probabilities is divided by its sum before scoring, and
probabilities are clipped away from 0 and 1. A smaller score is better.

## Submission File

One row per test image `id`, with a probability column for each breed, in this order:

```
id,{','.join(breeds)}
{test_rows['id'].iloc[0]},{','.join([p] * len(breeds))}
...
```

## Data

- `train/` - {len(train_rows)} colour JPEG photos of varying sizes, named `<id>.jpg`
- `labels.csv` - the `breed` of each training photo, by `id`
- `test/` - {len(test_rows)} photos to classify
- `sample_submission.csv` - a sample submission file in the correct format
""")
    return Grading("multi_logloss", False, "class_probabilities", "id", breeds, ["label"], shape="image")


# ---------------------------------------------------------------- histopathologic-cancer-detection


def _patch(rng: np.random.Generator, tumour: bool) -> Image.Image:
    """A stained tissue patch: pink stroma with scattered purple nuclei; tumour tissue packs large dark nuclei
    into the central region (the label is about the centre, as in the real data)."""
    img = _canvas(rng, (32, 32), _jitter(rng, (225, 165, 200), 12), 10)
    _spots(rng, img, int(rng.integers(6, 14)), (150, 90, 170), (0.7, 1.5))  # normal nuclei everywhere
    if tumour:
        _spots(rng, img, int(rng.integers(8, 16)), (85, 35, 120), (1.2, 2.5), (0.3, 0.3, 0.7, 0.7))
    elif rng.random() < 0.3:  # dense nuclei outside the centre do not count
        _spots(rng, img, int(rng.integers(6, 12)), (85, 35, 120), (1.2, 2.5), (0.0, 0.0, 1.0, 0.22))
    return img


@mimic("histopathologic-cancer-detection",
       "train_labels.csv id,label (40-hex ids); train/ and test/ of <id>.tif (RGB TIFF); "
       "sample_submission.csv id,label; AUC")
def histopathologic(task_dir: Path, rng: np.random.Generator) -> Grading:
    """The real task: the probability that the centre of a 96x96 lymph-node scan patch holds tumour tissue
    (ROC AUC); this mimic's patches are 32x32. prepare.py splits train_labels.csv and copies the .tif
    patches into train/ and test/."""
    public, n = task_dir / "public", 400
    frame = pd.DataFrame({"id": _ids(n, rng, 40), "label": (rng.random(n) < 0.4).astype(int)})
    train, test = _split(n, rng, 0.2)
    train_rows, test_rows = _rows(frame, train, rng), _rows(frame, test, rng)
    for part, rows in (("train", train_rows), ("test", test_rows)):
        _save_all(public / part, {f"{i}.tif": _patch(rng, bool(y)) for i, y in zip(rows["id"], rows["label"],
                                                                                  strict=True)}, "TIFF")
    train_rows.to_csv(public / "train_labels.csv", index=False)
    test_rows.assign(label=0).to_csv(public / "sample_submission.csv", index=False)
    test_rows.to_csv(task_dir / "private" / "answers.csv", index=False)
    (public / "description.md").write_text(f"""# Histopathologic Cancer Detection

## Overview

Find metastatic cancer in small patches of digitised lymph-node slides. A patch is positive when its
central region holds at least one pixel of tumour tissue; tumour outside the centre does not change the label.

## Evaluation

Submissions are scored on the area under the ROC curve between the predicted probability and the true label.

## Submission File

For each `id` in the test set, predict the probability that the patch's centre holds tumour tissue:

```
id,label
{test_rows['id'].iloc[0]},0
{test_rows['id'].iloc[1]},0
...
```

## Data

- `train/` - {len(train_rows)} patches (32x32 colour TIFF), named `<id>.tif`
- `train_labels.csv` - the `label` (1 = tumour in the centre) of each training patch, by `id`
- `test/` - {len(test_rows)} patches to predict
- `sample_submission.csv` - a sample submission file in the correct format
""")
    return Grading("auc", True, "probability", "id", ["label"], ["label"], shape="image")


# ---------------------------------------------------------------- aptos2019-blindness-detection


def _retina(rng: np.random.Generator, grade: int) -> Image.Image:
    """A fundus photo of varying size: an orange disc on black with a pale optic disc and dark vessels; the
    worse the retinopathy (0-4), the more red haemorrhages and yellow exudates."""
    w = int(rng.integers(40, 57))
    h = int(w * rng.uniform(0.75, 1.0))
    img = Image.new("RGB", (w, h), (0, 0, 0))
    draw = ImageDraw.Draw(img)
    r = h / 2 - 1
    draw.ellipse((w / 2 - r, 0, w / 2 + r, 2 * r), fill=_jitter(rng, (200, 95, 40), 15))
    ox = w / 2 + rng.choice([-1, 1]) * r * 0.45
    draw.ellipse((ox - 3, h / 2 - 3, ox + 3, h / 2 + 3), fill=(240, 210, 150))  # the optic disc
    for _ in range(4):
        draw.line((ox, h / 2, w / 2 + rng.uniform(-r, r) * 0.8, h / 2 + rng.uniform(-r, r) * 0.8),
                  fill=(120, 40, 20), width=1)
    box = ((w / 2 - r * 0.6) / w, 0.2, (w / 2 + r * 0.6) / w, 0.8)
    _spots(rng, img, int(rng.poisson(3 * grade)), (130, 10, 10), (0.8, 1.8), box)  # haemorrhages
    _spots(rng, img, int(rng.poisson(max(0, 2 * grade - 2))), (245, 230, 90), (0.6, 1.4), box)  # exudates
    arr = np.asarray(img).astype(float) + rng.normal(0, 5, (h, w, 3))
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8), "RGB")


@mimic("aptos2019-blindness-detection",
       "train.csv id_code,diagnosis (12-hex ids, 0-4); test.csv id_code; train_images/ and test_images/ of "
       "<id_code>.png, sizes vary; sample_submission.csv id_code,diagnosis; quadratic weighted kappa")
def aptos(task_dir: Path, rng: np.random.Generator) -> Grading:
    """The real task: grade diabetic retinopathy 0-4 in each retina photo (quadratic weighted kappa). prepare.py
    splits train.csv, copies the PNGs into train_images/ and test_images/ and writes test.csv of the ids."""
    public, n = task_dir / "public", 450
    grades = rng.choice(5, n, p=[0.49, 0.10, 0.27, 0.05, 0.09])  # the real data's mix of grades
    frame = pd.DataFrame({"id_code": _ids(n, rng, 12), "diagnosis": grades})
    train, test = _split(n, rng, 0.2, strata=grades)
    train_rows, test_rows = _rows(frame, train, rng), _rows(frame, test, rng)
    for part, rows in (("train", train_rows), ("test", test_rows)):
        _save_all(public / f"{part}_images", {f"{i}.png": _retina(rng, int(g)) for i, g in
                                              zip(rows["id_code"], rows["diagnosis"], strict=True)}, "PNG")
    train_rows.to_csv(public / "train.csv", index=False)
    test_rows[["id_code"]].to_csv(public / "test.csv", index=False)
    test_rows.assign(diagnosis=0).to_csv(public / "sample_submission.csv", index=False)
    test_rows.to_csv(task_dir / "private" / "answers.csv", index=False)
    (public / "description.md").write_text(f"""# APTOS 2019 Blindness Detection

## Overview

Diabetic retinopathy damages the retina and can end in blindness. Screening clinics photograph the back of
the eye (fundus photography); a clinician rates each photo on a scale of 0 to 4:

0 - No DR, 1 - Mild, 2 - Moderate, 3 - Severe, 4 - Proliferative DR

Build a model that gives the same rating from the photo.

## Evaluation

Submissions are scored on the quadratic weighted kappa between the predicted and the true ratings. It is 1
for full agreement, about 0 for agreement no better than chance, and penalises a wrong rating by the square
of its distance from the true one.

## Submission File

For each `id_code` in the test set, predict an integer `diagnosis` (0-4):

```
id_code,diagnosis
{test_rows['id_code'].iloc[0]},0
{test_rows['id_code'].iloc[1]},0
...
```

## Data

- `train_images/` - {len(train_rows)} colour PNG fundus photos of varying sizes, named `<id_code>.png`
- `train.csv` - `id_code`, `diagnosis` for each training photo
- `test_images/` - {len(test_rows)} photos to rate
- `test.csv` - the `id_code` of each test photo
- `sample_submission.csv` - a sample submission file in the correct format
""")
    return Grading("qwk", True, "label", "id_code", ["diagnosis"], ["diagnosis"], shape="image")


# ---------------------------------------------------------------- plant-pathology-2020-fgvc7

CONDITIONS = ["healthy", "multiple_diseases", "rust", "scab"]


def _leaf(rng: np.random.Generator, condition: str) -> Image.Image:
    """A 48x32 photo of an apple leaf (a green ellipse with a midrib on soil or grass): rust shows as small
    orange spots, scab as larger olive-brown blotches, both on a leaf with multiple diseases."""
    img = _canvas(rng, (48, 32), _jitter(rng, [(110, 90, 70), (80, 120, 60)][int(rng.integers(2))], 10), 10)
    draw = ImageDraw.Draw(img)
    draw.ellipse((6, 5, 42, 27), fill=_jitter(rng, (70, 150, 55), 12))
    draw.line((7, 16, 41, 16), fill=(150, 190, 110), width=1)
    box = (0.2, 0.25, 0.8, 0.75)
    if condition in ("rust", "multiple_diseases"):
        _spots(rng, img, int(rng.integers(5, 12)), (235, 140, 30), (0.8, 1.6), box)
    if condition in ("scab", "multiple_diseases"):
        _spots(rng, img, int(rng.integers(2, 5)), (95, 85, 45), (2.0, 3.5), box)
    return img


@mimic("plant-pathology-2020-fgvc7",
       "images/ of Train_<n>.jpg and Test_<n>.jpg; train.csv image_id,healthy,multiple_diseases,rust,scab (one-hot); "
       "test.csv image_id; sample_submission.csv image_id + the four columns; mean column-wise AUC")
def plant_pathology(task_dir: Path, rng: np.random.Generator) -> Grading:
    """The real task: the probability of each of four conditions (exactly one per leaf) for every apple-leaf
    photo, scored on the mean column-wise ROC AUC. prepare.py splits train.csv, renames the photos Train_<n>
    and Test_<n> in one images/ folder and writes test.csv of the test ids."""
    public, n = task_dir / "public", 440
    condition = rng.choice(CONDITIONS, n, p=[0.28, 0.06, 0.34, 0.32])  # the real data's mix
    train, test = _split(n, rng, 0.2, strata=condition)  # by stratum, so the rare class is in the test set
    train, test = rng.permutation(train), rng.permutation(test)
    onehot = pd.DataFrame({c: (condition == c).astype(int) for c in CONDITIONS})
    pictures = {}
    for prefix, rows in (("Train", train), ("Test", test)):
        for k, row in enumerate(rows):
            pictures[f"{prefix}_{k}.jpg"] = _leaf(rng, str(condition[row]))
    _save_all(public / "images", pictures, "JPEG")
    train_rows = onehot.iloc[train].reset_index(drop=True)
    train_rows.insert(0, "image_id", [f"Train_{k}" for k in range(len(train))])
    test_rows = onehot.iloc[test].reset_index(drop=True)
    test_rows.insert(0, "image_id", [f"Test_{k}" for k in range(len(test))])
    train_rows.to_csv(public / "train.csv", index=False)
    test_rows[["image_id"]].to_csv(public / "test.csv", index=False)
    test_rows.assign(**{c: 0.25 for c in CONDITIONS}).to_csv(public / "sample_submission.csv", index=False)
    test_rows.to_csv(task_dir / "private" / "answers.csv", index=False)
    (public / "description.md").write_text(f"""# Plant Pathology 2020 - FGVC7

## Overview

Apple orchards lose much of their crop to foliar diseases, and scouting for them by eye is slow. From a
photo of one apple leaf, tell whether it is healthy, has apple rust, has apple scab, or has more than one
disease.

## Evaluation

Submissions are scored on the mean column-wise ROC AUC: the AUC of each of the four predicted columns,
averaged.

## Submission File

For each `image_id` in the test set, predict a probability for each of the four conditions:

```
image_id,{','.join(CONDITIONS)}
Test_0,0.25,0.25,0.25,0.25
Test_1,0.25,0.25,0.25,0.25
...
```

## Data

- `images/` - {n} colour JPEG leaf photos (48x32): the training photos `Train_<n>.jpg` and the test photos
  `Test_<n>.jpg`
- `train.csv` - `image_id` and one 0/1 column per condition (exactly one is 1) for each training photo
- `test.csv` - the `image_id` of each test photo
- `sample_submission.csv` - a sample submission file in the correct format
""")
    return Grading("mean_column_auc", True, "multilabel", "image_id", CONDITIONS, CONDITIONS, shape="image")
