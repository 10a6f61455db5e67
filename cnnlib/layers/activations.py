r"""Activation layers (chapter 5): element-wise non-linearities and softmax.

=============  ==========================================  ===================================
layer          :math:`f(x)`                                :math:`f'(x)`
=============  ==========================================  ===================================
``ReLU``       :math:`\max(0, x)`                          1 for :math:`x > 0`, else 0
``LeakyReLU``  :math:`x` if :math:`x > 0`, else            1, else :math:`\alpha`
               :math:`\alpha x`
``ELU``        :math:`x` if :math:`x > 0`, else            1, else :math:`f(x) + \alpha`
               :math:`\alpha (e^x - 1)`
``GELU``       :math:`x\,\Phi(x)`                          :math:`\Phi(x) + x\,\varphi(x)`
``Sigmoid``    :math:`\sigma(x) = 1 / (1 + e^{-x})`        :math:`\sigma(x)(1 - \sigma(x))`
``Tanh``       :math:`\tanh x`                             :math:`1 - \tanh^2 x`
=============  ==========================================  ===================================

``Softmax`` turns a vector of scores into probabilities along the class axis,
:math:`s_i = e^{z_i} / \sum_j e^{z_j}`, computed after subtracting the maximum so that no
exponential overflows; its backward pass is :math:`\partial L/\partial z = s \odot (g - \langle
g, s \rangle)`.

At :math:`x = 0` ReLU's derivative is taken as 0, as in PyTorch.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from cnnlib.conv.fast import through_relu
from cnnlib.layers.base import Layer

__all__ = [
    "ACTIVATIONS",
    "ELU",
    "GELU",
    "LeakyReLU",
    "ReLU",
    "Sigmoid",
    "Softmax",
    "Tanh",
    "activation",
    "sigmoid",
]


def sigmoid(x: NDArray[Any]) -> NDArray[Any]:
    """The logistic function, without overflow for large ``|x|``."""
    out = np.empty_like(x)
    positive = x >= 0
    out[positive] = 1 / (1 + np.exp(-x[positive]))
    e = np.exp(x[~positive])
    out[~positive] = e / (1 + e)
    return out


class _Elementwise(Layer):
    """An activation: the output has the input's shape."""

    def _backward(self, grad: NDArray[Any]) -> NDArray[Any]:
        return np.asarray(grad * self._derivative())

    def _derivative(self) -> NDArray[Any]:
        raise NotImplementedError


class ReLU(_Elementwise):
    """Rectified linear unit, ``max(0, x)``."""

    def _forward(self, x: NDArray[Any], training: bool) -> NDArray[Any]:
        self._positive = x > 0
        return np.asarray(np.maximum(x, 0))

    def _backward(self, grad: NDArray[Any]) -> NDArray[Any]:
        return through_relu(grad, self._positive)


class LeakyReLU(_Elementwise):
    """``x`` for positive inputs, ``alpha·x`` otherwise :cite:`maas2013rectifier`."""

    def __init__(self, alpha: float = 0.01, name: str | None = None) -> None:
        super().__init__(name)
        self.alpha = float(alpha)

    def _forward(self, x: NDArray[Any], training: bool) -> NDArray[Any]:
        self._positive = x > 0
        return np.where(self._positive, x, x * x.dtype.type(self.alpha))

    def _derivative(self) -> NDArray[Any]:
        return np.where(self._positive, 1.0, self.alpha).astype(self.dtype)

    def config(self) -> dict[str, Any]:
        """``alpha``, the slope for negative inputs."""
        return {"alpha": self.alpha}


class ELU(_Elementwise):
    """``x`` for positive inputs, ``alpha·(eˣ − 1)`` otherwise :cite:`clevert2016elu`."""

    def __init__(self, alpha: float = 1.0, name: str | None = None) -> None:
        super().__init__(name)
        self.alpha = float(alpha)

    def _forward(self, x: NDArray[Any], training: bool) -> NDArray[Any]:
        self._positive = x > 0
        negative = x.dtype.type(self.alpha) * np.expm1(np.minimum(x, 0))
        self._y = np.where(self._positive, x, negative)
        return self._y

    def _derivative(self) -> NDArray[Any]:
        return np.where(self._positive, 1, self._y + self.dtype.type(self.alpha)).astype(self.dtype)

    def config(self) -> dict[str, Any]:
        """``alpha``, the value approached for very negative inputs (negated)."""
        return {"alpha": self.alpha}


_erf = np.frompyfunc(math.erf, 1, 1)


class GELU(_Elementwise):
    r"""Gaussian error linear unit :cite:`hendrycks2016gelu`: ``x·Φ(x)``, Φ the normal CDF.

    ``approximate="none"`` (PyTorch's default) uses the exact error function,
    :math:`\Phi(x) = \tfrac12(1 + \operatorname{erf}(x/\sqrt2))`, evaluated with Python's
    ``math.erf`` — exact but slow on large arrays. ``approximate="tanh"`` uses
    :math:`\tfrac12\big(1 + \tanh(\sqrt{2/\pi}\,(x + 0.044715 x^3))\big)`, fast and within
    about :math:`10^{-3}` of it.
    """

    def __init__(self, approximate: str = "none", name: str | None = None) -> None:
        super().__init__(name)
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def _forward(self, x: NDArray[Any], training: bool) -> NDArray[Any]:
        self._x = x
        if self.approximate == "tanh":
            inner = math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)
            self._tanh = np.tanh(inner)
            cdf = 0.5 * (1 + self._tanh)
        else:
            cdf = 0.5 * (1 + np.asarray(_erf(x / math.sqrt(2)), dtype=x.dtype))
        self._cdf = cdf.astype(x.dtype)
        return np.asarray(x * self._cdf, dtype=x.dtype)

    def _derivative(self) -> NDArray[Any]:
        x = self._x
        if self.approximate == "tanh":
            inner_derivative = math.sqrt(2 / math.pi) * (1 + 3 * 0.044715 * x**2)
            slope = 0.5 * x * (1 - self._tanh**2) * inner_derivative
            return np.asarray(self._cdf + slope, dtype=self.dtype)
        density = np.exp(-0.5 * x**2) / math.sqrt(2 * math.pi)
        return np.asarray(self._cdf + x * density, dtype=self.dtype)

    def config(self) -> dict[str, Any]:
        """``approximate``: ``"none"`` or ``"tanh"``."""
        return {"approximate": self.approximate}


class Sigmoid(_Elementwise):
    """The logistic function ``1 / (1 + e⁻ˣ)``, squashing scores into probabilities."""

    def _forward(self, x: NDArray[Any], training: bool) -> NDArray[Any]:
        self._y = sigmoid(x)
        return self._y

    def _derivative(self) -> NDArray[Any]:
        return np.asarray(self._y * (1 - self._y))


class Tanh(_Elementwise):
    """The hyperbolic tangent, squashing into ``(−1, 1)``."""

    def _forward(self, x: NDArray[Any], training: bool) -> NDArray[Any]:
        self._y = np.asarray(np.tanh(x))
        return self._y

    def _derivative(self) -> NDArray[Any]:
        return np.asarray(1 - self._y**2)


class Softmax(Layer):
    """Probabilities along the class axis (axis 1): ``e^{z_i} / Σ_j e^{z_j}``."""

    def _forward(self, x: NDArray[Any], training: bool) -> NDArray[Any]:
        shifted = x - x.max(axis=1, keepdims=True)  # no overflow: the largest exponent is 0
        e = np.exp(shifted)
        self._y = np.asarray(e / e.sum(axis=1, keepdims=True))
        return self._y

    def _backward(self, grad: NDArray[Any]) -> NDArray[Any]:
        s = self._y
        return np.asarray(s * (grad - np.sum(grad * s, axis=1, keepdims=True)))


ACTIVATIONS: dict[str, type[Layer]] = {
    "relu": ReLU,
    "leaky_relu": LeakyReLU,
    "elu": ELU,
    "gelu": GELU,
    "sigmoid": Sigmoid,
    "tanh": Tanh,
    "softmax": Softmax,
}


def activation(name: str, owner: str) -> Layer:
    """A new activation layer for the name ``Conv2D(..., activation=name)`` was given.

    Raises
    ------
    ValueError
        For an unknown name, listing the known ones.
    """
    if name not in ACTIVATIONS:
        known = ", ".join(sorted(ACTIVATIONS))
        raise ValueError(f"{owner}: unknown activation {name!r}; choose one of {known} or None")
    return ACTIVATIONS[name](name=f"{owner}.{name}")
