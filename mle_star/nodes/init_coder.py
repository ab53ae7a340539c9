"""Initial coder (step 2): one complete solution script per candidate model, run and scored.
Fanned out with ``Send`` so the M candidates run concurrently (bounded by the runner)."""

from __future__ import annotations

from langgraph.runtime import Runtime

from mle_star import prompts
from mle_star.config import Context
from mle_star.nodes.common import Recorder, ask, public_task, task_prompt_fields
from mle_star.nodes.run_debug import run_checked
from mle_star.state import CandidateInput, Solution
from mle_star.tools.code import ReplyError, extract_code


def init_coder(state: CandidateInput, runtime: Runtime[Context]) -> dict:
    ctx, task, cand = runtime.context, state["task"], state["candidate"]
    rec = Recorder("init_coder", state["path_id"])
    name = f"path{state['path_id']}/init_{state['index']}"
    prompt = prompts.INIT_CODER.format(model_name=cand["model_name"], example_code=cand["example_code"],
                                       **task_prompt_fields(task, ctx))
    try:
        code = ask(ctx, rec, "init_coder", prompt, {"task": public_task(task), "candidate": cand}, extract_code)
        solution = run_checked(ctx, rec, state, code, name)
    except ReplyError as exc:
        solution = Solution(name=name, code="", score=None, ok=False, workdir="", duration=0.0, error=str(exc))
    solution["model_name"] = cand["model_name"]  # type: ignore[typeddict-unknown-key]
    return rec.update(score=solution["score"], detail=f"{cand['model_name']}", initial=[solution])
