"""mle-star end to end on a real task of every Kaggle shape: images in a zip and in a folder,
JSON records with text, a zipped CSV, two regression targets, multi-label, an ordinal target
under a prose-only QWK, WAV audio and MAP@3. Each run ends with a valid submission that the
task's own grader scores better than the sample submission."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import platform
import warnings
from pathlib import Path

import pandas as pd
import pytest

from mle_star.cli import main
from mle_star.examples import score_submission, write_example
from mle_star.tools.scoring.submission import validate_submission

SHAPES = ["digits-zip", "digits-folder", "pizza-json", "zipped-csv", "two-targets", "multilabel", "ordinal-qwk",
          "audio-wav", "map3"]
LOOPS = ["--num-candidates", "1", "--outer-loops", "1", "--inner-loops", "1", "--parallel-solutions", "1",
         "--ensemble-rounds", "0", "--script-timeout", "300"]


@pytest.mark.parametrize("name", SHAPES)
def test_every_shape_ends_with_a_submission_better_than_the_sample(name, tmp_path):
    if name == "audio-wav":
        pytest.importorskip("pretty_midi")
    task = write_example(name, tmp_path / "task")
    run_dir = tmp_path / "run"
    assert main(["run", str(task), "--run-dir", str(run_dir), *LOOPS]) == 0
    meta = json.loads((task / "task.json").read_text())
    sample = task / "public" / "sample_submission.csv"
    validate_submission(run_dir / "final" / "submission.csv", sample)
    score = score_submission(task, run_dir / "final" / "submission.csv")
    null = score_submission(task, sample)
    assert score > null if meta["higher_is_better"] else score < null, (score, null)
    record = json.loads((run_dir / "run.json").read_text())
    assert record["task"]["scoring"] == "agent" and record["best_score"] is not None
    assert record["counts"]["ablations"] == 1 and record["counts"]["inner_iterations"] == 1
    print(f"{name}: {meta['metric']} {score:.4f} (sample {null:.4f}), validation {record['best_score']:.4f}, "
          f"{record['wall_time']} s")
    same_as_recorded(name, run_dir / "final" / "submission.csv")


GOLDEN = Path(__file__).parent / "golden" / "shapes.json"
UPDATE = "MLE_STAR_UPDATE_GOLDEN"
# What a seeded submission's bytes depend on beside mle-star's code.
NUMERIC = ["numpy", "scipy", "pandas", "scikit-learn", "lightgbm", "xgboost", "catboost", "pillow", "pyarrow"]


def environment() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    def installed(name: str) -> str:
        try:
            return version(name)
        except PackageNotFoundError:
            return "missing"

    return {"python": platform.python_version(), "cpu": _cpu(), **{name: installed(name) for name in NUMERIC}}


def _cpu() -> str:
    """The CPU model: BLAS and the boosting libraries pick kernels by instruction set, and their
    floating-point results (so a submission's last digits) can differ between CPUs."""
    try:
        first = Path("/proc/cpuinfo").read_text().split("\n\n")[0]
    except OSError:
        return platform.processor() or platform.machine()
    info = {key.strip(): value.strip() for key, value in (line.split(":", 1) for line in first.splitlines()
                                                             if ":" in line)}
    flags = hashlib.sha256(info.get("flags", "").encode()).hexdigest()[:12]
    return f"{info.get('model name', platform.machine())} (flags {flags})"


def same_as_recorded(name: str, submission: Path) -> None:
    """A seeded run's submission, byte for byte, is the one recorded in tests/golden/shapes.json:
    a change that should leave behaviour alone (a move, a split, a rename) must leave these alone.
    After a change meant to alter results, record them again with MLE_STAR_UPDATE_GOLDEN=1.
    The bytes also depend on the numeric packages' versions and the CPU, so they are compared
    only in the environment they were recorded in (another one says so in a warning)."""
    digest = hashlib.sha256(submission.read_bytes()).hexdigest()
    here = environment()
    if os.environ.get(UPDATE):
        with open(GOLDEN.with_suffix(".lock"), "w") as lock:  # parallel workers append one by one
            fcntl.flock(lock, fcntl.LOCK_EX)
            golden = json.loads(GOLDEN.read_text()) if GOLDEN.exists() else {}
            digests = golden.get("digests", {}) if golden.get("environment") == here else {}
            GOLDEN.write_text(json.dumps({"environment": here, "digests": digests | {name: digest}}, indent=1,
                                         sort_keys=True) + "\n")
        return
    golden = json.loads(GOLDEN.read_text())
    if golden["environment"] != here:
        changed = {k: f"{golden['environment'].get(k)} -> {v}" for k, v in here.items()
                   if golden["environment"].get(k) != v}
        warnings.warn(f"{GOLDEN.name} was recorded in another environment ({changed}): the submission "
                      f"of {name} was not compared; record it here with {UPDATE}=1", stacklevel=2)
        return
    recorded = golden["digests"]
    assert name in recorded, f"no recorded submission for {name}: run with {UPDATE}=1 to record it"
    assert digest == recorded[name], (f"{name}: the seeded run's submission changed (sha256 {digest}); if the "
                                      f"change is meant, record it again with {UPDATE}=1")


def test_image_submission_rows_follow_the_sample(tmp_path):
    """Row order may differ; ids, columns and value ranges follow the sample exactly."""
    task = write_example("digits-folder", tmp_path / "task")
    run_dir = tmp_path / "run"
    assert main(["run", str(task), "--run-dir", str(run_dir), *LOOPS]) == 0
    sub = pd.read_csv(run_dir / "final" / "submission.csv")
    sample = pd.read_csv(task / "public" / "sample_submission.csv")
    assert list(sub.columns) == list(sample.columns) and set(sub["id"]) == set(sample["id"])
    probabilities = sub.drop(columns="id")
    assert probabilities.min().min() >= 0 and probabilities.max().max() <= 1
