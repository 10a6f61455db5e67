"""Figures of chapter 3: where the gradient of a convolution goes.

* :func:`dilated_gradient_figure` — the output gradient with ``stride − 1`` zeros inserted
  between its rows and columns, the array the strided backward pass works with;
* :func:`pixel_contributions_figure` — the outputs that read one input pixel, and the
  kernel tap each of them read it through: the terms of that pixel's gradient.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from cnnlib import geometry, signal
from cnnlib._validation import check_int, int_pair, real_array
from cnnlib.viz.figure import PALETTE, Figure, new_figure
from cnnlib.viz.grid import center_in, draw_grid, outline

__all__ = ["dilated_gradient_figure", "pixel_contributions_figure"]

#: Fill of the entries that came from dY (the inserted zeros keep the padding grey).
KEPT = PALETTE["output"]
#: Fill of the input pixel whose gradient is being collected.
PIXEL = PALETTE["output"]

_SUBSCRIPTS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def _tap(m: int, n: int) -> str:
    """``k₁₀`` for the kernel weight ``K[1, 0]``."""
    return f"k{m}{n}".translate(_SUBSCRIPTS) if m < 10 and n < 10 else f"k[{m},{n}]"


def dilated_gradient_figure(dy: ArrayLike, stride: int) -> Figure:
    """The output gradient ``dY`` and the same gradient dilated by the stride.

    Dilating inserts ``stride − 1`` zeros between neighbouring rows and columns
    (:func:`cnnlib.signal.dilate2d`): entry ``(i, j)`` moves to ``(i·s, j·s)``, the input
    position where its window started. The moved entries are filled orange, the inserted
    zeros grey.

    Parameters
    ----------
    dy
        A small 2-D array (every number is written in its cell).
    stride
        The forward pass's stride ``s ≥ 1``.
    """
    owner = "dilated_gradient_figure"
    grad = real_array(dy, "dy", owner=owner, axes=("H_out", "W_out"))
    s = check_int(stride, "stride", owner=owner, minimum=1)
    dilated = signal.dilate2d(grad, s)
    rows, cols = dilated.shape
    kept = {(i * s, j * s): KEPT for i in range(grad.shape[0]) for j in range(grad.shape[1])}
    inserted = {
        (r, c): PALETTE["padding"] for r in range(rows) for c in range(cols) if (r, c) not in kept
    }
    zeros = "no zeros inserted" if s == 1 else f"{s - 1} zero{'s' if s > 2 else ''} between entries"
    fig = new_figure(0.5 * (grad.shape[1] + cols) + 3.0, 0.5 * rows + 1.5)
    axes = fig.subplots(1, 2, width_ratios=[max(grad.shape[1], 1), cols])
    draw_grid(
        axes[0],
        grad,
        title=f"dL/dY\n{grad.shape[0]}×{grad.shape[1]}",
        fill=dict.fromkeys(np.ndindex(*grad.shape), KEPT),
    )
    center_in(axes[0], grad.shape, (rows, grad.shape[1]))
    draw_grid(
        axes[1],
        dilated,
        title=f"dilated for stride {s}\n{zeros}: {rows}×{cols}",
        fill={**kept, **inserted},
    )
    return fig


def pixel_contributions_figure(
    input_shape: tuple[int, int],
    kernel_shape: tuple[int, int],
    pixel: tuple[int, int],
    stride: int = 1,
) -> Figure:
    """Every output whose window covers one input pixel, and the tap it read the pixel with.

    One panel per such output ``Y[i, j]``: the input with that window outlined, each cell of
    the window labelled with the kernel weight ``k_mn`` it meets, and the chosen pixel
    orange. A last panel marks those outputs in the output grid. The pixel's gradient is the
    sum, over the panels, of ``dY[i, j]`` times the weight written on the pixel.

    Parameters
    ----------
    input_shape, kernel_shape
        ``(H, W)`` and ``(k_h, k_w)`` of a "valid" single-channel correlation.
    pixel
        ``(p, q)``, the input pixel.
    stride
        The forward pass's stride.

    Raises
    ------
    ValueError
        If the pixel is outside the input, or the kernel does not fit.
    """
    owner = "pixel_contributions_figure"
    h, w = int_pair(input_shape, "input_shape", owner=owner, minimum=1)
    kh, kw = int_pair(kernel_shape, "kernel_shape", owner=owner, minimum=1)
    p, q = int_pair(pixel, "pixel", owner=owner, minimum=0)
    s = check_int(stride, "stride", owner=owner, minimum=1)
    if p >= h or q >= w:
        raise ValueError(f"{owner}: pixel {(p, q)} is outside the {h}×{w} input")
    out_h = geometry.conv_output_size(h, kh, s)
    out_w = geometry.conv_output_size(w, kw, s)
    readers = [
        (i, j)
        for i in range(out_h)
        for j in range(out_w)
        if 0 <= p - i * s < kh and 0 <= q - j * s < kw
    ]
    panels = max(len(readers), 1) + 1
    fig = new_figure(max(0.45 * w, 1.9) * panels + 0.4 * panels, 0.45 * h + 1.8)
    axes = fig.subplots(1, panels, squeeze=False)[0]
    if not readers:
        draw_grid(
            axes[0],
            np.zeros((h, w)),
            show_values=False,
            fill={(p, q): PIXEL},
            title=f"x[{p}, {q}] is excluded:\nno window reads it",
        )
    for ax, (i, j) in zip(axes, readers, strict=False):
        top, left = i * s, j * s
        window = {(top + m, left + n): PALETTE["window_fill"] for m in range(kh) for n in range(kw)}
        m, n = p - top, q - left
        draw_grid(
            ax,
            np.zeros((h, w)),
            show_values=False,
            fill={**window, (p, q): PIXEL},
            title=f"y[{i}, {j}] reads x[{p}, {q}]\nthrough {_tap(m, n)}",
            fontsize=10,
        )
        for a in range(kh):
            for b in range(kw):
                ax.text(
                    left + b + 0.5,
                    top + a + 0.5,
                    _tap(a, b),
                    ha="center",
                    va="center",
                    fontsize=9,
                    color=PALETTE["text"],
                    fontweight="bold" if (a, b) == (m, n) else "normal",
                )
        outline(ax, top, left, kh, kw)
    ax_out = axes[-1]
    draw_grid(
        ax_out,
        np.zeros((out_h, out_w)),
        show_values=False,
        fill=dict.fromkeys(readers, PALETTE["window_fill"]),
        title=f"{len(readers)} output{'s' if len(readers) != 1 else ''}\nread x[{p}, {q}]",
        fontsize=10,
    )
    for i, j in readers:
        ax_out.text(j + 0.5, i + 0.5, f"y{i}{j}".translate(_SUBSCRIPTS), ha="center", va="center")
    center_in(ax_out, (out_h, out_w), (h, w))
    terms = " + ".join(
        f"dy{i}{j}".translate(_SUBSCRIPTS) + "·" + _tap(p - i * s, q - j * s) for i, j in readers
    )
    fig.supxlabel(f"dL/dx{p}{q}".translate(_SUBSCRIPTS) + f" = {terms or '0'}", fontsize=11)
    return fig
