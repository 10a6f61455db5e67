"""Showing arrays as images: inputs, kernels and feature maps side by side."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

from cnnlib.viz.figure import Figure, new_figure

__all__ = ["image_row"]


def image_row(
    images: Sequence[ArrayLike],
    titles: Sequence[str] | None = None,
    *,
    cmap: str = "gray",
    symmetric: Sequence[bool] | None = None,
    size: float = 2.6,
) -> Figure:
    """Show 2-D arrays side by side, each with its own colour scale and a colour bar.

    Parameters
    ----------
    images
        2-D arrays, e.g. an input and the feature maps computed from it.
    titles
        One title per image.
    cmap
        Colour map for images that are not ``symmetric``.
    symmetric
        Per image: centre the colour scale on zero and use a diverging map (blue negative,
        red positive) — the right choice for kernels and feature maps, whose sign matters.
    size
        Width of each panel in inches.
    """
    arrays = [np.asarray(image, dtype=float) for image in images]
    for index, array in enumerate(arrays):
        if array.ndim != 2:
            raise ValueError(f"image_row: image {index} must be 2-D, got shape {array.shape}")
    titles = list(titles) if titles is not None else [""] * len(arrays)
    if len(titles) != len(arrays):
        raise ValueError(f"image_row: {len(arrays)} images but {len(titles)} titles")
    flags = list(symmetric) if symmetric is not None else [False] * len(arrays)
    fig = new_figure(size * len(arrays), size * 0.95)
    axes = fig.subplots(1, len(arrays), squeeze=False)[0]
    for ax, array, title, centred in zip(axes, arrays, titles, flags, strict=True):
        if centred:
            limit = float(np.abs(array).max()) or 1.0
            shown = ax.imshow(
                array, cmap="RdBu_r", vmin=-limit, vmax=limit, interpolation="nearest"
            )
        else:
            shown = ax.imshow(array, cmap=cmap, interpolation="nearest")
        fig.colorbar(shown, ax=ax, shrink=0.8)
        ax.set_title(title, fontsize=11)
        ax.set_xticks([])
        ax.set_yticks([])
    return fig
