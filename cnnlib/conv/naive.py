r"""Convolution with loops that read like the maths (chapters 1 and 3).

These are the versions a learner writes first: slow, but every line matches a symbol of

.. math:: Y[n, f, i, j] = b[f] + \sum_{c, m, l} W[f, c, m, l]\,
          X_p[n, c,\; i s_h + m d_h,\; j s_w + l d_w]

(with :math:`X_p` the zero-padded input and ``c`` running over the filter's group of
channels). The fast path in :mod:`cnnlib.conv.fast` is tested equal to them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from cnnlib.conv.spec import ConvSpec, as_float_arrays, check_output_gradient, conv_spec
from cnnlib.geometry import IntOrPair, Padding2D

__all__ = [
    "conv2d_backward_naive",
    "conv2d_backward_positionwise",
    "conv2d_naive",
    "conv2d_positionwise",
]


def _pad(x: NDArray[Any], spec: ConvSpec) -> NDArray[Any]:
    return np.pad(x, ((0, 0), (0, 0), *spec.padding))


def _window(spec: ConvSpec, i: int, j: int) -> tuple[slice, slice]:
    """Rows and columns of the padded input that output ``(i, j)`` reads."""
    (sh, sw), (dh, dw) = spec.stride, spec.dilation
    span_h, span_w = spec.span
    return (
        slice(i * sh, i * sh + span_h, dh),
        slice(j * sw, j * sw + span_w, dw),
    )


def _group_channels(spec: ConvSpec, f: int) -> slice:
    """Input channels that filter ``f`` sees: its group's slice of ``C``."""
    per_group = spec.in_channels // spec.groups
    group = f // (spec.filters // spec.groups)
    return slice(group * per_group, (group + 1) * per_group)


def conv2d_naive(
    x: ArrayLike,
    w: ArrayLike,
    b: ArrayLike | None = None,
    stride: IntOrPair = 1,
    padding: Padding2D = 0,
    dilation: IntOrPair = 1,
    groups: int = 1,
) -> NDArray[Any]:
    """Convolution (cross-correlation) of a batch with four nested loops.

    Parameters
    ----------
    x
        Input ``(N, C, H, W)``, float32 or float64.
    w
        Filters ``(F, C / groups, k_h, k_w)``.
    b
        Optional bias ``(F,)``.
    stride, dilation
        An int or a pair ``(height, width)``.
    padding
        An int, a pair ``(pad_h, pad_w)``, ``((top, bottom), (left, right))``, ``"valid"``
        or ``"same"`` (see :mod:`cnnlib.geometry`).
    groups
        Split channels and filters into this many independent groups (``groups = C`` is a
        depthwise convolution).

    Returns
    -------
    numpy.ndarray
        ``(N, F, H_out, W_out)`` in ``x``'s dtype.

    Examples
    --------
    >>> x = np.arange(16.0).reshape(1, 1, 4, 4)
    >>> conv2d_naive(x, np.ones((1, 1, 2, 2)), stride=2)[0, 0]
    array([[10., 18.],
           [42., 50.]])
    """
    owner = "conv2d_naive"
    x_arr, w_arr, b_arr = as_float_arrays(x, w, b, owner=owner)
    spec = conv_spec(x_arr.shape, w_arr.shape, stride, padding, dilation, groups, owner=owner)
    xp = _pad(x_arr, spec)
    y = np.zeros(spec.output_shape, dtype=x_arr.dtype)
    for n in range(spec.batch):
        for f in range(spec.filters):
            channels = _group_channels(spec, f)
            for i in range(spec.out_height):
                for j in range(spec.out_width):
                    rows, cols = _window(spec, i, j)
                    y[n, f, i, j] = np.sum(xp[n, channels, rows, cols] * w_arr[f])
            if b_arr is not None:
                y[n, f] += b_arr[f]
    return y


def conv2d_backward_naive(
    dy: ArrayLike,
    x: ArrayLike,
    w: ArrayLike,
    stride: IntOrPair = 1,
    padding: Padding2D = 0,
    dilation: IntOrPair = 1,
    groups: int = 1,
) -> tuple[NDArray[Any], NDArray[Any], NDArray[Any]]:
    r"""Gradients of a convolution with the same loops as the forward pass.

    Each output ``Y[n, f, i, j]`` was a dot product of ``W[f]`` with one window of the
    padded input, so its gradient ``dY[n, f, i, j]`` flows back along that product:

    .. math:: \frac{\partial L}{\partial W[f]} \mathrel{+}= dY[n, f, i, j]\,
              X_p[n, \text{window}(i, j)], \qquad
              \frac{\partial L}{\partial X_p[n, \text{window}(i, j)]} \mathrel{+}=
              dY[n, f, i, j]\, W[f],

    and :math:`\partial L / \partial b[f] = \sum_{n, i, j} dY[n, f, i, j]`. Pixels of the
    padding, and pixels no window reached (excluded by the stride), get nothing; the padding
    is cropped off at the end.

    Parameters
    ----------
    dy
        Gradient of the loss with respect to the output, ``(N, F, H_out, W_out)``.
    x, w, stride, padding, dilation, groups
        As in :func:`conv2d_naive`.

    Returns
    -------
    tuple of numpy.ndarray
        ``(dx, dw, db)`` with the shapes of ``x``, ``w`` and ``(F,)``.
    """
    owner = "conv2d_backward_naive"
    x_arr, w_arr, _ = as_float_arrays(x, w, owner=owner)
    spec = conv_spec(x_arr.shape, w_arr.shape, stride, padding, dilation, groups, owner=owner)
    grad = check_output_gradient(dy, spec, x_arr.dtype, owner)
    xp = _pad(x_arr, spec)
    dxp = np.zeros_like(xp)
    dw = np.zeros_like(w_arr)
    for n in range(spec.batch):
        for f in range(spec.filters):
            channels = _group_channels(spec, f)
            for i in range(spec.out_height):
                for j in range(spec.out_width):
                    rows, cols = _window(spec, i, j)
                    dw[f] += grad[n, f, i, j] * xp[n, channels, rows, cols]
                    dxp[n, channels, rows, cols] += grad[n, f, i, j] * w_arr[f]
    db = grad.sum(axis=(0, 2, 3))
    (top, _), (left, _) = spec.padding
    dx = dxp[:, :, top : top + spec.height, left : left + spec.width].copy()
    return dx, dw, db


def conv2d_positionwise(
    x: ArrayLike,
    w: ArrayLike,
    b: ArrayLike | None = None,
    stride: IntOrPair = 1,
    padding: Padding2D = 0,
    dilation: IntOrPair = 1,
) -> NDArray[Any]:
    """Convolution with one loop over output positions and one matrix product each.

    The middle step between :func:`conv2d_naive` and im2col (chapter 6): at each output
    position the windows of the whole batch are flattened to an ``(N, C·k_h·k_w)`` matrix
    and multiplied by the flattened filters ``(C·k_h·k_w, F)``. The loop runs
    ``H_out·W_out`` times instead of ``N·F·H_out·W_out``.

    Parameters are those of :func:`conv2d_naive` (without groups).
    """
    owner = "conv2d_positionwise"
    x_arr, w_arr, b_arr = as_float_arrays(x, w, b, owner=owner)
    spec = conv_spec(x_arr.shape, w_arr.shape, stride, padding, dilation, owner=owner)
    xp = _pad(x_arr, spec)
    filters = w_arr.reshape(spec.filters, -1).T  # (C·k_h·k_w, F)
    y = np.empty(spec.output_shape, dtype=x_arr.dtype)
    for i in range(spec.out_height):
        for j in range(spec.out_width):
            rows, cols = _window(spec, i, j)
            patches = xp[:, :, rows, cols].reshape(spec.batch, -1)  # (N, C·k_h·k_w)
            y[:, :, i, j] = patches @ filters
    if b_arr is not None:
        y += b_arr[None, :, None, None]
    return y


def conv2d_backward_positionwise(
    dy: ArrayLike,
    x: ArrayLike,
    w: ArrayLike,
    stride: IntOrPair = 1,
    padding: Padding2D = 0,
    dilation: IntOrPair = 1,
) -> tuple[NDArray[Any], NDArray[Any], NDArray[Any]]:
    """Gradients with one loop over output positions and two matrix products each.

    At each position ``dW += dY[:, :, i, j]ᵀ · patches`` and the patches' gradient
    ``dY[:, :, i, j] · W`` is added back into the window it came from.
    """
    owner = "conv2d_backward_positionwise"
    x_arr, w_arr, _ = as_float_arrays(x, w, owner=owner)
    spec = conv_spec(x_arr.shape, w_arr.shape, stride, padding, dilation, owner=owner)
    grad = check_output_gradient(dy, spec, x_arr.dtype, owner)
    xp = _pad(x_arr, spec)
    dxp = np.zeros_like(xp)
    filters = w_arr.reshape(spec.filters, -1)  # (F, C·k_h·k_w)
    dw = np.zeros_like(filters)
    window_shape = (spec.batch, spec.in_channels, *spec.kernel)
    for i in range(spec.out_height):
        for j in range(spec.out_width):
            rows, cols = _window(spec, i, j)
            patches = xp[:, :, rows, cols].reshape(spec.batch, -1)
            dw += grad[:, :, i, j].T @ patches
            dxp[:, :, rows, cols] += (grad[:, :, i, j] @ filters).reshape(window_shape)
    (top, _), (left, _) = spec.padding
    dx = dxp[:, :, top : top + spec.height, left : left + spec.width].copy()
    return dx, dw.reshape(w_arr.shape), grad.sum(axis=(0, 2, 3))
