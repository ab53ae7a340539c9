"""Run configuration: the paper's knobs, time limits and model choice.

One kw-only dataclass in the style of the LangGraph templates: every field has a default (the
paper's, where the paper gives one), a metadata ``doc`` that says what it is for, can be set
from the environment as ``MLE_STAR_<FIELD>``, and is passed to the graph as its runtime
context. The CLI flags (``--outer-loops``) and the benchmark presets are generated from this
metadata, so a setting is described in exactly one place. Every field is a plain value, so the
served graph's context schema is plain JSON.
"""

from __future__ import annotations

import math
import os
from dataclasses import MISSING, dataclass, field, fields
from typing import Any, Literal, get_args, get_origin, get_type_hints

SandboxMode = Literal["auto", "bwrap", "none"]
ExecutorKind = Literal["local", "ray"]
NetworkMode = Literal["none", "allow"]


def _cpu_count() -> int:
    return max(1, os.cpu_count() or 1)


def setting(default: Any = MISSING, *, doc: str, flag: bool = True, presets: dict[str, Any] | None = None,
            choices: tuple[str, ...] = (), factory: Any = MISSING, minimum: float | None = None,
            aliases: tuple[str, ...] = (), repeat: bool = False) -> Any:
    """A Context field: its default, what it is for, whether the CLI shows it (and under which
    extra flag names), its bench presets and the bounds ``validate`` enforces. ``repeat``: the
    flag may be given several times, the values joined with os.pathsep (a list of folders)."""
    meta = {"doc": doc, "flag": flag, "presets": presets or {}, "choices": choices, "minimum": minimum,
            "aliases": aliases, "repeat": repeat}
    if factory is not MISSING:
        return field(default_factory=factory, metadata=meta)
    return field(default=default, metadata=meta)


@dataclass(kw_only=True)
class Context:
    """Everything a run can be tuned with."""

    # -- the model ------------------------------------------------------------------------------
    model: str = setting("auto", doc="Chat model: 'auto' (Gemini if GOOGLE_API_KEY is set, else the offline "
                                     "engineer), 'offline', or an init_chat_model id such as 'openai:gpt-4o'.")
    role_models: str = setting("", doc="Per-role model overrides 'role=model_id,...' (e.g. a cheaper summarizer).",
                               flag=False)
    model_timeout: float = setting(300.0, doc="Seconds one model call may take.", minimum=0.001)
    requests_per_second: float = setting(0.0, doc="Client-side rate limit for model calls (0: none), shared by "
                                                  "all roles.", minimum=0)
    model_retries: int = setting(5, doc="Retries of a model call on 429, 5xx and timeouts.", minimum=0)
    retry_backoff: float = setting(2.0, doc="First retry delay in seconds (doubles each time, jittered).",
                                   minimum=0)
    parse_retries: int = setting(2, doc="Re-asks when a reply cannot be parsed.", minimum=0)
    cache_path: str = setting("", doc="SQLite file caching model replies, so a re-run costs no model calls (the CLI "
                                      "keeps one per run in RUN_DIR/replies.sqlite when none is given).",
                              aliases=("--cache",))
    prices_file: str = setting("", doc="JSON price table (USD per million tokens) for cost estimates.",
                               aliases=("--prices",))
    # -- the paper's loops ----------------------------------------------------------------------
    num_candidates: int = setting(4, doc="M: candidate models from the retriever.", minimum=1,
                                  presets={"paper": 4, "laptop": 4, "quick": 2})
    outer_loops: int = setting(4, doc="T: ablation-guided outer refinement steps.", minimum=0,
                               presets={"paper": 4, "laptop": 3, "quick": 2})
    inner_loops: int = setting(4, doc="K: refinement attempts per target block.", minimum=0,
                               presets={"paper": 4, "laptop": 3, "quick": 2})
    parallel_solutions: int = setting(2, doc="L: independent solution paths, ensembled at the end.", minimum=1,
                                      presets={"paper": 2, "laptop": 2, "quick": 2})
    ensemble_rounds: int = setting(5, doc="R: ensemble plan/implement rounds.", minimum=0,
                                   presets={"paper": 5, "laptop": 3, "quick": 2})
    min_gain_se: float = setting(1.0, doc="A refinement replaces its solution (and a single solution beats an "
                                          "ensemble) only by more than this many standard errors of their paired "
                                          "held-out score difference (bootstrap): smaller gains are noise the loop "
                                          "would overfit. 0: any gain.", minimum=0)
    debug_rounds: int = setting(3, doc="Debugger attempts after a failed run.", minimum=0)
    check_leakage: bool = setting(True, doc="Run the leakage checker before each run.")
    check_data_usage: bool = setting(True, doc="Run the data-usage checker once per path.")
    # -- time and scripts -----------------------------------------------------------------------
    time_limit: float = setting(24 * 3600.0, doc="Whole-run wall time in seconds; loops stop early to leave "
                                                 "time for the ensemble and the submission.", minimum=1)
    script_timeout: float = setting(1800.0, doc="One script's wall time in seconds (ablation and final scripts "
                                                "get twice this).", minimum=1)
    script_memory_gb: float = setting(0.0, doc="Memory cap per script in GiB (0: sized from the machine and "
                                               "max_parallel).", minimum=0)
    max_parallel: int = setting(doc="Scripts running at once; default the CPU count so scripts never fight "
                                    "over cores.", factory=_cpu_count, minimum=1)
    sandbox: SandboxMode = setting("auto", doc="Script containment: 'auto' (bubblewrap if it works here, else "
                                               "process limits with a loud warning), 'bwrap' (required) or 'none'.",
                                   choices=get_args(SandboxMode))
    executor: ExecutorKind = setting("local", doc="Where scripts run: 'local' processes, or 'ray' tasks on a Ray "
                                                  "cluster (pip install 'mle-star[ray]').",
                                     choices=get_args(ExecutorKind))
    ray_address: str = setting("", doc="The Ray cluster to use with --executor ray (default: RAY_ADDRESS, else "
                                       "a local Ray instance).")
    script_python: str = setting("", doc="The Python scripts run with (the workbench: e.g. a venv with torch); "
                                         "'' is mle-star's own interpreter. Its folders are mounted read-only in "
                                         "the sandbox; it must have numpy and pandas.")
    weights_dir: str = setting("", doc="Folder of cached pretrained weights scripts may load offline (repeatable; "
                                       "in the environment os.pathsep-separated); '' is the Hugging Face hub cache "
                                       "and the torch hub cache where they exist, 'none' is no weights.",
                               repeat=True)
    script_network: NetworkMode = setting("none", doc="Network for scripts: 'none' (loopback only) or 'allow' "
                                                      "(scripts share this machine's network: a model-written "
                                                      "script can then reach anything this machine can).",
                                          choices=get_args(NetworkMode))
    spare_time: bool = setting(False, doc="Keep refining past T outer steps while the time limit leaves room "
                                          "(the CLI turns it on when --time-limit is given).")
    subsample_rows: int = setting(30000, doc="Training rows used while searching.", minimum=1)
    seed: int = setting(42, doc="Seed for the offline engineer and the generated scripts.")
    # -- the run --------------------------------------------------------------------------------
    run_dir: str = setting("", doc="Where scripts, outputs and the report go (default runs/<task>-<time>).")
    review: str = setting("", doc="'plans': pause before each refinement plan and before the submission.",
                          choices=("", "plans"))

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def kinds(cls) -> dict[str, type]:
        """Each setting's Python type, from the annotations (a Literal of strings is a str)."""
        hints = get_type_hints(cls)
        return {f.name: str if get_origin(hints[f.name]) is Literal else hints[f.name] for f in fields(cls)}

    @classmethod
    def preset(cls, name: str) -> dict[str, Any]:
        """The settings a benchmark preset ('paper', 'laptop', 'quick') fixes."""
        values = {f.name: f.metadata["presets"][name] for f in fields(cls) if name in f.metadata.get("presets", {})}
        if not values:
            raise ValueError(f"unknown preset '{name}' (known: {', '.join(cls.preset_names())})")
        return values

    @classmethod
    def preset_names(cls) -> list[str]:
        return sorted({p for f in fields(cls) for p in f.metadata.get("presets", {})})

    @classmethod
    def from_env(cls, **overrides: Any) -> Context:
        """Defaults, then ``MLE_STAR_*`` environment variables, then explicit overrides."""
        values: dict[str, Any] = {}
        for name, kind in cls.kinds().items():
            raw = os.environ.get(f"MLE_STAR_{name.upper()}")
            if raw is None:
                continue
            try:
                values[name] = raw.strip().lower() in {"1", "true", "yes", "on"} if kind is bool else kind(raw)
            except ValueError:
                raise ValueError(f"MLE_STAR_{name.upper()}={raw!r} is not a valid {kind.__name__}") from None
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def validate(self) -> None:
        """Refuse settings that would silently disable a limit (NaN, inf, negative) or a loop."""
        for f in fields(self):
            value, meta = getattr(self, f.name), f.metadata
            if isinstance(value, float) and not math.isfinite(value):
                raise ValueError(f"{f.name} must be a finite number, not {value}")
            if meta.get("minimum") is not None and isinstance(value, int | float) and value < meta["minimum"]:
                raise ValueError(f"{f.name} must be at least {meta['minimum']:g}")
            if meta.get("choices") and value not in meta["choices"]:
                known = ", ".join(c for c in meta["choices"] if c)
                raise ValueError(f"unknown {f.name} '{value}' (known: {known})")
        parse_role_models(self.role_models)


def parse_role_models(spec: str) -> dict[str, str]:
    """'role=id,role=id' -> {role: id}; every role must be one the registry declares."""
    from mle_star.prompts import ROLES  # the registry; prompts never import the settings

    out = {}
    for pair in (p.strip() for p in spec.split(",") if p.strip()):
        role, sep, model = pair.partition("=")
        if not sep or not role.strip() or not model.strip():
            raise ValueError(f"role model '{pair}' is not ROLE=MODEL_ID")
        if role.strip() not in ROLES:
            raise ValueError(f"unknown role '{role.strip()}' in role models (roles: {', '.join(ROLES)})")
        out[role.strip()] = model.strip()
    return out
