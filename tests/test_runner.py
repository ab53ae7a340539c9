"""The script runner's normal behaviour, in both sandbox modes where it matters: inputs, no
keys, score parsing, declared outputs, errors, timeouts, bounded output, limits, the cache and
executions.jsonl. Hostile scripts are in test_sandbox.py / hostile.py."""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

import pytest

from mle_star.tools.execution.runner import (
    ExecResult,
    Limits,
    ScriptRunner,
    bounded,
    default_limits,
    parse_score,
)
from mle_star.tools.execution.sandbox import Sandbox, SandboxUnavailable, probe

SMALL = Limits(memory_bytes=2 * 1024**3, processes=256, file_size_bytes=64 * 1024**2,
               output_bytes=64 * 1024, output_file_bytes=1024**2, tmp_bytes=64 * 1024**2)


@pytest.fixture(params=["bwrap", "none"])
def sandbox(request) -> Sandbox:
    try:
        return probe(request.param)
    except SandboxUnavailable as exc:
        if os.environ.get("MLE_STAR_REQUIRE_SANDBOX") == "1":
            raise
        pytest.skip(str(exc))


@pytest.fixture
def task(tmp_path) -> Path:
    """A small task: public/ with two CSVs and a folder, private/answers.csv beside it."""
    public = tmp_path / "task" / "public"
    (public / "images").mkdir(parents=True)
    (public / "train.csv").write_text("id,x,y\n" + "".join(f"{i},{i / 10},{i % 2}\n" for i in range(40)))
    (public / "test.csv").write_text("id,x\n" + "".join(f"{i},{i / 10}\n" for i in range(40, 50)))
    (public / "images" / "a.txt").write_text("pixels")
    (tmp_path / "task" / "private").mkdir()
    (tmp_path / "task" / "private" / "answers.csv").write_text("id,y\n40,1\n")
    return tmp_path / "task"


def views(task: Path) -> dict[str, dict[str, str]]:
    public = task / "public"
    return {"search": {"train.csv": str(public / "train.csv"), "test.csv": str(public / "test.csv")},
            "full": {"train.csv": str(public / "train.csv"), "test.csv": str(public / "test.csv"),
                     "images": str(public / "images")}}


def make_runner(task: Path, sandbox: Sandbox, **kw) -> ScriptRunner:
    kw = {"timeout": 30, "limits": SMALL, "threads": 1} | kw
    return ScriptRunner(task.parent / "run", views(task), sandbox=sandbox, **kw)


# -- pure helpers --------------------------------------------------------------------------------
def test_score_is_the_last_performance_line():
    out = "Final Validation Performance: 0.5\nmore\nFinal Validation Performance: 0.875\n"
    assert parse_score(out) == 0.875
    assert parse_score("Final Validation Performance: nan") is None
    assert parse_score("no score") is None
    assert bounded("x" * 10) == "x" * 10 and "characters omitted" in bounded("x" * 5000, 100)


def test_default_limits_fit_the_machine(tmp_path):
    one, four = default_limits(1, tmp_path), default_limits(4, tmp_path)
    ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    if one.memory_bytes is not None:  # None only with NVIDIA GPUs (CUDA reserves huge address space)
        assert one.memory_bytes == max(min(4 * 1024**3, ram), int(0.8 * ram))
        assert four.memory_bytes == max(min(4 * 1024**3, ram), int(0.8 * ram / 4))
    assert one.processes == 512 and 1024**3 <= one.file_size_bytes <= 16 * 1024**3


# -- behaviour -----------------------------------------------------------------------------------
def test_script_sees_its_inputs_and_no_keys(task, sandbox, monkeypatch):
    monkeypatch.setenv("GOOGLE_API_KEY", "secret-key")
    monkeypatch.setenv("OPENAI_API_KEY", "secret-key-2")
    code = ("import os, json\n"
            "print(json.dumps({'input': sorted(os.listdir('input')), 'images': sorted(os.listdir('input/images')),\n"
            "                  'env': dict(os.environ), 'cwd': os.getcwd()}))\n"
            "print('Final Validation Performance: 0.75')\n")
    runner = make_runner(task, sandbox, threads=3)
    result = runner.run(code, "probe", view="full")
    assert result.ok and result.printed_score == 0.75 and result.sandbox == sandbox.kind
    facts = json.loads(result.stdout_tail.splitlines()[0])
    assert facts["input"] == ["images", "test.csv", "train.csv"] and facts["images"] == ["a.txt"]
    env = facts["env"]
    assert "secret-key" not in json.dumps(env) and not any("API_KEY" in k for k in env)
    assert env["PYTHONHASHSEED"] == "0" and env["PYTHONUNBUFFERED"] == "1" and env["MPLBACKEND"] == "Agg"
    assert env["OMP_WAIT_POLICY"] == "passive"
    assert all(env[k] == "3" for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                                       "MLE_STAR_THREADS"))
    assert env["HOME"] == facts["cwd"] == ("/workspace" if sandbox.kind == "bwrap" else result.workdir)
    # the code as run is in the trusted record, next to the captured streams
    record = Path(result.record_dir)
    assert record == task.parent / "run" / "scripts" / "probe" and Path(result.workdir) == task.parent / "run" / "work" / "probe"
    assert (record / "solution.py").read_text() == code
    assert "Final Validation Performance: 0.75" in (record / "stdout.txt").read_text()
    assert not [p.name for p in record.iterdir() if p.name.startswith(".")]  # no temp files left


def test_default_threads_split_the_cpus(task, sandbox):
    runner = ScriptRunner(task.parent / "run", views(task), sandbox=sandbox, max_parallel=2, limits=SMALL)
    assert runner.threads == max(1, len(os.sched_getaffinity(0)) // 2)


def test_cpu_seconds_count_the_whole_process_tree(task, sandbox):
    """run.json's parallelism is CPU time where it can be measured, not threads x duration: a
    script that burns ~1 s of CPU in a child process, then sleeps 1 s, reports ~1 CPU second,
    child included. Under bwrap the tree's rusage is out of reach: None, never a wrong number."""
    code = ("import subprocess, sys, time\n"
            "subprocess.run([sys.executable, '-c', 'import time\\nt = time.process_time()\\n"
            "while time.process_time() - t < 1.0: pass'], check=True)\n"
            "time.sleep(1.0)\n")
    result = make_runner(task, sandbox).run(code, "burn")
    assert result.ok, result.error
    assert result.duration >= 2.0
    if sandbox.kind == "bwrap":
        assert result.cpu_seconds is None
    else:
        assert result.cpu_seconds is not None and 0.9 <= result.cpu_seconds <= 1.8


def test_machine_busy_is_the_share_of_the_cores_time_in_use():
    """run.json's machine_busy: burning one core for a second is at least a 1/cores share (more
    if anything else ran); no start, or a start after 'now' (a reboot), is unknown, not 0."""
    from mle_star.timing import cpu_clock, machine_busy

    cores = len(os.sched_getaffinity(0))
    start = cpu_clock()
    assert start is not None and 0 <= start[0] <= start[1]
    began = time.process_time()
    while time.process_time() - began < 1.0:
        pass
    busy = machine_busy(start)
    assert busy is not None and 0.8 / cores <= busy <= 1.0
    assert machine_busy(None) is None and machine_busy([start[0] * 10, start[1] * 10]) is None


def test_inputs_are_read_only(task, sandbox):
    """bwrap: read-only mounts. none: a folder of symlinks made read-only, which does not stop
    root (test_sandbox.py documents that write_public/poison_input escape in none mode)."""
    code = ("for path in ('input/train.csv', 'input/new.csv'):\n"
            "    try:\n"
            "        open(path, 'a').write('x')\n"
            "        print('wrote', path)\n"
            "    except OSError as exc:\n"
            "        print('refused', path, exc.errno)\n")
    runner = make_runner(task, sandbox)
    if sandbox.kind == "bwrap":
        result = runner.run(code, "ro")
        assert result.ok and result.stdout_tail.count("refused") == 2
        assert (task / "public" / "train.csv").read_text().endswith("39,3.9,1\n")
        return
    result = runner.run("print('hi')", "ro")
    view = task.parent / "run" / "data" / "views" / "search"
    assert (Path(result.workdir) / "input").resolve() == view.resolve()
    assert sorted(p.name for p in view.iterdir()) == ["test.csv", "train.csv"]
    assert (view / "train.csv").readlink() == task / "public" / "train.csv"
    assert oct(view.stat().st_mode & 0o777) == "0o555"


def test_declared_outputs_are_collected(task, sandbox):
    code = ("import os\nos.makedirs('preds', exist_ok=True)\n"
            "open('submission.csv', 'w').write('id,y\\n40,1\\n')\nopen('preds/valid.csv', 'w').write('v')\n"
            "os.symlink('submission.csv', 'alias.csv')\n")
    result = make_runner(task, sandbox).run(code, "outs", outputs=("submission.csv", "preds/valid.csv",
                                                                   "missing.csv", "alias.csv"))
    assert result.ok and set(result.outputs) == {"submission.csv", "preds/valid.csv"}
    assert Path(result.outputs["submission.csv"]).read_text() == "id,y\n40,1\n"
    assert Path(result.outputs["preds/valid.csv"]) == Path(result.record_dir) / "outputs" / "preds" / "valid.csv"
    assert result.output_errors == {"missing.csv": "missing", "alias.csv": "is a symbolic link"}
    with pytest.raises(ValueError):
        make_runner(task, sandbox).run("pass", "bad", outputs=("../escape.csv",))
    with pytest.raises(ValueError):
        make_runner(task, sandbox).run("pass", "../bad")


def test_crash_reports_the_traceback(task, sandbox):
    result = make_runner(task, sandbox).run("import pandas as pd\npd.read_csv('input/nope.csv')\n", "crash")
    assert not result.ok and result.returncode == 1 and result.limit_hit == ""
    assert "FileNotFoundError" in result.error and "solution.py" in result.error


def test_missing_score_line_is_fine(task, sandbox):
    result = make_runner(task, sandbox).run("print('done')\n", "silent")
    assert result.ok and result.printed_score is None and result.error == ""


def test_hanging_script_and_its_children_are_killed(task, sandbox):
    token = f"hang{time.monotonic_ns()}"
    code = ("import os, subprocess, sys, time\n"
            f"subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)', {token!r}])\n"
            "if os.fork() == 0:\n"
            "    os.setsid()\n"
            f"    os.execv(sys.executable, [sys.executable, '-c', 'import time; time.sleep(600)', {token!r}])\n"
            "time.sleep(600)\n")
    start = time.monotonic()
    result = make_runner(task, sandbox).run(code, "hang", timeout=2)
    assert time.monotonic() - start < 2 + 4
    assert result.timed_out and not result.ok and result.limit_hit == "time" and "time limit" in result.error
    time.sleep(0.3)
    assert not _with_token(token)


def test_background_children_end_with_the_script(task, sandbox):
    """Outputs are collected after the whole tree is gone: nothing the script left behind runs on."""
    token = f"bg{time.monotonic_ns()}"
    code = ("import subprocess, sys\n"
            f"subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)', {token!r}])\n"
            "print('Final Validation Performance: 0.5')\n")
    result = make_runner(task, sandbox).run(code, "bg")
    assert result.ok and result.printed_score == 0.5 and result.duration < 10
    assert not _with_token(token)


def _with_token(token: str) -> list[int]:
    found = []
    for entry in os.scandir("/proc"):
        try:
            if entry.name.isdigit() and token.encode() in Path(entry.path, "cmdline").read_bytes():
                if Path(entry.path, "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z":
                    found.append(int(entry.name))
        except OSError:
            pass
    return found


def test_memory_limit_turns_a_hog_into_a_clear_failure(task, sandbox):
    code = "x = bytearray(3 * 1024**3)\nprint('Final Validation Performance: 1')\n"
    result = make_runner(task, sandbox).run(code, "hog")
    assert not result.ok and result.limit_hit == "memory" and "MemoryError" in result.error
    assert "memory limit" in result.error and result.printed_score is None


def test_file_size_limit(task, sandbox):
    code = "with open('big.bin', 'wb') as fh:\n    fh.write(b'0' * (80 * 1024**2))\n"
    result = make_runner(task, sandbox).run(code, "fsize")
    assert not result.ok and result.limit_hit == "file size" and "File too large" in result.error
    assert (Path(result.workdir) / "big.bin").stat().st_size <= SMALL.file_size_bytes


def test_long_output_is_bounded_on_disk_and_in_the_result(task, sandbox):
    code = ("for i in range(50000):\n    print('line', i)\n"
            "print('Final Validation Performance: 0.5')\n"
            "import sys\nprint('warn ' * 30000, file=sys.stderr)\n")
    result = make_runner(task, sandbox).run(code, "chatty")
    assert result.ok and result.printed_score == 0.5
    stdout = (Path(result.record_dir) / "stdout.txt").read_text()
    assert len(stdout) <= SMALL.output_bytes + 100 and "bytes omitted" in stdout
    assert stdout.startswith("line 0\n") and stdout.endswith("Final Validation Performance: 0.5\n")
    assert len(result.stdout_tail) < 4200 and "characters omitted" in result.stdout_tail
    assert result.stdout_tail.rstrip().endswith("0.5") and len(result.stderr_tail) < 3200


def test_score_is_found_even_in_the_omitted_middle(task, sandbox):
    code = "print('Final Validation Performance: 0.25')\nfor i in range(50000):\n    print('noise', i)\n"
    result = make_runner(task, sandbox).run(code, "buried")
    assert result.printed_score == 0.25 and "Final Validation" not in result.stdout_tail[-2000:]


def test_identical_script_is_not_run_twice(task, sandbox):
    code = "import time\nprint('Final Validation Performance:', time.time() % 1000)\n"
    runner = make_runner(task, sandbox)
    first = runner.run(code, "cached", outputs=("x.csv",))
    second = make_runner(task, sandbox).run(code, "cached", outputs=("x.csv",))  # a resumed run
    assert second.cached and not first.cached and second.printed_score == first.printed_score
    assert second.to_dict() == first.to_dict() | {"cached": True, "ok": first.ok}
    for change in ({"code": code + "# changed\n"}, {"view": "full"}, {"outputs": ()}, {"salt": "fold-2"},
                   {"timeout": 29}):
        args = {"code": code, "view": "search", "outputs": ("x.csv",), "salt": ""} | change
        again = runner.run(args.pop("code"), "cached", **args)
        assert not again.cached and again.printed_score != first.printed_score, change
    log = [json.loads(line) for line in (task.parent / "run" / "executions.jsonl").read_text().splitlines()]
    assert len(log) == 6 and {"name", "sha256", "printed_score", "duration"} <= set(log[0])
    assert log[0]["printed_score"] == first.printed_score


def test_a_tampered_or_missing_record_is_not_trusted(task, sandbox):
    code = "open('out.csv', 'w').write('1')\nprint('Final Validation Performance: 0.5')\n"
    runner = make_runner(task, sandbox)
    first = runner.run(code, "tamper", outputs=("out.csv",))
    meta = Path(first.record_dir) / "result.json"
    data = json.loads(meta.read_text())
    meta.write_text(json.dumps(data | {"sha256": "0" * 64, "printed_score": 1.0}))
    assert not runner.run(code, "tamper", outputs=("out.csv",)).cached
    Path(runner.run(code, "tamper", outputs=("out.csv",)).outputs["out.csv"]).unlink()
    again = runner.run(code, "tamper", outputs=("out.csv",))
    assert not again.cached and Path(again.outputs["out.csv"]).read_text() == "1"


def test_at_most_max_parallel_scripts_at_once(task, sandbox):
    code = "import time\nprint(time.time())\ntime.sleep(0.4)\nprint(time.time())\n"
    runners = [make_runner(task, sandbox, max_parallel=1) for _ in range(3)]  # shared per run_dir
    results: list[ExecResult] = []
    threads = [threading.Thread(target=lambda r=r, i=i: results.append(r.run(code, f"p{i}")))
               for i, r in enumerate(runners)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    spans = sorted(tuple(map(float, r.stdout_tail.split())) for r in results)
    assert len(spans) == 3 and all(a[1] <= b[0] for a, b in zip(spans, spans[1:], strict=False))


def test_entry_names_are_single_components(task, sandbox):
    odd = task / "public" / "Train Data (v2).csv"
    odd.write_text("a\n1\n")
    runner = ScriptRunner(task.parent / "run", {"search": {"Train Data (v2).csv": str(odd)}}, sandbox=sandbox,
                          limits=SMALL, timeout=30)
    result = runner.run("print(open('input/Train Data (v2).csv').read())", "odd")
    assert result.ok and result.stdout_tail == "a\n1\n\n"
    for bad in ("../x.csv", "a/b.csv", ".", ""):
        with pytest.raises(ValueError):
            ScriptRunner(task.parent / "run", {"search": {bad: str(odd)}}, sandbox=sandbox)


def test_missing_input_source_is_an_error(task, sandbox):
    (task / "public" / "test.csv").unlink()
    with pytest.raises(FileNotFoundError, match="test.csv"):
        make_runner(task, sandbox).run("pass", "noinput")
    with pytest.raises(KeyError):
        make_runner(task, sandbox).run("pass", "noview", view="nope")
