"""
Classifying verses with word embeddings
=======================================

Classify a verse as Psalms or Proverbs with word embeddings and an LSTM.

The text is the King James Version of both books, public domain, shipped with the package
(``tsforecast.datasets.load_kjv``; extracted from Debian's ``bible-kjv-text``). Whole chapters
are held out (20% of them, drawn at random), so that no test verse has a neighbour from its own
chapter in training. The pipeline is ``TextTokenizer`` (word ids learned on the training
verses only) and an ``LSTMClassifier`` with an embedding layer reading the ragged verses
packed. It is printed next to the majority class and a bag-of-words logistic regression, a
strong baseline for short texts.

One torch thread, seeded (``examples/_settings.py``). In the documentation build
(``TSFORECAST_DOCS_FAST=1``) the LSTMs train for at most 2 epochs, so the figures printed on
this page are not those of the full run.

Run:  python examples/text_classification.py [--max-epochs N] [--save-results]
"""

from __future__ import annotations

import time

import numpy as np
from _settings import arguments, save, setup
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import GroupShuffleSplit
from sklearn.pipeline import make_pipeline

from tsforecast import LSTMClassifier
from tsforecast.datasets import load_kjv
from tsforecast.preprocessing import TextTokenizer


def main() -> None:
    setup()
    parser = arguments(__doc__, max_epochs=30, saves=True)
    args = parser.parse_args()

    verses = load_kjv()
    chapters = verses["book"] + " " + verses["chapter"].astype(str)
    train, test = next(
        GroupShuffleSplit(n_splits=1, test_size=0.2, random_state=0).split(verses, groups=chapters)
    )
    # Shuffled: the estimator validates on the last rows it is given, and the verses come
    # book by book (this is not a time series).
    train = np.random.default_rng(0).permutation(train)
    X_train, X_test = verses["text"].iloc[train], verses["text"].iloc[test]
    y_train, y_test = verses["book"].iloc[train], verses["book"].iloc[test]

    model = make_pipeline(
        TextTokenizer(max_tokens=5000),
        LSTMClassifier(
            embedding_dim=32,
            units=32,
            dropout=0.3,
            learning_rate=3e-3,
            max_epochs=args.max_epochs,
            patience=5,
            random_state=0,
        ),
    )
    start = time.perf_counter()
    model.fit(X_train, y_train)
    seconds = time.perf_counter() - start
    bag_of_words = make_pipeline(CountVectorizer(), LogisticRegression(max_iter=2000))
    bag_of_words.fit(X_train, y_train)

    majority = y_train.value_counts().idxmax()
    rows = [
        (f"majority class ({majority})", np.full(len(y_test), majority)),
        ("bag of words + logistic reg.", bag_of_words.predict(X_test)),
        ("word embedding + LSTM", model.predict(X_test)),
    ]
    print(
        f"KJV verses: {len(train)} training, {len(test)} test "
        f"({chapters.iloc[test].nunique()} held-out chapters)"
    )
    print(f"{'model':<34}{'accuracy':>10}{'balanced':>10}")
    scores = {}
    for name, y_pred in rows:
        accuracy = float(np.mean(y_pred == y_test.to_numpy()))
        balanced = float(balanced_accuracy_score(y_test, y_pred))
        scores[name] = {"accuracy": accuracy, "balanced": balanced}
        print(f"{name:<34}{accuracy:>10.4f}{balanced:>10.4f}")
    print(
        f"LSTM: vocabulary {model[0].vocab_size_} ids, {model[-1].n_iter_} epochs "
        f"in {seconds:.0f} s"
    )
    print("two sentences in the style of each book, not in the data:")
    for text in [
        "A diligent son gathereth in summer, but the sluggard sleepeth in the harvest.",
        "Sing unto the LORD with the harp, O ye his saints, and bless his holy name.",
    ]:
        print(f"  {model.predict([text])[0]:<9} <- {text!r}")
    if args.save_results:
        save(
            "text_classification",
            {
                "train_verses": len(train),
                "test_verses": len(test),
                "test_chapters": int(chapters.iloc[test].nunique()),
                "scores": scores,
                "vocabulary": int(model[0].vocab_size_),
                "epochs": model[-1].n_iter_,
                "fit_seconds": seconds,
            },
        )


# %%
# Run it: fit, score and print.
if __name__ == "__main__":
    main()
