"""Validation of token input for the estimators' embedding mode."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.utils import check_array

PADDING_ID = 0
UNKNOWN_ID = 1


def pad_sequences(
    sequences: Iterable[Sequence[int]],
    *,
    padding_value: int = PADDING_ID,
    max_length: int | None = None,
) -> np.ndarray:
    """Pad sequences of token ids at their end into one 2-D int64 array.

    Padding goes after each sequence, the layout the estimators expect: with token input they
    read each sequence up to its last non-padding id, so the padding never changes a
    prediction.

    Parameters
    ----------
    sequences : iterable of sequences of int
        Token ids, one sequence per sample; lengths may differ.
    padding_value : int, default=0
        The id written after the end of each shorter sequence.
    max_length : int, default=None
        Keep only the first ``max_length`` ids of longer sequences. ``None``: the longest.

    Returns
    -------
    padded : ndarray of shape (n_sequences, length), dtype int64

    Examples
    --------
    >>> from tsforecast.preprocessing import pad_sequences
    >>> pad_sequences([[5, 3], [7], [2, 8, 9]])
    array([[5, 3, 0],
           [7, 0, 0],
           [2, 8, 9]])
    """
    rows = [np.asarray(s).ravel() for s in sequences]
    for i, row in enumerate(rows):
        if row.size and row.dtype.kind not in "iu":
            raise TypeError(f"Sequence {i} holds {row.dtype} values; token ids must be integers.")
    length = max((len(r) for r in rows), default=0)
    if max_length is not None:
        length = min(length, max_length)
    padded = np.full((len(rows), length), padding_value, dtype=np.int64)
    for i, row in enumerate(rows):
        padded[i, : min(len(row), length)] = row[:length]
    return padded


# Token ids travel through the float32 tensors of the data pipeline, exact up to 2**24.
MAX_VOCAB_SIZE = 2**24


def _is_ragged(X: Any) -> bool:
    """A list, tuple, Series or object array whose elements are sequences of ids."""
    if isinstance(X, pd.Series) or (isinstance(X, np.ndarray) and X.dtype == object):
        X = list(X)
    return (
        isinstance(X, list | tuple)
        and len(X) > 0
        and all(isinstance(s, Sequence | np.ndarray) and not isinstance(s, str) for s in X)
        and len({len(s) for s in X}) > 1
    )


def check_tokens(X: Any, padding_idx: int, vocab_size: int | None) -> np.ndarray:
    """Return token input as a 2-D int64 array ``(n_samples, n_timesteps)`` padded at the end.

    ``X`` is a 2-D array of ids (padded with ``padding_idx`` after each sequence's end) or a
    ragged list of sequences, padded here. With ``vocab_size`` (after fit), ids must be below
    it. Every sequence needs at least one id other than ``padding_idx``.
    """
    if _is_ragged(X):
        X = pad_sequences(X, padding_value=padding_idx)
    if np.ndim(X) == 3:
        raise ValueError(
            "With embedding_dim set, X holds token ids: a 2-D array (n_samples, n_timesteps) "
            "padded at the end, or a list of sequences; got a 3-D array."
        )
    X = check_array(X, dtype=None, input_name="X")
    if X.dtype.kind == "f":
        if not np.array_equal(X, np.round(X)):
            raise ValueError("X holds non-integer values; token ids must be integers.")
    elif X.dtype.kind not in "iu":
        raise TypeError(f"X holds {X.dtype} values; token ids must be integers.")
    tokens = X.astype(np.int64)
    low, high = int(tokens.min()), int(tokens.max())
    if low < 0:
        raise ValueError(f"X holds the negative token id {low}; ids start at 0.")
    limit = MAX_VOCAB_SIZE if vocab_size is None else vocab_size
    if high >= limit:
        unseen = np.unique(tokens[tokens >= limit])
        raise ValueError(
            f"X holds token ids {unseen[:10].tolist()} outside the vocabulary of {limit} ids"
            + (" the model was fitted with." if vocab_size is not None else ".")
        )
    empty = np.flatnonzero((tokens == padding_idx).all(axis=1))
    if len(empty):
        raise ValueError(
            f"Sequences {empty[:10].tolist()} contain only padding (padding_idx={padding_idx}): "
            "every sequence needs at least one token."
        )
    return tokens
