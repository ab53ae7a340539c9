"""The script runner: isolation, score parsing, bounded output, timeouts that kill the whole
process group, and content caching."""

from __future__ import annotations

import os
import time

from mle_star.tools.runner import ScriptRunner, bounded, parse_score


def make_runner(bc_task, tmp_path, **kw) -> ScriptRunner:
    return ScriptRunner(tmp_path / "run", bc_task / "public", **({"timeout": 30} | kw))


def test_score_is_the_last_performance_line():
    out = "Final Validation Performance: 0.5\nmore\nFinal Validation Performance: 0.875\n"
    assert parse_score(out) == 0.875
    assert parse_score("Final Validation Performance: nan") is None
    assert parse_score("no score") is None


def test_script_sees_only_public_data_and_no_keys(bc_task, tmp_path, monkeypatch):
    monkeypatch.setenv("GOOGLE_API_KEY", "secret-key")
    code = ("import os\nprint(sorted(os.listdir('input')))\nprint(os.environ.get('GOOGLE_API_KEY'))\n"
            "print(os.environ['OMP_WAIT_POLICY'])\nprint('Final Validation Performance: 0.75')\n")
    result = make_runner(bc_task, tmp_path).run(code, "probe")
    assert result.ok and result.score == 0.75
    lines = result.stdout_tail.splitlines()
    assert lines[0] == "['.complete', 'sample_submission.csv', 'test.csv', 'train.csv']"
    assert lines[1] == "None" and lines[2] == "passive"
    # the data copy is read-only and the script's own directory is separate
    assert not os.access(tmp_path / "run" / "data" / "train.csv", os.W_OK) or os.geteuid() == 0
    assert (tmp_path / "run" / "scripts" / "probe" / "solution.py").read_text() == code


def test_crash_reports_the_traceback(bc_task, tmp_path):
    result = make_runner(bc_task, tmp_path).run("import pandas as pd\npd.read_csv('input/nope.csv')\n", "crash")
    assert not result.ok and result.returncode == 1
    assert "FileNotFoundError" in result.error


def test_missing_score_line_is_a_failure(bc_task, tmp_path):
    result = make_runner(bc_task, tmp_path).run("print('done')\n", "silent")
    assert not result.ok and "no 'Final Validation Performance" in result.error


def test_hanging_script_and_its_children_are_killed(bc_task, tmp_path):
    code = ("import subprocess, sys, time\n"
            "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'])\n"
            "open('child.pid', 'w').write(str(child.pid))\n"
            "time.sleep(600)\n")
    start = time.monotonic()
    result = make_runner(bc_task, tmp_path).run(code, "hang", timeout=2)
    assert time.monotonic() - start < 15
    assert result.timed_out and not result.ok and "time limit" in result.error
    child = int((tmp_path / "run" / "scripts" / "hang" / "child.pid").read_text())
    time.sleep(0.2)
    assert not _alive(child)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


def test_memory_cap_turns_a_hog_into_a_clear_failure(bc_task, tmp_path):
    code = "x = bytearray(3 * 1024**3)\nprint('Final Validation Performance: 1')\n"
    result = make_runner(bc_task, tmp_path, memory_gb=1.0).run(code, "hog")
    assert not result.ok and "MemoryError" in result.error


def test_long_output_is_bounded(bc_task, tmp_path):
    code = "for i in range(20000):\n    print('line', i)\nprint('Final Validation Performance: 1.0')\n"
    result = make_runner(bc_task, tmp_path).run(code, "chatty")
    assert result.ok and len(result.stdout_tail) < 4200
    assert "characters omitted" in result.stdout_tail and result.stdout_tail.rstrip().endswith("1.0")
    assert len(bounded("x" * 10)) == 10


def test_identical_script_is_not_run_twice(bc_task, tmp_path):
    code = "import time\nprint('Final Validation Performance:', time.time())\n"
    runner = make_runner(bc_task, tmp_path)
    first = runner.run(code, "cached")
    second = runner.run(code, "cached")
    assert second.cached and not first.cached and second.score == first.score
    third = runner.run(code + "# changed\n", "cached")
    assert not third.cached and third.score != first.score


def test_script_dies_with_a_killed_agent(bc_task, tmp_path):
    """kill -9 of mle-star must not leave an untimed script running."""
    import subprocess
    import sys
    import textwrap

    pid_file = tmp_path / "run" / "scripts" / "orphan" / "pid"
    driver = textwrap.dedent(f"""
        from mle_star.tools.runner import ScriptRunner
        r = ScriptRunner({str(tmp_path / 'run')!r}, {str(bc_task / 'public')!r}, timeout=600)
        r.run("import os, time\\nopen('pid', 'w').write(str(os.getpid()))\\ntime.sleep(600)\\n", "orphan")
    """)
    agent = subprocess.Popen([sys.executable, "-c", driver])
    for _ in range(100):
        if pid_file.exists() and pid_file.read_text():
            break
        time.sleep(0.1)
    script_pid = int(pid_file.read_text())
    agent.kill()
    agent.wait()
    time.sleep(0.5)
    assert not _alive(script_pid)
