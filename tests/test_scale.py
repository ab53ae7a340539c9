"""Scale: a task with a 2 GB train.csv. The intake and the agent's split stream the file
(never loading it), and the first script starts within 30 s of launch.

Heavy (writes 2 GB, about two minutes): ``pytest -m bench tests/test_scale.py -s`` prints the
timings, including the intake as a ratio to one plain ``pandas.read_csv`` of the same file.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

SIZE = int(os.environ.get("MLE_STAR_SCALE_BYTES", 2_000_000_000))


@pytest.fixture(scope="module")
def big_task(tmp_path_factory):
    from mle_star.examples import write_large_task

    return write_large_task(tmp_path_factory.mktemp("scale") / "big", SIZE)


@pytest.mark.bench
def test_intake_and_split_stream_a_2gb_table(big_task, tmp_path):
    import pandas as pd

    from mle_star.tools.task.dataview import prepare_run_data
    from mle_star.tools.task.intake import read_task

    start = time.perf_counter()
    intake = read_task(big_task)
    read = time.perf_counter()
    data = prepare_run_data(intake, tmp_path / "run", seed=0)
    split = time.perf_counter()
    frame = pd.read_csv(big_task / "public" / "train.csv")
    pandas = time.perf_counter() - split
    ours = split - start
    print(f"\nintake {read - start:.1f} s + split {split - read:.1f} s = {ours:.1f} s; "
          f"pandas.read_csv {pandas:.1f} s; ratio {ours / pandas:.2f}")
    assert data.task["n_train"] + data.task["n_holdout"] == len(frame)
    assert ours < 30


@pytest.mark.bench
def test_the_first_script_starts_within_30_seconds(big_task, tmp_path):
    args = [sys.executable, "-m", "mle_star.cli", "run", str(big_task), "--run-dir", str(tmp_path / "run"),
            "--num-candidates", "1", "--outer-loops", "0", "--parallel-solutions", "1", "--ensemble-rounds", "0"]
    start = time.monotonic()
    proc = subprocess.Popen(args, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    started = None
    try:
        for line in proc.stderr:
            if "script path0/init_0 started" in line:
                started = time.monotonic() - start
                break
    finally:
        proc.kill()
        proc.wait()
    print(f"\nfirst script started after {started:.1f} s")
    assert started is not None and started < 30
