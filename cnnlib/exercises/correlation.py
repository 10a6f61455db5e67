"""Checkers for the exercises of chapter 2, "Cross-correlation vs convolution".

Each ``check_<name>(fn)`` runs the learner's ``fn`` against the reference in
:mod:`cnnlib.signal` on the worked examples of the chapter and on edge cases (non-square,
even-sized and ``1 × 1`` kernels), and names the usual mistakes — a flip along one axis
only, a transpose or a quarter turn instead of a half turn, no flip at all, the wrong
padding for a "full" correlation — when it recognises them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from cnnlib import signal
from cnnlib.exercises.core import Case, Exercise, Mistake, random_grid

__all__ = [
    "check_compose_kernels",
    "check_convolve2d",
    "check_input_gradient",
    "check_rot180",
]


def _counting(rows: int, cols: int) -> NDArray[np.float64]:
    """``[[1, 2, 3], [4, 5, 6], …]``: every weight different, so every move shows."""
    return np.arange(1, rows * cols + 1, dtype=float).reshape(rows, cols)


def _impulse(size: int) -> NDArray[np.float64]:
    image = np.zeros((size, size))
    image[size // 2, size // 2] = 1.0
    return image


# The chapter's worked examples.
_X4 = np.array([[1, 2, 3, 0], [0, 1, 2, 3], [3, 0, 1, 2], [2, 3, 0, 1]], dtype=float)
_K2 = np.array([[1, 0], [-1, 1]], dtype=float)
_K9 = _counting(3, 3)
_BOX = np.ones((3, 3))
_SMOOTH = np.array([[1.0, 2.0, 1.0]])
_DIFFERENCE = np.array([[-1.0], [0.0], [1.0]])
_GRAD_Y = np.array([[1, -2, 0], [3, 1, -1], [0, 2, 1]], dtype=float)


# ---------------------------------------------------------------------------------- rot180
def _rot180(kernel: NDArray[Any]) -> NDArray[Any]:
    return signal.rot180(kernel)


ROT180 = Exercise(
    name="rot180",
    reference=_rot180,
    cases=(
        Case((_K9,), note="the chapter's 3×3 kernel 1 … 9"),
        Case((_K2,), note="the 2×2 kernel of chapter 1"),
        Case((_counting(2, 3),), note="a non-square 2×3 kernel"),
        Case((_counting(1, 4),), note="a single row"),
        Case((_counting(4, 1),), note="a single column"),
        Case((np.array([[7.0]]),), note="a 1×1 kernel is its own rotation"),
        Case((random_grid(4, 4, seed=21),), note="an even-sized 4×4 kernel"),
    ),
    mistakes=(
        Mistake(
            "you returned the kernel unchanged; rot180 flips it upside down *and* left to "
            "right: rot180(K)[m, n] = K[k_h − 1 − m, k_w − 1 − n]",
            lambda k: k.copy(),
        ),
        Mistake(
            "you flipped only the rows (upside down); a 180° rotation also flips the columns "
            "(left to right): K[::-1, ::-1]",
            lambda k: k[::-1, :].copy(),
        ),
        Mistake(
            "you flipped only the columns (left to right); a 180° rotation also flips the "
            "rows (upside down): K[::-1, ::-1]",
            lambda k: k[:, ::-1].copy(),
        ),
        Mistake(
            "you transposed the kernel (swapped rows and columns); that is a mirror along the "
            "diagonal and keeps K[0, 0] in place, while a 180° rotation moves it to the "
            "bottom-right corner",
            lambda k: k.T.copy(),
        ),
        Mistake(
            "you turned the kernel by 90° (np.rot90(K) turns it a quarter anticlockwise); "
            "rot180 is two quarter turns: np.rot90(K, 2), or K[::-1, ::-1]",
            lambda k: np.rot90(k).copy(),
        ),
        Mistake(
            "you turned the kernel by 90° clockwise; rot180 is two quarter turns: "
            "np.rot90(K, 2), or K[::-1, ::-1]",
            lambda k: np.rot90(k, -1).copy(),
        ),
    ),
    highlight="including non-square, even-sized and 1×1 kernels",
)


def check_rot180(fn: Callable[..., Any]) -> bool:
    """Check ``fn(kernel)``, the kernel rotated by 180° (``ex-rot180``).

    Raises
    ------
    cnnlib.exercises.ExerciseError
        With the first wrong case, what is wrong and the likely mistake.
    """
    return ROT180.check(fn)


# ------------------------------------------------------------------------- true convolution
def _convolve(image: NDArray[Any], kernel: NDArray[Any]) -> NDArray[Any]:
    return signal.convolve2d(image, kernel, "valid")


def _correlate_with(
    change: Callable[[NDArray[Any]], NDArray[Any]],
) -> Callable[[NDArray[Any], NDArray[Any]], NDArray[Any]]:
    """A "valid" correlation whose kernel is first changed by ``change``."""
    return lambda x, k: signal.correlate2d(x, change(k), "valid")


CONVOLVE = Exercise(
    name="convolve2d",
    reference=_convolve,
    cases=(
        Case((_X4, _K2), note="the 4×4 example of chapter 1, convolved this time"),
        Case(
            (_impulse(5), _K9),
            note="an impulse: the convolution stamps the kernel upright around the 1",
        ),
        Case(
            (random_grid(5, 6, seed=31), random_grid(2, 3, seed=32)), note="a non-square 2×3 kernel"
        ),
        Case(
            (random_grid(6, 6, seed=33), random_grid(4, 4, seed=34)),
            note="an even-sized 4×4 kernel",
        ),
        Case((random_grid(4, 7, seed=35), np.array([[-1.5]])), note="a 1×1 kernel"),
        Case(
            (random_grid(3, 4, seed=36), random_grid(3, 4, seed=37)),
            note="kernel as large as the image",
        ),
    ),
    mistakes=(
        Mistake(
            "you did not flip the kernel: that is cross-correlation. True convolution "
            "multiplies K[m, n] with X[i − m, j − n], i.e. it slides rot180(K)",
            _correlate_with(lambda k: k),
        ),
        Mistake(
            "you flipped the kernel upside down only; rot180 also flips it left to right",
            _correlate_with(lambda k: k[::-1, :]),
        ),
        Mistake(
            "you flipped the kernel left to right only; rot180 also flips it upside down",
            _correlate_with(lambda k: k[:, ::-1]),
        ),
        Mistake(
            "you transposed the kernel instead of rotating it by 180°: K[::-1, ::-1], not K.T",
            _correlate_with(lambda k: k.T),
        ),
        Mistake(
            "you turned the kernel by 90° instead of 180°: np.rot90(K, 2), not np.rot90(K)",
            _correlate_with(np.rot90),
        ),
        Mistake(
            "you rotated the image instead of the kernel; that gives the right numbers in the "
            "wrong places — the whole output comes out rotated by 180°",
            lambda x, k: signal.correlate2d(x[::-1, ::-1], k, "valid"),
        ),
    ),
    highlight="the impulse comes out as the kernel itself, upright",
)


def check_convolve2d(fn: Callable[..., Any]) -> bool:
    """Check ``fn(image, kernel)``, a "valid" true convolution (``ex-convolve2d``).

    Raises
    ------
    cnnlib.exercises.ExerciseError
        With the first wrong case, what is wrong and the likely mistake.
    """
    return CONVOLVE.check(fn)


# ---------------------------------------------------------------------- composing kernels
def _compose(first: NDArray[Any], second: NDArray[Any]) -> NDArray[Any]:
    return signal.convolve2d(first, second, "full")


COMPOSE = Exercise(
    name="compose_kernels",
    reference=_compose,
    cases=(
        Case((_BOX, _BOX), note="two 3×3 box blurs make one 5×5 blur"),
        Case(
            (_SMOOTH, _DIFFERENCE),
            note="a 1×3 smoothing then a 3×1 difference: the Sobel kernel",
        ),
        Case((_K2, _counting(3, 3)), note="an even 2×2 kernel then a 3×3 one"),
        Case((random_grid(2, 3, seed=41), random_grid(3, 2, seed=42)), note="non-square kernels"),
        Case((np.array([[2.5]]), random_grid(3, 3, seed=43)), note="a 1×1 kernel only rescales"),
        Case(
            (random_grid(3, 3, seed=44), random_grid(2, 2, seed=45)), note="a 3×3 then a 2×2 kernel"
        ),
    ),
    mistakes=(
        Mistake(
            "you cross-correlated first with second; the offsets of two stacked windows add "
            "up (tap m of one with tap a of the other reads pixel m + a), which is a true, "
            "'full' convolution of the two kernels",
            lambda a, b: signal.correlate2d(a, b, "full"),
        ),
        Mistake(
            "you cross-correlated second with first; the offsets of two stacked windows add "
            "up (tap m of one with tap a of the other reads pixel m + a), which is a true, "
            "'full' convolution of the two kernels",
            lambda a, b: signal.correlate2d(b, a, "full"),
        ),
        Mistake(
            "you multiplied the kernels entry by entry; stacking two windows combines every "
            "tap of one with every tap of the other — a 'full' convolution of size "
            "(k_h + k'_h − 1) × (k_w + k'_w − 1)",
            lambda a, b: a * b,
        ),
        Mistake(
            "you kept only the 'same'-sized middle of the result; the combined kernel is "
            "larger than either: (k_h + k'_h − 1) × (k_w + k'_w − 1), a 'full' convolution",
            lambda a, b: signal.convolve2d(a, b, "same"),
        ),
    ),
    highlight="including the separable Sobel kernel and a 1×1 kernel",
)


def check_compose_kernels(fn: Callable[..., Any]) -> bool:
    """Check ``fn(first, second)``: one kernel for two stacked layers (``ex-compose-kernels``).

    Correlating with ``first`` and then with ``second`` (both "valid") must equal one
    "valid" correlation with ``fn(first, second)``; the answer is their full convolution.

    Raises
    ------
    cnnlib.exercises.ExerciseError
        With the first wrong case, what is wrong and the likely mistake.
    """
    return COMPOSE.check(fn)


# ------------------------------------------------------------------------- input gradient
def _input_gradient(grad_output: NDArray[Any], kernel: NDArray[Any]) -> NDArray[Any]:
    return signal.correlate2d(grad_output, signal.rot180(kernel), "full")


def _padded_correlation(
    pad: Callable[[int, int], tuple[tuple[int, int], tuple[int, int]]],
) -> Callable[[NDArray[Any], NDArray[Any]], NDArray[Any]]:
    """Correlate the gradient, padded by ``pad(k_h, k_w)``, with the rotated kernel."""

    def wrong(g: NDArray[Any], k: NDArray[Any]) -> NDArray[Any]:
        padded = np.pad(g, pad(*k.shape))
        return signal.correlate2d(padded, signal.rot180(k), "valid")

    return wrong


INPUT_GRADIENT = Exercise(
    name="input_gradient",
    reference=_input_gradient,
    cases=(
        Case((_GRAD_Y, _K2), note="the chapter's example: Y = X ⋆ K with the 4×4 X, 2×2 K"),
        Case(
            (random_grid(4, 5, seed=51), _counting(3, 3)),
            note="a 3×3 kernel: the gradient is padded by 2 on every side",
        ),
        Case(
            (random_grid(3, 4, seed=52), random_grid(2, 3, seed=53)), note="a non-square 2×3 kernel"
        ),
        Case(
            (random_grid(3, 3, seed=54), random_grid(4, 4, seed=55)),
            note="an even-sized 4×4 kernel",
        ),
        Case((random_grid(4, 4, seed=56), np.array([[0.5]])), note="a 1×1 kernel: dX = 0.5·dY"),
        Case(
            (np.array([[2.0]]), random_grid(3, 3, seed=57)),
            note="a single output (kernel as large as the input): dX = dY·K",
        ),
    ),
    mistakes=(
        Mistake(
            "you did not rotate the kernel (or rotated it twice — a true convolution with "
            "rot180(K) flips it back). Output (i, j) used K[m, n] on X[i + m, j + n], so the "
            "gradient reaching X[p, q] needs K[p − i, q − j]: slide rot180(K) over the padded "
            "gradient",
            lambda g, k: signal.correlate2d(g, k, "full"),
        ),
        Mistake(
            "you transposed the kernel instead of rotating it by 180°: K[::-1, ::-1], not K.T",
            lambda g, k: signal.correlate2d(g, k.T, "full"),
        ),
        Mistake(
            "you padded the gradient by (k − 1)//2, as for 'same'; the 'full' correlation pads "
            "k − 1 zeros on every side, so dX gets the input's size H_out + k_h − 1",
            _padded_correlation(lambda kh, kw: (((kh - 1) // 2,) * 2, ((kw - 1) // 2,) * 2)),
        ),
        Mistake(
            "you padded only the top and left; 'full' mode pads k − 1 zeros on *every* side, "
            "so every output that touched a pixel can send its gradient back",
            _padded_correlation(lambda kh, kw: ((kh - 1, 0), (kw - 1, 0))),
        ),
        Mistake(
            "you padded only the bottom and right; 'full' mode pads k − 1 zeros on *every* "
            "side, so every output that touched a pixel can send its gradient back",
            _padded_correlation(lambda kh, kw: ((0, kh - 1), (0, kw - 1))),
        ),
        Mistake(
            "you padded k zeros on each side; 'full' mode pads k − 1, so that the first window "
            "overlaps the gradient by exactly one pixel",
            _padded_correlation(lambda kh, kw: ((kh, kh), (kw, kw))),
        ),
        Mistake(
            "you did not pad the gradient ('valid' mode); without k − 1 zeros on every side "
            "the border pixels of X receive no gradient and dX comes out too small",
            lambda g, k: signal.correlate2d(g, signal.rot180(k), "valid"),
        ),
    ),
    highlight="dX = full correlation of dY with rot180(K), on the chapter's example too",
)


def check_input_gradient(fn: Callable[..., Any]) -> bool:
    """Check ``fn(grad_output, kernel)``, the input gradient dL/dX (``ex-input-gradient``).

    The layer computes ``Y = X ⋆ K``, a "valid" cross-correlation with stride 1, and
    ``grad_output`` is dL/dY; the answer is the full cross-correlation of dL/dY with
    ``rot180(kernel)``.

    Raises
    ------
    cnnlib.exercises.ExerciseError
        With the first wrong case, what is wrong and the likely mistake.
    """
    return INPUT_GRADIENT.check(fn)
