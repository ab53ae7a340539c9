"""Task folders as people make them (tests/fuzz_tasks.py): every variant of an example task
ends with a valid, well-graded submission or exit 2 with one line naming the file and the
problem. The default run takes a seeded sample; ``pytest -m fuzz`` runs every variant."""

from __future__ import annotations

import shutil

import fuzz_tasks as fuzz
import pandas as pd
import pytest

SAMPLE = fuzz.sample_variants(8, seed=0)


@pytest.fixture(scope="session")
def fuzz_root(tmp_path_factory):
    """One folder for every run of the session, so each base task is written once."""
    return tmp_path_factory.mktemp("fuzz")


def _check(variant: fuzz.Variant, root) -> None:
    result = fuzz.run_variant(variant, root)
    assert result.ok, (f"{variant.name} ({variant.what()}): expected {variant.expect}, got {result.outcome} "
                       f"(exit {result.code}): {result.detail}")
    shutil.rmtree(root / variant.slug / "run", ignore_errors=True)  # keep the session's disk use small


@pytest.mark.parametrize("variant", SAMPLE, ids=[v.name for v in SAMPLE])
def test_a_seeded_sample_of_variants(variant, fuzz_root):
    _check(variant, fuzz_root)


ALL = fuzz.all_variants()


@pytest.mark.fuzz
@pytest.mark.parametrize("variant", ALL, ids=[v.name for v in ALL])
def test_every_variant(variant, fuzz_root):
    _check(variant, fuzz_root)


# ---------------------------------------------------------------- the fuzzer itself (no runs)


def test_every_variant_builds_with_answers_that_match_its_sample(tmp_path):
    names = [v.name for v in ALL]
    assert len(names) == len(set(names)) and len(ALL) > 60
    assert {v.expect for v in ALL} == {"valid", "refused"}
    for variant in ALL:
        folder = fuzz.build_variant(variant, tmp_path / "bases", tmp_path / variant.slug)
        assert fuzz.compatible(variant.mutations) and sum(
            fuzz.BY_NAME[m].expect == "refused" for m in variant.mutations) <= 1
        meta_columns = set(folder.meta["prediction_columns"])
        assert meta_columns <= set(folder.answers.columns), variant.name
        if variant.expect == "valid":  # the grader's answers are exactly the sample's rows
            sample = folder.frame("sample")
            assert set(sample[folder.id_column]) == set(folder.answers[folder.id_column]), variant.name
            assert meta_columns <= set(sample.columns), variant.name
        else:
            assert variant.refusing is not None and variant.refusing.concerns, variant.name
        assert (tmp_path / variant.slug / "public").is_dir()


def test_the_composition_is_seeded_and_mixes_outcomes():
    first, again, other = fuzz.combined_variants(24, 0), fuzz.combined_variants(24, 0), fuzz.combined_variants(24, 1)
    assert first == again and first != other
    assert all(len(v.mutations) >= 2 for v in first)
    assert {"valid", "refused"} == {v.expect for v in first}
    assert fuzz.sample_variants(8, 0) == SAMPLE and {v.expect for v in SAMPLE} == {"valid", "refused"}


def test_ids_renamed_with_leading_zeros_reach_the_answers(tmp_path):
    variant = fuzz.Variant("diabetes", ("id-renamed", "ids-leading-zeros", "tsv"))
    fuzz.build_variant(variant, tmp_path / "bases", tmp_path / "v")
    answers = pd.read_csv(tmp_path / "v" / "private" / "answers.csv", dtype=str)
    sample = pd.read_csv(tmp_path / "v" / "public" / "sample_submission.tsv", sep="\t", dtype=str)
    assert list(sample.columns) == ["Patient ID", "target"] and sample["Patient ID"].str.match(r"^0\d{6}$").all()
    assert set(sample["Patient ID"]) == set(answers["Patient ID"])


def _submit(tmp_path, variant, frame: pd.DataFrame):
    out = tmp_path / variant.slug
    folder = fuzz.build_variant(variant, tmp_path / "bases", out)
    (out / "run" / "final").mkdir(parents=True)
    frame(folder).to_csv(out / "run" / "final" / "submission.csv", index=False)
    return fuzz.judge_submission(variant, folder, out, out / "run")


def test_a_guess_or_a_submission_with_lost_ids_is_a_wrong_submission(tmp_path):
    bc = fuzz.Variant("breast-cancer", ("bom",))
    assert _submit(tmp_path, bc, lambda f: f.frame("sample"))[0] == "wrong submission"  # AUC 0.5
    assert _submit(tmp_path / "b", bc, lambda f: f.answers)[0] == "valid"
    zeros = fuzz.Variant("diabetes", ("ids-leading-zeros",))
    outcome, detail = _submit(tmp_path / "c", zeros, lambda f: f.answers.assign(id=f.answers["id"].astype(int)))
    assert outcome == "wrong submission" and "test ids" in detail  # 0000042 written back as 42


def test_a_refusal_is_one_clear_line_naming_the_file(tmp_path):
    variant = fuzz.Variant("breast-cancer", ("gzip-train", "train-header-only"))
    folder = fuzz.build_variant(variant, tmp_path / "bases", tmp_path / "v")
    judge = fuzz.judge_refusal
    assert judge(variant, folder, "mle-star: error: train.csv.gz has a header and no rows\n")[0] == "refused"
    assert judge(variant, folder, "mle-star: error: the task has no labelled rows\n")[0] == "unclear refusal"
    assert judge(variant, folder, "mle-star: error: train.csv.gz: EmptyDataError: no rows\n")[0] == "unclear refusal"
    assert judge(variant, folder, "Traceback (most recent call last):\nmle-star: error: train.csv\n")[0] \
        == "unclear refusal"
