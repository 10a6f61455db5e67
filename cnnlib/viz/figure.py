"""A Matplotlib figure that shows itself in Jupyter without pyplot.

Figures made with :class:`Figure` never touch pyplot's global state, so a notebook cell
that returns one displays it exactly once, as a PNG on an opaque white background that
stays readable in the book's dark mode.
"""

from __future__ import annotations

import io
from typing import Any

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure as _MatplotlibFigure

__all__ = ["PALETTE", "Figure", "new_figure"]

#: Colours shared by every drawing in the book (colour-blind safe, print friendly).
PALETTE = {
    "cell": "#ffffff",
    "grid": "#555555",
    "text": "#111111",
    "padding": "#e6e6e6",
    "padding_text": "#777777",
    "window": "#1f5fa8",
    "window_fill": "#d6e4f5",
    "output": "#f3d9a4",
    "excluded": "#f2b8b5",
    "tap": "#1f5fa8",
    # two series that must stay apart for colour-blind readers (Okabe–Ito blue, vermillion)
    "series": "#0072b2",
    "contrast": "#d55e00",
}


class Figure(_MatplotlibFigure):
    """A :class:`matplotlib.figure.Figure` with a PNG representation for Jupyter."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("facecolor", "white")
        kwargs.setdefault("dpi", 100)
        super().__init__(*args, **kwargs)
        FigureCanvasAgg(self)

    def to_png(self) -> bytes:
        """Render the figure to PNG bytes (white background, tight bounding box)."""
        buffer = io.BytesIO()
        self.savefig(buffer, format="png", facecolor="white", bbox_inches="tight", pad_inches=0.1)
        return buffer.getvalue()

    def _repr_png_(self) -> bytes:
        return self.to_png()


def new_figure(width: float, height: float) -> Figure:
    """A white :class:`Figure` of ``width × height`` inches with constrained layout."""
    return Figure(figsize=(width, height), layout="constrained")
