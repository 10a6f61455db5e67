r"""im2col and col2im: convolution as one matrix product (chapter 6).

``im2col`` copies every window of the (padded) input into a column of a matrix. With the
filters flattened to rows, the whole convolution becomes one matrix product, which BLAS
computes far faster than any loop:

.. math:: \underbrace{W_\text{row}}_{F \times C k_h k_w} \cdot
          \underbrace{X_\text{col}}_{C k_h k_w \times N H_\text{out} W_\text{out}}
          = \underbrace{Y}_{F \times N H_\text{out} W_\text{out}}

Layout: row ``(c·k_h + m)·k_w + l`` holds kernel tap ``(m, l)`` of channel ``c``; column
``(n·H_out + i)·W_out + j`` holds output position ``(i, j)`` of image ``n``:

.. math:: X_\text{col}[(c, m, l), (n, i, j)] = X_p[n, c,\; i s_h + m d_h,\; j s_w + l d_w].

``col2im`` is its adjoint: it adds every column back into the window it came from, so
pixels shared by several windows receive the sum of their contributions — exactly the
gradient of ``im2col``, which the backward pass needs. The price of the method is memory:
each input pixel is copied once per window that reads it (up to ``k_h·k_w`` times);
:func:`column_memory` counts the copies and their bytes.

:func:`window_view` reaches the same windows without copying anything: a strided *view* of
the (padded) input with one axis per index ``(n, c, i, j, m, l)``. :func:`im2col_strided`
reshapes that view into the column matrix — the reshape is where the copy happens.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from cnnlib._validation import check_int, int_pair, real_array
from cnnlib.conv.spec import ConvSpec, conv_spec
from cnnlib.geometry import IntOrPair, Padding2D

__all__ = [
    "ColumnMemory",
    "col2im",
    "column_memory",
    "im2col",
    "im2col_strided",
    "window_view",
]


def _spec(
    input_shape: tuple[int, ...],
    kernel_size: IntOrPair,
    stride: IntOrPair,
    padding: Padding2D,
    dilation: IntOrPair,
    owner: str,
) -> ConvSpec:
    kh, kw = int_pair(kernel_size, "kernel_size", owner=owner, minimum=1)
    channels = input_shape[1] if len(input_shape) == 4 else 1
    return conv_spec(input_shape, (1, channels, kh, kw), stride, padding, dilation, owner=owner)


def _shape_spec(
    input_shape: tuple[int, ...],
    kernel_size: IntOrPair,
    stride: IntOrPair,
    padding: Padding2D,
    dilation: IntOrPair,
    owner: str,
) -> ConvSpec:
    """:func:`_spec` of an input given only by its shape, which must be ``(N, C, H, W)``."""
    if len(input_shape) != 4:
        raise ValueError(f"{owner}: input_shape must be (N, C, H, W), got {input_shape!r}")
    shape = tuple(check_int(n, "input_shape entry", owner=owner, minimum=1) for n in input_shape)
    return _spec(shape, kernel_size, stride, padding, dilation, owner)


def _column_shape(spec: ConvSpec) -> tuple[int, int]:
    """The column matrix's shape, ``(C·k_h·k_w, N·H_out·W_out)``."""
    kh, kw = spec.kernel
    return spec.in_channels * kh * kw, spec.batch * spec.out_height * spec.out_width


def _taps(spec: ConvSpec) -> Iterator[tuple[int, int, slice, slice]]:
    """For each kernel tap ``(m, l)``, the strided rows and columns of the padded input it reads.

    Tap ``(m, l)`` of output ``(i, j)`` reads padded pixel ``(i s_h + m d_h, j s_w + l d_w)``;
    over all outputs that is one strided slice per axis.
    """
    (sh, sw), (dh, dw) = spec.stride, spec.dilation
    for m in range(spec.kernel[0]):
        rows = slice(m * dh, m * dh + sh * (spec.out_height - 1) + 1, sh)
        for l in range(spec.kernel[1]):
            cols = slice(l * dw, l * dw + sw * (spec.out_width - 1) + 1, sw)
            yield m, l, rows, cols


def _pad_channels_first(x: NDArray[Any], spec: ConvSpec) -> NDArray[Any]:
    """Zero-pad ``x`` by ``spec.padding`` into a ``(C, N, H_p, W_p)`` array.

    Channels first, so that the copies im2col makes and the sums col2im makes run over
    ``(c, n)`` in the order of the column matrix's rows.
    """
    (top, _), (left, _) = spec.padding
    height, width = spec.padded_shape
    padded = np.zeros((spec.in_channels, spec.batch, height, width), dtype=x.dtype)
    padded[:, :, top : top + spec.height, left : left + spec.width] = x.transpose(1, 0, 2, 3)
    return padded


def _crop_channels_first(padded: NDArray[Any], spec: ConvSpec) -> NDArray[Any]:
    """Undo ``_pad_channels_first``: the ``(N, C, H, W)`` interior, as a new array."""
    (top, _), (left, _) = spec.padding
    inner = padded[:, :, top : top + spec.height, left : left + spec.width]
    return np.ascontiguousarray(inner.transpose(1, 0, 2, 3))


def im2col(
    x: ArrayLike,
    kernel_size: IntOrPair,
    stride: IntOrPair = 1,
    padding: Padding2D = 0,
    dilation: IntOrPair = 1,
) -> NDArray[Any]:
    """Copy every window of a batch into a column: ``(C·k_h·k_w, N·H_out·W_out)``.

    Parameters
    ----------
    x
        Input ``(N, C, H, W)``.
    kernel_size, stride, dilation
        An int or a pair ``(height, width)``.
    padding
        Anything :func:`cnnlib.geometry.resolve_padding2d` accepts.

    Returns
    -------
    numpy.ndarray
        The column matrix, in ``x``'s dtype (layout in the module docstring).

    Examples
    --------
    The sources' example: a 227×227×3 input, 11×11 filters, stride 4.

    >>> im2col(np.zeros((1, 3, 227, 227), np.float32), 11, stride=4).shape
    (363, 3025)
    """
    owner = "im2col"
    array = real_array(x, "x", owner=owner, axes=("N", "C", "H", "W"))
    spec = _spec(array.shape, kernel_size, stride, padding, dilation, owner)
    padded = _pad_channels_first(array, spec)
    kh, kw = spec.kernel
    cols = np.empty(
        (spec.in_channels, kh, kw, spec.batch, spec.out_height, spec.out_width), dtype=array.dtype
    )
    for m, l, rows, columns in _taps(spec):
        cols[:, m, l] = padded[:, :, rows, columns]
    return cols.reshape(_column_shape(spec))


def col2im(
    cols: ArrayLike,
    input_shape: tuple[int, int, int, int],
    kernel_size: IntOrPair,
    stride: IntOrPair = 1,
    padding: Padding2D = 0,
    dilation: IntOrPair = 1,
) -> NDArray[Any]:
    """Add every column back into its window: the adjoint (and gradient) of :func:`im2col`.

    Parameters
    ----------
    cols
        ``(C·k_h·k_w, N·H_out·W_out)``, laid out as :func:`im2col` produces it.
    input_shape
        ``(N, C, H, W)`` of the original input.
    kernel_size, stride, padding, dilation
        As given to :func:`im2col`.

    Returns
    -------
    numpy.ndarray
        ``(N, C, H, W)``: each pixel holds the sum of the column entries that were copied
        from it; contributions to the padding are dropped.

    Examples
    --------
    Every pixel of a 3×3 image is read by as many 2×2 windows as cover it:

    >>> ones = im2col(np.ones((1, 1, 3, 3)), 2)
    >>> col2im(ones, (1, 1, 3, 3), 2)[0, 0]
    array([[1., 2., 1.],
           [2., 4., 2.],
           [1., 2., 1.]])
    """
    owner = "col2im"
    spec = _shape_spec(input_shape, kernel_size, stride, padding, dilation, owner)
    expected = _column_shape(spec)
    matrix = real_array(cols, "cols", owner=owner, axes=("C·k_h·k_w", "N·H_out·W_out"))
    if matrix.shape != expected:
        raise ValueError(
            f"{owner}: cols has shape {matrix.shape}, but input {spec.input_shape} with this "
            f"kernel, stride, padding and dilation needs (C·k_h·k_w, N·H_out·W_out) = {expected}"
        )
    kh, kw = spec.kernel
    blocks = matrix.reshape(spec.in_channels, kh, kw, spec.batch, spec.out_height, spec.out_width)
    height, width = spec.padded_shape
    padded = np.zeros((spec.in_channels, spec.batch, height, width), dtype=matrix.dtype)
    for m, l, rows, columns in _taps(spec):
        padded[:, :, rows, columns] += blocks[:, m, l]
    return _crop_channels_first(padded, spec)


def window_view(
    x: ArrayLike,
    kernel_size: IntOrPair,
    stride: IntOrPair = 1,
    padding: Padding2D = 0,
    dilation: IntOrPair = 1,
) -> NDArray[Any]:
    r"""Every window of a batch as a read-only strided view ``(N, C, H_out, W_out, k_h, k_w)``.

    .. math:: V[n, c, i, j, m, l] = X_p[n, c,\; i s_h + m d_h,\; j s_w + l d_w]

    No value is copied: the view only sets strides (bytes to step per index) on the memory
    of the (padded) input, built with NumPy's ``sliding_window_view``.
    Without padding it shares ``x``'s memory; with padding it views a padded copy. The view
    is read-only, since its windows overlap: writing through it would change several
    windows at once.

    Parameters
    ----------
    x
        Input ``(N, C, H, W)``.
    kernel_size, stride, dilation
        An int or a pair ``(height, width)``.
    padding
        Anything :func:`cnnlib.geometry.resolve_padding2d` accepts.

    Returns
    -------
    numpy.ndarray
        The view ``(N, C, H_out, W_out, k_h, k_w)``, in ``x``'s dtype.

    Examples
    --------
    >>> x = np.arange(16.0).reshape(1, 1, 4, 4)
    >>> v = window_view(x, 2, stride=2)
    >>> v.shape, np.shares_memory(v, x)
    ((1, 1, 2, 2, 2, 2), True)
    >>> v[0, 0, 1, 0]                     # the window of output (1, 0)
    array([[ 8.,  9.],
           [12., 13.]])
    """
    owner = "window_view"
    array = real_array(x, "x", owner=owner, axes=("N", "C", "H", "W"))
    spec = _spec(array.shape, kernel_size, stride, padding, dilation, owner)
    (top, bottom), (left, right) = spec.padding
    if top or bottom or left or right:
        array = np.pad(array, ((0, 0), (0, 0), (top, bottom), (left, right)))
    (sh, sw), (dh, dw) = spec.stride, spec.dilation
    windows = np.lib.stride_tricks.sliding_window_view(array, spec.span, axis=(2, 3))
    view: NDArray[Any] = windows[:, :, ::sh, ::sw, ::dh, ::dw]
    return view


def im2col_strided(
    x: ArrayLike,
    kernel_size: IntOrPair,
    stride: IntOrPair = 1,
    padding: Padding2D = 0,
    dilation: IntOrPair = 1,
) -> NDArray[Any]:
    """:func:`im2col` from :func:`window_view`: one transpose (free) and one reshape (the copy).

    The view's axes ``(n, c, i, j, m, l)`` are put in the column matrix's order
    ``(c, m, l, n, i, j)``; reshaping that non-contiguous view to two dimensions copies
    every window into its column. Where the reshape needs no copy (a ``1 × 1`` kernel on
    one image, for instance, reads the pixels in order), its result would be a read-only
    view of the input, so it is copied: the result is always a new, writable array, as
    :func:`im2col`'s is.

    Parameters
    ----------
    x, kernel_size, stride, padding, dilation
        As in :func:`im2col`.

    Returns
    -------
    numpy.ndarray
        ``(C·k_h·k_w, N·H_out·W_out)``, equal to ``im2col(x, ...)``; never a view of ``x``.

    Examples
    --------
    >>> x = np.random.default_rng(0).standard_normal((2, 3, 7, 6))
    >>> np.array_equal(im2col_strided(x, 3, 2, 1), im2col(x, 3, 2, 1))
    True
    """
    view = window_view(x, kernel_size, stride, padding, dilation)
    n, c, out_h, out_w, kh, kw = view.shape
    cols = view.transpose(1, 4, 5, 0, 2, 3).reshape(c * kh * kw, n * out_h * out_w)
    return cols.copy() if np.may_share_memory(cols, view) else cols


@dataclass(frozen=True)
class ColumnMemory:
    """What the column matrix of one convolution costs, next to its input.

    Attributes
    ----------
    input_shape
        ``(N, C, H, W)``.
    shape
        The column matrix, ``(C·k_h·k_w, N·H_out·W_out)``.
    itemsize
        Bytes per number (4 for float32).
    """

    input_shape: tuple[int, int, int, int]
    shape: tuple[int, int]
    itemsize: int

    @property
    def input_values(self) -> int:
        """Numbers in the input, ``N·C·H·W``."""
        return math.prod(self.input_shape)

    @property
    def column_values(self) -> int:
        """Numbers in the column matrix, ``C·k_h·k_w · N·H_out·W_out``."""
        return self.shape[0] * self.shape[1]

    @property
    def duplication(self) -> float:
        """``column_values / input_values``: copies per input number, on average."""
        return self.column_values / self.input_values

    @property
    def input_bytes(self) -> int:
        """Bytes of the input."""
        return self.input_values * self.itemsize

    @property
    def column_bytes(self) -> int:
        """Bytes of the column matrix."""
        return self.column_values * self.itemsize


def column_memory(
    input_shape: tuple[int, int, int, int],
    kernel_size: IntOrPair,
    stride: IntOrPair = 1,
    padding: Padding2D = 0,
    dilation: IntOrPair = 1,
    dtype: str | np.dtype[Any] | type[np.generic] = "float32",
) -> ColumnMemory:
    r"""Size of the column matrix :func:`im2col` would build, without building it.

    .. math:: \underbrace{C k_h k_w}_\text{rows} \times
              \underbrace{N H_\text{out} W_\text{out}}_\text{columns}
              \quad\text{numbers, against}\quad N C H W \text{ in the input.}

    Parameters
    ----------
    input_shape
        ``(N, C, H, W)``.
    kernel_size, stride, padding, dilation
        As in :func:`im2col`.
    dtype
        The numbers' type (``"float32"`` by default: 4 bytes each).

    Returns
    -------
    ColumnMemory
        The shapes, counts, bytes and the duplication factor.

    Examples
    --------
    The sources' example: a 227×227×3 image, 96 filters of 11×11, stride 4.

    >>> cost = column_memory((1, 3, 227, 227), 11, stride=4)
    >>> cost.shape, cost.column_values, cost.input_values
    ((363, 3025), 1098075, 154587)
    >>> round(cost.duplication, 2), cost.column_bytes
    (7.1, 4392300)
    """
    spec = _shape_spec(input_shape, kernel_size, stride, padding, dilation, "column_memory")
    return ColumnMemory(spec.input_shape, _column_shape(spec), np.dtype(dtype).itemsize)
