r"""Loss functions and their gradients (chapter 5).

Every loss averages over the batch and returns, with its value, the gradient with respect
to the predictions — the ``∂L/∂y`` that starts the backward pass.

Binary cross-entropy, on probabilities :math:`p = \sigma(z)` and labels :math:`t \in \{0, 1\}`:

.. math::

   L = -\frac1n \sum_i \big(t_i \log p_i + (1 - t_i) \log(1 - p_i)\big), \qquad
   \frac{\partial L}{\partial p_i}
   = \frac1n\Big(\frac{1 - t_i}{1 - p_i} - \frac{t_i}{p_i}\Big).

On the logits :math:`z` it is computed as :math:`\max(z, 0) - z t + \log(1 + e^{-|z|})`,
which never overflows, and its gradient simplifies to :math:`(\sigma(z) - t)/n`.

Cross-entropy from logits, with log-softmax computed by the log-sum-exp trick
(:math:`\log \sum_j e^{z_j} = m + \log \sum_j e^{z_j - m}`, :math:`m = \max_j z_j`):

.. math::

   L = -\frac1n \sum_i \log \operatorname{softmax}(z_i)_{t_i}, \qquad
   \frac{\partial L}{\partial z_i}
   = \frac1n\big(\operatorname{softmax}(z_i) - \mathbf 1_{t_i}\big).

Mean squared error: :math:`L = \frac1n \sum (y - t)^2` over all entries, gradient
:math:`2(y - t)/n`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from cnnlib.layers.activations import sigmoid

__all__ = [
    "MSE",
    "BinaryCrossEntropy",
    "CrossEntropy",
    "Loss",
    "MeanSquaredError",
    "log_softmax",
]


def log_softmax(logits: NDArray[Any]) -> NDArray[Any]:
    """``log softmax`` along axis 1 by the log-sum-exp trick: no overflow, no ``log 0``."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    result: NDArray[Any] = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return result


class Loss:
    """A loss: ``loss(prediction, target)`` is its value, ``forward`` also its gradient."""

    #: Whether predictions are classified by the largest score (for the accuracy metric).
    kind = "regression"

    def __call__(self, prediction: ArrayLike, target: ArrayLike) -> float:
        """The loss value."""
        return self.forward(prediction, target)[0]

    def forward(self, prediction: ArrayLike, target: ArrayLike) -> tuple[float, NDArray[Any]]:
        """``(loss, ∂loss/∂prediction)``."""
        raise NotImplementedError

    def config(self) -> dict[str, Any]:
        """The constructor's arguments."""
        return {}

    def __repr__(self) -> str:
        """E.g. ``CrossEntropy()``."""
        arguments = ", ".join(f"{k}={v!r}" for k, v in self.config().items())
        return f"{type(self).__name__}({arguments})"


def _predictions(prediction: ArrayLike, owner: str) -> NDArray[Any]:
    array = np.asarray(prediction)
    if array.dtype.kind != "f":
        raise TypeError(f"{owner}: predictions have dtype {array.dtype}; expected floating point")
    if array.size == 0:
        raise ValueError(f"{owner}: the batch is empty")
    return array


class MeanSquaredError(Loss):
    """The mean of the squared differences over all entries."""

    def forward(self, prediction: ArrayLike, target: ArrayLike) -> tuple[float, NDArray[Any]]:
        """``(mean (y − t)², 2 (y − t) / n)``."""
        y = _predictions(prediction, "MeanSquaredError")
        t = np.asarray(target, dtype=y.dtype)
        if t.shape != y.shape:
            raise ValueError(
                f"MeanSquaredError: targets have shape {t.shape}, predictions {y.shape}"
            )
        diff = y - t
        return float(np.mean(diff**2)), (2 / diff.size) * diff


MSE = MeanSquaredError


def _binary_targets(t: ArrayLike, shape: tuple[int, ...], dtype: np.dtype[Any]) -> NDArray[Any]:
    targets = np.asarray(t)
    if targets.shape != shape and targets.shape == (shape[0],) and shape[1:] == (1,):
        targets = targets.reshape(shape)
    if targets.shape != shape:
        raise ValueError(
            f"BinaryCrossEntropy: targets have shape {np.shape(t)}, predictions {shape}; "
            "give one 0/1 label per prediction"
        )
    values = targets.astype(dtype)
    if np.any((values < 0) | (values > 1)) or np.isnan(values).any():
        raise ValueError("BinaryCrossEntropy: targets must lie in [0, 1] (labels 0 and 1)")
    return values


class BinaryCrossEntropy(Loss):
    """Binary cross-entropy for a sigmoid output (the 0-vs-1 classifier of chapter 8).

    Parameters
    ----------
    from_logits
        ``False``: predictions are probabilities (after a sigmoid), clipped to
        ``[eps, 1 − eps]`` so that the logarithms stay finite. ``True``: predictions are
        logits, and the sigmoid is folded into a numerically stable formula.
    eps
        The clipping margin for probabilities.
    """

    kind = "binary"

    def __init__(self, from_logits: bool = False, eps: float = 1e-7) -> None:
        self.from_logits = from_logits
        self.eps = eps

    def forward(self, prediction: ArrayLike, target: ArrayLike) -> tuple[float, NDArray[Any]]:
        """``(loss, ∂loss/∂prediction)`` (see the module docstring)."""
        y = _predictions(prediction, "BinaryCrossEntropy")
        t = _binary_targets(target, y.shape, y.dtype)
        n = y.size
        if self.from_logits:
            losses = np.maximum(y, 0) - y * t + np.log1p(np.exp(-np.abs(y)))
            return float(losses.mean()), (sigmoid(y) - t) / n
        p = np.clip(y, self.eps, 1 - self.eps)
        losses = -(t * np.log(p) + (1 - t) * np.log(1 - p))
        grad = ((1 - t) / (1 - p) - t / p) / n
        return float(losses.mean()), grad.astype(y.dtype)

    def config(self) -> dict[str, Any]:
        """The constructor's arguments."""
        return {"from_logits": self.from_logits}


def _class_targets(target: ArrayLike, shape: tuple[int, ...], owner: str) -> NDArray[Any]:
    """Integer labels ``(N,)`` checked against ``K`` classes, or probabilities ``(N, K)``."""
    t = np.asarray(target)
    n, classes = shape[0], shape[1]
    if t.shape == shape and t.dtype.kind == "f":
        if not np.all((t >= 0) & (t <= 1)):
            raise ValueError(f"{owner}: target probabilities must lie in [0, 1] (and not be NaN)")
        return t
    if t.ndim != 1 or t.shape[0] != n:
        raise ValueError(
            f"{owner}: targets have shape {t.shape}; expected {n} integer labels or "
            f"probabilities of shape {shape}"
        )
    if t.dtype.kind not in "iu":
        if t.dtype.kind == "f" and np.all(np.mod(t, 1) == 0):
            t = t.astype(np.int64)
        else:
            raise TypeError(f"{owner}: labels have dtype {t.dtype}; expected integers")
    bad = np.flatnonzero((t < 0) | (t >= classes))
    if bad.size:
        raise ValueError(
            f"{owner}: labels must lie in [0, {classes}) for {classes} classes; "
            f"label {int(t[bad[0]])} at index {int(bad[0])}"
        )
    return t.astype(np.intp)


class CrossEntropy(Loss):
    """Categorical cross-entropy for multi-class outputs.

    Targets are integer class labels, shape ``(N,)``, or rows of probabilities, shape
    ``(N, K)`` (one-hot, or soft labels).

    Parameters
    ----------
    from_logits
        ``True`` (default): predictions are raw scores; softmax and logarithm are fused by
        the log-sum-exp trick. ``False``: predictions are probabilities (after a softmax).
    eps
        The clipping margin for probabilities when ``from_logits`` is ``False``.
    """

    kind = "multiclass"

    def __init__(self, from_logits: bool = True, eps: float = 1e-7) -> None:
        self.from_logits = from_logits
        self.eps = eps

    def forward(self, prediction: ArrayLike, target: ArrayLike) -> tuple[float, NDArray[Any]]:
        """``(loss, ∂loss/∂prediction)`` (see the module docstring)."""
        owner = "CrossEntropy"
        z = _predictions(prediction, owner)
        if z.ndim != 2:
            raise ValueError(f"{owner}: predictions must be (N, classes), got shape {z.shape}")
        t = _class_targets(target, z.shape, owner)
        n = z.shape[0]
        if t.ndim == 1:
            onehot = np.zeros_like(z)
            onehot[np.arange(n), t] = 1
        else:
            onehot = t.astype(z.dtype)
        if self.from_logits:
            logp = log_softmax(z)
            loss = -float(np.sum(onehot * logp)) / n
            return loss, (np.exp(logp) - onehot) / n
        p = np.clip(z, self.eps, 1.0)
        loss = -float(np.sum(onehot * np.log(p))) / n
        return loss, (-onehot / p / n).astype(z.dtype)

    def config(self) -> dict[str, Any]:
        """The constructor's arguments."""
        return {"from_logits": self.from_logits}
