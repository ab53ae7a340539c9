"""mle-star embedded as a node of another agent's graph."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from mle_star import Context
from mle_star.tools.scoring.submission import validate_submission

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "parent_agent.py"


def test_parent_graph_runs_mle_star_to_a_valid_submission(bc_task, tmp_path):
    spec = importlib.util.spec_from_file_location("parent_agent", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    parent = module.build_parent().compile()
    ctx = Context(num_candidates=1, outer_loops=1, inner_loops=1, parallel_solutions=1, ensemble_rounds=0,
                  script_timeout=120)
    result = parent.invoke({"request": "predict malignancy", "task_dir": str(bc_task),
                            "run_dir": str(tmp_path / "run")}, context=ctx)
    assert set(result) <= {"request", "task_dir", "run_dir", "submission", "score", "answer"}
    validate_submission(result["submission"], bc_task / "public" / "sample_submission.csv", "id")
    assert result["score"] > 0.9 and result["answer"].startswith("Done:")
