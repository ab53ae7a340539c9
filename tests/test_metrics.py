"""Metrics: values against sklearn, direction of every comparison, and reading Kaggle prose."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from sklearn import metrics as sk

from mle_star.tools.scoring.metrics import (
    METRICS,
    Metric,
    UnknownMetric,
    custom_metric,
    detect_metric,
    evaluation_section,
    get_metric,
    guess_direction,
    metric_of,
    refine,
)

RNG = np.random.default_rng(7)
N = 60
Y_BIN = np.array([0, 1] * (N // 2))
P_BIN = 0.3 * Y_BIN + RNG.uniform(0.05, 0.65, N)  # informative, not perfect
Y_REG = RNG.gamma(2.0, 3.0, (N, 2))  # positive, like prices or formation energies
P_REG = np.abs(Y_REG + RNG.normal(0, 1.5, (N, 2)))
LABELS = np.array(["cat", "dog", "bird"])[RNG.integers(0, 3, N)]
GUESS = np.where(RNG.uniform(size=N) < 0.7, LABELS, np.array(["cat", "dog", "bird"])[RNG.integers(0, 3, N)])


def score(name: str, truth, pred) -> float:
    return get_metric(name).compute(truth, pred)


# ---------------------------------------------------------------- values


@pytest.mark.parametrize(
    ("name", "reference"),
    [
        ("rmse", lambda: sk.root_mean_squared_error(Y_REG[:, 0], P_REG[:, 0])),
        ("mse", lambda: sk.mean_squared_error(Y_REG[:, 0], P_REG[:, 0])),
        ("rmsle", lambda: sk.root_mean_squared_log_error(Y_REG[:, 0], P_REG[:, 0])),
        ("mae", lambda: sk.mean_absolute_error(Y_REG[:, 0], P_REG[:, 0])),
        ("medae", lambda: sk.median_absolute_error(Y_REG[:, 0], P_REG[:, 0])),
        ("r2", lambda: sk.r2_score(Y_REG[:, 0], P_REG[:, 0])),
        ("mape", lambda: sk.mean_absolute_percentage_error(Y_REG[:, 0], P_REG[:, 0])),
    ],
)
def test_regression_metrics_match_sklearn(name, reference):
    assert score(name, Y_REG[:, 0], P_REG[:, 0]) == pytest.approx(reference(), rel=1e-12)


@pytest.mark.parametrize(
    ("name", "reference"),
    [
        ("mean_column_rmse", lambda: sk.root_mean_squared_error(Y_REG, P_REG)),
        ("mean_column_rmsle", lambda: sk.root_mean_squared_log_error(Y_REG, P_REG)),
        ("mean_column_mae", lambda: sk.mean_absolute_error(Y_REG, P_REG)),
        ("r2", lambda: sk.r2_score(Y_REG, P_REG)),
        ("mcrmse", lambda: np.mean([sk.root_mean_squared_error(Y_REG[:, j], P_REG[:, j]) for j in range(2)])),
    ],
)
def test_column_wise_metrics_average_the_columns(name, reference):
    assert score(name, Y_REG, P_REG) == pytest.approx(reference(), rel=1e-12)


def test_smape_is_kaggles_percentage_with_zero_over_zero_as_zero():
    truth, pred = np.array([100.0, 0.0, 50.0]), np.array([110.0, 0.0, 25.0])
    expected = 100 / 3 * (20 / 210 + 0 + 50 / 75)
    assert score("smape", truth, pred) == pytest.approx(expected)


def test_rmsle_refuses_values_at_or_below_minus_one():
    with pytest.raises(ValueError, match="above -1"):
        score("rmsle", [1.0, 2.0], [1.0, -1.5])


def test_classification_metrics_match_sklearn():
    assert score("auc", Y_BIN, P_BIN) == pytest.approx(sk.roc_auc_score(Y_BIN, P_BIN))
    assert 0.5 < score("auc", Y_BIN, P_BIN) < 1.0
    assert score("accuracy", LABELS, GUESS) == pytest.approx(sk.accuracy_score(LABELS, GUESS))
    hard = (P_BIN > 0.5).astype(int)
    assert score("f1", Y_BIN, hard) == pytest.approx(sk.f1_score(Y_BIN, hard))
    for average in ("macro", "micro", "weighted"):
        assert score(f"{average}_f1", LABELS, GUESS) == pytest.approx(sk.f1_score(LABELS, GUESS, average=average))
    assert score("macro_f1", LABELS, GUESS) != pytest.approx(score("micro_f1", LABELS, GUESS))


def test_log_losses_match_sklearn_and_clip_like_kaggle():
    assert score("logloss", Y_BIN, P_BIN) == pytest.approx(sk.log_loss(Y_BIN, P_BIN))
    # A confident wrong answer costs -log(1e-15), not infinity.
    assert score("logloss", [1, 0], [0.0, 0.0]) == pytest.approx(-math.log(1e-15) / 2)
    probs = RNG.dirichlet([2, 2, 2], N)
    y = RNG.integers(0, 3, N)
    assert score("multi_logloss", y, probs) == pytest.approx(sk.log_loss(y, probs, labels=[0, 1, 2]))
    # Rows are rescaled to sum to one before scoring, as Kaggle does.
    assert score("multi_logloss", y, probs * 3.0) == pytest.approx(score("multi_logloss", y, probs))
    labels = np.column_stack([Y_BIN, 1 - Y_BIN, RNG.integers(0, 2, N)])
    preds = np.column_stack([P_BIN, 1 - P_BIN, RNG.uniform(0.1, 0.9, N)])
    columnwise = np.mean([sk.log_loss(labels[:, j], preds[:, j]) for j in range(3)])
    assert score("multilabel_logloss", labels, preds) == pytest.approx(columnwise)


def test_mean_column_auc_matches_sklearn_and_skips_constant_columns():
    labels = np.column_stack([Y_BIN, RNG.integers(0, 2, N), 1 - Y_BIN])
    preds = np.column_stack([P_BIN, RNG.uniform(size=N), RNG.uniform(size=N)])
    assert score("mean_column_auc", labels, preds) == pytest.approx(sk.roc_auc_score(labels, preds, average="macro"))
    with_constant = np.column_stack([labels, np.zeros(N)])
    assert score("mean_column_auc", with_constant, np.column_stack([preds, P_BIN])) == pytest.approx(
        sk.roc_auc_score(labels, preds, average="macro"))
    with pytest.raises(ValueError, match="one class"):
        score("mean_column_auc", np.zeros((4, 2)), np.ones((4, 2)))


def test_qwk_matches_sklearn_over_the_contiguous_rating_range():
    truth = RNG.integers(0, 5, N)
    pred = np.clip(truth + RNG.integers(-1, 2, N), 0, 4)
    assert score("qwk", truth, pred) == pytest.approx(sk.cohen_kappa_score(truth, pred, weights="quadratic"))
    # Ratings 0, 1 and 4 only: Kaggle's weights use the full 0..4 range, sklearn's default does not.
    sparse_t, sparse_p = np.array([0, 1, 4, 4, 1, 0]), np.array([0, 4, 4, 1, 1, 0])
    expected = sk.cohen_kappa_score(sparse_t, sparse_p, weights="quadratic", labels=np.arange(5))
    assert score("qwk", sparse_t, sparse_p) == pytest.approx(expected)
    assert expected != pytest.approx(sk.cohen_kappa_score(sparse_t, sparse_p, weights="quadratic"))
    assert score("qwk", [3, 3], [3, 3]) == 1.0
    with pytest.raises(ValueError, match="integer"):
        score("qwk", [1, 2], [1.5, 2])


def test_map_at_k_follows_kaggles_definition():
    truth = ["a", "b", "c", "d"]
    pred = [["a", "x", "y"], ["x", "b", "y"], ["x", "y", "c"], ["x", "y", "z"]]
    assert score("map@3", truth, pred) == pytest.approx((1 + 1 / 2 + 1 / 3 + 0) / 4)
    assert score("map@1", truth, pred) == pytest.approx(1 / 4)
    assert score("map@3", ["a"], ["a a b"]) == 1.0  # a repeated label earns nothing twice
    assert score("map@3", ["b"], [["a", "a", "b"]]) == pytest.approx(1 / 3)
    # several true labels: precision at each hit, divided by min(#true, k)
    assert score("map@3", [{"a", "b"}], [["a", "c", "b"]]) == pytest.approx((1 + 2 / 3) / 2)
    assert score("map", ["e"], [["a", "b", "c", "d", "e"]]) == pytest.approx(1 / 5)


def test_a_custom_metric_cannot_be_computed():
    with pytest.raises(NotImplementedError):
        custom_metric("## Evaluation\n\nScored on a secret formula.").compute([1], [1])


# ---------------------------------------------------------------- names and directions


@pytest.mark.parametrize(
    ("alias", "name"),
    [
        ("ROC_AUC", "auc"), ("roc-auc", "auc"), ("log_loss", "logloss"), ("mlogloss", "multi_logloss"),
        ("kappa", "qwk"), ("quadratic_weighted_kappa", "qwk"), ("f1_micro", "micro_f1"),
        ("f1_macro", "macro_f1"), ("MCRMSE", "mean_column_rmse"), ("map3", "map@3"), ("MAP@12", "map@12"),
        ("map_at_5", "map@5"), ("mapk", "map"), ("r2", "r2"),
    ],
)
def test_aliases_resolve_to_canonical_names(alias, name):
    assert get_metric(alias).name == name


def test_unknown_metric_names_the_known_ones():
    with pytest.raises(UnknownMetric, match="known: .*map@k"):
        get_metric("banana")
    assert get_metric("map@5").k == 5


@pytest.mark.parametrize(
    ("name", "higher"),
    [("auc", True), ("qwk", True), ("map@3", True), ("r2", True), ("micro_f1", True), ("mean_column_auc", True),
     ("logloss", False), ("multilabel_logloss", False), ("rmsle", False), ("mean_column_rmsle", False),
     ("mape", False), ("smape", False)],
)
def test_directions(name, higher):
    assert get_metric(name).higher_is_better is higher


def test_probability_metrics_say_so():
    assert {m.name for m in METRICS.values() if m.needs_proba} == {
        "auc", "logloss", "multi_logloss", "multilabel_logloss", "mean_column_auc"}


def test_better_handles_both_directions_and_missing_scores():
    auc, rmse = get_metric("auc"), get_metric("rmse")
    assert auc.better(0.9, 0.8) and not auc.better(0.8, 0.9)
    assert rmse.better(0.8, 0.9) and not rmse.better(0.9, 0.8)
    assert not rmse.better(0.5, 0.5) and rmse.better(0.5, 0.5, strict=False)
    assert not auc.better(None, 0.1) and auc.better(0.1, None)
    assert not auc.better(float("nan"), 0.1) and auc.better(0.1, float("nan"))
    assert rmse.with_direction(True).better(0.9, 0.8)


def test_ranked_and_best_of_are_best_first_and_stable():
    items = [{"n": 0, "score": 0.5}, {"n": 1, "score": None}, {"n": 2, "score": 0.1},
             {"n": 3, "score": 0.5}, {"n": 4, "score": 0.7}]
    assert [i["n"] for i in get_metric("rmse").ranked(items)] == [2, 0, 3, 4]
    assert [i["n"] for i in get_metric("auc").ranked(items)] == [4, 0, 3, 2]
    assert get_metric("auc").best_of([{"n": 0, "score": 0.7}, {"n": 1, "score": 0.7}])["n"] == 0
    assert get_metric("auc").best_of([{"score": None}]) is None
    assert get_metric("auc").best_of([{"val": 0.2}, {"val": 0.3}], key="val") == {"val": 0.3}


def test_metric_of_a_task_record_keeps_a_user_direction():
    assert metric_of({"metric": "rmse", "lower_is_better": True}).better(0.2, 0.3)
    assert metric_of({"metric": "rmse", "lower_is_better": False}).better(0.3, 0.2)  # --higher-is-better
    custom = metric_of({"metric": "custom", "metric_implemented": False, "lower_is_better": True,
                        "description": "Scored by the weighted zebra distance."})
    assert not custom.implemented and custom.better(0.1, 0.2) and not custom.better(None, 0.2)


# ---------------------------------------------------------------- detection

APTOS = """# Overview
Millions of people suffer from diabetic retinopathy. Aravind hopes to improve the accuracy of screening.

## Evaluation

Submissions are scored based on the quadratic weighted kappa, which measures the agreement between two
ratings. This metric typically varies from 0 (random agreement between raters) to 1 (complete agreement
between raters). In the event that there is less agreement between the raters than expected by chance,
this metric may go below 0.

## Submission File
For each id_code in the test set, you must predict a diagnosis (0-4).
"""

JIGSAW = """## Evaluation

Update: Jan 30, 2018. Due to changes in the competition dataset, we have changed the evaluation metric of this competition.

Submissions are now evaluated on the mean column-wise ROC AUC. In other words, the score is the average of the individual AUCs of each predicted column.

## Submission File

For each id in the test set, you must predict a probability for each of the six possible types of comment
toxicity (toxic, severe_toxic, obscene, threat, insult, identity_hate).
"""

JIGSAW_SHORT = "## Evaluation\n\nThe score is the average of the individual AUCs of each predicted column.\n"

NOMAD = r"""# Evaluation

Submissions are evaluated on the column-wise root mean squared logarithmic error.

The RMSLE for a single column calculated as

$$\sqrt{\frac{1}{n} \sum_{i=1}^n (\log(p_i + 1) - \log(a_i+1))^2 }$$

The final score is the mean of the RMSLE over all columns (in this case, 2).

## Submission File
id,formation_energy_ev_natom,bandgap_energy_ev
"""

NOMAD_SHORT = "## Evaluation\n\nThe leaderboard shows the mean of the RMSLE of each target.\n"

SANTANDER = """## Evaluation

Submissions are evaluated according to the Mean Average Precision @ 7 (MAP@7):

$$MAP@7 = \\frac{1}{|U|} \\sum_{u=1}^{|U|} \\frac{1}{min(m, 7)} \\sum_{k=1}^{min(n,7)} P(k)$$
"""

WHALE = """## Evaluation

Submissions are evaluated according to the Mean Average Precision @ 5 (MAP@5). For each image you may
predict up to 5 whale ids, separated by spaces.
"""

PIZZA = """## Evaluation

Submissions are evaluated on area under the ROC curve between the predicted probability that a request
will get pizza and the observed outcomes.
"""

HOUSE = """## Evaluation

Submissions are scored on the root mean squared error. RMSE is defined as the square root of the mean of
the squared differences between predictions and targets.
"""

SPOOKY = """## Evaluation

Submissions are evaluated using multi-class logarithmic loss. Each id has one true class. For each id,
you must submit a predicted probability for each author.
"""

LEAF = """## Evaluation

Submissions are evaluated using the log loss. For each image, you must submit a set of predicted
probabilities, one of each class. The formula is
$$ logloss = -\\frac{1}{N}\\sum_{i=1}^N\\sum_{j=1}^M y_{ij}\\log(p_{ij}) $$
"""

STATOIL = "## Evaluation\n\nSubmissions are evaluated on the log loss between the predicted values and the ground truth.\n"

MICRO = "## Evaluation\n\nSubmissions will be evaluated based on their micro-averaged F1 score.\n"

MOA = "## Evaluation\n\nSubmissions are evaluated by the mean columnwise log loss over the 206 targets.\n"

ELL = "## Evaluation\n\nSubmissions are scored using MCRMSE, mean columnwise root mean squared error.\n"

TITANIC = """Evaluation
Your score is the percentage of passengers you correctly predict. This is known as accuracy.

Submission File Format
PassengerId,Survived
"""


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("## Evaluation\n\nSubmissions are evaluated on **root mean squared logarithmic error**.", "rmsle"),
        ("## Evaluation\n\nSubmissions are evaluated on the **area under the ROC curve** (AUC).", "auc"),
        ("## Evaluation\n\nSubmissions are evaluated with **multi-class log loss**.", "multi_logloss"),
        ("## Evaluation\n\nSubmissions are evaluated on **classification accuracy**.", "accuracy"),
        ("## Evaluation\n\nThe metric is RMSE between predictions and targets.", "rmse"),
        ("## Evaluation\n\nMean Absolute Error.\n## Data\nThe accuracy of sensors varies.", "mae"),
        (APTOS, "qwk"), (JIGSAW, "mean_column_auc"), (JIGSAW_SHORT, "mean_column_auc"),
        (NOMAD, "mean_column_rmsle"), (NOMAD_SHORT, "mean_column_rmsle"), (SANTANDER, "map@7"),
        (WHALE, "map@5"), (PIZZA, "auc"), (HOUSE, "rmse"), (SPOOKY, "multi_logloss"), (LEAF, "multi_logloss"),
        (STATOIL, "logloss"), (MICRO, "micro_f1"), (MOA, "multilabel_logloss"), (ELL, "mean_column_rmse"),
        (TITANIC, "accuracy"),
        ("## Evaluation\n\nMean Average Precision @ 3 (MAP@3) is used.", "map@3"),
        ("## Evaluation\n\nWe use the mean squared error.", "mse"),
        ("## Evaluation\n\nScored on the Symmetric mean absolute percentage error (SMAPE).", "smape"),
        ("## Evaluation\n\nThe coefficient of determination (R2) between predictions and labels.", "r2"),
        ("## Evaluation\n\nThe macro F1 score over the 10 classes.", "macro_f1"),
    ],
)
def test_detects_metric_from_kaggle_prose(text, name):
    assert detect_metric(text).name == name


@pytest.mark.parametrize(
    "text",
    [
        # a custom metric in the Evaluation section; the overview's "accuracy" must not win
        "# Overview\nImprove the accuracy of OCR.\n# Evaluation\nSubmissions are evaluated on the mean Levenshtein distance.\n",
        # object-detection mAP over IoU thresholds is not MAP@k of ranked labels
        "## Evaluation\n\nThe mean average precision @ 5 at different intersection over union (IoU) thresholds.",
        # PR-AUC is not ROC AUC
        "## Evaluation\n\nSubmissions are evaluated on the area under the precision-recall curve (PR AUC).",
        "## Evaluation\n\nSubmissions are evaluated on the weighted mean absolute error, weights given below.",
        "A task with no word about scoring.",
    ],
)
def test_does_not_claim_a_metric_it_cannot_compute(text):
    assert detect_metric(text) is None


def test_evaluation_section_stops_at_the_next_heading():
    assert evaluation_section(APTOS).startswith("Submissions are scored")
    assert "Submission File" not in evaluation_section(APTOS)
    assert "$$" in evaluation_section(NOMAD) and "id,formation" not in evaluation_section(NOMAD)
    assert "PassengerId" not in evaluation_section(TITANIC)
    assert evaluation_section("# Overview\nNothing here.") is None


@pytest.mark.parametrize(
    ("text", "higher"),
    [
        ("## Evaluation\n\nThe score is a custom cost; lower is better.", False),
        ("## Evaluation\n\nParticipants should minimize the total weighted tardiness.", False),
        ("## Evaluation\n\nSubmissions are evaluated on the mean Levenshtein distance.", False),
        ("## Evaluation\n\nWe use a weighted logarithmic loss with per-class weights.", False),
        ("## Evaluation\n\nThe score is the normalized forecast error of each store.", False),
        ("## Evaluation\n\nThe score is between 0 and 1, where 1 is perfect.", True),
        ("## Evaluation\n\nSubmissions are scored with the Dice coefficient.", True),
        ("## Evaluation\n\nThe metric is the Pearson correlation between predictions and targets.", True),
        ("## Evaluation\n\nThe goal is to maximize the competition utility score.", True),
        ("## Evaluation\n\nSubmissions get a distance-based score where higher is better.", True),
        ("## Evaluation\n\nThe metric is described in the attached notebook.", None),
        # the section's own word beats a "maximize" in the overview
        ("# Overview\nHelp stores maximize sales.\n# Evaluation\nScored on the weighted forecast error.", False),
        ("# Overview\nThe error bars are large; higher scores are better.\n# Evaluation\nA custom score.", True),
    ],
)
def test_guess_direction_reads_the_prose(text, higher):
    assert guess_direction(text) is higher


def test_custom_metric_names_the_metric_and_guesses_its_direction():
    text = "# Overview\nRead receipts.\n# Evaluation\nSubmissions are evaluated using the **Levenshtein distance** between the predicted and true strings.\n"
    metric = custom_metric(text)
    assert (metric.name, metric.title, metric.higher_is_better, metric.implemented) == (
        "custom", "Levenshtein distance", False, False)
    metric = custom_metric("## Evaluation\n\nThe evaluation metric for this competition is Mean F1-Score, averaged over rows.")
    assert metric.title == "Mean F1-Score" and metric.higher_is_better
    unnamed = custom_metric("Predict well.")
    assert unnamed.title == "the metric described in the task" and unnamed.higher_is_better


@pytest.mark.parametrize(
    ("name", "kind", "n", "refined"),
    [
        ("logloss", "class_probabilities", 3, "multi_logloss"),
        ("multi_logloss", "probability", 1, "logloss"),
        ("logloss", "multilabel", 6, "multilabel_logloss"),
        ("multi_logloss", "multilabel", 6, "multilabel_logloss"),
        ("auc", "multilabel", 6, "mean_column_auc"),
        ("auc", "class_probabilities", 3, "mean_column_auc"),
        ("rmse", "targets", 2, "mean_column_rmse"),
        ("rmsle", "targets", 2, "mean_column_rmsle"),
        ("mae", "targets", 3, "mean_column_mae"),
        ("mean_column_rmsle", "targets", 1, "rmsle"),
        ("rmse", "targets", 1, "rmse"),
        ("map@3", "ranked_labels", 1, "map@3"),
        ("qwk", "label", 1, "qwk"),
        ("auc", "probability", 1, "auc"),
    ],
)
def test_refine_fits_the_metric_to_the_output_shape(name, kind, n, refined):
    assert refine(get_metric(name), kind, n).name == refined


def test_refine_keeps_a_user_chosen_direction_and_custom_metrics():
    flipped = get_metric("logloss").with_direction(True)
    assert refine(flipped, "class_probabilities", 3).higher_is_better is True
    custom = Metric("custom", "x", True, False, implemented=False)
    assert refine(custom, "targets", 3) is custom


def test_a_metric_is_stored_once_in_the_task_and_read_back_whole():
    """The task carries its metric as plain values; metric_of rebuilds the same object from
    them and never re-reads the description (a custom metric's wording)."""
    from mle_star.tools.scoring.metrics import METRICS, Metric, custom_metric, map_at, metric_of

    every = [*METRICS.values(), map_at(5), custom_metric("Submissions are scored on the weighted flurb; lower is better.")]
    for metric in every:
        assert Metric.from_spec(json.loads(json.dumps(metric.spec()))) == metric
    stored = custom_metric("Submissions are scored on the weighted flurb; lower is better.").with_direction(True)
    task = {"metric": "custom", "metric_implemented": False, "lower_is_better": False, "description": "",
            "metric_spec": stored.spec()}
    assert metric_of(task) == stored and metric_of(task).better(2.0, 1.0)
    assert Metric.direction(False).better(1.0, 2.0) and not Metric.direction(False).better(None, 2.0)
