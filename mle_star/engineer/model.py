"""The offline engineer as a LangChain chat model.

Nodes talk to it exactly as to Gemini: a prompt goes in, text comes out and is parsed by the
same code. It answers from the typed inputs each request carries (the role registry's
payload), so its behaviour never depends on prompt wording. It is reached by the model id
``offline`` like any provider; nothing in the graph imports it.
"""

from __future__ import annotations

import sys
import traceback
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult

from mle_star.engineer.roles import HANDLERS
from mle_star.prompts import PAYLOAD_KEY, ROLES


def estimate_tokens(text: str) -> int:
    return max(1, len(text) // 4)


def answer(payload: dict | None) -> str:
    """The engineer's reply to one structured request."""
    role = ROLES.get(payload.get("role", "")) if payload else None
    if payload is None or role is None or role not in HANDLERS:
        return "I can only answer MLE-STAR role requests that carry their structured inputs."
    try:
        return HANDLERS[role](role.read_payload(payload))
    except Exception as exc:  # noqa: BLE001 - an engineer bug must not stop a user's run
        # The reply cannot be parsed, so the node re-asks and then takes its usual fallback;
        # the traceback goes to stderr so the bug is seen, not hidden.
        traceback.print_exc(file=sys.stderr)
        return f"OFFLINE ENGINEER ERROR in {role.name}: {type(exc).__name__}: {exc}"


class OfflineEngineer(BaseChatModel):
    """A deterministic engineer that writes real solution code for the tasks it knows."""

    model_name: str = "mle-star-offline-engineer"

    @property
    def _llm_type(self) -> str:
        return "mle-star-offline-engineer"

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        payload = next((m.additional_kwargs[PAYLOAD_KEY] for m in reversed(messages)
                        if PAYLOAD_KEY in m.additional_kwargs), None)
        text = answer(payload)
        prompt_tokens = sum(estimate_tokens(str(m.content)) for m in messages)
        # Offline token counts are estimates (characters / 4), marked as such for the report.
        usage = {"input_tokens": prompt_tokens, "output_tokens": estimate_tokens(text),
                 "total_tokens": prompt_tokens + estimate_tokens(text)}
        message = AIMessage(content=text, usage_metadata=usage,
                            response_metadata={"model_name": self.model_name, "estimated_usage": True})
        return ChatResult(generations=[ChatGeneration(message=message)])
