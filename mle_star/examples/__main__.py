"""A grader for ``mle-star bench --grader``: ``python -m mle_star.examples TASK_DIR SUBMISSION``."""

import json
import sys

from mle_star.examples.grading import grade

print(json.dumps(grade(sys.argv[1], sys.argv[2])))
