"""How good is a classifier? Accuracy, the confusion matrix and its worst cells (chapter 8).

``accuracy(scores_or_labels, labels)``
    The fraction of samples classified correctly. The first argument may be class scores
    ``(N, K)`` (logits or probabilities: the largest wins), binary scores ``(N,)`` or
    ``(N, 1)`` (thresholded) or predicted labels.
``confusion_matrix(true, predicted, classes=None)``
    ``matrix[i, j]`` counts the samples of true class ``i`` predicted as class ``j``:
    rows are true classes, columns predictions, the diagonal holds the correct answers.
``most_confused(matrix, top=3)``
    The largest off-diagonal cells: which class is mistaken for which, how often.

Labels are integers (floats that are whole numbers, such as the 0.0/1.0 targets of a
binary cross-entropy, are accepted too). Every function checks its inputs and says what is
wrong with them: shapes that do not match, scores with NaN, labels outside the classes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from cnnlib._validation import check_int

__all__ = ["accuracy", "confusion_matrix", "most_confused"]


def _labels(values: ArrayLike, name: str, owner: str) -> NDArray[np.int64]:
    """``values`` as a 1-D int64 array of class labels, or a clear error."""
    array = np.asarray(values)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1:
        hint = (
            "; for class scores (N, K) take scores.argmax(axis=1) first" if array.ndim == 2 else ""
        )
        raise ValueError(f"{owner}: {name} must be 1-D labels (N,), got shape {array.shape}{hint}")
    if array.size == 0:
        raise ValueError(f"{owner}: {name} is empty")
    if array.dtype.kind in "biu":
        return array.astype(np.int64)
    if array.dtype.kind == "f":
        bad = np.flatnonzero(~np.isfinite(array) | (np.mod(array, 1) != 0))
        if bad.size:
            index = int(bad[0])
            raise ValueError(
                f"{owner}: {name} must hold whole-number class labels; "
                f"{name}[{index}] is {array[index].item()!r}"
            )
        return array.astype(np.int64)
    raise TypeError(f"{owner}: {name} has dtype {array.dtype}; expected integer class labels")


def _same_length(first: NDArray[Any], second: NDArray[Any], names: str, owner: str) -> None:
    if len(first) != len(second):
        raise ValueError(
            f"{owner}: {names} must have one entry per sample, got {len(first)} and {len(second)}"
        )


def accuracy(scores_or_labels: ArrayLike, labels: ArrayLike, threshold: float = 0.5) -> float:
    """The fraction of samples whose predicted class is the true one.

    Parameters
    ----------
    scores_or_labels
        What the model says, in one of three forms:

        * class scores ``(N, K)`` with ``K ≥ 2`` — logits or probabilities, as
          :meth:`cnnlib.model.Sequential.predict` returns them: the predicted class is the
          column with the largest score;
        * binary scores, floats of shape ``(N,)`` or ``(N, 1)`` — the output of a
          sigmoid: the prediction is 1 where the score is greater than ``threshold``;
        * predicted labels, integers of shape ``(N,)`` (or ``(N, 1)``).
    labels
        The true classes, ``N`` integers (whole-number floats are accepted).
    threshold
        For binary scores: 0.5 for probabilities, 0.0 for logits.

    Returns
    -------
    float
        Between 0 and 1.

    Raises
    ------
    ValueError
        If the shapes do not match, an array is empty, a score is NaN, or binary scores
        are compared with labels other than 0 and 1.
    TypeError
        If an array does not hold numbers.

    Examples
    --------
    >>> accuracy([[2.0, 0.5], [0.1, 0.3], [1.0, -1.0]], [0, 1, 1])
    0.6666666666666666
    >>> accuracy([0.9, 0.2, 0.6], [1, 0, 0])
    0.6666666666666666
    """
    owner = "accuracy"
    truth = _labels(labels, "labels", owner)
    said = np.asarray(scores_or_labels)
    if said.dtype.kind not in "biuf":
        raise TypeError(
            f"{owner}: scores_or_labels has dtype {said.dtype}; expected scores or labels"
        )
    if said.ndim == 2 and said.shape[1] >= 2:
        if said.dtype.kind == "f" and np.isnan(said).any():
            raise ValueError(f"{owner}: the scores contain NaN")
        predicted = said.argmax(axis=1)
    elif said.dtype.kind == "f":
        scores = said[:, 0] if said.ndim == 2 else said
        if scores.ndim != 1:
            raise ValueError(
                f"{owner}: scores_or_labels must be (N, K) scores, (N,) binary scores or "
                f"(N,) labels, got shape {said.shape}"
            )
        if np.isnan(scores).any():
            raise ValueError(f"{owner}: the scores contain NaN")
        outside = np.flatnonzero((truth != 0) & (truth != 1))
        if outside.size:
            raise ValueError(
                f"{owner}: float scores with one column are read as binary scores "
                f"(thresholded at {threshold}), but labels[{int(outside[0])}] is "
                f"{int(truth[outside[0]])}; pass predicted labels as integers"
            )
        predicted = (scores > threshold).astype(np.int64)
    else:
        predicted = _labels(said, "scores_or_labels", owner)
    _same_length(predicted, truth, "scores_or_labels and labels", owner)
    return float(np.mean(predicted == truth))


def confusion_matrix(
    true: ArrayLike,
    predicted: ArrayLike,
    classes: int | Sequence[Any] | None = None,
) -> NDArray[np.int64]:
    """Count every (true class, predicted class) pair: rows are true, columns predicted.

    ``matrix[i, j]`` is the number of samples of class ``classes[i]`` that were predicted
    as ``classes[j]``. The diagonal holds the correct predictions, so
    ``matrix.trace() / matrix.sum()`` is the accuracy, a row sums to the number of
    samples of its class, and a column to the number of times its class was predicted.

    Parameters
    ----------
    true, predicted
        ``N`` labels each (take ``scores.argmax(axis=1)`` of a model's output first).
    classes
        ``K`` for the classes ``0 … K−1``, or the sequence of labels in the order of the
        rows. By default ``0 … max`` of both arrays, so a class that is never predicted
        still has its column (scikit-learn, unlike this, uses only the labels present).

    Returns
    -------
    numpy.ndarray
        ``(K, K)`` int64 counts.

    Raises
    ------
    ValueError
        If the arrays differ in length, are empty, hold a label that is not one of
        ``classes`` (the message names it and its index) or negative labels without
        ``classes``, or if ``classes`` repeats a label.

    Examples
    --------
    >>> confusion_matrix([0, 0, 1, 2, 2], [0, 1, 1, 2, 0])
    array([[1, 1, 0],
           [0, 1, 0],
           [1, 0, 1]])
    """
    owner = "confusion_matrix"
    t = np.asarray(true)
    p = np.asarray(predicted)
    if isinstance(classes, Sequence | np.ndarray) and not isinstance(classes, str):
        names = np.asarray(classes)
        if names.ndim != 1 or names.size == 0:
            raise ValueError(f"{owner}: classes must be a non-empty sequence of labels")
        unique, counts = np.unique(names, return_counts=True)
        if np.any(counts > 1):
            raise ValueError(f"{owner}: classes repeats the label {unique[counts > 1][0].item()!r}")
        t_index = _positions(t, names, "true", owner)
        p_index = _positions(p, names, "predicted", owner)
        k = names.size
    else:
        t_index = _labels(t, "true", owner)
        p_index = _labels(p, "predicted", owner)
        for array, name in ((t_index, "true"), (p_index, "predicted")):
            negative = np.flatnonzero(array < 0)
            if negative.size:
                raise ValueError(
                    f"{owner}: {name}[{int(negative[0])}] is {int(array[negative[0]])}; labels "
                    "are class indices 0 … K−1 (give classes=[...] for other labels)"
                )
        if classes is None:
            k = int(max(t_index.max(), p_index.max())) + 1
        else:
            k = check_int(classes, "classes", owner=owner, minimum=1)
            for array, name in ((t_index, "true"), (p_index, "predicted")):
                outside = np.flatnonzero(array >= k)
                if outside.size:
                    raise ValueError(
                        f"{owner}: {name}[{int(outside[0])}] is {int(array[outside[0]])}, "
                        f"outside the {k} classes 0 … {k - 1}"
                    )
    _same_length(t_index, p_index, "true and predicted", owner)
    counts = np.bincount(t_index * k + p_index, minlength=k * k)
    return counts.reshape(k, k).astype(np.int64)


def _positions(
    values: NDArray[Any], names: NDArray[Any], name: str, owner: str
) -> NDArray[np.int64]:
    """The row of every label in ``names``, or an error naming the first unknown label."""
    if values.ndim == 2 and values.shape[1] == 1:
        values = values[:, 0]
    if values.ndim != 1:
        raise ValueError(f"{owner}: {name} must be 1-D labels (N,), got shape {values.shape}")
    if values.size == 0:
        raise ValueError(f"{owner}: {name} is empty")
    order = np.argsort(names, kind="stable")
    ordered = names[order]
    try:
        where = np.clip(np.searchsorted(ordered, values), 0, len(ordered) - 1)
        found = ordered[where] == values
    except (TypeError, np.exceptions.DTypePromotionError):
        found = np.zeros(len(values), dtype=bool)
        where = np.zeros(len(values), dtype=np.intp)
    missing = np.flatnonzero(~np.asarray(found, dtype=bool))
    if missing.size:
        index = int(missing[0])
        raise ValueError(
            f"{owner}: {name}[{index}] is {values[index].item()!r}, which is not one of the "
            f"classes {names.tolist()}"
        )
    return order[where].astype(np.int64)


def most_confused(
    matrix: ArrayLike, top: int = 3, classes: Sequence[Any] | None = None
) -> list[tuple[Any, Any, int]]:
    """The ``top`` largest off-diagonal cells of a confusion matrix, largest first.

    Parameters
    ----------
    matrix
        A square confusion matrix, rows true and columns predicted.
    top
        How many pairs to return (fewer if there are fewer mistakes).
    classes
        The labels of the rows; by default ``0 … K−1``.

    Returns
    -------
    list
        ``(true class, predicted class, count)`` for each pair with a count above zero;
        ties are broken by the order of the rows, then of the columns.

    Examples
    --------
    >>> most_confused([[5, 2, 0], [0, 7, 1], [3, 0, 4]], top=2)
    [(2, 0, 3), (0, 1, 2)]
    """
    owner = "most_confused"
    counts = np.asarray(matrix)
    if counts.ndim != 2 or counts.shape[0] != counts.shape[1]:
        raise ValueError(f"{owner}: matrix must be square (K, K), got shape {counts.shape}")
    if counts.dtype.kind not in "iuf":
        raise TypeError(f"{owner}: matrix has dtype {counts.dtype}; expected counts")
    top = check_int(top, "top", owner=owner, minimum=0)
    k = counts.shape[0]
    names = list(range(k)) if classes is None else list(classes)
    if len(names) != k:
        raise ValueError(f"{owner}: {len(names)} class names for a {k}×{k} matrix")
    off = counts.astype(np.float64)
    np.fill_diagonal(off, -np.inf)
    flat = off.reshape(-1)
    order = np.argsort(-flat, kind="stable")
    pairs = []
    for position in order[:top]:
        if not flat[position] > 0:
            break
        i, j = divmod(int(position), k)
        pairs.append((names[i], names[j], int(counts[i, j])))
    return pairs
