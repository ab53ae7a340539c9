"""Human in the loop (``--review plans``): pause the run before a refinement plan is applied
and before the submission, and let a person accept, edit or skip."""

from __future__ import annotations

from mle_star.config import Context


def review(ctx: Context, request: dict) -> dict:
    """Pause the run with ``request`` when reviewing; return the decision.

    The person answers {"action": "accept"}, {"action": "edit", ...} or {"action": "skip"};
    without review (or with an unreadable answer) the decision is "accept".
    """
    if ctx.review != "plans":
        return {"action": "accept"}
    from langgraph.types import interrupt

    decision = interrupt(request)
    if isinstance(decision, str):
        decision = {"action": decision}
    if not isinstance(decision, dict) or decision.get("action") not in ("accept", "edit", "skip"):
        return {"action": "accept"}
    return decision
