"""Scripts and benchmarks on Ray (``--executor ray``), on a local Ray instance with two CPUs:
a whole run ends with the local executor's submission even when a worker is killed under a
script, a worker lost twice is a visible failure, inputs travel through the object store when
a worker cannot see the driver's files, and without Ray the executor fails with one line.

Skipped when Ray is not installed, except under CI (which installs it): there they must run.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

try:
    import ray
except ImportError:
    if os.environ.get("CI"):
        raise
    pytest.skip("ray is not installed (pip install 'mle-star[ray]'); CI installs it and runs these",
                allow_module_level=True)

from conftest import GOOD_RANKING, predicting

from mle_star.cli import main
from mle_star.config import Context
from mle_star.tools.execution import ray_data
from mle_star.tools.execution.ray_bench import ClusterJob, run_tasks_concurrently
from mle_star.tools.execution.ray_executor import (
    DATA_ENV,
    RayExecutor,
    RayUnavailable,
    release_run,
    require_ray,
    shipped,
)
from mle_star.tools.execution.runner import ScriptRunner
from mle_star.tools.execution.sandbox import probe
from mle_star.tools.task.dataview import prepare_run_data
from mle_star.tools.task.intake import read_task

LOOPS = ["--num-candidates", "2", "--outer-loops", "1", "--inner-loops", "1", "--parallel-solutions", "2",
         "--ensemble-rounds", "1", "--script-timeout", "120"]
OUTPUTS = ("valid_predictions.csv", "test_predictions.csv")


@pytest.fixture(scope="module")
def cluster():
    """One local Ray instance for the module (starting one takes seconds)."""
    if ray.is_initialized():
        ray.shutdown()
    ray.init(num_cpus=2, include_dashboard=False, logging_level="WARNING", log_to_driver=False)
    yield ray
    ray.shutdown()


class Killer:
    """Kills the Ray worker process of this test's cluster that is running a script (``ray::
    mle-star:<name>`` with a child: the sandbox) ``times`` times; remembers what it killed."""

    def __init__(self, times: int = 1, prefix: str = "ray::mle-star:"):
        self.times, self.prefix = times, prefix.encode()
        self.killed: list[tuple[int, str, list[int]]] = []  # (worker pid, its title, its children)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> Killer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.thread.join()

    @staticmethod
    def _ppid(pid: int) -> int:
        with open(f"/proc/{pid}/stat") as fh:
            return int(fh.read().rsplit(")", 1)[1].split()[1])

    def _loop(self) -> None:
        me = os.getpid()
        while not self.stop.is_set() and len(self.killed) < self.times:
            for entry in os.scandir("/proc"):
                if not entry.name.isdigit():
                    continue
                pid = int(entry.name)
                try:
                    title = Path(f"/proc/{pid}/cmdline").read_bytes()
                    mine = self._ppid(self._ppid(pid)) == me  # worker <- raylet <- this test process
                    children = [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
                except (OSError, ValueError, IndexError):
                    continue
                if title.startswith(self.prefix) and mine and children and all(k[0] != pid for k in self.killed):
                    time.sleep(0.3)  # let the script get going
                    try:
                        if Path(f"/proc/{pid}/cmdline").read_bytes() != title:
                            continue  # it finished meanwhile
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        continue
                    self.killed.append((pid, title.split(b"\0")[0].decode(), children))
                    break
            time.sleep(0.05)


def _gone(pids: list[int], seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not any(Path(f"/proc/{pid}").exists() for pid in pids):
            return True
        time.sleep(0.1)
    return False


@contextmanager
def one_thread_per_script():
    """The driver sees one CPU, so every script gets one thread (scripts that run alone get every
    core the driver sees). With two threads the local executor does not reproduce itself: a
    forest's predict_proba adds its trees' votes in whichever order its threads finish, so two
    local runs differ in the last bit. Ray still has two CPUs: its workers started before this."""
    saved = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(saved)})
    try:
        yield
    finally:
        os.sched_setaffinity(0, saved)


@pytest.fixture(scope="module")
def local_run(bc_task, tmp_path_factory) -> Path:
    """The same run with the local executor: what every Ray run must reproduce."""
    run_dir = tmp_path_factory.mktemp("local") / "run"
    with one_thread_per_script():
        assert main(["run", str(bc_task), "--run-dir", str(run_dir), *LOOPS]) == 0
    return run_dir


def test_a_ray_run_ends_with_the_local_submission_even_when_a_worker_dies(bc_task, tmp_path, local_run, cluster):
    local, remote = local_run, tmp_path / "ray"
    with Killer(times=1) as killer, one_thread_per_script():
        assert main(["run", str(bc_task), "--run-dir", str(remote), *LOOPS, "--executor", "ray"]) == 0
    assert (remote / "final" / "submission.csv").read_bytes() == (local / "final" / "submission.csv").read_bytes()
    assert (remote / "final" / "solution.py").read_bytes() == (local / "final" / "solution.py").read_bytes()

    # every script ran as a Ray task on the shared path, its record installed like a local one
    records = {p.parent.relative_to(remote / "scripts").as_posix(): json.loads(p.read_text())
               for p in (remote / "scripts").rglob("result.json")}
    local_records = {p.parent.relative_to(local / "scripts").as_posix() for p in (local / "scripts").rglob("result.json")}
    assert set(records) == local_records
    assert all(r["ray"]["data"] == "shared" and r["sha256"] for r in records.values())
    for name, r in records.items():
        assert r["record_dir"] == str(remote / "scripts" / name)
        assert all(Path(p).is_file() and p.startswith(r["record_dir"]) for p in r["outputs"].values())
    # the killed worker: its sandbox died with it, the script ran again and says so
    assert len(killer.killed) == 1, "no worker was killed: the script finished before the killer saw it"
    pid, title, children = killer.killed[0]
    assert _gone(children), "the killed worker's sandbox outlived it"
    name = title.removeprefix("ray::mle-star:")
    assert records[name]["ray"]["worker_deaths"] == 1 and records[name]["ok"]
    assert "WorkerCrashedError" in records[name]["ray"]["lost"][0]
    lines = [json.loads(line) for line in (remote / "executions.jsonl").read_text().splitlines()]
    assert sum(line["worker_deaths"] for line in lines) == 1 and all(line["executor"] == "ray" for line in lines)
    run = json.loads((remote / "run.json").read_text())
    assert run["counts"]["worker_deaths"] == 1

    # the run released its copies and scratch on the nodes
    assert not (Path(tempfile.gettempdir()) / "mle-star-ray" / ray_data.run_key(remote)).exists()
    # resuming the finished run changes nothing and runs nothing
    before = (remote / "executions.jsonl").read_text()
    assert main(["resume", str(remote)]) == 0
    assert (remote / "executions.jsonl").read_text() == before


def test_a_ray_run_whose_workers_cannot_see_its_files_ends_the_same(bc_task, tmp_path, local_run, cluster,
                                                                     monkeypatch):
    monkeypatch.setenv(DATA_ENV, "object_store")  # as if no worker saw the driver's paths
    remote = tmp_path / "ray"
    with one_thread_per_script():
        assert main(["run", str(bc_task), "--run-dir", str(remote), *LOOPS, "--executor", "ray"]) == 0
    assert (remote / "final" / "submission.csv").read_bytes() == (local_run / "final" / "submission.csv").read_bytes()
    records = [json.loads(p.read_text()) for p in (remote / "scripts").rglob("result.json")]
    assert records and all(r["ray"]["data"] == "object_store" for r in records)
    # each of the task's files was put once per run (not once per script), and so was each
    # extra input an ensemble may get (its members' saved predictions)
    manifest = json.loads((remote / "data" / "manifest.json").read_text())["views"]
    files = len(set(manifest["search"].values()) | set(manifest["full"].values()))
    assert files <= shipped(remote)["puts"] <= files + 12 < len(records) * 4


@pytest.fixture
def run_data(bc_task, tmp_path):
    run_dir = tmp_path / "run"
    yield run_dir, prepare_run_data(read_task(bc_task), run_dir, seed=42)
    release_run(run_dir)  # the node's copies and scratch


def _digest(path: str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def test_inputs_reach_a_worker_that_cannot_see_them_through_the_object_store(run_data, tmp_path, cluster):
    """The 'object_store' mode is what a worker that cannot see the driver's paths gets: each
    input is put once per run, copied once per node, and the script sees the same bytes."""
    run_dir, data = run_data
    folder = tmp_path / "extra"  # a folder entry travels as a tar
    (folder / "deep").mkdir(parents=True)
    (folder / "deep" / "a.txt").write_text("alpha")
    (folder / "empty.txt").write_text("")
    views = data.views | {"mixed": data.views["search"] | {"extra": str(folder)}}
    expected = {entry: _digest(src) for entry, src in data.views["search"].items()}
    code = predicting(GOOD_RANKING, setup=(
        "import hashlib, json, os\n"
        "seen = {n: hashlib.sha256(open('input/' + n, 'rb').read()).hexdigest()\n"
        "        for n in os.listdir('input') if os.path.isfile('input/' + n)}\n"
        "seen['extra'] = sorted(os.path.relpath(os.path.join(d, f), 'input/extra')\n"
        "                       for d, _, fs in os.walk('input/extra') for f in fs)\n"
        "print('SEEN', json.dumps(seen, sort_keys=True))\n"))
    ctx = Context(executor="ray", script_timeout=60)
    shared = RayExecutor(run_dir, views, ctx).run(code, "shared", view="mixed", outputs=OUTPUTS)
    ex = RayExecutor(run_dir, views, ctx, data_mode="object_store")
    first = ex.run(code + "# one\n", "copied", view="mixed", outputs=OUTPUTS)
    second = RayExecutor(run_dir, views, ctx, data_mode="object_store").run(
        code + "# two\n", "copied_again", view="mixed", outputs=OUTPUTS)
    assert shared.ok and first.ok and second.ok, first.error or second.error
    assert (shared.data, first.data, second.data) == ("shared", "object_store", "object_store")
    seen = json.loads(first.stdout_tail.split("SEEN ", 1)[1].splitlines()[0])
    assert seen.pop("extra") == ["deep/a.txt", "empty.txt"]
    assert seen == expected
    assert shared.stdout_tail.split("SEEN ", 1)[1] == first.stdout_tail.split("SEEN ", 1)[1]
    for name in OUTPUTS:  # the same predictions as from the shared path, installed in the driver's record
        assert Path(first.outputs[name]).read_bytes() == Path(shared.outputs[name]).read_bytes()
        assert first.outputs[name] == str(run_dir / "scripts" / "copied" / "outputs" / name)
    # put once per run (one object per distinct input), copied once per node
    assert shipped(run_dir)["puts"] == len(views["mixed"])
    key = ray_data.run_key(run_dir)
    copies = [p for p in (ray_data.node_root(key) / "data").iterdir() if p.is_dir()]
    assert len(copies) == len(views["mixed"])
    # the result cache works as for local runs: an identical script is not run again
    again = RayExecutor(run_dir, views, ctx, data_mode="object_store").run(
        code + "# one\n", "copied", view="mixed", outputs=OUTPUTS)
    assert again.cached and again.outputs == first.outputs
    # and the cache key is the local runner's, so a run may move between executors
    local = ScriptRunner(tmp_path / "local", views, sandbox=probe("auto"), timeout=60)
    local.run(code + "# one\n", "copied", view="mixed", outputs=OUTPUTS)
    assert (json.loads((tmp_path / "local" / "scripts" / "copied" / "result.json").read_text())["sha256"]
            == json.loads((run_dir / "scripts" / "copied" / "result.json").read_text())["sha256"])


SLOW = ("import time\nprint('working', flush=True)\ntime.sleep(4)\n"
        "open('valid_predictions.csv', 'w').write('x')\nprint('Final Validation Performance: 0.5')\n")


def test_a_script_whose_worker_dies_twice_is_a_visible_failure_not_a_cached_one(run_data, cluster):
    run_dir, data = run_data
    ctx = Context(executor="ray", script_timeout=60)
    with Killer(times=2, prefix="ray::mle-star:doomed") as killer:
        result = RayExecutor(run_dir, data.views, ctx).run(SLOW, "doomed", outputs=("valid_predictions.csv",))
    assert len(killer.killed) == 2
    assert not result.ok and result.worker_deaths == 2 and not result.node
    assert "Ray worker running this script died 2 times" in result.error
    assert result.output_errors["valid_predictions.csv"].startswith("not collected")
    record = json.loads((run_dir / "scripts" / "doomed" / "result.json").read_text())
    assert record["sha256"] is None and record["ray"]["worker_deaths"] == 2 and not record["ok"]
    assert "died 2 times" in (run_dir / "scripts" / "doomed" / "stderr.txt").read_text()
    line = json.loads((run_dir / "executions.jsonl").read_text().splitlines()[-1])
    assert line["worker_lost"] and line["worker_deaths"] == 2
    # a cluster fault is not the code's result: the same script runs again (and now finishes)
    again = RayExecutor(run_dir, data.views, ctx).run(SLOW, "doomed", outputs=("valid_predictions.csv",))
    assert again.ok and not again.cached and again.worker_deaths == 0


def test_cluster_jobs_run_at_once_each_with_its_share(tmp_path, cluster):
    """What ``mle-star bench --executor ray`` runs: commands on workers, in place when the
    worker sees the folders, else the task goes through the object store and the run comes back."""
    task = tmp_path / "task"
    task.mkdir()
    (task / "data.txt").write_text("42")
    code = ("import os, sys, time\n"
            "task, out = sys.argv[1], sys.argv[2]\n"
            "start = time.time(); time.sleep(2)\n"
            "os.makedirs(os.path.join(out, 'final'), exist_ok=True)\nos.makedirs(os.path.join(out, 'work'))\n"
            "open(os.path.join(out, 'final', 'answer.txt'), 'w').write(open(os.path.join(task, 'data.txt')).read())\n"
            "open(os.path.join(out, 'work', 'big.bin'), 'w').write('scratch')\n"
            "print('span', start, time.time())\n")
    jobs = [ClusterJob(["{python}", "-c", code, "{task_dir}", "{out_dir}"], str(task), str(tmp_path / f"out{i}"))
            for i in range(2)]
    shared = run_tasks_concurrently(jobs)
    copied = run_tasks_concurrently([ClusterJob(j.argv, j.task_dir, str(tmp_path / f"copy{i}"))
                                     for i, j in enumerate(jobs)], object_store=True)
    for results, prefix, data in ((shared, "out", "shared"), (copied, "copy", "object_store")):
        assert [r.returncode for r in results] == [0, 0], results[0].output
        assert all(r.data == data and r.worker_deaths == 0 for r in results)
        for i in range(2):
            assert (tmp_path / f"{prefix}{i}" / "final" / "answer.txt").read_text() == "42"
        (a0, a1), (b0, b1) = ([float(x) for x in r.output.split("span ")[1].split()[:2]] for r in results)
        assert max(a0, b0) < min(a1, b1), "the two jobs did not overlap on a two-CPU cluster"
    assert (tmp_path / "out0" / "work" / "big.bin").exists()  # in place: the folder is the job's own
    assert not (tmp_path / "copy0" / "work").exists()  # shipped back without the scripts' work folders
    assert not list(tmp_path.glob(".mle-star-ray-*"))


def test_without_ray_the_ray_executor_fails_with_one_line(monkeypatch, bc_task, tmp_path, capsys):
    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(RayUnavailable, match=r"pip install 'mle-star\[ray\]'"):
        require_ray()
    code = main(["run", str(bc_task), "--run-dir", str(tmp_path / "run"), "--executor", "ray"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "pip install 'mle-star[ray]'" in err[0]


def test_the_local_executor_never_imports_ray(bc_task, tmp_path):
    probe_code = ("import sys\nfrom mle_star.config import Context\nfrom mle_star.tools.task.dataview import prepare_run_data\n"
                  "from mle_star.tools.execution.executor import make_executor\nfrom mle_star.tools.task.intake import read_task\n"
                  f"prepare_run_data(read_task({str(bc_task)!r}), {str(tmp_path / 'run')!r}, seed=42)\n"
                  f"ex = make_executor(Context(script_timeout=60), {str(tmp_path / 'run')!r})\n"
                  "assert ex.run(\"print('hi')\", 'hello').ok\n"
                  "print('ray' in sys.modules)\n")
    done = subprocess.run([sys.executable, "-c", probe_code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "False"


BUSY = ("import time\nstart = time.time()\nx = 0\nfor i in range(20_000_000):\n    x += i * i\n"
        "print('span', start, time.time())\n")


@pytest.mark.bench
def test_throughput_with_one_and_two_ray_worker_cpus(bc_task, tmp_path, capsys):
    """Scripts per second and task runs per second with one local Ray worker CPU, then two, in
    one run (``pytest -m bench tests/test_ray.py -s``); the ratio is printed."""
    flags = [*LOOPS, "--max-parallel", "1", "--executor", "local"]  # no --time-limit: it would fill it
    report = {}
    for cpus in (1, 2):
        if ray.is_initialized():
            ray.shutdown()
        ray.init(num_cpus=cpus, include_dashboard=False, logging_level="WARNING", log_to_driver=False)
        run_dir = tmp_path / f"scripts{cpus}"
        views = prepare_run_data(read_task(bc_task), run_dir, seed=42).views
        ctx = Context(executor="ray", script_timeout=300, max_parallel=2)
        RayExecutor(run_dir, views, ctx).run("print('warm')", "warm")  # worker start-up is not throughput
        start = time.monotonic()
        ex = RayExecutor(run_dir, views, ctx)
        threads = [threading.Thread(target=ex.run, args=(BUSY + f"# {i}\n", f"busy{i}")) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        scripts = time.monotonic() - start
        jobs = [ClusterJob(["{python}", "-m", "mle_star.cli", "run", "{task_dir}", "--run-dir", "{out_dir}", *flags],
                           str(bc_task), str(tmp_path / f"bench{cpus}" / f"run{i}")) for i in range(2)]
        start = time.monotonic()
        results = run_tasks_concurrently(jobs, cpus_each=1)
        bench = time.monotonic() - start
        assert [r.returncode for r in results] == [0, 0], results[0].output[-2000:]
        report[cpus] = (scripts, bench)
        ray.shutdown()
    with capsys.disabled():
        print(f"\n8 scripts: {report[1][0]:.1f} s with 1 CPU, {report[2][0]:.1f} s with 2: "
              f"throughput ratio {report[1][0] / report[2][0]:.2f}")
        print(f"2 task runs (mle-star run, tiny settings): {report[1][1]:.1f} s with 1 CPU, {report[2][1]:.1f} s "
              f"with 2: throughput ratio {report[1][1] / report[2][1]:.2f}")
    assert report[1][0] / report[2][0] > 1.3
