"""The engineer's repertoire: LightGBM solutions run on every tabular shape, starting parameters
follow the task's size, averaging seeds is proposed once plans stop helping, CatBoost is used
only where it is installed, the catalogue offers the new model cards, and re-targeting a block
that was already refined never repeats a plan."""

# ruff: noqa: F811 - pytest fixtures are imported by name
from __future__ import annotations

import json

import pandas as pd
import pytest
from test_engineer_support import (  # noqa: F401 - fixtures
    ask,
    better,
    code_of,
    judged,
    null_score,
    prepared,
    run_script,
    task_dirs,
)

from mle_star.engineer import params
from mle_star.engineer.moves import MOVES, plan_tag
from mle_star.engineer.params import default_model, default_params, size_of
from mle_star.engineer.recipe import (
    BLOCK_KINDS,
    block_span,
    default_recipe,
    parse_recipe,
    render_solution,
)
from mle_star.prompts.roles import ModelCard, Settings
from mle_star.tools.model.code import extract_json

TABULAR = ["breast-cancer", "diabetes", "wine", "zipped-csv", "two-targets", "multilabel", "ordinal-qwk", "map3"]


@pytest.mark.parametrize("name", TABULAR)
def test_a_lightgbm_solution_runs_on_every_tabular_shape(name, task_dirs, tmp_path):
    data = prepared(task_dirs(name), tmp_path / "run")
    task = data.task
    code = code_of("init_coder", task, candidate=ModelCard(model_name="LightGBM gradient boosting"))
    assert [m["family"] for m in parse_recipe(code)["model"]["models"]] == ["lightgbm"]
    run = run_script(code, data.views["search"], tmp_path / "search")
    assert run.done.returncode == 0, run.done.stderr[-3000:]
    verdict = judged(task, data, "candidate", run)
    null = null_score(task, data, tmp_path / "null")
    print(f"{name}: LightGBM held-out {task['metric']} {verdict.score:.4f} vs constant {null:.4f} ({run.seconds:.1f} s)")
    assert verdict.ok and not verdict.untrusted, verdict.error
    assert better(task, verdict.score, null)


def test_a_linear_model_does_not_extrapolate_past_its_training_range(task_dirs, tmp_path):
    """A test row far outside the training rows (body mass index x20) gets a linear prediction
    near the training targets, not one that runs off with the input: its numbers are clipped to
    what the model was fit on (ames: a ridge member priced a 5,600 sq ft house at 2.3M)."""
    data = prepared(task_dirs("diabetes"), tmp_path / "run")
    test = pd.read_csv(data.views["search"]["test.csv"])
    test.loc[0, "bmi"] *= 20
    odd = tmp_path / "test.csv"
    test.to_csv(odd, index=False)
    code = code_of("init_coder", data.task, candidate=ModelCard(model_name="Regularised linear model"))
    assert [m["family"] for m in parse_recipe(code)["model"]["models"]] == ["linear"]
    run = run_script(code, data.views["search"] | {"test.csv": str(odd)}, tmp_path / "search")
    assert run.done.returncode == 0, run.done.stderr[-3000:]
    predicted = pd.read_csv(run.work / "test_predictions.csv").set_index("id")["target"]
    y = pd.read_csv(data.views["search"]["train.csv"])["target"]
    assert predicted.loc[test.loc[0, "id"]] <= 1.2 * y.max()  # a ridge on the raw numbers: 3,423 (max 346)
    assert judged(data.task, data, "candidate", run).ok


def _task(rows: int, classes: int = 2, text: bool = False) -> dict:
    return {"n_train": rows, "task_type": "binary" if classes == 2 else "multiclass",
            "classes": [str(i) for i in range(classes)], "text_columns": ["review"] if text else []}


def test_starting_parameters_follow_the_task_size():
    tiny, small, large = _task(400), _task(4000), _task(40000)
    assert [size_of(t).tier for t in (tiny, small, large)] == ["tiny", "small", "large"]
    for family in ("xgboost", "lightgbm"):
        p_tiny, p_large = default_params(family, tiny), default_params(family, large)
        assert p_tiny["n_estimators"] < default_params(family, small)["n_estimators"] <= p_large["n_estimators"]
        assert "stop" not in default_model(family, tiny)  # too few rows to set a stopping slice aside
        assert default_model(family, large)["stop"] > 0  # many trees, stopped early on a slice of training rows
    assert default_params("lightgbm", tiny)["num_leaves"] < default_params("lightgbm", large)["num_leaves"]
    assert default_params("xgboost", small)["learning_rate"] < default_params("xgboost", tiny)["learning_rate"]
    many = default_params("lightgbm", _task(40000, classes=26))  # a tree per class and round
    assert many["n_estimators"] * 26 <= 2 * default_params("lightgbm", large)["n_estimators"] * 10
    text = default_params("xgboost", _task(4000, text=True))  # thousands of TF-IDF columns
    assert text["n_estimators"] <= 600 and text["colsample_bytree"] == 0.5


def test_boosting_waits_longer_where_its_loss_is_the_metric():
    """Squared error and log loss are what boosting minimises: patience as AutoGluon's, fewer
    rounds on more rows. AUC and accuracy only rank or label, so boosting stops after 50."""
    def stop(rows: int, metric: str, task_type: str) -> int:
        return default_model("lightgbm", _task(rows) | {"metric": metric, "task_type": task_type})["stop"]

    assert stop(4000, "rmsle", "regression") == stop(4000, "multi_logloss", "multiclass") == 300
    assert stop(4000, "auc", "binary") == stop(40000, "accuracy", "multiclass") == params.STOP_ROUNDS == 50
    assert 50 < stop(40000, "rmse", "regression") < 300  # 24,000 fitting rows: 125 rounds
    assert stop(10**7, "logloss", "binary") == stop(40000, "logloss", "binary")  # search subsamples
    assert "stop" not in default_model("lightgbm", _task(400) | {"metric": "rmse", "task_type": "regression"})


@pytest.mark.parametrize("task_type, key", [("binary", "C"), ("regression", "alpha")])
def test_regularisation_moves_tune_the_linear_models_own_parameter(task_type, key):
    """A classifier's linear model has C, a regressor's has alpha: each move changes the one it has."""
    task = _task(4000) | {"task_type": task_type}
    spec = {"models": [default_model("linear", task)]}
    moves = {m.name: m for m in MOVES}
    before = spec["models"][0]["params"][key]
    weaker = moves["linear_less_regularized"].apply(spec, task)
    stronger = moves["linear_more_regularized"].apply(spec, task)
    assert weaker is not None and stronger is not None
    weaker_value, stronger_value = weaker["models"][0]["params"][key], stronger["models"][0]["params"][key]
    assert (weaker_value > before > stronger_value) if key == "C" else (weaker_value < before < stronger_value)


def test_a_larger_task_stops_boosting_early_on_a_slice_of_its_training_rows(task_dirs, tmp_path):
    data = prepared(task_dirs("zipped-csv"), tmp_path / "run")  # diamonds: thousands of rows
    task = data.task
    code = render_solution(task, default_recipe(task, "lightgbm"))
    assert size_of(task).tier != "tiny" and f"stop={params.stop_rounds(task)}" in code and "n_estimators=1500" in code
    run = run_script(code, data.views["search"], tmp_path / "search")
    assert run.done.returncode == 0, run.done.stderr[-3000:]
    assert judged(task, data, "candidate", run).ok
    assert run.seconds < 60


def test_averaging_seeds_is_proposed_when_plans_stop_helping_and_runs(task_dirs, tmp_path):
    data = prepared(task_dirs("breast-cancer"), tmp_path / "run")
    task = data.task
    code = render_solution(task, default_recipe(task, "lightgbm"))
    block = block_span(code, "model")
    first = ask("refiner_planner", task, code_block=block, history=[], base_score=0.95)
    assert plan_tag(first) != ("model", "bag_seeds")
    history = [{"plan": first, "score": 0.94}, {"plan": "[model:add_xgboost] b", "score": 0.93}]  # neither helped
    plan = ask("refiner_planner", task, code_block=block, history=history, base_score=0.95)
    assert plan_tag(plan) == ("model", "bag_seeds")
    new_block = code_of("refiner_coder", task, code_block=block, plan=plan)
    assert parse_recipe(new_block)["model"]["models"][0]["seeds"] == 3 and "seeds=3" in new_block
    run = run_script(code.replace(block, new_block), data.views["search"], tmp_path / "bagged")
    assert run.done.returncode == 0, run.done.stderr[-3000:]
    assert judged(task, data, "candidate", run).ok


def test_catboost_is_used_only_where_it_is_installed(task_facts, monkeypatch):
    card = ModelCard(model_name="CatBoost gradient boosting")
    cards = [ModelCard(model_name=n) for n in ("CatBoost", "XGBoost", "LightGBM", "Random forest")]
    installed = lambda family: family != "catboost"  # noqa: E731 - as if CatBoost were not installed
    monkeypatch.setattr(params, "available", installed)
    monkeypatch.setattr("mle_star.engineer.roles.available", installed)
    code = code_of("init_coder", task_facts, candidate=card)
    assert parse_recipe(code)["model"]["models"][0]["family"] == "lightgbm"
    picked = ask("retriever", task_facts, search_results=cards, num_candidates=3)
    assert "CatBoost" not in picked  # the installed libraries are proposed first
    monkeypatch.setattr(params, "available", lambda family: True)  # as if it were
    monkeypatch.setattr("mle_star.engineer.roles.available", lambda family: True)
    code = code_of("init_coder", task_facts, candidate=card)
    assert "CatBoostClassifier(" in code and "thread_count=THREADS" in code
    compile(code, "catboost_solution.py", "exec")


def test_catboost_starts_a_path_on_small_tables_not_on_large_ones(task_facts):
    """CatBoost fits several times slower than LightGBM on tens of thousands of rows: there it is
    proposed after every other family; on a few thousand rows it is among the first four."""
    cards = [ModelCard(model_name=n) for n in ("LightGBM", "XGBoost", "CatBoost", "HistGradientBoosting",
                                                "Extremely randomized trees", "Random forest", "Logistic regression")]
    small, large = task_facts | {"n_train": 5000}, task_facts | {"n_train": 40000}
    assert "CatBoost" in ask("retriever", small, search_results=cards, num_candidates=4)
    assert "CatBoost" not in ask("retriever", large, search_results=cards, num_candidates=4)
    assert "CatBoost" in ask("retriever", large, search_results=cards, num_candidates=7)  # proposed last


def test_catboost_reads_the_categorical_columns_as_categories(task_dirs, tmp_path):
    """diamonds' cut, colour and clarity reach CatBoost as text that it encodes itself (ordered
    target statistics), not as ordinal codes; the script runs and beats the constant."""
    data = prepared(task_dirs("zipped-csv"), tmp_path / "run")
    task = data.task
    code = render_solution(task, default_recipe(task, "catboost"))
    assert "CatBoostRegressor(" in code and "declare_categoricals(model, preprocessor)" in code
    declared = tmp_path / "declared.py"  # the script, with its fitted CatBoost's categories reported
    declared.write_text(code.replace("        preds = fit_model(", "        print('CATEGORIES', family, "
                                     "[p.get('cat_features') for p in [getattr(model, 'estimator', model).get_params()]])\n"
                                     "        preds = fit_model(", 1))
    run = run_script(declared.read_text(), data.views["search"], tmp_path / "search")
    assert run.done.returncode == 0, run.done.stderr[-3000:]
    reported = [line for line in run.done.stdout.splitlines() if line.startswith("CATEGORIES")]
    assert reported and all(line.endswith("[[6, 7, 8]]") for line in reported), reported  # after six numbers
    verdict = judged(task, data, "candidate", run)
    assert verdict.ok and better(task, verdict.score, null_score(task, data, tmp_path / "null"))


def test_the_catalogue_offers_lightgbm_catboost_and_models_for_images_and_audio():
    from mle_star.tools.model.search import search_models

    def names(query: str) -> list[str]:
        return [c["model_name"] for c in search_models(query)[1]]

    assert any("LightGBM" in n for n in names("kaggle winning binary classification models tabular numeric"))
    assert any("CatBoost" in n for n in names("tabular categorical features classification"))
    assert names("kaggle winning multiclass classification models image vision cnn pixels")[0] == \
        "Logistic regression on pixel + HOG features"
    assert names("kaggle winning binary classification models audio sound spectrogram signal")[0] == \
        "Gradient boosting (LightGBM) on log band energies"


def test_a_missing_library_is_swapped_for_an_installed_family(task_facts):
    code = render_solution(task_facts, default_recipe(task_facts, "lightgbm"))
    fixed = code_of("debugger", task_facts, code=code, kind="candidate",
                    error="ModuleNotFoundError: No module named 'lightgbm'")
    assert [m["family"] for m in parse_recipe(fixed)["model"]["models"]] == ["xgboost"]


def test_retargeting_never_repeats_a_plan_and_picks_the_most_impactful_block(task_facts):
    code = render_solution(task_facts, default_recipe(task_facts, "lightgbm"))
    output = ("Ablation | baseline | 0.900\nAblation | features: none | 0.899\n"
              "Ablation | preprocess: plain | 0.890\nAblation | model: default | 0.860\n")
    summary = ask("ablation_summarizer", task_facts, code="", output=output)
    refined = [block_span(code, k) for k in BLOCK_KINDS if block_span(code, k)]  # every block was refined
    tried: list[str] = []
    for _ in range(3):  # outer steps that re-target, each with an inner loop of four plans
        reply = ask("extractor", task_facts, code=code, score=0.9, summaries=[summary], refined_blocks=refined,
                    tried_plans=tried)
        target = json.loads(reply.split("```json\n")[1].split("```")[0])[0]
        assert target["code_block"] == block_span(code, "model")  # the largest ablation effect
        history = [{"plan": p, "score": 0.89} for p in tried if plan_tag(p) and plan_tag(p)[0] == "model"]
        plans = [target["plan"]]
        for _ in range(3):
            history.append({"plan": plans[-1], "score": 0.89})
            plans.append(ask("refiner_planner", task_facts, code_block=target["code_block"], history=history,
                             base_score=0.9))
        tags = [plan_tag(p) for p in plans]
        assert len(set(tags)) == len(tags) and not set(tags) & {plan_tag(p) for p in tried}
        tried += plans
    assert len({plan_tag(p) for p in tried}) == len(tried) == 12


def test_solution_paths_start_from_models_no_other_path_leads_with(task_facts):
    """Paths proposing the same models merged and refined the same pair, so the final ensemble
    averaged two copies (adult: both paths ended at one score). Each path now leads with its
    own family and never proposes another path's lead while the repertoire has enough; a
    linear model leads no table's path (on ames it won the held-out rows and lost the test)."""
    names = ("LightGBM", "XGBoost", "CatBoost", "HistGradientBoosting", "Extremely randomized trees",
             "Random forest", "Logistic regression")
    cards = [ModelCard(model_name=n) for n in names]

    def proposed(path: int, paths: int) -> list[str]:
        reply = ask("retriever", task_facts, settings=Settings(path_id=path, paths=paths), search_results=cards,
                    num_candidates=4)
        return [c["model_name"] for c in extract_json(reply)]

    first, second = proposed(0, 2), proposed(1, 2)
    assert len(first) == len(second) == 4
    assert first[0] != second[0]
    assert first[0] not in second and second[0] not in first
    assert first[1] != second[1]  # and each merges a different partner first
    assert "Logistic regression" not in first + second  # a linear model starts no table's path
    alone = proposed(0, 1)
    assert alone[0] == "LightGBM" and "XGBoost" in alone  # one path still takes the strongest families first


def test_catboost_is_not_blended_into_a_large_multiclass_solution(task_facts, monkeypatch):
    """One symmetric tree per class and round: on rodent-species (27k rows, 5 classes) blending
    CatBoost in took 178 s of a 300 s run. Binary or small tables still get the move."""
    monkeypatch.setattr("mle_star.engineer.moves.available", lambda family: True)  # as if installed
    move = next(m for m in MOVES if m.name == "add_catboost")
    spec = {"models": [default_model("lightgbm", task_facts)]}
    five = [f"c{i}" for i in range(5)]
    large_multiclass = task_facts | {"n_train": 27000, "task_type": "multiclass", "classes": five}
    assert move.apply(spec, large_multiclass) is None
    for task in (task_facts | {"n_train": 27000}, task_facts | {"n_train": 3000, "task_type": "multiclass",
                                                                "classes": five}):
        added = move.apply(spec, task)
        assert added is not None and [m["family"] for m in added["models"]] == ["lightgbm", "catboost"]
