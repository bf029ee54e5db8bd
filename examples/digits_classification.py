"""
Digits read row by row
======================

Classify handwritten digits by reading each image row by row, as an LSTM reads a sequence.

scikit-learn's shipped ``load_digits`` (1,797 images of 8 x 8 pixels) becomes sequences of 8
time steps with 8 features: one image row per step, the MNIST-style use of an LSTM. A
bidirectional 2 x 128 ``LSTMClassifier`` sits in a Pipeline behind the scaling and reshaping;
the hold-out is a stratified 20% of the images. The majority class and a logistic regression on
the raw pixels are printed next to it.

One torch thread, seeded (``examples/_settings.py``). In the documentation build
(``TSFORECAST_DOCS_FAST=1``) the LSTMs train for at most 2 epochs, so the figures printed on
this page are not those of the full run.

Run:  python examples/digits_classification.py [--output-dir DIR] [--max-epochs N] [--seed S]
      [--save-results]
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from _settings import PLOTS, arguments, save, setup
from sklearn.datasets import load_digits
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import ConfusionMatrixDisplay, accuracy_score, confusion_matrix
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from tsforecast import LSTMClassifier

TARGET_ACCURACY = 0.97


def image_rows(pixels: np.ndarray) -> np.ndarray:
    """(n_images, 64) intensities 0-16 -> (n_images, 8 rows = time steps, 8 pixels) in [0, 1]."""
    return (np.asarray(pixels, dtype=np.float32) / 16.0).reshape(-1, 8, 8)


def main() -> None:
    setup()
    parser = arguments(__doc__, max_epochs=150, saves=True)
    parser.add_argument("--output-dir", type=Path, default=PLOTS, help="where the PNG goes")
    parser.add_argument("--seed", type=int, default=0, help="the LSTM's random_state")
    args = parser.parse_args()

    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.2, stratify=y, random_state=0
    )
    model = make_pipeline(
        FunctionTransformer(image_rows),
        LSTMClassifier(
            units=128,
            num_layers=2,
            bidirectional=True,
            dropout=0.3,
            learning_rate=2e-3,
            max_epochs=args.max_epochs,
            patience=20,
            random_state=args.seed,
        ),
    )
    start = time.perf_counter()
    model.fit(X_train, y_train)
    seconds = time.perf_counter() - start
    y_pred = model.predict(X_test)
    accuracy = accuracy_score(y_test, y_pred)

    majority = DummyClassifier().fit(X_train, y_train).score(X_test, y_test)
    logistic = LogisticRegression(max_iter=2000).fit(X_train / 16, y_train)
    accuracies = {
        "majority class": float(majority),
        "logistic regression (pixels)": float(logistic.score(X_test / 16, y_test)),
        "LSTM, 2 x 128 bidirectional": float(accuracy),
    }
    print(f"digits: {len(X_train)} training and {len(X_test)} test images, 8 steps x 8 features")
    print(f"{'model':<32}{'accuracy':>10}")
    for name, score in accuracies.items():
        print(f"{name:<32}{score:>10.4f}")
    status = "met" if accuracy >= TARGET_ACCURACY else "MISSED"
    print(f"target accuracy >= {TARGET_ACCURACY}: {status}")
    print(f"trained {model[-1].n_iter_} epochs in {seconds:.0f} s")
    if args.save_results:
        save(
            "digits_classification",
            {
                "train_images": len(X_train),
                "test_images": len(X_test),
                "seed": args.seed,
                "accuracy": accuracies,
                "target_accuracy": TARGET_ACCURACY,
                "epochs": model[-1].n_iter_,
                "fit_seconds": seconds,
            },
        )
    print("confusion matrix (rows: true digit, columns: predicted):")
    print(confusion_matrix(y_test, y_pred))
    try:
        import matplotlib

        matplotlib.use("Agg")
    except ImportError:
        print("matplotlib is not installed: no PNG written")
        return
    display = ConfusionMatrixDisplay.from_predictions(y_test, y_pred, colorbar=False)
    display.ax_.set_title(f"LSTM on digit rows: accuracy {accuracy:.3f}")
    args.output_dir.mkdir(parents=True, exist_ok=True)
    path = args.output_dir / "digits_confusion.png"
    display.figure_.savefig(path, dpi=100, bbox_inches="tight")
    print(f"saved {path}")


# %%
# Run it: fit, score and print.
if __name__ == "__main__":
    main()
