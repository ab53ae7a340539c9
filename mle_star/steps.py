"""Every step of a run, declared once: the graph node (also the name its progress events carry),
the MLE-STAR roles it asks, the attempts it records, how the views show it, and where it sits in
the paper's loops. The builder wires these nodes; the recorder, the terminal and the report
read what they need from here rather than keeping their own lists."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from mle_star.state import AttemptKind

Loop = Literal["run", "path", "outer", "inner", "ensemble", "script"]


@dataclass(frozen=True)
class Step:
    node: str
    roles: tuple[str, ...] = ()  # names in prompts.ROLES
    kind: AttemptKind | None = None  # what its scripts are in the journal
    plotted: str = ""  # the score plot's legend for its scripts ("": not plotted)
    loop: Loop = "run"  # run (once), path (Alg. 1), outer (t, Alg. 2), inner (k), ensemble (r), script
    keeps_solution: bool = False  # its score is a solution the run keeps: the terminal's "best"
    shown: bool = True  # a line in the terminal and the report's stages (per-script steps are not)


STEPS: tuple[Step, ...] = (
    Step("prepare", ("metric_reader",)),
    Step("retriever", ("retriever",), loop="path"),
    Step("init_coder", ("init_coder",), "candidate", "candidate", "path", keeps_solution=True),
    Step("rank_candidates", loop="path"),
    Step("merger", ("merger",), "merge", "merge", "path", keeps_solution=True),
    Step("data_usage_checker", ("data_usage_checker",), "data_usage", "data usage", "path", keeps_solution=True),
    Step("ablation", ("ablation",), "ablation", loop="outer"),
    Step("ablation_summarizer", ("ablation_summarizer",), loop="outer"),
    Step("extractor", ("extractor",), loop="outer"),
    Step("refiner_coder", ("refiner_coder",), "refinement", "refinement", "inner"),
    Step("refiner_planner", ("refiner_planner",), loop="inner"),
    # a refined solution counts once accepted (a gain within the held-out noise never does)
    Step("accept_refinement", loop="outer", keeps_solution=True),
    Step("path_result", loop="path"),
    Step("gather_solutions"),
    Step("ensemble_planner", ("ensemble_planner",), loop="ensemble"),
    Step("ensembler", ("ensembler",), "ensemble", "ensemble", "ensemble", keeps_solution=True),
    Step("submission", ("submission", "init_coder"), "submission", "submission"),  # init_coder: a last resort
    Step("finalize"),
    Step("execute", loop="script", shown=False),
    Step("leakage_checker", ("leakage_checker", "leakage_fixer"), loop="script", shown=False),
    Step("debugger", ("debugger",), loop="script", shown=False),
)
STEP: dict[str, Step] = {s.node: s for s in STEPS}

KEEPS_SOLUTION = frozenset(s.node for s in STEPS if s.keeps_solution)
HIDDEN = frozenset(s.node for s in STEPS if not s.shown)
PLOTTED = {s.node: s.plotted for s in STEPS if s.plotted}
