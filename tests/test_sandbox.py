"""The sandbox against hostile scripts (tests/hostile.py), and the agent being killed or stopped.

Under bwrap every attack in the catalogue must be contained. With sandbox "none" the suite
asserts the *known* outcome, so the weaker mode stays honestly documented (as root):

    attack                 none   why
    private_answers        no     the task folder is readable
    forged_score           no     ... so the answers are too
    etc_passwd             no     the host's /etc is readable
    user_home              no     the home folder is readable
    other_run              no     other runs are readable
    own_record             no     the trusted record and run.json are readable
    write_public           no     inputs are symlinks to the task's own files
    write_run_state        no     the run folder is writable
    poison_input           no     the shared view folder is only chmod 555 (root ignores it)
    tcp_connect            no     same network as the agent
    parent_environ         no     same uid: /proc/<agent>/environ is readable
    host_processes         no     same PID namespace
    setsid_survivor        no     setsid + a clean environment escapes the group kill and the sweep
    stdout_flood           yes    pipes are read by the runner, bounded on disk and in memory
    fifo_records           yes    records are written by temp file + rename, outputs opened O_NONBLOCK
    fork_bomb              no     RLIMIT_NPROC does not bind uid 0 (and is per-user otherwise)
    memory_30gb            yes    RLIMIT_AS
    output_symlink         yes    outputs: lstat + O_NOFOLLOW
    output_hardlink        yes    outputs: a single link only
    output_symlink_parent  yes    outputs: every component opened O_NOFOLLOW
    output_fifo            yes    outputs: regular files only
    output_huge            yes    outputs: output_file_bytes
    file_size              yes    RLIMIT_FSIZE
    kill_watchdog          yes    the interpreter has PR_SET_PDEATHSIG on its watchdog
    stop_watchdog          yes    the parent's own deadline kills the process group
    sigstop_self           yes    SIGKILL works on stopped processes
    host_tmp               no     the host's /tmp is the script's /tmp
    python_env             no     the Python environment is writable by root
    source_checkout        no     the checkout is readable and importable
    raw_devices            no     root can read /dev/vda and /dev/kmsg (yes for a non-root user)
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import hostile
import pytest

from mle_star.tools.execution import sandbox as sandbox_mod
from mle_star.tools.execution.runner import GRACE, ScriptRunner
from mle_star.tools.execution.sandbox import Sandbox, SandboxUnavailable, probe

HOSTILE_PY = Path(__file__).with_name("hostile.py")
ROOT = Path(__file__).resolve().parents[1]
NAMES = [h.name for h in hostile.HOSTILE]


def require_bwrap() -> Sandbox:
    """The bwrap sandbox; skipped where it cannot work unless MLE_STAR_REQUIRE_SANDBOX=1 (CI)."""
    try:
        return probe("bwrap")
    except SandboxUnavailable as exc:
        if os.environ.get("MLE_STAR_REQUIRE_SANDBOX") == "1":
            raise
        pytest.skip(str(exc))


def _catalogue(mode: str, tmp: Path) -> dict[str, dict]:
    out = tmp / f"{mode}.json"
    proc = subprocess.run([sys.executable, str(HOSTILE_PY), "--sandbox", mode, "--json", str(out),
                           "--workdir", str(tmp / mode)], capture_output=True, text=True, timeout=900,
                          env=dict(os.environ, OMP_WAIT_POLICY="passive"))
    print(proc.stdout)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return {o["name"]: o for o in json.loads(out.read_text())}


@pytest.fixture(scope="module")
def bwrap_outcomes(tmp_path_factory) -> dict[str, dict]:
    require_bwrap()
    return _catalogue("bwrap", tmp_path_factory.mktemp("hostile"))


@pytest.fixture(scope="module")
def none_outcomes(tmp_path_factory) -> dict[str, dict]:
    return _catalogue("none", tmp_path_factory.mktemp("hostile"))


def _judged(outcome: dict) -> bool:
    if outcome["contained"] is None:
        pytest.skip(outcome["detail"])
    return outcome["contained"]


@pytest.mark.parametrize("attack", NAMES)
def test_bwrap_contains(bwrap_outcomes, attack):
    outcome = bwrap_outcomes[attack]
    assert _judged(outcome), f"{attack} escaped bwrap: {outcome['detail']}"


@pytest.mark.parametrize("attack", NAMES)
def test_none_known_outcome(none_outcomes, attack):
    outcome = none_outcomes[attack]
    assert _judged(outcome) == outcome["expected_none"], outcome["detail"]


def test_catalogue_table(bwrap_outcomes, none_outcomes, capsys):
    """Both columns side by side (visible with -s), and every attack judged in both modes."""
    assert set(bwrap_outcomes) == set(none_outcomes) == set(NAMES)
    mark = {True: "yes", False: "no", None: "skip"}
    with capsys.disabled():
        print(f"\n{'attack':<24}bwrap  none")
        for name in NAMES:
            print(f"{name:<24}{mark[bwrap_outcomes[name]['contained']]:<7}{mark[none_outcomes[name]['contained']]}")
        for mode, outcomes in (("bwrap", bwrap_outcomes), ("none", none_outcomes)):
            judged = [o["contained"] for o in outcomes.values() if o["contained"] is not None]
            print(f"contained {sum(judged)}/{len(judged)} ({mode})")


# -- probe -------------------------------------------------------------------------------------
def test_probe_modes():
    none = probe("none")
    assert none.kind == "none" and "NOT contained" in none.warning and "NOT contained" in none.describe()
    real = require_bwrap()
    assert real.kind == "bwrap" and real.binary and os.access(real.binary, os.X_OK)
    assert probe("auto") == real and "bwrap" in real.describe()
    with pytest.raises(ValueError):
        probe("docker")  # type: ignore[arg-type]


def test_probe_without_bwrap_falls_back_loudly(monkeypatch):
    monkeypatch.setattr(sandbox_mod, "bwrap_candidates", lambda: [])
    sandbox_mod._verdict.cache_clear()
    try:
        with pytest.raises(SandboxUnavailable, match="no bwrap found"):
            probe("bwrap")
        auto = probe("auto")
        assert auto.kind == "none" and "no bwrap found" in auto.warning and "NOT contained" in auto.warning
    finally:
        monkeypatch.undo()
        sandbox_mod._verdict.cache_clear()


def test_probe_reports_a_broken_bwrap(monkeypatch, tmp_path):
    fake = tmp_path / "bwrap"
    fake.write_text("#!/bin/sh\necho 'bwrap: Creating new namespace failed: Operation not permitted' >&2\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setattr(sandbox_mod, "bwrap_candidates", lambda: [str(fake)])
    sandbox_mod._verdict.cache_clear()
    try:
        with pytest.raises(SandboxUnavailable, match="Operation not permitted"):
            probe("bwrap")
    finally:
        monkeypatch.undo()
        sandbox_mod._verdict.cache_clear()


def test_bwrap_argv_shape(tmp_path):
    """Namespaces, die-with-parent, synthesized /etc, no host passwd; options hidden in a memfd."""
    sandbox = require_bwrap()
    (tmp_path / "input").mkdir()
    inv = sandbox_mod.bwrap_invocation(sandbox, workdir=tmp_path, inputs={"a.csv": "/etc/hostname"},
                                       command=["python", "x.py"], env={"A": "1"}, tmp_bytes=1 << 20)
    try:
        args_fd = int(inv.argv[2])
        args = os.pread(args_fd, 1 << 20, 0).split(b"\0")
        passwd = [fd for fd in inv.pass_fds if os.pread(fd, 4096, 0).startswith(b"sandbox:x:")]
    finally:
        inv.close()
    text = [a.decode() for a in args]
    for flag in ("--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
                 "--die-with-parent", "--new-session", "--clearenv"):
        assert flag in text
    assert inv.argv[1] == "--args" and inv.argv[-2:] == ["python", "x.py"]
    assert "/etc/passwd" in text and passwd, "the passwd file is synthesized"
    assert not any(text[i] == "--ro-bind" and text[i + 1] == "/etc/passwd" for i in range(len(text) - 1))
    sources = [text[i + 1] for i, a in enumerate(text[:-1]) if a in ("--bind", "--ro-bind", "--dev-bind")]
    assert str(ROOT) not in sources and not any(s.startswith(str(ROOT / "mle_star")) for s in sources)
    assert "/root" not in sources and str(Path.home()) not in sources and "/etc" not in sources
    if not sandbox.userns:
        assert inv.uid >= sandbox_mod.UID_BASE and "--reuid" in inv.argv


def test_inside_the_sandbox(tmp_path):
    """What a script sees: its own uid, no capabilities, loopback only, synthesized passwd,
    a fresh /proc, read-only inputs and system, the mle-star checkout absent."""
    sandbox = require_bwrap()
    public = tmp_path / "public"
    public.mkdir()
    (public / "train.csv").write_text("a\n1\n")
    code = textwrap.dedent("""
        import json, os, socket
        facts = {}
        facts['uid'] = os.getuid()
        facts['caps'] = [l.split()[1] for l in open('/proc/self/status') if l.startswith('CapEff')][0]
        facts['passwd'] = open('/etc/passwd').read()
        facts['hostname'] = socket.gethostname()
        facts['nets'] = sorted(os.listdir('/sys/class/net')) if os.path.exists('/sys/class/net') else \\
            [l.split(':')[0].strip() for l in open('/proc/net/dev').readlines()[2:]]
        facts['pids'] = sorted(int(p) for p in os.listdir('/proc') if p.isdigit())
        facts['cwd'] = os.getcwd()
        facts['home'] = os.environ['HOME']
        facts['env'] = sorted(os.environ)
        for name, path in (('input', 'input/train.csv'), ('usr', '/usr/mle-star-x'), ('etc', '/etc/x')):
            try:
                open(path, 'a').close()
                facts[name] = 'writable'
            except OSError as exc:
                facts[name] = exc.errno
        facts['tmp'] = open('/tmp/x', 'w').write('ok')
        facts['checkout'] = os.path.exists(CHECKOUT)
        facts['ro'] = [l.split()[1] for l in open('/proc/self/mounts') if 'ro' in l.split()[3].split(',')]
        print(json.dumps(facts))
    """).replace("CHECKOUT", repr(str(ROOT / "pyproject.toml")))
    runner = ScriptRunner(tmp_path / "run", {"search": {"train.csv": str(public / "train.csv")}},
                          sandbox=sandbox, timeout=30)
    result = runner.run(code, "facts")
    assert result.ok, result.error
    facts = json.loads(result.stdout_tail)
    assert facts["caps"] == "0000000000000000"
    assert facts["passwd"].count("\n") == 1 and facts["passwd"].startswith("sandbox:x:")
    assert facts["hostname"] == "sandbox" and facts["nets"] == ["lo"]
    assert max(facts["pids"]) < 50  # a fresh PID namespace, not the host's
    assert facts["cwd"] == facts["home"] == "/workspace"
    assert all(facts[k] in (13, 30) for k in ("input", "usr", "etc"))  # EACCES / EROFS
    assert {"/", "/usr", "/workspace/input", "/workspace/input/train.csv"} <= set(facts["ro"])
    assert facts["tmp"] == 2 and facts["checkout"] is False
    assert not any("KEY" in k or "TOKEN" in k for k in facts["env"])
    if os.geteuid() == 0 and not sandbox.userns:
        assert facts["uid"] >= sandbox_mod.UID_BASE  # a fresh uid: RLIMIT_NPROC applies
    assert (public / "train.csv").read_text() == "a\n1\n"


# -- the agent killed or stopped ---------------------------------------------------------------
DRIVER = textwrap.dedent("""
    import json, sys
    from mle_star.tools.execution.runner import ScriptRunner
    from mle_star.tools.execution.sandbox import probe
    run_dir, public, mode, code_file, timeout = sys.argv[1:6]
    code = open(code_file).read()  # not in argv: the tests look for a token in command lines
    runner = ScriptRunner(run_dir, {"search": {"train.csv": public + "/train.csv"}}, sandbox=probe(mode),
                          timeout=float(timeout))
    result = runner.run(code, "victim")
    print(json.dumps(result.to_dict()), flush=True)
""")

VICTIM = textwrap.dedent("""
    import os, subprocess, sys, time
    TOKEN = 'THE-TOKEN'
    subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)', TOKEN + '-child'])
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            os.execve(sys.executable, [sys.executable, '-c', 'import time; time.sleep(120)', TOKEN + '-clean'], {})
        os._exit(0)
    print('started', flush=True)
    time.sleep(120)
""")


def _processes(token: str, run_key: str) -> dict[int, str]:
    """Live processes with ``token`` in argv or this run's marker in env: pid -> what."""
    found = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            cmdline = Path(entry.path, "cmdline").read_bytes()
            environ = Path(entry.path, "environ").read_bytes()
            state = Path(entry.path, "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state == "Z":
            continue
        if token.encode() in cmdline:
            found[int(entry.name)] = cmdline.split(b"\0")[-2].decode(errors="replace")
        elif f"MLE_STAR_EXEC={run_key}:".encode() in environ:
            found[int(entry.name)] = "marked:" + cmdline.replace(b"\0", b" ").decode(errors="replace")
    return found


def _wait_for(predicate, timeout: float, step: float = 0.05):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if value := predicate():
            return value
        time.sleep(step)
    return predicate()


def _fixture(tmp_path: Path) -> tuple[Path, Path]:
    public = tmp_path / "task" / "public"
    public.mkdir(parents=True)
    (public / "train.csv").write_text("a\n1\n")
    return tmp_path / "run", public


def _driver(run_dir: Path, public: Path, mode: str, code: str, timeout: float) -> subprocess.Popen:
    code_file = run_dir.parent / "victim.py"
    code_file.write_text(code)
    return subprocess.Popen([sys.executable, "-c", DRIVER, str(run_dir), str(public), mode, str(code_file), str(timeout)],
                            stdout=subprocess.PIPE, text=True, cwd=ROOT,
                            env=dict(os.environ, OMP_WAIT_POLICY="passive"))


def _kill_all(pids) -> None:
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


@pytest.mark.parametrize("mode", ["bwrap", "none"])
def test_kill_9_of_the_agent_leaves_no_survivor(tmp_path, mode):
    if mode == "bwrap":
        require_bwrap()
    run_dir, public = _fixture(tmp_path)
    token = f"victim{os.getpid()}x{time.monotonic_ns()}"
    run_key = ScriptRunner(run_dir, {}, sandbox=probe("none")).run_key
    agent = _driver(run_dir, public, mode, VICTIM.replace('THE-TOKEN', token), 600)
    try:
        started = _wait_for(lambda: len([w for w in _processes(token, run_key).values() if token in w]) == 2, 30)
        assert started, _processes(token, run_key)
        agent.kill()
        agent.wait()
        if mode == "bwrap":  # the PID namespace dies with bwrap: the setsid'd, env-scrubbed child too
            assert _wait_for(lambda: not _processes(token, run_key), 3), _processes(token, run_key)
            return
        # none: the script itself dies (PR_SET_PDEATHSIG) ...
        assert _wait_for(lambda: not any("solution.py" in w for w in _processes(token, run_key).values()), 3)
        left = _processes(token, run_key)
        # ... its marked child survives until the next runner of this run sweeps it ...
        assert any(w.endswith("-child") for w in left.values()), left
        ScriptRunner(run_dir, {"search": {}}, sandbox=probe("none"), timeout=30).run("pass", "next")

        def child_swept() -> dict[int, str] | None:
            left = _processes(token, run_key)
            return None if any(w.endswith("-child") for w in left.values()) else left

        left = _wait_for(child_swept, 3)
        # ... but one that cleared its environment and left the session is out of reach (documented).
        assert left and all(w.endswith("-clean") for w in left.values()), left
    finally:
        agent.kill()
        _kill_all(_processes(token, run_key))


@pytest.mark.parametrize("mode", ["bwrap", "none"])
def test_stopped_agent_still_kills_on_time(tmp_path, mode):
    """SIGSTOP the agent while a script runs; the script must still die at its timeout."""
    if mode == "bwrap":
        require_bwrap()
    run_dir, public = _fixture(tmp_path)
    token = f"stopped{os.getpid()}x{time.monotonic_ns()}"
    run_key = ScriptRunner(run_dir, {}, sandbox=probe("none")).run_key
    code = ("import subprocess, sys, time\n"
            f"subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)', {token!r}])\n"
            "time.sleep(120)\n")
    timeout = 3.0
    agent = _driver(run_dir, public, mode, code, timeout)
    try:
        assert _wait_for(lambda: _processes(token, run_key), 30)
        seen = time.monotonic()  # the script started before this
        os.kill(agent.pid, signal.SIGSTOP)
        gone = _wait_for(lambda: not _processes(token, run_key), timeout + 10, step=0.02)
        died_after = time.monotonic() - seen
        state = Path(f"/proc/{agent.pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        os.kill(agent.pid, signal.SIGCONT)
        out, _ = agent.communicate(timeout=30)
        assert gone and state == "T", "the script must die while the agent is still stopped"
        assert died_after <= timeout + 1.0, f"killed {died_after:.2f} s after start (timeout {timeout})"
        assert json.loads(out)["timed_out"] is True
    finally:
        agent.send_signal(signal.SIGCONT)
        agent.kill()
        _kill_all(_processes(token, run_key))


def test_parent_deadline_backs_up_a_stopped_watchdog(tmp_path):
    """If the in-sandbox watchdog is frozen (userns/none layouts let the script stop it), the
    runner's own deadline, GRACE later, still kills everything."""
    run_dir, public = _fixture(tmp_path)
    runner = ScriptRunner(run_dir, {"search": {"train.csv": str(public / "train.csv")}}, sandbox=probe("none"),
                          timeout=2)
    start = time.monotonic()
    result = runner.run("import os, signal, time\nos.kill(os.getppid(), signal.SIGSTOP)\ntime.sleep(60)\n", "frozen")
    assert result.timed_out and 2 + GRACE - 0.5 <= time.monotonic() - start <= 2 + GRACE + 2


def test_overhead_bwrap_vs_none(tmp_path, capsys):
    """Median wall time of a trivial script, both modes interleaved in one run."""
    require_bwrap()
    timings = hostile.bench(tmp_path, repeats=10)
    with capsys.disabled():
        print(f"\ntrivial script: bwrap {timings['bwrap'] * 1000:.0f} ms, none {timings['none'] * 1000:.0f} ms, "
              f"ratio {timings['ratio']:.2f}")
    assert timings["bwrap"] < timings["none"] + 0.5


def test_links_in_a_site_packages_folder_are_followed_to_their_store_not_above(tmp_path):
    """An environment made of links (nix, spack, a folder of chosen packages) works in the sandbox:
    the store's site-packages folder is mounted; a package linked from its source checkout mounts
    that package only, never the checkout around it."""
    from mle_star.tools.execution.sandbox import linked_sites

    store = tmp_path / "store" / "lib" / "site-packages"
    (store / "numpy").mkdir(parents=True)
    (store / "six.py").write_text("")
    checkout = tmp_path / "checkout"
    (checkout / "mypkg").mkdir(parents=True)
    site_dir = tmp_path / "env" / "site-packages"
    site_dir.mkdir(parents=True)
    for name, target in (("numpy", store / "numpy"), ("six.py", store / "six.py"), ("mypkg", checkout / "mypkg")):
        (site_dir / name).symlink_to(target)
    (site_dir / "plain").mkdir()
    assert linked_sites(str(site_dir)) == sorted([str(store), str(checkout / "mypkg")])
    assert linked_sites(str(tmp_path / "missing")) == []
