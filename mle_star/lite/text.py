"""Mimics of the MLE-bench Lite text competitions (authors of horror excerpts, spoken forms of English and
Russian tokens, toxic Wikipedia comments, insults in news comments) in each competition's real public
layout, with generated text whose words carry the signal a plain bag-of-words or lookup model finds."""

from __future__ import annotations

import csv
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from mle_star.examples.common import _hex_ids, _split, _write_zip
from mle_star.lite.common import Grading, mimic


def _pick(rng: np.random.Generator, words: list[str]) -> str:
    return words[int(rng.integers(len(words)))]


# ---------------------------------------------------------------- spooky-author-identification

_AUTHORS = ["EAP", "HPL", "MWS"]
_FUNCTION = ("the of and to a in that it was i he his with as had which my for but not be at by this on me "
             "from is so all were her we upon one or an there been have their when then they would could "
             "some no more very only into than now even yet these what who").split()
# each author's favourite content words: overlapping themes, distinct choices
_VOCAB = {
    "EAP": ("chamber raven melancholy tomb heart pendulum pit mask crimson cask velvet lamp shadow vault "
            "lady ebony casement phantasm sepulchre reason terror bosom tapestry ratiocination arabesque "
            "mesmeric premature burial lunatic wine nevermore portrait oval purloined letter cipher "
            "intellect analysis singular peculiar thus indeed however certainly").split(),
    "HPL": ("eldritch cyclopean abyss ichor nameless blasphemous antediluvian gibbous fungous squamous "
            "tentacle cult elder madness whippoorwill arkham innsmouth stars daemoniac hideous unhallowed "
            "amorphous primal aeons sunken city monolith frieze carven hills decadent foetid noisome "
            "geometry angles dreams gulfs outer things sea ancient").split(),
    "MWS": ("creature father beloved misery affection countenance tears geneva elizabeth despair nature "
            "benevolent wretch compassion mountains sorrow tranquil happiness friend love hope grief "
            "perdita raymond adrian england plague soul gentle cottage virtue sympathy delight heaven "
            "youth mother sister joy feelings endeavoured").split(),
}
_MARKS = {"EAP": [".", ".", ";", "?"], "HPL": [".", ".", "."], "MWS": [".", ".", "!"]}


def _excerpt(rng: np.random.Generator, author: str) -> str:
    """A sentence of function words and content words, most of them the author's own."""
    length = int(rng.integers(6, 34 if author == "HPL" else 26))
    words = []
    for _ in range(length):
        if rng.random() < 0.55:
            words.append(_pick(rng, _FUNCTION))
        else:  # a content word: the author's own most of the time, anyone's otherwise
            pool = _VOCAB[author] if rng.random() < 0.6 else _VOCAB[_pick(rng, _AUTHORS)]
            words.append(_pick(rng, pool))
    if length > 12 and rng.random() < 0.5:  # a mid-sentence comma, as in the excerpts
        words[length // 2] += ","
    return " ".join(words).capitalize() + _pick(rng, _MARKS[author])


@mimic("spooky-author-identification",
       "train.csv id,text,author (EAP/HPL/MWS); test.csv id,text; sample_submission.csv id,EAP,HPL,MWS "
       "(fixed priors); ids like id12345; multi-class log loss")
def spooky(task_dir: Path, rng: np.random.Generator) -> Grading:
    """The real task: sentences from horror stories by Poe (EAP), Lovecraft (HPL) and Mary Shelley (MWS);
    predict each test sentence's author as three probabilities (multi-class log loss). prepare.py holds
    out 10% of the labelled train.csv (shuffled by train_test_split); the sample repeats fixed priors."""
    public, n = task_dir / "public", 900
    authors = rng.choice(_AUTHORS, n, p=[0.40, 0.29, 0.31])  # the real shares
    frame = pd.DataFrame({
        "id": [f"id{v:05d}" for v in rng.choice(100_000, n, replace=False)],
        "text": [_excerpt(rng, str(a)) for a in authors],
        "author": authors,
    })
    train, test = _split(n, rng, 0.1)
    train_rows, test_rows = (frame.iloc[rng.permutation(rows)].reset_index(drop=True) for rows in (train, test))
    train_rows.to_csv(public / "train.csv", index=False)
    test_rows.drop(columns="author").to_csv(public / "test.csv", index=False)
    sample = test_rows[["id"]].assign(EAP=0.403493538995863, HPL=0.287808366106543, MWS=0.308698094897594)
    sample.to_csv(public / "sample_submission.csv", index=False)
    test_rows[["id", "author"]].rename(columns={"author": "label"}).to_csv(task_dir / "private" / "answers.csv",
                                                                            index=False)
    first = test_rows["id"].iloc[0]
    (public / "description.md").write_text(f"""# Spooky Author Identification

## Description

A Halloween practice competition: a pile of sentences was taken from horror stories by three writers,
Edgar Allan Poe (`EAP`), H. P. Lovecraft (`HPL`) and Mary Wollstonecraft Shelley (`MWS`). Tell, for each
sentence of the test set, which of the three wrote it.

## Evaluation

Submissions are scored with the multi-class logarithmic loss: the mean over the test sentences of minus
the log of the probability given to the true author. Each row's probabilities are rescaled to sum to one
and clipped to [1e-15, 1 - 1e-15] before scoring; lower is better.

### Submission File

One row per test `id`, with a probability for each author, and a header:

```
id,EAP,HPL,MWS
{first},0.33,0.33,0.34
...
```

# Data

- **train.csv** - {len(train_rows)} sentences: `id`, `text` and the `author` (EAP, HPL or MWS)
- **test.csv** - {len(test_rows)} sentences: `id` and `text`
- **sample_submission.csv** - a sample submission file in the correct format
""")
    return Grading("multi_logloss", False, "class_probabilities", "id", _AUTHORS, ["label"], shape="text")


# ---------------------------------------------------------------- text-normalization (English, Russian)

_ONES = "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen " \
        "seventeen eighteen nineteen".split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()


def _en_number(k: int) -> str:
    """0-9999 as spoken in the English data: no "and", no hyphens ("one hundred twenty three")."""
    if k < 20:
        return _ONES[k]
    if k < 100:
        return _TENS[k // 10] + ("" if k % 10 == 0 else " " + _ONES[k % 10])
    if k < 1000:
        return _ONES[k // 100] + " hundred" + ("" if k % 100 == 0 else " " + _en_number(k % 100))
    return _en_number(k // 1000) + " thousand" + ("" if k % 1000 == 0 else " " + _en_number(k % 1000))


def _en_year(y: int) -> str:
    """A year as read aloud: 1998 "nineteen ninety eight", 2005 "two thousand five", 1900 "nineteen hundred"."""
    if 2000 <= y < 2010:
        return _en_number(y)
    head, tail = divmod(y, 100)
    return _en_number(head) + (" hundred" if tail == 0 else (" o " + _ONES[tail] if tail < 10 else " " + _en_number(tail)))


_EN_WORDS = ("the a of and in to was is it his her that for on with as by at from this be he she they are had "
             "were an which its their city river album film team season school game was played born known "
             "station church village party war first after during second state county song band also one "
             "new north south game league world record club released population published").split()
_EN_LETTERS = ["BBC", "USA", "NHL", "FBI", "UK", "NBA", "CD", "DVD", "TV", "EU", "UN", "MTV"]
_EN_UNITS = {"km": "kilometers", "kg": "kilograms", "ft": "feet", "mi": "miles", "cm": "centimeters", "lb": "pounds"}
_EN_VERBATIM = {"&": "and", "#": "number", "%": "percent", "α": "alpha", "β": "beta"}
_EN_ORDINAL = {"one": "first", "two": "second", "three": "third", "five": "fifth", "eight": "eighth", "nine": "ninth",
               "twelve": "twelfth"}


def _en_suffix(k: int) -> str:
    return "th" if 10 < k % 100 < 14 else {1: "st", 2: "nd", 3: "rd"}.get(k % 10, "th")


def _en_ordinal(k: int) -> str:
    """3 "third", 21 "twenty first", 30 "thirtieth": the last word of the cardinal turned ordinal."""
    *head, last = _en_number(k).split()
    last = _EN_ORDINAL.get(last, last[:-1] + "ieth" if last.endswith("y") else last + "th")
    return " ".join([*head, last])


def _en_token(rng: np.random.Generator) -> tuple[str, str, str]:
    """One (class, before, after), drawn with shares like the real data's (most tokens stay as they are)."""
    r = rng.random()
    if r < 0.62:
        word = _pick(rng, _EN_WORDS)
        word = word.capitalize() if rng.random() < 0.1 else word
        return "PLAIN", word, word
    if r < 0.72:
        k = int(rng.integers(0, 21)) if rng.random() < 0.6 else int(rng.integers(21, 1000))  # small ones are common
        return "CARDINAL", str(k), _en_number(k)
    if r < 0.80:
        y = int(rng.integers(1900, 2017))
        return "DATE", str(y), _en_year(y)
    if r < 0.86:
        letters = _pick(rng, _EN_LETTERS)
        return "LETTERS", letters, " ".join(letters.lower())
    if r < 0.91:
        k, unit = int(rng.integers(1, 100)), _pick(rng, list(_EN_UNITS))
        return "MEASURE", f"{k} {unit}", f"{_en_number(k)} {_EN_UNITS[unit]}"
    if r < 0.95:
        k = int(rng.integers(1, 100))
        return "MONEY", f"${k}", f"{_en_number(k)} dollar{'s' if k > 1 else ''}"
    if r < 0.98:
        k = int(rng.integers(1, 32))
        return "ORDINAL", f"{k}{_en_suffix(k)}", _en_ordinal(k)
    sign = _pick(rng, list(_EN_VERBATIM))
    return "VERBATIM", sign, _EN_VERBATIM[sign]


_RU_ONES = ("ноль один два три четыре пять шесть семь восемь девять десять одиннадцать двенадцать тринадцать "
            "четырнадцать пятнадцать шестнадцать семнадцать восемнадцать девятнадцать").split()
_RU_TENS = "_ _ двадцать тридцать сорок пятьдесят шестьдесят семьдесят восемьдесят девяносто".split()
_RU_HUNDREDS = "_ сто двести триста четыреста пятьсот шестьсот семьсот восемьсот девятьсот".split()


def _ru_number(k: int) -> str:
    """0-999 in the nominative: 342 "триста сорок два"."""
    if k < 20:
        return _RU_ONES[k]
    words = [_RU_HUNDREDS[k // 100]] if k >= 100 else []
    rest = k % 100
    if rest >= 20:
        words.append(_RU_TENS[rest // 10])
        rest %= 10
    if rest or not words:
        words.append(_RU_ONES[rest])
    return " ".join(words)


def _ru_plural(k: int, one: str, few: str, many: str) -> str:
    """The noun form a Russian number takes: 1 километр, 3 километра, 5 километров, 11 километров."""
    if k % 10 == 1 and k % 100 != 11:
        return one
    return few if 2 <= k % 10 <= 4 and not 12 <= k % 100 <= 14 else many


# Latin letters read out in Cyrillic, digraphs first (the real data spells each sound "х_trans")
_TRANS = [("sh", "ш"), ("ch", "ч"), ("zh", "ж"), ("kh", "х"), ("ts", "ц"), ("ya", "я"), ("yu", "ю"), ("oo", "у"),
          ("ee", "и"), ("a", "а"), ("b", "б"), ("c", "к"), ("d", "д"), ("e", "е"), ("f", "ф"), ("g", "г"), ("h", "х"),
          ("i", "и"), ("j", "дж"), ("k", "к"), ("l", "л"), ("m", "м"), ("n", "н"), ("o", "о"), ("p", "п"), ("q", "к"),
          ("r", "р"), ("s", "с"), ("t", "т"), ("u", "у"), ("v", "в"), ("w", "у"), ("x", "кс"), ("y", "и"), ("z", "з")]


def _transliterated(word: str) -> str:
    out, rest = [], word.lower()
    while rest:
        latin, cyrillic = next((a, b) for a, b in _TRANS if rest.startswith(a))
        out.append(cyrillic + "_trans")
        rest = rest[len(latin):]
    return " ".join(out)


_RU_WORDS = ("в и на с по что не он она был была года году это как из для также к от его её после время город "
             "село район является реки области страны были который которые его их при до под фильм альбом "
             "команда сезон школа впервые население улица история центр вместе").split()
_RU_LETTERS = ["США", "СССР", "РФ", "ФК", "МВД", "ООН", "ЕС", "НХЛ"]
_RU_UNITS = {"км": ("километр", "километра", "километров"), "кг": ("килограмм", "килограмма", "килограммов"),
             "м": ("метр", "метра", "метров")}
_LATIN_BITS = ["ba", "ro", "ki", "sha", "ten", "mo", "li", "ver", "da", "ne", "chu", "gor", "win", "pa", "zel"]


def _ru_token(rng: np.random.Generator) -> tuple[str, str, str]:
    """One (class, before, after): Cyrillic words stay, numbers are spoken, Latin names are transliterated."""
    r = rng.random()
    if r < 0.66:
        word = _pick(rng, _RU_WORDS)
        word = word.capitalize() if rng.random() < 0.1 else word
        return "PLAIN", word, word
    if r < 0.78:
        k = int(rng.integers(0, 21)) if rng.random() < 0.6 else int(rng.integers(21, 1000))
        return "CARDINAL", str(k), _ru_number(k)
    if r < 0.85:
        letters = _pick(rng, _RU_LETTERS)
        return "LETTERS", letters, " ".join(letters.lower())
    if r < 0.91:
        k, unit = int(rng.integers(1, 100)), _pick(rng, list(_RU_UNITS))
        return "MEASURE", f"{k} {unit}", f"{_ru_number(k)} {_ru_plural(k, *_RU_UNITS[unit])}"
    # a Latin-script name made of a few syllables: many are new in the test set, the letters are not
    name = "".join(_pick(rng, _LATIN_BITS) for _ in range(int(rng.integers(2, 4)))).capitalize()
    return "PLAIN", name, _transliterated(name)


def _normalization(task_dir: Path, rng: np.random.Generator, lang: str, language: str,
                   token: Callable[[np.random.Generator], tuple[str, str, str]]) -> Grading:
    """Sentences of tokens split 90/10 by sentence as prepare.py does; both parts renumbered from 0."""
    public, n_sentences = task_dir / "public", 500
    rows = []
    for s in range(n_sentences):
        tokens = [token(rng) for _ in range(int(rng.integers(4, 14)))]
        if len(tokens) > 6 and rng.random() < 0.5:
            tokens.insert(len(tokens) // 2, ("PUNCT", ",", ","))
        tokens.append(("PUNCT", ".", "."))
        rows += [(s, t, *tok) for t, tok in enumerate(tokens)]
    frame = pd.DataFrame(rows, columns=["sentence_id", "token_id", "class", "before", "after"])
    train_ids, test_ids = _split(n_sentences, rng, 0.1)
    train = frame[frame["sentence_id"].isin(train_ids)].copy()
    test = frame[frame["sentence_id"].isin(test_ids)].copy()
    for part in (train, test):  # renumbered in order of first appearance
        part["sentence_id"] = part["sentence_id"].map({old: new for new, old in enumerate(part["sentence_id"].unique())})
    ids = test["sentence_id"].astype(str) + "_" + test["token_id"].astype(str)
    answers = pd.DataFrame({"id": ids, "after": test["after"]})
    sample = pd.DataFrame({"id": ids, "after": test["before"]})  # the sample copies each token as written

    def quoted(table: pd.DataFrame) -> bytes:  # prepare.py quotes every string field
        return table.to_csv(index=False, quoting=csv.QUOTE_NONNUMERIC).encode()

    train_name, test_name, sample_name = f"{lang}_train.csv", f"{lang}_test_2.csv", f"{lang}_sample_submission_2.csv"
    for name, table in ((train_name, train), (test_name, test.drop(columns=["class", "after"])), (sample_name, sample)):
        _write_zip(public / f"{name}.zip", {name: quoted(table)}, zipfile.ZIP_STORED)  # zipf.write stores
    answers.to_csv(task_dir / "private" / "answers.csv", index=False, quoting=csv.QUOTE_NONNUMERIC)
    (public / "description.md").write_text(f"""# Text Normalization Challenge - {language} Language

## Description

Speech systems must turn written text into the words a reader would say: a number, a year, a measure,
an abbreviation or a foreign name each has a spoken form. Given {language} sentences split into tokens,
write each token in its normalized, spoken form. Most tokens are left as they are.

## Evaluation

Submissions are scored on accuracy: the share of test tokens whose predicted `after` string matches the
true one exactly (one wrong word in a token makes the whole token wrong).

### Submission File

One row per token `id` in the test set, where the id joins `sentence_id` and `token_id` with an
underscore, and a header:

```
id,after
0_0,"{sample['after'].iloc[0]}"
0_1,"{sample['after'].iloc[1]}"
...
```

# Data

Each sentence has a `sentence_id` and each token in it a `token_id`; `before` is the written token and
`after` its normalized form. The training set also gives each token's `class` (PLAIN, PUNCT, CARDINAL,
...), which the test set leaves out.

- **{train_name}.zip** - {len(train)} training tokens: `sentence_id`, `token_id`, `class`, `before`, `after`
- **{test_name}.zip** - {len(test)} test tokens: `sentence_id`, `token_id`, `before`
- **{sample_name}.zip** - a sample submission in the correct format (each token copied unchanged)
""")
    return Grading("accuracy", True, "label", "id", ["after"], ["after"], shape="token rows",
                   sample=f"{sample_name}.zip")


@mimic("text-normalization-challenge-english-language",
       "en_train.csv.zip sentence_id,token_id,class,before,after; en_test_2.csv.zip sentence_id,token_id,before; "
       "en_sample_submission_2.csv.zip id=<sentence>_<token>,after=before; all strings quoted; accuracy")
def text_normalization_english(task_dir: Path, rng: np.random.Generator) -> Grading:
    """The real task: Google's English text-normalization corpus, one row per token; predict each test
    token's spoken form ``after`` (accuracy). Tokens: words (unchanged), punctuation, cardinals, years,
    letter abbreviations, measures, money, ordinals, signs."""
    return _normalization(task_dir, rng, "en", "English", _en_token)


@mimic("text-normalization-challenge-russian-language",
       "ru_train.csv.zip sentence_id,token_id,class,before,after; ru_test_2.csv.zip sentence_id,token_id,before; "
       "ru_sample_submission_2.csv.zip id=<sentence>_<token>,after=before; Cyrillic, Latin names as x_trans; accuracy")
def text_normalization_russian(task_dir: Path, rng: np.random.Generator) -> Grading:
    """The real task: the Russian corpus of the same challenge; predict each test token's spoken form
    (accuracy). Cyrillic words stay, numbers are spoken (with the noun agreeing in measures), letter
    abbreviations are spelled, and Latin-script names are read letter by letter as ``б_trans а_trans``."""
    return _normalization(task_dir, rng, "ru", "Russian", _ru_token)


# ---------------------------------------------------------------- jigsaw-toxic-comment-classification-challenge

_TOXIC_LABELS = ["toxic", "severe_toxic", "obscene", "threat", "insult", "identity_hate"]
_TALK = ("article page edit source citation please thanks added removed section wikipedia talk discussion "
         "consensus policy reference link image reverted vandalism template category sentence paragraph "
         "notable agree think sources review deletion neutral point view user welcome request information "
         "history version change fixed copyright the a of to and is in it that this for you i was on be "
         "not have are as with").split()
# words the raters' labels lean on (mild stand-ins for the real corpus's vocabulary)
_CUES = {
    "toxic": "shut up garbage nonsense ridiculous get lost pathetic".split(),
    "obscene": "crap damn hell bloody freaking sucks screw".split(),
    "insult": "idiot moron stupid loser clown fool dumb".split(),
    "threat": "kill hurt destroy regret punch hunt".split(),
    "identity_hate": "inferior vermin subhuman filthy savages".split(),
}


def _comment(rng: np.random.Generator, labels: dict[str, int]) -> str:
    """A talk-page comment; each label it carries adds a few of its cue words (not always: raters differ)."""
    words = [_pick(rng, _TALK) for _ in range(int(rng.integers(8, 40)))]
    for label, cues in _CUES.items():
        if labels[label] or (label == "toxic" and labels["severe_toxic"]):
            for _ in range(int(rng.integers(1, 3)) + 2 * labels["severe_toxic"]):
                words.insert(int(rng.integers(len(words) + 1)), _pick(rng, cues))
        elif rng.random() < 0.04:  # a cue word in a harmless comment ("a stupid question")
            words.insert(int(rng.integers(len(words) + 1)), _pick(rng, cues))
    text = " ".join(words)
    if labels["severe_toxic"]:
        text = text.upper() + " !!!"
    if rng.random() < 0.3:  # many real comments run over several lines
        cut = text.find(" ", len(text) // 2)
        text = text[:cut] + "\n\n" + text[cut + 1:] if cut > 0 else text
    return text[0].upper() + text[1:]


@mimic("jigsaw-toxic-comment-classification-challenge",
       "train.csv id,comment_text,toxic,severe_toxic,obscene,threat,insult,identity_hate (0/1; multi-line "
       "quoted text); test.csv id,comment_text; sample_submission.csv id + six columns of 0.5; 16-hex ids; "
       "mean column-wise AUC")
def jigsaw_toxic(task_dir: Path, rng: np.random.Generator) -> Grading:
    """The real task: Wikipedia talk-page comments rated for six overlapping kinds of toxicity; predict
    a probability for each of the six labels (mean of the six ROC AUCs). The competition ships its own
    test set, so prepare.py copies train.csv, test.csv and the sample (all 0.5); the labels nest (the
    other five come mostly with ``toxic``) and threat and identity_hate are rare."""
    public, n_train, n_test = task_dir / "public", 600, 200
    n = n_train + n_test
    toxic = rng.random(n) < 0.3
    labels = pd.DataFrame({"toxic": toxic.astype(int)})
    for label, share in (("severe_toxic", 0.15), ("obscene", 0.5), ("threat", 0.12), ("insult", 0.5),
                         ("identity_hate", 0.12)):
        labels[label] = (toxic & (rng.random(n) < share)).astype(int)
    # a few of each rare label in the test part, so that every column has an AUC
    for label in _TOXIC_LABELS[1:]:
        short = 4 - int(labels[label].iloc[n_train:].sum())
        if short > 0:
            rows = n_train + rng.choice(n_test, short, replace=False)
            labels.loc[rows, [label, "toxic"]] = 1
    labels = labels[_TOXIC_LABELS]
    frame = pd.DataFrame({"id": _hex_ids(n, rng, 16),
                          "comment_text": [_comment(rng, row) for row in labels.to_dict("records")]})
    frame = pd.concat([frame, labels], axis=1)
    train, test = frame.iloc[:n_train], frame.iloc[n_train:]
    train.to_csv(public / "train.csv", index=False)
    test[["id", "comment_text"]].to_csv(public / "test.csv", index=False)
    test[["id"]].assign(**{label: 0.5 for label in _TOXIC_LABELS}).to_csv(public / "sample_submission.csv",
                                                                           index=False)
    test[["id", *_TOXIC_LABELS]].to_csv(task_dir / "private" / "answers.csv", index=False)
    (public / "description.md").write_text(f"""# Toxic Comment Classification Challenge

## Description

Comments on Wikipedia's talk pages were rated by people for abusive behaviour. Build a model that tells,
for each comment, how likely it is to be each of six kinds of toxicity: `toxic`, `severe_toxic`,
`obscene`, `threat`, `insult` and `identity_hate`. A comment can be several kinds at once.

## Evaluation

Submissions are scored on the mean column-wise ROC AUC: the area under the ROC curve of each of the
six predicted columns, averaged.

### Submission File

One row per test `id`, with a probability for each of the six kinds, in this order, and a header:

```
id,toxic,severe_toxic,obscene,threat,insult,identity_hate
{test['id'].iloc[0]},0.5,0.5,0.5,0.5,0.5,0.5
{test['id'].iloc[1]},0.5,0.5,0.5,0.5,0.5,0.5
etc.
```

# Data

- **train.csv** - {n_train} comments: `id`, `comment_text` and the six binary labels
- **test.csv** - {n_test} comments: `id` and `comment_text`; predict the six probabilities for these
- **sample_submission.csv** - a sample submission file in the correct format

The comment text may span several lines.
""")
    return Grading("mean_column_auc", True, "multilabel", "id", _TOXIC_LABELS, _TOXIC_LABELS, shape="text")


# ---------------------------------------------------------------- detecting-insults-in-social-commentary

_CHAT = ("the and to of a is that it in for this not on with are have be they just what if like but so all "
         "was about people more can one would think get time there game team vote government money year "
         "right good news article obama party season players really point city way thing").split()
_NAMES = ["you", "you", "your", "u", "ur", "you're"]
_OTHERS = ["he", "she", "the mayor", "that senator", "the coach", "they"]
_SLIGHTS = "idiot moron stupid loser dumb ignorant troll clown pathetic clueless fool liar".split()


def _news_comment(rng: np.random.Generator, insult: bool) -> str:
    """A forum comment as the real data holds it: wrapped in double quotes, with escapes like \\n and \\xa0.
    An insult is a slight aimed at another commenter; the same slight aimed at a public figure, or
    "you" without one, is not (the competition's rule)."""
    words = [_pick(rng, _CHAT) for _ in range(int(rng.integers(4, 30)))]
    if rng.random() < 0.4:  # most comments address someone
        words.insert(int(rng.integers(len(words) + 1)), _pick(rng, _NAMES))
    if insult:
        at = int(rng.integers(len(words) + 1))
        words[at:at] = [_pick(rng, _NAMES), _pick(rng, ["are a", "are such a", "", "stupid", "r a"]), _pick(rng, _SLIGHTS)]
    elif rng.random() < 0.12:  # a slight about someone outside the conversation
        at = int(rng.integers(len(words) + 1))
        words[at:at] = [_pick(rng, _OTHERS), "is a", _pick(rng, _SLIGHTS)]
    text = " ".join(w for w in words if w)
    for escape in ("\\n", "\\xa0"):
        if rng.random() < 0.15:
            cut = text.find(" ", int(rng.integers(len(text))))
            text = text[:cut] + escape + text[cut + 1:] if cut > 0 else text
    return f'"{text[0].upper() + text[1:]}"'


def _timestamps(rng: np.random.Generator, n: int) -> list[str]:
    """"YYYYMMDDhhmmssZ" in 2012, blank for about a fifth of the comments (no accurate time known)."""
    seconds = rng.integers(0, 250 * 86400, n)
    stamps = pd.Timestamp("2012-03-01") + pd.to_timedelta(seconds, unit="s")
    return ["" if rng.random() < 0.2 else t.strftime("%Y%m%d%H%M%SZ") for t in stamps]


@mimic("detecting-insults-in-social-commentary",
       "train.csv Insult,Date,Comment (Date YYYYMMDDhhmmssZ or blank; Comment quoted, escaped); test.csv "
       "Date,Comment; sample_submission_null.csv Insult=0,Date,Comment; no id column (graded by row); AUC")
def detecting_insults(task_dir: Path, rng: np.random.Generator) -> Grading:
    """The real task: comments from news and forum conversations; predict the probability that a comment
    insults another participant (ROC AUC). There is no id column: prepare.py copies train.csv, strips
    the labels from the solved test set for test.csv, and the sample repeats the test rows with Insult=0."""
    public, n_train, n_test = task_dir / "public", 600, 200
    n = n_train + n_test
    insult = (rng.random(n) < 0.27).astype(int)  # about the real share
    comments: list[str] = []
    for flag in insult:
        text = _news_comment(rng, bool(flag))
        while text in comments:  # prepare.py checks that no test comment is also in train
            text = _news_comment(rng, bool(flag))
        comments.append(text)
    frame = pd.DataFrame({"Insult": insult, "Date": _timestamps(rng, n), "Comment": comments})
    train, test = frame.iloc[:n_train], frame.iloc[n_train:].reset_index(drop=True)
    train.to_csv(public / "train.csv", index=False)
    test[["Date", "Comment"]].to_csv(public / "test.csv", index=False)
    test.assign(Insult=0).to_csv(public / "sample_submission_null.csv", index=False)
    # graded by row: the answers carry their own row number as the id
    pd.DataFrame({"row": range(n_test), "Insult": test["Insult"]}).to_csv(task_dir / "private" / "answers.csv",
                                                                           index=False)
    (public / "description.md").write_text(f"""# Detecting Insults in Social Commentary

## Description

Tell when a comment in an online conversation (news comments, forums, blogs) insults another person
taking part in it. Insults aimed at people outside the conversation (public figures, celebrities) do
not count, and rude words alone do not make an insult.

## Evaluation

Predict a number in [0, 1] per comment, the probability that it is an insult, in the first column of
the submission. Submissions are scored on the area under the ROC curve (AUC).

### Submission File

The submission has the columns of `sample_submission_null.csv`, one row per test comment, in the order
of `test.csv`:

```
Insult,Date,Comment
0.82,{test['Date'].iloc[0]},{test['Comment'].iloc[0][:40]}..."
...
```

# Data

The label `Insult` is 1 for an insulting comment and 0 for a neutral one. `Date` is when the comment
was made, as YYYYMMDDhhmmss followed by Z (local time, 24-hour clock), and blank when unknown.
`Comment` is the comment's unicode-escaped text, surrounded by double quotes.

- **train.csv** - {n_train} comments: `Insult`, `Date`, `Comment`
- **test.csv** - {n_test} comments: `Date`, `Comment`
- **sample_submission_null.csv** - the test comments with `Insult` = 0, in the submission's format
""")
    return Grading("auc", True, "probability", "row", ["Insult"], ["Insult"], shape="text",
                   sample="sample_submission_null.csv", positional=True)
