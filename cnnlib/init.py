r"""Weight initialisers, driven by a seeded generator (chapter 5).

A layer's weights start random, at a scale that keeps the variance of activations (and of
gradients) roughly constant from layer to layer. With ``fan_in`` inputs per output unit
(``C·k_h·k_w`` for a convolution, the input size for a dense layer) and ``fan_out`` outputs
per input unit:

He / Kaiming :cite:`he2015delving` — for ReLU networks, which zero half the activations:
    :math:`\mathcal N(0, 2/\text{fan\_in})`, or uniform on
    :math:`\pm\sqrt{6/\text{fan\_in}}`.
Xavier / Glorot :cite:`glorot2010understanding` — for tanh and sigmoid:
    :math:`\mathcal N\big(0, 2/(\text{fan\_in} + \text{fan\_out})\big)`, or uniform on
    :math:`\pm\sqrt{6/(\text{fan\_in} + \text{fan\_out})}`.

Every function takes the ``numpy.random.Generator`` to draw from, so a model built twice
with the same seed starts from the same weights.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import DTypeLike, NDArray

__all__ = [
    "INITIALISERS",
    "fans",
    "get",
    "he_normal",
    "he_uniform",
    "xavier_normal",
    "xavier_uniform",
    "zeros",
]

Initialiser = Callable[[tuple[int, ...], np.random.Generator, DTypeLike], NDArray[Any]]


def fans(shape: tuple[int, ...]) -> tuple[int, int]:
    """``(fan_in, fan_out)`` of a weight array.

    ``(out, in)`` for a dense layer; ``(F, C, k_h, k_w)`` for a convolution, where each
    output unit sees ``C·k_h·k_w`` inputs and each input feeds ``F·k_h·k_w`` outputs; for a
    locally connected layer ``(positions, F, C·k_h·k_w)`` the same counts per position.

    Examples
    --------
    >>> fans((32, 3, 3, 3))
    (27, 288)
    >>> fans((10, 64))
    (64, 10)
    """
    if len(shape) == 2:
        return shape[1], shape[0]
    if len(shape) == 3:
        return shape[2], shape[1]
    if len(shape) == 4:
        receptive = shape[2] * shape[3]
        return shape[1] * receptive, shape[0] * receptive
    raise ValueError(f"fans: expected a 2-, 3- or 4-D weight shape, got {shape}")


def he_normal(
    shape: tuple[int, ...], rng: np.random.Generator, dtype: DTypeLike = np.float32
) -> NDArray[Any]:
    """He (Kaiming) normal: standard deviation ``sqrt(2 / fan_in)``."""
    return (rng.standard_normal(shape) * math.sqrt(2.0 / fans(shape)[0])).astype(dtype)


def he_uniform(
    shape: tuple[int, ...], rng: np.random.Generator, dtype: DTypeLike = np.float32
) -> NDArray[Any]:
    """He (Kaiming) uniform on ``±sqrt(6 / fan_in)``."""
    bound = math.sqrt(6.0 / fans(shape)[0])
    return rng.uniform(-bound, bound, size=shape).astype(dtype)


def xavier_normal(
    shape: tuple[int, ...], rng: np.random.Generator, dtype: DTypeLike = np.float32
) -> NDArray[Any]:
    """Xavier (Glorot) normal: standard deviation ``sqrt(2 / (fan_in + fan_out))``."""
    fan_in, fan_out = fans(shape)
    return (rng.standard_normal(shape) * math.sqrt(2.0 / (fan_in + fan_out))).astype(dtype)


def xavier_uniform(
    shape: tuple[int, ...], rng: np.random.Generator, dtype: DTypeLike = np.float32
) -> NDArray[Any]:
    """Xavier (Glorot) uniform on ``±sqrt(6 / (fan_in + fan_out))``."""
    fan_in, fan_out = fans(shape)
    bound = math.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-bound, bound, size=shape).astype(dtype)


def zeros(
    shape: tuple[int, ...], rng: np.random.Generator, dtype: DTypeLike = np.float32
) -> NDArray[Any]:
    """All zeros (biases start here)."""
    return np.zeros(shape, dtype=dtype)


#: The initialisers by name, as layers accept them (``kernel_initializer="he_normal"``).
INITIALISERS: dict[str, Initialiser] = {
    "he_normal": he_normal,
    "he_uniform": he_uniform,
    "xavier_normal": xavier_normal,
    "xavier_uniform": xavier_uniform,
    "glorot_normal": xavier_normal,
    "glorot_uniform": xavier_uniform,
    "zeros": zeros,
}


def get(name: str) -> Initialiser:
    """The initialiser called ``name`` (one of :data:`INITIALISERS`).

    Raises
    ------
    ValueError
        For an unknown name, listing the known ones.
    """
    if name not in INITIALISERS:
        known = ", ".join(sorted(INITIALISERS))
        raise ValueError(f"unknown initialiser {name!r}; choose one of {known}")
    return INITIALISERS[name]
