"""cnnlib.metrics against scikit-learn, plus the inputs it must refuse and how it says so."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import metrics as sk

from cnnlib.metrics import accuracy, confusion_matrix, most_confused


# ------------------------------------------------------------------------------ accuracy
def test_accuracy_of_class_scores_takes_the_largest_score(rng):
    scores = rng.normal(size=(200, 10))
    labels = rng.integers(0, 10, size=200)
    expected = sk.accuracy_score(labels, scores.argmax(axis=1))
    assert accuracy(scores, labels) == pytest.approx(expected)
    assert isinstance(accuracy(scores, labels), float)
    # probabilities give the same answer as the logits they come from
    probabilities = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
    assert accuracy(probabilities, labels) == accuracy(scores, labels)


def test_accuracy_of_predicted_labels(rng):
    predicted = rng.integers(0, 4, size=50)
    labels = rng.integers(0, 4, size=50)
    assert accuracy(predicted, labels) == pytest.approx(sk.accuracy_score(labels, predicted))
    assert accuracy(predicted[:, None], labels) == accuracy(predicted, labels)
    assert accuracy(labels, labels) == 1.0


def test_accuracy_of_binary_scores_thresholds_them(rng):
    p = rng.uniform(size=100)
    labels = rng.integers(0, 2, size=100)
    expected = sk.accuracy_score(labels, (p > 0.5).astype(int))
    assert accuracy(p, labels) == pytest.approx(expected)
    assert accuracy(p[:, None], labels.astype(float)) == pytest.approx(expected)
    # logits: threshold 0
    logits = np.log(p / (1 - p))
    assert accuracy(logits, labels, threshold=0.0) == pytest.approx(expected)
    # a score exactly at the threshold is class 0, as in Sequential.fit's accuracy
    assert accuracy(np.array([0.5, 0.5]), [0, 1]) == 0.5


def test_accuracy_agrees_with_sequential_fit_on_a_sigmoid_model():
    from cnnlib import Sequential, losses, optim
    from cnnlib.layers import Dense, Sigmoid

    gen = np.random.default_rng(3)
    x = gen.normal(size=(64, 4)).astype(np.float32)
    y = (x[:, 0] + 0.3 * x[:, 1] > 0).astype(float)
    model = Sequential([Dense(1), Sigmoid()], input_shape=(4,), seed=1)
    model.compile(losses.BinaryCrossEntropy(), optim.Adam(0.05))
    model.fit(x, y, epochs=3, batch_size=16, progress=False)
    assert accuracy(model.predict(x), y) == pytest.approx(model.evaluate(x, y)["accuracy"])


@pytest.mark.parametrize(
    ("scores", "labels", "error", "message"),
    [
        (np.zeros((3, 4)), [0, 1], ValueError, "one entry per sample, got 3 and 2"),
        (np.zeros((0, 4)), np.zeros(0, int), ValueError, "labels is empty"),
        (np.array([[np.nan, 1.0], [0.0, 1.0]]), [0, 1], ValueError, "contain NaN"),
        (np.array([0.2, 0.9]), [0, 3], ValueError, r"labels\[1\] is 3; pass predicted labels"),
        (np.zeros((2, 2)), [0.5, 1.0], ValueError, r"whole-number class labels; labels\[0\]"),
        (np.zeros((2, 2, 2)), [0, 1], ValueError, r"must be \(N, K\) scores, \(N,\) binary"),
        (np.array(["a", "b"]), [0, 1], TypeError, "expected scores or labels"),
        (np.zeros((2, 2)), np.zeros((2, 3)), ValueError, r"take scores.argmax\(axis=1\)"),
    ],
)
def test_accuracy_refuses_bad_inputs_and_says_why(scores, labels, error, message):
    with pytest.raises(error, match=message):
        accuracy(scores, labels)


# ---------------------------------------------------------------------- confusion matrix
def test_the_docstring_example_rows_are_true_columns_predicted():
    matrix = confusion_matrix([0, 0, 1, 2, 2], [0, 1, 1, 2, 0])
    # one 0 was called 1 (row 0, column 1); one 2 was called 0 (row 2, column 0)
    assert matrix.tolist() == [[1, 1, 0], [0, 1, 0], [1, 0, 1]]
    assert matrix.dtype == np.int64


@pytest.mark.filterwarnings("ignore:A single label was found:UserWarning")
@settings(max_examples=60, deadline=None)
@given(
    st.integers(min_value=1, max_value=6).flatmap(
        lambda k: st.tuples(
            st.just(k),
            st.lists(
                st.tuples(st.integers(0, k - 1), st.integers(0, k - 1)), min_size=1, max_size=60
            ),
        )
    )
)
def test_confusion_matrix_agrees_with_sklearn(data):
    k, pairs = data
    true = np.array([t for t, _ in pairs])
    predicted = np.array([p for _, p in pairs])
    expected = sk.confusion_matrix(true, predicted, labels=list(range(k)))
    np.testing.assert_array_equal(confusion_matrix(true, predicted, classes=k), expected)
    matrix = confusion_matrix(true, predicted, k)
    assert matrix.sum() == len(true)
    np.testing.assert_array_equal(matrix.sum(axis=1), np.bincount(true, minlength=k))
    np.testing.assert_array_equal(matrix.sum(axis=0), np.bincount(predicted, minlength=k))
    assert matrix.trace() / matrix.sum() == pytest.approx(sk.accuracy_score(true, predicted))


def test_confusion_matrix_default_keeps_classes_that_never_appear_in_the_middle():
    true, predicted = np.array([0, 2, 2, 3]), np.array([0, 2, 3, 3])
    matrix = confusion_matrix(true, predicted)
    assert matrix.shape == (4, 4)  # class 1 is absent, but keeps its row and column
    assert not matrix[1].any()
    assert not matrix[:, 1].any()
    np.testing.assert_array_equal(matrix, sk.confusion_matrix(true, predicted, labels=[0, 1, 2, 3]))
    # when every class appears, the default is scikit-learn's default
    true, predicted = np.array([0, 1, 2, 2]), np.array([1, 1, 2, 0])
    np.testing.assert_array_equal(
        confusion_matrix(true, predicted), sk.confusion_matrix(true, predicted)
    )


def test_confusion_matrix_classes_sets_the_size_and_the_order():
    true, predicted = [1, 1, 0], [1, 0, 0]
    assert confusion_matrix(true, predicted, classes=4).shape == (4, 4)
    ordered = confusion_matrix([3, 7, 7, 7], [7, 7, 3, 3], classes=[7, 3])
    np.testing.assert_array_equal(
        ordered, sk.confusion_matrix([3, 7, 7, 7], [7, 7, 3, 3], labels=[7, 3])
    )
    words = confusion_matrix(["cat", "dog", "cat"], ["dog", "dog", "cat"], classes=["cat", "dog"])
    assert words.tolist() == [[1, 1], [0, 1]]
    # binary float targets (BCE) and booleans are labels too
    assert confusion_matrix(np.array([0.0, 1.0, 1.0]), np.array([False, True, False])).tolist() == [
        [1, 0],
        [1, 1],
    ]
    # (N, 1) columns, as a sigmoid model's thresholded output
    assert confusion_matrix(np.array([[0], [1]]), np.array([[1], [1]])).tolist() == [[0, 1], [0, 1]]


@pytest.mark.parametrize(
    ("true", "predicted", "classes", "error", "message"),
    [
        ([0, 1, 2], [0, 1], None, ValueError, "one entry per sample, got 3 and 2"),
        ([], [], None, ValueError, "true is empty"),
        ([0, 1, 5], [0, 1, 1], 3, ValueError, r"true\[2\] is 5, outside the 3 classes 0 … 2"),
        ([0, 1], [0, -1], None, ValueError, r"predicted\[1\] is -1; labels are class indices"),
        ([0, 1], [0, 2], [0, 1], ValueError, r"predicted\[1\] is 2, which is not one of"),
        ([0, 1], [0, 1], [0, 1, 0], ValueError, "classes repeats the label 0"),
        ([0, 1], [0, 1], 0, ValueError, "classes must be positive"),
        ([0, 1], [0, 1], 2.0, TypeError, r"classes must be an integer, got 2.0 \(float\)"),
        ([0.5, 1], [0, 1], None, ValueError, r"whole-number class labels; true\[0\] is 0.5"),
        (np.zeros((3, 2)), [0, 1, 1], None, ValueError, r"take scores.argmax\(axis=1\)"),
        (["a", "b"], ["a", "b"], None, TypeError, "expected integer class labels"),
        ([0, 1], ["a", "b"], [0, 1], ValueError, r"predicted\[0\] is 'a', which is not one"),
    ],
)
def test_confusion_matrix_refuses_bad_inputs_and_says_why(true, predicted, classes, error, message):
    with pytest.raises(error, match=message):
        confusion_matrix(true, predicted, classes)


# ------------------------------------------------------------------------- most confused
def test_most_confused_lists_the_largest_mistakes_first():
    matrix = confusion_matrix([0, 0, 1, 2, 2, 2, 2], [1, 1, 0, 0, 2, 1, 0])
    assert most_confused(matrix, top=2) == [(0, 1, 2), (2, 0, 2)]
    assert most_confused(matrix, top=10) == [(0, 1, 2), (2, 0, 2), (1, 0, 1), (2, 1, 1)]
    assert most_confused(matrix, top=1, classes=["zero", "one", "two"]) == [("zero", "one", 2)]
    assert most_confused(np.eye(3, dtype=int) * 5) == []  # no mistakes, no pairs
    assert most_confused(matrix, top=0) == []


def test_most_confused_refuses_what_is_not_a_confusion_matrix():
    with pytest.raises(ValueError, match=r"must be square \(K, K\), got shape \(2, 3\)"):
        most_confused(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="2 class names for a 3×3 matrix"):
        most_confused(np.zeros((3, 3)), classes=["a", "b"])
    with pytest.raises(ValueError, match="top must be non-negative"):
        most_confused(np.zeros((3, 3)), top=-1)
