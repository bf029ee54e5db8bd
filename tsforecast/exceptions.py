"""The warnings and errors the package raises, in one place (as ``sklearn.exceptions``)."""

__all__ = ["HistoryPaddingWarning"]


class HistoryPaddingWarning(UserWarning):
    """Rows arrived without the index the transformer was fitted on, so history was padded.

    Raised by the transformers that carry history when ``transform`` gets data without an
    index (a NumPy array) or with an index of another kind (e.g. a ``RangeIndex`` after a
    ``DatetimeIndex``), although the rows may continue the fitted ones. Keep the index (pass
    DataFrames; ``set_output(transform="pandas")`` on the pipeline) or pass the history
    explicitly with :func:`~tsforecast.preprocessing.predict_with_history`.
    """
