r"""Pooling: max, average and min over sliding windows, global pooling, concat pooling (chapter 4).

A pooling window has no weights: it summarises each ``k_h × k_w`` window of every channel
by one number. With stride ``s`` (the kernel size by default, so that windows tile the
image) and padding ``p``, the output size is the convolution's,
:math:`\lfloor (n + 2p - k)/s \rfloor + 1`.

.. math:: Y_\text{max}[n, c, i, j] = \max_{m, l} X_p[n, c, i s_h + m, j s_w + l], \qquad
          Y_\text{avg}[n, c, i, j] = \frac{1}{k_h k_w} \sum_{m, l} X_p[n, c, i s_h + m, j s_w + l].

**How it is computed.** Each window tap ``(m, l)`` is one strided slice of the input, so a
pooling is ``k_h·k_w`` element-wise operations on output-sized arrays (``np.maximum``,
``np.add``) — never a reduction along a short axis of a reshaped copy, which is several
times slower. When the windows tile the image (stride = kernel, no padding, the kernel
divides the image, as in 2×2 max pooling of an even-sized map), max and min pooling first
copy the taps side by side, so that those operations, and the search for each window's
winner, run on contiguous arrays: about 1.7× faster at LeNet's sizes.

**Padding** is ``−∞`` for max pooling and ``+∞`` for min pooling (it never wins), and
zeros for average pooling, counted in the average (PyTorch's ``count_include_pad=True``).
As in PyTorch, padding may be at most half the kernel, so that no window is all padding.

**Backward.** Average pooling spreads ``dY / (k_h k_w)`` evenly over each window. Max (and
min) pooling routes each window's gradient to the element that won; when several elements
tie, it goes to the **first in row-major order** within the window (top row first, then
left to right), exactly as PyTorch does. A NaN counts as the maximum; in a window with
several NaNs the gradient goes to the last one (PyTorch's scan replaces its maximum at
every NaN it meets). With
overlapping windows (e.g. 3×3, stride 2) an element that wins several windows receives
the sum of their gradients.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from cnnlib._validation import cache_plain_calls, int_pair
from cnnlib.geometry import IntOrPair, conv_output_size

__all__ = [
    "PoolSpec",
    "avg_pool2d",
    "avg_pool2d_backward",
    "concat_pool2d",
    "concat_pool2d_backward",
    "global_avg_pool2d",
    "global_avg_pool2d_backward",
    "global_max_pool2d",
    "global_max_pool2d_backward",
    "max_pool2d",
    "max_pool2d_backward",
    "max_pool2d_with_argmax",
    "min_pool2d",
    "min_pool2d_backward",
    "pool2d_with_winners",
    "pool_spec",
    "route_to_winners",
    "spread_to_windows",
]


@dataclass(frozen=True)
class PoolSpec:
    """Sizes of one pooling: input ``(N, C, H, W)``, window, stride, padding and output."""

    input_shape: tuple[int, int, int, int]
    kernel: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[int, int]
    output_shape: tuple[int, int, int, int]

    @functools.cached_property
    def taps(self) -> tuple[tuple[int, int, slice, slice, slice, slice], ...]:
        """Each window tap with the outputs it reaches inside the image and what it reads.

        ``(m, l, out_rows, out_cols, in_rows, in_cols)`` per tap, in row-major order. Tap
        ``m`` of output row ``i`` reads input row ``i·s − p + m``; outputs for which that
        row is padding are skipped, so no padded copy of the input is ever made.
        """
        (_, _, height, width), (_, _, out_h, out_w) = self.input_shape, self.output_shape
        rows = [
            _axis(m, self.padding[0], self.stride[0], height, out_h) for m in range(self.kernel[0])
        ]
        cols = [
            _axis(l, self.padding[1], self.stride[1], width, out_w) for l in range(self.kernel[1])
        ]
        return tuple(
            (m, l, out_rows, out_cols, in_rows, in_cols)
            for m, (out_rows, in_rows) in enumerate(rows)
            for l, (out_cols, in_cols) in enumerate(cols)
        )


def _axis(tap: int, pad: int, step: int, size: int, outputs: int) -> tuple[slice, slice]:
    """Outputs ``i`` whose input ``i·step − pad + tap`` lies in ``[0, size)``, and the inputs."""
    first = max(0, -(-(pad - tap) // step))
    last = min(outputs - 1, (size - 1 - tap + pad) // step)
    if last < first:
        return slice(0, 0), slice(0, 0)
    start = first * step - pad + tap
    return slice(first, last + 1), slice(start, start + step * (last - first) + 1, step)


def _float_input(x: ArrayLike, owner: str) -> NDArray[Any]:
    array = np.asarray(x)
    if array.dtype.kind != "f":
        raise TypeError(
            f"{owner}: x has dtype {array.dtype}; expected float32 or float64 "
            f"(convert it with x.astype(np.float32))"
        )
    if array.ndim != 4:
        raise ValueError(
            f"{owner}: x must be a 4-D array (N, C, H, W), got {array.ndim}-D with shape "
            f"{array.shape}"
        )
    if array.size == 0:
        raise ValueError(f"{owner}: x is empty (shape {array.shape})")
    return array


@cache_plain_calls
def pool_spec(
    shape: tuple[int, ...],
    kernel_size: IntOrPair,
    stride: IntOrPair | None,
    padding: IntOrPair,
    owner: str,
) -> PoolSpec:
    """Check a pooling's hyper-parameters against an input shape and compute every size.

    Raises
    ------
    ValueError
        Padding larger than half the kernel, a window larger than the padded input (the
        message shows the output-size formula), or a stride below 1.

    Notes
    -----
    Results for plain arguments (ints, tuples) are cached, with their :attr:`PoolSpec.taps`
    (see ``cnnlib._validation.cache_plain_calls``).
    """
    kh, kw = int_pair(kernel_size, "kernel_size", owner=owner, minimum=1)
    sh, sw = (kh, kw) if stride is None else int_pair(stride, "stride", owner=owner, minimum=1)
    ph, pw = int_pair(padding, "padding", owner=owner, minimum=0)
    if 2 * ph > kh or 2 * pw > kw:
        raise ValueError(
            f"{owner}: padding {(ph, pw)} is more than half the kernel {(kh, kw)}; a window "
            "could then hold nothing but padding (PyTorch refuses it too)"
        )
    n, c, h, w = shape
    sizes = []
    for axis, size, k, s, p in (("height", h, kh, sh, ph), ("width", w, kw, sw, pw)):
        context = f"{owner}: input {tuple(shape)} along the {axis}"
        sizes.append(conv_output_size(size, k, s, p, owner=context))
    return PoolSpec((n, c, h, w), (kh, kw), (sh, sw), (ph, pw), (n, c, sizes[0], sizes[1]))


#: The element-wise extreme of each kind of pooling, and what padding holds (it never wins).
#: ``maximum``/``minimum`` propagate NaN, as PyTorch does (``fmax``/``fmin`` would drop it).
_EXTREMES: dict[str, tuple[Callable[..., Any], float]] = {
    "max": (np.maximum, -np.inf),
    "min": (np.minimum, np.inf),
}


def _extreme_pool(
    x: ArrayLike,
    kernel_size: IntOrPair,
    stride: IntOrPair | None,
    padding: IntOrPair,
    kind: str,
    owner: str,
) -> tuple[NDArray[Any], NDArray[Any], PoolSpec, NDArray[Any] | None]:
    """Max or min pooling (``kind``); errors name ``owner``.

    Returns the checked input, the output, the sizes, and for windows that tile the image
    the taps :func:`_tiled_taps` gathered (``None`` otherwise).
    """
    array = _float_input(x, owner)
    spec = pool_spec(array.shape, kernel_size, stride, padding, owner)
    extreme, fill = _EXTREMES[kind]
    taps = _tiled_taps(array, spec)
    if taps is not None:
        out = extreme(taps[0], taps[1]) if len(taps) > 1 else taps[0].copy()
        for tap in taps[2:]:
            extreme(out, tap, out=out)
        return array, out.reshape(spec.output_shape), spec, taps
    out = np.full(spec.output_shape, fill, dtype=array.dtype)  # padding never wins
    for _, _, out_rows, out_cols, in_rows, in_cols in spec.taps:
        target = out[:, :, out_rows, out_cols]
        extreme(target, array[:, :, in_rows, in_cols], out=target)
    return array, out, spec, None


def _tiles(spec: PoolSpec) -> bool:
    """Whether the windows tile the image: each pixel is in exactly one window."""
    (_, _, height, width), (kh, kw) = spec.input_shape, spec.kernel
    return spec.stride == spec.kernel and spec.padding == (0, 0) and not height % kh + width % kw


def _tiled_taps(array: NDArray[Any], spec: PoolSpec) -> NDArray[Any] | None:
    """The windows' values tap by tap, ``(k_h·k_w, N·C·H_out·W_out)``, if they tile the image.

    Windows tile the image when the stride is the kernel, there is no padding and the
    kernel divides the image (2×2 pooling of an even-sized map). One copy then puts each
    tap's values side by side, and the reductions that follow run on contiguous arrays:
    element-wise operations on strided views are several times slower.
    ``None`` for other geometries.
    """
    if not _tiles(spec):
        return None
    (n, c, height, width), (kh, kw) = spec.input_shape, spec.kernel
    out_h, out_w = height // kh, width // kw
    # splitting axes is a view whatever the input's memory order (a convolution's output
    # is channels-first in memory): no copy before the one that lines the taps up
    windows = array.reshape(n, c, out_h, kh, out_w, kw).transpose(3, 5, 0, 1, 2, 4)
    taps = np.empty((kh, kw, n, c, out_h, out_w), dtype=array.dtype)
    np.copyto(taps, windows)
    return taps.reshape(kh * kw, -1)


def _winning_taps(
    array: NDArray[Any],
    out: NDArray[Any],
    spec: PoolSpec,
    taps: NDArray[Any] | None = None,
) -> NDArray[np.unsignedinteger[Any]]:
    """The tap ``m·k_w + l`` that won each window of ``out``, the max or min pooling of ``array``.

    The winner is the first tap, in row-major order, that equals the extreme: PyTorch's
    rule for ties. Found with boolean arithmetic, without data-dependent branches, which
    random masks make slow. ``taps``, from :func:`_tiled_taps`, makes it faster.
    """
    kw = spec.kernel[1]
    index_type = np.uint8 if spec.kernel[0] * kw < 256 else np.uint16
    if taps is not None and not np.isnan(out).any():
        return _first_hits(taps, out.reshape(-1), index_type).reshape(spec.output_shape)
    index = np.zeros(spec.output_shape, dtype=index_type)
    taken = np.zeros(spec.output_shape, dtype=bool)
    windows = list(spec.taps)
    for m, l, out_rows, out_cols, in_rows, in_cols in windows:
        hit = array[:, :, in_rows, in_cols] == out[:, :, out_rows, out_cols]
        free = taken[:, :, out_rows, out_cols]
        hit &= ~free
        free |= hit
        index[:, :, out_rows, out_cols] += hit.view(np.uint8).astype(index_type) * index_type(
            m * kw + l
        )
    if not taken.all():  # only NaN windows are left: PyTorch picks their last NaN
        for m, l, out_rows, out_cols, in_rows, in_cols in windows:
            latest = np.isnan(array[:, :, in_rows, in_cols]) & ~taken[:, :, out_rows, out_cols]
            np.copyto(index[:, :, out_rows, out_cols], index_type(m * kw + l), where=latest)
    return index


def _first_hits(
    taps: NDArray[Any], out: NDArray[Any], index_type: type[np.unsignedinteger[Any]]
) -> NDArray[np.unsignedinteger[Any]]:
    """Per window, the first tap equal to ``out``: the number of taps before it that are not.

    ``taps`` is ``(taps, windows)`` and every window has a tap equal to its ``out`` (no NaN).
    """
    missed = taps[0] != out  # no hit yet, after each tap
    index: NDArray[np.unsignedinteger[Any]] = missed.astype(index_type)
    for tap in taps[1:-1]:
        missed &= tap != out
        index += missed
    return index


def route_to_winners(
    dy: ArrayLike,
    index: NDArray[np.unsignedinteger[Any]],
    spec: PoolSpec,
    owner: str = "route_to_winners",
) -> NDArray[Any]:
    """Send each window's gradient to its winning tap (from :func:`pool2d_with_winners`).

    ``index`` holds, per output, the tap ``m·k_w + l`` that won its window; ``spec`` is
    the :class:`PoolSpec` of the forward pass (:func:`pool_spec`). Padding is cropped.

    When windows do not overlap, each tap's share is written straight into place;
    otherwise the shares are added. A share is ``dY`` times the 0/1 mask of its tap, which
    is exact for finite values; with NaN or infinity in ``dY`` (where ``0·∞`` would be NaN)
    it is selected with ``np.where`` instead. Pixels that only padding windows reach, and
    pixels no window reaches, get zero.
    """
    grad = _check_gradient(dy, spec, owner)
    kh, kw = spec.kernel
    finite = bool(np.isfinite(grad).all())
    disjoint = spec.stride[0] >= kh and spec.stride[1] >= kw
    tiled = _tiles(spec)  # every pixel gets exactly one share: nothing to clear first
    dx = (np.empty if tiled else np.zeros)(spec.input_shape, dtype=grad.dtype)
    for m, l, out_rows, out_cols, in_rows, in_cols in spec.taps:
        values = grad[:, :, out_rows, out_cols]
        mask = index[:, :, out_rows, out_cols] == index.dtype.type(m * kw + l)
        target = dx[:, :, in_rows, in_cols]
        if finite and disjoint:
            np.multiply(values, mask, out=target)
        elif finite:
            target += values * mask
        elif tiled:
            np.copyto(target, np.where(mask, values, 0))
        else:
            target += np.where(mask, values, 0)
    return dx


def _check_gradient(dy: ArrayLike, spec: PoolSpec, owner: str) -> NDArray[Any]:
    grad = np.asarray(dy)
    if grad.shape != spec.output_shape:
        raise ValueError(
            f"{owner}: dy has shape {grad.shape}, expected the output shape "
            f"(N, C, H_out, W_out) = {spec.output_shape}"
        )
    if grad.dtype.kind != "f":
        raise TypeError(f"{owner}: dy has dtype {grad.dtype}; expected floating point")
    return grad


def pool2d_with_winners(
    x: ArrayLike,
    kernel_size: IntOrPair,
    stride: IntOrPair | None = None,
    padding: IntOrPair = 0,
    kind: str = "max",
) -> tuple[NDArray[Any], NDArray[np.unsignedinteger[Any]], PoolSpec]:
    """Max or min pooling with, per output, its window's winning tap and the sizes used.

    Everything a backward pass needs: give the taps and the :class:`PoolSpec` to
    :func:`route_to_winners`, and the windows are not searched again.

    Parameters
    ----------
    x, kernel_size, stride, padding
        As in :func:`max_pool2d`.
    kind
        ``"max"`` or ``"min"``.

    Returns
    -------
    tuple
        ``(y, taps, spec)``: the pooled batch, the winning tap ``m·k_w + l`` of each window
        (the first extreme in row-major order) and the pooling's sizes.
    """
    if kind not in _EXTREMES:
        raise ValueError(f"pool2d_with_winners: kind must be 'max' or 'min', got {kind!r}")
    return _with_winners(x, kernel_size, stride, padding, kind, "pool2d_with_winners")


def _with_winners(
    x: ArrayLike,
    kernel_size: IntOrPair,
    stride: IntOrPair | None,
    padding: IntOrPair,
    kind: str,
    owner: str,
) -> tuple[NDArray[Any], NDArray[np.unsignedinteger[Any]], PoolSpec]:
    """:func:`pool2d_with_winners` whose errors name ``owner``, the public caller."""
    array, y, spec, taps = _extreme_pool(x, kernel_size, stride, padding, kind, owner)
    return y, _winning_taps(array, y, spec, taps), spec


def max_pool2d_with_argmax(
    x: ArrayLike,
    kernel_size: IntOrPair,
    stride: IntOrPair | None = None,
    padding: IntOrPair = 0,
) -> tuple[NDArray[Any], NDArray[np.unsignedinteger[Any]]]:
    """Max pooling and, per output, the winning tap ``m·k_w + l`` of its window.

    :func:`pool2d_with_winners` also returns the sizes, for :func:`route_to_winners`.
    """
    y, index, _ = _with_winners(x, kernel_size, stride, padding, "max", "max_pool2d")
    return y, index


def max_pool2d(
    x: ArrayLike,
    kernel_size: IntOrPair,
    stride: IntOrPair | None = None,
    padding: IntOrPair = 0,
) -> NDArray[Any]:
    """Max pooling of a batch ``(N, C, H, W)``; ``stride`` defaults to the kernel size.

    Examples
    --------
    >>> x = np.array([[1., 3, 2, 4], [5, 6, 1, 2], [7, 0, 9, 8], [1, 2, 3, 4]])[None, None]
    >>> max_pool2d(x, 2)[0, 0]
    array([[6., 4.],
           [7., 9.]])
    """
    return _extreme_pool(x, kernel_size, stride, padding, "max", "max_pool2d")[1]


def max_pool2d_backward(
    dy: ArrayLike,
    x: ArrayLike,
    kernel_size: IntOrPair,
    stride: IntOrPair | None = None,
    padding: IntOrPair = 0,
) -> NDArray[Any]:
    """Gradient of :func:`max_pool2d`: each window's ``dY`` goes to its maximum.

    Ties go to the first maximum in row-major order within the window, as in PyTorch; an
    element that is the maximum of several (overlapping) windows receives the sum.
    """
    owner = "max_pool2d_backward"
    _, index, spec = _with_winners(x, kernel_size, stride, padding, "max", owner)
    return route_to_winners(dy, index, spec, owner)


def min_pool2d(
    x: ArrayLike,
    kernel_size: IntOrPair,
    stride: IntOrPair | None = None,
    padding: IntOrPair = 0,
) -> NDArray[Any]:
    """Min pooling of a batch ``(N, C, H, W)``; ``stride`` defaults to the kernel size."""
    return _extreme_pool(x, kernel_size, stride, padding, "min", "min_pool2d")[1]


def min_pool2d_backward(
    dy: ArrayLike,
    x: ArrayLike,
    kernel_size: IntOrPair,
    stride: IntOrPair | None = None,
    padding: IntOrPair = 0,
) -> NDArray[Any]:
    """Gradient of :func:`min_pool2d`: each window's ``dY`` goes to its (first) minimum."""
    owner = "min_pool2d_backward"
    _, index, spec = _with_winners(x, kernel_size, stride, padding, "min", owner)
    return route_to_winners(dy, index, spec, owner)


def avg_pool2d(
    x: ArrayLike,
    kernel_size: IntOrPair,
    stride: IntOrPair | None = None,
    padding: IntOrPair = 0,
) -> NDArray[Any]:
    """Average pooling of a batch ``(N, C, H, W)``; zero padding counts in the average.

    Examples
    --------
    >>> x = np.array([[1., 3, 2, 4], [5, 6, 1, 2], [7, 0, 9, 8], [1, 2, 3, 4]])[None, None]
    >>> avg_pool2d(x, 2)[0, 0]
    array([[3.75, 2.25],
           [2.5 , 6.  ]])
    """
    array = _float_input(x, "avg_pool2d")
    spec = pool_spec(array.shape, kernel_size, stride, padding, "avg_pool2d")
    out = np.zeros(spec.output_shape, dtype=array.dtype)  # zero padding adds nothing
    for _, _, out_rows, out_cols, in_rows, in_cols in spec.taps:
        out[:, :, out_rows, out_cols] += array[:, :, in_rows, in_cols]
    out /= array.dtype.type(spec.kernel[0] * spec.kernel[1])
    return out


def avg_pool2d_backward(
    dy: ArrayLike,
    x: ArrayLike,
    kernel_size: IntOrPair,
    stride: IntOrPair | None = None,
    padding: IntOrPair = 0,
) -> NDArray[Any]:
    """Gradient of :func:`avg_pool2d`: ``dY / (k_h k_w)`` added to every element of its window."""
    owner = "avg_pool2d_backward"
    array = _float_input(x, owner)
    spec = pool_spec(array.shape, kernel_size, stride, padding, owner)
    return spread_to_windows(dy, spec, owner)


def spread_to_windows(
    dy: ArrayLike, spec: PoolSpec, owner: str = "spread_to_windows"
) -> NDArray[Any]:
    """Average pooling's backward pass from its sizes alone (a :class:`PoolSpec`).

    ``dY / (k_h k_w)`` is added to every element of each window: overlaps add up, and
    padding is cropped.
    """
    grad = _check_gradient(dy, spec, owner)
    share = grad / grad.dtype.type(spec.kernel[0] * spec.kernel[1])
    dx = np.zeros(spec.input_shape, dtype=grad.dtype)
    for _, _, out_rows, out_cols, in_rows, in_cols in spec.taps:
        dx[:, :, in_rows, in_cols] += share[:, :, out_rows, out_cols]
    return dx


def concat_pool2d(
    x: ArrayLike,
    kernel_size: IntOrPair,
    stride: IntOrPair | None = None,
    padding: IntOrPair = 0,
) -> NDArray[Any]:
    """Max pooling and average pooling side by side on the channel axis: ``(N, 2C, H_out, W_out)``.

    The first ``C`` channels are the maxima (the strongest signal), the last ``C`` the
    averages (the background), as in the ``ConcatPool2d`` of the sources.
    """
    return np.concatenate(
        [max_pool2d(x, kernel_size, stride, padding), avg_pool2d(x, kernel_size, stride, padding)],
        axis=1,
    )


def concat_pool2d_backward(
    dy: ArrayLike,
    x: ArrayLike,
    kernel_size: IntOrPair,
    stride: IntOrPair | None = None,
    padding: IntOrPair = 0,
) -> NDArray[Any]:
    """Gradient of :func:`concat_pool2d`: the sum of the max and the average parts' gradients."""
    grad = np.asarray(dy)
    channels = np.asarray(x).shape[1] if np.ndim(x) == 4 else 0
    if grad.ndim != 4 or grad.shape[1] != 2 * channels:
        raise ValueError(
            f"concat_pool2d_backward: dy must have 2C = {2 * channels} channels "
            f"(max, then average), got shape {grad.shape}"
        )
    dx: NDArray[Any] = max_pool2d_backward(grad[:, :channels], x, kernel_size, stride, padding)
    dx += avg_pool2d_backward(grad[:, channels:], x, kernel_size, stride, padding)
    return dx


def global_avg_pool2d(x: ArrayLike) -> NDArray[Any]:
    """The average of each channel over all positions: ``(N, C, H, W) → (N, C)``."""
    array = _float_input(x, "global_avg_pool2d")
    mean: NDArray[Any] = array.mean(axis=(2, 3))
    return mean


def global_avg_pool2d_backward(dy: ArrayLike, x: ArrayLike) -> NDArray[Any]:
    """Gradient of :func:`global_avg_pool2d`: ``dY / (H·W)`` at every position."""
    array = _float_input(x, "global_avg_pool2d_backward")
    grad = np.asarray(dy)
    n, c, h, w = array.shape
    if grad.shape != (n, c):
        raise ValueError(
            f"global_avg_pool2d_backward: dy has shape {grad.shape}, expected (N, C) = {(n, c)}"
        )
    share = grad * grad.dtype.type(1.0 / (h * w))
    return np.ascontiguousarray(np.broadcast_to(share[:, :, None, None], array.shape))


def _global_argmax(array: NDArray[Any]) -> NDArray[np.intp]:
    """The first maximum of each channel in row-major order, or its last NaN (as PyTorch)."""
    flat = array.reshape(array.shape[0], array.shape[1], -1)
    index = np.argmax(flat, axis=2)  # argmax stops at the first NaN
    nans = np.isnan(flat)
    if nans.any():
        last_nan = flat.shape[2] - 1 - np.argmax(nans[:, :, ::-1], axis=2)
        index = np.where(nans.any(axis=2), last_nan, index)
    return np.asarray(index, dtype=np.intp)


def global_max_pool2d(x: ArrayLike) -> NDArray[Any]:
    """The maximum of each channel over all positions: ``(N, C, H, W) → (N, C)``."""
    array = _float_input(x, "global_max_pool2d")
    flat = array.reshape(array.shape[0], array.shape[1], -1)
    return np.take_along_axis(flat, _global_argmax(array)[:, :, None], axis=2)[:, :, 0]


def global_max_pool2d_backward(dy: ArrayLike, x: ArrayLike) -> NDArray[Any]:
    """Gradient of :func:`global_max_pool2d`: ``dY`` at the first maximum of each channel."""
    array = _float_input(x, "global_max_pool2d_backward")
    grad = np.asarray(dy)
    n, c = array.shape[:2]
    if grad.shape != (n, c):
        raise ValueError(
            f"global_max_pool2d_backward: dy has shape {grad.shape}, expected (N, C) = {(n, c)}"
        )
    dx = np.zeros((n, c, array.shape[2] * array.shape[3]), dtype=grad.dtype)
    np.put_along_axis(dx, _global_argmax(array)[:, :, None], grad[:, :, None], axis=2)
    return dx.reshape(array.shape)
