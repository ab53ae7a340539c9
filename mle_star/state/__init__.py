"""All graph state, declared in one place.

``MLEStarState`` is the whole run; ``PathState`` one of the L solution paths (steps 1-5);
``OuterStepState`` one outer step of a path (Algorithm 2); ``ExecState`` one guarded execution
(leakage check -> run -> debug). What no step changes (the task, the run folder, the deadline)
is one key, ``run``, handed down whole. Loop counters live here, so every loop is bounded by
state, never by the recursion limit.

Every script the run executes becomes one ``Attempt`` in the ``journal`` (AIDE's journal of
attempts, with parent links): candidates, merges, ablations, refinements, debug rounds,
ensembles and the submission. ``run.json``, the report and resume all read the journal; the
state keeps only pointers into it (the current best of a path, the final of each path).

TypedDicts come from ``typing_extensions`` so pydantic can build JSON schemas from them on
Python 3.11 (LangGraph Studio draws its forms from those schemas).
"""

from __future__ import annotations

import operator
from typing import Annotated, Any, Literal, NotRequired

from typing_extensions import TypedDict

from mle_star.tools.scoring.held_out import OutputSpec
from mle_star.tools.scoring.metrics import MetricSpec


def add_numbers(left: dict | None, right: dict | None) -> dict:
    """Merge two (nested) dicts of counters by summing their numeric leaves (``max_*`` keys
    keep the larger value)."""
    out: dict[str, Any] = dict(left or {})
    for key, value in (right or {}).items():
        if isinstance(value, dict):
            out[key] = add_numbers(out.get(key), value)
        elif isinstance(value, int | float) and isinstance(out.get(key), int | float):
            out[key] = max(out[key], value) if key.startswith("max_") else out[key] + value
        else:
            out[key] = value
    return out


# -- records -----------------------------------------------------------------------------------

class LabelSource(TypedDict):
    """Where the training labels live: a table or JSON records, one row per labelled item."""

    file: str  # its name under ./input/ as scripts see it (a zipped table is shown unzipped)
    origin: str  # its path in the task's public folder
    format: Literal["csv", "json"]
    key: str  # the column (or JSON field) naming each row: joins labels to ids and files
    label_columns: list[str]  # the truth columns (a JSON field may be dotted: "a.b")
    n_rows: int  # labelled rows in the task (before the agent's split)


class Items(TypedDict):
    """Where file-based inputs (images, audio clips) live: the file of an id is dir/pattern."""

    dir: str  # a folder under ./input/ ("train", or "train" extracted from train.zip)
    pattern: str  # "{id}" when ids already carry the extension, else e.g. "{id}.png"
    n_files: int


class ImageTargets(TypedDict):
    """Targets that are images (denoising-dirty-documents): each input image in ``inputs`` has the
    image of the same name in ``targets``; a prediction is one row per pixel of a test image, id
    ``<stem>_<row>_<col>`` (rows and columns counted from ``base``), value = grey level / 255."""

    inputs: str  # folder under ./input/ of training input images
    targets: str  # folder of their target images (same file names)
    test: str  # folder of test input images
    holdout: str  # search view only: folder of held-out input images (their targets the agent keeps)
    base: int  # 1: the first pixel is <stem>_1_1


class GpuFact(TypedDict):
    name: str
    memory_gb: float


class WeightsEntry(TypedDict):
    """A cached pretrained model scripts can load offline."""

    name: str  # hf: the hub id (org/name) for from_pretrained; else the folder or file name
    kind: Literal["hf", "torch_hub", "folder"]
    size_mb: float
    path: str  # the snapshot folder, checkpoint file or save_pretrained folder (same path in the sandbox)


class Workbench(TypedDict):
    """What scripts have, measured inside the sandbox (``mle_star.tools.execution.workbench``)."""

    python: str  # version
    executable: str
    packages: dict[str, str | None]  # None: not installed
    cuda: bool  # torch sees CUDA
    gpus: list[GpuFact]
    cores: int  # threads a script is given
    memory_gb: float  # memory a script may use
    script_time_limit_s: int
    weights: list[WeightsEntry]
    network: Literal["none", "allow"]
    others: NotRequired[list[str]]  # other installed distributions (`mle-star workbench` only, not the task)
    notes: NotRequired[list[str]]


Modality = Literal["tabular", "text", "json", "image", "audio", "other"]
TaskType = Literal["binary", "multiclass", "regression", "multi_regression", "multilabel", "ordinal", "ranking"]


class Task(TypedDict):
    """What the intake learnt about a task folder: the bounded facts every role is given.

    Names of data files are as the scripts see them under ./input/ (the run's data view).
    """

    name: str
    data_dir: str  # the task's public folder (host path; never shown to scripts)
    description: str
    inventory: str  # bounded facts about the data scripts see, rendered for prompts
    data_files: list[str]  # top-level entries under ./input/
    sample_submission: str
    output: OutputSpec  # the id and prediction columns, and what kind of prediction they hold
    id_column: str  # = output["id_column"]
    target_columns: list[str]  # = output["columns"]
    label_source: LabelSource | None  # None: the labels could not be located (scores are self-reported)
    holdout_file: str | None  # search view: held-out labelled rows, labels removed
    test_file: str | None  # a table / JSON with the test rows, if the task has one
    train_items: Items | None
    test_items: Items | None
    modality: Modality
    task_type: TaskType
    metric: str
    metric_title: str
    lower_is_better: bool
    metric_implemented: bool
    metric_spec: NotRequired[MetricSpec]  # the metric itself, stored once: metric_of(task) reads it
    scoring: Literal["agent", "self_reported"]  # who computes validation scores
    classes: list[str]
    n_train: int  # labelled rows scripts train on while searching (the agent's split removed the held-out ones)
    n_holdout: int
    n_test: int
    text_columns: list[str]
    target_min: float | None
    notes: list[str]  # what the intake noticed and did (dropped NaN labels, extracted archives, ...)
    image_targets: NotRequired[ImageTargets]  # the targets are images, predicted per pixel
    workbench: NotRequired[Workbench]  # the scripts' environment, probed once per run


AttemptKind = Literal["candidate", "merge", "data_usage", "ablation", "refinement", "ensemble", "submission",
                      "fallback"]


class AttemptFields(TypedDict, total=False):
    """Everything an attempt records beyond its name and kind; each field has its default in
    ``ATTEMPT_DEFAULTS`` (``journal.attempt`` fills them, so every stored attempt is whole)."""

    parent: str | None
    path_id: int | None
    code: str
    score: float | None
    ok: bool
    workdir: str  # its record folder; "" for an attempt that never ran
    duration: float
    error: str
    plan: str  # the plan, model name or ensemble plan it implements
    target_block: str  # the block a refinement rewrote
    debug_round: int  # 0 for the first run, n for the n-th debugger fix
    leakage: list[dict]
    t: int | None  # where in the loops it ran: the outer step (ablations, refinements),
    k: int | None  # the inner step (refinements)
    round: int | None  # and the ensemble round
    step: str  # the same for people: "t=1 k=2", "round 3" (``journal.attempt`` writes it)
    score_source: str  # "agent" (computed from held-out predictions), "self_reported" or "none"
    printed_score: float | None  # what the script printed (the paper's line), cross-checked
    untrusted: bool  # printed a score its predictions do not earn: never accepted
    limit_hit: str  # a sandbox limit the script ran into (memory, processes, time, ...)


class Attempt(AttemptFields):
    """One executed script and where it came from: a node of the journal's tree (AIDE's Node).

    The journal, the run-and-debug subgraph (its draft), run.json and the report all hold this
    one record. ``name`` is unique in a run (``path0/t1_k2_refine``); ``parent`` names the
    attempt it was derived from (the solution a refinement edits, the failed script a debug
    round fixes).
    """

    name: str
    kind: AttemptKind


ATTEMPT_DEFAULTS: AttemptFields = {
    "parent": None, "path_id": None, "code": "", "score": None, "ok": False, "workdir": "", "duration": 0.0,
    "error": "", "plan": "", "target_block": "", "debug_round": 0, "leakage": [], "t": None, "k": None,
    "round": None, "step": "",
    "score_source": "none", "printed_score": None, "untrusted": False, "limit_hit": "",
}


Solution = Attempt  # a scored script the paper calls s, with its score h(s)


def add_attempts(left: list[Attempt] | None, right: list[Attempt] | None) -> list[Attempt]:
    """The journal's reducer: append the attempts it does not hold yet. Names are unique in a
    run, so an outer step, a subgraph handed the path's journal, returns all of it and only
    its new attempts are added."""
    known = {a["name"] for a in left or []}
    return [*(left or []), *(a for a in right or [] if a["name"] not in known)]


Journal = Annotated[list[Attempt], add_attempts]


class PlanScore(TypedDict):
    plan: str
    score: float | None


class Telemetry(TypedDict, total=False):
    """Shared by every state: stages for run.json, counters and token usage."""

    stages: Annotated[list[dict], operator.add]
    counts: Annotated[dict[str, int], add_numbers]
    usage: Annotated[dict[str, Any], add_numbers]
    timing: Annotated[dict[str, float], add_numbers]  # seconds spent in scripts and in model calls


class RunFacts(TypedDict):
    """What every step of a run needs and none changes: set once by ``prepare`` and handed down
    as one key, ``run``, to each path, outer step, candidate and execution."""

    task: Task
    run_dir: str  # the run's folder (resolved)
    deadline: float  # time.time() by which the search ends (the final script may run past it)


# -- top level ---------------------------------------------------------------------------------

class MLEStarInput(TypedDict):
    """What a caller (CLI, Studio form, parent graph) provides."""

    task_dir: str
    run_dir: NotRequired[str]
    metric: NotRequired[str]
    lower_is_better: NotRequired[bool]


class MLEStarOutput(TypedDict, total=False):
    """What a caller gets back."""

    submission_path: str
    solution_path: str
    best_score: float | None
    metric: str
    lower_is_better: bool
    run_dir: str
    error: str
    unsolved: str  # set when no script gave a submission: why, and what the prior submission is


class MLEStarState(Telemetry, total=False):
    task_dir: str
    run_dir: str  # the caller's input and output; the steps read run["run_dir"]
    metric: str
    lower_is_better: bool
    run: RunFacts
    models: dict[str, str]  # role -> model id
    sandbox: str  # how scripts were contained, and the warning when they were not
    fallback: str
    started: float
    started_cpu: list[float]  # the machine's (busy, total) core-seconds when the run started
    journal: Journal
    finals: Annotated[list[str], operator.add]  # the final solution of each path (journal names)
    ensemble_round: int
    ensemble_plan: str
    submitted: str  # journal name of the solution the submission was made from
    submission_path: str
    solution_path: str
    best_score: float | None
    error: str
    unsolved: str  # no script gave a submission: why, and what final/submission.csv (the prior) is


# -- one solution path (steps 1-5) -------------------------------------------------------------

class PathInput(TypedDict):
    path_id: int
    run: RunFacts


class PathOutput(Telemetry, total=False):
    journal: Journal
    finals: Annotated[list[str], operator.add]


class PathState(Telemetry, total=False):
    path_id: int
    run: RunFacts
    journal: Journal
    candidates: list[dict]  # retriever output: {model_name, example_code}
    merge_index: int
    merge_done: bool
    best: str  # s_t: journal name of the path's current solution
    outer_step: int  # t
    ablation_summaries: list[str]
    refined_blocks: list[str]
    finals: Annotated[list[str], operator.add]


# -- one outer step of a path (step 5: Algorithm 2) ----------------------------------------------

class OuterStepInput(TypedDict):
    """What an outer step is handed: the path's facts, journal and solution s_t."""

    path_id: int
    run: RunFacts
    journal: Journal
    best: str
    outer_step: int
    ablation_summaries: NotRequired[list[str]]
    refined_blocks: NotRequired[list[str]]


class OuterStepOutput(Telemetry, total=False):
    """What it hands back: s_{t+1}, t+1, the summaries and blocks so far, its attempts."""

    journal: Journal
    best: str
    outer_step: int
    ablation_summaries: list[str]
    refined_blocks: list[str]


class OuterStepState(Telemetry, total=False):
    path_id: int
    run: RunFacts
    journal: Journal
    best: str  # s_t
    outer_step: int  # t
    ablation_summaries: list[str]
    refined_blocks: list[str]
    ablation_output: str
    ablation_code: str
    code_block: str  # c_t
    plan: str  # p_k
    inner_step: int  # k: the inner loop's counter, owned here


class CandidateInput(TypedDict):
    """What ``Send`` hands the initial coder for one candidate."""

    path_id: int
    run: RunFacts
    index: int
    candidate: dict


# -- one guarded execution ---------------------------------------------------------------------

class ExecState(Telemetry, total=False):
    run: RunFacts
    path_id: int | None
    draft: Attempt  # the attempt to run next: name, kind, lineage, its code and debug round so far
    extra_inputs: dict[str, str]  # entries this script sees beside the run's view (name -> host path)
    result: dict
    journal: Journal
