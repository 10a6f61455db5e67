"""Checkers for the exercises of chapter 5, "Layers, activations, losses and optimisers".

Each ``check_<name>(fn)`` runs the learner's ``fn`` against a reference built from
:mod:`cnnlib.layers`, :mod:`cnnlib.losses` and :mod:`cnnlib.optim` on the chapter's worked
examples first and then on edge cases (huge and tiny logits, rows of very different scale,
a single class, a batch of one, square weight matrices whose transpose keeps the shape,
a first step with zero velocity), and names the usual mistakes when it recognises them:
a softmax without the max subtraction or over the wrong axis, a cross-entropy that sums
over the batch or takes the log of an underflowed probability, a flipped or unscaled
gradient, a transposed weight gradient, a bias gradient that was not summed, and the
classical momentum convention where cnnlib (like PyTorch) uses another.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from cnnlib.exercises.core import Case, Exercise, Mistake, random_grid
from cnnlib.layers import Dense, Softmax
from cnnlib.losses import CrossEntropy

__all__ = [
    "check_cross_entropy",
    "check_dense_backward",
    "check_sgd_momentum_step",
    "check_softmax",
]

Array = NDArray[Any]


def _quiet(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` with NumPy's overflow and 0/0 warnings silenced (a mistake may overflow)."""

    def run(*args: Any, **kwargs: Any) -> Any:
        with np.errstate(all="ignore"):
            return fn(*args, **kwargs)

    return run


# The chapter's worked example: three logits, the first class is the true one.
_LOGITS = np.array([[2.0, 1.0, 0.1]])


# ---------------------------------------------------------------------------------- softmax
def _softmax(z: Array) -> Array:
    layer = Softmax(name="reference")
    layer.build(z.shape[1:], dtype=np.float64)
    return layer.forward(np.asarray(z, dtype=np.float64))


def _normalised(e: Array, axis: int | None) -> Array:
    result: Array = e / e.sum(axis=axis, keepdims=True)
    return result


def _stable_softmax(z: Array) -> Array:
    return _normalised(np.exp(z - z.max(axis=1, keepdims=True)), axis=1)


def _naive_softmax(z: Array) -> Array:
    """Without the max subtraction: overflows on large logits (a mistake)."""
    return _normalised(np.exp(z), axis=1)


SOFTMAX = Exercise(
    name="softmax",
    reference=_softmax,
    cases=(
        Case((_LOGITS,), note="the chapter's example: logits 2, 1, 0.1"),
        Case((random_grid(4, 5, seed=1),), note="a batch of 4 rows of 5 logits"),
        Case((np.zeros((2, 4)),), note="equal logits: every class gets 1/K"),
        Case(
            (np.array([[1000.0, 1001.0, 1002.0], [-5.0, 0.0, 5.0]]),),
            note="huge logits: e^1000 overflows unless the row's maximum is subtracted",
        ),
        Case(
            (np.array([[-1000.0, -1001.0, -1002.0]]),),
            note="very negative logits: every e^z underflows to 0 without the shift",
        ),
        Case(
            (np.array([[1000.0, 1001.0], [0.0, 1.0]]),),
            note="rows of very different scale: each row needs its own maximum",
        ),
        Case((np.array([[3.5], [-2.0]]),), note="a single class: the probability is always 1"),
        Case((random_grid(3, 3, seed=2, scale=20.0),), note="a square 3×3 batch with large logits"),
    ),
    mistakes=(
        Mistake(
            "you exponentiated the logits as they are: e^1000 overflows to inf and inf/inf is "
            "nan (and e^−1000 underflows to 0, giving 0/0). Subtract each row's maximum "
            "first — softmax(z − c) = softmax(z) — so the largest exponent is e^0 = 1",
            _quiet(_naive_softmax),
        ),
        Mistake(
            "you normalised over axis 0 (down the columns, across the batch); each *row* is "
            "one sample and must sum to 1: divide by e.sum(axis=1, keepdims=True)",
            _quiet(lambda z: _normalised(np.exp(z - z.max(axis=0, keepdims=True)), axis=0)),
        ),
        Mistake(
            "you normalised over the whole array, so all probabilities of the batch together "
            "sum to 1; each row (one sample) must sum to 1 on its own: use axis=1 with "
            "keepdims=True",
            _quiet(lambda z: _normalised(np.exp(z - z.max()), axis=None)),
        ),
        Mistake(
            "you subtracted the maximum of the whole array instead of each row's: a row whose "
            "logits are far below that maximum underflows to 0/0. Use "
            "z.max(axis=1, keepdims=True)",
            _quiet(lambda z: _normalised(np.exp(z - z.max()), axis=1)),
        ),
        Mistake(
            "you applied the sigmoid to each logit; softmax couples the classes: "
            "e^{z_i} / Σ_j e^{z_j}, so that each row sums to 1",
            _quiet(lambda z: 1 / (1 + np.exp(-z))),
        ),
        Mistake(
            "you forgot to divide by the sum: e^{z − max} is not yet a probability; divide "
            "each row by its sum so that it adds up to 1",
            _quiet(lambda z: np.exp(z - z.max(axis=1, keepdims=True))),
        ),
    ),
    highlight="stable on huge and tiny logits, one maximum per row",
)


def check_softmax(fn: Callable[..., Any]) -> bool:
    """Check ``fn(z)``, the row-wise softmax of a batch of logits ``(N, K)`` (``ex-softmax``).

    Raises
    ------
    cnnlib.exercises.ExerciseError
        With the first wrong case, what is wrong and the likely mistake.
    """
    return SOFTMAX.check(fn)


# ---------------------------------------------------------------------------- cross-entropy
def _cross_entropy(logits: Array, labels: Array) -> tuple[float, Array]:
    return CrossEntropy().forward(np.asarray(logits, dtype=np.float64), labels)


def _onehot(labels: Array, classes: int) -> Array:
    result: Array = np.eye(classes)[np.asarray(labels)]
    return result


def _ce_from(
    probabilities: Callable[[Array], Array],
    loss_scale: Callable[[int], float],
    gradient: Callable[[Array, Array, int], Array],
) -> Callable[[Array, Array], tuple[float, Array]]:
    """A cross-entropy built from a softmax, a batch scaling and a gradient formula."""

    def wrong(logits: Array, labels: Array) -> tuple[float, Array]:
        n = len(logits)
        p = probabilities(logits)
        onehot = _onehot(labels, logits.shape[1])
        loss = -float(np.sum(np.log(p[np.arange(n), labels]))) * loss_scale(n)
        return loss, gradient(p, onehot, n)

    return _quiet(wrong)


def _mean(n: int) -> float:
    return 1 / n


def _right_gradient(p: Array, onehot: Array, n: int) -> Array:
    result: Array = (p - onehot) / n
    return result


CROSS_ENTROPY = Exercise(
    name="cross_entropy",
    reference=_cross_entropy,
    cases=(
        Case((_LOGITS, np.array([0])), note="the chapter's example: −log 0.659 = 0.417"),
        Case((random_grid(4, 3, seed=11), np.array([0, 2, 1, 2])), note="a batch of 4 samples"),
        Case(
            (np.array([[1000.0, 0.0, -1000.0], [0.0, 1000.0, 0.0]]), np.array([2, 0])),
            note="huge logits: the true classes have probabilities e^−2000 and e^−1000",
        ),
        Case(
            (np.array([[50.0, 0.0], [0.0, 50.0]]), np.array([0, 1])),
            note="two confident, correct predictions: a loss of about 2e−22",
        ),
        Case((random_grid(1, 5, seed=12), np.array([4])), note="one sample, the last of 5 classes"),
        Case(
            (random_grid(6, 2, seed=13, scale=3.0), np.array([1, 0, 0, 1, 1, 0])),
            note="6 samples, 2 classes",
        ),
    ),
    mistakes=(
        Mistake(
            "you summed the loss (and its gradient) over the batch; cnnlib, like PyTorch and "
            "Keras, averages: L = −(1/N) Σ log p[n, t_n], so dL/dz = (p − onehot)/N",
            _ce_from(_stable_softmax, lambda n: 1.0, lambda p, t, n: p - t),
        ),
        Mistake(
            "your loss is the mean but your gradient is not divided by N: the loss averages "
            "over the batch, so every sample's gradient is (p − onehot)/N",
            _ce_from(_stable_softmax, _mean, lambda p, t, n: p - t),
        ),
        Mistake(
            "your gradient has the wrong sign: dL/dz = (p − onehot)/N, which is positive for "
            "the wrong classes (raising their logits raises the loss)",
            _ce_from(_stable_softmax, _mean, lambda p, t, n: (t - p) / n),
        ),
        Mistake(
            "you took the log of a probability that underflowed to 0, so the loss became "
            "inf: compute log p with the log-sum-exp trick instead, "
            "log p_t = z_t − m − log Σ_j e^{z_j − m} with m = max_j z_j",
            _ce_from(_stable_softmax, _mean, _right_gradient),
        ),
        Mistake(
            "you exponentiated the logits without subtracting the maximum: e^1000 overflows "
            "and everything becomes nan. Subtract each row's maximum first (log-sum-exp)",
            _ce_from(_naive_softmax, _mean, _right_gradient),
        ),
        Mistake(
            "you returned the gradient with respect to the probabilities, −onehot/(N·p); the "
            "exercise asks for the gradient with respect to the logits, where softmax and "
            "log cancel into (p − onehot)/N",
            _ce_from(_stable_softmax, _mean, lambda p, t, n: -t / np.maximum(p, 1e-300) / n),
        ),
    ),
    highlight="mean over the batch, stable on huge logits, gradient (p − onehot)/N",
)


def check_cross_entropy(fn: Callable[..., Any]) -> bool:
    """Check ``fn(logits, labels) -> (loss, dlogits)`` (``ex-cross-entropy``).

    ``logits`` is ``(N, K)``, ``labels`` holds ``N`` integer classes; the answer is the mean
    cross-entropy of the softmax probabilities and its gradient ``(p − onehot)/N`` with
    respect to the logits, as :class:`cnnlib.losses.CrossEntropy` computes them.

    Raises
    ------
    cnnlib.exercises.ExerciseError
        With the first wrong case, what is wrong and the likely mistake.
    """
    return CROSS_ENTROPY.check(fn)


# --------------------------------------------------------------------------- dense backward
def _dense_backward(dy: Array, x: Array, w: Array) -> tuple[Array, Array, Array]:
    layer = Dense(w.shape[0], name="reference")
    layer.build((w.shape[1],), dtype=np.float64)
    layer.params["weight"][...] = w
    layer.forward(np.asarray(x, dtype=np.float64), training=True)
    dx = layer.backward(np.asarray(dy, dtype=np.float64))
    assert dx is not None
    return dx, layer.grads["weight"], layer.grads["bias"]


def _dense_case(n: int, features: int, units: int, seed: int, note: str) -> Case:
    x = random_grid(n, features, seed=seed)
    w = random_grid(units, features, seed=seed + 1)
    dy = random_grid(n, units, seed=seed + 2)
    return Case((dy, x, w), note=note)


DENSE_BACKWARD = Exercise(
    name="dense_backward",
    reference=_dense_backward,
    cases=(
        Case(
            (np.array([[1.0, -2.0]]), np.array([[3.0, 1.0]]), np.array([[1.0, 2.0], [0.0, -1.0]])),
            note="one sample, a square 2×2 weight matrix (a transpose keeps the shape here)",
        ),
        Case(
            (
                np.array([[1.0, -1.0], [2.0, 0.5]]),
                np.array([[1.0, 2.0, 3.0], [0.0, -1.0, 2.0]]),
                np.array([[1.0, 0.0, -1.0], [2.0, 1.0, 0.0]]),
            ),
            note="the chapter's worked example: 2 samples, 3 features, 2 units",
        ),
        _dense_case(4, 5, 3, 21, "a batch of 4, 5 features, 3 units"),
        _dense_case(3, 3, 3, 24, "a square 3×3 weight matrix and a batch of 3"),
        _dense_case(1, 4, 1, 27, "one sample and a single unit"),
    ),
    mistakes=(
        Mistake(
            "your weight gradient is transposed: W has shape (units, features), like PyTorch, "
            "so dW = dYᵀ X (units × features), not Xᵀ dY",
            lambda dy, x, w: (dy @ w, x.T @ dy, dy.sum(axis=0)),
        ),
        Mistake(
            "you did not sum the bias gradient over the batch: every sample adds b, so "
            "db = Σ_n dY[n], a vector with one entry per unit",
            lambda dy, x, w: (dy @ w, dy.T @ x, dy.copy()),
        ),
        Mistake(
            "you averaged the bias gradient over the batch; the loss already averages (its "
            "gradient dY carries the 1/N), so the layer *sums*: db = Σ_n dY[n]",
            lambda dy, x, w: (dy @ w, dy.T @ x, dy.mean(axis=0)),
        ),
        Mistake(
            "you averaged the weight gradient over the batch; the layer sums the samples' "
            "contributions, dW = dYᵀ X (the 1/N is already in dY)",
            lambda dy, x, w: (dy @ w, dy.T @ x / len(x), dy.sum(axis=0)),
        ),
        Mistake(
            "your input gradient uses Wᵀ: the forward pass is y = x Wᵀ + b, so "
            "dX = dY W — shape (N, units) @ (units, features) = (N, features)",
            lambda dy, x, w: (dy @ w.T, dy.T @ x, dy.sum(axis=0)),
        ),
    ),
    highlight="dX = dY W, dW = dYᵀ X, db = Σ dY, in PyTorch's (units, features) layout",
)


def check_dense_backward(fn: Callable[..., Any]) -> bool:
    """Check ``fn(dy, x, w) -> (dx, dw, db)``, a dense layer's backward pass.

    The layer computed ``y = x @ w.T + b`` with ``x`` of shape ``(N, features)`` and ``w``
    of shape ``(units, features)``; ``dy`` is dL/dy (``ex-dense-backward``).

    Raises
    ------
    cnnlib.exercises.ExerciseError
        With the first wrong case, what is wrong and the likely mistake.
    """
    return DENSE_BACKWARD.check(fn)


# ------------------------------------------------------------------------- momentum step
def _sgd_momentum_step(
    param: Array, grad: Array, velocity: Array, lr: float, momentum: float
) -> tuple[Array, Array]:
    new_velocity = momentum * velocity + grad
    return param - lr * new_velocity, new_velocity


def _momentum_case(
    shape: tuple[int, ...], seed: int, lr: float, momentum: float, note: str, *, first: bool = False
) -> Case:
    param = random_grid(*shape, seed=seed)
    grad = random_grid(*shape, seed=seed + 1)
    velocity = np.zeros(shape) if first else random_grid(*shape, seed=seed + 2)
    return Case((param, grad, velocity, lr, momentum), note=note)


SGD_MOMENTUM = Exercise(
    name="sgd_momentum_step",
    reference=_sgd_momentum_step,
    cases=(
        Case(
            (np.array([1.0, -2.0]), np.array([0.5, 1.0]), np.array([0.2, -0.4]), 0.1, 0.9),
            note="the chapter's worked example",
        ),
        _momentum_case((3,), 31, 0.05, 0.9, "the first step: the velocity starts at 0", first=True),
        _momentum_case((2, 3), 34, 0.01, 0.5, "a weight matrix, momentum 0.5"),
        _momentum_case((4,), 37, 0.1, 0.0, "momentum 0 is plain gradient descent"),
        _momentum_case((3, 2), 40, 0.2, 0.99, "heavy momentum 0.99"),
    ),
    mistakes=(
        Mistake(
            "you used the classical convention v ← μv − ηg, θ ← θ + v; this exercise (like "
            "cnnlib and PyTorch) keeps the learning rate out of the velocity: v ← μv + g, "
            "θ ← θ − ηv. With a constant η both take the same steps, but the stored "
            "velocities differ by the factor −η",
            lambda p, g, v, lr, mu: (p + (mu * v - lr * g), mu * v - lr * g),
        ),
        Mistake(
            "you returned the old velocity: return the updated one, v ← μv + g, so the next "
            "step can build on it",
            lambda p, g, v, lr, mu: (p - lr * (mu * v + g), v.copy()),
        ),
        Mistake(
            "you stepped with the old velocity: update it first, v ← μv + g, then step "
            "θ ← θ − ηv with the new one",
            lambda p, g, v, lr, mu: (p - lr * v, mu * v + g),
        ),
        Mistake(
            "you ignored the momentum (plain gradient descent): the step follows the "
            "velocity v ← μv + g, which remembers the previous gradients",
            lambda p, g, v, lr, mu: (p - lr * g, g.copy()),
        ),
        Mistake(
            "you averaged, v ← μv + (1 − μ)g (Adam's first moment); SGD's momentum adds the "
            "whole gradient: v ← μv + g",
            lambda p, g, v, lr, mu: (
                p - lr * (mu * v + (1 - mu) * g),
                mu * v + (1 - mu) * g,
            ),
        ),
        Mistake(
            "you took a Nesterov step, θ ← θ − η(g + μv); plain momentum steps along the "
            "velocity itself: θ ← θ − ηv with v ← μv + g",
            lambda p, g, v, lr, mu: (p - lr * (g + mu * (mu * v + g)), mu * v + g),
        ),
        Mistake(
            "you added the velocity (gradient *ascent*): step against it, θ ← θ − ηv",
            lambda p, g, v, lr, mu: (p + lr * (mu * v + g), mu * v + g),
        ),
    ),
    highlight="v ← μv + g, θ ← θ − ηv, as in cnnlib.optim.SGD and PyTorch",
)


def check_sgd_momentum_step(fn: Callable[..., Any]) -> bool:
    """Check ``fn(param, grad, velocity, lr, momentum) -> (new_param, new_velocity)``.

    One step of SGD with momentum in PyTorch's convention, ``v ← μv + g``, ``θ ← θ − ηv``,
    returning new arrays and leaving the inputs unchanged (``ex-sgd-momentum``).

    Raises
    ------
    cnnlib.exercises.ExerciseError
        With the first wrong case, what is wrong and the likely mistake.
    """
    return SGD_MOMENTUM.check(fn)
