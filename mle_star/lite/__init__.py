"""Mimics of the 22 MLE-bench Lite competitions: each in its real public layout (file names,
folders, formats, the sample submission), with small learnable data, an answer key and the
competition's own metric.

    python -m mle_star.lite SUITE_DIR [--only SLUG ...]
    mle-star bench SUITE_DIR

writes ``SUITE_DIR/<competition>/{public/, private/answers.csv, task.json}`` and
``SUITE_DIR/grade.py``, which ``mle-star bench`` finds and grades with. The layout facts come
from each competition's ``prepare.py`` in openai/mle-bench; the data, code and description
text are this project's own (each description says what the real competition asks).
"""

from __future__ import annotations

from mle_star.lite.common import MIMICS, Mimic, write_mimic, write_suite

__all__ = ["MIMICS", "Mimic", "write_mimic", "write_suite"]
