"""Each role node driven by scripted (and messy) model replies."""

from __future__ import annotations

import json

from conftest import BAD_RANKING, GOOD_RANKING, predicting, runtime, scripted, task_record, with_run

from mle_star.journal import attempt
from mle_star.nodes.data_usage import data_usage_checker
from mle_star.nodes.extractor import extractor
from mle_star.nodes.init_coder import init_coder
from mle_star.nodes.merger import merger, rank_candidates
from mle_star.nodes.refiner import accept_refinement, refiner_coder
from mle_star.nodes.retriever import retriever
from mle_star.nodes.run_debug import run_checked
from mle_star.telemetry import Recorder

GOOD = predicting("0.5")  # a constant prediction: held-out AUC 0.5


def solution(task: dict, family: str = "linear") -> str:
    """The offline engineer's first script for ``family``, as the init coder receives it."""
    from mle_star.engineer.model import answer
    from mle_star.prompts.roles import INIT_CODER, InitCoderInputs, ModelCard

    card = ModelCard(model_name={"linear": "Regularised linear model", "xgboost": "XGBoost"}[family])
    reply = answer(INIT_CODER.payload(InitCoderInputs(task=task, candidate=card)))
    return reply.split("```python\n", 1)[1].rsplit("```", 1)[0].rstrip() + "\n"


def fenced(code: str, before: str = "Here you go:", after: str = "Good luck!") -> str:
    return f"{before}\n```python\n{code}```\n{after}"


def _scored(name: str, score: float, code: str = GOOD, kind: str = "candidate", **kw) -> dict:
    return attempt(name, kind, path_id=0, code=code, score=score, ok=True, **kw)


def test_retriever_accepts_json_with_trailing_text(path_state):
    reply = '[{"model_name": "LightGBM", "example_code": "import lightgbm"}, {"model_name": "CatBoost"}] Hope this helps.'
    out = retriever(path_state, runtime(llm=scripted(reply), num_candidates=2))
    assert [c["model_name"] for c in out["candidates"]] == ["LightGBM", "CatBoost"]
    assert out["counts"]["model_calls"] == 1


def test_retriever_reasks_after_a_broken_reply(path_state):
    out = retriever(path_state, runtime(llm=scripted("I would use XGBoost.", '[{"model_name": "XGBoost"}]')))
    assert out["candidates"][0]["model_name"] == "XGBoost"
    assert out["counts"] == {"model_calls": 2, "reasks": 1, "candidates": 1}


def test_init_coder_runs_the_fenced_script_without_its_prose(path_state, task_facts):
    code = solution(task_facts)
    state = path_state | {"index": 0, "candidate": {"model_name": "logistic regression", "example_code": ""}}
    out = init_coder(state, runtime(llm=scripted(fenced(code)), check_leakage=False))
    (result,) = out["journal"]
    assert result["ok"] and 0.9 < result["score"] <= 1.0
    assert result["code"] == code and result["kind"] == "candidate" and result["plan"] == "logistic regression"


def test_crashing_script_goes_to_the_debugger(path_state):
    """The draft's lineage (parent, plan, block, step) is kept through the debug round; the fix's
    parent is the failed attempt, and both are on the state's path."""
    rec = Recorder("execute")
    ctx = runtime(llm=scripted(fenced(GOOD)), check_leakage=False).context
    draft = attempt("crashy", "refinement", code="raise ValueError('boom')\n", parent="s0", plan="more trees",
                    target_block="model = f()\n", t=0, k=1)
    result, attempts = run_checked(ctx, rec, path_state, draft)
    assert result["ok"] and result["score"] == 0.5 and result["code"] == GOOD
    assert rec.counts["debug_rounds"] == 1 and rec.counts["executions"] == 2
    first, fixed = attempts
    assert not first["ok"] and "ValueError: boom" in first["error"] and first["parent"] == "s0"
    assert fixed["parent"] == first["name"] == "crashy" and fixed["debug_round"] == 1 and fixed["name"] == "crashy_debug1"
    for entry in attempts:
        assert (entry["plan"], entry["target_block"], entry["t"], entry["k"], entry["step"], entry["path_id"]) == (
            "more trees", "model = f()\n", 0, 1, "t=0 k=1", 0)
        assert set(entry) == set(attempt("x", "candidate"))  # every attempt is whole


def test_hanging_script_is_killed_and_debugged(path_state):
    rec = Recorder("execute")
    ctx = runtime(llm=scripted(fenced(GOOD)), check_leakage=False, script_timeout=2).context
    result, _ = run_checked(ctx, rec, path_state, attempt("hangs", "candidate", code="import time\ntime.sleep(300)\n"))
    assert result["ok"] and rec.counts["debug_rounds"] == 1


def test_a_search_script_that_fails_past_the_deadline_is_not_debugged(path_state):
    """Past the run's deadline a failing search script is dropped: on rodent-species three debug
    rounds of a timed-out refinement ran 30 s each after the deadline."""
    import time

    rec = Recorder("execute")
    ctx = runtime(llm=scripted(fenced(GOOD)), check_leakage=False, debug_rounds=3).context
    late = with_run(path_state, deadline=time.time() - 1)
    result, attempts = run_checked(ctx, rec, late, attempt("late", "candidate", code="raise ValueError('boom')\n"))
    assert not result["ok"] and len(attempts) == 1 and rec.counts.get("debug_rounds", 0) == 0


def test_debugger_gives_up_after_n_rounds(path_state):
    rec = Recorder("execute")
    replies = [fenced("raise RuntimeError('still broken')\n"), fenced("raise RuntimeError('broken again')\n")]
    ctx = runtime(llm=scripted(*replies), check_leakage=False, debug_rounds=2).context
    result, attempts = run_checked(ctx, rec, path_state, attempt("stubborn", "candidate", code="raise ValueError('boom')\n"))
    assert not result["ok"] and "broken again" in result["error"]
    assert rec.counts["debug_rounds"] == 2 and rec.counts["executions"] == 3 and len(attempts) == 3


def test_debugger_never_reruns_an_unchanged_script(path_state):
    rec = Recorder("execute")
    broken = "raise ValueError('boom')\n"
    ctx = runtime(llm=scripted(fenced(broken)), check_leakage=False, debug_rounds=3).context
    result, attempts = run_checked(ctx, rec, path_state, attempt("same", "candidate", code=broken))
    assert not result["ok"] and len(attempts) == 1
    assert rec.counts["executions"] == 1 and rec.counts["debug_unchanged"] == 1


def test_leakage_fix_replaces_exactly_one_block(path_state):
    block = "scale = pd.concat([pd.read_csv('input/train.csv'), pd.read_csv('input/test.csv')])['mean_radius'].max()\n"
    leaky = predicting("rows['mean_radius'] / scale", setup=block)
    verdict = json.dumps({"leakage_status": "Yes Data Leakage", "code_block": block})
    clean = json.dumps({"leakage_status": "No Data Leakage", "code_block": ""})
    fixed_block = "scale = pd.read_csv('input/train.csv')['mean_radius'].max()  # training rows only\n"
    ctx = runtime(llm=scripted(f"```json\n{verdict}\n```\nThe scale uses test rows.", fenced(fixed_block),
                               clean)).context
    rec = Recorder("execute")
    result, _ = run_checked(ctx, rec, path_state, attempt("leaky", "candidate", code=leaky))
    assert result["code"] == leaky.replace(block, fixed_block)
    assert result["code"].count("scale =") == 1
    assert result["ok"] and result["score"] > 0.9  # the fixed script still ranks tumours by radius
    assert rec.counts["leakage_found"] == 1 and rec.counts["leakage_fixed"] == 1
    assert result["leakage"][0]["fixed"] and result["leakage"][0]["verified"]


def test_a_leakage_fix_that_changes_nothing_is_not_counted(path_state):
    leaky = predicting("0.5", setup="scale = 1\n")
    verdict = json.dumps({"leakage_status": "Yes Data Leakage", "code_block": "scale = 1\n"})
    ctx = runtime(llm=scripted(verdict, fenced("scale = 1\n"))).context
    rec = Recorder("execute")
    result, _ = run_checked(ctx, rec, path_state, attempt("same-fix", "candidate", code=leaky))
    assert result["code"] == leaky and rec.counts["leakage_found"] == 1 and "leakage_fixed" not in rec.counts
    assert result["leakage"][0]["error"] == "the fix changed nothing"


def test_leakage_verdict_with_a_foreign_block_is_reasked(path_state):
    verdict_bad = json.dumps({"leakage_status": "Yes Data Leakage", "code_block": "not in the script"})
    verdict_ok = json.dumps({"leakage_status": "No Data Leakage", "code_block": ""})
    ctx = runtime(llm=scripted(verdict_bad, verdict_ok)).context
    rec = Recorder("execute")
    result, _ = run_checked(ctx, rec, path_state, attempt("clean", "candidate", code=GOOD))
    assert result["code"] == GOOD and rec.counts["reasks"] == 1 and "leakage_found" not in rec.counts


def test_rank_candidates_starts_from_the_best_for_either_direction(path_state, diabetes_task):
    higher = rank_candidates(path_state | {"journal": [_scored("a", 0.8), _scored("b", 0.9), _scored("c", 0.7)]})
    assert higher["best"] == "b" and higher["merge_done"] is False
    task = task_record(diabetes_task, path_state["run"]["run_dir"])  # RMSE: lower is better
    lower = rank_candidates(with_run(path_state, task=task) | {"journal": [_scored("a", 60.0), _scored("b", 50.0)]})
    assert lower["best"] == "b"


def test_merger_breaks_when_a_merge_is_worse(path_state, diabetes_task, tmp_path):
    task = task_record(diabetes_task, tmp_path / "diabetes-run")  # RMSE: lower is better
    entries = [_scored("a", 60.0), _scored("b", 50.0), _scored("c", 70.0)]
    state = with_run(path_state, task=task, run_dir=str(tmp_path / "diabetes-run")) | {
        "journal": entries, "best": "b", "merge_index": 1}
    worse = predicting("0.0", column="target", printed="155.0")  # predicting 0 misses by about 160
    out = merger(state, runtime(llm=scripted(fenced(worse)), check_leakage=False))
    assert "best" not in out and out["merge_done"] is True
    assert out["counts"]["merges"] == 1 and "merges_accepted" not in out["counts"]
    assert out["journal"][0]["parent"] == "b" and out["journal"][0]["kind"] == "merge"


def test_merger_keeps_an_equal_or_better_merge(path_state):
    state = path_state | {"journal": [_scored("a", 0.8), _scored("b", 0.9)], "best": "b", "merge_index": 1}
    better = predicting(GOOD_RANKING, printed="0.9")
    out = merger(state, runtime(llm=scripted(fenced(better)), check_leakage=False))
    assert out["journal"][0]["score"] > 0.9 and out["journal"][0]["score_source"] == "agent"
    assert out["best"] == "path0/merge_1" and out["merge_index"] == 2 and out["merge_done"] is True


def test_data_usage_statement_keeps_the_solution(path_state):
    state = path_state | {"journal": [_scored("s0", 0.9)], "best": "s0"}
    out = data_usage_checker(state, runtime(llm=scripted("All the provided information is used.")))
    assert "best" not in out and out["counts"]["model_calls"] == 1


def test_extractor_reasks_until_the_block_is_an_exact_substring(path_state, task_facts):
    code = solution(task_facts)
    real_block = code[code.index("def make_models"):code.index("# end of model block")]
    bad = json.dumps([{"code_block": "def make_models():\n    return []", "plan": "Use more trees."}])
    good = json.dumps([{"code_block": real_block, "plan": "Use more trees."}]) + "\nThat should help."
    state = path_state | {"journal": [_scored("s", 0.9, code)], "best": "s", "ablation_summaries": ["model matters"]}
    out = extractor(state, runtime(llm=scripted(bad, good)))
    assert out["code_block"] == real_block.strip("\n") and out["plan"] == "Use more trees."
    assert out["counts"]["reasks"] == 1


def test_refiner_replaces_only_the_target_block(path_state):
    code = predicting(f"w * {GOOD_RANKING} + (1 - w) * 0.5", setup="w = 0.0\n")
    state = path_state | {"journal": [_scored("s", 0.5, code)], "best": "s", "code_block": "w = 0.0\n",
                          "plan": "Weigh the radius in.", "outer_step": 0, "inner_step": 0}
    reply = "Refined block:\n```python\nw = 1.0\n```\nThis raises the score."
    out = refiner_coder(state, runtime(llm=scripted(reply), check_leakage=False))
    (refined,) = out["journal"]
    assert refined["code"] == code.replace("w = 0.0\n", "w = 1.0\n")
    assert (refined["plan"], refined["parent"], refined["step"]) == ("Weigh the radius in.", "s", "t=0 k=0")
    assert refined["score"] > 0.9 and refined["target_block"] == "w = 0.0\n" and out["inner_step"] == 1


def test_refiner_with_an_empty_block_changes_nothing(path_state):
    state = path_state | {"journal": [_scored("s", 3.0)], "best": "s", "code_block": "x\n", "plan": "p",
                          "inner_step": 0}
    out = refiner_coder(state, runtime(llm=scripted("```python\n\n```", "```python\n\n```", "```python\n\n```")))
    (failed,) = out["journal"]
    assert not failed["ok"] and failed["score"] is None and failed["workdir"] == ""


def test_only_an_improvement_replaces_s_t(path_state, diabetes_task):
    task = task_record(diabetes_task, path_state["run"]["run_dir"])
    s = _scored("s", 50.0)
    base = with_run(path_state, task=task) | {"best": "s", "code_block": "b", "outer_step": 0}
    worse = accept_refinement(base | {"journal": [s, _scored("r", 51.0, kind="refinement", t=0, k=0)]},
                              runtime())
    better = accept_refinement(base | {"journal": [s, _scored("r", 49.0, kind="refinement", t=0, k=0)]},
                               runtime())
    assert "best" not in worse and better["best"] == "r"
    assert worse["outer_step"] == better["outer_step"] == 1 and worse["refined_blocks"] == ["b"]


def test_a_refinement_too_slow_for_the_time_left_is_not_kept(path_state, diabetes_task):
    """Late in a run, a refinement that makes the solution much slower (three seeds of a large
    model: 6 s became 32 s on diamonds, and the run overran its limit by 9 s) is not kept when its
    final script could not finish before the deadline; a fast one still is."""
    import time

    task = task_record(diabetes_task, path_state["run"]["run_dir"])
    s = _scored("s", 50.0, duration=2.0)
    base = with_run(path_state, task=task, deadline=time.time() + 30) | {"best": "s", "code_block": "b",
                                                                         "outer_step": 0}
    slow = _scored("slow", 40.0, kind="refinement", t=0, k=0, duration=60.0)
    fast = _scored("fast", 45.0, kind="refinement", t=0, k=1, duration=2.0)
    ctx = runtime(time_limit=300)
    alone = accept_refinement(base | {"journal": [s, slow]}, ctx)
    assert "best" not in alone and "too slow" in alone["stages"][-1]["detail"]
    kept_fast = accept_refinement(base | {"journal": [s, slow, fast]}, ctx)
    assert kept_fast["best"] == "fast"
    # the outcome says a better attempt was set aside, so a reader sees why 45 won over 40
    assert "1 better attempt(s), best 40, set aside: too slow" in kept_fast["stages"][-1]["detail"]
    later = with_run(base, deadline=time.time() + 3600)
    assert accept_refinement(later | {"journal": [s, slow, fast]}, ctx)["best"] == "slow"


def test_a_forged_score_is_caught_and_never_accepted(path_state):
    """The agent scores the held-out predictions itself; a printed score they do not earn marks
    the script untrusted (reported, never accepted)."""
    forged = predicting(BAD_RANKING, printed="0.999999")
    ctx = runtime(llm=scripted(fenced(forged)), check_leakage=False, debug_rounds=0).context
    rec = Recorder("execute")
    result, _ = run_checked(ctx, rec, path_state, attempt("forger", "candidate", code=forged))
    assert not result["ok"] and result["untrusted"] and result["printed_score"] == 0.999999
    assert result["score"] < 0.2 and "untrusted" in result["error"] and rec.counts["untrusted_scripts"] == 1
    honest = predicting(GOOD_RANKING, printed="0.88")  # a modest claim is no cause for suspicion
    result, _ = run_checked(ctx, rec, path_state, attempt("honest", "candidate", code=honest))
    assert result["ok"] and not result["untrusted"] and result["score"] > 0.9


def test_missing_or_malformed_predictions_go_to_the_debugger(path_state):
    no_file = "print('Final Validation Performance: 0.9')\n"
    wrong_ids = predicting("0.5").replace("rows['id']", "rows['id'] + 1")
    ctx = runtime(llm=scripted(fenced(wrong_ids), fenced(GOOD)), check_leakage=False, debug_rounds=2).context
    rec = Recorder("execute")
    result, attempts = run_checked(ctx, rec, path_state, attempt("sloppy", "candidate", code=no_file))
    assert [a["ok"] for a in attempts] == [False, False, True]
    assert "valid_predictions.csv was not written" in attempts[0]["error"] or "test_predictions" in attempts[0]["error"]
    assert "ids" in attempts[1]["error"] and result["score"] == 0.5
