"""Prompt templates, one per MLE-STAR role (paper, Appendix A), as plain format strings.

Placeholders are filled by the nodes; every script and output placed in a prompt is already
bounded, so no prompt grows with a chatty script.
"""

SYSTEM = (
    "You are a Kaggle grandmaster and expert machine learning engineer. "
    "Answer exactly in the format the request asks for."
)

SCRIPT_RULES = """Rules for every script:
- Read the data from ./input/ ({data_files}); write files only under the current directory.
- Do not use the test data for training or for fitting any preprocessing.
- Evaluate on a hold-out validation split and print exactly one line at the end:
  Final Validation Performance: <float>
  where <float> is the task's metric ({metric}, {direction} is better).
- If the training data has more than {subsample} rows, subsample it to {subsample} rows for speed.
- Do not use try/except to hide errors, and do not call exit().
- Answer with one complete, self-contained Python script in a single ```python code block."""

RETRIEVER = """# Competition
{description}

# Data
{preview}

# Search results
{search_results}

# Task
List {num_candidates} recent effective models, with example code, that could win this competition.
Answer with a JSON list in a ```json block:
[{{"model_name": "...", "example_code": "..."}}, ...]"""

INIT_CODER = """# Competition
{description}

# Data
{preview}

# Model to use
{model_name}

# Example code
```python
{example_code}
```

# Task
Write a simple solution that trains this model on the competition data.
""" + SCRIPT_RULES

MERGER = """# Competition
{description}

# Base solution (score {base_score})
```python
{base_code}
```

# Reference solution (score {candidate_score})
```python
{candidate_code}
```

# Task
Integrate the reference solution's model into the base solution as a simple average ensemble,
keeping everything else of the base solution.
""" + SCRIPT_RULES

DATA_USAGE = """# Competition
{description}

# Data
{preview}

# Solution
```python
{code}
```

# Task
Check whether the solution uses all the provided information (every data file and useful column).
If it does not, answer with a revised script that uses it, following these rules:
""" + SCRIPT_RULES + """
If it already uses everything, answer exactly: All the provided information is used."""

ABLATION = """# Competition
{description}

# Solution (score {score})
```python
{code}
```

# Earlier ablation studies
{previous}

# Task
Write an ablation study script: identify 2-3 parts of the solution and, for each, run a variant
of the full solution with that part removed or replaced, printing each variant's validation
score. Do not repeat earlier ablations. Print 'Final Validation Performance: <baseline score>'
at the end. Read data from ./input/. Answer with one ```python code block."""

ABLATION_SUMMARY = """# Ablation script
```python
{code}
```

# Its output
{output}

# Task
Summarise the ablation study: which part of the solution changed the score most, and by how much.
Answer with a short plain-text summary."""

EXTRACTOR = """# Competition
{description}

# Solution (score {score})
```python
{code}
```

# Ablation summaries
{summaries}

# Already refined blocks (do not choose these)
{refined}

# Task
Pick the code block whose change most affects performance according to the ablations and that
has not been refined yet, and a plan to improve it. The block must be copied EXACTLY from the
solution (an exact substring). Answer with JSON in a ```json block:
[{{"code_block": "...", "plan": "..."}}]"""

REFINER_CODER = """# Competition
{description}

# Code block to improve
```python
{code_block}
```

# Plan
{plan}

# Task
Rewrite the code block following the plan. Return only the new code block (not the whole
script) in one ```python block; it must fit where the old block was."""

REFINER_PLANNER = """# Competition
{description}

# Code block (the current solution scores {score})
```python
{code_block}
```

# Plans tried so far and their scores ({metric}, {direction} is better)
{history}

# Task
Propose a new plan (3-5 sentences) to improve this code block further, different from every
plan above and informed by their scores. Answer with the plan only."""

ENSEMBLE_PLANNER = """# Competition
{description}

# Solutions and their scores ({metric}, {direction} is better)
{solutions}

# Ensemble plans tried so far and their scores
{history}

# Task
Propose a plan (3-5 sentences) to ensemble these solutions, different from earlier plans and
informed by their scores. Answer with the plan only."""

ENSEMBLER = """# Competition
{description}

# Solutions
{solutions}

# Ensemble plan
{plan}

# Task
Implement the plan as one script that trains the solutions, blends their validation predictions
and reports the ensemble's validation score.
""" + SCRIPT_RULES

LEAKAGE_CHECKER = """# Solution
```python
{code}
```

# Task
Extract the code block that preprocesses the data, and decide whether validation or test
information leaks into training (fitting on validation/test rows, target leakage, statistics
computed over all rows, ...). The block must be an exact substring of the solution.
Answer with JSON in a ```json block:
{{"leakage_status": "Yes Data Leakage" or "No Data Leakage", "code_block": "..."}}"""

LEAKAGE_FIXER = """# Solution
```python
{code}
```

# Preprocessing block with data leakage
```python
{code_block}
```

# Task
Rewrite the preprocessing block so that only training rows are used to fit anything.
Return only the fixed block in one ```python block."""

DEBUGGER = """# Script
```python
{code}
```

# Error
{error}

# Task
Fix the script so that it runs and prints 'Final Validation Performance: <float>'.
""" + SCRIPT_RULES

SUBMISSION = """# Competition
{description}

# Best solution (score {score})
```python
{code}
```

# Task
Turn this solution into the final one: remove the training-data subsampling, train on all the
training data, predict the test set ({test_file}) and write ./final/submission.csv in exactly
the format of ./input/{sample_submission} (columns {columns}), keeping the validation print.
Answer with one complete Python script in a single ```python code block."""

REASK = "Your reply could not be used: {error}. Answer again in the requested format."
