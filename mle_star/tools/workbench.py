"""The workbench: the Python environment scripts run in, and what it gives them.

Scripts run with ``--script-python`` (default: mle-star's own interpreter). Its folders (the
prefix, a venv's base interpreter, site-packages folders on its path) are mounted read-only in
the sandbox, with the pretrained-weights folders (``--weights-dir``, default the user's Hugging
Face and torch hub caches where they exist) and the offline switches that make
``from_pretrained(name)`` and ``torch.hub`` read those caches without a network.

What scripts will have is *measured inside the sandbox*, through the runner's own chain, by a
small probe script: the Python version, the versions of the ML packages that matter (from
``importlib.metadata``; only torch is imported, to ask about CUDA), the cores and memory a
script gets, the GPUs, and whether the weights folders are visible. The facts go into
``task["workbench"]`` (prompts, the offline engineer), run.json and the report. An interpreter
that does not start, or lacks numpy or pandas, is refused before any script runs.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from mle_star.tools.sandbox import (
    InterpreterUnusable,
    describe_interpreter,
    python_layout,
    read_only_binds,
)

if TYPE_CHECKING:
    from mle_star.config import Context
    from mle_star.state import WeightsEntry, Workbench

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
DEEP = ("torch", "tensorflow", "jax")
MAX_WEIGHTS = 40  # cached models listed (the task facts show fewer)
MAX_OTHERS = 300  # other installed distributions named (by `mle-star workbench`, not in prompts)
MAX_SCAN = 4000  # directory entries looked at per weights folder
MAX_FACTS = 1100  # characters of the machine facts in a prompt
PROBE_TIMEOUT = 180.0  # importing torch and starting CUDA can take a while on a cold disk
HUB_ENV = ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE")
NETWORK_WARNING = ("WARNING: --script-network allow: scripts share this machine's network; a model-written "
                   "script can reach anything this machine can (the sandbox still hides files)")


class WorkbenchError(ValueError):
    """The script Python or a weights folder cannot be used; ``str()`` is one line saying why."""


# -- the environment a script runs in ---------------------------------------------------------------
@dataclass(frozen=True)
class ScriptEnv:
    """How scripts are started: the interpreter, what is mounted read-only, their extra
    variables and whether they share the host's network."""

    python: str  # absolute path, not resolved (a venv's bin/python is a link to its base)
    python_binds: tuple[str, ...]
    weights: tuple[str, ...]  # weights folders, read-only at their own paths
    env: tuple[tuple[str, str], ...]
    network: bool = False

    def key(self) -> str:
        """What distinguishes these scripts' results from the default environment's ('' for it)."""
        if self.python == sys.executable and not self.weights and not self.network:
            return ""
        return f"|python={self.python}|weights={os.pathsep.join(self.weights)}|network={self.network}"

    def spec(self) -> dict[str, Any]:
        """Plain values that rebuild this environment on another machine (a Ray worker)."""
        return {"python": self.python, "weights": list(self.weights), "network": self.network}


def resolve_python(value: str) -> str:
    """The script interpreter's absolute path ('' = this one); WorkbenchError if it is no program."""
    if not value:
        return sys.executable
    path = value if "/" in value else (shutil.which(value) or value)
    path = os.path.abspath(os.path.expanduser(path))
    if not os.path.exists(path):
        raise WorkbenchError(f"--script-python {value}: no such file")
    if os.path.isdir(path) or not os.access(path, os.X_OK):
        raise WorkbenchError(f"--script-python {value}: not an executable program")
    return path


def hub_cache_default() -> str:
    """The user's Hugging Face hub cache (HF_HUB_CACHE, else HF_HOME/hub, else ~/.cache/huggingface/hub)."""
    hf = (os.environ.get("HF_HUB_CACHE") or os.environ.get("HUGGINGFACE_HUB_CACHE")
          or (os.path.join(os.environ["HF_HOME"], "hub") if os.environ.get("HF_HOME") else "")
          or str(Path.home() / ".cache" / "huggingface" / "hub"))
    return os.path.abspath(os.path.expanduser(hf))


def default_weight_dirs() -> list[str]:
    """The user's Hugging Face hub cache and torch hub cache (TORCH_HOME/hub), where they exist."""
    torch_home = os.environ.get("TORCH_HOME") or str(Path.home() / ".cache" / "torch")
    dirs = (hub_cache_default(), os.path.abspath(os.path.join(os.path.expanduser(torch_home), "hub")))
    return [d for d in dirs if os.path.isdir(d)]


def weight_dirs(value: str) -> tuple[str, ...]:
    """``--weights-dir`` values (os.pathsep-separated; '' = the default caches, 'none' = no weights)."""
    if not value.strip():
        return tuple(default_weight_dirs())
    if value.strip().lower() == "none":
        return ()
    dirs: list[str] = []
    for raw in value.split(os.pathsep):
        if not raw.strip():
            continue
        path = os.path.abspath(os.path.expanduser(raw.strip()))
        if not os.path.isdir(path):
            raise WorkbenchError(f"--weights-dir {raw}: no such folder")
        if path not in dirs:
            dirs.append(path)
    return tuple(dirs)


def _hub_cache(path: str) -> str | None:
    """The Hugging Face hub cache in ``path`` (the cache itself, or an HF_HOME holding hub/)."""
    for candidate in (path, os.path.join(path, "hub")):
        try:
            if any(e.startswith("models--") for e in os.listdir(candidate)):
                return candidate
        except OSError:
            continue
    return None


def _torch_home(path: str) -> str | None:
    """TORCH_HOME for a torch hub cache in ``path`` (TORCH_HOME, its hub/, or hub/checkpoints)."""
    p = Path(path)
    if (p / "hub" / "checkpoints").is_dir():
        return str(p)
    if p.name == "hub" and (p / "checkpoints").is_dir():
        return str(p.parent)
    if p.name == "checkpoints" and p.parent.name == "hub":
        return str(p.parent.parent)
    return None


def weight_env(dirs: tuple[str, ...], network: bool) -> dict[str, str]:
    """Variables that point the libraries at the read-only caches (the first of each kind), and
    the offline switches when scripts have no network."""
    env: dict[str, str] = {}
    if dirs:
        env["MLE_STAR_WEIGHTS"] = os.pathsep.join(dirs)
    hub = next((h for h in map(_hub_cache, dirs) if h), None)
    if hub:
        env |= {name: hub for name in HUB_ENV}
    torch_home = next((t for t in map(_torch_home, dirs) if t), None)
    if torch_home:
        env["TORCH_HOME"] = torch_home
    if not network:
        env |= {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    env["HF_HUB_DISABLE_TELEMETRY"] = "1"
    return env


@functools.lru_cache(maxsize=16)
def environment(python: str = "", weights: str = "", network: str = "none") -> ScriptEnv:
    """The ScriptEnv for these settings (bad ones: WorkbenchError with one line)."""
    exe = resolve_python(python)
    try:
        if exe != sys.executable:
            # What the interpreter calls itself: a venv's bin/python stays (it names the venv), a
            # launcher such as a pyenv shim (a shell script that needs the home folder) is replaced
            # by the real interpreter it starts.
            exe = describe_interpreter(exe)["executable"] or exe
        binds, layout_env = python_layout(None if exe == sys.executable else exe)
    except InterpreterUnusable as exc:
        raise WorkbenchError(str(exc)) from None
    dirs = weight_dirs(weights)
    allow = network == "allow"
    env = dict(layout_env) | weight_env(dirs, allow)
    return ScriptEnv(python=exe, python_binds=binds, weights=read_only_binds(dirs) if dirs else (),
                     env=tuple(sorted(env.items())), network=allow)


def script_env(ctx: Context) -> ScriptEnv:
    return environment(ctx.script_python, ctx.weights_dir, ctx.script_network)


def default_env() -> ScriptEnv:
    """mle-star's own interpreter, no weights, no network (the runner's default)."""
    return environment("", "none", "none")


# -- pretrained weights found in the folders -----------------------------------------------------------
def _size(path: Path, budget: list[int]) -> int:
    """Bytes under ``path`` (files, never following links), at most ``budget[0]`` entries looked at."""
    if path.is_file():
        return path.stat().st_size
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            budget[0] -= 1
            if budget[0] < 0:
                return total
            try:
                total += os.stat(os.path.join(root, name)).st_size  # HF snapshots link to blobs: follow
            except OSError:
                pass
    return total


def _entry(name: str, kind: Literal["hf", "torch_hub", "folder"], path: Path, size: int) -> WeightsEntry:
    return {"name": name, "kind": kind, "size_mb": round(size / 1e6, 1), "path": str(path)}


def _hf_models(hub: Path, budget: list[int]) -> list[WeightsEntry]:
    found: list[WeightsEntry] = []
    for model in sorted(hub.glob("models--*"))[:MAX_WEIGHTS]:
        name = model.name[len("models--"):].replace("--", "/")
        snapshots = sorted((model / "snapshots").glob("*"), key=lambda p: p.stat().st_mtime, reverse=True)
        ref = model / "refs" / "main"
        if ref.is_file() and (model / "snapshots" / ref.read_text().strip()).is_dir():
            snapshots.insert(0, model / "snapshots" / ref.read_text().strip())
        if snapshots:
            found.append(_entry(name, "hf", snapshots[0], _size(model / "blobs", budget)))
    return found


def find_weights(dirs: tuple[str, ...]) -> list[WeightsEntry]:
    """The cached models in the weights folders, bounded: Hugging Face hub snapshots
    (``models--org--name``), torch hub checkpoints (``checkpoints/*.pth``) and plain folders with a
    ``config.json`` (a ``save_pretrained`` model, named after its folder)."""
    found: list[WeightsEntry] = []
    seen: set[str] = set()
    for base in dirs:
        budget = [MAX_SCAN]
        hub = _hub_cache(base)
        if hub:
            found += _hf_models(Path(hub), budget)
        torch_home = _torch_home(base)
        if torch_home:
            for ckpt in sorted((Path(torch_home) / "hub" / "checkpoints").iterdir()):
                if ckpt.is_file() and ckpt.suffix in (".pth", ".pt", ".bin", ".safetensors", ".ckpt"):
                    found.append(_entry(ckpt.name.split(".")[0], "torch_hub", ckpt, ckpt.stat().st_size))
        for root, subdirs, files in os.walk(base):
            budget[0] -= len(subdirs) + len(files)
            depth = Path(root).relative_to(base).parts
            if budget[0] < 0 or any(p.startswith("models--") or p in ("checkpoints", ".locks") for p in depth):
                subdirs[:] = []
                continue
            if "config.json" in files:
                found.append(_entry(Path(root).name, "folder", Path(root), _size(Path(root), [MAX_SCAN])))
                subdirs[:] = []
            elif len(depth) >= 2:
                subdirs[:] = []
            else:
                subdirs[:] = [d for d in subdirs if not d.startswith((".", "models--"))]
        if len(found) >= MAX_WEIGHTS:
            break
    unique = []
    for entry in found:
        if entry["path"] not in seen:
            seen.add(entry["path"])
            unique.append(entry)
    return unique[:MAX_WEIGHTS]


# -- the probe, inside the sandbox --------------------------------------------------------------------------
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
    from mle_star.tools.executor import limits, script_threads
    from mle_star.tools.runner import ScriptRunner
    from mle_star.tools.sandbox import probe

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
    if raw["errors"].get("torch"):
        notes.append(f"torch is installed but does not import: {raw['errors']['torch']}")
    if notes:
        facts["notes"] = notes
    return facts


# -- the facts in words -------------------------------------------------------------------------------------
def _version(version: str) -> str:
    return ".".join(version.split("+")[0].split(".")[:3])


def _hardware(wb: Workbench) -> str:
    if wb["gpus"]:
        names = sorted({g["name"] for g in wb["gpus"]})
        gpu = f"{len(wb['gpus'])} GPU{'s' if len(wb['gpus']) > 1 else ''} ({', '.join(names)}, " \
              f"{wb['gpus'][0]['memory_gb']:g} GB each)"
    else:
        gpu = "no GPU"
    return f"{gpu}, {wb['cores']} core{'s' if wb['cores'] != 1 else ''}, {wb['memory_gb']:g} GB memory"


def machine_facts(wb: Workbench | None, script_timeout: float, limit: int = MAX_FACTS) -> str:
    """What scripts run on, in a few bounded lines for every prompt that writes or fixes code:
    hardware, the per-script time limit, the deep-learning stack, installed and missing
    packages, cached weights and the network."""
    seconds = f"{script_timeout:.0f} s per script (ablation and final scripts: {2 * script_timeout:.0f} s)"
    if not wb:
        return f"Machine: {seconds}; no network; install nothing."
    pkgs = wb["packages"]
    torch = pkgs.get("torch")
    if torch:
        stack = f"torch {_version(torch)} ({'CUDA' if wb['cuda'] else 'CPU only'})"
        stack += "".join(f", {n} {_version(pkgs[n] or '')}" for n in ("torchvision", "torchaudio", "timm",
                                                                     "transformers", "sentence-transformers")
                         if pkgs.get(n))
    else:
        stack = "no torch"
    others = [n for n in DEEP[1:] if pkgs.get(n)]
    if others:
        stack += "; " + ", ".join(f"{n} {_version(pkgs[n] or '')}" for n in others)
    lines = [f"Machine (every script): Python {wb['python']}; {_hardware(wb)}; {seconds}; {stack}."]
    if not torch and not others:
        lines.append("No deep-learning framework: prefer gradient boosting and small models.")
    elif torch and not wb["cuda"]:
        lines.append("torch runs on the CPU only: keep networks small and epochs few, or use pretrained features.")
    elif torch:
        lines.append("Use the GPU (device 'cuda') for neural networks.")
    shown = {"torch", "torchvision", "torchaudio", "timm", "transformers", "sentence-transformers", *DEEP}
    have = [f"{n} {_version(v)}" for n, v in pkgs.items() if v and n not in shown]
    lines.append("Installed: " + (", ".join(have) or "(none of the usual ML packages)") + ".")
    missing = [n for n, v in pkgs.items() if not v]
    if missing:
        lines.append("NOT installed, and nothing can be installed (no pip, no network): " + ", ".join(missing) + ".")
    network = ("The network is shared with this machine." if wb.get("network") == "allow"
               else "There is no network.")
    if wb["weights"]:
        entries = [f"{w['name']} ({w['kind']}, {w['size_mb']:g} MB" + (f", {w['path']}" if w["kind"] != "hf" else "")
                   + ")" for w in wb["weights"]]
        head = "Cached pretrained weights (read-only, offline; load hf ones with from_pretrained(name), others by path): "
        text, budget = head, limit - sum(len(x) + 1 for x in lines) - len(network) - 40
        for n, entry in enumerate(entries):
            if len(text) + len(entry) + 2 > budget:
                text += f"... and {len(entries) - n} more"
                break
            text += ("; " if n else "") + entry
        lines.append(text + ".")
    else:
        lines.append("No pretrained weights are cached: train from scratch (downloads fail).")
    lines.append(network)
    out = "\n".join(lines)
    return out if len(out) <= limit else out[: limit - 4] + " ..."


def summary(wb: Workbench | None) -> str:
    """One line for the terminal, run.json readers and the report."""
    if not wb:
        return "not probed"
    torch = wb["packages"].get("torch")
    deep = f"torch {torch} ({'CUDA' if wb['cuda'] else 'CPU'})" if torch else "no torch"
    missing = sum(1 for v in wb["packages"].values() if not v)
    net = "NETWORK SHARED WITH THE HOST" if wb.get("network") == "allow" else "no network"
    return (f"{wb['executable']} (Python {wb['python']}): {_hardware(wb)}; {deep}; "
            f"{len(wb['packages']) - missing} of {len(wb['packages'])} ML packages; "
            f"{len(wb['weights'])} cached model(s); {net}")


def missing_module(error: str) -> str | None:
    """The module a ``ModuleNotFoundError: No module named 'X'`` names (its top-level package)."""
    import re

    match = re.search(r"ModuleNotFoundError: No module named '([^']+)'", error)
    return match.group(1).split(".")[0] if match else None


def render(wb: Workbench) -> str:
    """The ``mle-star workbench`` listing for a person."""
    out = [f"python:   {wb['python']} ({wb['executable']})",
           f"machine:  {_hardware(wb)} per script; {wb['script_time_limit_s']} s per script",
           f"cuda:     {'yes' if wb['cuda'] else 'no'}" + ("" if wb["packages"].get("torch") else " (no torch)"),
           f"network:  {'ALLOWED: scripts share this machine network' if wb['network'] == 'allow' else 'none'}",
           "packages:"]
    width = max(len(n) for n in wb["packages"])
    out += [f"  {n.ljust(width)}  {v or 'missing'}" for n, v in wb["packages"].items()]
    if wb.get("others"):
        out.append(f"others:   {', '.join(wb.get('others', []))}")
    out.append("weights:" + ("" if wb["weights"] else " none found"))
    out += [f"  {w['name']} ({w['kind']}, {w['size_mb']:g} MB) {w['path']}" for w in wb["weights"]]
    out += [f"note:     {n}" for n in wb.get("notes", [])]
    return "\n".join(out)


def fetch(names: list[str], target: str) -> list[str]:
    """Download models from the Hugging Face hub into the cache ``target`` (outside the sandbox,
    for users with internet); the snapshot folders. WorkbenchError with one line on failure."""
    try:
        from huggingface_hub import snapshot_download
    except ImportError:
        raise WorkbenchError("mle-star weights fetch needs huggingface_hub: pip install huggingface_hub") from None
    Path(target).mkdir(parents=True, exist_ok=True)
    paths = []
    for name in names:
        try:
            paths.append(snapshot_download(repo_id=name, cache_dir=target))
        except Exception as exc:  # noqa: BLE001 - offline, unknown repo, gated model: one line each
            line = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:240]
            raise WorkbenchError(f"cannot download {name} into {target}: {type(exc).__name__}: {line}") from None
    return paths


__all__ = ["PACKAGES", "ScriptEnv", "WorkbenchError", "default_env", "environment", "fetch", "find_weights",
           "machine_facts", "measure", "missing_module", "render", "script_env", "summary", "weight_dirs"]
