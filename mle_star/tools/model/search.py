"""Web search for the retriever: Tavily when a key is set, else an offline model catalogue.

The catalogue holds model cards (name, when it suits, example code) and is searched by term
overlap with the task, so the retriever always has real material to choose from.
"""

from __future__ import annotations

import os
import re
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class ModelCard:
    model_name: str
    family: str  # the offline engineer's key for this model
    tags: str
    example_code: str

    def to_dict(self) -> dict:
        return asdict(self)


CATALOGUE: list[ModelCard] = [
    ModelCard("XGBoost gradient boosted trees", "xgboost",
              "tabular classification regression gradient boosting trees categorical numeric missing values kaggle",
              "from xgboost import XGBClassifier\n"
              "model = XGBClassifier(n_estimators=500, learning_rate=0.05, max_depth=6,\n"
              "                      subsample=0.8, colsample_bytree=0.8, tree_method='hist')\n"
              "model.fit(X_train, y_train)\nproba = model.predict_proba(X_valid)[:, 1]"),
    ModelCard("LightGBM gradient boosting (leaf-wise trees)", "lightgbm",
              "tabular classification regression gradient boosting trees leaf-wise fast large data categorical "
              "numeric missing values early stopping kaggle",
              "from lightgbm import LGBMClassifier, early_stopping\n"
              "model = LGBMClassifier(n_estimators=2000, learning_rate=0.03, num_leaves=31,\n"
              "                       subsample=0.8, subsample_freq=1, colsample_bytree=0.8)\n"
              "model.fit(X_train, y_train, eval_set=[(X_stop, y_stop)], callbacks=[early_stopping(50)])\n"
              "proba = model.predict_proba(X_valid)[:, 1]"),
    ModelCard("CatBoost gradient boosting (ordered boosting, native categoricals)", "catboost",
              "tabular classification regression gradient boosting trees categorical features high cardinality "
              "robust defaults missing values kaggle",
              "from catboost import CatBoostClassifier\n"
              "model = CatBoostClassifier(iterations=1500, learning_rate=0.05, depth=6, verbose=0)\n"
              "model.fit(X_train, y_train, eval_set=(X_stop, y_stop), early_stopping_rounds=50)\n"
              "proba = model.predict_proba(X_valid)[:, 1]"),
    ModelCard("scikit-learn HistGradientBoosting", "hgb",
              "tabular classification regression gradient boosting histogram fast missing values categorical numeric",
              "from sklearn.ensemble import HistGradientBoostingRegressor\n"
              "model = HistGradientBoostingRegressor(max_iter=400, learning_rate=0.06)\n"
              "model.fit(X_train, y_train)\npred = model.predict(X_valid)"),
    ModelCard("Random forest", "random_forest",
              "tabular classification regression bagging trees robust numeric categorical",
              "from sklearn.ensemble import RandomForestClassifier\n"
              "model = RandomForestClassifier(n_estimators=400, min_samples_leaf=1, n_jobs=-1)\n"
              "model.fit(X_train, y_train)"),
    ModelCard("Extremely randomized trees", "extra_trees",
              "tabular classification regression bagging randomized trees numeric variance reduction",
              "from sklearn.ensemble import ExtraTreesRegressor\n"
              "model = ExtraTreesRegressor(n_estimators=400, min_samples_leaf=2, n_jobs=-1)\n"
              "model.fit(X_train, y_train)"),
    ModelCard("Regularised linear model (logistic / ridge) on one-hot features", "linear",
              "tabular classification regression linear logistic ridge one-hot scaled baseline sparse text",
              "from sklearn.linear_model import LogisticRegression\n"
              "model = LogisticRegression(C=1.0, max_iter=2000)\n"
              "model.fit(X_train_onehot_scaled, y_train)"),
    ModelCard("TF-IDF n-grams with logistic regression", "tfidf_linear",
              "text nlp reviews sentences documents words classification sentiment tf-idf bag of words linear",
              "from sklearn.feature_extraction.text import TfidfVectorizer\n"
              "from sklearn.linear_model import LogisticRegression\n"
              "vec = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)\n"
              "model = LogisticRegression(C=4.0, max_iter=2000).fit(vec.fit_transform(train_text), y)"),
    ModelCard("TF-IDF features with gradient boosted trees", "tfidf_xgboost",
              "text nlp reviews documents classification regression tf-idf boosting trees sparse",
              "from sklearn.feature_extraction.text import TfidfVectorizer\n"
              "from xgboost import XGBClassifier\n"
              "X = TfidfVectorizer(max_features=20000, sublinear_tf=True).fit_transform(text)\n"
              "model = XGBClassifier(n_estimators=400, learning_rate=0.1).fit(X, y)"),
    ModelCard("Logistic regression on pixel + HOG features", "linear",
              "image vision pixels thumbnails classification hog gradient orientation histograms edges logistic "
              "linear small images digits",
              "import numpy as np\nfrom PIL import Image\nfrom sklearn.linear_model import LogisticRegression\n"
              "grey = np.asarray(Image.open(path).convert('L').resize((16, 16)), dtype=np.float32) / 255\n"
              "gy, gx = np.gradient(grey)  # + orientation histograms of the gradients per cell (HOG)\n"
              "model = LogisticRegression(C=1.0, max_iter=3000).fit(X_pixels_hog, y)"),
    ModelCard("Gradient boosting (LightGBM) on log band energies", "lightgbm",
              "audio sound signal spectrogram wav clips classification log band energies stft frequency bands "
              "zero crossing rms gradient boosting",
              "import numpy as np\nfrom scipy.io import wavfile\nfrom lightgbm import LGBMClassifier\n"
              "rate, x = wavfile.read(path)\n"
              "power = np.abs(np.fft.rfft(frames * np.hanning(frame), axis=1)) ** 2  # per frame\n"
              "features = np.log(band_energies(power) + 1e-10).mean(axis=0)  # log-spaced bands\n"
              "model = LGBMClassifier(n_estimators=300, learning_rate=0.05).fit(X_bands, y)"),
    ModelCard("Linear SVM on TF-IDF character and word n-grams", "tfidf_svm",
              "text nlp classification sentiment support vector machine char n-grams calibrated",
              "from sklearn.svm import LinearSVC\nfrom sklearn.calibration import CalibratedClassifierCV\n"
              "model = CalibratedClassifierCV(LinearSVC(C=0.5)).fit(X_tfidf, y)"),
]


ITEM_MODALITIES = ("image", "audio")  # cards whose features are made for one kind of item


def card_modality(model_name: str) -> str | None:
    """The kind of item a catalogue card's features are made for ('image', 'audio'), else None
    (a card for any table, or not the catalogue's)."""
    card = next((c for c in CATALOGUE if c.model_name == model_name), None)
    first = card.tags.split()[0] if card else ""
    return first if first in ITEM_MODALITIES else None


def plain_card(family: str) -> dict | None:
    """The catalogue's card for a family that is made for no particular kind of item."""
    card = next((c for c in CATALOGUE if c.family == family and card_modality(c.model_name) is None), None)
    return card.to_dict() if card else None


def _terms(text: str) -> list[str]:
    return re.findall(r"[a-z][a-z0-9-]+", text.lower())


def weight_cards(weights: list[dict]) -> list[dict]:
    """Cards for the pretrained models cached in the workbench (they load offline), each with the
    line that loads it, so a retriever can rank them first."""
    cards = []
    for w in weights:
        if w["kind"] == "hf":
            code = (f"from transformers import AutoModel, AutoTokenizer  # cached: loads offline\n"
                    f"model = AutoModel.from_pretrained({w['name']!r})")
        elif w["kind"] == "torch_hub":
            code = f"import torch  # torch hub checkpoint, cached\nstate = torch.load({w['path']!r}, map_location='cpu')"
        else:
            code = f"from transformers import AutoModel  # a save_pretrained folder\nmodel = AutoModel.from_pretrained({w['path']!r})"
        cards.append({"model_name": f"Pretrained {w['name']} (cached weights, {w['kind']}, {w['size_mb']:g} MB)",
                      "family": "pretrained", "tags": "pretrained cached weights fine-tune", "example_code": code})
    return cards


def search_models(query: str, k: int = 8, weights: list[dict] | None = None) -> tuple[str, list[dict]]:
    """Model cards relevant to ``query``: ('tavily', results) or ('offline catalogue', cards);
    the cached pretrained ``weights`` (the workbench's) come first in the results."""
    if weights:
        backend, found = search_models(query, k)
        return backend + f" + {len(weights)} cached pretrained model(s) first", weight_cards(weights) + found
    if os.environ.get("TAVILY_API_KEY"):
        try:
            from tavily import TavilyClient

            hits = TavilyClient().search(query, max_results=k).get("results", [])
            return "tavily", [{"model_name": h.get("title", ""), "example_code": h.get("content", "")} for h in hits]
        except Exception:  # noqa: BLE001 - fall back to the catalogue when search fails
            pass
    return "offline catalogue (BM25)", [c.to_dict() for c in rank_catalogue(query, k)]


def rank_catalogue(query: str, k: int) -> list[ModelCard]:
    """Catalogue cards by BM25 relevance to the query (langchain-community's BM25 retriever)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # langchain-community announces its sunset
        from langchain_community.retrievers import BM25Retriever

    retriever = BM25Retriever.from_texts([f"{c.model_name} {c.tags}" for c in CATALOGUE],
                                         metadatas=[{"index": i} for i in range(len(CATALOGUE))],
                                         preprocess_func=_terms, k=k)
    return [CATALOGUE[d.metadata["index"]] for d in retriever.invoke(query)]
