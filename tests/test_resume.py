"""Durable runs: a CLI run killed with SIGKILL at any point resumes to the same result, and
no script that had finished runs again."""

from __future__ import annotations

import json
import os
import random
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


def _kill_after(args: list[str], seconds: float) -> bool:
    """Run the CLI and SIGKILL it after ``seconds``; True if it was killed (not finished)."""
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        proc.wait(timeout=seconds)
        return False
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        return True


def test_ten_kills_at_random_points_then_the_same_submission(bc_task, tmp_path, uninterrupted):
    """kill -9 at 10 random moments (seeded), resuming after each: the run still ends with the
    uninterrupted run's submission, and no script that had finished ran a second time."""
    rng = random.Random(20261129)
    run_dir = tmp_path / "run"
    kills = 0
    args = _cli("run", str(bc_task), "--run-dir", str(run_dir), *LOOPS)
    while kills < 10:
        if not _kill_after(args, rng.uniform(1.0, 4.0)):
            break  # it finished before the kill: the remaining kills have nothing to hit
        kills += 1
        if (run_dir / "cli.json").exists():  # else it was killed before the run was set up: run again
            args = _cli("resume", str(run_dir))
    done = subprocess.run(_cli("resume", str(run_dir)), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert kills >= 5, f"only {kills} kills landed before the run finished"
    assert (run_dir / "final" / "submission.csv").read_bytes() == (uninterrupted / "final" / "submission.csv").read_bytes()
    runs = [json.loads(line) for line in (run_dir / "executions.jsonl").read_text().splitlines()]
    twice = [key for key, n in Counter((r["name"], r["sha256"]) for r in runs).items() if n > 1]
    assert not twice, f"finished scripts ran again: {twice}"


def test_resume_of_a_finished_run_changes_nothing(uninterrupted):
    before = (uninterrupted / "executions.jsonl").read_text()
    done = subprocess.run(_cli("resume", str(uninterrupted)), capture_output=True, text=True)
    assert done.returncode == 0 and "already finished" in done.stderr
    assert (uninterrupted / "executions.jsonl").read_text() == before


@pytest.mark.bad_input
def test_run_refuses_to_overwrite_a_run(uninterrupted, bc_task):
    done = subprocess.run(_cli("run", str(bc_task), "--run-dir", str(uninterrupted)), capture_output=True, text=True)
    assert done.returncode == 2 and "mle-star resume" in done.stderr
