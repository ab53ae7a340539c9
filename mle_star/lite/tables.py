"""Mimics of the MLE-bench Lite table competitions (and the tables with side files: crystal geometries,
Reddit requests in JSON, leaf images) in each competition's real public layout, with small generated data
that holds a signal a plain model finds.
One builder per competition, side by side (each about 60-120 lines): a reader checks one mimic
against its competition's prepare.py without leaving the file."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image, ImageDraw

from mle_star.examples.common import _split, _write_zip
from mle_star.lite.common import Grading, mimic


def _shuffled(frame: pd.DataFrame, rows: np.ndarray, rng: np.random.Generator) -> pd.DataFrame:
    """The rows in a random order, as train_test_split leaves them in the real prepare.py files."""
    return frame.iloc[rng.permutation(rows)].reset_index(drop=True)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-x))


# ---------------------------------------------------------------- tabular-playground-series-may-2022

_LETTERS = np.array(list("ABCDEFGHIJKLMNOPQRST"))  # f_27 strings use the first 20 capitals


@mimic("tabular-playground-series-may-2022",
       "train.csv id,f_00..f_30,target (f_27 a 10-letter string); test.csv without target; "
       "sample_submission.csv id,target=0.5; ids run on from train into test; AUC")
def tps_may_2022(task_dir: Path, rng: np.random.Generator) -> Grading:
    """The real task: simulated manufacturing control data (floats f_00-f_06, f_19-f_26, f_28; counts
    f_07-f_18; a 10-letter code f_27; small categories f_29, f_30), predict the binary machine state
    ``target`` as a probability (ROC AUC). prepare.py splits the labelled train.csv and renumbers the
    ids: 0..n_train-1 for train, then on for test."""
    public, n = task_dir / "public", 1000
    cols: dict[str, np.ndarray] = {}
    for j in range(7):
        cols[f"f_{j:02d}"] = rng.normal(0, 1, n)
    for j in range(7, 19):
        cols[f"f_{j:02d}"] = rng.poisson(rng.uniform(1, 5), n)
    for j in range(19, 27):
        cols[f"f_{j:02d}"] = rng.normal(0, rng.uniform(1.5, 3), n)
    # the code's letters: its count of distinct letters matters, as in the real data
    codes = [rng.choice(_LETTERS[: int(rng.integers(6, 21))], 10) for _ in range(n)]
    cols["f_27"] = np.array(["".join(c) for c in codes])
    cols["f_28"] = rng.normal(0, 240, n)
    cols["f_29"] = rng.integers(0, 2, n)
    cols["f_30"] = rng.integers(0, 3, n)
    unique = np.array([len(set(c)) for c in codes])
    # feature interactions drive the state: sums of pairs, a product, the code, a category
    logit = (0.9 * (cols["f_00"] + cols["f_01"]) + 0.35 * (cols["f_21"] - cols["f_02"])
             + 0.6 * cols["f_05"] * np.sign(cols["f_22"]) - 0.5 * (unique - 7) + 0.8 * (cols["f_30"] == 2)
             + 0.25 * (cols["f_07"] - cols["f_09"]) + 0.003 * cols["f_28"])
    target = (rng.random(n) < _sigmoid(1.4 * logit)).astype(int)
    frame = pd.DataFrame(cols)
    for c in frame.columns:
        if frame[c].dtype.kind == "f":
            frame[c] = frame[c].round(6)
    frame["target"] = target
    train, test = _split(n, rng, 0.2)
    train_rows, test_rows = _shuffled(frame, train, rng), _shuffled(frame, test, rng)
    train_rows.insert(0, "id", np.arange(len(train_rows)))
    test_rows.insert(0, "id", np.arange(len(train_rows), n))
    train_rows.to_csv(public / "train.csv", index=False)
    test_rows.drop(columns="target").to_csv(public / "test.csv", index=False)
    test_rows[["id", "target"]].assign(target=0.5).to_csv(public / "sample_submission.csv", index=False)
    test_rows[["id", "target"]].to_csv(task_dir / "private" / "answers.csv", index=False)
    first = len(train_rows)
    (public / "description.md").write_text(f"""# Tabular Playground Series - May 2022

## Overview

A monthly practice competition on a synthetic table. The rows are simulated control readings from a
manufacturing process, and the features interact with each other in ways that matter for the outcome.
Predict which of two states (`0` or `1`) the machine is in.

## Evaluation

Submissions are scored on the area under the ROC curve between the predicted probability and the
observed `target`.

## Submission File

For each `id` in the test set, predict the probability that `target` is 1. The file needs a header:

```
id,target
{first},0.65
{first + 1},0.97
{first + 2},0.02
etc.
```

## Data

The readings are simulated. Columns `f_00`..`f_30` mix normalised continuous values, integer counts,
a 10-letter code (`f_27`) and small categories.

- **train.csv** - {len(train_rows)} rows: `id`, the features and the binary `target`
- **test.csv** - {len(test_rows)} rows: the same columns without `target`
- **sample_submission.csv** - a sample submission file in the correct format
""")
    return Grading("auc", True, "probability", "id", ["target"], ["target"], shape="table")


# ---------------------------------------------------------------- tabular-playground-series-dec-2021

_COVER_SHARE = {1: 0.37, 2: 0.56, 3: 0.05, 4: 0.003, 5: 0.002, 6: 0.004, 7: 0.011}
_COVER_ELEVATION = {1: 3100, 2: 2850, 3: 2450, 4: 2250, 5: 2700, 6: 2500, 7: 3400}  # mean metres per type


@mimic("tabular-playground-series-dec-2021",
       "train.csv Id,Elevation,...,Wilderness_Area1-4,Soil_Type1-40,Cover_Type (1-7); test.csv without "
       "Cover_Type; sample_submission.csv Id,Cover_Type=2; accuracy")
def tps_dec_2021(task_dir: Path, rng: np.random.Generator) -> Grading:
    """The real task: a GAN-made copy of the forest cover type data (terrain measures, four wilderness
    areas and forty soil types one-hot), predict the integer ``Cover_Type`` 1-7 (accuracy). Types 2 and
    1 dominate; 4 and 5 are very rare; two soil columns are all zero. prepare.py holds out 10% of the
    labelled rows, keeping their Ids (scattered, not sequential)."""
    public, n = task_dir / "public", 1200
    types = np.array(list(_COVER_SHARE))
    counts = np.maximum(1, np.round(np.array(list(_COVER_SHARE.values())) * n)).astype(int)
    counts[1] += n - counts.sum()
    cover = rng.permutation(np.repeat(types, counts))
    elevation = np.array([_COVER_ELEVATION[int(c)] for c in cover]) + rng.normal(0, 120, n)
    frame = pd.DataFrame({
        "Id": rng.choice(4_000_000, n, replace=False),
        "Elevation": elevation.round().astype(int),
        "Aspect": rng.integers(0, 360, n),
        "Slope": np.clip(rng.normal(15, 8, n) + 4 * (cover == 3), 0, 60).round().astype(int),
        "Horizontal_Distance_To_Hydrology": np.abs(rng.normal(250, 200, n)).round().astype(int),
        "Vertical_Distance_To_Hydrology": rng.normal(50, 60, n).round().astype(int),
        "Horizontal_Distance_To_Roadways": (np.abs(rng.normal(1800, 1200, n)) + 500 * (cover == 1)).round().astype(int),
        "Hillshade_9am": np.clip(rng.normal(210, 30, n), 0, 255).round().astype(int),
        "Hillshade_Noon": np.clip(rng.normal(220, 25, n), 0, 255).round().astype(int),
        "Hillshade_3pm": np.clip(rng.normal(140, 40, n), 0, 255).round().astype(int),
        "Horizontal_Distance_To_Fire_Points": np.abs(rng.normal(1500, 1000, n)).round().astype(int),
    })
    # the wilderness area leans on the type (area 4 holds the low types 3, 4, 6)
    area = np.where(np.isin(cover, [3, 4, 6]), 3, rng.choice([0, 2], n))
    area = np.where(rng.random(n) < 0.2, rng.integers(0, 4, n), area)
    for a in range(4):
        frame[f"Wilderness_Area{a + 1}"] = (area == a).astype(int)
    soil = (cover * 5 + rng.integers(0, 8, n)) % 40  # each type favours a band of soils
    soil = np.where(rng.random(n) < 0.3, rng.integers(0, 40, n), soil)
    soil = np.where(np.isin(soil, [6, 14]), soil + 1, soil)  # Soil_Type7 and Soil_Type15 stay all zero
    for s in range(40):
        frame[f"Soil_Type{s + 1}"] = (soil == s).astype(int)
    frame["Cover_Type"] = cover
    train, test = _split(n, rng, 0.1)
    train_rows, test_rows = _shuffled(frame, train, rng), _shuffled(frame, test, rng)
    train_rows.to_csv(public / "train.csv", index=False)
    test_rows.drop(columns="Cover_Type").to_csv(public / "test.csv", index=False)
    test_rows[["Id"]].assign(Cover_Type=2).to_csv(public / "sample_submission.csv", index=False)
    test_rows[["Id", "Cover_Type"]].to_csv(task_dir / "private" / "answers.csv", index=False)
    ids = test_rows["Id"].tolist()
    (public / "description.md").write_text(f"""# Tabular Playground Series - Dec 2021

## Overview

A monthly practice competition on synthetic data. The rows were generated to resemble the forest cover
type survey (30 m cells of forest land, described by terrain, distances to water, roads and past fires,
hill shade, wilderness area and soil type). Predict the kind of tree cover of each cell.

## Evaluation

Submissions are scored on multi-class classification accuracy.

## Submission File

For each `Id` in the test set, predict the `Cover_Type` class (an integer from 1 to 7). The file needs
a header:

```
Id,Cover_Type
{ids[0]},2
{ids[1]},1
{ids[2]},3
etc.
```

## Data

The data are synthetic and may not relate to the target exactly as the original survey did.
`Wilderness_Area1`-`4` and `Soil_Type1`-`40` are one-hot indicator columns.

- **train.csv** - {len(train_rows)} rows with the target `Cover_Type`
- **test.csv** - {len(test_rows)} rows to predict `Cover_Type` for
- **sample_submission.csv** - a sample submission file in the correct format
""")
    return Grading("accuracy", True, "label", "Id", ["Cover_Type"], ["Cover_Type"], shape="table")


# ---------------------------------------------------------------- new-york-city-taxi-fare-prediction

_PLACES = {  # (latitude, longitude, spread in degrees, share of pickups)
    "midtown": (40.755, -73.984, 0.012, 0.45), "downtown": (40.718, -74.004, 0.010, 0.2),
    "upper": (40.780, -73.960, 0.012, 0.25), "jfk": (40.645, -73.785, 0.004, 0.05), "lga": (40.774, -73.872, 0.003, 0.05),
}
_COUPONS = r"""{\rtf1\ansi\deff0 {\fonttbl {\f0 Helvetica;}}
\f0\fs24 Cloud credit coupons\par
Competitors who have made a submission may ask the sponsor for a coupon of cloud computing credit.\par
Follow the link on the competition's data page, sign in with the account you compete with, and fill in the form.\par
}
"""


def _taxi_rides(rng: np.random.Generator, n: int) -> pd.DataFrame:
    """Rides 2009-2015 in and around Manhattan. The fare follows the meter: a flag drop, a rate per km of
    road (raised in September 2012), rush-hour and night surcharges, flat fares to JFK; plus noise,
    and the real data's dirt: zero coordinates, rides that go nowhere, a few negative fares."""
    names = list(_PLACES)
    start = rng.choice(len(names), n, p=[_PLACES[k][3] for k in names])
    lat = np.array([_PLACES[names[i]][0] for i in start]) + rng.normal(0, 1, n) * [_PLACES[names[i]][2] for i in start]
    lon = np.array([_PLACES[names[i]][1] for i in start]) + rng.normal(0, 1, n) * [_PLACES[names[i]][2] for i in start]
    km = rng.exponential(3.0, n) + 0.3
    heading = rng.uniform(0, 2 * np.pi, n)
    dlat, dlon = km * np.cos(heading) / 111.0, km * np.sin(heading) / 84.0
    to_jfk = (rng.random(n) < 0.04) & (start != names.index("jfk"))
    d_lat = np.where(to_jfk, 40.645 + rng.normal(0, 0.004, n), lat + dlat)
    d_lon = np.where(to_jfk, -73.785 + rng.normal(0, 0.004, n), lon + dlon)
    seconds = rng.integers(int(pd.Timestamp("2009-01-01").timestamp()), int(pd.Timestamp("2015-06-30").timestamp()), n)
    when = pd.to_datetime(seconds, unit="s")
    straight = np.hypot((d_lat - lat) * 111.0, (d_lon - lon) * 84.0)
    new_rate = when >= pd.Timestamp("2012-09-04")
    hour, weekday = when.hour.to_numpy(), when.day_of_week.to_numpy()
    fare = (2.5 + np.where(new_rate, 1.55, 1.25) * 1.3 * straight + 0.6 * rng.exponential(3, n)
            + 1.0 * ((hour >= 16) & (hour < 20) & (weekday < 5)) + 0.5 * ((hour >= 20) | (hour < 6)))
    fare = np.where(to_jfk | (start == names.index("jfk")) & (straight > 15), np.where(new_rate, 52.0, 45.0), fare)
    fare = np.round(fare + rng.normal(0, 1.2, n), 2)
    nowhere = rng.random(n) < 0.02
    d_lat, d_lon = np.where(nowhere, lat, d_lat), np.where(nowhere, lon, d_lon)
    zero = rng.random(n) < 0.02  # the GPS logged nothing: both ends at (0, 0)
    lat, lon, d_lat, d_lon = (np.where(zero, 0.0, v) for v in (lat, lon, d_lat, d_lon))
    fare = np.where(rng.random(n) < 0.002, -2.5, np.maximum(fare, 2.5))
    passengers = rng.choice([1, 2, 3, 4, 5, 6, 0], n, p=[0.69, 0.15, 0.045, 0.02, 0.065, 0.027, 0.003])
    stamp = when.strftime("%Y-%m-%d %H:%M:%S")
    return pd.DataFrame({
        "key": [f"{t}.{k:07d}" for t, k in zip(stamp, rng.permutation(n) + 1, strict=True)],
        "fare_amount": fare, "pickup_datetime": [f"{t} UTC" for t in stamp],
        "pickup_longitude": lon.round(6), "pickup_latitude": lat.round(6),
        "dropoff_longitude": d_lon.round(6), "dropoff_latitude": d_lat.round(6), "passenger_count": passengers,
    })


@mimic("new-york-city-taxi-fare-prediction",
       "labels.csv (the training rows) key,fare_amount,pickup_datetime,pickup/dropoff lon/lat,passenger_count; "
       "test.csv without fare_amount; sample_submission.csv key,fare_amount=11.35; GCP-Coupons-Instructions.rtf; RMSE")
def nyc_taxi(task_dir: Path, rng: np.random.Generator) -> Grading:
    """The real task: predict the fare (with tolls) of a New York taxi ride from its pickup time, both ends'
    coordinates and the passenger count (RMSE). prepare.py splits Kaggle's 55M-row train.csv and writes the
    training part as ``labels.csv`` (there is no train.csv), the rest without fares as test.csv."""
    public = task_dir / "public"
    frame = _taxi_rides(rng, 2400)
    train, test = _split(len(frame), rng, 0.1)
    train_rows, test_rows = _shuffled(frame, train, rng), _shuffled(frame, test, rng)
    train_rows.to_csv(public / "labels.csv", index=False)
    test_rows.drop(columns="fare_amount").to_csv(public / "test.csv", index=False)
    test_rows[["key"]].assign(fare_amount=11.35).to_csv(public / "sample_submission.csv", index=False)
    test_rows[["key", "fare_amount"]].to_csv(task_dir / "private" / "answers.csv", index=False)
    (public / "GCP-Coupons-Instructions.rtf").write_text(_COUPONS)
    keys = test_rows["key"].tolist()
    (public / "description.md").write_text(f"""# New York City Taxi Fare Prediction

## Description

Predict what a taxi ride in New York City costs, tolls included, from where and when it starts, where it
ends and how many people ride. A fare from the straight-line distance alone is off by several dollars;
see how much closer a model gets.

## Evaluation

Submissions are scored on the root mean squared error (RMSE) between the predicted and the actual
`fare_amount`:

    RMSE = sqrt( mean( (prediction - actual)^2 ) )

For example, predictions 12.5 and 11.0 for rides that cost 12.5 and 14.0 give sqrt(9 / 2), about 2.12.

## Submission File

For each `key` in the test set, predict `fare_amount`. The file needs a header:

```
key,fare_amount
{keys[0]},11.00
{keys[1]},12.05
{keys[2]},11.23
etc
```

## Data

### File descriptions

- **labels.csv** - the training rows ({len(train_rows)}): the features and the target `fare_amount`
- **test.csv** - {len(test_rows)} rows of features; predict `fare_amount` for each
- **sample_submission.csv** - a sample submission: every fare is $11.35, about the training mean
- **GCP-Coupons-Instructions.rtf** - how to ask for cloud computing credit (not needed for modelling)

### Data fields

- **key** - a unique string per row: the pickup time plus a unique number. Use it as the id; your
  submission needs it.
- **pickup_datetime** - when the ride started (`YYYY-MM-DD HH:MM:SS UTC`)
- **pickup_longitude**, **pickup_latitude** - where the ride started
- **dropoff_longitude**, **dropoff_latitude** - where it ended
- **passenger_count** - the number of passengers
- **fare_amount** - the cost in dollars (training rows only); the target
""")
    return Grading("rmse", False, "targets", "key", ["fare_amount"], ["fare_amount"], shape="table")


# ---------------------------------------------------------------- nomad2018-predict-transparent-conductors

_ANGLES = {12: (90, 103.7, 90), 33: (90, 90, 90), 167: (90, 90, 120), 194: (90, 90, 120), 206: (90, 90, 90),
           227: (90, 90, 90)}  # lattice angles (alpha, beta, gamma) of each space group's cell
_SG_ENERGY = {12: 0.03, 33: 0.08, 167: 0.0, 194: 0.05, 206: 0.02, 227: 0.12}  # eV/atom added by the structure
_XYZ_HEAD = "#=======================================================\n#Created using the Atomic Simulation " \
            "Environment (ASE)\n#=======================================================\n"


def _lattice(lengths: np.ndarray, angles: tuple[float, float, float]) -> np.ndarray:
    """Three cell vectors (rows, angstrom) with the given lengths and angles, the first along x."""
    a, b, c = lengths
    al, be, ga = np.radians(angles)
    cx = c * np.cos(be)
    cy = c * (np.cos(al) - np.cos(be) * np.cos(ga)) / np.sin(ga)
    return np.array([[a, 0, 0], [b * np.cos(ga), b * np.sin(ga), 0], [cx, cy, np.sqrt(max(c * c - cx * cx - cy * cy, 1e-6))]])


def _geometry(rng: np.random.Generator, cell: np.ndarray, counts: dict[str, int]) -> str:
    lines = [_XYZ_HEAD] + [f"lattice_vector {v[0]:.8f} {v[1]:.8f} {v[2]:.8f} \n" for v in cell]
    for element, k in counts.items():
        for xyz in rng.random((k, 3)) @ cell:
            lines.append(f"atom {xyz[0]:.8f} {xyz[1]:.8f} {xyz[2]:.8f} {element}\n")
    return "".join(lines)


@mimic("nomad2018-predict-transparent-conductors",
       "train.csv id,spacegroup,number_of_total_atoms,percent_atom_al/ga/in,lattice vectors and angles,"
       "formation_energy_ev_natom,bandgap_energy_ev; test.csv without both; train/<id>/geometry.xyz and "
       "test/<id>/geometry.xyz (ids 1.. in each); sample_submission.csv; mean column RMSLE")
def nomad2018(task_dir: Path, rng: np.random.Generator) -> Grading:
    """The real task: for (Al, Ga, In)2O3 crystals, predict two targets, the formation energy per atom and
    the bandgap energy (eV), from the space group, composition and cell; the mean of the two columns'
    RMSLE. Each material's atom positions are a separate ``geometry.xyz``. prepare.py splits the labelled
    train.csv and renumbers train and test ids from 1 each (so the same id is in both folders)."""
    public, n = task_dir / "public", 400
    groups = rng.choice(list(_ANGLES), n, p=[0.11, 0.17, 0.16, 0.19, 0.2, 0.17])
    atoms = rng.choice([10, 20, 30, 40, 60, 80], n, p=[0.05, 0.1, 0.1, 0.25, 0.1, 0.4])
    rows, geometries = [], []
    for sg, total in zip(groups, atoms, strict=True):
        metals = total * 2 // 5  # M2O3: two metal atoms to three oxygens
        share = rng.dirichlet([0.7, 0.7, 0.7])
        n_al, n_ga = np.floor(share[:2] * metals + rng.random(2)).astype(int)
        n_ga = min(n_ga, metals - n_al)
        x_al, x_ga = n_al / metals, n_ga / metals
        x_in = 1 - x_al - x_ga
        per_atom = 9.5 + 2.0 * x_ga + 4.5 * x_in + rng.normal(0, 0.15)  # cubic angstrom: In is the big ion
        shape = rng.uniform(0.7, 1.4, 3)
        alpha, beta, gamma = (a + float(rng.normal(0, 0.02)) for a in _ANGLES[int(sg)])
        angles = (alpha, beta, gamma)
        unit = abs(np.linalg.det(_lattice(shape, angles)))
        lengths = shape * (total * per_atom / unit) ** (1 / 3)
        cell = _lattice(lengths, angles)
        gap = 0.9 + 4.3 * x_al + 2.0 * x_ga - 0.9 * x_al * x_in + 0.25 * (sg == 206) + rng.normal(0, 0.12)
        energy = (0.04 + 0.55 * x_al * (1 - x_al) + 0.3 * x_in * (1 - x_in) + _SG_ENERGY[int(sg)]
                  + 0.02 * (per_atom - 11) ** 2 + rng.normal(0, 0.025))
        rows.append({
            "spacegroup": int(sg), "number_of_total_atoms": float(total),
            "percent_atom_al": round(x_al, 4), "percent_atom_ga": round(x_ga, 4), "percent_atom_in": round(x_in, 4),
            **{f"lattice_vector_{k + 1}_ang": round(float(v), 4) for k, v in enumerate(lengths)},
            **dict(zip(["lattice_angle_alpha_degree", "lattice_angle_beta_degree", "lattice_angle_gamma_degree"],
                       [round(a, 4) for a in angles], strict=True)),
            "formation_energy_ev_natom": round(max(float(energy), 0.0), 4),
            "bandgap_energy_ev": round(max(float(gap), 0.0001), 4),
        })
        geometries.append(_geometry(rng, cell, {"Al": int(n_al), "Ga": int(n_ga), "In": int(metals - n_al - n_ga),
                                                "O": int(total - metals)}))
    frame = pd.DataFrame(rows)
    frame["geometry"] = geometries
    targets = ["formation_energy_ev_natom", "bandgap_energy_ev"]
    train, test = _split(n, rng, 0.15)
    for part, chosen in (("train", train), ("test", test)):
        table = _shuffled(frame, chosen, rng)
        table.insert(0, "id", np.arange(1, len(table) + 1))
        for i, text in zip(table["id"], table["geometry"], strict=True):
            (public / part / str(i)).mkdir(parents=True)
            (public / part / str(i) / "geometry.xyz").write_text(text)
        table = table.drop(columns="geometry")
        if part == "train":
            table.to_csv(public / "train.csv", index=False)
            n_train = len(table)
        else:
            table.drop(columns=targets).to_csv(public / "test.csv", index=False)
            table[["id", *targets]].to_csv(task_dir / "private" / "answers.csv", index=False)
            pd.DataFrame({"id": table["id"], targets[0]: 0.1779, targets[1]: 1.8892}).to_csv(
                public / "sample_submission.csv", index=False)
            n_test = len(table)
    (public / "description.md").write_text(f"""# Nomad2018 Predicting Transparent Conductors

## Description

Transparent conductors conduct electricity yet let light through; sesquioxides of aluminium, gallium and
indium, (Al_x Ga_y In_z)2 O3 with x + y + z = 1, are promising ones. Computing a candidate's properties
from first principles is slow, so this challenge asks for a model that predicts two of them from the
crystal's make-up: the formation energy (how stable the material is) and the bandgap energy (whether it
is transparent).

## Evaluation

Submissions are scored on the root mean squared logarithmic error of each target column,

    RMSLE = sqrt( mean( (log(p + 1) - log(a + 1))^2 ) )

with p the prediction and a the actual value, averaged over the two columns.

## Submission File

For each `id` in the test set, predict `formation_energy_ev_natom` and `bandgap_energy_ev`. The file needs
a header:

```
id,formation_energy_ev_natom,bandgap_energy_ev
1,0.1779,1.8892
2,0.1779,1.8892
3,0.1779,1.8892
...
```

## Data

Each row is one material: its space group (the symmetry of the crystal), the number of atoms in the unit
cell, the fractions of the metal atoms that are Al, Ga and In (`percent_atom_al`, `_ga`, `_in`), the three
cell vector lengths in angstrom and the three cell angles in degrees.

- **train.csv** - {n_train} materials with both targets (formation energy in eV per atom, bandgap in eV)
- **test.csv** - {n_test} materials to predict both targets for
- **train/<id>/geometry.xyz**, **test/<id>/geometry.xyz** - the cell vectors (`lattice_vector x y z`) and
  the Cartesian position and element of each atom in the cell (`atom x y z Element`); `<id>` is the row's
  id in the matching csv file (train and test ids are numbered separately, both from 1)
- **sample_submission.csv** - a sample submission file in the correct format
""")
    return Grading("mean_column_rmsle", False, "targets", "id", targets, targets, shape="table")


# ---------------------------------------------------------------- random-acts-of-pizza

_STORIES = {  # the request's themes: (phrases, effect on the log-odds of getting a pizza)
    "job": (["I lost my job last week and money is gone.", "I have been unemployed since March.",
             "Got laid off on Friday and rent is due."], 0.9),
    "family": (["My wife and I have two kids to feed tonight.", "My daughter has been asking for pizza all week.",
                "I am a single dad and the fridge is empty."], 0.6),
    "payday": (["Payday is not until next Friday.", "My paycheck got delayed again.",
                "I am broke until the first of the month."], 0.5),
    "proof": (["I can post a picture of my empty fridge: imgur.com/a/{tag}", "Here is proof of my situation: "
               "imgur.com/{tag}"], 1.0),
    "forward": (["I promise to pay it forward when I get back on my feet.", "I will return the favor, I promise.",
                 "Will happily pay it forward next month."], 0.5),
    "craving": (["I am just really craving pizza right now.", "Bored at home and could go for a pizza.",
                 "Kind of hungover and pizza sounds great."], -1.1),
    "student": (["Finals week is killing me and I have no food.", "Broke college student living on ramen."], 0.2),
}
_TITLES = ["[Request] {where}, {hook}", "[REQUEST] {hook} - {where}", "Request: {hook} ({where})"]
_HOOKS = {"job": "just lost my job", "family": "hungry family", "payday": "broke until payday",
          "proof": "could really use a hand", "forward": "will pay it forward", "craving": "craving pizza",
          "student": "starving student"}
_WHERE = ["Chicago, IL", "Austin TX", "Seattle", "Ohio", "UK", "Toronto", "Denver, CO", "NYC", "Florida"]
_SUBS = ["AskReddit", "pics", "funny", "gaming", "Random_Acts_Of_Pizza", "IAmA", "todayilearned", "WTF", "videos",
         "Music", "atheism", "politics", "trees", "Frugal", "food", "AdviceAnimals", "worldnews", "movies"]
_RETRIEVED = 1380499200  # the crawl: 2013-09-30 UTC
_WORDS = ["pixel", "lunar", "taco", "moose", "quiet", "rusty", "zebra", "ember", "nacho", "otter", "grim", "sunny"]


def _base36(value: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while value:
        value, r = divmod(value, 36)
        out = digits[r] + out
    return out or "0"


def _pizza_request(rng: np.random.Generator, request_id: str) -> dict:
    """One request with every field of the real train.json (alphabetical, as the real files are)."""
    themes = [t for t in _STORIES if rng.random() < (0.45 if t == "craving" else 0.3)] or ["craving"]
    account_age = float(0 if rng.random() < 0.2 else rng.lognormal(5, 1.3))
    raop_posts = int(rng.random() < 0.08)
    posts, comments = int(rng.poisson(1 + account_age / 40)), int(rng.poisson(2 + account_age / 8))
    karma_plus = int(rng.poisson(5 + account_age * 3))
    karma_minus = int(karma_plus * rng.uniform(0.3, 0.9))
    when = int(rng.integers(1291766400, 1380412800))  # 2010-12-08 .. 2013-09-29
    logit = (-3.3 + sum(_STORIES[t][1] for t in themes) + 0.35 * np.log1p(account_age) - 0.25 * np.log1p(
        account_age) * (account_age > 700) + 1.0 * raop_posts - 0.5 * (when - 1291766400) / 88646400)
    got = bool(rng.random() < _sigmoid(logit))
    user = f"{rng.choice(_WORDS)}_{rng.choice(_WORDS)}{int(rng.integers(0, 999))}"
    text = " ".join(rng.choice(_STORIES[t][0]).format(tag=_base36(int(rng.integers(36**4, 36**6))))
                    for t in themes)
    text += " " + str(rng.choice(["Thanks for reading.", "Anything helps.", "Thank you all!", ""]))
    edit = ""
    if got and rng.random() < 0.3:  # the thank-you edits that request_text_edit_aware strips
        edit = f"\n\nEDIT: Pizza received, thank you so much /u/{rng.choice(_WORDS)}{int(rng.integers(0, 99))}!"
    days = (_RETRIEVED - when) / 86400
    subs = sorted({str(s) for s in rng.choice(_SUBS, int(rng.poisson(min(account_age / 60, 12))))})
    first_raop = float(rng.uniform(1, 300)) if raop_posts else 0.0
    up = int(rng.poisson(2 + 3 * got))
    return {
        "giver_username_if_known": f"{rng.choice(_WORDS)}{int(rng.integers(0, 99))}" if got and rng.random() < 0.35
        else "N/A",
        "number_of_downvotes_of_request_at_retrieval": int(rng.poisson(1.5)),
        "number_of_upvotes_of_request_at_retrieval": up,
        # the real field is a bool, or the time of the edit when the edit was logged
        "post_was_edited": float(when + 3600) if edit and rng.random() < 0.3 else bool(edit),
        "request_id": request_id,
        "request_number_of_comments_at_retrieval": int(rng.poisson(1 + 4 * got)),
        "request_text": text.strip() + edit,
        "request_text_edit_aware": text.strip(),
        "request_title": str(rng.choice(_TITLES)).format(where=rng.choice(_WHERE), hook=_HOOKS[themes[0]]),
        "requester_account_age_in_days_at_request": account_age,
        "requester_account_age_in_days_at_retrieval": account_age + days,
        "requester_days_since_first_post_on_raop_at_request": first_raop,
        "requester_days_since_first_post_on_raop_at_retrieval": first_raop + days,
        "requester_number_of_comments_at_request": comments,
        "requester_number_of_comments_at_retrieval": comments + int(rng.poisson(days / 3)),
        "requester_number_of_comments_in_raop_at_request": int(raop_posts * rng.poisson(2)),
        "requester_number_of_comments_in_raop_at_retrieval": int(raop_posts * rng.poisson(2)) + int(rng.poisson(1 + got)),
        "requester_number_of_posts_at_request": posts,
        "requester_number_of_posts_at_retrieval": posts + int(rng.poisson(days / 30)),
        "requester_number_of_posts_on_raop_at_request": raop_posts,
        "requester_number_of_posts_on_raop_at_retrieval": raop_posts + 1 + int(got and rng.random() < 0.2),
        "requester_number_of_subreddits_at_request": len(subs),
        "requester_received_pizza": got,
        "requester_subreddits_at_request": subs,
        "requester_upvotes_minus_downvotes_at_request": karma_plus - karma_minus,
        "requester_upvotes_minus_downvotes_at_retrieval": karma_plus - karma_minus + int(rng.poisson(days)),
        "requester_upvotes_plus_downvotes_at_request": karma_plus + karma_minus,
        "requester_upvotes_plus_downvotes_at_retrieval": karma_plus + karma_minus + int(rng.poisson(2 * days)),
        "requester_user_flair": (("PIF" if rng.random() < 0.06 else "shroom") if got else None),
        "requester_username": user,
        "unix_timestamp_of_request": float(when - 3600 * int(rng.integers(0, 8))),
        "unix_timestamp_of_request_utc": float(when),
    }


_PIZZA_TEST_FIELDS = [  # the fields known when the request was posted: all that test.json keeps
    "giver_username_if_known", "request_id", "request_text_edit_aware", "request_title",
    "requester_account_age_in_days_at_request", "requester_days_since_first_post_on_raop_at_request",
    "requester_number_of_comments_at_request", "requester_number_of_comments_in_raop_at_request",
    "requester_number_of_posts_at_request", "requester_number_of_posts_on_raop_at_request",
    "requester_number_of_subreddits_at_request", "requester_subreddits_at_request",
    "requester_upvotes_minus_downvotes_at_request", "requester_upvotes_plus_downvotes_at_request",
    "requester_username", "unix_timestamp_of_request", "unix_timestamp_of_request_utc"]


@mimic("random-acts-of-pizza",
       "train.json (32 fields, label requester_received_pizza) and test.json (17 request-time fields), each also "
       "zipped as train.zip/test.zip; sampleSubmission.csv request_id,requester_received_pizza=0; AUC")
def random_acts_of_pizza(task_dir: Path, rng: np.random.Generator) -> Grading:
    """The real task: Reddit posts asking r/Random_Acts_Of_Pizza for a free pizza; predict the probability
    that a request got one (ROC AUC). train.json holds every field, retrieval-time ones (votes, comments,
    the user flair that marks who got a pizza, text with thank-you edits) included; test.json only what was
    known at posting. prepare.py writes both as JSON arrays (indent 4) and zips each (train.zip holds
    train.json); the sample is ``sampleSubmission.csv``."""
    public, n = task_dir / "public", 640
    numbers = rng.choice(36**6 - 36**4, n, replace=False) + 36**4  # unique 4-6 digit base-36 post ids
    records = [_pizza_request(rng, f"t3_{_base36(int(v))}") for v in numbers]
    train, test = _split(n, rng, 0.2876)  # the real test share: 1631 of 5671
    train_records = [records[i] for i in rng.permutation(train)]
    test_records = [records[i] for i in rng.permutation(test)]
    for name, rows in (("train", train_records), ("test", [{k: r[k] for k in _PIZZA_TEST_FIELDS}
                                                             for r in test_records])):
        data = json.dumps(rows, indent=4)
        (public / f"{name}.json").write_text(data)
        _write_zip(public / f"{name}.zip", {f"{name}.json": data.encode()})
    answers = pd.DataFrame({"request_id": [r["request_id"] for r in test_records],
                            "requester_received_pizza": [int(r["requester_received_pizza"]) for r in test_records]})
    answers.to_csv(task_dir / "private" / "answers.csv", index=False)
    answers.assign(requester_received_pizza=0).to_csv(public / "sampleSubmission.csv", index=False)
    ids = answers["request_id"].tolist()
    (public / "description.md").write_text(f"""# Random Acts of Pizza

## Description

On the Reddit community Random Acts of Pizza, people ask strangers to buy them a pizza, and some
strangers do. This dataset holds such requests with their outcome and information about the requester.
Build a model that tells, from a request as it was posted, whether it will get a pizza.

## Evaluation

Submissions are scored on the area under the ROC curve between the predicted probability that a request
gets a pizza and the observed outcomes.

## Submission File

For each request in the test set, predict a probability that it resulted in a pizza. The file needs a
header:

```
request_id,requester_received_pizza
{ids[0]},0
{ids[1]},0
{ids[2]},0
...
```

## Data

Each JSON entry is one request (the requester's first on the community). The test entries lack the
fields that were not known when the request was posted.

- **train.json** / **train.zip** - {len(train_records)} requests with all fields, the outcome
  `requester_received_pizza` (true/false) included; the zip holds the same train.json
- **test.json** / **test.zip** - {len(test_records)} requests with the request-time fields only
- **sampleSubmission.csv** - a sample submission file in the correct format

## Data fields

- `request_id` - the Reddit post id, e.g. "t3_w5491"; `request_title`; `request_text` (train only) and
  `request_text_edit_aware` (the text with edits that reveal the outcome removed)
- `giver_username_if_known` - who gave the pizza, if known ("N/A" otherwise)
- `requester_username`, `requester_subreddits_at_request` (a list) and
  `requester_number_of_subreddits_at_request`
- `requester_account_age_in_days_*`, `requester_days_since_first_post_on_raop_*`,
  `requester_number_of_comments_*`, `requester_number_of_comments_in_raop_*`,
  `requester_number_of_posts_*`, `requester_number_of_posts_on_raop_*`,
  `requester_upvotes_minus_downvotes_*`, `requester_upvotes_plus_downvotes_*` - the requester's activity,
  each `_at_request` (in test) and `_at_retrieval` (train only)
- train only: `number_of_upvotes_of_request_at_retrieval`, `number_of_downvotes_of_request_at_retrieval`,
  `request_number_of_comments_at_retrieval`, `post_was_edited` (false, true, or the edit's unix time),
  `requester_user_flair` (null: no pizza yet; "shroom": received one; "PIF": received and gave one)
- `unix_timestamp_of_request` (the requester's local time, mostly) and `unix_timestamp_of_request_utc`
- `requester_received_pizza` - the outcome (train only)
""")
    return Grading("auc", True, "probability", "request_id", ["requester_received_pizza"],
                   ["requester_received_pizza"], shape="text", sample="sampleSubmission.csv")


# ---------------------------------------------------------------- leaf-classification

_SPECIES = ("Acer_Capillipes Acer_Circinatum Acer_Mono Acer_Opalus Acer_Palmatum Acer_Pictum Acer_Platanoids "
            "Acer_Rubrum Acer_Rufinerve Acer_Saccharinum Alnus_Cordata Alnus_Maximowiczii Alnus_Rubra "
            "Alnus_Sieboldiana Alnus_Viridis Arundinaria_Simonii Betula_Austrosinensis Betula_Pendula "
            "Callicarpa_Bodinieri Castanea_Sativa Celtis_Koraiensis Cercis_Siliquastrum Cornus_Chinensis "
            "Cornus_Controversa Cornus_Macrophylla Cotinus_Coggygria Crataegus_Monogyna Cytisus_Battandieri "
            "Eucalyptus_Glaucescens Eucalyptus_Neglecta Eucalyptus_Urnigera Fagus_Sylvatica Ginkgo_Biloba "
            "Ilex_Aquifolium Ilex_Cornuta Liquidambar_Styraciflua Liriodendron_Tulipifera Lithocarpus_Cleistocarpus "
            "Lithocarpus_Edulis Magnolia_Heptapeta Magnolia_Salicifolia Morus_Nigra Olea_Europaea Phildelphus "
            "Populus_Adenopoda Populus_Grandidentata Populus_Nigra Prunus_Avium Prunus_X_Shmittii "
            "Pterocarya_Stenoptera Quercus_Afares Quercus_Agrifolia Quercus_Alnifolia Quercus_Brantii "
            "Quercus_Canariensis Quercus_Castaneifolia Quercus_Cerris Quercus_Chrysolepis Quercus_Coccifera "
            "Quercus_Coccinea Quercus_Crassifolia Quercus_Crassipes Quercus_Dolicholepis Quercus_Ellipsoidalis "
            "Quercus_Greggii Quercus_Hartwissiana Quercus_Ilex Quercus_Imbricaria Quercus_Infectoria_sub "
            "Quercus_Kewensis Quercus_Nigra Quercus_Palustris Quercus_Phellos Quercus_Phillyraeoides Quercus_Pontica "
            "Quercus_Pubescens Quercus_Pyrenaica Quercus_Rhysophylla Quercus_Rubra Quercus_Semecarpifolia "
            "Quercus_Shumardii Quercus_Suber Quercus_Texana Quercus_Trojana Quercus_Variabilis Quercus_Vulcanica "
            "Quercus_x_Hispanica Quercus_x_Turneri Rhododendron_x_Russellianum Salix_Fragilis Salix_Intergra "
            "Sorbus_Aria Tilia_Oliveri Tilia_Platyphyllos Tilia_Tomentosa Ulmus_Bergmanniana Viburnum_Tinus "
            "Viburnum_x_Rhytidophylloides Zelkova_Serrata").split()  # the real 99 names, in the sample's order


def _leaf_outline(rng: np.random.Generator, kind: dict, angles: np.ndarray) -> np.ndarray:
    """A specimen's radius at ``angles``: the species' lobes, length and teeth, each a little jittered."""
    r = np.ones_like(angles)
    for k, (amp, phase) in enumerate(kind["lobes"], start=2):
        r += amp * rng.uniform(0.8, 1.2) * np.cos(k * angles + phase)
    r += kind["teeth"] * rng.uniform(0.7, 1.3) * np.abs(np.sin(kind["tooth_count"] * angles / 2))
    stretch = kind["length"] * rng.uniform(0.93, 1.07)
    return np.maximum(r, 0.15) / np.sqrt(np.cos(angles) ** 2 + (np.sin(angles) / stretch) ** 2)


def _leaf_image(rng: np.random.Generator, kind: dict) -> tuple[Image.Image, np.ndarray]:
    """A binary leaf (white on black, as the real scans) and its 64 centroid distances."""
    angles = np.linspace(0, 2 * np.pi, 360, endpoint=False)
    r = _leaf_outline(rng, kind, angles)
    w, h = int(rng.integers(90, 150)), int(rng.integers(110, 170))
    scale = 0.45 * min(w, h) / r.max()
    turn = rng.normal(0, 0.08)  # upright (the long axis is vertical), give or take a few degrees
    points = [(w / 2 + scale * q * np.cos(a + turn), h / 2 - scale * q * np.sin(a + turn)) for a, q in zip(angles, r, strict=True)]
    img = Image.new("L", (w, h), 0)
    ImageDraw.Draw(img).polygon(points, fill=255)
    return img, r[::360 // 64][:64] * scale


@mimic("leaf-classification",
       "train.csv id,species,margin1..64,shape1..64,texture1..64; test.csv without species; images/<id>.jpg "
       "(binary leaves, ids 1..n over train and test); sample_submission.csv id + one column per species; multi_logloss")
def leaf_classification(task_dir: Path, rng: np.random.Generator) -> Grading:
    """The real task: name the species (99, 16 specimens each) of a leaf from its binary image and three
    pre-extracted 64-value descriptors (margin, shape, texture); one probability per species, multi-class
    log loss. prepare.py holds out 10% of the labelled train.csv; all images stay in one images/ folder.
    The mimic keeps 30 of the real species names, 12 specimens each."""
    public, per_species = task_dir / "public", 12
    species = sorted(rng.choice(_SPECIES, 30, replace=False).tolist(), key=_SPECIES.index)
    kinds: dict[str, dict] = {s: {"lobes": [(float(rng.uniform(0, 0.35)) * (k < 4 or rng.random() < 0.4), float(rng.uniform(0, 6.3)))
                           for k in range(2, 7)],
                 "teeth": float(rng.uniform(0, 0.12)), "tooth_count": int(rng.integers(8, 40)),
                 "length": float(rng.uniform(1.0, 3.5)),
                 "margin": rng.dirichlet(np.full(64, 0.6)), "texture": rng.dirichlet(np.full(64, 0.4))}
             for s in species}
    labels = np.repeat(species, per_species)
    n = len(labels)
    ids = rng.permutation(n) + 1
    (public / "images").mkdir()
    rows = []
    for i, name in zip(ids, labels, strict=True):
        kind = kinds[name]
        img, radii = _leaf_image(rng, kind)
        buffer = io.BytesIO()
        img.save(buffer, format="JPEG", quality=85)
        (public / "images" / f"{i}.jpg").write_bytes(buffer.getvalue())
        # the descriptors: histograms on fixed grids (as the real values are) around the species' own
        margin = np.round(rng.dirichlet(kind["margin"] * 150 + 0.05) * 512) / 512
        texture = np.round(rng.dirichlet(kind["texture"] * 120 + 0.05) * 1024) / 1024
        shape = radii / radii.sum() * 0.05 * rng.normal(1, 0.03, 64)
        rows.append({"id": int(i), "species": name, **{f"margin{k + 1}": round(float(v), 6) for k, v in enumerate(margin)},
                     **{f"shape{k + 1}": round(float(v), 6) for k, v in enumerate(shape)},
                     **{f"texture{k + 1}": round(float(v), 6) for k, v in enumerate(texture)}})
    frame = pd.DataFrame(rows)
    train, test = _split(n, rng, 0.15, strata=labels)
    train_rows, test_rows = _shuffled(frame, train, rng), _shuffled(frame, test, rng)
    train_rows.to_csv(public / "train.csv", index=False)
    test_rows.drop(columns="species").to_csv(public / "test.csv", index=False)
    sample = test_rows[["id"]].assign(**{s: 1 / len(species) for s in species})
    sample.to_csv(public / "sample_submission.csv", index=False)
    test_rows[["id", "species"]].rename(columns={"species": "label"}).to_csv(task_dir / "private" / "answers.csv",
                                                                              index=False)
    first = test_rows["id"].tolist()
    (public / "description.md").write_text(f"""# Leaf Classification

## Description

Telling plant species apart is slow work for people and a good test for models. This playground asks you
to identify the species of a leaf from a binary picture of it and from three sets of features already
extracted from that picture: its outline's shape, its margin and the texture of its interior. There are
{len(species)} species here, {per_species} specimens of each.

## Evaluation

Submissions are scored on the multi-class logarithmic loss. Each leaf has one true species, and for
each you submit a probability for every species:

    logloss = -(1/N) * sum_i sum_j y_ij * log(p_ij)

with N the number of test leaves, y_ij 1 when leaf i is of species j (else 0) and p_ij your probability.
Each row of probabilities is divided by its sum before scoring, and every probability is clipped to
[1e-15, 1 - 1e-15]; they need to lie in [0, 1].

## Submission File

Give the leaf's `id` and one probability column per species, named as below (the order of the rows does
not matter). With a header:

```
id,{",".join(species[:3])},...
{first[0]},0.1,0.5,0,...
{first[1]},0,0.3,0,...
etc.
```

## Data

- **train.csv** - {len(train_rows)} leaves: `id`, `species`, then `margin1`..`margin64`, `shape1`..`shape64`,
  `texture1`..`texture64` (the three 64-value descriptors)
- **test.csv** - {len(test_rows)} leaves with the same columns except `species`
- **sample_submission.csv** - a sample submission file in the correct format
- **images/** - a binary image of every leaf (train and test), named `<id>.jpg`
""")
    return Grading("multi_logloss", False, "class_probabilities", "id", species, ["label"], shape="table")
