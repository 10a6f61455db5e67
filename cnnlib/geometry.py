r"""Sizes and counts of convolutional layers.

Derived in chapter 1 ("Convolution") of the book. Everything here is integer arithmetic
on shapes; no arrays are touched. One axis is described by

* ``n`` — the input length (height or width),
* ``k`` — the kernel size, ``d`` — the dilation, so the kernel spans ``d·(k − 1) + 1`` pixels,
* ``s`` — the stride,
* ``p`` — the zero padding, either the same on both sides or a pair ``(before, after)``.

The output length is

.. math:: n_\text{out} = \left\lfloor \frac{n + p_\text{before} + p_\text{after}
          - d\,(k - 1) - 1}{s} \right\rfloor + 1,

which is the familiar :math:`\lfloor (n + 2p - k)/s \rfloor + 1` when ``d = 1`` and the
padding is symmetric.

Padding modes
-------------
``"valid"``
    no padding.
``"full"``
    ``d·(k − 1)`` zeros on each side: every window that overlaps the input by at least one
    pixel is computed (the mode backpropagation uses).
``"same"``
    the output has ``ceil(n / s)`` pixels — the input size when ``s = 1``. The total padding
    ``max((n_out − 1)·s + d·(k − 1) + 1 − n, 0)`` is split with the smaller half *before*
    (top/left), as TensorFlow/Keras and PyTorch do. For an odd kernel and ``s = 1`` both
    halves are ``(k − 1)/2``; for an even kernel the extra pixel goes after.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal, NamedTuple, TypeAlias

import numpy as np

from cnnlib._validation import check_int, int_pair

__all__ = [
    "PADDING_MODES",
    "FieldOfView",
    "conv_output_shape",
    "conv_output_size",
    "conv_params",
    "dense_params",
    "effective_kernel_size",
    "excluded_pixels",
    "full_padding",
    "locally_connected_params",
    "memory_bytes",
    "receptive_field",
    "receptive_fields",
    "resolve_padding",
    "resolve_padding2d",
    "same_padding",
]

PaddingMode: TypeAlias = Literal["valid", "same", "full"]
PADDING_MODES: tuple[PaddingMode, ...] = ("valid", "same", "full")

#: Padding of one axis: a mode, the same amount on both sides, or ``(before, after)``.
Padding1D: TypeAlias = int | tuple[int, int] | str
#: Padding of an image: a mode, one int for everything, ``(pad_h, pad_w)`` applied on both
#: sides of each axis, or explicit ``((top, bottom), (left, right))``.
Padding2D: TypeAlias = int | tuple[int, int] | tuple[tuple[int, int], tuple[int, int]] | str
#: A size that may differ between the axes: one int for both, or ``(height, width)``.
IntOrPair: TypeAlias = int | tuple[int, int]


def effective_kernel_size(kernel_size: int, dilation: int = 1) -> int:
    """Number of input pixels a dilated kernel spans along one axis: ``d·(k − 1) + 1``.

    Examples
    --------
    >>> effective_kernel_size(3, dilation=2)
    5
    """
    k = check_int(kernel_size, "kernel_size", owner="effective_kernel_size", minimum=1)
    d = check_int(dilation, "dilation", owner="effective_kernel_size", minimum=1)
    return d * (k - 1) + 1


def same_padding(n: int, kernel_size: int, stride: int = 1, dilation: int = 1) -> tuple[int, int]:
    """Padding ``(before, after)`` that gives ``ceil(n / stride)`` outputs.

    Parameters
    ----------
    n
        Input length.
    kernel_size, stride, dilation
        The layer's hyper-parameters along this axis.

    Returns
    -------
    tuple of int
        ``(before, after)`` with ``before = total // 2`` and
        ``total = max((ceil(n/s) − 1)·s + d·(k − 1) + 1 − n, 0)``.

    Examples
    --------
    >>> same_padding(5, 3)          # odd kernel: (k − 1)/2 on each side
    (1, 1)
    >>> same_padding(5, 2)          # even kernel: the extra zero goes after
    (0, 1)
    >>> same_padding(13, 6, stride=5)
    (1, 2)
    """
    owner = "same_padding"
    n = check_int(n, "n", owner=owner, minimum=1)
    s = check_int(stride, "stride", owner=owner, minimum=1)
    span = effective_kernel_size(kernel_size, dilation)
    n_out = -(-n // s)
    total = max((n_out - 1) * s + span - n, 0)
    return total // 2, total - total // 2


def full_padding(kernel_size: int, dilation: int = 1) -> tuple[int, int]:
    """Padding ``(before, after)`` of a "full" correlation: ``d·(k − 1)`` on each side.

    Examples
    --------
    >>> full_padding(3)
    (2, 2)
    """
    extra = effective_kernel_size(kernel_size, dilation) - 1
    return extra, extra


def resolve_padding(
    padding: Padding1D,
    n: int,
    kernel_size: int,
    stride: int = 1,
    dilation: int = 1,
    *,
    owner: str = "resolve_padding",
) -> tuple[int, int]:
    """Turn any accepted padding of one axis into explicit ``(before, after)``.

    Parameters
    ----------
    padding
        ``"valid"``, ``"same"``, ``"full"``, a non-negative int used on both sides, or a pair
        ``(before, after)``.
    n, kernel_size, stride, dilation
        The geometry, needed by ``"same"`` and ``"full"``.
    owner
        Name of the calling function, used in error messages.

    Raises
    ------
    ValueError
        For an unknown mode or negative padding.
    TypeError
        For anything that is not a string, an int or a pair of ints.
    """
    if isinstance(padding, str):
        if padding == "valid":
            return 0, 0
        if padding == "same":
            return same_padding(n, kernel_size, stride, dilation)
        if padding == "full":
            return full_padding(kernel_size, dilation)
        raise ValueError(
            f"{owner}: padding must be one of {', '.join(map(repr, PADDING_MODES))}, "
            f"an int or a pair (before, after); got {padding!r}"
        )
    if isinstance(padding, tuple | list):
        if len(padding) != 2:
            raise TypeError(f"{owner}: padding pair must be (before, after), got {padding!r}")
        return (
            check_int(padding[0], "padding before", owner=owner, minimum=0),
            check_int(padding[1], "padding after", owner=owner, minimum=0),
        )
    p = check_int(padding, "padding", owner=owner, minimum=0)
    return p, p


def _output_formula(n: int, k: int, s: int, before: int, after: int, d: int) -> str:
    """The output-size formula with the numbers filled in, for error messages."""
    pad = f"2·{before}" if before == after else f"{before} + {after}"
    value = (n + before + after - d * (k - 1) - 1) // s + 1
    return (
        f"n_out = ⌊(n + 2p − d·(k − 1) − 1) / s⌋ + 1 "
        f"= ⌊({n} + {pad} − {d}·({k} − 1) − 1) / {s}⌋ + 1 = {value}"
    )


def conv_output_size(
    n: int,
    kernel_size: int,
    stride: int = 1,
    padding: Padding1D = 0,
    dilation: int = 1,
    *,
    owner: str = "conv_output_size",
) -> int:
    r"""Length of a convolution's output along one axis.

    .. math:: n_\text{out} = \lfloor (n + p_\text{before} + p_\text{after}
              - d(k - 1) - 1) / s \rfloor + 1

    When the division is not exact the floor drops the last ``excluded_pixels(...)`` input
    pixels: no window reaches them (the "floor problem").

    Parameters
    ----------
    n
        Input length (≥ 1).
    kernel_size
        Kernel length ``k`` (≥ 1).
    stride
        Step ``s`` between windows (≥ 1).
    padding
        ``"valid"``, ``"same"``, ``"full"``, an int (both sides) or ``(before, after)``.
    dilation
        Gap factor ``d`` between kernel taps (≥ 1; 1 is an ordinary kernel).
    owner
        How error messages begin: a caller computing one axis of a larger shape names itself
        and what it was computing.

    Returns
    -------
    int
        The output length (≥ 1).

    Raises
    ------
    ValueError
        If the dilated kernel is longer than the padded input, or if a hyper-parameter is out
        of range; the message shows the formula with the numbers filled in.

    Examples
    --------
    >>> conv_output_size(7, 3, stride=2)
    3
    >>> conv_output_size(32, 5, padding=2)
    32
    >>> conv_output_size(227, 11, stride=4)
    55
    """
    n = check_int(n, "input size n", owner=owner, minimum=1)
    k = check_int(kernel_size, "kernel_size", owner=owner, minimum=1)
    s = check_int(stride, "stride", owner=owner, minimum=1)
    d = check_int(dilation, "dilation", owner=owner, minimum=1)
    before, after = resolve_padding(padding, n, k, s, d, owner=owner)
    span = d * (k - 1) + 1
    if span > n + before + after:
        what = f"kernel_size={k}" if d == 1 else f"kernel_size={k} with dilation={d}"
        raise ValueError(
            f"{owner}: impossible geometry — {what} spans {span} pixels but the padded input "
            f"has only n + p = {n} + {before + after} = {n + before + after}; "
            f"{_output_formula(n, k, s, before, after, d)} (an output needs at least 1 pixel). "
            "Use a smaller kernel or dilation, or more padding."
        )
    return (n + before + after - span) // s + 1


def excluded_pixels(
    n: int,
    kernel_size: int,
    stride: int = 1,
    padding: Padding1D = 0,
    dilation: int = 1,
) -> int:
    """Pixels at the end of the padded input that no window covers.

    They are ``(n + p_before + p_after − d·(k − 1) − 1) mod s``: the remainder the floor in
    :func:`conv_output_size` throws away. Backpropagation must give them a zero gradient.

    Examples
    --------
    >>> excluded_pixels(10, 3, stride=2)     # a 10-pixel row, 3-tap kernel, stride 2
    1
    >>> excluded_pixels(7, 3, stride=5)
    4
    """
    conv_output_size(n, kernel_size, stride, padding, dilation)  # validates everything
    before, after = resolve_padding(padding, n, kernel_size, stride, dilation)
    return (n + before + after - effective_kernel_size(kernel_size, dilation)) % stride


def resolve_padding2d(
    padding: Padding2D,
    size: tuple[int, int],
    kernel_size: IntOrPair,
    stride: IntOrPair = 1,
    dilation: IntOrPair = 1,
    *,
    owner: str = "resolve_padding2d",
) -> tuple[tuple[int, int], tuple[int, int]]:
    """Explicit ``((top, bottom), (left, right))`` padding of an image.

    Parameters
    ----------
    padding
        A mode (``"valid"``, ``"same"``, ``"full"``), one int for all four sides,
        ``(pad_h, pad_w)`` (each used on both sides of its axis, as in PyTorch) or
        ``((top, bottom), (left, right))``.
    size
        ``(H, W)`` of the input.
    kernel_size, stride, dilation
        An int for both axes or a pair ``(height, width)``.
    owner
        Name of the calling function, used in error messages.
    """
    kh, kw = int_pair(kernel_size, "kernel_size", owner=owner, minimum=1)
    sh, sw = int_pair(stride, "stride", owner=owner, minimum=1)
    dh, dw = int_pair(dilation, "dilation", owner=owner, minimum=1)
    h, w = size
    pad_h: Padding1D
    pad_w: Padding1D
    if isinstance(padding, tuple | list) and not isinstance(padding, str):
        if len(padding) != 2:
            raise TypeError(
                f"{owner}: padding must be an int, a mode, (pad_h, pad_w) or "
                f"((top, bottom), (left, right)); got {padding!r}"
            )
        pad_h, pad_w = padding[0], padding[1]
        if isinstance(pad_h, tuple | list) != isinstance(pad_w, tuple | list):
            raise TypeError(
                f"{owner}: mixed padding {padding!r}; use (pad_h, pad_w) or "
                "((top, bottom), (left, right))"
            )
    else:
        pad_h = pad_w = padding
    return (
        resolve_padding(pad_h, h, kh, sh, dh, owner=f"{owner} (height)"),
        resolve_padding(pad_w, w, kw, sw, dw, owner=f"{owner} (width)"),
    )


def conv_output_shape(
    input_shape: tuple[int, int, int],
    filters: int,
    kernel_size: IntOrPair,
    stride: IntOrPair = 1,
    padding: Padding2D = 0,
    dilation: IntOrPair = 1,
) -> tuple[int, int, int]:
    """Output shape ``(F, H_out, W_out)`` of a convolution layer on a ``(C, H, W)`` volume.

    The depth of the output is the number of filters, whatever the input depth: each
    filter spans all ``C`` input channels and produces one feature map.

    Examples
    --------
    >>> conv_output_shape((3, 32, 32), filters=10, kernel_size=5, padding=2)
    (10, 32, 32)
    """
    owner = "conv_output_shape"
    if len(input_shape) != 3:
        raise ValueError(f"{owner}: input_shape must be (C, H, W), got {input_shape!r}")
    check_int(input_shape[0], "input channels C", owner=owner, minimum=1)
    f = check_int(filters, "filters", owner=owner, minimum=1)
    h, w = input_shape[1], input_shape[2]
    (top, bottom), (left, right) = resolve_padding2d(
        padding, (h, w), kernel_size, stride, dilation, owner=owner
    )
    kh, kw = int_pair(kernel_size, "kernel_size", owner=owner, minimum=1)
    sh, sw = int_pair(stride, "stride", owner=owner, minimum=1)
    dh, dw = int_pair(dilation, "dilation", owner=owner, minimum=1)
    return (
        f,
        conv_output_size(h, kh, sh, (top, bottom), dh, owner=f"{owner} (height)"),
        conv_output_size(w, kw, sw, (left, right), dw, owner=f"{owner} (width)"),
    )


def conv_params(kernel_size: IntOrPair, in_channels: int, filters: int, bias: bool = True) -> int:
    """Learnable parameters of a convolution layer: ``(k_h·k_w·C_in + 1)·F`` with bias.

    Every filter has one weight per kernel position *and* input channel, plus one bias;
    the weights are shared by all output positions.

    Examples
    --------
    >>> conv_params(5, in_channels=3, filters=10)
    760
    >>> conv_params(11, in_channels=3, filters=96)
    34944
    """
    owner = "conv_params"
    kh, kw = int_pair(kernel_size, "kernel_size", owner=owner, minimum=1)
    c = check_int(in_channels, "in_channels", owner=owner, minimum=1)
    f = check_int(filters, "filters", owner=owner, minimum=1)
    return (kh * kw * c + int(bool(bias))) * f


def locally_connected_params(
    output_size: IntOrPair,
    kernel_size: IntOrPair,
    in_channels: int,
    filters: int,
    bias: bool = True,
) -> int:
    """Parameters of a locally connected layer: a conv layer *without* weight sharing.

    Each of the ``H_out·W_out`` positions has its own filters, so the count is the
    convolution's count multiplied by the number of output positions.

    Examples
    --------
    >>> locally_connected_params(55, 11, in_channels=3, filters=96)
    105705600
    """
    owner = "locally_connected_params"
    ho, wo = int_pair(output_size, "output_size", owner=owner, minimum=1)
    return ho * wo * conv_params(kernel_size, in_channels, filters, bias)


def dense_params(in_features: int, out_features: int, bias: bool = True) -> int:
    """Parameters of a dense (fully connected) layer: ``(in + 1)·out`` with bias.

    Examples
    --------
    >>> dense_params(200 * 200 * 3, 1)     # one neuron looking at a 200×200 RGB image
    120001
    """
    owner = "dense_params"
    i = check_int(in_features, "in_features", owner=owner, minimum=1)
    o = check_int(out_features, "out_features", owner=owner, minimum=1)
    return (i + int(bool(bias))) * o


def memory_bytes(shape: Sequence[int] | int, dtype: str | np.dtype[np.generic] = "float32") -> int:
    """Bytes needed to store an array of ``shape`` (or that many values) in ``dtype``.

    Examples
    --------
    >>> memory_bytes((3, 224, 224, 64))       # three 224×224×64 float32 volumes
    38535168
    """
    owner = "memory_bytes"
    if isinstance(shape, int | np.integer):
        count = check_int(shape, "count", owner=owner, minimum=0)
    else:
        count = math.prod(check_int(n, "shape entry", owner=owner, minimum=0) for n in shape)
    return count * np.dtype(dtype).itemsize


def _kernel_stride_dilation(layer: Sequence[int], index: int, owner: str) -> tuple[int, int, int]:
    """``(kernel_size, stride, dilation)`` of one layer given as a pair or a triple."""
    if len(layer) not in (2, 3):
        raise ValueError(
            f"{owner}: layer {index} must be (kernel_size, stride) or "
            f"(kernel_size, stride, dilation), got {tuple(layer)!r}"
        )
    k = check_int(layer[0], f"layer {index} kernel_size", owner=owner, minimum=1)
    s = check_int(layer[1], f"layer {index} stride", owner=owner, minimum=1)
    d = (
        check_int(layer[2], f"layer {index} dilation", owner=owner, minimum=1)
        if len(layer) == 3
        else 1
    )
    return k, s, d


def receptive_field(layers: Sequence[Sequence[int]]) -> int:
    r"""Receptive field, in input pixels along one axis, of a stack of layers.

    Each layer is ``(kernel_size, stride)`` or ``(kernel_size, stride, dilation)``. With
    ``j`` the distance in input pixels between neighbouring outputs of the layers so far,
    each layer adds ``d·(k − 1)·j`` pixels and multiplies ``j`` by its stride:

    .. math:: r_\ell = r_{\ell-1} + d_\ell (k_\ell - 1)\, j_{\ell-1},
              \qquad j_\ell = j_{\ell-1} s_\ell, \qquad r_0 = j_0 = 1.

    Examples
    --------
    >>> receptive_field([(3, 1), (3, 1), (3, 1)])    # three stacked 3×3 convs see 7×7
    7
    >>> receptive_field([(3, 1, 2), (3, 1, 2)])      # two 3×3 convs with dilation 2
    9
    """
    fields = _fields_of_view(layers, [0] * len(layers), "receptive_field")
    return fields[-1].size if fields else 1


class FieldOfView(NamedTuple):
    """What one output unit of a layer sees of the input, along one axis (chapter 7).

    Unit ``i`` is centred at ``start + i·jump`` and covers ``start + i·jump ± (size − 1)/2``.
    """

    #: The receptive field ``r``: how many consecutive input pixels can influence one
    #: output unit (including holes left by dilation).
    size: int
    #: ``j``: the distance, in input pixels, between the fields of neighbouring output
    #: units — the product of the strides so far.
    jump: int
    #: The centre of the first output unit's field, in input pixel coordinates (pixel 0 is
    #: the first real pixel; a negative or half-integer value means the field reaches into
    #: the padding or is centred between pixels).
    start: float


def receptive_fields(
    layers: Sequence[Sequence[int]], paddings: Sequence[int] | None = None
) -> list[FieldOfView]:
    r"""Receptive field, jump and centre after every layer of a stack, one axis (chapter 7).

    Each layer is ``(kernel_size, stride)`` or ``(kernel_size, stride, dilation)``, as for
    :func:`receptive_field`; ``paddings`` gives each layer's padding *before* (top or
    left), which moves the fields but does not change their size. With ``k' = d(k − 1) + 1``
    the span of the dilated kernel and ``p`` the padding before:

    .. math:: j_\ell = j_{\ell-1} s_\ell, \qquad
              r_\ell = r_{\ell-1} + (k'_\ell - 1)\, j_{\ell-1}, \qquad
              c_\ell = c_{\ell-1} + \Bigl(\frac{k'_\ell - 1}{2} - p_\ell\Bigr) j_{\ell-1},

    starting from the input itself: ``r_0 = j_0 = 1``, ``c_0 = 0``.

    Parameters
    ----------
    layers
        The layers in order, input side first.
    paddings
        One non-negative int per layer (default: no padding anywhere).

    Returns
    -------
    list of FieldOfView
        One entry per layer: ``(size, jump, start)`` of that layer's output units.

    Raises
    ------
    ValueError
        For a layer that is not a pair or a triple, a hyper-parameter out of range, or a
        ``paddings`` list of the wrong length.

    Examples
    --------
    >>> [f.size for f in receptive_fields([(3, 1)] * 3)]   # three 3×3 convolutions
    [3, 5, 7]
    >>> receptive_fields([(3, 1), (2, 2)], paddings=[1, 0])[-1]  # conv "same", then pool
    FieldOfView(size=4, jump=2, start=0.5)
    """
    owner = "receptive_fields"
    pads = [0] * len(layers) if paddings is None else list(paddings)
    if len(pads) != len(layers):
        raise ValueError(
            f"{owner}: give one padding per layer: {len(layers)} layers but {len(pads)} paddings"
        )
    return _fields_of_view(layers, pads, owner)


def _fields_of_view(
    layers: Sequence[Sequence[int]], pads: Sequence[int], owner: str
) -> list[FieldOfView]:
    """The recurrence of :func:`receptive_fields`, one padding per layer already paired."""
    fields: list[FieldOfView] = []
    size, jump, start = 1, 1, 0.0
    for index, (layer, pad) in enumerate(zip(layers, pads, strict=True)):
        k, s, d = _kernel_stride_dilation(layer, index, owner)
        p = check_int(pad, f"layer {index} padding", owner=owner, minimum=0)
        span = d * (k - 1) + 1
        start += ((span - 1) / 2 - p) * jump
        size += (span - 1) * jump
        jump *= s
        fields.append(FieldOfView(size, jump, start))
    return fields
