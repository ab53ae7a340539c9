"""Durable runs: a CLI run killed with SIGKILL at any point resumes to the same result, and
no script that had finished runs again."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

LOOPS = ["--num-candidates", "2", "--outer-loops", "1", "--inner-loops", "1", "--parallel-solutions", "2",
         "--ensemble-rounds", "1", "--script-timeout", "120"]


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "mle_star.cli", *args]


def _run_until(args: list[str], marker: str) -> None:
    """Start a run and SIGKILL it as soon as its progress shows ``marker``."""
    proc = subprocess.Popen(args, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    for line in proc.stderr:
        if marker in line:
            os.kill(proc.pid, signal.SIGKILL)
            break
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, f"the run ended before '{marker}'"


@pytest.fixture(scope="module")
def uninterrupted(bc_task, tmp_path_factory) -> Path:
    run_dir = tmp_path_factory.mktemp("straight") / "run"
    subprocess.run(_cli("run", str(bc_task), "--run-dir", str(run_dir), *LOOPS), check=True, capture_output=True)
    return run_dir


@pytest.mark.parametrize("marker", ["init_coder score=", "ablation score=", "ensembler score="])
def test_killed_run_resumes_to_the_same_submission(bc_task, tmp_path, uninterrupted, marker):
    run_dir = tmp_path / "run"
    _run_until(_cli("run", str(bc_task), "--run-dir", str(run_dir), *LOOPS), marker)
    assert not (run_dir / "final" / "submission.csv").exists()
    done = subprocess.run(_cli("resume", str(run_dir)), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert (run_dir / "final" / "submission.csv").read_bytes() == (uninterrupted / "final" / "submission.csv").read_bytes()
    runs = [json.loads(line) for line in (run_dir / "executions.jsonl").read_text().splitlines()]
    twice = [key for key, n in Counter((r["name"], r["sha256"]) for r in runs).items() if n > 1]
    assert not twice, f"finished scripts ran again: {twice}"
    record = json.loads((run_dir / "run.json").read_text())
    assert record["counts"]["outer_loops"] == 2 and record["counts"]["ensemble_rounds"] == 1


def test_resume_of_a_finished_run_changes_nothing(uninterrupted):
    before = (uninterrupted / "executions.jsonl").read_text()
    done = subprocess.run(_cli("resume", str(uninterrupted)), capture_output=True, text=True)
    assert done.returncode == 0 and "already finished" in done.stderr
    assert (uninterrupted / "executions.jsonl").read_text() == before


def test_run_refuses_to_overwrite_a_run(uninterrupted, bc_task):
    done = subprocess.run(_cli("run", str(bc_task), "--run-dir", str(uninterrupted)), capture_output=True, text=True)
    assert done.returncode == 2 and "mle-star resume" in done.stderr
