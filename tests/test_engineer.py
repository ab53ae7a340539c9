"""The offline engineer's judgement: plans never repeat, the extractor follows the ablation,
merges add a model, and its ablation scripts measure real variants."""

from __future__ import annotations

import json

from mle_star.engineer.model import answer
from mle_star.engineer.moves import plan_tag
from mle_star.engineer.recipe import block_span, default_recipe, parse_recipe, render_solution
from mle_star.engineer.scripts import literal
from mle_star.prompts import ROLES, Settings


def ask(role: str, task: dict, **fields) -> str:
    """The engineer's answer to a typed request, built as a node builds it (unset fields empty)."""
    inputs_type = ROLES[role].inputs
    empty = {name: [] if "list" in str(f.annotation) else None if "None" in str(f.annotation) else ""
             for name, f in inputs_type.model_fields.items() if f.is_required() and name != "task"}
    inputs = inputs_type(task=task, settings=Settings(script_timeout=60), **(empty | fields))
    return answer(ROLES[role].payload(inputs))


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
    first = json.loads(ask("extractor", task_facts, code=code, summaries=[summary])
                       .split("```json\n")[1].split("```")[0])[0]
    assert first["code_block"] == block_span(code, "preprocess")
    # once refined, the next largest effect is chosen
    second = json.loads(ask("extractor", task_facts, code=code, summaries=[summary],
                            refined_blocks=[first["code_block"]])
                        .split("```json\n")[1].split("```")[0])[0]
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
    assert params["learning_rate"] == 0.025 and params["n_estimators"] == 1000


def test_literal_round_trips_code_with_backslashes_and_quotes():
    import ast

    for text in ["a = r'\\d+'\n", "x = '''q'''\n", "ends with backslash \\", "it's"]:
        assert ast.literal_eval(literal(text)) == text


def _member(noise: float, seed: int) -> str:
    """A stand-in solution that leaves validation predictions behind, as real members do."""
    return (
        "import numpy as np\n"
        "rng = np.random.default_rng(0)\n"
        "y_valid = rng.normal(size=400)\n"
        f"valid_pred = y_valid + {noise} * np.random.default_rng({seed}).normal(size=400)\n"
        "def score(y, p):\n"
        "    return float(np.sqrt(np.mean((y - p) ** 2)))\n"
        "print('Final Validation Performance:', score(y_valid, valid_pred))\n"
    )


def test_weighted_ensemble_fits_weights_on_validation_predictions(tmp_path, diabetes_task):
    import re
    import subprocess
    import sys

    from mle_star.engineer.scripts import render_ensemble
    from mle_star.tools.runner import parse_score
    from mle_star.tools.task import load_task

    task = load_task(diabetes_task).to_dict()  # rmse, lower is better
    members = [_member(0.1, 1), _member(2.0, 2)]
    results = {}
    for plan in ("mean", "weighted"):
        script = tmp_path / f"{plan}.py"
        script.write_text(render_ensemble(members, plan, task, final=False))
        done = subprocess.run([sys.executable, script.name], cwd=tmp_path, capture_output=True, text=True, check=True)
        weights = [float(w) for w in re.search(r"weights: \[(.*)\]", done.stdout).group(1).split(",")]
        results[plan] = (parse_score(done.stdout), weights)
    assert results["mean"][1] == [0.5, 0.5]
    good, bad = results["weighted"][1]
    assert good > 0.9 and bad < 0.1  # the accurate member gets the weight
    assert results["weighted"][0] < results["mean"][0]  # and the cross-fitted score is better


def test_planner_exploits_what_beat_the_current_score(task_facts):
    code = render_solution(task_facts, default_recipe(task_facts, "xgboost"))
    block = block_span(code, "model")
    history = [{"plan": "[model:xgb_slow_learning] a", "score": 0.95},  # better than 0.90
               {"plan": "[model:add_hgb] b", "score": 0.85}]  # worse
    plan_for = lambda h: ask("refiner_planner", task_facts, code_block=block, history=h, base_score=0.90)  # noqa: E731
    plan = plan_for(history)
    assert plan_tag(plan) == ("model", "xgb_slow_learning*2")
    twice = parse_recipe(ask("refiner_coder", task_facts, code_block=block, plan=plan))["model"]["models"][0]
    assert twice["params"]["learning_rate"] == 0.0125 and twice["params"]["n_estimators"] == 2000
    history.append({"plan": plan, "score": 0.97})  # going further helped: go further still
    assert plan_tag(plan_for(history)) == ("model", "xgb_slow_learning*3")
    history += [{"plan": "[model:xgb_slow_learning*3] c", "score": 0.93}, {"plan": "[model:xgb_deeper] d", "score": 0.96}]
    assert plan_tag(plan_for(history)) == ("model", "xgb_slow_learning*2+xgb_deeper")  # combine the two best


def test_extractor_turns_a_winning_ablation_variant_into_the_plan(task_facts):
    code = render_solution(task_facts, default_recipe(task_facts, "hgb"))
    output = "Ablation | baseline | 0.990\nAblation | model: linear instead of hgb | 0.997\n"
    summary = ask("ablation_summarizer", task_facts, output=output)
    reply = ask("extractor", task_facts, code=code, summaries=[summary])
    first = json.loads(reply.split("```json\n")[1].split("```")[0])[0]
    assert plan_tag(first["plan"]) == ("model", "add_linear")
