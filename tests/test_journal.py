"""The attempt record: one set of fields with defaults, shared by the journal, the run-and-debug
subgraph, run.json and the report; and the run facts handed down as one key."""

from __future__ import annotations

import json
from typing import get_type_hints

from mle_star import journal
from mle_star.report.facts import read_story
from mle_star.state import (
    ATTEMPT_DEFAULTS,
    Attempt,
    CandidateInput,
    ExecState,
    MLEStarState,
    OuterStepInput,
    OuterStepState,
    PathInput,
    PathState,
    RunFacts,
)


def test_an_attempt_is_whole_and_its_defaults_are_its_fields():
    entry = journal.attempt("path0/init_0", "candidate", score=0.9, ok=True)
    assert set(entry) == set(get_type_hints(Attempt)) == {"name", "kind", *ATTEMPT_DEFAULTS}
    assert entry["workdir"] == "" and entry["parent"] is None and entry["debug_round"] == 0
    # each attempt owns its findings list: appending to one never changes another or the defaults
    other = journal.attempt("path0/init_1", "candidate")
    entry["leakage"].append({"status": "Yes Data Leakage"})
    assert other["leakage"] == [] and ATTEMPT_DEFAULTS["leakage"] == []


def test_a_run_json_entry_from_an_older_version_reads_back_whole(tmp_path):
    """run.json written before a field existed: the report still reads it, the gaps take the defaults,
    and a field it does not know is dropped."""
    old = {"name": "path0/init_0", "kind": "candidate", "ok": True, "score": 0.91, "workdir": "", "retired": 1}
    entry = journal.from_record(old)
    assert entry["score"] == 0.91 and entry["untrusted"] is False and entry["limit_hit"] == ""
    assert "retired" not in entry
    record = {"journal": [old, {"name": "path0/init_0_debug1", "kind": "candidate", "parent": "path0/init_0",
                                "debug_round": 1}], "paths": [], "lower_is_better": False}
    (tmp_path / "run.json").write_text(json.dumps(record))
    story = read_story(record, tmp_path)
    assert story.scripts["path0/init_0"].fixed_by == "path0/init_0_debug1"
    assert story.scripts["path0/init_0_debug1"].entry["score_source"] == "none"


def test_the_run_facts_are_one_key_in_every_state_that_needs_them():
    """task, run folder and deadline are declared once (RunFacts), not copied into each state and Send."""
    assert set(get_type_hints(RunFacts)) == {"task", "run_dir", "deadline"}
    for schema in (PathInput, PathState, OuterStepInput, OuterStepState, CandidateInput, ExecState, MLEStarState):
        fields = get_type_hints(schema)
        assert fields["run"] is RunFacts, schema.__name__
        assert not {"task", "deadline"} & set(fields), schema.__name__
    # only the top level keeps run_dir: it is the caller's input and output
    assert "run_dir" in get_type_hints(MLEStarState)
    assert "run_dir" not in get_type_hints(PathState) and "run_dir" not in get_type_hints(ExecState)
    # an execution carries its attempt as one draft, not the attempt's fields one by one
    assert get_type_hints(ExecState)["draft"] is Attempt
    assert not {"name", "kind", "plan", "code", "leakage"} & set(get_type_hints(ExecState))
