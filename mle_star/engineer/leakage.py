"""The offline leakage checker and fixer: reads any script's code, not only the engineer's own.

The script is parsed with ``ast`` and its statements are followed in source order (function
and loop bodies included), tracking for each variable where its rows come from (labelled,
held-out/test), whether it still holds a label column, whether it is a label, and which
variables a ``train_test_split`` made. Six kinds of leak are found, each answered with the
smallest exact block of the script (one statement, or the few lines a fix must reorder):

- ``fit_on_unseen``: a scaler / encoder / vectoriser / imputer / PCA fit on rows that include
  held-out or test rows (``fit(pd.concat([train, test]))``);
- ``fit_before_split``: a preprocessor fit on every labelled row, then split into training and
  validation parts (``X = scaler.fit_transform(X)`` before ``train_test_split``);
- ``target_feature``: a feature column computed from the label;
- ``target_encoding``: a per-category label statistic computed on every labelled row;
- ``unseen_in_training``: held-out or test rows concatenated into the rows a model is fit on;
- ``valid_in_training``: a model fit on every labelled row, then scored on a split of them;
- ``label_in_features``: the label column left among the features.

The fixer re-reads the script, finds the leak its block names and rewrites that block so the
leak is gone (fit on the training part, split before fitting, drop the label, out-of-fold
target encoding, no concatenation), never returning the same text.

Over 600 lines because the checker and the fixer share one walk of the script's statements;
apart, every fix would have to re-derive where each variable's rows came from.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field

from mle_star.tools.model.code import literal_value, parse_python

TRANSFORMERS = {
    "StandardScaler", "MinMaxScaler", "RobustScaler", "MaxAbsScaler", "Normalizer", "QuantileTransformer",
    "PowerTransformer", "OneHotEncoder", "OrdinalEncoder", "LabelEncoder", "TargetEncoder", "SimpleImputer",
    "KNNImputer", "IterativeImputer", "PCA", "TruncatedSVD", "KernelPCA", "TfidfVectorizer", "CountVectorizer",
    "KBinsDiscretizer", "ColumnTransformer", "make_column_transformer", "FeatureUnion", "SelectKBest",
    "VarianceThreshold", "TfidfTransformer", "NMF", "FastICA", "SplineTransformer",
}
READERS = {"read_csv", "read_json", "read_parquet", "read_table", "read_feather", "read_excel", "read_pickle",
           "load", "loads", "open", "read_records", "read_rows"}
PASS_THROUGH = {"copy", "fillna", "reset_index", "astype", "sample", "head", "tail", "sort_values", "dropna",
                "replace", "set_index", "rename", "apply", "assign", "merge", "join", "query", "sort_index",
                "to_numpy", "values", "infer_objects", "where", "mask", "clip", "round", "abs"}
PATTERN_WORDS = {
    "fit_on_unseen": "a preprocessing step is fit on rows that include held-out or test rows",
    "fit_before_split": "a preprocessing step is fit on every labelled row before the validation split",
    "target_feature": "a feature is computed from the label",
    "target_encoding": "a target encoding is computed on every labelled row, before the validation split",
    "unseen_in_training": "held-out or test rows are concatenated into the training rows",
    "valid_in_training": "the model is fit on every labelled row and then scored on a split of them",
    "label_in_features": "the label column is left among the features",
}


@dataclass
class Var:
    """What the analysis knows about one variable's value."""

    rows: frozenset = frozenset()  # {"labelled", "unseen"}
    has_label: bool = False  # a frame that still holds a label column
    is_label: bool = False  # the label (or a value computed from it)
    subset: bool = False  # a part of the rows (a split part, a slice)
    split: tuple | None = None  # (input name, "train" | "valid") for train_test_split outputs
    parts: list = field(default_factory=list)  # concat elements: (source text, Var)
    mixed_at: ast.stmt | None = None  # the statement whose concat mixed unseen rows in
    defined_at: ast.stmt | None = None
    transformer: bool = False
    model: bool = False


@dataclass
class Finding:
    pattern: str
    block: str
    line: int
    detail: dict = field(default_factory=dict)

    @property
    def message(self) -> str:
        return PATTERN_WORDS[self.pattern]


# -- the analysis ------------------------------------------------------------------------------

class Analysis:
    """One pass over a script's statements in source order."""

    def __init__(self, code: str, task: dict):
        self.code = code
        self.lines = code.splitlines(keepends=True)
        self.tree = parse_python(code)
        source = task.get("label_source") or {}
        self.labels = set(source.get("label_columns") or task["output"].get("label_columns") or [])
        self.label_file = (source.get("file") or "").lower()
        self.unseen_files = {f.lower() for f in (task.get("test_file"), task.get("holdout_file"),
                                                 task.get("sample_submission")) if f}
        self.env: dict[str, Var] = {}
        self.consts: dict[str, object] = {}
        self.findings: list[Finding] = []
        self.fits: list[tuple[ast.stmt, str, ast.Call, ast.expr]] = []  # (stmt, model name, call, X)
        self.predicts: list[tuple[str, str]] = []  # (model name, X name)
        self.splits: list[tuple[ast.stmt, list[str], list[str]]] = []  # (stmt, input names, targets)
        self.pending_full_fits: list[tuple[ast.stmt, str, str, str]] = []  # (stmt, obj, source, result)
        self.new_columns: list[tuple[ast.stmt, str, str, ast.expr]] = []  # (stmt, frame, column, value)
        self.transformed: dict[str, list] = {}  # transformer -> labelled frames it transforms
        self.mix_parts: dict[int, list] = {}  # concatenations that mixed unseen rows in -> their parts
        self.column_lists: dict[str, bool] = {}  # names holding lists of columns -> does the list hold a label
        for stmt in self._statements(self.tree.body):
            self._statement(stmt)
        self._after()

    # statements in source order, compound bodies flattened
    def _statements(self, body: list[ast.stmt]):
        for stmt in body:
            if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                yield from self._statements(stmt.body)
            elif isinstance(stmt, ast.For | ast.While | ast.If | ast.With | ast.Try):
                yield stmt
                for part in ("body", "orelse", "finalbody"):
                    yield from self._statements(getattr(stmt, part, []) or [])
                for handler in getattr(stmt, "handlers", []) or []:
                    yield from self._statements(handler.body)
            else:
                yield stmt

    # -- text helpers ---------------------------------------------------------------------------
    def src(self, node: ast.AST) -> str:
        return ast.get_source_segment(self.code, node) or ""

    def block_of(self, first: ast.stmt, last: ast.stmt | None = None) -> str:
        """Whole lines of the statements, widened upward until the text is unique in the script."""
        start, end = first.lineno - 1, (last or first).end_lineno
        text = "".join(self.lines[start:end])
        while self.code.count(text) > 1 and start > 0:
            start -= 1
            text = "".join(self.lines[start:end])
        return text if text.endswith("\n") else text + "\n"

    def _strings(self, node: ast.AST) -> list[str]:
        found: list[str] = []
        for sub in ast.walk(node):
            if isinstance(sub, ast.Constant) and isinstance(sub.value, str):
                found.append(sub.value)
            elif isinstance(sub, ast.Name):
                const = self.consts.get(sub.id)
                if isinstance(const, str):
                    found.append(const)
                elif isinstance(const, list | tuple):
                    found += [v for v in const if isinstance(v, str)]
        return found

    def mentions_label(self, node: ast.AST) -> bool:
        return any(s in self.labels for s in self._strings(node))

    def _label_access(self, node: ast.AST) -> bool:
        """Does the expression read a label column of a frame (df['y'], df.y) or a label variable?"""
        for sub in ast.walk(node):
            if isinstance(sub, ast.Subscript) and self.mentions_label(sub.slice) and not isinstance(sub.slice, ast.Slice):
                base = self.var(sub.value)
                if base.has_label or "labelled" in base.rows:
                    return True
            if isinstance(sub, ast.Attribute) and sub.attr in self.labels and self.var(sub.value).has_label:
                return True
            if isinstance(sub, ast.Name) and self.env.get(sub.id, Var()).is_label:
                return True
        return False

    # -- values -----------------------------------------------------------------------------
    def var(self, node: ast.AST | None) -> Var:
        if node is None:
            return Var()
        if isinstance(node, ast.Name):
            return self.env.get(node.id, Var())
        if isinstance(node, ast.Call):
            return self._call(node)
        if isinstance(node, ast.Subscript):
            return self._subscript(node)
        if isinstance(node, ast.Attribute):
            base = self.var(node.value)
            if node.attr in self.labels and base.has_label:
                return Var(rows=base.rows, is_label=True, subset=base.subset)
            if node.attr in ("values", "T"):
                return base
            return Var(rows=base.rows, subset=base.subset, has_label=base.has_label and node.attr in PASS_THROUGH)
        if isinstance(node, ast.List | ast.Tuple):
            return Var()
        rows: frozenset = frozenset()
        label = False
        for sub in ast.walk(node):
            if isinstance(sub, ast.Name) and sub.id in self.env:
                rows |= self.env[sub.id].rows
                label = label or self.env[sub.id].is_label
        return Var(rows=rows, is_label=label or self._label_access(node))

    def _subscript(self, node: ast.Subscript) -> Var:
        target = node.value
        if isinstance(target, ast.Attribute) and target.attr in ("iloc", "loc"):
            base = self.var(target.value)
            part = self._slice_rows(base, node.slice.elts[0] if isinstance(node.slice, ast.Tuple) else node.slice)
            has_label = base.has_label and not (isinstance(node.slice, ast.Tuple) and self.mentions_label(node.slice))
            return Var(rows=part, has_label=has_label, subset=True, parts=base.parts)
        base = self.var(target)
        if isinstance(node.slice, ast.Slice):
            return Var(rows=self._slice_rows(base, node.slice), has_label=base.has_label, subset=True)
        if isinstance(node.slice, ast.Constant | ast.Name) and self.mentions_label(node.slice):
            return Var(rows=base.rows, is_label=True, subset=base.subset)
        if isinstance(node.slice, ast.List | ast.ListComp | ast.Name | ast.Call | ast.Attribute):
            if isinstance(node.slice, ast.Name) and node.slice.id in self.column_lists:
                return Var(rows=base.rows, has_label=base.has_label and self.column_lists[node.slice.id],
                           subset=base.subset, parts=base.parts, mixed_at=base.mixed_at)
            if isinstance(node.slice, ast.Name) and node.slice.id in self.env and not self.consts.get(node.slice.id):
                # a boolean mask or an index: a subset of the rows
                return Var(rows=base.rows, has_label=base.has_label, subset=True, parts=base.parts)
            if isinstance(node.slice, ast.List):
                has_label = self.mentions_label(node.slice)
            else:  # a comprehension or a list built elsewhere: the label is in unless named to exclude it
                listed = self.consts.get(node.slice.id) if isinstance(node.slice, ast.Name) else None
                has_label = (any(c in self.labels for c in listed) if isinstance(listed, list | tuple)
                             else base.has_label and not self.mentions_label(node.slice))
            return Var(rows=base.rows, has_label=has_label and base.has_label, subset=base.subset, parts=base.parts)
        return Var(rows=base.rows, has_label=base.has_label, subset=True, parts=base.parts)

    def _slice_rows(self, base: Var, index: ast.AST) -> frozenset:
        """Rows of ``all[:n]`` / ``all[n:]`` of a concatenation: its first part / the others."""
        if isinstance(index, ast.Slice) and base.parts:
            if index.lower is None and index.upper is not None:
                return base.parts[0][1].rows
            if index.upper is None and index.lower is not None:
                rows: frozenset = frozenset()
                for _, v in base.parts[1:]:
                    rows |= v.rows
                return rows
        return base.rows

    def _call(self, node: ast.Call) -> Var:
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        if name in TRANSFORMERS or (name in ("make_pipeline", "Pipeline") and self._pipeline_is_transformer(node)):
            return Var(transformer=True)
        if name in READERS:
            return self._read(node)
        if name == "concat" and node.args:
            items = node.args[0].elts if isinstance(node.args[0], ast.List | ast.Tuple) else []
            parts = [(self.src(e), self.var(e)) for e in items]
            rows: frozenset = frozenset()
            for _, v in parts:
                rows |= v.rows
            return Var(rows=rows, has_label=any(v.has_label for _, v in parts), parts=parts)
        if isinstance(func, ast.Attribute):
            base = self.var(func.value)
            if name in ("fit_transform", "transform") and base.transformer:
                arg = self.var(node.args[0]) if node.args else Var()
                return Var(rows=arg.rows, subset=arg.subset, split=arg.split, mixed_at=arg.mixed_at)
            if name in ("predict", "predict_proba", "decision_function"):
                return Var(rows=self.var(node.args[0]).rows if node.args else frozenset())
            if name == "fit" and (base.transformer or base.model):
                return base
            if name == "drop":
                removes = self.mentions_label(node)
                return Var(rows=base.rows, has_label=base.has_label and not removes, subset=base.subset,
                           parts=base.parts, mixed_at=base.mixed_at)
            if name == "pop":
                return Var(rows=base.rows, is_label=self.mentions_label(node))
            if name in PASS_THROUGH or name in ("select_dtypes", "filter", "get_dummies"):
                return Var(rows=base.rows, has_label=base.has_label and not self.mentions_label(node),
                           subset=base.subset or name in ("sample", "head", "tail", "query"), parts=base.parts,
                           split=base.split, mixed_at=base.mixed_at, is_label=base.is_label)
            if name in ("groupby", "transform", "mean", "agg", "aggregate", "map", "sum", "median", "count"):
                return Var(rows=base.rows, is_label=base.is_label or self._label_access(node))
        if name == "get_dummies" and node.args:
            base = self.var(node.args[0])
            return Var(rows=base.rows, has_label=base.has_label, subset=base.subset, parts=base.parts,
                       mixed_at=base.mixed_at)
        library = func.value.id if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) else ""
        if library in ("pd", "pandas", "np", "numpy"):  # Series(...), DataFrame(...), array(...): rows of their inputs
            return self.var_of_names(node)
        if name and name[:1].isupper():  # an estimator being constructed
            return Var(model=True)
        return self.var_of_names(node)

    def var_of_names(self, node: ast.AST) -> Var:
        rows: frozenset = frozenset()
        for sub in ast.walk(node):
            if isinstance(sub, ast.Name) and sub.id in self.env:
                rows |= self.env[sub.id].rows
        return Var(rows=rows)

    def _pipeline_is_transformer(self, node: ast.Call) -> bool:
        steps = [s for s in ast.walk(node) if isinstance(s, ast.Call) and s is not node]
        last = steps[-1] if steps else None
        name = (last.func.attr if isinstance(last.func, ast.Attribute) else getattr(last.func, "id", "")) if last else ""
        return name in TRANSFORMERS

    def _read(self, node: ast.Call) -> Var:
        paths = [s.lower() for s in self._strings(node)]
        for p in paths:
            base = p.rsplit("/", 1)[-1]
            if base in self.unseen_files or "test" in base or "holdout" in base or "sample_submission" in base:
                return Var(rows=frozenset({"unseen"}))
        for p in paths:
            base = p.rsplit("/", 1)[-1]
            if (self.label_file and base == self.label_file) or "train" in base:
                return Var(rows=frozenset({"labelled"}), has_label=True)
        return Var()

    # -- statements -------------------------------------------------------------------------
    def _statement(self, stmt: ast.stmt) -> None:
        if isinstance(stmt, ast.Assign | ast.AnnAssign):
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            value = stmt.value
            if value is None:
                return
            names = [t for t in targets if isinstance(t, ast.Name)]
            all_names = len(names) == len(targets)  # every target is a plain name
            if isinstance(value, ast.ListComp | ast.List) and all_names:
                for t in names:  # a list of columns: does it (still) name a label?
                    self.column_lists[t.id] = (self.mentions_label(value) if isinstance(value, ast.List)
                                               else not self.mentions_label(value))
            if isinstance(value, ast.Constant | ast.List | ast.Tuple) and all_names:
                try:
                    literal = literal_value(value)
                except ValueError:
                    literal = None
                for t in names:
                    self.consts[t.id] = literal
            self._calls(stmt, value)
            for target in targets:
                self._assign(stmt, target, value)
        elif isinstance(stmt, ast.Expr | ast.Return):
            if stmt.value is not None:
                self._calls(stmt, stmt.value)
        elif isinstance(stmt, ast.AugAssign):
            self._calls(stmt, stmt.value)

    def _assign(self, stmt: ast.stmt, target: ast.expr, value: ast.expr) -> None:
        if isinstance(target, ast.Tuple | ast.List) and isinstance(value, ast.Call) and self._is_split(value):
            self._split(stmt, target, value)
            return
        if isinstance(target, ast.Name):
            new = self.var(value)
            if new.parts and new.mixed_at is None and {"labelled", "unseen"} <= new.rows:
                new.mixed_at = stmt
                self.mix_parts[id(stmt)] = list(new.parts)  # the parts as they were at the concatenation
            if isinstance(value, ast.Name) and value.id in self.env:
                new = self.env[value.id]
            new.defined_at = new.defined_at if isinstance(value, ast.Name) else stmt
            self.env[target.id] = new
            return
        if isinstance(target, ast.Tuple | ast.List):
            for elt in target.elts:
                if isinstance(elt, ast.Name):
                    self.env[elt.id] = Var(defined_at=stmt)
            return
        if isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name):
            frame = self.env.get(target.value.id, Var())
            column = next(iter(self._strings(target.slice)), None) if isinstance(target.slice, ast.Constant | ast.Name) else None
            if column is None:
                return
            if column in self.labels:  # the label itself is written (pseudo-labels on unseen rows)
                frame.has_label = True
                return
            if "labelled" in frame.rows and not frame.subset and self._label_access(value):
                self.new_columns.append((stmt, target.value.id, column, value))

    def _is_split(self, call: ast.Call) -> bool:
        func = call.func
        return (func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")) == "train_test_split"

    def _split(self, stmt: ast.stmt, target: ast.Tuple | ast.List, call: ast.Call) -> None:
        inputs = [self.src(a) for a in call.args]
        names = [self.src(e) for e in target.elts]
        self.splits.append((stmt, inputs, names))
        for i, name in enumerate(names):
            split_input = call.args[i // 2] if i // 2 < len(call.args) else None
            base = self.var(split_input)
            self.env[name] = Var(rows=base.rows, has_label=base.has_label, is_label=base.is_label, subset=True,
                                 split=(inputs[i // 2] if i // 2 < len(inputs) else "", "train" if i % 2 == 0 else "valid"),
                                 defined_at=stmt, mixed_at=base.mixed_at)
        for fit_stmt, obj, source, result in list(self.pending_full_fits):
            if source in inputs or result in inputs:
                self.findings.append(Finding("fit_before_split", self.block_of(fit_stmt, stmt), fit_stmt.lineno,
                                             {"obj": obj, "source": source, "result": result}))
                self.pending_full_fits.remove((fit_stmt, obj, source, result))

    def _calls(self, stmt: ast.stmt, value: ast.expr) -> None:
        for call in [n for n in ast.walk(value) if isinstance(n, ast.Call)]:
            func = call.func
            if not isinstance(func, ast.Attribute) or not call.args:
                continue
            obj = self.var(func.value)
            arg = self.var(call.args[0])
            owner = self.src(func.value)
            if func.attr in ("fit", "fit_transform") and obj.transformer:
                if "unseen" in arg.rows:
                    parts = arg.parts or self._parts_at(arg.mixed_at) if arg.mixed_at is not None else arg.parts
                    self.findings.append(Finding("fit_on_unseen", self.block_of(stmt), stmt.lineno,
                                                 {"call": self.src(call), "owner": owner, "arg": self.src(call.args[0]),
                                                  "parts": parts or self.transformed.get(owner, [])}))
                elif ("labelled" in arg.rows and not arg.subset and func.attr == "fit_transform"
                      and isinstance(stmt, ast.Assign) and isinstance(stmt.targets[0], ast.Name)):
                    self.pending_full_fits.append((stmt, owner, self.src(call.args[0]), stmt.targets[0].id))
            elif func.attr == "transform" and obj.transformer and arg.rows == frozenset({"labelled"}):
                self.transformed.setdefault(owner, []).append((self.src(call.args[0]), arg))
                for finding in self.findings:  # a fit on unseen rows only: fit on these labelled rows instead
                    if finding.pattern == "fit_on_unseen" and finding.detail["owner"] == owner and not finding.detail["parts"]:
                        finding.detail["parts"] = [(self.src(call.args[0]), arg)]
            elif func.attr == "fit" and (obj.model or not obj.transformer) and len(call.args) >= 2:
                self.fits.append((stmt, owner, call, call.args[0]))
            elif func.attr in ("predict", "predict_proba", "decision_function", "score"):
                self.predicts.append((owner, self.src(call.args[0])))

    # -- decisions after the pass -----------------------------------------------------------
    def _after(self) -> None:
        for stmt, frame, column, value in self.new_columns:
            end_line = stmt.end_lineno if stmt.end_lineno is not None else stmt.lineno  # always set by ast.parse
            later = self.code[self._offset(end_line):]
            dropped = re.search(r"drop\([^)]*['\"]" + re.escape(column) + r"['\"]", later) is not None
            if dropped:
                continue
            encoding = any(isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "groupby"
                           for n in ast.walk(value))
            self.findings.append(Finding("target_encoding" if encoding else "target_feature", self.block_of(stmt),
                                         stmt.lineno, {"frame": frame, "column": column}))
        for stmt, owner, call, x in self.fits:
            x_var = self.var(x)
            mixes = [v.mixed_at for v in (x_var, self.var(call.args[1])) if "unseen" in v.rows and v.mixed_at is not None]
            if mixes:
                first, last = min(mixes, key=lambda m: m.lineno), max(mixes, key=lambda m: m.lineno)
                self.findings.append(Finding("unseen_in_training", self.block_of(first, last), first.lineno,
                                             {"parts": self._parts_at(first)}))
                continue
            if "unseen" in x_var.rows:
                self.findings.append(Finding("unseen_in_training", self.block_of(stmt), stmt.lineno,
                                             {"parts": self._parts_at(stmt)}))
                continue
            if x_var.has_label and "labelled" in x_var.rows:
                self.findings.append(self._label_finding(stmt, call, x))
                continue
            x_name = self.src(x)
            for _split_stmt, inputs, names in self.splits:
                if inputs and x_name == inputs[0] and not x_var.subset:
                    valid_parts = names[1::2]
                    if any(o == owner and p in valid_parts for o, p in self.predicts):
                        before = stmt.lineno < _split_stmt.lineno  # the fit must move below the split
                        block = self.block_of(stmt, _split_stmt) if before else self.block_of(stmt)
                        self.findings.append(Finding("valid_in_training", block, stmt.lineno,
                                                     {"call": self.src(call), "owner": owner, "inputs": inputs,
                                                      "names": names, "move": before}))
        unique = {f.block: f for f in reversed(self.findings)}  # one finding per block
        self.findings = sorted(unique.values(), key=lambda f: f.line)

    def _parts_at(self, stmt: ast.stmt) -> list:
        if id(stmt) in self.mix_parts:
            return self.mix_parts[id(stmt)]
        for node in ast.walk(stmt):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) == "concat":
                items = node.args[0].elts if node.args and isinstance(node.args[0], ast.List | ast.Tuple) else []
                return [(self.src(e), self.var(e)) for e in items]
        return []

    def _label_finding(self, stmt: ast.stmt, call: ast.Call, x: ast.expr) -> Finding:
        """Where to drop the label: the statement that built the feature frame, else the fit's argument."""
        x_var = self.var(x)
        origin = x_var.defined_at
        if x_var.split is not None:
            source = self.env.get(x_var.split[0])
            origin = source.defined_at if source is not None else None
        if origin is not None and isinstance(origin, ast.Assign) and len(origin.targets) == 1 \
                and isinstance(origin.targets[0], ast.Name) and not (
                    isinstance(origin.value, ast.Call) and getattr(origin.value.func, "attr", "") in READERS):
            return Finding("label_in_features", self.block_of(origin), origin.lineno,
                           {"expr": self.src(origin.value)})
        return Finding("label_in_features", self.block_of(stmt), stmt.lineno, {"expr": self.src(x)})

    def _offset(self, line: int) -> int:
        return sum(len(text) for text in self.lines[:line])


def find_leaks(code: str, task: dict) -> list[Finding]:
    """Every leak found, in source order (empty when the code does not parse)."""
    try:
        return Analysis(code, task).findings
    except SyntaxError:
        return []


def find_leak(code: str, task: dict) -> Finding | None:
    findings = find_leaks(code, task)
    return findings[0] if findings else None


# -- fixes -------------------------------------------------------------------------------------

def fix_leak(code: str, block: str, task: dict) -> tuple[str, str]:
    """(the fixed block, why); the block is changed so that the named leak is gone."""
    findings = [f for f in find_leaks(code, task) if f.block == block] or \
        [f for f in find_leaks(code, task) if block.strip() and block.strip() in f.block]
    if not findings:
        return _fallback(block), "No leak I recognise is in this block; it is kept and marked for review."
    finding = findings[0]
    fixed = FIXES[finding.pattern](finding, block, task)
    if fixed == block:
        fixed = _fallback(block)
    return fixed, f"Fixed: {finding.message}."


def _fallback(block: str) -> str:
    indent = _indent(block)
    return block.rstrip("\n") + f"\n{indent}# mle-star: reported as leaking, but no automatic fix is known for this block; review it\n"


def _indent(text: str) -> str:
    """The leading whitespace of the text (``\\s*`` always matches, possibly the empty string)."""
    match = re.match(r"\s*", text)
    return match.group(0) if match is not None else ""


def _labelled_part(parts: list) -> str | None:
    labelled = [text for text, v in parts if v.rows and "unseen" not in v.rows]
    if not labelled:
        return None
    return labelled[0] if len(labelled) == 1 else f"pd.concat([{', '.join(labelled)}])"


def _fix_fit_on_unseen(finding: Finding, block: str, task: dict) -> str:
    call, owner, arg = finding.detail["call"], finding.detail["owner"], finding.detail["arg"]
    train = _labelled_part(finding.detail.get("parts") or [])
    if train is None:
        return block
    if call.startswith(f"{owner}.fit_transform("):
        return block.replace(call, f"{owner}.fit({train}).transform({arg})", 1)
    return block.replace(call, f"{owner}.fit({train})", 1)


def _fix_fit_before_split(finding: Finding, block: str, task: dict) -> str:
    lines = block.splitlines(keepends=True)
    obj, source, result = finding.detail["obj"], finding.detail["source"], finding.detail["result"]
    fit_line = next(i for i, line in enumerate(lines) if f"{obj}.fit_transform(" in line)
    indent = _indent(lines[fit_line])
    rest = lines[:fit_line] + lines[fit_line + 1:]
    split_text = "".join(rest)
    tree = parse_python(_dedent(split_text))
    # the split assignment: a (tuple or list) target, a train_test_split call
    split_target, split_call = next(
        (n.targets[0], n.value) for n in ast.walk(tree)
        if isinstance(n, ast.Assign) and isinstance(n.targets[0], ast.Tuple | ast.List)
        and isinstance(n.value, ast.Call)
        and getattr(n.value.func, "id", getattr(n.value.func, "attr", "")) == "train_test_split")
    names = [ast.unparse(e) for e in split_target.elts]
    first = ast.unparse(split_call.args[0])
    new_rest = split_text
    if first == result and result != source:
        new_rest = re.sub(r"train_test_split\(\s*" + re.escape(result) + r"\b", f"train_test_split({source}", split_text, count=1)
    train_part, valid_part = names[0], names[1]
    setup = ""
    if not obj.isidentifier():  # a transformer built inline: name it, so the validation part reuses it
        setup, obj = f"{indent}_preprocessor = {obj}\n", "_preprocessor"
    return (new_rest + setup + f"{indent}{train_part} = {obj}.fit_transform({train_part})  # fit on the training part only\n"
            f"{indent}{valid_part} = {obj}.transform({valid_part})\n")


def _dedent(text: str) -> str:
    import textwrap

    return textwrap.dedent(text)


def _fix_target_feature(finding: Finding, block: str, task: dict) -> str:
    column = finding.detail["column"]
    lines = block.splitlines(keepends=True)
    target = next(i for i, line in enumerate(lines) if re.search(r"\[\s*['\"]" + re.escape(column) + r"['\"]\s*\]\s*=", line)
                  or column in line)
    indent = _indent(lines[target])
    stmt_lines = _statement_lines(lines, target)
    replacement = f"{indent}pass  # mle-star: removed '{column}', a feature computed from the label (target leakage)\n"
    return "".join(lines[:target]) + replacement + "".join(lines[target + stmt_lines:])


def _statement_lines(lines: list[str], start: int) -> int:
    for n in range(1, len(lines) - start + 1):
        try:
            parse_python(_dedent("".join(lines[start:start + n])))
            return n
        except SyntaxError:
            continue
    return len(lines) - start


def _fix_target_encoding(finding: Finding, block: str, task: dict) -> str:
    frame, column = finding.detail["frame"], finding.detail["column"]
    lines = block.splitlines(keepends=True)
    target = next(i for i, line in enumerate(lines) if column in line)
    n = _statement_lines(lines, target)
    stmt = _dedent("".join(lines[target:target + n]))
    tree = parse_python(stmt)
    group = next((n for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
                  and n.func.attr == "groupby" and n.args), None)
    label = next((s for s in (c.value for c in ast.walk(tree) if isinstance(c, ast.Constant))
                  if isinstance(s, str) and s in _labels(task)), None)
    keys = ast.unparse(group.args[0]) if group is not None else None
    if group is None or label is None or isinstance(group.args[0], ast.List | ast.Tuple):
        return _fix_target_feature(finding, block, task)
    indent = _indent(lines[target])
    oof = (f"{indent}from sklearn.model_selection import KFold\n\n"
           f"{indent}{frame}[{column!r}] = float('nan')  # out-of-fold target encoding: no row's own label reaches its feature\n"
           f"{indent}for _fit_rows, _enc_rows in KFold(n_splits=5, shuffle=True, random_state=0).split({frame}):\n"
           f"{indent}    _means = {frame}.iloc[_fit_rows].groupby({keys})[{label!r}].mean()\n"
           f"{indent}    {frame}.iloc[_enc_rows, {frame}.columns.get_loc({column!r})] = "
           f"{frame}[{keys}].iloc[_enc_rows].map(_means)"
           f".fillna({frame}[{label!r}].iloc[_fit_rows].mean()).to_numpy()\n")
    return "".join(lines[:target]) + oof + "".join(lines[target + n:])


def _labels(task: dict) -> set[str]:
    source = task.get("label_source") or {}
    return set(source.get("label_columns") or task["output"].get("label_columns") or [])


def _fix_unseen_in_training(finding: Finding, block: str, task: dict) -> str:
    """Every concatenation in the block keeps only its labelled parts."""
    fixed = block
    for match in list(re.finditer(r"(?:pd\.)?concat\(\s*[\[(]([^\])]*)[\])][^)]*\)", block)):
        parts = [p.strip() for p in match.group(1).split(",") if p.strip()]
        unseen = [p for p in parts if re.search(r"test|holdout|pseudo|unlabel", p, re.I)]
        known = {text for text, v in finding.detail.get("parts") or [] if "unseen" in v.rows}
        keep = [p for p in parts if p not in unseen and p not in known]
        if len(keep) == len(parts) or not keep:
            continue
        fixed = fixed.replace(match.group(0), f"{keep[0]}.copy()" if len(keep) == 1 else f"pd.concat([{', '.join(keep)}])", 1)
    return fixed


def _fix_valid_in_training(finding: Finding, block: str, task: dict) -> str:
    call, owner, names = finding.detail["call"], finding.detail["owner"], finding.detail["names"]
    fit_stmt = parse_python(call).body[0]  # the fit call's own source: one expression statement
    if not (isinstance(fit_stmt, ast.Expr) and isinstance(fit_stmt.value, ast.Call)):
        return block
    fit = fit_stmt.value
    y_arg = names[2] if len(names) >= 4 else ast.unparse(fit.args[1])
    rest = [ast.unparse(a) for a in fit.args[2:]] + [ast.unparse(k) for k in fit.keywords]
    new_call = f"{owner}.fit({', '.join([names[0], y_arg, *rest])})"
    if not finding.detail.get("move"):
        return block.replace(call, new_call, 1)
    lines = block.splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if call.split("(")[0] + "(" in line)
    n = _statement_lines(lines, at)
    moved = "".join(lines[at:at + n]).replace(call, new_call, 1)
    rest_lines = lines[:at] + lines[at + n:]
    split_end = max(i for i, line in enumerate(rest_lines) if "train_test_split" in line)
    split_end += _statement_lines(rest_lines, split_end) - 1
    return "".join(rest_lines[:split_end + 1]) + moved + "".join(rest_lines[split_end + 1:])


def _fix_label_in_features(finding: Finding, block: str, task: dict) -> str:
    expr = finding.detail["expr"]
    labels = sorted(_labels(task))
    return block.replace(expr, f"({expr}).drop(columns={labels!r}, errors='ignore')", 1)


FIXES = {
    "fit_on_unseen": _fix_fit_on_unseen,
    "fit_before_split": _fix_fit_before_split,
    "target_feature": _fix_target_feature,
    "target_encoding": _fix_target_encoding,
    "unseen_in_training": _fix_unseen_in_training,
    "valid_in_training": _fix_valid_in_training,
    "label_in_features": _fix_label_in_features,
}
