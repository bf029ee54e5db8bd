"""scikit-learn's own estimator checks, on every public estimator."""

from sklearn.linear_model import Ridge
from sklearn.utils.estimator_checks import parametrize_with_checks

from tsforecast import LSTMClassifier, LSTMRegressor, SlidingWindowTransformer
from tsforecast.baselines import (
    DriftForecaster,
    NaiveForecaster,
    SeasonalNaiveForecaster,
    ZeroReturnForecaster,
)
from tsforecast.preprocessing import RelativeTargetRegressor, ReturnsTransformer

# The peephole cell runs as a TorchScript loop: a small net keeps its checks fast.
_FAST = {"units": 8, "learning_rate": 0.02, "batch_size": 32, "validation_fraction": 0.0}


def _expected_failures(estimator):
    if isinstance(estimator, ReturnsTransformer):
        # Rows are time steps: each output row is a change from the row before, so
        # reordering or subsetting rows changes the output by design (tested in
        # tests/test_forecasting.py).
        reason = "rows are time steps, not exchangeable samples"
        return {
            "check_methods_sample_order_invariance": reason,
            "check_methods_subset_invariance": reason,
        }
    return {}


@parametrize_with_checks(
    [
        # As a user constructs them: the defaults must learn sklearn's toy problems.
        LSTMRegressor(),
        LSTMClassifier(),
        LSTMClassifier(**_FAST, max_epochs=40, cell="peephole", bidirectional=True),
        SlidingWindowTransformer(window=3),
        NaiveForecaster(),
        DriftForecaster(),
        SeasonalNaiveForecaster(season=2),
        ZeroReturnForecaster(),
        # sklearn's check data hold negative values: changes, not log returns.
        ReturnsTransformer(kind="difference"),
        RelativeTargetRegressor(Ridge(), reference=0, kind="difference"),
    ],
    expected_failed_checks=_expected_failures,
)
def test_sklearn_compatible(estimator, check):
    check(estimator)
