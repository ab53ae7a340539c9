"""Ablation (step 5, outer loop): the ablation coder writes a study of 2-3 parts of s_t,
it is run, and the summarizer turns its output into a short summary for the extractor."""

from __future__ import annotations

from langgraph.runtime import Runtime

from mle_star import prompts
from mle_star.config import Context
from mle_star.nodes.common import Recorder, ask, public_task, task_prompt_fields
from mle_star.nodes.run_debug import run_checked
from mle_star.state import PathState
from mle_star.tools.code import ReplyError, extract_code, nonempty
from mle_star.tools.runner import bounded


def ablation_coder(state: PathState, runtime: Runtime[Context]) -> dict:
    ctx, task, best = runtime.context, state["task"], state["best"]
    t = state.get("outer_step", 0)
    rec = Recorder("ablation", state["path_id"])
    summaries = state.get("ablation_summaries", [])
    prompt = prompts.ABLATION.format(code=best["code"], score=best["score"],
                                     previous="\n\n".join(summaries) or "(none)", **task_prompt_fields(task, ctx))
    try:
        code = ask(ctx, rec, "ablation", prompt,
                   {"task": public_task(task), "code": best["code"], "previous_summaries": summaries,
                    "refined_blocks": state.get("refined_blocks", [])}, extract_code)
    except ReplyError as exc:
        return rec.update(detail=f"reply unusable: {exc}", ablation_output="", ablation_code="")
    result = run_checked(ctx, rec, state, code, f"path{state['path_id']}/t{t}_ablation", kind="ablation")
    rec.count("ablations")
    output = _stdout(result["workdir"]) if result["workdir"] else ""
    if not result["ok"]:
        output += "\n" + result["error"]
    return rec.update(score=result["score"], detail=f"outer step {t}", ablation_output=bounded(output, 4000),
                      ablation_code=result["code"])


def _stdout(workdir: str) -> str:
    from pathlib import Path

    path = Path(workdir) / "stdout.txt"
    return path.read_text(errors="replace") if path.exists() else ""


def ablation_summarizer(state: PathState, runtime: Runtime[Context]) -> dict:
    ctx, task = runtime.context, state["task"]
    rec = Recorder("ablation_summarizer", state["path_id"])
    output = state.get("ablation_output", "")
    prompt = prompts.ABLATION_SUMMARY.format(code=bounded(state.get("ablation_code", ""), 6000), output=output)
    try:
        summary = ask(ctx, rec, "ablation_summarizer", prompt, {"task": public_task(task), "output": output},
                      nonempty).strip()
    except ReplyError:
        summary = "The ablation study produced no usable summary."
    return rec.update(detail=summary.splitlines()[0] if summary else "",
                      ablation_summaries=[*state.get("ablation_summaries", []), summary])

