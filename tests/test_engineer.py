"""The offline engineer's judgement: plans never repeat, the extractor follows the ablation,
merges add a model, the refiner applies exactly the planned change (the load block too), its
ablation studies run real variants in their own folders, ensembles fit weights on the shared
internal-validation predictions, and the ensemble planner learns from its history."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import numpy as np

from mle_star.engineer.model import answer
from mle_star.engineer.moves import plan_tag
from mle_star.engineer.params import default_params
from mle_star.engineer.recipe import block_span, default_recipe, parse_recipe, render_solution
from mle_star.engineer.scripts import literal
from mle_star.prompts import ROLES, Settings
from mle_star.tools.execution.script_files import parse_score


def ask(role: str, task: dict, **fields) -> str:
    """The engineer's answer to a typed request, built as a node builds it (unset fields empty)."""
    inputs_type = ROLES[role].inputs
    empty = {name: [] if "list" in str(f.annotation) else None if "None" in str(f.annotation) else ""
             for name, f in inputs_type.model_fields.items() if f.is_required() and name != "task"}
    inputs = inputs_type(task=task, settings=Settings(script_timeout=60), **(empty | fields))
    return answer(ROLES[role].payload(inputs))


def first_json(reply: str) -> dict:
    return json.loads(reply.split("```json\n")[1].split("```")[0])[0]


def test_planner_never_repeats_a_plan(task_facts):
    code = render_solution(task_facts, default_recipe(task_facts, "xgboost"))
    block = block_span(code, "model")
    history: list[dict] = []
    for _ in range(10):
        plan = ask("refiner_planner", task_facts, code_block=block, history=history)
        history.append({"plan": plan, "score": 0.9})
    tags = [plan_tag(h["plan"]) for h in history]
    assert len(set(tags)) == len(tags)


def test_extractor_targets_the_block_with_the_largest_ablation_effect(task_facts):
    code = render_solution(task_facts, default_recipe(task_facts, "xgboost"))
    output = ("Ablation | baseline | 0.900\nAblation | features: none | 0.899\n"
              "Ablation | preprocess: plain | 0.850\nAblation | model: default | 0.880\n")
    summary = ask("ablation_summarizer", task_facts, output=output)
    first = first_json(ask("extractor", task_facts, code=code, summaries=[summary]))
    assert first["code_block"] == block_span(code, "preprocess")
    # once refined, the next largest effect is chosen
    second = first_json(ask("extractor", task_facts, code=code, summaries=[summary],
                            refined_blocks=[first["code_block"]]))
    assert second["code_block"] == block_span(code, "model")


def test_merge_adds_the_reference_model_to_the_blend(task_facts):
    base = render_solution(task_facts, default_recipe(task_facts, "xgboost"))
    other = render_solution(task_facts, default_recipe(task_facts, "linear"))
    merged = ask("merger", task_facts, base_code=base, candidate_code=other)
    families = [m["family"] for m in parse_recipe(merged)["model"]["models"]]
    assert families == ["xgboost", "linear"]


def test_refiner_applies_exactly_the_planned_change(task_facts):
    code = render_solution(task_facts, default_recipe(task_facts, "xgboost"))
    block = block_span(code, "model")
    plan = ask("refiner_planner", task_facts, code_block=block, history=[])
    assert plan_tag(plan) == ("model", "xgb_slow_learning")
    new = ask("refiner_coder", task_facts, code_block=block, plan=plan)
    params = parse_recipe(new)["model"]["models"][0]["params"]
    start = default_params("xgboost", task_facts)
    assert params["learning_rate"] == start["learning_rate"] / 2
    assert params["n_estimators"] == start["n_estimators"] * 2
    assert {k: v for k, v in params.items() if k not in ("learning_rate", "n_estimators")} == \
        {k: v for k, v in start.items() if k not in ("learning_rate", "n_estimators")}


def test_load_block_refinements_change_the_feature_extraction(task_facts):
    image_task = task_facts | {"modality": "image", "train_items": {"dir": "train", "pattern": "{id}.png",
                                                                    "n_files": 10},
                               "test_items": {"dir": "test", "pattern": "{id}.png", "n_files": 5}}
    code = render_solution(image_task, default_recipe(image_task, "linear"))
    block = block_span(code, "load")
    assert "features" not in parse_recipe(code)  # items have no table feature engineering
    plan = ask("refiner_planner", image_task, code_block=block, history=[])
    assert plan_tag(plan) == ("load", "bigger_thumbnails")
    new = parse_recipe(ask("refiner_coder", image_task, code_block=block, plan=plan))["load"]
    assert new["size"] == 24 and new["hog"] is True
    assert "resize((24, 24)" in ask("refiner_coder", image_task, code_block=block, plan=plan)


def test_literal_round_trips_code_with_backslashes_and_quotes():
    import ast

    for text in ["a = r'\\d+'\n", "x = '''q'''\n", "ends with backslash \\", "it's"]:
        assert ast.literal_eval(literal(text)) == text


def _member(noise: float, seed: int) -> str:
    """A stand-in solution that leaves its inner-validation predictions behind, as real members do."""
    return (
        "import numpy as np\n"
        "import pandas as pd\n"
        "y = np.random.default_rng(0).normal(size=(400, 1))\n"
        f"valid = y + {noise} * np.random.default_rng({seed}).normal(size=(400, 1))\n"
        "test = np.full((3, 1), 1.0)\n"
        "np.savez('inner_valid.npz', y=y, valid=valid, holdout=np.zeros((2, 1)), test=test,\n"
        "         holdout_ids=np.array(['a', 'b']), test_ids=np.array(['x', 'y', 'z']))\n"
        "print('Final Validation Performance:', float(np.sqrt(np.mean((y - valid) ** 2))))\n"
    )


def test_weighted_ensemble_fits_weights_on_validation_predictions(tmp_path, diabetes_task):
    from mle_star.engineer.ensemble import render_ensemble
    from mle_star.tools.task.dataview import prepare_run_data
    from mle_star.tools.task.intake import read_task

    task = prepare_run_data(read_task(diabetes_task), tmp_path / "run", 42).task  # rmse, lower is better
    members = [_member(0.1, 1), _member(2.0, 2)]
    (tmp_path / "input").mkdir()
    results = {}
    for plan in ("mean", "weighted"):
        script = tmp_path / f"{plan}.py"
        script.write_text(render_ensemble(members, plan, task, final=False))
        done = subprocess.run([sys.executable, script.name], cwd=tmp_path, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr[-2000:]
        weights = [float(w) for w in re.search(r"weights: \[(.*)\]", done.stdout).group(1).split(",")]
        results[plan] = (parse_score(done.stdout), weights)
        assert (tmp_path / "member_1" / "inner_valid.npz").is_file()  # each member in its own folder
    assert results["mean"][1] == [0.5, 0.5]
    good, bad = results["weighted"][1]
    assert good > 0.9 and bad < 0.1  # the accurate member gets the weight
    assert results["weighted"][0] < results["mean"][0]  # and the cross-fitted score is better


def test_planner_exploits_what_beat_the_current_score(task_facts):
    code = render_solution(task_facts, default_recipe(task_facts, "xgboost"))
    block = block_span(code, "model")
    start = default_params("xgboost", task_facts)
    history = [{"plan": "[model:xgb_slow_learning] a", "score": 0.95},  # better than 0.90
               {"plan": "[model:add_hgb] b", "score": 0.85}]  # worse
    plan_for = lambda h: ask("refiner_planner", task_facts, code_block=block, history=h, base_score=0.90)  # noqa: E731
    plan = plan_for(history)
    assert plan_tag(plan) == ("model", "xgb_slow_learning*2")
    twice = parse_recipe(ask("refiner_coder", task_facts, code_block=block, plan=plan))["model"]["models"][0]
    assert twice["params"]["learning_rate"] == start["learning_rate"] / 4
    assert twice["params"]["n_estimators"] == start["n_estimators"] * 4
    history.append({"plan": plan, "score": 0.97})  # going further helped: go further still
    assert plan_tag(plan_for(history)) == ("model", "xgb_slow_learning*3")
    history += [{"plan": "[model:xgb_slow_learning*3] c", "score": 0.93}, {"plan": "[model:xgb_deeper] d", "score": 0.96}]
    assert plan_tag(plan_for(history)) == ("model", "xgb_slow_learning*2+xgb_deeper")  # combine the two best


def test_extractor_turns_a_winning_ablation_variant_into_the_plan(task_facts):
    code = render_solution(task_facts, default_recipe(task_facts, "hgb"))
    output = "Ablation | baseline | 0.990\nAblation | model: linear instead of hgb | 0.997\n"
    summary = ask("ablation_summarizer", task_facts, output=output)
    first = first_json(ask("extractor", task_facts, code=code, summaries=[summary]))
    assert plan_tag(first["plan"]) == ("model", "add_linear")


def test_ensemble_planner_learns_from_history(task_facts):
    plans = []
    history: list[dict] = []
    for score in (0.90, 0.95, 0.91, 0.92, 0.93, 0.89):
        plan = ask("ensemble_planner", task_facts, scores=[0.9, 0.9], history=history)
        plans.append(plan_tag(plan)[1])
        history.append({"plan": plan, "score": score})
    assert plans[:2] == ["mean", "weighted"]
    assert plans[2:4] == ["stack", "best_two"]  # weighting beat equal weights: the other learnt plans come next
    assert set(plans) == {"mean", "weighted", "stack", "best_two", "rank_mean", "geometric"}  # AUC: ranks too
    assert len(set(plans)) == len(plans)  # no plan repeats while untried ones remain
    again = plan_tag(ask("ensemble_planner", task_facts, scores=[0.9, 0.9], history=history))[1]
    assert again == "weighted"  # all tried: the best one


def test_ablation_runs_variants_in_their_own_folders(bc_task, tmp_path):
    from mle_star.tools.task.dataview import prepare_run_data
    from mle_star.tools.task.intake import read_task

    data = prepare_run_data(read_task(bc_task), tmp_path / "run", 42)
    task = data.task
    code = render_solution(task, default_recipe(task, "xgboost"))
    script = ask("ablation", task, code=code, score=0.9).split("```python\n")[1].split("```")[0]
    (tmp_path / "study" / "input").mkdir(parents=True)
    for name, path in data.views["search"].items():
        (tmp_path / "study" / "input" / name).symlink_to(path)
    (tmp_path / "study" / "ablation.py").write_text(script)
    done = subprocess.run([sys.executable, "ablation.py"], cwd=tmp_path / "study", capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    rows = re.findall(r"^Ablation \| (.+?) \| (\S+)$", done.stdout, re.M)
    assert rows[0][0] == "baseline" and len(rows) >= 3
    assert all(np.isfinite(float(score)) for _, score in rows)  # every variant ran and scored
    assert (tmp_path / "study" / "ablation_0" / "valid_predictions.csv").is_file()  # in its own folder
    summary = ask("ablation_summarizer", task, output=done.stdout)
    assert summary.count("- ") == len(rows) - 1
