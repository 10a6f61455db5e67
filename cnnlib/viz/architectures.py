"""Figures of chapter 7: how far a unit sees, and a converted head's grid of scores.

* :func:`receptive_field_figure` — stacks of 1-D layers drawn row above row, the units
  that feed one top unit filled and joined to their inputs: three 3×3 layers next to one
  7×7 show the same field of 7 pixels, reached in three steps;
* :func:`score_grid_figure` — an image with the windows a converted (all-convolutional)
  network scores in one pass, next to the grid of scores, one per window.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.patches import Circle, Rectangle
from numpy.typing import ArrayLike

from cnnlib._validation import check_int
from cnnlib.geometry import (
    FieldOfView,
    _kernel_stride_dilation,
    conv_output_size,
    receptive_fields,
)
from cnnlib.viz.figure import PALETTE, Figure, new_figure

__all__ = ["receptive_field_figure", "score_grid_figure"]

#: Fill of the units that do not feed the chosen top unit.
IDLE = "#e6e6e6"


def _feeding(layers: Sequence[tuple[int, int, int]], sizes: list[int], top: int) -> list[set[int]]:
    """For every row (input first), the units that reach unit ``top`` of the last row."""
    rows: list[set[int]] = [set() for _ in sizes]
    rows[-1] = {top}
    for level in range(len(layers), 0, -1):
        k, s, d = layers[level - 1]
        rows[level - 1] = {u * s + d * m for u in rows[level] for m in range(k)}
    return rows


def _parse(layers: Sequence[Sequence[int]], owner: str) -> list[tuple[int, int, int]]:
    if not layers:
        raise ValueError(f"{owner}: give at least one layer per stack")
    return [_kernel_stride_dilation(layer, index, owner) for index, layer in enumerate(layers)]


def _draw_edges(
    ax: Axes,
    layers: Sequence[tuple[int, int, int]],
    centres: list[list[float]],
    feeding: list[set[int]],
) -> None:
    """A line from every feeding unit to each of the ``k`` units of the row below it reads."""
    for level in range(1, len(centres)):
        k, s, d = layers[level - 1]
        for u in sorted(feeding[level]):
            for m in range(k):
                below = u * s + d * m
                ax.plot(
                    [centres[level][u], centres[level - 1][below]],
                    [level - 0.22, level - 1 + 0.3],
                    color=PALETTE["window"],
                    linewidth=0.8,
                    alpha=0.7,
                    zorder=1,
                )


def _draw_units(ax: Axes, centres: list[list[float]], feeding: list[set[int]]) -> None:
    """The input pixels as squares, the layers' units as circles; feeding ones filled."""
    for level, row in enumerate(centres):
        for u, x in enumerate(row):
            fill = PALETTE["window_fill"] if u in feeding[level] else IDLE
            edge = PALETTE["window"] if u in feeding[level] else PALETTE["grid"]
            if level == 0:
                patch: Any = Rectangle(
                    (x - 0.42, -0.3), 0.84, 0.6, facecolor=fill, edgecolor=edge, zorder=2
                )
            else:
                patch = Circle((x, level), 0.22, facecolor=fill, edgecolor=edge, zorder=2)
            ax.add_patch(patch)


def _draw_stack(
    ax: Axes,
    title: str,
    layers: list[tuple[int, int, int]],
    fields: list[FieldOfView],
    n: int,
    depth: int,
) -> None:
    """One panel of :func:`receptive_field_figure`: ``n`` input pixels and the layers above.

    The units feeding the top layer's middle unit are filled and joined to their inputs; a
    bracket spans the field. ``depth`` is the deepest stack's, so that all panels align.
    """
    sizes = [n]
    for k, s, d in layers:
        sizes.append(conv_output_size(sizes[-1], k, s, dilation=d))
    top = (sizes[-1] - 1) // 2
    feeding = _feeding(layers, sizes, top)
    centres = [[float(u) for u in range(n)]]
    for field, size in zip(fields, sizes[1:], strict=True):
        centres.append([field.start + u * field.jump for u in range(size)])
    _draw_edges(ax, layers, centres, feeding)  # edges first, so units cover them
    _draw_units(ax, centres, feeding)
    labels = ["input"] + [
        f"{k}×{k}" + (f", s={s}" if s > 1 else "") + (f", d={d}" if d > 1 else "")
        for k, s, d in layers
    ]
    for level, label in enumerate(labels):
        ax.text(-0.8, level, label, ha="right", va="center", fontsize=9, color=PALETTE["text"])
    used = sorted(feeding[0])
    ax.annotate(
        "",
        xy=(used[0] - 0.45, -0.55),
        xytext=(used[-1] + 0.45, -0.55),
        arrowprops={"arrowstyle": "|-|", "color": PALETTE["text"], "linewidth": 1.0},
    )
    r = fields[-1].size
    ax.text(
        (used[0] + used[-1]) / 2,
        -0.95,
        f"{r} input pixels",
        ha="center",
        va="top",
        fontsize=9,
        color=PALETTE["text"],
    )
    ax.set_title(f"{title}: receptive field {r}", fontsize=10, color=PALETTE["text"])
    ax.set_xlim(-4.2, n)
    ax.set_ylim(-1.5, depth + 0.5)
    ax.set_aspect("equal")
    ax.axis("off")


def receptive_field_figure(
    stacks: Mapping[str, Sequence[Sequence[int]]], margin: int = 2
) -> Figure:
    """One panel per stack of layers: which units feed one unit of the top layer.

    Each stack is a list of ``(kernel_size, stride)`` or ``(kernel_size, stride, dilation)``
    layers without padding, drawn in one dimension: the input at the bottom (squares), each
    layer's units above it (circles) at the centre of what they see. The units that feed the
    middle unit of the top layer are filled and joined to their inputs; the bracket under
    the input spans the receptive field (chapter 7).

    Parameters
    ----------
    stacks
        Title → layers, e.g. ``{"three 3×3": [(3, 1)] * 3, "one 7×7": [(7, 1)]}``.
    margin
        Extra input pixels drawn on each side of the field.

    Raises
    ------
    ValueError
        For no stack, an empty stack or a malformed layer.
    """
    owner = "receptive_field_figure"
    if not stacks:
        raise ValueError(f"{owner}: give at least one stack of layers")
    margin = check_int(margin, "margin", owner=owner, minimum=0)
    parsed = {title: _parse(layers, owner) for title, layers in stacks.items()}
    depth = max(len(layers) for layers in parsed.values())
    all_fields = [receptive_fields(layers) for layers in parsed.values()]
    # an input of the field plus a margin on each side: the top layer has a middle unit
    spans = [fields[-1].size + 2 * margin for fields in all_fields]
    fig = new_figure(min(2.2 + 0.36 * sum(spans), 13.0), 1.1 + 0.75 * depth)
    axes = fig.subplots(1, len(parsed), squeeze=False)[0]
    for ax, (title, layers), fields, n in zip(axes, parsed.items(), all_fields, spans, strict=True):
        _draw_stack(ax, title, layers, fields, n, depth)
    return fig


def score_grid_figure(
    image: ArrayLike,
    scores: ArrayLike,
    window: int,
    stride: int,
    title: str = "class score",
) -> Figure:
    """An image with the windows a converted network scores, and the grid of scores.

    Parameters
    ----------
    image
        ``(H, W)`` greyscale image.
    scores
        ``(rows, cols)`` scores, one per window: window ``(i, j)`` has its top-left corner
        at ``(i·stride, j·stride)`` and is ``window`` pixels wide (chapter 7).
    window, stride
        The original network's input size and the product of its strides.
    title
        What the scores are, for the right panel's title.

    Raises
    ------
    ValueError
        If the image is not 2-D, the scores not 2-D, or the windows do not fit the image.
    """
    owner = "score_grid_figure"
    picture = np.asarray(image, dtype=np.float64)
    grid = np.asarray(scores, dtype=np.float64)
    if picture.ndim != 2 or grid.ndim != 2:
        raise ValueError(
            f"{owner}: image must be (H, W) and scores (rows, cols); got shapes "
            f"{picture.shape} and {grid.shape}"
        )
    window = check_int(window, "window", owner=owner, minimum=1)
    stride = check_int(stride, "stride", owner=owner, minimum=1)
    rows, cols = grid.shape
    needed = ((rows - 1) * stride + window, (cols - 1) * stride + window)
    if needed[0] > picture.shape[0] or needed[1] > picture.shape[1]:
        raise ValueError(
            f"{owner}: {rows}×{cols} windows of {window} pixels at stride {stride} need an "
            f"image of at least {needed[0]}×{needed[1]}, got {picture.shape[0]}×{picture.shape[1]}"
        )
    fig = new_figure(8.4, 4.0)
    left, right = fig.subplots(1, 2)
    left.imshow(picture, cmap="gray_r")
    corners = [(0, 0), (0, cols - 1), (rows - 1, 0), (rows - 1, cols - 1)]
    colours = ["#1f5fa8", "#b06a00", "#2e7d32", "#ad1457"]
    for (i, j), colour in zip(dict.fromkeys(corners), colours, strict=False):
        left.add_patch(
            Rectangle(
                (j * stride - 0.5, i * stride - 0.5),
                window,
                window,
                fill=False,
                edgecolor=colour,
                linewidth=2,
            )
        )
    left.set_title(
        f"{picture.shape[0]}×{picture.shape[1]} image: {rows}×{cols} windows of "
        f"{window}×{window}, stride {stride}\n(the corner windows drawn)",
        fontsize=10,
    )
    left.set_xticks([])
    left.set_yticks([])
    right.imshow(grid, cmap="viridis")
    low, high = float(grid.min()), float(grid.max())
    for i in range(rows):
        for j in range(cols):
            dark = grid[i, j] < (low + high) / 2
            right.text(
                j,
                i,
                f"{grid[i, j]:.1f}",
                ha="center",
                va="center",
                fontsize=8,
                color="white" if dark else "black",
            )
    right.set_title(f"{title}, one per window ({rows}×{cols})", fontsize=10)
    right.set_xticks(range(cols))
    right.set_yticks(range(rows))
    right.set_xlabel("window column j (left edge at j·stride)")
    right.set_ylabel("window row i")
    return fig
