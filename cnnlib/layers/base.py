"""The :class:`Layer` interface every layer implements (chapter 5).

A layer maps a batch ``x`` of shape ``(N, *input_shape)`` to ``(N, *output_shape)``. It is
*built* once the shape of one sample is known: then it creates its parameters (drawn from
the model's seeded generator) and knows both shapes, so that every later call can check
its input and name the layer when something does not fit.

``forward(x, training)`` remembers what ``backward`` needs; ``backward(grad)`` takes
``∂L/∂y`` and returns ``∂L/∂x``, leaving ``∂L/∂θ`` for each parameter in ``grads``.
"""

from __future__ import annotations

import inspect
import itertools
from typing import Any, ClassVar

import numpy as np
from numpy.typing import ArrayLike, DTypeLike, NDArray

__all__ = ["Layer", "shape_text"]

_counters: dict[str, itertools.count[int]] = {}


def shape_text(shape: tuple[int, ...]) -> str:
    """A batch shape with its batch axis shown as ``N``: ``(N, 32, 14, 14)``."""
    return "(" + ", ".join(["N", *(str(n) for n in shape)]) + ")"


class Layer:
    """Base class of every layer.

    Attributes
    ----------
    name
        Unique within a model (``conv2d_1``, ``dense_2``, …); error messages use it. A
        layer without a given name is numbered by kind: first across the session, then
        again within the :class:`cnnlib.model.Sequential` it joins (``conv2d_1`` is that model's
        first ``Conv2D``).
    input_shape, output_shape
        The shape of one sample, known once the layer is built.
    params, grads
        Parameter arrays by name (``"weight"``, ``"bias"``) and, after ``backward``, their
        gradients.
    needs_input_grad
        Whether ``backward`` must compute ``∂L/∂x``; a model switches it off for its first
        layer, whose input gradient nobody uses.
    """

    #: Layers with randomness (dropout) draw from ``rng``; the model seeds it.
    stochastic: ClassVar[bool] = False

    def __init__(self, name: str | None = None) -> None:
        kind = type(self).__name__.lower()
        counter = _counters.setdefault(kind, itertools.count(1))
        self.name = name if name is not None else f"{kind}_{next(counter)}"
        self.auto_named = name is None
        self.input_shape: tuple[int, ...] | None = None
        self.output_shape: tuple[int, ...] | None = None
        self.params: dict[str, NDArray[Any]] = {}
        self.grads: dict[str, NDArray[Any]] = {}
        self.needs_input_grad = True
        self._ready_for_backward = False
        self.rng = np.random.default_rng(0)
        self.dtype: np.dtype[Any] = np.dtype(np.float32)

    def rename(self, name: str) -> None:
        """Give the layer a new name (and any layer it owns a matching one)."""
        self.name = name

    # ------------------------------------------------------------------ building
    @property
    def built(self) -> bool:
        """Whether the layer knows its input shape (and has its parameters)."""
        return self.input_shape is not None

    def build(
        self,
        input_shape: tuple[int, ...],
        rng: np.random.Generator | None = None,
        dtype: DTypeLike = np.float32,
    ) -> tuple[int, ...]:
        """Create the parameters for one sample of ``input_shape``; return the output shape.

        Parameters
        ----------
        input_shape
            The shape of one sample, e.g. ``(1, 28, 28)``.
        rng
            Draws the initial weights (and, for dropout, the masks).
        dtype
            float32 (training) or float64 (gradient checks).
        """
        shape = tuple(int(n) for n in input_shape)
        self.dtype = np.dtype(dtype)
        self.rng = rng if rng is not None else np.random.default_rng(0)
        self.output_shape = self._build(shape)
        self.input_shape = shape
        return self.output_shape

    def _build(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        """Create parameters and return the output shape; the default keeps the shape."""
        return input_shape

    # ------------------------------------------------------------------- passes
    def forward(self, x: ArrayLike, training: bool = False) -> NDArray[Any]:
        """``y`` for a batch ``x``; ``training`` enables dropout and keeps what backward needs."""
        array = np.asarray(x)
        if not self.built:
            self.build(
                array.shape[1:], dtype=array.dtype if array.dtype.kind == "f" else np.float32
            )
        self._check(array, self.input_shape, "input")
        self._ready_for_backward = training
        return self._forward(array, training)

    def backward(self, grad: ArrayLike) -> NDArray[Any] | None:
        """``∂L/∂x`` from ``∂L/∂y``; parameter gradients land in ``grads``.

        Returns ``None`` when :attr:`needs_input_grad` is off.
        """
        if not self._ready_for_backward:
            raise RuntimeError(
                f"{self.name} ({type(self).__name__}): backward needs a forward pass with "
                "training=True first (an inference pass keeps nothing for it)"
            )
        array = np.asarray(grad)
        self._check(array, self.output_shape, "output gradient")
        return self._backward(array)

    def _forward(self, x: NDArray[Any], training: bool) -> NDArray[Any]:
        raise NotImplementedError

    def _backward(self, grad: NDArray[Any]) -> NDArray[Any] | None:
        raise NotImplementedError

    def _image_shape(self, input_shape: tuple[int, ...]) -> tuple[int, int, int]:
        """``(C, H, W)`` of one image, for layers that take images; an error naming the layer."""
        if len(input_shape) != 3:
            raise ValueError(
                f"{self.name} ({type(self).__name__}): expects images of shape (N, C, H, W), "
                f"got inputs of shape {shape_text(input_shape)}"
            )
        return input_shape[0], input_shape[1], input_shape[2]

    def _check(self, array: NDArray[Any], shape: tuple[int, ...] | None, what: str) -> None:
        assert shape is not None
        if array.ndim != len(shape) + 1 or array.shape[1:] != shape:
            raise ValueError(
                f"{self.name} ({type(self).__name__}): expected {what} of shape "
                f"{shape_text(shape)}, got {array.shape}"
            )
        if array.dtype.kind != "f":
            raise TypeError(
                f"{self.name} ({type(self).__name__}): {what} has dtype {array.dtype}; "
                "expected float32 or float64"
            )
        if array.shape[0] == 0:
            raise ValueError(f"{self.name} ({type(self).__name__}): the batch is empty")

    # --------------------------------------------------------------- describing
    def unbuilt_copy(self, name: str | None = None) -> Layer:
        """A new, unbuilt layer of the same class and configuration.

        It is named ``name``, or this layer's name; either way the automatic numbering of
        layer names is left alone.
        """
        return type(self)(**self.config(), name=self.name if name is None else name)

    def count_params(self) -> int:
        """The number of learnable values."""
        return sum(int(p.size) for p in self.params.values())

    def config(self) -> dict[str, Any]:
        """The constructor's arguments: enough to rebuild the layer (and to save a model)."""
        return {}

    def __repr__(self) -> str:
        """The constructor call that makes this layer, e.g. ``Conv2D(32, 3, padding='same')``.

        Required arguments and the first one are written positionally; the others only
        when they differ from their defaults, by keyword.
        """
        config = self.config()
        parts = []
        for position, (name, parameter) in enumerate(
            inspect.signature(type(self).__init__).parameters.items()
        ):
            if name not in config:
                continue
            if parameter.default is inspect.Parameter.empty or (
                position == 1 and config[name] != parameter.default
            ):
                parts.append(repr(config[name]))
            elif config[name] != parameter.default:
                parts.append(f"{name}={config[name]!r}")
        return f"{type(self).__name__}({', '.join(parts)})"
