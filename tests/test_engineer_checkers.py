"""The offline checkers read real code: planted leaks are found, named by an exact block and
fixed so the script still runs; the data-usage checker joins a table a script ignores; the
debugger never hands a script back unchanged and its reply runs."""

# ruff: noqa: F811 - pytest fixtures are imported by name
from __future__ import annotations

import json

import pytest
from test_engineer_support import (  # noqa: F401 - fixtures
    ask,
    code_of,
    judged,
    prepared,
    run_script,
    task_dirs,
)

from mle_star.engineer.leakage import find_leak, find_leaks
from mle_star.engineer.recipe import block_span
from mle_star.prompts.roles import ALL_USED, ModelCard
from mle_star.tools.model.code import extract_code, replace_block

# A clean script on the breast-cancer task, and the same script with one leak planted each.
HEAD = '''import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

train = pd.read_csv("./input/train.csv")
holdout = pd.read_csv("./input/holdout.csv")
test = pd.read_csv("./input/test.csv")
'''
TAIL = '''model = LogisticRegression(max_iter=2000)
model.fit(X_train, y_train)
print("Final Validation Performance:", roc_auc_score(y_valid, model.predict_proba(X_valid)[:, 1]))
pd.DataFrame({"id": holdout["id"], "malignant": model.predict_proba(scaler.transform(holdout[features]))[:, 1]}).to_csv("valid_predictions.csv", index=False)
pd.DataFrame({"id": test["id"], "malignant": model.predict_proba(scaler.transform(test[features]))[:, 1]}).to_csv("test_predictions.csv", index=False)
'''
CLEAN = HEAD + '''features = [c for c in train.columns if c not in ("id", "malignant")]
X = train[features]
y = train["malignant"]
X_train, X_valid, y_train, y_valid = train_test_split(X, y, test_size=0.2, random_state=0)
scaler = StandardScaler()
X_train = scaler.fit_transform(X_train)
X_valid = scaler.transform(X_valid)
''' + TAIL

PLANTS = {
"fit_on_unseen": HEAD + '''features = [c for c in train.columns if c not in ("id", "malignant")]
X = train[features]
y = train["malignant"]
X_train, X_valid, y_train, y_valid = train_test_split(X, y, test_size=0.2, random_state=0)
scaler = StandardScaler()
scaler.fit(pd.concat([X_train, holdout[features], test[features]]))
X_train = scaler.transform(X_train)
X_valid = scaler.transform(X_valid)
''' + TAIL,
"fit_before_split": HEAD + '''features = [c for c in train.columns if c not in ("id", "malignant")]
y = train["malignant"]
scaler = StandardScaler()
X_all = scaler.fit_transform(train[features])
X_train, X_valid, y_train, y_valid = train_test_split(X_all, y, test_size=0.2, random_state=0)
''' + TAIL,
"target_feature": HEAD + '''train["radius_x_label"] = train["mean_radius"] * (1 + train["malignant"])
features = [c for c in train.columns if c not in ("id", "malignant")]
holdout["radius_x_label"] = holdout["mean_radius"]
test["radius_x_label"] = test["mean_radius"]
X = train[features]
y = train["malignant"]
X_train, X_valid, y_train, y_valid = train_test_split(X, y, test_size=0.2, random_state=0)
scaler = StandardScaler()
X_train = scaler.fit_transform(X_train)
X_valid = scaler.transform(X_valid)
''' + TAIL,
"target_encoding": HEAD + '''for frame in (train, holdout, test):
    frame["texture_bin"] = (frame["mean_texture"] // 2).astype(int)
train["texture_te"] = train.groupby("texture_bin")["malignant"].transform("mean")
means = train.groupby("texture_bin")["malignant"].mean()
holdout["texture_te"] = holdout["texture_bin"].map(means).fillna(train["malignant"].mean())
test["texture_te"] = test["texture_bin"].map(means).fillna(train["malignant"].mean())
features = [c for c in train.columns if c not in ("id", "malignant")]
X = train[features]
y = train["malignant"]
X_train, X_valid, y_train, y_valid = train_test_split(X, y, test_size=0.2, random_state=0)
scaler = StandardScaler()
X_train = scaler.fit_transform(X_train)
X_valid = scaler.transform(X_valid)
''' + TAIL,
"unseen_in_training": HEAD + '''features = [c for c in train.columns if c not in ("id", "malignant")]
X = train[features]
y = train["malignant"]
X_train, X_valid, y_train, y_valid = train_test_split(X, y, test_size=0.2, random_state=0)
scaler = StandardScaler().fit(X_train)
first = LogisticRegression(max_iter=2000).fit(scaler.transform(X_train), y_train)
pseudo_labels = pd.Series((first.predict_proba(scaler.transform(test[features]))[:, 1] > 0.5).astype(int))
X_train = pd.concat([X_train, test[features]], ignore_index=True)
y_train = pd.concat([y_train, pseudo_labels], ignore_index=True)
X_train = scaler.transform(X_train)
X_valid = scaler.transform(X_valid)
''' + TAIL,
"valid_in_training": HEAD + '''features = [c for c in train.columns if c not in ("id", "malignant")]
X = train[features]
y = train["malignant"]
scaler = StandardScaler().fit(X)
model = LogisticRegression(max_iter=2000)
model.fit(X, y)
X_train, X_valid, y_train, y_valid = train_test_split(X, y, test_size=0.2, random_state=0)
print("Final Validation Performance:", roc_auc_score(y_valid, model.predict_proba(X_valid)[:, 1]))
pd.DataFrame({"id": holdout["id"], "malignant": model.predict_proba(holdout[features])[:, 1]}).to_csv("valid_predictions.csv", index=False)
pd.DataFrame({"id": test["id"], "malignant": model.predict_proba(test[features])[:, 1]}).to_csv("test_predictions.csv", index=False)
''',
"label_in_features": HEAD + '''X = train.drop(columns=["id"])
y = train["malignant"]
X_train, X_valid, y_train, y_valid = train_test_split(X, y, test_size=0.2, random_state=0)
model = LogisticRegression(max_iter=5000)
model.fit(X_train, y_train)
print("Final Validation Performance:", roc_auc_score(y_valid, model.predict_proba(X_valid)[:, 1]))
pd.DataFrame({"id": holdout["id"], "malignant": model.predict_proba(holdout.drop(columns=["id"]))[:, 1]}).to_csv("valid_predictions.csv", index=False)
pd.DataFrame({"id": test["id"], "malignant": model.predict_proba(test.drop(columns=["id"]))[:, 1]}).to_csv("test_predictions.csv", index=False)
''',
}


@pytest.fixture(scope="module")
def bc(task_dirs, tmp_path_factory):
    return prepared(task_dirs("breast-cancer"), tmp_path_factory.mktemp("run"))


def verdict_of(code: str, data, work) -> tuple:
    run = run_script(code, data.views["search"], work)
    return run, judged(data.task, data, "candidate", run)


def check(task: dict, code: str) -> dict:
    return json.loads(extract_json_block(ask("leakage_checker", task, code=code)))


def extract_json_block(reply: str) -> str:
    return reply.split("```json\n", 1)[1].split("```", 1)[0]


def test_a_clean_script_is_not_flagged_and_runs(bc, tmp_path):
    assert check(bc.task, CLEAN) == {"leakage_status": "No Data Leakage", "code_block": ""}
    run, verdict = verdict_of(CLEAN, bc, tmp_path / "clean")
    assert verdict.ok, verdict.error or run.done.stderr[-2000:]


@pytest.mark.parametrize("pattern", list(PLANTS))
def test_a_planted_leak_is_found_named_and_fixed(pattern, bc, tmp_path):
    code, task = PLANTS[pattern], bc.task
    verdict = check(task, code)
    assert verdict["leakage_status"] == "Yes Data Leakage"
    block = verdict["code_block"]
    assert code.count(block) == 1 and len(block.splitlines()) <= 2  # the smallest exact block
    assert find_leak(code, task).pattern == pattern
    fix = extract_code(ask("leakage_fixer", task, code=code, code_block=block))
    fixed = replace_block(code, block, fix)
    assert fixed != code
    assert check(task, fixed)["leakage_status"] == "No Data Leakage"
    run, judged_fix = verdict_of(fixed, bc, tmp_path / "fixed")
    assert judged_fix.ok and not judged_fix.untrusted, judged_fix.error or run.done.stderr[-2000:]


@pytest.mark.parametrize("name", ["breast-cancer", "ordinal-qwk", "digits-folder", "pizza-json", "audio-wav",
                                  "two-targets", "map3", "multilabel"])
def test_the_engineers_own_scripts_are_not_flagged(name, task_dirs, tmp_path):
    data = prepared(task_dirs(name), tmp_path / "run")
    task = data.task
    codes = [code_of("init_coder", task, candidate=ModelCard(model_name=m)) for m in ("XGBoost", "logistic",
                                                                                       "LightGBM")]
    codes.append(code_of("ensembler", task, solutions=codes, scores=[None, None, None], plan="[ensemble:weighted] x"))
    codes.append(code_of("ensembler", task, solutions=codes[:3], scores=[0.5, 0.5, 0.5], plan="[ensemble:stack] x",
                         member_dirs=["members/member_0", "members/member_1", "members/member_2"]))
    bagged = code_of("refiner_coder", task, code_block=block_span(codes[2], "model"), plan="[model:bag_seeds] x")
    codes.append(codes[2].replace(block_span(codes[2], "model"), bagged))
    codes.append(code_of("submission", task, code=codes[0], score=None))
    codes.append(code_of("ablation", task, code=codes[0], score=None, previous_summaries=[], refined_blocks=[]))
    for code in codes:
        assert find_leaks(code, task) == []


# -- the data-usage checker ------------------------------------------------------------------

def test_an_unused_table_that_shares_the_key_is_joined(task_dirs, tmp_path):
    data = prepared(task_dirs("extra-table"), tmp_path / "run")
    task = data.task
    first = code_of("init_coder", task, candidate=ModelCard(model_name="XGBoost"))
    assert "extra.csv" not in first
    reply = ask("data_usage_checker", task, code=first)
    assert ALL_USED not in reply and "extra.csv" in reply
    revised = extract_code(reply)
    assert "./input/extra.csv" in revised and "join_extra" in revised
    base_run, base = verdict_of(first, data, tmp_path / "first")
    new_run, new = verdict_of(revised, data, tmp_path / "revised")
    assert base.ok and new.ok, new.error or new_run.done.stderr[-2000:]
    assert new.score >= base.score - 0.01  # the extra measurements help (or at worst do not hurt)
    assert ask("data_usage_checker", task, code=revised) == ALL_USED  # now everything is read


def test_a_foreign_script_that_ignores_the_table_gets_one_that_reads_it(task_dirs, tmp_path):
    data = prepared(task_dirs("extra-table"), tmp_path / "run")
    foreign = CLEAN.replace('"./input/test.csv"', '"./input/test.csv"')  # reads train/holdout/test only
    revised = extract_code(ask("data_usage_checker", data.task, code=foreign))
    assert "./input/extra.csv" in revised
    run, verdict = verdict_of(revised, data, tmp_path / "revised")
    assert verdict.ok, verdict.error or run.done.stderr[-2000:]


def test_everything_used_gets_the_exact_sentence(bc):
    code = code_of("init_coder", bc.task, candidate=ModelCard(model_name="XGBoost"))
    assert ask("data_usage_checker", bc.task, code=code) == ALL_USED


# -- the debugger ------------------------------------------------------------------------------

def test_a_crashing_solution_is_repaired(bc, tmp_path):
    code = code_of("init_coder", bc.task, candidate=ModelCard(model_name="XGBoost"))
    broken = code.replace("    return [\n", "    raise ValueError('boom')\n    return [\n", 1)
    run = run_script(broken, bc.views["search"], tmp_path / "broken")
    assert run.done.returncode != 0
    fixed = code_of("debugger", bc.task, code=broken, error=run.done.stderr[-2000:], kind="candidate")
    assert fixed != broken
    run, verdict = verdict_of(fixed, bc, tmp_path / "fixed")
    assert verdict.ok, verdict.error or run.done.stderr[-2000:]


def test_a_crashing_ensemble_member_is_repaired(bc, tmp_path):
    members = [code_of("init_coder", bc.task, candidate=ModelCard(model_name=m)) for m in ("XGBoost", "logistic")]
    members[1] = members[1].replace("labelled, holdout, test = load_data()", "labelled, holdout, test = load_data()\n"
                                    "raise RuntimeError('member broke')", 1)
    ensemble = code_of("ensembler", bc.task, solutions=members, scores=[None, None], plan="[ensemble:mean] x")
    run = run_script(ensemble, bc.views["search"], tmp_path / "broken")
    assert run.done.returncode != 0 and "ensemble member 1 failed" in run.done.stderr
    fixed = code_of("debugger", bc.task, code=ensemble, error=run.done.stderr[-3000:], kind="ensemble")
    assert fixed != ensemble and "MEMBERS = [" in fixed
    run, verdict = verdict_of(fixed, bc, tmp_path / "fixed")
    assert verdict.ok, verdict.error or run.done.stderr[-2000:]


def test_an_unrepairable_script_is_replaced_by_a_simpler_valid_one(bc, tmp_path):
    foreign = "import lightgbm_that_is_not_installed\nprint('never')\n"
    run = run_script(foreign, bc.views["search"], tmp_path / "broken")
    fixed = code_of("debugger", bc.task, code=foreign, error=run.done.stderr[-2000:], kind="candidate")
    assert fixed != foreign
    run, verdict = verdict_of(fixed, bc, tmp_path / "fixed")
    assert verdict.ok, verdict.error or run.done.stderr[-2000:]
    again = code_of("debugger", bc.task, code=fixed, error="Traceback: something else", kind="candidate")
    assert again != fixed  # even its own working script is never handed back unchanged
