"""
Generating text character by character
======================================

Generate text character by character with an LSTM trained on the Book of Proverbs.

The text is the King James Version of Proverbs, public domain, shipped with the package
(``tsforecast.datasets.load_kjv``; extracted from Debian's ``bible-kjv-text``). Chapters 1-27
train, chapters 28-31 are held out. The model is an ``LSTMClassifier`` with a character
embedding: it reads the last 40 characters and predicts the next one. Its hold-out
cross-entropy (bits per character) is printed next to two baselines fitted on the same
training text: character frequencies (unigram) and a next-character table given the previous
character (bigram). Generation samples each character from the predicted distribution
sharpened by a temperature; the same ``--seed`` gives the same text.

One torch thread, seeded (``examples/_settings.py``). In the documentation build
(``TSFORECAST_DOCS_FAST=1``) the LSTM trains for at most 2 epochs on chapters 1-5 and writes
100 characters, so the figures printed on this page are not those of the full run (8 epochs:
13 minutes in the saved run, on one thread of a shared 2-core machine under a load average
of about 6; about 55 s an epoch on a lightly loaded one).

Run:  python examples/text_generation.py [--max-epochs N] [--seed S] [--length N] [--save-results]
"""

from __future__ import annotations

import time

import numpy as np
from _settings import arguments, fast, save, setup
from numpy.lib.stride_tricks import sliding_window_view

from tsforecast import LSTMClassifier
from tsforecast.datasets import load_kjv
from tsforecast.preprocessing import TextTokenizer

CONTEXT = 40


def bits_per_char(proba: np.ndarray) -> float:
    """Mean cross-entropy in bits of the probabilities given to the true characters."""
    return float(-np.mean(np.log2(np.maximum(proba, 1e-12))))


def ngram_bits(train: np.ndarray, test: np.ndarray, vocab_size: int, order: int) -> float:
    """Bits per character of an add-one-smoothed unigram (order 1) or bigram (order 2) on the
    characters the LSTM predicts: ``test[CONTEXT:]``."""
    targets = test[CONTEXT:]
    if order == 1:
        counts = np.bincount(train, minlength=vocab_size) + 1.0
        return bits_per_char(counts[targets] / counts.sum())
    counts = np.ones((vocab_size, vocab_size))
    np.add.at(counts, (train[:-1], train[1:]), 1.0)
    table = counts / counts.sum(axis=1, keepdims=True)
    return bits_per_char(table[test[CONTEXT - 1 : -1], targets])


def generate(
    model: LSTMClassifier,
    tokenizer: TextTokenizer,
    prompt: np.ndarray,
    length: int,
    temperature: float,
    rng: np.random.Generator,
) -> str:
    """Extend ``prompt`` (ids) by ``length`` sampled characters; return the new text."""
    ids = list(prompt)
    for _ in range(length):
        proba = model.predict_proba(np.asarray([ids[-CONTEXT:]]))[0]
        # p ** (1 / temperature), renormalised: below 1 sharper, above 1 flatter.
        logits = np.log(np.maximum(proba, 1e-12)) / temperature
        weights = np.exp(logits - logits.max())
        ids.append(int(rng.choice(model.classes_, p=weights / weights.sum())))
    return "".join(tokenizer.inverse_transform([ids[len(prompt) :]])[0])


def main() -> None:
    setup()
    parser = arguments(__doc__, max_epochs=8, saves=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--length", type=int, default=fast(300, 100))
    args = parser.parse_args()

    proverbs = load_kjv().query("book == 'Proverbs'")
    last_chapter = fast(27, 5)  # the docs build trains on chapters 1-5 only
    train_text = "\n".join(proverbs.query(f"chapter <= {last_chapter}")["text"])
    test_text = "\n".join(proverbs.query("chapter > 27")["text"])
    tokenizer = TextTokenizer(analyzer="char", lowercase=False).fit([train_text])
    train_ids = tokenizer.transform([train_text])[0]
    test_ids = tokenizer.transform([test_text])[0]

    X_train = sliding_window_view(train_ids[:-1], CONTEXT)
    y_train = train_ids[CONTEXT:]
    X_test = sliding_window_view(test_ids[:-1], CONTEXT)
    y_test = test_ids[CONTEXT:]

    model = LSTMClassifier(
        embedding_dim=16,
        units=128,
        learning_rate=5e-3,
        batch_size=256,
        max_epochs=args.max_epochs,
        patience=3,
        random_state=args.seed,
    )
    start = time.perf_counter()
    model.fit(X_train, y_train)
    seconds = time.perf_counter() - start

    proba = model.predict_proba(X_test)
    # Characters never seen as a training target get no probability mass from the model.
    column = {c: i for i, c in enumerate(model.classes_)}
    true_proba = np.array(
        [proba[i, column[c]] if c in column else 0.0 for i, c in enumerate(y_test)]
    )
    vocab = tokenizer.vocab_size_
    print(
        f"Proverbs: {len(train_text):,} training characters (chapters 1-{last_chapter}), "
        f"{len(test_text):,} held out (28-31); {vocab - 2} distinct characters"
    )
    print(f"{'model (hold-out)':<34}{'bits/char':>10}")
    bits = {
        "unigram character frequencies": ngram_bits(train_ids, test_ids, vocab, 1),
        "bigram (previous character)": ngram_bits(train_ids, test_ids, vocab, 2),
        "LSTM, 40 characters of context": bits_per_char(true_proba),
    }
    for name, value in bits.items():
        print(f"{name:<34}{value:>10.3f}")
    accuracy = float(np.mean(model.classes_[proba.argmax(axis=1)] == y_test))
    print(
        f"LSTM: {model.n_iter_} epochs in {seconds:.0f} s; next-character accuracy {accuracy:.3f}"
    )

    prompt_text = "My son, "
    prompt = tokenizer.transform([prompt_text])[0]
    rng = np.random.default_rng(args.seed)
    for temperature in (0.5, 1.0):
        text = generate(model, tokenizer, prompt, args.length, temperature, rng)
        print(f"\n--- temperature {temperature}, seed {args.seed} ---\n{prompt_text}{text}")
    if args.save_results:
        save(
            "text_generation",
            {
                "train_characters": len(train_text),
                "test_characters": len(test_text),
                "distinct_characters": vocab - 2,
                "bits_per_char": bits,
                "next_character_accuracy": accuracy,
                "epochs": model.n_iter_,
                "max_epochs": args.max_epochs,
                "fit_seconds": seconds,
            },
        )


# %%
# Run it: fit, score and print.
if __name__ == "__main__":
    main()
