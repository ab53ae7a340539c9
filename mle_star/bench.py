"""``mle-star bench DIR``: run mle-star on every task in DIR, grade each submission with the
tasks' own grader, and put a simple baseline, run and graded the same way, beside it.

DIR may hold make_tasks.py output (``<task>/public`` + ``task.json``, with ``grade.py`` beside
them), MLE-bench prepared competitions (``<competition>/prepared/public``; grade with
``--grader "mlebench grade-sample {submission} {competition}"``), or be one task folder. A
grader is any command: ``{submission}``, ``{task_dir}``, ``{competition}`` and ``{public}``
are filled in, and the last JSON object it prints with a ``score`` is the grade.

With ``--executor ray`` every task's run is a Ray task with an equal share of the cluster and
all of them run at once (:mod:`mle_star.tools.execution.ray_bench`); grading and the baselines follow on
this machine, each AutoML baseline given its task's wall time.

The baseline is the offline engineer's first single-model XGBoost script for the task (the
same features the agent starts from, text included), trained on every labelled row.
"""

from __future__ import annotations

import json
import os
import shlex
import statistics
import subprocess
import sys
import time
from pathlib import Path

from mle_star.automl import normalised, run_baseline
from mle_star.config import Context
from mle_star.tools.execution.sandbox import SandboxMode
from mle_star.tools.files import atomic_write
from mle_star.tools.scoring.metrics import Metric
from mle_star.tools.task.intake import TaskError, data_folder, read_task


def find_tasks(tasks_dir: Path, only: list[str] | None = None) -> list[Path]:
    """Task folders under ``tasks_dir`` (or ``tasks_dir`` itself when it is one)."""
    if data_folder(tasks_dir) != tasks_dir or (tasks_dir / "sample_submission.csv").exists():
        tasks = [tasks_dir]
    else:
        tasks = sorted(p for p in tasks_dir.iterdir() if p.is_dir() and data_folder(p) != p)
    return [t for t in tasks if not only or t.name in only]


def default_grader(tasks_dir: Path) -> str | None:
    if (tasks_dir / "grade.py").exists():
        return f"{shlex.quote(sys.executable)} {shlex.quote(str(tasks_dir / 'grade.py'))} {{task_dir}} {{submission}}"
    return None


def grade(template: str | None, task: Path, submission: Path) -> dict:
    """Run the grader on one submission; its last JSON object with a score is the grade."""
    if not submission.exists():
        return {"valid_submission": False, "score": None, "error": "no submission"}
    if template is None:
        return {"valid_submission": None, "score": None, "error": "no grader (pass --grader)"}
    command = template.format(submission=shlex.quote(str(submission)), task_dir=shlex.quote(str(task)),
                              competition=shlex.quote(task.name), public=shlex.quote(str(data_folder(task))))
    done = subprocess.run(command, shell=True, capture_output=True, text=True)
    found = _last_grade(done.stdout) or _last_grade(done.stderr)
    if found is None:
        return {"valid_submission": False, "score": None, "error": (done.stderr or done.stdout).strip()[-300:]}
    return found


def _last_grade(text: str) -> dict | None:
    decoder = json.JSONDecoder()
    found = None
    for start in (i for i, ch in enumerate(text) if ch == "{"):
        try:
            value, _ = decoder.raw_decode(text[start:])
        except json.JSONDecodeError:
            continue
        if isinstance(value, dict) and "score" in value:
            found = value
    return found


def task_meta(task: Path) -> dict:
    """What the table needs about a task: its metric, direction and null score if known."""
    meta_path = task / "task.json"
    if meta_path.exists():
        meta = json.loads(meta_path.read_text())
        return {"metric": meta.get("metric"), "higher_is_better": meta.get("higher_is_better"),
                "null_score": meta.get("null_score")}
    return {"metric": None, "higher_is_better": None, "null_score": None}


def baseline(task: Path, out: Path, timeout: float, sandbox: SandboxMode) -> Path:
    """The engineer's first single-model XGBoost script, in final mode, run like any script."""
    from mle_star.engineer.baseline import baseline_script
    from mle_star.tools.execution.runner import ScriptRunner, default_limits
    from mle_star.tools.execution.sandbox import probe
    from mle_star.tools.scoring.judge import FINAL
    from mle_star.tools.task.dataview import prepare_run_data
    from mle_star.tools.task.intake import read_task

    data = prepare_run_data(read_task(task), out, seed=0)
    runner = ScriptRunner(out, data.views, sandbox=probe(sandbox), timeout=timeout, max_parallel=1,
                          limits=default_limits(1), threads=os.cpu_count() or 1)
    result = runner.run(baseline_script(dict(data.task)), "baseline", view="full", outputs=(FINAL,))
    return Path(result.outputs.get(FINAL, out / "no-submission"))


def run_bench(tasks_dir: str | Path, out_dir: str | Path, preset: str = "laptop", only: list[str] | None = None,
              time_limit: float = 900.0, script_timeout: float = 600.0, seed: int = 42,
              overrides: dict | None = None, grader: str | None = None, with_baseline: bool = True,
              sandbox: SandboxMode = "auto", against: tuple[str, ...] = (), executor: str = "local",
              ray_address: str = "") -> list[dict]:
    tasks_dir, out_dir = Path(tasks_dir).resolve(), Path(out_dir).resolve()
    tasks = find_tasks(tasks_dir, only)
    if not tasks:
        raise FileNotFoundError(f"no tasks in {tasks_dir} (expected task folders, make_tasks.py output or "
                                "MLE-bench prepared competitions)")
    grader = grader or default_grader(tasks_dir)
    settings = Context.preset(preset) | (overrides or {})
    out_dir.mkdir(parents=True, exist_ok=True)
    flags = ["--time-limit", str(time_limit), "--script-timeout", str(script_timeout), "--seed", str(seed),
             "--sandbox", sandbox]
    for key, value in settings.items():
        flags += [f"--{key.replace('_', '-')}", str(value)]
    runs = _agents_on_ray(tasks, out_dir, flags, ray_address) if executor == "ray" else None
    rows = []
    for task in tasks:
        meta = task_meta(task)
        run_dir = out_dir / task.name / "agent"
        if runs is None:  # one task after another, each with the whole machine
            start = time.time()
            with open(out_dir / f"{task.name}.log", "w") as log:
                code: int | None = subprocess.call(
                    [sys.executable, "-m", "mle_star.cli", "run", str(task), "--run-dir", str(run_dir), *flags],
                    stdout=log, stderr=subprocess.STDOUT)
            wall = time.time() - start
        else:
            code, wall = runs[task.name]
        agent = grade(grader, task, run_dir / "final" / "submission.csv")
        record = json.loads((run_dir / "run.json").read_text()) if (run_dir / "run.json").exists() else {}
        metric = meta["metric"] or record.get("metric")
        higher = meta["higher_is_better"] if meta["higher_is_better"] is not None else (
            not record.get("lower_is_better") if record else None)
        row = {"task": task.name, "metric": metric, "higher_is_better": higher, "score": agent.get("score"),
               "valid": bool(agent.get("valid_submission", agent.get("score") is not None)), "exit_code": code,
               "null_score": meta["null_score"], "final_validation": record.get("best_score"),
               "wall_time": round(wall, 1), "model_calls": record.get("counts", {}).get("model_calls"),
               "executions": record.get("counts", {}).get("executions"),
               **{key: record.get("time", {}).get(key) for key in ("parallelism", "machine_busy",
                                                                    "graph_overhead_share")}}
        if with_baseline:
            start = time.time()
            try:
                sub = baseline(task, out_dir / task.name / "baseline", script_timeout, sandbox)
                row["baseline"] = grade(grader, task, sub).get("score")
            except TaskError as exc:
                row["baseline"], row["baseline_error"] = None, str(exc)
            row["baseline_wall_time"] = round(time.time() - start, 1)
        for framework in against:  # AutoML given the same wall time as this mle-star run
            found = run_baseline(framework, read_task(task), out_dir / task.name / framework, wall)
            row[framework] = grade(grader, task, Path(found["submission"])).get("score") if "submission" in found \
                else None
            if "error" in found:
                row[f"{framework}_error"] = found["error"]
        if against:
            scored = [row[f] for f in against if row.get(f) is not None]
            best = (max if higher else min)(scored) if scored and higher is not None else None
            row["normalised"] = normalised(row["score"], meta["null_score"], best)
        rows.append(row)
        write_tables(rows, out_dir, settings, against)
    return rows


def _agents_on_ray(tasks: list[Path], out_dir: Path, flags: list[str], address: str) -> dict[str, tuple[int | None,
                                                                                                      float]]:
    """Every task's ``mle-star run`` at once on the Ray cluster, each reserving an equal share of
    its CPUs and running that many scripts at a time: task name -> (exit code, wall seconds).
    A job whose every worker died has exit code None (its row is then invalid, not missing)."""
    from mle_star.tools.execution.ray_bench import (
        ClusterJob,
        run_tasks_concurrently,
        share_of_cluster,
    )

    share = share_of_cluster(len(tasks), address)
    run = ["{python}", "-m", "mle_star.cli"]
    local = [*flags, "--executor", "local", "--max-parallel", str(share)]
    jobs = [ClusterJob([*run, "run", "{task_dir}", "--run-dir", "{out_dir}", *local], str(task),
                       str(out_dir / task.name / "agent"), resume_argv=[*run, "resume", "{out_dir}"])
            for task in tasks]
    results = run_tasks_concurrently(jobs, cpus_each=share, address=address)
    runs = {}
    for task, result in zip(tasks, results, strict=True):
        note = f"\n[mle-star bench] node {result.node or '-'}, data {result.data or '-'}, worker deaths " \
               f"{result.worker_deaths} {result.error}\n"
        atomic_write(out_dir / f"{task.name}.log", result.output + note)
        runs[task.name] = (result.returncode, result.duration)
    return runs


def _verdict(a: float | None, b: float | None, higher: bool | None) -> str:
    """'yes' / 'no', or '—' when the baseline has no score (skipped or failed): no verdict."""
    return "—" if b is None else "yes" if beats(a, b, higher) else "no"


def beats(a: float | None, b: float | None, higher: bool | None) -> bool:
    """Both scored and ``a`` strictly better (a missing score is no win)."""
    if b is None or higher is None:
        return False
    return Metric.direction(higher).better(a, b)


def f(value: object) -> str:
    return f"{value:.4f}" if isinstance(value, int | float) else "—"


def wins_line(rows: list[dict], key: str, name: str) -> str:
    """How many tasks mle-star won against ``name``; tasks it has no score on are counted apart,
    so a baseline that was skipped or failed never reads as a loss."""
    scored = [r for r in rows if r.get(key) is not None]
    if not scored:
        return f"{name[0].upper()}{name[1:]}: not run or no score."
    won = sum(beats(r["score"], r[key], r["higher_is_better"]) for r in scored)
    missing = len(rows) - len(scored)
    return (f"mle-star beats {name} on {won} of {len(scored)} tasks"
            + (f" ({missing} more without its score)." if missing else "."))


def write_tables(rows: list[dict], out_dir: Path, settings: dict, against: tuple[str, ...] = ()) -> None:
    atomic_write(out_dir / "results.json", json.dumps({"settings": settings, "against": list(against),
                                                       "results": rows}, indent=1))
    extra = "".join(f" {fw} |" for fw in against) + (" normalised |" if against else "")
    lines = ["| task | metric | mle-star | baseline | null | beats baseline |" + extra
             + " final val | wall s | model calls | executions | parallelism | machine busy |",
             "|" + " --- |" * (12 + len(against) + bool(against))]
    for r in rows:
        cells = "".join(f" {f(r.get(fw))} |" for fw in against) + (f" {f(r.get('normalised'))} |" if against else "")
        lines.append(f"| {r['task']} | {r['metric']} | {f(r['score'])}{'' if r['valid'] else ' (invalid)'} | "
                     f"{f(r.get('baseline'))} | {f(r['null_score'])} | "
                     f"{_verdict(r['score'], r.get('baseline'), r['higher_is_better'])} |{cells} "
                     f"{f(r['final_validation'])} | {r['wall_time']} | {r['model_calls']} | {r['executions']} | "
                     f"{f(r.get('parallelism'))} | {f(r.get('machine_busy'))} |")
    lines += ["", f"{wins_line(rows, 'baseline', 'the single-XGBoost baseline')} Settings: {settings}"]
    lines += [wins_line(rows, fw, f"{fw} (same wall time)") for fw in against]
    scores = [r["normalised"] for r in rows if r.get("normalised") is not None]
    if scores:
        lines.append(f"Median normalised score (s - null) / (best baseline - null): {statistics.median(scores):.3f}")
    for key, words in (("parallelism", "script CPU seconds / (wall x cores)"),
                       ("machine_busy", "share of the cores' time the machine was busy"),
                       ("graph_overhead_share", "graph overhead, share of wall time")):
        values = [r[key] for r in rows if r.get(key) is not None]
        if values:
            lines.append(f"Median {words}: {statistics.median(values):.3f} (range {min(values):.3f} to "
                         f"{max(values):.3f})")
    for r in rows:
        lines += [f"- {r['task']}: {r[k]}" for k in sorted(r) if k.endswith("_error")]
    atomic_write(out_dir / "results.md", "\n".join(lines) + "\n")
