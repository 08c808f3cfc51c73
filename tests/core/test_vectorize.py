import numpy as np
import pytest

from keras_classics.core import models, training
from keras_classics.core.vectorize import MultiHotRows

WIDTH = 50
SPEC = {
    "layers": [
        {"type": "Dense", "units": 16, "activation": "relu"},
        {"type": "Dense", "units": 16, "activation": "relu"},
        {"type": "Dense", "units": 1, "activation": "sigmoid"},
    ],
    "compile": {
        "optimizer": "rmsprop",
        "loss": "binary_crossentropy",
        "metrics": ["accuracy"],
    },
}


def _sequences(n, seed=0):
    rng = np.random.default_rng(seed)
    return [list(rng.integers(1, WIDTH, size=rng.integers(0, 30))) for _ in range(n)]


def vectorize_sequences(sequences, dimension):
    """The book's vectorisation (Deep Learning with Python, listing 4.3)."""
    results = np.zeros((len(sequences), dimension))
    for i, sequence in enumerate(sequences):
        for j in sequence:
            results[i, j] = 1.0
    return results


def test_rows_hold_the_distinct_ids_and_equal_the_books_vectors():
    sequences = _sequences(40) + [[]]
    rows = MultiHotRows.from_sequences(sequences, WIDTH)
    assert len(rows) == 41
    np.testing.assert_array_equal(
        rows.to_dense("float64"), vectorize_sequences(sequences, WIDTH)
    )
    picked = rows.take(np.array([7, 3, 40, 3]))
    np.testing.assert_array_equal(
        picked.to_dense(),
        vectorize_sequences([sequences[i] for i in (7, 3, 40, 3)], WIDTH),
    )
    np.testing.assert_array_equal(
        rows.take(slice(5, 9)).to_dense(), rows.to_dense()[5:9]
    )


def test_ids_outside_the_width_are_refused():
    with pytest.raises(ValueError, match=r"token ids must lie in \[0, 50\)"):
        MultiHotRows.from_sequences([[1, 2, 50]], WIDTH)


def test_training_on_rows_equals_the_books_dense_recipe_on_identical_weights():
    sequences = _sequences(200)
    labels = np.array([len(s) % 2 for s in sequences], dtype="float32")
    rows = MultiHotRows.from_sequences(sequences, WIDTH)
    dense = vectorize_sequences(sequences, WIDTH)

    ours = models.build_model(SPEC, (WIDTH,), name="rows")
    book = models.from_config(
        models.to_config(models.build_model(SPEC, (WIDTH,), name="dense"))
    )
    book.set_weights(ours.get_weights())

    np.testing.assert_allclose(
        training.predict(ours, rows, batch_size=64),
        book.predict(dense, batch_size=64, verbose=0),
        rtol=1e-5,
        atol=1e-6,
    )
    ours_scores = training.evaluate(ours, rows, labels, batch_size=64)
    book_scores = book.evaluate(
        dense, labels, batch_size=64, verbose=0, return_dict=True
    )
    assert ours_scores == pytest.approx(book_scores, rel=1e-5)

    history = training.fit(ours, rows, labels, epochs=3, batch_size=32, shuffle=False)
    expected = book.fit(
        dense, labels, epochs=3, batch_size=32, shuffle=False, verbose=0
    ).history
    for name in expected:
        np.testing.assert_allclose(history[name], expected[name], rtol=1e-4)
    for ours_w, book_w in zip(ours.get_weights(), book.get_weights(), strict=True):
        np.testing.assert_allclose(ours_w, book_w, rtol=1e-4, atol=1e-6)
