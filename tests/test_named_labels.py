"""Labels that live in file names or class folders, as several MLE-bench Lite competitions ship
them: the agent reads them, holds out items under names that do not give the label away, scores
scripts itself, and the offline engineer solves the task end to end."""

from __future__ import annotations

import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from sklearn.metrics import roc_auc_score

from mle_star.tools.task.dataview import prepare_run_data
from mle_star.tools.task.intake import read_task

RATE = 2000
RUN = [sys.executable, "-m", "mle_star.cli", "run"]
SMALL = ["--num-candidates", "1", "--outer-loops", "1", "--inner-loops", "1", "--parallel-solutions", "1",
         "--ensemble-rounds", "1", "--quiet"]


def aiff(samples: np.ndarray, rate: int = RATE) -> bytes:
    """A mono 16-bit AIFF file (big-endian PCM; the rate as an 80-bit extended float)."""
    pcm = (np.clip(samples, -1, 1) * 32767).astype(">i2").tobytes()
    exponent, mantissa = 16383 + 63, rate
    while mantissa < (1 << 63):
        mantissa, exponent = mantissa << 1, exponent - 1
    comm = struct.pack(">hIh", 1, len(samples), 16) + struct.pack(">H", exponent) + struct.pack(">Q", mantissa)
    ssnd = struct.pack(">II", 0, 0) + pcm
    body = b"AIFF" + b"COMM" + struct.pack(">I", len(comm)) + comm + b"SSND" + struct.pack(">I", len(ssnd)) + ssnd
    return b"FORM" + struct.pack(">I", len(body)) + body


def clip(rng: np.random.Generator, call: bool) -> np.ndarray:
    """Two seconds of noise; a call adds an up-sweep (what a right-whale up-call looks like)."""
    t = np.arange(2 * RATE) / RATE
    noise = 0.3 * rng.standard_normal(len(t))
    if not call:
        return noise
    sweep = 0.5 * np.sin(2 * np.pi * (150 + 60 * t) * t) * np.exp(-((t - 1.0) ** 2) / 0.2)
    return noise + sweep


def whale_task(root: Path, n_train: int = 120, n_test: int = 40, seed: int = 0) -> Path:
    """The right-whale layout: train2.zip of ``..._TRAIN<i>_<label>.aif``, test2.zip of
    ``..._Test<i>.aif``, a sample of clip,probability; answers kept beside public/."""
    rng = np.random.default_rng(seed)
    public = root / "public"
    public.mkdir(parents=True)
    (public / "description.md").write_text(
        "# Whale detection\nPredict the probability that each test clip holds a right-whale up-call. "
        "Submissions are judged on area under the ROC curve.\n")
    with zipfile.ZipFile(public / "train2.zip", "w") as z:
        for i in range(n_train):
            label = int(rng.random() < 0.4)
            z.writestr(f"train2/20090328_{i:06d}_002s3ms_TRAIN{i}_{label}.aif", aiff(clip(rng, bool(label))))
    answers = []
    with zipfile.ZipFile(public / "test2.zip", "w") as z:
        for i in range(n_test):
            label = int(rng.random() < 0.4)
            name = f"20090330_{i:06d}_010s1ms_Test{i}.aif"
            z.writestr(f"test2/{name}", aiff(clip(rng, bool(label))))
            answers.append({"clip": name, "probability": label})
    frame = pd.DataFrame(answers)
    frame.assign(probability=0).to_csv(public / "sample_submission.csv", index=False)
    frame.to_csv(root / "answers.csv", index=False)
    return root


def image(rng: np.random.Generator, dog: bool) -> Image.Image:
    """A 24x24 picture: 'dogs' are bright in the upper half, 'cats' in the lower half."""
    pixels = rng.integers(0, 80, (24, 24)).astype(np.uint8)
    rows = slice(0, 12) if dog else slice(12, 24)
    pixels[rows] = np.clip(pixels[rows].astype(int) + 150, 0, 255).astype(np.uint8)
    return Image.fromarray(pixels, "L")


def pets_task(root: Path, folders: bool, n_train: int = 80, n_test: int = 30, seed: int = 1) -> Path:
    """dogs-vs-cats: train/cat.<n>.jpg and train/dog.<n>.jpg (or, with ``folders``, class folders
    train/cat/<n>.png), test/<id>.png, a sample of id,label (the probability of a dog)."""
    rng = np.random.default_rng(seed)
    public = root / "public"
    (public / "train").mkdir(parents=True)
    (public / "test").mkdir()
    (public / "description.md").write_text("# Dogs and cats\nPredict the probability that each test image is "
                                           "a dog. Submissions are scored on the log loss.\n")
    for i in range(n_train):
        dog = bool(i % 2)
        kind = "dog" if dog else "cat"
        path = public / "train" / (f"{kind}/{i}.png" if folders else f"{kind}.{i}.png")
        path.parent.mkdir(exist_ok=True)
        image(rng, dog).save(path)
    truth = []
    for i in range(1, n_test + 1):
        dog = bool(rng.random() < 0.5)
        image(rng, dog).save(public / "test" / f"{i}.png")
        truth.append({"id": i, "label": int(dog)})
    frame = pd.DataFrame(truth)
    frame.assign(label=0.5).to_csv(public / "sample_submission.csv", index=False)
    frame.to_csv(root / "answers.csv", index=False)
    return root


def test_labels_in_file_names_are_found_and_held_out_under_neutral_names(tmp_path):
    task = whale_task(tmp_path / "whale")
    intake = read_task(task)
    assert intake.label_source is not None and intake.scoring == "agent"
    assert intake.label_source["origin"] == "train2.zip" and intake.modality == "audio"
    assert intake.output["kind"] == "probability" and intake.classes == ["0", "1"]
    data = prepare_run_data(intake, tmp_path / "run", seed=0)
    search = data.views["search"]
    assert "train2.zip" not in search  # the archive's names carry every label
    held = pd.read_csv(search["holdout.csv"], dtype=str)
    assert held["clip"].str.startswith("mle_star_holdout/").all()
    assert not held["clip"].str.contains("TRAIN").any()
    shown = {str(p.relative_to(search["train2"])) for p in Path(search["train2"]).rglob("*.aif")}
    assert set(held["clip"]) <= shown
    assert not any(name.endswith(tuple(f"TRAIN{k}_1.aif" for k in range(200))) and name in set(held["clip"])
                   for name in shown)
    answers = pd.read_csv(data.answers, dtype=str)
    assert sorted(answers["clip"]) == sorted(held["clip"])
    train = pd.read_csv(search["train_labels.csv"], dtype=str)
    assert len(train) + len(held) == 120


@pytest.mark.parametrize("folders", [False, True], ids=["cat.n.png", "class-folders"])
def test_labels_in_image_names_or_class_folders(tmp_path, folders):
    intake = read_task(pets_task(tmp_path / "pets", folders))
    assert intake.label_source is not None and intake.n_labelled == 80
    assert intake.classes == ["cat", "dog"] and intake.output["positive_class"] == "dog"
    assert intake.modality == "image" and intake.train_items is not None


def test_a_run_on_the_whale_layout_ends_with_a_submission_it_scored_itself(tmp_path):
    task = whale_task(tmp_path / "whale")
    done = subprocess.run([*RUN, str(task), "--run-dir", str(tmp_path / "run"), *SMALL],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    submission = pd.read_csv(tmp_path / "run" / "final" / "submission.csv")
    answers = pd.read_csv(task / "answers.csv").merge(submission, on="clip", suffixes=("", "_pred"))
    assert len(answers) == 40
    assert roc_auc_score(answers["probability"], answers["probability_pred"]) > 0.8
    import json

    record = json.loads((tmp_path / "run" / "run.json").read_text())
    scored = [a for a in record["journal"] if a.get("score") is not None and a.get("score_source") == "agent"]
    assert scored, "no script was scored by the agent"
