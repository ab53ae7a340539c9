"""Ensembles from saved predictions: members are the engineer's own scripts run on a real task;
their outputs are laid out as the graph lays them out (``input/members/member_<i>/``), and the
ensemble blends them in seconds without retraining, at least as well as the best member. The
stacking meta-learner is cross-fitted: a row's reported prediction never saw its own label."""

# ruff: noqa: F811 - pytest fixtures are imported by name
from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from test_engineer_support import (  # noqa: F401 - fixtures
    better,
    code_of,
    judged,
    prepared,
    run_script,
    task_dirs,
)

from mle_star.engineer.ensemble import render_ensemble
from mle_star.prompts.roles import ModelCard

SAVED_FILES = ("valid_predictions.csv", "test_predictions.csv", "inner_valid.npz")


@pytest.fixture(scope="module")
def members(task_dirs, tmp_path_factory):
    """Three members written by the engineer (LightGBM, XGBoost, linear) run on breast cancer, and
    a folder holding their saved outputs as member_<i>/."""
    root = tmp_path_factory.mktemp("members")
    data = prepared(task_dirs("breast-cancer"), root / "run")
    task = data.task
    codes, scores = [], []
    for i, name in enumerate(["LightGBM", "XGBoost", "Regularised linear model"]):
        code = code_of("init_coder", task, candidate=ModelCard(model_name=name))
        run = run_script(code, data.views["search"], root / f"m{i}")
        verdict = judged(task, data, "candidate", run)
        assert verdict.ok, verdict.error
        (root / "saved" / f"member_{i}").mkdir(parents=True)
        for file in SAVED_FILES:
            shutil.copy(run.work / file, root / "saved" / f"member_{i}" / file)
        codes.append(code)
        scores.append(verdict.score)
    return data, codes, scores, root / "saved"


def test_an_ensemble_blends_saved_predictions_without_retraining_and_matches_its_best_member(members, tmp_path):
    data, codes, scores, saved = members
    task = data.task
    best_member = max(scores) if not task["lower_is_better"] else min(scores)
    view = data.views["search"] | {"members": str(saved)}
    dirs = [f"members/member_{i}" for i in range(len(codes))]
    results = {}
    for plan in ("mean", "weighted", "stack"):
        code = code_of("ensembler", task, solutions=codes, scores=scores, plan=f"[ensemble:{plan}] x",
                       member_dirs=dirs)
        run = run_script(code, view, tmp_path / plan)
        assert run.done.returncode == 0, run.done.stderr[-3000:]
        assert "no retraining" in run.done.stdout
        assert not (run.work / "member_0").exists()  # no member was run again
        verdict = judged(task, data, "ensemble", run)
        assert verdict.ok and not verdict.untrusted, verdict.error
        results[plan] = (verdict.score, run.seconds)
        print(f"{plan}: held-out AUC {verdict.score:.4f} in {run.seconds:.1f} s (best member {best_member:.4f})")
    best = max(score for score, _ in results.values())
    assert not better(task, best_member, best + 1e-3)  # beats or ties the best member


def test_without_saved_files_the_members_are_retrained_once_each(members, tmp_path):
    data, codes, scores, saved = members
    task = data.task
    empty = tmp_path / "empty"
    (empty / "member_0").mkdir(parents=True)  # a member folder without files: saved files are missing
    code = render_ensemble(codes[:2], "mean", task, final=False, saved=["members/member_0", "members/member_1"],
                           scores=scores[:2])
    run = run_script(code, data.views["search"] | {"members": str(empty)}, tmp_path / "work")
    assert run.done.returncode == 0, run.done.stderr[-3000:]
    assert "no retraining" not in run.done.stdout
    assert all((run.work / f"member_{i}" / "inner_valid.npz").is_file() for i in range(2))
    assert judged(task, data, "ensemble", run).ok


def test_the_final_ensemble_retrains_each_member_once_on_every_labelled_row(members, tmp_path):
    data, codes, scores, saved = members
    task = data.task
    search = code_of("ensembler", task, solutions=codes[:2], scores=scores[:2], plan="[ensemble:stack] x",
                     member_dirs=["members/member_0", "members/member_1"])
    final = code_of("submission", task, code=search, score=0.99)
    assert "SAVED = []" in final and "FINAL = True" in final and "PLAN = 'stack'" in final
    run = run_script(final, data.views["full"], tmp_path / "final")
    assert run.done.returncode == 0, run.done.stderr[-3000:]
    for i in range(2):  # each member ran once, in final mode: every labelled row, the submission's test rows
        member = (run.work / f"member_{i}" / "solution.py").read_text()
        assert "FINAL = True" in member and "SUBSAMPLE = None" in member
    assert judged(task, data, "submission", run).ok


def test_a_final_with_two_cores_fits_at_once_and_writes_the_same_submission(members, tmp_path):
    """The final script runs alone, so the runner lets it use every core (MLE_STAR_WORKERS): a
    single solution refits on every row beside its validation fit, an ensemble runs its members
    at once. Same predictions as one at a time; the members overlapped."""
    data, codes, scores, saved = members
    task = data.task
    search = code_of("ensembler", task, solutions=codes[:2], scores=scores[:2], plan="[ensemble:mean] x",
                     member_dirs=["members/member_0", "members/member_1"])
    for name, code in (("single", code_of("submission", task, code=codes[0], score=scores[0])),
                       ("ensemble", code_of("submission", task, code=search, score=0.99))):
        runs = {w: run_script(code, data.views["full"], tmp_path / f"{name}{w}", workers=w) for w in (1, 2)}
        for run in runs.values():
            assert run.done.returncode == 0, run.done.stderr[-3000:]
            assert judged(task, data, "submission", run).ok
        one, two = ((runs[w].work / "final" / "submission.csv").read_text() for w in (1, 2))
        assert one == two and runs[1].printed == runs[2].printed
        if name == "ensemble":  # member 1 started before member 0 finished (one at a time: after)
            started = (runs[2].work / "member_1" / "solution.py").stat().st_mtime
            finished = (runs[2].work / "member_0" / "final" / "submission.csv").stat().st_mtime
            assert started < finished
            started = (runs[1].work / "member_1" / "solution.py").stat().st_mtime
            finished = (runs[1].work / "member_0" / "final" / "submission.csv").stat().st_mtime
            assert started > finished


def _regression_members(folder: Path, base: np.ndarray, y: np.ndarray, noise: list[float]) -> None:
    """Saved inner-validation predictions (``base`` plus noise of the given levels, fixed seeds) with labels ``y``."""
    for i, level in enumerate(noise):
        out = folder / f"member_{i}"
        out.mkdir(parents=True, exist_ok=True)
        valid = base + level * np.random.default_rng(i).normal(size=base.shape)
        np.savez(out / "inner_valid.npz", y=y, valid=valid, holdout=np.zeros((2, 1)), test=np.ones((3, 1)),
                 holdout_ids=np.array(["a", "b"]), test_ids=np.array(["x", "y", "z"]))


def test_stacking_is_cross_fitted(tmp_path, diabetes_task):
    """Changing the labels of one fold's rows leaves those rows' reported meta predictions unchanged
    (they come from a meta-learner fit on the other folds) while every other row's change; the printed
    score is the metric of exactly those out-of-fold predictions."""
    from mle_star.tools.execution.script_files import parse_score
    from mle_star.tools.task.dataview import prepare_run_data
    from mle_star.tools.task.intake import read_task

    task = prepare_run_data(read_task(diabetes_task), tmp_path / "run", 42).task  # rmse
    rows = np.arange(300)
    y = np.random.default_rng(7).normal(size=(300, 1)) * 10 + 100
    fold = np.empty(300, dtype=int)
    fold[np.random.default_rng(42).permutation(rows)] = rows % 5  # the script's folds (SEED 42, 5 folds)
    changed = y.copy()
    changed[fold == 0] *= 1.5
    outputs = []
    for name, truth in (("same", y), ("changed", changed)):
        work = tmp_path / name
        _regression_members(work / "input" / "members", y, truth, [3.0, 6.0, 9.0])
        (work / "solution.py").write_text(render_ensemble(["print('never run')"] * 3, "stack", task, final=False,
                                                          saved=[f"members/member_{i}" for i in range(3)]))
        start = time.monotonic()
        done = subprocess.run([sys.executable, "solution.py"], cwd=work, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr[-3000:]
        assert time.monotonic() - start < 5.0
        stacked = np.load(work / "inner_valid.npz")["valid"]
        assert parse_score(done.stdout) == pytest.approx(float(np.sqrt(np.mean((truth - stacked) ** 2))), abs=1e-5)
        outputs.append(stacked)
    same, moved = outputs
    assert np.array_equal(same[fold == 0], moved[fold == 0])  # the changed rows never saw their labels
    assert not np.allclose(same[fold != 0], moved[fold != 0])


@pytest.mark.parametrize("metric, expected", [("rmsle", np.sqrt(11.0 * 1001.0) - 1.0), ("rmse", 505.0)])
def test_a_blend_for_rmsle_averages_log1p_values(tmp_path, diabetes_task, metric, expected):
    """RMSLE is the RMSE of log1p values, so members are averaged there (the blend of 10 and 1000 is
    about 104, not 505); for RMSE they are averaged as they are."""
    from mle_star.tools.task.dataview import prepare_run_data
    from mle_star.tools.task.intake import read_task

    task = prepare_run_data(read_task(diabetes_task), tmp_path / "run", 42).task | {"metric": metric}
    work = tmp_path / "blend"
    for i, value in enumerate([10.0, 1000.0]):
        out = work / "input" / "members" / f"member_{i}"
        out.mkdir(parents=True)
        np.savez(out / "inner_valid.npz", y=np.full((4, 1), 100.0), valid=np.full((4, 1), value),
                 holdout=np.zeros((0, 1)), test=np.full((3, 1), value), holdout_ids=np.array([], dtype=str),
                 test_ids=np.array(["x", "y", "z"]))
    (work / "solution.py").write_text(render_ensemble(["print('never run')"] * 2, "mean", task, final=False,
                                                      saved=["members/member_0", "members/member_1"]))
    done = subprocess.run([sys.executable, "solution.py"], cwd=work, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    assert np.load(work / "inner_valid.npz")["test"] == pytest.approx(np.full((3, 1), expected))
