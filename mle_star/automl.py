"""AutoML baselines for ``mle-star bench --against autogluon,flaml``: the same task, the same
wall time as the mle-star run, graded by the same grader.

The frameworks are optional installs, not dependencies: they run as a separate process, in
this Python or in ``MLE_STAR_AUTOML_PYTHON`` (e.g. a virtualenv holding autogluon.tabular and
flaml), from the task facts mle-star's intake found. They handle tables: one label, a binary
probability, class probabilities or one regression target; other shapes are reported as not
supported rather than guessed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from mle_star.tools.task.intake import Intake

FRAMEWORKS = ("autogluon", "flaml")
SUPPORTED_KINDS = {"label", "probability", "class_probabilities", "targets"}

# metric -> (AutoGluon eval_metric, FLAML metric); RMSLE trains on log1p(target) with RMSE
METRICS = {
    "auc": ("roc_auc", "roc_auc"), "accuracy": ("accuracy", "accuracy"), "logloss": ("log_loss", "log_loss"),
    "multi_logloss": ("log_loss", "log_loss"), "rmse": ("root_mean_squared_error", "rmse"),
    "rmsle": ("root_mean_squared_error", "rmse"), "mae": ("mean_absolute_error", "mae"), "r2": ("r2", "r2"),
    "f1": ("f1", "f1"), "macro_f1": ("f1_macro", "macro_f1"), "micro_f1": ("f1_micro", "micro_f1"),
    "qwk": ("quadratic_kappa", "accuracy"), "mse": ("mean_squared_error", "mse"),
}

RUNNER = r'''
import json, sys, time
import numpy as np
import pandas as pd

facts = json.load(open(sys.argv[1]))
framework, budget = facts["framework"], float(facts["budget"])
read = lambda path: pd.read_csv(path, dtype={facts["key"]: str, facts["id"]: str}, low_memory=False)
train, test = read(facts["train"]), read(facts["test"])
label = facts["label"]
train = train[train[label].notna()]
drop = [c for c in {facts["key"], facts["id"], label} if c in train.columns]
X, y = train.drop(columns=drop), train[label]
Xt = test[[c for c in X.columns]]
if framework == "flaml":  # FLAML needs categories; AutoGluon finds text columns itself (n-grams), so keep them
    for frame in (X, Xt):
        for c in frame.columns:
            if not pd.api.types.is_numeric_dtype(frame[c]):
                frame[c] = frame[c].astype("category")
log_target = facts["metric"] == "rmsle"
if log_target:
    y = np.log1p(y.clip(lower=0))
kind, problem = facts["kind"], facts["problem"]
start = time.time()
if framework == "autogluon":
    from autogluon.tabular import TabularPredictor
    model = TabularPredictor(label=label, problem_type=problem, eval_metric=facts["ag_metric"], path="ag_model",
                             verbosity=0).fit(pd.concat([X, y.rename(label)], axis=1), time_limit=budget,
                                              presets="medium_quality")
    predict, proba = model.predict, model.predict_proba
    classes = [str(c) for c in model.class_labels] if problem != "regression" else []
else:
    from flaml import AutoML
    model = AutoML()
    model.fit(X_train=X, y_train=y, task="regression" if problem == "regression" else "classification",
              time_budget=budget, metric=facts["flaml_metric"], verbose=0, seed=0)
    predict, proba = model.predict, model.predict_proba
    classes = [str(c) for c in model.classes_] if problem != "regression" else []
sub = pd.DataFrame({facts["id"]: test[facts["id"]]})
if kind == "targets":
    values = np.asarray(predict(Xt), dtype=float)
    sub[facts["columns"][0]] = np.expm1(values) if log_target else values
elif kind == "label":
    sub[facts["columns"][0]] = np.asarray(predict(Xt))
else:
    p = pd.DataFrame(np.asarray(proba(Xt)), columns=classes)
    if kind == "probability":
        sub[facts["columns"][0]] = p[facts["positive"]].to_numpy()
    else:
        for column, value in zip(facts["columns"], facts["classes"]):
            sub[column] = p[value].to_numpy() if value in p.columns else 0.0
sub.to_csv("submission.csv", index=False)
print(json.dumps({"fit_seconds": round(time.time() - start, 1)}))
'''


def support(intake: Intake) -> str | None:
    """Why the AutoML baselines cannot run this task, or None when they can."""
    kind = intake.output["kind"]
    if kind not in SUPPORTED_KINDS or len(intake.output["columns"]) > 1 and kind == "targets":
        return f"{kind} predictions with {len(intake.output['columns'])} columns"
    if intake.label_source is None or intake.label_source["format"] != "csv" or not intake.test_file:
        return f"{intake.modality} data (no label table beside a test table)"
    if intake.metric.name not in METRICS:
        return f"the metric {intake.metric.name}"
    return None


def run_baseline(framework: str, intake: Intake, out: Path, budget: float) -> dict:
    """Fit ``framework`` on the task within ``budget`` seconds; {"submission": path} or an error."""
    why = support(intake)
    if why is not None:
        return {"error": f"{framework} baseline not run: {why}"}
    assert intake.label_source is not None and intake.test_file is not None
    out.mkdir(parents=True, exist_ok=True)
    problem = {"targets": "regression"}.get(intake.output["kind"],
                                              "binary" if len(intake.classes) == 2 else "multiclass")
    ag_metric, flaml_metric = METRICS[intake.metric.name]
    folder = Path(intake.data_dir)
    facts = {"framework": framework, "budget": max(10.0, budget), "train": str(folder / intake.label_source["origin"]),
             "test": str(folder / intake.test_file), "key": intake.label_source["key"],
             "id": intake.output["id_column"], "label": intake.label_source["label_columns"][0],
             "columns": intake.output["columns"], "kind": intake.output["kind"], "problem": problem,
             "classes": intake.classes, "positive": intake.output.get("positive_class"),
             "metric": intake.metric.name, "ag_metric": ag_metric, "flaml_metric": flaml_metric}
    (out / "facts.json").write_text(json.dumps(facts))
    python = os.environ.get("MLE_STAR_AUTOML_PYTHON", sys.executable)
    env = os.environ | {"OMP_WAIT_POLICY": "passive"}
    try:
        done = subprocess.run([python, "-c", RUNNER, "facts.json"], cwd=out, capture_output=True, text=True,
                              timeout=2 * budget + 300, env=env)
    except subprocess.TimeoutExpired:
        return {"error": f"{framework} baseline did not finish in {2 * budget + 300:.0f} s"}
    if done.returncode != 0 or not (out / "submission.csv").exists():
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        return {"error": f"{framework} baseline failed: {tail[0][:300]}"}
    return {"submission": str(out / "submission.csv")}


def normalised(score: float | None, null: float | None, best_baseline: float | None) -> float | None:
    """(score - null) / (best baseline - null): 1.0 matches the best baseline, above beats it."""
    if score is None or null is None or best_baseline is None or best_baseline == null:
        return None
    return (score - null) / (best_baseline - null)
