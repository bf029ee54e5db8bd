"""The warnings and errors the package raises, in one place (as ``sklearn.exceptions``)."""

__all__ = ["HistoryPaddingWarning"]


class HistoryPaddingWarning(UserWarning):
    """Rows before the first row exist but cannot be read, so the history was padded.

    Raised by the transformers that carry history when ``transform`` gets rows that may have
    history the transformer cannot match: rows without an index (a NumPy array, e.g. from a
    scaler without ``set_output``), with an index of another kind than the fitted one or of
    labels without order (strings), rows that begin after a gap larger than any step between
    the fitted rows, or earlier inside the fitted rows than their last ``reach + 1``. Rows
    that begin where the fitted rows begin need no history and never warn. Keep the index
    (pass DataFrames; ``set_output(transform="pandas")`` on the pipeline) or pass the history
    explicitly with :func:`~tsforecast.preprocessing.predict_with_history`.
    """
