"""Token input: embeddings, variable lengths and packing, text tokenization."""

import pickle

import numpy as np
import pytest
from conftest import FAST
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.pipeline import make_pipeline

from tsforecast import LSTMClassifier, LSTMRegressor
from tsforecast.persistence import load_model, save_model
from tsforecast.preprocessing import TextTokenizer, pad_sequences

TOKENS = {**FAST, "embedding_dim": 4, "random_state": 0}


def ragged_tokens(rng, n=300, low=2, high=10, lengths=(3, 13)):
    """Random sequences of ids in [low, high) with lengths in [lengths[0], lengths[1])."""
    return [list(rng.integers(low, high, size=rng.integers(*lengths))) for _ in range(n)]


@pytest.fixture
def contains_two(rng):
    """Ragged sequences labelled by whether id 2 occurs in them: needs the whole sequence."""
    sequences = ragged_tokens(rng)
    labels = np.array(["yes" if 2 in s else "no" for s in sequences])
    return sequences, labels


def test_pad_sequences_pads_at_the_end_and_truncates():
    padded = pad_sequences([[5, 3], [7], [2, 8, 9]], padding_value=1, max_length=2)
    assert padded.tolist() == [[5, 3], [7, 1], [2, 8]]
    assert padded.dtype == np.int64
    assert pad_sequences([]).shape == (0, 0)
    with pytest.raises(TypeError, match="must be integers"):
        pad_sequences([[0.5, 1.0]])


def test_embedding_classifier_learns_from_ragged_sequences(contains_two):
    sequences, labels = contains_two
    clf = LSTMClassifier(**{**TOKENS, "units": 16, "max_epochs": 40, "learning_rate": 0.02}).fit(
        sequences[:240], labels[:240]
    )
    assert clf.vocab_size_ == 10
    majority = max(np.mean(labels[240:] == "yes"), np.mean(labels[240:] == "no"))
    assert clf.score(sequences[240:], labels[240:]) > max(0.9, majority + 0.1)
    # The padded array and the ragged list are the same input.
    padded = pad_sequences(sequences[240:])
    np.testing.assert_array_equal(clf.predict_proba(padded), clf.predict_proba(sequences[240:]))


@pytest.mark.parametrize("cell", ["lstm", "gru", "peephole"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_prediction_ignores_padding_and_longer_batch_neighbours(rng, cell, bidirectional):
    sequences = ragged_tokens(rng, n=60)
    y = np.array([len(s) + s[0] for s in sequences], dtype=float)
    reg = LSTMRegressor(**TOKENS, num_layers=2, cell=cell, bidirectional=bidirectional).fit(
        sequences, y
    )
    short = [sequences[0][:3]]
    alone = reg.predict(short)
    with_longer = reg.predict([short[0], list(range(2, 10)) * 4])
    np.testing.assert_allclose(with_longer[0], alone[0], rtol=1e-6)
    more_padding = np.zeros((1, 50), dtype=np.int64)
    more_padding[0, :3] = short[0]
    np.testing.assert_allclose(reg.predict(more_padding), alone, rtol=1e-6)
    # The ids before the padding do matter.
    assert reg.predict([[*short[0][:2], 9]])[0] != alone[0]


def test_token_pipeline_on_text_and_persistence(tmp_path):
    docs = ["good fine great", "bad awful", "great good", "awful bad bad", "fine", "bad"] * 20
    labels = ["pos", "neg", "pos", "neg", "pos", "neg"] * 20
    pipe = make_pipeline(
        TextTokenizer(),
        LSTMClassifier(**{**TOKENS, "max_epochs": 20, "learning_rate": 0.05}),
    ).fit(docs, labels)
    assert pipe.score(["awful", "great fine"], ["neg", "pos"]) == 1.0
    # An unknown word is the out-of-vocabulary id, not an error.
    assert pipe.predict(["zebra good"]).shape == (1,)
    model = pipe[-1]
    X = pipe[0].transform(docs[:6])
    save_model(model, tmp_path / "tokens.pt")
    loaded = load_model(tmp_path / "tokens.pt")
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
    np.testing.assert_array_equal(
        pickle.loads(pickle.dumps(model)).predict_proba(X), model.predict_proba(X)
    )


def test_vocabulary_size_given_and_checked(contains_two):
    sequences, labels = contains_two
    clf = LSTMClassifier(**TOKENS, vocab_size=50).fit(sequences, labels)
    assert clf.vocab_size_ == 50
    assert clf.module_.embedding.num_embeddings == 50
    with pytest.raises(ValueError, match="vocab_size=5"):
        LSTMClassifier(**TOKENS, vocab_size=5).fit(sequences, labels)


@pytest.mark.parametrize(
    ("X", "error", "match"),
    [
        ([[1, -2, 3], [4, 5, 6]], ValueError, "negative token id -2"),
        ([[1.5, 2.0], [3.0, 4.0]], ValueError, "non-integer"),
        ([[1, 2], [0, 0]], ValueError, r"Sequences \[1\] contain only padding"),
        (np.ones((2, 3, 1), dtype=int), ValueError, "3-D"),
        ([["a", "b"], ["c", "d"]], TypeError, "must be integers"),
        ([[1, 2], [3, np.nan]], ValueError, "NaN"),
        ([[1, 2], [3, 2**25]], ValueError, "outside the vocabulary"),
    ],
)
def test_bad_token_input_is_refused_with_a_clear_error(X, error, match):
    with pytest.raises(error, match=match):
        LSTMRegressor(**TOKENS).fit(X, [0.0, 1.0])


def test_ids_beyond_the_fitted_vocabulary_are_refused_at_predict(contains_two):
    sequences, labels = contains_two
    clf = LSTMClassifier(**TOKENS).fit(sequences, labels)
    with pytest.raises(ValueError, match=r"token ids \[10, 12\] outside the vocabulary of 10"):
        clf.predict([[2, 3], [10, 12, 12]])


def test_text_tokenizer_vocabulary_unknowns_and_inverse():
    tok = TextTokenizer(max_tokens=3, max_length=4).fit(["b a b c", "b a d, e"])
    assert tok.vocabulary_ == {"b": 2, "a": 3, "c": 4}
    assert tok.vocab_size_ == 5
    ids = tok.transform(["A b z c a", "c"])
    assert ids.tolist() == [[3, 2, 1, 4], [4, 0, 0, 0]]
    assert tok.inverse_transform(ids) == [["a", "b", "", "c"], ["c"]]
    with pytest.raises(ValueError, match=r"Token ids must lie in \[0, 5\)"):
        tok.inverse_transform([[2, 5]])
    chars = TextTokenizer(analyzer="char", lowercase=False).fit(["abA"])
    assert chars.transform(["Aab"]).tolist() == [[4, 2, 3]]
    assert clone(tok).get_params() == tok.get_params()


@pytest.mark.parametrize(
    ("X", "match"), [("just one string", "iterable of documents"), ([b"bytes"], "Document 0")]
)
def test_text_tokenizer_refuses_non_text(X, match):
    with pytest.raises(TypeError, match=match):
        TextTokenizer().fit(X)


def test_text_tokenizer_refuses_an_empty_vocabulary():
    with pytest.raises(ValueError, match="no tokens"):
        TextTokenizer().fit(["", "   "])


@pytest.fixture(scope="module")
def peephole_token_model():
    rng = np.random.default_rng(1)
    sequences = ragged_tokens(rng, n=40)
    y = np.array([s[-1] for s in sequences], dtype=float)
    return LSTMRegressor(**TOKENS, cell="peephole", bidirectional=True).fit(sequences, y)


@settings(max_examples=40, deadline=None)
@given(
    sequence=st.lists(st.integers(1, 9), min_size=1, max_size=12),
    others=st.lists(st.lists(st.integers(1, 9), min_size=1, max_size=20), max_size=4),
    padding=st.integers(0, 8),
)
def test_property_prediction_depends_on_the_sequence_only(
    peephole_token_model, sequence, others, padding
):
    model = peephole_token_model
    alone = model.predict([sequence])[0]
    padded = pad_sequences([sequence + [0] * padding, *others])
    np.testing.assert_allclose(model.predict(padded)[0], alone, rtol=1e-5, atol=1e-6)
