"""The real-model path: init_chat_model ids, per-role settings, retries, token accounting,
and the whole graph through langchain-openai's ChatOpenAI against a local server."""

from __future__ import annotations

import json

import pytest
from conftest import GOOD_RANKING, predicting, scripted
from langchain_core.messages import AIMessage
from openai_stub import PayloadRecorder, StubServer

from mle_star import Context
from mle_star.config import parse_role_models
from mle_star.graph import graph
from mle_star.journal import attempt
from mle_star.models import (
    OFFLINE,
    ModelRefused,
    ModelUnavailable,
    backoff,
    build_model,
    chat_model,
    invoke,
    is_transient,
    model_id,
    use_model,
)
from mle_star.tools.scoring.submission import validate_submission


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
    flaky = _Flaky(_Status(429), TimeoutError(), _Status(503))
    reply = invoke(ctx, lambda: flaky.invoke([]), retries.append)
    assert reply.content == "ok" and len(retries) == 3
    with pytest.raises(ModelUnavailable, match="status 500"):
        twice = _Flaky(_Status(500), _Status(500))
        invoke(Context(model_retries=1, retry_backoff=0.0), lambda: twice.invoke([]), retries.append)


@pytest.mark.parametrize("code", [401, 403, 404])
def test_a_refused_request_is_fatal_and_never_retried(code):
    retries = []
    flaky = _Flaky(_Status(code))
    with pytest.raises(ModelRefused, match=f"status {code}"):
        invoke(Context(model_retries=5, retry_backoff=0.0), lambda: flaky.invoke([]), retries.append)
    assert retries == [] and not is_transient(_Status(code))


def test_backoff_is_jittered_and_honours_retry_after():
    class _Limited(Exception):
        def __init__(self, wait):
            super().__init__("429")
            self.status_code = 429
            self.response = type("R", (), {"status_code": 429, "headers": {"retry-after": str(wait)}})()

    ctx = Context(retry_backoff=2.0)
    waits = {backoff(ctx, 3, TimeoutError()) for _ in range(20)}
    assert all(8.0 <= w <= 16.0 for w in waits) and len(waits) > 1  # jittered within [ceiling/2, ceiling]
    assert backoff(ctx, 0, _Limited(30)) == 30.0  # the provider asked for 30 s


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

    code = predicting(f"w * {GOOD_RANKING} + (1 - w) * 0.5", setup="w = 0.2\n")
    entries = [attempt("s", "candidate", path_id=0, code=code, score=0.9, ok=True)]
    target = json.dumps([{"code_block": "w = 0.2", "plan": "Raise w."}])
    out = extractor(path_state | {"journal": entries, "best": "s"},
                    runtime(llm=scripted(gemini(f"```json\n{target}\n```\nDone."))))
    assert out["code_block"] == "w = 0.2"
    state = path_state | {"journal": entries, "best": "s", "code_block": "w = 0.2", "plan": "Raise w.", "inner_step": 0}
    out = refiner_coder(state, runtime(llm=scripted(gemini("Sure.\n```python\nw = 1.0\n```")), check_leakage=False))
    assert out["journal"][0]["score"] > 0.9
    out = refiner_planner(state | {"journal": entries + out["journal"]},
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
    assert stub.structured > 0  # JSON roles went through ChatOpenAI's structured output
    record = json.loads((tmp_path / "run" / "run.json").read_text())
    assert set(record["models"].values()) == {model}
    assert record["counts"]["structured_replies"] > 0
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
    """(role, its typed inputs, a Gemini-shaped reply, the parsed result)."""
    from mle_star.prompts import roles as r
    from mle_star.state import PlanScore

    task = _task()
    verdict = json.dumps({"leakage_status": "No Data Leakage", "code_block": "x = np.float64(0.5)"})
    card = r.ModelCard(model_name="CatBoost", example_code="...")
    history = [PlanScore(plan="p", score=0.5)]
    return [
        (r.METRIC_READER, r.MetricReaderInputs(task=task),
         'It is the zebra distance.\n```json\n{"metric": "zebra distance", "higher_is_better": false}\n```',
         r.MetricReading(metric="zebra distance", higher_is_better=False)),
        (r.RETRIEVER, r.RetrieverInputs(task=task, search_results=[card], num_candidates=4),
         '```json\n[{"model_name": "CatBoost", "example_code": "..."}]\n```', [card]),
        (r.INIT_CODER, r.InitCoderInputs(task=task, candidate=card), FENCED, SCRIPT),
        (r.MERGER, r.MergerInputs(task=task, base_code=SCRIPT, base_score=0.5, candidate_code=SCRIPT,
                                  candidate_score=0.4), FENCED, SCRIPT),
        (r.DEBUGGER, r.DebuggerInputs(task=task, code="boom", error="NameError", kind="candidate"), FENCED, SCRIPT),
        (r.SUBMISSION, r.SubmissionInputs(task=task, code=SCRIPT, score=0.5), FENCED, SCRIPT),
        (r.ENSEMBLER, r.EnsemblerInputs(task=task, solutions=[SCRIPT, SCRIPT], scores=[0.5, 0.4], plan="mean"),
         FENCED, SCRIPT),
        (r.ABLATION, r.AblationInputs(task=task, code=SCRIPT, score=0.5, previous_summaries=[], refined_blocks=[]),
         FENCED, SCRIPT),
        (r.DATA_USAGE_CHECKER, r.DataUsageInputs(task=task, code=SCRIPT), "All the provided information is used.",
         None),
        (r.ABLATION_SUMMARIZER, r.AblationSummaryInputs(task=task, code=SCRIPT, output="0.5"),
         "The model block matters most (-0.02).", "The model block matters most (-0.02)."),
        (r.REFINER_PLANNER, r.RefinerPlannerInputs(task=task, code_block="x", history=history, base_score=0.5),
         "Use 5-fold target encoding.", "Use 5-fold target encoding."),
        (r.ENSEMBLE_PLANNER, r.EnsemblePlannerInputs(task=task, scores=[0.5], history=history),
         "Stack with a ridge meta-learner.", "Stack with a ridge meta-learner."),
        (r.EXTRACTOR, r.ExtractorInputs(task=task, code=SCRIPT, score=0.5, summaries=[], refined_blocks=[]),
         '```json\n[{"code_block": "print(", "plan": "p"}]\n```\nThat block.',
         r.TargetBlock(code_block="print(", plan="p")),
        (r.REFINER_CODER, r.RefinerCoderInputs(task=task, code_block="x = 0", plan="p"), "```python\nx = 1\n```",
         "x = 1"),
        (r.LEAKAGE_CHECKER, r.LeakageInputs(task=task, code=SCRIPT), f"```json\n{verdict}\n```",
         r.LeakageVerdict(leakage_status="No Data Leakage", code_block="x = np.float64(0.5)")),
        (r.LEAKAGE_FIXER, r.LeakageFixInputs(task=task, code=SCRIPT, code_block="x"),
         "```python\nscale = train.max()\n```", "scale = train.max()"),
    ]


def _task() -> dict:
    import tempfile

    from conftest import task_record

    from mle_star.examples import write_example

    return task_record(write_example("breast-cancer", tempfile.mkdtemp() + "/task"), tempfile.mkdtemp())


def test_every_role_of_the_registry_has_a_case():
    from mle_star.prompts import ROLES

    assert sorted(case[0].name for case in _role_cases()) == sorted(ROLES)


@pytest.mark.parametrize("case", _role_cases(), ids=lambda c: c[0].name)
def test_every_role_parses_a_gemini_shaped_reply(case):
    from mle_star.nodes.ask import ask
    from mle_star.telemetry import Recorder

    role, inputs, text, expected = case
    rec = Recorder("execute")
    assert ask(Context(model=use_model(scripted(gemini(text)))), rec, role, inputs) == expected
    assert rec.usage["by_role"][role.name] == {"calls": 1, "input_tokens": 1200, "output_tokens": 300, "estimated_calls": 0}


IMAGE_SCRIPT = '''import os

import numpy as np
import pandas as pd
from PIL import Image
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss
from sklearn.model_selection import train_test_split


def pixels(folder, ids):
    return np.stack([np.asarray(Image.open(f"input/{folder}/{i}.png").convert("L"), dtype=float).ravel() / 255
                     for i in ids])


labels = pd.read_csv("input/train_labels.csv", dtype={"id": str})
X, y = pixels("train", labels["id"]), labels["label"].to_numpy()
columns = [c for c in pd.read_csv("input/sample_submission.csv", nrows=1).columns if c != "id"]
fit_X, val_X, fit_y, val_y = train_test_split(X, y, test_size=0.2, random_state=0, stratify=y)
score = log_loss(val_y, LogisticRegression(max_iter=3000).fit(fit_X, fit_y).predict_proba(val_X))
model = LogisticRegression(max_iter=3000).fit(X, y)


def write(path, folder, ids):
    proba = model.predict_proba(pixels(folder, ids))
    frame = pd.DataFrame(proba, columns=[str(c) for c in model.classes_])[columns]
    frame.insert(0, "id", list(ids))
    frame.to_csv(path, index=False)


test_ids = pd.read_csv("input/sample_submission.csv", dtype={"id": str})["id"]
if os.path.exists("input/holdout.csv"):  # searching: predict the agent's held-out rows and the test rows
    write("valid_predictions.csv", "train", pd.read_csv("input/holdout.csv", dtype={"id": str})["id"])
    write("test_predictions.csv", "test", test_ids)
else:  # the final script: every labelled row is in train_labels.csv
    os.makedirs("final", exist_ok=True)
    write("final/submission.csv", "test", test_ids)
print(f"Final Validation Performance: {score:.6f}")
'''


def test_a_served_model_that_writes_a_correct_image_script_gets_its_submission(tmp_path, monkeypatch):
    """Through ChatOpenAI against a local server whose model answers the coding roles with a
    hand-written image script (pixels + logistic regression): the run ends with that script."""
    from mle_star.examples import score_submission, write_example

    task = write_example("digits-folder", tmp_path / "task")
    stub = StubServer(faults={}, replies={"init_coder": f"```python\n{IMAGE_SCRIPT}```",
                                          "submission": f"Here it is.\n```python\n{IMAGE_SCRIPT}```"})
    try:
        monkeypatch.setenv("OPENAI_BASE_URL", stub.url)
        monkeypatch.setenv("OPENAI_API_KEY", "dummy")
        ctx = Context(model=f"openai:images-{stub.url.rsplit(':', 1)[1]}", num_candidates=1, outer_loops=0,
                      parallel_solutions=1, ensemble_rounds=0, script_timeout=300)
        out = graph.invoke({"task_dir": str(task), "run_dir": str(tmp_path / "run")},
                           {"callbacks": [PayloadRecorder(stub.registry)]}, context=ctx)
    finally:
        stub.close()
        build_model.cache_clear()
    assert (tmp_path / "run" / "final" / "solution.py").read_text() == IMAGE_SCRIPT
    validate_submission(out["submission_path"], task / "public" / "sample_submission.csv")
    assert score_submission(task, out["submission_path"]) < 0.3  # multi-class log loss; the sample scores 2.30
    record = json.loads((tmp_path / "run" / "run.json").read_text())
    assert record["fallback"] is None and record["journal"][0]["score_source"] == "agent"


@pytest.mark.bad_input
@pytest.mark.parametrize("status", ["401", "404"])
def test_a_refused_model_stops_the_run_at_the_start(bc_task, tmp_path, monkeypatch, capsys, status):
    """A bad key or an unknown model is fatal: exit 2 with the reason, no offline fallback, no script run."""
    from mle_star.cli import main

    stub = StubServer(faults={i: status for i in range(1, 100)})
    try:
        monkeypatch.setenv("OPENAI_BASE_URL", stub.url)
        monkeypatch.setenv("OPENAI_API_KEY", "bad-key")
        code = main(["run", str(bc_task), "--run-dir", str(tmp_path / "run"), "--parallel-solutions", "1",
                     "--model", f"openai:refused-{status}-{stub.url.rsplit(':', 1)[1]}"])
    finally:
        stub.close()
        build_model.cache_clear()
    err = capsys.readouterr().err
    assert code == 2 and "the model refused the request" in err and "Traceback" not in err
    assert stub.calls == 1  # not retried
    assert not (tmp_path / "run" / "work").exists() and not (tmp_path / "run" / "final").exists()
