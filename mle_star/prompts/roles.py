"""The MLE-STAR roles, each declared once in the paper's words (paper, Appendix A).

A role is its prompt template, its typed inputs, the reply it expects (a script, a plan, or
a JSON object with a schema), the parser that turns the reply into a result and the
temperature it samples at. Nodes ask by role with typed inputs (``mle_star.nodes.ask``): the
prompt text is rendered from the inputs, and the same inputs travel with the request as its
structured payload, which is all the offline engineer reads. So a prompt and the engineer's
input can never drift apart.

Generating and planning roles sample at temperature 1, checking and summarising roles at 0.
JSON roles declare a pydantic ``schema``: providers that support structured output are asked
for it directly; the text parser (fenced JSON, re-ask on failure) is the fallback.

One module on purpose (about 900 lines): the registry is the one place a reader compares
the paper's prompts with ours, role beside role; split, the roles would drift apart.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from mle_star.state import PlanScore, Task
from mle_star.tools.execution.machine_facts import machine_facts, missing_module
from mle_star.tools.model.code import (
    ReplyError,
    clean_block,
    extract_code,
    extract_json,
    nonempty,
    replace_block,
)
from mle_star.tools.scoring.held_out import sample_order

PAYLOAD_KEY = "mle_star"  # where a request carries {"role": name, "inputs": {...}}

SYSTEM = (
    "You are a Kaggle grandmaster and expert machine learning engineer. "
    "Answer exactly in the format the request asks for."
)

REASK = "Your reply could not be used: {error}. Answer again in the requested format."

GENERATE, CHECK = 1.0, 0.0  # temperatures

In = TypeVar("In", bound="RoleInputs")
Out = TypeVar("Out")


# -- inputs every role shares ------------------------------------------------------------------

class Settings(BaseModel):
    """Run settings a role's answer depends on (the scripts' seed, subsampling, time limit)."""

    model_config = ConfigDict(extra="forbid")
    seed: int = 42
    subsample: int = 30000
    script_timeout: float = 1800.0
    path_id: int | None = None  # which solution path asks (paths explore in different orders)
    paths: int = 1  # how many solution paths run (each can start from models the others do not)


class RoleInputs(BaseModel):
    """Typed inputs of a role: the task facts, the run settings, and the role's own fields."""

    model_config = ConfigDict(extra="forbid")
    task: Task
    settings: Settings = Field(default_factory=Settings)


def task_fields(inputs: RoleInputs) -> dict[str, Any]:
    """Template fields every prompt shares, bounded so a long description cannot flood it."""
    task = inputs.task
    description = task["description"]
    if len(description) > 6000:
        description = description[:6000] + "\n... (description truncated)"
    return {
        "description": description,
        "data_files": ", ".join(task["data_files"]),
        "metric": task["metric_title"],
        "direction": "lower" if task["lower_is_better"] else "higher",
        "subsample": inputs.settings.subsample,
        "preview": task["inventory"],
        "sample_submission": task["sample_submission"],
        "columns": ", ".join([task["id_column"], *task["target_columns"]]),
        "rules": script_rules(task, inputs.settings, final=False),
        "final_rules": script_rules(task, inputs.settings, final=True),
        "machine": machine(task, inputs.settings),
    }


def machine(task: Task, settings: Settings) -> str:
    """What every script runs on (bounded): hardware, time per script, packages, cached weights."""
    return machine_facts(task.get("workbench"), settings.script_timeout)


def shown_history(history: list[PlanScore]) -> str:
    return "\n".join(f"- plan: {h['plan']}\n  score: {h['score']}" for h in history) or "(none)"


KIND_WORDS = {
    "label": "the predicted class label of each row",
    "probability": "the predicted probability that {label} is {positive}",
    "class_probabilities": "one column per class holding that class's predicted probability",
    "targets": "the predicted value of each target column",
    "multilabel": "the predicted probability (0 to 1) of each label column",
    "ranked_labels": "up to {k} predicted labels separated by spaces, most likely first",
}


def outputs_words(task: Task) -> str:
    """What the prediction columns hold, in words."""
    out, source = task["output"], task["label_source"]
    label = source["label_columns"][0] if source and source["label_columns"] else out["columns"][0]
    k = task["metric"].partition("@")[2] or "3"
    words = KIND_WORDS[out["kind"]].format(label=label, positive=out.get("positive_class") or "1", k=k)
    if out["kind"] == "label" and out["classes"] and len(out["classes"]) <= 20:
        words += f" (one of {', '.join(out['classes'])})"
    return words


def _test_rows(task: Task) -> str:
    pixels = task.get("image_targets")
    if pixels:
        return (f"every pixel of each image in ./input/{pixels['test']}/ ({task['n_test']:,} pixels; the id of a pixel "
                f"is <image name without extension>_<row>_<column>, counted from {pixels['base']})")
    if task["test_file"]:
        return f"./input/{task['test_file']} ({task['n_test']:,} rows)"
    if task["test_items"]:
        items = task["test_items"]
        return (f"the files in ./input/{items['dir']}/ ({items['n_files']:,} files; the file of an id is "
                f"./input/{items['dir']}/{items['pattern']})")
    return f"the ids listed in ./input/{task['sample_submission']}"


def _labelled_rows(task: Task, n_rows: int) -> str:
    pixels = task.get("image_targets")
    if pixels:
        return (f"{n_rows:,} images in ./input/{pixels['inputs']}/, each with its target image of the same name in "
                f"./input/{pixels['targets']}/ (a pixel's value is its grey level / 255)")
    source = task["label_source"]
    if source is None:
        return "find the labelled training data in ./input/ (see the data listing)"
    where = f"./input/{source['file']} ({n_rows:,} rows; labels in {', '.join(source['label_columns'])}"
    if task["train_items"]:
        items = task["train_items"]
        where += (f"; column {source['key']} names each item, whose file is "
                  f"./input/{items['dir']}/{items['pattern']}")
    return where + ")"


def script_rules(task: Task, settings: Settings, final: bool = False) -> str:
    """The contract every generated script follows: where the data is, what to write, what to
    print. The agent keeps the held-out labels and scores the held-out predictions itself."""
    sample, direction = task["sample_submission"], "lower" if task["lower_is_better"] else "higher"
    order = sample_order(task["output"])
    columns = (f"{task['id_column']} followed by {', '.join(task['target_columns'])}" if order[0] == task["id_column"]
               else f"{', '.join(order)} in this order (the id column is {task['id_column']})")
    lines = ["Rules for every script:",
             f"- The data is read-only in ./input/ ({', '.join(task['data_files'])}). Write files only under "
             "the current directory. There is no network."]
    if final:
        n_all = task["n_train"] + task["n_holdout"]
        lines += [f"- Labelled rows: {_labelled_rows(task, n_all)}. There are no held-out rows now: train on all "
                  "of them (no subsampling).",
                  f"- Test rows: {_test_rows(task)}.",
                  f"- Write ./final/submission.csv with exactly the columns of ./input/{sample}: {columns}, "
                  f"holding {outputs_words(task)}; one row per test id, in any order."]
    elif task["scoring"] == "agent":
        lines += [f"- Labelled rows: {_labelled_rows(task, task['n_train'])}.",
                  (f"- Held-out images: ./input/{task['holdout_file']}/ (inputs only, {task['n_holdout']:,} pixels "
                   "in all: predict every one). The agent keeps their targets and scores your predictions."
                   if task.get("image_targets") else
                   f"- Held-out rows: ./input/{task['holdout_file']} ({task['n_holdout']:,} rows in the same "
                   "format, labels removed). The agent keeps their labels and scores your predictions for them."),
                  f"- Test rows: {_test_rows(task)}.",
                  "- Write ./valid_predictions.csv (one row per held-out row) and ./test_predictions.csv (one "
                  f"row per test row), each with exactly the columns of ./input/{sample}: {columns}, holding "
                  f"{outputs_words(task)}.",
                  f"- If there are more than {settings.subsample:,} labelled rows, train on a random "
                  f"{settings.subsample:,} of them for speed."]
    else:
        lines += [f"- Labelled rows: {_labelled_rows(task, task['n_train'])}. Split them yourself into a "
                  "training and a validation part.",
                  f"- Test rows: {_test_rows(task)}.",
                  "- Write ./test_predictions.csv (one row per test row) with exactly the columns of "
                  f"./input/{sample}: {columns}, holding {outputs_words(task)}.",
                  f"- If there are more than {settings.subsample:,} labelled rows, train on a random "
                  f"{settings.subsample:,} of them for speed."]
    copied = task["output"].get("copied") or []
    if copied:  # sample columns that repeat the test rows' own values (detecting-insults' Date)
        lines.append(f"- {', '.join(copied)} {'is' if len(copied) == 1 else 'are'} not predicted: copy "
                     f"{'its' if len(copied) == 1 else 'their'} values from the row with the same "
                     f"{task['id_column']} in the held-out or test rows.")
    lines += ["- Never train on, or fit any preprocessing on, the held-out or test rows.",
              "- Print exactly one line at the end: Final Validation Performance: <float>",
              f"  where <float> is {task['metric_title']} ({direction} is better) on a validation split of the "
              "labelled rows.",
              "- Do not use try/except to hide errors, and do not call exit().",
              "- Answer with one complete, self-contained Python script in a single ```python code block."]
    return "\n".join(lines) + "\n" + machine(task, settings)


# -- the role declaration ----------------------------------------------------------------------

@dataclass(frozen=True)
class Role(Generic[In, Out]):
    """One MLE-STAR role: how to ask it and how to read its answer."""

    name: str
    does: str  # one line, in the paper's words
    template: str
    inputs: type[In]
    render: Callable[[In], dict[str, Any]]  # template fields beyond the shared task fields
    parse: Callable[[str, In], Out]  # reply text -> result; raises ReplyError (the reason is re-asked)
    temperature: float
    schema: type[BaseModel] | None = None  # JSON reply shape, for providers with structured output
    accept: Callable[[Any, In], Out] | None = None  # a schema object -> result, with parse's checks

    def prompt(self, inputs: In) -> str:
        return self.template.format(**task_fields(inputs), **self.render(inputs))

    def payload(self, inputs: In) -> dict[str, Any]:
        """The structured request: exactly what the prompt was rendered from."""
        return {"role": self.name, "inputs": inputs.model_dump(mode="json")}

    def read_payload(self, payload: dict[str, Any]) -> In:
        return self.inputs.model_validate(payload["inputs"])


def _json_parser(schema: type[BaseModel], accept: Callable[[Any, In], Out],
                 coerce: Callable[[Any], Any] = lambda v: v) -> Callable[[str, In], Out]:
    """Text parser for a JSON role: the first JSON value, shaped by ``coerce``, validated."""

    def parse(text: str, inputs: In) -> Out:
        try:
            value = schema.model_validate(coerce(extract_json(text)))
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise ReplyError(f"the JSON does not match the expected shape ({where}: {first['msg']})") from None
        return accept(value, inputs)

    return parse


def _code(text: str, inputs: RoleInputs) -> str:
    return extract_code(text)


def _text(text: str, inputs: RoleInputs) -> str:
    return nonempty(text)


def _block(text: str, inputs: RoleInputs) -> str:
    block = clean_block(text)
    if not block.strip():
        raise ReplyError("the code block is empty")
    return block


# == 1. Retriever: search and propose M candidate models ======================================

class ModelCard(BaseModel):
    model_name: str
    example_code: str = ""


class RetrieverInputs(RoleInputs):
    search_results: list[ModelCard]
    num_candidates: int


class Candidates(BaseModel):
    """The retriever's reply: candidate models, each with example code."""

    models: list[ModelCard]


def _accept_candidates(reply: Candidates, inputs: RetrieverInputs) -> list[ModelCard]:
    models = [m for m in reply.models if m.model_name.strip()]
    if not models:
        raise ReplyError("the JSON list holds no entry with a model_name")
    return models[: inputs.num_candidates]


def _as_models(value: Any) -> Any:
    if isinstance(value, list):
        return {"models": value}
    if isinstance(value, dict) and "models" not in value:
        return {"models": value.get("candidates") or [value]}
    return value


RETRIEVER: Role[RetrieverInputs, list[ModelCard]] = Role(
    name="retriever",
    does="Retrieves M effective models for the task from web search, each with example code.",
    template="""# Competition
{description}

# Data
{preview}

# Search results
{search_results}

# Where the scripts will run
{machine}

# Task
List {num_candidates} recent effective models, with example code, that could win this competition and that
this machine can train within the time per script (only installed packages, cached weights).
Answer with a JSON list in a ```json block:
[{{"model_name": "...", "example_code": "..."}}, ...]""",
    inputs=RetrieverInputs,
    render=lambda i: {"num_candidates": i.num_candidates,
                      "search_results": "\n\n".join(f"## {r.model_name}\n{r.example_code}" for r in i.search_results)},
    parse=_json_parser(Candidates, _accept_candidates, _as_models),
    schema=Candidates,
    accept=_accept_candidates,
    temperature=GENERATE,
)


# == 2. Initial coder: one solution script per candidate ======================================

class InitCoderInputs(RoleInputs):
    candidate: ModelCard


INIT_CODER: Role[InitCoderInputs, str] = Role(
    name="init_coder",
    does="Writes a simple, complete solution script that trains one candidate model.",
    template="""# Competition
{description}

# Data
{preview}

# Model to use
{model_name}

# Example code
```python
{example_code}
```

# Task
Write a simple solution that trains this model on the competition data.
{rules}""",
    inputs=InitCoderInputs,
    render=lambda i: {"model_name": i.candidate.model_name, "example_code": i.candidate.example_code},
    parse=_code,
    temperature=GENERATE,
)


# == 3. Merger: integrate the next candidate into the best solution ===========================

class MergerInputs(RoleInputs):
    base_code: str
    base_score: float | None
    candidate_code: str
    candidate_score: float | None


MERGER: Role[MergerInputs, str] = Role(
    name="merger",
    does="Integrates a reference solution's model into the base solution as a simple average ensemble.",
    template="""# Competition
{description}

# Base solution (score {base_score})
```python
{base_code}
```

# Reference solution (score {candidate_score})
```python
{candidate_code}
```

# Task
Integrate the reference solution's model into the base solution as a simple average ensemble,
keeping everything else of the base solution.
{rules}""",
    inputs=MergerInputs,
    render=lambda i: {"base_code": i.base_code, "base_score": i.base_score, "candidate_code": i.candidate_code,
                      "candidate_score": i.candidate_score},
    parse=_code,
    temperature=GENERATE,
)


# == 4. Data-usage checker: does s0 use all the provided information? ========================

ALL_USED = "All the provided information is used."


class DataUsageInputs(RoleInputs):
    code: str


def _parse_usage(text: str, inputs: DataUsageInputs) -> str | None:
    """None when the checker says everything is used, else the revised script."""
    if ALL_USED.lower().rstrip(".") in text.lower() and "```" not in text:
        return None
    return extract_code(text)


DATA_USAGE_CHECKER: Role[DataUsageInputs, str | None] = Role(
    name="data_usage_checker",
    does="Checks whether the solution uses all provided information and revises it if not.",
    template="""# Competition
{description}

# Data
{preview}

# Solution
```python
{code}
```

# Task
Check whether the solution uses all the provided information (every data file and useful column).
If it does not, answer with a revised script that uses it, following these rules:
{rules}
If it already uses everything, answer exactly: """ + ALL_USED,
    inputs=DataUsageInputs,
    render=lambda i: {"code": i.code},
    parse=_parse_usage,
    temperature=CHECK,
)


# == 5a. Ablation: study 2-3 parts of s_t =====================================================

class AblationInputs(RoleInputs):
    code: str
    score: float | None
    previous_summaries: list[str]
    refined_blocks: list[str]


ABLATION: Role[AblationInputs, str] = Role(
    name="ablation",
    does="Writes an ablation study that measures how 2-3 parts of the solution affect the score.",
    template="""# Competition
{description}

# Solution (score {score})
```python
{code}
```

# Earlier ablation studies
{previous}

# Task
Write an ablation study script: identify 2-3 parts of the solution and, for each, run a variant
of the full solution with that part removed or replaced, printing each variant's validation
score. Do not repeat earlier ablations. Print one line per run, the unchanged solution first:
'Ablation | baseline | <score>', then 'Ablation | <what the variant changes> | <score>'.
Print 'Final Validation Performance: <baseline score>' at the end. Read data from ./input/.
Answer with one ```python code block.
{machine}""",
    inputs=AblationInputs,
    render=lambda i: {"code": i.code, "score": i.score, "previous": "\n\n".join(i.previous_summaries) or "(none)"},
    parse=_code,
    temperature=GENERATE,
)


# == 5b. Ablation summarizer ==================================================================

class AblationSummaryInputs(RoleInputs):
    code: str  # the ablation script (bounded)
    output: str  # what it printed (bounded)


ABLATION_SUMMARIZER: Role[AblationSummaryInputs, str] = Role(
    name="ablation_summarizer",
    does="Summarises the ablation study's output: which part changed the score most.",
    template="""# Ablation script
```python
{code}
```

# Its output
{output}

# Task
Summarise the ablation study: which part of the solution changed the score most, and by how much.
Answer with a short plain-text summary.""",
    inputs=AblationSummaryInputs,
    render=lambda i: {"code": i.code, "output": i.output},
    parse=_text,
    temperature=CHECK,
)


# == 5c. Extractor: the block c_t with the most impact, and a first plan p_0 ==================

class ExtractorInputs(RoleInputs):
    code: str
    score: float | None
    summaries: list[str]
    refined_blocks: list[str]
    tried_plans: list[str] = Field(default_factory=list)  # every plan this path already tried, to be fresh


class TargetBlock(BaseModel):
    """The extractor's reply: a code block copied exactly from the solution, and a plan."""

    code_block: str
    plan: str


def _accept_target(reply: TargetBlock, inputs: ExtractorInputs) -> TargetBlock:
    block, plan = clean_block(reply.code_block), reply.plan.strip()
    if not plan:
        raise ReplyError("the plan is empty")
    replace_block(inputs.code, block, block)  # exact and unique, else ReplyError and a re-ask
    if block in inputs.refined_blocks:
        raise ReplyError("that block was already refined; choose another")
    return TargetBlock(code_block=block, plan=plan)


def _first(value: Any) -> Any:
    return value[0] if isinstance(value, list) and value else value


EXTRACTOR: Role[ExtractorInputs, TargetBlock] = Role(
    name="extractor",
    does="Picks the not-yet-refined code block with the most impact, and an initial plan to improve it.",
    template="""# Competition
{description}

# Solution (score {score})
```python
{code}
```

# Ablation summaries
{summaries}

# Already refined blocks (do not choose these)
{refined}

# Task
Pick the code block whose change most affects performance according to the ablations and that
has not been refined yet, and a plan to improve it. The block must be copied EXACTLY from the
solution (an exact substring). Answer with JSON in a ```json block:
[{{"code_block": "...", "plan": "..."}}]""",
    inputs=ExtractorInputs,
    render=lambda i: {"code": i.code, "score": i.score, "summaries": "\n\n".join(i.summaries),
                      "refined": "\n\n".join(i.refined_blocks) or "(none)"},
    parse=_json_parser(TargetBlock, _accept_target, _first),
    schema=TargetBlock,
    accept=_accept_target,
    temperature=CHECK,
)


# == 5d. Refiner, coder: rewrite c_t following p_k ============================================

class RefinerCoderInputs(RoleInputs):
    code_block: str
    plan: str


REFINER_CODER: Role[RefinerCoderInputs, str] = Role(
    name="refiner_coder",
    does="Rewrites the target code block following the plan (the block only).",
    template="""# Competition
{description}

# Code block to improve
```python
{code_block}
```

# Plan
{plan}

# Task
Rewrite the code block following the plan. Return only the new code block (not the whole
script) in one ```python block; it must fit where the old block was.
{machine}""",
    inputs=RefinerCoderInputs,
    render=lambda i: {"code_block": i.code_block, "plan": i.plan},
    parse=_block,
    temperature=GENERATE,
)


# == 5e. Refiner, planner: p_{k+1} from every earlier (plan, score) ==========================

class RefinerPlannerInputs(RoleInputs):
    code_block: str
    history: list[PlanScore]
    base_score: float | None


REFINER_PLANNER: Role[RefinerPlannerInputs, str] = Role(
    name="refiner_planner",
    does="Proposes the next plan for the block from every earlier plan and its score.",
    template="""# Competition
{description}

# Code block (the current solution scores {score})
```python
{code_block}
```

# Plans tried so far and their scores ({metric}, {direction} is better)
{history}

# Task
Propose a new plan (3-5 sentences) to improve this code block further, different from every
plan above and informed by their scores. Answer with the plan only.""",
    inputs=RefinerPlannerInputs,
    render=lambda i: {"code_block": i.code_block, "score": i.base_score, "history": shown_history(i.history)},
    parse=_text,
    temperature=GENERATE,
)


# == 6a. Ensemble planner =====================================================================

class EnsemblePlannerInputs(RoleInputs):
    scores: list[float | None]  # each path's final solution
    history: list[PlanScore]


ENSEMBLE_PLANNER: Role[EnsemblePlannerInputs, str] = Role(
    name="ensemble_planner",
    does="Proposes a plan to ensemble the L final solutions, informed by earlier plans and scores.",
    template="""# Competition
{description}

# Solutions and their scores ({metric}, {direction} is better)
{solutions}

# Ensemble plans tried so far and their scores
{history}

# Task
Propose a plan (3-5 sentences) to ensemble these solutions, different from earlier plans and
informed by their scores. Answer with the plan only.""",
    inputs=EnsemblePlannerInputs,
    render=lambda i: {"solutions": "\n".join(f"- solution {n + 1}: score {s}" for n, s in enumerate(i.scores)),
                      "history": shown_history(i.history)},
    parse=_text,
    temperature=GENERATE,
)


# == 6b. Ensembler ============================================================================

def _saved_members(inputs: EnsemblerInputs) -> str:
    if not inputs.member_dirs:
        return "(none: the solutions must be run to get their predictions)"
    return "\n".join(f"- solution {n + 1}: ./input/{d}/ holds valid_predictions.csv (held-out rows), "
                     "test_predictions.csv and, when the solution saved it, inner_valid.npz (its internal "
                     "validation predictions with their labels)" for n, d in enumerate(inputs.member_dirs))


class EnsemblerInputs(RoleInputs):
    solutions: list[str]  # each path's final script
    scores: list[float | None]
    plan: str
    member_dirs: list[str] = Field(default_factory=list)  # under ./input/: each solution's saved predictions


ENSEMBLER: Role[EnsemblerInputs, str] = Role(
    name="ensembler",
    does="Implements the ensemble plan as one script over the L solutions.",
    template="""# Competition
{description}

# Solutions
{solutions}

# Ensemble plan
{plan}

# Saved predictions
{saved}

# Task
Implement the plan as one script that blends the solutions' predictions and reports the
ensemble's validation score. Blend the saved predictions when you can (seconds, no retraining):
fit weights or a meta-learner on the solutions' internal validation predictions, then apply them
to their held-out and test predictions. Print each solution's validation score as
'member <i>: <score>' (i from 0) and the blend's weights as 'weights: [w0, w1, ...]'.
{rules}""",
    inputs=EnsemblerInputs,
    render=lambda i: {"plan": i.plan, "saved": _saved_members(i), "solutions": "\n\n".join(
        f"## Solution {n + 1} (score {s})\n```python\n{c}\n```" for n, (c, s) in enumerate(zip(i.solutions, i.scores,
                                                                                             strict=True)))},
    parse=_code,
    temperature=GENERATE,
)


# == Guards: leakage checker (before every run) ===============================================

LEAK, NO_LEAK = "Yes Data Leakage", "No Data Leakage"


class LeakageInputs(RoleInputs):
    code: str


class LeakageVerdict(BaseModel):
    """The leakage checker's reply: the preprocessing block and whether it leaks."""

    leakage_status: Literal["Yes Data Leakage", "No Data Leakage"]
    code_block: str = ""


def _accept_verdict(reply: LeakageVerdict, inputs: LeakageInputs) -> LeakageVerdict:
    block = clean_block(reply.code_block)
    if reply.leakage_status == LEAK:
        replace_block(inputs.code, block, block)  # a 'Yes' must name a block found exactly once
    return LeakageVerdict(leakage_status=reply.leakage_status, code_block=block)


LEAKAGE_CHECKER: Role[LeakageInputs, LeakageVerdict] = Role(
    name="leakage_checker",
    does="Extracts the preprocessing block and decides whether validation/test data leaks into training.",
    template="""# Solution
```python
{code}
```

# Task
Extract the code block that preprocesses the data, and decide whether validation or test
information leaks into training (fitting on validation/test rows, target leakage, statistics
computed over all rows, ...). The block must be an exact substring of the solution.
Answer with JSON in a ```json block:
{{"leakage_status": "Yes Data Leakage" or "No Data Leakage", "code_block": "..."}}""",
    inputs=LeakageInputs,
    render=lambda i: {"code": i.code},
    parse=_json_parser(LeakageVerdict, _accept_verdict, _first),
    schema=LeakageVerdict,
    accept=_accept_verdict,
    temperature=CHECK,
)


class LeakageFixInputs(RoleInputs):
    code: str
    code_block: str


LEAKAGE_FIXER: Role[LeakageFixInputs, str] = Role(
    name="leakage_fixer",
    does="Rewrites the leaking preprocessing block so only training rows are used to fit anything.",
    template="""# Solution
```python
{code}
```

# Preprocessing block with data leakage
```python
{code_block}
```

# Task
Rewrite the preprocessing block so that only training rows are used to fit anything.
Return only the fixed block in one ```python block.
{machine}""",
    inputs=LeakageFixInputs,
    render=lambda i: {"code": i.code, "code_block": i.code_block},
    parse=_block,
    temperature=CHECK,
)


# == Guards: debugger (after every failed run) ================================================

class DebuggerInputs(RoleInputs):
    code: str
    error: str  # bounded traceback tail
    kind: str  # what the script is (solution, ablation, ensemble, submission)


def missing_package(inputs: DebuggerInputs) -> str:
    """On ``No module named 'X'``: X is not installed and cannot be, and what is installed."""
    module = missing_module(inputs.error)
    if not module:
        return ""
    wb = inputs.task.get("workbench")
    have = ", ".join(n for n, v in (wb["packages"] if wb else {}).items() if v) or "see the machine facts below"
    return (f"\nThe package '{module}' is NOT installed and cannot be installed (no pip, no network). Rewrite the "
            f"script without it, using only installed packages ({have}).\n")


DEBUGGER: Role[DebuggerInputs, str] = Role(
    name="debugger",
    does="Fixes a script from its code and the tail of its error.",
    template="""# Script
```python
{code}
```

# Error
{error}
{missing}
# Task
Fix the script so that it runs and prints 'Final Validation Performance: <float>'.
{rules}""",
    inputs=DebuggerInputs,
    render=lambda i: {"code": i.code, "error": i.error, "missing": missing_package(i)},
    parse=_code,
    temperature=CHECK,
)


# == 7. Submission: the final script ==========================================================

class SubmissionInputs(RoleInputs):
    code: str
    score: float | None


SUBMISSION: Role[SubmissionInputs, str] = Role(
    name="submission",
    does="Turns the best solution into the final script: no subsampling, test predictions, submission file.",
    template="""# Competition
{description}

# Best solution (score {score})
```python
{code}
```

# Task
Turn this solution into the final one: remove the training-data subsampling, train on all the
labelled rows, predict the test rows and write ./final/submission.csv, keeping the validation print.
{final_rules}""",
    inputs=SubmissionInputs,
    render=lambda i: {"code": i.code, "score": i.score},
    parse=_code,
    temperature=CHECK,
)


# == 0. Metric reader: a metric the project does not implement, read from the prose ==========

class MetricReaderInputs(RoleInputs):
    pass  # the description in the task is all it reads


class MetricReading(BaseModel):
    """The metric reader's reply: the metric in a few words, and its direction."""

    metric: str
    higher_is_better: bool


def _accept_reading(reply: MetricReading, inputs: MetricReaderInputs) -> MetricReading:
    if not reply.metric.strip():
        raise ReplyError("name the metric in a few words")
    return MetricReading(metric=reply.metric.strip()[:80], higher_is_better=reply.higher_is_better)


METRIC_READER: Role[MetricReaderInputs, MetricReading] = Role(
    name="metric_reader",
    does="Reads an evaluation metric the description defines only in prose, and whether higher is better.",
    template="""# Competition
{description}

# Task
Read the Evaluation section: name the metric submissions are scored with in a few words, and
say whether a higher score is better. Answer with JSON in a ```json block:
{{"metric": "...", "higher_is_better": true or false}}""",
    inputs=MetricReaderInputs,
    render=lambda i: {},
    parse=_json_parser(MetricReading, _accept_reading, _first),
    schema=MetricReading,
    accept=_accept_reading,
    temperature=CHECK,
)


ROLES: dict[str, Role[Any, Any]] = {
    role.name: role
    for role in (METRIC_READER, RETRIEVER, INIT_CODER, MERGER, DATA_USAGE_CHECKER, ABLATION, ABLATION_SUMMARIZER,
                 EXTRACTOR, REFINER_CODER, REFINER_PLANNER, ENSEMBLE_PLANNER, ENSEMBLER, LEAKAGE_CHECKER,
                 LEAKAGE_FIXER, DEBUGGER, SUBMISSION)
}
