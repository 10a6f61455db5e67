"""Figures of chapter 8: digits, training curves, the confusion matrix and the mistakes."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.ticker import FuncFormatter, MaxNLocator
from numpy.typing import ArrayLike, NDArray

from cnnlib._validation import check_int
from cnnlib.viz.figure import PALETTE, Figure, new_figure

__all__ = ["confusion_matrix_figure", "image_grid", "mistakes_figure", "training_curves"]

#: Train and validation colours (Okabe–Ito blue and vermillion).
TRAIN_COLOUR, VALIDATION_COLOUR = PALETTE["series"], PALETTE["contrast"]


# ---------------------------------------------------------------------------- images
def _images(images: ArrayLike, owner: str) -> NDArray[np.float64]:
    """``(N, 1, H, W)`` or ``(N, H, W)`` → ``(N, H, W)`` floats."""
    batch = np.asarray(images, dtype=np.float64)
    if batch.ndim == 4 and batch.shape[1] == 1:
        batch = batch[:, 0]
    if batch.ndim != 3:
        raise ValueError(
            f"{owner}: images must be (N, 1, H, W) or (N, H, W) grey images, "
            f"got shape {batch.shape}"
        )
    return batch


def image_grid(
    images: ArrayLike,
    titles: Sequence[str] | None = None,
    *,
    columns: int = 10,
    size: float = 1.0,
    fontsize: float = 11,
) -> Figure:
    """Grey images in a grid, each with an optional title, without axes.

    Parameters
    ----------
    images
        ``(N, 1, H, W)`` or ``(N, H, W)``, e.g. a batch of digits; each image is shown
        from black (0) to white (1), the range of :func:`cnnlib.datasets.load_mnist`
        (brighter values are clipped).
    titles
        One short title per image, such as its label.
    columns
        Images per row.
    size
        Width of each image in inches.
    fontsize
        Size of the titles.

    Raises
    ------
    ValueError
        For no images, images that are not grey, or a number of titles that does not match.
    """
    owner = "image_grid"
    batch = _images(images, owner)
    if len(batch) == 0:
        raise ValueError(f"{owner}: give at least one image")
    columns = check_int(columns, "columns", owner=owner, minimum=1)
    names = list(titles) if titles is not None else None
    if names is not None and len(names) != len(batch):
        raise ValueError(f"{owner}: {len(batch)} images but {len(names)} titles")
    columns = min(columns, len(batch))
    rows = math.ceil(len(batch) / columns)
    title_space = 0.026 * fontsize if names is not None else 0.0
    fig = new_figure(size * columns, (size + title_space) * rows)
    axes = fig.subplots(rows, columns, squeeze=False)
    low = min(0.0, float(batch.min()))
    for index, ax in enumerate(axes.flat):
        ax.set_axis_off()
        if index >= len(batch):
            continue
        ax.imshow(batch[index], cmap="gray", vmin=low, vmax=1.0, interpolation="nearest")
        if names is not None:
            ax.set_title(names[index], fontsize=fontsize, pad=2)
    return fig


# --------------------------------------------------------------------- training curves
def _history(history: Any) -> Mapping[str, Sequence[float]]:
    record = getattr(history, "history", history)
    if not isinstance(record, Mapping):
        raise TypeError(
            f"training_curves: expected a History (from Sequential.fit) or a dict of "
            f"per-epoch lists, got {type(history).__name__}"
        )
    return record


def _sparse_log_label(value: float, _: object) -> str:
    """Label the minor ticks 2, 3 and 5 of every decade (0.2, 30, …), leave the rest bare."""
    if value <= 0:
        return ""
    leading = value / 10 ** math.floor(math.log10(value) + 1e-9)
    return (
        f"{value:g}" if round(leading) in (2, 3, 5) and abs(leading - round(leading)) < 1e-6 else ""
    )


def training_curves(history: Any, *, title: str | None = None) -> Figure:
    """Loss and accuracy per epoch, training against validation, side by side.

    The training values are averages over each epoch's batches, taken while the weights
    were still changing (and with dropout and augmentation on); the validation values are
    measured once at the end of the epoch. A validation curve that turns upwards while
    the training curve keeps falling is the signature of overfitting.

    Parameters
    ----------
    history
        The :class:`cnnlib.model.History` that :meth:`cnnlib.model.Sequential.fit` returns, or
        its ``history`` dictionary: ``"loss"`` and optionally ``"accuracy"``,
        ``"val_loss"``, ``"val_accuracy"``, one value per epoch.
    title
        Above both panels.

    Raises
    ------
    ValueError
        If there is no ``"loss"``, no epoch, or a metric with a different number of epochs.
    TypeError
        If ``history`` is neither a History nor a dictionary.
    """
    owner = "training_curves"
    record = _history(history)
    if not record:
        raise ValueError(f"{owner}: the history holds no epoch yet")
    if "loss" not in record:
        raise ValueError(f"{owner}: the history has no 'loss' (keys: {sorted(record)})")
    epochs = len(record["loss"])
    if epochs == 0:
        raise ValueError(f"{owner}: the history holds no epoch yet")
    for key in ("accuracy", "val_loss", "val_accuracy"):
        if key in record and len(record[key]) != epochs:
            raise ValueError(
                f"{owner}: '{key}' has {len(record[key])} values but 'loss' has {epochs}"
            )
    panels = [("loss", "loss")]
    if "accuracy" in record or "val_accuracy" in record:
        panels.append(("accuracy", "accuracy (%)"))
    fig = new_figure(4.6 * len(panels), 3.4)
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    x = np.arange(1, epochs + 1)
    for ax, (key, label) in zip(axes, panels, strict=True):
        scale = 100.0 if key == "accuracy" else 1.0
        for name, colour, marker, text in (
            (key, TRAIN_COLOUR, "o", "training"),
            (f"val_{key}", VALIDATION_COLOUR, "s", "validation"),
        ):
            if name in record:
                values = scale * np.asarray(record[name], dtype=np.float64)
                ax.plot(x, values, marker=marker, markersize=4, linewidth=1.8, color=colour)
                ax.lines[-1].set_label(text)
        if key == "loss" and all(v > 0 for k in ("loss", "val_loss") for v in record.get(k, [])):
            ax.set_yscale("log")
            ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
            ax.yaxis.set_minor_formatter(FuncFormatter(_sparse_log_label))
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=9)
    if title:
        fig.suptitle(title, fontsize=11)
    return fig


# --------------------------------------------------------------------- confusion matrix
def confusion_matrix_figure(
    matrix: ArrayLike,
    classes: Sequence[Any] | None = None,
    *,
    title: str | None = None,
    size: float = 0.55,
) -> Figure:
    """A confusion matrix as a table of counts: rows are true classes, columns predictions.

    Correct answers (the diagonal) are drawn in green; mistakes in shades of red, darker
    for more frequent ones, on their own (square-root) scale so that a handful of errors
    is visible next to a thousand correct answers. Empty cells are left blank.

    Parameters
    ----------
    matrix
        ``(K, K)`` counts, e.g. from :func:`cnnlib.metrics.confusion_matrix`.
    classes
        The class names along both axes; by default ``0 … K−1``.
    title
        Above the table; by default the accuracy, ``trace / total``.
    size
        The side of one cell in inches.

    Raises
    ------
    ValueError
        If ``matrix`` is not square or holds negative counts, or the names do not fit.
    """
    owner = "confusion_matrix_figure"
    counts = np.asarray(matrix)
    if counts.ndim != 2 or counts.shape[0] != counts.shape[1] or counts.shape[0] == 0:
        raise ValueError(f"{owner}: matrix must be square (K, K), got shape {counts.shape}")
    if counts.dtype.kind not in "iuf" or np.any(counts < 0):
        raise ValueError(f"{owner}: matrix must hold non-negative counts")
    k = counts.shape[0]
    names = [str(c) for c in (range(k) if classes is None else classes)]
    if len(names) != k:
        raise ValueError(f"{owner}: {len(names)} class names for a {k}×{k} matrix")
    off = counts.astype(np.float64)
    np.fill_diagonal(off, 0)
    worst = float(off.max()) or 1.0
    cell = max(size, 0.3)
    fig = new_figure(cell * k + 1.3, cell * k + 1.1)
    ax = fig.subplots()
    mistake_colours = np.array([[1.0, 0.93, 0.90], [0.80, 0.12, 0.10]])  # light → dark red
    correct = np.array([0.80, 0.92, 0.80])
    image = np.ones((k, k, 3))
    for i in range(k):
        for j in range(k):
            value = counts[i, j]
            if i == j:
                image[i, j] = correct if value else (1.0, 1.0, 1.0)
            elif value:
                share = math.sqrt(float(off[i, j]) / worst)  # a few mistakes still show
                image[i, j] = mistake_colours[0] + share * (mistake_colours[1] - mistake_colours[0])
    ax.imshow(image, interpolation="nearest")
    fontsize = 9 if k <= 10 else 7
    for i in range(k):
        for j in range(k):
            value = counts[i, j]
            if value == 0 and i != j:
                continue
            text = f"{value:g}" if counts.dtype.kind == "f" else str(int(value))
            dark = i != j and math.sqrt(float(off[i, j]) / worst) > 0.7
            ax.text(
                j,
                i,
                text,
                ha="center",
                va="center",
                fontsize=fontsize,
                color="white" if dark else "#111111",
                fontweight="bold" if i == j else "normal",
            )
    ax.set_xticks(range(k), names, fontsize=9)
    ax.set_yticks(range(k), names, fontsize=9)
    ax.xaxis.set_ticks_position("top")
    ax.xaxis.set_label_position("top")
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_xticks(np.arange(-0.5, k, 1), minor=True)
    ax.set_yticks(np.arange(-0.5, k, 1), minor=True)
    ax.grid(which="minor", color="#bbbbbb", linewidth=0.6)
    ax.tick_params(which="minor", length=0)
    ax.tick_params(which="major", length=0)
    total = float(counts.sum())
    if title is None and total:
        title = f"accuracy {np.trace(counts) / total:.2%} of {total:,.0f}"
    if title:
        ax.set_title(title, fontsize=10, pad=6, y=-0.02 - 0.25 / max(cell * k, 1), loc="center")
    return fig


# --------------------------------------------------------------------------- mistakes
def _predictions(
    probabilities: ArrayLike, n: int, owner: str
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """Predicted class and its probability, from ``(N, K)`` or binary ``(N,)``/``(N, 1)``."""
    p = np.asarray(probabilities, dtype=np.float64)
    if p.ndim == 2 and p.shape[1] == 1:
        p = p[:, 0]
    if p.ndim == 1:
        if np.any((p < 0) | (p > 1)):
            raise ValueError(
                f"{owner}: binary probabilities must lie in [0, 1]; apply the sigmoid to logits"
            )
        predicted = (p > 0.5).astype(np.int64)
        confidence = np.where(predicted == 1, p, 1 - p)
    elif p.ndim == 2:
        if np.any(p < 0) or not np.allclose(p.sum(axis=1), 1, atol=1e-3):
            raise ValueError(
                f"{owner}: each row of probabilities must sum to 1; apply the softmax to logits"
            )
        predicted = p.argmax(axis=1).astype(np.int64)
        confidence = p[np.arange(len(p)), predicted]
    else:
        raise ValueError(
            f"{owner}: probabilities must be (N, K) or (N,), got shape {np.shape(probabilities)}"
        )
    if len(p) != n:
        raise ValueError(f"{owner}: {n} images but {len(p)} rows of probabilities")
    return predicted, confidence


def mistakes_figure(
    images: ArrayLike,
    labels: ArrayLike,
    probabilities: ArrayLike,
    *,
    classes: Sequence[Any] | None = None,
    limit: int = 24,
    columns: int = 6,
    size: float = 1.25,
) -> Figure:
    """The misclassified images, most confident mistakes first, titled ``true → predicted``.

    Each title reads ``4 → 9 (0.87)``: a 4 that the model called a 9, giving the 9 a
    probability of 0.87. A confident mistake is either a digit a person would misread
    too, a mislabelled image, or a real weakness of the model.

    Parameters
    ----------
    images
        ``(N, 1, H, W)`` or ``(N, H, W)``.
    labels
        The ``N`` true classes.
    probabilities
        ``(N, K)`` class probabilities (the softmax of the model's logits), or ``(N,)``
        (or ``(N, 1)``) probabilities of class 1 for a binary classifier.
    classes
        Names for the class indices, e.g. ``["zero", "one"]``; by default the indices.
    limit
        At most this many images.
    columns
        Images per row.
    size
        Width of each image in inches.

    Raises
    ------
    ValueError
        If the numbers of images, labels and probabilities differ, or the probabilities
        are not probabilities.
    """
    owner = "mistakes_figure"
    batch = _images(images, owner)
    truth = np.asarray(labels).reshape(-1).astype(np.int64)
    if len(truth) != len(batch):
        raise ValueError(f"{owner}: {len(batch)} images but {len(truth)} labels")
    limit = check_int(limit, "limit", owner=owner, minimum=1)
    predicted, confidence = _predictions(probabilities, len(batch), owner)
    wrong = np.flatnonzero(predicted != truth)
    wrong = wrong[np.argsort(-confidence[wrong], kind="stable")][:limit]
    if wrong.size == 0:
        fig = new_figure(3.0, 0.6)
        ax = fig.subplots()
        ax.set_axis_off()
        ax.text(0.5, 0.5, "no misclassified images", ha="center", va="center", fontsize=11)
        return fig

    def name(index: int) -> str:
        return str(classes[index]) if classes is not None else str(index)

    titles = [
        f"{name(int(truth[i]))} → {name(int(predicted[i]))} ({confidence[i]:.2f})" for i in wrong
    ]
    return image_grid(batch[wrong], titles, columns=columns, size=size, fontsize=10)
