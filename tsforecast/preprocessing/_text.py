"""Text and token sequences for the estimators' embedding input (``embedding_dim=...``).

:class:`TextTokenizer` turns documents into padded integer sequences inside a Pipeline;
:func:`pad_sequences` pads ragged lists of token ids. Id ``0`` is the padding, ``1`` the
out-of-vocabulary token, the estimators' default ``padding_idx=0``.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from numbers import Integral
from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from .._data.tokens import PADDING_ID, UNKNOWN_ID, pad_sequences
from .._utils.sklearn_compat import Interval, StrOptions, _fit_context


class TextTokenizer(TransformerMixin, BaseEstimator):
    """Encode documents as padded sequences of word or character ids.

    ``fit`` learns the vocabulary from the training documents only (most frequent first); at
    ``transform`` unknown tokens become ``1`` and sequences are padded with ``0`` at their
    end, the input an estimator with ``embedding_dim`` set expects.

    Parameters
    ----------
    analyzer : {"word", "char"}, default="word"
        Split documents into words (``token_pattern`` matches) or single characters.
    lowercase : bool, default=True
        Lowercase documents before splitting.
    token_pattern : str, default=r"(?u)\\b\\w+\\b|[^\\w\\s]"
        Regular expression of a word token (words and single punctuation marks); used when
        ``analyzer="word"``.
    max_tokens : int, default=None
        Keep the ``max_tokens`` most frequent tokens (ties: first seen first); ``None`` keeps
        all.
    max_length : int, default=None
        Truncate longer documents to their first ``max_length`` tokens.

    Attributes
    ----------
    vocabulary_ : dict
        Token to id, ids from 2.
    vocab_size_ : int
        ``len(vocabulary_) + 2``: the ids the output uses, padding and unknown included.

    Examples
    --------
    >>> from tsforecast.preprocessing import TextTokenizer
    >>> tok = TextTokenizer().fit(["the cat sat", "the dog"])
    >>> tok.transform(["the dog sat", "a cat"])
    array([[2, 5, 4],
           [1, 3, 0]])
    >>> tok.inverse_transform([[2, 5, 4, 0]])
    [['the', 'dog', 'sat']]
    """

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "analyzer": [StrOptions({"word", "char"})],
        "lowercase": ["boolean"],
        "token_pattern": [str],
        "max_tokens": [Interval(Integral, 1, None, closed="left"), None],
        "max_length": [Interval(Integral, 1, None, closed="left"), None],
    }

    def __init__(
        self,
        *,
        analyzer: str = "word",
        lowercase: bool = True,
        token_pattern: str = r"(?u)\b\w+\b|[^\w\s]",
        max_tokens: int | None = None,
        max_length: int | None = None,
    ) -> None:
        self.analyzer = analyzer
        self.lowercase = lowercase
        self.token_pattern = token_pattern
        self.max_tokens = max_tokens
        self.max_length = max_length

    def _split(self, documents: Any) -> list[list[str]]:
        if isinstance(documents, str) or not isinstance(documents, Iterable):
            raise TypeError(
                "TextTokenizer expects an iterable of documents (strings), e.g. a list or a "
                f"pandas Series; got {type(documents).__name__}."
            )
        pattern = re.compile(self.token_pattern)
        split = []
        for i, doc in enumerate(documents):
            if not isinstance(doc, str):
                raise TypeError(f"Document {i} is a {type(doc).__name__}, not a string.")
            text = doc.lower() if self.lowercase else doc
            split.append(list(text) if self.analyzer == "char" else pattern.findall(text))
        return split

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Any, y: Any = None) -> TextTokenizer:
        """Learn the vocabulary of the documents ``X``.

        Parameters
        ----------
        X : iterable of str
            Training documents.
        y : None
            Ignored.

        Returns
        -------
        self : TextTokenizer
            The fitted tokenizer.
        """
        counts = Counter(token for doc in self._split(X) for token in doc)
        if not counts:
            raise ValueError("TextTokenizer found no tokens in the training documents.")
        # Counter.most_common keeps first-seen order among equal counts.
        kept = counts.most_common(self.max_tokens)
        self.vocabulary_ = {token: i + 2 for i, (token, _) in enumerate(kept)}
        self.vocab_size_ = len(self.vocabulary_) + 2
        return self

    def transform(self, X: Any) -> np.ndarray:
        """Encode documents as token ids, padded with 0 at the end.

        Parameters
        ----------
        X : iterable of str
            Documents.

        Returns
        -------
        ids : ndarray of shape (n_documents, length), dtype int64
            ``length`` is the longest document's token count (at most ``max_length``).
        """
        check_is_fitted(self)
        vocabulary = self.vocabulary_
        ids = [[vocabulary.get(token, UNKNOWN_ID) for token in doc] for doc in self._split(X)]
        return pad_sequences(ids, max_length=self.max_length)

    def inverse_transform(self, X: Any) -> list[list[str]]:
        """Decode token ids back to tokens; padding is dropped, unknown ids become ``""``.

        Parameters
        ----------
        X : array-like of shape (n_documents, length)
            Token ids.

        Returns
        -------
        tokens : list of list of str
            The tokens of each document.
        """
        check_is_fitted(self)
        # vocabulary_ lists tokens in id order (ids 2, 3, ...): a dict keeps insertion order.
        tokens = ["", "", *self.vocabulary_]
        decoded = []
        for row in X:
            ids = np.asarray(row)
            if ids.size and (ids.min() < 0 or ids.max() >= self.vocab_size_):
                raise ValueError(
                    f"Token ids must lie in [0, {self.vocab_size_}); got {ids.min()} .. "
                    f"{ids.max()}."
                )
            decoded.append([tokens[i] for i in ids if i != PADDING_ID])
        return decoded

    def __sklearn_tags__(self):  # type: ignore[no-untyped-def]
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        tags.requires_fit = True
        return tags
