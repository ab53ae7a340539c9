"""Which chat model answers which role, and calling it robustly.

``--model auto`` (the default) means Gemini (the paper's model) through langchain-google-genai
when GOOGLE_API_KEY is set, and the offline engineer otherwise. Any ``init_chat_model`` id
works (``openai:gpt-4o`` with OPENAI_BASE_URL for vLLM / llama.cpp / Ollama servers, ...);
``role_models`` overrides the model for single roles (a cheaper one for summaries and
checks). A chat model object (a test double, or an embedder's own model) is registered with
``use_model`` and chosen by the id it returns, so the run settings stay plain strings.

Faults are told apart: a bad key, a forbidden or unknown model (401/403/404) is fatal
(``ModelRefused``) and never silently replaced; transient faults (429, 5xx, timeouts, dropped
connections) are retried with jittered exponential backoff that honours ``Retry-After``.
"""

from __future__ import annotations

import importlib
import itertools
import os
import random
import threading
import time
from collections.abc import Callable
from functools import lru_cache

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage

from mle_star.config import Context, parse_role_models
from mle_star.prompts import ROLES

GEMINI = "google_genai:gemini-2.5-pro"
OFFLINE = "offline"
# Model ids served by this project rather than by a LangChain provider package. The graph
# never imports the offline engineer: it is looked up by name like any provider.
PROVIDERS = {OFFLINE: "mle_star.engineer.model:OfflineEngineer"}
LOCAL_PREFIX = "local:"
TRANSIENT_STATUS = {408, 409, 425, 429, 500, 502, 503, 504, 529}
REFUSED_STATUS = {401, 403, 404}
TRANSIENT_NAMES = ("timeout", "ratelimit", "connection", "unavailable", "internalserver", "resourceexhausted",
                   "deadlineexceeded", "overloaded", "apierror")
REFUSED_NAMES = ("authentication", "permissiondenied", "notfound", "unauthenticated", "invalidapikey")

_registered: dict[str, BaseChatModel] = {}
_ids = itertools.count(1)
_lock = threading.Lock()


class ModelUnavailable(RuntimeError):
    """The model failed after every retry (a transient fault that did not go away)."""


class ModelRefused(ModelUnavailable):
    """The provider refused the request for good: bad key, no access, unknown model."""


def use_model(model: BaseChatModel, name: str = "") -> str:
    """Register a chat model object; returns the model id to put in ``Context.model``."""
    with _lock:
        key = f"{LOCAL_PREFIX}{name or type(model).__name__}-{next(_ids)}"
        _registered[key] = model
    return key


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
    if model in _registered:
        return _registered[model]
    if model.startswith(LOCAL_PREFIX):
        raise ValueError(f"model '{model}' was not registered in this process (mle_star.models.use_model)")
    if model in PROVIDERS:
        module, _, cls = PROVIDERS[model].partition(":")
        return getattr(importlib.import_module(module), cls)()
    from langchain.chat_models import init_chat_model

    limit = {"rate_limiter": rate_limiter(requests_per_second)} if requests_per_second > 0 else {}
    try:
        return init_chat_model(model, temperature=temperature, timeout=timeout, max_retries=0, **limit)
    except (TypeError, ValueError):  # providers without those settings
        return init_chat_model(model, temperature=temperature, **limit)


def chat_model(ctx: Context, role: str) -> BaseChatModel:
    return build_model(model_id(ctx, role), ROLES[role].temperature, ctx.model_timeout, ctx.requests_per_second)


def _status(exc: BaseException) -> int | None:
    status = getattr(exc, "status_code", None) or getattr(getattr(exc, "response", None), "status_code", None)
    if status is None:
        status = getattr(exc, "code", None)
    return status if isinstance(status, int) else None


def is_refused(exc: BaseException) -> bool:
    """Auth, permission and unknown-model errors: retrying cannot help."""
    status = _status(exc)
    if status == 400:  # Gemini answers a bad key with 400 INVALID_ARGUMENT "API key not valid"
        return "api key" in str(exc).lower() or "api_key" in str(exc).lower()
    if status is not None:
        return status in REFUSED_STATUS
    name = type(exc).__name__.lower()
    return any(n in name for n in REFUSED_NAMES)


def is_transient(exc: BaseException) -> bool:
    status = _status(exc)
    if status is not None:
        return status in TRANSIENT_STATUS
    name = type(exc).__name__.lower()
    return isinstance(exc, TimeoutError | ConnectionError) or any(n in name for n in TRANSIENT_NAMES)


def retry_after(exc: BaseException) -> float | None:
    """Seconds the provider asked us to wait (the Retry-After header), if it said."""
    headers = getattr(getattr(exc, "response", None), "headers", None) or {}
    try:
        value = headers.get("retry-after") or headers.get("Retry-After")
        return max(0.0, float(value)) if value is not None else None
    except (TypeError, ValueError, AttributeError):
        return None


def backoff(ctx: Context, attempt: int, exc: BaseException) -> float:
    """Full-jitter exponential backoff, but never shorter than the provider's Retry-After."""
    ceiling = min(60.0, ctx.retry_backoff * 2**attempt)
    wait = random.uniform(ceiling / 2, ceiling) if ceiling > 0 else 0.0
    asked = retry_after(exc)
    return max(wait, min(asked, 300.0)) if asked is not None else wait


def describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {str(exc).strip().splitlines()[0][:300] if str(exc).strip() else ''}"


def invoke(ctx: Context, call: Callable[[], BaseMessage | dict], on_retry: Callable[[BaseException], None]):
    """Run one model call with bounded retries on transient faults; fatal faults stop at once."""
    for attempt in range(ctx.model_retries + 1):
        try:
            return call()
        except Exception as exc:  # noqa: BLE001 - every provider raises its own types
            if is_refused(exc):
                raise ModelRefused(describe(exc)) from None
            if not is_transient(exc) or attempt == ctx.model_retries:
                raise ModelUnavailable(describe(exc)) from None
            on_retry(exc)
            time.sleep(backoff(ctx, attempt, exc))
    raise AssertionError("unreachable")
