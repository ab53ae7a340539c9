"""The report explains the search: a tree of every script, each outer step's ablation table
and chosen block, the ensemble's verdict, what failed and how it was fixed, and a summary a
person can read first. Checked on a hand-made run (every kind of event, known answers) and
on a real offline run."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest

from mle_star import journal
from mle_star.report import render_html, render_markdown, rewrite_report
from mle_star.report.facts import parse_ablation, read_story
from mle_star.report.plot import nice_ticks

LONG_PLAN = ("Replace the single XGBoost model by a blend of XGBoost and LightGBM with weights fitted on the "
             "validation rows, because the ablation shows the model block carries almost all of the score, "
             "and leaf-wise trees make different errors than level-wise ones so averaging them should help "
             "on the rows where the current model is least certain.")
T0 = 1_800_000_000.0


def _entry(name, kind, parent=None, path_id=0, score=None, ok=True, plan="", step="", debug_round=0,
           printed=None, untrusted=False, error="", leakage=None, target_block="", limit_hit="", ran=True,
           run_dir: Path | None = None, source="agent"):
    """A run.json entry as a run writes it (its loop coordinates t, k, round read from ``step``)."""
    return journal.from_record({"name": name, "kind": kind, "parent": parent, "path_id": path_id, "score": score,
            "ok": ok,
            "workdir": str(run_dir / "scripts" / name) if ran and run_dir else "", "duration": 2.0, "error": error,
            "plan": plan, "target_block": target_block, "debug_round": debug_round, "leakage": leakage or [],
            "step": step, "score_source": source if ok else "none", "printed_score": printed,
            "untrusted": untrusted, "limit_hit": limit_hit})


BLOCK = "# mle-star block: model {}\ndef make_models():\n    return [XGBClassifier()]\n# end of model block"


def _code(tag: str, block: str = BLOCK) -> str:
    return f'"""{tag}"""\nimport pandas as pd\n\n{block}\n\nprint("Final Validation Performance: 0.9")\n'


def make_run(run_dir: Path, *, identical: bool = False, ensemble_wins: bool = True,
             model: str = "offline") -> dict:
    """A run folder with every kind of script and stage a real run records, and run.json."""
    d = run_dir
    fixed_block = "# mle-star block: preprocess\nscaler.fit(train)\n# end"
    journal = [
        _entry("path0/init_0", "candidate", plan="XGBoost gradient boosted trees", score=0.91, printed=0.92,
               run_dir=d),
        _entry("path0/init_1", "candidate", plan="LightGBM", ok=False, run_dir=d,
               error="Traceback (most recent call last):\n  File \"solution.py\", line 3\nKeyError: 'target'"),
        _entry("path0/init_1_debug1", "candidate", parent="path0/init_1", plan="LightGBM", score=0.89,
               debug_round=1, run_dir=d),
        _entry("path0/merge_1", "merge", parent="path0/init_0", plan="merge path0/init_1", score=0.90, run_dir=d,
               leakage=[{"name": "path0/merge_1", "status": "Yes Data Leakage", "fixed": True, "verified": True,
                         "block": "scaler.fit(all_rows)", "fixed_block": fixed_block}]),
        _entry("path0/t0_ablation", "ablation", parent="path0/init_0", step="t=0", score=0.95, printed=0.95,
               run_dir=d, source="self_reported"),
        _entry("path0/t0_k0_refine", "refinement", parent="path0/init_0", plan=LONG_PLAN, step="t=0 k=0",
               score=0.93, target_block=BLOCK, run_dir=d),
        _entry("path0/t0_k1_refine", "refinement", parent="path0/init_0", plan="Deeper trees", step="t=0 k=1",
               score=0.99, printed=0.999, ok=False, untrusted=True, target_block=BLOCK, run_dir=d,
               error="untrusted: the script printed 0.999 but its held-out predictions score 0.85"),
        _entry("path0/t0_k2_refine", "refinement", parent="path0/init_0", plan="Skipped plan (skipped by the "
               "reviewer)", step="t=0 k=2", ok=False, ran=False, error="skipped by the reviewer", run_dir=d),
        _entry("path1/init_0", "candidate", path_id=1, plan="XGBoost gradient boosted trees", score=0.91,
               run_dir=d),
        _entry("path1/t0_ablation", "ablation", path_id=1, parent="path1/init_0", step="t=0", score=0.95,
               run_dir=d, source="self_reported"),
        _entry("path1/t0_k0_refine", "refinement", path_id=1, parent="path1/init_0", plan="Lower learning rate",
               step="t=0 k=0", score=0.90, target_block=BLOCK, run_dir=d, limit_hit="memory"),
        _entry("ensemble_r0", "ensemble", path_id=None, parent="path0/t0_k0_refine", plan="Average the members",
               step="round 0", ok=False, error="ValueError: shapes (90,) and (91,) not aligned", run_dir=d),
        _entry("ensemble_r0_debug1", "ensemble", path_id=None, parent="ensemble_r0", plan="Average the members",
               step="round 0", debug_round=1, score=0.94 if ensemble_wins else 0.93, run_dir=d),
        _entry("ensemble_r1", "ensemble", path_id=None, parent="path0/t0_k0_refine", plan="Weighted blend",
               step="round 1", score=0.92, run_dir=d),
    ]
    submitted = "ensemble_r0_debug1" if ensemble_wins else "path0/t0_k0_refine"
    journal.append(_entry("final", "submission", path_id=None, parent=submitted, score=0.95, printed=0.95,
                          source="self_reported", run_dir=d))
    codes = {e["name"]: _code(e["name"]) for e in journal}
    codes["path0/t0_k0_refine"] = _code("refined", BLOCK.replace("XGBClassifier()", "XGBClassifier(), LGBM()"))
    codes["path0/init_1_debug1"] = codes["path0/init_1"].replace("import pandas", "import pandas  # fixed")
    if identical:
        codes["path1/t0_k0_refine"] = codes["path0/t0_k0_refine"]
    outputs = {
        "path0/t0_ablation": "Ablation | baseline | 0.95\nAblation | features: none | 0.949\n"
                             "Ablation | model: linear instead | 0.80\nAblation | preprocess: plain | 0.951\n"
                             "Final Validation Performance: 0.95\n",
        "path1/t0_ablation": "Ablation | baseline | 0.95\nAblation | model: linear instead | 0.81\n",
        "ensemble_r0_debug1": "member 0: 0.930000\nmember 1: 0.900000\nweights: [0.7, 0.3]\n",
    }
    for e in journal:
        if not e["workdir"]:
            continue
        folder = Path(e["workdir"])
        (folder / "outputs").mkdir(parents=True)
        (folder / "solution.py").write_text(codes[e["name"]])
        (folder / "stdout.txt").write_text(outputs.get(e["name"], f"Final Validation Performance: {e['score']}\n"))
        (folder / "stderr.txt").write_text(e["error"])
        (folder / "result.json").write_text(json.dumps({"name": e["name"], "ok": e["ok"]}))
        (folder / "outputs" / "valid_predictions.csv").write_text("id,y\n1,0.5\n")

    def stage(node, start, path=None, score=None, detail="", scripts=None, **extra):
        return {"node": node, "path": path, "start": T0 + start, "duration": 2.0, "score": score, "detail": detail,
                **({"scripts": scripts} if scripts else {}), **extra}

    second = "path1/t0_k0_refine"
    stages = [
        stage("prepare", 0, detail="tabular binary task"),
        stage("init_coder", 1, 0, 0.91, "XGBoost gradient boosted trees", ["path0/init_0"]),
        stage("init_coder", 2, 0, 0.89, "LightGBM", ["path0/init_1", "path0/init_1_debug1"]),
        stage("rank_candidates", 3, 0, 0.91, "s0 = path0/init_0 (init_0=0.91, init_1=0.89)"),
        stage("merger", 4, 0, 0.90, "merged path0/init_1: worse, stop merging", ["path0/merge_1"],
              leakage=journal[3]["leakage"]),
        stage("data_usage_checker", 5, 0, 0.91, "all the provided information is used"),
        stage("ablation", 6, 0, 0.95, "outer step 0", ["path0/t0_ablation"]),
        stage("ablation_summarizer", 7, 0, None, "Baseline score: 0.95.\n- model: linear scored 0.80"),
        stage("extractor", 8, 0, None, LONG_PLAN, code_block=BLOCK),
        stage("refiner_coder", 9, 0, 0.93, f"t=0 k=0: {LONG_PLAN}", ["path0/t0_k0_refine"]),
        stage("refiner_planner", 10, 0, None, "Deeper trees"),
        stage("refiner_coder", 11, 0, None, "t=0 k=1: Deeper trees", ["path0/t0_k1_refine"]),
        stage("refiner_coder", 12, 0, None, "t=0 k=2: skipped by the reviewer"),
        stage("accept_refinement", 13, 0, 0.93, "t=0: improved 0.91 -> 0.9300000000000001",
              **{"from": "path0/init_0", "to": "path0/t0_k0_refine", "plan": LONG_PLAN}),
        stage("path_result", 14, 0, 0.93, "s0 0.91 -> final 0.93"),
        stage("rank_candidates", 3, 1, 0.91, "s0 = path1/init_0 (init_0=0.91)"),
        stage("init_coder", 1, 1, 0.91, "XGBoost gradient boosted trees", ["path1/init_0"]),
        stage("ablation", 6, 1, 0.95, "outer step 0", ["path1/t0_ablation"]),
        stage("ablation_summarizer", 7, 1, None, "Baseline score: 0.95."),
        stage("extractor", 8, 1, None, "Lower the learning rate", code_block=BLOCK),
        stage("refiner_coder", 9, 1, 0.90, "t=0 k=0: Lower learning rate", [second]),
        stage("accept_refinement", 13, 1, 0.91, "t=0: no improvement over 0.91, kept s_t"),
        stage("path_result", 14, 1, 0.91, "s0 0.91 -> final 0.91"),
        stage("gather_solutions", 15, None, 0.93, "path 0: 0.93, path 1: 0.91"),
        stage("ensembler", 16, None, journal[12]["score"], "round 0: Average the members",
              ["ensemble_r0", "ensemble_r0_debug1"]),
        stage("ensembler", 18, None, 0.92, "round 1: Weighted blend", ["ensemble_r1"]),
        stage("submission", 20, None, 0.94 if ensemble_wins else 0.93, f"from {submitted}", ["final"]),
    ]
    finals = ["path0/t0_k0_refine", "path1/init_0"] if not identical else ["path0/t0_k0_refine", second]
    if identical:  # path 1 accepted a refinement identical to path 0's
        for e in journal:
            if e["name"] == second:
                e["score"] = 0.93
        stages[-6] = stage("accept_refinement", 13, 1, 0.93, "t=0: improved 0.91 -> 0.93",
                           **{"from": "path1/init_0", "to": second, "plan": "Lower learning rate"})
    by_name = {e["name"]: e for e in journal}
    usage = {"input_tokens": 1200, "output_tokens": 300, "calls": 5,
             "by_model": {model: {"calls": 5, "input_tokens": 1200, "output_tokens": 300}},
             "by_role": {"init_coder": {"calls": 2, "input_tokens": 500, "output_tokens": 200}}}
    record = {
        "task": {"name": "demo", "modality": "tabular", "task_type": "binary", "metric": "auc",
                 "metric_title": "area under the ROC curve", "lower_is_better": False, "scoring": "agent",
                 "n_train": 366, "n_holdout": 90, "n_test": 113, "notes": ["held out 90 rows"]},
        "metric": "auc", "lower_is_better": False,
        "best_score": by_name[submitted]["score"], "best_solution": submitted,
        "initial_best_scores": [0.91, 0.91],
        "paths": [{"path_id": i, "initial_score": 0.91, "final_score": by_name[n]["score"], "name": n}
                  for i, n in enumerate(finals)],
        "ensemble": [], "journal": journal,
        "submission_path": str(d / "final" / "submission.csv"), "solution_path": str(d / "final" / "solution.py"),
        "error": None, "config": {}, "counts": {"model_calls": 5, "leakage_found": 1, "leakage_fixed": 1},
        "usage": usage, "models": {"init_coder": model}, "sandbox": "bwrap 0.11.0", "fallback": None,
        "cost": {"total_usd": 0.0, "by_model": {model: 0.0}, "unpriced": []}, "stages": stages, "wall_time": 22.0,
    }
    (d / "run.json").write_text(json.dumps(record))
    return record


@pytest.fixture
def run(tmp_path) -> tuple[Path, dict]:
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    return run_dir, make_run(run_dir)


def _text(page: str) -> str:
    """The page as a person reads it: tags removed, entities decoded, spaces collapsed."""
    without = re.sub(r"<script.*?</script>|<style.*?</style>", " ", page, flags=re.S)
    inline = re.sub(r"</?(a|b|span|code)\b[^>]*>", "", without)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", inline)).split())


def _section(page: str, anchor: str) -> str:
    start = page.index(f'<section class="node-detail" id="{anchor}">')
    return page[start:page.index("</section>", start)]


def test_the_tree_has_every_script_under_its_parent_with_its_details(run):
    run_dir, record = run
    page = render_html(record, run_dir)
    tree = page[page.index('<nav id="tree"'):page.index("</nav>")]
    for entry in record["journal"]:
        anchor = "s-" + re.sub(r"[^A-Za-z0-9_-]", "-", entry["name"])
        assert f'href="#{anchor}"' in tree, entry["name"]
        assert f'id="{anchor}"' in page
    # a debug attempt hangs under the script it fixed; the ensemble's debug round under the round
    init_1 = tree[tree.index('href="#s-path0-init_1"'):]
    assert init_1.index('href="#s-path0-init_1_debug1"') < init_1.index("</li>")
    detail = _section(page, "s-path0-t0_k0_refine")
    assert html.escape(LONG_PLAN) in detail  # the whole plan, not cut
    assert "Changes from its parent path0/init_0" in detail and "LGBM()" in detail
    assert 'data-code="' in detail
    assert "accepted as the new solution of path 0" in detail
    untrusted = _section(page, "s-path0-t0_k1_refine")
    assert "untrusted" in untrusted and "0.999" in untrusted
    failed = _section(page, "s-path0-init_1")
    assert "KeyError: &#x27;target&#x27;" in failed and 'href="#s-path0-init_1_debug1"' in failed
    assert "memory" in _section(page, "s-path1-t0_k0_refine")
    assert "never ran" in _section(page, "s-path0-t0_k2_refine")


def test_every_record_file_is_linked_relative_to_the_run_folder(run):
    run_dir, record = run
    page = render_html(record, run_dir)
    links = re.findall(r'<a href="(scripts/[^"]+)"', page)
    assert "scripts/path0/init_0/solution.py" in links and "scripts/path0/init_0/stderr.txt" in links
    assert "scripts/path0/init_0/outputs/valid_predictions.csv" in links
    assert all((run_dir / link).is_file() for link in links)


def test_the_code_of_every_script_is_embedded_once_and_cannot_close_the_tag(run):
    run_dir, record = run
    code = _code("path0/init_0") + "x = '</script><script>alert(1)</script>'\n"
    (run_dir / "scripts" / "path0" / "init_0" / "solution.py").write_text(code)
    (run_dir / "scripts" / "path1" / "init_0" / "solution.py").write_text(code)
    page = render_html(record, run_dir)
    blob = page[page.index('<script type="application/json" id="codes">'):]
    blob = blob[blob.index(">") + 1:blob.index("</script>")]
    codes = json.loads(blob)
    assert code in codes.values()
    assert page.count("</script>") == 2  # the JSON blob and the page's own script, nothing from the code
    # path 0's and path 1's identical first candidates are stored once
    assert len(codes) < len([e for e in record["journal"] if e["workdir"]])


def test_each_outer_step_shows_its_ablation_table_and_why_its_block_was_chosen(run):
    run_dir, record = run
    page = render_html(record, run_dir)
    steps = page[page.index('id="steps"'):page.index('id="ensemble"')]
    assert "Path 0, outer step t=0" in steps and "Path 1, outer step t=0" in steps
    path0 = steps[steps.index("Path 0, outer step t=0"):steps.index("Path 1, outer step t=0")]
    for variant in ("baseline", "features: none", "model: linear instead", "preprocess: plain"):
        assert f"<td>{variant}</td>" in path0
    assert '<tr class="big" title="the largest effect"><td>model: linear instead</td>' in path0
    assert "-0.15" in path0  # 0.80 - 0.95
    assert "Chosen: the model block" in path0 and html.escape(LONG_PLAN) in path0
    assert "Baseline score: 0.95." in path0  # the summarizer's reading
    assert "improved 0.91 -&gt; 0.93" in path0  # raw floats tidied
    md = render_markdown(record, run_dir)
    assert "| model: linear instead (largest effect) | 0.8 | -0.15 |" in md
    assert LONG_PLAN in md


def test_parse_ablation_picks_the_component_that_hurts_most_in_either_direction():
    out = "noise\nAblation | baseline | 0.30\nAblation | a | 0.31\nAblation | b | 0.50\nAblation | c | bad\n"
    rows, baseline, biggest = parse_ablation(out, lower=True)
    assert baseline == 0.30 and [r.variant for r in rows] == ["baseline", "a", "b", "c"]
    assert biggest is not None and biggest.variant == "b" and rows[3].score is None
    rows, baseline, biggest = parse_ablation(out, lower=False)
    assert biggest is not None and biggest.variant == "b"  # nothing got worse: the biggest change
    assert parse_ablation("no table here", lower=False) == ([], None, None)


def test_the_summary_answers_what_was_tried_what_failed_and_why_the_submission_won(run):
    run_dir, record = run
    page = render_html(record, run_dir)
    summary = _text(page[page.index('id="what-happened"'):page.index('id="plot"')])
    assert "Models tried: XGBoost gradient boosted trees (0.91 on paths 0, 1); LightGBM (0.89 on path 0)" in summary
    assert "Path 0, outer step t=0:" in summary and "the model block" in summary
    assert "'model: linear instead' changes the score most (-0.15)" in summary
    assert "path0/init_1 failed: KeyError: 'target'; fixed after 1 debug round(s) by path0/init_1_debug1" \
        in summary
    assert "path0/t0_k1_refine was untrusted" in summary
    assert "leakage found in path0/merge_1 and fixed before it ran" in summary
    assert "round 0 scored 0.94, better than the best single solution (0.93)" in summary
    assert "Submission: built from ensemble_r0_debug1 (validation 0.94): its ensemble beat every single" in summary
    assert "printed 0.95 (self-reported" in summary
    md = render_markdown(record, run_dir)
    assert "**Submission:** built from `ensemble_r0_debug1`" in md


def test_identical_paths_and_tied_rounds_are_said_out_loud(tmp_path):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    record = make_run(run_dir, identical=True, ensemble_wins=False)
    for e in record["journal"]:  # every round that ran ties the best single solution
        if e["kind"] == "ensemble" and e["ok"]:
            e["score"] = 0.93
    story = read_story(record, run_dir)
    assert "every path ended with the same script" in story.identical_paths
    assert story.ensemble_verdict.startswith("no round beat the best single solution: every round that ran tied")
    text = _text(render_html(record, run_dir))
    assert "Paths: every path ended with the same script (path0/t0_k0_refine, path1/t0_k0_refine" in text
    assert "the best single solution (tied with path1/t0_k0_refine; the first in path order was taken), and " \
           "no ensemble round beat it" in text


def test_ensemble_shows_members_weights_and_the_verdict(run):
    run_dir, record = run
    page = render_html(record, run_dir)
    ens = page[page.index('id="ensemble"'):page.index('id="failures"')]
    assert 'href="#s-path0-t0_k0_refine"' in ens and 'href="#s-path1-init_0"' in ens
    assert "[0.7, 0.3]" in ens  # the weights the script printed
    assert 'href="#s-ensemble_r0">ensemble_r0</a> → <a href="#s-ensemble_r0_debug1"' in ens
    assert "Verdict:" in ens and "better than the best single solution" in ens


def test_the_plot_scales_has_ticks_on_both_axes_and_a_best_line_per_path(run):
    run_dir, record = run
    page = render_html(record, run_dir)
    svg = page[page.index('<svg class="plot"'):page.index("</svg>", page.index('<svg class="plot"'))]
    assert 'viewBox="0 0 ' in svg and 'width="100%"' in svg and 'width="860"' not in svg
    assert svg.count('class="best"') == 2  # path 0 and path 1
    labels = re.findall(r'<text [^>]*text-anchor="(end|middle)">([^<]+)</text>', svg)
    assert len([t for a, t in labels if a == "end"]) >= 3  # score ticks
    assert [t for a, t in labels if a == "middle" and t.strip().isdigit()][:3] == ["0", "5", "10"]  # seconds
    assert "seconds since the start" in svg
    assert svg.count(" failed</title>") == 2 and svg.count(" untrusted</title>") == 1  # init_1, ensemble_r0; k1
    # the points link into the tree
    assert 'href="#s-path0-t0_k0_refine"' in svg


def test_nice_ticks_are_round_and_cover_the_range():
    assert nice_ticks(0, 54.4, 6) == [0, 10, 20, 30, 40, 50]
    ticks = nice_ticks(0.9612, 0.9722, 5, outward=True)
    step = ticks[1] - ticks[0]
    assert ticks[0] <= 0.9612 and ticks[-1] >= 0.9722 and round(step, 6) in (0.001, 0.002, 0.0025, 0.005)
    assert all(t == pytest.approx(ticks[0] + i * step) for i, t in enumerate(ticks))


def test_offline_token_counts_are_marked_estimated_and_real_ones_are_not(tmp_path, run):
    run_dir, record = run
    page = render_html(record, run_dir)
    assert '<span class="est"' in page and "(estimated" in render_markdown(record, run_dir)
    other = tmp_path / "real"
    other.mkdir()
    real = make_run(other, model="google_genai:gemini-2.5-pro")
    assert 'class="est"' not in render_html(real, other) and "estimated)" not in render_markdown(real, other)
    real["usage"]["by_model"]["google_genai:gemini-2.5-pro"]["estimated_calls"] = 2  # marked by the model
    assert '<span class="est"' in render_html(real, other)


def test_rewrite_report_works_after_the_run_folder_moved(run, tmp_path):
    run_dir, _ = run
    moved = tmp_path / "moved"
    run_dir.rename(moved)
    page = rewrite_report(moved).read_text()
    assert "scripts/path0/t0_ablation/stdout.txt" in page and "<td>model: linear instead</td>" in page
    assert (moved / "report.md").read_text().startswith("# mle-star run: demo")


# -- a real run --------------------------------------------------------------------------------

def real_run(tmp_path_factory, task_dir: Path) -> Path:
    """One small offline run per test session (the browser test renders it too)."""
    run_dir = tmp_path_factory.getbasetemp() / "report-real-run"
    if not (run_dir / "run.json").exists():
        from mle_star.cli import main

        code = main(["run", str(task_dir), "--run-dir", str(run_dir), "--num-candidates", "2", "--outer-loops",
                     "1", "--inner-loops", "2", "--ensemble-rounds", "2", "--script-timeout", "300",
                     "--max-parallel", "2"])
        assert code == 0
    return run_dir


def test_a_real_run_report_has_every_script_and_its_ablation_tables(tmp_path_factory, bc_task):
    run_dir = real_run(tmp_path_factory, bc_task)
    record = json.loads((run_dir / "run.json").read_text())
    page = (run_dir / "report.html").read_text()
    tree = page[page.index('<nav id="tree"'):page.index("</nav>")]
    assert tree.count('class="node ') == len(record["journal"])
    for entry in record["journal"]:
        assert (run_dir / "scripts" / entry["name"] / "solution.py").is_file() == bool(entry["workdir"])
    for stage in record["stages"]:
        if stage["node"] == "ablation" and stage.get("scripts"):
            anchor = "s-" + re.sub(r"[^A-Za-z0-9_-]", "-", stage["scripts"][0])
            assert "<td>baseline</td>" in _section(page, anchor)
    text = _text(page)
    assert "Models tried:" in text and "Submission: built from" in text
    assert "offline estimated" in text  # the token table marks the offline engineer's estimates
    assert rewrite_report(run_dir).read_text() == page  # the report is a function of the run folder


def test_an_ablation_where_nothing_changes_says_so(run):
    run_dir, record = run
    (run_dir / "scripts" / "path1" / "t0_ablation" / "stdout.txt").write_text(
        "Ablation | baseline | 0.95\nAblation | model: linear instead | 0.95\n")
    text = _text(render_html(record, run_dir))
    assert "Path 1, outer step t=0: the ablation path1/t0_ablation (baseline 0.95, scored by the script itself) " \
           "found that no variant changes the score;" in text


def test_a_run_that_ended_without_a_submission_still_gets_a_report(tmp_path):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    record = make_run(run_dir)
    record.update(journal=[], stages=[], paths=[], submission_path=None, best_score=None, best_solution=None,
                  error="no solution ran successfully, so there is nothing to submit")
    text = _text(render_html(record, run_dir))
    assert "Submission: none was written: no solution ran successfully" in text
    assert "No scored scripts to plot." in text and "No candidate model ran." in text
    assert "**Submission:** none was written" in render_markdown(record, run_dir)


def test_each_step_records_the_attempt_kind_its_steps_table_entry_declares(tmp_path_factory, bc_task):
    """The steps table says what each step's scripts are in the journal; a real run agrees, and
    every refinement, ablation and ensemble round carries its loop coordinates as numbers."""
    from mle_star.steps import STEP

    record = json.loads((real_run(tmp_path_factory, bc_task) / "run.json").read_text())
    kinds = {e["name"]: e["kind"] for e in record["journal"]}
    seen = set()
    for stage in record["stages"]:
        for name in stage.get("scripts", []):
            seen.add(stage["node"])
            assert kinds[name] == STEP[stage["node"]].kind, (stage["node"], name)
    assert {"init_coder", "merger", "ablation", "refiner_coder", "ensembler", "submission"} <= seen
    for entry in record["journal"]:
        if entry["kind"] in ("ablation", "refinement"):
            assert isinstance(entry["t"], int) and entry["step"].startswith(f"t={entry['t']}")
        if entry["kind"] == "refinement":
            assert isinstance(entry["k"], int) and entry["step"] == f"t={entry['t']} k={entry['k']}"
        if entry["kind"] == "ensemble":
            assert entry["step"] == f"round {entry['round']}"
