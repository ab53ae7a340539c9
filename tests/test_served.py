"""The graph served by ``langgraph dev`` on loopback, driven through langgraph-sdk."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    port = _free_port()
    log = open(tmp_path_factory.mktemp("server") / "langgraph-dev.log", "w")
    langgraph = Path(sys.executable).with_name("langgraph")
    proc = subprocess.Popen([str(langgraph), "dev", "--no-browser", "--no-reload", "--host", "127.0.0.1",
                             "--port", str(port)], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                            env=os.environ | {"LANGSMITH_TRACING": "false"}, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                if httpx.get(f"{url}/ok", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None:
                pytest.fail(f"langgraph dev exited: {Path(log.name).read_text()[-2000:]}")
            time.sleep(0.5)
        else:
            pytest.fail("langgraph dev did not come up in 60 s")
        yield url
    finally:
        os.killpg(proc.pid, 9)
        proc.wait()
        log.close()


def test_served_run_streams_progress_and_ends_with_a_submission(server, bc_task, tmp_path):
    from langgraph_sdk import get_client

    async def run() -> tuple[dict, list]:
        client = get_client(url=server)
        thread = await client.threads.create()
        context = {"num_candidates": 1, "outer_loops": 1, "inner_loops": 1, "parallel_solutions": 1,
                   "ensemble_rounds": 0, "script_timeout": 120}
        parts = []
        async for part in client.runs.stream(
            thread["thread_id"], "mle_star", input={"task_dir": str(bc_task), "run_dir": str(tmp_path / "run")},
            context=context, stream_mode=["updates", "custom"], stream_subgraphs=True,
        ):
            parts.append((part.event, part.data))
        return (await client.threads.get_state(thread["thread_id"]))["values"], parts

    values, parts = asyncio.run(run())
    assert not [d for e, d in parts if e == "error"]
    stages = [d["node"] for e, d in parts if e.startswith("custom") and d.get("event") == "stage"]
    assert {"retriever", "init_coder", "ablation", "refiner_coder", "submission"} <= set(stages)
    assert any(e.startswith("custom") and d.get("event") == "script_finished" for e, d in parts)
    assert any(e.startswith("updates") for e, _ in parts)
    assert values["submission_path"] == str(tmp_path / "run" / "final" / "submission.csv")
    assert Path(values["submission_path"]).exists() and values["metric"] == "auc" and values["best_score"] > 0.9


def _properties(schema: dict) -> dict:
    """The top-level properties of a JSON schema, following a root ``$ref`` into its definitions."""
    ref = schema.get("$ref", "")
    if ref.startswith("#/"):
        target: dict = schema
        for part in ref[2:].split("/"):
            target = target[part]
        return target.get("properties", {})
    return schema.get("properties", {})


def test_served_assistant_schemas_load_as_studio_reads_them(server):
    """Studio finds the graph's assistant and draws its forms from get_schemas: they must load
    (on the Python of langgraph.json) and name the run's inputs, outputs and settings."""
    from langgraph_sdk import get_client

    async def schemas() -> tuple[list, dict]:
        client = get_client(url=server)
        assistants = await client.assistants.search(graph_id="mle_star")
        return assistants, await client.assistants.get_schemas(assistants[0]["assistant_id"])

    assistants, found = asyncio.run(schemas())
    assert [a["graph_id"] for a in assistants] == ["mle_star"]
    inputs = _properties(found["input_schema"])
    assert "task_dir" in inputs and "task_dir" in found["input_schema"].get("required", [])
    assert {"run_dir", "metric", "lower_is_better"} <= set(inputs)
    assert {"submission_path", "solution_path", "best_score"} <= set(_properties(found["output_schema"]))
    context = _properties(found["context_schema"])
    assert {"outer_loops", "inner_loops", "num_candidates", "time_limit"} <= set(context)
    assert context["outer_loops"].get("type") == "integer"
    assert "llm" not in context  # only plain settings a JSON caller can fill
