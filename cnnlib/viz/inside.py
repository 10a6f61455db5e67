"""Figures of chapter 9: filters, feature maps, saliency and Grad-CAM maps, probe accuracies."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from cnnlib._validation import check_int
from cnnlib.viz.figure import PALETTE, Figure, new_figure
from cnnlib.viz.training import _images

__all__ = [
    "attribution_figure",
    "feature_maps_figure",
    "filters_figure",
    "probe_accuracy_figure",
]

#: Bars of the probe figure (Okabe–Ito blue) and the chance line (vermillion).
BAR_COLOUR, CHANCE_COLOUR = PALETTE["series"], PALETTE["contrast"]


def filters_figure(
    weights: ArrayLike,
    *,
    columns: int = 8,
    size: float = 0.9,
    title: str | None = None,
) -> Figure:
    """First-layer filters as small images, on one shared diverging colour scale.

    Red weights are positive (the filter responds to ink there), blue ones negative
    (ink there lowers the response); white is zero. The scale is shared, so a pale filter
    is a weak one.

    Parameters
    ----------
    weights
        ``(F, 1, k_h, k_w)`` (a ``Conv2D`` on grey images) or ``(F, k_h, k_w)``.
    columns
        Filters per row.
    size
        Width of each filter in inches.
    title
        Above the grid.

    Raises
    ------
    ValueError
        For weights of another shape (for several input channels, pick one first).
    """
    owner = "filters_figure"
    kernels = np.asarray(weights, dtype=np.float64)
    if kernels.ndim == 4 and kernels.shape[1] == 1:
        kernels = kernels[:, 0]
    if kernels.ndim != 3 or kernels.shape[0] == 0:
        raise ValueError(
            f"{owner}: weights must be (F, 1, kh, kw) or (F, kh, kw), got shape "
            f"{np.shape(weights)}; for several input channels pass weights[:, channel]"
        )
    columns = min(check_int(columns, "columns", owner=owner, minimum=1), len(kernels))
    rows = -(-len(kernels) // columns)
    fig = new_figure(size * columns + 0.9, (size + 0.25) * rows + (0.3 if title else 0.0))
    axes = fig.subplots(rows, columns, squeeze=False)
    limit = float(np.abs(kernels).max()) or 1.0
    shown = None
    for index, ax in enumerate(axes.flat):
        ax.set_axis_off()
        if index >= len(kernels):
            continue
        shown = ax.imshow(
            kernels[index], cmap="RdBu_r", vmin=-limit, vmax=limit, interpolation="nearest"
        )
        ax.set_title(str(index), fontsize=9, pad=2)
    assert shown is not None
    fig.colorbar(shown, ax=axes, shrink=0.8, label="weight")
    if title:
        fig.suptitle(title, fontsize=11)
    return fig


def feature_maps_figure(
    image: ArrayLike,
    maps: Mapping[str, ArrayLike],
    *,
    channels: int = 8,
    size: float = 0.85,
) -> Figure:
    """An image and the feature maps it produces, one row per layer.

    Each map is drawn on its own scale from 0 (dark) to its largest value (bright), so the
    figure shows *where* each channel responds, not how strongly compared with the others;
    a map that is zero everywhere is drawn dark and marked "0".

    Parameters
    ----------
    image
        The input, ``(1, H, W)`` or ``(H, W)``.
    maps
        ``{row label: (C, h, w) maps}``, e.g. one image's outputs of some layers.
    channels
        At most this many maps per layer (the first ones).
    size
        Width of each map in inches.

    Raises
    ------
    ValueError
        For an image that is not one grey image, or maps that are not ``(C, h, w)``.
    """
    owner = "feature_maps_figure"
    picture = np.asarray(image, dtype=np.float64)
    if picture.ndim == 3 and picture.shape[0] == 1:
        picture = picture[0]
    if picture.ndim != 2:
        raise ValueError(f"{owner}: image must be (1, H, W) or (H, W), got {np.shape(image)}")
    layers = {name: np.asarray(value, dtype=np.float64) for name, value in maps.items()}
    if not layers:
        raise ValueError(f"{owner}: give at least one layer's maps")
    for name, value in layers.items():
        if value.ndim != 3:
            raise ValueError(
                f"{owner}: the maps of {name!r} must be (C, h, w) for one image, "
                f"got shape {value.shape}"
            )
    channels = check_int(channels, "channels", owner=owner, minimum=1)
    columns = 1 + min(channels, max(value.shape[0] for value in layers.values()))
    fig = new_figure(size * columns + 1.2, (size + 0.2) * (len(layers) + 1))
    axes = fig.subplots(len(layers) + 1, columns, squeeze=False)
    for ax in axes.flat:
        ax.set_axis_off()
    axes[0, 0].imshow(picture, cmap="gray", interpolation="nearest")
    axes[0, 0].set_title("input", fontsize=9, pad=2)
    for row, (name, value) in enumerate(layers.items(), start=1):
        label = f"{name}\n{'×'.join(str(n) for n in value.shape)}"
        axes[row, 0].text(0.5, 0.5, label, ha="center", va="center", fontsize=8)
        for column, fmap in enumerate(value[: columns - 1], start=1):
            ax = axes[row, column]
            top = float(fmap.max())
            ax.imshow(fmap, cmap="viridis", vmin=0, vmax=top if top > 0 else 1.0)
            ax.set_title("0" if top <= 0 else str(column - 1), fontsize=8, pad=1)
    return fig


def _normalised(maps: NDArray[np.float64]) -> NDArray[np.float64]:
    """Each map divided by its largest absolute value (all-zero maps stay zero)."""
    peak = np.abs(maps).reshape(len(maps), -1).max(axis=1)
    result: NDArray[np.float64] = maps / np.where(peak > 0, peak, 1.0)[:, None, None]
    return result


def attribution_figure(
    images: ArrayLike,
    maps: Mapping[str, ArrayLike],
    *,
    titles: Sequence[str] | None = None,
    size: float = 1.15,
    outline: bool = True,
) -> Figure:
    """Images in the first row, and under them one row per attribution map.

    Each map (saliency, Grad-CAM, …) is normalised to its own maximum and drawn from
    black (0) through red to yellow (1); the digit's outline is drawn over it in light
    blue so the heat can be placed on the strokes.

    Parameters
    ----------
    images
        ``(N, 1, H, W)`` or ``(N, H, W)`` grey images in [0, 1].
    maps
        ``{row label: (N, H, W)}``, non-negative maps for the same images.
    titles
        One title per image (column).
    size
        Width of each panel in inches.
    outline
        Draw the digit's outline (the 0.5 contour of the image) over the maps.

    Raises
    ------
    ValueError
        If a map's shape does not match the images, or a map has negative values.
    """
    owner = "attribution_figure"
    batch = _images(images, owner)
    if len(batch) == 0:
        raise ValueError(f"{owner}: give at least one image")
    rows = {name: np.asarray(value, dtype=np.float64) for name, value in maps.items()}
    for name, value in rows.items():
        if value.shape != batch.shape:
            raise ValueError(
                f"{owner}: the maps {name!r} have shape {value.shape}, the images {batch.shape}"
            )
        if np.any(value < 0):
            raise ValueError(f"{owner}: the maps {name!r} have negative values; pass |maps|")
    names = list(titles) if titles is not None else None
    if names is not None and len(names) != len(batch):
        raise ValueError(f"{owner}: {len(batch)} images but {len(names)} titles")
    n = len(batch)
    fig = new_figure(size * n + 1.3, (size + 0.15) * (len(rows) + 1))
    axes = fig.subplots(len(rows) + 1, n, squeeze=False)
    for column in range(n):
        ax = axes[0, column]
        ax.imshow(batch[column], cmap="gray", vmin=0, vmax=1, interpolation="nearest")
        if names is not None:
            ax.set_title(names[column], fontsize=9, pad=2)
    for row, (name, value) in enumerate(rows.items(), start=1):
        shown = _normalised(value)
        for column in range(n):
            ax = axes[row, column]
            ax.imshow(shown[column], cmap="inferno", vmin=0, vmax=1, interpolation="nearest")
            if outline and batch[column].max() > 0.5:
                ax.contour(batch[column], levels=[0.5], colors="#9ad0ff", linewidths=0.7)
        axes[row, 0].set_ylabel(name, fontsize=9)
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
        for spine in ax.spines.values():
            spine.set_visible(False)
    axes[0, 0].set_ylabel("input", fontsize=9)
    return fig


def probe_accuracy_figure(
    results: Sequence[Any],
    *,
    chance: float | None = 0.1,
    bottom: float | None = None,
    title: str | None = None,
) -> Figure:
    """Bars of a linear probe's held-out accuracy per layer, from the input to the scores.

    Parameters
    ----------
    results
        Rows with ``layer``, ``test_accuracy`` and optionally ``train_accuracy`` attributes,
        e.g. from :func:`cnnlib.interpret.probe_layers`, in order of depth.
    chance
        The accuracy of guessing, drawn as a dashed line (``None`` for none).
    bottom
        Where the accuracy axis starts, in percent; by default 10 points below the
        lowest bar, rounded down to a multiple of 10 (the axis is labelled so).
    title
        Above the bars.

    Raises
    ------
    ValueError
        For no rows, or accuracies outside [0, 1].
    """
    owner = "probe_accuracy_figure"
    if len(results) == 0:
        raise ValueError(f"{owner}: give at least one probe result")
    names = [str(row.layer) for row in results]
    test = 100 * np.array([float(row.test_accuracy) for row in results])
    train = [getattr(row, "train_accuracy", None) for row in results]
    if np.any((test < 0) | (test > 100)):
        raise ValueError(f"{owner}: accuracies must lie in [0, 1]")
    low = bottom if bottom is not None else max(0.0, 10 * np.floor((test.min() - 10) / 10))
    fig = new_figure(0.75 * len(names) + 1.5, 3.4)
    ax = fig.subplots()
    positions = np.arange(len(names))
    bars = ax.bar(positions, test - low, bottom=low, color=BAR_COLOUR, width=0.65)
    bars.set_label("held-out accuracy")
    for x, value in zip(positions, test, strict=True):
        ax.text(
            float(x),
            value - 0.5,
            f"{value:.1f}",
            ha="center",
            va="top",
            fontsize=8,
            color="white",
            fontweight="bold",
        )
    if all(t is not None for t in train):
        ax.plot(
            positions,
            [100 * float(t) for t in train if t is not None],
            "k_",
            markersize=14,
            label="training accuracy",
        )
    if chance is not None and 100 * chance >= low:
        ax.axhline(100 * chance, color=CHANCE_COLOUR, linestyle="--", label="chance")
    ax.set_xticks(positions, names, rotation=35, ha="right", fontsize=9)
    ax.set_ylim(low, 101)
    ax.set_ylabel(
        f"probe accuracy (%)\n(axis starts at {low:g} %)" if low else "probe accuracy (%)"
    )
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    if title:
        ax.set_title(title, fontsize=11)
    return fig
