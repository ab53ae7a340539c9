"""The agent's verdict on one execution: the score it trusts, computed by itself.

A script writes predictions for the held-out rows; the agent scores them against answers no
script can read. The paper's printed "Final Validation Performance" line is cross-checked: a
script that claims a score clearly better than its held-out predictions earn (beyond what the
sampling noise of the held-out set explains) is marked untrusted and never accepted. Only
when the agent cannot score (a metric it does not implement, labels it could not locate) is
the printed score used, marked self-reported.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mle_star.state import Task
from mle_star.tools.scoring.held_out import (
    InvalidPredictions,
    compute_score,
    score_predictions,
    scoring_pair,
)
from mle_star.tools.scoring.metrics import Metric, metric_of
from mle_star.tools.scoring.submission import InvalidSubmission, validate_submission
from mle_star.tools.task.dataview import load_answers

VALID, TEST, FINAL = "valid_predictions.csv", "test_predictions.csv", "final/submission.csv"
INNER = "inner_valid.npz"  # optional: a script's internal validation predictions, which ensembles blend
BOOTSTRAP_ROWS, BOOTSTRAP_ROUNDS, TOLERANCE_SE = 2000, 60, 4.0
GAIN_ROUNDS = 100  # bootstrap resamples of a paired score difference


@dataclass
class Verdict:
    ok: bool
    score: float | None
    source: str  # "agent" | "self_reported" | "none"
    printed: float | None
    error: str = ""
    untrusted: bool = False

    def to_dict(self) -> dict:
        return asdict(self)


def outputs_for(kind: str, task: Task) -> tuple[str, ...]:
    """The files a script of this kind writes (relative to its work folder): the predictions it
    must write, and its internal validation predictions when it saves them (for ensembles)."""
    if kind == "ablation":
        return ()
    if kind == "submission":
        return (FINAL,)
    return (VALID, TEST, INNER) if task["scoring"] == "agent" else (TEST, INNER)


def _read(path: str) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def sample_path(task: Task) -> Path:
    """The task's own sample file (scripts may see it unzipped, under a shorter name)."""
    folder, name = Path(task["data_dir"]), task["sample_submission"]
    if (folder / name).exists():
        return folder / name
    return next((p for p in sorted(folder.iterdir()) if p.name.startswith(name)), folder / name)


def _check_file(outputs: dict[str, str], errors: dict[str, str], name: str) -> str:
    if name not in outputs:
        reason = errors.get(name, "was not written")
        raise InvalidPredictions(f"./{name} {reason}")
    return outputs[name]


def judge(task: Task, answers_path: str, kind: str, ran_ok: bool, error: str, printed: float | None,
          outputs: dict[str, str], output_errors: dict[str, str]) -> Verdict:
    """What the agent makes of one execution (``outputs`` are the runner's trusted copies)."""
    if not ran_ok:
        return Verdict(False, None, "none", printed, error)
    sample = sample_path(task)
    try:
        if kind == "ablation":  # a study, not a candidate: its printed baseline is informative only
            return Verdict(printed is not None, printed, "self_reported", printed,
                           "" if printed is not None else _no_print())
        if kind == "submission":
            validate_submission(_check_file(outputs, output_errors, FINAL), sample, task["output"])
            return Verdict(True, printed, "self_reported", printed)
        validate_submission(_check_file(outputs, output_errors, TEST), sample, task["output"])
        if task["scoring"] != "agent":
            if printed is None:
                return Verdict(False, None, "self_reported", None, _no_print())
            return Verdict(True, printed, "self_reported", printed)
        answers = load_answers(answers_path)
        valid = _check_file(outputs, output_errors, VALID)
        ids = answers[task["id_column"]].tolist()
        predictions = validate_submission(valid, sample, task["output"], expected_ids=ids)
        metric = metric_of(task)
        score = score_predictions(metric, task["output"], answers, predictions)
    except (InvalidPredictions, InvalidSubmission) as exc:
        return Verdict(False, None, "none", printed, str(exc))
    if printed is not None and metric.better(printed, score) and \
            abs(printed - score) > TOLERANCE_SE * bootstrap_se(metric, task, answers, predictions):
        return Verdict(False, score, "agent", printed, untrusted=True, error=(
            f"untrusted: the script printed {printed:.6g} but its held-out predictions score {score:.6g}; "
            "report the score of your own validation split honestly"))
    return Verdict(True, score, "agent", printed)


def _no_print() -> str:
    return "The script finished but printed no 'Final Validation Performance: <float>' line."


def bootstrap_se(metric: Metric, task: Task, answers: pd.DataFrame, predictions: pd.DataFrame) -> float:
    """Sampling noise of the held-out score: the spread of scores on bootstrap resamples (of at
    most BOOTSTRAP_ROWS rows) of the scored arrays."""
    refined, truth, pred = scoring_pair(metric, task["output"], answers, predictions)
    rng = np.random.default_rng(0)
    n = min(len(truth), BOOTSTRAP_ROWS)
    scores = []
    for _ in range(BOOTSTRAP_ROUNDS):
        rows = rng.integers(0, len(truth), n)
        try:
            scores.append(compute_score(refined, _take(truth, rows), _take(pred, rows)))
        except InvalidPredictions:
            continue
    return float(np.std(scores)) if len(scores) >= 10 else float("inf")


def gain_se(task: Task, answers_path: str, new_record: str, old_record: str) -> float | None:
    """Standard error of the held-out score difference between two executions (their record
    folders): a paired bootstrap over the held-out rows, so the noise both share cancels.
    None when either cannot be rescored (self-reported scores, missing predictions)."""
    if task["scoring"] != "agent":
        return None
    try:
        answers, metric = load_answers(answers_path), metric_of(task)
        pairs = [scoring_pair(metric, task["output"], answers, _read(str(Path(record) / "outputs" / VALID)))
                 for record in (new_record, old_record)]
    except (OSError, InvalidPredictions, InvalidSubmission, ValueError, KeyError):
        return None
    refined, truth, new = pairs[0]
    old = pairs[1][2]
    n = len(truth)
    rng = np.random.default_rng(0)
    diffs = []
    for _ in range(GAIN_ROUNDS):
        rows = rng.integers(0, n, n)
        try:
            diffs.append(compute_score(refined, _take(truth, rows), _take(new, rows)) -
                         compute_score(refined, _take(truth, rows), _take(old, rows)))
        except InvalidPredictions:  # e.g. AUC of a resample holding one class
            continue
    return float(np.std(diffs)) if len(diffs) >= 20 else None


def _take(values, rows: np.ndarray):
    return values[rows] if isinstance(values, np.ndarray) else [values[i] for i in rows]


def clearly_better(task: Task, answers_path: str, new: Mapping[str, Any], old: Mapping[str, Any],
                   min_gain_se: float) -> tuple[bool, float | None]:
    """(does attempt ``new`` beat ``old`` by more than ``min_gain_se`` standard errors of their
    paired held-out difference, that standard error). A smaller gain is as likely the held-out
    rows' noise as a better model: choosing on it overfits them (ames: 0.105 there, 0.120 on test)."""
    if not metric_of(task).better(new["score"], old["score"]):
        return False, None
    if min_gain_se <= 0:
        return True, None
    se = gain_se(task, answers_path, new["workdir"], old["workdir"])
    return se is None or abs(new["score"] - old["score"]) > min_gain_se * se, se
