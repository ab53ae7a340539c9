"""Image tasks from scikit-learn's handwritten digits: zipped, and in class folders."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from mle_star.examples.common import Built, _hex_ids, _need, _prior, _split, _write_zip

# ---------------------------------------------------------------- images: sklearn digits


def _digit_images(rng: np.random.Generator) -> tuple[list[str], list[bytes], np.ndarray]:
    """sklearn's 1,797 real 8x8 handwritten digits (UCI) as 32x32 grayscale PNG files."""
    _need("PIL")
    from PIL import Image
    from sklearn.datasets import load_digits

    digits = load_digits()
    ids = _hex_ids(len(digits.target), rng)
    pngs = []
    for pixels in digits.images:  # 0..16 ink levels -> 0..255
        small = Image.fromarray(np.round(pixels * 255 / 16).astype(np.uint8))
        buffer = io.BytesIO()
        small.resize((32, 32), Image.Resampling.BILINEAR).save(buffer, format="PNG")
        pngs.append(buffer.getvalue())
    return ids, pngs, digits.target


_DIGITS_OVERVIEW = """Classify handwritten digits from small grayscale scans. The images are the 1,797
digit bitmaps of the UCI "Optical Recognition of Handwritten Digits" data (43 writers,
8x8 blocks of ink counts), as shipped with scikit-learn, upscaled to 32x32 pixels."""


def _digits_zip(public: Path, rng: np.random.Generator) -> Built:
    ids, pngs, labels = _digit_images(rng)
    train, test = _split(len(ids), rng)
    _write_zip(public / "train.zip", {f"train/{ids[i]}.png": pngs[i] for i in train}, zipfile.ZIP_STORED)
    _write_zip(public / "test.zip", {f"test/{ids[i]}.png": pngs[i] for i in test}, zipfile.ZIP_STORED)
    frame = pd.DataFrame({"id": ids, "label": labels})
    frame.iloc[train].to_csv(public / "train.csv", index=False)
    majority = int(frame.iloc[train]["label"].mode().min())
    sample = pd.DataFrame({"id": frame.iloc[test]["id"], "label": majority})
    description = f"""# Digit Recognizer (zipped images)

## Overview

{_DIGITS_OVERVIEW}

## Evaluation

The evaluation metric for this competition is the categorization accuracy, or the proportion of test
images that are correctly classified. For example, a categorization accuracy of 0.97 indicates that
you have correctly classified all but 3% of the images.

## Submission File

For each image in `test.zip`, predict the digit it shows. The file should contain a header and have
the following format:

```
id,label
{sample['id'].iloc[0]},0
{sample['id'].iloc[1]},7
...
```

## Data

- `train.zip` - {len(train)} PNG images (32x32, grayscale) in a folder `train/`, named `<id>.png`
- `train.csv` - the digit (`label`, 0-9) of each training image, by `id`
- `test.zip` - {len(test)} PNG images in a folder `test/`, named `<id>.png`
- `sample_submission.csv` - a sample submission file in the correct format
"""
    return Built(description, frame.iloc[test][["id", "label"]], sample, "accuracy", True, "label", ["label"])


def _digits_folder(public: Path, rng: np.random.Generator) -> Built:
    ids, pngs, labels = _digit_images(rng)
    train, test = _split(len(ids), rng)
    for part, rows in (("train", train), ("test", test)):
        (public / part).mkdir()
        for i in rows:
            (public / part / f"{ids[i]}.png").write_bytes(pngs[i])
    frame = pd.DataFrame({"id": ids, "label": labels})
    frame.iloc[train].to_csv(public / "train_labels.csv", index=False)
    classes = list(range(10))
    sample = pd.DataFrame({"id": frame.iloc[test]["id"]})
    for c, p in _prior(frame.iloc[train]["label"], classes).items():
        sample[str(c)] = p
    description = f"""# Handwritten Digits (image folders)

## Overview

{_DIGITS_OVERVIEW}

## Evaluation

Submissions are evaluated using the multi-class logarithmic loss. Each image has been labeled with one
true digit. For each image, you must submit a set of predicted probabilities (one for every digit).
The formula is

$$\\text{{log loss}} = -\\frac{{1}}{{N}} \\sum_{{i=1}}^{{N}} \\sum_{{j=1}}^{{M}} y_{{ij}} \\log(p_{{ij}}),$$

where N is the number of images in the test set, M is the number of digits (10), log is the natural
logarithm, y_ij is 1 if image i shows digit j and 0 otherwise, and p_ij is the predicted probability
that image i shows digit j.

The submitted probabilities for a given image are not required to sum to one because they are
rescaled prior to being scored (each row is divided by the row sum). In order to avoid the extremes of
the log function, predicted probabilities are replaced with max(min(p, 1 - 10^-15), 10^-15).

## Submission File

You must submit a csv file with the image id and a probability for each digit; the column names are
the digits. The order of the rows does not matter. The file must have a header and should look like:

```
id,0,1,2,3,4,5,6,7,8,9
{sample['id'].iloc[0]},0.1,0.1,0.1,0.1,0.1,0.1,0.1,0.1,0.1,0.1
...
```

## Data

- `train/` - {len(train)} PNG images (32x32, grayscale), named `<id>.png`
- `train_labels.csv` - the digit (`label`, 0-9) of each training image, by `id`
- `test/` - {len(test)} PNG images, named `<id>.png`
- `sample_submission.csv` - a sample submission file in the correct format
"""
    return Built(description, frame.iloc[test][["id", "label"]], sample, "multi_logloss", False,
                 "class_probabilities", ["label"])


