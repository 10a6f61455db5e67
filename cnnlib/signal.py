r"""Single-channel textbook operations: cross-correlation, convolution and ``rot180``.

Derived in chapter 1 ("Convolution") and chapter 2 ("Cross-correlation vs convolution").
These functions work on one 2-D image and one 2-D kernel, exactly as the equations are
written; batched, multi-channel layers build on the same idea in later chapters.

Cross-correlation (what deep-learning libraries call "convolution"):

.. math:: Y[i, j] = \sum_{m=0}^{k_h-1} \sum_{n=0}^{k_w-1}
          K[m, n]\, X_p[i s + m d,\; j s + n d]

where :math:`X_p` is the zero-padded image, :math:`s` the stride and :math:`d` the dilation.
True convolution is cross-correlation with the kernel rotated by 180°:
:math:`X * K = X \star \operatorname{rot180}(K)`.

Padding modes follow :mod:`cnnlib.geometry`: ``"valid"`` (none), ``"same"`` (output of
``ceil(n / s)`` pixels; the smaller half of the padding goes before) and ``"full"``
(``d·(k − 1)`` zeros on every side).

The result has NumPy's promoted dtype of ``image`` and ``kernel``, so integer examples
from the text stay exact integers.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import ArrayLike, NDArray

from cnnlib._validation import int_pair, real_array
from cnnlib.geometry import PADDING_MODES, IntOrPair, conv_output_size, resolve_padding

__all__ = ["convolve2d", "correlate2d", "dilate2d", "rot180"]


def rot180(kernel: ArrayLike) -> NDArray[Any]:
    """Rotate a kernel by 180° (flip both spatial axes): ``rot180(K)[m, n] = K[-1-m, -1-n]``.

    Only the last two axes are flipped, so a stack of kernels ``(F, C, k_h, k_w)`` has every
    kernel rotated in place of the stack. Returns a new array.

    Examples
    --------
    >>> rot180([[1, 2], [3, 4]])
    array([[4, 3],
           [2, 1]])
    """
    array = np.asarray(kernel)
    if array.ndim < 2:
        raise ValueError(
            f"rot180: kernel must have at least 2 dimensions (…, k_h, k_w), got shape {array.shape}"
        )
    return array[..., ::-1, ::-1].copy()


def dilate2d(array: ArrayLike, factor: IntOrPair) -> NDArray[Any]:
    """Insert ``factor − 1`` zeros between neighbouring entries of the last two axes.

    A kernel of size ``k`` becomes one of size ``d·(k − 1) + 1`` whose correlation equals the
    dilated correlation of the original kernel; chapter 3 uses the same operation to spread
    an output gradient back to the stride it was computed with.

    Parameters
    ----------
    array
        Shape ``(…, H, W)``.
    factor
        ``d ≥ 1`` for both axes, or ``(d_h, d_w)``.

    Returns
    -------
    numpy.ndarray
        Shape ``(…, d_h·(H − 1) + 1, d_w·(W − 1) + 1)``, same dtype.

    Examples
    --------
    >>> dilate2d([[1, 2], [3, 4]], 2)
    array([[1, 0, 2],
           [0, 0, 0],
           [3, 0, 4]])
    """
    source = np.asarray(array)
    if source.ndim < 2:
        raise ValueError(f"dilate2d: array must have at least 2 dimensions, got {source.shape}")
    dh, dw = int_pair(factor, "factor", owner="dilate2d", minimum=1)
    h, w = source.shape[-2:]
    out = np.zeros((*source.shape[:-2], dh * (h - 1) + 1, dw * (w - 1) + 1), dtype=source.dtype)
    out[..., ::dh, ::dw] = source
    return out


def _check_mode(mode: str, owner: str) -> str:
    if not isinstance(mode, str) or mode not in PADDING_MODES:
        raise ValueError(
            f"{owner}: mode must be one of {', '.join(map(repr, PADDING_MODES))}, got {mode!r}"
        )
    return mode


def correlate2d(
    image: ArrayLike,
    kernel: ArrayLike,
    mode: str = "valid",
    stride: IntOrPair = 1,
    dilation: IntOrPair = 1,
) -> NDArray[Any]:
    """Cross-correlate a 2-D image with a 2-D kernel (the sliding window of chapter 1).

    Parameters
    ----------
    image
        Shape ``(H, W)``, real numbers.
    kernel
        Shape ``(k_h, k_w)``, real numbers.
    mode
        ``"valid"``, ``"same"`` or ``"full"`` (see the module docstring).
    stride
        Step between windows: an int or ``(s_h, s_w)``.
    dilation
        Spacing between kernel taps: an int or ``(d_h, d_w)``; 1 is an ordinary kernel.

    Returns
    -------
    numpy.ndarray
        Shape ``(H_out, W_out)`` given by :func:`cnnlib.geometry.conv_output_size` on each
        axis.

    Raises
    ------
    ValueError
        For arrays that are not 2-D, an unknown mode, a stride or dilation below 1, or a
        kernel larger than the padded image (the message shows the output-size formula).
    TypeError
        For boolean, complex or object arrays.

    Examples
    --------
    The 4×4 example of chapter 1:

    >>> x = [[1, 2, 3, 0], [0, 1, 2, 3], [3, 0, 1, 2], [2, 3, 0, 1]]
    >>> correlate2d(x, [[1, 0], [-1, 1]])
    array([[ 2,  3,  4],
           [-3,  2,  3],
           [ 4, -3,  2]])
    """
    owner = "correlate2d"
    x = real_array(image, "image", owner=owner, axes=("H", "W"))
    k = real_array(kernel, "kernel", owner=owner, axes=("k_h", "k_w"))
    _check_mode(mode, owner)
    sh, sw = int_pair(stride, "stride", owner=owner, minimum=1)
    dh, dw = int_pair(dilation, "dilation", owner=owner, minimum=1)
    kh, kw = k.shape
    pad_h = resolve_padding(mode, x.shape[0], kh, sh, dh, owner=owner)
    pad_w = resolve_padding(mode, x.shape[1], kw, sw, dw, owner=owner)
    for axis, n, size, s, pad, d in (
        ("height", x.shape[0], kh, sh, pad_h, dh),
        ("width", x.shape[1], kw, sw, pad_w, dw),
    ):
        context = (
            f"{owner}: image {x.shape} and kernel {k.shape} do not fit along the "
            f"{axis} ({mode!r} mode)"
        )
        conv_output_size(n, size, s, pad, d, owner=context)
    padded = np.pad(x, (pad_h, pad_w))
    span_h, span_w = dh * (kh - 1) + 1, dw * (kw - 1) + 1
    windows = sliding_window_view(padded, (span_h, span_w))[::sh, ::sw, ::dh, ::dw]
    # every output is the dot product of its (strided, dilated) window with the kernel
    result: NDArray[Any] = np.tensordot(windows, k, axes=([2, 3], [0, 1]))
    return result


def convolve2d(
    image: ArrayLike,
    kernel: ArrayLike,
    mode: str = "valid",
    stride: IntOrPair = 1,
    dilation: IntOrPair = 1,
) -> NDArray[Any]:
    r"""True 2-D convolution: cross-correlation with the kernel rotated by 180°.

    .. math:: (X * K)[i, j] = (X \star \operatorname{rot180}(K))[i, j]

    Parameters and padding modes are those of :func:`correlate2d`. For odd kernels the
    result equals ``scipy.signal.convolve2d`` in every mode. For an even kernel in
    ``"same"`` mode SciPy keeps the other half-pixel of the full result; here the identity
    above holds exactly instead, with the same padding rule as :func:`correlate2d`.

    Examples
    --------
    >>> convolve2d([[1, 2, 3], [4, 5, 6], [7, 8, 9]], [[1, 0], [0, -1]])
    array([[4, 4],
           [4, 4]])
    """
    owner = "convolve2d"
    k = real_array(kernel, "kernel", owner=owner, axes=("k_h", "k_w"))
    try:
        return correlate2d(image, rot180(k), mode, stride, dilation)
    except (ValueError, TypeError) as error:
        raise type(error)(str(error).replace("correlate2d:", f"{owner}:", 1)) from None
