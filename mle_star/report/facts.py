"""What a run did, derived once from run.json and the scripts' trusted records.

Both reports (report.md and report.html) are renderings of the same ``Story``, so they state
the same facts: the tree of every executed script (from the journal's parent links), each
outer step's ablation table and the block it chose, the ensemble's verdict, what failed and
how it was fixed, and a short "what happened" summary.

Over 600 lines because it is the single derivation both reports share; the renderers
(``page.py``, ``markdown.py``) hold no facts of their own.
"""

from __future__ import annotations

import difflib
import json
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mle_star import journal
from mle_star.state import Attempt
from mle_star.tools.scoring.metrics import Metric

# The lines the ablation and ensembler prompts ask every model to print (prompts/roles.py)
ABLATION_LINE = re.compile(r"^Ablation \| (?P<variant>.+?) \| (?P<score>\S+)\s*$", re.M)
WEIGHTS_LINE = re.compile(r"^weights:\s*(?P<weights>.+)$", re.M)
MEMBER_LINE = re.compile(r"^member (?P<i>\d+): (?P<score>\S+)\s*$", re.M)
BLOCK_LABEL = re.compile(r"^#\s*mle-star block:\s*(?P<label>[\w-]+)")
TAIL_CHARS = 4000  # of stdout / stderr shown per script (the record keeps more)
MAX_DIFF_LINES = 400
MAX_FILES = 60
# Kinds whose parent is an earlier version of the same script: their diff says what changed.
DIFFED_KINDS = {"merge", "data_usage", "refinement"}


def fmt(score: object, digits: int = 6) -> str:
    """A score for people: 6 significant digits, or "—" when there is none."""
    if isinstance(score, bool) or not isinstance(score, int | float) or math.isnan(score):
        return "—"
    return f"{score:.{digits}g}"


def better(new: float | None, old: float | None, lower: bool) -> bool:
    return Metric.direction(not lower).better(new, old)


def same(a: float | None, b: float | None) -> bool:
    return a is not None and b is not None and math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12)


def last_line(text: str) -> str:
    """The line of an error a person reads first: the last non-empty one (the exception)."""
    lines = [line.strip() for line in str(text).strip().splitlines() if line.strip()]
    return lines[-1] if lines else ""


def block_label(block: str) -> str:
    """A short name for a code block: its mle-star marker, else its first line."""
    first = next((line.strip() for line in block.splitlines() if line.strip()), "")
    found = BLOCK_LABEL.match(first)
    if found:
        return f"the {found['label']} block"
    return f"the block starting `{first[:60]}{'…' if len(first) > 60 else ''}`" if first else "no block"


class Ref(str):
    """A script name inside a summary sentence: rendered as a link (HTML) or as code (Markdown)."""


class Label(str):
    """The lead-in of a summary item, rendered bold."""


LONG_FLOAT = re.compile(r"-?\d+\.\d{7,}(?:e-?\d+)?")


def tidy(text: str) -> str:
    """Stage details print raw floats (0.9703896103896104); people read 6 significant digits."""
    return LONG_FLOAT.sub(lambda m: fmt(float(m.group())), str(text))


def plan_text(plan: str) -> str:
    """A plan inside a sentence: whole, without its own final full stop."""
    return str(plan).strip().rstrip(".")


Sentence = list[str]  # plain text and Ref parts


@dataclass
class Script:
    """One executed (or attempted) script: its journal entry plus what its record holds."""

    entry: Attempt  # as run.json holds it (without its code, which the record folder keeps)
    record: Path | None  # the trusted record folder, if it exists
    files: list[str]  # every file of the record, relative to the run folder
    code: str
    stdout: str  # tails
    stderr: str
    children: list[str] = field(default_factory=list)
    fixed_by: str | None = None  # the debug attempt that re-ran this failed script
    notes: list[str] = field(default_factory=list)  # its part in the search ("accepted at t=0", ...)
    diff: str = ""  # unified diff from its parent, for debug rounds and in-place edits

    @property
    def name(self) -> str:
        return str(self.entry["name"])

    @property
    def kind(self) -> str:
        return str(self.entry["kind"])

    @property
    def label(self) -> str:
        """Kind for people: "debug 2 of refinement" rather than just "refinement"."""
        kind = self.kind.replace("_", " ")
        return f"debug {self.entry['debug_round']} ({kind})" if self.entry.get("debug_round") else kind

    @property
    def ok(self) -> bool:
        return bool(self.entry.get("ok"))

    @property
    def score(self) -> float | None:
        score = self.entry.get("score")
        return score if self.ok and isinstance(score, int | float) else None

    @property
    def status(self) -> str:
        """ok, failed, untrusted or not run (an unusable reply or a skipped plan never ran)."""
        if self.entry.get("untrusted"):
            return "untrusted"
        if self.ok:
            return "ok"
        return "failed" if self.entry.get("workdir") else "not run"


@dataclass
class AblationRow:
    variant: str
    score: float | None
    delta: float | None  # variant - baseline


@dataclass
class Ablation:
    script: str
    rows: list[AblationRow]
    baseline: float | None
    biggest: AblationRow | None  # the variant whose change hurt the score most
    summary: str  # the ablation summarizer's text


@dataclass
class OuterStep:
    path: int
    t: int
    ablation: Ablation | None
    block: str  # the extractor's target block
    plan: str  # the extractor's first plan: why this block
    attempts: list[str]  # first attempt of each inner step (k), in order
    outcome: str  # the accept_refinement stage's detail
    accepted: str | None  # the refinement that became s_{t+1}, if any


@dataclass
class EnsembleRound:
    r: int
    plan: str
    first: str  # the round's first script
    last: str  # the end of its debug chain
    score: float | None
    weights: str  # as the script printed them, or ""


@dataclass
class Story:
    record: dict[str, Any]
    run_dir: Path
    lower: bool
    scripts: dict[str, Script]  # journal order
    roots: list[str]
    steps: list[OuterStep]
    members: list[str]  # each path's final solution
    rounds: list[EnsembleRound]
    ensemble_verdict: str
    identical_paths: str  # "" or what the paths ended with alike
    failures: list[Sentence]
    summary: list[Sentence]
    estimated_models: set[str]

    def ref(self, name: str | None) -> Ref | str:
        return Ref(name) if name and name in self.scripts else (name or "—")

    def chain_end(self, name: str) -> Script:
        """The last debug attempt of ``name`` (itself when it was never debugged)."""
        script = self.scripts[name]
        seen = {name}
        while script.fixed_by and script.fixed_by not in seen:
            seen.add(script.fixed_by)
            script = self.scripts[script.fixed_by]
        return script

    def rel(self, path: str | Path) -> str:
        """A path relative to the run folder, so links work wherever the folder is opened."""
        return Path(os.path.relpath(path, self.run_dir)).as_posix()


def estimated_models(record: dict) -> set[str]:
    """Models whose token counts are estimates: the offline engineer counts characters / 4
    (it marks its replies ``estimated_usage``; the record keeps ``estimated_calls``)."""
    by_model = record.get("usage", {}).get("by_model", {})
    return {m for m, u in by_model.items() if m == "offline" or u.get("estimated_calls") or u.get("estimated")}


def _read_tail(path: Path, chars: int = TAIL_CHARS) -> str:
    if not path.is_file():
        return ""
    with path.open("rb") as f:
        size = f.seek(0, os.SEEK_END)
        f.seek(max(0, size - chars * 4))
        text = f.read().decode("utf-8", errors="replace")
    return text[-chars:] if len(text) > chars else text


def _record_dir(run_dir: Path, entry: Attempt) -> Path | None:
    """Where the script's trusted record is: under the run folder (also after the folder moved)."""
    own = run_dir / "scripts" / entry["name"]
    if own.is_dir():
        return own
    workdir = Path(entry.get("workdir") or "")
    return workdir if entry.get("workdir") and workdir.is_dir() else None


def _load_script(run_dir: Path, entry: Attempt) -> Script:
    record = _record_dir(run_dir, entry)
    files: list[str] = []
    code = stdout = stderr = ""
    if record is not None:
        found = sorted(p for p in record.rglob("*") if p.is_file())
        files = [Path(os.path.relpath(p, run_dir)).as_posix() for p in found[:MAX_FILES]]
        solution = record / "solution.py"
        code = solution.read_text(errors="replace") if solution.is_file() else ""
        stdout = _read_tail(record / "stdout.txt")
        stderr = _read_tail(record / "stderr.txt")
        if not stdout and (record / "result.json").is_file():
            try:
                result = json.loads((record / "result.json").read_text())
                stdout, stderr = result.get("stdout_tail", ""), stderr or result.get("stderr_tail", "")
            except (json.JSONDecodeError, OSError):
                pass
    return Script(entry=entry, record=record, files=files, code=code, stdout=stdout, stderr=stderr)


def _diff(old: str, new: str, old_name: str, new_name: str) -> str:
    lines = list(difflib.unified_diff(old.splitlines(), new.splitlines(), fromfile=old_name, tofile=new_name,
                                      lineterm="", n=2))
    if len(lines) > MAX_DIFF_LINES:
        lines = lines[:MAX_DIFF_LINES] + [f"... ({len(lines) - MAX_DIFF_LINES} more diff lines)"]
    return "\n".join(lines)


def parse_ablation(stdout: str, lower: bool) -> tuple[list[AblationRow], float | None, AblationRow | None]:
    """The ablation script's table: ``Ablation | <variant> | <score>`` lines, against the baseline."""
    raw: list[tuple[str, float | None]] = []
    for found in ABLATION_LINE.finditer(stdout):
        try:
            value: float | None = float(found["score"])
        except ValueError:
            value = None
        raw.append((found["variant"].strip(), value))
    baseline = next((s for v, s in raw if v.lower() == "baseline"), raw[0][1] if raw else None)
    rows = [AblationRow(v, s, s - baseline if s is not None and baseline is not None else None) for v, s in raw]
    changes = [r for r in rows if r.variant.lower() != "baseline" and r.delta is not None]
    # the component that matters most: the variant that changes the score most for the worse
    # (if none is worse, the one that changes it most at all)
    worse = [r for r in changes if (r.delta or 0) > 0] if lower else [r for r in changes if (r.delta or 0) < 0]
    pool = worse or changes
    biggest = max(pool, key=lambda r: abs(r.delta or 0)) if pool else None
    return rows, baseline, biggest if biggest is not None and biggest.delta else None


def _stages(record: dict, path: int | None = None, node: str | None = None) -> list[dict]:
    return [s for s in record.get("stages", []) if (path is None or s.get("path") == path)
            and (node is None or s["node"] == node)]


def _outer_steps(story_scripts: dict[str, Script], record: dict, lower: bool) -> list[OuterStep]:
    """Each path's outer steps, read from its stages in order (ablation opens a step)."""
    steps: list[OuterStep] = []
    paths = sorted({s["path"] for s in record.get("stages", []) if s.get("path") is not None})
    for path in paths:
        current: OuterStep | None = None
        for stage in sorted(_stages(record, path), key=lambda s: s["start"]):
            node = stage["node"]
            if node == "ablation":
                t = stage["t"] if isinstance(stage.get("t"), int) else len([s for s in steps if s.path == path])
                ablation = None
                for name in stage.get("scripts", []):
                    script = story_scripts.get(name)
                    if script is not None and script.kind == "ablation" and not script.entry.get("debug_round"):
                        end = script
                        while end.fixed_by and end.fixed_by in story_scripts:
                            end = story_scripts[end.fixed_by]
                        rows, baseline, biggest = parse_ablation(end.stdout, lower)
                        ablation = Ablation(end.name, rows, baseline, biggest, "")
                current = OuterStep(path, t, ablation, "", "", [], "", None)
                steps.append(current)
            elif current is None:
                continue
            elif node == "ablation_summarizer" and current.ablation is not None:
                current.ablation.summary = str(stage.get("detail", ""))
            elif node == "ablation_summarizer":
                current.ablation = Ablation("", [], None, None, str(stage.get("detail", "")))
            elif node == "extractor":
                current.block, current.plan = str(stage.get("code_block", "")), str(stage.get("detail", ""))
            elif node == "accept_refinement":
                current.outcome = str(stage.get("detail", ""))
                current.accepted = stage.get("to") or None
        for step in (s for s in steps if s.path == path):
            step.attempts = [n for n, s in story_scripts.items() if s.kind == "refinement" and s.entry["path_id"] == path
                             and s.entry["t"] == step.t and not s.entry["debug_round"]]
    return steps


def read_story(record: dict, run_dir: str | Path) -> Story:
    """Everything both reports say, from run.json and the record folders under ``run_dir``."""
    run_dir = Path(run_dir)
    lower = bool(record.get("lower_is_better"))
    scripts: dict[str, Script] = {}
    for entry in map(journal.from_record, record.get("journal", [])):  # an older run.json: defaults fill gaps
        scripts[entry["name"]] = _load_script(run_dir, entry)
    roots: list[str] = []
    for name, script in scripts.items():
        parent = script.entry.get("parent")
        if parent in scripts and parent != name:
            scripts[parent].children.append(name)
            if script.entry.get("debug_round"):
                scripts[parent].fixed_by = name
        else:
            roots.append(name)
    for script in scripts.values():
        source = scripts.get(script.entry.get("parent") or "")
        if source is not None and source.code and script.code and (
                script.entry.get("debug_round") or script.kind in DIFFED_KINDS):
            script.diff = _diff(source.code, script.code, source.name, script.name)
    _annotate(scripts, record)
    steps = _outer_steps(scripts, record, lower)
    members = [p["name"] for p in record.get("paths", []) if p.get("name") in scripts]
    story = Story(record=record, run_dir=run_dir, lower=lower, scripts=scripts, roots=roots, steps=steps,
                  members=members, rounds=[], ensemble_verdict="", identical_paths="", failures=[], summary=[],
                  estimated_models=estimated_models(record))
    story.rounds = _rounds(story)
    story.identical_paths = _identical_paths(story)
    story.ensemble_verdict = _ensemble_verdict(story)
    story.failures = _failures(story)
    story.summary = _summary(story)
    return story


def _annotate(scripts: dict[str, Script], record: dict) -> None:
    """Notes on a script's part in the search, from the stages that decided about it."""
    for stage in record.get("stages", []):
        node, detail = stage["node"], str(stage.get("detail", ""))
        if node == "rank_candidates" and detail.startswith("s0 = "):
            name = detail[5:].split(" ", 1)[0]
            if name in scripts:
                scripts[name].notes.append(f"chosen as s0 (the best candidate) of path {stage['path']}")
        elif node in ("merger", "data_usage_checker") and stage.get("scripts") and stage["scripts"][-1] in scripts:
            scripts[stage["scripts"][-1]].notes.append(detail)
        elif node == "accept_refinement" and stage.get("to") in scripts:
            scripts[stage["to"]].notes.append(f"accepted as the new solution of path {stage['path']} "
                                              f"({detail})")
    for p in record.get("paths", []):
        if p.get("name") in scripts:
            scripts[p["name"]].notes.append(f"final solution of path {p['path_id']}")
    if record.get("best_solution") in scripts:
        scripts[record["best_solution"]].notes.append("the submission was built from this script")


def _rounds(story: Story) -> list[EnsembleRound]:
    rounds: list[EnsembleRound] = []
    for name, script in story.scripts.items():
        if script.kind != "ensemble" or script.entry.get("debug_round"):
            continue
        end = story.chain_end(name)
        r = script.entry["round"]
        weights = WEIGHTS_LINE.search(end.stdout)
        rounds.append(EnsembleRound(len(rounds) if r is None else r, str(script.entry.get("plan", "")),
                                    name, end.name, end.score, weights["weights"].strip() if weights else ""))
    return rounds


def _best_single(story: Story) -> Script | None:
    best = None
    for name in story.members:
        script = story.scripts[name]
        if script.score is not None and (best is None or better(script.score, best.score, story.lower)):
            best = script
    return best


def _identical_paths(story: Story) -> str:
    finals = [story.scripts[n] for n in story.members]
    if len(finals) < 2:
        return ""
    if all(f.code and f.code == finals[0].code for f in finals):
        return (f"every path ended with the same script ({', '.join(f.name for f in finals)} are identical code, "
                f"score {fmt(finals[0].score)}), so ensembling them cannot add anything")
    if all(same(f.score, finals[0].score) for f in finals):
        return f"every path ended with the same score ({fmt(finals[0].score)}) from different code"
    return ""


def _ensemble_verdict(story: Story) -> str:
    if not story.rounds:
        return "no ensemble round ran"
    best = _best_single(story)
    ran = [r for r in story.rounds if r.score is not None]
    failed = len(story.rounds) - len(ran)
    failed_note = f"; {failed} round(s) never produced a score" if failed else ""
    if not ran:
        return f"no ensemble round produced a score{failed_note}"
    top = ran[0]
    for r in ran[1:]:
        if better(r.score, top.score, story.lower):
            top = r
    if best is None or better(top.score, best.score, story.lower):
        return (f"round {top.r} scored {fmt(top.score)}, better than the best single solution "
                f"({fmt(best.score) if best else 'none'}), so the ensemble was the submission's candidate{failed_note}")
    if all(same(r.score, best.score) for r in ran):
        return (f"no round beat the best single solution: every round that ran tied it at {fmt(best.score)}"
                f"{failed_note}")
    return (f"no round beat the best single solution {best.name} ({fmt(best.score)}); the best round scored "
            f"{fmt(top.score)}{failed_note}")


def _failures(story: Story) -> list[Sentence]:
    """What went wrong, and what the agent did about it, one sentence each."""
    out: list[Sentence] = []
    for name, script in story.scripts.items():
        entry = script.entry
        if entry.get("debug_round") and not script.ok and script.fixed_by:
            continue  # told as part of the chain it belongs to
        if script.status in ("failed", "not run", "untrusted") and not entry.get("debug_round"):
            end = story.chain_end(name)
            rounds = end.entry.get("debug_round", 0)
            why = last_line(entry.get("error", "")).removeprefix("untrusted: ") or "no reason recorded"
            limit = f" (hit the {entry['limit_hit']} limit)" if entry.get("limit_hit") else ""
            what = {"untrusted": " was untrusted", "not run": " never ran"}.get(script.status, " failed")
            if end is script:
                fix = "; never accepted" if script.status == "untrusted" else "; not debugged" if \
                    script.status == "failed" and not rounds else ""
                out.append([Ref(name), f"{what}{limit}: {why}{fix}."])
            elif end.ok:
                out.append([Ref(name), f"{what}{limit}: {why}; fixed after {rounds} debug round(s) by ", Ref(end.name),
                            f" ({_changed(story, name, end.name)}; score {fmt(end.score)})."])
            else:
                out.append([Ref(name), f"{what}{limit}: {why}; {rounds} debug round(s) did not fix it (last: ",
                            Ref(end.name), f": {last_line(end.entry.get('error', ''))})."])
        elif entry.get("limit_hit") and script.ok:
            out.append([Ref(name), f" hit the {entry['limit_hit']} limit."])
        for finding in entry.get("leakage", []):
            if finding.get("status", "").lower().startswith("no data leakage") or finding.get("name") != name:
                continue
            if finding.get("fixed"):
                checked = "the checker agrees the fix is clean" if finding.get("verified") else \
                    "the checker still objects"
                out.append(["leakage found in ", Ref(name), f" and fixed before it ran ({checked})."])
            else:
                out.append(["leakage found in ", Ref(name), f", not fixed: {finding.get('error', 'no fix')}."])
    return out


def _changed(story: Story, first: str, last: str) -> str:
    """How much the debugger changed between the failed script and its fix, in lines."""
    old, new = story.scripts[first].code, story.scripts[last].code
    if not old or not new:
        return "code not recorded"
    added = removed = 0
    for line in difflib.unified_diff(old.splitlines(), new.splitlines(), lineterm="", n=0):
        if line.startswith("+") and not line.startswith("+++"):
            added += 1
        elif line.startswith("-") and not line.startswith("---"):
            removed += 1
    return f"+{added}/-{removed} lines"


def _candidates_sentence(story: Story) -> Sentence:
    """Which models were tried, with their scores, merged across paths when they agree."""
    by_plan: dict[str, list[Script]] = {}
    for script in story.scripts.values():
        if script.kind == "candidate" and not script.entry.get("debug_round"):
            by_plan.setdefault(str(script.entry.get("plan", "")) or script.name, []).append(script)
    if not by_plan:
        return ["No candidate model ran."]
    parts: Sentence = [Label("Models tried: ")]
    for i, (plan, tries) in enumerate(by_plan.items()):
        outcomes = []
        for first in tries:
            end = story.chain_end(first.name)
            outcomes.append((first.entry.get("path_id"), fmt(end.score) if end.ok else "failed"))
        values = {o for _, o in outcomes}
        where = ", ".join(str(p) for p, _ in outcomes)
        shown = (f"{values.pop()} on path{'s' if len(outcomes) > 1 else ''} {where}" if len(values) == 1 else
                 "; ".join(f"path {p}: {o}" for p, o in outcomes))
        parts.append(f"{'; ' if i else ''}{plan} ({shown})")
    parts.append(".")
    return parts


def _step_sentence(story: Story, step: OuterStep) -> Sentence:
    parts: Sentence = [Label(f"Path {step.path}, outer step t={step.t}: ")]
    ab = step.ablation
    if ab and ab.rows:
        parts += ["the ablation ", Ref(ab.script) if ab.script else "",
                  f" (baseline {fmt(ab.baseline)}, scored by the script itself)"]
        if ab.biggest and ab.biggest.delta is not None:
            parts.append(f" found '{ab.biggest.variant}' changes the score most ({ab.biggest.delta:+.6g})")
        elif len(ab.rows) > 1:
            parts.append(" found that no variant changes the score")
        parts.append("; ")
    elif ab:
        parts.append("the ablation printed no table; ")
    if step.block:
        parts.append(f"the extractor targeted {block_label(step.block)}, planning: {plan_text(step.plan)}")
    else:
        parts.append(f"no block was targeted ({plan_text(step.plan) or 'no extractor reply'})")
    tried = []
    for name in step.attempts:
        end = story.chain_end(name)
        tried.append(fmt(end.score) if end.ok else end.status)
    if tried:
        parts.append(f". {len(tried)} attempt(s) scored {', '.join(tried)}")
    if step.accepted:
        parts += [" → accepted ", Ref(step.accepted)]
    elif step.outcome:
        parts.append(f" → {tidy(step.outcome.split(': ', 1)[-1])}")
    parts.append(".")
    return parts


def _submission_sentence(story: Story) -> Sentence:
    record = story.record
    source = record.get("best_solution")
    if not record.get("submission_path"):
        return [Label("Submission: "), f"none was written: {record.get('error') or 'no solution ran successfully'}."]
    if record.get("unsolved"):
        return [Label("Submission (unsolved): "), f"{record['unsolved']}."]
    parts: Sentence = [Label("Submission: "), "built from ", story.ref(source),
                       f" (validation {fmt(record.get('best_score'))})"]
    script = story.scripts.get(source or "")
    if script is not None and script.kind == "ensemble":
        parts.append(": its ensemble beat every single solution")
    elif script is not None and script.kind == "fallback":
        parts.append(f": {record.get('fallback') or 'the offline engineer wrote it as a fallback'}")
    elif script is not None:
        tied = [n for n in story.members if n != source and same(story.scripts[n].score, script.score)]
        parts.append(": the best single solution")
        if tied:
            parts += [" (tied with ", *_join_refs(tied), "; the first in path order was taken)"]
        if story.rounds and not any(better(r.score, script.score, story.lower) for r in story.rounds):
            parts.append(", and no ensemble round beat it")
    final = next((s for s in story.scripts.values() if s.kind == "submission" and s.ok), None)
    if final is not None:
        source_note = ("self-reported: every labelled row was used for training, so none is left to check it"
                       if final.entry.get("score_source") == "self_reported" else final.entry.get("score_source"))
        parts += [". Its final script ", Ref(final.name), f" retrained it on every labelled row and printed "
                  f"{fmt(final.entry.get('printed_score'))} ({source_note})"]
    parts.append(".")
    return parts


def _join_refs(names: list[str]) -> Sentence:
    out: Sentence = []
    for i, name in enumerate(names):
        out += ([", "] if i else []) + [Ref(name)]
    return out


def _per_path(story: Story, node: str) -> str:
    """One stage's detail on every path, said once when the paths agree."""
    details = {s["path"]: tidy(s.get("detail", "")) for s in _stages(story.record, node=node)}
    if not details:
        return ""
    if len(set(details.values())) == 1 and len(details) > 1:
        return f"every path: {next(iter(details.values()))}."
    return "; ".join(f"path {p}: {d}" for p, d in details.items()) + "."


MAX_SUMMARY_FAILURES = 6


def _summary(story: Story) -> list[Sentence]:
    record = story.record
    out: list[Sentence] = [_candidates_sentence(story)]
    starts: Sentence = [Label("Starting points: ")]
    for stage in _stages(record, node="rank_candidates"):
        detail = str(stage.get("detail", ""))
        if detail.startswith("s0 = "):
            name = detail[5:].split(" ", 1)[0]
            starts += ["; " if len(starts) > 1 else "", f"path {stage['path']} from its best candidate ",
                       story.ref(name), f" ({fmt(stage.get('score'))})"]
    if len(starts) > 1:
        out.append([*starts, "."])
    for label, node in (("Merging: ", "merger"), ("Data usage: ", "data_usage_checker")):
        said = _per_path(story, node)
        if said:
            out.append([Label(label), said])
    out += [_step_sentence(story, step) for step in story.steps]
    if story.failures:
        shown = story.failures[:MAX_SUMMARY_FAILURES]
        item: Sentence = [Label(f"What failed ({len(story.failures)}): ")]
        for i, failure in enumerate(shown):
            item += ([" "] if i else []) + failure
        if len(story.failures) > len(shown):
            item.append(f" … and {len(story.failures) - len(shown)} more under What failed.")
        out.append(item)
    else:
        out.append([Label("What failed: "), "nothing: every script ran on its first try and no leakage was found."])
    if story.identical_paths:
        out.append([Label("Paths: "), story.identical_paths + "."])
    if story.rounds:
        out.append([Label(f"Ensemble ({len(story.rounds)} round(s)): "), story.ensemble_verdict + "."])
    out.append(_submission_sentence(story))
    if story.estimated_models:
        out.append([Label("Tokens: "), f"the counts of {', '.join(sorted(story.estimated_models))} are estimated "
                    "(characters / 4), not counted by a tokenizer."])
    return out
