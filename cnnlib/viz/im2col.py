"""Figures of chapter 6: which input pixel lands in which cell of the column matrix, and back.

* :func:`im2col_figure` — a tiny input, one grid per channel, beside its column matrix;
  every pixel has its own colour, and each matrix cell takes the colour of the pixel it
  was copied from, so a pixel read by four windows shows up four times. One window and
  the column it becomes are framed.
* :func:`col2im_figure` — the other direction: a column matrix (of gradients, say) beside
  what :func:`cnnlib.im2col.col2im` makes of it. Each input cell shows the sum of the
  matrix cells of its colour and how many there were.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.colors import to_hex, to_rgb
from numpy.typing import ArrayLike, NDArray

from cnnlib._validation import real_array
from cnnlib.geometry import conv_output_shape
from cnnlib.im2col import col2im, im2col
from cnnlib.viz.figure import PALETTE, Figure, new_figure
from cnnlib.viz.grid import draw_grid, outline

__all__ = ["col2im_figure", "im2col_figure", "pixel_colour"]

#: Fill of input cells that no window reads (the floor of the output-size formula).
UNREAD = PALETTE["excluded"]


def pixel_colour(index: int) -> str:
    """The light fill of input pixel number ``index`` (row-major over ``(c, h, w)``).

    Matplotlib's ``tab20``, mixed half and half with white so that dark text stays
    readable: its ten hues first, then their lighter partners, then they repeat.
    """
    slot = index % 20
    red, green, blue = to_rgb(colormaps["tab20"](2 * (slot % 10) + slot // 10))
    return to_hex((0.5 * red + 0.5, 0.5 * green + 0.5, 0.5 * blue + 0.5))


def _image(x: ArrayLike, owner: str) -> NDArray[np.float64]:
    """``x`` as ``(C, H, W)`` floats; a 2-D ``(H, W)`` array is one channel."""
    array = np.asarray(x)
    if array.ndim == 2:
        array = array[None]
    checked = real_array(array, "x", owner=owner, axes=("C", "H", "W"))
    return np.asarray(checked, dtype=float)


def _sources(
    shape: tuple[int, int, int], kernel_size: int, stride: int, padding: int
) -> NDArray[np.int64]:
    """For each cell of the column matrix, the number of the pixel it comes from (−1: padding).

    im2col applied to the pixel numbers themselves: the figure cannot disagree with it.
    """
    numbers = np.arange(1, int(np.prod(shape)) + 1, dtype=float).reshape(1, *shape)
    cols = im2col(numbers, kernel_size, stride, padding)
    return cols.astype(np.int64) - 1


def _row_labels(channels: int, k: int) -> list[str]:
    return [f"c{c} m{m} l{l}" for c in range(channels) for m in range(k) for l in range(k)]


def _column_labels(out_h: int, out_w: int) -> list[str]:
    return [f"({i},{j})" for i in range(out_h) for j in range(out_w)]


def _draw_matrix(
    ax: Axes,
    values: NDArray[Any],
    sources: NDArray[np.int64],
    channels: int,
    k: int,
    out_shape: tuple[int, int],
    title: str,
) -> None:
    """The column matrix, each cell in its source pixel's colour, rows and columns labelled."""
    fill = {
        (r, c): (PALETTE["padding"] if sources[r, c] < 0 else pixel_colour(int(sources[r, c])))
        for r, c in np.ndindex(*values.shape)
    }
    draw_grid(ax, values, title=title, fill=fill, fontsize=10)
    ax.set_yticks(np.arange(values.shape[0]) + 0.5, _row_labels(channels, k), fontsize=8)
    ax.set_xticks(np.arange(values.shape[1]) + 0.5, _column_labels(*out_shape), fontsize=8)
    ax.xaxis.tick_top()
    ax.tick_params(length=0)


def _draw_channel(
    ax: Axes,
    values: NDArray[Any],
    channel: int,
    padding: int,
    *,
    fill: dict[tuple[int, int], str] | None = None,
    title: str,
) -> None:
    """One channel of the (padded) input, each real pixel in its own colour."""
    _, h, w = values.shape
    colours = fill or {
        (r + padding, c + padding): pixel_colour((channel * h + r) * w + c)
        for r, c in np.ndindex(h, w)
    }
    pads = ((padding, padding), (padding, padding))
    draw_grid(ax, np.pad(values[channel], pads), title=title, fill=colours, padding=pads)


def _layout(
    channels: int,
    channel_cells: tuple[int, int],
    matrix_shape: tuple[int, int],
    *,
    matrix_first: bool = False,
) -> tuple[Figure, list[Axes], Axes]:
    """Channel grids stacked on one side, the matrix on the other, with one cell size."""
    (rows, cols), (m_rows, m_cols) = channel_cells, matrix_shape
    height = max(channels * (rows + 1.2), m_rows + 1.5)
    fig = new_figure(0.42 * (cols + m_cols) + 2.4, 0.42 * height + 0.6)
    widths = [cols + 0.5, m_cols + 2.0]
    side, other = (1, 0) if matrix_first else (0, 1)
    grid = fig.add_gridspec(channels, 2, width_ratios=widths[::-1] if matrix_first else widths)
    matrix_ax = fig.add_subplot(grid[:, other])
    channel_axes = [fig.add_subplot(grid[c, side]) for c in range(channels)]
    return fig, channel_axes, matrix_ax


def im2col_figure(
    x: ArrayLike,
    kernel_size: int,
    stride: int = 1,
    padding: int = 0,
    highlight: tuple[int, int] | None = (0, 0),
) -> Figure:
    """A tiny input and its column matrix, each copy in the colour of its pixel.

    Parameters
    ----------
    x
        One image ``(C, H, W)``, or ``(H, W)`` for a single channel. Keep it tiny: every
        value is written in a cell (numbering the pixels 1, 2, 3, … reads best).
    kernel_size, stride, padding
        Square kernel, one stride and one padding for both axes.
    highlight
        The output position ``(i, j)`` whose window (in every channel) and column are
        framed; ``None`` frames nothing.

    Returns
    -------
    Figure
        First axes: the ``(C·k·k) × (H_out·W_out)`` matrix (on the right), rows labelled
        ``c m l`` (channel, kernel row, kernel column) and columns ``(i, j)`` (output
        position); then one axes per channel (padding in grey).
    """
    owner = "im2col_figure"
    image = _image(x, owner)
    shape = (image.shape[0], image.shape[1], image.shape[2])
    cols = im2col(image[None], kernel_size, stride, padding)
    sources = _sources(shape, kernel_size, stride, padding)
    _, out_h, out_w = conv_output_shape(shape, 1, kernel_size, stride, padding)
    if highlight is not None and not (0 <= highlight[0] < out_h and 0 <= highlight[1] < out_w):
        raise ValueError(
            f"{owner}: highlight {highlight!r} is not an output position; "
            f"the output is {out_h}×{out_w}"
        )
    channels = shape[0]
    fig, channel_axes, matrix_ax = _layout(
        channels, (shape[1] + 2 * padding, shape[2] + 2 * padding), cols.shape
    )
    settings = f"{kernel_size}×{kernel_size} kernel, stride {stride}"
    if padding:
        settings += f", padding {padding}"
    for c, ax in enumerate(channel_axes):
        title = f"input channel {c}" + (f"\n{shape[1]}×{shape[2]}, {settings}" if c == 0 else "")
        _draw_channel(ax, image, c, padding, title=title)
    _draw_matrix(
        matrix_ax,
        cols,
        sources,
        channels,
        kernel_size,
        (out_h, out_w),
        f"im2col: ({channels}·{kernel_size}·{kernel_size}) × ({out_h}·{out_w}) "
        f"= {cols.shape[0]} × {cols.shape[1]}",
    )
    if highlight is not None:
        i, j = highlight
        for ax in channel_axes:
            outline(ax, i * stride, j * stride, kernel_size, kernel_size)
        outline(matrix_ax, 0, i * out_w + j, cols.shape[0], 1)
    return fig


def col2im_figure(
    cols: ArrayLike,
    input_shape: tuple[int, int, int],
    kernel_size: int,
    stride: int = 1,
    padding: int = 0,
) -> Figure:
    """A column matrix and :func:`cnnlib.im2col.col2im` of it: same colours are added up.

    Parameters
    ----------
    cols
        ``(C·k·k, H_out·W_out)`` for one image.
    input_shape
        ``(C, H, W)`` of the image.
    kernel_size, stride, padding
        As given to :func:`im2col_figure`.

    Returns
    -------
    Figure
        First axes: the matrix (on the left), coloured by destination pixel; then the
        result, one axes per channel, each cell's number the sum of the matrix cells of
        its colour with ``×n`` (how many) in its corner; pixels no window read are red
        and hold 0.
    """
    owner = "col2im_figure"
    if len(input_shape) != 3:
        raise ValueError(f"{owner}: input_shape must be (C, H, W), got {input_shape!r}")
    shape = (int(input_shape[0]), int(input_shape[1]), int(input_shape[2]))
    matrix = real_array(cols, "cols", owner=owner, axes=("C·k·k", "H_out·W_out"))
    back = col2im(matrix, (1, *shape), kernel_size, stride, padding)[0]
    sources = _sources(shape, kernel_size, stride, padding)
    counts = np.bincount(sources[sources >= 0], minlength=int(np.prod(shape))).reshape(shape)
    _, out_h, out_w = conv_output_shape(shape, 1, kernel_size, stride, padding)
    channels, h, w = shape
    fig, channel_axes, matrix_ax = _layout(channels, (h, w), matrix.shape, matrix_first=True)
    for c, ax in enumerate(channel_axes):
        fill = {
            (r, q): UNREAD if counts[c, r, q] == 0 else pixel_colour((c * h + r) * w + q)
            for r, q in np.ndindex(h, w)
        }
        title = f"col2im: channel {c}" + ("\nsum of each colour" if c == 0 else "")
        _draw_channel(ax, back, c, 0, fill=fill, title=title)
        for r, q in np.ndindex(h, w):
            ax.text(
                q + 0.95,
                r + 0.92,
                f"×{counts[c, r, q]}",
                ha="right",
                va="bottom",
                fontsize=7,
                color=PALETTE["padding_text"],
            )
    _draw_matrix(
        matrix_ax,
        matrix,
        sources,
        channels,
        kernel_size,
        (out_h, out_w),
        f"columns {matrix.shape[0]} × {matrix.shape[1]}",
    )
    return fig
