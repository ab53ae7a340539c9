"""The suite's registry and what every mimic shares: the task folder, task.json, the grader."""

from __future__ import annotations

import importlib
import json
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# modules holding the mimics; each registers its competitions with @mimic
GROUPS = ("mle_star.lite.tables", "mle_star.lite.text", "mle_star.lite.photos", "mle_star.lite.scans")


@dataclass(frozen=True)
class Mimic:
    """One competition: ``build(task_dir, rng)`` writes ``public/`` and ``private/answers.csv``
    and returns the grading facts (``Grading``)."""

    slug: str  # the competition's MLE-bench id, e.g. "aerial-cactus-identification"
    layout: str  # one line: what the public folder looks like
    build: Callable[[Path, np.random.Generator], Grading]


@dataclass(frozen=True)
class Grading:
    """How a mimic is graded (examples.score_submission's task.json fields)."""

    metric: str  # a metric examples.score_submission implements: auc, rmse, accuracy, multi_logloss, ...
    higher_is_better: bool
    kind: str  # "targets", "class_probabilities", "labels", ...
    id_column: str
    prediction_columns: list[str]
    answer_columns: list[str]
    shape: str = ""  # "table", "text", "image", "audio", "image targets", "token rows"
    sample: str = "sample_submission.csv"  # the sample's path under public/, as the competition names it
    positional: bool = False  # no id column: row i of the submission answers row i of the test file


MIMICS: dict[str, Mimic] = {}


def mimic(slug: str, layout: str) -> Callable[[Callable[[Path, np.random.Generator], Grading]],
                                                Callable[[Path, np.random.Generator], Grading]]:
    """Register a builder under its competition's id."""

    def register(build: Callable[[Path, np.random.Generator], Grading]) -> Callable[[Path, np.random.Generator],
                                                                                     Grading]:
        MIMICS[slug] = Mimic(slug, layout, build)
        return build

    return register


def _load() -> dict[str, Mimic]:
    for name in GROUPS:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
    return MIMICS


def write_mimic(slug: str, task_dir: Path, seed: int = 0) -> Path:
    """Write one competition's mimic (replacing an earlier one) and its task.json."""
    from mle_star.examples.common import _write_task_json

    found = _load().get(slug)
    if found is None:
        raise KeyError(f"no mimic of {slug!r}; known: {', '.join(sorted(MIMICS))}")
    shutil.rmtree(task_dir, ignore_errors=True)
    (task_dir / "public").mkdir(parents=True)
    (task_dir / "private").mkdir()
    rng = np.random.default_rng(seed)
    g = found.build(task_dir, rng)
    _write_task_json(task_dir, slug, g.shape, g.metric, g.higher_is_better, g.kind, g.id_column,
                     g.prediction_columns, g.answer_columns, source="mle_star.lite", sample=g.sample,
                     layout=found.layout, **({"positional": True} if g.positional else {}))
    return task_dir


GRADER = '''"""Grade a submission of the mle-star Lite suite: python grade.py TASK_DIR SUBMISSION"""
import json
import sys

from mle_star.examples import score_submission

task, submission = sys.argv[1], sys.argv[2]
try:
    print(json.dumps({"score": score_submission(task, submission), "valid_submission": True}))
except Exception as exc:  # an invalid submission is a grade too
    print(json.dumps({"score": None, "valid_submission": False, "error": str(exc)[:300]}))
'''


def write_suite(out: Path, only: list[str] | None = None, seed: int = 0) -> list[Path]:
    """Every mimic (or those in ``only``) under ``out``, with the suite's grade.py."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "grade.py").write_text(GRADER)
    return [write_mimic(slug, out / slug, seed) for slug in sorted(_load()) if not only or slug in only]


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m mle_star.lite", description=__doc__)
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--only", nargs="+", metavar="SLUG")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--list", action="store_true", help="list the mimics and their layouts")
    args = parser.parse_args(argv)
    mimics = _load()
    if args.list:
        for slug in sorted(mimics):
            print(f"{slug}: {mimics[slug].layout}")
        return 0
    unknown = sorted(set(args.only or []) - set(mimics))
    if unknown:
        print(f"error: no mimic of {', '.join(unknown)}", file=sys.stderr)
        return 2
    for path in write_suite(args.out_dir, args.only, args.seed):
        meta = json.loads((path / "task.json").read_text())
        print(f"{path.name}: {meta['metric']}, the sample scores {meta['null_score']:.4g}")
    return 0
