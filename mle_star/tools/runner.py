"""The script runner: the one module that owns all process handling.

Generated code is untrusted. Each script runs in a fresh subprocess, in its own working
directory whose ``input/`` points at a read-only copy of the task's public data, with a
wall-time limit (the whole process group is killed on timeout), an optional memory cap, a
scrubbed environment (no API keys) and bounded output handed back to the model.
Results are cached by content, so a resumed run never re-executes a finished script.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import resource
import shutil
import signal
import stat
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

SCORE_RE = re.compile(r"Final Validation Performance:\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|nan|inf)")
_ENV_KEEP = ("PATH", "LANG", "LC_ALL", "TMPDIR", "PYTHONPATH", "VIRTUAL_ENV", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


@dataclass
class ExecResult:
    """What one execution produced; stored beside the script as result.json."""

    name: str
    workdir: str
    returncode: int | None
    score: float | None
    timed_out: bool
    duration: float
    stdout_tail: str
    stderr_tail: str
    cached: bool = False

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out and self.score is not None

    @property
    def error(self) -> str:
        """Bounded error text for the debugger: the traceback tail, or why it failed."""
        if self.timed_out:
            return f"TimeoutError: the script exceeded its time limit ({self.duration:.0f} s) and was killed."
        if self.returncode == 0 and self.score is None:
            return ("The script finished but printed no 'Final Validation Performance: <float>' line.\n"
                    + self.stdout_tail[-1500:])
        return self.stderr_tail or f"exit code {self.returncode}"

    def to_dict(self) -> dict:
        return asdict(self) | {"ok": self.ok}


def bounded(text: str, limit: int = 4000) -> str:
    """Head and tail of a long text, so a chatty script never floods a prompt."""
    if len(text) <= limit:
        return text
    half = limit // 2
    return f"{text[:half]}\n... [{len(text) - limit} characters omitted] ...\n{text[-half:]}"


def parse_score(stdout: str) -> float | None:
    matches = SCORE_RE.findall(stdout)
    if not matches:
        return None
    value = float(matches[-1])
    return value if value == value and abs(value) != float("inf") else None


class ScriptRunner:
    """Runs scripts for one run directory, at most ``max_parallel`` at a time."""

    _semaphores: dict[tuple[str, int], threading.BoundedSemaphore] = {}
    _lock = threading.Lock()

    def __init__(self, run_dir: str | Path, data_dir: str | Path, *, timeout: float = 1800.0,
                 max_parallel: int = 1, memory_gb: float = 0.0, threads: int | None = None):
        self.run_dir = Path(run_dir).resolve()
        self.source_data = Path(data_dir).resolve()
        self.timeout = timeout
        self.memory_gb = memory_gb
        self.threads = threads or max(1, (os.cpu_count() or 1) // max_parallel)
        key = (str(self.run_dir), max_parallel)
        with self._lock:
            self._slots = self._semaphores.setdefault(key, threading.BoundedSemaphore(max_parallel))

    # -- data -------------------------------------------------------------------------------
    @property
    def data_dir(self) -> Path:
        """A read-only copy of the public data, made once per run."""
        target = self.run_dir / "data"
        with self._lock:
            if not (target / ".complete").exists():
                if target.exists():
                    shutil.rmtree(target)
                shutil.copytree(self.source_data, target, ignore=shutil.ignore_patterns("description*", "*.md"))
                (target / ".complete").touch()
                for path in target.rglob("*"):
                    if path.is_file():
                        path.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
        return target

    # -- execution --------------------------------------------------------------------------
    def run(self, code: str, name: str, timeout: float | None = None) -> ExecResult:
        """Execute ``code`` as ``scripts/<name>/solution.py``; reuse a cached result if identical."""
        timeout = float(timeout or self.timeout)
        workdir = self.run_dir / "scripts" / name
        digest = hashlib.sha256(f"{timeout}\n{code}".encode()).hexdigest()
        cached = self._cached(workdir, digest)
        if cached is not None:
            return cached
        if workdir.exists():
            shutil.rmtree(workdir)
        workdir.mkdir(parents=True)
        (workdir / "input").symlink_to(self.data_dir, target_is_directory=True)
        script = workdir / "solution.py"
        script.write_text(code, encoding="utf-8")
        with self._slots:
            result = self._execute(script, workdir, name, timeout)
        (workdir / "result.json").write_text(json.dumps(result.to_dict() | {"sha256": digest}, indent=1))
        with open(self.run_dir / "executions.jsonl", "a") as log:  # one line per real (uncached) execution
            log.write(json.dumps({"name": name, "sha256": digest, "score": result.score,
                                  "duration": result.duration}) + "\n")
        return result

    def _cached(self, workdir: Path, digest: str) -> ExecResult | None:
        meta = workdir / "result.json"
        if not meta.exists():
            return None
        try:
            data = json.loads(meta.read_text())
        except (OSError, json.JSONDecodeError):
            return None
        if data.get("sha256") != digest:
            return None
        fields = {k: data[k] for k in ExecResult.__dataclass_fields__ if k in data}
        return ExecResult(**(fields | {"cached": True}))

    def _env(self, workdir: Path) -> dict[str, str]:
        env = {k: os.environ[k] for k in _ENV_KEEP if k in os.environ}
        threads = str(self.threads)
        env.update(
            HOME=str(workdir), PYTHONHASHSEED="0", PYTHONUNBUFFERED="1", MPLBACKEND="Agg",
            OMP_WAIT_POLICY="passive", OMP_NUM_THREADS=threads, OPENBLAS_NUM_THREADS=threads,
            MKL_NUM_THREADS=threads, MLE_STAR_THREADS=threads,
        )
        return env

    def _limits(self) -> None:  # runs in the child before exec
        _die_with_parent()
        if self.memory_gb > 0:
            cap = int(self.memory_gb * 1024**3)
            resource.setrlimit(resource.RLIMIT_AS, (cap, cap))

    def _execute(self, script: Path, workdir: Path, name: str, timeout: float) -> ExecResult:
        out_path, err_path = workdir / "stdout.txt", workdir / "stderr.txt"
        start = time.monotonic()
        timed_out = False
        with open(out_path, "wb") as out, open(err_path, "wb") as err:
            proc = subprocess.Popen(
                [sys.executable, script.name], cwd=workdir, stdout=out, stderr=err,
                stdin=subprocess.DEVNULL, env=self._env(workdir), start_new_session=True,
                preexec_fn=self._limits,
            )
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                timed_out = True
            finally:
                _kill_group(proc)
        duration = time.monotonic() - start
        stdout = out_path.read_text(encoding="utf-8", errors="replace")
        stderr = err_path.read_text(encoding="utf-8", errors="replace")
        if proc.returncode is not None and proc.returncode < 0 and not timed_out:
            stderr += f"\nThe script was killed by signal {-proc.returncode} (out of memory?)."
        return ExecResult(
            name=name, workdir=str(workdir), returncode=None if timed_out else proc.returncode,
            score=parse_score(stdout) if not timed_out else None, timed_out=timed_out,
            duration=round(duration, 3), stdout_tail=bounded(stdout), stderr_tail=bounded(stderr, 3000),
        )


def _die_with_parent() -> None:
    """Linux: the script gets SIGKILL if mle-star itself is killed (kill -9 included)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _kill_group(proc: subprocess.Popen) -> None:
    """Kill the script and everything it started (its own session/process group)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()
