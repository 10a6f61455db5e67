"""Checkers for the exercises of chapter 8, "Training end to end".

Each ``check_<name>(fn)`` runs the learner's ``fn`` against a reference built on
:mod:`cnnlib.metrics` (or written out where cnnlib does the same job inside
:meth:`cnnlib.model.Sequential.fit`) on the chapter's examples first and then on edge
cases — a class that never occurs, a model that always predicts the same class, a
probability exactly at the threshold, a column of probabilities ``(N, 1)`` next to labels
``(N,)``, a data set whose size is, or is not, a multiple of the batch size — and names
the usual mistakes when it recognises them: a transposed confusion matrix, a matrix sized
from the labels present, counts assigned instead of accumulated (``m[t, p] += 1`` with
arrays does that too), ``>=`` instead of ``>``, a silent ``(N, 1)`` against ``(N,)``
broadcast, a count instead of a fraction, a last partial batch dropped or an empty one
added, the shuffled order ignored, a learning rate that drops one epoch early, every
epoch, smoothly or upwards.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from cnnlib.exercises.core import Case, Exercise, Mistake
from cnnlib.metrics import accuracy, confusion_matrix

__all__ = [
    "check_binary_accuracy",
    "check_confusion_matrix",
    "check_minibatches",
    "check_step_decay",
]

Array = NDArray[Any]


def _labels(*values: int) -> NDArray[np.int64]:
    return np.array(values, dtype=np.int64)


def _random_labels(n: int, classes: int, seed: int) -> NDArray[np.int64]:
    return np.random.default_rng(seed).integers(0, classes, size=n).astype(np.int64)


# ---------------------------------------------------------------------- confusion matrix
def _confusion_matrix(true: Array, predicted: Array, classes: int) -> NDArray[np.int64]:
    return confusion_matrix(true, predicted, classes)


def _loop_matrix(
    true: Array, predicted: Array, size: int, *, transposed: bool = False, assign: bool = False
) -> NDArray[np.int64]:
    matrix = np.zeros((size, size), dtype=np.int64)
    for t, p in zip(np.asarray(true).tolist(), np.asarray(predicted).tolist(), strict=False):
        row, column = (p, t) if transposed else (t, p)
        if assign:
            matrix[row, column] = 1
        else:
            matrix[row, column] += 1
    return matrix


def _from_present(true: Array, predicted: Array, classes: int) -> NDArray[np.int64]:
    present = np.unique(np.concatenate([true, predicted]))
    index = {int(label): k for k, label in enumerate(present)}
    t = [index[int(v)] for v in true]
    p = [index[int(v)] for v in predicted]
    return _loop_matrix(np.array(t), np.array(p), len(present))


def _only_mistakes(true: Array, predicted: Array, classes: int) -> NDArray[np.int64]:
    matrix = _loop_matrix(true, predicted, classes)
    np.fill_diagonal(matrix, 0)
    return matrix


CONFUSION_MATRIX = Exercise(
    name="confusion_matrix",
    reference=_confusion_matrix,
    cases=(
        Case(
            (_labels(0, 0, 0, 1, 2, 2), _labels(0, 0, 1, 1, 2, 0), 3),
            note="6 samples of 3 classes: two 0s right, a 0 called 1, a 2 called 0",
        ),
        Case(
            (_random_labels(30, 4, seed=1), _random_labels(30, 4, seed=2), 4),
            note="30 samples of 4 classes",
        ),
        Case(
            (_labels(0, 1, 2, 2, 1, 0), _labels(0, 1, 1, 2, 2, 0), 4),
            note="4 classes, but class 3 never occurs: its row and column are zero",
        ),
        Case(
            (_labels(0, 3, 3, 2, 0), _labels(0, 3, 2, 2, 3), 4),
            note="4 classes, but class 1 never occurs (neither true nor predicted)",
        ),
        Case(
            (_labels(0, 1, 2, 1, 2), _labels(1, 1, 1, 1, 1), 3),
            note="a model that always predicts class 1: one full column",
        ),
        Case((_labels(2), _labels(0), 3), note="a single sample, a 2 called 0"),
        Case(
            (_labels(1, 0, 1, 1, 0, 1), _labels(1, 0, 1, 0, 0, 1), 2),
            note="the 0-vs-1 classifier: two classes",
        ),
    ),
    mistakes=(
        Mistake(
            "your matrix is transposed: rows are the *true* classes and columns the "
            "*predicted* ones, so a 0 predicted as 1 is counted in matrix[0, 1]",
            lambda true, predicted, classes: _loop_matrix(
                true, predicted, classes, transposed=True
            ),
        ),
        Mistake(
            "every cell is 0 or 1: you assigned (matrix[t, p] = 1) instead of counting "
            "(matrix[t, p] += 1). Note that the vectorised matrix[true, predicted] += 1 "
            "has the same bug — NumPy applies it once per distinct (t, p) pair; loop over "
            "the samples or use np.add.at(matrix, (true, predicted), 1)",
            lambda true, predicted, classes: _loop_matrix(true, predicted, classes, assign=True),
        ),
        Mistake(
            "you sized the matrix from the largest label in the data, so a class that never "
            "occurs at the end loses its row and column; the number of classes is the "
            "`classes` argument: np.zeros((classes, classes))",
            lambda true, predicted, classes: _loop_matrix(
                true, predicted, int(max(np.max(true), np.max(predicted))) + 1
            ),
        ),
        Mistake(
            "you built the rows from the labels present in the data (np.unique), so a class "
            "that never occurs disappears and the classes after it move up a row; row i must "
            "always be class i, for i in range(classes)",
            _from_present,
        ),
        Mistake(
            "your diagonal is empty: the correct predictions count too — matrix[t, t] is the "
            "number of samples of class t that were classified correctly",
            _only_mistakes,
        ),
    ),
    highlight="rows true, columns predicted, every class present, repeated pairs counted",
)


def check_confusion_matrix(fn: Callable[..., Any]) -> bool:
    """Check ``fn(true, predicted, classes)``: the ``(classes, classes)`` confusion matrix.

    ``matrix[i, j]`` counts the samples of true class ``i`` predicted as class ``j``
    (``ex-confusion-matrix``).

    Raises
    ------
    cnnlib.exercises.ExerciseError
        With the first wrong case, what is wrong and the likely mistake.
    """
    return CONFUSION_MATRIX.check(fn)


# ----------------------------------------------------------------------- binary accuracy
def _binary_accuracy(probabilities: Array, labels: Array, threshold: float = 0.5) -> float:
    return accuracy(np.asarray(probabilities, dtype=np.float64), labels, threshold=threshold)


def _broadcast(probabilities: Array, labels: Array, threshold: float = 0.5) -> float:
    return float(np.mean((probabilities > threshold) == labels))


BINARY_ACCURACY = Exercise(
    name="binary_accuracy",
    reference=_binary_accuracy,
    cases=(
        Case(
            (np.array([0.9, 0.2, 0.6, 0.3]), np.array([1, 0, 1, 1])),
            note="four predictions, the last one wrong: 3 of 4",
        ),
        Case(
            (np.array([[0.8], [0.4], [0.1], [0.7], [0.3]]), np.array([1, 0, 0, 0, 1])),
            note="a sigmoid model's output has shape (N, 1); the labels have shape (N,)",
        ),
        Case(
            (np.array([0.5, 0.5, 0.5, 0.9]), np.array([0, 0, 1, 1])),
            note="probabilities exactly at the threshold: 0.5 is not above 0.5, so class 0",
        ),
        Case(
            (np.array([0.95, 0.85, 0.5, 0.92]), np.array([1, 1, 0, 0])),
            {"threshold": 0.9},
            note="a stricter threshold of 0.9",
        ),
        Case(
            (np.array([0.1, 0.8, 0.3]), np.array([1.0, 0.0, 1.0])),
            note="every prediction wrong (and float 0.0/1.0 labels, as BCE uses them)",
        ),
        Case((np.array([[0.7]]), np.array([1])), note="a single sample"),
    ),
    mistakes=(
        Mistake(
            "you counted a probability equal to the threshold as class 1 (>=); the "
            "prediction is 1 only when p is *greater* than the threshold, as in cnnlib",
            lambda p, t, threshold=0.5: float(np.mean((p.reshape(-1) >= threshold) == t)),
        ),
        Mistake(
            "you compared an (N, 1) column with (N,) labels: NumPy broadcasts them to an "
            "(N, N) table of every prediction against every label, and its mean is "
            "meaningless. Flatten first: probabilities.reshape(-1)",
            _broadcast,
        ),
        Mistake(
            "you ignored the threshold argument and always split at 0.5",
            lambda p, t, threshold=0.5: float(np.mean((p.reshape(-1) > 0.5) == t)),
        ),
        Mistake(
            "you returned the number of correct predictions; accuracy is their fraction, "
            "between 0 and 1: divide by the number of samples (or take the mean)",
            lambda p, t, threshold=0.5: float(np.sum((p.reshape(-1) > threshold) == t)),
        ),
        Mistake(
            "you compared the probabilities with the labels directly (p == label is almost "
            "never true); threshold them first: (p > threshold) is the predicted class",
            lambda p, t, threshold=0.5: float(np.mean(p.reshape(-1) == t)),
        ),
        Mistake(
            "your classes are swapped: a probability *above* the threshold means class 1 "
            "(the sigmoid gives the probability of class 1)",
            lambda p, t, threshold=0.5: float(np.mean((p.reshape(-1) < threshold) == t)),
        ),
    ),
    highlight="thresholded strictly, (N, 1) flattened, a fraction between 0 and 1",
)


def check_binary_accuracy(fn: Callable[..., Any]) -> bool:
    """Check ``fn(probabilities, labels, threshold=0.5)``: the accuracy of a sigmoid output.

    A sample is predicted as class 1 when its probability is greater than ``threshold``;
    the answer is the fraction of samples predicted correctly (``ex-binary-accuracy``).

    Raises
    ------
    cnnlib.exercises.ExerciseError
        With the first wrong case, what is wrong and the likely mistake.
    """
    return BINARY_ACCURACY.check(fn)


# --------------------------------------------------------------------------- minibatches
def _minibatches(order: Array, batch_size: int) -> tuple[Array, ...]:
    return tuple(order[start : start + batch_size] for start in range(0, len(order), batch_size))


def _order(n: int, seed: int) -> NDArray[np.int64]:
    return np.random.default_rng(seed).permutation(n).astype(np.int64)


MINIBATCHES = Exercise(
    name="minibatches",
    reference=_minibatches,
    cases=(
        Case((_order(10, seed=1), 4), note="10 samples in batches of 4: 4, 4 and a last 2"),
        Case((_order(8, seed=2), 4), note="8 samples in batches of 4: exactly 2 batches"),
        Case((_order(5, seed=3), 16), note="a batch larger than the data set: one batch of 5"),
        Case((_order(3, seed=4), 1), note="batches of one sample"),
        Case((_order(100, seed=5), 32), note="100 samples in batches of 32: 32, 32, 32, 4"),
    ),
    mistakes=(
        Mistake(
            "you dropped the last, smaller batch (range(N // batch_size)): its samples are "
            "never trained on. There are ceil(N / batch_size) batches; the last may be "
            "smaller",
            lambda order, b: tuple(order[k * b : (k + 1) * b] for k in range(len(order) // b)),
        ),
        Mistake(
            "you added an empty batch at the end (range(N // batch_size + 1) when N is a "
            "multiple of the batch size); step through the data with "
            "range(0, N, batch_size) instead",
            lambda order, b: tuple(order[k * b : (k + 1) * b] for k in range(len(order) // b + 1)),
        ),
        Mistake(
            "you ignored `order` and batched the samples 0, 1, 2, … as they come: every "
            "epoch sees the same batches. Take the indices from the shuffled order: "
            "order[start : start + batch_size]",
            lambda order, b: tuple(
                np.arange(len(order))[s : s + b] for s in range(0, len(order), b)
            ),
        ),
        Mistake(
            "your batches overlap by one sample (order[start : start + batch_size + 1]); a "
            "slice's end is exclusive, so order[start : start + batch_size] holds exactly "
            "batch_size indices",
            lambda order, b: tuple(order[s : s + b + 1] for s in range(0, len(order), b)),
        ),
    ),
    highlight="every sample exactly once per epoch, in the shuffled order",
)


def check_minibatches(fn: Callable[..., Any]) -> bool:
    """Check ``fn(order, batch_size)``: the index arrays of one epoch's mini-batches.

    ``order`` is a permutation of ``0 … N−1``; the answer is a tuple (or list) of
    consecutive slices of it, ``batch_size`` indices each except perhaps the last
    (``ex-minibatches``).

    Raises
    ------
    cnnlib.exercises.ExerciseError
        With the first wrong case, what is wrong and the likely mistake.
    """
    return MINIBATCHES.check(fn)


# ---------------------------------------------------------------------------- step decay
def _step_decay(epoch: int, lr0: float, drop: float, every: int) -> float:
    return float(lr0 * drop ** (epoch // every))


STEP_DECAY = Exercise(
    name="step_decay",
    reference=_step_decay,
    cases=(
        Case((0, 1e-3, 0.5, 4), note="the first epoch (epoch 0): the initial rate"),
        Case((3, 1e-3, 0.5, 4), note="epoch 3, the last one before the first drop"),
        Case((4, 1e-3, 0.5, 4), note="epoch 4: the first drop, 0.001 · 0.5"),
        Case((6, 1e-3, 0.5, 4), note="epoch 6: still 0.001 · 0.5 until epoch 8"),
        Case((9, 1e-3, 0.5, 4), note="epoch 9: two drops, 0.001 · 0.5²"),
        Case((5, 0.1, 0.1, 1), note="dropping by 10 every epoch"),
        Case((7, 0.01, 1.0, 3), note="drop = 1: a constant learning rate"),
    ),
    mistakes=(
        Mistake(
            "your rate drops one epoch early: epochs count from 0 (as in fit's schedule), "
            "so with every=4 the epochs 0–3 use lr0 and the first drop is at epoch 4 — use "
            "epoch // every, not (epoch + 1) // every",
            lambda e, lr0, drop, every: float(lr0 * drop ** ((e + 1) // every)),
        ),
        Mistake(
            "your rate has dropped already at epoch 0: the number of drops so far is "
            "epoch // every, without + 1",
            lambda e, lr0, drop, every: float(lr0 * drop ** (e // every + 1)),
        ),
        Mistake(
            "your rate decays smoothly (epoch / every): a *step* decay stays constant for "
            "`every` epochs and then drops; use integer division, epoch // every",
            lambda e, lr0, drop, every: float(lr0 * drop ** (e / every)),
        ),
        Mistake(
            "your rate drops every epoch (drop ** epoch): it should drop once every `every` "
            "epochs, drop ** (epoch // every)",
            lambda e, lr0, drop, every: float(lr0 * drop**e),
        ),
        Mistake(
            "you multiplied by drop once per drop instead of compounding: after k drops the "
            "rate is lr0 · drop^k (0.5, 0.25, 0.125, …), not lr0 · drop · k",
            lambda e, lr0, drop, every: float(lr0 * drop * (e // every)) if e >= every else lr0,
        ),
        Mistake(
            "your rate grows: each drop *multiplies* by `drop` (a number below 1), "
            "lr0 · drop^k, rather than dividing by it",
            lambda e, lr0, drop, every: float(lr0 / drop ** (e // every)),
        ),
    ),
    highlight="constant for `every` epochs, then multiplied by `drop`, counting from epoch 0",
)


def check_step_decay(fn: Callable[..., Any]) -> bool:
    """Check ``fn(epoch, lr0, drop, every)``: the learning rate of a step-decay schedule.

    The rate starts at ``lr0`` and is multiplied by ``drop`` every ``every`` epochs,
    epochs counting from 0: ``lr0 · drop ** (epoch // every)`` (``ex-step-decay``).

    Raises
    ------
    cnnlib.exercises.ExerciseError
        With the first wrong case, what is wrong and the likely mistake.
    """
    return STEP_DECAY.check(fn)
