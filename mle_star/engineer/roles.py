"""How the offline engineer answers each MLE-STAR role.

Each function takes the structured inputs a node attached to its request (never the prompt
prose) and returns reply text in the format an LLM would use: fenced code, JSON or a plan.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Callable
from typing import Any

from mle_star.engineer.ablation import ablation_variants, render_ablation
from mle_star.engineer.debug import debug_script
from mle_star.engineer.ensemble import (
    ENSEMBLE_PLANS,
    WEIGHTING_PLANS,
    ensemble_plan,
    plans_for,
    render_ensemble,
)
from mle_star.engineer.leakage import find_leak, fix_leak
from mle_star.engineer.moves import find_move, next_plan, plan_tag
from mle_star.engineer.neural import NEURAL_FAMILIES, neural_card, neural_name, neural_task
from mle_star.engineer.params import available, size_of, usable
from mle_star.engineer.pretrained import FAMILY as FINETUNE
from mle_star.engineer.pretrained import finetune_card, finetune_name, finetune_task
from mle_star.engineer.recipe import (
    BLOCK_KINDS,
    block_kind,
    block_span,
    complete,
    parse_recipe,
    render_block,
    render_solution,
)
from mle_star.engineer.scripts import assigned_literals
from mle_star.engineer.usage import check_data_usage
from mle_star.prompts.roles import (
    ABLATION,
    ABLATION_SUMMARIZER,
    DATA_USAGE_CHECKER,
    DEBUGGER,
    ENSEMBLE_PLANNER,
    ENSEMBLER,
    EXTRACTOR,
    INIT_CODER,
    LEAKAGE_CHECKER,
    LEAKAGE_FIXER,
    MERGER,
    METRIC_READER,
    REFINER_CODER,
    REFINER_PLANNER,
    RETRIEVER,
    SUBMISSION,
    AblationInputs,
    AblationSummaryInputs,
    DataUsageInputs,
    DebuggerInputs,
    EnsemblePlannerInputs,
    EnsemblerInputs,
    ExtractorInputs,
    InitCoderInputs,
    LeakageFixInputs,
    LeakageInputs,
    MergerInputs,
    MetricReaderInputs,
    RefinerCoderInputs,
    RefinerPlannerInputs,
    RetrieverInputs,
    Role,
    RoleInputs,
    SubmissionInputs,
)
from mle_star.tools.model.code import parse_python
from mle_star.tools.model.search import card_modality, plain_card
from mle_star.tools.scoring.metrics import metric_of

FAMILY_WORDS = [
    ("lightgbm", ("lightgbm", "light gbm", "lgbm")),
    ("catboost", ("catboost",)),
    ("extra_trees", ("extra", "extremely randomized")),
    ("random_forest", ("random forest",)),
    ("hgb", ("histgradient", "hist gradient", "histogram")),
    ("linear", ("logistic", "ridge", "linear", "svm")),
    ("xgboost", ("xgboost", "gradient boost", "boosted")),
]
ORDERS = {  # the model families a modality's solution paths start from, best first
    "tabular": ["lightgbm", "catboost", "xgboost", "hgb", "extra_trees", "random_forest", "linear"],
    "text": ["linear", "xgboost", "lightgbm"],
    "json": ["linear", "xgboost", "lightgbm"],
    "image": ["linear", "lightgbm", "xgboost", "extra_trees"],
    "audio": ["lightgbm", "xgboost", "extra_trees", "linear"],
    "other": ["xgboost", "lightgbm", "linear"],
}


def code_reply(code: str, note: str = "") -> str:
    return (note + "\n\n" if note else "") + f"```python\n{code.rstrip()}\n```"


def json_reply(value: object) -> str:
    return f"```json\n{json.dumps(value, indent=1)}\n```"


def family_of(model_name: str) -> str:
    """The engineer's model family a model's name stands for (whether installed or not)."""
    name = model_name.lower()
    for family, words in FAMILY_WORDS:
        if any(w in name for w in words):
            return family
    return "xgboost"


def family_for(model_name: str, task: dict) -> str:
    """The family a model's name stands for in this task: a convolutional network's name is the
    neural family where the workbench has torch and the items are images or audio clips; a
    pretrained ResNet's is the fine-tune where a checkpoint of one is cached."""
    if finetune_name(model_name) and finetune_task(task):
        return FINETUNE
    return NEURAL_FAMILIES[0] if neural_name(model_name) and neural_task(task) else family_of(model_name)


def _script_recipe(p: RoleInputs, code: str) -> dict:
    recipe = parse_recipe(code)
    first = (recipe.get("model") or {}).get("models", [{}])[0].get("family", "xgboost")
    return complete(task_dict(p), recipe, first)


def task_dict(p: RoleInputs) -> dict:
    return dict(p.task)


def _render(p: RoleInputs, recipe: dict, final: bool = False) -> str:
    return render_solution(task_dict(p), recipe, final=final, subsample=p.settings.subsample, seed=p.settings.seed)


def _offset(p: RoleInputs) -> int:
    return p.settings.path_id or 0


# -- roles -------------------------------------------------------------------------------------

def foreign_card(card: dict, task: dict) -> bool:
    """Whether a catalogue card's features are made for another kind of item than the task's
    (its name would say 'on log band energies' of an image task's model)."""
    made_for = card_modality(card["model_name"])
    return made_for is not None and made_for != task["modality"]


def path_families(order: list[str], path: int, paths: int, m: int) -> list[str]:
    """The families solution path ``path`` of ``paths`` proposes, first choice first.

    Paths that propose the same models merge the same pair and refine it the same way, so the
    final ensemble averages copies (adult: both paths ended at one score). Each path therefore
    leads with its own family and takes every ``paths``-th one after it; where the families
    are enough for M candidates per path, it never proposes another path's lead."""
    n, start = len(order), path % len(order)
    others_leads = {order[k % n] for k in range(paths)} - {order[start]}
    order = order[start:] + order[:start]
    share = order[::paths]
    ranked = share + [f for f in order if f not in share]
    return [f for f in ranked if f not in others_leads] if n >= m + paths - 1 else ranked


def retriever(p: RetrieverInputs) -> str:
    task, m, path = task_dict(p), p.num_candidates, _offset(p)
    order = ORDERS["text"] if task.get("text_columns") and task["modality"] == "tabular" else ORDERS[task["modality"]]
    order = [f for f in order if available(f)]  # CatBoost only where it is installed
    last = []
    if task["modality"] == "tabular" and not task.get("text_columns") and "linear" in order:
        # A linear model starts no table's path: on ames a ridge model won the held-out rows
        # (RMSLE 0.1115 against LightGBM's 0.1118) and lost the test (0.141 against 0.126). It
        # stays a candidate of last resort and a member the refiner can blend in.
        order.remove("linear")
        last.append("linear")
    if "catboost" in order and size_of(task).tier == "large":
        # On tens of thousands of rows CatBoost fits 5 to 8 times slower than LightGBM (adult:
        # 16 s against 2 s a script) for no better score; those seconds buy refinement steps.
        order.remove("catboost")
        last.append("catboost")
    results = [c.model_dump() for c in p.search_results]
    card = neural_card(task)
    if card is not None:  # torch in the workbench: a network leads the image and audio paths
        order = [NEURAL_FAMILIES[0]] + order
        results = [card] + [c for c in results if c["model_name"] != card["model_name"]]
    card = finetune_card(task)
    if card is not None:  # a cached ResNet: its fine-tune leads one path, the scratch network the next
        order = [FINETUNE] + order
        results = [card] + [c for c in results if c["model_name"] != card["model_name"]]
    picked: list[dict] = []
    for family in path_families(order, path, p.settings.paths, m) + last:
        fits = [c for c in results if c not in picked and family_for(c["model_name"], task) == family]
        card = next((c for c in fits if not foreign_card(c, task)), None) or (fits[0] if fits else None)
        if card is not None and foreign_card(card, task):  # an audio card on images names the wrong features
            card = plain_card(family) or card
        if card is not None:
            picked.append(card)
    rest = [c for c in results if c not in picked]
    picked += sorted(rest, key=lambda c: not available(family_of(c["model_name"])))
    return json_reply([{"model_name": c["model_name"], "example_code": c["example_code"]} for c in picked[:m]])


def init_coder(p: InitCoderInputs) -> str:
    family = usable(family_for(p.candidate.model_name, task_dict(p)))
    return code_reply(_render(p, complete(task_dict(p), {}, family)))


def merger(p: MergerInputs) -> str:
    base = _script_recipe(p, p.base_code)
    extra = _script_recipe(p, p.candidate_code)["model"]["models"]
    families = {m["family"] for m in base["model"]["models"]}
    base["model"]["models"] += [m | {"weight": 1.0} for m in extra if m["family"] not in families]
    return code_reply(_render(p, base), "The reference model is added to the base blend with equal weight.")


def data_usage(p: DataUsageInputs) -> str:
    return check_data_usage(p.code, task_dict(p), lambda recipe: _render(p, recipe, final=_is_final(p.code)))


def _is_final(code: str) -> bool:
    return bool(re.search(r"^FINAL = True", code, re.M))


def ablation(p: AblationInputs) -> str:
    code, task = p.code, task_dict(p)
    recipe = parse_recipe(code)
    refined = [block_kind(b) for b in p.refined_blocks]
    present = [k for k in BLOCK_KINDS if k in recipe]
    studied = [k for k in present if k not in refined] or present
    # Earlier studies covered some blocks; study the others first, 2-3 at a time.
    earlier = " ".join(p.previous_summaries)
    studied = sorted(studied, key=lambda k: f"- {k}:" in earlier)
    variants = ablation_variants(code, recipe, task, studied)[:3]  # blocks that have a variant to compare
    if not p.settings.script_timeout:
        return code_reply(render_ablation(code, variants, timeout=None))
    return code_reply(render_ablation(code, variants, timeout=p.settings.script_timeout))


ABLATION_LINE = re.compile(r"^Ablation \| (.+?) \| (\S+)\s*$", re.M)


def ablation_summary(p: AblationSummaryInputs) -> str:
    rows = ABLATION_LINE.findall(p.output)
    scores = {name: _float(value) for name, value in rows}
    base = scores.pop("baseline", None)
    if base is None:
        return "The ablation study failed to score the baseline; no block effects are known."
    metric = metric_of(p.task)
    lines = [f"Baseline score: {base:.6f}."]
    for name, value in scores.items():
        kind, _, label = name.partition(": ")
        if value is None:
            lines.append(f"- {kind}: variant '{label}' failed to run.")
            continue
        delta = value - base
        worse = metric.better(base, value)  # the variant scores worse than the current block
        lines.append(f"- {kind}: variant '{label}' scored {value:.6f} (delta {delta:+.6f}); "
                     f"the current block is {'better' if worse else 'not better'} than the variant.")
    return "\n".join(lines)


SUMMARY_LINE = re.compile(r"^- (\w+): variant '(.*)' scored \S+ \(delta ([-+]\d+\.\d+)\); the current block is (not )?better", re.M)


def suggested_move(kind: str, label: str, spec: dict) -> str | None:
    """The move that turns an ablation variant which beat the current block into a plan."""
    if kind == "model":
        match = re.match(r"(\w+) instead of", label)
        return f"add_{match.group(1)}" if match else None
    return {("features", "no feature engineering"): "none", ("target", "raw target (no transform)"): "none",
            ("target", "log1p target transform"): "log1p",
            ("preprocess", "one-hot encoding instead of ordinal codes"): "onehot_categoricals",
            ("load", "with gradient-orientation histograms"): "add_hog"}.get((kind, label))


def extractor(p: ExtractorInputs) -> str:
    code, task = p.code, task_dict(p)
    refined = {block_kind(b) for b in p.refined_blocks}
    effects: dict[str, float] = {}
    beaten: dict[str, str] = {}  # kind -> label of a variant that beat the current block
    for summary in p.summaries:  # later studies overwrite earlier ones
        for kind, label, delta, not_better in SUMMARY_LINE.findall(summary):
            effects[kind] = abs(float(delta))
            if not_better and float(delta) != 0.0:
                beaten[kind] = label
            else:
                beaten.pop(kind, None)
    recipe = _script_recipe(p, code)
    present = [k for k in BLOCK_KINDS if block_span(code, k)]
    # Blocks not refined yet first, then by ablation effect (so when every block was refined, the
    # most impactful one is re-targeted); a plan this path already tried is never proposed again.
    ranked = sorted(present, key=lambda k: (k in refined, -effects.get(k, -1.0), BLOCK_KINDS.index(k)))
    tried = [{"plan": plan, "score": None} for plan in p.tried_plans]
    used = {plan_tag(plan) for plan in p.tried_plans}
    for kind in ranked:
        hint = suggested_move(kind, beaten[kind], recipe[kind]) if kind in beaten else None
        move = find_move(kind, hint) if hint and (kind, hint) not in used else None
        if move is None or move.apply(recipe[kind], task) is None:
            move = next_plan(kind, recipe[kind], task, tried, offset=_offset(p))
        if move is not None:
            return json_reply([{"code_block": block_span(code, kind), "plan": move.plan()}])
    if not ranked:  # a script the engineer did not write: name its largest top-level statement
        return json_reply([{"code_block": largest_statement(code), "plan": "[generic:keep] This script has no "
                            "blocks the offline engineer can refine; keep it as it is."}])
    kind = ranked[0]
    return json_reply([{"code_block": block_span(code, kind), "plan": f"[{kind}:keep] Keep this block."}])


def largest_statement(code: str) -> str:
    """The source of the longest top-level statement (an exact, usually unique, substring)."""
    try:
        nodes = parse_python(code).body
    except SyntaxError:
        return code
    spans = [ast.get_source_segment(code, n) or "" for n in nodes]
    return max(spans, key=len) if spans else code


def refiner_coder(p: RefinerCoderInputs) -> str:
    block, task = p.code_block, task_dict(p)
    kind = block_kind(block)
    tag = plan_tag(p.plan)
    spec = parse_recipe(block).get(kind or "")
    move = find_move(*tag) if tag else None
    if kind is None or spec is None or move is None or move.kind != kind:
        return code_reply(block, "No applicable change for this plan; the block is unchanged.")
    new = move.apply(spec, task)
    return code_reply(render_block(kind, new if new is not None else spec, task))


def refiner_planner(p: RefinerPlannerInputs) -> str:
    block, task = p.code_block, task_dict(p)
    kind = block_kind(block)
    spec = parse_recipe(block).get(kind or "")
    history = [dict(h) for h in p.history]
    move = next_plan(kind, spec, task, history, p.base_score, offset=_offset(p)) if kind and spec else None
    if move is None:
        return f"[{kind}:keep] Every change in my repertoire for this block has been tried; keep the block as it is."
    return move.plan()


def ensemble_planner(p: EnsemblePlannerInputs) -> str:
    """The next untried plan; which kind first follows the history: when a plan that weights
    or selects members beat the equal-weight ones, try the other weighting plans first."""
    task = task_dict(p)
    scored = [(plan_tag(h["plan"]), h["score"]) for h in p.history]
    tried = {tag for tag, _ in scored}
    plans = plans_for(task)
    best = _best_plan(scored, task)
    if best is not None and best in WEIGHTING_PLANS:
        plans.sort(key=lambda name: name not in WEIGHTING_PLANS)
    for name in plans:
        if ("ensemble", name) not in tried:
            return f"[ensemble:{name}] {ENSEMBLE_PLANS[name]}"
    name = best or "mean"  # every plan was tried: the best one again
    return f"[ensemble:{name}] Every plan in my repertoire was tried; repeat the best one. {ENSEMBLE_PLANS[name]}"


def _best_plan(scored: list, task: dict) -> str | None:
    rows = [{"plan": tag[1], "score": score} for tag, score in scored if tag and tag[1] in ENSEMBLE_PLANS]
    best = metric_of(task).best_of(rows)
    return best["plan"] if best else None


def ensembler(p: EnsemblerInputs) -> str:
    tag = plan_tag(p.plan)
    plan = tag[1] if tag and tag[1] in ENSEMBLE_PLANS else "mean"
    return code_reply(render_ensemble(p.solutions, plan, task_dict(p), final=False, seed=p.settings.seed,
                                      saved=p.member_dirs, scores=p.scores))


def leakage_checker(p: LeakageInputs) -> str:
    finding = find_leak(p.code, task_dict(p))
    if finding is None:
        return json_reply({"leakage_status": "No Data Leakage", "code_block": ""})
    return json_reply({"leakage_status": "Yes Data Leakage", "code_block": finding.block})


def leakage_fixer(p: LeakageFixInputs) -> str:
    fixed, why = fix_leak(p.code, p.code_block, task_dict(p))
    return code_reply(fixed, why)


def debugger(p: DebuggerInputs) -> str:
    code, note = debug_script(p)
    return code_reply(code, note)


def submission(p: SubmissionInputs) -> str:
    code, task = p.code, task_dict(p)
    found = assigned_literals(code, ("MEMBERS", "PLAN"))
    listed = found.get("MEMBERS")
    if isinstance(listed, list | tuple):
        members = [_final_member(p, m) for m in listed]
        plan = ensemble_plan(found.get("PLAN"))
        return code_reply(render_ensemble(members, plan, task, final=True, seed=p.settings.seed),
                          "The ensemble's members, each turned into its final version, blended as before.")
    if not parse_recipe(code):
        return code_reply(_render(p, _script_recipe(p, code), final=True),
                          "This solution carries no recipe I can read; here is my own final solution for the task.")
    return code_reply(_render(p, _script_recipe(p, code), final=True))


def _final_member(p: RoleInputs, member: str) -> str:
    """A member in its final version: the engineer's own re-rendered; another's kept as it is."""
    return _render(p, _script_recipe(p, member), final=True) if parse_recipe(member) else member


def _float(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if value == value else None


def metric_reader(p: MetricReaderInputs) -> str:
    """The rule-based reading of a metric's name and direction from the description's words."""
    from mle_star.tools.scoring.metrics import custom_metric, guess_direction

    direction = guess_direction(p.task["description"])
    return json_reply({"metric": custom_metric(p.task["description"]).title,
                       "higher_is_better": True if direction is None else direction})


HANDLERS: dict[Role[Any, Any], Callable[[Any], str]] = {
    METRIC_READER: metric_reader, RETRIEVER: retriever, INIT_CODER: init_coder, MERGER: merger,
    DATA_USAGE_CHECKER: data_usage, ABLATION: ablation, ABLATION_SUMMARIZER: ablation_summary,
    EXTRACTOR: extractor, REFINER_CODER: refiner_coder, REFINER_PLANNER: refiner_planner,
    ENSEMBLE_PLANNER: ensemble_planner, ENSEMBLER: ensembler, LEAKAGE_CHECKER: leakage_checker,
    LEAKAGE_FIXER: leakage_fixer, DEBUGGER: debugger, SUBMISSION: submission,
}  # keyed by the registry's role objects: a role renamed or added there is one place to change
