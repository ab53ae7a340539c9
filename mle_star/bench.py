"""``mle-star bench TASKS_DIR``: run mle-star on every task of a make_tasks.py output, grade
each submission with the tasks' own grader, and put a default-parameter XGBoost baseline,
run and graded the same way, beside it in one table (markdown and JSON)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from mle_star.config import Context
from mle_star.engineer.recipe import default_recipe, render_solution
from mle_star.tools.metrics import best_of, is_better
from mle_star.tools.runner import ScriptRunner
from mle_star.tools.task import load_task


def find_tasks(tasks_dir: Path, only: list[str] | None = None) -> list[Path]:
    tasks = sorted(p for p in tasks_dir.iterdir() if (p / "public").is_dir() and (p / "task.json").exists())
    return [t for t in tasks if not only or t.name in only]


def grade(tasks_dir: Path, task: Path, submission: Path) -> dict:
    """The task's own grader (grade.py beside the tasks): one JSON line."""
    grader = tasks_dir / "grade.py"
    if not submission.exists():
        return {"valid_submission": False, "score": None, "error": "no submission"}
    done = subprocess.run([sys.executable, str(grader), str(task), str(submission)], capture_output=True, text=True)
    try:
        return json.loads(done.stdout.strip().splitlines()[-1])
    except (json.JSONDecodeError, IndexError):
        return {"valid_submission": False, "score": None, "error": done.stderr.strip()[-300:]}


def xgboost_baseline(task_dir: Path, out: Path, timeout: float) -> tuple[Path, float]:
    """Default-parameter XGBoost on ordinal-coded features (text dropped; log1p target for RMSLE)."""
    task = load_task(task_dir / "public").to_dict()
    recipe = default_recipe(task, "xgboost")
    recipe["features"] = {k: False for k in recipe["features"]}
    recipe["preprocess"]["text"] = False
    recipe["model"]["models"][0]["params"] = {}
    start = time.time()
    runner = ScriptRunner(out, task["data_dir"], timeout=timeout, threads=os.cpu_count() or 1)
    result = runner.run(render_solution(task, recipe, final=True), "xgboost_default")
    return Path(result.workdir) / "final" / "submission.csv", time.time() - start


def run_bench(tasks_dir: str | Path, out_dir: str | Path, preset: str = "laptop", only: list[str] | None = None,
              time_limit: float = 900.0, script_timeout: float = 600.0, seed: int = 42,
              overrides: dict | None = None) -> list[dict]:
    tasks_dir, out_dir = Path(tasks_dir).resolve(), Path(out_dir).resolve()
    if not (tasks_dir / "grade.py").exists():
        raise FileNotFoundError(f"{tasks_dir} has no grade.py (expected a make_tasks.py output)")
    settings = Context.preset(preset) | (overrides or {})
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = []
    for task in find_tasks(tasks_dir, only):
        meta = json.loads((task / "task.json").read_text())
        run_dir = out_dir / task.name / "agent"
        args = [sys.executable, "-m", "mle_star.cli", "run", str(task / "public"), "--run-dir", str(run_dir),
                "--time-limit", str(time_limit), "--script-timeout", str(script_timeout), "--seed", str(seed)]
        for key, value in settings.items():
            args += [f"--{key.replace('_', '-')}", str(value)]
        start = time.time()
        with open(out_dir / f"{task.name}.log", "w") as log:
            code = subprocess.call(args, stdout=log, stderr=subprocess.STDOUT)
        wall = time.time() - start
        agent = grade(tasks_dir, task, run_dir / "final" / "submission.csv")
        record = json.loads((run_dir / "run.json").read_text()) if (run_dir / "run.json").exists() else {}
        base_sub, base_wall = xgboost_baseline(task, out_dir / task.name / "baseline", script_timeout)
        base = grade(tasks_dir, task, base_sub)
        rows.append({
            "task": task.name, "metric": meta["metric"], "higher_is_better": meta["higher_is_better"],
            "score": agent.get("score"), "valid": bool(agent.get("valid_submission")), "exit_code": code,
            "null_score": meta.get("null_score"), "xgboost_default": base.get("score"),
            "initial_validation": (best_of([{"score": v} for v in record.get("initial_best_scores", [])],
                                           not meta["higher_is_better"]) or {}).get("score"),
            "final_validation": record.get("best_score"), "wall_time": round(wall, 1), "baseline_wall_time": round(base_wall, 1),
            "model_calls": record.get("counts", {}).get("model_calls"),
            "executions": record.get("counts", {}).get("executions"),
        })
        write_tables(rows, out_dir, settings)
    return rows


def _better(a: float | None, b: float | None, higher: bool) -> bool:
    """Both scored and ``a`` strictly better (a missing baseline is no win)."""
    return b is not None and is_better(a, b, lower_is_better=not higher)


def f(value: object) -> str:
    return f"{value:.4f}" if isinstance(value, int | float) else "—"


def write_tables(rows: list[dict], out_dir: Path, settings: dict) -> None:
    (out_dir / "results.json").write_text(json.dumps({"settings": settings, "results": rows}, indent=1))
    lines = ["| task | metric | mle-star | xgboost default | null | beats xgb | initial val | final val | wall s | model calls | executions |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        lines.append(f"| {r['task']} | {r['metric']} | {f(r['score'])}{'' if r['valid'] else ' (invalid)'} | "
                     f"{f(r['xgboost_default'])} | {f(r['null_score'])} | "
                     f"{'yes' if _better(r['score'], r['xgboost_default'], r['higher_is_better']) else 'no'} | "
                     f"{f(r['initial_validation'])} | {f(r['final_validation'])} | {r['wall_time']} | "
                     f"{r['model_calls']} | {r['executions']} |")
    wins = sum(_better(r["score"], r["xgboost_default"], r["higher_is_better"]) for r in rows)
    lines += ["", f"mle-star beats default XGBoost on {wins} of {len(rows)} tasks. Settings: {settings}"]
    (out_dir / "results.md").write_text("\n".join(lines) + "\n")
