"""Targets that are images, laid out as denoising-dirty-documents is: train/, train_cleaned/ and
test/ PNGs and a per-pixel sample (id <image>_<row>_<col>, value). The agent holds out whole
images, scores every pixel itself, and the offline engineer beats the all-white sample."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from mle_star.tools.task.dataview import prepare_run_data
from mle_star.tools.task.intake import read_task

H, W = 40, 48


def _page(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A clean page (white, dark strokes) and its dirty scan (a stain, a gradient and noise)."""
    clean = np.ones((H, W))
    for _ in range(int(rng.integers(6, 12))):
        r, c = int(rng.integers(2, H - 4)), int(rng.integers(2, W - 10))
        clean[r:r + 2, c:c + int(rng.integers(3, 9))] = 0.1
    yy, xx = np.mgrid[0:H, 0:W]
    cy, cx = rng.uniform(0, H), rng.uniform(0, W)
    stain = 0.35 * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * 10.0 ** 2))
    dirty = np.clip(clean - stain - 0.1 * xx / W + 0.05 * rng.standard_normal((H, W)), 0, 1)
    return clean, dirty


def _png(values: np.ndarray, path: Path) -> None:
    Image.fromarray((values * 255).round().astype(np.uint8), "L").save(path)


def pages_task(root: Path, n_train: int = 20, n_test: int = 5, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    public = root / "public"
    for folder in ("train", "train_cleaned", "test"):
        (public / folder).mkdir(parents=True)
    for i in range(n_train):
        clean, dirty = _page(rng)
        _png(clean, public / "train_cleaned" / f"{i + 1}.png")
        _png(dirty, public / "train" / f"{i + 1}.png")
    rows = []
    for i in range(n_test):
        clean, dirty = _page(rng)
        name = f"{100 + i}"
        _png(dirty, public / "test" / f"{name}.png")
        stored = np.asarray(Image.fromarray((clean * 255).round().astype(np.uint8)), dtype=float) / 255
        rows += [(f"{name}_{r + 1}_{c + 1}", stored[r, c]) for r in range(H) for c in range(W)]
    answers = pd.DataFrame(rows, columns=["id", "value"])
    answers.assign(value=1).to_csv(public / "sampleSubmission.csv", index=False)
    answers.to_csv(root / "answers.csv", index=False)
    (public / "description.md").write_text("# Dirty documents\nRemove the stains from scanned pages. Submissions "
                                           "are evaluated on the root mean squared error between the cleaned "
                                           "pixel intensities and the ground truth.\n")
    return root


def test_image_targets_are_found_and_whole_images_are_held_out(tmp_path):
    intake = read_task(pages_task(tmp_path / "pages"))
    assert intake.image_targets == {"inputs": "train", "targets": "train_cleaned", "test": "test", "base": 1}
    assert intake.output["kind"] == "targets" and intake.metric.name == "rmse" and intake.scoring == "agent"
    assert intake.n_labelled == 20 and intake.n_test == 5 * H * W
    data = prepare_run_data(intake, tmp_path / "run", seed=0)
    search = data.views["search"]
    held = sorted(p.name for p in Path(search["holdout"]).iterdir())
    trained = sorted(p.name for p in Path(search["train"]).iterdir())
    assert len(held) == 4 and not set(held) & set(trained)
    assert sorted(p.name for p in Path(search["train_cleaned"]).iterdir()) == trained  # no held-out target shown
    answers = pd.read_csv(data.answers)
    assert len(answers) == 4 * H * W == data.task["n_holdout"]
    assert set(answers["id"].str.rsplit("_", n=2).str[0] + ".png") == set(held)
    assert answers["value"].between(0, 1).all()


def test_a_run_on_image_targets_beats_the_all_white_sample(tmp_path):
    task = pages_task(tmp_path / "pages")
    run = tmp_path / "run"
    done = subprocess.run([sys.executable, "-m", "mle_star.cli", "run", str(task), "--run-dir", str(run),
                           "--num-candidates", "1", "--outer-loops", "1", "--inner-loops", "1",
                           "--parallel-solutions", "1", "--ensemble-rounds", "1", "--quiet"],
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-2000:]
    answers = pd.read_csv(task / "answers.csv")

    def rmse(frame: pd.DataFrame) -> float:
        merged = answers.merge(frame, on="id", suffixes=("", "_pred"))
        assert len(merged) == len(answers)
        return float(np.sqrt(((merged["value"] - merged["value_pred"]) ** 2).mean()))

    submitted = pd.read_csv(run / "final" / "submission.csv")
    assert rmse(submitted) < 0.5 * rmse(pd.read_csv(task / "public" / "sampleSubmission.csv"))
