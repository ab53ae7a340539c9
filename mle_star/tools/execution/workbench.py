"""The workbench probe: what scripts will have, measured inside the sandbox.

A small probe script runs through the runner's own chain, with the scripts' limits: the Python
version, the versions of the ML packages that matter (from ``importlib.metadata``; only torch is
imported, to ask about CUDA), the cores and memory a script gets, the GPUs, and whether the
weights folders are visible. The facts go into ``task["workbench"]`` (prompts, the offline
engineer), run.json and the report (in words: :mod:`mle_star.tools.execution.machine_facts`).
An interpreter that does not start, or lacks numpy or pandas, is refused before any script runs.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mle_star.tools.execution.environment import WorkbenchError, find_weights, script_env

if TYPE_CHECKING:
    from mle_star.config import Context
    from mle_star.state import Workbench

# name shown -> distributions that provide it (the first installed one gives the version)
PACKAGES: dict[str, tuple[str, ...]] = {
    "torch": ("torch",), "torchvision": ("torchvision",), "torchaudio": ("torchaudio",), "timm": ("timm",),
    "transformers": ("transformers",), "sentence-transformers": ("sentence-transformers",),
    "tokenizers": ("tokenizers",), "accelerate": ("accelerate",), "peft": ("peft",),
    "huggingface-hub": ("huggingface-hub", "huggingface_hub"), "safetensors": ("safetensors",),
    "tensorflow": ("tensorflow", "tensorflow-cpu"), "keras": ("keras",), "jax": ("jax",),
    "lightgbm": ("lightgbm",), "xgboost": ("xgboost",), "catboost": ("catboost",),
    "scikit-learn": ("scikit-learn",), "statsmodels": ("statsmodels",), "optuna": ("optuna",),
    "opencv": ("opencv-python", "opencv-python-headless", "opencv-contrib-python", "opencv-contrib-python-headless"),
    "albumentations": ("albumentations",), "pillow": ("pillow",), "scikit-image": ("scikit-image",),
    "librosa": ("librosa",), "soundfile": ("soundfile",), "nltk": ("nltk",), "spacy": ("spacy",),
    "numpy": ("numpy",), "pandas": ("pandas",), "scipy": ("scipy",), "pyarrow": ("pyarrow",), "polars": ("polars",),
    "onnxruntime": ("onnxruntime", "onnxruntime-gpu"),
}
REQUIRED = ("numpy", "pandas")  # every generated script reads its data with these
# Not required (a model's own scripts may do without it), but the offline engineer's scripts
# split, preprocess and score with it: without a warning they fail one by one and the run
# submits its prior.
SKLEARN_NOTE = ("scikit-learn is not installed: the offline engineer's scripts import it (splits, "
                "preprocessing, metrics) and will all fail; install it there or choose another --script-python")
MAX_OTHERS = 300  # other installed distributions named (by `mle-star workbench`, not in prompts)
PROBE_TIMEOUT = 180.0  # importing torch and starting CUDA can take a while on a cold disk


_PROBE = r'''
import importlib.metadata as md, json, os, resource, shutil, subprocess, sys
PACKAGES, REQUIRED, WEIGHTS, MAX_OTHERS = json.loads(sys.argv[1])
out = {"python": sys.version.split()[0], "executable": sys.executable, "packages": {}, "errors": {},
       "cuda": False, "gpus": [], "weights_visible": [os.path.isdir(w) for w in WEIGHTS]}
for name, dists in PACKAGES.items():
    version = None
    for dist in dists:
        try:
            version = md.version(dist)
            break
        except md.PackageNotFoundError:
            continue
    out["packages"][name] = version
known = {d.lower().replace("_", "-") for dists in PACKAGES.values() for d in dists}
others = set()
for dist in md.distributions():
    name = (dist.metadata["Name"] or "").lower().replace("_", "-")
    if name and name not in known:
        others.add(name)
out["others"] = sorted(others)[:MAX_OTHERS]
for module in REQUIRED:
    try:
        __import__(module)
    except BaseException as exc:
        out["errors"][module] = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"[:200]
out["cores"] = int(os.environ.get("MLE_STAR_THREADS") or len(os.sched_getaffinity(0)))
memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
    try:
        value = open(path).read().strip()
    except OSError:
        continue
    if value.isdigit():
        memory = min(memory, int(value))
soft = resource.getrlimit(resource.RLIMIT_AS)[0]
if soft != resource.RLIM_INFINITY:
    memory = min(memory, soft)
out["memory_gb"] = round(memory / 1024**3, 1)
if out["packages"].get("torch"):
    try:
        import torch
        out["cuda"] = bool(torch.cuda.is_available())
        for i in range(torch.cuda.device_count() if out["cuda"] else 0):
            props = torch.cuda.get_device_properties(i)
            out["gpus"].append({"name": props.name, "memory_gb": round(props.total_memory / 1024**3, 1)})
    except BaseException as exc:
        out["errors"]["torch"] = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"[:200]
if not out["gpus"] and shutil.which("nvidia-smi"):
    try:
        smi = subprocess.run(["nvidia-smi", "--query-gpu=name,memory.total", "--format=csv,noheader,nounits"],
                             capture_output=True, text=True, timeout=30)
        for line in smi.stdout.strip().splitlines():
            name, _, mib = line.rpartition(",")
            out["gpus"].append({"name": name.strip(), "memory_gb": round(float(mib) / 1024, 1)})
    except (OSError, ValueError, subprocess.SubprocessError):
        pass
with open("workbench.json", "w") as fh:
    json.dump(out, fh)
'''


def measure(ctx: Context, sandbox: Any = None) -> Workbench:
    """Run the probe script inside the sandbox scripts get, with their limits and threads, and
    return the facts; WorkbenchError (one line) when the interpreter cannot serve scripts."""
    from mle_star.tools.execution.resources import limits, script_threads
    from mle_star.tools.execution.runner import ScriptRunner
    from mle_star.tools.execution.sandbox import probe

    env = script_env(ctx)
    sandbox = sandbox or probe(ctx.sandbox)
    spec = json.dumps([PACKAGES, list(REQUIRED), list(env.weights), MAX_OTHERS])
    code = f"import sys\nsys.argv[1:] = [{spec!r}]\n" + _PROBE

    def run_probe(script_limits: Any) -> dict[str, Any]:
        with tempfile.TemporaryDirectory(prefix="mle-star-workbench-") as tmp:
            runner = ScriptRunner(tmp, {"probe": {}}, sandbox=sandbox, timeout=PROBE_TIMEOUT,
                                  max_parallel=ctx.max_parallel, limits=script_limits, threads=script_threads(ctx),
                                  script_env=env)
            result = runner.run(code, "workbench", view="probe", outputs=("workbench.json",))
            facts_path = result.outputs.get("workbench.json")
            if not result.ok or not facts_path:
                tail = (result.stderr_tail.strip().splitlines()
                        or [result.error or f"exit code {result.returncode}"])[-1]
                raise WorkbenchError(f"the script Python {env.python} does not run inside the sandbox: {tail[:240]}")
            return dict(json.loads(Path(facts_path).read_text()))

    notes: list[str] = []
    raw = run_probe(limits(ctx))
    missing = {m: raw["errors"][m] for m in REQUIRED if m in raw["errors"]}
    if missing and ctx.script_memory_gb > 0:
        # The interpreter may be sound and the user's --script-memory-gb too small for numpy:
        # that is the scripts' problem to report (they fail, the run submits its prior), not a
        # broken workbench. Probe once more without the memory cap to tell the two apart.
        unlimited = replace(limits(ctx), memory_bytes=None)
        lifted = run_probe(unlimited)
        if not any(m in lifted["errors"] for m in REQUIRED):
            notes.append(f"{' and '.join(missing)} cannot be imported within --script-memory-gb "
                         f"{ctx.script_memory_gb:g}: scripts will fail until the limit is raised")
            raw = lifted | {"memory_gb": raw["memory_gb"]}
            missing = {}
    if missing:
        why = "; ".join(f"{m}: {e}" for m, e in missing.items())
        raise WorkbenchError(f"the script Python {env.python} cannot import {' and '.join(missing)} inside the "
                             f"sandbox ({why}); scripts need numpy and pandas: install them there or choose another "
                             "--script-python")
    hidden = [w for w, seen in zip(env.weights, raw["weights_visible"], strict=False) if not seen]
    weights = [w for w in find_weights(env.weights) if not any(w["path"].startswith(h) for h in hidden)]
    facts: Workbench = {
        "python": raw["python"], "executable": env.python, "packages": raw["packages"], "cuda": raw["cuda"],
        "gpus": raw["gpus"], "cores": raw["cores"], "memory_gb": raw["memory_gb"],
        "script_time_limit_s": int(round(ctx.script_timeout)), "weights": weights, "network": ctx.script_network,
    }
    facts["others"] = raw.get("others", [])
    if not raw["packages"].get("scikit-learn"):
        notes.append(SKLEARN_NOTE)
    if raw["errors"].get("torch"):
        notes.append(f"torch is installed but does not import: {raw['errors']['torch']}")
    if notes:
        facts["notes"] = notes
    return facts
