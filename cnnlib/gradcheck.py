r"""Numerical gradients and gradient checks (chapter 3).

A backward pass is easy to get subtly wrong, and easy to check: the derivative of a scalar
loss :math:`L` with respect to one input value is approximated by the central difference

.. math:: \frac{\partial L}{\partial x_k} \approx
          \frac{L(x + h e_k) - L(x - h e_k)}{2h},

whose truncation error shrinks like :math:`h^2`. For a function with an array output
``y = f(x)`` the loss is :math:`L = \sum dY \odot f(x)` for a fixed random "upstream
gradient" ``dY``, so that the analytic backward pass, given ``dY``, must return exactly
:math:`\partial L/\partial x`.

The two are compared with the relative error of every entry,

.. math:: e_k = \frac{|a_k - n_k|}{\max(|a_k| + |n_k|,\ 10^{-8})},

and the check reports the worst entry: where it is, and both values. In float64 a correct
gradient typically gives :math:`e < 10^{-7}`; a wrong one gives errors of order 1. Use
float64: in float32 rounding swamps the difference quotient.

The step balances two errors: truncation, which grows like :math:`h^2`, and rounding in
the two loss values, which grows like :math:`\varepsilon_\text{machine}\,|L| / h`. The
default :math:`h = 10^{-5}` keeps both near :math:`10^{-10}` for losses of order 100.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

if TYPE_CHECKING:
    from cnnlib.layers import Layer

__all__ = [
    "GradientCheckError",
    "GradientReport",
    "check_gradients",
    "check_layer",
    "numerical_gradient",
    "relative_error",
]

_FLOOR = 1e-8


class GradientCheckError(AssertionError):
    """An analytic gradient disagrees with the numerical one; the message says where."""


def _float64(value: ArrayLike, name: str, owner: str) -> NDArray[np.float64]:
    array = np.asarray(value)
    if array.dtype != np.float64:
        raise TypeError(
            f"{owner}: {name} has dtype {array.dtype}; numerical gradients need float64 "
            f"(in lower precision rounding swamps the difference quotient): pass "
            f"{name}.astype(np.float64)"
        )
    return array


def numerical_gradient(
    f: Callable[[NDArray[np.float64]], ArrayLike],
    x: ArrayLike,
    upstream: ArrayLike | None = None,
    eps: float = 1e-5,
) -> NDArray[np.float64]:
    r"""Central-difference gradient of :math:`L(x) = \sum \text{upstream} \odot f(x)`.

    Parameters
    ----------
    f
        A function of one float64 array. It may return a scalar (then ``upstream`` must be
        ``None``) or an array.
    x
        The point, float64. It is perturbed in place one entry at a time and restored.
    upstream
        The weights of the outputs in the loss, shaped like ``f(x)``; ``None`` means the sum
        of a scalar output.
    eps
        The step :math:`h`.

    Returns
    -------
    numpy.ndarray
        ``∂L/∂x``, shaped like ``x``.

    Examples
    --------
    >>> x = np.array([1.0, 2.0, 3.0])
    >>> np.round(numerical_gradient(lambda v: np.sum(v**2), x), 6)
    array([2., 4., 6.])
    """
    owner = "numerical_gradient"
    point = _float64(x, "x", owner)
    weights = None if upstream is None else _float64(upstream, "upstream", owner)

    def loss() -> float:
        value = np.asarray(f(point), dtype=np.float64)
        if weights is None:
            if value.ndim:
                raise ValueError(
                    f"{owner}: f returned an array of shape {value.shape}; pass the upstream "
                    "gradient it should be weighted with (or make f return a scalar)"
                )
            return float(value)
        if value.shape != weights.shape:
            raise ValueError(
                f"{owner}: f returned shape {value.shape} but upstream has shape {weights.shape}"
            )
        return float(np.sum(value * weights))

    grad = np.zeros_like(point)
    for index in np.ndindex(point.shape):
        original = point[index]
        point[index] = original + eps
        plus = loss()
        point[index] = original - eps
        minus = loss()
        point[index] = original
        grad[index] = (plus - minus) / (2 * eps)
    return grad


def relative_error(analytic: ArrayLike, numerical: ArrayLike) -> float:
    """The worst entry of ``|a − n| / max(|a| + |n|, 1e-8)``.

    Examples
    --------
    >>> round(relative_error([1.0, 2.0], [1.0, 2.0002]), 6)
    5e-05
    """
    a, n = np.asarray(analytic, dtype=np.float64), np.asarray(numerical, dtype=np.float64)
    if a.shape != n.shape:
        raise ValueError(f"relative_error: shapes differ, {a.shape} and {n.shape}")
    if a.size == 0:
        return 0.0
    return float(np.max(_errors(a, n)))


def _errors(a: NDArray[np.float64], n: NDArray[np.float64]) -> NDArray[np.float64]:
    errors: NDArray[np.float64] = np.abs(a - n) / np.maximum(np.abs(a) + np.abs(n), _FLOOR)
    return errors


@dataclass(frozen=True)
class GradientReport:
    """How one input's analytic gradient compares with the numerical one.

    Attributes
    ----------
    name
        The input.
    error
        The worst relative error over its entries.
    index
        Where the worst entry is.
    analytic, numerical
        Both values there.
    tolerance
        The largest error that passes.
    """

    name: str
    error: float
    index: tuple[int, ...]
    analytic: float
    numerical: float
    tolerance: float

    @property
    def passed(self) -> bool:
        """Whether ``error <= tolerance`` (a NaN error fails)."""
        return bool(self.error <= self.tolerance)

    def __str__(self) -> str:
        """One line: the worst error, where it is and both values."""
        verdict = "ok" if self.passed else f"FAILED (tolerance {self.tolerance:.0e})"
        return (
            f"{self.name}: max relative error {self.error:.2e} at index {self.index}: "
            f"analytic {self.analytic:.8g}, numerical {self.numerical:.8g} — {verdict}"
        )


def _compare(
    name: str, analytic: ArrayLike, numerical: NDArray[np.float64], tolerance: float
) -> GradientReport:
    a = np.asarray(analytic, dtype=np.float64)
    if a.shape != numerical.shape:
        raise GradientCheckError(
            f"{name}: the analytic gradient has shape {a.shape}, but {name} has shape "
            f"{numerical.shape}; a gradient has the shape of what it differentiates"
        )
    errors = _errors(a, numerical)
    errors = np.where(np.isnan(errors), np.inf, errors)
    flat = int(np.argmax(errors)) if errors.size else 0
    index = tuple(int(i) for i in np.unravel_index(flat, a.shape)) if a.size else ()
    worst = float(errors.flat[flat]) if errors.size else 0.0
    return GradientReport(
        name=name,
        error=worst,
        index=index,
        analytic=float(a[index]) if a.size else 0.0,
        numerical=float(numerical[index]) if a.size else 0.0,
        tolerance=tolerance,
    )


def check_gradients(
    forward: Callable[..., ArrayLike],
    backward: Callable[..., Sequence[ArrayLike] | Mapping[str, ArrayLike]],
    inputs: Mapping[str, ArrayLike],
    *,
    upstream: ArrayLike | None = None,
    eps: float = 1e-5,
    tolerance: float = 1e-6,
    seed: int = 0,
) -> list[GradientReport]:
    """Compare an analytic backward pass with central differences, for every input.

    Parameters
    ----------
    forward
        ``forward(**inputs) -> y``.
    backward
        ``backward(dy, **inputs)`` returning the gradients of ``Σ dy ⊙ y`` — a sequence in
        the order of ``inputs``, or a mapping from input names.
    inputs
        The float64 arrays to differentiate with respect to, by name.
    upstream
        ``dy``; by default standard normal values drawn with ``seed``.
    eps, tolerance
        Finite-difference step and the largest relative error that passes.
    seed
        Seed of the random upstream gradient.

    Returns
    -------
    list of GradientReport
        One per input, in order.

    Raises
    ------
    GradientCheckError
        If any input's worst relative error exceeds ``tolerance``; the message lists every
        input's report, so the failing gradient and the entry are named.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> a, b = rng.normal(size=(2, 3)), rng.normal(size=(3, 4))
    >>> reports = check_gradients(
    ...     lambda a, b: a @ b,
    ...     lambda dy, a, b: (dy @ b.T, a.T @ dy),
    ...     {"a": a, "b": b},
    ... )
    >>> [report.passed for report in reports]
    [True, True]
    """
    owner = "check_gradients"
    arrays = {name: _float64(value, name, owner).copy() for name, value in inputs.items()}
    y = np.asarray(forward(**arrays))
    if upstream is None:
        dy = np.random.default_rng(seed).standard_normal(y.shape)
    else:
        dy = _float64(upstream, "upstream", owner)
    grads = backward(dy, **{name: value.copy() for name, value in arrays.items()})
    if isinstance(grads, Mapping):
        missing = set(arrays) - set(grads)
        if missing:
            raise GradientCheckError(f"backward returned no gradient for {sorted(missing)}")
        analytic = [grads[name] for name in arrays]
    else:
        analytic = list(grads)
        if len(analytic) != len(arrays):
            raise GradientCheckError(
                f"backward returned {len(analytic)} gradients for {len(arrays)} inputs "
                f"({', '.join(arrays)})"
            )
    reports = []
    for (name, value), grad in zip(arrays.items(), analytic, strict=True):

        def along(v: NDArray[np.float64], name: str = name) -> ArrayLike:
            return forward(**{**arrays, name: v})

        numerical = numerical_gradient(along, value, dy, eps)
        reports.append(_compare(name, grad, numerical, tolerance))
    if not all(report.passed for report in reports):
        raise GradientCheckError("gradient check failed:\n" + "\n".join(f"  {r}" for r in reports))
    return reports


def check_layer(
    layer: Layer,
    x: ArrayLike,
    *,
    training: bool = True,
    eps: float = 1e-5,
    tolerance: float = 1e-6,
    seed: int = 0,
) -> list[GradientReport]:
    """Check a layer's ``backward`` — for its input and every parameter — numerically.

    The layer is built in float64 for ``x`` if it is not built yet. Layers that draw random
    numbers (dropout) get the same generator state before every forward pass, so the
    function being differentiated does not change from one evaluation to the next.

    Parameters
    ----------
    layer
        Any :class:`cnnlib.layers.Layer`.
    x
        A float64 batch.
    training
        Run the forward pass in training mode (what ``backward`` needs).
    eps, tolerance, seed
        As in :func:`check_gradients`.

    Returns
    -------
    list of GradientReport
        For ``x`` first, then each parameter.

    Raises
    ------
    GradientCheckError
        If any gradient is off, naming it and its worst entry.

    Examples
    --------
    >>> from cnnlib.layers import Conv2D
    >>> x = np.random.default_rng(0).normal(size=(2, 3, 5, 5))
    >>> [r.name for r in check_layer(Conv2D(4, 3, stride=2), x)]
    ['x', 'weight', 'bias']
    """
    batch = _float64(x, "x", "check_layer").copy()
    if not layer.built:
        layer.build(batch.shape[1:], np.random.default_rng(seed), np.float64)
    names = list(layer.params)

    def run(inputs: Mapping[str, NDArray[np.float64]]) -> NDArray[Any]:
        for name in names:
            layer.params[name][...] = inputs[name]
        if layer.stochastic:
            layer.rng = np.random.default_rng(seed)
        return layer.forward(inputs["x"], training=training)

    def forward(**inputs: NDArray[np.float64]) -> NDArray[Any]:
        return run(inputs)

    def backward(dy: NDArray[np.float64], **inputs: NDArray[np.float64]) -> dict[str, Any]:
        run(inputs)
        dx = layer.backward(dy)
        return {"x": dx, **{name: layer.grads[name] for name in names}}

    start = {"x": batch, **{name: layer.params[name].copy() for name in names}}
    try:
        return check_gradients(forward, backward, start, eps=eps, tolerance=tolerance, seed=seed)
    finally:
        run(start)  # leave the layer with its original parameters
