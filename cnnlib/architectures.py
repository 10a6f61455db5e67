"""Classic convolutional networks, and tools to take a network apart (chapter 7).

Builders return a built :class:`~cnnlib.model.Sequential` whose parameter count is the one
published for the network:

- :func:`lenet5`: 1×32×32 input (or 28×28 padded by 2); 2 conv, 2 pool, 3 dense layers;
  61,706 parameters.
- :func:`cifar_cnn`: 3×32×32; 3 conv, 2 pool, 2 dense; 122,570 parameters.
- :func:`alexnet`: 3×224×224; 5 conv, 3 pool, 3 dense; 61,100,840 parameters (one stream,
  as in torchvision); ``alexnet("grouped")``: 3×227×227, the 2012 two-group variant,
  60,965,224 parameters.
- :func:`vgg16`: 3×224×224; 13 conv, 5 pool, 3 dense; 138,357,544 parameters.

The networks end with class scores (logits), ready for
:class:`~cnnlib.losses.CrossEntropy`; ``softmax=True`` appends a
:class:`~cnnlib.layers.activations.Softmax`.

:func:`dense_to_conv` turns a ``Flatten → Dense …`` head into convolutions, so that the
network runs on larger images and returns a grid of class scores, one per window;
:func:`receptive_fields_of` lists what one unit of every spatial layer sees of the input.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
from numpy.typing import DTypeLike

from cnnlib._validation import check_int, int_pair
from cnnlib.geometry import (
    FieldOfView,
    IntOrPair,
    Padding2D,
    receptive_fields,
    resolve_padding2d,
)
from cnnlib.layers import (
    AvgPool2D,
    ConcatPool2D,
    Conv2D,
    Dense,
    Dropout,
    Flatten,
    Layer,
    LocallyConnected2D,
    MaxPool2D,
    MinPool2D,
    Softmax,
)
from cnnlib.layers.activations import ACTIVATIONS
from cnnlib.model import Sequential

__all__ = [
    "VGG16_CONFIG",
    "alexnet",
    "cifar_cnn",
    "dense_to_conv",
    "lenet5",
    "receptive_fields_of",
    "vgg16",
]

#: The filters of each 3×3 convolution of VGG-16, configuration D of Simonyan and
#: Zisserman, in order, with ``"M"`` for a 2×2 max pooling of stride 2.
VGG16_CONFIG: tuple[int | str, ...] = (
    64, 64, "M",
    128, 128, "M",
    256, 256, 256, "M",
    512, 512, 512, "M",
    512, 512, 512, "M",
)  # fmt: skip

#: Layers that act on every value (or, for Softmax, every position) alike: they work on a
#: vector and on a grid of vectors, so a converted head keeps them as they are. Every
#: activation a layer can be given by name is one, so the list follows ``ACTIVATIONS``.
_POINTWISE: tuple[type[Layer], ...] = (Dropout, *ACTIVATIONS.values())


def _finish(
    layers: list[Layer], input_shape: Sequence[int], softmax: bool, seed: int, dtype: DTypeLike
) -> Sequential:
    if softmax:
        layers.append(Softmax())
    return Sequential(layers, input_shape=input_shape, seed=seed, dtype=dtype)


def _image_shape(input_shape: Sequence[int], owner: str) -> tuple[int, int, int]:
    if len(input_shape) != 3:
        raise ValueError(f"{owner}: input_shape must be (C, H, W), got {tuple(input_shape)!r}")
    c, h, w = (check_int(n, "input_shape entry", owner=owner, minimum=1) for n in input_shape)
    return c, h, w


def lenet5(
    input_shape: Sequence[int] = (1, 32, 32),
    classes: int = 10,
    activation: str = "relu",
    softmax: bool = False,
    seed: int = 0,
    dtype: DTypeLike = np.float32,
) -> Sequential:
    """LeNet-5 as it is usually reproduced :cite:`lecun1998gradient` (chapter 7).

    ``Conv(6, 5×5) → pool → Conv(16, 5×5) → pool → Dense(120) → Dense(84) → Dense(classes)``
    with 2×2 max pooling of stride 2. A 32×32 input gives 28, 14, 10 and 5 pixels: the last
    volume is 16×5×5 = 400 features. A 28×28 MNIST digit is padded by 2 in the first
    convolution, which gives the same sizes.

    The original differs in ways that do not matter for a modern reproduction: trainable
    average pooling ("subsampling"), scaled tanh units, a partial connection table between
    the two convolutions and a radial-basis output layer; it had about 60,000 parameters.

    Parameters
    ----------
    input_shape
        ``(C, 32, 32)`` or ``(C, 28, 28)``.
    classes
        Outputs of the last layer.
    activation
        The hidden units' activation, ``"relu"`` or ``"tanh"`` (any name
        :class:`~cnnlib.layers.conv.Conv2D` accepts).
    softmax
        Append a :class:`~cnnlib.layers.activations.Softmax` (otherwise the outputs are logits).
    seed, dtype
        As for :class:`~cnnlib.model.Sequential`.

    Returns
    -------
    Sequential
        Built; 61,706 parameters for one input channel and 10 classes.
    """
    owner = "lenet5"
    channels, height, width = _image_shape(input_shape, owner)
    if (height, width) not in ((32, 32), (28, 28)):
        raise ValueError(
            f"{owner}: LeNet-5 takes 32×32 images (or 28×28 ones, padded by 2), "
            f"got {height}×{width}"
        )
    classes = check_int(classes, "classes", owner=owner, minimum=1)
    pad = (32 - height) // 2
    layers: list[Layer] = [
        Conv2D(6, 5, padding=pad, activation=activation),
        MaxPool2D(2),
        Conv2D(16, 5, activation=activation),
        MaxPool2D(2),
        Flatten(),
        Dense(120, activation=activation),
        Dense(84, activation=activation),
        Dense(classes),
    ]
    return _finish(layers, (channels, height, width), softmax, seed, dtype)


def cifar_cnn(
    input_shape: Sequence[int] = (3, 32, 32),
    classes: int = 10,
    softmax: bool = False,
    seed: int = 0,
    dtype: DTypeLike = np.float32,
) -> Sequential:
    """The sources' CIFAR-10 network, also TensorFlow's CNN tutorial model (chapter 7).

    ``Conv(32, 3×3) → pool → Conv(64, 3×3) → pool → Conv(64, 3×3) → Dense(64) →
    Dense(classes)``, valid convolutions with ReLU, 2×2 max pooling: 32 → 30 → 15 → 13 →
    6 → 4 pixels, so 64×4×4 = 1,024 features reach the dense head.

    Parameters
    ----------
    input_shape
        ``(C, H, W)``; the sources use ``(3, 32, 32)``.
    classes
        Outputs of the last layer.
    softmax
        Append a :class:`~cnnlib.layers.activations.Softmax`, as the sources' Keras model does.
    seed, dtype
        As for :class:`~cnnlib.model.Sequential`.

    Returns
    -------
    Sequential
        Built; 122,570 parameters for 3×32×32 inputs and 10 classes.
    """
    owner = "cifar_cnn"
    shape = _image_shape(input_shape, owner)
    classes = check_int(classes, "classes", owner=owner, minimum=1)
    layers: list[Layer] = [
        Conv2D(32, 3, activation="relu"),
        MaxPool2D(2),
        Conv2D(64, 3, activation="relu"),
        MaxPool2D(2),
        Conv2D(64, 3, activation="relu"),
        Flatten(),
        Dense(64, activation="relu"),
        Dense(classes),
    ]
    return _finish(layers, shape, softmax, seed, dtype)


def _check_dropout(dropout: float, owner: str) -> None:
    if not 0 <= dropout < 1:
        raise ValueError(f"{owner}: dropout must be in [0, 1), got {dropout}")


def _classifier(layers: list[Layer], classes: int, dropout: float, before: bool) -> None:
    """The ImageNet head of AlexNet and VGG: two 4096-unit layers and the class scores.

    Dropout comes ``before`` each 4096-unit layer (AlexNet) or after it (VGG).
    """
    for _ in range(2):
        hidden: list[Layer] = [Dense(4096, activation="relu")]
        if dropout > 0:
            hidden.insert(0 if before else 1, Dropout(dropout))
        layers.extend(hidden)
    layers.append(Dense(classes))


def alexnet(
    variant: Literal["single", "grouped"] = "single",
    classes: int = 1000,
    dropout: float = 0.5,
    softmax: bool = False,
    seed: int = 0,
    dtype: DTypeLike = np.float32,
) -> Sequential:
    """AlexNet :cite:`krizhevsky2012imagenet`, in one of its two common forms (chapter 7).

    ``"single"`` (default) is the one-stream network of Krizhevsky's later "one weird trick"
    paper :cite:`krizhevsky2014weird`, the one torchvision and most reproductions build:
    convolutions of 64 (11×11, stride 4, padding 2), 192 (5×5), 384, 256 and 256 (3×3)
    filters, 3×3 max pooling of stride 2 after the first, second and fifth, on 224×224
    images (224 → 55 → 27 → 27 → 13 → 13 → 6), then 9,216 → 4096 → 4096 → classes:
    61,100,840 parameters.

    ``"grouped"`` is the 2012 network as trained on two GPUs: 96-256-384-384-256 filters,
    the second, fourth and fifth convolutions split into two groups that see only half of
    the channels, on 227×227 images: 60,965,224 parameters. Its local response
    normalisation has no parameters and is left out.

    Parameters
    ----------
    variant
        ``"single"`` or ``"grouped"``.
    classes
        Outputs of the last layer.
    dropout
        Dropout rate before each of the two 4096-unit layers (0 for none).
    softmax, seed, dtype
        As for :func:`lenet5`.
    """
    owner = "alexnet"
    classes = check_int(classes, "classes", owner=owner, minimum=1)
    _check_dropout(dropout, owner)
    if variant == "single":
        size, groups, filters, first = 224, 1, (64, 192, 384, 256, 256), 2
    elif variant == "grouped":
        size, groups, filters, first = 227, 2, (96, 256, 384, 384, 256), 0
    else:
        raise ValueError(f"{owner}: variant must be 'single' or 'grouped', got {variant!r}")
    f1, f2, f3, f4, f5 = filters
    layers: list[Layer] = [
        Conv2D(f1, 11, stride=4, padding=first, activation="relu"),
        MaxPool2D(3, stride=2),
        Conv2D(f2, 5, padding=2, groups=groups, activation="relu"),
        MaxPool2D(3, stride=2),
        Conv2D(f3, 3, padding=1, activation="relu"),
        Conv2D(f4, 3, padding=1, groups=groups, activation="relu"),
        Conv2D(f5, 3, padding=1, groups=groups, activation="relu"),
        MaxPool2D(3, stride=2),
        Flatten(),
    ]
    _classifier(layers, classes, dropout, before=True)
    return _finish(layers, (3, size, size), softmax, seed, dtype)


def vgg16(
    classes: int = 1000,
    dropout: float = 0.5,
    softmax: bool = False,
    seed: int = 0,
    dtype: DTypeLike = np.float32,
) -> Sequential:
    """VGG-16 :cite:`simonyan2015vgg` for 224×224 RGB images (chapter 7).

    Thirteen 3×3 convolutions with padding 1 in five blocks (:data:`VGG16_CONFIG`), each
    block ending with a 2×2 max pooling: 224 → 112 → 56 → 28 → 14 → 7. The 512×7×7 =
    25,088 features feed 4096 → 4096 → classes: 138,357,544 parameters, 553 MB of float32
    weights — building it takes a few seconds; training it is not what this library is for.

    Parameters
    ----------
    classes, softmax, seed, dtype
        As for :func:`alexnet`.
    dropout
        Dropout rate after each of the two 4096-unit layers (0 for none), as in the paper
        and torchvision (AlexNet has it before them).
    """
    owner = "vgg16"
    classes = check_int(classes, "classes", owner=owner, minimum=1)
    _check_dropout(dropout, owner)
    layers: list[Layer] = [
        MaxPool2D(2) if entry == "M" else Conv2D(int(entry), 3, padding=1, activation="relu")
        for entry in VGG16_CONFIG
    ]
    layers.append(Flatten())
    _classifier(layers, classes, dropout, before=False)
    return _finish(layers, (3, 224, 224), softmax, seed, dtype)


# ----------------------------------------------------------------- taking networks apart
def _built(model: Sequential, owner: str) -> tuple[int, ...]:
    if not isinstance(model, Sequential):
        raise TypeError(f"{owner}: expected a cnnlib Sequential, got {type(model).__name__}")
    if model.input_shape is None or not model.built:
        raise RuntimeError(f"{owner}: build the model first (give it an input_shape)")
    return model.input_shape


def dense_to_conv(model: Sequential) -> Sequential:
    r"""An all-convolutional copy of ``model``: its ``Flatten → Dense …`` head as convolutions.

    A dense layer that reads a flattened ``C×H×W`` volume computes, for each unit, one
    dot product with the whole volume — exactly what a convolution with a ``H×W`` kernel
    and no padding computes at its single position. So the first ``Dense`` after the
    ``Flatten`` becomes ``Conv2D(units, (H, W))`` with its weight matrix reshaped from
    ``(units, C·H·W)`` to ``(units, C, H, W)`` (the flattening is in C order), and every
    later ``Dense(units)`` becomes a 1×1 convolution, ``(units, in) → (units, in, 1, 1)``.
    Activations and dropout stay as they are (``Softmax`` works along the channel axis).

    On the original input size the copy returns the same scores, shaped ``(K, 1, 1)``. Run on
    a larger image (:meth:`~cnnlib.model.Sequential.with_input_shape`) it returns a grid of
    scores: position ``(i, j)`` is the original network applied to the crop at
    ``(i·S, j·S)``, with ``S`` the product of the body's strides — when the body uses no
    padding, exactly; with padding the crops' borders differ.

    Parameters
    ----------
    model
        A built model with a ``Flatten`` followed by at least one ``Dense`` (chapter 7).

    Returns
    -------
    Sequential
        A new model with copies of the weights; the converted layers are named
        ``<dense name>_conv``.

    Raises
    ------
    ValueError
        If there is no ``Flatten``, no ``Dense`` after it, or a layer after it that is
        neither a ``Dense`` nor a pointwise layer (activation, dropout).
    """
    owner = "dense_to_conv"
    input_shape = _built(model, owner)
    flatten = next((i for i, layer in enumerate(model.layers) if isinstance(layer, Flatten)), None)
    if flatten is None:
        raise ValueError(
            f"{owner}: the model has no Flatten layer, so no dense head to convert "
            "(a GlobalAvgPool2D head already accepts any image size)"
        )
    volume = model.layers[flatten].input_shape
    assert volume is not None
    if len(volume) != 3:
        raise ValueError(
            f"{owner}: {model.layers[flatten].name} flattens inputs of shape {volume}; "
            "expected a (C, H, W) volume"
        )
    layers = [layer.unbuilt_copy() for layer in model.layers[:flatten]]
    kernel: int | tuple[int, int] = (volume[1], volume[2])
    for layer in model.layers[flatten + 1 :]:
        if isinstance(layer, Dense):
            layers.append(
                Conv2D(
                    layer.units,
                    kernel,
                    use_bias=layer.use_bias,
                    activation=layer.activation_name,
                    kernel_initializer=layer.kernel_initializer,
                    name=f"{layer.name}_conv",
                )
            )
            kernel = 1
        elif isinstance(layer, _POINTWISE):
            layers.append(layer.unbuilt_copy())
        else:
            raise ValueError(
                f"{owner}: {layer.name} ({type(layer).__name__}) follows the Flatten; only "
                "Dense layers, activations and Dropout can be turned into convolutions"
            )
    if not any(isinstance(layer, Dense) for layer in model.layers[flatten + 1 :]):
        raise ValueError(f"{owner}: no Dense layer follows {model.layers[flatten].name}")
    result = Sequential(layers, input_shape=input_shape, seed=model.seed, dtype=model.dtype)
    old = model.layers[:flatten] + model.layers[flatten + 1 :]
    for new_layer, old_layer in zip(result.layers, old, strict=True):
        for name, value in old_layer.params.items():
            # a converted weight (units, C·H·W) → (units, C, H, W); the rest keep their shape
            target = new_layer.params[name]
            target[...] = value.reshape(target.shape)
    return result


def _window(layer: Layer) -> tuple[IntOrPair, IntOrPair, Padding2D, IntOrPair] | None:
    """``(kernel_size, stride, padding, dilation)`` of a sliding-window layer, else None."""
    if isinstance(layer, Conv2D):
        return layer.kernel_size, layer.stride, layer.padding, layer.dilation
    if isinstance(layer, LocallyConnected2D):
        return layer.kernel_size, layer.stride, layer.padding, 1
    if isinstance(layer, MaxPool2D | AvgPool2D | MinPool2D | ConcatPool2D):
        stride = layer.kernel_size if layer.stride is None else layer.stride
        return layer.kernel_size, stride, layer.padding, 1
    return None


def receptive_fields_of(model: Sequential, axis: int = 0) -> list[tuple[str, FieldOfView]]:
    """What one unit of each sliding-window layer of ``model`` sees of its input (chapter 7).

    Convolutions and pooling layers are read with their kernel, stride, padding and
    dilation and passed to :func:`cnnlib.geometry.receptive_fields`; pointwise layers
    (activations, dropout) change nothing and are skipped; the list ends at the first
    layer that mixes every position (``Flatten``, ``Dense``, global pooling), whose units
    see the whole input.

    Parameters
    ----------
    model
        A built model.
    axis
        0 for the height, 1 for the width.

    Returns
    -------
    list of (str, FieldOfView)
        The layer's name and the ``(size, jump, start)`` of its output units.
    """
    owner = "receptive_fields_of"
    _built(model, owner)
    if axis not in (0, 1):
        raise ValueError(f"{owner}: axis must be 0 (height) or 1 (width), got {axis!r}")
    names: list[str] = []
    steps: list[tuple[int, int, int]] = []
    pads: list[int] = []
    for layer in model.layers:
        window = _window(layer)
        if window is None:
            if isinstance(layer, _POINTWISE):
                continue
            break
        kernel, stride, padding, dilation = window
        assert layer.input_shape is not None
        (top, _), (left, _) = resolve_padding2d(
            padding,
            (layer.input_shape[1], layer.input_shape[2]),
            kernel,
            stride,
            dilation,
            owner=f"{owner} ({layer.name})",
        )
        names.append(layer.name)
        k, s, d = (
            int_pair(value, "window", owner=owner, minimum=1)[axis]
            for value in (kernel, stride, dilation)
        )
        steps.append((k, s, d))
        pads.append((top, left)[axis])
    return list(zip(names, receptive_fields(steps, pads), strict=True))
