"""The offline debugger: never returns a script unchanged.

It repairs what it can read and otherwise falls back, one step at a time, to a simpler
approach that follows the same contract: the engineer's own solutions are re-rendered from
their recipe, then simplified (fewer models, smaller models on time-outs, default blocks, a
different model family, finally the class prior / mean); a failing ensemble member is repaired
the same way or dropped; any other script is replaced by the engineer's baseline solution.
"""

from __future__ import annotations

import re
from copy import deepcopy

from mle_star.engineer.ablation import ablation_variants, render_ablation
from mle_star.engineer.ensemble import ensemble_plan, render_ensemble
from mle_star.engineer.params import MODULES, default_model
from mle_star.engineer.recipe import (
    BLOCK_KINDS,
    complete,
    default_recipe,
    parse_recipe,
    render_solution,
)
from mle_star.engineer.scripts import assigned_literals
from mle_star.prompts.roles import DebuggerInputs

SLOW = ("TimeoutError", "time limit", "MemoryError", "out of memory", "killed by signal")


def _final(code: str, kind: str) -> bool:
    return kind == "submission" or re.search(r"^FINAL = True", code, re.M) is not None


def _family(recipe: dict) -> str:
    models = (recipe.get("model") or {}).get("models") or [{}]
    return models[0].get("family", "xgboost")


def simpler_recipes(task: dict, recipe: dict, error: str) -> list[tuple[dict, str]]:
    """Ever simpler recipes, each with what it changes; the first that changes the script is used."""
    full = complete(task, recipe, _family(recipe))
    steps: list[tuple[dict, str]] = [(full, "Re-written cleanly from the solution's recorded choices.")]
    missing = re.search(r"No module named '(\w+)'", error)
    if missing and missing.group(1) in MODULES.values():
        swapped = deepcopy(full)
        for m in swapped["model"]["models"]:
            if MODULES.get(m["family"]) == missing.group(1):
                m.clear()
                m.update(default_model("xgboost" if missing.group(1) != "xgboost" else "hgb", task))
        steps.append((swapped, f"{missing.group(1)} cannot be imported here: its model is replaced by a default "
                               f"{swapped['model']['models'][0]['family']} model."))
    if any(word in error for word in SLOW):
        lighter = deepcopy(full)
        for m in lighter["model"]["models"]:
            for param in ("n_estimators", "max_iter", "iterations"):
                if param in m["params"]:
                    m["params"][param] = max(50, int(m["params"][param]) // 2)
            if int(m.get("seeds", 1)) > 1:  # averaging seeds multiplies the time
                m["seeds"] = 1
        if lighter["load"].get("size"):
            lighter["load"]["size"] = max(8, int(lighter["load"]["size"]) // 2)
        if lighter["load"].get("bands"):
            lighter["load"]["bands"] = max(8, int(lighter["load"]["bands"]) // 2)
        steps.append((lighter, "The script ran out of time or memory: halved the models' size and the features."))
    first = deepcopy(full)
    first["model"]["models"] = first["model"]["models"][:1]
    steps.append((first, "Kept only the first model of the blend."))
    plain = deepcopy(default_recipe(task, _family(full)))
    steps.append((plain, "Reset every block to its defaults."))
    other = "linear" if _family(full) != "linear" else "xgboost"
    steps.append((default_recipe(task, other), f"Switched to a default {other} model."))
    prior = default_recipe(task, "prior")
    steps.append((prior, "Fell back to predicting the class prior / the mean: the simplest valid solution."))
    if "items" in prior["load"]:
        unreadable = deepcopy(prior)
        unreadable["load"] = {"items": prior["load"]["items"], "readable": False, "format": prior["load"].get("format", "csv")}
        steps.append((unreadable, "The item files could not be read: predicting the class prior / the mean."))
    return steps


def debug_solution(task: dict, code: str, error: str, final: bool, subsample: int, seed: int) -> tuple[str, str]:
    recipe = parse_recipe(code)
    if not recipe:
        baseline = render_solution(task, default_recipe(task, "xgboost"), final=final, subsample=subsample, seed=seed)
        if baseline.strip() != code.strip():
            return baseline, "This script is not one I can repair line by line; here is a simpler, working solution."
        recipe = default_recipe(task, "xgboost")
    for candidate, note in simpler_recipes(task, recipe, error):
        fixed = render_solution(task, candidate, final=final, subsample=subsample, seed=seed)
        if fixed.strip() != code.strip():
            return fixed, note
    return code.rstrip() + "\n# debug: unchanged by the offline engineer (no simpler approach left)\n", \
        "No simpler approach is left."


def _failed_member(error: str) -> int | None:
    match = re.search(r"ensemble member (\d+) failed", error)
    return int(match.group(1)) if match else None


def debug_ensemble(task: dict, code: str, error: str, subsample: int, seed: int) -> tuple[str, str]:
    found = assigned_literals(code, ("MEMBERS", "PLAN", "SAVED", "SCORES"))
    listed, saved, scores = found.get("MEMBERS"), found.get("SAVED"), found.get("SCORES")
    members: list[str] = list(listed) if isinstance(listed, list | tuple) else []
    saved_dirs = [str(d) for d in saved] if isinstance(saved, list) and len(saved) == len(members) else []
    known = list(scores) if isinstance(scores, list) and len(scores) == len(members) else None
    plan = ensemble_plan(found.get("PLAN"))
    final = re.search(r"^FINAL = True", code, re.M) is not None
    failed = _failed_member(error)
    if failed is not None and failed < len(members):  # members were retrained: saved predictions did not serve
        member = members[failed]
        member_error = error.split("failed", 1)[-1]
        if parse_recipe(member):
            members[failed], _ = debug_solution(task, member, member_error, final, subsample, seed)
            note = f"Member {failed} failed; it is repaired the way a failing solution is."
        elif len(members) > 1:
            members.pop(failed)
            note = f"Member {failed} failed and is not one I can repair; the ensemble goes on without it."
        else:
            members[failed] = render_solution(task, default_recipe(task, "xgboost"), final=final,
                                              subsample=subsample, seed=seed)
            note = "The only member failed; it is replaced by a baseline solution."
        return render_ensemble(members, plan, task, final=final, seed=seed), note
    if plan != "mean":
        fixed = render_ensemble(members, "mean", task, final=final, seed=seed, saved=saved_dirs, scores=known)
        if fixed.strip() != code.strip():
            return fixed, "The blend failed; the members are averaged with equal weights instead."
    solo = members[0] if members else ""
    if parse_recipe(solo):
        return render_solution(task, complete(task, parse_recipe(solo), _family(parse_recipe(solo))), final=final,
                               subsample=subsample, seed=seed), "The ensemble cannot be repaired; its first member alone."
    return debug_solution(task, solo, error, final, subsample, seed)


def debug_ablation(task: dict, code: str, error: str, subsample: int, seed: int, timeout: float) -> tuple[str, str]:
    base = assigned_literals(code, ("BASE",)).get("BASE")
    if not isinstance(base, str) or not parse_recipe(base):
        base = render_solution(task, default_recipe(task, "xgboost"), subsample=subsample, seed=seed)
    fixed_base, _ = debug_solution(task, base, error, False, subsample, seed)
    recipe = parse_recipe(fixed_base)
    kinds = [k for k in BLOCK_KINDS if k in recipe][:3]
    study = render_ablation(fixed_base, ablation_variants(fixed_base, recipe, task, kinds), timeout)
    if study.strip() == code.strip():
        study = render_ablation(fixed_base, [], timeout)
    return study, "The study's solution is repaired (simplified) and studied again."


def debug_script(p: DebuggerInputs) -> tuple[str, str]:
    """(a different script, what changed) for a failed script of any kind."""
    task, code, error = dict(p.task), p.code, p.error
    subsample, seed = p.settings.subsample, p.settings.seed
    if "MEMBERS" in assigned_literals(code, ("MEMBERS",)):
        fixed, note = debug_ensemble(task, code, error, subsample, seed)
    elif p.kind == "ablation" or "VARIANTS" in assigned_literals(code, ("VARIANTS",)):
        fixed, note = debug_ablation(task, code, error, subsample, seed, p.settings.script_timeout)
    else:
        fixed, note = debug_solution(task, code, error, _final(code, p.kind), subsample, seed)
    if fixed.strip() == code.strip():
        fixed, note = debug_solution(task, "", error, _final(code, p.kind), subsample, seed)
    return fixed, note

