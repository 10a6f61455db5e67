"""Figures of chapter 4: pooling windows, what each kind of pooling keeps, where gradients go.

* :func:`pooling_figure` — an input with its windows coloured and, side by side, the
  outputs of max, average and min pooling, each output cell in its window's colour;
* :func:`pooling_windows_figure` — one panel per output: the window it reads (padding
  drawn as the value each kind pads with) and, for max and min pooling, the winner;
* :func:`pool_routing_figure` — the backward pass: the upstream gradient of each window
  and where it lands in the input gradient; cells that collect from several windows
  (overlap) are marked.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from matplotlib.axes import Axes
from matplotlib.patches import Rectangle
from numpy.typing import ArrayLike, NDArray

from cnnlib import pooling
from cnnlib._validation import real_array
from cnnlib.geometry import IntOrPair
from cnnlib.viz.figure import PALETTE, Figure, new_figure
from cnnlib.viz.grid import center_in, draw_grid, format_cell

__all__ = ["pool_routing_figure", "pooling_figure", "pooling_windows_figure"]

PoolKind = Literal["max", "avg", "min"]
KINDS: tuple[PoolKind, ...] = ("max", "avg", "min")

#: Light fill and dark frame of each window, in row-major window order (cycled).
WINDOW_COLOURS: tuple[tuple[str, str], ...] = (
    ("#d6e4f5", "#1f5fa8"),  # blue
    ("#f3d9a4", "#b06a00"),  # orange
    ("#cde8c9", "#2e7d32"),  # green
    ("#f2c4d6", "#ad1457"),  # pink
    ("#e0d4f0", "#6a3d9a"),  # purple
    ("#c9ecec", "#00796b"),  # teal
    ("#fbe8a6", "#8d6e00"),  # yellow
    ("#f5cfb8", "#bf360c"),  # salmon
)
#: Fill of an input-gradient cell that collected gradient from two or more windows.
ACCUMULATED = "#e8a09a"
#: Fill of input cells that no window reads (the floor of the output-size formula).
UNREAD = PALETTE["excluded"]

_NAMES = {"max": "max pooling", "avg": "average pooling", "min": "min pooling"}
_PAD_TEXT = {"max": "−∞", "min": "+∞", "avg": "0"}
_SUBSCRIPTS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def window_fill(index: int) -> str:
    """The light fill colour of window ``index`` (row-major order)."""
    return WINDOW_COLOURS[index % len(WINDOW_COLOURS)][0]


def window_edge(index: int) -> str:
    """The dark frame colour of window ``index``."""
    return WINDOW_COLOURS[index % len(WINDOW_COLOURS)][1]


def _kind(kind: str, owner: str) -> PoolKind:
    for known in KINDS:
        if kind == known:
            return known
    raise ValueError(f"{owner}: kind must be one of {', '.join(map(repr, KINDS))}; got {kind!r}")


def _pool(kind: PoolKind, x: NDArray[Any], k: IntOrPair, s: IntOrPair, p: IntOrPair) -> Any:
    functions = {"max": pooling.max_pool2d, "avg": pooling.avg_pool2d, "min": pooling.min_pool2d}
    return functions[kind](x[None, None], k, s, p)[0, 0]


class _Windows:
    """The geometry of a single-channel pooling: window corners, sizes, who reads what."""

    def __init__(
        self,
        image: ArrayLike,
        kernel_size: IntOrPair,
        stride: IntOrPair | None,
        padding: IntOrPair,
        owner: str,
    ) -> None:
        self.x = np.asarray(real_array(image, "x", owner=owner, axes=("H", "W")), dtype=float)
        spec = pooling.pool_spec((1, 1, *self.x.shape), kernel_size, stride, padding, owner)
        self.kernel, self.stride, self.pad = spec.kernel, spec.stride, spec.padding
        self.out_shape = spec.output_shape[2:]
        self.corners = [
            (i * self.stride[0], j * self.stride[1])
            for i in range(self.out_shape[0])
            for j in range(self.out_shape[1])
        ]
        self.overlapping = self.stride[0] < self.kernel[0] or self.stride[1] < self.kernel[1]

    @property
    def pads(self) -> tuple[tuple[int, int], tuple[int, int]]:
        """The padding before and after each axis, as :func:`numpy.pad` takes it."""
        return (self.pad[0],) * 2, (self.pad[1],) * 2

    @property
    def padded(self) -> NDArray[Any]:
        """The input with its padding (zeros: the figures write what each kind pads with)."""
        return np.pad(self.x, self.pads)

    @property
    def padded_shape(self) -> tuple[int, int]:
        return self.x.shape[0] + 2 * self.pad[0], self.x.shape[1] + 2 * self.pad[1]

    def cells(self, index: int) -> list[tuple[int, int]]:
        """The cells (padded coordinates) of window ``index``."""
        r, c = self.corners[index]
        return [(r + m, c + n) for m in range(self.kernel[0]) for n in range(self.kernel[1])]

    def unread(self) -> list[tuple[int, int]]:
        """Input cells (padded coordinates, padding excluded) that no window covers."""
        covered = {cell for index in range(len(self.corners)) for cell in self.cells(index)}
        (ph, pw), (h, w) = self.pad, self.x.shape
        return [
            (r, c) for r in range(ph, ph + h) for c in range(pw, pw + w) if (r, c) not in covered
        ]

    def is_padding(self, r: int, c: int) -> bool:
        (ph, pw), (h, w) = self.pad, self.x.shape
        return not (ph <= r < ph + h and pw <= c < pw + w)

    def value(self, r: int, c: int) -> float:
        """The input value at padded coordinates ``(r, c)`` (not a padding cell)."""
        return float(self.x[r - self.pad[0], c - self.pad[1]])

    def winners(self, kind: Literal["max", "min"]) -> list[tuple[int, int]]:
        """The cell (padded coordinates) that wins each window, as the library picks it."""
        _, taps, _ = pooling.pool2d_with_winners(
            self.x[None, None], self.kernel, self.stride, self.pad, kind
        )
        kw = self.kernel[1]
        return [
            (r + int(tap) // kw, c + int(tap) % kw)
            for (r, c), tap in zip(self.corners, taps.ravel(), strict=True)
        ]


def _frame(ax: Axes, cells: tuple[int, int, int, int], colour: str, inset: float) -> None:
    """A coloured frame around ``(row, col, height, width)``, pulled in by ``inset``."""
    r, c, h, w = cells
    ax.add_patch(
        Rectangle(
            (c + inset, r + inset),
            w - 2 * inset,
            h - 2 * inset,
            fill=False,
            edgecolor=colour,
            linewidth=2.5,
        )
    )


def _frame_windows(ax: Axes, windows: _Windows) -> None:
    """Every window framed in its colour; overlapping frames are staggered to stay visible."""
    for index, (r, c) in enumerate(windows.corners):
        inset = 0.06 + 0.07 * (index % 3) if windows.overlapping else 0.04
        _frame(ax, (r, c, *windows.kernel), window_edge(index), inset)


def _draw_windows(ax: Axes, windows: _Windows, title: str, *, pad_text: str = "0") -> None:
    """The (padded) input: disjoint windows filled, overlapping ones framed in colour."""
    fill: dict[tuple[int, int], str] = dict.fromkeys(windows.unread(), UNREAD)
    if not windows.overlapping:
        for index in range(len(windows.corners)):
            fill.update(dict.fromkeys(windows.cells(index), window_fill(index)))
    draw_grid(ax, windows.padded, title=title, fill=fill, padding=windows.pads, show_values=False)
    _write(ax, windows, pad_text)
    _frame_windows(ax, windows)


def _write(
    ax: Axes, windows: _Windows, pad_text: str, bold: set[tuple[int, int]] | None = None
) -> None:
    """The numbers of the (padded) input; padding cells show ``pad_text``."""
    bold = bold or set()
    rows, cols = windows.padded_shape
    for r in range(rows):
        for c in range(cols):
            padding = windows.is_padding(r, c)
            text = pad_text if padding else format_cell(windows.value(r, c))
            ax.text(
                c + 0.5,
                r + 0.5,
                text,
                ha="center",
                va="center",
                fontsize=11,
                color=PALETTE["padding_text"] if padding else PALETTE["text"],
                fontweight="bold" if (r, c) in bold else "normal",
            )


def _draw_output(ax: Axes, values: ArrayLike, title: str, canvas: tuple[int, int]) -> None:
    out = np.asarray(values, dtype=float)
    fill = {(i, j): window_fill(i * out.shape[1] + j) for i, j in np.ndindex(*out.shape)}
    draw_grid(ax, out, title=title, fill=fill)
    center_in(ax, out.shape, canvas)


def _geometry_text(windows: _Windows) -> str:
    (kh, kw), (sh, sw), (ph, pw) = windows.kernel, windows.stride, windows.pad
    text = f"{kh}×{kw} windows, stride {sh if sh == sw else (sh, sw)}"
    if ph or pw:
        text += f", padding {ph if ph == pw else (ph, pw)}"
    return text


def pooling_figure(
    x: ArrayLike,
    kernel_size: IntOrPair,
    stride: IntOrPair | None = None,
    *,
    kinds: tuple[str, ...] = KINDS,
) -> Figure:
    """An input with its pooling windows, and the output of each kind of pooling.

    Each window has its own colour: disjoint windows are filled with it, overlapping ones
    are framed in it. Every output cell is filled with the colour of the window it
    summarises. Input cells that no window reaches (the floor of the output-size formula)
    are red.

    Parameters
    ----------
    x
        A small 2-D array (every number is written in its cell).
    kernel_size, stride
        As in :func:`cnnlib.pooling.max_pool2d`; the stride defaults to the window size.
    kinds
        Which outputs to show, from ``"max"``, ``"avg"`` and ``"min"``.

    Raises
    ------
    ValueError
        For an unknown kind, or a window that does not fit.
    """
    owner = "pooling_figure"
    windows = _Windows(x, kernel_size, stride, 0, owner)
    chosen = [_kind(kind, owner) for kind in kinds]
    if not chosen:
        raise ValueError(f"{owner}: kinds is empty; choose from {', '.join(map(repr, KINDS))}")
    h, w = windows.x.shape
    out_h, out_w = windows.out_shape
    panels = 1 + len(chosen)
    fig = new_figure(0.55 * (w + out_w * len(chosen)) + 1.1 * panels + 0.4, 0.55 * h + 1.3)
    axes = fig.subplots(1, panels, width_ratios=[w] + [max(out_w, 2.5)] * len(chosen))
    _draw_windows(axes[0], windows, f"input {h}×{w}\n{_geometry_text(windows)}")
    for ax, kind in zip(axes[1:], chosen, strict=True):
        out = _pool(kind, windows.x, windows.kernel, windows.stride, 0)
        _draw_output(ax, out, f"{_NAMES[kind]}\n→ {out_h}×{out_w}", (h, max(out_w, 2)))
    return fig


def _title_of(windows: _Windows, index: int, kind: PoolKind, value: float) -> str:
    out_w = windows.out_shape[1]
    i, j = divmod(index, out_w)
    name = f"y{i}{j}".translate(_SUBSCRIPTS) if i < 10 and j < 10 else f"y[{i},{j}]"
    what = {"max": "max", "min": "min", "avg": "mean"}[kind]
    return f"{name} = {what} = {format_cell(value)}"


def pooling_windows_figure(
    x: ArrayLike,
    kernel_size: IntOrPair,
    stride: IntOrPair | None = None,
    padding: IntOrPair = 0,
    kind: str = "max",
) -> Figure:
    """One panel per output: the window it reads and, for max and min, the window's winner.

    The panels are laid out like the outputs (panel ``(i, j)`` shows the window of
    ``y[i, j]``), and a last panel shows the whole output. Padding cells are grey and show
    what each kind pads with: ``−∞`` for max pooling, ``+∞`` for min pooling and ``0`` for
    average pooling (which counts the zeros). The winner — the first maximum (minimum) in
    row-major order, the element that receives the gradient — is framed in black.

    Parameters
    ----------
    x
        A small 2-D array.
    kernel_size, stride, padding
        As in :func:`cnnlib.pooling.max_pool2d`.
    kind
        ``"max"``, ``"avg"`` or ``"min"``.

    Raises
    ------
    ValueError
        For an unknown kind, a window that does not fit, or more than 16 outputs (too many
        panels to read).
    """
    owner = "pooling_windows_figure"
    chosen = _kind(kind, owner)
    windows = _Windows(x, kernel_size, stride, padding, owner)
    out_h, out_w = windows.out_shape
    if out_h * out_w > 16:
        raise ValueError(
            f"{owner}: {out_h}×{out_w} = {out_h * out_w} outputs would need as many panels; "
            "use a smaller input (at most 16 outputs)"
        )
    out = _pool(chosen, windows.x, windows.kernel, windows.stride, windows.pad)
    rows, cols = windows.padded_shape
    cell = 0.34
    fig = new_figure((cell * cols + 0.5) * (out_w + 1) + 0.6, (cell * rows + 0.75) * out_h + 0.4)
    grid = fig.add_gridspec(out_h, out_w + 1)
    values = windows.padded  # the same padded input in every panel
    winners = windows.winners(chosen) if chosen != "avg" else []
    for index, (r, c) in enumerate(windows.corners):
        i, j = divmod(index, out_w)
        ax = fig.add_subplot(grid[i, j])
        fill = dict.fromkeys(windows.cells(index), window_fill(index))
        draw_grid(ax, values, fill=fill, padding=windows.pads, show_values=False)
        bold: set[tuple[int, int]] = set()
        if winners:
            bold.add(winners[index])
            _frame(ax, (*winners[index], 1, 1), PALETTE["text"], 0.08)
        _write(ax, windows, _PAD_TEXT[chosen], bold)
        _frame(ax, (r, c, *windows.kernel), window_edge(index), 0.04)
        ax.set_title(_title_of(windows, index, chosen, float(out[i, j])), fontsize=11)
    ax_out = fig.add_subplot(grid[:, out_w])
    title = f"{_NAMES[chosen]}\n{_geometry_text(windows)}"
    _draw_output(ax_out, out, title, (out_h * rows + 3 * (out_h - 1) // 2, max(cols, out_w)))
    return fig


def pool_routing_figure(
    x: ArrayLike,
    dy: ArrayLike,
    kernel_size: IntOrPair,
    stride: IntOrPair | None = None,
    kind: str = "max",
) -> Figure:
    """The backward pass of a pooling: where each window's upstream gradient goes.

    Three panels: the input with its windows (for max and min pooling the winners are
    filled with their window's colour), the upstream gradient ``dL/dY`` with each cell in
    its window's colour, and the input gradient ``dL/dX``. A cell of ``dL/dX`` that got
    gradient from one window has that window's colour; one that collected from two or more
    overlapping windows is red and holds their sum. Max (min) pooling sends each
    ``dY[i, j]`` whole to the winner of its window; average pooling spreads
    ``dY[i, j] / (k_h k_w)`` over every cell of the window.

    Parameters
    ----------
    x
        A small 2-D array, the forward pass's input.
    dy
        The upstream gradient, shaped like the pooling's output.
    kernel_size, stride
        As in :func:`cnnlib.pooling.max_pool2d`.
    kind
        ``"max"``, ``"avg"`` or ``"min"``.

    Raises
    ------
    ValueError
        For an unknown kind, a window that does not fit, or a ``dy`` of the wrong shape.
    """
    owner = "pool_routing_figure"
    chosen = _kind(kind, owner)
    windows = _Windows(x, kernel_size, stride, 0, owner)
    grad = np.asarray(real_array(dy, "dy", owner=owner, axes=("H_out", "W_out")), dtype=float)
    if grad.shape != windows.out_shape:
        raise ValueError(
            f"{owner}: dy has shape {grad.shape}, but a {windows.x.shape[0]}×"
            f"{windows.x.shape[1]} input pooled with {_geometry_text(windows)} gives "
            f"{windows.out_shape[0]}×{windows.out_shape[1]} outputs"
        )
    backward = {
        "max": pooling.max_pool2d_backward,
        "avg": pooling.avg_pool2d_backward,
        "min": pooling.min_pool2d_backward,
    }[chosen]
    dx = backward(grad[None, None], windows.x[None, None], windows.kernel, windows.stride)[0, 0]
    winners = windows.winners(chosen) if chosen != "avg" else []
    sources: dict[tuple[int, int], list[int]] = {}
    for index in range(len(windows.corners)):
        receivers = [winners[index]] if winners else windows.cells(index)
        for cell in receivers:
            sources.setdefault(cell, []).append(index)
    dx_fill = {
        cell: window_fill(found[0]) if len(found) == 1 else ACCUMULATED
        for cell, found in sources.items()
    }
    h, w = windows.x.shape
    out_w = windows.out_shape[1]
    fig = new_figure(0.55 * (2 * w + out_w) + 3.6, 0.55 * h + 1.6)
    axes = fig.subplots(1, 3, width_ratios=[w, max(out_w, 2.5), w])
    if chosen == "avg":
        _draw_windows(axes[0], windows, f"x\n{_geometry_text(windows)}")
    else:
        fill = dict(dx_fill)  # the winners, in the colour of their window(s)
        fill.update(dict.fromkeys(windows.unread(), UNREAD))
        draw_grid(axes[0], windows.x, title=f"x: the winners\n{_geometry_text(windows)}", fill=fill)
        _frame_windows(axes[0], windows)
    _draw_output(axes[1], grad, "dL/dY\n(upstream)", (h, max(out_w, 2)))
    shared = sum(1 for found in sources.values() if len(found) > 1)
    note = "each cell from one window"
    if shared:
        cells = "1 cell collects" if shared == 1 else f"{shared} cells collect"
        note = f"red: {cells} from several windows"
    draw_grid(axes[2], dx, title=f"dL/dX\n{note}", fill=dx_fill)
    fig.supxlabel(
        f"Σ dL/dY = {format_cell(float(grad.sum()))},  Σ dL/dX = {format_cell(float(dx.sum()))}",
        fontsize=11,
    )
    return fig
