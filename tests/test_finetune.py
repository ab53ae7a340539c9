"""Fine-tuning a cached torchvision ResNet (issue 21, item 6): offered only where the workbench
has torch and its weights folders hold a ResNet checkpoint; defined in plain torch with
torchvision's parameter names, since torchvision does not import beside every torch build.

The scripts run with the interpreter named by MLE_STAR_TEST_WORKBENCH (see test_neural.py);
without it those tests are skipped.
"""

# ruff: noqa: F811 - pytest fixtures are imported by name
from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest
from test_engineer_support import (  # noqa: F401 - fixtures
    code_of,
    prepared,
    task_dirs,
)
from test_neural import NETWORK, candidates, scripts, with_facts, workbench_python

from mle_star.engineer.pretrained import RESNET_CODE
from mle_star.engineer.recipe import block_span, parse_recipe
from mle_star.prompts.roles import ModelCard

CHECKPOINT = "resnet18-f37072fd.pth"  # torchvision's ResNet-18 file in the torch hub cache
FINETUNE = "Fine-tune pretrained ResNet-18 (cached weights, PyTorch)"


def cached(name: str, path: str = "/cache/hub/checkpoints") -> dict:
    """A weights entry as the probe lists a torch hub checkpoint."""
    return {"name": name.split(".")[0], "kind": "torch_hub", "size_mb": 46.8, "path": f"{path}/{name}"}


def with_weights(task: dict, torch: str | None, *weights: dict) -> dict:
    task = with_facts(task, torch)
    task["workbench"] = task["workbench"] | {"weights": list(weights)}
    return task


# -- without a cached ResNet nothing changes -----------------------------------------------------

@pytest.mark.parametrize("name", ["digits-zip", "audio-wav"])
def test_without_a_cached_resnet_the_scripts_are_unchanged(name, task_dirs, tmp_path):
    task = dict(prepared(task_dirs(name), tmp_path / "run").task)
    task.pop("workbench", None)
    for torch in (None, "2.13.0"):
        plain = scripts(with_facts(task, torch))
        assert candidates(with_facts(task, torch)) == candidates(with_weights(task, torch, cached("vgg16-397923af.pth")))
        assert scripts(with_weights(task, torch, cached("vgg16-397923af.pth"))) == plain  # another architecture
        assert not any("FineTunedResNet" in code or "raw_pixels" in code for code in plain)
    # a cached ResNet without torch, or on audio clips: the same scripts as without it
    assert scripts(with_weights(task, None, cached(CHECKPOINT))) == scripts(with_facts(task, None))
    if name == "audio-wav":  # the fine-tune is for images only
        assert scripts(with_weights(task, "2.13.0", cached(CHECKPOINT))) == scripts(with_facts(task, "2.13.0"))


# -- with one, the fine-tune leads a path ---------------------------------------------------------

def test_with_a_cached_resnet_its_fine_tune_leads_one_path_and_the_scratch_network_the_other(task_dirs, tmp_path):
    task = dict(prepared(task_dirs("digits-zip"), tmp_path / "run").task)
    ckpt = cached(CHECKPOINT)
    tuned = with_weights(task, "2.13.0", ckpt)
    assert candidates(tuned, paths=2, path=0)[0] == FINETUNE
    assert candidates(tuned, paths=2, path=1)[0] == NETWORK
    code = code_of("init_coder", tuned, candidate=ModelCard(model_name=FINETUNE))
    recipe = parse_recipe(code)
    model = recipe["model"]["models"][0]
    assert model["family"] == "resnet" and model["params"]["weights"] == ckpt["path"]
    assert model["params"]["arch"] == "resnet18" and model["params"]["size"] == 64
    assert recipe["load"]["grid"] == 32 and recipe["load"]["channels"] == 3 and "GRID = (3, 32, 32)" in code
    assert recipe["preprocess"]["raw_pixels"] is True and 'if family == "resnet" and num:' in code
    assert "def plain_resnet(arch: str):" in block_span(code, "model") and "weights_only=True" in code
    # the retriever's card for the cached checkpoint stands for the same model
    weight_card = "Pretrained resnet18-f37072fd (cached weights, torch_hub, 46.8 MB)"
    assert code_of("init_coder", tuned, candidate=ModelCard(model_name=weight_card)) == code
    # a member of blends like any family: the scratch network merged into it
    merged = code_of("merger", tuned, base_code=code, base_score=None, candidate_score=None,
                     candidate_code=code_of("init_coder", tuned, candidate=ModelCard(model_name=NETWORK)))
    assert [m["family"] for m in parse_recipe(merged)["model"]["models"]] == ["resnet", "cnn"]
    assert "class SmallCNN" in merged and "class FineTunedResNet" in merged
    plan = ask_plan(tuned, code)
    assert plan.startswith("[model:resnet_")


def ask_plan(task: dict, code: str) -> str:
    from test_engineer_support import ask

    return ask("refiner_planner", task, code_block=block_span(code, "model"), history=[], base_score=None)


def test_a_gpu_takes_the_largest_cached_resnet_and_a_finer_grid(task_dirs, tmp_path):
    task = dict(prepared(task_dirs("digits-zip"), tmp_path / "run").task)
    both = [cached(CHECKPOINT), cached("resnet50-0676ba61.pth")]
    cpu = with_weights(task, "2.13.0", *both)
    gpu = with_weights(task, "2.13.0", *both)
    gpu["workbench"] |= {"cuda": True, "gpus": [{"name": "NVIDIA H100", "memory_gb": 80.0}]}
    assert candidates(cpu)[0] == FINETUNE
    assert candidates(gpu)[0] == "Fine-tune pretrained ResNet-50 (cached weights, PyTorch)"
    model = parse_recipe(code_of("init_coder", gpu, candidate=ModelCard(model_name=candidates(gpu)[0])))
    assert model["model"]["models"][0]["params"]["arch"] == "resnet50" and model["load"]["grid"] == 64
    assert model["model"]["models"][0]["params"]["size"] == 128


# -- the architecture is torchvision's -----------------------------------------------------------

# Facts of torchvision's resnet18().state_dict() (torchvision cannot be imported here).
RESNET18_KEYS = 122  # 62 parameter tensors, 60 batch-norm buffers
RESNET18_PARAMETERS = 11_689_512
RESNET18_SHAPES = {"conv1.weight": [64, 3, 7, 7], "bn1.running_var": [64], "layer1.0.conv1.weight": [64, 64, 3, 3],
                   "layer2.0.downsample.0.weight": [128, 64, 1, 1], "layer3.1.bn2.num_batches_tracked": [],
                   "layer4.1.conv2.weight": [512, 512, 3, 3], "fc.weight": [1000, 512], "fc.bias": [1000]}
TORCHVISION_PARAMETERS = {"resnet34": 21_797_672, "resnet50": 25_557_032}

ARCH_PROBE = RESNET_CODE.split("\nclass FineTunedResNet")[0] + '''
import json, sys
import torch

out = {}
for arch in ("resnet18", "resnet34", "resnet50"):
    net = plain_resnet(arch)
    out[arch] = {"keys": {k: list(v.shape) for k, v in net.state_dict().items()},
                 "parameters": sum(p.numel() for p in net.parameters())}
net = plain_resnet("resnet18").eval()
torch.save(net.state_dict(), sys.argv[1])
again = plain_resnet("resnet18").eval()
again.load_state_dict(torch.load(sys.argv[1], weights_only=True))  # strict: every name matches
x = torch.randn(2, 3, 64, 64)
out["same_output"] = bool(torch.equal(net(x), again(x)))
print(json.dumps(out))
'''


def test_the_plain_torch_resnet_has_torchvisions_names_and_shapes(tmp_path):
    python = workbench_python()
    done = subprocess.run([python, "-c", ARCH_PROBE, str(tmp_path / CHECKPOINT)], capture_output=True, text=True,
                          timeout=120, env={"PATH": "/usr/bin:/bin", "OMP_NUM_THREADS": "1"})
    assert done.returncode == 0, done.stderr[-3000:]
    facts = json.loads(done.stdout)
    keys = facts["resnet18"]["keys"]
    assert len(keys) == RESNET18_KEYS and facts["resnet18"]["parameters"] == RESNET18_PARAMETERS
    assert {k: keys[k] for k in RESNET18_SHAPES} == RESNET18_SHAPES
    assert sum(k.endswith("num_batches_tracked") for k in keys) == 20
    assert all(re.fullmatch(r"(conv1|bn1|fc|layer[1-4]\.\d\.(conv[12]|bn[12]|downsample\.[01]))\.\w+", k) for k in keys)
    for arch, count in TORCHVISION_PARAMETERS.items():
        assert facts[arch]["parameters"] == count
    assert facts["resnet50"]["keys"]["layer1.0.conv3.weight"] == [256, 64, 1, 1]
    assert facts["same_output"]


# -- end to end ----------------------------------------------------------------------------------

def save_random_resnet18(python: str, weights_dir: Path) -> Path:
    """A ResNet-18 with random weights in torchvision's key layout, where the torch hub cache keeps it."""
    path = weights_dir / "hub" / "checkpoints" / CHECKPOINT
    path.parent.mkdir(parents=True)
    code = RESNET_CODE.split("\nclass FineTunedResNet")[0] + (
        "\nimport sys, torch\ntorch.manual_seed(0)\ntorch.save(plain_resnet('resnet18').state_dict(), sys.argv[1])\n")
    subprocess.run([python, "-c", code, str(path)], check=True, timeout=120, env={"PATH": "/usr/bin:/bin"})
    return path


@pytest.mark.workbench
def test_a_run_with_a_cached_resnet_fine_tunes_it(task_dirs, tmp_path):
    """``mle-star run --script-python --weights-dir`` on the image example: the fine-tune is a
    candidate in the journal, an executed script loaded the checkpoint, the submission is valid."""
    python = workbench_python()
    checkpoint = save_random_resnet18(python, tmp_path / "weights")
    run_dir = tmp_path / "run"
    command = ["mle-star", "run", str(task_dirs("digits-zip")), "--run-dir", str(run_dir), "--script-python", python,
               "--weights-dir", str(tmp_path / "weights"), "--num-candidates", "1", "--outer-loops", "1",
               "--inner-loops", "1", "--parallel-solutions", "1", "--ensemble-rounds", "1", "--script-timeout", "60",
               "--time-limit", "120", "--quiet"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=400,
                          env={**os.environ, "OMP_WAIT_POLICY": "passive"})
    assert done.returncode == 0, done.stderr[-3000:]
    assert (run_dir / "final" / "submission.csv").is_file()
    record = json.loads((run_dir / "run.json").read_text())
    assert record["workbench"]["weights"][0]["path"] == str(checkpoint)
    tuned = [e for e in record["journal"] if e["kind"] == "candidate" and e["plan"] == FINETUNE]
    assert tuned and tuned[0]["ok"] and tuned[0]["score"] is not None, record["journal"]
    loaded = f"pretrained weights loaded from {checkpoint} (plain torch)"
    outputs = [p for p in run_dir.glob("scripts/**/stdout.txt") if loaded in p.read_text(errors="replace")]
    assert outputs, "no executed script's output says it loaded the checkpoint"
    assert (run_dir / "scripts" / "path0" / "init_0" / "stdout.txt") in outputs
