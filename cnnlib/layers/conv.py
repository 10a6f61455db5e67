"""Convolution layers (chapters 1, 3 and 5): shared weights, and unshared (locally connected)."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from cnnlib.conv import Workspace, conv2d_backward_columns, conv2d_forward, conv_spec
from cnnlib.geometry import IntOrPair, Padding2D
from cnnlib.im2col import col2im, im2col
from cnnlib.layers._activated import Activated
from cnnlib.layers.activations import ReLU

__all__ = ["Conv2D", "LocallyConnected2D"]


class _Windowed(Activated):
    """What both convolution layers share: filters slid as windows over the input."""

    def __init__(
        self,
        filters: int,
        kernel_size: IntOrPair,
        stride: IntOrPair,
        padding: Padding2D,
        use_bias: bool,
        activation: str | None,
        kernel_initializer: str,
        name: str | None,
    ) -> None:
        super().__init__(use_bias, activation, kernel_initializer, name)
        self.filters = filters
        self.kernel_size = kernel_size
        self.stride = stride
        self.padding = padding

    def _kernel(self) -> tuple[int, int]:
        size = self.kernel_size
        return (size, size) if isinstance(size, int) else (int(size[0]), int(size[1]))

    def config(self) -> dict[str, Any]:
        """The constructor's arguments."""
        return {
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "stride": self.stride,
            "padding": self.padding,
            **super().config(),
        }


class Conv2D(_Windowed):
    r"""A convolutional layer: ``filters`` kernels slid over the input (cross-correlation).

    .. math:: Y[n, f] = b[f] + \sum_c W[f, c] \star X[n, c]

    The input depth ``C`` is read from the input when the model is built, so layers are
    written as in Keras: ``Conv2D(32, 3, padding="same", activation="relu")``.

    Parameters
    ----------
    filters
        ``F``, the number of output channels.
    kernel_size, stride, dilation
        An int or ``(height, width)``.
    padding
        An int, ``(pad_h, pad_w)``, ``"valid"`` or ``"same"``.
    groups
        Split channels and filters into groups (``groups = C = F`` is depthwise).
    use_bias
        Learn one bias per filter.
    activation
        Apply this activation to the output (``"relu"``, ``"sigmoid"``, …); ``None`` for none.
    kernel_initializer
        Name of a :mod:`cnnlib.init` function; He normal suits ReLU networks.

    Notes
    -----
    Weights are ``(F, C/groups, k_h, k_w)`` (PyTorch's layout), He-normal by default;
    biases start at zero. The forward pass keeps its im2col columns (or Winograd tiles) for
    the backward pass and reuses its buffers from batch to batch. A ``"relu"`` activation
    is fused into the convolution (``conv2d_forward(..., relu=True)``): the same numbers as
    a separate :class:`~cnnlib.layers.activations.ReLU`, with fewer passes over the output.
    """

    def __init__(
        self,
        filters: int,
        kernel_size: IntOrPair,
        stride: IntOrPair = 1,
        padding: Padding2D = 0,
        dilation: IntOrPair = 1,
        groups: int = 1,
        use_bias: bool = True,
        activation: str | None = None,
        kernel_initializer: str = "he_normal",
        name: str | None = None,
    ) -> None:
        super().__init__(
            filters, kernel_size, stride, padding, use_bias, activation, kernel_initializer, name
        )
        self.dilation = dilation
        self.groups = groups
        self._workspace = Workspace()
        self._saved: Any = None

    def _hyper(self) -> dict[str, Any]:
        return {
            "stride": self.stride,
            "padding": self.padding,
            "dilation": self.dilation,
            "groups": self.groups,
        }

    def _build_core(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        channels, height, width = self._image_shape(input_shape)
        groups = int(self.groups)
        per_group = channels // groups if channels % groups == 0 else 0
        shape = (int(self.filters), per_group, *self._kernel())
        spec = conv_spec(
            (1, channels, height, width), shape, owner=f"{self.name} (Conv2D)", **self._hyper()
        )
        self.params = {"weight": self._initialise(spec.weight_shape, self.rng, self.dtype)}
        if self.use_bias:
            self.params["bias"] = np.zeros(spec.filters, dtype=self.dtype)
        return spec.output_shape[1:]

    @property
    def _fused_relu(self) -> bool:
        """A ReLU activation is computed by the convolution itself (see ``conv2d_forward``)."""
        return type(self.activation) is ReLU

    def _forward(self, x: NDArray[Any], training: bool) -> NDArray[Any]:
        if not self._fused_relu:
            return super()._forward(x, training)
        return self._convolve(x, training, relu=True)

    def _backward(self, grad: NDArray[Any]) -> NDArray[Any] | None:
        if not self._fused_relu:
            return super()._backward(grad)
        return self._backward_core(grad)  # the saved mask takes the gradient through the ReLU

    def _forward_core(self, x: NDArray[Any], training: bool) -> NDArray[Any]:
        return self._convolve(x, training, relu=False)

    def _convolve(self, x: NDArray[Any], training: bool, relu: bool) -> NDArray[Any]:
        y, saved = conv2d_forward(
            x,
            self.params["weight"],
            self.params.get("bias"),
            workspace=self._workspace,
            relu=relu,
            **self._hyper(),
        )
        self._saved = saved if training else None
        return y

    def _backward_core(self, grad: NDArray[Any]) -> NDArray[Any] | None:
        assert self._saved is not None  # Layer.backward checked for a training forward pass
        dx, dw, db = conv2d_backward_columns(
            grad, self.params["weight"], self._saved, self.needs_input_grad
        )
        self.grads = {"weight": dw}
        if self.use_bias:
            self.grads["bias"] = db
        return dx

    def config(self) -> dict[str, Any]:
        """The constructor's arguments."""
        return {**super().config(), "dilation": self.dilation, "groups": self.groups}


class LocallyConnected2D(_Windowed):
    r"""A convolution without weight sharing: every output position has its own filters.

    .. math:: Y[n, f, i, j] = b[f, i, j] + \sum_{c, m, l} W_{ij}[f, c, m, l]\,
              X_p[n, c,\; i s_h + m,\; j s_w + l]

    Useful where positions really differ (aligned faces); it has
    ``H_out·W_out`` times the parameters of :class:`Conv2D` (chapter 1). Computed as one
    small matrix product per output position on the im2col columns.

    Parameters
    ----------
    filters, kernel_size, stride, padding, use_bias, activation, kernel_initializer
        As for :class:`Conv2D` (no dilation or groups).
    """

    def __init__(
        self,
        filters: int,
        kernel_size: IntOrPair,
        stride: IntOrPair = 1,
        padding: Padding2D = 0,
        use_bias: bool = True,
        activation: str | None = None,
        kernel_initializer: str = "he_normal",
        name: str | None = None,
    ) -> None:
        super().__init__(
            filters, kernel_size, stride, padding, use_bias, activation, kernel_initializer, name
        )

    def _build_core(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        channels, height, width = self._image_shape(input_shape)
        kernel = self._kernel()
        self._spec = conv_spec(
            (1, channels, height, width),
            (int(self.filters), channels, *kernel),
            self.stride,
            self.padding,
            owner=f"{self.name} (LocallyConnected2D)",
        )
        positions = self._spec.out_height * self._spec.out_width
        taps = channels * kernel[0] * kernel[1]
        self.params = {
            "weight": self._initialise((positions, self._spec.filters, taps), self.rng, self.dtype)
        }
        if self.use_bias:
            shape = (self._spec.filters, self._spec.out_height, self._spec.out_width)
            self.params["bias"] = np.zeros(shape, dtype=self.dtype)
        return self._spec.output_shape[1:]

    def _forward_core(self, x: NDArray[Any], training: bool) -> NDArray[Any]:
        spec, n = self._spec, x.shape[0]
        cols = im2col(x, spec.kernel, spec.stride, spec.padding)  # (K, N·P)
        per_position = cols.reshape(cols.shape[0], n, -1).transpose(2, 0, 1)  # (P, K, N)
        self._cols = per_position if training else None
        out = np.matmul(self.params["weight"], per_position)  # (P, F, N)
        y = out.transpose(2, 1, 0).reshape(n, spec.filters, spec.out_height, spec.out_width)
        if self.use_bias:
            y = y + self.params["bias"]
        return np.ascontiguousarray(y)

    def _backward_core(self, grad: NDArray[Any]) -> NDArray[Any] | None:
        assert self._cols is not None  # Layer.backward checked for a training forward pass
        spec, n = self._spec, grad.shape[0]
        per_position = grad.reshape(n, spec.filters, -1).transpose(2, 1, 0)  # (P, F, N)
        self.grads = {"weight": np.matmul(per_position, self._cols.transpose(0, 2, 1))}
        if self.use_bias:
            self.grads["bias"] = grad.sum(axis=0)
        if not self.needs_input_grad:
            return None
        dcols = np.matmul(self.params["weight"].transpose(0, 2, 1), per_position)  # (P, K, N)
        matrix = dcols.transpose(1, 2, 0).reshape(dcols.shape[1], -1)  # (K, N·P)
        assert self.input_shape is not None
        return col2im(matrix, (n, *self.input_shape), spec.kernel, spec.stride, spec.padding)
