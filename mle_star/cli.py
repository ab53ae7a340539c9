"""Command line: ``mle-star run TASK_DIR``, ``mle-star resume RUN_DIR``, ``mle-star example NAME DIR``,
``mle-star workbench`` (what scripts will have) and ``mle-star weights fetch NAME...``.

Exit codes: 0 a valid submission was written; 1 the run finished without one; 2 bad input.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import sys
from contextlib import ExitStack, contextmanager
from dataclasses import fields
from pathlib import Path
from typing import cast

from mle_star.config import Context
from mle_star.tools.files import atomic_write

# 3: a valid final/submission.csv that no script made (the agent's prior): valid, but not solved
EXIT_OK, EXIT_NO_SUBMISSION, EXIT_BAD_INPUT, EXIT_UNSOLVED = 0, 1, 2, 3
PRESET_FIELDS = tuple(f.name for f in fields(Context) if f.metadata.get("presets"))


def ask_reviewer(request: dict) -> dict:
    """Show a paused step to the person at the terminal and read their decision from stdin."""
    out = sys.stderr
    if request.get("kind") == "plan":
        print(f"\n[review] path {request['path']}, outer step {request['outer_step']}, attempt "
              f"{request['inner_step']} (current score {request['score']})\n--- block ---\n"
              f"{request['code_block']}\n--- plan ---\n{request['plan']}", file=out)
        answer = _read("accept (a), edit (e) or skip (s)? ")
        if answer.startswith("e"):
            return {"action": "edit", "plan": _read("new plan: ")}
        return {"action": "skip" if answer.startswith("s") else "accept"}
    print("\n[review] submit one of these (best first):", file=out)
    for c in request.get("candidates", []):
        print(f"  {c['name']}: {c['score']}", file=out)
    answer = _read("accept the first (a), choose another (e) or skip the submission (s)? ")
    if answer.startswith("e"):
        return {"action": "edit", "candidate": _read("name: ")}
    return {"action": "skip" if answer.startswith("s") else "accept"}


def _read(prompt: str) -> str:
    print(prompt, end="", file=sys.stderr, flush=True)
    line = sys.stdin.readline()
    return line.strip().lower() if prompt.endswith("? ") else line.strip()


def add_context_flags(p: argparse.ArgumentParser, only: set[str] | None = None) -> None:
    """One flag per Context setting, generated from the field metadata (type, doc, choices)."""
    defaults = Context()
    for f in fields(Context):
        if not f.metadata.get("flag") or (only is not None and f.name not in only):
            continue
        kind = Context.kinds()[f.name]
        names = [f"--{f.name.replace('_', '-')}", *f.metadata.get("aliases", ())]
        default = getattr(defaults, f.name) if f.name != "max_parallel" else "the CPU count"
        help_text = f"{f.metadata['doc']} (default: {default!r})"
        if kind is bool:
            p.add_argument(*names, dest=f.name, action=argparse.BooleanOptionalAction, help=help_text)
        elif f.metadata.get("repeat"):
            p.add_argument(*names, dest=f.name, action="append", metavar=f.name.split("_")[-1].upper(),
                           help=help_text)
        else:
            choices = [c for c in f.metadata.get("choices", ()) if c] or None
            p.add_argument(*names, dest=f.name, type=kind, choices=choices, help=help_text)


def _add_run_options(p: argparse.ArgumentParser) -> None:
    add_context_flags(p)
    p.add_argument("--role-model", action="append", metavar="ROLE=ID", dest="role_model",
                   help="model for one role, e.g. ablation_summarizer=google_genai:gemini-2.5-flash (repeatable)")
    p.add_argument("--checkpoint-url", dest="checkpoint_url",
                   help="postgresql://... to keep checkpoints in Postgres (default: SQLite in the run dir)")
    p.add_argument("--metric", help="metric name, overriding the description (auc, rmse, rmsle, ...)")
    direction = p.add_mutually_exclusive_group()
    direction.add_argument("--lower-is-better", dest="lower_is_better", action="store_const", const=True)
    direction.add_argument("--higher-is-better", dest="lower_is_better", action="store_const", const=False)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mle-star", description="MLE-STAR machine-learning engineering agent")
    parser.add_argument("--version", action="version", version=f"mle-star {_version()}")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="solve a task folder and write a validated submission")
    run.add_argument("task_dir")
    _add_run_options(run)
    resume = sub.add_parser("resume", help="continue an interrupted run from its checkpoint")
    resume.add_argument("run_dir")
    for command in (run, resume):
        command.add_argument("--quiet", "-q", action="store_true", help="print only notices, errors and the final lines")
    bench = sub.add_parser("bench", help="run and grade mle-star on every task of a folder (make_tasks.py output, "
                                         "MLE-bench prepared competitions) beside a single-XGBoost baseline")
    bench.add_argument("tasks_dir")
    bench.add_argument("--out", default="bench-results", help="results folder (default bench-results)")
    bench.add_argument("--preset", default="laptop", choices=Context.preset_names())
    bench.add_argument("--tasks", help="comma-separated task names (default: all)")
    bench.add_argument("--grader", help="grading command; {submission}, {task_dir}, {competition} and {public} are "
                                        "filled in (default: grade.py beside the tasks), e.g. "
                                        "\"mlebench grade-sample {submission} {competition}\"")
    bench.add_argument("--no-baseline", dest="baseline", action="store_false", help="skip the baseline runs")
    bench.add_argument("--against", default="", help="AutoML baselines given the same wall time as each run: "
                                                     "autogluon,flaml (optional installs; MLE_STAR_AUTOML_PYTHON "
                                                     "may name another Python that has them)")
    bench.add_argument("--task-time-limit", type=float, default=900.0, help="seconds per task (default 900)")
    bench.add_argument("--script-timeout", type=float, default=600.0, dest="script_timeout")
    bench.add_argument("--seed", type=int, default=42)
    bench.add_argument("--sandbox", default="auto", choices=["auto", "bwrap", "none"])
    # --executor ray: every task's run at once on the cluster, each with an equal share of it
    add_context_flags(bench, only=set(PRESET_FIELDS) | {"executor", "ray_address"})
    report = sub.add_parser("report", help="write RUN_DIR/report.html from the run's run.json")
    report.add_argument("run_dir")
    example = sub.add_parser("example", help="write a real example task (images, audio, JSON, tables, ...) built "
                                             "from data that ships inside Python packages")
    example.add_argument("name", choices=sorted(_example_names()))
    example.add_argument("out_dir")
    example.add_argument("--seed", type=int, default=0, help="seed of the train/test split (default 0)")
    example.add_argument("--force", action="store_true", help="write into a non-empty folder, replacing the "
                                                              "example's own files (nothing else is touched)")
    bench_env = sub.add_parser("workbench", help="what scripts will have, measured inside the sandbox: Python, ML "
                                                 "packages, cores, memory, GPUs, cached weights, network")
    add_context_flags(bench_env, only={"script_python", "weights_dir", "script_network", "sandbox", "max_parallel",
                                       "script_memory_gb", "script_timeout"})
    bench_env.add_argument("--json", action="store_true", help="the facts as JSON (as run.json records them)")
    weights = sub.add_parser("weights", help="pretrained weights for scripts, kept where the sandbox can read them")
    weights_sub = weights.add_subparsers(dest="weights_command", required=True)
    fetch = weights_sub.add_parser(
        "fetch", help="download Hugging Face hub models into the weights folder (outside the sandbox; needs "
                      "huggingface_hub and internet, so it is not exercised by mle-star's tests)")
    fetch.add_argument("names", nargs="+", metavar="NAME", help="hub ids, e.g. prajjwal1/bert-tiny")
    fetch.add_argument("--weights-dir", dest="weights_dir",
                       help="the cache to fill (default: HF_HUB_CACHE, else HF_HOME/hub, else "
                            "~/.cache/huggingface/hub); point --weights-dir at the same folder when running")
    return parser


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("mle-star")
    except PackageNotFoundError:
        from mle_star import __version__

        return __version__


def _example_names() -> list[str]:
    from mle_star.examples import EXAMPLES

    return list(EXAMPLES)


def _fail(message: str, code: int = EXIT_BAD_INPUT) -> int:
    print(f"mle-star: error: {message}", file=sys.stderr)
    return code


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "example":

            try:
                path = _write_example(args.name, Path(args.out_dir), args.seed, args.force)
            except (FileExistsError, ImportError) as exc:
                return _fail(f"{exc}{'' if args.force else ' (--force writes into it anyway)'}")
            print(f"wrote task '{args.name}' to {path} (agent data in {path / 'public'})")
            return EXIT_OK
        if args.command == "bench":
            return bench(args)
        if args.command == "workbench":
            return workbench(args)
        if args.command == "weights":
            return weights_fetch(args.names, args.weights_dir)
        if args.command == "report":
            from mle_star.report import rewrite_report

            if not (Path(args.run_dir) / "run.json").exists():
                return _fail(f"no run.json in {args.run_dir}")
            print(rewrite_report(args.run_dir))
            return EXIT_OK
        if args.command == "resume":
            return resume(args.run_dir, quiet=args.quiet)
        return run(args)
    except KeyboardInterrupt:
        if _current_run is None:
            return _fail("interrupted", 130)
        return _fail(f"interrupted; the run is in {_current_run}; continue it with: mle-star resume {_current_run}",
                     130)


_current_run: Path | None = None  # the run folder being worked on, for the Ctrl+C message


def _write_example(name: str, out: Path, seed: int, force: bool) -> Path:
    """write_example refuses a non-empty folder; with force, the example is written beside it and
    its own files moved in, replacing only those."""
    from mle_star.examples import write_example

    if not force or not out.exists() or not any(out.iterdir()):
        return write_example(name, out, seed=seed)
    import shutil
    import tempfile

    with tempfile.TemporaryDirectory(dir=out.parent) as staging:
        written = write_example(name, Path(staging) / "task", seed=seed)
        for entry in written.iterdir():
            target = out / entry.name
            if target.is_dir() and not target.is_symlink():
                shutil.rmtree(target)
            elif target.exists() or target.is_symlink():
                target.unlink()
            shutil.move(str(entry), target)
    return out


def context_overrides(args: argparse.Namespace) -> dict:
    """The Context settings given on the command line (a repeated flag's values joined by os.pathsep)."""
    overrides = {f.name: getattr(args, f.name, None) for f in fields(Context)}
    return {k: os.pathsep.join(v) if isinstance(v, list) else v for k, v in overrides.items()}


def workbench(args: argparse.Namespace) -> int:
    """``mle-star workbench``: the probe a run makes, printed (or as JSON)."""
    from mle_star.tools.execution.environment import WorkbenchError
    from mle_star.tools.execution.machine_facts import render
    from mle_star.tools.execution.sandbox import SandboxUnavailable
    from mle_star.tools.execution.workbench import measure

    try:
        ctx = Context.from_env(**context_overrides(args))
        ctx.validate()
    except (TypeError, ValueError) as exc:
        if isinstance(exc, WorkbenchError):
            return _fail(str(exc))
        return _fail(f"bad configuration: {exc}")
    try:
        facts = measure(ctx)
    except (WorkbenchError, SandboxUnavailable) as exc:
        return _fail(str(exc))
    print(json.dumps(facts, indent=1) if args.json else render(facts))
    return EXIT_OK


def weights_fetch(names: list[str], target: str | None) -> int:
    from mle_star.tools.execution.environment import WorkbenchError, fetch, hub_cache_default

    where = os.path.abspath(os.path.expanduser(target)) if target else hub_cache_default()
    try:
        paths = fetch(names, where)
    except WorkbenchError as exc:
        return _fail(str(exc))
    for name, path in zip(names, paths, strict=True):
        print(f"{name}: {path}")
    print(f"scripts see them with: --weights-dir {where}")
    return EXIT_OK


def run(args: argparse.Namespace) -> int:
    from mle_star.tools.task.intake import TaskError, default_run_dir, read_task

    overrides = context_overrides(args)
    if args.role_model:
        overrides["role_models"] = ",".join(args.role_model)
    if args.time_limit is not None and args.spare_time is None:
        overrides["spare_time"] = True  # a time limit the user chose is time to use
    try:
        ctx = Context.from_env(**overrides)
        ctx.validate()
    except (TypeError, ValueError) as exc:
        return _fail(f"bad configuration: {exc}")
    try:
        intake = read_task(args.task_dir, args.metric, args.lower_is_better)
    except TaskError as exc:
        return _fail(str(exc))
    run_dir = Path(args.run_dir or default_run_dir(args.task_dir)).resolve()
    if (run_dir / "cli.json").exists():
        return _fail(f"{run_dir} already holds a run; continue it with: mle-star resume {run_dir}")
    if run_dir.exists() and (not run_dir.is_dir() or any(run_dir.iterdir())):
        return _fail(f"{run_dir} exists and is not an mle-star run; choose an empty or new --run-dir "
                     "(nothing was touched)")
    run_dir.mkdir(parents=True, exist_ok=True)
    ctx.run_dir = str(run_dir)
    # A resumed node asks its model again; with the run's own reply cache it gets the same reply,
    # so a real model's scripts are the same code and finished ones are reused, not re-run.
    ctx.cache_path = ctx.cache_path or str(run_dir / "replies.sqlite")
    inputs = {"task_dir": str(Path(args.task_dir).resolve()), "run_dir": str(run_dir)}
    if args.metric:
        inputs["metric"] = args.metric
    if args.lower_is_better is not None:
        inputs["lower_is_better"] = args.lower_is_better
    url = args.checkpoint_url or os.environ.get("MLE_STAR_CHECKPOINT_URL", "")
    atomic_write(run_dir / "cli.json", json.dumps({"inputs": inputs, "context": ctx.to_dict(), "checkpoint_url": url,
                                                   "task_fingerprint": intake.fingerprint}, indent=1))
    return _execute(run_dir, ctx, inputs, url, quiet=args.quiet)


def bench(args: argparse.Namespace) -> int:
    from mle_star.automl import FRAMEWORKS
    from mle_star.bench import run_bench
    from mle_star.tools.execution.resources import RayUnavailable

    loops = PRESET_FIELDS
    unknown = [a for a in args.against.split(",") if a and a not in FRAMEWORKS]
    if unknown:
        return _fail(f"unknown AutoML baseline {unknown[0]!r} (known: {', '.join(FRAMEWORKS)})")
    try:
        rows = run_bench(args.tasks_dir, args.out, preset=args.preset,
                         only=args.tasks.split(",") if args.tasks else None, time_limit=args.task_time_limit,
                         script_timeout=args.script_timeout, seed=args.seed, grader=args.grader,
                         with_baseline=args.baseline, sandbox=args.sandbox,
                         against=tuple(a for a in args.against.split(",") if a), executor=args.executor or "local",
                         ray_address=args.ray_address or "",
                         overrides={k: getattr(args, k) for k in loops if getattr(args, k) is not None})
    except (FileNotFoundError, RayUnavailable) as exc:
        return _fail(str(exc))
    print((Path(args.out) / "results.md").read_text())
    return EXIT_OK if rows and all(r["valid"] for r in rows) else EXIT_NO_SUBMISSION


def resume(run_dir: str, quiet: bool = False) -> int:
    from mle_star.tools.task.intake import data_folder, fingerprint

    path = Path(run_dir).resolve()
    saved = path / "cli.json"
    if not saved.exists():
        return _fail(f"{path} is not an mle-star run directory (no cli.json)")
    try:
        data = json.loads(saved.read_text())
        ctx = Context(**data["context"])
        ctx.validate()
        task_dir = Path(data["inputs"]["task_dir"])
    except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        return _fail(f"{saved} is damaged ({type(exc).__name__}); the run cannot be resumed")
    if not task_dir.is_dir():
        return _fail(f"the run's task folder is gone: {task_dir}")
    if data.get("task_fingerprint") and fingerprint(data_folder(task_dir)) != data["task_fingerprint"]:
        return _fail(f"the task folder {task_dir} changed since this run started; start a new run instead")
    return _execute(path, ctx, None, data.get("checkpoint_url", ""), saved_inputs=data["inputs"], quiet=quiet)


@contextmanager
def checkpointer(run_dir: Path, url: str = ""):
    """SQLite in the run directory by default; PostgreSQL when given a postgres:// URL."""
    if url.startswith(("postgres://", "postgresql://")):
        try:
            from langgraph.checkpoint.postgres import PostgresSaver
        except ImportError:
            raise ValueError("a Postgres checkpoint URL needs: pip install 'mle-star[postgres]'") from None
        with PostgresSaver.from_conn_string(url) as saver:
            saver.setup()
            yield saver
        return
    if url:
        raise ValueError(f"unsupported checkpoint URL '{url}' (use postgresql://...)")
    from langgraph.checkpoint.sqlite import SqliteSaver

    conn = sqlite3.connect(run_dir / "checkpoints.sqlite", check_same_thread=False)
    try:
        yield SqliteSaver(conn)
    finally:
        conn.close()


def _execute(run_dir: Path, ctx: Context, inputs: dict | None, checkpoint_url: str = "",
             saved_inputs: dict | None = None, quiet: bool = False) -> int:
    global _current_run
    _current_run = run_dir
    with ExitStack() as stack:
        try:
            saver = stack.enter_context(checkpointer(run_dir, checkpoint_url))
        except Exception as exc:  # noqa: BLE001 - a bad URL or an unreachable database
            return _fail(f"cannot open the checkpoint store: {str(exc).splitlines()[0][:300]}")
        return _stream(run_dir, ctx, inputs, saver, saved_inputs, quiet)


def _stream(run_dir: Path, ctx: Context, inputs: dict | None, saver, saved_inputs: dict | None = None,
            quiet: bool = False) -> int:
    from langchain_core.runnables import RunnableConfig
    from langgraph.types import Command

    from mle_star.graph import build_graph
    from mle_star.models import ModelRefused, ModelUnavailable
    from mle_star.state import MLEStarInput
    from mle_star.terminal import Progress
    from mle_star.tools.execution.environment import WorkbenchError, script_env
    from mle_star.tools.execution.executor import release
    from mle_star.tools.execution.resources import RayUnavailable
    from mle_star.tools.execution.sandbox import SandboxUnavailable
    from mle_star.tools.task.intake import TaskError

    try:  # a bad --script-python or --weights-dir: one line, before the graph starts
        script_env(ctx)
    except WorkbenchError as exc:
        return _fail(str(exc))
    if ctx.executor == "ray":  # a missing Ray or an unreachable cluster stops the run before any work
        try:
            from mle_star.tools.execution.ray_executor import connect

            connect(ctx.ray_address)
        except RayUnavailable as exc:
            return _fail(str(exc))
    graph = build_graph().compile(checkpointer=saver, name="mle-star")
    # One thread per run directory, so runs can share a Postgres database.
    config: RunnableConfig = {"configurable": {"thread_id": str(run_dir)}, "recursion_limit": 10_000}
    progress = Progress.from_context(ctx, quiet=quiet)
    # Finished means no task at all is pending. (`next` alone is not enough: a run killed just
    # after a node finished has that node's writes saved but its step not yet committed.) A run
    # killed before its first checkpoint has neither: it starts again from its saved inputs.
    snapshot = graph.get_state(config)
    if inputs is None and not snapshot.values and not snapshot.tasks:
        inputs = saved_inputs
    if inputs is None and snapshot.tasks and (run_dir / "executions.jsonl").exists():
        ran = (run_dir / "executions.jsonl").read_text().splitlines()
        print(f"mle-star: resuming {run_dir.name}: {len(ran)} scripts already ran; finished ones are reused, "
              "not run again", file=sys.stderr)
    if inputs is None and snapshot.tasks and snapshot.values.get("run"):
        # Resume keeps the checkpoint's workbench facts (the prompts stay the same), but the
        # interpreter must still serve scripts: probe it again before any script runs.
        from mle_star.tools.execution.workbench import measure

        try:
            measure(ctx)
        except (WorkbenchError, SandboxUnavailable) as exc:
            return _fail(str(exc))
    if inputs is None and not snapshot.tasks:
        print("mle-star: this run already finished", file=sys.stderr)
    else:
        command: MLEStarInput | Command | None = cast(MLEStarInput | None, inputs)
        try:
            while True:
                for _ns, event in graph.stream(command, config, context=ctx, stream_mode="custom", subgraphs=True):
                    progress(cast(dict, event))  # custom stream parts are the events nodes emit
                pending = graph.get_state(config).interrupts
                if not pending:
                    break
                progress.close()  # the panel must not draw over the reviewer's prompt
                command = Command(resume={i.id: ask_reviewer(i.value) for i in pending})
        except (TaskError, SandboxUnavailable, RayUnavailable, WorkbenchError) as exc:
            return _fail(str(exc))
        except ModelRefused as exc:
            return _fail(f"the model refused the request: {exc} (check the API key and the model id)")
        except ModelUnavailable as exc:
            return _fail(f"the model is unavailable: {exc}; continue later with: mle-star resume {run_dir}",
                         EXIT_NO_SUBMISSION)
        except Exception as exc:  # noqa: BLE001 - one clear line for the person, the traceback to a file
            import traceback

            atomic_write(run_dir / "error.log", traceback.format_exc())
            return _fail(f"the run stopped: {type(exc).__name__}: {str(exc)[:300]} (traceback in "
                         f"{run_dir / 'error.log'}; continue with: mle-star resume {run_dir})", EXIT_NO_SUBMISSION)
        finally:
            progress.close()
            release(ctx, run_dir)
    values = graph.get_state(config).values
    if values.get("submission_path") and values.get("unsolved"):
        print(f"submission: {values['submission_path']} (unsolved)")
        print(f"run record: {run_dir / 'run.json'}  report: {run_dir / 'report.html'}")
        print(f"mle-star: unsolved: {values['unsolved']}", file=sys.stderr)
        return EXIT_UNSOLVED
    if values.get("submission_path"):
        print(f"submission: {values['submission_path']}")
        print(f"solution:   {values['solution_path']}")
        print(f"validation {values.get('metric')}: {values.get('best_score')}")
        print(f"run record: {run_dir / 'run.json'}  report: {run_dir / 'report.html'}")
        return EXIT_OK
    return _fail(values.get("error") or "the run ended without a valid submission", EXIT_NO_SUBMISSION)


if __name__ == "__main__":
    sys.exit(main())
