"""Reading back what a cnnlib.viz figure drew, for the figure tests.

The figures draw grids of unit cells (``Rectangle`` patches at integer positions) with a
number in each; these helpers recover the numbers, the filled cells and the frames so that
tests can compare them with values computed independently.
"""

from __future__ import annotations

import io

import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from PIL import Image


def texts(ax: Axes) -> list[str]:
    """Every text drawn on ``ax``, in drawing order."""
    return [t.get_text() for t in ax.texts]


def numbers(ax: Axes, shape: tuple[int, ...]) -> np.ndarray:
    """The numbers drawn on ``ax`` as an array of ``shape`` (operator labels ``×…`` skipped)."""
    values = [text for text in texts(ax) if not text.startswith("×")]
    return np.array([float(v) for v in values]).reshape(shape)


def filled(ax: Axes, colour: str) -> list[tuple[int, int]]:
    """Sorted ``(row, col)`` of the filled cells whose background has ``colour``."""
    return sorted(
        (round(p.get_y()), round(p.get_x()))
        for p in ax.patches
        if p.get_fill() and p.get_facecolor() == to_rgba(colour)
    )


def frames(ax: Axes, colour: str | None = None) -> list[tuple[int, int, int, int]]:
    """Sorted ``(row, col, height, width)`` of the unfilled frames (in ``colour``, if given)."""
    return sorted(
        (round(p.get_y()), round(p.get_x()), round(p.get_height()), round(p.get_width()))
        for p in ax.patches
        if not p.get_fill() and (colour is None or p.get_edgecolor() == to_rgba(colour))
    )


def assert_white_png(fig: Figure) -> None:
    """The figure renders as a PNG on a white background."""
    image = Image.open(io.BytesIO(fig._repr_png_()))
    assert image.format == "PNG"
    assert image.convert("RGB").getpixel((1, 1)) == (255, 255, 255)
