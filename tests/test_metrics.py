"""Metric detection from real task descriptions and the direction of every comparison."""

from __future__ import annotations

import pytest

from mle_star.tools.metrics import UnknownMetric, best_of, detect_metric, get_metric, is_better


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("## Evaluation\n\nSubmissions are evaluated on **root mean squared logarithmic error**.", "rmsle"),
        ("## Evaluation\n\nSubmissions are evaluated on the **area under the ROC curve** (AUC).", "auc"),
        ("## Evaluation\n\nSubmissions are evaluated with **multi-class log loss**.", "multi_logloss"),
        ("## Evaluation\n\nSubmissions are evaluated on **classification accuracy**.", "accuracy"),
        ("## Evaluation\n\nThe metric is RMSE between predictions and targets.", "rmse"),
        ("## Evaluation\n\nMean Absolute Error.\n## Data\nThe accuracy of sensors varies.", "mae"),
    ],
)
def test_detects_metric_from_the_evaluation_section(text, name):
    assert detect_metric(text).name == name


def test_unknown_metric_names_the_known_ones():
    with pytest.raises(UnknownMetric, match="known: "):
        get_metric("banana")
    assert get_metric("ROC_AUC").name == "auc"


def test_direction_is_respected_everywhere():
    assert is_better(0.2, 0.3, lower_is_better=True)
    assert not is_better(0.2, 0.3, lower_is_better=False)
    assert is_better(0.3, 0.3, lower_is_better=True, strict=False)
    assert not is_better(0.3, 0.3, lower_is_better=True)
    assert not is_better(None, 0.3, lower_is_better=True)
    assert is_better(0.9, None, lower_is_better=False)
    items = [{"score": 0.5}, {"score": None}, {"score": 0.1}, {"score": 0.7}]
    assert best_of(items, lower_is_better=True)["score"] == 0.1
    assert best_of(items, lower_is_better=False)["score"] == 0.7
