"""The workbench (issue 21): scripts run with another Python, see cached weights read-only with
the network off, and every code-writing prompt states what the machine has."""

from __future__ import annotations

import json
import os
import site
import subprocess
import sys
from pathlib import Path

import pytest
from test_sandbox import require_bwrap

from mle_star.cli import main
from mle_star.config import Context
from mle_star.prompts.roles import (
    ABLATION,
    DATA_USAGE_CHECKER,
    DEBUGGER,
    ENSEMBLER,
    INIT_CODER,
    LEAKAGE_FIXER,
    MERGER,
    REFINER_CODER,
    RETRIEVER,
    SUBMISSION,
    AblationInputs,
    DataUsageInputs,
    DebuggerInputs,
    EnsemblerInputs,
    InitCoderInputs,
    LeakageFixInputs,
    MergerInputs,
    ModelCard,
    RefinerCoderInputs,
    RetrieverInputs,
    Settings,
    SubmissionInputs,
)
from mle_star.tools.execution.environment import environment, find_weights
from mle_star.tools.execution.machine_facts import MAX_FACTS, machine_facts
from mle_star.tools.execution.runner import Limits, ScriptRunner
from mle_star.tools.execution.sandbox import Sandbox, probe
from mle_star.tools.model.search import search_models

LOOPS = ["--num-candidates", "1", "--outer-loops", "1", "--inner-loops", "1", "--parallel-solutions", "1",
         "--ensemble-rounds", "0", "--script-timeout", "120", "--quiet"]
SMALL = Limits(memory_bytes=4 * 1024**3, processes=256, file_size_bytes=64 * 1024**2, output_bytes=64 * 1024,
               output_file_bytes=1024**2, tmp_bytes=64 * 1024**2)




def _venv(where: Path, system_site: bool) -> Path:
    args = [sys.executable, "-m", "venv", "--without-pip", *(["--system-site-packages"] if system_site else []),
            str(where)]
    subprocess.run(args, check=True, capture_output=True)
    return where / "bin" / "python"


def _site_packages(python: Path) -> Path:
    out = subprocess.run([str(python), "-c", "import site; print(site.getsitepackages()[0])"], check=True,
                         capture_output=True, text=True)
    return Path(out.stdout.strip())


@pytest.fixture(scope="module")
def marker_python(tmp_path_factory) -> str:
    """A second environment: a venv that sees this interpreter's packages (through a .pth, since
    under CI this interpreter is itself a venv) plus a marker package of its own."""
    python = _venv(tmp_path_factory.mktemp("workbench") / "venv", system_site=True)
    sp = _site_packages(python)
    ours = [p for p in {*site.getsitepackages(), *(e for e in sys.path if e.endswith("-packages"))}
            if os.path.isdir(p)]
    (sp / "mle_star_parent.pth").write_text("\n".join(sorted(ours)) + "\n")
    (sp / "mlestar_marker").mkdir()
    (sp / "mlestar_marker" / "__init__.py").write_text("VALUE = 'marker-42'\n")
    meta = sp / "mlestar_marker-1.0.dist-info"
    meta.mkdir()
    (meta / "METADATA").write_text("Metadata-Version: 2.1\nName: mlestar-marker\nVersion: 1.0\n")
    return str(python)


@pytest.fixture(scope="module")
def no_sklearn_python(tmp_path_factory) -> str:
    """A venv with numpy and pandas but no scikit-learn: this interpreter's packages, linked one
    by one into a folder its .pth names, all but scikit-learn's."""
    where = tmp_path_factory.mktemp("no-sklearn")
    python = _venv(where / "venv", system_site=False)
    shadow = where / "shadow" / "site-packages"
    shadow.mkdir(parents=True)
    ours = [Path(p) for p in {*site.getsitepackages(), *(e for e in sys.path if e.endswith("-packages"))}
            if os.path.isdir(p)]
    for folder in ours:
        for entry in folder.iterdir():
            if not entry.name.lower().startswith(("sklearn", "scikit_learn", "scikit-learn")) \
                    and not entry.name.endswith(".pth") and not (shadow / entry.name).exists():
                (shadow / entry.name).symlink_to(entry)
    (_site_packages(python) / "mle_star_parent.pth").write_text(f"{shadow}\n")
    return str(python)


def test_a_workbench_without_scikit_learn_is_warned_about(no_sklearn_python, capsys):
    """It passes the probe (numpy and pandas import), but the offline engineer's scripts need
    scikit-learn: the facts, the listing and a run's terminal say so."""
    assert main(["workbench", "--script-python", no_sklearn_python, "--weights-dir", "none", "--json"]) == 0
    facts = json.loads(capsys.readouterr().out)
    assert facts["packages"]["scikit-learn"] is None and facts["packages"]["pandas"]
    assert any(n.startswith("scikit-learn is not installed") for n in facts.get("notes", [])), facts.get("notes")
    assert main(["workbench", "--script-python", no_sklearn_python, "--weights-dir", "none"]) == 0
    assert "note:     scikit-learn is not installed: the offline engineer's scripts" in capsys.readouterr().out


def test_a_workbench_with_scikit_learn_has_no_such_note(marker_python, capsys):
    assert main(["workbench", "--script-python", marker_python, "--weights-dir", "none", "--json"]) == 0
    facts = json.loads(capsys.readouterr().out)
    assert facts["packages"]["scikit-learn"] and not any("scikit-learn" in n for n in facts.get("notes", []))


def _run(sandbox: Sandbox, env, tmp_path: Path, code: str, name: str = "s"):
    runner = ScriptRunner(tmp_path / "run", {"search": {}}, sandbox=sandbox, timeout=60, limits=SMALL,
                          script_env=env)
    return runner.run(code, name)


# -- the interpreter ------------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["bwrap", "none"])
def test_scripts_run_with_the_chosen_python_and_import_its_packages(marker_python, tmp_path, mode):
    sandbox = require_bwrap() if mode == "bwrap" else probe("none")
    code = "import sys, mlestar_marker, pandas\nprint(sys.executable, mlestar_marker.VALUE)\n"
    result = _run(sandbox, environment(marker_python, "none", "none"), tmp_path, code)
    assert result.ok, result.error
    assert result.stdout_tail.split() == [marker_python, "marker-42"]
    # mle-star's own interpreter has no marker: the same script fails there
    plain = _run(sandbox, environment("", "none", "none"), tmp_path, code, "plain")
    assert not plain.ok and "No module named 'mlestar_marker'" in plain.error


def test_workbench_command_lists_the_environment(marker_python, capsys):
    assert main(["workbench", "--script-python", marker_python, "--weights-dir", "none", "--json"]) == 0
    facts = json.loads(capsys.readouterr().out)
    assert facts["executable"] == marker_python
    assert facts["python"] == sys.version.split()[0]
    assert facts["packages"]["torch"] is None and facts["packages"]["pandas"]  # torch listed as missing
    assert "mlestar-marker" in facts["others"]
    assert facts["cores"] >= 1 and facts["memory_gb"] > 0 and facts["network"] == "none"
    assert facts["cuda"] is False or facts["packages"]["torch"]
    assert main(["workbench", "--script-python", marker_python, "--weights-dir", "none"]) == 0
    text = capsys.readouterr().out
    assert "torch" in text and "missing" in text and marker_python in text


@pytest.mark.bad_input
def test_a_missing_script_python_is_one_line_exit_2(tmp_path, bc_task, capsys):
    assert main(["workbench", "--script-python", str(tmp_path / "nope" / "python")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "no such file" in err
    assert main(["run", str(bc_task), "--run-dir", str(tmp_path / "run"), "--script-python",
                 str(tmp_path / "nope" / "python"), *LOOPS]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "no such file" in err and "Traceback" not in err


@pytest.mark.bad_input
def test_a_python_without_pandas_is_refused_before_any_script(tmp_path, bc_task, capsys):
    bare = _venv(tmp_path / "bare", system_site=False)
    assert subprocess.run([str(bare), "-c", "import pandas"], capture_output=True).returncode != 0
    run_dir = tmp_path / "run"
    assert main(["run", str(bc_task), "--run-dir", str(run_dir), "--script-python", str(bare), *LOOPS]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "cannot import numpy and pandas" in err and "Traceback" not in err
    assert not (run_dir / "executions.jsonl").exists()  # no script ran
    assert main(["workbench", "--script-python", str(bare)]) == 2
    assert "numpy" in capsys.readouterr().err


@pytest.mark.bad_input
def test_a_missing_weights_folder_is_one_line_exit_2(tmp_path, capsys):
    assert main(["workbench", "--weights-dir", str(tmp_path / "gone")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "--weights-dir" in err and "no such folder" in err


def test_context_settings_come_from_the_environment_and_repeated_flags(monkeypatch, tmp_path):
    monkeypatch.setenv("MLE_STAR_SCRIPT_PYTHON", "/opt/wb/bin/python")
    monkeypatch.setenv("MLE_STAR_WEIGHTS_DIR", os.pathsep.join(["/a", "/b"]))
    ctx = Context.from_env()
    assert ctx.script_python == "/opt/wb/bin/python" and ctx.weights_dir == f"/a{os.pathsep}/b"
    assert Context().script_python == "" and Context().script_network == "none"
    from mle_star.cli import build_parser, context_overrides

    args = build_parser().parse_args(["run", "t", "--weights-dir", "/x", "--weights-dir", "/y",
                                      "--script-network", "allow"])
    over = context_overrides(args)
    assert over["weights_dir"] == f"/x{os.pathsep}/y" and over["script_network"] == "allow"
    with pytest.raises(ValueError, match="script_network"):
        Context(script_network="open").validate()  # type: ignore[arg-type]


# -- a run ------------------------------------------------------------------------------------------------
def test_a_run_in_the_workbench_with_the_network_allowed(marker_python, bc_task, tmp_path, capsys):
    """One small run: scripts use the second environment, the facts reach run.json and the
    report, and a shared network is said loudly in the terminal, run.json and the report."""
    run_dir = tmp_path / "run"
    assert main(["run", str(bc_task), "--run-dir", str(run_dir), "--script-python", marker_python,
                 "--weights-dir", "none", "--script-network", "allow", *LOOPS]) == 0
    err = capsys.readouterr().err
    assert "--script-network allow" in err and "WARNING" in err
    record = json.loads((run_dir / "run.json").read_text())
    assert record["workbench"]["executable"] == marker_python
    assert record["workbench"]["packages"]["torch"] is None
    assert record["workbench"]["network"] == "allow" and record["script_network"] == "allow"
    assert "NETWORK SHARED WITH THE HOST" in record["sandbox"]
    assert record["submission_path"]
    report = (run_dir / "report.md").read_text()
    assert "workbench: " + marker_python in report and "shared this machine's network" in report
    assert "shared this machine" in (run_dir / "report.html").read_text()


# -- pretrained weights -----------------------------------------------------------------------------------
@pytest.fixture
def weights(tmp_path) -> dict[str, Path]:
    """Three caches as libraries write them: a Hugging Face hub cache, a torch hub cache and a
    folder of save_pretrained models."""
    hub = tmp_path / "hf" / "hub"
    model = hub / "models--tiny-org--tiny-bert"
    snap = model / "snapshots" / "0123abcd"
    (model / "blobs").mkdir(parents=True)
    snap.mkdir(parents=True)
    (model / "blobs" / "cfgblob").write_text(json.dumps({"model_type": "bert", "hidden_size": 8}))
    (snap / "config.json").symlink_to(model / "blobs" / "cfgblob")
    (model / "refs").mkdir()
    (model / "refs" / "main").write_text("0123abcd")
    torch_hub = tmp_path / "torch" / "hub"
    (torch_hub / "checkpoints").mkdir(parents=True)
    (torch_hub / "checkpoints" / "tinynet-5c106cde.pth").write_bytes(b"\x80" * 2_000_000)
    folder = tmp_path / "saved"
    (folder / "my-tiny-model").mkdir(parents=True)
    (folder / "my-tiny-model" / "config.json").write_text(json.dumps({"hidden_size": 4}))
    (folder / "my-tiny-model" / "model.safetensors").write_bytes(b"\0" * 1_500_000)
    return {"hub": hub, "torch": torch_hub, "folder": folder}


def test_cached_models_are_detected(weights):
    found = find_weights((str(weights["hub"]), str(weights["torch"]), str(weights["folder"])))
    by_name = {w["name"]: w for w in found}
    assert by_name["tiny-org/tiny-bert"]["kind"] == "hf"
    assert by_name["tiny-org/tiny-bert"]["path"].endswith("snapshots/0123abcd")
    assert by_name["tinynet-5c106cde"]["kind"] == "torch_hub" and by_name["tinynet-5c106cde"]["size_mb"] == 2.0
    assert by_name["my-tiny-model"]["kind"] == "folder" and by_name["my-tiny-model"]["size_mb"] == 1.5
    assert len(found) == 3


WEIGHTS_SCRIPT = """
import json, os, socket
assert os.environ["HF_HUB_OFFLINE"] == "1" and os.environ["TRANSFORMERS_OFFLINE"] == "1"
hub = os.environ["HF_HUB_CACHE"]
model = os.path.join(hub, "models--tiny-org--tiny-bert")  # resolved by name, as huggingface_hub does offline
ref = open(os.path.join(model, "refs", "main")).read().strip()
print("hf", json.load(open(os.path.join(model, "snapshots", ref, "config.json")))["hidden_size"])
ckpt = os.path.join(os.environ["TORCH_HOME"], "hub", "checkpoints", "tinynet-5c106cde.pth")
print("torch", len(open(ckpt, "rb").read()))
print("folder", json.load(open({folder!r} + "/my-tiny-model/config.json"))["hidden_size"])
try:
    open(os.path.join(hub, "written"), "w")
    print("writable")
except OSError:
    print("read-only")
try:
    socket.create_connection(("192.0.2.1", 80), timeout=2)
    print("network")
except OSError:
    print("no network")
"""


def test_a_sandboxed_script_loads_cached_weights_offline(weights, tmp_path):
    sandbox = require_bwrap()
    dirs = os.pathsep.join(str(weights[k]) for k in ("hub", "torch", "folder"))
    code = WEIGHTS_SCRIPT.format(folder=str(weights["folder"]))
    result = _run(sandbox, environment("", dirs, "none"), tmp_path, code)
    assert result.ok, result.error
    assert result.stdout_tail.split("\n")[:5] == ["hf 8", "torch 2000000", "folder 4", "read-only", "no network"]
    # Without the weights folders the same script fails, saying what is missing.
    bare = _run(sandbox, environment("", "none", "none"), tmp_path, code, "bare")
    assert not bare.ok and "KeyError: 'HF_HUB_CACHE'" in bare.error
    folder_only = ("import json\njson.load(open(" + repr(str(weights["folder"]) + "/my-tiny-model/config.json")
                   + "))\n")
    missing = _run(sandbox, environment("", "none", "none"), tmp_path, folder_only, "missing")
    assert not missing.ok and "No such file or directory" in missing.error and "my-tiny-model" in missing.error


def test_the_workbench_lists_the_weights_and_the_retriever_ranks_them_first(weights, capsys):
    assert main(["workbench", "--weights-dir", str(weights["hub"]), "--weights-dir", str(weights["folder"]),
                 "--json"]) == 0
    facts = json.loads(capsys.readouterr().out)
    assert {w["name"] for w in facts["weights"]} == {"tiny-org/tiny-bert", "my-tiny-model"}
    _, cards = search_models("image classification cnn", weights=facts["weights"])
    assert cards[0]["model_name"].startswith("Pretrained ") and "from_pretrained" in cards[0]["example_code"]
    assert len(cards) > 2  # the catalogue follows


@pytest.mark.workbench
def test_torch_hub_loads_a_saved_network_offline(tmp_path):
    """A real torch.hub load from the read-only cache with the network off (needs a workbench
    with torch: MLE_STAR_TEST_WORKBENCH=/path/to/venv/bin/python pytest -m workbench)."""
    python = os.environ.get("MLE_STAR_TEST_WORKBENCH")
    if not python:
        pytest.skip("MLE_STAR_TEST_WORKBENCH (a Python with torch) is not set")
    torch_home = tmp_path / "torch"
    (torch_home / "hub" / "checkpoints").mkdir(parents=True)
    ckpt = torch_home / "hub" / "checkpoints" / "tiny-0123abcd.pth"
    subprocess.run([python, "-c", "import sys, torch; torch.manual_seed(0); "
                    "torch.save(torch.nn.Linear(3, 2).state_dict(), sys.argv[1])", str(ckpt)], check=True)
    code = ("import torch\n"
            "state = torch.hub.load_state_dict_from_url('https://example.invalid/w/tiny-0123abcd.pth', "
            "map_location='cpu')\n"
            "net = torch.nn.Linear(3, 2)\nnet.load_state_dict(state)\n"
            "print('loaded', tuple(net.weight.shape), torch.cuda.is_available())\n")
    sandbox = require_bwrap()
    result = _run(sandbox, environment(python, str(torch_home / "hub"), "none"), tmp_path, code)
    assert result.ok, result.error
    assert result.stdout_tail.startswith("loaded (2, 3)")
    without = _run(sandbox, environment(python, "none", "none"), tmp_path, code, "without")
    assert not without.ok  # no cache, no network: the download fails


# -- the prompts ------------------------------------------------------------------------------------------
WORKBENCH = {"python": "3.11.7", "executable": "/opt/wb/bin/python",
             "packages": {"torch": "2.13.0+cpu", "torchvision": None, "timm": None, "lightgbm": "4.7.0",
                          "numpy": "2.4.6", "pandas": "3.1.1", "tensorflow": None},
             "cuda": False, "gpus": [], "cores": 2, "memory_gb": 23.4, "script_time_limit_s": 600,
             "weights": [{"name": f"org/model-{n}", "kind": "hf", "size_mb": 12.5, "path": f"/w/{n}"}
                         for n in range(200)],
             "network": "none"}


def _all_code_prompts(task: dict) -> dict[str, str]:
    s = Settings(script_timeout=600)
    card = ModelCard(model_name="LightGBM", example_code="import lightgbm")
    code = "import pandas as pd\nprint('Final Validation Performance: 0.5')\n"
    asks = {
        "retriever": (RETRIEVER, RetrieverInputs(task=task, settings=s, search_results=[card], num_candidates=2)),
        "init_coder": (INIT_CODER, InitCoderInputs(task=task, settings=s, candidate=card)),
        "merger": (MERGER, MergerInputs(task=task, settings=s, base_code=code, base_score=0.5, candidate_code=code,
                                        candidate_score=0.4)),
        "data_usage": (DATA_USAGE_CHECKER, DataUsageInputs(task=task, settings=s, code=code)),
        "ablation": (ABLATION, AblationInputs(task=task, settings=s, code=code, score=0.5, previous_summaries=[],
                                              refined_blocks=[])),
        "refiner": (REFINER_CODER, RefinerCoderInputs(task=task, settings=s, code_block="x = 1", plan="more")),
        "ensembler": (ENSEMBLER, EnsemblerInputs(task=task, settings=s, solutions=[code, code], scores=[0.5, 0.4],
                                                 plan="average")),
        "debugger": (DEBUGGER, DebuggerInputs(task=task, settings=s, code=code, error="boom", kind="candidate")),
        "submission": (SUBMISSION, SubmissionInputs(task=task, settings=s, code=code, score=0.5)),
        "leakage_fixer": (LEAKAGE_FIXER, LeakageFixInputs(task=task, settings=s, code=code, code_block="x = 1")),
    }
    return {name: role.prompt(inputs) for name, (role, inputs) in asks.items()}


def test_every_code_writing_prompt_states_the_machine_within_a_bound(task_facts):
    task = task_facts | {"workbench": WORKBENCH}
    facts = machine_facts(WORKBENCH, 600)
    assert len(facts) <= MAX_FACTS
    assert "torch 2.13.0 (CPU only)" in facts and "no GPU, 2 cores, 23.4 GB memory" in facts
    assert "600 s per script" in facts and "torchvision" in facts and "more" in facts  # 200 models, bounded
    for name, prompt in _all_code_prompts(task).items():
        assert facts in prompt, name
        assert "600 s per script" in prompt, name
    plain = task_facts | {"workbench": WORKBENCH | {"packages": {"numpy": "2", "pandas": "3", "torch": None},
                                                      "weights": []}}
    text = machine_facts(plain["workbench"], 600)
    assert "no torch" in text and "prefer gradient boosting and small models" in text
    assert len(text) <= MAX_FACTS


def test_the_facts_reach_the_structured_payload(task_facts):
    """The offline engineer reads the payload, not the prose: task['workbench'] travels in it."""
    task = task_facts | {"workbench": WORKBENCH}
    inputs = InitCoderInputs(task=task, settings=Settings(), candidate=ModelCard(model_name="LightGBM"))
    payload = INIT_CODER.payload(inputs)
    assert payload["inputs"]["task"]["workbench"] == WORKBENCH
    assert INIT_CODER.read_payload(json.loads(json.dumps(payload))).task["workbench"] == WORKBENCH


def test_the_debugger_is_told_a_missing_module_cannot_be_installed(task_facts):
    task = task_facts | {"workbench": WORKBENCH}
    error = "Traceback (most recent call last):\n  File \"solution.py\", line 1\nModuleNotFoundError: No module named 'timm'"
    prompt = DEBUGGER.prompt(DebuggerInputs(task=task, code="import timm", error=error, kind="candidate"))
    assert "'timm' is NOT installed and cannot be installed" in prompt
    assert "lightgbm" in prompt.split("cannot be installed", 1)[1]
    other = DEBUGGER.prompt(DebuggerInputs(task=task, code="x", error="ValueError: bad", kind="candidate"))
    assert "cannot be installed (no pip" not in other.split("# Task")[0]


@pytest.mark.bad_input
def test_weights_fetch_without_huggingface_hub_is_one_line(tmp_path, capsys):
    """The download itself needs internet (not here); its refusal must still be one clear line."""
    import importlib.util

    if importlib.util.find_spec("huggingface_hub") is not None:
        pytest.skip("huggingface_hub is installed: the download would need a network")
    assert main(["weights", "fetch", "org/tiny", "--weights-dir", str(tmp_path / "w")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "pip install huggingface_hub" in err
