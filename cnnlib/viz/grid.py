"""Drawing a matrix as a grid of numbered cells: the building block of every figure."""

from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.patches import Rectangle
from numpy.typing import ArrayLike

from cnnlib.viz.figure import PALETTE

__all__ = ["center_in", "draw_grid", "format_cell", "outline"]


def format_cell(value: Any) -> str:
    """Text for one cell: integers as such, other numbers with up to 3 significant digits.

    ``NaN`` marks a value not computed yet and is drawn as ``?``.
    """
    number = float(value)
    if np.isnan(number):
        return "?"
    if number.is_integer():
        return str(int(number))
    return f"{number:.3g}"


def draw_grid(
    ax: Axes,
    values: ArrayLike,
    *,
    title: str | None = None,
    fill: dict[tuple[int, int], str] | None = None,
    show_values: bool = True,
    padding: tuple[tuple[int, int], tuple[int, int]] = ((0, 0), (0, 0)),
    fontsize: float = 11,
) -> None:
    """Draw ``values`` (H, W) as a grid of cells with their numbers.

    Parameters
    ----------
    ax
        The axes to draw on; its limits, aspect and ticks are set here.
    values
        A 2-D array; NaN entries are drawn as ``?``.
    title
        Shown above the grid.
    fill
        Background colour per ``(row, col)``; other cells are white.
    show_values
        Write the numbers in the cells.
    padding
        ``((top, bottom), (left, right))``: border cells drawn as zero padding (grey).
    fontsize
        Size of the numbers.
    """
    grid = np.asarray(values, dtype=float)
    if grid.ndim != 2:
        raise ValueError(f"draw_grid: values must be 2-D, got shape {grid.shape}")
    rows, cols = grid.shape
    (top, bottom), (left, right) = padding
    fill = fill or {}
    for r in range(rows):
        for c in range(cols):
            is_pad = r < top or r >= rows - bottom or c < left or c >= cols - right
            face = fill.get((r, c), PALETTE["padding"] if is_pad else PALETTE["cell"])
            ax.add_patch(
                Rectangle((c, r), 1, 1, facecolor=face, edgecolor=PALETTE["grid"], linewidth=0.8)
            )
            if show_values:
                ax.text(
                    c + 0.5,
                    r + 0.5,
                    format_cell(grid[r, c]),
                    ha="center",
                    va="center",
                    fontsize=fontsize,
                    color=PALETTE["padding_text"] if is_pad else PALETTE["text"],
                )
    ax.set_xlim(-0.05, cols + 0.05)
    ax.set_ylim(rows + 0.05, -0.05)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)
    if title:
        ax.set_title(title, fontsize=fontsize + 1)


def outline(
    ax: Axes,
    row: int,
    col: int,
    height: int,
    width: int,
    *,
    color: str = PALETTE["window"],
    linewidth: float = 3.0,
) -> None:
    """Draw a thick frame around the cells ``[row, row + height) × [col, col + width)``."""
    ax.add_patch(
        Rectangle((col, row), width, height, fill=False, edgecolor=color, linewidth=linewidth)
    )


def center_in(ax: Axes, shape: tuple[int, int], canvas: tuple[int, int]) -> None:
    """Centre a grid of ``shape`` cells in an axes sized for ``canvas`` cells.

    Grids drawn side by side then share one cell size, whatever their shapes.
    """
    (rows, cols), (total_rows, total_cols) = shape, canvas
    top = (total_rows - rows) / 2
    left = (total_cols - cols) / 2
    ax.set_ylim(rows + top + 0.05, -top - 0.05)
    ax.set_xlim(-left - 0.05, cols + left + 0.05)
