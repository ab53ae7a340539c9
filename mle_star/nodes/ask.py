"""Asking a role: prompt -> model -> parse -> (re-ask with the reason) -> typed result.

The same path for every model: Gemini, an OpenAI-compatible server, a test double or the
offline engineer. The request carries the role's typed inputs as its structured payload, so
the offline engineer answers from exactly what the prompt was rendered from. JSON roles use
the provider's structured output when it has one; the text parser is the fallback.
"""

from __future__ import annotations

import json
import time
from typing import Any, TypeVar

from langchain_core.exceptions import OutputParserException
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from pydantic import BaseModel, ValidationError

from mle_star.config import Context
from mle_star.models import chat_model, invoke, model_id
from mle_star.prompts import PAYLOAD_KEY, REASK, SYSTEM, Role, RoleInputs, Settings
from mle_star.telemetry import Recorder
from mle_star.tools.model.code import ReplyError
from mle_star.tools.model.reply_cache import open_cache

In = TypeVar("In", bound=RoleInputs)
Out = TypeVar("Out")


def settings(ctx: Context, path_id: int | None = None) -> Settings:
    """The run settings a role's inputs carry."""
    return Settings(seed=ctx.seed, subsample=ctx.subsample_rows, script_timeout=ctx.script_timeout, path_id=path_id,
                    paths=ctx.parallel_solutions)


def reply_text(reply: BaseMessage) -> str:
    content = reply.content
    if isinstance(content, list):  # Gemini and others may return content parts
        return "".join(p.get("text", "") if isinstance(p, dict) else str(p) for p in content)
    return str(content)


def _structured(model: BaseChatModel, role: Role) -> Any:
    """The model bound to the role's reply schema, or None where the provider cannot do it."""
    if role.schema is None:
        return None
    try:
        return model.with_structured_output(role.schema, include_raw=True)
    except (NotImplementedError, ValueError, TypeError):
        return None


def _structured_call(structured: Any, messages: list[BaseMessage]) -> dict:
    """A structured-output call; a reply the provider's parser rejects is data, not a fault."""
    try:
        return structured.invoke(messages)
    except (ValidationError, OutputParserException, json.JSONDecodeError) as exc:
        return {"unparsable": str(exc).strip().splitlines()[0][:300]}


def _call(ctx: Context, rec: Recorder, role: Role, model: BaseChatModel, structured: Any,
          messages: list[BaseMessage], name: str) -> tuple[str, Any]:
    """One model call: (reply text, the parsed schema object or None)."""
    on_retry = lambda exc: rec.count("model_retries")  # noqa: E731
    started = time.monotonic()
    try:
        return _reply(ctx, rec, role, model, structured, messages, name, on_retry)
    finally:
        rec.spent("model_calls", time.monotonic() - started)


def _reply(ctx: Context, rec: Recorder, role: Role, model: BaseChatModel, structured: Any,
           messages: list[BaseMessage], name: str, on_retry: Any) -> tuple[str, Any]:
    if structured is None:
        reply = invoke(ctx, lambda: model.invoke(messages), on_retry)
        rec.model_call(role.name, reply, name)
        return reply_text(reply), None
    out = invoke(ctx, lambda: _structured_call(structured, messages), on_retry)
    if "unparsable" in out:  # the provider's own parser rejected the reply: a bad reply, re-asked
        rec.model_call(role.name, AIMessage(""), name)
        return f"(the reply did not match the schema: {out['unparsable']})", None
    rec.model_call(role.name, out["raw"], name)
    parsed = out.get("parsed")
    if isinstance(parsed, BaseModel):
        rec.count("structured_replies")
        return json.dumps(parsed.model_dump()), parsed
    raw = out["raw"]
    calls = getattr(raw, "tool_calls", None) or []
    text = json.dumps(calls[0]["args"]) if calls else reply_text(raw)
    return text, None


def ask(ctx: Context, rec: Recorder, role: Role[In, Out], inputs: In) -> Out:
    """Ask ``role``'s model; parse the reply; re-ask (bounded) with the parse error if unusable.

    Raises ReplyError when no reply could be used, ModelUnavailable / ModelRefused when the
    model itself failed (those are not bad replies: the run stops and can be resumed).
    """
    model = chat_model(ctx, role.name)
    name = model_id(ctx, role.name)
    payload = role.payload(inputs)
    messages: list[BaseMessage] = [SystemMessage(SYSTEM),
                                   HumanMessage(role.prompt(inputs), additional_kwargs={PAYLOAD_KEY: payload})]
    structured = _structured(model, role)
    cache = open_cache(ctx.cache_path) if ctx.cache_path else None
    error: ReplyError | None = None
    for _ in range(ctx.parse_retries + 1):
        key = cache.key(name, role.name, [{"type": m.type, "content": m.content, **m.additional_kwargs}
                                          for m in messages]) if cache else ""
        text = cache.get(key) if cache else None
        parsed: Any = None
        if text is not None:
            rec.count("cached_model_calls")
        else:
            text, parsed = _call(ctx, rec, role, model, structured, messages, name)
            if cache:
                cache.put(key, text)
        try:
            if parsed is not None and role.accept is not None:
                return role.accept(parsed, inputs)
            return role.parse(text, inputs)
        except ReplyError as exc:
            error = exc
            rec.count("reasks")
            messages += [AIMessage(text),
                         HumanMessage(REASK.format(error=exc), additional_kwargs={PAYLOAD_KEY: payload | {"reask": str(exc)}})]
    raise ReplyError(f"{role.name}: {error}")
