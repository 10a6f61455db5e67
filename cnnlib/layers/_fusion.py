r"""A convolution's ReLU moved after the max pooling that follows it: the same numbers, less work.

A ReLU never reorders values (it is non-decreasing), so it commutes with a maximum:

.. math:: \max_\text{window} \operatorname{relu}(z) = \operatorname{relu}(\max_\text{window} z)

exactly, value for value. The gradients agree too: a window whose maximum is not positive
sends nothing back either way (its winner's ReLU is flat), and otherwise its first maximum
is the same tap of ``z`` and of ``relu(z)``. After a 2×2 pooling the ReLU, its mask and the
mask's use in the backward pass touch a quarter of the values. :class:`cnnlib.Sequential`
runs each ``Conv2D(activation="relu")`` directly followed by a ``MaxPool2D`` this way; the
layers themselves are unchanged (called on its own, a convolution still applies its ReLU).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from cnnlib.conv.fast import through_relu
from cnnlib.layers.base import Layer
from cnnlib.layers.conv import Conv2D
from cnnlib.layers.pooling import MaxPool2D

__all__ = ["PoolThenReLU", "fuse"]


class PoolThenReLU:
    """``Conv2D(activation="relu")`` then ``MaxPool2D``, run as convolution → pooling → ReLU.

    Holds the two layers and takes their place in a model's passes: ``forward`` and
    ``backward`` behave as the pair called one after the other, and leave the parameters'
    gradients in the convolution's ``grads``.
    """

    def __init__(self, conv: Conv2D, pool: MaxPool2D) -> None:
        self.conv = conv
        self.pool = pool
        self._positive: NDArray[Any] | None = None

    def forward(self, x: NDArray[Any], training: bool) -> NDArray[Any]:
        """The pair's output for a batch ``x`` (see :meth:`cnnlib.layers.Layer.forward`)."""
        conv = self.conv
        conv._check(x, conv.input_shape, "input")
        # what the convolution keeps is for this pair's backward pass, not its own
        conv._ready_for_backward = False
        y = self.pool.forward(conv._forward_core(x, training), training)
        self._positive = np.greater(y, 0) if training else None
        np.maximum(y, y.dtype.type(0), out=y)  # the pooled map is the pair's own array
        return y

    def backward(self, grad: NDArray[Any]) -> NDArray[Any] | None:
        """``∂L/∂x`` from ``∂L/∂y``; the convolution's ``grads`` are filled."""
        if self._positive is None:
            raise RuntimeError(
                f"{self.conv.name} and {self.pool.name}: backward needs a forward pass "
                "with training=True first"
            )
        pooled = self.pool.backward(through_relu(grad, self._positive))
        assert pooled is not None  # pooling always passes a gradient back
        return self.conv._backward_core(pooled)


def fuse(layers: Sequence[Layer]) -> list[Layer | PoolThenReLU]:
    """The passes of a layer sequence: each convolution-ReLU + max pooling pair as one.

    Only a :class:`~cnnlib.layers.conv.Conv2D` whose activation is ``"relu"``, directly
    followed by a :class:`~cnnlib.layers.pooling.MaxPool2D`, is paired (the classes
    themselves: a subclass may compute something else); every other layer stays as it is.
    """
    units: list[Layer | PoolThenReLU] = []
    index = 0
    while index < len(layers):
        layer = layers[index]
        after = layers[index + 1] if index + 1 < len(layers) else None
        if type(layer) is Conv2D and layer._fused_relu and type(after) is MaxPool2D:
            units.append(PoolThenReLU(layer, after))
            index += 2
        else:
            units.append(layer)
            index += 1
    return units
