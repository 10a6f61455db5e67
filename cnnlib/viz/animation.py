"""Animations the static HTML book can play: animated PNG (APNG) images.

An APNG is an ordinary ``image/png`` output for Jupyter and Jupyter Book, so it needs no
JavaScript, renders in every modern browser, and is written to the page like any figure.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike
from PIL import Image

from cnnlib import geometry
from cnnlib.viz.convolution import SlidingWindow, _step_axes
from cnnlib.viz.figure import Figure, new_figure

__all__ = ["APNG", "sliding_window_animation"]


class APNG:
    """An animated PNG: Jupyter shows it as an image, browsers play it.

    Parameters
    ----------
    frames
        RGB frames of equal size.
    durations_ms
        How long each frame is shown, in milliseconds.
    """

    def __init__(self, frames: Sequence[Image.Image], durations_ms: Sequence[int]) -> None:
        if not frames:
            raise ValueError("APNG: at least one frame is needed")
        if len(durations_ms) != len(frames):
            raise ValueError(f"APNG: got {len(frames)} frames but {len(durations_ms)} durations")
        sizes = {frame.size for frame in frames}
        if len(sizes) != 1:
            raise ValueError(f"APNG: all frames must have the same size, got {sorted(sizes)}")
        buffer = io.BytesIO()
        frames[0].save(
            buffer,
            format="PNG",
            save_all=True,
            append_images=list(frames[1:]),
            duration=list(durations_ms),
            loop=0,
            optimize=True,
        )
        self.data = buffer.getvalue()
        self.frame_count = len(frames)
        self.size = frames[0].size

    def _repr_png_(self) -> bytes:
        return self.data

    def __repr__(self) -> str:
        """Frame count and size, e.g. ``<APNG animation: 9 frames, 910×380 px>``."""
        width, height = self.size
        return f"<APNG animation: {self.frame_count} frames, {width}×{height} px>"

    def save(self, path: str | Path) -> Path:
        """Write the animation to ``path`` (use a ``.png`` suffix) and return the path."""
        target = Path(path)
        target.write_bytes(self.data)
        return target


def _render(fig: Figure) -> Image.Image:
    fig.canvas.draw()
    rgba = np.asarray(fig.canvas.buffer_rgba())  # type: ignore[attr-defined]
    return Image.fromarray(rgba).convert("RGB")


def sliding_window_animation(
    image: ArrayLike,
    kernel: ArrayLike,
    stride: int = 1,
    padding: geometry.Padding2D = 0,
    frame_ms: int = 900,
) -> APNG:
    """Animate a cross-correlation: one frame per window position, then a pause.

    Parameters
    ----------
    image, kernel
        2-D arrays (small ones: every number is written in its cell).
    stride, padding
        As in :func:`cnnlib.viz.sliding_window_figure`.
    frame_ms
        Time per frame; the last frame is held three times as long.

    Returns
    -------
    APNG
        Display it as the last expression of a notebook cell, or ``.save()`` it.
    """
    window = SlidingWindow(image, kernel, stride, padding)
    count = len(window.positions)
    cells_wide = window.padded.shape[1] + window.kernel.shape[1] + 2 + window.output.shape[1]
    frames = []
    for step in range(count):
        fig = new_figure(0.6 * cells_wide + 2.5, 0.6 * window.padded.shape[0] + 1.4)
        (axes,) = _step_axes(fig, window, 1)
        window.draw(axes, step, label=f"(step {step + 1} of {count})")
        frames.append(_render(fig))
    durations = [frame_ms] * (count - 1) + [3 * frame_ms]
    return APNG(frames, durations)
