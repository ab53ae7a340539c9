"""The script runner: the one module that owns all process handling.

Generated code is untrusted and a model may cheat. Each script runs in a fresh process inside
the sandbox chosen by :func:`mle_star.tools.execution.sandbox.probe`, in its own work folder
``run_dir/work/<name>/`` (cwd, HOME; ``/workspace`` under bwrap) whose ``input/`` holds the
view's entries read-only. Everything the agent trusts lives in ``run_dir/scripts/<name>/``, a
record the script never sees: the code as run, stdout.txt/stderr.txt (written from pipes,
bounded on disk and in memory), copies of the declared outputs, and result.json (the cache).

Time: ``timeout -s KILL`` inside the sandbox (root-owned in the privileged layout, so the
script cannot stop it) plus the parent's own deadline; under bwrap the whole PID namespace dies
with its init, setsid double-forks included. Limits: RLIMIT_AS, RLIMIT_FSIZE, RLIMIT_NPROC
(bwrap only; see sandbox.py for why a fresh uid is needed as root). With sandbox "none" the
containment is weaker: process-group kill, PR_SET_PDEATHSIG, and a sweep of processes that
still carry this execution's marker in their environment.

Over 600 lines because all process handling is here on purpose (AIDE's interpreter): start,
watch, time out, kill and sweep are one state machine per script; its files are in
:mod:`mle_star.tools.execution.script_files`.
"""

from __future__ import annotations

import ctypes
import fcntl
import hashlib
import json
import os
import resource
import secrets
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from mle_star.tools.execution.environment import ScriptEnv, default_env
from mle_star.tools.execution.sandbox import Sandbox, bwrap_invocation, system_tool
from mle_star.tools.execution.script_files import (
    CHUNK,
    Capture,
    bounded,
    check_entry,
    check_name,
    check_relpath,
    collect,
    excerpt,
    parse_score,
    read_regular,
    rmtree,
    write_atomic,
)

_ENV_PASS = ("CUDA_VISIBLE_DEVICES", "NVIDIA_VISIBLE_DEVICES", "HIP_VISIBLE_DEVICES", "ROCR_VISIBLE_DEVICES", "TZ")
_MARKER = "MLE_STAR_EXEC"  # per-execution marker in the script's environment (none-mode sweep)
GRACE = 2.0  # the parent kills this long after the in-sandbox watchdog should have
DRAIN = 1.0  # after exit, how long to wait for pipes still held open by survivors (none mode)
GiB = 1024**3

# Pre-loaded so the none-mode preexec hook (which runs between fork and exec) imports nothing.
_LIBC = ctypes.CDLL(None, use_errno=True)
_PR_SET_PDEATHSIG = 1
# none mode: the interpreter in front of the script dies when its watchdog (`timeout`) dies.
_PDEATHSIG_SHIM = ("import ctypes, os, sys\n"
                   "ctypes.CDLL(None).prctl(1, 9)\n"
                   "os.getppid() == 1 and os._exit(137)\n"
                   "os.execv(sys.argv[1], sys.argv[1:])\n")


@dataclass(frozen=True)
class Limits:
    """Per-script resource limits (None = unlimited)."""

    memory_bytes: int | None  # address space (RLIMIT_AS)
    processes: int | None  # processes + threads of the script (RLIMIT_NPROC; bwrap only)
    file_size_bytes: int | None  # largest single file a script may write (RLIMIT_FSIZE)
    output_bytes: int = 8 * 1024**2  # stdout/stderr kept on disk per stream (head + tail)
    output_file_bytes: int = 2 * GiB  # largest declared output file collected
    tmp_bytes: int | None = 2 * GiB  # size of the private /tmp and /dev/shm (bwrap)


def _memory_total() -> int:
    """RAM, or the container's cgroup memory limit when that is smaller."""
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            value = Path(path).read_text().strip()
        except OSError:
            continue
        if value.isdigit():
            total = min(total, int(value))
    return total


def default_limits(max_parallel: int = 1, run_dir: str | Path | None = None) -> Limits:
    """Limits sized for this machine: 80% of RAM shared by ``max_parallel`` scripts (at least 4 GiB).

    With NVIDIA GPUs there is no memory limit: CUDA reserves far more address space than it
    uses, so RLIMIT_AS would break GPU scripts. The file-size limit is 16 GiB, or half the
    free disk of ``run_dir`` when that is smaller.
    """
    ram = _memory_total()
    # RLIMIT_AS counts address space, not RSS (OpenBLAS buffers, malloc arenas, thread stacks),
    # so a small share gets a floor of 4 GiB: parallel scripts rarely all peak at once.
    share = max(min(4 * GiB, ram), int(0.8 * ram / max(1, max_parallel)))
    memory = None if Path("/dev/nvidiactl").exists() else share
    file_size = 16 * GiB
    if run_dir is not None:
        path = Path(run_dir).absolute()
        while not path.exists() and path != path.parent:
            path = path.parent
        file_size = min(file_size, max(GiB, shutil.disk_usage(path).free // 2))
    tmp = max(GiB, memory // 4) if memory else 4 * GiB
    return Limits(memory_bytes=memory, processes=512, file_size_bytes=file_size, tmp_bytes=tmp)


@dataclass
class ExecResult:
    """What one execution produced; stored in the record folder as result.json."""

    name: str
    workdir: str  # the script's work folder (untrusted: the script could write there)
    record_dir: str  # trusted folder the script never sees
    returncode: int | None  # negative: killed by that signal
    timed_out: bool
    duration: float
    stdout_tail: str
    stderr_tail: str
    printed_score: float | None  # the last 'Final Validation Performance: <float>' line
    outputs: dict[str, str]  # declared output -> trusted copy in record_dir/outputs/
    output_errors: dict[str, str]  # declared output -> why it was not collected
    sandbox: str
    cached: bool = False
    limit_hit: str = ""  # best effort: "memory" | "processes" | "file size" | "time" | ""
    cpu_seconds: float | None = None  # user + system CPU of the process tree (rusage; None: not measured)

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out

    @property
    def error(self) -> str:
        """Bounded text for the debugger: the traceback tail, then why the script was stopped."""
        if self.ok:
            return ""
        why = ""
        if self.timed_out:
            why = f"TimeoutError: the script exceeded its time limit ({self.duration:.0f} s) and was killed."
        elif self.limit_hit:
            why = f"The script hit its {self.limit_hit} limit."
        elif self.returncode is not None and self.returncode < 0:
            why = f"The script was killed by signal {_signal_name(-self.returncode)}."
        tail = self.stderr_tail.strip()
        text = "\n".join(part for part in (tail, why) if part) or f"exit code {self.returncode}"
        return bounded(text, 3500)

    def to_dict(self) -> dict:
        return asdict(self) | {"ok": self.ok}


def _signal_name(number: int) -> str:
    try:
        return f"{number} ({signal.Signals(number).name})"
    except ValueError:
        return str(number)


def _limit_hit(stderr: str, returncode: int | None, timed_out: bool) -> str:
    """Best effort: which limit the error text (or the signal) points at."""
    if timed_out:
        return "time"
    low = stderr.lower()
    if any(s in low for s in ("memoryerror", "cannot allocate memory", "bad_alloc", "out of memory")):
        return "memory"
    if returncode == -signal.SIGXFSZ or "file too large" in low:
        return "file size"
    if any(s in low for s in ("resource temporarily unavailable", "can't start new thread", "cannot fork",
                              "pthread_create", "fork: retry")):
        return "processes"
    return ""


# -- processes --------------------------------------------------------------------------------
def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def sweep(match: Callable[[str], bool]) -> int:
    """SIGKILL every process whose environment has a marker ``match`` accepts; how many.

    Best effort (none mode): a script can drop the marker by re-executing with a clean
    environment, and only processes this user may read are seen.
    """
    killed = 0
    key = f"{_MARKER}=".encode()
    for _ in range(5):  # they may fork while we sweep
        found = 0
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit() or int(entry.name) == os.getpid():
                continue
            try:
                with open(f"/proc/{entry.name}/environ", "rb") as fh:
                    env = fh.read()
            except OSError:
                continue
            for item in env.split(b"\0"):
                if item.startswith(key) and match(item[len(key):].decode(errors="replace")):
                    try:
                        os.kill(int(entry.name), signal.SIGKILL)
                        found += 1
                    except OSError:
                        pass
                    break
        killed += found
        if not found:
            break
    return killed


def _none_preexec(limits: Limits, parent: int) -> Callable[[], None]:
    """Runs in the child between fork and exec (none mode): die with the agent, set rlimits."""
    caps = [(resource.RLIMIT_AS, limits.memory_bytes), (resource.RLIMIT_FSIZE, limits.file_size_bytes)]

    def hook() -> None:
        _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:  # the agent died before prctl took effect
            os._exit(137)
        for which, value in caps:
            if value:
                resource.setrlimit(which, (value, value))

    return hook


def _child_pids(pid: int) -> list[int]:
    found: list[int] = []
    try:
        for task in os.scandir(f"/proc/{pid}/task"):
            found += [int(x) for x in Path(task.path, "children").read_text().split()]
    except OSError:
        pass
    return found


class _Run:
    """One running process tree: pumps its pipes, enforces the deadline, kills, reaps."""

    def __init__(self, proc: subprocess.Popen, captures: dict[int, Capture], sandboxed: bool,
                 marker: str, info_fd: int | None):
        self.proc, self.captures, self.sandboxed, self.marker = proc, captures, sandboxed, marker
        self.info_fd, self.info = info_fd, b""
        self.init_pidfd: int | None = None  # bwrap's PID-namespace init: when it is gone, all are
        self.killed = False
        self.cpu_seconds: float | None = None
        self.poller = select.poll()

    def _read_info(self) -> None:
        """bwrap's --info-fd JSON names its init process; keep a pidfd on it."""
        if self.info_fd is None:  # already read and closed
            return
        try:
            while chunk := os.read(self.info_fd, 4096):
                self.info += chunk
        except BlockingIOError:
            return
        self._drop_info()
        try:
            info = json.loads(self.info)
            pid, namespace = int(info["child-pid"]), f"pid:[{info['pid-namespace']}]"
            fd = os.pidfd_open(pid)
        except (ValueError, KeyError, TypeError, OSError):
            return  # no init (bwrap failed early), or it is already gone
        try:  # the pidfd is really that namespace's init, not a reused pid; a zombie fails here
            same = os.readlink(f"/proc/{pid}/ns/pid") == namespace
        except OSError:
            same = False
        if same:
            self.init_pidfd = fd
        else:
            os.close(fd)

    def _drop_info(self) -> None:
        if self.info_fd is not None:
            try:
                self.poller.unregister(self.info_fd)
            except KeyError:
                pass
            os.close(self.info_fd)
            self.info_fd = None

    def close(self) -> None:
        self._drop_info()
        if self.init_pidfd is not None:
            os.close(self.init_pidfd)
            self.init_pidfd = None

    def kill(self) -> None:
        """Kill the whole tree: the namespace's init (bwrap) or the process group (none)."""
        self.killed = True
        if self.sandboxed:
            if self.info_fd is not None:
                self._read_info()
            if self.init_pidfd is None:
                for pid in _child_pids(self.proc.pid):
                    try:
                        self.init_pidfd = os.pidfd_open(pid)
                    except OSError:
                        continue
                    break
            if self.init_pidfd is not None:
                try:
                    signal.pidfd_send_signal(self.init_pidfd, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            else:
                self.proc.kill()  # --die-with-parent takes the namespace down with it
        else:
            self._kill_group()

    def _kill_group(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    def _reap(self) -> None:
        """Reap the exited child, keeping its rusage: CPU seconds of it and every descendant it
        waited for, threads included (what run.json's parallelism counts). Not under bwrap: its
        monitor exits on the init's status message without reaping it, so the rusage is bwrap's own."""
        try:
            _pid, status, usage = os.wait4(self.proc.pid, 0)
        except ChildProcessError:  # already reaped elsewhere
            self.proc.wait()
            return
        self.proc.returncode = os.waitstatus_to_exitcode(status)
        if not self.sandboxed:
            self.cpu_seconds = round(usage.ru_utime + usage.ru_stime, 3)

    def wait(self, deadline: float) -> tuple[int, float]:
        """Pump output until the tree is gone; (returncode, seconds until exit)."""
        start = time.monotonic()
        poller = self.poller
        open_fds = dict(self.captures)
        for fd in open_fds:
            os.set_blocking(fd, False)
            poller.register(fd, select.POLLIN)
        pidfd = os.pidfd_open(self.proc.pid)
        poller.register(pidfd, select.POLLIN)
        if self.info_fd is not None:
            os.set_blocking(self.info_fd, False)
            poller.register(self.info_fd, select.POLLIN)
        exited: float | None = None
        killed_at = drain_until = 0.0
        try:
            while True:
                now = time.monotonic()
                if exited is None:
                    if not self.killed and now >= deadline:
                        self.kill()
                        killed_at = now
                    elif self.killed and now >= killed_at + 5:
                        self.proc.kill()  # last resort
                    wait = (deadline - now) if not self.killed else 0.5
                else:
                    if not open_fds or now >= drain_until:
                        break
                    wait = drain_until - now
                for fd, _event in poller.poll(max(0, int(wait * 1000) + 1)):
                    if fd == pidfd:
                        exited = time.monotonic()
                        poller.unregister(pidfd)
                        self._reap()
                        if not self.sandboxed:  # background children, setsid'd ones with the marker
                            self._kill_group()
                            sweep(lambda value: value == self.marker)
                        drain_until = exited + DRAIN
                    elif fd == self.info_fd:
                        self._read_info()
                    elif fd in open_fds:
                        try:
                            data = os.read(fd, CHUNK)
                        except BlockingIOError:
                            continue
                        if data:
                            open_fds[fd].feed(data)
                        else:
                            poller.unregister(fd)
                            del open_fds[fd]
        finally:
            os.close(pidfd)
        if self.info_fd is not None:  # written before the script started: readable now
            self._read_info()
        if self.init_pidfd is not None:  # the namespace is gone once its init is
            select.select([self.init_pidfd], [], [], 10)
        self.close()
        rc = self.proc.returncode
        if self.sandboxed and rc > 128 and (rc - 128) < signal.NSIG:
            rc = 128 - rc  # bwrap reports a signal death as 128 + signal
        return rc, (exited or time.monotonic()) - start


def check_request(name: str, view: str, views: dict[str, dict[str, str]], outputs: tuple[str, ...]) -> tuple[str, ...]:
    """Every executor's checks on a run request: a safe script name (it may nest one folder per
    solution path: path0/init_1), a known view, safe output paths (returned)."""
    for part in name.split("/"):
        check_name("script name", part)
    if view not in views:
        raise KeyError(f"unknown view {view!r} (have {sorted(views)})")
    return tuple(check_relpath(p) for p in outputs)


def execution_digest(code: str, timeout: float, view: str, entries: dict[str, str], outputs: tuple[str, ...],
                     salt: str, sandbox: str) -> str:
    """What makes two executions the same (every executor's cache key: a run may change executor)."""
    payload = {"code": code, "timeout": timeout, "view": view, "entries": entries, "outputs": list(outputs),
               "salt": salt, "sandbox": sandbox}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def cached_result(record: Path, digest: str) -> ExecResult | None:
    """The finished record of this very execution, if its result.json and outputs are intact."""
    raw = read_regular(record / "result.json", 64 * 1024**2)
    if raw is None:
        return None
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
    if not isinstance(data, dict) or data.get("sha256") != digest:
        return None
    fields = {k: data[k] for k in ExecResult.__dataclass_fields__ if k in data}
    try:
        result = ExecResult(**(fields | {"cached": True}))
    except TypeError:
        return None
    if not all(os.path.isfile(path) for path in result.outputs.values()):
        return None
    return result


def cpu_count() -> int:
    """The CPUs this process may run on (its affinity set, which containers and taskset narrow)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def threads_per_script(max_parallel: int) -> int:
    """BLAS/OpenMP threads per script: the CPUs shared by the ``max_parallel`` scripts that run at
    once. Even a script that runs alone gets no more: with every core, the boosting libraries'
    OpenMP threads on a few thousand rows spent their time waking each other (final scripts ran
    7-20x slower)."""
    return max(1, cpu_count() // max(1, max_parallel))


class ScriptRunner:
    """Runs scripts for one run directory, at most ``max_parallel`` at a time."""

    _semaphores: dict[tuple[str, int], threading.BoundedSemaphore] = {}
    _swept: set[str] = set()
    _lock = threading.Lock()

    def __init__(self, run_dir: str | Path, views: dict[str, dict[str, str]], *, sandbox: Sandbox,
                 timeout: float = 1800.0, max_parallel: int = 1, limits: Limits | None = None,
                 threads: int | None = None, workers: int = 1, script_env: ScriptEnv | None = None):
        self.run_dir = Path(run_dir).absolute()
        self.views = {check_name("view", view): {check_entry(entry): os.path.abspath(src)
                                                    for entry, src in entries.items()}
                      for view, entries in views.items()}
        self.sandbox = sandbox
        self.timeout = float(timeout)
        self.limits = limits or default_limits(max_parallel, self.run_dir)
        self.threads = threads or threads_per_script(max_parallel)
        self.workers = max(1, workers)  # MLE_STAR_WORKERS: fits a script may run at once (it runs alone)
        self.script_env = script_env or default_env()  # the interpreter, weights and network scripts get
        self.run_key = hashlib.sha256(str(self.run_dir).encode()).hexdigest()[:16]
        key = (str(self.run_dir), max_parallel)
        with self._lock:
            self._slots = self._semaphores.setdefault(key, threading.BoundedSemaphore(max_parallel))

    # -- public -----------------------------------------------------------------------------
    def run(self, code: str, name: str, *, view: str = "search", timeout: float | None = None,
            outputs: tuple[str, ...] = (), salt: str = "") -> ExecResult:
        """Execute ``code`` as ``work/<name>/solution.py``; reuse the record if identical."""
        outputs = check_request(name, view, self.views, outputs)
        timeout = float(timeout or self.timeout)
        entries = self.views[view]
        digest = execution_digest(code, timeout, view, entries, outputs, salt,
                                  self.sandbox.kind + self.script_env.key())
        record = self.run_dir / "scripts" / name
        cached = cached_result(record, digest)
        if cached is not None:
            return cached
        for entry, source in entries.items():
            if not os.path.exists(source):
                raise FileNotFoundError(f"input {entry!r} of view {view!r}: {source} does not exist")
        self._sweep_stale()
        with self._slots:
            result = self._execute(code, name, view, timeout, outputs, record)
        write_atomic(record / "result.json", json.dumps(result.to_dict() | {"sha256": digest}, indent=1).encode())
        with self._lock, open(self.run_dir / "executions.jsonl", "a") as log:  # one line per real execution
            log.write(json.dumps({"name": name, "sha256": digest, "printed_score": result.printed_score,
                                  "duration": result.duration}) + "\n")
        return result

    # -- execution --------------------------------------------------------------------------
    def _prepare(self, code: str, name: str, view: str, record: Path) -> Path:
        """A fresh record and a fresh work folder holding a copy of the code."""
        rmtree(record)
        record.mkdir(parents=True)
        write_atomic(record / "solution.py", code.encode())
        workdir = self.run_dir / "work" / name
        rmtree(workdir)
        workdir.mkdir(parents=True)
        (workdir / "solution.py").write_text(code, encoding="utf-8")
        if self.sandbox.kind == "bwrap":
            (workdir / "input").mkdir()  # mount point of the read-only inputs
        else:
            (workdir / "input").symlink_to(self._view_dir(view), target_is_directory=True)
        return workdir

    def _view_dir(self, view: str) -> Path:
        """none mode: ``data/views/<view>/``, a folder of symlinks to the sources, made once."""
        base = self.run_dir / "data" / "views"
        target, manifest = base / view, base / f"{view}.json"
        want = json.dumps(self.views[view], sort_keys=True)
        with self._lock:
            if target.is_dir() and not target.is_symlink() and read_regular(manifest, 1 << 20) == want.encode():
                return target
            base.mkdir(parents=True, exist_ok=True)
            tmp = Path(tempfile.mkdtemp(prefix=f".{view}.", dir=base))
            for entry, source in self.views[view].items():
                (tmp / entry).symlink_to(source)
            tmp.chmod(0o555)  # does not stop root: that is why none mode warns
            if target.exists() or target.is_symlink():
                old = base / f".{view}.old.{secrets.token_hex(4)}"
                os.rename(target, old)
                rmtree(old)
            os.rename(tmp, target)
            write_atomic(manifest, want.encode())
        return target

    def _env(self, home: str, marker: str) -> dict[str, str]:
        """Allow-list only: no API keys, nothing from the agent's environment but GPU choice/TZ."""
        threads = str(self.threads)
        env = {k: os.environ[k] for k in _ENV_PASS if k in os.environ}
        env.update(self.script_env.env)
        env.update(
            PATH=f"{os.path.dirname(self.script_env.python)}:/usr/local/bin:/usr/bin:/bin", HOME=home,
            USER="sandbox", LOGNAME="sandbox", LANG="C.UTF-8", PYTHONHASHSEED="0", PYTHONUNBUFFERED="1",
            PYTHONDONTWRITEBYTECODE="1", MPLBACKEND="Agg", OMP_WAIT_POLICY="passive",
            OMP_NUM_THREADS=threads, OPENBLAS_NUM_THREADS=threads, MKL_NUM_THREADS=threads,
            MLE_STAR_THREADS=threads, MLE_STAR_WORKERS=str(self.workers), **{_MARKER: marker},
        )
        if self.sandbox.kind == "bwrap":
            env["TMPDIR"] = "/tmp"
        return env

    def _supervisor(self, timeout: float) -> list[str]:
        """``timeout`` (the in-sandbox watchdog) and ``prlimit`` (the limits), before the script."""
        chain: list[str] = []
        if tool := system_tool("timeout"):
            chain += [tool, "-s", "KILL", f"{timeout:.3f}"]
        limits = []
        if self.limits.memory_bytes:
            limits.append(f"--as={self.limits.memory_bytes}")
        if self.limits.file_size_bytes:
            limits.append(f"--fsize={self.limits.file_size_bytes}")
        if self.limits.processes:
            limits.append(f"--nproc={self.limits.processes}")
        if limits and (tool := system_tool("prlimit")):
            chain += [tool, *limits, "--"]
        return chain

    def _spawn(self, workdir: Path, view: str, timeout: float, marker: str) -> tuple[subprocess.Popen, int | None]:
        popen: dict[str, Any] = dict(stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     start_new_session=True, cwd=workdir)
        if self.sandbox.kind == "bwrap":
            info_r, info_w = os.pipe()
            inv = bwrap_invocation(self.sandbox, workdir=workdir, inputs=self.views[view],
                                   command=[self.script_env.python, "solution.py"],
                                   env=self._env("/workspace", marker), supervisor=self._supervisor(timeout),
                                   tmp_bytes=self.limits.tmp_bytes, info_fd=info_w,
                                   python_binds=self.script_env.python_binds, read_only=self.script_env.weights,
                                   network=self.script_env.network)
            if not self.sandbox.userns:  # the script's fresh uid owns its work folder, nothing else
                os.chown(workdir, inv.uid, inv.gid)
            try:
                proc = subprocess.Popen(inv.argv, pass_fds=inv.pass_fds, env={"PATH": "/usr/bin:/bin"}, **popen)
            except BaseException:
                os.close(info_r)
                raise
            finally:
                inv.close()
                os.close(info_w)
            return proc, info_r
        chain = self._supervisor(timeout)
        if chain and chain[0].endswith("timeout"):  # rlimits come from preexec here, not prlimit
            chain = chain[:4]
        else:
            chain = []
        command = chain + [sys.executable, "-I", "-S", "-c", _PDEATHSIG_SHIM, self.script_env.python, "solution.py"]
        proc = subprocess.Popen(command, env=self._env(str(workdir), marker),
                                preexec_fn=_none_preexec(self.limits, os.getpid()), **popen)
        return proc, None

    def _execute(self, code: str, name: str, view: str, timeout: float, outputs: tuple[str, ...],
                 record: Path) -> ExecResult:
        workdir = self._prepare(code, name, view, record)
        marker = f"{self.run_key}:{os.getpid()}:{secrets.token_hex(8)}"
        out = Capture(record / "stdout.txt", self.limits.output_bytes)
        err = Capture(record / "stderr.txt", self.limits.output_bytes)
        try:
            proc, info_fd = self._spawn(workdir, view, timeout, marker)
        except BaseException:
            out.abort()
            err.abort()
            raise
        stdout, stderr = proc.stdout, proc.stderr
        if stdout is None or stderr is None:  # never: _spawn always asks for both pipes
            proc.kill()
            proc.wait()
            if info_fd is not None:
                os.close(info_fd)
            out.abort()
            err.abort()
            raise RuntimeError("the script was started without its stdout and stderr pipes")
        for pipe in (stdout, stderr):
            try:
                fcntl.fcntl(pipe.fileno(), 1031, CHUNK)  # F_SETPIPE_SZ: fewer wake-ups on a flood
            except OSError:
                pass
        run = _Run(proc, {stdout.fileno(): out, stderr.fileno(): err},
                   self.sandbox.kind == "bwrap", marker, info_fd)
        try:
            returncode, duration = run.wait(time.monotonic() + timeout + GRACE)
        except BaseException:  # e.g. KeyboardInterrupt in the agent: never leave the script running
            run.kill()
            proc.kill()
            proc.wait()
            out.abort()
            err.abort()
            raise
        finally:
            run.close()
            stdout.close()
            stderr.close()
        out.finish()
        err.finish()
        timed_out = run.killed or (returncode == -signal.SIGKILL and duration >= timeout - 0.05)
        collected, errors = self._collect(workdir, record, outputs)
        stderr_tail = excerpt(record / "stderr.txt", 3000)
        return ExecResult(
            name=name, workdir=str(workdir), record_dir=str(record),
            returncode=None if timed_out else returncode, timed_out=timed_out, duration=round(duration, 3),
            stdout_tail=excerpt(record / "stdout.txt", 4000), stderr_tail=stderr_tail,
            printed_score=out.printed_score(), outputs=collected, output_errors=errors,
            sandbox=self.sandbox.kind, limit_hit=_limit_hit(stderr_tail, returncode, timed_out),
            cpu_seconds=run.cpu_seconds,
        )

    def _collect(self, workdir: Path, record: Path, outputs: tuple[str, ...]) -> tuple[dict[str, str], dict[str, str]]:
        """Copy declared outputs into the record; built aside, then renamed into place."""
        collected: dict[str, str] = {}
        errors: dict[str, str] = {}
        if not outputs:
            return collected, errors
        staging = Path(tempfile.mkdtemp(prefix=".outputs.", dir=record))
        for rel in outputs:
            problem = collect(workdir, rel, staging / rel, self.limits.output_file_bytes)
            if problem:
                errors[rel] = problem
            else:
                collected[rel] = str(record / "outputs" / rel)
        rmtree(record / "outputs")
        os.rename(staging, record / "outputs")
        (record / "outputs").chmod(0o755)
        return collected, errors

    def _sweep_stale(self) -> None:
        """Once per process: kill leftovers of earlier executions of this run whose agent died."""
        with self._lock:
            if self.run_key in self._swept:
                return
            self._swept.add(self.run_key)

        def stale(value: str) -> bool:
            key, _, rest = value.partition(":")
            agent = rest.partition(":")[0]
            return key == self.run_key and agent.isdigit() and not _alive(int(agent))

        sweep(stale)


__all__ = ["ExecResult", "Limits", "ScriptRunner", "bounded", "default_limits", "parse_score", "sweep"]
