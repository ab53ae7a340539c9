"""Human in the loop: --review plans pauses before each refinement plan and before submission;
the person can accept, edit or skip, from the terminal or with Command(resume=...)."""

from __future__ import annotations

import json
import subprocess
import sys

from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command

from mle_star import Context, build_graph

TINY = {"num_candidates": 1, "outer_loops": 1, "inner_loops": 2, "parallel_solutions": 1, "ensemble_rounds": 0,
        "script_timeout": 120}
EDITED = "[model:add_linear] Blend in a linear model, as the reviewer asks."


def test_graph_pauses_and_resumes_with_commands(bc_task, tmp_path):
    graph = build_graph().compile(checkpointer=InMemorySaver())
    config = {"configurable": {"thread_id": "review"}}
    ctx = Context(review="plans", **TINY)
    seen, answers = [], iter([{"action": "edit", "plan": EDITED}, {"action": "skip"}, {"action": "accept"}])
    command = {"task_dir": str(bc_task), "run_dir": str(tmp_path / "run")}
    while True:
        graph.invoke(command, config, context=ctx)
        pending = graph.get_state(config).interrupts
        if not pending:
            break
        seen += [i.value["kind"] for i in pending]
        command = Command(resume={i.id: next(answers) for i in pending})
    assert seen == ["plan", "plan", "submission"]
    values = graph.get_state(config).values
    assert values["submission_path"]
    record = json.loads((tmp_path / "run" / "run.json").read_text())
    assert record["counts"]["plans_edited"] == 1 and record["counts"]["plans_skipped"] == 1
    refines = [s for s in record["stages"] if s["node"] == "refiner_coder"]
    assert refines[0]["detail"].endswith(EDITED) and "skipped by the reviewer" in refines[1]["detail"]
    assert not (tmp_path / "run" / "scripts" / "path0" / "t0_k1_refine").exists()


def test_cli_reviewer_can_skip_the_submission(bc_task, tmp_path):
    args = [sys.executable, "-m", "mle_star.cli", "run", str(bc_task), "--run-dir", str(tmp_path / "run"),
            "--review", "plans"] + [x for k, v in TINY.items() for x in (f"--{k.replace('_', '-')}", str(v))]
    done = subprocess.run(args, input="a\na\ns\n", capture_output=True, text=True, timeout=600)
    assert done.returncode == 1 and "the reviewer skipped the submission" in done.stderr
    assert done.stderr.count("[review]") == 3
    assert not (tmp_path / "run" / "final" / "submission.csv").exists()
