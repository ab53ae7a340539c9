"""Ensemble scripts: whole solution scripts as members, blended on shared validation rows.

The engineer's solutions leave ``inner_valid.npz`` behind: their predictions P for the
internal validation rows (the same rows in every member: same split code, seed and data),
those rows' labels, and P for the held-out and test rows. A search ensemble finds those files
saved under ``./input/members/member_<i>/`` and blends them in seconds without retraining:
it fits its blend (weights, or a stacking meta-learner) on the internal validation
predictions, scores it there (cross-fitted whenever anything is fit) and writes the blended
held-out/test predictions in the submission's columns. Only when the files are missing does
it run each member once as its own script in ``member_<i>/`` (``input`` linked to the
ensemble's); the final ensemble always does, in final mode (every labelled row). Members that
leave no such file (scripts the engineer did not write) are blended from their output files.
"""

from __future__ import annotations

from mle_star.engineer.scripts import RUN_IN_FOLDER, literal, write_predictions_code
from mle_star.engineer.shapes import (
    AS_TEXT,
    THRESHOLDS,
    Shape,
    constants,
    render_metric,
    shape_of,
    to_output,
)

ENSEMBLE_PLANS = {
    "mean": "Average the members' predictions with equal weights.",
    "weighted": ("Fit non-negative blend weights that optimise the metric on the shared internal-validation "
                 "predictions; report the score of cross-fitted weights (each half of those rows is scored "
                 "with weights fit on the other half) so the score is not optimistic."),
    "stack": ("Stack: fit a meta-learner (a multinomial logit on the members' log-probabilities, one weight "
              "per member and one bias per class; logistic regression per label; a linear model with "
              "non-negative weights for values) on the members' internal-validation predictions "
              "and apply it to their held-out and test predictions; report the score of out-of-fold meta "
              "predictions (5 folds) so the score is not optimistic."),
    "rank_mean": "Average the members' predictions after converting each to ranks (suits AUC).",
    "best_two": "Average only the two members with the best internal-validation scores.",
    "geometric": "Average the members' predictions in log space (geometric mean); suits probabilities and positive targets.",
}
WEIGHTING_PLANS = ("weighted", "stack", "best_two")  # plans that choose members / weights from validation
LOG_METRICS = ("rmsle", "mean_column_rmsle")  # values are stacked in log space for these


def plans_for(task: dict) -> list[str]:
    """The plans that make sense for the task's output, in the order the planner tries them."""
    shape = shape_of(task)
    plans = ["mean", "weighted", "stack", "best_two"]
    if shape.metric in ("auc", "mean_column_auc") and shape.kind in ("probability", "multilabel",
                                                                      "class_probabilities"):
        plans.insert(3, "rank_mean")
    if shape.kind in ("probability", "class_probabilities", "multilabel", "ranked_labels") or shape.classify or (
            shape.kind == "targets" and (task.get("target_min") or 0) > 0):
        plans.append("geometric")
    return plans


def _blend_code(shape: Shape) -> str:
    ordinal = shape.ordinal
    score_fn = "honest_threshold_score(y, blended[:, 0])" if ordinal else "metric(y, blended)"
    log_space = ("    if PLAN != \"rank_mean\":  # the metric is an RMSE of log1p values: blend those\n"
                 "        return np.expm1(sum(w * np.log1p(np.clip(p, 0, None)) for w, p in zip(weights, preds)))\n"
                 if shape.metric in LOG_METRICS and not ordinal else "")
    return f'''def combine(preds: list, weights) -> np.ndarray:
    """The weighted blend of the members' predictions, following the plan."""
    weights = np.asarray(weights, dtype=float) / np.sum(weights)
    if PLAN == "rank_mean":  # ranks within each row set, per column
        preds = [np.apply_along_axis(lambda c: pd.Series(c).rank(pct=True).to_numpy(), 0, p) for p in preds]
    if PLAN == "geometric":
        return np.exp(sum(w * np.log(np.clip(p, 1e-9, None)) for w, p in zip(weights, preds)))
{log_space}    return sum(w * p for w, p in zip(weights, preds))


def loss(weights: np.ndarray, rows: np.ndarray) -> float:
    value = metric(y[rows], combine([p[rows] for p in valid], np.abs(weights) + 1e-12))
    return value if LOWER_IS_BETTER else -value


def fit_weights(rows: np.ndarray) -> np.ndarray:
    from scipy.optimize import minimize

    start = np.full(len(valid), 1.0 / len(valid))
    found = minimize(loss, start, args=(rows,), method="Nelder-Mead", options={{"maxiter": 400, "xatol": 1e-4}})
    return np.abs(found.x) + 1e-12


def stack() -> tuple[np.ndarray, object]:
    """(out-of-fold meta predictions for the internal-validation rows, the meta-learner fit on all of them):
    each row's meta prediction comes from a meta-learner fit on the other folds, so its score is honest."""
    rows = np.arange(len(y))
    fold = np.empty(len(y), dtype=int)
    fold[np.random.default_rng(SEED).permutation(rows)] = rows % FOLDS
    out_of_fold = np.zeros_like(valid[0], dtype=float)
    for k in range(FOLDS):
        inside, outside = rows[fold != k], rows[fold == k]
        out_of_fold[outside] = stack_model([p[inside] for p in valid], y[inside])([p[outside] for p in valid])
    return out_of_fold, stack_model(valid, y)


{_stack_model(shape)}

def blend_from_inner() -> tuple[float, np.ndarray, np.ndarray, np.ndarray]:
    """(validation score, blended validation, held-out and test predictions) from the members' inner_valid.npz."""
{"    global THRESHOLDS" + chr(10) if ordinal else ""}    rows = np.arange(len(y))
    member_scores = [metric(y, p) for p in valid]
    for i, s in enumerate(member_scores):
        print(f"member {{i}}: {{s:.6f}}")
    if PLAN == "stack":
        blended, predict = stack()
        print(f"meta-learner on {{len(valid)}} members' predictions, scored out of fold ({{FOLDS}} folds)")
        holdout_pred = predict(holdout) if len(holdout[0]) else holdout[0]
        test_pred = predict(test)
    else:
        if PLAN == "weighted":
            half = np.random.default_rng(SEED).permutation(rows)[: len(rows) // 2]
            other = np.setdiff1d(rows, half)
            blended = np.zeros_like(valid[0], dtype=float)
            blended[half] = combine([p[half] for p in valid], fit_weights(other))
            blended[other] = combine([p[other] for p in valid], fit_weights(half))
            weights = fit_weights(rows)
        else:
            weights = np.ones(len(valid))
            if PLAN == "best_two" and len(valid) > 2:
                order = np.argsort(member_scores) if LOWER_IS_BETTER else np.argsort(member_scores)[::-1]
                weights = np.zeros(len(valid))
                weights[order[:2]] = 1.0
            blended = combine(valid, weights)
        print("weights:", np.round(weights / np.sum(weights), 4).tolist())
        holdout_pred = combine(holdout, weights) if len(holdout[0]) else holdout[0]
        test_pred = combine(test, weights)
    score = {score_fn}
{"    THRESHOLDS = fit_thresholds(y, blended[:, 0])" + chr(10) if ordinal else ""}    return score, blended, holdout_pred, test_pred
'''


def _stack_model(shape: Shape) -> str:
    """``stack_model(preds, y)``: a meta-learner for the task's shape, returning its predict function."""
    if shape.classify:
        return '''def stack_model(preds: list, y: np.ndarray):
    """A multinomial logit on the members' log-probabilities: class scores sum_m w_m log p_m + b_c, one
    weight per member and one bias per class (few parameters, so it stays robust with many classes)."""
    from scipy.optimize import minimize

    logs = [np.log(np.clip(p, 1e-6, 1.0)) for p in preds]
    truth = np.eye(len(CLASSES))[y]

    def nll(theta: np.ndarray) -> tuple[float, np.ndarray]:
        w, b = theta[: len(logs)], theta[len(logs):]
        z = sum(wm * a for wm, a in zip(w, logs)) + b
        z = z - z.max(axis=1, keepdims=True)
        p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
        g = (p - truth) / len(y)
        value = -np.sum(truth * np.log(np.clip(p, 1e-15, None))) / len(y) + 1e-3 * np.sum(b ** 2)
        return value, np.concatenate([[np.sum(g * a) for a in logs], g.sum(axis=0) + 2e-3 * b])

    start = np.concatenate([np.full(len(logs), 1.0 / len(logs)), np.zeros(len(CLASSES))])
    theta = minimize(nll, start, jac=True, method="L-BFGS-B").x

    def predict(ps: list) -> np.ndarray:
        z = sum(wm * np.log(np.clip(p, 1e-6, 1.0)) for wm, p in zip(theta[: len(ps)], ps)) + theta[len(ps):]
        z = np.exp(z - z.max(axis=1, keepdims=True))
        return z / z.sum(axis=1, keepdims=True)

    return predict
'''
    if shape.kind == "multilabel":
        return '''def stack_model(preds: list, y: np.ndarray):
    """One logistic regression per label on the members' logits for that label."""
    from sklearn.linear_model import LogisticRegression

    logit = lambda p: np.log(np.clip(p, 1e-6, 1 - 1e-6) / (1 - np.clip(p, 1e-6, 1 - 1e-6)))  # noqa: E731
    features = lambda ps, j: np.column_stack([logit(p[:, j]) for p in ps])  # noqa: E731
    models = [LogisticRegression(C=1.0, max_iter=2000).fit(features(preds, j), y[:, j].astype(int))
              if len(np.unique(y[:, j])) > 1 else float(y[0, j]) for j in range(y.shape[1])]

    def predict(ps: list) -> np.ndarray:
        return np.column_stack([np.full(len(ps[0]), m) if isinstance(m, float) else m.predict_proba(features(ps, j))[:, 1]
                                for j, m in enumerate(models)])

    return predict
'''
    log_space = shape.metric in LOG_METRICS and not shape.ordinal
    forward, inverse = ("np.log1p(np.clip(v, 0, None))", "np.expm1(v)") if log_space else ("v", "v")
    return f'''def stack_model(preds: list, y: np.ndarray):
    """Per column, a linear model with non-negative weights (no intercept) on the members' predictions{" (in log1p space, as the metric)" if log_space else ""}."""
    from sklearn.linear_model import LinearRegression

    forward = lambda v: {forward}  # noqa: E731
    inverse = lambda v: {inverse}  # noqa: E731
    features = lambda ps, j: np.column_stack([forward(p[:, j]) for p in ps])  # noqa: E731
    models = [LinearRegression(positive=True, fit_intercept=False).fit(features(preds, j), forward(y[:, j]))
              for j in range(y.shape[1])]

    def predict(ps: list) -> np.ndarray:
        return np.column_stack([inverse(m.predict(features(ps, j))) for j, m in enumerate(models)])

    return predict
'''


_FALLBACK = '''def blend_outputs(folders: list, printed: list) -> None:
    """Members that left no inner_valid.npz: blend their output files row by row (by id)."""
    names = ["final/submission.csv"] if FINAL else ["valid_predictions.csv", "test_predictions.csv"]
    for name in names:
        frames = [pd.read_csv(os.path.join(f, name if os.path.exists(os.path.join(f, name)) else "test_predictions.csv"),
                              dtype={ID: str}) for f in folders]
        ids = frames[0][ID]
        aligned = [f.set_index(ID).loc[ids].reset_index() for f in frames]
        out = pd.DataFrame({ID: ids})
        for column in COLUMNS:
            values = [a[column] for a in aligned]
            if KIND in ("probability", "class_probabilities", "targets", "multilabel"):
                out[column] = np.mean([v.to_numpy(dtype=float) for v in values], axis=0)
            elif KIND == "ranked_labels":  # reciprocal-rank votes over the members' lists
                votes = [dict() for _ in range(len(ids))]
                for v in values:
                    for row, text in enumerate(v.astype(str)):
                        for rank, label in enumerate(text.split()):
                            votes[row][label] = votes[row].get(label, 0.0) + 1.0 / (rank + 1)
                out[column] = [" ".join(sorted(d, key=lambda k: -d[k])[:TOP_K]) for d in votes]
            else:  # labels: the majority vote (the first member breaks ties)
                stacked = pd.concat(values, axis=1).astype(str)
                out[column] = stacked.apply(lambda r: r.value_counts().index[0] if r.value_counts().iloc[0] > 1 else r.iloc[0], axis=1)
        os.makedirs(os.path.dirname(name) or ".", exist_ok=True)
        out[ORDER].to_csv(name, index=False)
    known = [p for p in printed if p is not None]
    print("Note: some members left no shared validation predictions; the score is the mean of the members' own scores.")
    print(f"Final Validation Performance: {np.mean(known) if known else float('nan'):.6f}")
'''


def ensemble_plan(value: object) -> str:
    """A script's ``PLAN`` literal when it names a known blend, else the equal-weight mean."""
    return value if isinstance(value, str) and value in ENSEMBLE_PLANS else "mean"


def render_ensemble(members: list[str], plan: str, task: dict, final: bool, seed: int = 42,
                    timeout: float | None = None, saved: list[str] | None = None,
                    scores: list[float | None] | None = None) -> str:
    """Blend ``members`` (solution scripts, final-mode when ``final``) following ``plan``.

    ``saved`` names the folders under ./input/ holding each member's saved predictions (the
    search ensemble blends those without retraining); ``scores`` are the members' held-out scores."""
    shape = shape_of(task)
    sources = ",\n".join(literal(m) for m in members)
    folders = [d if d.startswith("./input/") else f"./input/{d.strip('/')}" for d in saved or []] if not final else []
    known = [float(v) if v is not None else None for v in scores or []]
    shape_fns = "\n\n".join(p.rstrip("\n") + "\n" for p in
                            [AS_TEXT, to_output(shape), render_metric(shape)] + ([THRESHOLDS] if shape.ordinal else []))
    return f'''# Ensemble written by the mle-star offline engineer.
# mle-star block: ensemble {{"plan": "{plan}"}}
# Plan: {ENSEMBLE_PLANS[plan]}
# When every member saved its predictions (SAVED: inner_valid.npz with its predictions for the shared
# internal-validation rows, their labels, and its held-out/test predictions), they are blended in
# seconds, no retraining. Otherwise each member runs as its own script in member_<i>/ and leaves them.
import os
import re
import subprocess
import sys

import numpy as np
import pandas as pd

SEED = {seed}
PLAN = {plan!r}
FINAL = {final!r}
WORKERS = int(os.environ.get("MLE_STAR_WORKERS", "1"))  # members this script may run at once (one core each)
FOLDS = 5  # cross-fitting folds of the stacking meta-learner
LOWER_IS_BETTER = {shape.lower!r}
ID = {task["id_column"]!r}
{constants(shape, task)}SAVED = {folders!r}  # each member's saved predictions (empty: run the members)
SCORES = {known!r}  # each member's held-out score, as the agent judged it
MEMBERS = [
{sources},
]


{shape_fns}

{RUN_IN_FOLDER}

{_blend_code(shape)}

{_FALLBACK}

{write_predictions_code(task)}

def load_inner(folders: list) -> list | None:
    """Each member's inner_valid.npz, when every member left one for the same rows, else None."""
    paths = [os.path.join(f, "inner_valid.npz") for f in folders]
    if not paths or not all(os.path.isfile(p) for p in paths):
        return None
    data = [dict(np.load(p)) for p in paths]
    if not all({{"y", "valid", "holdout", "test", "holdout_ids", "test_ids"}} <= set(d) for d in data):
        return None
    same = all(np.array_equal(d[key], data[0][key]) for d in data for key in ("y", "holdout_ids", "test_ids"))
    return data if same else None


def has_outputs(folders: list) -> bool:
    names = ["test_predictions.csv"] + (["valid_predictions.csv"] if HOLDOUT_ROWS else [])
    return bool(folders) and all(os.path.isfile(os.path.join(f, n)) for f in folders for n in names)


def run_members() -> tuple[list, list]:
    """Run every member once in its own folder, WORKERS at a time: (folders, the scores they printed)."""
    from concurrent.futures import ThreadPoolExecutor

    slots = max(1, min(WORKERS, len(MEMBERS)))
    env = dict(os.environ, MLE_STAR_WORKERS=str(max(1, WORKERS // slots)))  # cores left over go to a member
    with ThreadPoolExecutor(slots) as pool:
        runs = list(pool.map(lambda i: run_in_folder(f"member_{{i}}", MEMBERS[i], timeout={timeout!r}, env=env),
                             range(len(MEMBERS))))
    folders, printed = [], []
    for i, done in enumerate(runs):
        if done.returncode != 0:
            raise RuntimeError(f"ensemble member {{i}} failed (exit code {{done.returncode}}):\\n{{done.stderr[-3000:]}}")
        found = re.findall(r"Final Validation Performance:\\s*(\\S+)", done.stdout)
        printed.append(float(found[-1]) if found else None)
        folders.append(f"member_{{i}}")
    return folders, printed


HOLDOUT_ROWS = {bool(task.get("holdout_file")) and task.get("scoring") == "agent" and not final!r}
folders, printed, data = SAVED, SCORES, load_inner(SAVED)
if data is not None:
    print(f"Blending the saved predictions of {{len(SAVED)}} members (no retraining).")
elif not has_outputs(SAVED):
    folders, printed = run_members()
    data = load_inner(folders)
if data is not None:
    y = data[0]["y"]
    valid = [d["valid"] for d in data]
    holdout = [d["holdout"] for d in data]
    test = [d["test"] for d in data]
    score, blended, holdout_pred, test_pred = blend_from_inner()
    if FINAL:
        write_predictions("final/submission.csv", data[0]["test_ids"], test_pred)
    else:
        write_predictions("test_predictions.csv", data[0]["test_ids"], test_pred)
        if len(data[0]["holdout_ids"]):
            write_predictions("valid_predictions.csv", data[0]["holdout_ids"], holdout_pred)
        np.savez("inner_valid.npz", y=y, valid=blended, holdout=holdout_pred, test=test_pred,
                 holdout_ids=data[0]["holdout_ids"], test_ids=data[0]["test_ids"])
    print(f"Final Validation Performance: {{score:.6f}}")
else:
    blend_outputs(folders, printed)
'''
