"""Durable runs: a CLI run killed with SIGKILL at any point resumes to the same result, and
no script that had finished runs again."""

from __future__ import annotations

import json
import os
import random
import re
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
    """Start a run and SIGKILL it as soon as its progress shows a score from the ``marker`` stage
    (a line such as "path 0 ablation (t 1/2, k 0/1) score=0.95 | ...")."""
    stage = re.compile(rf"\b{re.escape(marker)}\b[^|]*score=")
    proc = subprocess.Popen(args, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    for line in proc.stderr:
        if stage.search(line):
            os.kill(proc.pid, signal.SIGKILL)
            break
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, f"the run ended before '{marker}'"


@pytest.fixture(scope="module")
def uninterrupted(bc_task, tmp_path_factory) -> Path:
    run_dir = tmp_path_factory.mktemp("straight") / "run"
    subprocess.run(_cli("run", str(bc_task), "--run-dir", str(run_dir), *LOOPS), check=True, capture_output=True)
    return run_dir


@pytest.mark.parametrize("marker", ["init_coder", "ablation", "ensembler"])
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


class _Fickle:
    """A model that never gives the same script twice (a random comment in each), whose first
    script crashes and whose first debugger call fails like a lost connection."""

    @staticmethod
    def build():
        import uuid

        from langchain_core.language_models.chat_models import BaseChatModel
        from langchain_core.messages import AIMessage
        from langchain_core.outputs import ChatGeneration, ChatResult

        from mle_star.engineer.model import answer
        from mle_star.prompts import PAYLOAD_KEY

        class Fickle(BaseChatModel):
            failed: list = []

            @property
            def _llm_type(self) -> str:
                return "fickle"

            def _generate(self, messages, stop=None, run_manager=None, **kwargs):
                payload = messages[-1].additional_kwargs[PAYLOAD_KEY]
                if payload["role"] == "debugger" and not self.failed:
                    self.failed.append(True)
                    raise RuntimeError("simulated crash of the agent mid-node")
                if payload["role"] == "init_coder":
                    text = f"```python\n# {uuid.uuid4()}\nraise SystemExit('first try')\n```"
                else:
                    text = answer(payload)
                return ChatResult(generations=[ChatGeneration(message=AIMessage(text))])

        return Fickle()


@pytest.mark.parametrize("cached", [True, False])
def test_a_resumed_node_gets_the_same_replies_so_finished_scripts_are_reused(bc_task, tmp_path, cached):
    """A real model answers differently each time; the run's reply cache makes a resumed node get
    the replies it had, so its finished scripts are reused instead of run again."""
    from langgraph.checkpoint.memory import InMemorySaver

    from mle_star import Context, build_graph
    from mle_star.models import ModelUnavailable, use_model

    graph = build_graph().compile(checkpointer=InMemorySaver())
    config = {"configurable": {"thread_id": "fickle"}}
    ctx = Context(model=use_model(_Fickle.build()), num_candidates=1, outer_loops=0, parallel_solutions=1,
                  ensemble_rounds=0, check_leakage=False, script_timeout=120,
                  cache_path=str(tmp_path / "replies.sqlite") if cached else "")
    with pytest.raises(ModelUnavailable):
        graph.invoke({"task_dir": str(bc_task), "run_dir": str(tmp_path / "run")}, config, context=ctx)
    out = graph.invoke(None, config, context=ctx)
    assert out["submission_path"]
    runs = [json.loads(line)["name"] for line in (tmp_path / "run" / "executions.jsonl").read_text().splitlines()]
    assert (runs.count("path0/init_0") == 1) is cached  # without the cache, the new reply's script ran again
