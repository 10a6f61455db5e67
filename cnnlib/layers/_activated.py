"""Layers that may end with an activation, as in Keras: ``Conv2D(32, 3, activation="relu")``."""

from __future__ import annotations

from typing import Any

from numpy.typing import NDArray

from cnnlib import init
from cnnlib.layers.activations import activation as make_activation
from cnnlib.layers.base import Layer

__all__ = ["Activated"]


class Activated(Layer):
    """A layer with weights (and optionally biases) followed by an optional activation.

    Subclasses implement ``_build_core``, ``_forward_core`` and ``_backward_core``; this class
    holds what all weight layers share — the bias switch, the weight initialiser and the
    activation — and threads the activation through build, forward and backward.
    """

    def __init__(
        self,
        use_bias: bool = True,
        activation: str | None = None,
        kernel_initializer: str = "he_normal",
        name: str | None = None,
    ) -> None:
        super().__init__(name)
        self.use_bias = use_bias
        self.kernel_initializer = kernel_initializer
        self._initialise = init.get(kernel_initializer)
        self.activation_name = activation
        self.activation = None if activation is None else make_activation(activation, self.name)

    def config(self) -> dict[str, Any]:
        """The arguments every weight layer takes; subclasses add their own."""
        return {
            "use_bias": self.use_bias,
            "activation": self.activation_name,
            "kernel_initializer": self.kernel_initializer,
        }

    def rename(self, name: str) -> None:
        """Rename the layer and its activation (``conv2d_1`` owns ``conv2d_1.relu``)."""
        super().rename(name)
        if self.activation is not None:
            self.activation.rename(f"{name}.{self.activation_name}")

    def _build(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        shape = self._build_core(input_shape)
        if self.activation is not None:
            self.activation.build(shape, self.rng, self.dtype)
        return shape

    def _forward(self, x: NDArray[Any], training: bool) -> NDArray[Any]:
        y = self._forward_core(x, training)
        return y if self.activation is None else self.activation.forward(y, training)

    def _backward(self, grad: NDArray[Any]) -> NDArray[Any] | None:
        if self.activation is not None:
            inner = self.activation.backward(grad)
            assert inner is not None
            grad = inner
        return self._backward_core(grad)

    def _build_core(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        raise NotImplementedError

    def _forward_core(self, x: NDArray[Any], training: bool) -> NDArray[Any]:
        raise NotImplementedError

    def _backward_core(self, grad: NDArray[Any]) -> NDArray[Any] | None:
        raise NotImplementedError
