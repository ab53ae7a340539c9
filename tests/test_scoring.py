"""Scoring held-out predictions of every output shape, and validating submission files."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as sk

from mle_star.tools.scoring.held_out import InvalidPredictions, OutputSpec, score_predictions
from mle_star.tools.scoring.metrics import custom_metric, get_metric
from mle_star.tools.scoring.submission import InvalidSubmission, validate_submission

RNG = np.random.default_rng(11)
N = 40
IDS = [f"r{i:03d}" for i in range(N)]


def spec(kind: str, columns: list[str], label_columns: list[str] | None = None, classes: list[str] | None = None,
         positive_class: str | None = None) -> OutputSpec:
    return OutputSpec(id_column="id", columns=columns, kind=kind, label_columns=label_columns or ["y"],
                      classes=classes or [], positive_class=positive_class)


def shuffled(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sample(frac=1.0, random_state=3).reset_index(drop=True)


def scored(metric: str, s: OutputSpec, answers: pd.DataFrame, preds: pd.DataFrame) -> float:
    return score_predictions(get_metric(metric), s, answers, shuffled(preds))


# ---------------------------------------------------------------- fixtures per kind

BIN_Y = np.array(["yes", "no"] * (N // 2))
BIN_P = 0.3 * (BIN_Y == "yes") + RNG.uniform(0.05, 0.65, N)
BIN_ANSWERS = pd.DataFrame({"id": IDS, "y": BIN_Y})
BIN_PREDS = pd.DataFrame({"id": IDS, "p_yes": BIN_P})
BIN_SPEC = spec("probability", ["p_yes"], classes=["no", "yes"], positive_class="yes")

CLASSES = ["setosa", "versicolor", "virginica"]
CLS_Y = np.array(CLASSES)[RNG.integers(0, 3, N)]
CLS_P = (RNG.dirichlet([1, 1, 1], N) + 0.6 * (CLS_Y[:, None] == np.array(CLASSES))) / 2  # rows sum to 0.8
CLS_ANSWERS = pd.DataFrame({"id": IDS, "species": CLS_Y})
# columns deliberately not in sorted order
CLS_COLUMNS = ["virginica", "setosa", "versicolor"]
CLS_PREDS = pd.DataFrame({"id": IDS, **{c: CLS_P[:, CLASSES.index(c)] for c in CLS_COLUMNS}})
CLS_SPEC = spec("class_probabilities", CLS_COLUMNS, ["species"], classes=CLASSES)


def test_probability_scores_auc_logloss_and_thresholded_accuracy():
    truth = (BIN_Y == "yes").astype(int)
    assert scored("auc", BIN_SPEC, BIN_ANSWERS, BIN_PREDS) == pytest.approx(sk.roc_auc_score(truth, BIN_P))
    assert scored("logloss", BIN_SPEC, BIN_ANSWERS, BIN_PREDS) == pytest.approx(sk.log_loss(truth, BIN_P))
    # multi-class log loss named in prose, binary probability column: scored as binary log loss
    assert scored("multi_logloss", BIN_SPEC, BIN_ANSWERS, BIN_PREDS) == pytest.approx(sk.log_loss(truth, BIN_P))
    assert scored("accuracy", BIN_SPEC, BIN_ANSWERS, BIN_PREDS) == pytest.approx(
        sk.accuracy_score(truth, BIN_P > 0.5))


def test_probability_positive_class_decides_the_direction_of_auc():
    flipped = spec("probability", ["p_yes"], classes=["no", "yes"], positive_class="no")
    auc = scored("auc", BIN_SPEC, BIN_ANSWERS, BIN_PREDS)
    assert scored("auc", flipped, BIN_ANSWERS, BIN_PREDS) == pytest.approx(1 - auc)
    # without one, "1"-like classes are positive
    numeric = pd.DataFrame({"id": IDS, "y": (BIN_Y == "yes").astype(int)})
    assert scored("auc", spec("probability", ["p_yes"]), numeric, BIN_PREDS) == pytest.approx(auc)


def test_class_probabilities_match_columns_by_class_name():
    truth_idx = np.array([CLASSES.index(c) for c in CLS_Y])
    normalised = CLS_P / CLS_P.sum(axis=1, keepdims=True)
    expected = sk.log_loss(truth_idx, normalised, labels=[0, 1, 2])
    assert scored("multi_logloss", CLS_SPEC, CLS_ANSWERS, CLS_PREDS) == pytest.approx(expected)
    assert scored("logloss", CLS_SPEC, CLS_ANSWERS, CLS_PREDS) == pytest.approx(expected)  # refined
    argmax = np.array(CLASSES)[CLS_P.argmax(axis=1)]
    assert scored("accuracy", CLS_SPEC, CLS_ANSWERS, CLS_PREDS) == pytest.approx(sk.accuracy_score(CLS_Y, argmax))
    assert scored("macro_f1", CLS_SPEC, CLS_ANSWERS, CLS_PREDS) == pytest.approx(
        sk.f1_score(CLS_Y, argmax, average="macro"))
    assert scored("auc", CLS_SPEC, CLS_ANSWERS, CLS_PREDS) == pytest.approx(
        sk.roc_auc_score(truth_idx, normalised, multi_class="ovr", average="macro"))


def test_label_metrics_compare_labels_as_strings():
    guess = np.where(RNG.uniform(size=N) < 0.7, CLS_Y, np.array(CLASSES)[RNG.integers(0, 3, N)])
    preds = pd.DataFrame({"id": IDS, "species": guess})
    s = spec("label", ["species"], ["species"], classes=CLASSES)
    assert scored("accuracy", s, CLS_ANSWERS, preds) == pytest.approx(sk.accuracy_score(CLS_Y, guess))
    assert scored("micro_f1", s, CLS_ANSWERS, preds) == pytest.approx(sk.f1_score(CLS_Y, guess, average="micro"))
    # integer labels written as floats by a script still match
    answers = pd.DataFrame({"id": IDS, "y": (BIN_Y == "yes").astype(int)})
    floats = pd.DataFrame({"id": IDS, "y": (BIN_P > 0.5).astype(float)})
    assert scored("f1", spec("label", ["y"], classes=["0", "1"]), answers, floats) == pytest.approx(
        sk.f1_score(answers["y"], (BIN_P > 0.5).astype(int)))


def test_qwk_rounds_numeric_ratings_and_orders_named_ones():
    truth = RNG.integers(0, 5, N)
    raw = np.clip(truth + RNG.normal(0, 0.8, N), 0, 4)
    answers = pd.DataFrame({"id": IDS, "diagnosis": truth})
    preds = pd.DataFrame({"id": IDS, "diagnosis": raw})
    s = spec("label", ["diagnosis"], ["diagnosis"], classes=["0", "1", "2", "3", "4"])
    expected = sk.cohen_kappa_score(truth, np.round(raw).astype(int), weights="quadratic", labels=range(5))
    assert scored("qwk", s, answers, preds) == pytest.approx(expected)
    assert scored("qwk", spec("targets", ["diagnosis"], ["diagnosis"]), answers, preds) == pytest.approx(expected)
    names = np.array(["none", "mild", "severe"])
    t, p = RNG.integers(0, 3, N), RNG.integers(0, 3, N)
    named = spec("label", ["grade"], ["grade"], classes=list(names))
    got = scored("qwk", named, pd.DataFrame({"id": IDS, "grade": names[t]}), pd.DataFrame({"id": IDS, "grade": names[p]}))
    assert got == pytest.approx(sk.cohen_kappa_score(t, p, weights="quadratic", labels=range(3)))


def test_targets_one_and_several_columns():
    y = RNG.gamma(2.0, 2.0, (N, 2))
    p = np.abs(y + RNG.normal(0, 1, (N, 2)))
    answers = pd.DataFrame({"id": IDS, "fe": y[:, 0], "bg": y[:, 1]})
    preds = pd.DataFrame({"id": IDS, "fe": p[:, 0], "bg": p[:, 1]})
    both = spec("targets", ["fe", "bg"], ["fe", "bg"])
    assert scored("rmsle", both, answers, preds) == pytest.approx(sk.root_mean_squared_log_error(y, p))
    assert scored("rmse", both, answers, preds) == pytest.approx(
        np.mean([sk.root_mean_squared_error(y[:, j], p[:, j]) for j in range(2)]))
    one = spec("targets", ["fe"], ["fe"])
    assert scored("mae", one, answers, preds) == pytest.approx(sk.mean_absolute_error(y[:, 0], p[:, 0]))
    assert scored("r2", one, answers, preds) == pytest.approx(sk.r2_score(y[:, 0], p[:, 0]))


def test_multilabel_columns_are_scored_column_wise():
    labels = ["toxic", "obscene", "insult"]
    y = (RNG.uniform(size=(N, 3)) < 0.4).astype(int)
    p = np.clip(0.4 * y + RNG.uniform(0, 0.6, (N, 3)), 0, 1)
    answers = pd.DataFrame({"id": IDS, **{f"{c}_true": y[:, j] for j, c in enumerate(labels)}})
    preds = pd.DataFrame({"id": IDS, **{c: p[:, j] for j, c in enumerate(labels)}})
    s = spec("multilabel", labels, [f"{c}_true" for c in labels])
    assert scored("auc", s, answers, preds) == pytest.approx(sk.roc_auc_score(y, p, average="macro"))
    assert scored("logloss", s, answers, preds) == pytest.approx(np.mean([sk.log_loss(y[:, j], p[:, j]) for j in range(3)]))


def test_ranked_labels_are_scored_with_map_at_k():
    answers = pd.DataFrame({"id": ["a", "b", "c"], "place": ["12", "7", "3"]})
    preds = pd.DataFrame({"id": ["c", "a", "b"], "place": ["1 2 3", "12 5 9", "5 7 12"]})
    s = spec("ranked_labels", ["place"], ["place"])
    assert score_predictions(get_metric("map@3"), s, answers, preds) == pytest.approx((1 + 1 / 2 + 1 / 3) / 3)
    assert score_predictions(get_metric("map@2"), s, answers, preds) == pytest.approx((1 + 1 / 2) / 3)


def test_integer_ids_match_ids_written_as_floats_or_text():
    answers = pd.DataFrame({"id": [1, 2, 3, 4], "y": [0, 1, 0, 1]})
    preds = pd.DataFrame({"id": [4.0, 3.0, 2.0, 1.0], "p": [0.9, 0.2, 0.7, 0.1]})
    assert score_predictions(get_metric("auc"), spec("probability", ["p"]), answers, preds) == 1.0
    preds["id"] = ["4", "3", "2", "1"]
    assert score_predictions(get_metric("auc"), spec("probability", ["p"]), answers, preds) == 1.0


def _bin_preds(**changes) -> pd.DataFrame:
    frame = BIN_PREDS.copy()
    for row, value in changes.items():
        frame.loc[int(row[1:]), "p_yes"] = value
    return frame


@pytest.mark.parametrize(
    ("metric", "s", "answers", "preds", "reason"),
    [
        ("auc", BIN_SPEC, BIN_ANSWERS, BIN_PREDS.iloc[1:], "lack 1 of the 40"),
        ("auc", BIN_SPEC, BIN_ANSWERS, pd.concat([BIN_PREDS, pd.DataFrame({"id": ["zz"], "p_yes": [0.5]})]), "not expected"),
        ("auc", BIN_SPEC, BIN_ANSWERS, pd.concat([BIN_PREDS, BIN_PREDS.iloc[:1]]), "duplicate ids"),
        ("auc", BIN_SPEC, BIN_ANSWERS, BIN_PREDS.rename(columns={"p_yes": "p"}), "lack column 'p_yes'"),
        ("auc", BIN_SPEC, BIN_ANSWERS, _bin_preds(r3=np.nan), "missing values"),
        ("auc", BIN_SPEC, BIN_ANSWERS, _bin_preds(r3=np.inf), "infinite"),
        ("auc", BIN_SPEC, BIN_ANSWERS, BIN_PREDS.assign(p_yes=["high"] + list(BIN_P[1:])), "non-numeric"),
        ("logloss", BIN_SPEC, BIN_ANSWERS, _bin_preds(r3=1.5), r"outside \[0, 1\]"),
        ("rmse", BIN_SPEC, BIN_ANSWERS, BIN_PREDS, None),  # allowed: RMSE of a probability
        ("map@3", BIN_SPEC, BIN_ANSWERS, BIN_PREDS, "cannot score 'probability'"),
        ("auc", spec("probability", ["p_yes"], ["species"]), CLS_ANSWERS, BIN_PREDS, "binary label"),
        ("qwk", CLS_SPEC, CLS_ANSWERS.assign(species="tulip"), CLS_PREDS, "'tulip' has no probability column"),
        ("mae", CLS_SPEC, CLS_ANSWERS, CLS_PREDS, "cannot score 'class_probabilities'"),
        ("auc", spec("targets", ["v"], ["v"]), pd.DataFrame({"id": IDS, "v": BIN_P}),
         pd.DataFrame({"id": IDS, "v": BIN_P}), "cannot score 'targets'"),
        ("rmsle", spec("targets", ["v"], ["v"]), pd.DataFrame({"id": IDS, "v": BIN_P}),
         pd.DataFrame({"id": IDS, "v": BIN_P - 2}), "above -1"),
        ("accuracy", spec("label", ["species"], ["species"], classes=CLASSES), CLS_ANSWERS,
         CLS_ANSWERS.assign(species="tulip"), "not known classes"),
    ],
)
def test_invalid_predictions_are_refused_with_a_reason(metric, s, answers, preds, reason):
    if reason is None:
        assert score_predictions(get_metric(metric), s, answers, preds) > 0
        return
    with pytest.raises(InvalidPredictions, match=reason):
        score_predictions(get_metric(metric), s, answers, preds)


def test_a_metric_mle_star_cannot_compute_is_refused():
    custom = custom_metric("## Evaluation\n\nSubmissions are evaluated on the Levenshtein distance.")
    with pytest.raises(InvalidPredictions, match="must report its own score"):
        score_predictions(custom, BIN_SPEC, BIN_ANSWERS, BIN_PREDS)


def test_an_all_zero_probability_row_is_refused():
    preds = CLS_PREDS.copy()
    preds.loc[5, CLS_COLUMNS] = 0.0
    with pytest.raises(InvalidPredictions, match="all zero"):
        score_predictions(get_metric("multi_logloss"), CLS_SPEC, CLS_ANSWERS, preds)


# ---------------------------------------------------------------- validate_submission


@pytest.fixture
def sample(tmp_path):
    path = tmp_path / "sample_submission.csv"
    pd.DataFrame({"id": range(1, 6), "target": 0.5}).to_csv(path, index=False)
    return path


GOOD = "id,target\n3,0.1\n1,0.9\n2,0.5\n5,0.0\n4,1.0\n"
PROB = spec("probability", ["target"], ["target"])


def write(tmp_path, text: str, name: str = "submission.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_a_good_submission_is_returned_as_read(tmp_path, sample):
    sub = validate_submission(write(tmp_path, GOOD), sample, "id")  # the older positional id column
    assert list(sub["id"]) == [3, 1, 2, 5, 4] and sub["target"].dtype == float
    assert len(validate_submission(write(tmp_path, GOOD), sample)) == 5
    assert len(validate_submission(write(tmp_path, GOOD), pd.read_csv(sample), PROB)) == 5


def test_expected_ids_replace_the_samples(tmp_path, sample):
    path = write(tmp_path, "id,target\n17,0.2\n18,0.3\n")
    assert len(validate_submission(path, sample, PROB, expected_ids=["17", "18"])) == 2
    with pytest.raises(InvalidSubmission, match="expected"):
        validate_submission(path, sample, PROB, expected_ids=["17", "19"])


def test_links_fifos_and_directories_are_not_read(tmp_path, sample):
    target = write(tmp_path, GOOD, "real.csv")
    link = tmp_path / "submission.csv"
    link.symlink_to(target)
    with pytest.raises(InvalidSubmission, match="is a symbolic link"):
        validate_submission(link, sample, PROB)
    fifo = tmp_path / "fifo.csv"
    os.mkfifo(fifo)
    with pytest.raises(InvalidSubmission, match="not a regular file"):  # and does not block
        validate_submission(fifo, sample, PROB)
    with pytest.raises(InvalidSubmission, match="not a regular file"):
        validate_submission(tmp_path, sample, PROB)
    with pytest.raises(InvalidSubmission, match="was not written"):
        validate_submission(tmp_path / "absent.csv", sample, PROB)


def test_size_limits(tmp_path, sample):
    with pytest.raises(InvalidSubmission, match="over the 10-byte limit"):
        validate_submission(write(tmp_path, GOOD), sample, PROB, max_bytes=10)
    with pytest.raises(InvalidSubmission, match="empty"):
        validate_submission(write(tmp_path, ""), sample, PROB)


@pytest.mark.parametrize(
    ("text", "s", "reason"),
    [
        ('id,target\n1,"0.5\n', PROB, "cannot read"),
        ("id,score\n1,0.1\n2,0.9\n3,0.5\n5,0.0\n4,1.0\n", PROB, "differ from the sample"),
        ("id,target\n1,0.1\n2,0.9\n", PROB, "2 rows, expected 5"),
        ("id,target\n1,0.1\n1,0.9\n2,0.5\n5,0.0\n4,1.0\n", PROB, "duplicate ids"),
        ("id,target\n1,0.1\n6,0.9\n2,0.5\n5,0.0\n4,1.0\n", PROB, "lack 1 of the 5"),
        ("id,target\n1,0.1\n3,\n2,0.5\n5,0.0\n4,1.0\n", PROB, "missing values"),
        ("id,target\n1,0.1\n3,\n2,0.5\n5,0.0\n4,1.0\n", None, "missing values"),
        ("id,target\n1,0.1\n3,inf\n2,0.5\n5,0.0\n4,1.0\n", None, "infinite"),
        ("id,target\n1,0.1\n3,inf\n2,0.5\n5,0.0\n4,1.0\n", spec("targets", ["target"], ["target"]), "infinite"),
        ("id,target\n1,0.1\n3,1.2\n2,0.5\n5,0.0\n4,1.0\n", PROB, r"outside \[0, 1\]"),
        ("id,target\n1,0.1\n3,-0.2\n2,0.5\n5,0.0\n4,1.0\n", spec("multilabel", ["target"], ["target"]), r"outside \[0, 1\]"),
        ("id,target\n1,0.1\n3,high\n2,0.5\n5,0.0\n4,1.0\n", spec("targets", ["target"], ["target"]), "non-numeric"),
        ("id,target\n1,0.1\n3,high\n2,0.5\n5,0.0\n4,1.0\n", None, "numeric like the sample"),
        ("id,target\n1,cat\n3,dog\n2,cow\n5,cat\n4,cat\n", spec("label", ["target"], ["target"], ["cat", "dog"]),
         "not known classes.*'cow'"),
        ('id,target\n1,a b\n3," "\n2,c\n5,d\n4,e\n', spec("ranked_labels", ["target"], ["target"]), "empty label lists"),
    ],
)
def test_bad_submissions_are_refused_with_a_reason(tmp_path, sample, text, s, reason):
    with pytest.raises(InvalidSubmission, match=reason):
        validate_submission(write(tmp_path, text), sample, s)


def test_class_probabilities_need_not_sum_to_one(tmp_path):
    sample = write(tmp_path, "id,cat,dog\n1,0.5,0.5\n2,0.5,0.5\n", "sample.csv")
    s = spec("class_probabilities", ["cat", "dog"], ["label"], ["cat", "dog"])
    assert len(validate_submission(write(tmp_path, "id,cat,dog\n1,0.9,0.9\n2,0.1,0.3\n"), sample, s)) == 2
    with pytest.raises(InvalidSubmission, match="all zero"):
        validate_submission(write(tmp_path, "id,cat,dog\n1,0,0\n2,0.1,0.3\n"), sample, s)
    assert issubclass(InvalidSubmission, InvalidPredictions)


# -- is a gain more than the held-out rows' noise? -----------------------------------------------
def _record(folder, ids, values, column: str, id_column: str) -> dict:
    (folder / "outputs").mkdir(parents=True)
    pd.DataFrame({id_column: ids, column: values}).to_csv(folder / "outputs" / "valid_predictions.csv", index=False)
    return {"workdir": str(folder)}


def test_a_gain_must_beat_the_noise_of_the_paired_held_out_difference(diabetes_task, tmp_path):
    """A change that is noise (moves random rows nearer, the others farther) and happens to win
    on the raw score, wins by less than one standard error of the paired difference; a model that is
    better on every row does."""
    from conftest import task_record

    from mle_star.tools.scoring.judge import clearly_better, gain_se
    from mle_star.tools.scoring.metrics import metric_of
    from mle_star.tools.task.dataview import load_answers

    task = task_record(diabetes_task, tmp_path / "run")
    answers_path = str(tmp_path / "run" / "private" / "answers.csv")
    answers = load_answers(answers_path)
    id_column, column = task["id_column"], task["output"]["columns"][0]
    truth = answers[task["output"]["label_columns"][0]].to_numpy(dtype=float)
    rng = np.random.default_rng(0)
    noise = rng.normal(0, 50, len(truth))
    old_values = truth + noise
    def mse(values: np.ndarray) -> float:
        return float(np.mean((values - truth) ** 2))

    for _ in range(50):  # a change that is noise: 10% nearer the truth on random rows, farther on the others
        lucky = old_values - 0.1 * rng.choice([-1.0, 1.0], len(truth)) * noise
        if mse(lucky) < mse(old_values):  # ... that happens to score better
            break
    recs = {name: _record(tmp_path / name, answers[id_column], values, column, id_column)
            for name, values in (("old", old_values), ("lucky", lucky), ("better", truth + 0.6 * noise))}
    metric = metric_of(task)
    for rec in recs.values():
        rec["score"] = score_predictions(metric, task["output"], answers,
                                         pd.read_csv(rec["workdir"] + "/outputs/valid_predictions.csv"))
    assert metric.better(recs["lucky"]["score"], recs["old"]["score"])  # it does win on the raw score
    se = gain_se(task, answers_path, recs["lucky"]["workdir"], recs["old"]["workdir"])
    assert se is not None and se > 0
    assert clearly_better(task, answers_path, recs["lucky"], recs["old"], 1.0) == (False, se)
    assert clearly_better(task, answers_path, recs["better"], recs["old"], 1.0)[0]
    assert clearly_better(task, answers_path, recs["lucky"], recs["old"], 0.0) == (True, None)  # 0: any gain
    assert not clearly_better(task, answers_path, recs["old"], recs["better"], 0.0)[0]  # a loss never wins


def test_a_submission_with_the_sample_columns_in_another_order_is_valid(tmp_path):
    """Graders match columns by name; the id need not come first."""
    sample = write(tmp_path, "target,id\n0.5,1\n0.5,2\n", "sample.csv")
    s = spec("probability", ["target"], ["target"], ["0", "1"])
    s["id_column"] = "id"
    assert len(validate_submission(write(tmp_path, "id,target\n2,0.9\n1,0.1\n"), sample, s)) == 2
