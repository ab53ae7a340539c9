"""The paper's loop control, router by router, on synthetic state with a fake clock: the merge
break, the T outer and K inner loops, the R ensemble rounds, the fan-outs, and the time budget
that ends a loop early (no graph, no scripts)."""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace

import pytest

from mle_star import budget, journal
from mle_star.config import Context
from mle_star.graph import routers

NOW = 1_000_000.0
TASK = {"n_train": 800, "n_holdout": 200}


@pytest.fixture(autouse=True)
def clock(monkeypatch):
    monkeypatch.setattr(budget.time, "time", lambda: NOW)


def ctx(**changes) -> Context:
    base = Context(outer_loops=2, inner_loops=3, ensemble_rounds=2, parallel_solutions=2, num_candidates=2,
                   time_limit=3600.0, check_data_usage=False, subsample_rows=30000, max_parallel=2)
    return replace(base, **changes)


def runtime(**changes) -> SimpleNamespace:
    return SimpleNamespace(context=ctx(**changes))


def path_state(seconds_left: float = 3000.0, duration: float = 10.0, **fields) -> dict:
    best = journal.attempt("path0/best", "candidate", path_id=0, ok=True, score=0.8, duration=duration, workdir="")
    return {"path_id": 0, "run": {"task": TASK, "run_dir": "/tmp/run", "deadline": NOW + seconds_left},
            "journal": [best], "best": best["name"], **fields}


# -- the budget ---------------------------------------------------------------------------------

def test_a_search_step_needs_its_runs_and_the_reserve_for_the_ensemble_and_final_script():
    c = ctx()
    state = path_state(duration=10.0)
    reserve = budget.reserve_seconds(state, c, 10.0)
    # two fits per member, two members, 'final_workers' at a time; plus two rounds of about one run
    assert reserve == pytest.approx(budget.final_seconds(TASK, c, 10.0) + 2 * 10.0 + budget.margin_seconds(c))
    assert budget.search_time_left(path_state(seconds_left=reserve + 10.5), c)
    assert not budget.search_time_left(path_state(seconds_left=reserve + 9.5), c)
    assert not budget.search_time_left(path_state(seconds_left=reserve + 39.5), c, runs=4)


def test_the_final_script_is_scaled_to_every_labelled_row():
    c = ctx(subsample_rows=200, ensemble_rounds=0)
    one_fit_all_rows = 10.0 * (800 + 200) / 200
    assert budget.final_seconds(TASK, c, 10.0) == pytest.approx(2 * one_fit_all_rows / min(2, budget.final_workers(c)))


def test_a_measured_ensemble_round_replaces_the_estimate():
    c = ctx()
    state = path_state()
    state["journal"].append(journal.attempt("ensemble/r1", "ensemble", ok=True, duration=60.0, workdir="/w"))
    assert budget.round_seconds(state) == 60.0
    assert budget.reserve_seconds(state, c, 10.0) == pytest.approx(
        budget.final_seconds(TASK, c, 10.0) + 2 * 60.0 + budget.margin_seconds(c))


# -- one solution path --------------------------------------------------------------------------

def test_the_candidates_fan_out_with_the_run_facts():
    sends = routers.fan_out_candidates(path_state(candidates=[{"model_name": "a"}, {"model_name": "b"}]))
    assert [s.node for s in sends] == ["init_coder", "init_coder"]
    assert [s.arg["index"] for s in sends] == [0, 1]
    assert all(s.arg["run"]["deadline"] == NOW + 3000.0 and s.arg["path_id"] == 0 for s in sends)


def test_merging_stops_at_the_break_and_when_no_candidate_ran():
    assert routers.merge_next({"best": None}, runtime()) == "path_result"
    assert routers.merge_next(path_state(), runtime()) == "merger"
    assert routers.merge_next(path_state(merge_done=True), runtime()) == "outer_step"
    assert routers.merge_next(path_state(merge_done=True), runtime(check_data_usage=True)) == "data_usage_checker"


def test_a_merge_must_leave_the_first_outer_step_its_time():
    c = ctx()
    need = budget.reserve_seconds(path_state(), c, 10.0, rounds=0) + (1 + budget.ABLATION_RUNS + 1) * 10.0
    assert routers.merge_next(path_state(seconds_left=need + 1), runtime()) == "merger"
    assert routers.merge_next(path_state(seconds_left=need - 1), runtime()) == "outer_step"


@pytest.mark.parametrize("t, expected", [(0, "outer_step"), (1, "outer_step"), (2, "path_result"), (3, "path_result")])
def test_the_outer_loop_takes_T_steps(t, expected):
    assert routers.start_outer_step(path_state(outer_step=t), runtime(outer_loops=2)) == expected


def test_spare_time_keeps_refining_past_T_while_time_is_left():
    assert routers.start_outer_step(path_state(outer_step=5), runtime(outer_loops=2, spare_time=True)) == "outer_step"
    assert routers.start_outer_step(path_state(outer_step=5, seconds_left=30.0),
                                    runtime(outer_loops=2, spare_time=True)) == "path_result"


def test_no_outer_loop_when_T_is_zero_or_time_is_short():
    assert routers.start_outer_step(path_state(), runtime(outer_loops=0)) == "path_result"
    assert routers.start_outer_step(path_state(seconds_left=20.0), runtime()) == "path_result"


@pytest.mark.parametrize("k, expected", [(0, "refiner_planner"), (2, "refiner_planner"), (3, "accept_refinement")])
def test_the_inner_loop_takes_K_attempts(k, expected):
    assert routers.after_refiner_coder(path_state(inner_step=k), runtime(inner_loops=3)) == expected


def test_the_inner_loop_ends_early_when_time_runs_short():
    assert routers.after_refiner_coder(path_state(inner_step=0, seconds_left=20.0), runtime()) == "accept_refinement"


def test_an_extractor_without_a_block_skips_the_inner_loop():
    assert routers.after_extractor(path_state(code_block="model = X()"), runtime()) == "refiner_coder"
    assert routers.after_extractor(path_state(code_block=""), runtime()) == "accept_refinement"
    assert routers.after_extractor(path_state(code_block="x"), runtime(inner_loops=0)) == "accept_refinement"


# -- the whole run --------------------------------------------------------------------------------

def test_L_paths_fan_out():
    state = {"run": {"task": TASK, "run_dir": "/tmp/run", "deadline": NOW + 100}}
    sends = routers.fan_out_paths(state, runtime(parallel_solutions=3))
    assert [s.arg["path_id"] for s in sends] == [0, 1, 2] and {s.node for s in sends} == {"solution_path"}
    assert all(s.arg["run"] == state["run"] for s in sends)


def _run_state(rounds_done: int, finals_ok: int, seconds_left: float = 3000.0) -> dict:
    finals = [journal.attempt(f"path{i}/final", "candidate", path_id=i, ok=i < finals_ok, duration=10.0,
                              workdir="/w") for i in range(2)]
    return {"run": {"task": TASK, "run_dir": "/tmp/run", "deadline": NOW + seconds_left}, "journal": finals, "finals": [f["name"] for f in finals],
            "ensemble_round": rounds_done}


@pytest.mark.parametrize("done, expected", [(0, "ensemble_planner"), (1, "ensemble_planner"), (2, "submission")])
def test_the_ensemble_takes_R_rounds(done, expected):
    assert routers.start_ensemble_round(_run_state(done, finals_ok=2), runtime(ensemble_rounds=2)) == expected


def test_no_ensemble_with_one_good_solution_or_no_time():
    assert routers.start_ensemble_round(_run_state(0, finals_ok=1), runtime()) == "submission"
    assert routers.start_ensemble_round(_run_state(0, finals_ok=2, seconds_left=30.0), runtime()) == "submission"


def test_an_outer_step_hands_back_the_whole_journal_and_only_its_new_attempts_are_added():
    from mle_star.state import add_attempts

    before = [journal.attempt("path0/init_0", "candidate"), journal.attempt("path0/init_1", "candidate")]
    step = [*before, journal.attempt("path0/t0_ablation", "ablation"), journal.attempt("path0/t0_k0_refine",
                                                                                          "refinement")]
    merged = add_attempts(before, step)
    assert [a["name"] for a in merged] == ["path0/init_0", "path0/init_1", "path0/t0_ablation", "path0/t0_k0_refine"]
    assert add_attempts(merged, [journal.attempt("ensemble_r0", "ensemble")])[-1]["name"] == "ensemble_r0"


def test_the_compiled_path_draws_algorithm_2_as_a_subgraph():
    from mle_star.graph import graph

    nodes = set(graph.get_graph(xray=True).nodes)
    inner = {"ablation", "ablation_summarizer", "extractor", "refiner_coder", "refiner_planner", "accept_refinement"}
    assert {f"solution_path:outer_step:{n}" for n in inner} <= nodes
    assert not {f"solution_path:{n}" for n in inner} & nodes  # each step lives in one place


def test_every_step_is_declared_once_and_the_graph_wires_exactly_those_steps():
    from mle_star.graph import graph
    from mle_star.prompts import ROLES
    from mle_star.steps import STEP, STEPS
    from mle_star.telemetry import Recorder

    assert len(STEP) == len(STEPS)
    drawn = {n.rsplit(":", 1)[-1] for n in graph.get_graph(xray=True).nodes} - {"__start__", "__end__"}
    per_script = {s.node for s in STEPS if s.loop == "script"}  # inside run_and_debug, called by nodes
    assert drawn == set(STEP) - per_script - {"solution_path", "outer_step"}
    assert {r for s in STEPS for r in s.roles} == set(ROLES)  # every role is asked by some step
    with pytest.raises(ValueError, match="not a step"):
        Recorder("ablation_plannr")
