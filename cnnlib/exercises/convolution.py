"""Checkers for the exercises of chapter 1, "Convolution".

Each ``check_<name>(fn)`` runs the learner's ``fn`` against the reference in
:mod:`cnnlib.geometry` or :mod:`cnnlib.signal` on the worked examples of the chapter and
on edge cases, and names the usual mistakes when it recognises them.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from cnnlib import geometry, signal
from cnnlib.exercises.core import Case, Exercise, Mistake, random_grid

__all__ = [
    "check_conv_output_size",
    "check_conv_params",
    "check_correlate2d",
    "check_dilate_kernel",
]


# --------------------------------------------------------------------------- output size
def _output_size(n: int, kernel_size: int, stride: int = 1, padding: int = 0) -> int:
    return geometry.conv_output_size(n, kernel_size, stride, padding)


OUTPUT_SIZE = Exercise(
    name="conv_output_size",
    reference=_output_size,
    cases=(
        Case((4, 2), note="the 4×4 input and 2×2 kernel of the sliding-window example"),
        Case((7, 3), {"stride": 2}, note="7 pixels, 3-pixel kernel, stride 2"),
        Case((32, 5), {"stride": 1, "padding": 2}, note="'same' padding (k − 1)/2 = 2"),
        Case((7, 3), {"stride": 5}, note="the floor problem: (7 − 3)/5 + 1 = 1.8"),
        Case((10, 3), {"stride": 2}, note="a 10-pixel row with stride 2: one pixel excluded"),
        Case((227, 11), {"stride": 4}, note="AlexNet's first layer"),
        Case((5, 3), {"stride": 2, "padding": 1}, note="padding and stride together"),
        Case((6, 4), {"stride": 3, "padding": 1}, note="padding, stride and a floor"),
        Case((1, 1), note="a 1×1 kernel on a single pixel"),
    ),
    mistakes=(
        Mistake(
            "you divided with / and kept the fraction: the formula has a floor, "
            "⌊(n + 2p − k)/s⌋ + 1 — use // so a last, incomplete step is dropped",
            lambda n, k, stride=1, padding=0: (n + 2 * padding - k) / stride + 1,
        ),
        Mistake(
            "you rounded up; the last window must fit entirely inside the padded input, "
            "so the formula rounds down: ⌊(n + 2p − k)/s⌋ + 1",
            lambda n, k, stride=1, padding=0: math.ceil((n + 2 * padding - k) / stride) + 1,
        ),
        Mistake(
            "you ignored the padding: it adds p pixels on *each* side, so n becomes n + 2p",
            lambda n, k, stride=1, padding=0: (n - k) // stride + 1,
        ),
        Mistake(
            "you added the padding once; it goes on both sides, so n becomes n + 2p",
            lambda n, k, stride=1, padding=0: (n + padding - k) // stride + 1,
        ),
        Mistake(
            "you forgot the + 1: the first window sits at position 0 before any step is taken",
            lambda n, k, stride=1, padding=0: (n + 2 * padding - k) // stride,
        ),
        Mistake(
            "you ignored the stride: the window moves s pixels at a time, so divide by s",
            lambda n, k, stride=1, padding=0: n + 2 * padding - k + 1,
        ),
        Mistake(
            "you divided the + 1 by the stride as well; only (n + 2p − k) is divided: "
            "⌊(n + 2p − k)/s⌋ + 1",
            lambda n, k, stride=1, padding=0: (n + 2 * padding - k + 1) // stride,
        ),
    ),
    highlight="including the floor problem and AlexNet's 227 → 55",
)


def check_conv_output_size(fn: Callable[..., Any]) -> bool:
    """Check ``fn(n, kernel_size, stride=1, padding=0) -> int`` (``ex-conv-output-size``).

    Raises
    ------
    cnnlib.exercises.ExerciseError
        With the first wrong case, what is wrong and the likely mistake.
    """
    return OUTPUT_SIZE.check(fn)


# ----------------------------------------------------------------------- cross-correlation
def _correlate(image: NDArray[Any], kernel: NDArray[Any], stride: int = 1) -> NDArray[Any]:
    return signal.correlate2d(image, kernel, "valid", stride)


def _unstrided_positions(
    image: NDArray[Any], kernel: NDArray[Any], stride: int = 1
) -> NDArray[Any]:
    """Output sized for the stride, but windows moved one pixel at a time."""
    full = signal.correlate2d(image, kernel, "valid")
    rows = geometry.conv_output_size(image.shape[0], kernel.shape[0], stride)
    cols = geometry.conv_output_size(image.shape[1], kernel.shape[1], stride)
    return full[:rows, :cols]


_X4 = np.array([[1, 2, 3, 0], [0, 1, 2, 3], [3, 0, 1, 2], [2, 3, 0, 1]], dtype=float)
_K2 = np.array([[1, 0], [-1, 1]], dtype=float)
_PATCH = np.array([[1, 2, 0], [0, 1, 1], [5, 0, 1]], dtype=float)
_EDGE = np.array([[1, 0, -1], [1, 0, -1], [1, 0, -1]], dtype=float)

CORRELATE = Exercise(
    name="correlate2d",
    reference=_correlate,
    cases=(
        Case((_X4, _K2), note="the 4×4 sliding-window example (the first row is 2, 3, 4)"),
        Case((_PATCH, _EDGE), note="one 3×3 window: the edge filter gives 4"),
        Case(
            (random_grid(5, 6, seed=1), random_grid(2, 3, seed=2)),
            note="non-square image and kernel",
        ),
        Case(
            (random_grid(5, 5, seed=3), random_grid(3, 3, seed=4)), {"stride": 2}, note="stride 2"
        ),
        Case(
            (random_grid(10, 10, seed=5), random_grid(3, 3, seed=6)),
            {"stride": 2},
            note="stride 2 on 10×10: the last row and column are excluded",
        ),
        Case((random_grid(4, 7, seed=7), random_grid(1, 1, seed=8)), note="a 1×1 kernel"),
        Case(
            (random_grid(3, 4, seed=9), random_grid(3, 4, seed=10)),
            note="kernel as large as the image",
        ),
    ),
    mistakes=(
        Mistake(
            "you flipped the kernel: that is true convolution. Deep-learning 'convolution' is "
            "cross-correlation — multiply K[m, n] with X[i + m, j + n], no rotation",
            lambda x, k, stride=1: signal.correlate2d(x, signal.rot180(k), "valid", stride),
        ),
        Mistake(
            "you ignored the stride: move the window stride pixels at a time and size the "
            "output with ⌊(H − k_h)/stride⌋ + 1",
            lambda x, k, stride=1: signal.correlate2d(x, k, "valid"),
        ),
        Mistake(
            "the output has the right size for the stride but the windows move one pixel at "
            "a time: output (i, j) starts at input row i·stride, column j·stride",
            _unstrided_positions,
        ),
        Mistake(
            "you transposed the kernel (swapped its rows and columns): K[m, n] multiplies "
            "X[i + m, j + n] — row offset m, column offset n",
            lambda x, k, stride=1: (
                signal.correlate2d(x, k.T, "valid", stride) if k.shape[0] == k.shape[1] else None
            ),
        ),
    ),
    highlight="including stride 2 with excluded pixels and non-square kernels",
)


def check_correlate2d(fn: Callable[..., Any]) -> bool:
    """Check ``fn(image, kernel, stride=1)``, a "valid" cross-correlation (``ex-correlate2d``).

    Raises
    ------
    cnnlib.exercises.ExerciseError
        With the first wrong case, what is wrong and the likely mistake.
    """
    return CORRELATE.check(fn)


# ------------------------------------------------------------------------ parameter count
def _params(kernel_size: int, in_channels: int, filters: int, bias: bool = True) -> int:
    return geometry.conv_params(kernel_size, in_channels, filters, bias)


PARAMS = Exercise(
    name="conv_params",
    reference=_params,
    cases=(
        Case((5, 3, 10), note="ten 5×5 filters on an RGB input"),
        Case((3, 20, 1), note="one 3×3 filter on a 20-channel volume (180 weights + 1 bias)"),
        Case((11, 3, 96), note="AlexNet's first layer"),
        Case((3, 64, 128), {"bias": False}, note="no bias"),
        Case((1, 3, 16), note="a 1×1 convolution"),
        Case((5, 2, 10), note="ten 5×5 filters on a 2-channel input"),
    ),
    mistakes=(
        Mistake(
            "you forgot the biases: each filter has one, so add 1 per filter when bias=True",
            lambda k, c, f, bias=True: k * k * c * f,
        ),
        Mistake(
            "you ignored the input channels: a filter spans the whole depth, so it has "
            "k·k·C_in weights, not k·k",
            lambda k, c, f, bias=True: (k * k + int(bias)) * f,
        ),
        Mistake(
            "you always added the biases; with bias=False there are none",
            lambda k, c, f, bias=True: (k * k * c + 1) * f,
        ),
        Mistake(
            "you counted one bias for the whole layer; there is one per filter",
            lambda k, c, f, bias=True: k * k * c * f + int(bias),
        ),
        Mistake(
            "you gave every kernel slice its own bias; a filter (all C_in slices) has one",
            lambda k, c, f, bias=True: (k * k + int(bias)) * c * f,
        ),
    ),
    highlight="including AlexNet's 34,944 and a layer without bias",
)


def check_conv_params(fn: Callable[..., Any]) -> bool:
    """Check ``fn(kernel_size, in_channels, filters, bias=True) -> int`` (``ex-conv-params``).

    Raises
    ------
    cnnlib.exercises.ExerciseError
        With the first wrong case, what is wrong and the likely mistake.
    """
    return PARAMS.check(fn)


# ----------------------------------------------------------------------- dilated kernel
def _dilate(kernel: NDArray[Any], dilation: int) -> NDArray[Any]:
    return signal.dilate2d(kernel, dilation)


DILATE = Exercise(
    name="dilate_kernel",
    reference=_dilate,
    cases=(
        Case((np.array([[1.0, 2.0], [3.0, 4.0]]), 2), note="2×2 kernel, dilation 2 → 3×3"),
        Case((random_grid(3, 3, seed=11), 1), note="dilation 1 leaves the kernel unchanged"),
        Case((random_grid(3, 3, seed=12), 3), note="3×3 kernel, dilation 3 → 7×7"),
        Case((random_grid(1, 3, seed=13), 2), note="a 1×3 kernel (non-square)"),
        Case((np.array([[5.0]]), 4), note="a 1×1 kernel has no gaps to fill"),
    ),
    mistakes=(
        Mistake(
            "you inserted `dilation` zeros between taps; dilation d leaves d − 1 zeros between "
            "neighbouring taps, so the kernel spans d·(k − 1) + 1 pixels",
            lambda k, d: signal.dilate2d(k, d + 1),
        ),
        Mistake(
            "you also padded zeros around the border; the dilated kernel starts and ends on a "
            "tap: its size is d·(k − 1) + 1",
            lambda k, d: np.pad(signal.dilate2d(k, d), d - 1),
        ),
    ),
    highlight="dilation 1, non-square and 1×1 kernels included",
)


def check_dilate_kernel(fn: Callable[..., Any]) -> bool:
    """Check ``fn(kernel, dilation)``, the kernel with its taps spread (``ex-dilate-kernel``).

    Raises
    ------
    cnnlib.exercises.ExerciseError
        With the first wrong case, what is wrong and the likely mistake.
    """
    return DILATE.check(fn)
