"""Scripts as Ray tasks: the same sandbox, limits and trusted record as local runs, on a cluster.

The driver (the graph, the model calls, the checkpoints) stays where ``mle-star run`` runs.
Each script execution is one Ray task that reserves the script's threads as CPUs, one GPU when
the cluster has GPUs, and its memory cap as Ray ``memory`` when ``--script-memory-gb`` sets one.
On the worker the task runs :class:`~mle_star.tools.execution.runner.ScriptRunner` itself (bubblewrap,
rlimits, watchdog, bounded output, declared outputs) in a node-local scratch run folder, then
ships the record back: the driver installs ``solution.py``, ``stdout.txt``, ``stderr.txt`` and
``outputs/`` under ``run_dir/scripts/<name>/`` and writes ``result.json`` and the
``executions.jsonl`` line itself, so the result cache, the judge, the report and resume work
unchanged. The script's work folder stays on the worker and is removed after collection.

Inputs reach workers through :mod:`mle_star.tools.execution.ray_data`: in place when the worker sees the
driver's path with the same content (a shared filesystem), else through the object store, put
once per run and copied once per node. Concurrency is Ray's: the driver submits every script
the graph asks for and Ray runs as many as the cluster's free resources allow (no local cap at
``max_parallel``). A worker that dies mid-script is retried once; the retry, or the failure
after a second death, is in ``result.json`` ("ray"), in the error text the judge keeps, in the
returned :class:`RayExecResult` (``worker_deaths``) and on the progress stream.

The workbench (``--script-python``, ``--weights-dir``, ``--script-network``) travels as plain
values: each worker runs scripts with the interpreter at that same path and mounts the same
weights folders. So a worker needs, at the same absolute paths as the driver, the script Python
with numpy, pandas and whatever the scripts import (a venv made the same way on every node, or
one on a shared filesystem), and the weights folders (a shared cache, or ``mle-star weights
fetch`` run on each node); plus mle-star itself and bubblewrap for the sandbox. The driver's
workbench probe measures the driver's machine; a worker without that interpreter fails each
script with a clear error.

``ray`` is imported only when this executor is used.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from mle_star.config import Context
from mle_star.telemetry import emit
from mle_star.tools.execution import ray_data
from mle_star.tools.execution.environment import script_env
from mle_star.tools.execution.resources import RayUnavailable, script_threads
from mle_star.tools.execution.runner import (
    ExecResult,
    cached_result,
    check_request,
    cpu_count,
    execution_digest,
)
from mle_star.tools.execution.sandbox import Sandbox, SandboxMode
from mle_star.tools.execution.script_files import (
    check_entry,
    check_name,
    read_regular,
    rmtree,
    write_atomic,
)

INSTALL_HINT = "pip install 'mle-star[ray]'"
DATA_ENV = "MLE_STAR_RAY_DATA"  # 'auto' (default) or 'object_store' (as if no worker saw the driver's files)
RETRIES = 1  # a script whose worker dies is run once more, then reported failed
GiB = 1024**3


@dataclass
class RayExecResult(ExecResult):
    """An ExecResult that also says where it ran and whether a worker died under it."""

    worker_deaths: int = 0  # workers lost while running this script (retried at most RETRIES times)
    node: str = ""  # the node that produced the result ('' when every attempt was lost)
    data: str = ""  # how the inputs got there: 'shared' (in place) or 'object_store'


def require_ray() -> Any:
    """The ``ray`` module, or RayUnavailable naming the extra to install."""
    try:
        import ray
    except ImportError:
        raise RayUnavailable(f"--executor ray needs Ray, which is not installed: {INSTALL_HINT}") from None
    return ray


_lock = threading.Lock()
# Per Ray session (a test or a benchmark may shut Ray down and start it again): dropped on a change.
_session: dict[str, str] = {}
_remotes: dict[str, Any] = {}  # function name -> its ray.remote
_facts: dict[str, Any] = {}  # cluster_facts, with the time they were read
_sandboxes: dict[str, Sandbox] = {}  # sandbox mode -> the workers' verdict
_runs: dict[str, _Run] = {}  # run folder -> what the driver keeps for it (object refs among it)


def connect(address: str = "") -> Any:
    """Join the Ray cluster once per process: an already initialised Ray as it is, else
    ``address`` (``ray://host:10001``, ``host:6379``, ``auto``), else ``RAY_ADDRESS``, else a
    local Ray instance on this machine."""
    ray = require_ray()
    with _lock:
        if not ray.is_initialized():
            _init(ray, address)
        job = _session_id(ray)
        if _session.get("job") != job:
            for cache in (_remotes, _facts, _sandboxes, _runs):
                cache.clear()
            _session["job"] = job
    return ray


def _session_id(ray: Any) -> str:
    """This driver's job in this cluster (job ids restart at 1 in a new cluster: add the node)."""
    context = ray.get_runtime_context()
    try:
        node = context.get_node_id()
    except Exception:  # noqa: BLE001 - not every connection mode knows its node
        node = ""
    return f"{context.get_job_id()}:{node}"


def _init(ray: Any, address: str) -> None:
    target = address or os.environ.get("RAY_ADDRESS", "")
    options: dict[str, Any] = {"logging_level": "WARNING", "log_to_driver": False, "namespace": "mle-star"}
    if not target:
        options["include_dashboard"] = False  # a local instance for this run only
    try:
        ray.init(address=target or None, **options)
    except Exception as exc:  # noqa: BLE001 - ConnectionError, RuntimeError, ValueError, gRPC errors
        where = f" at {target}" if target else " locally"
        line = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
        raise RayUnavailable(f"cannot start or reach Ray{where}: {line}") from exc


def remote(fn: Any) -> Any:
    """``ray.remote(fn)`` made once per process; never retried by Ray (we retry visibly)."""
    ray = require_ray()
    with _lock:
        if fn.__name__ not in _remotes:
            _remotes[fn.__name__] = ray.remote(max_retries=0)(fn)
        return _remotes[fn.__name__]


def lost_errors() -> tuple[type[BaseException], ...]:
    """Ray's errors for a worker, node or result lost under a task (not an error of the task)."""
    import ray.exceptions as rex

    names = ("WorkerCrashedError", "NodeDiedError", "OutOfMemoryError", "ObjectLostError", "LocalRayletDiedError")
    return tuple(getattr(rex, n) for n in names if hasattr(rex, n))


def unwrap(exc: BaseException) -> BaseException:
    """The exception a task raised on the worker (SandboxUnavailable, FileNotFoundError, ...)."""
    cause = getattr(exc, "cause", None)
    return cause if isinstance(cause, BaseException) else exc


def wait(ref: Any) -> Any:
    """``ray.get`` that cancels the task when the driver is interrupted."""
    ray = require_ray()
    try:
        return ray.get(ref)
    except KeyboardInterrupt:
        ray.cancel(ref, force=True)
        raise
    except Exception as exc:
        if isinstance(exc, lost_errors()):
            raise
        cause = unwrap(exc)
        if cause is exc:
            raise
        raise cause from None


def describe(exc: BaseException) -> str:
    line = (str(exc).strip().splitlines() or [""])[0][:300]
    return f"{type(exc).__name__}: {line}"


# -- facts about the cluster -------------------------------------------------------------------------
def cluster_facts(ray: Any) -> dict[str, float]:
    """Total CPUs and GPUs and the largest node's CPUs (refreshed each minute: clusters scale)."""
    with _lock:
        if _facts and time.monotonic() - _facts["at"] < 60:
            return dict(_facts["values"])
    nodes = [n for n in ray.nodes() if n.get("Alive")]
    values = {"cpus": sum(n["Resources"].get("CPU", 0.0) for n in nodes),
              "gpus": sum(n["Resources"].get("GPU", 0.0) for n in nodes),
              "max_node_cpus": max([n["Resources"].get("CPU", 0.0) for n in nodes] or [1.0])}
    with _lock:
        _facts.update(at=time.monotonic(), values=values)
    return values


def _worker_info(mode: SandboxMode) -> dict:
    """Runs on a worker: its sandbox verdict (SandboxUnavailable under 'bwrap' if it cannot)."""
    import ray

    from mle_star import __version__
    from mle_star.tools.execution.sandbox import probe

    return {"sandbox": probe(mode), "version": __version__, "python": sys.version.split()[0],
            "node": ray.util.get_node_ip_address()}


def worker_sandbox(ctx: Context) -> Sandbox:
    """The sandbox scripts get on the workers (probed once per process on one worker), for the
    cache key and for run.json; raises SandboxUnavailable when ``--sandbox bwrap`` cannot work there."""
    connect(ctx.ray_address)
    with _lock:
        if ctx.sandbox in _sandboxes:
            return _sandboxes[ctx.sandbox]
    for attempt in range(RETRIES + 1):
        try:
            info = wait(remote(_worker_info).options(num_cpus=1, name="mle-star-probe").remote(ctx.sandbox))
            break
        except lost_errors():
            if attempt == RETRIES:
                raise
    from mle_star import __version__

    if info["version"] != __version__ or info["python"] != sys.version.split()[0]:
        emit({"event": "notice", "text": f"WARNING: Ray worker {info['node']} has mle-star {info['version']} on "
                                         f"Python {info['python']}; this driver has {__version__} on "
                                         f"{sys.version.split()[0]}"})
    with _lock:
        _sandboxes[ctx.sandbox] = info["sandbox"]
    return info["sandbox"]


# -- the driver's per-run state ------------------------------------------------------------------------
class _Run:
    """What the driver keeps per run folder across executor instances (one per script)."""

    def __init__(self, run_dir: Path):
        self.key = ray_data.run_key(run_dir)
        self.shipment = ray_data.Shipment()
        self.folders: dict[str, ray_data.Signature | None] = {}  # folder signatures: walked once
        self.notified: set[str] = set()
        self.lock = threading.Lock()

    def signature(self, path: str) -> ray_data.Signature | None:
        if not os.path.isdir(path):
            return ray_data.signature(path)  # files are cheap, and a re-run rewrites an output
        with self.lock:
            if path not in self.folders:
                self.folders[path] = ray_data.signature(path)
            return self.folders[path]


def _run_state(run_dir: Path) -> _Run:
    with _lock:
        return _runs.setdefault(str(run_dir), _Run(run_dir))


_released: dict[str, dict[str, int]] = {}  # run folder -> shipped() when its state was released


def shipped(run_dir: str | Path) -> dict[str, int]:
    """How much of a run's input this driver put into the object store (e.g. for run.json)."""
    run_dir = Path(run_dir).absolute()
    with _lock:
        state = _runs.get(str(run_dir))
        if state is None:
            return dict(_released.get(str(run_dir), {"puts": 0, "bytes": 0}))
    return {"puts": state.shipment.puts, "bytes": state.shipment.bytes}


def _release_node(key: str) -> str:
    import ray

    return ray.util.get_node_ip_address() if ray_data.release(key) else ""


def release_run(run_dir: str | Path) -> list[str]:
    """End of a run: drop its objects from the store and its copies and scratch on every live
    node (node-local caches otherwise stay in the node's temp folder); the nodes cleaned."""
    ray = require_ray()
    if not ray.is_initialized():
        return []
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    run_dir = Path(run_dir).absolute()
    key = ray_data.run_key(run_dir)
    with _lock:
        state = _runs.pop(str(run_dir), None)
        if state is not None:
            _released[str(run_dir)] = {"puts": state.shipment.puts, "bytes": state.shipment.bytes}
    refs = [remote(_release_node).options(num_cpus=0, scheduling_strategy=NodeAffinitySchedulingStrategy(
        node_id=n["NodeID"], soft=False)).remote(key) for n in ray.nodes() if n.get("Alive")]
    return [ip for ip in ray.get(refs) if ip]


# -- the worker's side -----------------------------------------------------------------------------------
def _run_on_worker(spec: dict, refs: dict[str, Any]) -> dict:
    """Runs on a worker: find or fetch the inputs, run the script with ScriptRunner in a
    node-local scratch run folder, and hand back its record (result.json is the driver's)."""
    import ray

    from mle_star.tools.execution.environment import WorkbenchError, environment
    from mle_star.tools.execution.runner import ScriptRunner, default_limits
    from mle_star.tools.execution.sandbox import probe

    node = ray.util.get_node_ip_address()
    key, name = spec["run_key"], spec["name"]
    local: dict[str, str] = {}
    missing: list[str] = []
    used = "shared"
    for entry, (path, raw) in spec["entries"].items():
        sig = tuple(raw)
        if not spec["object_store"] and ray_data.visible(path, sig):
            local[entry] = path
            continue
        copy = ray_data.cached_copy(key, path, sig)
        if copy is None and path in refs:
            copy = ray_data.materialize(key, path, sig, refs[path])
        if copy is None:
            missing.append(path)
            continue
        local[entry], used = copy, "object_store"
    if missing:
        return {"status": "need_data", "missing": sorted(set(missing)), "node": node}
    sandbox = probe(spec["sandbox"])
    scratch = ray_data.node_root(key) / "run" / str(os.getpid())  # one per worker process: no shared state
    limits = default_limits(max(1, cpu_count() // spec["threads"]), scratch)  # this node's RAM, shared like locally
    if spec["memory"]:
        limits = replace(limits, memory_bytes=spec["memory"])
    bench = spec["script_env"]
    try:
        env = environment(bench["python"], os.pathsep.join(bench["weights"]) or "none",
                          "allow" if bench["network"] else "none")
    except WorkbenchError as exc:
        raise WorkbenchError(f"on Ray node {node}: {exc}") from None
    runner = ScriptRunner(scratch, {spec["view"]: local}, sandbox=sandbox, timeout=spec["timeout"], max_parallel=1,
                          limits=limits, threads=spec["threads"], script_env=env)
    record = scratch / "scripts" / name
    rmtree(record)  # never the scratch cache: the driver decided this must run
    result = runner.run(spec["code"], name, view=spec["view"], timeout=spec["timeout"],
                        outputs=tuple(spec["outputs"]), salt=spec["salt"])
    files: list[tuple[str, bytes | None]] = []
    for path in sorted(record.rglob("*")):
        rel = path.relative_to(record).as_posix()
        if rel == "result.json" or path.name.startswith("."):
            continue
        if path.is_dir() and not path.is_symlink():
            files.append((rel, None))
        elif (data := read_regular(path, path.lstat().st_size)) is not None:  # the record: the runner wrote it
            files.append((rel, data))
    rmtree(record)
    rmtree(Path(result.workdir))
    (scratch / "executions.jsonl").unlink(missing_ok=True)
    return {"status": "done", "result": result.to_dict(), "files": files, "node": node, "pid": os.getpid(),
            "data": used, "sandbox": sandbox.kind}


# -- the executor ------------------------------------------------------------------------------------------
class RayExecutor:
    """Runs one run's scripts as Ray tasks; the same ``run`` contract as ScriptRunner."""

    _log_lock = threading.Lock()

    def __init__(self, run_dir: str | Path, views: dict[str, dict[str, str]], ctx: Context,
                 threads: int | None = None, data_mode: str | None = None):
        self.ray = connect(ctx.ray_address)
        self.run_dir = Path(run_dir).absolute()
        self.views = {check_name("view", view): {check_entry(entry): os.path.abspath(src)
                                                    for entry, src in entries.items()}
                      for view, entries in views.items()}
        self.ctx = ctx
        self.timeout = float(ctx.script_timeout)
        self.data_mode = data_mode or os.environ.get(DATA_ENV) or "auto"
        if self.data_mode not in ("auto", "object_store"):
            raise ValueError(f"{DATA_ENV} must be 'auto' or 'object_store', not {self.data_mode!r}")
        self.threads = threads or script_threads(ctx)
        self.memory = int(ctx.script_memory_gb * GiB) if ctx.script_memory_gb > 0 else None
        self.sandbox = worker_sandbox(ctx)
        self.script_env = script_env(ctx)
        self.state = _run_state(self.run_dir)

    # -- public -----------------------------------------------------------------------------------
    def run(self, code: str, name: str, *, view: str = "search", timeout: float | None = None,
            outputs: tuple[str, ...] = (), salt: str = "") -> ExecResult:
        """Execute ``code`` as a Ray task; reuse the record if an identical execution finished."""
        outputs = check_request(name, view, self.views, outputs)
        timeout = float(timeout or self.timeout)
        entries = self.views[view]
        digest = execution_digest(code, timeout, view, entries, outputs, salt,  # the workers' sandbox
                                  self.sandbox.kind + self.script_env.key())
        record = self.run_dir / "scripts" / name
        cached = cached_result(record, digest)
        if cached is not None:
            return cached
        signed: dict[str, tuple[str, list]] = {}
        for entry, source in entries.items():
            sig = self.state.signature(source)
            if sig is None:
                raise FileNotFoundError(f"input {entry!r} of view {view!r}: {source} does not exist")
            signed[entry] = (source, list(sig))
        spec = {"run_key": self.state.key, "name": name, "code": code, "view": view, "entries": signed,
                "outputs": list(outputs), "timeout": timeout, "salt": salt, "sandbox": self.ctx.sandbox,
                "threads": self.threads, "memory": self.memory, "object_store": self.data_mode == "object_store",
                "script_env": self.script_env.spec()}
        started = time.monotonic()
        deaths: list[str] = []
        while True:
            try:
                reply = self._submit(spec)
            except lost_errors() as exc:
                deaths.append(describe(exc))
                retry = len(deaths) <= RETRIES
                emit({"event": "notice", "text": f"WARNING: the Ray worker running script {name} was lost "
                                                 f"({deaths[-1]}); {'running it again' if retry else 'giving up'}"})
                if retry:
                    continue
                result = self._lost(code, name, record, outputs, deaths, time.monotonic() - started)
                break
            result = self._install(reply, name, record, digest, deaths)
            break
        with self._log_lock, open(self.run_dir / "executions.jsonl", "a") as log:
            log.write(json.dumps({"name": name, "sha256": digest, "printed_score": result.printed_score,
                                  "duration": result.duration, "executor": "ray", "node": result.node,
                                  "worker_deaths": result.worker_deaths,
                                  **({"worker_lost": True} if not result.node else {})}) + "\n")
        return result

    # -- one attempt -------------------------------------------------------------------------------
    def _submit(self, spec: dict) -> dict:
        """One Ray task for the script; when a worker cannot see some inputs, put them into the
        object store (once per run) and submit again."""
        facts = cluster_facts(self.ray)
        options: dict[str, Any] = {"name": f"mle-star:{spec['name']}",
                                   "num_cpus": min(float(self.threads), facts["max_node_cpus"])}
        if facts["gpus"] > 0:
            options["num_gpus"] = 1
        if self.memory:
            options["memory"] = self.memory
        items = {source: tuple(sig) for source, sig in spec["entries"].values()}
        refs = self.state.shipment.known(items)
        for _ in range(2):
            reply = wait(remote(_run_on_worker).options(**options).remote(spec, refs))
            if reply["status"] == "done":
                return reply
            missing = {path: items[path] for path in reply["missing"]}
            if reply["node"] not in self.state.notified:
                self.state.notified.add(reply["node"])
                emit({"event": "notice", "text": f"Ray node {reply['node']} does not see this run's files; they "
                                                 "reach it through Ray's object store (once per run)"})
            refs = refs | self.state.shipment.put(missing)
        raise RuntimeError(f"script {spec['name']}: a Ray worker still lacks its inputs after they were put")

    def _install(self, reply: dict, name: str, record: Path, digest: str, deaths: list[str]) -> RayExecResult:
        """The worker's record, installed whole under run_dir/scripts/<name>/ with its result.json."""
        raw = reply["result"]
        record.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{record.name}.ray.", dir=record.parent))
        try:
            for rel, data in reply["files"]:
                target = staging / rel
                if data is None:
                    target.mkdir(parents=True, exist_ok=True)
                    target.chmod(0o755)
                else:
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(data)
                    target.chmod(0o644)
            fields = {k: raw[k] for k in ExecResult.__dataclass_fields__ if k in raw}
            result = RayExecResult(**fields | {
                "workdir": f"{reply['node']}:{raw['workdir']}", "record_dir": str(record), "cached": False,
                "outputs": {rel: str(record / "outputs" / rel) for rel in raw["outputs"]},
                "worker_deaths": len(deaths), "node": reply["node"], "data": reply["data"]})
            meta = {"node": reply["node"], "worker_pid": reply["pid"], "data": reply["data"],
                    "attempts": len(deaths) + 1, "worker_deaths": len(deaths), "lost": deaths}
            write_atomic(staging / "result.json", json.dumps(_plain(result) | {"sha256": digest, "ray": meta},
                                                              indent=1).encode())
            staging.chmod(0o755)
            rmtree(record)
            os.rename(staging, record)
        except BaseException:
            rmtree(staging)
            raise
        return result

    def _lost(self, code: str, name: str, record: Path, outputs: tuple[str, ...], deaths: list[str],
              duration: float) -> RayExecResult:
        """The record of a script whose every attempt lost its worker: a failure the judge and the
        debugger see, never reused from the cache (an infrastructure fault is not the code's result)."""
        text = (f"mle-star: the Ray worker running this script died {len(deaths)} times and the script was "
                f"retried {len(deaths) - 1} time(s); it did not finish. This is a cluster fault, not an error "
                f"in the script. Last: {deaths[-1]}")
        result = RayExecResult(
            name=name, workdir="", record_dir=str(record), returncode=None, timed_out=False,
            duration=round(duration, 3), stdout_tail="", stderr_tail=text, printed_score=None, outputs={},
            output_errors={rel: "not collected: the Ray worker died" for rel in outputs},
            sandbox=self.sandbox.kind, worker_deaths=len(deaths))
        rmtree(record)
        record.mkdir(parents=True)
        write_atomic(record / "solution.py", code.encode())
        write_atomic(record / "stdout.txt", b"")
        write_atomic(record / "stderr.txt", text.encode())
        meta = {"node": "", "attempts": len(deaths), "worker_deaths": len(deaths), "lost": deaths}
        write_atomic(record / "result.json", json.dumps(_plain(result) | {"sha256": None, "ray": meta},
                                                         indent=1).encode())
        return result


def _plain(result: ExecResult) -> dict:
    """result.json's fields exactly as the local runner writes them."""
    return {k: getattr(result, k) for k in ExecResult.__dataclass_fields__} | {"ok": result.ok}


__all__ = ["RayExecResult", "RayExecutor", "RayUnavailable", "connect", "release_run",
           "require_ray", "shipped", "worker_sandbox"]
