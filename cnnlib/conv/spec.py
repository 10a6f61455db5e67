"""The shape bookkeeping and argument checks shared by every convolution routine.

A :class:`ConvSpec` is computed once from the input and weight shapes and the
hyper-parameters; the naive loops, the fast path and the backward passes all read their
sizes from it, so they cannot disagree about the geometry.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from cnnlib._validation import cache_plain_calls, check_int, int_pair
from cnnlib.geometry import IntOrPair, Padding2D, conv_output_size, resolve_padding2d

__all__ = [
    "ConvSpec",
    "as_float_arrays",
    "check_output_gradient",
    "conv_spec",
    "images_per_chunk",
]


@dataclass(frozen=True)
class ConvSpec:
    """Sizes of one 2-D convolution, NCHW, weights ``(F, C / groups, k_h, k_w)``.

    Attributes
    ----------
    batch, in_channels, height, width
        ``N, C, H, W`` of the input.
    filters
        ``F``, the number of output channels.
    kernel, stride, dilation
        ``(height, width)`` pairs.
    padding
        ``((top, bottom), (left, right))``.
    groups
        Input and output channels are split into this many independent groups.
    out_height, out_width
        ``H_out, W_out``.
    """

    batch: int
    in_channels: int
    height: int
    width: int
    filters: int
    kernel: tuple[int, int]
    stride: tuple[int, int]
    dilation: tuple[int, int]
    padding: tuple[tuple[int, int], tuple[int, int]]
    groups: int
    out_height: int
    out_width: int

    @property
    def input_shape(self) -> tuple[int, int, int, int]:
        """``(N, C, H, W)``."""
        return self.batch, self.in_channels, self.height, self.width

    @property
    def weight_shape(self) -> tuple[int, int, int, int]:
        """``(F, C / groups, k_h, k_w)``."""
        return self.filters, self.in_channels // self.groups, *self.kernel

    @property
    def output_shape(self) -> tuple[int, int, int, int]:
        """``(N, F, H_out, W_out)``."""
        return self.batch, self.filters, self.out_height, self.out_width

    @property
    def padded_shape(self) -> tuple[int, int]:
        """``(H + top + bottom, W + left + right)``."""
        (top, bottom), (left, right) = self.padding
        return self.height + top + bottom, self.width + left + right

    @property
    def span(self) -> tuple[int, int]:
        """Pixels a dilated kernel covers, ``d·(k − 1) + 1`` per axis."""
        return tuple(d * (k - 1) + 1 for k, d in zip(self.kernel, self.dilation, strict=True))  # type: ignore[return-value]

    @property
    def flops(self) -> int:
        """Multiply-adds × 2 of the forward pass (the usual FLOP count of a convolution)."""
        per_output = (self.in_channels // self.groups) * self.kernel[0] * self.kernel[1]
        return 2 * self.batch * self.filters * self.out_height * self.out_width * per_output

    def chunks(self, images: int) -> list[tuple[int, int, ConvSpec]]:
        """The batch in chunks of ``images``: ``(first, last, spec of the chunk)`` each."""
        return [
            (
                first,
                min(self.batch, first + images),
                replace(self, batch=min(images, self.batch - first)),
            )
            for first in range(0, self.batch, images)
        ]


def images_per_chunk(batch: int, bytes_per_image: int, budget: int) -> int:
    """Images per chunk so that a chunk takes about ``budget`` bytes (at least one image).

    The chunks are made as equal as they can be — all of the returned size but the last —
    so that a buffer sized for the first one serves them all.
    """
    chunks = -(-batch // max(1, budget // bytes_per_image))
    return -(-batch // chunks)


def _shape_text(shape: tuple[int, ...]) -> str:
    return str(tuple(int(n) for n in shape))


@cache_plain_calls
def conv_spec(
    x_shape: tuple[int, ...],
    w_shape: tuple[int, ...],
    stride: IntOrPair = 1,
    padding: Padding2D = 0,
    dilation: IntOrPair = 1,
    groups: int = 1,
    *,
    owner: str = "conv2d",
) -> ConvSpec:
    """Check shapes and hyper-parameters and compute every size of the convolution.

    Raises
    ------
    ValueError
        Wrong number of dimensions, channel mismatch between ``x`` and ``w`` (both shapes
        named), groups that do not divide the channels, a stride or dilation below 1,
        negative padding, or a kernel larger than the padded input (with the formula).
    TypeError
        Hyper-parameters that are not integers (or pairs, or a padding mode).

    Notes
    -----
    A layer asks for the same spec at every batch: results for plain arguments (ints,
    tuples, strings) are cached (see ``cnnlib._validation.cache_plain_calls``).
    """
    if len(x_shape) != 4:
        hint = "; add a batch axis with x[None]" if len(x_shape) == 3 else ""
        raise ValueError(
            f"{owner}: x must be a 4-D array (N, C, H, W), got {len(x_shape)}-D with shape "
            f"{_shape_text(x_shape)}{hint}"
        )
    if len(w_shape) != 4:
        raise ValueError(
            f"{owner}: w must be a 4-D array (F, C/groups, k_h, k_w), got {len(w_shape)}-D "
            f"with shape {_shape_text(w_shape)}"
        )
    n, c, h, w = x_shape
    f, c_per_group, kh, kw = w_shape
    g = check_int(groups, "groups", owner=owner, minimum=1)
    for name, shape in (("x", x_shape), ("w", w_shape)):
        if 0 in shape:
            raise ValueError(f"{owner}: {name} is empty (shape {_shape_text(shape)})")
    if c % g or f % g:
        raise ValueError(
            f"{owner}: groups={g} must divide both the input channels C={c} and the filters F={f}"
        )
    if c_per_group * g != c:
        per_group = f" per group × {g} groups" if g > 1 else ""
        raise ValueError(
            f"{owner}: channel mismatch — x {_shape_text(x_shape)} has C={c} channels but w "
            f"{_shape_text(w_shape)} expects {c_per_group}{per_group} = {c_per_group * g}; "
            "w must be (F, C/groups, k_h, k_w)"
        )
    strides = int_pair(stride, "stride", owner=owner, minimum=1)
    dilations = int_pair(dilation, "dilation", owner=owner, minimum=1)
    pads = resolve_padding2d(padding, (h, w), (kh, kw), strides, dilations, owner=owner)
    sizes = []
    for axis, size, k, s, pad, d in (
        ("height", h, kh, strides[0], pads[0], dilations[0]),
        ("width", w, kw, strides[1], pads[1], dilations[1]),
    ):
        context = (
            f"{owner}: x {_shape_text(x_shape)} and w {_shape_text(w_shape)} do not fit "
            f"along the {axis}"
        )
        sizes.append(conv_output_size(size, k, s, pad, d, owner=context))
    return ConvSpec(
        batch=n,
        in_channels=c,
        height=h,
        width=w,
        filters=f,
        kernel=(kh, kw),
        stride=strides,
        dilation=dilations,
        padding=pads,
        groups=g,
        out_height=sizes[0],
        out_width=sizes[1],
    )


def _float_array(value: ArrayLike, name: str, owner: str) -> NDArray[Any]:
    array = np.asarray(value)
    if array.dtype.kind != "f":
        if array.dtype.kind in "iub":
            advice = f"convert it with {name}.astype(np.float32) (or float64 for gradient checks)"
        else:
            advice = "convolution is defined on real floating-point numbers"
        raise TypeError(
            f"{owner}: {name} has dtype {array.dtype}; expected float32 or float64 — {advice}"
        )
    return array


def as_float_arrays(
    x: ArrayLike,
    w: ArrayLike,
    b: ArrayLike | None = None,
    *,
    owner: str = "conv2d",
) -> tuple[NDArray[Any], NDArray[Any], NDArray[Any] | None]:
    """Return ``x``, ``w`` and ``b`` as floating-point arrays in ``x``'s dtype.

    The computation runs in the input's precision (float32 for speed, float64 for gradient
    checks); the weights and bias are converted to it.

    Raises
    ------
    TypeError
        For integer, boolean, complex or object data.
    ValueError
        For a bias that is not a vector of length ``F``.
    """
    x_arr = _float_array(x, "x", owner)
    w_arr = _float_array(w, "w", owner).astype(x_arr.dtype, copy=False)
    if b is None:
        return x_arr, w_arr, None
    b_arr = _float_array(b, "b", owner).astype(x_arr.dtype, copy=False)
    filters = w_arr.shape[0] if w_arr.ndim else 0
    if b_arr.shape != (filters,):
        raise ValueError(
            f"{owner}: b must have shape (F,) = ({filters},), one bias per filter; "
            f"got {_shape_text(b_arr.shape)}"
        )
    return x_arr, w_arr, b_arr


def check_output_gradient(
    dy: ArrayLike, spec: ConvSpec, dtype: np.dtype[Any], owner: str
) -> NDArray[Any]:
    """Return ``dy`` in ``dtype`` after checking it has the convolution's output shape.

    Raises
    ------
    ValueError
        If ``dy`` is not ``(N, F, H_out, W_out)``.
    TypeError
        If ``dy`` is not floating point.
    """
    grad = _float_array(dy, "dy", owner).astype(dtype, copy=False)
    if grad.shape != spec.output_shape:
        raise ValueError(
            f"{owner}: dy has shape {_shape_text(grad.shape)}, expected the output shape "
            f"(N, F, H_out, W_out) = {_shape_text(spec.output_shape)}"
        )
    return grad
