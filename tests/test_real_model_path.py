"""The real-model path: init_chat_model ids, per-role settings, retries, token accounting,
and the whole graph through langchain-openai's ChatOpenAI against a local server."""

from __future__ import annotations

import json

import pytest
from conftest import scripted
from langchain_core.messages import AIMessage
from openai_stub import PayloadRecorder, StubServer

from mle_star import Context
from mle_star.graph import graph
from mle_star.models import (
    OFFLINE,
    build_model,
    chat_model,
    invoke,
    is_transient,
    model_id,
    parse_role_models,
)
from mle_star.tools.submission import validate_submission


def test_auto_means_gemini_with_a_key_and_offline_without(monkeypatch):
    monkeypatch.delenv("GOOGLE_API_KEY", raising=False)
    monkeypatch.delenv("GEMINI_API_KEY", raising=False)
    assert model_id(Context(), "refiner_coder") == OFFLINE
    monkeypatch.setenv("GOOGLE_API_KEY", "dummy-key")
    assert model_id(Context(), "refiner_coder") == "google_genai:gemini-2.5-pro"
    assert model_id(Context(model="offline"), "refiner_coder") == OFFLINE


def test_gemini_model_gets_the_per_role_settings(monkeypatch):
    monkeypatch.setenv("GOOGLE_API_KEY", "dummy-key")
    ctx = Context(model_timeout=42.0,
                  role_models="ablation_summarizer=google_genai:gemini-2.5-flash,leakage_checker=offline")
    planner = chat_model(ctx, "refiner_planner")
    summarizer = chat_model(ctx, "ablation_summarizer")
    checker = chat_model(ctx, "leakage_checker")
    assert type(planner).__name__ == "ChatGoogleGenerativeAI"
    assert (planner.model, planner.temperature, planner.timeout, planner.max_retries) == ("gemini-2.5-pro", 1.0, 42.0, 0)
    assert (summarizer.model, summarizer.temperature) == ("gemini-2.5-flash", 0.0)
    assert type(checker).__name__ == "OfflineEngineer"


def test_rate_limit_is_one_limiter_shared_by_every_role(monkeypatch):
    monkeypatch.setenv("GOOGLE_API_KEY", "dummy-key")
    ctx = Context(model="google_genai:gemini-2.5-pro", requests_per_second=0.5)
    planner, checker = chat_model(ctx, "refiner_planner"), chat_model(ctx, "leakage_checker")
    assert planner.rate_limiter is not None and planner.rate_limiter is checker.rate_limiter
    assert planner.rate_limiter.requests_per_second == 0.5
    assert chat_model(Context(model="google_genai:gemini-2.5-pro"), "refiner_planner").rate_limiter is None


def test_bad_role_model_setting_is_rejected():
    with pytest.raises(ValueError, match="ROLE=MODEL_ID"):
        parse_role_models("summarizer")


class _Flaky:
    """Fails with the given exceptions, then answers."""

    def __init__(self, *failures):
        self.failures = list(failures)

    def invoke(self, messages):
        if self.failures:
            raise self.failures.pop(0)
        return AIMessage("ok")


class _Status(Exception):
    def __init__(self, code):
        super().__init__(f"status {code}")
        self.status_code = code


def test_transient_failures_are_retried_and_counted():
    retries = []
    ctx = Context(model_retries=3, retry_backoff=0.0)
    reply = invoke(ctx, _Flaky(_Status(429), TimeoutError(), _Status(503)), [], retries.append)
    assert reply.content == "ok" and len(retries) == 3
    assert not is_transient(_Status(401))
    with pytest.raises(Exception, match="status 401"):
        invoke(ctx, _Flaky(_Status(401)), [], retries.append)
    with pytest.raises(Exception, match="status 500"):
        invoke(Context(model_retries=1, retry_backoff=0.0), _Flaky(_Status(500), _Status(500)), [], retries.append)


GEMINI_USAGE = {"input_tokens": 1200, "output_tokens": 300, "total_tokens": 1500}


def gemini(text: str) -> AIMessage:
    """A reply shaped like langchain-google-genai's: content parts and usage metadata."""
    return AIMessage(content=[{"type": "text", "text": text}], usage_metadata=GEMINI_USAGE,
                     response_metadata={"model_name": "gemini-2.5-pro", "finish_reason": "STOP"})


def test_gemini_shaped_replies_drive_every_parser(path_state, task_facts):
    from conftest import runtime

    from mle_star.nodes.extractor import extractor
    from mle_star.nodes.refiner import refiner_coder, refiner_planner
    from mle_star.nodes.retriever import retriever

    out = retriever(path_state, runtime(llm=scripted(gemini(
        'Here are strong candidates:\n```json\n[{"model_name": "LightGBM", "example_code": "import lightgbm"}]\n```'))))
    assert out["candidates"][0]["model_name"] == "LightGBM"
    assert out["usage"]["input_tokens"] == 1200 and out["usage"]["output_tokens"] == 300

    code = "a = 1\nb = 2\nprint('Final Validation Performance:', a + b)\n"
    best = {"name": "s", "code": code, "score": 3.0, "ok": True, "workdir": "", "duration": 0.0, "error": ""}
    target = json.dumps([{"code_block": "b = 2", "plan": "Raise b."}])
    out = extractor(path_state | {"best": best}, runtime(llm=scripted(gemini(f"```json\n{target}\n```\nDone."))))
    assert out["code_block"] == "b = 2"
    state = path_state | {"best": best, "code_block": "b = 2", "plan": "Raise b.", "inner_step": 0}
    out = refiner_coder(state, runtime(llm=scripted(gemini("Sure.\n```python\nb = 7\n```")), check_leakage=False))
    assert out["plan_history"][0]["score"] == 8.0
    out = refiner_planner(state | {"plan_history": out["plan_history"]},
                          runtime(llm=scripted(gemini("Try b = 9 next, since raising b helped."))))
    assert out["plan"] == "Try b = 9 next, since raising b helped."


def test_whole_graph_through_chat_openai_with_injected_faults(bc_task, tmp_path, monkeypatch):
    stub = StubServer(faults={1: "429", 3: "500", 5: "slow", 7: "empty", 9: "malformed", 14: "429"})
    try:
        monkeypatch.setenv("OPENAI_BASE_URL", stub.url)
        monkeypatch.setenv("OPENAI_API_KEY", "dummy")
        model = f"openai:stub-{stub.url.rsplit(':', 1)[1]}"  # fresh client per server
        ctx = Context(model=model, model_timeout=1.5, retry_backoff=0.05, num_candidates=2, outer_loops=1,
                      inner_loops=1, parallel_solutions=2, ensemble_rounds=1, script_timeout=120)
        out = graph.invoke({"task_dir": str(bc_task), "run_dir": str(tmp_path / "run")},
                           {"callbacks": [PayloadRecorder(stub.registry)]}, context=ctx)
        assert type(chat_model(ctx, "retriever")).__name__ == "ChatOpenAI"
    finally:
        stub.close()
        build_model.cache_clear()
    validate_submission(out["submission_path"], bc_task / "public" / "sample_submission.csv", "id")
    record = json.loads((tmp_path / "run" / "run.json").read_text())
    assert set(record["models"].values()) == {model}
    assert record["counts"]["model_retries"] >= 4  # two 429s, a 500 and a timeout
    assert record["counts"]["reasks"] >= 2  # the empty and the malformed reply
    usage = record["usage"]["by_model"][model]
    assert usage["calls"] == record["counts"]["model_calls"] and usage["input_tokens"] > 0
    assert record["fallback"] is None and out["best_score"] > 0.9


def test_a_model_that_never_helps_still_ends_with_an_offline_submission(bc_task, tmp_path, monkeypatch):
    stub = StubServer(faults={i: "malformed" for i in range(1, 10_000)})
    try:
        monkeypatch.setenv("OPENAI_BASE_URL", stub.url)
        monkeypatch.setenv("OPENAI_API_KEY", "dummy")
        ctx = Context(model=f"openai:useless-{stub.url.rsplit(':', 1)[1]}", parse_retries=0, num_candidates=1,
                      outer_loops=1, inner_loops=1, parallel_solutions=1, ensemble_rounds=0, script_timeout=120)
        out = graph.invoke({"task_dir": str(bc_task), "run_dir": str(tmp_path / "run")}, context=ctx)
    finally:
        stub.close()
        build_model.cache_clear()
    validate_submission(out["submission_path"], bc_task / "public" / "sample_submission.csv", "id")
    record = json.loads((tmp_path / "run" / "run.json").read_text())
    assert "offline engineer" in record["fallback"] and record["counts"]["offline_fallbacks"] == 1
    assert "fallback" in (tmp_path / "run" / "report.html").read_text()


def test_reply_cache_makes_a_rerun_free_of_model_calls(bc_task, tmp_path):
    ctx = Context(cache_path=str(tmp_path / "replies.sqlite"), num_candidates=1, outer_loops=1, inner_loops=1,
                  parallel_solutions=1, ensemble_rounds=0, script_timeout=120)
    first = graph.invoke({"task_dir": str(bc_task), "run_dir": str(tmp_path / "a")}, context=ctx)
    second = graph.invoke({"task_dir": str(bc_task), "run_dir": str(tmp_path / "b")}, context=ctx)
    a = json.loads((tmp_path / "a" / "run.json").read_text())["counts"]
    b = json.loads((tmp_path / "b" / "run.json").read_text())["counts"]
    assert a["model_calls"] > 10 and a.get("cached_model_calls", 0) == 0
    assert b["model_calls"] == 0 and b["cached_model_calls"] == a["model_calls"]
    assert open(first["submission_path"], "rb").read() == open(second["submission_path"], "rb").read()


SCRIPT = "import numpy as np\nprint('Final Validation Performance:', np.float64(0.5))\n"
FENCED = f"Here is the script.\n\n```python\n{SCRIPT}```\n\nIt prints the validation score."


def _role_cases():
    from mle_star.nodes.data_usage import parse_usage
    from mle_star.nodes.extractor import parse_target
    from mle_star.nodes.leakage import parse_verdict
    from mle_star.nodes.refiner import _block
    from mle_star.nodes.retriever import parse_candidates
    from mle_star.tools.code import clean_block, extract_code, nonempty

    verdict = json.dumps({"leakage_status": "No Data Leakage", "code_block": "x = np.float64(0.5)"})
    return [
        ("retriever", '```json\n[{"model_name": "CatBoost", "example_code": "..."}]\n```', parse_candidates(4),
         [{"model_name": "CatBoost", "example_code": "..."}]),
        ("init_coder", FENCED, extract_code, SCRIPT),
        ("merger", FENCED, extract_code, SCRIPT),
        ("debugger", FENCED, extract_code, SCRIPT),
        ("submission", FENCED, extract_code, SCRIPT),
        ("ensembler", FENCED, extract_code, SCRIPT),
        ("ablation", FENCED, extract_code, SCRIPT),
        ("data_usage_checker", "All the provided information is used.", parse_usage, None),
        ("ablation_summarizer", "The model block matters most (-0.02).", nonempty, "The model block matters most (-0.02)."),
        ("refiner_planner", "Use 5-fold target encoding.", nonempty, "Use 5-fold target encoding."),
        ("ensemble_planner", "Stack with a ridge meta-learner.", nonempty, "Stack with a ridge meta-learner."),
        ("extractor", '```json\n[{"code_block": "print(", "plan": "p"}]\n```\nThat block.',
         parse_target(SCRIPT, []), {"code_block": "print(", "plan": "p"}),
        ("refiner_coder", "```python\nx = 1\n```", _block, "x = 1"),
        ("leakage_checker", f"```json\n{verdict}\n```", parse_verdict(SCRIPT),
         {"status": "No Data Leakage", "code_block": "x = np.float64(0.5)"}),
        ("leakage_fixer", "```python\nscale = train.max()\n```", clean_block, "scale = train.max()"),
    ]


@pytest.mark.parametrize("case", _role_cases(), ids=lambda c: c[0])
def test_every_role_parses_a_gemini_shaped_reply(case):
    from mle_star.nodes.common import Recorder, ask

    role, text, parse, expected = case
    rec = Recorder("test")
    assert ask(Context(llm=scripted(gemini(text))), rec, role, "prompt", {}, parse) == expected
    assert rec.usage["by_role"][role] == {"calls": 1, "input_tokens": 1200, "output_tokens": 300}
