"""Which chat model answers which role, and calling it robustly.

``--model auto`` (the default) means Gemini (the paper's model) through langchain-google-genai
when GOOGLE_API_KEY is set, and the offline engineer otherwise. Any ``init_chat_model`` id
works (``openai:gpt-4o`` with OPENAI_BASE_URL for vLLM / llama.cpp / Ollama servers, ...);
``role_models`` overrides the model for single roles (a cheaper one for summaries and
checks). Generating and planning roles sample at temperature 1, checking and summarising
roles at 0. Transient failures (429, 5xx, timeouts, dropped connections) are retried with
exponential backoff, each retry counted.
"""

from __future__ import annotations

import os
import time
from functools import lru_cache

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage

from mle_star.config import Context
from mle_star.engineer.model import OfflineEngineer
from mle_star.tools.code import ReplyError

GEMINI = "google_genai:gemini-2.5-pro"
OFFLINE = "offline"
CHECKING_ROLES = {"ablation_summarizer", "leakage_checker", "leakage_fixer", "data_usage_checker", "extractor",
                  "debugger", "submission"}
TRANSIENT_STATUS = {408, 409, 425, 429, 500, 502, 503, 504, 529}
TRANSIENT_NAMES = ("timeout", "ratelimit", "connection", "unavailable", "internalserver", "resourceexhausted",
                   "deadlineexceeded", "overloaded", "apierror")


class ModelUnavailable(ReplyError):
    """The model failed for good (auth, bad request, retries exhausted)."""


def role_temperature(role: str) -> float:
    return 0.0 if role in CHECKING_ROLES else 1.0


def parse_role_models(spec: str) -> dict[str, str]:
    """'role=id,role=id' -> {role: id}."""
    pairs = [p.strip() for p in spec.split(",") if p.strip()]
    out = {}
    for pair in pairs:
        role, sep, model = pair.partition("=")
        if not sep or not role.strip() or not model.strip():
            raise ValueError(f"role model '{pair}' is not ROLE=MODEL_ID")
        out[role.strip()] = model.strip()
    return out


def model_id(ctx: Context, role: str) -> str:
    """The model id that answers ``role`` under ``ctx``."""
    chosen = parse_role_models(ctx.role_models).get(role) or ctx.model or "auto"
    if chosen == "auto":
        return GEMINI if os.environ.get("GOOGLE_API_KEY") or os.environ.get("GEMINI_API_KEY") else OFFLINE
    return chosen


@lru_cache(maxsize=8)
def rate_limiter(requests_per_second: float):
    """One limiter per rate, shared by every role's model so the provider sees the total."""
    from langchain_core.rate_limiters import InMemoryRateLimiter

    return InMemoryRateLimiter(requests_per_second=requests_per_second, max_bucket_size=1)


@lru_cache(maxsize=64)
def build_model(model: str, temperature: float, timeout: float, requests_per_second: float = 0.0) -> BaseChatModel:
    """A chat model from its id; our own retry loop replaces the client's."""
    if model == OFFLINE:
        return OfflineEngineer()
    from langchain.chat_models import init_chat_model

    limit = {"rate_limiter": rate_limiter(requests_per_second)} if requests_per_second > 0 else {}
    try:
        return init_chat_model(model, temperature=temperature, timeout=timeout, max_retries=0, **limit)
    except (TypeError, ValueError):  # providers without those settings
        return init_chat_model(model, temperature=temperature, **limit)


def chat_model(ctx: Context, role: str) -> BaseChatModel:
    if ctx.llm is not None:
        return ctx.llm
    return build_model(model_id(ctx, role), role_temperature(role), ctx.model_timeout, ctx.requests_per_second)


def is_transient(exc: BaseException) -> bool:
    status = getattr(exc, "status_code", None) or getattr(getattr(exc, "response", None), "status_code", None)
    if isinstance(status, int):
        return status in TRANSIENT_STATUS
    name = type(exc).__name__.lower()
    return isinstance(exc, TimeoutError | ConnectionError) or any(n in name for n in TRANSIENT_NAMES)


def invoke(ctx: Context, model: BaseChatModel, messages: list[BaseMessage], on_retry) -> BaseMessage:
    """``model.invoke`` with bounded retries and exponential backoff on transient failures."""
    for attempt in range(ctx.model_retries + 1):
        try:
            return model.invoke(messages)
        except Exception as exc:  # noqa: BLE001 - every provider raises its own types
            if not is_transient(exc) or attempt == ctx.model_retries:
                raise ModelUnavailable(f"{type(exc).__name__}: {str(exc)[:300]}") from None
            on_retry(exc)
            time.sleep(min(60.0, ctx.retry_backoff * 2**attempt))
    raise AssertionError("unreachable")
