"""Model replies are parsed strictly: fenced code without prose, JSON with trailing text,
and block replacement that touches exactly one occurrence."""

from __future__ import annotations

import pytest

from mle_star.tools.model.code import (
    ReplyError,
    clean_block,
    extract_code,
    extract_json,
    replace_block,
)


def test_prose_around_the_fence_is_dropped():
    reply = "Sure! Here is the fixed script:\n```python\nimport os\nprint(os.sep)\n```\nIt now prints the separator."
    assert extract_code(reply) == "import os\nprint(os.sep)\n"


def test_python_fence_is_preferred_over_other_fences():
    reply = "```bash\npip install x\n```\n\n```python\nx = 1\n```"
    assert extract_code(reply) == "x = 1\n"


def test_unfenced_reply_must_be_python():
    assert extract_code("x = 1\nprint(x)") == "x = 1\nprint(x)\n"
    with pytest.raises(ReplyError, match="does not parse"):
        extract_code("Here is my answer: use XGBoost.")


def test_empty_reply_and_empty_fence_are_rejected():
    with pytest.raises(ReplyError):
        extract_code("")
    with pytest.raises(ReplyError):
        extract_code("```python\n\n```")


def test_json_with_trailing_text_and_fences():
    assert extract_json('[{"model_name": "xgb"}] I hope this helps!') == [{"model_name": "xgb"}]
    assert extract_json('Result:\n```json\n{"a": 1}\n```\nDone.') == {"a": 1}
    with pytest.raises(ReplyError):
        extract_json("no json here")


def test_replace_block_replaces_exactly_one_occurrence():
    script = "a = 1\nb = 2\nc = 3\n"
    assert replace_block(script, "b = 2\n", "b = 20\n") == "a = 1\nb = 20\nc = 3\n"


@pytest.mark.parametrize(
    ("old", "message"),
    [("", "empty"), ("   \n", "empty"), ("d = 4", "not an exact substring"), ("x = 0\n", "occurs 2 times")],
)
def test_replace_block_refuses_unsafe_edits(old, message):
    with pytest.raises(ReplyError, match=message):
        replace_block("x = 0\ny = 1\nx = 0\n", old, "z = 9\n")


def test_clean_block_takes_fenced_code_or_text():
    assert clean_block("```python\nx = 1\n```") == "x = 1"
    assert clean_block("x = 1\n") == "x = 1"


def test_replacement_keeps_the_line_break_a_reply_dropped():
    assert replace_block("a = 1\nb = 2\nc = 3\n", "b = 2\n", "b = 5") == "a = 1\nb = 5\nc = 3\n"
