"""Checkers for the exercises of chapter 4, "Pooling".

Each ``check_<name>(fn)`` runs the learner's ``fn`` against :mod:`cnnlib.pooling` on the
chapter's worked example first and then on edge cases — a batch with several channels,
non-square inputs, windows that overlap (3×3, stride 2), strides larger than the window,
pixels that no window reaches, negative values and ties — and names the usual mistakes
when it recognises them: a stride that does not default to the window size, windows that
never overlap, an output one window too small or too large, a running maximum started at
0; in the backward pass a gradient sent to every tied maximum, to the last one or to the
window's corner, gradients assigned instead of accumulated where windows overlap, a
missing division by ``k²``; in concat pooling a new axis instead of more channels, the
wrong order or the wrong axis.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from cnnlib import pooling
from cnnlib.exercises.core import Case, Exercise, Mistake, random_grid

__all__ = [
    "check_avg_pool2d_backward",
    "check_concat_pool2d",
    "check_max_pool2d",
    "check_max_pool2d_backward",
]

Array = NDArray[Any]


def _integers(*shape: int, seed: int, high: int = 3) -> NDArray[np.float64]:
    """Small whole numbers ``0 … high − 1``: windows full of ties."""
    return np.random.default_rng(seed).integers(0, high, size=shape).astype(np.float64)


def _output_shape(shape: tuple[int, ...], k: int, stride: int | None) -> tuple[int, ...]:
    return pooling.pool_spec(shape, k, stride, 0, "exercise").output_shape


def _stride(k: int, stride: int | None) -> int:
    return k if stride is None else stride


def _case(args: tuple[Any, ...], stride: int | None, note: str) -> Case:
    """A case that passes ``stride`` by keyword, or leaves it to its default when ``None``."""
    return Case(args, {} if stride is None else {"stride": stride}, note=note)


def _pool_case(x: Array, kernel_size: int, stride: int | None = None, *, note: str) -> Case:
    """A case of a forward pooling, ``fn(x, kernel_size, stride=None)``."""
    return _case((x, kernel_size), stride, note)


# The chapter's worked example: a 4×4 feature map pooled with 2×2 windows.
_X4 = np.array([[1, 3, 2, 4], [5, 6, 1, 2], [7, 0, 9, 8], [1, 2, 3, 4]], dtype=float)[None, None]
_DY2 = np.array([[1, 2], [3, 4]], dtype=float)[None, None]
# Four overlapping 3×3 windows (stride 2) on a 5×5 map, all won by the centre pixel 9.
_X5 = np.array(
    [
        [1, 2, 0, 1, 3],
        [4, 1, 2, 0, 1],
        [0, 3, 9, 1, 0],
        [2, 1, 0, 5, 2],
        [1, 0, 2, 1, 4],
    ],
    dtype=float,
)[None, None]
# Ties: every 2×2 window holds its maximum two or three times; the first maximum (row-major)
# is sometimes the window's top-left element and sometimes not.
_TIES = np.array(
    [
        [5, 5, 1, 2, 4, 0],
        [1, 5, 2, 2, 4, 4],
        [0, 3, 7, 1, 6, 6],
        [3, 0, 2, 7, 6, 1],
    ],
    dtype=float,
)[None, None]


# ---------------------------------------------------------------------------- max_pool2d
def _max_pool2d(x: Array, kernel_size: int, stride: int | None = None) -> Array:
    return pooling.max_pool2d(x, kernel_size, stride)


def _partial_windows(x: Array, kernel_size: int, stride: int | None = None) -> Array:
    """Windows start at 0, s, 2s, … while inside the input, the last ones cut short."""
    s = _stride(kernel_size, stride)
    height, width = x.shape[2:]
    rows, cols = -(-height // s), -(-width // s)
    extra_h = max((rows - 1) * s + kernel_size - height, 0)
    extra_w = max((cols - 1) * s + kernel_size - width, 0)
    padded = np.pad(x, ((0, 0), (0, 0), (0, extra_h), (0, extra_w)), constant_values=-np.inf)
    return pooling.max_pool2d(padded, kernel_size, s)


def _one_too_few(x: Array, kernel_size: int, stride: int | None = None) -> Array:
    s = _stride(kernel_size, stride)
    rows = (x.shape[2] - kernel_size) // s
    cols = (x.shape[3] - kernel_size) // s
    return pooling.max_pool2d(x, kernel_size, s)[:, :, :rows, :cols]


MAX_POOL2D = Exercise(
    name="max_pool2d",
    reference=_max_pool2d,
    cases=(
        _pool_case(_X4, 2, note="the chapter's worked example: 2×2 windows, stride 2 by default"),
        _pool_case(
            random_grid(1, 1, 6, 6, seed=1),
            2,
            2,
            note="the sources' 6×6 map, 2×2 windows, stride 2",
        ),
        _pool_case(
            -np.abs(random_grid(1, 1, 4, 4, seed=2)) - 0.5,
            2,
            note="every value is negative: the maximum is negative too",
        ),
        _pool_case(
            random_grid(2, 3, 4, 6, seed=3),
            2,
            note="a batch of 2, 3 channels, a non-square 4×6 map",
        ),
        _pool_case(
            random_grid(1, 2, 5, 5, seed=4),
            2,
            note="5×5 with 2×2 windows: the last row and column are in no window",
        ),
        _pool_case(_X5, 3, 2, note="overlapping 3×3 windows with stride 2, as in AlexNet"),
        _pool_case(
            random_grid(2, 2, 7, 8, seed=5),
            3,
            2,
            note="overlapping windows on a non-square 7×8 map",
        ),
        _pool_case(
            random_grid(1, 2, 7, 7, seed=6),
            2,
            3,
            note="stride 3 > window 2: some pixels are skipped",
        ),
        _pool_case(
            random_grid(1, 1, 3, 5, seed=7),
            3,
            note="a 3×3 window on a 3×5 map: one output, the last 2 columns unread",
        ),
        _pool_case(_TIES, 2, note="ties inside the windows"),
    ),
    mistakes=(
        Mistake(
            "your stride defaulted to 1: when stride is None, pooling steps by the window "
            "size (stride = kernel_size), so that 2×2 windows tile the map and halve it",
            lambda x, k, stride=None: pooling.max_pool2d(x, k, 1 if stride is None else stride),
        ),
        Mistake(
            "you ignored the stride argument and always stepped by the window size; with "
            "stride < kernel_size the windows overlap (3×3, stride 2: window j starts at "
            "column 2j) and there are ⌊(H − k)/s⌋ + 1 of them",
            lambda x, k, stride=None: pooling.max_pool2d(x, k, k),
        ),
        Mistake(
            "your output has one window too many in some direction: windows that run past "
            "the edge must be dropped, not cut short. Only ⌊(H − k)/s⌋ + 1 windows fit (a "
            "loop `for top in range(0, H, stride)` also visits incomplete windows)",
            _partial_windows,
        ),
        Mistake(
            "your output is one row and one column too small: you forgot the + 1 in "
            "H_out = ⌊(H − k)/s⌋ + 1 (the first window sits at position 0)",
            _one_too_few,
        ),
        Mistake(
            "you started the running maximum at 0, so windows whose values are all negative "
            "came out as 0; start from −∞ (np.full(shape, -np.inf)) or take np.max of "
            "each window",
            lambda x, k, stride=None: np.maximum(pooling.max_pool2d(x, k, stride), 0),
        ),
        Mistake(
            "you averaged the windows; max pooling keeps each window's largest value",
            lambda x, k, stride=None: pooling.avg_pool2d(x, k, stride),
        ),
        Mistake(
            "you took the maximum over all channels at once; pooling works on every channel "
            "separately, so the output keeps the C channels: (N, C, H_out, W_out)",
            lambda x, k, stride=None: pooling.max_pool2d(x, k, stride).max(axis=1, keepdims=True),
        ),
    ),
    highlight="default stride, overlap, negative maps and the floor",
)


def check_max_pool2d(fn: Callable[..., Any]) -> bool:
    """Check ``fn(x, kernel_size, stride=None)``, max pooling of a batch (``ex-max-pool2d``).

    ``x`` is ``(N, C, H, W)``, the windows are ``kernel_size × kernel_size`` and step by
    ``stride`` (the window size when ``None``); the answer is ``(N, C, H_out, W_out)`` with
    ``H_out = ⌊(H − k)/s⌋ + 1``, as :func:`cnnlib.pooling.max_pool2d` computes it.

    Raises
    ------
    cnnlib.exercises.ExerciseError
        With the first wrong case, what is wrong and the likely mistake.
    """
    return MAX_POOL2D.check(fn)


# ------------------------------------------------------------------- max_pool2d_backward
def _route(
    dy: Array,
    x: Array,
    kernel_size: int,
    stride: int | None,
    *,
    choose: str = "first",
    assign: str = "",
    scale: bool = True,
) -> Array:
    """A loop backward pass of max pooling with the choices learners make.

    ``choose``: which element of a window receives its gradient — ``"first"`` maximum,
    ``"last"`` maximum, ``"all"`` maxima, the ``"corner"`` (top-left) or ``"spread"``
    (``dY / k²`` to every element). ``assign``: ``""`` adds, ``"element"`` assigns to the
    winner, ``"window"`` assigns the whole window slice. ``scale``: multiply by ``dY``.
    """
    s = _stride(kernel_size, stride)
    k = kernel_size
    dx = np.zeros_like(x, dtype=np.float64)
    for n, c in np.ndindex(*x.shape[:2]):
        for i, j in np.ndindex(*dy.shape[2:]):
            top, left = i * s, j * s
            window = x[n, c, top : top + k, left : left + k]
            flat = window.ravel()
            mask = np.zeros(flat.shape)
            if choose == "first":
                mask[int(np.argmax(flat))] = 1
            elif choose == "last":
                mask[flat.size - 1 - int(np.argmax(flat[::-1]))] = 1
            elif choose == "all":
                mask = (flat == flat.max()).astype(float)
            elif choose == "corner":
                mask[0] = 1
            else:
                mask[:] = 1 / flat.size
            share = (mask * (dy[n, c, i, j] if scale else 1.0)).reshape(window.shape)
            target = dx[n, c, top : top + k, left : left + k]
            if assign == "window":
                target[...] = share
            elif assign == "element":
                np.copyto(target, share, where=mask.reshape(window.shape) > 0)
            else:
                target += share
    return dx


def _max_pool2d_backward(dy: Array, x: Array, kernel_size: int, stride: int | None = None) -> Array:
    return pooling.max_pool2d_backward(dy, x, kernel_size, stride)


def _backward_case(x: Array, kernel_size: int, stride: int | None, seed: int, *, note: str) -> Case:
    dy = random_grid(*_output_shape(x.shape, kernel_size, stride), seed=seed)
    return _case((dy, x, kernel_size), stride, note)


def _shared_winners(seed: int) -> Array:
    """A 2×1×7×7 map of distinct values whose 3×3/stride-2 windows share some maxima."""
    x = random_grid(2, 1, 7, 7, seed=seed)
    x[0, 0, 2, 2] = x[0, 0, 4, 4] = 3.0  # each the maximum of the windows around it
    x[1, 0, 2, 4] = 2.5
    return x


MAX_POOL2D_BACKWARD = Exercise(
    name="max_pool2d_backward",
    reference=_max_pool2d_backward,
    cases=(
        Case(
            (_DY2, _X4, 2),
            note="the chapter's worked example: each dY goes to its window's maximum",
        ),
        _backward_case(
            random_grid(2, 3, 4, 6, seed=11),
            2,
            None,
            12,
            note="a batch of 2, 3 channels, a 4×6 map",
        ),
        Case(
            (np.array([[[[1.0, 2.0]]]]), np.array([[[[5.0, 5, 1, 2], [1, 5, 2, 2]]]]), 2),
            note="ties: the gradient goes to the first maximum in row-major order",
        ),
        _backward_case(_TIES, 2, None, 13, note="ties in every window, stride 2"),
        Case(
            (_DY2, _X5, 3),
            {"stride": 2},
            note="overlapping 3×3 windows, all won by the centre: it collects all four dY",
        ),
        _backward_case(
            _shared_winners(14), 3, 2, 15, note="overlapping windows, some sharing a maximum"
        ),
        _backward_case(
            random_grid(1, 2, 5, 5, seed=16),
            2,
            None,
            17,
            note="5×5 with 2×2 windows: the last row and column get no gradient",
        ),
        _backward_case(
            random_grid(1, 1, 7, 7, seed=18),
            2,
            3,
            19,
            note="stride 3 > window 2: skipped pixels get 0",
        ),
        _backward_case(
            _integers(2, 2, 7, 7, seed=20),
            3,
            2,
            21,
            note="ties and overlap together, a batch with 2 channels",
        ),
    ),
    mistakes=(
        Mistake(
            "you sent the gradient to every element equal to the window's maximum "
            "(mask = window == window.max()); with ties the total gradient grows. Max "
            "pooling copied one element forward, so one element — the first maximum in "
            "row-major order, as np.argmax finds it — receives dY",
            lambda dy, x, k, stride=None: _route(dy, x, k, stride, choose="all"),
        ),
        Mistake(
            "you assigned each window's gradient with dx[window] = mask·dy, which overwrites "
            "what earlier overlapping windows put there (zeros included); accumulate with "
            "+= instead",
            lambda dy, x, k, stride=None: _route(dy, x, k, stride, assign="window"),
        ),
        Mistake(
            "you assigned dx[winner] = dy instead of adding: an element that is the maximum "
            "of several overlapping windows must receive the sum of their gradients (+=)",
            lambda dy, x, k, stride=None: _route(dy, x, k, stride, assign="element"),
        ),
        Mistake(
            "with ties you chose the last maximum; the convention (PyTorch's, and cnnlib's) is "
            "the first maximum in row-major order within the window, which np.argmax of the "
            "flattened window returns",
            lambda dy, x, k, stride=None: _route(dy, x, k, stride, choose="last"),
        ),
        Mistake(
            "you sent every window's gradient to its top-left element; it belongs to the "
            "element that was the maximum (np.argmax of the window, then np.unravel_index)",
            lambda dy, x, k, stride=None: _route(dy, x, k, stride, choose="corner"),
        ),
        Mistake(
            "you spread dY / k² over the whole window: that is average pooling's gradient. In "
            "max pooling only the maximum influenced the output, so it alone receives dY",
            lambda dy, x, k, stride=None: _route(dy, x, k, stride, choose="spread"),
        ),
        Mistake(
            "your stride defaulted to 1: when stride is None, the windows step by the window "
            "size, so window (i, j) starts at row i·k, column j·k",
            lambda dy, x, k, stride=None: _route(dy, x, k, 1 if stride is None else stride),
        ),
        Mistake(
            "you routed 1 to each maximum instead of dY: the maximum receives the window's "
            "upstream gradient dY[n, c, i, j] itself",
            lambda dy, x, k, stride=None: _route(dy, x, k, stride, scale=False),
        ),
    ),
    highlight="first maximum on ties, overlaps added up",
)


def check_max_pool2d_backward(fn: Callable[..., Any]) -> bool:
    """Check ``fn(dy, x, kernel_size, stride=None)``, the gradient (``ex-max-pool-backward``).

    ``x`` is the forward pass's input ``(N, C, H, W)`` and ``dy`` the upstream gradient
    ``(N, C, H_out, W_out)``; each ``dy[n, c, i, j]`` goes to the first maximum (row-major)
    of its window and is added up where windows overlap, as
    :func:`cnnlib.pooling.max_pool2d_backward` does.

    Raises
    ------
    cnnlib.exercises.ExerciseError
        With the first wrong case, what is wrong and the likely mistake.
    """
    return MAX_POOL2D_BACKWARD.check(fn)


# ------------------------------------------------------------------- avg_pool2d_backward
def _avg_pool2d_backward(
    dy: Array, input_shape: tuple[int, int, int, int], kernel_size: int, stride: int | None = None
) -> Array:
    return pooling.avg_pool2d_backward(dy, np.zeros(input_shape), kernel_size, stride)


def _spread(
    dy: Array,
    input_shape: tuple[int, int, int, int],
    kernel_size: int,
    stride: int | None,
    *,
    divisor: int,
    assign: bool = False,
    default_stride: int | None = None,
) -> Array:
    """A loop backward pass of average pooling: ``dY / divisor`` to every window element."""
    s = stride if stride is not None else (default_stride or kernel_size)
    k = kernel_size
    dx = np.zeros(input_shape)
    for i, j in np.ndindex(*dy.shape[2:]):
        top, left = i * s, j * s
        share = dy[:, :, i, j, None, None] / divisor
        if assign:
            dx[:, :, top : top + k, left : left + k] = share
        else:
            dx[:, :, top : top + k, left : left + k] += share
    return dx


def _repeated(
    dy: Array, input_shape: tuple[int, int, int, int], kernel_size: int, stride: int | None = None
) -> Array:
    k = kernel_size
    return np.repeat(np.repeat(dy, k, axis=2), k, axis=3) / (k * k)


def _avg_case(
    input_shape: tuple[int, int, int, int],
    kernel_size: int,
    stride: int | None,
    seed: int,
    *,
    note: str,
) -> Case:
    dy = random_grid(*_output_shape(input_shape, kernel_size, stride), seed=seed)
    return _case((dy, input_shape, kernel_size), stride, note)


AVG_POOL2D_BACKWARD = Exercise(
    name="avg_pool2d_backward",
    reference=_avg_pool2d_backward,
    cases=(
        Case(
            (_DY2, (1, 1, 4, 4), 2),
            note="the chapter's worked example: each dY is shared by the 4 pixels of its window",
        ),
        _avg_case((2, 3, 4, 6), 2, None, 31, note="a batch of 2, 3 channels, a 4×6 map"),
        _avg_case(
            (1, 2, 5, 5), 2, None, 32, note="5×5 with 2×2 windows: the last row and column get 0"
        ),
        Case(
            (_DY2, (1, 1, 5, 5), 3),
            {"stride": 2},
            note="overlapping 3×3 windows, stride 2: the middle row and column collect twice",
        ),
        _avg_case((2, 1, 4, 5), 3, 1, 33, note="3×3 windows with stride 1: heavy overlap"),
        _avg_case((1, 1, 7, 8), 2, 3, 34, note="stride 3 > window 2: skipped pixels get 0"),
        _avg_case((1, 2, 6, 4), 1, 2, 35, note="1×1 windows with stride 2: a plain subsampling"),
    ),
    mistakes=(
        Mistake(
            "you did not divide by the window's size: the output is the *mean* of k² values, "
            "so each of them receives dY / k²",
            lambda dy, shape, k, stride=None: _spread(dy, shape, k, stride, divisor=1),
        ),
        Mistake(
            "you divided by k instead of k²: a k × k window averages k² values",
            lambda dy, shape, k, stride=None: _spread(dy, shape, k, stride, divisor=k),
        ),
        Mistake(
            "you assigned each window's share (dx[window] = dy / k²), overwriting what an "
            "earlier overlapping window put there; add it (+=): a pixel in several windows "
            "receives a share from each",
            lambda dy, shape, k, stride=None: _spread(
                dy, shape, k, stride, divisor=k * k, assign=True
            ),
        ),
        Mistake(
            "you upsampled dY with np.repeat (or np.kron); that works only when the windows "
            "tile the input exactly (stride = k and H, W multiples of k). Add dY / k² to "
            "each window instead, which leaves 0 where no window reached",
            _repeated,
        ),
        Mistake(
            "your stride defaulted to 1: when stride is None, the windows step by the window "
            "size, so window (i, j) starts at row i·k, column j·k",
            lambda dy, shape, k, stride=None: _spread(
                dy, shape, k, stride, divisor=k * k, default_stride=1
            ),
        ),
    ),
    highlight="dY / k² added to every window, overlaps included",
)


def check_avg_pool2d_backward(fn: Callable[..., Any]) -> bool:
    """Check ``fn(dy, input_shape, kernel_size, stride=None)`` (``ex-avg-pool-backward``).

    Average pooling read an input of ``input_shape`` ``(N, C, H, W)`` and ``dy`` is the
    upstream gradient ``(N, C, H_out, W_out)``; the answer, shaped like the input, holds
    ``dy / k²`` added to every element of each window, as
    :func:`cnnlib.pooling.avg_pool2d_backward` computes it.

    Raises
    ------
    cnnlib.exercises.ExerciseError
        With the first wrong case, what is wrong and the likely mistake.
    """
    return AVG_POOL2D_BACKWARD.check(fn)


# ------------------------------------------------------------------------- concat_pool2d
def _concat_pool2d(x: Array, kernel_size: int, stride: int | None = None) -> Array:
    return pooling.concat_pool2d(x, kernel_size, stride)


def _both(x: Array, kernel_size: int, stride: int | None) -> tuple[Array, Array]:
    return pooling.max_pool2d(x, kernel_size, stride), pooling.avg_pool2d(x, kernel_size, stride)


def _interleaved(x: Array, kernel_size: int, stride: int | None = None) -> Array:
    high, mean = _both(x, kernel_size, stride)
    n, c, h, w = high.shape
    return np.stack([high, mean], axis=2).reshape(n, 2 * c, h, w)


CONCAT_POOL2D = Exercise(
    name="concat_pool2d",
    reference=_concat_pool2d,
    cases=(
        _pool_case(_X4, 2, note="the chapter's worked example: 1 channel in, 2 out"),
        _pool_case(random_grid(2, 3, 4, 4, seed=41), 2, note="a batch of 2 with 3 channels: 6 out"),
        _pool_case(
            random_grid(1, 2, 5, 5, seed=42), 3, 2, note="overlapping 3×3 windows, stride 2"
        ),
        _pool_case(
            random_grid(2, 64, 28, 28, seed=43),
            2,
            2,
            note="the sources' example: (N, 64, 28, 28) becomes (N, 128, 14, 14)",
        ),
    ),
    mistakes=(
        Mistake(
            "you stacked the two poolings on a new axis (np.stack), which gives "
            "(N, 2, C, H_out, W_out); concatenate them on the existing channel axis "
            "(np.concatenate(..., axis=1)) to get (N, 2C, H_out, W_out)",
            lambda x, k, stride=None: np.stack(_both(x, k, stride), axis=1),
        ),
        Mistake(
            "you put the averages first; the convention is max pooling's C channels first, "
            "then average pooling's C channels",
            lambda x, k, stride=None: np.concatenate(_both(x, k, stride)[::-1], axis=1),
        ),
        Mistake(
            "you interleaved the channels (max of channel 0, average of channel 0, max of "
            "channel 1, …); put all C max channels first, then all C average channels",
            _interleaved,
        ),
        Mistake(
            "you concatenated along the batch axis (axis 0); the channels are axis 1 of "
            "(N, C, H, W)",
            lambda x, k, stride=None: np.concatenate(_both(x, k, stride), axis=0),
        ),
        Mistake(
            "you concatenated along a spatial axis; the channels are axis 1 of (N, C, H, W)",
            lambda x, k, stride=None: np.concatenate(_both(x, k, stride), axis=-1),
        ),
        Mistake(
            "you added the two poolings; concat pooling keeps both side by side, so the "
            "number of channels doubles",
            lambda x, k, stride=None: np.add(*_both(x, k, stride)),
        ),
    ),
    highlight="max ‖ average on the channel axis",
)


def check_concat_pool2d(fn: Callable[..., Any]) -> bool:
    """Check ``fn(x, kernel_size, stride=None)``, concat pooling (``ex-concat-pool``).

    The answer is max pooling and average pooling of ``x`` ``(N, C, H, W)`` concatenated on
    the channel axis, maxima first: ``(N, 2C, H_out, W_out)``, as
    :func:`cnnlib.pooling.concat_pool2d` computes it.

    Raises
    ------
    cnnlib.exercises.ExerciseError
        With the first wrong case, what is wrong and the likely mistake.
    """
    return CONCAT_POOL2D.check(fn)
