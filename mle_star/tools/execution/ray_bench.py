"""Benchmarks across a Ray cluster: several task runs at once, each a Ray task with its share.

``mle-star bench --executor ray`` turns each task of the benchmark into a :class:`ClusterJob`:
one ``mle-star run`` command that runs on a worker node inside a Ray task reserving its share of
the cluster's CPUs (``share_of_cluster``), with the local executor and ``--max-parallel`` set to
that share, so its scripts stay within what Ray reserved for it. Ray places the jobs on free
nodes and queues the rest, so a bigger cluster runs more of them at once.

Files travel like a run's inputs (:mod:`mle_star.tools.execution.ray_data`): a worker that sees the task
folder and the output folder at the driver's paths works in place; otherwise the task folder
reaches it through the object store and the run folder (without the scripts' ``work/`` folders)
comes back as a tar. A job whose worker dies is retried once with ``resume_argv`` when the run
had started (``mle-star resume``), visibly in :class:`JobResult`.
"""

from __future__ import annotations

import ctypes
import io
import os
import secrets
import subprocess
import sys
import tarfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mle_star.tools.execution import ray_data
from mle_star.tools.execution.ray_executor import (
    RETRIES,
    cluster_facts,
    connect,
    describe,
    lost_errors,
    remote,
    wait,
)

LOG_TAIL = 256 * 1024
_PR_SET_PDEATHSIG = 1
_LIBC = ctypes.CDLL(None, use_errno=True)  # loaded before any fork: the preexec hook imports nothing


@dataclass
class ClusterJob:
    """One command to run on the cluster. In ``argv`` (and ``resume_argv``), ``{python}``,
    ``{task_dir}`` and ``{out_dir}`` are replaced on the worker by its Python and the folders as
    that worker sees them."""

    argv: list[str]
    task_dir: str  # read-only input folder (the task), on the driver
    out_dir: str  # the folder the command writes (its run folder), on the driver: new or empty
    resume_argv: list[str] | None = None  # instead of argv when a retry finds the run started
    env: dict[str, str] = field(default_factory=dict)  # extra environment (e.g. model API keys)


@dataclass
class JobResult:
    returncode: int | None  # None: every attempt lost its worker
    duration: float
    node: str = ""
    data: str = ""  # 'shared' (worked in place) or 'object_store' (copied there and back)
    worker_deaths: int = 0
    output: str = ""  # the command's last output (bounded)
    error: str = ""


def share_of_cluster(n_jobs: int, address: str = "") -> int:
    """CPUs for each of ``n_jobs`` concurrent jobs: an equal share of the cluster, at least one,
    at most the largest node (a job runs on one node)."""
    facts = cluster_facts(connect(address))
    return int(max(1, min(facts["max_node_cpus"], facts["cpus"] // max(1, n_jobs))))


def _die_with_parent() -> None:
    """The command dies with its Ray worker (its own scripts die with it: bwrap --die-with-parent)."""
    _LIBC.prctl(_PR_SET_PDEATHSIG, 9)


def _run_job(spec: dict, refs: dict[str, Any]) -> dict:
    """Runs on a worker: find or fetch the task folder, run the command, send the run back."""
    import ray

    node = ray.util.get_node_ip_address()
    key, task_dir, sig = spec["key"], spec["task_dir"], tuple(spec["task_sig"])
    task_local = task_dir if not spec["object_store"] and ray_data.visible(task_dir, sig) else None
    data = "shared" if task_local else "object_store"
    if task_local is None:
        task_local = ray_data.cached_copy(key, task_dir, sig)
        if task_local is None and task_dir in refs:
            task_local = ray_data.materialize(key, task_dir, sig, refs[task_dir])
        if task_local is None:
            return {"status": "need_data", "missing": [task_dir], "node": node}
    token = Path(spec["token_path"])
    shared_out = (not spec["object_store"] and token.is_file() and token.read_text() == spec["token"])
    out = Path(spec["out_dir"]) if shared_out else ray_data.node_root(key) / "out"
    out.mkdir(parents=True, exist_ok=True)
    argv = spec["resume_argv"] if spec["resume_argv"] and (out / "cli.json").exists() else spec["argv"]
    argv = [a.replace("{python}", sys.executable).replace("{task_dir}", str(task_local))
            .replace("{out_dir}", str(out)) for a in argv]
    log = ray_data.node_root(key) / "log.txt"
    start = time.monotonic()
    with open(log, "ab") as fh:
        code = subprocess.call(argv, stdout=fh, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                               env=os.environ | spec["env"], preexec_fn=_die_with_parent)
    duration = time.monotonic() - start
    with open(log, "rb") as fh:
        fh.seek(max(0, log.stat().st_size - LOG_TAIL))
        tail = fh.read().decode(errors="replace")
    archive = None
    if not shared_out:
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w") as tar:
            tar.add(out, arcname="run", filter=lambda m: None if m.name.split("/")[1:2] == ["work"] else m)
        archive = buffer.getvalue()
        ray_data.release(key)
    return {"status": "done", "returncode": code, "duration": round(duration, 3), "node": node, "data": data,
            "output": tail, "archive": archive}


def _one(job: ClusterJob, cpus: int, object_store: bool, shipment: ray_data.Shipment) -> JobResult:
    """One job from the driver: submit, send the task folder if asked, retry once if lost."""
    out_dir = Path(job.out_dir).absolute()
    out_dir.mkdir(parents=True, exist_ok=True)
    key = ray_data.run_key(out_dir)
    sig = ray_data.signature(job.task_dir)
    if sig is None:
        raise FileNotFoundError(f"task folder {job.task_dir} does not exist")
    token, token_path = secrets.token_hex(16), out_dir.parent / f".mle-star-ray-{key}"
    token_path.write_text(token)
    task_dir = str(Path(job.task_dir).absolute())
    spec: dict[str, Any] = {"key": key, "task_dir": task_dir, "task_sig": list(sig),
            "out_dir": str(out_dir), "token": token, "token_path": str(token_path), "argv": job.argv,
            "resume_argv": job.resume_argv, "env": job.env, "object_store": object_store}
    items = {task_dir: sig}
    deaths: list[str] = []
    started = time.monotonic()
    try:
        while True:
            refs = shipment.known(items)
            try:
                reply = wait(remote(_run_job).options(num_cpus=cpus, name=f"mle-star-bench:{out_dir.name}")
                             .remote(spec, refs))
                if reply["status"] == "need_data":
                    refs = shipment.put(items)
                    reply = wait(remote(_run_job).options(num_cpus=cpus, name=f"mle-star-bench:{out_dir.name}")
                                 .remote(spec, refs))
            except lost_errors() as exc:
                deaths.append(describe(exc))
                if len(deaths) <= RETRIES:
                    continue
                return JobResult(None, round(time.monotonic() - started, 3), worker_deaths=len(deaths),
                                 error=f"the Ray worker running this job died {len(deaths)} times: {deaths[-1]}")
            break
    finally:
        token_path.unlink(missing_ok=True)
    if reply["status"] != "done":
        return JobResult(None, round(time.monotonic() - started, 3), worker_deaths=len(deaths),
                         error="a Ray worker still lacked the task folder after it was put")
    if reply["archive"] is not None:
        with tarfile.open(fileobj=io.BytesIO(reply["archive"])) as tar:
            tar.extractall(out_dir.parent / f".{out_dir.name}.incoming", filter="data")
        incoming = out_dir.parent / f".{out_dir.name}.incoming" / "run"
        for item in incoming.iterdir():
            os.replace(item, out_dir / item.name)
        (out_dir.parent / f".{out_dir.name}.incoming" / "run").rmdir()
        (out_dir.parent / f".{out_dir.name}.incoming").rmdir()
    return JobResult(reply["returncode"], reply["duration"], node=reply["node"], data=reply["data"],
                     worker_deaths=len(deaths), output=reply["output"],
                     error="" if not deaths else f"retried after: {deaths[-1]}")


def run_tasks_concurrently(jobs: list[ClusterJob], *, cpus_each: int | None = None, address: str = "",
                           object_store: bool = False) -> list[JobResult]:
    """Run every job on the cluster at once (Ray queues what does not fit), each reserving
    ``cpus_each`` CPUs (default: an equal share); results in the order of ``jobs``.
    ``object_store`` sends files through the object store even where a worker sees them."""
    connect(address)
    cpus = cpus_each or share_of_cluster(len(jobs), address)
    shipment = ray_data.Shipment()
    with ThreadPoolExecutor(max_workers=max(1, len(jobs))) as pool:
        return list(pool.map(lambda job: _one(job, cpus, object_store, shipment), jobs))


__all__ = ["ClusterJob", "JobResult", "run_tasks_concurrently", "share_of_cluster"]
