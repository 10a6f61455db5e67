"""Polyphase splitting: every ``s``-th pixel of an image, for each starting offset.

Phase ``(a, b)`` of a zero-padded image with steps ``(s_h, s_w)`` holds its pixels
``(a + s_h·i, b + s_w·j)``. A convolution tap that reads every ``s``-th pixel reads one phase
with stride 1, so copies become contiguous runs (:mod:`cnnlib.conv.fast`), and Winograd's
4×4 tiles at stride 2 become plain offsets (:mod:`cnnlib.conv.winograd`).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np
from numpy.typing import NDArray

from cnnlib.conv.spec import ConvSpec
from cnnlib.conv.workspace import Workspace, zeroed

__all__ = ["merge_phases", "phase_slices", "split_phases"]


@lru_cache(maxsize=256)  # called on every pass: computed once per geometry
def phase_slices(
    spec: ConvSpec, steps: tuple[int, int], shape: tuple[int, int], a: int, b: int
) -> tuple[slice, slice, slice, slice]:
    """Where the unpadded image's pixels land in phase ``(a, b)``, and which pixels those are.

    Returns ``(rows, cols, source_rows, source_cols)``: ``phase[rows, cols]`` holds
    ``x[source_rows, source_cols]``; a phase of ``shape`` keeps only what fits.
    """
    (top, _), (left, _) = spec.padding
    out: list[slice] = []
    sources: list[slice] = []
    for offset, pad, step, size, limit in (
        (a, top, steps[0], spec.height, shape[0]),
        (b, left, steps[1], spec.width, shape[1]),
    ):
        first = max(0, -(-(pad - offset) // step))  # first phase index inside the image
        source_start = first * step + offset - pad
        count = min(len(range(source_start, size, step)), max(limit - first, 0))
        out.append(slice(first, first + count))
        sources.append(slice(source_start, source_start + step * count, step))
    return out[0], out[1], sources[0], sources[1]


def split_phases(
    x: NDArray[Any],
    spec: ConvSpec,
    steps: tuple[int, int],
    shape: tuple[int, int],
    workspace: Workspace | None,
    name: str,
) -> NDArray[Any]:
    """The zero-padded input as phases, channels first: ``(s_h·s_w, C, N, H_q + 1, W_q)``.

    ``shape`` is ``(H_q, W_q)``; the extra zero row lets wide runs read past the last row.
    Only the image's pixels are written, so a buffer reused for the same geometry keeps its
    zeros and is not cleared again.
    """
    sh, sw = steps
    full = (sh * sw, spec.in_channels, spec.batch, shape[0] + 1, shape[1])
    phases = zeroed(workspace, name, full, x.dtype, region=(spec, steps, shape))
    by_channel = x.transpose(1, 0, 2, 3)
    for a in range(sh):
        for b in range(sw):
            rows, cols, src_rows, src_cols = phase_slices(spec, steps, shape, a, b)
            phases[a * sw + b, :, :, rows, cols] = by_channel[:, :, src_rows, src_cols]
    return phases


def merge_phases(
    dphases: NDArray[Any],
    spec: ConvSpec,
    steps: tuple[int, int],
    out: NDArray[Any] | None = None,
) -> NDArray[Any]:
    """The image's pixels gathered back out of phase gradients: ``dx`` (NCHW).

    ``dphases`` is ``(s_h·s_w, C, N, H_q (+ 1), W_q)`` as :func:`split_phases` lays it out;
    gradients that fell on the padding are dropped. ``out``, if given, receives ``dx``;
    otherwise ``dx`` is ``(N, C, H, W)`` laid out channels first in memory.
    """
    sh, sw = steps
    shape = (dphases.shape[3], dphases.shape[4])
    if out is None:  # channels first in memory, like the phases: the copies are long runs
        n, c, h, w = spec.input_shape
        dx = np.zeros((c, n, h, w), dtype=dphases.dtype).transpose(1, 0, 2, 3)
    else:
        dx = out
        dx.fill(0)  # pixels that no window reads get no gradient
    by_channel = dx.transpose(1, 0, 2, 3)
    for a in range(sh):
        for b in range(sw):
            rows, cols, src_rows, src_cols = phase_slices(spec, steps, shape, a, b)
            by_channel[:, :, src_rows, src_cols] = dphases[a * sw + b, :, :, rows, cols]
    return dx
