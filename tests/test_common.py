"""scikit-learn's own estimator checks, on every public estimator."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from tsforecast import LSTMClassifier, LSTMRegressor, SlidingWindowTransformer

# Small nets trained long enough to pass sklearn's accuracy checks on its toy data sets.
_FAST = {"units": 8, "learning_rate": 0.02, "batch_size": 32, "validation_fraction": 0.0}


@parametrize_with_checks(
    [
        LSTMRegressor(**_FAST, max_epochs=40),
        LSTMClassifier(**_FAST, max_epochs=40),
        LSTMClassifier(**_FAST, max_epochs=40, cell="peephole", bidirectional=True),
        SlidingWindowTransformer(window=3),
    ]
)
def test_sklearn_compatible(estimator, check):
    check(estimator)
