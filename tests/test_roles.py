"""The role registry: each role declared once, and the prompt and the offline engineer's input
come from that one declaration."""

from __future__ import annotations

import subprocess
import sys

import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage

from mle_star.config import Context
from mle_star.models import use_model
from mle_star.nodes.ask import ask
from mle_star.prompts import PAYLOAD_KEY, ROLES, SYSTEM
from mle_star.telemetry import Recorder


class Recording(GenericFakeChatModel):
    """Answers like the offline engineer would, and keeps every request it was sent."""

    seen: list = []

    def _generate(self, messages, stop=None, run_manager=None, **kwargs):
        from langchain_core.outputs import ChatGeneration, ChatResult

        from mle_star.engineer.model import answer

        self.seen.append(messages)
        return ChatResult(generations=[ChatGeneration(message=AIMessage(answer(
            messages[-1].additional_kwargs[PAYLOAD_KEY])))])


def _cases():
    from test_real_model_path import _role_cases

    return _role_cases()


@pytest.mark.parametrize("case", _cases(), ids=lambda c: c[0].name)
def test_prompt_and_engineer_input_come_from_one_declaration(case):
    role, inputs, _, _ = case
    model = Recording(messages=iter([]))
    model.seen = []
    ask(Context(model=use_model(model)), Recorder("execute"), role, inputs)
    system, request = model.seen[0][:2]
    assert system.content == SYSTEM
    assert request.content == role.prompt(inputs)  # the prompt is rendered from the inputs ...
    payload = request.additional_kwargs[PAYLOAD_KEY]
    assert payload == {"role": role.name, "inputs": inputs.model_dump(mode="json")}  # ... which travel as-is
    assert role.read_payload(payload) == inputs  # and the engineer reads back exactly those inputs


def test_every_role_declares_template_inputs_parser_and_temperature():
    from mle_star.engineer.roles import HANDLERS

    assert set(HANDLERS) == set(ROLES.values())  # the engineer implements exactly the registry's roles
    for role in ROLES.values():
        assert role.does and role.template and role.temperature in (0.0, 1.0)
        assert (role.schema is None) == (role.accept is None)  # JSON roles declare both
    checking = {r.name for r in ROLES.values() if r.temperature == 0.0}
    assert {"leakage_checker", "extractor", "ablation_summarizer", "debugger"} <= checking
    assert {"retriever", "init_coder", "refiner_coder", "refiner_planner", "ensemble_planner"}.isdisjoint(checking)


def test_no_graph_module_imports_the_offline_engineer():
    code = ("import sys\n"
            "import mle_star.graph, mle_star.nodes.ask, mle_star.models, mle_star.cli, mle_star.report\n"
            "from mle_star.graph import build_graph\n"
            "build_graph().compile()\n"
            "print(sorted(m for m in sys.modules if m.startswith('mle_star.engineer')))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_studio_schemas_generate():
    """LangGraph Studio draws its forms from these; pydantic refuses typing.TypedDict on 3.11."""
    from mle_star.graph import graph

    assert "task_dir" in graph.get_input_jsonschema()["properties"]
    assert "submission_path" in graph.get_output_jsonschema()["properties"]
    context = graph.get_context_jsonschema()["properties"]
    assert {"outer_loops", "model", "time_limit"} <= set(context) and "llm" not in context
