"""Checkers for the exercises of chapter 7, "Architectures".

Each ``check_<name>(fn)`` runs the learner's ``fn`` against a reference built on
:mod:`cnnlib.geometry` on the chapter's worked examples — three 3×3 layers against one 7×7,
LeNet-5, the sources' CIFAR network, VGG's blocks — and on edge cases, and names the usual
mistakes when it recognises them: a receptive field that forgets the jump, uses the layer's
own stride or starts from 0; a parameter count without biases, without the input depth,
with ``k`` instead of ``k²`` or with the first layer's depth everywhere; output shapes that
round up, forget the padding or the stride, or keep the input depth; a dense weight
reshaped channels-last, from its transpose, in Fortran order or with height and width
swapped.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from cnnlib import geometry
from cnnlib.exercises.core import Case, Exercise, Mistake, random_grid

__all__ = [
    "check_conv_stack_params",
    "check_dense_to_conv_weight",
    "check_output_shapes",
    "check_receptive_field",
]

Layers = Sequence[tuple[int, int]]


# ------------------------------------------------------------------------ receptive field
def _field_without_jump(layers: Layers) -> int:
    return 1 + sum(k - 1 for k, _ in layers)


def _field_own_stride(layers: Layers) -> int:
    field, jump = 1, 1
    for k, s in layers:
        jump *= s
        field += (k - 1) * jump
    return field


def _field_from_zero(layers: Layers) -> int:
    field, jump = 0, 1
    for k, s in layers:
        field += (k - 1) * jump
        jump *= s
    return field


def _field_sum_of_kernels(layers: Layers) -> int:
    return sum(k for k, _ in layers)


RECEPTIVE_FIELD = Exercise(
    name="receptive_field",
    reference=geometry.receptive_field,
    cases=(
        Case(([(3, 1)],), note="one 3×3 convolution sees 3 pixels"),
        Case(
            ([(3, 1), (3, 1), (3, 1)],), note="three stacked 3×3 convolutions see 7, like one 7×7"
        ),
        Case(([(3, 1), (2, 2), (3, 1)],), note="conv, 2×2 pool of stride 2, conv"),
        Case(
            ([(5, 1), (2, 2), (5, 1), (2, 2)],),
            note="LeNet-5's body: conv 5×5, pool, conv 5×5, pool",
        ),
        Case(
            ([(11, 4), (3, 2), (5, 1), (3, 2), (3, 1), (3, 1), (3, 1), (3, 2)],),
            note="AlexNet's body, from 11×11 of stride 4 to the last pooling",
        ),
        Case(([(2, 2), (2, 2), (2, 2)],), note="three 2×2 pools of stride 2 tile 8 pixels"),
        Case(([],), note="no layer at all: a unit is one input pixel"),
        Case(([(1, 1), (1, 3)],), note="1×1 layers do not grow the field, whatever the stride"),
    ),
    mistakes=(
        Mistake(
            "you added k − 1 for every layer as if all strides were 1; after a stride the "
            "neighbouring units of a layer are j input pixels apart (j = the product of the "
            "strides before it), so layer ℓ adds (k − 1)·j, not k − 1",
            _field_without_jump,
        ),
        Mistake(
            "you multiplied the jump by a layer's stride before adding its (k − 1)·j; a "
            "layer's own stride spaces its *outputs*, not the inputs its kernel reads — "
            "add (k − 1)·j first, then set j = j·s",
            _field_own_stride,
        ),
        Mistake(
            "your fields are one pixel short: start from r = 1 (a unit of the input sees "
            "itself), then add (k − 1)·j per layer",
            _field_from_zero,
        ),
        Mistake(
            "you added the kernel sizes; overlapping windows share pixels, so each layer adds "
            "only (k − 1)·j new ones: r = 1 + Σ (k_ℓ − 1)·j_{ℓ−1}",
            _field_sum_of_kernels,
        ),
    ),
    highlight="strides multiply the jump, 3×3×3 sees what 7×7 sees",
)


def check_receptive_field(fn: Callable[..., Any]) -> bool:
    """Check ``fn(layers)``: the receptive field of ``(kernel_size, stride)`` layers.

    ``r = 1 + Σ_ℓ (k_ℓ − 1)·j_{ℓ−1}`` with ``j`` the product of the earlier strides
    (``ex-receptive-field``).

    Raises
    ------
    cnnlib.exercises.ExerciseError
        With the first wrong case, what is wrong and the likely mistake.
    """
    return RECEPTIVE_FIELD.check(fn)


# ---------------------------------------------------------------- parameters of a stack
def _stack(
    kernel_sizes: Sequence[int], channels: Sequence[int], per_layer: Callable[[int, int, int], int]
) -> int:
    """``per_layer(k, C_in, C_out)`` summed over the layers of a stack."""
    return sum(
        per_layer(k, c_in, c_out)
        for k, c_in, c_out in zip(kernel_sizes, channels[:-1], channels[1:], strict=True)
    )


def _conv_stack_params(kernel_sizes: Sequence[int], channels: Sequence[int]) -> int:
    return _stack(kernel_sizes, channels, geometry.conv_params)


CONV_STACK_PARAMS = Exercise(
    name="conv_stack_params",
    reference=_conv_stack_params,
    cases=(
        Case(([3], [3, 32]), note="the CIFAR network's first layer: 3×3 on RGB, 32 filters"),
        Case(([3, 3, 3], [64, 64, 64, 64]), note="three 3×3 layers of C = 64 channels"),
        Case(([7], [64, 64]), note="one 7×7 layer of C = 64 channels"),
        Case(([5, 5], [1, 6, 16]), note="LeNet-5's two convolutions"),
        Case(([3, 3, 3], [3, 32, 64, 64]), note="the CIFAR network's convolutions"),
        Case(([3, 3], [128, 256, 256]), note="a VGG block that doubles the depth"),
        Case(([1], [192, 64]), note="a 1×1 convolution mixing 192 channels into 64"),
    ),
    mistakes=(
        Mistake(
            "you left out the biases: every filter has one, so each layer has "
            "(k·k·C_in + 1)·C_out parameters",
            lambda ks, cs: _stack(ks, cs, lambda k, i, o: k * k * i * o),
        ),
        Mistake(
            "you left out the input depth: a k×k filter spans all C_in input channels, so it "
            "has k·k·C_in weights (the 3-D volume rule)",
            lambda ks, cs: _stack(ks, cs, lambda k, i, o: (k * k + 1) * o),
        ),
        Mistake(
            "you counted k weights per channel instead of k·k: a k×k kernel has k² taps",
            lambda ks, cs: _stack(ks, cs, lambda k, i, o: (k * i + 1) * o),
        ),
        Mistake(
            "you used the first layer's input depth for every layer; the depth a layer "
            "reads is the number of filters of the layer before it: channels[ℓ] → "
            "channels[ℓ + 1]",
            lambda ks, cs: sum(
                (k * k * cs[0] + 1) * c_out for k, c_out in zip(ks, cs[1:], strict=True)
            ),
        ),
    ),
    highlight="27C² + 3C for three 3×3 layers against 49C² + C for one 7×7",
)


def check_conv_stack_params(fn: Callable[..., Any]) -> bool:
    """Check ``fn(kernel_sizes, channels)``: the parameters of a stack of convolutions.

    Layer ``ℓ`` has a ``k_ℓ × k_ℓ`` kernel and maps ``channels[ℓ]`` to ``channels[ℓ + 1]``
    channels, with one bias per filter (``ex-conv-stack-params``).

    Raises
    ------
    cnnlib.exercises.ExerciseError
        With the first wrong case, what is wrong and the likely mistake.
    """
    return CONV_STACK_PARAMS.check(fn)


# ------------------------------------------------------------------------ output shapes
Shape = tuple[int, ...]


def _trace(
    input_shape: Sequence[int],
    layers: Sequence[Sequence[Any]],
    size: Callable[[int, int, int, int], int],
    depth: Callable[[int, int], int] = lambda c, f: f,
) -> tuple[Shape, ...]:
    """Shapes after each layer, with a rule for one spatial axis and for the depth."""
    shape: Shape = tuple(int(n) for n in input_shape)
    shapes = []
    for layer in layers:
        kind = layer[0]
        if kind == "conv":
            _, filters, k, s, p = layer
            shape = (depth(shape[0], filters), size(shape[1], k, s, p), size(shape[2], k, s, p))
        elif kind == "pool":
            _, k, s = layer
            shape = (shape[0], size(shape[1], k, s, 0), size(shape[2], k, s, 0))
        elif kind == "flatten":
            shape = (math.prod(shape),)
        else:  # dense
            shape = (int(layer[1]),)
        shapes.append(shape)
    return tuple(shapes)


def _output_shapes(
    input_shape: Sequence[int], layers: Sequence[Sequence[Any]]
) -> tuple[Shape, ...]:
    return _trace(input_shape, layers, geometry.conv_output_size)


_CIFAR = (
    ("conv", 32, 3, 1, 0),
    ("pool", 2, 2),
    ("conv", 64, 3, 1, 0),
    ("pool", 2, 2),
    ("conv", 64, 3, 1, 0),
    ("flatten",),
    ("dense", 64),
    ("dense", 10),
)
_LENET_28 = (
    ("conv", 6, 5, 1, 2),
    ("pool", 2, 2),
    ("conv", 16, 5, 1, 0),
    ("pool", 2, 2),
    ("flatten",),
    ("dense", 120),
    ("dense", 84),
    ("dense", 10),
)

OUTPUT_SHAPES = Exercise(
    name="output_shapes",
    reference=_output_shapes,
    cases=(
        Case(((3, 32, 32), (("conv", 32, 3, 1, 0),)), note="one valid 3×3 convolution"),
        Case(((3, 32, 32), _CIFAR), note="the sources' CIFAR network, layer by layer"),
        Case(((1, 28, 28), _LENET_28), note="LeNet-5 on a 28×28 digit, padded by 2"),
        Case(
            ((3, 224, 224), (("conv", 64, 3, 1, 1), ("conv", 64, 3, 1, 1), ("pool", 2, 2))),
            note="VGG's first block: 'same' 3×3 convolutions, then a pool",
        ),
        Case(
            ((3, 227, 227), (("conv", 96, 11, 4, 0), ("pool", 3, 2), ("conv", 256, 5, 1, 2))),
            note="AlexNet's first layers: stride 4, overlapping 3×3 pooling of stride 2",
        ),
        Case(
            ((8, 7, 10), (("conv", 4, 3, 2, 0), ("flatten",))),
            note="a floor in both directions: 7 and 10 pixels, 3×3 kernel, stride 2",
        ),
    ),
    mistakes=(
        Mistake(
            "you rounded up: a window must fit inside the (padded) input, so sizes round "
            "down, ⌊(n + 2p − k)/s⌋ + 1 — here 13 → 6 after a 2×2 pool, not 7",
            lambda shape, layers: _trace(
                shape, layers, lambda n, k, s, p: math.ceil((n + 2 * p - k) / s) + 1
            ),
        ),
        Mistake(
            "you ignored the padding: p zeros on each side make n + 2p pixels",
            lambda shape, layers: _trace(shape, layers, lambda n, k, s, p: (n - k) // s + 1),
        ),
        Mistake(
            "you ignored the stride: ⌊(n + 2p − k)/s⌋ + 1 divides by s (a 2×2 pool of "
            "stride 2 halves the size)",
            lambda shape, layers: _trace(shape, layers, lambda n, k, s, p: n + 2 * p - k + 1),
        ),
        Mistake(
            "your convolutions keep the input depth; a convolution's output has one channel "
            "per filter, whatever the input depth",
            lambda shape, layers: _trace(
                shape, layers, geometry.conv_output_size, depth=lambda c, f: c
            ),
        ),
    ),
    highlight="CIFAR 30-15-13-6-4 → 1,024 features, LeNet 28-14-10-5 → 400",
)


def check_output_shapes(fn: Callable[..., Any]) -> bool:
    """Check ``fn(input_shape, layers)``: the shape after every layer of a network.

    Layers are ``("conv", filters, k, stride, padding)``, ``("pool", k, stride)``,
    ``("flatten",)`` and ``("dense", units)``; shapes are ``(C, H, W)`` or ``(features,)``
    (``ex-output-shapes``).

    Raises
    ------
    cnnlib.exercises.ExerciseError
        With the first wrong case, what is wrong and the likely mistake.
    """
    return OUTPUT_SHAPES.check(fn)


# ------------------------------------------------------------------- dense to conv weight
Array = NDArray[Any]


def _dense_to_conv_weight(weight: Array, volume: Sequence[int]) -> Array:
    units = weight.shape[0]
    return np.asarray(weight).reshape(units, *volume).copy()


def _channels_last(weight: Array, volume: Sequence[int]) -> Array:
    c, h, w = volume
    return weight.reshape(weight.shape[0], h, w, c).transpose(0, 3, 1, 2)


def _from_transpose(weight: Array, volume: Sequence[int]) -> Array:
    return weight.T.reshape(weight.shape[0], *volume)


def _fortran(weight: Array, volume: Sequence[int]) -> Array:
    return weight.reshape(weight.shape[0], *volume, order="F")


def _height_width_swapped(weight: Array, volume: Sequence[int]) -> Array:
    c, h, w = volume
    return weight.reshape(weight.shape[0], c, w, h).transpose(0, 1, 3, 2)


DENSE_TO_CONV_WEIGHT = Exercise(
    name="dense_to_conv_weight",
    reference=_dense_to_conv_weight,
    cases=(
        Case(
            (np.arange(12.0).reshape(1, 12), (3, 2, 2)),
            note="one unit reading a 3×2×2 volume: weights 0 … 11 in flattening order",
        ),
        Case((random_grid(2, 24, seed=1), (2, 3, 4)), note="two units reading a 2×3×4 volume"),
        Case((random_grid(4, 30, seed=2), (5, 2, 3)), note="four units, a 5×2×3 volume"),
        Case(
            (random_grid(10, 64, seed=3), (64, 1, 1)),
            note="a dense layer after a 1×1 map: a 1×1 conv",
        ),
        Case((random_grid(3, 15, seed=4), (1, 3, 5)), note="a single channel, 3×5"),
    ),
    mistakes=(
        Mistake(
            "you unflattened channels-last (H, W, C), as Keras stores images; cnnlib "
            "flattens (C, H, W) volumes in C order, so weight[u] reshapes to (C, H, W) "
            "directly: weight.reshape(units, C, H, W)",
            _channels_last,
        ),
        Mistake(
            "you reshaped the transpose; the dense weight is (units, features), one row per "
            "unit, and each row becomes one filter: reshape weight itself, not weight.T",
            _from_transpose,
        ),
        Mistake(
            "you reshaped in Fortran (column-major) order; Flatten uses NumPy's default C "
            "order, the last axis (width) varying fastest",
            _fortran,
        ),
        Mistake(
            "your kernel has height and width swapped: within a channel, the flattened "
            "features run along a row (width) first, then down (height)",
            _height_width_swapped,
        ),
    ),
    highlight="each row of the dense weight becomes one C×H×W filter",
)


def check_dense_to_conv_weight(fn: Callable[..., Any]) -> bool:
    """Check ``fn(weight, volume)``: a dense weight ``(units, C·H·W)`` as a conv kernel.

    Returns the ``(units, C, H, W)`` kernel of the convolution that computes the same
    scores on the ``(C, H, W)`` volume the dense layer read flattened
    (``ex-dense-to-conv-weight``).

    Raises
    ------
    cnnlib.exercises.ExerciseError
        With the first wrong case, what is wrong and the likely mistake.
    """
    return DENSE_TO_CONV_WEIGHT.check(fn)
