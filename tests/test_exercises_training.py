"""Chapter 8 checkers: correct code passes, each known mistake gets its own explanation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from exercise_contract import ExerciseContract
from sklearn import metrics as sk

from cnnlib import Sequential, exercises, losses, optim
from cnnlib.exercises import ExerciseError
from cnnlib.exercises.training import BINARY_ACCURACY, CONFUSION_MATRIX, MINIBATCHES, STEP_DECAY
from cnnlib.layers import Dense

ALL = {
    "confusion_matrix": (CONFUSION_MATRIX, exercises.check_confusion_matrix),
    "binary_accuracy": (BINARY_ACCURACY, exercises.check_binary_accuracy),
    "minibatches": (MINIBATCHES, exercises.check_minibatches),
    "step_decay": (STEP_DECAY, exercises.check_step_decay),
}


# Learner-style solutions, written independently of cnnlib (plain loops and numpy).
def loop_confusion_matrix(true, predicted, classes):
    matrix = np.zeros((classes, classes), dtype=int)
    for t, p in zip(true, predicted, strict=True):
        matrix[t, p] += 1
    return matrix


def plain_binary_accuracy(probabilities, labels, threshold=0.5):
    predicted = np.asarray(probabilities).reshape(-1) > threshold
    return float(np.mean(predicted == np.asarray(labels)))


def loop_minibatches(order, batch_size):
    batches = []
    for start in range(0, len(order), batch_size):
        batches.append(order[start : start + batch_size])
    return batches  # a list is as good as a tuple


def plain_step_decay(epoch, lr0, drop, every):
    return lr0 * drop ** (epoch // every)


LEARNER = {
    "confusion_matrix": loop_confusion_matrix,
    "binary_accuracy": plain_binary_accuracy,
    "minibatches": loop_minibatches,
    "step_decay": plain_step_decay,
}


class TestChapter8Checkers(ExerciseContract):
    EXERCISES = ALL
    LEARNER = LEARNER
    MIN_MISTAKES = 4


# ----------------------------------------------------------------- references vs oracles
def test_the_confusion_matrix_reference_is_sklearns():
    for case in CONFUSION_MATRIX.cases:
        true, predicted, classes = case.args
        expected = sk.confusion_matrix(true, predicted, labels=list(range(classes)))
        np.testing.assert_array_equal(case.call(CONFUSION_MATRIX.reference), expected)


def test_the_binary_accuracy_reference_is_sklearns():
    for case in BINARY_ACCURACY.cases:
        probabilities, labels = case.args
        threshold = case.kwargs.get("threshold", 0.5)
        predicted = (probabilities.reshape(-1) > threshold).astype(int)
        expected = sk.accuracy_score(labels.astype(int), predicted)
        assert case.call(BINARY_ACCURACY.reference) == pytest.approx(expected)


def test_minibatches_cover_every_sample_once_like_fit():
    for case in MINIBATCHES.cases:
        order, batch_size = case.args
        batches = case.call(MINIBATCHES.reference)
        assert len(batches) == math.ceil(len(order) / batch_size)
        np.testing.assert_array_equal(np.concatenate(batches), order)
        assert all(len(b) == batch_size for b in batches[:-1])


def test_the_step_decay_reference_drives_fit_as_the_chapter_says():
    """fit(schedule=...) sets the learning rate from the schedule at the start of every epoch."""
    model = Sequential([Dense(1)], input_shape=(2,), seed=0, dtype=np.float64)
    model.compile(losses.MeanSquaredError(), optim.Adam(1.0))
    x, y = np.zeros((4, 2)), np.zeros((4, 1))

    def schedule(epoch):
        return STEP_DECAY.reference(epoch, 1e-3, 0.5, 4)

    history = model.fit(x, y, epochs=10, batch_size=4, progress=False, schedule=schedule)
    assert history["lr"] == [1e-3] * 4 + [5e-4] * 4 + [2.5e-4] * 2


# ---------------------------------------------------------------------- precise messages
@pytest.mark.exercise("confusion_matrix")
def test_a_transposed_matrix_reports_the_first_cell_and_the_cause():
    with pytest.raises(ExerciseError) as info:
        exercises.check_confusion_matrix(lambda t, p, k: loop_confusion_matrix(t, p, k).T.copy())
    message = str(info.value)
    assert message.splitlines()[1:4] == [
        "  call:    confusion_matrix(np.array([0, 0, 0, 1, 2, 2]), np.array([0, 0, 1, 1, 2, 0]), 3)",
        "  case:    6 samples of 3 classes: two 0s right, a 0 called 1, a 2 called 0",
        "  problem: first difference at index (0, 1): yours 0, expected 1 (4 of 9 entries differ)",
    ]
    assert "likely cause: your matrix is transposed" in message


@pytest.mark.exercise("confusion_matrix")
def test_vectorised_plus_equals_is_named_as_assignment():
    def fancy(true, predicted, classes):
        matrix = np.zeros((classes, classes), dtype=int)
        matrix[true, predicted] += 1  # applied once per distinct pair
        return matrix

    with pytest.raises(ExerciseError) as info:
        exercises.check_confusion_matrix(fancy)
    message = str(info.value)
    assert "problem: first difference at index (0, 0): yours 1, expected 2" in message
    assert "np.add.at(matrix, (true, predicted), 1)" in message


@pytest.mark.exercise("confusion_matrix")
def test_a_matrix_from_the_labels_present_reports_both_shapes():
    def present(true, predicted, classes):
        k = max(max(true), max(predicted)) + 1
        return loop_confusion_matrix(true, predicted, k)

    with pytest.raises(ExerciseError) as info:
        exercises.check_confusion_matrix(present)
    message = str(info.value)
    assert "case:    4 classes, but class 3 never occurs" in message
    assert "problem: your output has shape (3, 3), expected (4, 4)" in message
    assert "likely cause: you sized the matrix from the largest label in the data" in message


@pytest.mark.exercise("binary_accuracy")
def test_binary_accuracy_with_a_broadcast_column_names_the_n_by_n_table():
    with pytest.raises(ExerciseError) as info:
        exercises.check_binary_accuracy(
            lambda p, t, threshold=0.5: float(np.mean((p > threshold) == t))
        )
    message = str(info.value)
    assert "case:    a sigmoid model's output has shape (N, 1)" in message
    assert "problem: your function returned 0.52, expected 0.6" in message
    assert "broadcasts them to an (N, N) table" in message


@pytest.mark.exercise("binary_accuracy")
def test_binary_accuracy_as_a_count_is_told_to_divide():
    with pytest.raises(ExerciseError) as info:
        exercises.check_binary_accuracy(
            lambda p, t, threshold=0.5: int(np.sum((p.reshape(-1) > threshold) == t))
        )
    message = str(info.value)
    assert "problem: your function returned 3, expected 0.75" in message
    assert "likely cause: you returned the number of correct predictions" in message


@pytest.mark.exercise("minibatches")
def test_minibatches_that_drop_the_last_batch_are_told_to_keep_it():
    def full_only(order, batch_size):
        return [
            order[k * batch_size : (k + 1) * batch_size] for k in range(len(order) // batch_size)
        ]

    with pytest.raises(ExerciseError) as info:
        exercises.check_minibatches(full_only)
    message = str(info.value)
    assert "case:    10 samples in batches of 4: 4, 4 and a last 2" in message
    assert "expected a tuple of 3 values" in message
    assert "likely cause: you dropped the last, smaller batch" in message


@pytest.mark.exercise("minibatches")
def test_minibatches_in_the_original_order_report_the_first_index():
    with pytest.raises(ExerciseError) as info:
        exercises.check_minibatches(
            lambda order, b: [np.arange(len(order))[s : s + b] for s in range(0, len(order), b)]
        )
    message = str(info.value)
    assert "problem: entry 0 of the tuple: first difference at index (0,)" in message
    assert "likely cause: you ignored `order`" in message


@pytest.mark.exercise("step_decay")
def test_step_decay_one_epoch_early_is_named():
    with pytest.raises(ExerciseError) as info:
        exercises.check_step_decay(lambda e, lr0, drop, every: lr0 * drop ** ((e + 1) // every))
    message = str(info.value)
    assert message.splitlines()[1:4] == [
        "  call:    step_decay(3, 0.001, 0.5, 4)",
        "  case:    epoch 3, the last one before the first drop",
        "  problem: your function returned 0.0005, expected 0.001",
    ]
    assert "likely cause: your rate drops one epoch early" in message


@pytest.mark.exercise("step_decay")
def test_step_decay_that_returns_a_list_is_told_what_to_return():
    with pytest.raises(ExerciseError) as info:
        exercises.check_step_decay(lambda e, lr0, drop, every: [lr0])
    assert "expected a number" in str(info.value)
