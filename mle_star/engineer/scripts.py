"""Helpers shared by the scripts that run other scripts (ablation studies, ensembles).

Both embed whole solution scripts as string literals and run each as its own subprocess in
its own sub-folder, whose ``input`` is a relative link to the parent's ``./input``: output
files never collide, and a member sees exactly the data its parent sees.
"""

from __future__ import annotations

import ast

from mle_star.tools.model.code import literal_value, parse_python


def literal(text: str) -> str:
    """A readable Python literal for ``text``: a raw triple-quoted string when that is exact."""
    candidate = "r'''" + text + "'''"
    try:
        if literal_value(candidate) == text:
            return candidate
    except (SyntaxError, ValueError):
        pass
    return repr(text)


RUN_IN_FOLDER = '''def run_in_folder(folder: str, source: str, timeout: float | None = None,
                  env: dict | None = None) -> subprocess.CompletedProcess:
    """Run a script in its own sub-folder, with ./input linked to this folder's input."""
    os.makedirs(folder, exist_ok=True)
    link = os.path.join(folder, "input")
    if not os.path.lexists(link):
        os.symlink(os.path.join("..", "input"), link)
    with open(os.path.join(folder, "solution.py"), "w") as fh:
        fh.write(source)
    return subprocess.run([sys.executable, "solution.py"], cwd=folder, capture_output=True, text=True, timeout=timeout,
                          env=env)
'''


def assigned_literals(code: str, names: tuple[str, ...]) -> dict[str, object]:
    """Module-level ``NAME = <literal>`` values of a script (e.g. an ensemble's MEMBERS, PLAN)."""
    try:
        tree = parse_python(code)
    except SyntaxError:
        return {}
    found: dict[str, object] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            name = node.targets[0].id
            if name in names:
                try:
                    found[name] = literal_value(node.value)
                except ValueError:
                    continue
    return found


# Writes predictions in the sample submission's columns (script text shared by solutions and ensembles).
WRITE_PREDICTIONS = """def write_predictions(path: str, ids, P: np.ndarray) -> None:
    frame = pd.DataFrame({ID: np.asarray(ids)})
    for name, values in to_output(P).items():
        frame[name] = values
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    frame[ORDER].to_csv(path, index=False)
"""


def write_predictions_code(task: dict) -> str:
    """The ``write_predictions`` function for ``task``: with the sample's copied columns (a
    test column it repeats, like detecting-insults' ``Date``), each looked up by id in the
    rows the ids come from, so the file has every column of the sample."""
    copied = list(task["output"].get("copied") or [])
    if not copied:
        return WRITE_PREDICTIONS
    tables = [f"./input/{name}" for name in (task.get("test_file"), task.get("holdout_file")) if name]
    return f'''COPIED = {copied!r}  # sample columns that repeat the test rows' own: carried over, not predicted
ROW_TABLES = {tables!r}  # where the rows (and their copied columns) are


def copied_values(ids) -> pd.DataFrame:
    """The copied columns of the rows named by ``ids``, as written in their tables."""
    tables = [pd.read_csv(path, dtype=str, keep_default_na=False) for path in ROW_TABLES if os.path.isfile(path)]
    rows = pd.concat([t[[ID, *COPIED]] for t in tables if ID in t.columns]).drop_duplicates(ID).set_index(ID)
    return rows.reindex([str(i) for i in ids]).fillna("")


def write_predictions(path: str, ids, P: np.ndarray) -> None:
    frame = pd.DataFrame({{ID: np.asarray(ids)}})
    for name, values in to_output(P).items():
        frame[name] = values
    for name, values in copied_values(frame[ID]).items():
        frame[name] = values.to_numpy()
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    frame[ORDER].to_csv(path, index=False)
'''
