"""Checkers for the exercises of chapter 9, "Looking inside".

Each ``check_<name>(fn)`` runs the learner's ``fn`` against a reference that does what
:mod:`cnnlib.interpret` does for one image — the Grad-CAM map from a layer's activations
and gradients, the saliency map from an input gradient, the standardisation of a probe's
features, one step of gradient ascent with an L2 penalty — on the chapter's worked
examples first and then on edge cases: channels of different sign, maps with no positive
evidence, several colour channels, a feature that never varies, a test set with its own
statistics, a penalty of zero. It names the usual mistakes when it recognises them: a
forgotten ReLU or absolute value, sums for means, gradients pooled over the wrong axis,
test statistics leaking into the test set, the sample standard deviation, a division by
zero, descent instead of ascent, a penalty with the wrong sign or factor.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from cnnlib import interpret
from cnnlib.exercises.core import Case, Exercise, Mistake

__all__ = [
    "check_ascent_step",
    "check_grad_cam_map",
    "check_saliency_from_gradient",
    "check_standardize_features",
]

Array = NDArray[Any]


def _random(shape: tuple[int, ...], seed: int, low: float = -1.0) -> NDArray[np.float64]:
    return np.round(np.random.default_rng(seed).uniform(low, 1.0, size=shape), 3)


# ------------------------------------------------------------------------------ Grad-CAM
def _grad_cam_map(activations: Array, gradients: Array) -> Array:
    alpha = gradients.mean(axis=(1, 2))  # one weight per channel
    result: Array = np.maximum(np.tensordot(alpha, activations, axes=1), 0.0)
    return result


#: The chapter's hand-worked example: α = (0.5, −0.5), map ReLU([[0.5, −1.5], [0.5, 0.5]]).
WORKED_ACTIVATIONS = np.array([[[1.0, 0.0], [2.0, 1.0]], [[0.0, 3.0], [1.0, 0.0]]])
WORKED_GRADIENTS = np.array([[[0.5, 0.5], [0.5, 0.5]], [[-1.0, 0.0], [0.0, -1.0]]])

GRAD_CAM_MAP = Exercise(
    name="grad_cam_map",
    reference=_grad_cam_map,
    cases=(
        Case(
            (WORKED_ACTIVATIONS, WORKED_GRADIENTS),
            note="the chapter's worked example: 2 channels of 2×2, α = (0.5, −0.5)",
        ),
        Case(
            (_random((3, 4, 4), seed=1, low=0.0), _random((3, 4, 4), seed=2)),
            note="3 channels of 4×4 (activations after a ReLU, so non-negative)",
        ),
        Case(
            (_random((2, 3, 5), seed=3, low=0.0), _random((2, 3, 5), seed=4)),
            note="a map that is not square: 3×5",
        ),
        Case(
            (np.ones((2, 2, 2)), -np.ones((2, 2, 2))),
            note="every channel lowers the score: no positive evidence, the map is all zeros",
        ),
        Case(
            (_random((1, 3, 3), seed=5, low=0.0), np.full((1, 3, 3), 0.25)),
            note="a single channel with a constant gradient",
        ),
        Case(
            (_random((4, 2, 2), seed=6, low=0.0), _random((4, 2, 2), seed=7)),
            note="4 channels of 2×2",
        ),
    ),
    mistakes=(
        Mistake(
            "your map has negative values: Grad-CAM keeps only the evidence *for* the class, "
            "ReLU(Σ_k α_k A_k) — apply np.maximum(…, 0) to the weighted sum",
            lambda a, g: np.tensordot(g.mean(axis=(1, 2)), a, axes=1),
        ),
        Mistake(
            "your map is h·w times too large: α_k is the *mean* of the gradient over the "
            "positions, not its sum (gradients[k].mean())",
            lambda a, g: np.maximum(np.tensordot(g.sum(axis=(1, 2)), a, axes=1), 0),
        ),
        Mistake(
            "you multiplied gradients and activations position by position without pooling "
            "the gradients first: Grad-CAM weights each whole channel by one number, "
            "α_k = mean over (i, j) of gradients[k, i, j]",
            lambda a, g: np.maximum((g * a).sum(axis=0), 0),
        ),
        Mistake(
            "you averaged the gradients over the channels (axis 0) instead of over the "
            "positions: α has one entry per channel, gradients.mean(axis=(1, 2))",
            lambda a, g: np.maximum((g.mean(axis=0) * a).sum(axis=0), 0),
        ),
        Mistake(
            "you weighted with |α_k| (or with positive gradients only): a channel whose "
            "gradient is negative lowers the score and must count negatively in the sum",
            lambda a, g: np.maximum(np.tensordot(np.abs(g.mean(axis=(1, 2))), a, axes=1), 0),
        ),
    ),
    highlight="α_k as the mean gradient over positions, the weighted sum, the ReLU",
)


def check_grad_cam_map(fn: Callable[..., Any]) -> bool:
    """Check ``fn(activations, gradients)``: one image's Grad-CAM map.

    Both arguments are ``(K, h, w)``: a layer's feature maps :math:`A_k` and the gradient
    of the class score with respect to them. The answer is the ``(h, w)`` map
    ``ReLU(Σ_k α_k A_k)`` with ``α_k`` the mean of ``gradients[k]`` (``ex-grad-cam-map``).

    Raises
    ------
    cnnlib.exercises.ExerciseError
        With the first wrong case, what is wrong and the likely mistake.
    """
    return GRAD_CAM_MAP.check(fn)


# ------------------------------------------------------------------------------ saliency
def _saliency_from_gradient(gradient: Array) -> Array:
    result: Array = np.abs(gradient).max(axis=0)
    return result


SALIENCY_FROM_GRADIENT = Exercise(
    name="saliency_from_gradient",
    reference=_saliency_from_gradient,
    cases=(
        Case(
            (np.array([[[0.2, -0.5], [0.0, 0.1]]]),),
            note="one grey channel, 2×2: the saliency is |gradient|",
        ),
        Case(
            (np.array([[[0.2, -0.5], [0.0, 0.1]], [[-0.3, 0.1], [0.05, -0.4]]]),),
            note="two channels: per pixel, the channel with the largest |gradient| wins",
        ),
        Case((_random((3, 4, 5), seed=11),), note="three colour channels of 4×5"),
        Case((-_random((3, 2, 2), seed=12, low=0.0),), note="all gradients negative"),
        Case((_random((1, 5, 5), seed=13),), note="one channel of 5×5"),
    ),
    mistakes=(
        Mistake(
            "you took the largest *signed* gradient: a pixel whose gradient is −0.5 matters "
            "as much as one with +0.5 — take the absolute value first, np.abs(g).max(axis=0)",
            lambda g: g.max(axis=0),
        ),
        Mistake(
            "you took the absolute value *after* the maximum over channels: |max_c g| "
            "misses large negative gradients; use max_c |g|",
            lambda g: np.abs(g.max(axis=0)),
        ),
        Mistake(
            "you summed |gradient| over the channels; Simonyan et al.'s saliency takes the "
            "maximum over the channels",
            lambda g: np.abs(g).sum(axis=0),
        ),
        Mistake(
            "you averaged |gradient| over the channels; the saliency is the maximum",
            lambda g: np.abs(g).mean(axis=0),
        ),
        Mistake(
            "you took the length of each pixel's gradient vector over the channels (the L2 "
            "norm); the saliency is the largest absolute entry, np.abs(g).max(axis=0)",
            lambda g: np.sqrt((g**2).sum(axis=0)),
        ),
    ),
    highlight="the largest absolute gradient over the channels, per pixel",
)


def check_saliency_from_gradient(fn: Callable[..., Any]) -> bool:
    """Check ``fn(gradient)``: the saliency map ``(H, W)`` of a ``(C, H, W)`` input gradient.

    The answer is ``max over channels of |gradient|`` (``ex-saliency``).

    Raises
    ------
    cnnlib.exercises.ExerciseError
        With the first wrong case, what is wrong and the likely mistake.
    """
    return SALIENCY_FROM_GRADIENT.check(fn)


# -------------------------------------------------------------------------- standardise
def _standardize_features(train: Array, test: Array) -> tuple[Array, Array]:
    train_z, test_z, _, _ = interpret.standardize(train, test)
    assert test_z is not None
    return train_z, test_z


def _own_statistics(train: Array, test: Array) -> tuple[Array, Array]:
    first, _ = _standardize_features(train, test)
    second, _ = _standardize_features(test, test)
    return first, second


def _scaled_by(
    train: Array, test: Array, mean: Array | float, std: Array | float
) -> tuple[Array, Array]:
    return (train - mean) / std, (test - mean) / std


def _sample_std(train: Array, test: Array) -> tuple[Array, Array]:
    std = train.std(axis=0, ddof=1)
    return _scaled_by(train, test, train.mean(axis=0), np.where(std > 0, std, 1.0))


def _variance(train: Array, test: Array) -> tuple[Array, Array]:
    var = train.var(axis=0)
    return _scaled_by(train, test, train.mean(axis=0), np.where(var > 0, var, 1.0))


def _divide_by_zero(train: Array, test: Array) -> tuple[Array, Array]:
    with np.errstate(divide="ignore", invalid="ignore"):
        return _scaled_by(train, test, train.mean(axis=0), train.std(axis=0))


#: The chapter's worked example: 4 training samples of 3 features, the last one constant.
WORKED_TRAIN = np.array([[1.0, 10.0, 5.0], [3.0, 30.0, 5.0], [5.0, 20.0, 5.0], [7.0, 40.0, 5.0]])
WORKED_TEST = np.array([[4.0, 25.0, 5.0], [9.0, 0.0, 6.0]])

STANDARDIZE_FEATURES = Exercise(
    name="standardize_features",
    reference=_standardize_features,
    cases=(
        Case(
            (WORKED_TRAIN[:, :2], WORKED_TEST[:, :2]),
            note="4 training samples of 2 features, 2 test samples",
        ),
        Case(
            (WORKED_TRAIN, WORKED_TEST),
            note="the third feature is constant in training (a dead unit): σ = 0",
        ),
        Case(
            (_random((20, 5), seed=21) * 3 + 1, _random((6, 5), seed=22) * 10 - 4),
            note="a test set whose statistics differ from the training set's",
        ),
        Case(
            (_random((8, 1), seed=23), _random((3, 1), seed=24)),
            note="a single feature",
        ),
    ),
    mistakes=(
        Mistake(
            "you standardised the test set with its *own* mean and standard deviation: the "
            "probe must see test features transformed exactly like the training features, "
            "with the training set's statistics (anything else leaks test information)",
            _own_statistics,
        ),
        Mistake(
            "you used one mean and one standard deviation for all features; every feature "
            "(column) gets its own: train.mean(axis=0), train.std(axis=0)",
            lambda train, test: _scaled_by(train, test, train.mean(), train.std()),
        ),
        Mistake(
            "you divided by the sample standard deviation (ddof=1); use NumPy's default, "
            "the population standard deviation train.std(axis=0), as scikit-learn's "
            "StandardScaler does",
            _sample_std,
        ),
        Mistake(
            "you divided by the variance; divide by the standard deviation, its square root",
            _variance,
        ),
        Mistake(
            "a feature that is constant in the training set gives 0 / 0 = NaN (or ±inf in "
            "the test set): where σ = 0 divide by 1 instead, "
            "e.g. np.where(std > 0, std, 1.0)",
            _divide_by_zero,
        ),
    ),
    highlight="per feature, with the training set's statistics, σ = 0 handled",
)


def check_standardize_features(fn: Callable[..., Any]) -> bool:
    """Check ``fn(train, test)``: both feature tables standardised with the training statistics.

    ``train`` is ``(N, D)``, ``test`` is ``(M, D)``; the answer is the pair
    ``((train − μ)/σ, (test − μ)/σ)`` with the per-feature mean ``μ`` and standard deviation
    ``σ`` of ``train``, and ``σ`` replaced by 1 where it is 0 (``ex-standardize``).

    Raises
    ------
    cnnlib.exercises.ExerciseError
        With the first wrong case, what is wrong and the likely mistake.
    """
    return STANDARDIZE_FEATURES.check(fn)


# ------------------------------------------------------------------------ gradient ascent
def _ascent_step(x: Array, gradient: Array, lr: float, l2: float) -> Array:
    result: Array = x + lr * (gradient - 2 * l2 * x)
    return result


ASCENT_STEP = Exercise(
    name="ascent_step",
    reference=_ascent_step,
    cases=(
        Case(
            (np.array([0.5, -1.0, 2.0]), np.array([1.0, 0.0, -2.0]), 0.1, 0.5),
            note="the chapter's worked example: three pixels, η = 0.1, λ = 0.5",
        ),
        Case(
            (np.array([[0.0, 1.0], [2.0, -1.0]]), np.array([[0.5, 0.5], [0.0, 1.0]]), 0.2, 0.0),
            note="no penalty (λ = 0): a plain gradient-ascent step",
        ),
        Case(
            (_random((1, 4, 4), seed=31), _random((1, 4, 4), seed=32), 0.05, 0.1),
            note="an image (1, 4, 4)",
        ),
        Case(
            (np.array([3.0, -3.0]), np.zeros(2), 1.0, 0.25),
            note="a zero gradient: only the penalty acts, shrinking x by 1 − 2ηλ = 0.5",
        ),
    ),
    mistakes=(
        Mistake(
            "you stepped *down* the gradient: activation maximisation climbs, x + η (∇a − 2λx)",
            lambda x, g, lr, l2: x - lr * (g - 2 * l2 * x),
        ),
        Mistake(
            "the gradient of λ‖x‖² is 2λx, not λx: you forgot the factor 2",
            lambda x, g, lr, l2: x + lr * (g - l2 * x),
        ),
        Mistake(
            "your penalty pushes x *away* from 0: the objective subtracts λ‖x‖², so its "
            "gradient −2λx pulls every pixel towards 0",
            lambda x, g, lr, l2: x + lr * (g + 2 * l2 * x),
        ),
        Mistake(
            "you left the penalty's gradient out of the learning rate: the step is "
            "η times the whole gradient of the objective, η (∇a − 2λx)",
            lambda x, g, lr, l2: x + lr * g - 2 * l2 * x,
        ),
        Mistake(
            "you returned the step η (∇a − 2λx) instead of the new image x + step",
            lambda x, g, lr, l2: lr * (g - 2 * l2 * x),
        ),
    ),
    highlight="x + η (∇a − 2λx): up the gradient, pulled towards 0 by the penalty",
)


def check_ascent_step(fn: Callable[..., Any]) -> bool:
    """Check ``fn(x, gradient, lr, l2)``: one step of gradient ascent with an L2 penalty.

    The objective is ``a(x) − λ‖x‖²``; given ``gradient = ∇a(x)``, the answer is
    ``x + lr · (gradient − 2 · l2 · x)`` (``ex-ascent-step``).

    Raises
    ------
    cnnlib.exercises.ExerciseError
        With the first wrong case, what is wrong and the likely mistake.
    """
    return ASCENT_STEP.check(fn)
