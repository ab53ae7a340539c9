"""Parsing model replies and editing scripts, strictly.

The official sample stripped fence markers and kept the prose around them, and replaced
every occurrence of a block (or spliced into every character when the block was empty).
Here a reply must contain a fenced block or parse as Python, JSON must parse, and a block is
replaced exactly once, or the caller is told why not.
"""

from __future__ import annotations

import ast
import json
import re
import threading
from typing import Any

_FENCE_RE = re.compile(r"```[ \t]*([A-Za-z0-9_+-]*)[ \t]*\n(.*?)(?:\n[ \t]*```|\Z)", re.S)


_AST_LOCK = threading.Lock()  # CPython 3.11's ast module is not safe to use from parallel threads


def parse_python(source: str) -> ast.Module:
    """``ast.parse``, serialised: solution paths run in parallel threads, and concurrent parses
    on Python 3.11 fail with 'AST constructor recursion depth mismatch'."""
    with _AST_LOCK:
        return ast.parse(source)


def literal_value(source: str | ast.AST) -> Any:
    """``ast.literal_eval`` of a string, serialised like ``parse_python``."""
    with _AST_LOCK:
        return ast.literal_eval(source)


class ReplyError(ValueError):
    """A model reply that cannot be used; the message is fed back on a re-ask."""


def extract_code(reply: str) -> str:
    """The Python script in a reply: the longest fenced block (python-tagged preferred).

    Prose around the fence is dropped. A reply with no fence is accepted only if it parses
    as Python on its own.
    """
    blocks = [(lang.lower(), body.strip("\n")) for lang, body in _FENCE_RE.findall(reply)]
    tagged = [b for lang, b in blocks if lang in {"python", "py", "python3"}]
    candidates = tagged or [b for lang, b in blocks if lang in {"", "python", "py", "python3"}]
    if candidates:
        code = max(candidates, key=len)
    else:
        code = reply.strip()
        if not code:
            raise ReplyError("the reply is empty; answer with one ```python``` code block")
    if not code.strip():
        raise ReplyError("the code block is empty")
    try:
        parse_python(code)
    except SyntaxError as exc:
        raise ReplyError(f"the code does not parse as Python: line {exc.lineno}: {exc.msg}") from None
    return code + ("\n" if not code.endswith("\n") else "")


def extract_json(reply: str) -> object:
    """The first JSON value in a reply: fenced json, or the first [...] / {...} that parses."""
    for lang, body in _FENCE_RE.findall(reply):
        if lang.lower() in {"json", ""}:
            try:
                return json.loads(body)
            except json.JSONDecodeError:
                pass
    decoder = json.JSONDecoder()
    for match in re.finditer(r"[\[{]", reply):
        try:
            value, _ = decoder.raw_decode(reply[match.start():])
            return value
        except json.JSONDecodeError:
            continue
    raise ReplyError("no valid JSON found in the reply")


def replace_block(script: str, old: str, new: str) -> str:
    """``script`` with the single occurrence of ``old`` replaced by ``new``.

    Refuses an empty block, a block that is not in the script and an ambiguous block that
    occurs more than once, because each would silently change the wrong code.
    """
    if not old.strip():
        raise ReplyError("the code block is empty")
    count = script.count(old)
    if count == 0:
        raise ReplyError("the code block is not an exact substring of the script")
    if count > 1:
        raise ReplyError(f"the code block occurs {count} times in the script; it must be unique")
    if old.endswith("\n") and not new.endswith("\n"):  # replies lose the final newline; keep lines apart
        new += "\n"
    return script.replace(old, new, 1)


def clean_block(text: str) -> str:
    """A block from a reply: the fenced code if there is one, else the text itself."""
    blocks = _FENCE_RE.findall(text)
    return max((body for _, body in blocks), key=len).strip("\n") if blocks else text.strip("\n")


def nonempty(text: str) -> str:
    """A plain-text reply (plan, summary) that must not be empty."""
    if not text.strip():
        raise ReplyError("the reply is empty")
    return text.strip()
