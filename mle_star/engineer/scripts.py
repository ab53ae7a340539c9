"""Helpers shared by the scripts that run other scripts (ablation studies, ensembles).

Both embed whole solution scripts as string literals and run each as its own subprocess in
its own sub-folder, whose ``input`` is a relative link to the parent's ``./input``: output
files never collide, and a member sees exactly the data its parent sees.
"""

from __future__ import annotations

import ast

from mle_star.tools.code import literal_value, parse_python


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
