"""Shared fixtures: real example tasks (scikit-learn's bundled data) and a node runtime."""

from __future__ import annotations

from pathlib import Path

import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langgraph.runtime import Runtime

from mle_star.config import Context
from mle_star.examples import write_example
from mle_star.models import use_model
from mle_star.tools.task.dataview import prepare_run_data
from mle_star.tools.task.intake import read_task


@pytest.fixture(scope="session", autouse=True)
def _cache_in_tmp(tmp_path_factory):
    """Unpacked downloads go to the session's temp folder, not the user's ~/.cache."""
    import os

    os.environ["MLE_STAR_CACHE"] = str(tmp_path_factory.mktemp("cache"))


@pytest.fixture(scope="session")
def bc_task(tmp_path_factory) -> Path:
    """Breast cancer (binary, AUC, 455 train rows): a real task that runs in seconds."""
    return write_example("breast-cancer", tmp_path_factory.mktemp("tasks") / "breast-cancer")


@pytest.fixture(scope="session")
def diabetes_task(tmp_path_factory) -> Path:
    """Diabetes progression (regression, RMSE: lower is better)."""
    return write_example("diabetes", tmp_path_factory.mktemp("tasks") / "diabetes")


def task_record(task_dir, run_dir) -> dict:
    """A task's facts as the graph sees them, with its run data laid out in ``run_dir``."""
    return prepare_run_data(read_task(task_dir), run_dir, seed=42).task


@pytest.fixture
def task_facts(bc_task, tmp_path) -> dict:
    return task_record(bc_task, tmp_path / "run")


def scripted(*replies: str) -> GenericFakeChatModel:
    """A chat model that answers with ``replies`` in order, like a (messy) LLM would."""
    return GenericFakeChatModel(messages=iter(list(replies)))


def runtime(llm=None, **settings) -> Runtime:
    """A node runtime; ``llm`` (a chat model object) answers every role."""
    if llm is not None:
        settings["model"] = use_model(llm)
    settings.setdefault("script_timeout", 60)
    settings.setdefault("max_parallel", 2)
    return Runtime(context=Context(**settings))


@pytest.fixture
def path_state(task_facts, tmp_path) -> dict:
    return {"path_id": 0, "run": {"task": task_facts, "run_dir": str(tmp_path / "run"), "deadline": float("inf")}}


def with_run(state: dict, **facts) -> dict:
    """``state`` with some of its run facts (task, run_dir, deadline) changed."""
    return state | {"run": state["run"] | facts}


def predicting(expr: str, printed: str = "0.5", setup: str = "", id_column: str = "id",
               column: str = "malignant") -> str:
    """A script that follows the contract: predictions ``expr`` (over ``rows``, a frame of the
    held-out or test rows) for the held-out and test rows, and a printed score."""
    return (f"import pandas as pd\n{setup}"
            f"for name, out in (('holdout.csv', 'valid_predictions.csv'), ('test.csv', 'test_predictions.csv')):\n"
            f"    rows = pd.read_csv('input/' + name)\n"
            f"    pd.DataFrame({{'{id_column}': rows['{id_column}'], '{column}': {expr}}}).to_csv(out, index=False)\n"
            f"print('Final Validation Performance: {printed}')\n")


# Breast cancer: the mean radius alone ranks tumours well (held-out AUC about 0.93); its
# reverse ranks them badly; a constant scores 0.5.
GOOD_RANKING = "rows['mean_radius'].rank(pct=True)"
BAD_RANKING = "1 - rows['mean_radius'].rank(pct=True)"
