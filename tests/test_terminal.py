"""The terminal while a run goes: positions against the loop totals, the best score ("none
yet" before one), the time against the limit with an ETA, the scripts running now; a live
panel on a terminal, plain lines otherwise, and a quiet mode."""

from __future__ import annotations

import io
import os
import pty
import re
import select
import subprocess
import sys
import time

import pytest

from mle_star.terminal import Progress, RunView, clock, short

TASK = {"event": "task", "name": "breast-cancer", "metric": "auc", "type": "binary", "lower_is_better": False,
        "run_dir": "/tmp/run", "modality": "tabular", "scoring": "agent"}
LOOPS = {"num_candidates": 2, "outer_loops": 2, "inner_loops": 3, "parallel_solutions": 2, "ensemble_rounds": 2}


def stage(node: str, path: int | None = None, score: float | None = None, detail: str = "", **extra) -> dict:
    return {"event": "stage", "node": node, "path": path, "start": time.time(), "duration": 1.0, "score": score,
            "detail": detail, **extra}


def plain(**kwargs) -> tuple[Progress, io.StringIO]:
    out = io.StringIO()
    return Progress(out, time_limit=600, live=False, **(LOOPS | kwargs)), out


def test_plain_lines_show_positions_against_totals_and_never_best_none():
    progress, out = plain()
    progress(TASK)
    progress(stage("prepare", detail="tabular binary task"))
    progress({"event": "script_started", "name": "path0/init_0"})
    progress(stage("init_coder", 0, 0.91, "XGBoost", scripts=["path0/init_0"]))
    progress(stage("ablation", 0, 0.99, "outer step 0", scripts=["path0/t0_ablation"], t=0))
    progress(stage("refiner_coder", 0, 0.93, "t=0 k=1: deeper trees", scripts=["path0/t0_k1_refine"], t=0, k=1))
    progress({"event": "script_finished", "name": "path0/t0_k2_refine", "score": None, "ok": False,
              "duration": 1.25})
    progress(stage("accept_refinement", 0, 0.93, "t=0: improved 0.91 -> 0.93", to="path0/t0_k1_refine"))
    lines = out.getvalue().splitlines()
    assert "time limit 10:00" in lines[0] and "(higher is better" in lines[0]
    assert "best none yet" in lines[1] and "None" not in out.getvalue()
    assert "script path0/init_0 started" in lines[2]
    assert "path 0 init_coder score=0.91 | best 0.91" in lines[3]
    assert "path 0 ablation (t 1/2, k 0/3) score=0.99 (self-reported) | best 0.91" in lines[4]  # not a best
    assert "path 0 refiner_coder (t 1/2, k 2/3) score=0.93 | best 0.91" in lines[5]  # a candidate, not yet kept
    assert "script path0/t0_k2_refine failed after 1.2s" in lines[6]
    assert "path 0 accept_refinement" in lines[7] and "score=0.93 | best 0.93" in lines[7]  # kept: the best
    assert progress.view.best_name == "path0/t0_k1_refine"


def test_lower_is_better_keeps_the_smallest_score_and_long_details_are_cut_at_a_word():
    progress, out = plain()
    progress(TASK | {"lower_is_better": True})
    progress(stage("init_coder", 0, 3.5, "x"))
    progress(stage("init_coder", 1, 2.5, "y"))
    progress(stage("merger", 1, 2.9, "merged: worse, stop merging"))
    assert progress.best == 2.5
    words = " ".join(f"word{i}" for i in range(60))
    progress(stage("extractor", 0, None, words))
    last = out.getvalue().splitlines()[-1]
    cut = last.split(" | ")[-1]
    assert cut.endswith(" …") and words.startswith(cut[:-2]) and words[len(cut) - 2] == " "
    assert short("0.9703896103896104 is the score", 40) == "0.97039 is the score"


def test_elapsed_against_the_limit_and_an_eta_that_never_passes_the_limit():
    progress, out = plain(parallel_solutions=1, ensemble_rounds=0)
    progress(TASK)
    progress.view.started -= 120  # two minutes in
    for i in range(2):
        progress(stage("init_coder", 0, 0.9, f"candidate {i}"))
    progress(stage("merger", 0, 0.8, "merged path0/init_1: worse, stop merging"))
    progress(stage("ablation", 0, 0.9, "outer step 0", t=0))
    progress(stage("refiner_coder", 0, 0.91, "t=0 k=0: a", t=0, k=0))
    progress(stage("refiner_coder", 0, 0.92, "t=0 k=1: b", t=0, k=1))
    progress(stage("refiner_coder", 0, 0.90, "t=0 k=2: c", t=0, k=2))
    progress(stage("accept_refinement", 0, 0.92, "t=0: improved"))
    status = out.getvalue().splitlines()[-1]
    # 2 candidates + 1 merge + ablation (3) + 3 refinements = 9 of 2+1+2*(3+3)+0+1 = 16 units
    assert "elapsed 2:00 of 10:00" in status and "~56% of the planned work" in status
    eta = progress.view.eta()
    assert eta is not None and 85 < eta < 100  # 120 s * 7 / 9
    progress.view.started -= 10_000  # way past the pace: the ETA is what the limit leaves, 0
    assert progress.view.eta() == 0.0
    spare = Progress(io.StringIO(), time_limit=600, live=False, spare_time=True, **LOOPS)
    spare.view.started -= 100
    assert spare.view.eta() == pytest.approx(500, abs=2)  # it refines until the limit


def test_quiet_prints_only_notices_errors_and_the_submission():
    progress, out = plain(quiet=True)
    progress({"event": "notice", "text": "no GOOGLE_API_KEY set: the offline engineer answers every role"})
    progress(TASK)
    progress({"event": "script_started", "name": "path0/init_0"})
    progress(stage("init_coder", 0, 0.9, "XGBoost"))
    progress({"event": "script_finished", "name": "path0/init_0", "ok": False, "score": None, "duration": 1})
    progress(stage("path_result", 1, None, "path produced no runnable solution"))
    progress(stage("submission", None, 0.9, "from path0/init_0", scripts=["final"]))
    lines = out.getvalue().splitlines()
    assert len(lines) == 3
    assert "no GOOGLE_API_KEY" in lines[0] and "path produced no runnable solution" in lines[1]
    assert "submission score=0.9" in lines[2]


class FakeTTY(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_live_only_on_a_terminal_without_no_color(monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    assert Progress(FakeTTY()).live is True
    assert Progress(io.StringIO()).live is False
    assert Progress(FakeTTY(), quiet=True).live is False
    monkeypatch.setenv("NO_COLOR", "1")
    assert Progress(FakeTTY()).live is False


def test_the_live_panel_shows_paths_ensemble_best_and_running_scripts():
    progress = Progress(io.StringIO(), time_limit=600, live=False, **LOOPS)
    progress(TASK)
    panel = progress.snapshot()
    assert "best so far: none yet" in panel and "of 10:00" in panel
    progress(stage("init_coder", 0, 0.91, "XGBoost", scripts=["path0/init_0"]))
    progress(stage("init_coder", 1, 0.95, "LightGBM", scripts=["path1/init_0"]))
    progress(stage("ablation", 1, 0.99, "outer step 0", t=0))
    progress(stage("refiner_coder", 1, 0.90, "t=0 k=0: a", t=0, k=0))
    progress({"event": "script_started", "name": "path0/merge_1"})
    progress.view.running["path0/merge_1"] -= 75  # it has run for 1:15
    progress({"event": "script_started", "name": "ensemble_r0"})
    progress(stage("ensembler", None, 0.96, "round 0: mean", scripts=["ensemble_r0"], round=0))
    panel = progress.snapshot()
    assert "best so far: 0.96  (ensemble_r0)" in panel
    rows = {line.split()[0]: line.split() for line in panel.splitlines() if re.match(r"\s*[01]\s", line)}
    assert rows["0"][1:5] == ["1/2", "0/2", "0/3", "0.91"] and "merge_1" in rows["0"] and "1:15" in rows["0"]
    assert rows["1"][1:5] == ["1/2", "1/2", "1/3", "0.95"]
    assert "ensemble round 1/2" in panel and "running: ensemble_r0" in panel
    progress({"event": "script_finished", "name": "path0/merge_1", "ok": True, "score": 0.9, "duration": 75})
    assert "merge_1" not in progress.snapshot()


def test_live_mode_prints_history_above_the_panel_and_close_stops_it():
    out = FakeTTY()
    progress = Progress(out, time_limit=60, live=True, **LOOPS)
    progress(TASK)
    progress(stage("init_coder", 0, 0.91, "XGBoost"))
    assert progress._live is not None
    progress.close()
    assert progress._live is None
    text = out.getvalue()
    assert "task breast-cancer" in text and "path 0 init_coder score=0.91" in text
    progress(stage("init_coder", 1, 0.92, "LightGBM"))  # the next event brings the panel back
    assert progress._live is not None
    progress(stage("submission", None, 0.92, "from path1/init_0"))  # the last stage stops it
    assert progress._live is None and "submission score=0.92" in out.getvalue()


def test_from_context_passes_the_loop_settings():
    from mle_star.config import Context

    ctx = Context(num_candidates=3, outer_loops=4, inner_loops=5, parallel_solutions=2, ensemble_rounds=1,
                  time_limit=900)
    progress = Progress.from_context(ctx, quiet=True, stream=io.StringIO())
    plan = progress.view.plan
    assert (plan.num_candidates, plan.outer_loops, plan.inner_loops, plan.parallel_solutions,
            plan.ensemble_rounds) == (3, 4, 5, 2, 1)
    assert progress.time_limit == 900 and progress.quiet


def test_clock_and_run_view_defaults():
    assert [clock(s) for s in (0, 41, 725, 3723)] == ["0:00", "0:41", "12:05", "1:02:03"]
    view = RunView(plan=Progress().view.plan, time_limit=None)
    assert view.fraction() is None and view.eta() is None


def test_on_a_real_terminal_the_panel_is_drawn(tmp_path):
    """Through a pseudo-terminal, as a person's shell would run it: the live panel appears."""
    code = ("import time\nfrom mle_star.terminal import Progress\n"
            "p = Progress(time_limit=60, num_candidates=2, outer_loops=1, inner_loops=1, parallel_solutions=1,"
            " ensemble_rounds=0)\n"
            f"p({TASK!r})\n"
            "p({'event': 'script_started', 'name': 'path0/init_0'})\n"
            "time.sleep(0.6)\np.close()\n")
    main, child = pty.openpty()
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"} | {"TERM": "xterm", "COLUMNS": "100"}
    proc = subprocess.Popen([sys.executable, "-c", code], stdin=child, stdout=child, stderr=child, env=env,
                            close_fds=True)
    os.close(child)
    chunks = []
    deadline = time.time() + 60
    while time.time() < deadline:
        ready, _, _ = select.select([main], [], [], 0.5)
        if ready:
            try:
                data = os.read(main, 65536)
            except OSError:
                break
            if not data:
                break
            chunks.append(data)
        elif proc.poll() is not None:
            break
    proc.wait(timeout=30)
    os.close(main)
    screen = b"".join(chunks).decode(errors="replace")
    assert proc.returncode == 0, screen
    assert "best so far" in screen and "init_0" in screen and "of 1:00" in screen
    assert "\x1b[" in screen  # drawn with terminal control sequences, not plain lines
