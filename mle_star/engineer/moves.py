"""Refinement moves: the engineer's repertoire of concrete changes to one block.

A plan names its move in a leading tag, ``[model:xgb_slow_learning] Lower the learning ...``,
so the refiner can apply exactly what the planner proposed and the planner can see which
moves were already tried. Moves are ordered by how often they help; the ``load`` moves change
how images and audio clips are turned into features.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from copy import deepcopy
from dataclasses import dataclass

from mle_star.engineer.blocks import SPARSE_FAMILIES
from mle_star.engineer.neural import NEURAL_FAMILIES
from mle_star.engineer.params import BOOSTED, available, default_model, size_of

BAG = "bag_seeds"  # averaging seeds: proposed once plans stop helping
TAG_RE = re.compile(r"^\s*\[(\w+):([\w.+*-]+)\]")


@dataclass(frozen=True)
class Move:
    kind: str
    name: str
    text: str
    apply: Callable[[dict, dict], dict | None]  # (block spec, task) -> new spec, None if n/a

    @property
    def tag(self) -> str:
        return f"[{self.kind}:{self.name}]"

    def plan(self) -> str:
        return f"{self.tag} {self.text}"


def plan_tag(plan: str) -> tuple[str, str] | None:
    match = TAG_RE.match(plan or "")
    return (match.group(1), match.group(2)) if match else None


def _models(spec: dict) -> list[dict]:
    return spec["models"]


def _tune(family: str, **changes: float) -> Callable[[dict, dict], dict | None]:
    def apply(spec: dict, task: dict) -> dict | None:
        new = deepcopy(spec)
        hits = [m for m in _models(new) if m["family"] == family]
        if not hits:
            return None
        for m in hits:
            for key, value in changes.items():
                if key.endswith("_x"):
                    base = key[:-2]
                    if base not in m["params"]:  # e.g. C on a regression's linear model, which has alpha
                        continue
                    m["params"][base] = type(m["params"][base])(round(m["params"][base] * value, 6))
                else:
                    m["params"][key] = value
        return new if new != spec else None
    return apply


def _add(family: str) -> Callable[[dict, dict], dict | None]:
    def apply(spec: dict, task: dict) -> dict | None:
        if any(m["family"] == family for m in _models(spec)) or not available(family):
            return None
        if family not in SPARSE_FAMILIES and task.get("text_columns"):
            return None  # these cannot read TF-IDF text features
        new = deepcopy(spec)
        new["models"].append(default_model(family, task))
        return new
    return apply


def _bag_seeds(spec: dict, task: dict) -> dict | None:
    """Average 3 seeds of every boosted model (a different stopping slice per seed too)."""
    new = deepcopy(spec)
    for m in _models(new):
        if m["family"] in BOOSTED and int(m.get("seeds", 1)) < 3:
            m["seeds"] = 3
    return new if new != spec else None


def _reweight_best(spec: dict, task: dict) -> dict | None:
    if len(_models(spec)) < 2:
        return None
    new = deepcopy(spec)
    new["models"][0]["weight"] = float(new["models"][0].get("weight", 1.0)) * 2
    return new


def _set(**changes: object) -> Callable[[dict, dict], dict | None]:
    def apply(spec: dict, task: dict) -> dict | None:
        new = deepcopy(spec) | changes
        return new if new != spec else None
    return apply


def _when(pred: Callable[[dict], bool], inner: Callable[[dict, dict], dict | None]) -> Callable[[dict, dict], dict | None]:
    return lambda spec, task: inner(spec, task) if pred(task) else None


def _items(kind: str, **changes: object) -> Callable[[dict, dict], dict | None]:
    """A change to an image/audio loader (only for readable items of that kind)."""
    def apply(spec: dict, task: dict) -> dict | None:
        if spec.get("items") != kind or spec.get("readable") is False:
            return None
        new = deepcopy(spec)
        for key, value in changes.items():
            if isinstance(value, tuple):  # (factor, cap): grow a number up to a cap
                factor, cap = value
                new[key] = min(cap, int(round(float(new.get(key, 1)) * factor)))
            else:
                new[key] = value
        return new if new != spec else None
    return apply


_has_text: Callable[[dict], bool] = lambda task: bool(task.get("text_columns"))  # noqa: E731
_positive: Callable[[dict], bool] = lambda task: (task.get("target_min") or 0) >= 0  # noqa: E731

def _not_large_multiclass(task: dict) -> bool:
    """CatBoost grows one symmetric tree per class and round: on rodent-species (27k rows, 5
    classes) blending it in took 178 s of a 300 s run."""
    size = size_of(task)
    return not (size.tier == "large" and size.classes > 2)


MOVES: list[Move] = [
    # model
    Move("model", "xgb_slow_learning", "Halve the XGBoost learning rate and double the number of trees, so the boosting takes smaller, better-generalising steps.", _tune("xgboost", learning_rate_x=0.5, n_estimators_x=2)),
    Move("model", "lgbm_slow_learning", "Halve the LightGBM learning rate and double the number of trees, so the boosting takes smaller, better-generalising steps.", _tune("lightgbm", learning_rate_x=0.5, n_estimators_x=2)),
    Move("model", "add_lightgbm", "Blend in a LightGBM model with equal weight: leaf-wise boosting finds different splits than level-wise trees, so their errors partly cancel.", _add("lightgbm")),
    Move("model", "add_xgboost", "Blend in an XGBoost model with equal weight: gradient boosting usually carries tabular tasks.", _add("xgboost")),
    Move("model", "xgb_deeper", "Grow deeper XGBoost trees (max_depth 8, min_child_weight 2) to capture higher-order interactions.", _tune("xgboost", max_depth=8, min_child_weight=2)),
    Move("model", "lgbm_more_leaves", "Let LightGBM trees grow twice as many leaves (min_child_samples 10) to capture higher-order interactions.", _tune("lightgbm", num_leaves_x=2, min_child_samples=10)),
    Move("model", "add_catboost", "Blend in a CatBoost model with equal weight: ordered boosting on symmetric trees is robust on categorical data.", _when(_not_large_multiclass, _add("catboost"))),
    Move("model", "add_hgb", "Blend in a HistGradientBoosting model with equal weight: a second boosting implementation with different split finding reduces variance.", _add("hgb")),
    Move("model", "xgb_regularize", "Regularise XGBoost harder (subsample 0.7, colsample_bytree 0.6, reg_lambda 5) to reduce overfitting.", _tune("xgboost", subsample=0.7, colsample_bytree=0.6, reg_lambda=5.0)),
    Move("model", "lgbm_regularize", "Regularise LightGBM harder (subsample 0.7, colsample_bytree 0.6, reg_lambda 5) to reduce overfitting.", _tune("lightgbm", subsample=0.7, colsample_bytree=0.6, reg_lambda=5.0)),
    Move("model", "add_extra_trees", "Blend in extremely randomized trees: their errors are weakly correlated with boosting's.", _add("extra_trees")),
    Move("model", "add_linear", "Blend in a regularised linear model on one-hot features, a low-variance complement to the trees.", _add("linear")),
    Move("model", "xgb_shallow", "Use shallower XGBoost trees (max_depth 4) with twice the trees, a smoother additive fit.", _tune("xgboost", max_depth=4, n_estimators_x=2)),
    Move("model", "catboost_deeper", "Grow deeper CatBoost trees (depth 8) to capture higher-order interactions.", _tune("catboost", depth=8)),
    Move("model", "hgb_slow_learning", "Halve the HistGradientBoosting learning rate and double its iterations.", _tune("hgb", learning_rate_x=0.5, max_iter_x=2)),
    Move("model", "hgb_bigger_leaves", "Let HistGradientBoosting grow 63 leaves per tree with light L2 regularisation.", _tune("hgb", max_leaf_nodes=63, l2_regularization=1.0)),
    Move("model", "forest_more_trees", "Double the forest size and let it consider more features per split.", _tune("random_forest", n_estimators_x=2, max_features=0.5)),
    Move("model", "extra_trees_more", "Double the extra-trees forest and use min_samples_leaf 1.", _tune("extra_trees", n_estimators_x=2, min_samples_leaf=1)),
    Move("model", "linear_less_regularized", "Weaken the linear model's regularisation four-fold (C x4 / alpha / 4).", lambda s, t: _tune("linear", C_x=4)(s, t) or _tune("linear", alpha_x=0.25)(s, t)),
    Move("model", "linear_more_regularized", "Strengthen the linear model's regularisation four-fold (C / 4 / alpha x4).", lambda s, t: _tune("linear", C_x=0.25)(s, t) or _tune("linear", alpha_x=4)(s, t)),
    Move("model", "add_random_forest", "Blend in a random forest with equal weight.", _add("random_forest")),
    Move("model", "upweight_first", "Double the blend weight of the strongest (first) model.", _reweight_best),
    Move("model", BAG, "Average 3 seeds of the model: each boosted model is trained three times with different seeds (and stopping slices) and their predictions are averaged, which lowers the variance when tuning has stopped helping.", _bag_seeds),
    # features
    Move("features", "count_encoding", "Add frequency (count) encodings of the categorical columns, computed on the training rows only.", _set(count_encoding=True)),
    Move("features", "numeric_products", "Add pairwise products of the four numeric columns most correlated with the target.", _set(numeric_products=True)),
    Move("features", "missing_count", "Add the number of missing values per row as a feature.", _set(missing_count=True)),
    Move("features", "text_stats", "Add text statistics (length, word count, exclamation marks, share of capitals) for free-text columns.", _when(_has_text, _set(text_stats=True))),
    Move("features", "none", "Remove the feature engineering: the ablation showed the raw columns do better.",
         lambda spec, task: {k: False for k in spec} if any(spec.values()) else None),
    Move("features", "no_date_parts", "Stop expanding date-like columns into parts; treat them as categories.", _set(date_parts=False)),
    # preprocess
    Move("preprocess", "tfidf_bigrams", "Use word uni- and bi-grams in the TF-IDF vectoriser.", _when(_has_text, _set(tfidf_ngrams=2))),
    Move("preprocess", "char_ngrams", "Add character 2-5-gram TF-IDF features, robust to spelling and morphology.", _when(_has_text, _set(char_ngrams=True))),
    Move("preprocess", "tfidf_more_features", "Raise the TF-IDF vocabulary to 60,000 terms.", _when(_has_text, _set(tfidf_max_features=60000))),
    Move("preprocess", "onehot_categoricals", "One-hot encode categoricals for the tree models too (rare levels pooled).", _set(categorical="onehot")),
    Move("preprocess", "rare_levels_20", "Pool categorical levels seen fewer than 20 times in one-hot encodings.", _set(min_frequency=20)),
    # load: images
    Move("load", "bigger_thumbnails", "Use larger thumbnails (1.5x the side, up to 48 pixels): finer strokes and textures survive.", _items("image", size=(1.5, 48))),
    Move("load", "add_hog", "Add gradient-orientation histograms per cell: edges and strokes, robust to small shifts.", _items("image", hog=True)),
    Move("load", "finer_cells", "Compute the orientation histograms on a finer 6x6 grid of cells.", _items("image", cells=6)),
    Move("load", "colour_stats", "Add colour statistics (per-channel mean, spread and histograms).", _items("image", colour=True)),
    Move("load", "more_orientations", "Use 12 orientation bins instead of 9 in the gradient histograms.", _items("image", orientations=12)),
    # load: audio
    Move("load", "more_bands", "Use 1.5x as many frequency bands (up to 64) for the log band energies.", _items("audio", bands=(1.5, 64))),
    Move("load", "band_deltas", "Add how fast each band's energy changes between frames (mean absolute delta, its spread).", _items("audio", deltas=True)),
    Move("load", "longer_frames", "Use STFT frames of 2048 samples: finer frequency resolution.", _items("audio", frame=2048)),
    Move("load", "shorter_frames", "Use STFT frames of 512 samples: finer time resolution for short sounds.", _items("audio", frame=512)),
    # target
    Move("target", "log1p", "Train on log1p(target) and invert with expm1, matching a log-scale error.", _when(_positive, _set(transform="log1p"))),
    Move("target", "sqrt", "Train on sqrt(target), a milder variance-stabilising transform.", _when(_positive, _set(transform="sqrt"))),
    Move("target", "none", "Train on the raw target.", _set(transform="none")),
]


def _grow(family: str, param: str, factor: float, cap: float) -> Callable[[dict, dict], dict | None]:
    """Scale one parameter of a family's models, never past ``cap``."""
    def apply(spec: dict, task: dict) -> dict | None:
        new = deepcopy(spec)
        for m in _models(new):
            if m["family"] == family and param in m["params"]:
                value = m["params"][param]
                m["params"][param] = type(value)(min(cap, round(value * factor, 6)))
        return new if new != spec else None
    return apply


def _has_network(kind: str, spec: dict | None) -> bool:
    """Whether a block is the neural path's: a network in the blend, or a loader with a grid."""
    if not spec:
        return False
    if kind == "model":
        return any(m.get("family") in NEURAL_FAMILIES for m in spec.get("models") or [])
    return kind == "load" and bool(spec.get("grid"))


# Moves for the neural path, proposed first for its blocks (and only there, so every other
# task's plans stay as they were).
NEURAL_MOVES: list[Move] = [
    Move("model", "cnn_longer", "Train the network for twice as many epochs (its time budget still bounds the "
         "training): a few epochs from scratch rarely converge.", _grow("cnn", "epochs", 2, 60)),
    Move("model", "cnn_wider", "Double the network's channels per layer (up to 64): more filters for textures "
         "and shapes.", _grow("cnn", "width", 2, 64)),
    Move("model", "cnn_more_shift", "Shift the training images by up to four cells instead of two: a stronger "
         "augmentation against overfitting.", _tune("cnn", shift=4)),
    Move("model", "resnet_longer", "Fine-tune the pretrained network for twice as many epochs (its time budget "
         "still bounds the training).", _grow("resnet", "epochs", 2, 30)),
    Move("model", "resnet_larger_input", "Feed the pretrained network inputs 1.5 times as large a side (up to 224): "
         "its ImageNet features were learnt on larger images.", _grow("resnet", "size", 1.5, 224)),
    Move("model", "resnet_faster_backbone", "Fine-tune the pretrained backbone at a learning rate of 0.001 instead of "
         "0.0003: the images are far from ImageNet's.", _tune("resnet", backbone_learning_rate=0.001)),
    Move("load", "colour_grid", "Give the network the three colour channels of its pixel grid instead of grey "
         "levels.", _items("image", channels=3)),
    Move("load", "finer_grid", "Give the network a finer grid: 48 cells a side instead of 32.", _items("image", grid=48)),
]


SCALE_FACTORS = (0.5, 2.0, 0.25, 4.0, 0.75, 1.5)
BOUNDS = {"subsample": (0.3, 1.0), "colsample_bytree": (0.2, 1.0), "max_features": (0.1, 1.0),
          "max_depth": (2, 16), "min_samples_leaf": (1, 50), "num_leaves": (4, 255), "min_child_samples": (2, 200),
          "subsample_freq": (1, 1), "depth": (2, 10), "validation_fraction": (0.1, 0.1), "n_iter_no_change": (30, 30),
          "epochs": (2, 60), "width": (8, 64), "batch_size": (16, 256), "shift": (0, 4), "size": (32, 224),
          "warmup_epochs": (0, 3)}
UNSCALED = ("max_seconds",)  # a network's time budget follows the script's time limit, not a plan


def _scale_move(family: str, param: str, factor: float) -> Move:
    """A generated move: scale one hyper-parameter of one model family (kept within bounds)."""

    def apply(spec: dict, task: dict) -> dict | None:
        new = deepcopy(spec)
        for m in _models(new):
            value = m["params"].get(param) if m["family"] == family else None
            if isinstance(value, bool) or not isinstance(value, int | float):
                continue
            low, high = BOUNDS.get(param, (0, float("inf")))
            scaled = min(high, max(low, value * factor))
            m["params"][param] = int(round(scaled)) if isinstance(value, int) else round(scaled, 6)
        return new if new != spec else None

    return Move("model", f"scale-{family}-{param}-{factor}",
                f"Scale the {family} model's {param} by {factor} and keep everything else.", apply)


def _scale_moves(spec: dict | None) -> list[Move]:
    if not spec or "models" not in spec:
        return []
    return [_scale_move(m["family"], param, f) for f in SCALE_FACTORS for m in spec["models"]
            for param in sorted(m["params"]) if param not in UNSCALED]


def moves_for(kind: str, spec: dict | None = None, offset: int = 0) -> list[Move]:
    """The hand-written moves for a block (rotated by ``offset`` so solution paths explore in
    different orders), then generated ones so plans never run out."""
    fixed = [m for m in MOVES if m.kind == kind]
    shift = (2 * offset) % len(fixed) if fixed else 0
    neural = [m for m in NEURAL_MOVES if m.kind == kind] if _has_network(kind, spec) else []
    return neural + fixed[shift:] + fixed[:shift] + (_scale_moves(spec) if kind == "model" else [])


def find_move(kind: str, name: str) -> Move | None:
    """The move a plan tag names: a single move, ``a*n`` (a applied n times) or ``a+b``."""
    if "+" in name:
        found = [find_move(kind, part) for part in name.split("+")]
        parts = [move for move in found if move is not None]
        return _compose(kind, name, parts) if len(parts) == len(found) else None
    base, _, times = name.rpartition("*")
    if base and times.isdigit():
        single = find_move(kind, base)
        return _compose(kind, name, [single] * int(times)) if single else None
    if name.startswith("scale-"):
        family, param, factor = name.split("-", 1)[1].rsplit("-", 2)
        return _scale_move(family, param, float(factor)) if kind == "model" else None
    return next((m for m in MOVES + NEURAL_MOVES if m.kind == kind and m.name == name), None)


def _compose(kind: str, name: str, parts: list[Move]) -> Move:
    def apply(spec: dict, task: dict) -> dict | None:
        current = spec
        for part in parts:
            changed = part.apply(current, task)
            if changed is None:  # every step must change something
                return None
            current = changed
        return current

    text = " Then: ".join(dict.fromkeys(p.text for p in parts))
    if len(set(p.name for p in parts)) == 1 and len(parts) > 1:
        text = f"Go further in the direction that helped: {parts[0].text} (applied {len(parts)} times)."
    return Move(kind, name, text, apply)


def next_plan(kind: str, spec: dict, task: dict, history: list[dict], base_score: float | None = None,
              offset: int = 0) -> Move | None:
    """The next plan for a block, informed by every earlier (plan, score) pair.

    After two attempts, if the last two plans stopped helping, average seeds of the model
    (``bag_seeds``); if some plan beat the current solution, exploit it: push the best one
    further (``best*n``) or combine the two best (``best+second``). Otherwise explore the first
    applicable move no plan used yet. A plan (tag) in ``history`` is never proposed again.
    """
    from mle_star.tools.scoring.metrics import metric_of

    metric = metric_of(task)
    used = {plan_tag(h["plan"]) for h in history}
    proposals: list[str] = []
    if kind == "model" and base_score is not None and len(history) >= 2 and \
            not any(metric.better(h.get("score"), base_score) for h in history[-2:]):
        proposals.append(BAG)
    # (attempt, its move's name) for every tagged plan that beat the current solution
    improving = [(h, tag[1]) for h in history if base_score is not None and (tag := plan_tag(h["plan"]))
                 and metric.better(h.get("score"), base_score)]
    improving.sort(key=lambda pair: pair[0]["score"], reverse=metric.higher_is_better)
    if len(history) >= 2 and improving:
        best = improving[0][1]
        base, _, times = best.rpartition("*")
        if "+" not in best:
            proposals.append(f"{base}*{int(times) + 1}" if base and times.isdigit() else f"{best}*2")
        if len(improving) >= 2:
            proposals.append(f"{best}+{improving[1][1]}")
    for name in proposals:
        move = find_move(kind, name)
        if move is not None and (kind, name) not in used and move.apply(spec, task) is not None:
            return move
    for move in moves_for(kind, spec, offset):
        if (move.kind, move.name) not in used and move.apply(spec, task) is not None:
            return move
    return None
