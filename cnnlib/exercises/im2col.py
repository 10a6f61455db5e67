"""Checkers for the exercises of chapter 6, "im2col: from loops to GEMM".

Each ``check_<name>(fn)`` runs the learner's ``fn`` against a reference from
:mod:`cnnlib.im2col` and :mod:`cnnlib.conv` on the chapter's tiny examples first (the
numbered 3×3 image, the two-channel image of the figure) and then on edge cases — a batch,
several channels, non-square images, a stride that makes windows disjoint or leaves pixels
unread, overlapping strided windows, padding, ``1 × 1`` kernels — and names the usual
mistakes when it recognises them: rows ordered channel-last or windows flattened column by
column, columns ordered position-first, the stride or the padding forgotten, the matrix
transposed, overlaps assigned or averaged instead of added, padding not cropped, the GEMM
output reshaped without moving the batch axis first, the bias forgotten, a flipped kernel,
``dW`` transposed, ``db`` not summed over the positions.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np
from numpy.typing import NDArray

from cnnlib import conv
from cnnlib import im2col as columns
from cnnlib.exercises.core import Case, Exercise, Mistake, random_grid
from cnnlib.geometry import conv_output_size

__all__ = [
    "check_col2im",
    "check_conv2d_backward_im2col",
    "check_conv2d_im2col",
    "check_im2col",
]

Array = NDArray[Any]


def _numbered(*shape: int) -> NDArray[np.float64]:
    """The pixels numbered 1, 2, 3, … in row-major order: every value says where it was."""
    return np.arange(1, int(np.prod(shape)) + 1, dtype=float).reshape(shape)


def _out_size(height: int, width: int, k: int, stride: int, padding: int) -> tuple[int, int]:
    """``(H_out, W_out)`` of a square kernel, by :func:`cnnlib.geometry.conv_output_size`."""
    return conv_output_size(height, k, stride, padding), conv_output_size(width, k, stride, padding)


# --------------------------------------------------------------------------------- im2col
def _im2col(x: Array, kernel_size: int, stride: int = 1, padding: int = 0) -> Array:
    return columns.im2col(x, kernel_size, stride, padding)


def _reordered(
    axes: tuple[int, ...], *, stride_one: bool = False, unpadded: bool = False
) -> Callable[..., Array]:
    """im2col with the view's axes ``(n, c, i, j, m, l)`` put in another order."""

    def wrong(x: Array, kernel_size: int, stride: int = 1, padding: int = 0) -> Array:
        view = columns.window_view(
            x, kernel_size, 1 if stride_one else stride, 0 if unpadded else padding
        )
        ordered = view.transpose(axes)
        rows = x.shape[1] * kernel_size * kernel_size
        return np.ascontiguousarray(ordered).reshape(rows, -1)

    return wrong


_CML_NIJ = (1, 4, 5, 0, 2, 3)

IM2COL = Exercise(
    name="im2col",
    reference=_im2col,
    cases=(
        Case((_numbered(1, 1, 3, 3), 2), note="the numbered 3×3 image, 2×2 windows: 4 × 4"),
        Case(
            (_numbered(1, 2, 3, 3), 2),
            note="the figure's two channels: rows (c, m, l), channel 0's four taps first",
        ),
        Case(
            (_numbered(1, 1, 4, 4), 2),
            {"stride": 2},
            note="stride 2: four disjoint windows, so 4 columns, not 9",
        ),
        Case(
            (_numbered(1, 1, 3, 3), 3),
            {"padding": 1},
            note="padding 1: a 3×3 kernel on a 3×3 image gives 9 columns, zeros included",
        ),
        Case(
            (random_grid(2, 2, 4, 5, seed=1), 2),
            {"stride": 2},
            note="a batch of 2 non-square images: columns (n, i, j), image 0's first",
        ),
        Case(
            (random_grid(2, 3, 5, 5, seed=2), 3),
            {"stride": 2, "padding": 1},
            note="3 channels, 3×3 kernel, stride 2 and padding 1",
        ),
        Case((random_grid(2, 3, 2, 2, seed=3), 1), note="a 1×1 kernel: one column per pixel"),
    ),
    mistakes=(
        Mistake(
            "your rows are ordered channel-last, (m, l, c); the filters W.reshape(F, -1) are "
            "flattened channel-first, so row (c·k + m)·k + l must hold tap (m, l) of "
            "channel c: all of channel 0's taps, then channel 1's",
            _reordered((4, 5, 1, 0, 2, 3)),
        ),
        Mistake(
            "you flattened each window column by column, (c, l, m), as the sources' "
            "vectorised code does with its transpose: that works only if the filters are "
            "flattened the same way; W.reshape(F, -1) reads each kernel row by row",
            _reordered((1, 5, 4, 0, 2, 3)),
        ),
        Mistake(
            "your windows move one pixel at a time: window (i, j) starts at "
            "(i·stride, j·stride), not (i, j)",
            _reordered(_CML_NIJ, stride_one=True),
        ),
        Mistake(
            "your matrix is transposed: one *column* per window (C·k·k rows, N·H_out·W_out "
            "columns), so that W_row @ cols is the whole convolution",
            lambda x, kernel_size, stride=1, padding=0: _im2col(
                x, kernel_size, stride, padding
            ).T.copy(),
        ),
        Mistake(
            "you ignored the padding: pad the image with zeros first "
            "(np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))) and take the windows of the result",
            _reordered(_CML_NIJ, unpadded=True),
        ),
        Mistake(
            "your columns are ordered position-first, (i, j, n); cnnlib's (and this "
            "chapter's) order is image-first, (n, i, j): all of image 0's windows, then "
            "image 1's",
            _reordered((1, 4, 5, 2, 3, 0)),
        ),
    ),
    highlight="rows (c, m, l), columns (n, i, j), stride and padding included",
)


def check_im2col(fn: Callable[..., Any]) -> bool:
    """Check ``fn(x, kernel_size, stride=1, padding=0)``: the ``(C·k·k, N·H_out·W_out)`` matrix.

    Row ``(c·k + m)·k + l`` and column ``(n·H_out + i)·W_out + j`` hold
    ``x_padded[n, c, i·stride + m, j·stride + l]`` (``ex-im2col``).

    Raises
    ------
    cnnlib.exercises.ExerciseError
        With the first wrong case, what is wrong and the likely mistake.
    """
    return IM2COL.check(fn)


# --------------------------------------------------------------------------------- col2im
def _col2im(
    cols: Array,
    input_shape: tuple[int, int, int, int],
    kernel_size: int,
    stride: int = 1,
    padding: int = 0,
) -> Array:
    return columns.col2im(cols, input_shape, kernel_size, stride, padding)


def _scatter(
    cols: Array,
    input_shape: tuple[int, int, int, int],
    kernel_size: int,
    stride: int = 1,
    padding: int = 0,
    *,
    assign: bool = False,
    average: bool = False,
    step: int | None = None,
    crop: bool = True,
    channel_last: bool = False,
) -> Array:
    """col2im written as loops over the windows, with one of the known mistakes switched on."""
    n_images, channels, height, width = input_shape
    k = kernel_size
    out_h, out_w = _out_size(height, width, k, stride, padding)
    order = (out_h, out_w, k, k, channels) if channel_last else (out_h, out_w, channels, k, k)
    blocks = np.asarray(cols, dtype=float).T.reshape(n_images, *order)
    if channel_last:
        blocks = blocks.transpose(0, 1, 2, 5, 3, 4)
    padded = np.zeros((n_images, channels, height + 2 * padding, width + 2 * padding))
    counts = np.zeros_like(padded)
    move = stride if step is None else step
    for n in range(n_images):
        for i in range(out_h):
            for j in range(out_w):
                rows, cols_ = slice(i * move, i * move + k), slice(j * move, j * move + k)
                if assign:
                    padded[n, :, rows, cols_] = blocks[n, i, j]
                else:
                    padded[n, :, rows, cols_] += blocks[n, i, j]
                counts[n, :, rows, cols_] += 1
    if average:
        padded = padded / np.maximum(counts, 1)
    if not crop:
        return padded
    return padded[:, :, padding : padding + height, padding : padding + width]


def _col2im_case(
    shape: tuple[int, int, int, int], k: int, stride: int, padding: int, seed: int, note: str
) -> Case:
    n, c, h, w = shape
    out_h, out_w = _out_size(h, w, k, stride, padding)
    size = (c * k * k, n * out_h * out_w)
    kwargs = {"stride": stride, "padding": padding}
    return Case((random_grid(*size, seed=seed), shape, k), kwargs, note=note)


COL2IM = Exercise(
    name="col2im",
    reference=_col2im,
    cases=(
        Case(
            (np.ones((4, 4)), (1, 1, 3, 3), 2),
            note="columns of ones: each pixel counts the 2×2 windows that read it",
        ),
        Case(
            (_im2col(_numbered(1, 1, 3, 3), 2), (1, 1, 3, 3), 2),
            note="im2col of the numbered image: each pixel comes back times its count",
        ),
        Case(
            (random_grid(8, 4, seed=4), (1, 2, 3, 3), 2),
            note="two channels: rows (c, m, l), channel 0's taps first",
        ),
        Case(
            (random_grid(4, 4, seed=5), (1, 1, 4, 4), 2),
            {"stride": 2},
            note="stride 2, disjoint windows: every pixel receives exactly one value",
        ),
        Case(
            (random_grid(9, 4, seed=6), (1, 1, 5, 5), 3),
            {"stride": 2},
            note="3×3 windows with stride 2 overlap in the middle row and column",
        ),
        _col2im_case(
            (2, 2, 4, 4), 3, 1, 1, seed=7, note="padding 1: contributions to it are dropped"
        ),
        _col2im_case(
            (2, 3, 5, 6), 3, 2, 1, seed=8, note="a batch, 3 channels, stride 2 and padding 1"
        ),
    ),
    mistakes=(
        Mistake(
            "you assigned each window (dx[window] = …) instead of adding it (+=): where "
            "windows overlap, the last one overwrites the others. A pixel read by several "
            "windows must receive the sum of their columns' values",
            partial(_scatter, assign=True),
        ),
        Mistake(
            "you averaged the overlapping values: col2im is not the inverse of im2col but "
            "its transpose (adjoint), which *adds* them — exactly what the gradient needs",
            partial(_scatter, average=True),
        ),
        Mistake(
            "your windows move one pixel at a time: window (i, j) starts at "
            "(i·stride, j·stride), not (i, j)",
            partial(_scatter, step=1),
        ),
        Mistake(
            "you returned the padded image; crop the padding off at the end "
            "(padded[:, :, p:p + H, p:p + W]): what was added to it belongs to no pixel",
            partial(_scatter, crop=False),
        ),
        Mistake(
            "you read the rows channel-last, (m, l, c); im2col's rows are channel-first, "
            "(c, m, l): all of channel 0's taps, then channel 1's",
            partial(_scatter, channel_last=True),
        ),
    ),
    highlight="overlaps added, strided windows, padding dropped",
)


def check_col2im(fn: Callable[..., Any]) -> bool:
    """Check ``fn(cols, input_shape, kernel_size, stride=1, padding=0)``: im2col's adjoint.

    Every column is added back into the window it came from; the result has shape
    ``input_shape`` ``(N, C, H, W)`` (``ex-col2im``).

    Raises
    ------
    cnnlib.exercises.ExerciseError
        With the first wrong case, what is wrong and the likely mistake.
    """
    return COL2IM.check(fn)


# -------------------------------------------------------------------------- conv2d_im2col
def _conv2d(x: Array, w: Array, b: Array | None = None, stride: int = 1, padding: int = 0) -> Array:
    return conv.conv2d(x, w, b, stride, padding)


def _gemm(
    x: Array,
    w: Array,
    b: Array | None = None,
    stride: int = 1,
    padding: int = 0,
    *,
    no_transpose: bool = False,
    no_bias: bool = False,
    channel_last: bool = False,
) -> Array:
    """Convolution as im2col + GEMM, with one of the known mistakes switched on."""
    n, f = x.shape[0], w.shape[0]
    k = w.shape[2]
    out_h, out_w = _out_size(x.shape[2], x.shape[3], k, stride, padding)
    rows = (w.transpose(0, 2, 3, 1) if channel_last else w).reshape(f, -1)
    product: Array = rows @ columns.im2col(x, k, stride, padding)  # (F, N·H_out·W_out)
    if no_transpose:
        y = product.reshape(n, f, out_h, out_w)
    else:
        y = product.reshape(f, n, out_h, out_w).transpose(1, 0, 2, 3)
    if b is not None and not no_bias:
        y = y + b.reshape(1, f, 1, 1)
    return y


def _conv_case(
    x_shape: tuple[int, ...],
    w_shape: tuple[int, ...],
    seed: int,
    note: str,
    bias: bool = False,
    **kwargs: int,
) -> Case:
    x, w = random_grid(*x_shape, seed=seed), random_grid(*w_shape, seed=seed + 50)
    args: tuple[Any, ...] = (x, w, random_grid(w_shape[0], seed=seed + 99)) if bias else (x, w)
    return Case(args, kwargs, note=note)


_K2 = np.array([[[[1.0, 0.0], [-1.0, 2.0]]]])

CONV2D_IM2COL = Exercise(
    name="conv2d_im2col",
    reference=_conv2d,
    cases=(
        Case((_numbered(1, 1, 3, 3), _K2), note="the numbered 3×3 image and a 2×2 kernel"),
        _conv_case((1, 2, 3, 3), (2, 2, 2, 2), seed=10, note="2 channels in, 2 filters out"),
        _conv_case(
            (2, 2, 4, 4), (3, 2, 3, 3), seed=11, bias=True, note="a batch of 2, 3 filters, a bias"
        ),
        _conv_case((1, 1, 5, 5), (1, 1, 3, 3), seed=12, stride=2, note="stride 2 on a 5×5 image"),
        _conv_case((1, 1, 3, 4), (2, 1, 3, 3), seed=13, padding=1, note="padding 1"),
        _conv_case(
            (2, 3, 6, 5),
            (4, 3, 3, 3),
            seed=14,
            bias=True,
            stride=2,
            padding=1,
            note="everything at once: batch, channels, bias, stride 2, padding 1",
        ),
        _conv_case((2, 3, 2, 3), (2, 3, 1, 1), seed=15, note="a 1×1 convolution"),
    ),
    mistakes=(
        Mistake(
            "you reshaped the GEMM's (F, N·H_out·W_out) output straight to "
            "(N, F, H_out, W_out): its first axis is the filters, so reshape it to "
            "(F, N, H_out, W_out) and then move the batch first with .transpose(1, 0, 2, 3)",
            partial(_gemm, no_transpose=True),
        ),
        Mistake(
            "you forgot the bias: add b[f] to every output of filter f "
            "(b.reshape(1, F, 1, 1) broadcasts it)",
            partial(_gemm, no_bias=True),
        ),
        Mistake(
            "you flattened the filters channel-last, (m, l, c); the columns are "
            "channel-first, (c, m, l), and so is w.reshape(F, -1) — no transpose needed",
            partial(_gemm, channel_last=True),
        ),
        Mistake(
            "you flipped the kernel: a CNN's convolution is a cross-correlation "
            "(chapter 2), so the filters are used as they are",
            lambda x, w, b=None, stride=1, padding=0: _gemm(
                x, w[:, :, ::-1, ::-1], b, stride, padding
            ),
        ),
        Mistake(
            "you ignored the stride: pass it on to im2col (and use it for H_out, W_out)",
            lambda x, w, b=None, stride=1, padding=0: _gemm(x, w, b, 1, padding),
        ),
        Mistake(
            "you ignored the padding: pass it on to im2col (and use it for H_out, W_out)",
            lambda x, w, b=None, stride=1, padding=0: _gemm(x, w, b, stride, 0),
        ),
    ),
    highlight="one GEMM for the whole batch, bias, stride and padding",
)


def check_conv2d_im2col(fn: Callable[..., Any]) -> bool:
    """Check ``fn(x, w, b=None, stride=1, padding=0)``: a convolution as im2col + one GEMM.

    The answer must equal :func:`cnnlib.conv.conv2d`, shape ``(N, F, H_out, W_out)``
    (``ex-conv2d-im2col``).

    Raises
    ------
    cnnlib.exercises.ExerciseError
        With the first wrong case, what is wrong and the likely mistake.
    """
    return CONV2D_IM2COL.check(fn)


# ----------------------------------------------------------------- conv2d_backward_im2col
def _backward(
    dy: Array, x: Array, w: Array, stride: int = 1, padding: int = 0
) -> tuple[Array, Array, Array]:
    return conv.conv2d_backward(dy, x, w, stride, padding)


def _backward_gemm(
    dy: Array,
    x: Array,
    w: Array,
    stride: int = 1,
    padding: int = 0,
    *,
    batch_unmoved: bool = False,
    assign: bool = False,
    dw_transposed: bool = False,
    db_batch_only: bool = False,
    uncropped: bool = False,
) -> tuple[Array, Array, Array]:
    """The backward pass with GEMMs and col2im, with one of the known mistakes switched on."""
    f, k = w.shape[0], w.shape[2]
    cols = columns.im2col(x, k, stride, padding)
    dy_rows = dy.reshape(f, -1) if batch_unmoved else dy.transpose(1, 0, 2, 3).reshape(f, -1)
    dw_rows = (cols @ dy_rows.T) if dw_transposed else (dy_rows @ cols.T)
    dw = dw_rows.reshape(w.shape)
    db = dy.sum(axis=0) if db_batch_only else dy.sum(axis=(0, 2, 3))
    dcols = w.reshape(f, -1).T @ dy_rows
    dx = _scatter(dcols, x.shape, k, stride, padding, assign=assign, crop=not uncropped)
    return dx, dw, db


def _backward_case(
    x_shape: tuple[int, int, int, int],
    w_shape: tuple[int, int, int, int],
    seed: int,
    note: str,
    stride: int = 1,
    padding: int = 0,
) -> Case:
    n, _, h, w = x_shape
    f, _, k, _ = w_shape
    dy_shape = (n, f, *_out_size(h, w, k, stride, padding))
    x, kernel = random_grid(*x_shape, seed=seed), random_grid(*w_shape, seed=seed + 50)
    dy = random_grid(*dy_shape, seed=seed + 99)
    return Case((dy, x, kernel), {"stride": stride, "padding": padding}, note=note)


_DY2 = np.array([[[[1.0, -2.0], [3.0, 1.0]]]])

CONV2D_BACKWARD_IM2COL = Exercise(
    name="conv2d_backward_im2col",
    reference=_backward,
    cases=(
        Case(
            (_DY2, _numbered(1, 1, 3, 3), _K2),
            note="the numbered 3×3 image, a 2×2 kernel and a 2×2 output gradient",
        ),
        _backward_case((1, 2, 4, 4), (3, 2, 2, 2), seed=20, note="2 channels in, 3 filters out"),
        _backward_case((2, 2, 4, 5), (3, 2, 3, 3), seed=21, note="a batch of 2 images"),
        _backward_case(
            (1, 1, 5, 5), (2, 1, 3, 3), seed=22, stride=2, note="overlapping windows, stride 2"
        ),
        _backward_case(
            (2, 3, 6, 5),
            (4, 3, 3, 3),
            seed=23,
            stride=2,
            padding=1,
            note="everything at once: batch, channels, stride 2, padding 1",
        ),
    ),
    mistakes=(
        Mistake(
            "you reshaped dy (N, F, H_out, W_out) straight to (F, N·H_out·W_out): move the "
            "filter axis first, dy.transpose(1, 0, 2, 3).reshape(F, -1), so that its "
            "columns line up with the columns of im2col, (n, i, j)",
            partial(_backward_gemm, batch_unmoved=True),
        ),
        Mistake(
            "your dx assigns each window instead of adding it: where windows overlap, a "
            "pixel must collect the gradient of every window that read it (col2im adds)",
            partial(_backward_gemm, assign=True),
        ),
        Mistake(
            "your dw is transposed: dW_row = dY_row · colsᵀ is (F, C·k·k) and reshapes to "
            "w.shape; cols · dY_rowᵀ is (C·k·k, F)",
            partial(_backward_gemm, dw_transposed=True),
        ),
        Mistake(
            "your db is summed over the batch only; each filter's bias was added at every "
            "output position too, so db[f] = dy[:, f].sum() over images, rows and columns",
            partial(_backward_gemm, db_batch_only=True),
        ),
        Mistake(
            "your dx still has the padding: col2im must crop it off (its gradient goes "
            "nowhere), so that dx has the shape of x",
            partial(_backward_gemm, uncropped=True),
        ),
    ),
    highlight="dx = col2im(W_rowᵀ·dY), dW = dY·colsᵀ, db summed",
)


def check_conv2d_backward_im2col(fn: Callable[..., Any]) -> bool:
    """Check ``fn(dy, x, w, stride=1, padding=0)``: ``(dx, dw, db)`` with GEMMs and col2im.

    The answer must equal :func:`cnnlib.conv.conv2d_backward` (``ex-conv2d-backward-im2col``).

    Raises
    ------
    cnnlib.exercises.ExerciseError
        With the first wrong case, what is wrong and the likely mistake.
    """
    return CONV2D_BACKWARD_IM2COL.check(fn)
