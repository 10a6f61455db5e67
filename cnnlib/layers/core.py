"""Flatten, dense (fully connected) and dropout layers (chapter 5)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from cnnlib._validation import check_int
from cnnlib.layers._activated import Activated
from cnnlib.layers.base import Layer, shape_text

__all__ = ["Dense", "Dropout", "Flatten"]


class Flatten(Layer):
    """``(N, C, H, W) → (N, C·H·W)`` in C order; the backward pass reshapes back."""

    def _build(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        return (math.prod(input_shape),)

    def _forward(self, x: NDArray[Any], training: bool) -> NDArray[Any]:
        return x.reshape(x.shape[0], -1)

    def _backward(self, grad: NDArray[Any]) -> NDArray[Any]:
        assert self.input_shape is not None
        return grad.reshape(grad.shape[0], *self.input_shape)


class Dense(Activated):
    r"""A fully connected layer: ``y = x Wᵀ + b``.

    Every output unit is connected to every input feature. Weights are ``(units, features)``
    (PyTorch's layout), He-normal by default; biases start at zero.

    .. math:: \frac{\partial L}{\partial W} = g^\top x, \qquad
              \frac{\partial L}{\partial b} = \sum_n g_n, \qquad
              \frac{\partial L}{\partial x} = g\, W

    Parameters
    ----------
    units
        Output features.
    use_bias
        Learn one bias per unit.
    activation
        Apply this activation to the output; ``None`` for none.
    kernel_initializer
        Name of a :mod:`cnnlib.init` function.
    """

    def __init__(
        self,
        units: int,
        use_bias: bool = True,
        activation: str | None = None,
        kernel_initializer: str = "he_normal",
        name: str | None = None,
    ) -> None:
        super().__init__(use_bias, activation, kernel_initializer, name)
        self.units = check_int(units, "units", owner="Dense", minimum=1)

    def _build_core(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        if len(input_shape) != 1:
            raise ValueError(
                f"{self.name} (Dense): expects vectors of shape (N, features), got inputs of "
                f"shape {shape_text(input_shape)}; add a Flatten() layer before it"
            )
        self.params = {
            "weight": self._initialise((self.units, input_shape[0]), self.rng, self.dtype)
        }
        if self.use_bias:
            self.params["bias"] = np.zeros(self.units, dtype=self.dtype)
        return (self.units,)

    def _forward_core(self, x: NDArray[Any], training: bool) -> NDArray[Any]:
        self._x = x if training else None
        y: NDArray[Any] = x @ self.params["weight"].T
        if self.use_bias:
            y += self.params["bias"]
        return y

    def _backward_core(self, grad: NDArray[Any]) -> NDArray[Any] | None:
        assert self._x is not None  # Layer.backward checked for a training forward pass
        self.grads = {"weight": grad.T @ self._x}
        if self.use_bias:
            self.grads["bias"] = grad.sum(axis=0)
        return grad @ self.params["weight"] if self.needs_input_grad else None

    def config(self) -> dict[str, Any]:
        """The constructor's arguments."""
        return {"units": self.units, **super().config()}


class Dropout(Layer):
    """Inverted dropout :cite:`srivastava2014dropout`: zero values while training, rescale the rest.

    While training, each value is zeroed with probability ``rate`` and the others are
    scaled by ``1 / (1 − rate)``; at inference the layer is the identity.
    The scaling keeps the expected activation the same in both modes, so nothing changes at
    test time. The masks come from the model's seeded generator.
    """

    stochastic = True

    def __init__(self, rate: float, name: str | None = None) -> None:
        super().__init__(name)
        if not 0 <= rate < 1:
            raise ValueError(f"Dropout: rate must be in [0, 1), got {rate}")
        self.rate = float(rate)

    def _forward(self, x: NDArray[Any], training: bool) -> NDArray[Any]:
        if not training or self.rate == 0:
            self._mask = None
            return x
        keep = x.dtype.type(1 / (1 - self.rate))
        self._mask = (self.rng.random(x.shape) >= self.rate).astype(x.dtype) * keep
        return np.asarray(x * self._mask)

    def _backward(self, grad: NDArray[Any]) -> NDArray[Any]:
        return grad if self._mask is None else grad * self._mask

    def config(self) -> dict[str, Any]:
        """``rate``, the probability of dropping a value."""
        return {"rate": self.rate}
