"""Durable runs with checkpoints in PostgreSQL (--checkpoint-url), on a throwaway local server."""

from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from test_resume import LOOPS, _cli, _run_until

from mle_star.tools.scoring.submission import validate_submission


@pytest.fixture(scope="module")
def postgres_url():
    if os.environ.get("MLE_STAR_TEST_POSTGRES_URL"):
        yield os.environ["MLE_STAR_TEST_POSTGRES_URL"]
        return
    initdb = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not initdb or os.geteuid() != 0 or not shutil.which("su"):
        if os.environ.get("CI"):
            pytest.fail("CI must provide PostgreSQL (.ci/run installs it)")
        pytest.skip("no PostgreSQL server binaries here")
    bindir = os.path.dirname(initdb[-1])
    home = Path(tempfile.mkdtemp(prefix="mle-star-pg-"))  # outside pytest's root-only tmp tree
    data = home / "data"
    data.mkdir()
    shutil.chown(home, "postgres")
    shutil.chown(data, "postgres")
    port = 55000 + os.getpid() % 1000

    def as_postgres(cmd: str) -> None:
        # in a folder the postgres user owns: initdb needs a current directory it can read
        done = subprocess.run(["su", "postgres", "-c", cmd], capture_output=True, text=True, cwd=home)
        assert done.returncode == 0, done.stderr[-1000:]

    as_postgres(f"{bindir}/initdb -D {data} -A trust -U postgres")
    as_postgres(f"{bindir}/pg_ctl -D {data} -o '-p {port} -k {data} -h 127.0.0.1' -l {data}/log -w start")
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        as_postgres(f"{bindir}/pg_ctl -D {data} -m immediate stop")
        shutil.rmtree(home, ignore_errors=True)


def test_killed_run_resumes_from_postgres(bc_task, tmp_path, postgres_url):
    run_dir = tmp_path / "run"
    _run_until(_cli("run", str(bc_task), "--run-dir", str(run_dir), "--checkpoint-url", postgres_url, *LOOPS),
               "ablation")
    done = subprocess.run(_cli("resume", str(run_dir)), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    validate_submission(run_dir / "final" / "submission.csv", bc_task / "public" / "sample_submission.csv", "id")
    assert not (run_dir / "checkpoints.sqlite").exists()
    runs = [json.loads(line) for line in (run_dir / "executions.jsonl").read_text().splitlines()]
    keys = [(r["name"], r["sha256"]) for r in runs]
    assert len(keys) == len(set(keys)), "a finished script ran again"


def test_unreachable_database_is_a_clear_error(bc_task, tmp_path):
    start = time.monotonic()
    done = subprocess.run(_cli("run", str(bc_task), "--run-dir", str(tmp_path / "run"), "--checkpoint-url",
                               "postgresql://nobody@127.0.0.1:9/none?connect_timeout=2"), capture_output=True, text=True)
    assert done.returncode == 2 and "cannot open the checkpoint store" in done.stderr
    assert "Traceback" not in done.stderr and time.monotonic() - start < 60
