"""report.html: one self-contained page that explains the search.

Layout, top to bottom: the run's facts; warnings; "What happened" (the answers a person
wants first, with links into the tree); the score plot; the search explorer (the tree of
every script on the left, the chosen script's plan, scores, status, files, diff, code and
output tails on the right; one column on narrow windows); the outer steps (ablation table,
the chosen block and why, the inner attempts); the ensemble; what failed; tokens, cost and
time; and every stage, folded.
"""

from __future__ import annotations

import html
import json
import re
from collections import defaultdict
from pathlib import Path
from typing import Any

from mle_star.report.assets import SCRIPT, STYLE
from mle_star.report.facts import (
    Label,
    Ref,
    Script,
    Sentence,
    Story,
    block_label,
    fmt,
    read_story,
    tidy,
)
from mle_star.report.plot import score_plot
from mle_star.steps import HIDDEN
from mle_star.tools.execution.machine_facts import summary

KIND_SHORT = {"candidate": "cand", "merge": "merge", "data_usage": "data", "ablation": "ablat",
              "refinement": "refine", "ensemble": "ens", "submission": "submit", "fallback": "fallback"}


def esc(value: object) -> str:
    return html.escape(str(value))


def anchors(story: Story) -> dict[str, str]:
    """A stable, unique element id per script (its name, made URL-safe)."""
    out: dict[str, str] = {}
    used: set[str] = set()
    for i, name in enumerate(story.scripts):
        anchor = "s-" + re.sub(r"[^A-Za-z0-9_-]", "-", name)
        if anchor in used:
            anchor = f"{anchor}-{i}"
        used.add(anchor)
        out[name] = anchor
    return out


class Page:
    def __init__(self, story: Story):
        self.story = story
        self.anchor = anchors(story)
        self.codes: dict[str, str] = {}  # code id -> code (identical scripts stored once)
        self._code_ids: dict[str, str] = {}

    # -- pieces ------------------------------------------------------------------------------

    def link(self, name: str | None, text: str | None = None) -> str:
        if name and name in self.anchor:
            return f'<a href="#{self.anchor[name]}">{esc(text or name)}</a>'
        return esc(text or name or "—")

    def sentence(self, parts: Sentence) -> str:
        return "".join(self.link(p) if isinstance(p, Ref) else f"<b>{esc(p)}</b>" if isinstance(p, Label) else esc(p)
                       for p in parts)

    def code_id(self, code: str) -> str:
        if code not in self._code_ids:
            self._code_ids[code] = f"c{len(self._code_ids)}"
            self.codes[self._code_ids[code]] = code
        return self._code_ids[code]

    def file_link(self, rel: str) -> str:
        return f'<a href="{esc(rel)}">{esc(rel)}</a>'

    # -- sections ----------------------------------------------------------------------------

    def header(self) -> list[str]:
        r, story = self.story.record, self.story
        t = r["task"]
        usage = r.get("usage", {})
        estimated = bool(story.estimated_models & set(usage.get("by_model", {})))
        est = ' <span class="est" title="the offline engineer estimates tokens as characters / 4">estimated</span>' \
            if estimated else ""
        models = sorted(set(r.get("models", {}).values()))
        unpriced = r["cost"]["unpriced"]
        rows = [
            ("task", f"{esc(t.get('name'))}: {esc(t.get('modality'))} {esc(t.get('task_type'))}, "
                     f"{t.get('n_train')} training / {t.get('n_holdout')} held-out / {t.get('n_test')} test rows"),
            ("metric", f"{esc(t.get('metric_title') or r.get('metric'))} ({esc(r.get('metric'))}, "
                       f"{'lower' if story.lower else 'higher'} is better); validation scores "
                       f"{esc(str(t.get('scoring', '')).replace('_', '-'))}"),
            ("best validation score", f"{fmt(r.get('best_score'))} ({self.link(r.get('best_solution'))})"),
            ("submission", self.file_link(self.story.rel(r["submission_path"])) if r.get("submission_path")
             else "none"),
            ("wall time", f"{r.get('wall_time')} s"),
            ("models", esc(", ".join(models) or "n/a") + (f" — fallback: {esc(r['fallback'])}"
                                                            if r.get("fallback") else "")),
            ("model calls / tokens in / out", f"{r['counts'].get('model_calls', 0)} / {usage.get('input_tokens', 0):,}"
                                              f" / {usage.get('output_tokens', 0):,}{est}"),
            ("estimated cost", f"${r['cost']['total_usd']:.4f}" + (f" (unpriced: {esc(', '.join(unpriced))})"
                                                                   if unpriced else "")),
            ("sandbox", esc(r.get("sandbox"))),
            ("workbench", esc(summary(r.get("workbench")))),
        ]
        out = [f"<h1>mle-star run: {esc(t.get('name'))}</h1>", '<dl class="kv">']
        out += [f"<dt>{k}</dt><dd>{v}</dd>" for k, v in rows]
        out.append("</dl>")
        if r.get("error"):
            out.append(f'<p class="error">Error: {esc(r["error"])}</p>')
        if r.get("unsolved"):
            out.append(f'<p class="error">Unsolved: {esc(r["unsolved"])}</p>')
        if r.get("sandbox") and not str(r["sandbox"]).startswith("bwrap"):
            out.append(f'<p class="warn"><b>WARNING: scripts ran without the bubblewrap sandbox:</b> '
                       f'{esc(r["sandbox"])}</p>')
        if r.get("script_network") == "allow":
            out.append('<p class="warn"><b>WARNING: scripts shared this machine\'s network '
                       '(--script-network allow).</b></p>')
        if t.get("notes"):
            out.append("<details><summary>What the intake noticed</summary><ul>"
                       + "".join(f"<li>{esc(n)}</li>" for n in t["notes"]) + "</ul></details>")
        return out

    def summary(self) -> list[str]:
        return ['<h2 id="what-happened">What happened</h2><ul class="summary">',
                *[f"<li>{self.sentence(s)}</li>" for s in self.story.summary], "</ul>"]

    def tree(self) -> str:
        story = self.story
        groups: dict[Any, list[str]] = defaultdict(list)
        for name in story.roots:
            groups[story.scripts[name].entry.get("path_id")].append(name)
        seen: set[str] = set()

        def item(name: str) -> str:
            if name in seen:
                return ""
            seen.add(name)
            s = story.scripts[name]
            kids = "".join(item(c) for c in s.children)
            return f"<li>{self.tree_label(s)}{f'<ul>{kids}</ul>' if kids else ''}</li>"

        parts = ['<nav id="tree" aria-label="search tree"><ul>']
        for path in sorted(groups, key=lambda p: (p is None, p if p is not None else 0)):
            title = f"path {path}" if path is not None else "outside the paths"
            parts.append(f'<li><div class="group">{title}</div><ul>{"".join(item(n) for n in groups[path])}</ul></li>')
        parts.append("</ul></nav>")
        return "".join(parts)

    def tree_label(self, s: Script) -> str:
        kind = "debug" if s.entry.get("debug_round") else s.kind
        short = KIND_SHORT.get(s.kind, s.kind) if kind != "debug" else f"debug {s.entry['debug_round']}"
        name = re.sub(r"^path\d+/", "", s.name)
        marks = []
        if s.name == self.story.record.get("best_solution"):
            marks.append('<span class="mark" title="the submission was built from this script">★</span>')
        if any(n.startswith("accepted") for n in s.notes):
            marks.append('<span class="mark" title="accepted refinement">▲</span>')
        if s.name in self.story.members:
            marks.append('<span class="mark" title="final solution of its path">⚑</span>')
        status = {"failed": "✗ ", "untrusted": "⚠ ", "not run": "∅ "}.get(s.status, "")
        score = fmt(s.score, 5) if s.score is not None else s.status
        own = s.score is not None and s.entry.get("score_source") == "self_reported"
        tip = "; ".join([f"{s.name}: {s.label}, {s.status}" + (", score self-reported" if own else ""), *s.notes])
        return (f'<a class="node st-{s.status.replace(" ", "-")}" href="#{self.anchor[s.name]}" title="{esc(tip)}">'
                f'<span class="kd kd-{kind}">{esc(short)}</span><span class="nm">{status}{esc(name)}</span>'
                f'{"".join(marks)}<span class="sc{" own" if own else ""}">{esc(score)}</span></a>')

    def detail(self, s: Script) -> str:
        e, story = s.entry, self.story
        facts = [("kind", esc(s.label)), ("status", f'<span class="st st-{s.status.replace(" ", "-")}">'
                                                    f'{esc(s.status)}</span>')]
        if e.get("path_id") is not None:
            facts.append(("path", esc(e["path_id"])))
        if e.get("step"):
            facts.append(("step", esc(e["step"])))
        facts.append(("parent", self.link(e.get("parent")) if e.get("parent") else "none (a root)"))
        if s.fixed_by:
            facts.append(("debugged by", self.link(s.fixed_by)))
        source = {"agent": "the agent's score on its held-out rows", "self_reported": "self-reported (printed by "
                  "the script; no held-out labels to check it)", "none": "no score"}.get(
            str(e.get("score_source")), str(e.get("score_source")))
        facts.append(("score", f"{fmt(e.get('score'))} — {esc(source)}"))
        printed = fmt(e.get("printed_score"))
        if e.get("untrusted"):
            printed += ' <span class="st st-untrusted">untrusted: better than its predictions earn</span>'
        facts.append(("printed score", printed))
        facts.append(("duration", f"{e.get('duration', 0):.1f} s"))
        if e.get("limit_hit"):
            facts.append(("limit hit", f'<span class="st st-failed">{esc(e["limit_hit"])}</span>'))
        out = [f'<section class="node-detail" id="{self.anchor[s.name]}">',
               f"<h3>{esc(s.name)}</h3>", '<dl class="facts">']
        out += [f"<dt>{k}</dt><dd>{v}</dd>" for k, v in facts]
        out.append("</dl>")
        if s.notes:
            out.append('<ul class="notes">' + "".join(f"<li>{esc(n)}</li>" for n in s.notes) + "</ul>")
        if e.get("plan"):
            out.append(f'<h4>Plan</h4><p class="plan">{esc(e["plan"])}</p>')
        if e.get("target_block"):
            out.append(f"<details><summary>Target block: {esc(block_label(e['target_block']))}</summary>"
                       f'<pre class="wrap">{esc(e["target_block"])}</pre></details>')
        if e.get("error"):
            out.append(f'<h4>Error</h4><pre class="wrap error-text">{esc(str(e["error"])[-4000:])}</pre>')
        ablation = next((st.ablation for st in story.steps if st.ablation and st.ablation.script == s.name), None)
        if ablation is not None:
            out.append("<h4>Ablation table</h4>" + self.ablation_table(ablation))
        findings = [f for f in e.get("leakage", []) if f.get("name") == s.name or e.get("debug_round")]
        if findings:
            out.append("<h4>Leakage check</h4><ul>")
            for f in findings:
                fixed = " — fixed" + (" and re-checked clean" if f.get("verified") else "") if f.get("fixed") else ""
                out.append(f"<li>{esc(f.get('name'))}: {esc(f.get('status'))}{esc(fixed)}"
                           f"{' — ' + esc(f['error']) if f.get('error') else ''}</li>")
                if f.get("block"):
                    out.append(f"<details><summary>leaking block</summary><pre class=\"wrap\">{esc(f['block'])}"
                               "</pre></details>")
                if f.get("fixed_block"):
                    out.append(f"<details><summary>fixed block</summary><pre class=\"wrap\">{esc(f['fixed_block'])}"
                               "</pre></details>")
            out.append("</ul>")
        if s.files:
            out.append("<h4>Files of its record</h4><ul class=\"files\">"
                       + "".join(f"<li>{self.file_link(f)}</li>" for f in s.files) + "</ul>")
        elif not s.record:
            out.append("<p><i>No record folder: this attempt never ran.</i></p>")
        if s.diff:
            out.append(f"<details open><summary>Changes from its parent {esc(e.get('parent'))}</summary>"
                       f'<pre class="diff">{diff_html(s.diff)}</pre></details>')
        if s.code:
            out.append(f"<details open><summary>Code ({s.code.count(chr(10)) + 1} lines)</summary>"
                       f'<pre class="code" data-code="{self.code_id(s.code)}"></pre></details>')
        for label, text, is_open in (("stdout", s.stdout, not s.ok or s.kind == "ablation"), ("stderr", s.stderr,
                                                                                            not s.ok)):
            if text.strip():
                out.append(f"<details{' open' if is_open else ''}><summary>{label} (tail)</summary>"
                           f"<pre>{esc(text)}</pre></details>")
        out.append("</section>")
        return "".join(out)

    def explorer(self) -> list[str]:
        details = "".join(self.detail(s) for s in self.story.scripts.values())
        return ['<h2 id="search">Search tree</h2>',
                "<p>Every script the run executed, under the script it was derived from. Select one to see its "
                "plan, scores, status, files, code and output. ★ built the submission, ▲ accepted refinement, "
                "⚑ final solution of a path, ✗ failed, ⚠ untrusted, ∅ never ran; an <i>italic</i> score is "
                "self-reported (printed by the script: an ablation's, or the final script's on every row).</p>",
                f'<div id="explorer">{self.tree()}<div id="details"><p class="hint">Select a script in the tree.</p>'
                f"{details}</div></div>"]

    def ablation_table(self, ab: Any) -> str:
        if not ab.rows:
            return "<p>The ablation printed no <code>Ablation | variant | score</code> lines.</p>"
        rows = ['<div class="scroll"><table><tr><th>variant</th><th class="num">score</th>'
                '<th class="num">change vs baseline</th></tr>']
        for row in ab.rows:
            big = ' class="big" title="the largest effect"' if row is ab.biggest else ""
            delta = "" if row.delta is None or row.variant.lower() == "baseline" else f"{row.delta:+.6g}"
            rows.append(f"<tr{big}><td>{esc(row.variant)}</td><td class=\"num\">{fmt(row.score)}</td>"
                        f"<td class=\"num\">{delta}</td></tr>")
        rows.append("</table></div>")
        return "".join(rows)

    def steps(self) -> list[str]:
        story = self.story
        if not story.steps:
            return []
        out = ['<h2 id="steps">Outer steps: ablation, target block, refinements</h2>']
        for st in story.steps:
            out.append(f'<div class="step"><h3>Path {st.path}, outer step t={st.t}</h3>')
            ab = st.ablation
            if ab is not None:
                out.append(f"<h4>Ablation {self.link(ab.script) if ab.script else ''}</h4>{self.ablation_table(ab)}")
                if ab.summary:
                    out.append(f'<details><summary>The summarizer\'s reading</summary><pre class="wrap">'
                               f"{esc(ab.summary)}</pre></details>")
            if st.block:
                out.append(f"<h4>Chosen: {esc(block_label(st.block))}</h4><p>Why (the extractor's plan): "
                           f"{esc(st.plan)}</p><details><summary>the block</summary><pre class=\"wrap\">"
                           f"{esc(st.block)}</pre></details>")
            else:
                out.append(f"<p>No block was targeted: {esc(st.plan or 'no extractor reply')}</p>")
            if st.attempts:
                out.append('<div class="scroll"><table><tr><th>k</th><th>plan</th><th class="num">score</th>'
                           "<th>status</th></tr>")
                for name in st.attempts:
                    first, end = story.scripts[name], story.chain_end(name)
                    k = first.entry["k"]
                    status = end.status if end is first else f"{first.status}, then {end.status} after " \
                                                             f"{end.entry.get('debug_round')} debug round(s)"
                    mark = " ▲ accepted" if st.accepted in (name, end.name) else ""
                    out.append(f"<tr><td>{'' if k is None else k}</td><td>{esc(first.entry.get('plan', ''))}</td>"
                               f"<td class=\"num\">{self.link(end.name, fmt(end.score))}</td>"
                               f"<td>{esc(status)}{mark}</td></tr>")
                out.append("</table></div>")
            if st.outcome:
                out.append(f"<p><b>Outcome:</b> {esc(tidy(st.outcome))}"
                           f"{' — ' + self.link(st.accepted) if st.accepted else ''}</p>")
            out.append("</div>")
        return out

    def ensemble(self) -> list[str]:
        story = self.story
        if not story.rounds and not story.members:
            return []
        out = ['<h2 id="ensemble">Ensemble</h2><h4>Members (each path\'s final solution)</h4>',
               '<div class="scroll"><table><tr><th>path</th><th>script</th><th>plan</th><th class="num">score</th>'
               "</tr>"]
        for name in story.members:
            s = story.scripts[name]
            out.append(f"<tr><td>{esc(s.entry.get('path_id'))}</td><td>{self.link(name)}</td>"
                       f"<td>{esc(s.entry.get('plan', ''))}</td><td class=\"num\">{fmt(s.score)}</td></tr>")
        out.append("</table></div>")
        if story.identical_paths:
            out.append(f'<p class="warn">Note: {esc(story.identical_paths)}.</p>')
        if story.rounds:
            out.append('<h4>Rounds</h4><div class="scroll"><table><tr><th>round</th><th>plan</th><th>scripts</th>'
                       '<th class="num">score</th><th>weights printed</th></tr>')
            for r in story.rounds:
                chain, name = [], r.first
                while name:
                    chain.append(self.link(name))
                    name = story.scripts[name].fixed_by or ""
                    if len(chain) > 20:
                        break
                out.append(f"<tr><td>{r.r}</td><td>{esc(r.plan)}</td><td>{' → '.join(chain)}</td>"
                           f"<td class=\"num\">{fmt(r.score)}</td><td>{esc(r.weights) or '—'}</td></tr>")
            out.append("</table></div>")
        out.append(f"<p><b>Verdict:</b> {esc(story.ensemble_verdict)}.</p>")
        return out

    def failures(self) -> list[str]:
        items = self.story.failures
        body = "".join(f"<li>{self.sentence(s)}</li>" for s in items) if items else "<li>Nothing failed.</li>"
        counts = self.story.record["counts"]
        return ['<h2 id="failures">What failed and how it was fixed</h2>', f"<ul>{body}</ul>",
                f"<p>Leakage checks: {counts.get('leakage_checks', 0)}, found: {counts.get('leakage_found', 0)}, "
                f"fixed: {counts.get('leakage_fixed', 0)}; debug rounds: {counts.get('debug_rounds', 0)}; "
                f"executions: {counts.get('executions', 0)} ({counts.get('cached_executions', 0)} reused); "
                f"untrusted scripts: {counts.get('untrusted_scripts', 0)}.</p>"]

    def usage(self) -> list[str]:
        r, story = self.story.record, self.story
        usage = r.get("usage", {})
        by_model = usage.get("by_model", {})
        out = []
        if by_model:
            out.append('<h2 id="tokens">Tokens and cost</h2><div class="scroll"><table><tr><th>model</th>'
                       '<th class="num">calls</th><th class="num">tokens in</th><th class="num">tokens out</th>'
                       '<th class="num">est. USD</th></tr>')
            for m, u in sorted(by_model.items()):
                est = ' <span class="est">estimated</span>' if m in story.estimated_models else ""
                out.append(f"<tr><td>{esc(m)}{est}</td><td class=\"num\">{u.get('calls', 0)}</td>"
                           f"<td class=\"num\">{u.get('input_tokens', 0):,}</td><td class=\"num\">"
                           f"{u.get('output_tokens', 0):,}</td><td class=\"num\">"
                           f"{r['cost']['by_model'].get(m, '—')}</td></tr>")
            out.append("</table></div>")
            if story.estimated_models & set(by_model):
                out.append(f"<p>Token counts of {esc(', '.join(sorted(story.estimated_models & set(by_model))))} "
                           "are estimates (characters / 4), not a tokenizer's count.</p>")
        time_by_node: dict[str, float] = defaultdict(float)
        for s in r.get("stages", []):
            if s["node"] not in HIDDEN:
                time_by_node[s["node"]] += s["duration"]
        roles = usage.get("by_role", {})
        only_estimated = bool(by_model) and set(by_model) <= story.estimated_models
        est = " (estimated)" if only_estimated else ""
        out.append('<h3>Time and tokens per role</h3><div class="scroll"><table><tr><th>node / role</th>'
                   f'<th class="num">time s</th><th class="num">calls</th><th class="num">tokens in{est}</th>'
                   f'<th class="num">tokens out{est}</th></tr>')
        for name in sorted(set(time_by_node) | set(roles)):
            u = roles.get(name, {})
            out.append(f"<tr><td>{esc(name)}</td><td class=\"num\">{time_by_node.get(name, 0.0):.1f}</td>"
                       f"<td class=\"num\">{u.get('calls', '')}</td><td class=\"num\">{u.get('input_tokens', '')}"
                       f"</td><td class=\"num\">{u.get('output_tokens', '')}</td></tr>")
        out.append("</table></div>")
        timing, spent = r.get("timing") or {}, r.get("time") or {}
        if timing:
            out.append("<p>Seconds in scripts: " + esc(f"{timing.get('scripts', 0):.1f}") + "; in model calls: "
                       + esc(f"{timing.get('model_calls', 0):.1f}") + ".</p>")
        if spent:
            out.append("<p>Wall time " + esc(f"{spent['wall']:.1f}") + " s; the graph's own overhead "
                       + esc(f"{spent['graph_overhead']:.2f}") + " s (" + esc(f"{100 * spent['graph_overhead_share']:.2f}")
                       + "%); scripts kept " + esc(f"{100 * spent['parallelism']:.0f}") + "% of the "
                       + esc(str(spent["cores"])) + " cores busy"
                       + ("" if spent.get("machine_busy") is None else
                          ", and the machine was busy " + esc(f"{100 * spent['machine_busy']:.0f}") + "% of the time")
                       + ".</p>")
        return out

    def stages(self) -> list[str]:
        stages = [s for s in self.story.record.get("stages", []) if s["node"] not in HIDDEN]
        t0 = min((s["start"] for s in self.story.record.get("stages", [])), default=0.0)
        out = [f"<details><summary>Every stage ({len(stages)})</summary><div class=\"scroll\"><table><tr>"
               '<th class="num">t s</th><th>node</th><th>path</th><th class="num">duration s</th>'
               '<th class="num">score</th><th>detail</th><th>scripts</th></tr>']
        for s in stages:
            scripts = ", ".join(self.link(n) for n in s.get("scripts", []))
            out.append(f"<tr><td class=\"num\">{s['start'] - t0:.1f}</td><td>{esc(s['node'])}</td>"
                       f"<td>{'' if s.get('path') is None else s['path']}</td><td class=\"num\">"
                       f"{s['duration']:.1f}</td><td class=\"num\">{fmt(s.get('score'))}</td>"
                       f"<td>{esc(tidy(s.get('detail', '')))}</td><td>{scripts}</td></tr>")
        out.append("</table></div></details>")
        return out

    def render(self) -> str:
        story = self.story
        body = [*self.header(), *self.summary(), '<h2 id="plot">Score over the run</h2>',
                score_plot(story, self.anchor), *self.explorer(), *self.steps(), *self.ensemble(),
                *self.failures(), *self.usage(), '<h2 id="stages">Stages</h2>', *self.stages()]
        start = story.record.get("best_solution") or next(iter(story.scripts), "")
        codes = json.dumps(self.codes).replace("<", "\\u003c")  # nothing in it can close the tag
        name = esc(story.record["task"].get("name"))
        return ("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                '<meta name="viewport" content="width=device-width, initial-scale=1">'
                f'<link rel="icon" href="data:,"><title>mle-star: {name}</title><style>{STYLE}</style></head>'
                f'<body data-start="{esc(self.anchor.get(start, ""))}"><main>' + "\n".join(body)
                + f'</main><script type="application/json" id="codes">{codes}</script><script>{SCRIPT}</script>'
                "</body></html>\n")


def diff_html(diff: str) -> str:
    rows = []
    for line in diff.splitlines():
        cls = ("add" if line.startswith("+") and not line.startswith("+++") else
               "del" if line.startswith("-") and not line.startswith("---") else
               "hunk" if line.startswith("@@") else "")
        rows.append(f'<span class="{cls}">{esc(line)}</span>' if cls else esc(line))
    return "\n".join(rows)


def render_html(record: dict, run_dir: str | Path) -> str:
    """The page for ``record`` (run.json), reading the script records under ``run_dir``."""
    return Page(read_story(record, run_dir)).render()
