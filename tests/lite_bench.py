"""The Lite suite's table: every mimic through a small run (M=T=K=L=R=1), graded on its answers,
beside the sample's score and the xgboost baseline ``mle-star bench`` runs.

    python tests/lite_bench.py OUT_DIR [SLUG ...] [--descriptions MLE_BENCH_CHECKOUT]

writes OUT_DIR/lite.md (a markdown table) and OUT_DIR/lite.json. With ``--descriptions`` each
mimic's description.md is replaced by the competition's real one (from a checkout of
openai/mle-bench: ``mlebench/competitions/<slug>/description.md``), as a user's task would read."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from mle_star.bench import baseline
from mle_star.examples import score_submission
from mle_star.lite.common import _load, write_mimic

LOOPS = ["--num-candidates", "1", "--outer-loops", "1", "--inner-loops", "1", "--parallel-solutions", "1",
         "--ensemble-rounds", "1", "--quiet"]


def _grade(task: Path, submission: Path) -> float | None:
    try:
        return score_submission(task, submission)
    except Exception:  # noqa: BLE001 - a missing or invalid submission has no score
        return None


def main(out: Path, only: list[str], descriptions: Path | None = None) -> None:
    rows = []
    for slug in sorted(_load()):
        if only and slug not in only:
            continue
        task, run_dir = write_mimic(slug, out / slug), out / f"{slug}-run"
        if descriptions is not None:
            real = descriptions / "mlebench" / "competitions" / slug / "description.md"
            (task / "public" / "description.md").write_text(real.read_text(encoding="utf-8"), encoding="utf-8")
        meta = json.loads((task / "task.json").read_text())
        start = time.time()
        code = subprocess.call([sys.executable, "-m", "mle_star.cli", "run", str(task), "--run-dir", str(run_dir),
                                *LOOPS], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wall = time.time() - start
        record = json.loads((run_dir / "run.json").read_text()) if (run_dir / "run.json").exists() else {}
        try:
            base = _grade(task, baseline(task, out / f"{slug}-baseline", 600, "auto"))
        except Exception:  # noqa: BLE001 - a baseline that cannot run is a blank cell
            base = None
        rows.append({"slug": slug, "metric": meta["metric"], "higher": meta["higher_is_better"],
                     "sample": meta["null_score"], "exit": code, "scoring": record.get("task", {}).get("scoring"),
                     "agent": _grade(task, run_dir / "final" / "submission.csv"), "baseline": base,
                     "wall": round(wall, 1)})
        print(rows[-1], flush=True)
    (out / "lite.json").write_text(json.dumps(rows, indent=1))

    def f(v: float | None) -> str:
        return "-" if v is None else f"{v:.4g}"

    lines = ["| competition | metric | sample | xgboost baseline | mle-star | beats sample | exit | scoring | wall s |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        better = r["agent"] is not None and (r["agent"] > r["sample"] if r["higher"] else r["agent"] < r["sample"])
        lines.append(f"| {r['slug']} | {r['metric']} ({'higher' if r['higher'] else 'lower'}) | {f(r['sample'])} | "
                     f"{f(r['baseline'])} | {f(r['agent'])} | {'yes' if better else '**no**'} | {r['exit']} | "
                     f"{r['scoring']} | {r['wall']} |")
    (out / "lite.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    args = sys.argv[2:]
    where = args.index("--descriptions") if "--descriptions" in args else None
    checkout = Path(args[where + 1]) if where is not None else None
    main(Path(sys.argv[1]), [a for i, a in enumerate(args) if where is None or i not in (where, where + 1)], checkout)
