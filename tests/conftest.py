"""Shared fixtures: real example tasks (scikit-learn's bundled data) and a node runtime."""

from __future__ import annotations

from pathlib import Path

import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langgraph.runtime import Runtime

from mle_star.config import Context
from mle_star.examples import write_example
from mle_star.models import use_model
from mle_star.tools.task import load_task


@pytest.fixture(scope="session")
def bc_task(tmp_path_factory) -> Path:
    """Breast cancer (binary, AUC, 455 train rows): a real task that runs in seconds."""
    return write_example("breast-cancer", tmp_path_factory.mktemp("tasks") / "breast-cancer")


@pytest.fixture(scope="session")
def diabetes_task(tmp_path_factory) -> Path:
    """Diabetes progression (regression, RMSE: lower is better)."""
    return write_example("diabetes", tmp_path_factory.mktemp("tasks") / "diabetes")


@pytest.fixture
def task_facts(bc_task) -> dict:
    return load_task(bc_task).to_dict() | {"preview": ""}


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
    return {"path_id": 0, "task": task_facts, "run_dir": str(tmp_path / "run"), "deadline": float("inf")}
