"""Pooling layers (chapter 4): no parameters, only a window to summarise."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from cnnlib import pooling
from cnnlib.geometry import IntOrPair
from cnnlib.layers.base import Layer

__all__ = [
    "AvgPool2D",
    "ConcatPool2D",
    "GlobalAvgPool2D",
    "GlobalMaxPool2D",
    "MaxPool2D",
    "MinPool2D",
]


class _Pool(Layer):
    """A sliding-window pooling of ``(N, C, H, W)``; ``stride`` defaults to the window size."""

    def __init__(
        self,
        kernel_size: IntOrPair,
        stride: IntOrPair | None = None,
        padding: IntOrPair = 0,
        name: str | None = None,
    ) -> None:
        super().__init__(name)
        self.kernel_size = kernel_size
        self.stride = stride
        self.padding = padding

    def _build(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        spec = pooling.pool_spec(
            (1, *self._image_shape(input_shape)),
            self.kernel_size,
            self.stride,
            self.padding,
            f"{self.name} ({type(self).__name__})",
        )
        return spec.output_shape[1:]

    def _args(self) -> tuple[IntOrPair, IntOrPair | None, IntOrPair]:
        return self.kernel_size, self.stride, self.padding

    def config(self) -> dict[str, Any]:
        """The constructor's arguments."""
        return {"kernel_size": self.kernel_size, "stride": self.stride, "padding": self.padding}


class _WinnerPool(_Pool):
    """Max or min pooling: the forward pass records each window's winner for the backward.

    Pooling works on each ``(image, channel)`` plane alone, so it runs on whichever of the
    ``(N, C, H, W)`` and ``(C, N, H, W)`` orders the input has in memory — a convolution's
    output has the second (see :func:`cnnlib.conv.conv2d`) — and returns the same order,
    forward and backward: the copies it makes, and the next convolution's, are then long
    runs instead of one per image and channel.
    """

    kind: str  # "max" or "min", set by each subclass

    def _forward(self, x: NDArray[Any], training: bool) -> NDArray[Any]:
        self._channels_first = _channels_first(x)
        planes = _swap(x) if self._channels_first else x
        if not training:  # nothing to record
            plain = pooling.max_pool2d if self.kind == "max" else pooling.min_pool2d
            y = plain(planes, *self._args())
        else:
            y, self._index, self._spec = pooling.pool2d_with_winners(
                planes, *self._args(), self.kind
            )
        return _swap(y) if self._channels_first else y

    def _backward(self, grad: NDArray[Any]) -> NDArray[Any]:
        if not self._channels_first:
            return pooling.route_to_winners(grad, self._index, self._spec, self.name)
        # in the order of the forward pass (a Flatten after it sends NCHW): one short copy
        planes = np.ascontiguousarray(_swap(grad))
        return _swap(pooling.route_to_winners(planes, self._index, self._spec, self.name))


def _channels_first(x: NDArray[Any]) -> bool:
    """Whether a batch of images is laid out ``(C, N, H, W)`` in memory (and not NCHW)."""
    return not x.flags.c_contiguous and _swap(x).flags.c_contiguous


def _swap(x: NDArray[Any]) -> NDArray[Any]:
    """The first two axes exchanged: ``(N, C, H, W)`` ↔ ``(C, N, H, W)``, a view."""
    return x.transpose(1, 0, 2, 3)


class MaxPool2D(_WinnerPool):
    """Max pooling; the gradient goes to each window's (first) maximum, as in PyTorch."""

    kind = "max"


class MinPool2D(_WinnerPool):
    """Min pooling; the gradient goes to each window's (first) minimum."""

    kind = "min"


class AvgPool2D(_Pool):
    """Average pooling (zero padding counts in the average)."""

    def _forward(self, x: NDArray[Any], training: bool) -> NDArray[Any]:
        if training:  # the backward pass needs only the sizes
            self._spec = pooling.pool_spec(x.shape, *self._args(), self.name)
        return pooling.avg_pool2d(x, *self._args())

    def _backward(self, grad: NDArray[Any]) -> NDArray[Any]:
        return pooling.spread_to_windows(grad, self._spec, self.name)


class ConcatPool2D(_Pool):
    """Max ‖ average pooling on the channel axis: ``C`` channels in, ``2C`` out."""

    def _build(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        channels, height, width = super()._build(input_shape)
        return 2 * channels, height, width

    def _forward(self, x: NDArray[Any], training: bool) -> NDArray[Any]:
        if not training:  # nothing to record
            return pooling.concat_pool2d(x, *self._args())
        maxima, self._index, self._spec = pooling.pool2d_with_winners(x, *self._args(), "max")
        return np.concatenate([maxima, pooling.avg_pool2d(x, *self._args())], axis=1)

    def _backward(self, grad: NDArray[Any]) -> NDArray[Any]:
        channels = grad.shape[1] // 2
        dx = pooling.route_to_winners(grad[:, :channels], self._index, self._spec, self.name)
        dx += pooling.spread_to_windows(grad[:, channels:], self._spec, self.name)
        return dx


class _GlobalPool(Layer):
    """Pool each channel over all positions: ``(N, C, H, W) → (N, C)``, for any ``H, W``."""

    def _build(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        return (self._image_shape(input_shape)[0],)


class GlobalAvgPool2D(_GlobalPool):
    """The average of each channel: a classifier head whose size does not depend on the image's."""

    def _forward(self, x: NDArray[Any], training: bool) -> NDArray[Any]:
        self._x_shape = x.shape
        return pooling.global_avg_pool2d(x)

    def _backward(self, grad: NDArray[Any]) -> NDArray[Any]:
        return pooling.global_avg_pool2d_backward(grad, np.empty(self._x_shape, grad.dtype))


class GlobalMaxPool2D(_GlobalPool):
    """The maximum of each channel."""

    def _forward(self, x: NDArray[Any], training: bool) -> NDArray[Any]:
        self._x = x if training else None
        return pooling.global_max_pool2d(x)

    def _backward(self, grad: NDArray[Any]) -> NDArray[Any]:
        assert self._x is not None
        return pooling.global_max_pool2d_backward(grad, self._x)
