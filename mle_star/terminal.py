"""What a person sees in the terminal while a run goes.

The CLI feeds every event of the graph's custom stream to ``Progress``. On a terminal it
keeps a live panel (rich) at the bottom: the elapsed time against ``--time-limit`` with an
estimated time to finish, each path's position (candidates m/M, outer step t/T, inner step
k/K), the ensemble round r/R, the best score so far and the scripts running now with their
running time; finished stages scroll above it. When stderr is not a terminal, ``NO_COLOR``
is set or rich is missing, it prints plain lines instead; ``quiet`` prints only notices,
errors and the submission.

Events (see telemetry.emit): ``notice`` {text}; ``task`` {name, metric, type,
lower_is_better, run_dir, modality, scoring}; ``stage`` {node, path, t?, k?, round? (the loop
coordinates), start, duration, score, detail, scripts?}; ``script_started`` {name}; ``script_finished`` {name, score, ok, duration}.
"""

from __future__ import annotations

import atexit
import io
import os
import re
import sys
import textwrap
import threading
import time
from dataclasses import dataclass, field
from typing import Any, TextIO

from mle_star.report.facts import tidy
from mle_star.steps import HIDDEN, KEEPS_SOLUTION
from mle_star.tools.scoring.metrics import Metric

ABLATION_WEIGHT = 3  # an ablation retrains a few variants: about three scripts' worth of time
PATH_OF = re.compile(r"^path(\d+)/")
FAILED_DETAILS = ("no valid submission", "path produced no runnable solution", "no initial solution ran")


def clock(seconds: float) -> str:
    """0:41, 12:05, 1:02:03."""
    seconds = max(0, int(round(seconds)))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def score_text(score: float | None) -> str:
    return f"{score:.6g}" if isinstance(score, int | float) else "none yet"


def short(text: object, width: int = 100) -> str:
    """One line, cut at a word boundary (never mid-word) with an ellipsis."""
    return textwrap.shorten(" ".join(tidy(str(text)).split()), width=width, placeholder=" …")


@dataclass
class PathView:
    """Where one solution path is."""

    path: int
    candidates: int = 0
    merges: int = 0
    merging_done: bool = False
    outer: int = 0  # outer steps started (the one running now is number ``outer``)
    inner: int = 0  # inner steps finished in the current outer step
    units: float = 0.0  # finished work, in script-equivalents (for the ETA)
    best: float | None = None
    last: str = ""  # the last stage it finished
    done: bool = False


@dataclass
class Plan:
    """The loop settings, when the caller knows them (totals and the ETA need them)."""

    num_candidates: int | None = None
    outer_loops: int | None = None
    inner_loops: int | None = None
    parallel_solutions: int | None = None
    ensemble_rounds: int | None = None
    spare_time: bool = False  # outer steps go on past T while the time limit leaves room

    def outer_total(self) -> str:
        return "?" if self.outer_loops is None else f"{self.outer_loops}{'+' if self.spare_time else ''}"

    def path_units(self) -> float | None:
        m, t, k = self.num_candidates, self.outer_loops, self.inner_loops
        if m is None or t is None or k is None:
            return None
        return m + max(0, m - 1) + t * (ABLATION_WEIGHT + k)

    def total_units(self) -> float | None:
        per_path = self.path_units()
        if per_path is None or self.parallel_solutions is None or self.ensemble_rounds is None:
            return None
        return self.parallel_solutions * per_path + self.ensemble_rounds + 1


@dataclass
class RunView:
    """Everything the display shows, updated from the events (shared by both renderers)."""

    plan: Plan
    time_limit: float | None
    started: float = field(default_factory=time.time)
    task: dict[str, Any] = field(default_factory=dict)
    lower: bool | None = None
    best: float | None = None
    best_name: str = ""
    paths: dict[int, PathView] = field(default_factory=dict)
    ensemble_round: int = 0
    other_units: float = 0.0  # ensemble and submission work done
    running: dict[str, float] = field(default_factory=dict)  # script name -> start time
    finished: str = ""  # the submission line, once there is one

    def elapsed(self, now: float | None = None) -> float:
        return (now or time.time()) - self.started

    def better(self, new: float | None, old: float | None) -> bool:
        return isinstance(new, int | float) and Metric.direction(not self.lower).better(new, old)

    def path(self, path: int) -> PathView:
        return self.paths.setdefault(path, PathView(path))

    def fraction(self, now: float | None = None) -> float | None:
        """The share of the planned work done (an estimate: loops may stop early). With spare
        time the run refines until its time limit, so the share is the time used."""
        if self.plan.spare_time and self.time_limit:
            return min(1.0, self.elapsed(now) / self.time_limit)
        total, per_path = self.plan.total_units(), self.plan.path_units()
        if total is None or per_path is None:
            return None
        done = sum(min(p.units, per_path) for p in self.paths.values()) + self.other_units
        return min(1.0, done / total) if total else None

    def eta(self, now: float | None = None) -> float | None:
        """Seconds left: the work still planned at the pace so far, never past the time limit."""
        fraction, elapsed = self.fraction(now), self.elapsed(now)
        left = max(0.0, self.time_limit - elapsed) if self.time_limit else None
        if self.plan.spare_time and left is not None:
            return left  # it refines until the limit (less the reserve for the ensemble and the submission)
        if fraction is None or fraction < 0.02 or elapsed < 3:
            return None  # no pace yet
        estimate = elapsed * (1 - fraction) / fraction
        return min(estimate, left) if left is not None else estimate

    def update(self, event: dict) -> None:
        kind = event.get("event")
        if kind == "task":
            self.task, self.lower = dict(event), event.get("lower_is_better")
        elif kind == "script_started":
            name = str(event.get("name"))
            self.running[name] = time.time()
            if found := PATH_OF.match(name):
                self.path(int(found.group(1)))  # a path shows up with its first script
        elif kind == "script_finished":
            self.running.pop(str(event.get("name")), None)
        elif kind == "stage":
            self._stage(event)

    def _stage(self, event: dict) -> None:
        node, score, detail = event["node"], event.get("score"), str(event.get("detail", ""))
        path_id = event.get("path")
        view = self.path(int(path_id)) if path_id is not None else None
        if node in KEEPS_SOLUTION and self.better(score, self.best):
            self.best = score
            self.best_name = event.get("to") or (event.get("scripts") or [""])[-1]  # accepted: the refined script
        if view is None:
            if node == "ensembler":
                at = event.get("round")
                self.ensemble_round = int(at) + 1 if at is not None else self.ensemble_round + 1
                self.other_units += 1
            elif node == "gather_solutions":
                for p in self.paths.values():
                    p.done = True
                    p.units = self.plan.path_units() or p.units
            elif node == "submission":
                self.other_units += 1
                self.finished = detail
            return
        if node in HIDDEN:
            return
        view.last = node
        if node in KEEPS_SOLUTION and self.better(score, view.best):
            view.best = score
        if node == "init_coder":
            view.candidates += 1
            view.units += 1
        elif node == "merger":
            view.merges += 1
            view.units += 1
        elif node in ("data_usage_checker", "ablation") and not view.merging_done:
            view.merging_done = True  # merging stopped: its remaining merges will not run
            view.units += max(0, (self.plan.num_candidates or 1) - 1 - view.merges)
        if node == "ablation":
            view.outer = int(event["t"]) + 1 if event.get("t") is not None else view.outer + 1
            view.inner = 0
            view.units += ABLATION_WEIGHT
        elif node == "refiner_coder":
            if event.get("t") is not None and event.get("k") is not None:
                view.outer, view.inner = int(event["t"]) + 1, int(event["k"]) + 1
            else:
                view.inner += 1
            view.units += 1
        elif node == "accept_refinement" and self.plan.inner_loops is not None:
            view.units += max(0, self.plan.inner_loops - view.inner)  # attempts the time budget skipped
        elif node == "path_result":
            view.done = True
            view.units = self.plan.path_units() or view.units


class Progress:
    """Renders the custom stream: a live panel on a terminal, plain lines otherwise."""

    def __init__(self, stream: TextIO | None = None, lower: bool | None = None, time_limit: float | None = None, *,
                 num_candidates: int | None = None, outer_loops: int | None = None,
                 inner_loops: int | None = None, parallel_solutions: int | None = None,
                 ensemble_rounds: int | None = None, spare_time: bool = False, quiet: bool = False,
                 live: bool | None = None):
        self.stream = stream
        self.quiet = quiet
        self.view = RunView(Plan(num_candidates, outer_loops, inner_loops, parallel_solutions, ensemble_rounds,
                                 spare_time), time_limit, lower=lower)
        self._lock = threading.RLock()
        self._live: Any = None
        self._console: Any = None
        self.live = self._live_wanted() if live is None else live

    @classmethod
    def from_context(cls, ctx: Any, quiet: bool = False, stream: TextIO | None = None) -> Progress:
        """The display for a run with these settings (a ``Context``)."""
        return cls(stream, time_limit=ctx.time_limit, num_candidates=ctx.num_candidates,
                   outer_loops=ctx.outer_loops, inner_loops=ctx.inner_loops,
                   parallel_solutions=ctx.parallel_solutions, ensemble_rounds=ctx.ensemble_rounds,
                   spare_time=bool(getattr(ctx, "spare_time", False)), quiet=quiet)

    # -- compatibility with the first version's attributes --------------------------------

    @property
    def best(self) -> float | None:
        return self.view.best

    @property
    def lower(self) -> bool | None:
        return self.view.lower

    @property
    def time_limit(self) -> float | None:
        return self.view.time_limit

    # -- output ---------------------------------------------------------------------------

    def _out(self) -> TextIO:
        return self.stream or sys.stderr

    def _live_wanted(self) -> bool:
        if self.quiet or os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
            return False
        try:
            import rich  # noqa: F401
        except ImportError:
            return False
        isatty = getattr(self._out(), "isatty", None)
        return bool(isatty and isatty())

    def __call__(self, event: dict) -> None:
        with self._lock:
            self.view.update(event)
            line = self._line_for(event)
        stamped = None if line is None else f"[{self.view.elapsed():7.1f}s] {line}"
        if not self.live:
            if stamped is not None:
                print(stamped, file=self._out(), flush=True)
            return
        self._start_live()  # the panel refreshes itself; history lines scroll above it
        if stamped is not None:
            self._console.print(stamped, markup=False, highlight=False)
        if event.get("event") == "stage" and event.get("node") == "submission":
            self.close()  # the run's last stage: leave the final panel on screen

    def _line_for(self, event: dict) -> str | None:
        """The history line for an event (None: nothing to say at this verbosity)."""
        kind, view = event.get("event"), self.view
        if kind == "notice":
            return str(event.get("text", ""))
        if kind == "task":
            if self.quiet:
                return None
            limit = f"; time limit {clock(view.time_limit)}" if view.time_limit else ""
            return (f"task {event.get('name')}: {event.get('modality')} {event.get('type')}, metric "
                    f"{event.get('metric')} ({'lower' if view.lower else 'higher'} is better, scores "
                    f"{str(event.get('scoring', '')).replace('_', '-')}){limit}; run dir {event.get('run_dir')}")
        if kind == "script_started":
            return None if self.quiet or self.live else f"script {event.get('name')} started"
        if kind == "script_finished":
            if self.quiet or event.get("ok"):
                return None
            return f"script {event.get('name')} failed after {float(event.get('duration') or 0):.1f}s"
        if kind != "stage" or event["node"] in HIDDEN:
            return None
        node, detail = event["node"], str(event.get("detail", ""))
        failed = event.get("score") is None and detail.startswith(FAILED_DETAILS)
        if self.quiet and not (failed or node == "submission"):
            return None
        score = event.get("score")
        shown = f" score={score:.6g}" + (" (self-reported)" if node == "ablation" else "") \
            if isinstance(score, int | float) else ""
        line = f"{self._where(event)}{node}{self._position(event)}{shown} | best {score_text(view.best)} | " \
               f"{short(detail, 110)}"
        if node in ("accept_refinement", "path_result", "ensembler", "gather_solutions") and not (self.live or
                                                                                                  self.quiet):
            line += f"\n{' ' * 12}{self.status_line()}"
        return line

    def _where(self, event: dict) -> str:
        path = event.get("path")
        return "" if path is None else f"path {path} "

    def _position(self, event: dict) -> str:
        """Where the loops are: " (t 1/4, k 2/4)" on a path, " (round 2/5)" in the ensemble."""
        path, plan = event.get("path"), self.view.plan
        if path is None:
            if event["node"] == "ensembler" and plan.ensemble_rounds:
                return f" (round {self.view.ensemble_round}/{plan.ensemble_rounds})"
            return ""
        view = self.view.path(int(path))
        if not view.outer:
            return ""
        return f" (t {view.outer}/{plan.outer_total()}, k {view.inner}/{plan.inner_loops or '?'})"

    def status_line(self, now: float | None = None) -> str:
        """Elapsed against the limit, work done and the ETA, in one line."""
        view = self.view
        elapsed = view.elapsed(now)
        parts = [f"elapsed {clock(elapsed)}" + (f" of {clock(view.time_limit)}" if view.time_limit else "")]
        fraction, eta = view.fraction(now), view.eta(now)
        if fraction is not None and not view.plan.spare_time:
            parts.append(f"~{fraction:.0%} of the planned work")
        if eta is not None:
            parts.append(f"ETA ~{clock(eta)}")
        parts.append(f"best {score_text(view.best)}")
        return " · ".join(parts)

    # -- the live panel -------------------------------------------------------------------

    def _start_live(self) -> None:
        if self._live is not None:
            return
        from rich.console import Console
        from rich.live import Live

        self._console = Console(file=self._out(), stderr=self.stream is None)
        # prints from elsewhere (the CLI's last lines, an error) go above the panel, not through it
        self._live = Live(get_renderable=self.panel, console=self._console, refresh_per_second=4,
                          transient=False, redirect_stdout=True, redirect_stderr=True)
        self._live.start()
        atexit.register(self.close)

    def close(self) -> None:
        """Stop the live panel (before a prompt and at the end); the next event restarts it."""
        live, self._live = self._live, None
        if live is not None:
            live.stop()

    def panel(self) -> Any:
        """The live panel as a rich renderable."""
        from rich.console import Group
        from rich.progress_bar import ProgressBar
        from rich.table import Table
        from rich.text import Text

        with self._lock:
            view, plan, now = self.view, self.view.plan, time.time()
            task = view.task
            head = Text("mle-star", style="bold")
            if task:
                head.append(f"  {task.get('name')} · {task.get('metric')} "
                            f"({'lower' if view.lower else 'higher'} is better)")
            best = Text("best so far: ", style="bold")
            best.append(score_text(view.best) + (f"  ({view.best_name})" if view.best_name else ""),
                        style="green" if view.best is not None else "dim")
            bars = Table.grid(padding=(0, 1))
            elapsed = view.elapsed(now)
            if view.time_limit:
                bars.add_row("time", ProgressBar(total=view.time_limit, completed=min(elapsed, view.time_limit),
                                                 width=30), f"{clock(elapsed)} of {clock(view.time_limit)}")
            else:
                bars.add_row("time", "", clock(elapsed))
            fraction, eta = view.fraction(now), view.eta(now)
            if fraction is not None and not plan.spare_time:
                bars.add_row("work", ProgressBar(total=1.0, completed=fraction, width=30),
                             f"~{fraction:.0%}" + (f" · ETA ~{clock(eta)}" if eta is not None else ""))
            paths = Table(box=None, padding=(0, 1), show_edge=False, header_style="bold")
            for column in ("path", "candidates", "outer t", "inner k", "best", "now"):
                paths.add_column(column)
            for p in sorted(view.paths.values(), key=lambda p: p.path):
                running = [f"{n.split('/', 1)[-1]} {clock(now - t)}" for n, t in view.running.items()
                           if (m := PATH_OF.match(n)) and int(m.group(1)) == p.path]
                paths.add_row(str(p.path), f"{p.candidates}/{plan.num_candidates or '?'}",
                              f"{p.outer}/{plan.outer_total()}", f"{p.inner}/{plan.inner_loops or '?'}",
                              score_text(p.best), "done" if p.done else ", ".join(running) or f"after {p.last}")
            rows: list[Any] = [head, bars, best, paths]
            if plan.spare_time:
                rows.append(Text("t/T+: spare time, outer steps go on past T while the time limit leaves room; "
                                 f"ETA ~{clock(eta or 0)}", style="dim"))
            if view.ensemble_round or any(not PATH_OF.match(n) and n.startswith("ensemble") for n in view.running):
                rows.append(Text(f"ensemble round {view.ensemble_round}/{plan.ensemble_rounds or '?'}"))
            others = [f"{n} {clock(now - t)}" for n, t in view.running.items() if not PATH_OF.match(n)]
            if others:
                rows.append(Text("running: " + ", ".join(others)))
            if view.finished:
                rows.append(Text(f"submission: {view.finished}", style="bold"))
            return Group(*rows)

    def snapshot(self, width: int = 110) -> str:
        """The live panel as plain text (what a test or a log can check)."""
        from rich.console import Console

        console = Console(width=width, record=True, file=io.StringIO(), color_system=None)
        console.print(self.panel())
        return console.export_text()
