"""A grader for ``mle-star bench --grader``: ``python -m mle_star.examples TASK_DIR SUBMISSION``
prints the submission's score on the task's private answers as JSON."""

import argparse
import json
import sys

from mle_star.examples.grading import grade


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mle_star.examples",
                                     description="grade a submission for an example task on its private answers")
    parser.add_argument("task_dir", help="an example task folder (written by mle-star example NAME)")
    parser.add_argument("submission", help="the submission CSV to grade")
    args = parser.parse_args(argv)
    try:
        print(json.dumps(grade(args.task_dir, args.submission)))
    except (OSError, ValueError, KeyError) as exc:
        print(f"python -m mle_star.examples: error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
