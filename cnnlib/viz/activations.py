"""Figures of chapter 5: flattening order, activations, per-layer statistics, optimiser paths."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.ticker import MaxNLocator
from numpy.typing import ArrayLike, NDArray

from cnnlib._validation import check_int
from cnnlib.layers import Layer
from cnnlib.layers.activations import ACTIVATIONS
from cnnlib.viz.figure import PALETTE, Figure, new_figure
from cnnlib.viz.grid import draw_grid

__all__ = [
    "CHANNEL_COLOURS",
    "activation_curves",
    "activation_figure",
    "flatten_figure",
    "layer_profile_figure",
    "optimizer_paths_figure",
]

#: Fill colours of channels 0, 1, 2, … (repeated for more channels).
CHANNEL_COLOURS = (PALETTE["output"], PALETTE["window_fill"], PALETTE["excluded"], "#cfe8c8")

#: Line colours for several curves in one plot (colour-blind safe: Okabe–Ito).
LINE_COLOURS = ("#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#000000")

DEFAULT_ACTIVATIONS = ("relu", "leaky_relu", "elu", "gelu", "sigmoid", "tanh")


# ------------------------------------------------------------------------------- flatten
def flatten_figure(shape: Sequence[int] = (3, 2, 2)) -> Figure:
    """Where each value of a ``(C, H, W)`` volume lands when it is flattened (NCHW, C order).

    Every cell shows its position in the flat vector, ``c·H·W + i·W + j``, and is coloured
    by its channel; the strip below is the flattened vector. Channel 0 comes first, row by
    row, then channel 1, and so on.

    Parameters
    ----------
    shape
        ``(C, H, W)`` of one sample; keep it small (every value is written in its cell).

    Raises
    ------
    ValueError
        If ``shape`` does not have three entries or holds more than 64 values.
    """
    owner = "flatten_figure"
    if len(shape) != 3:
        raise ValueError(f"{owner}: shape must be (C, H, W), got {tuple(shape)}")
    channels, height, width = (
        check_int(n, name, owner=owner, minimum=1)
        for n, name in zip(shape, ("C", "H", "W"), strict=True)
    )
    size = channels * height * width
    if size > 64:
        raise ValueError(f"{owner}: {size} values do not fit in one row; use at most 64")
    flat = np.arange(size).reshape(channels, height, width)
    strip_fill = {
        (0, int(k)): CHANNEL_COLOURS[int(k) // (height * width) % len(CHANNEL_COLOURS)]
        for k in range(size)
    }
    cell = 0.42
    fig = new_figure(max(cell * size, cell * (channels * (width + 1))) + 0.4, cell * height + 1.9)
    parts = fig.subfigures(2, 1, height_ratios=[height + 1.2, 1.9])
    assert isinstance(parts, np.ndarray)
    top, bottom = parts
    axes = top.subplots(1, channels, squeeze=False)[0]
    for c, ax in enumerate(axes):
        colour = CHANNEL_COLOURS[c % len(CHANNEL_COLOURS)]
        fill = {(i, j): colour for i in range(height) for j in range(width)}
        draw_grid(ax, flat[c], title=f"channel {c}", fill=fill, fontsize=9)
    strip = bottom.subplots(1, 1)
    draw_grid(
        strip,
        flat.reshape(1, -1),
        title=f"flattened: {size} values = {channels}·{height}·{width}",
        fill=strip_fill,
        fontsize=8,
    )
    return fig


# --------------------------------------------------------------------------- activations
def _activation_layer(spec: str | Layer) -> Layer:
    """A fresh, unnamed-counter copy of an activation, given by name or as a layer."""
    if isinstance(spec, str):
        if spec not in ACTIVATIONS or spec == "softmax":
            known = ", ".join(sorted(set(ACTIVATIONS) - {"softmax"}))
            raise ValueError(
                f"activation_figure: unknown activation {spec!r}; choose one of {known}"
            )
        return ACTIVATIONS[spec](name="plot")
    if not isinstance(spec, Layer):
        raise TypeError(f"activation_figure: expected an activation name or layer, got {spec!r}")
    return spec.unbuilt_copy(name="plot")


def activation_curves(
    spec: str | Layer, x: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """``f(x)`` and ``f'(x)`` of an element-wise activation, from its forward and backward passes.

    Parameters
    ----------
    spec
        A name such as ``"relu"`` or a layer such as ``LeakyReLU(0.1)``.
    x
        The points, a 1-D array.
    """
    layer = _activation_layer(spec)
    points = np.asarray(x, dtype=np.float64).reshape(-1, 1)
    layer.build((1,), dtype=np.float64)
    y = layer.forward(points, training=True)
    slope = layer.backward(np.ones_like(points))
    assert slope is not None
    return y[:, 0].astype(np.float64), slope[:, 0].astype(np.float64)


def activation_figure(
    activations: Sequence[str | Layer] = DEFAULT_ACTIVATIONS,
    *,
    x_range: tuple[float, float] = (-4.0, 4.0),
    columns: int = 3,
) -> Figure:
    """Each activation (solid) with its derivative (dashed), one panel per activation.

    The curves come from the layers' own ``forward`` and ``backward`` passes, so the plot
    shows what cnnlib computes. Each title gives the largest slope on the plotted range —
    for the sigmoid that is 0.25, the number behind vanishing gradients.

    Parameters
    ----------
    activations
        Names (``"relu"``, ``"leaky_relu"``, ``"elu"``, ``"gelu"``, ``"sigmoid"``,
        ``"tanh"``) or layers (``LeakyReLU(0.1)``, to see the slope).
    x_range
        The inputs shown.
    columns
        Panels per row.
    """
    owner = "activation_figure"
    if len(activations) == 0:
        raise ValueError(f"{owner}: give at least one activation")
    columns = check_int(columns, "columns", owner=owner, minimum=1)
    low, high = float(x_range[0]), float(x_range[1])
    if not low < high:
        raise ValueError(f"{owner}: x_range must be (low, high) with low < high, got {x_range}")
    layers = [_activation_layer(spec) for spec in activations]
    columns = min(columns, len(layers))
    rows = math.ceil(len(layers) / columns)
    fig = new_figure(3.3 * columns, 2.7 * rows)
    axes = fig.subplots(rows, columns, squeeze=False)
    x = np.linspace(low, high, 801)
    for index, ax in enumerate(axes.flat):
        if index >= len(layers):
            ax.set_visible(False)
            continue
        layer = layers[index]
        y, slope = activation_curves(layer, x)
        ax.axhline(0, color="#999999", linewidth=0.6)
        ax.axvline(0, color="#999999", linewidth=0.6)
        ax.plot(x, y, color=LINE_COLOURS[0], linewidth=2, label="f(x)")
        ax.plot(x, slope, color=LINE_COLOURS[1], linewidth=1.6, linestyle="--", label="f′(x)")
        ax.set_title(f"{layer!r}   max f′ = {slope.max():.3g}", fontsize=10)
        ax.set_xlim(low, high)
        ax.tick_params(labelsize=8)
        ax.grid(alpha=0.25)
        if index == 0:
            ax.legend(fontsize=8, loc="upper left")
    return fig


# ------------------------------------------------------------------------ layer profiles
def layer_profile_figure(
    series: Mapping[str, Sequence[float] | NDArray[Any]],
    *,
    ylabel: str,
    title: str | None = None,
    log: bool = True,
    xlabel: str = "layer",
) -> Figure:
    """One line per network: a statistic (gradient norm, activation spread, …) per layer.

    Layers are numbered from 1, input side first. On a log scale an exponential decay or
    growth — vanishing or exploding signals — is a straight line.

    Parameters
    ----------
    series
        Label → one value per layer.
    ylabel, title, xlabel
        Axis labels and title.
    log
        Logarithmic y axis.

    Raises
    ------
    ValueError
        For no series, an empty series, or (with ``log``) a value that is not positive.
    """
    owner = "layer_profile_figure"
    if not series:
        raise ValueError(f"{owner}: give at least one series")
    fig = new_figure(6.4, 3.6)
    ax = fig.subplots()
    for index, (label, values) in enumerate(series.items()):
        y = np.asarray(values, dtype=np.float64)
        if y.ndim != 1 or y.size == 0:
            raise ValueError(f"{owner}: series {label!r} must be a non-empty 1-D sequence")
        if log and not np.all(y > 0):
            raise ValueError(
                f"{owner}: series {label!r} has values ≤ 0, which a log scale cannot show"
            )
        layers = np.arange(1, y.size + 1)
        colour = LINE_COLOURS[index % len(LINE_COLOURS)]
        ax.plot(layers, y, marker="o", markersize=4, linewidth=1.8, color=colour, label=label)
    if log:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(alpha=0.3, which="major")
    ax.legend(fontsize=9)
    if title:
        ax.set_title(title, fontsize=11)
    return fig


# ------------------------------------------------------------------------ optimiser paths
def optimizer_paths_figure(
    loss: Callable[[NDArray[np.float64], NDArray[np.float64]], NDArray[np.float64]],
    paths: Mapping[str, ArrayLike],
    *,
    xlim: tuple[float, float],
    ylim: tuple[float, float],
    minimum: tuple[float, float] | None = None,
    levels: int = 14,
    title: str | None = None,
    columns: int | None = None,
) -> Figure:
    """Trajectories of optimisers on a 2-D loss surface drawn as contour lines.

    Parameters
    ----------
    loss
        ``loss(x, y)`` for arrays ``x`` and ``y`` of the same shape (vectorised).
    paths
        Label → the visited points, an array ``(steps + 1, 2)`` starting at the start.
    xlim, ylim
        The region shown.
    minimum
        Marked with a star.
    levels
        Number of contour lines, spaced logarithmically (an ill-conditioned valley shows
        its narrow floor as well as its steep walls).
    title
        Above the plot (the whole figure, with several panels).
    columns
        ``None``: every path in one plot, with a legend. A number: one panel per path,
        titled with its label, that many panels per row.

    Raises
    ------
    ValueError
        For no paths or a path that is not ``(steps + 1, 2)``.
    """
    owner = "optimizer_paths_figure"
    if not paths:
        raise ValueError(f"{owner}: give at least one path")
    arrays = {}
    for label, path in paths.items():
        points = np.asarray(path, dtype=np.float64)
        if points.ndim != 2 or points.shape[1] != 2 or len(points) < 1:
            raise ValueError(
                f"{owner}: path {label!r} must be an array of points (steps + 1, 2), "
                f"got shape {points.shape}"
            )
        arrays[label] = points
    gx, gy = np.meshgrid(np.linspace(*xlim, 300), np.linspace(*ylim, 300))
    surface = np.asarray(loss(gx, gy), dtype=np.float64)
    shifted = surface - float(surface.min())
    top = float(shifted.max())
    positive = shifted[shifted > 0]
    bottom = float(positive.min()) if positive.size else 1e-6
    contour_levels = np.geomspace(max(bottom, top * 1e-6), top, levels)
    aspect = (ylim[1] - ylim[0]) / (xlim[1] - xlim[0])
    if columns is None:
        groups = [list(arrays.items())]
        ncols, nrows, width = 1, 1, 7.0
    else:
        ncols = min(check_int(columns, "columns", owner=owner, minimum=1), len(arrays))
        nrows = math.ceil(len(arrays) / ncols)
        groups = [[item] for item in arrays.items()]
        width = 3.6 * ncols
    panel_height = width / ncols * aspect + 0.6
    fig = new_figure(width, min(max(panel_height, 2.2), 6.0) * nrows + (0.3 if title else 0))
    axes = fig.subplots(nrows, ncols, squeeze=False)
    start = next(iter(arrays.values()))[0]
    for index, ax in enumerate(axes.flat):
        if index >= len(groups):
            ax.set_visible(False)
            continue
        ax.contour(gx, gy, shifted, levels=contour_levels, colors="#b0b0b0", linewidths=0.7)
        for label, points in groups[index]:
            colour = LINE_COLOURS[list(arrays).index(label) % len(LINE_COLOURS)]
            ax.plot(
                points[:, 0],
                points[:, 1],
                marker="o",
                markersize=2.5,
                linewidth=1.2,
                color=colour,
                label=label,
            )
        ax.plot(*start, marker="s", color="black", markersize=6, linestyle="none", label="start")
        if minimum is not None:
            ax.plot(*minimum, marker="*", color="black", markersize=12, linestyle="none")
        ax.set_xlim(*xlim)
        ax.set_ylim(*ylim)
        ax.tick_params(labelsize=8)
        if columns is None:
            ax.set_xlabel("θ₁")
            ax.set_ylabel("θ₂")
            ax.legend(fontsize=8, loc="upper right", framealpha=0.9)
            if title:
                ax.set_title(title, fontsize=11)
        else:
            ax.set_title(groups[index][0][0], fontsize=10)
    if columns is not None and title:
        fig.suptitle(title, fontsize=11)
    return fig
