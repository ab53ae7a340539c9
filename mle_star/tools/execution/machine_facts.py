"""The workbench's facts in words: a bounded paragraph for every prompt that writes or fixes
code, one line for the terminal and the report, and the ``mle-star workbench`` listing."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mle_star.state import Workbench

DEEP = ("torch", "tensorflow", "jax")
MAX_FACTS = 1100  # characters of the machine facts in a prompt


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
