"""Figures of chapter 1: the sliding window, padding modes, stride and dilation."""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes
from matplotlib.patches import Rectangle
from numpy.typing import ArrayLike

from cnnlib import geometry, signal
from cnnlib._validation import int_pair, real_array
from cnnlib.viz.figure import PALETTE, Figure, new_figure
from cnnlib.viz.grid import center_in, draw_grid, format_cell, outline

__all__ = [
    "coverage_figure",
    "dilation_figure",
    "padding_modes_figure",
    "sliding_window_figure",
    "windows_1d_figure",
]


class SlidingWindow:
    """Everything needed to draw step ``t`` of a cross-correlation.

    Parameters
    ----------
    image, kernel
        2-D arrays.
    stride
        Step between windows.
    padding
        Anything :func:`cnnlib.geometry.resolve_padding2d` accepts.
    """

    def __init__(
        self, image: ArrayLike, kernel: ArrayLike, stride: int = 1, padding: geometry.Padding2D = 0
    ) -> None:
        owner = "SlidingWindow"
        x = real_array(image, "image", owner=owner, axes=("H", "W"))
        self.kernel = real_array(kernel, "kernel", owner=owner, axes=("k_h", "k_w"))
        self.stride = int_pair(stride, "stride", owner=owner, minimum=1)
        self.pad = geometry.resolve_padding2d(
            padding, x.shape, self.kernel.shape, self.stride, owner=owner
        )
        self.padded = np.pad(x, self.pad)
        self.output = signal.correlate2d(self.padded, self.kernel, "valid", self.stride)
        rows, cols = self.output.shape
        self.positions = [(i, j) for i in range(rows) for j in range(cols)]

    def window(self, step: int) -> tuple[int, int]:
        """Top-left input cell (in padded coordinates) of the window at ``step``."""
        i, j = self.positions[step]
        return i * self.stride[0], j * self.stride[1]

    def arithmetic(self, step: int) -> str:
        """The sum of products at ``step``, written out when the kernel is small."""
        r, c = self.window(step)
        kh, kw = self.kernel.shape
        patch = self.padded[r : r + kh, c : c + kw]
        value = format_cell(self.output[self.positions[step]])
        if self.kernel.size > 9:
            return f"sum of {self.kernel.size} products = {value}"
        terms = " + ".join(
            f"{format_cell(a)}·{_signed(float(b))}"
            for a, b in zip(patch.ravel(), self.kernel.ravel(), strict=True)
        )
        return f"{terms} = {value}"

    def draw(self, axes: tuple[Axes, Axes, Axes], step: int, *, label: str = "") -> None:
        """Draw input (window outlined), kernel and output (filled up to ``step``)."""
        ax_in, ax_k, ax_out = axes
        r, c = self.window(step)
        kh, kw = self.kernel.shape
        window_cells = {
            (r + m, c + n): PALETTE["window_fill"] for m in range(kh) for n in range(kw)
        }
        draw_grid(
            ax_in, self.padded, title=f"input {label}".strip(), fill=window_cells, padding=self.pad
        )
        outline(ax_in, r, c, kh, kw)
        draw_grid(ax_k, self.kernel, title="kernel")
        rows = self.padded.shape[0]
        center_in(ax_k, self.kernel.shape, (rows, self.kernel.shape[1] + 2))
        shown = np.full(self.output.shape, np.nan)
        done = self.positions[: step + 1]
        for i, j in done:
            shown[i, j] = self.output[i, j]
        draw_grid(ax_out, shown, title="output", fill={self.positions[step]: PALETTE["output"]})
        outline(ax_out, *self.positions[step], 1, 1, color=PALETTE["text"], linewidth=2)
        center_in(ax_out, self.output.shape, (rows, self.output.shape[1]))
        ax_k.set_xlabel(self.arithmetic(step), fontsize=10, labelpad=8)


def _signed(value: float) -> str:
    text = format_cell(value)
    return f"({text})" if text.startswith("-") else text


def _step_axes(fig: Figure, window: SlidingWindow, rows: int) -> list[tuple[Axes, Axes, Axes]]:
    widths = [window.padded.shape[1], window.kernel.shape[1] + 2, window.output.shape[1]]
    grid = fig.subplots(rows, 3, width_ratios=widths, squeeze=False)
    return [(row[0], row[1], row[2]) for row in grid]


def sliding_window_figure(
    image: ArrayLike,
    kernel: ArrayLike,
    steps: tuple[int, ...] = (0, 1, 2),
    stride: int = 1,
    padding: geometry.Padding2D = 0,
) -> Figure:
    """The first steps of a cross-correlation, one row per step.

    Each row shows the input with the current window outlined, the kernel with the sum of
    products written under it, and the output filled in up to that step.

    Parameters
    ----------
    image, kernel
        2-D arrays (small ones: every number is written in its cell).
    steps
        Which window positions to show, counted in row-major order from 0.
    stride, padding
        As in :func:`cnnlib.signal.correlate2d` (padding may also be an int or a pair).
    """
    window = SlidingWindow(image, kernel, stride, padding)
    for step in steps:
        if not 0 <= step < len(window.positions):
            raise ValueError(
                f"sliding_window_figure: step {step} is out of range; this input has "
                f"{len(window.positions)} window positions (0 … {len(window.positions) - 1})"
            )
    cells_wide = window.padded.shape[1] + window.kernel.shape[1] + 2 + window.output.shape[1]
    fig = new_figure(0.6 * cells_wide + 2.5, (0.6 * window.padded.shape[0] + 1.4) * len(steps))
    for axes, step in zip(_step_axes(fig, window, len(steps)), steps, strict=True):
        window.draw(axes, step, label=f"(step {step + 1})")
    return fig


def padding_modes_figure(image: ArrayLike, kernel_size: int) -> Figure:
    """The input padded for the "valid", "same" and "full" modes, with the output sizes.

    Padding cells are grey; the first window is outlined.
    """
    x = real_array(image, "image", owner="padding_modes_figure", axes=("H", "W"))
    fig = new_figure(11, 4.2)
    axes = fig.subplots(1, 3)
    full_pad = 2 * (geometry.effective_kernel_size(kernel_size) - 1)
    canvas = (x.shape[0] + full_pad, x.shape[1] + full_pad)
    for ax, mode in zip(axes, geometry.PADDING_MODES, strict=True):
        pad = geometry.resolve_padding2d(mode, x.shape, kernel_size, owner="padding_modes_figure")
        padded = np.pad(x, pad)
        out_h = geometry.conv_output_size(x.shape[0], kernel_size, 1, mode)
        out_w = geometry.conv_output_size(x.shape[1], kernel_size, 1, mode)
        (top, bottom), _ = pad
        sides = f"{top}/{bottom}" if top != bottom else f"{top}"
        draw_grid(
            ax,
            padded,
            padding=pad,
            title=f"{mode!r}: pad {sides} → {out_h}×{out_w} output",
        )
        outline(ax, 0, 0, kernel_size, kernel_size)
        center_in(ax, padded.shape, canvas)
    return fig


def windows_1d_figure(
    n: int, kernel_size: int, strides: tuple[int, ...], padding: int = 0
) -> Figure:
    """Where the windows of a 1-D convolution land, one panel per stride.

    Each window is a bar under the pixels it covers; pixels that no window reaches — the
    ones the floor in the output-size formula drops — are red.
    """
    fig = new_figure(0.55 * (n + 2 * padding) + 1.5, 1.6 * len(strides) + 0.3)
    axes = fig.subplots(len(strides), 1, squeeze=False)[:, 0]
    for ax, stride in zip(axes, strides, strict=True):
        _draw_windows_1d(ax, n, kernel_size, stride, padding)
    return fig


def _draw_windows_1d(ax: Axes, n: int, k: int, s: int, p: int) -> None:
    total = n + 2 * p
    count = geometry.conv_output_size(n, k, s, p)
    excluded = geometry.excluded_pixels(n, k, s, p)
    covered_until = (count - 1) * s + k
    for x in range(total):
        is_pad = x < p or x >= n + p
        face = PALETTE["padding"] if is_pad else PALETTE["cell"]
        if x >= covered_until:
            face = PALETTE["excluded"]
        ax.add_patch(Rectangle((x, 0), 1, 1, facecolor=face, edgecolor=PALETTE["grid"]))
        ax.text(
            x + 0.5, 0.5, "0" if is_pad else str(x - p + 1), ha="center", va="center", fontsize=9
        )
    levels = max(1, -(-k // s))
    for w in range(count):
        y = 1.25 + 0.3 * (w % levels)
        ax.plot(
            [w * s + 0.1, w * s + k - 0.1],
            [y, y],
            color=PALETTE["window"],
            linewidth=4,
            solid_capstyle="butt",
        )
    ax.set_xlim(-0.1, total + 0.1)
    ax.set_ylim(1.5 + 0.3 * levels, -0.1)
    ax.set_aspect("equal")
    ax.axis("off")
    formula = f"⌊({n} + 2·{p} − {k})/{s}⌋ + 1" if p else f"⌊({n} − {k})/{s}⌋ + 1"
    note = f", {excluded} pixel{'s' if excluded != 1 else ''} excluded" if excluded else ""
    windows = "window" if count == 1 else "windows"
    ax.set_title(f"stride {s}: {formula} = {count} {windows}{note}", fontsize=11, loc="left")


def coverage_figure(
    shape: tuple[int, int], kernel_size: int, stride: int, padding: int = 0
) -> Figure:
    """A 2-D input with the first window outlined, window origins dotted and excluded pixels red."""
    h, w = shape
    pad = ((padding, padding), (padding, padding))
    values = np.pad(np.ones((h, w)), pad)
    out_h = geometry.conv_output_size(h, kernel_size, stride, padding)
    out_w = geometry.conv_output_size(w, kernel_size, stride, padding)
    fill: dict[tuple[int, int], str] = {}
    for r in range(values.shape[0]):
        for c in range(values.shape[1]):
            if r >= (out_h - 1) * stride + kernel_size or c >= (out_w - 1) * stride + kernel_size:
                fill[(r, c)] = PALETTE["excluded"]
    fig = new_figure(0.42 * values.shape[1] + 0.8, 0.42 * values.shape[0] + 0.8)
    ax = fig.subplots()
    draw_grid(
        ax,
        values,
        show_values=False,
        fill=fill,
        padding=pad,
        title=f"{h}×{w} input, {kernel_size}×{kernel_size} kernel, "
        f"stride {stride} → {out_h}×{out_w}",
    )
    for i in range(out_h):
        for j in range(out_w):
            ax.plot(j * stride + 0.5, i * stride + 0.5, "o", color=PALETTE["window"], markersize=5)
    outline(ax, 0, 0, kernel_size, kernel_size)
    return fig


def dilation_figure(kernel_size: int, dilations: tuple[int, ...] = (1, 2, 3)) -> Figure:
    """The input pixels a ``k × k`` kernel touches for each dilation (taps in blue)."""
    spans = [geometry.effective_kernel_size(kernel_size, d) for d in dilations]
    size = max(spans)
    fig = new_figure(3.2 * len(dilations), 3.6)
    axes = fig.subplots(1, len(dilations), squeeze=False)[0]
    for ax, d, span in zip(axes, dilations, spans, strict=True):
        taps = {
            (m * d, n * d): PALETTE["tap"] for m in range(kernel_size) for n in range(kernel_size)
        }
        draw_grid(
            ax,
            np.zeros((size, size)),
            show_values=False,
            fill=taps,
            title=f"dilation {d}: {kernel_size * kernel_size} weights span {span}×{span}",
        )
        outline(ax, 0, 0, span, span)
    return fig
