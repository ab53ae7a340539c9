"""The environment a script runs in: its interpreter, what is mounted read-only, and the
pretrained weights it may read.

Scripts run with ``--script-python`` (default: mle-star's own interpreter). Its folders (the
prefix, a venv's base interpreter, site-packages folders on its path) are mounted read-only in
the sandbox, with the pretrained-weights folders (``--weights-dir``, default the user's Hugging
Face and torch hub caches where they exist) and the offline switches that make
``from_pretrained(name)`` and ``torch.hub`` read those caches without a network. What that
environment gives scripts is measured by :mod:`mle_star.tools.execution.workbench`.
"""

from __future__ import annotations

import functools
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from mle_star.tools.execution.sandbox import (
    InterpreterUnusable,
    describe_interpreter,
    python_layout,
    read_only_binds,
)

if TYPE_CHECKING:
    from mle_star.config import Context
    from mle_star.state import WeightsEntry

MAX_WEIGHTS = 40  # cached models listed (the task facts show fewer)
MAX_SCAN = 4000  # directory entries looked at per weights folder
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


