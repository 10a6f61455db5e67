"""Figures of chapter 2: the 180° rotation and the impulse response of each operation."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from cnnlib import signal
from cnnlib._validation import check_int, real_array
from cnnlib.viz.figure import PALETTE, Figure, new_figure
from cnnlib.viz.grid import center_in, draw_grid, outline

__all__ = ["impulse_response_figure", "rot180_figure"]

#: Fill colours that follow two corner weights of a kernel from panel to panel.
FIRST = PALETTE["output"]  # the weight K[0, 0]
LAST_IN_ROW = PALETTE["window_fill"]  # the weight K[0, k_w − 1]


def _tracked(labels: NDArray[Any], first: int, last: int) -> dict[tuple[int, int], str]:
    """Fill colours for the cells whose label is ``first`` or ``last``."""
    fill: dict[tuple[int, int], str] = {}
    for colour, label in ((FIRST, first), (LAST_IN_ROW, last)):
        for r, c in np.argwhere(labels == label):
            fill[(int(r), int(c))] = colour
    return fill


def rot180_figure(kernel: ArrayLike, *, transpose: bool = True) -> Figure:
    """A kernel, its rows flipped, and both axes flipped — ``rot180`` — side by side.

    The cell holding ``K[0, 0]`` is orange and the one holding ``K[0, k_w − 1]`` blue in
    every panel, so the eye can follow where each corner goes.

    Parameters
    ----------
    kernel
        A 2-D array (small: every number is written in its cell).
    transpose
        Add a last panel with the transpose ``Kᵀ``, which is *not* a rotation: it keeps
        ``K[0, 0]`` in place.
    """
    k = real_array(kernel, "kernel", owner="rot180_figure", axes=("k_h", "k_w"))
    kh, kw = k.shape
    labels = np.arange(kh * kw).reshape(kh, kw)
    panels: list[tuple[str, NDArray[Any], NDArray[Any]]] = [
        ("K", k, labels),
        ("rows flipped (upside down)", k[::-1], labels[::-1]),
        ("then columns flipped: rot180(K)", signal.rot180(k), signal.rot180(labels)),
    ]
    if transpose:
        panels.append(("Kᵀ (transpose): not a rotation", k.T, labels.T))
    side = max(kh, kw)
    fig = new_figure(2.6 * len(panels) + 0.4, 0.55 * side + 1.2)
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    for ax, (title, values, moved) in zip(axes, panels, strict=True):
        draw_grid(ax, values, title=title, fill=_tracked(moved, 0, kw - 1))
        center_in(ax, values.shape, (side, side))
    return fig


def impulse_response_figure(kernel: ArrayLike, size: int = 7) -> Figure:
    """What each operation stamps around a single 1 in a field of zeros ("same" mode).

    Four panels: the impulse, the kernel, the cross-correlation (which stamps the kernel
    rotated by 180°) and the true convolution (which stamps it upright). The stamped
    region is outlined, and the weight ``K[0, 0]`` is orange wherever it lands.

    Parameters
    ----------
    kernel
        A 2-D array no larger than ``size × size``.
    size
        Height and width of the input; the 1 sits at ``(size // 2, size // 2)``.

    Raises
    ------
    ValueError
        If the kernel does not fit in the input.
    """
    owner = "impulse_response_figure"
    k = real_array(kernel, "kernel", owner=owner, axes=("k_h", "k_w"))
    n = check_int(size, "size", owner=owner, minimum=1)
    kh, kw = k.shape
    if kh > n or kw > n:
        raise ValueError(f"{owner}: kernel {k.shape} does not fit in a {n}×{n} input")
    impulse = np.zeros((n, n), dtype=int)
    centre = n // 2
    impulse[centre, centre] = 1
    correlated = signal.correlate2d(impulse, k, "same")
    convolved = signal.convolve2d(impulse, k, "same")
    # "same" pads (k − 1)//2 before, so every output whose window covers the 1 lies in
    # rows centre + top − k_h + 1 … centre + top (and likewise for the columns).
    top, left = (kh - 1) // 2, (kw - 1) // 2
    row0, col0 = centre + top - kh + 1, centre + left - kw + 1
    fig = new_figure(0.42 * (3 * n + kw + 2) + 1.6, 0.42 * n + 1.3)
    axes = fig.subplots(1, 4, width_ratios=[n, kw + 2, n, n])
    draw_grid(
        axes[0],
        impulse,
        title="input: a single 1",
        fill={(centre, centre): PALETTE["window_fill"]},
        fontsize=9,
    )
    draw_grid(axes[1], k, title="kernel K", fill={(0, 0): FIRST}, fontsize=9)
    center_in(axes[1], k.shape, (n, kw + 2))
    stamped = (
        ("correlation: rot180(K)", correlated, (row0 + kh - 1, col0 + kw - 1)),
        ("convolution: K upright", convolved, (row0, col0)),
    )
    for ax, (title, values, first) in zip(axes[2:], stamped, strict=True):
        draw_grid(ax, values, title=title, fill={first: FIRST}, fontsize=9)
        outline(ax, row0, col0, kh, kw)
    return fig
