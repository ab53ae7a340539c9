"""The offline engineer's neural path (issue 21, item 6): a small PyTorch CNN for images and a
spectrogram CNN for audio, offered only when the workbench has torch.

Tests that run scripts need a workbench interpreter with torch: its path in the environment
variable MLE_STAR_TEST_WORKBENCH (for example a venv made with --system-site-packages plus
torch). Without it they are skipped; the others run everywhere.
"""

# ruff: noqa: F811 - pytest fixtures are imported by name
from __future__ import annotations

import json
import os
import re
import subprocess
import time
from pathlib import Path

import pytest
from test_engineer_support import (  # noqa: F401 - fixtures
    Run,
    ask,
    better,
    code_of,
    judged,
    null_score,
    prepared,
    task_dirs,
)

from mle_star.engineer.recipe import block_span, default_recipe, parse_recipe, render_solution
from mle_star.prompts.roles import ModelCard
from mle_star.tools.scoring.submission import validate_submission

WORKBENCH_VAR = "MLE_STAR_TEST_WORKBENCH"
NETWORK = "Small convolutional network (PyTorch) on the image pixels"


def workbench_python() -> str:
    """The workbench interpreter (with torch) from the environment, or skip the test."""
    python = os.environ.get(WORKBENCH_VAR, "")
    if not python:
        pytest.skip(f"set {WORKBENCH_VAR} to a Python interpreter that has torch to run the neural scripts")
    if not Path(python).is_file():
        pytest.fail(f"{WORKBENCH_VAR}={python} is not a file")
    return python


def facts(torch: str | None) -> dict:
    """Workbench facts as the probe reports them: 2 CPU cores, no GPU, torch or not."""
    return {"python": "3.11.7", "executable": "/usr/bin/python3", "packages": {"torch": torch, "torchvision": None},
            "cuda": False, "gpus": [], "cores": 2, "memory_gb": 8.0, "script_time_limit_s": 600, "weights": [],
            "network": "none"}


def with_facts(task: dict, torch: str | None) -> dict:
    return dict(task) | {"workbench": facts(torch)}


def candidates(task: dict, paths: int = 1, path: int = 0) -> list[str]:
    from mle_star.nodes.retriever import search_query
    from mle_star.prompts import Settings
    from mle_star.tools.model.search import search_models

    cards = [ModelCard(model_name=r["model_name"], example_code=r["example_code"])
             for r in search_models(search_query(task))[1]]
    reply = ask("retriever", task, settings=Settings(script_timeout=300, paths=paths, path_id=path),
                search_results=cards, num_candidates=3)
    return [c["model_name"] for c in json.loads(reply.split("```json\n")[1].split("```")[0])]


def scripts(task: dict) -> list[str]:
    """What the engineer writes for a task's first steps: candidates, a merge, an ablation, a final script."""
    names = [*candidates(task), "XGBoost", "logistic", NETWORK]
    codes = [code_of("init_coder", task, candidate=ModelCard(model_name=n)) for n in names]
    codes.append(code_of("merger", task, base_code=codes[0], base_score=None, candidate_score=None, candidate_code=codes[1]))
    codes.append(code_of("ablation", task, code=codes[0], score=0.5, previous_summaries=[], refined_blocks=[]))
    codes.append(code_of("submission", task, code=codes[0], score=0.5))
    return codes


def run_with(python: str, code: str, view: dict[str, str], work: Path, timeout: float = 300) -> Run:
    """Run ``code`` with the workbench interpreter as work/solution.py, the view linked under input/."""
    (work / "input").mkdir(parents=True)
    for name, path in view.items():
        (work / "input" / name).symlink_to(path)
    (work / "solution.py").write_text(code)
    start = time.monotonic()
    done = subprocess.run([python, "solution.py"], cwd=work, capture_output=True, text=True, timeout=timeout,
                          env={"PATH": "/usr/bin:/bin", "OMP_NUM_THREADS": "1", "OMP_WAIT_POLICY": "passive",
                               "MLE_STAR_THREADS": "1", "MLE_STAR_WORKERS": "1"})
    return Run(work, done, time.monotonic() - start)


def quick(task: dict, recipe: dict, epochs: int) -> dict:
    """The recipe with the network trained for only ``epochs`` epochs (tests stay short)."""
    for model in recipe["model"]["models"]:
        if model["family"] == "cnn":
            model["params"]["epochs"] = epochs
    return recipe


# -- without torch nothing changes -------------------------------------------------------------

@pytest.mark.parametrize("name", ["digits-zip", "audio-wav"])
def test_without_torch_the_scripts_are_those_written_without_facts(name, task_dirs, tmp_path):
    task = dict(prepared(task_dirs(name), tmp_path / "run").task)
    task.pop("workbench", None)
    plain = scripts(task)
    assert scripts(with_facts(task, None)) == plain  # torch missing: byte for byte the same scripts
    assert not any("SmallCNN" in code or "GRID" in code or "import torch" in code for code in plain)
    assert NETWORK not in candidates(with_facts(task, None))


# -- with torch the retriever proposes the network ------------------------------------------------

@pytest.mark.parametrize("name", ["digits-zip", "digits-folder", "audio-wav"])
def test_with_torch_the_network_leads_the_image_and_audio_paths(name, task_dirs, tmp_path):
    task = with_facts(prepared(task_dirs(name), tmp_path / "run").task, "2.13.0")
    first = candidates(task)
    assert "convolutional network" in first[0]
    plain = dict(task) | {"workbench": facts(None)}
    assert first[1:] == candidates(plain)[:2]  # then today's first choices
    # a second path leads with today's first family and leaves the network to the first path
    assert candidates(task, paths=2, path=1)[0] == candidates(plain, paths=2, path=0)[0]
    code = code_of("init_coder", task, candidate=ModelCard(model_name=first[0]))
    recipe = parse_recipe(code)
    assert recipe["model"]["models"][0]["family"] == "cnn" and recipe["load"]["grid"] == 32
    assert "class SmallCNN(BaseEstimator):" in block_span(code, "model") and "GRID = (1, 32, 32)" in code
    assert "torch.cuda.is_available()" in code
    merged = code_of("merger", task, base_code=code, base_score=None, candidate_score=None,
                     candidate_code=code_of("init_coder", task, candidate=ModelCard(model_name=first[1])))
    families = [m["family"] for m in parse_recipe(merged)["model"]["models"]]
    assert families[0] == "cnn" and len(families) == 2  # a member of the blend like any family
    plan = ask("refiner_planner", task, code_block=block_span(code, "model"), history=[], base_score=None)
    assert plan.startswith("[model:cnn_")


def test_with_torch_a_table_keeps_its_trees(task_dirs, tmp_path):
    task = dict(prepared(task_dirs("breast-cancer"), tmp_path / "run").task)
    task.pop("workbench", None)
    assert candidates(with_facts(task, "2.13.0")) == candidates(task)


def test_a_network_blended_into_a_plain_image_script_gets_its_grid(task_dirs, tmp_path):
    task = with_facts(prepared(task_dirs("digits-zip"), tmp_path / "run").task, "2.13.0")
    base = code_of("init_coder", task, candidate=ModelCard(model_name="logistic"))
    assert "GRID" not in base
    merged = code_of("merger", task, base_code=base, base_score=None, candidate_score=None,
                     candidate_code=code_of("init_coder", task, candidate=ModelCard(model_name=NETWORK)))
    assert parse_recipe(merged)["load"]["grid"] == 32 and "GRID = (1, 32, 32)" in merged


def test_an_image_task_names_no_audio_features(task_dirs, tmp_path):
    """The LightGBM card on log band energies is the audio one: an image path gets the plain card."""
    for name in ("digits-zip", "digits-folder"):
        task = dict(prepared(task_dirs(name), tmp_path / name).task)
        task.pop("workbench", None)
        for path in (0, 1):
            names = candidates(task, paths=2, path=path)
            assert not any("band energies" in n for n in names), names
    audio = dict(prepared(task_dirs("audio-wav"), tmp_path / "audio").task)
    audio.pop("workbench", None)
    assert "Gradient boosting (LightGBM) on log band energies" in candidates(audio)


# -- the scripts run with the workbench ----------------------------------------------------------

# The image script also runs in the end-to-end test below; its own check (about 50 s on two
# cores) is left to `pytest -m workbench` to keep CI near 30 minutes.
@pytest.mark.parametrize("name,epochs", [pytest.param("digits-zip", 6, marks=pytest.mark.workbench),
                                         ("audio-wav", 10)])
def test_the_neural_script_trains_scores_and_submits(name, epochs, task_dirs, tmp_path):
    python = workbench_python()
    data = prepared(task_dirs(name), tmp_path / "run")
    task = with_facts(data.task, "2.13.0")
    code = render_solution(task, quick(task, default_recipe(task, "cnn"), epochs))
    run = run_with(python, code, data.views["search"], tmp_path / "search")
    assert run.done.returncode == 0, run.done.stderr[-3000:]
    assert re.search(r"^SmallCNN: \d+ epochs in [\d.]+ s on (cpu|cuda)$", run.done.stdout, re.M), run.done.stdout
    assert run.printed is not None
    verdict = judged(task, data, "candidate", run)
    null = null_score(task, data, tmp_path / "null")
    print(f"{name}: CNN held-out {task['metric']} {verdict.score:.4f} vs prior {null:.4f} ({run.seconds:.1f} s)")
    assert verdict.ok and not verdict.untrusted, verdict.error
    assert better(task, verdict.score, null)

    final = code_of("submission", task, code=code, score=verdict.score)
    assert "FINAL = True" in final and "class SmallCNN" in final
    final = render_solution(task, quick(task, parse_recipe(final), epochs), final=True)
    run = run_with(python, final, data.views["full"], tmp_path / "final")
    assert run.done.returncode == 0, run.done.stderr[-3000:]
    submission = validate_submission(run.work / "final" / "submission.csv",
                                     Path(task["data_dir"]) / task["sample_submission"], task["output"])
    assert len(submission) == task["n_test"]


def test_a_run_with_the_workbench_executes_the_network(task_dirs, tmp_path):
    """End to end: ``mle-star run --script-python`` on the image example ends valid, and at least
    one executed script imported torch."""
    python = workbench_python()
    run_dir = tmp_path / "run"
    command = ["mle-star", "run", str(task_dirs("digits-zip")), "--run-dir", str(run_dir), "--script-python", python,
               "--num-candidates", "1", "--outer-loops", "1", "--inner-loops", "1", "--parallel-solutions", "1",
               "--ensemble-rounds", "1", "--script-timeout", "60", "--time-limit", "90", "--quiet"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=400,
                          env={**os.environ, "OMP_WAIT_POLICY": "passive"})
    assert done.returncode == 0, done.stderr[-3000:]
    assert (run_dir / "final" / "submission.csv").is_file()
    executed = [p.read_text() for p in run_dir.rglob("*.py") if "import torch" in p.read_text()]
    assert executed, "no script of the run imported torch"
