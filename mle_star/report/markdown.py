"""report.md: the same facts as report.html, as text (for a terminal, a diff or a PR)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from mle_star.report.facts import Label, Ref, Sentence, Story, block_label, fmt, read_story, tidy
from mle_star.tools.execution.machine_facts import summary


def _cell(value: object) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def _sentence(parts: Sentence) -> str:
    return "".join(f"`{p}`" if isinstance(p, Ref) else f"**{p.strip()}** " if isinstance(p, Label) else str(p)
                   for p in parts)


def _table(header: list[str], rows: Sequence[Sequence[object]]) -> list[str]:
    return ["| " + " | ".join(header) + " |", "| " + " | ".join("---" for _ in header) + " |",
            *["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]]


def render_story(story: Story) -> str:
    r = story.record
    t = r["task"]
    usage = r.get("usage", {})
    estimated = " (estimated)" if story.estimated_models & set(usage.get("by_model", {})) else ""
    lines = [
        f"# mle-star run: {t.get('name')}",
        "",
        f"- task: {t.get('modality')} {t.get('task_type')}, {t.get('n_train')} training rows, {t.get('n_holdout')} "
        f"held out by the agent, {t.get('n_test')} test rows",
        f"- metric: {t.get('metric_title')} ({'lower' if story.lower else 'higher'} is better); validation scores "
        f"{str(t.get('scoring', '')).replace('_', '-')}",
        f"- best validation score: {fmt(r.get('best_score'))} ({r.get('best_solution')})",
        f"- submission: {story.rel(r['submission_path']) if r.get('submission_path') else 'none'}",
        f"- wall time: {r.get('wall_time')} s; model calls: {r['counts'].get('model_calls', 0)}; tokens in/out: "
        f"{usage.get('input_tokens', 0)}/{usage.get('output_tokens', 0)}{estimated}; estimated cost: "
        f"${r['cost']['total_usd']:.4f}" + (f" (unpriced: {', '.join(r['cost']['unpriced'])})"
                                            if r['cost']['unpriced'] else ""),
        f"- models: {', '.join(sorted(set(r.get('models', {}).values()))) or 'n/a'}"
        + (f"; fallback: {r['fallback']}" if r.get("fallback") else ""),
        f"- sandbox: {r.get('sandbox')}",
        f"- workbench: {summary(r.get('workbench'))}",
    ]
    if r.get("error"):
        lines += ["", f"**Error:** {r['error']}"]
    if r.get("unsolved"):
        lines += ["", f"**Unsolved:** {r['unsolved']}"]
    if r.get("sandbox") and not str(r["sandbox"]).startswith("bwrap"):
        lines += ["", f"**WARNING: scripts ran without the bubblewrap sandbox:** {r['sandbox']}"]
    if r.get("script_network") == "allow":
        lines += ["", "**WARNING: scripts shared this machine's network (--script-network allow).**"]
    if t.get("notes"):
        lines += ["", "## What the intake noticed", ""] + [f"- {note}" for note in t["notes"]]
    lines += ["", "## What happened", ""] + [f"- {_sentence(s)}" for s in story.summary]

    lines += ["", "## Solution paths", ""]
    lines += _table(["path", "initial best", "final", "final script"],
                    [[p["path_id"], fmt(p["initial_score"]), fmt(p["final_score"]), p["name"]] for p in r["paths"]])

    for st in story.steps:
        lines += ["", f"## Path {st.path}, outer step t={st.t}", ""]
        ab = st.ablation
        if ab is not None and ab.rows:
            lines += [f"Ablation `{ab.script}`:", ""]
            lines += _table(["variant", "score", "change vs baseline"],
                            [[row.variant + (" (largest effect)" if row is ab.biggest else ""), fmt(row.score),
                              "" if row.delta is None or row.variant.lower() == "baseline" else f"{row.delta:+.6g}"]
                             for row in ab.rows])
        elif ab is not None:
            lines.append("The ablation printed no table.")
        if ab is not None and ab.summary:
            lines += ["", "Summary:", "", *[f"> {line}" for line in ab.summary.splitlines()]]
        if st.block:
            lines += ["", f"Chosen: {block_label(st.block)}. Why (the extractor's plan): {st.plan}", "",
                      "```python", st.block.rstrip(), "```"]
        else:
            lines += ["", f"No block was targeted: {st.plan or 'no extractor reply'}"]
        if st.attempts:
            rows = []
            for name in st.attempts:
                first, end = story.scripts[name], story.chain_end(name)
                k = first.entry["k"]
                rows.append(["" if k is None else str(k), first.entry.get("plan", ""), fmt(end.score),
                             end.status if end is first else f"{first.status}, then {end.status} ({end.name})",
                             "accepted" if st.accepted in (name, end.name) else ""])
            lines += [""] + _table(["k", "plan", "score", "status", ""], rows)
        if st.outcome:
            lines += ["", f"Outcome: {tidy(st.outcome)}"]

    if story.members or story.rounds:
        lines += ["", "## Ensemble", "", "Members (each path's final solution):", ""]
        lines += _table(["path", "script", "plan", "score"],
                        [[story.scripts[n].entry.get("path_id"), n, story.scripts[n].entry.get("plan", ""),
                          fmt(story.scripts[n].score)] for n in story.members])
        if story.identical_paths:
            lines += ["", f"Note: {story.identical_paths}."]
        if story.rounds:
            lines += ["", "Rounds:", ""]
            lines += _table(["round", "plan", "last script", "score", "weights printed"],
                            [[x.r, x.plan, x.last, fmt(x.score), x.weights or "—"] for x in story.rounds])
        lines += ["", f"Verdict: {story.ensemble_verdict}."]

    lines += ["", "## What failed and how it was fixed", ""]
    lines += [f"- {_sentence(s)}" for s in story.failures] or ["- Nothing failed."]

    lines += ["", "## Every script", ""]
    rows = []
    for s in story.scripts.values():
        e = s.entry
        rows.append([s.name, s.label, e.get("parent") or "", e.get("step", ""), fmt(e.get("score")),
                     fmt(e.get("printed_score")) + (" (untrusted)" if e.get("untrusted") else ""), s.status,
                     e.get("limit_hit", ""), story.rel(s.record) if s.record else "", e.get("plan", "")])
    lines += _table(["script", "kind", "parent", "step", "score", "printed", "status", "limit", "record", "plan"],
                    rows)

    by_model = usage.get("by_model", {})
    if by_model:
        lines += ["", "## Tokens and cost", ""]
        lines += _table(["model", "calls", "tokens in", "tokens out", "est. USD"],
                        [[m + (" (estimated)" if m in story.estimated_models else ""), u.get("calls", 0),
                          u.get("input_tokens", 0), u.get("output_tokens", 0), r["cost"]["by_model"].get(m, "—")]
                         for m, u in sorted(by_model.items())])
    lines += ["", "## Stages", ""]
    lines += _table(["node", "path", "duration s", "score", "detail"],
                    [[s["node"], "" if s.get("path") is None else s["path"], s["duration"], fmt(s.get("score")),
                      tidy(s.get("detail", ""))] for s in r.get("stages", [])
                     if s["node"] not in ("execute", "leakage_checker", "debugger")])
    lines += ["", "## Counts", ""] + [f"- {k}: {v}" for k, v in sorted(r["counts"].items())]
    return "\n".join(lines) + "\n"


def render_markdown(record: dict, run_dir: str | Path = ".") -> str:
    """report.md for ``record``; ``run_dir`` is where the script records are (for tables and tails)."""
    return render_story(read_story(record, run_dir))
