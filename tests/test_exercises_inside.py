"""Chapter 9 checkers: correct code passes, each known mistake gets its own explanation."""

from __future__ import annotations

import numpy as np
from exercise_contract import ExerciseContract
from sklearn.preprocessing import StandardScaler

from cnnlib import Sequential, exercises, interpret
from cnnlib.exercises.inside import (
    ASCENT_STEP,
    GRAD_CAM_MAP,
    SALIENCY_FROM_GRADIENT,
    STANDARDIZE_FEATURES,
)
from cnnlib.layers import Conv2D, Dense, Flatten, MaxPool2D

ALL = {
    "grad_cam_map": (GRAD_CAM_MAP, exercises.check_grad_cam_map),
    "saliency_from_gradient": (SALIENCY_FROM_GRADIENT, exercises.check_saliency_from_gradient),
    "standardize_features": (STANDARDIZE_FEATURES, exercises.check_standardize_features),
    "ascent_step": (ASCENT_STEP, exercises.check_ascent_step),
}


# Learner-style solutions, written independently of cnnlib (plain loops).
def loop_grad_cam_map(activations, gradients):
    channels, height, width = activations.shape
    result = np.zeros((height, width))
    for k in range(channels):
        alpha = 0.0
        for i in range(height):
            for j in range(width):
                alpha += gradients[k, i, j]
        alpha /= height * width
        result += alpha * activations[k]
    for i in range(height):
        for j in range(width):
            result[i, j] = max(result[i, j], 0.0)
    return result


def loop_saliency_from_gradient(gradient):
    channels, height, width = gradient.shape
    result = np.zeros((height, width))
    for i in range(height):
        for j in range(width):
            result[i, j] = max(abs(gradient[c, i, j]) for c in range(channels))
    return result


def loop_standardize_features(train, test):
    train_out, test_out = np.zeros(train.shape), np.zeros(test.shape)
    for d in range(train.shape[1]):
        column = list(train[:, d])
        mean = sum(column) / len(column)
        std = (sum((v - mean) ** 2 for v in column) / len(column)) ** 0.5
        if std == 0:
            std = 1.0
        train_out[:, d] = (train[:, d] - mean) / std
        test_out[:, d] = (test[:, d] - mean) / std
    return train_out, test_out


def plain_ascent_step(x, gradient, lr, l2):
    penalty_gradient = 2 * l2 * x  # d/dx of l2 · |x|²
    return x + lr * gradient - lr * penalty_gradient


LEARNER = {
    "grad_cam_map": loop_grad_cam_map,
    "saliency_from_gradient": loop_saliency_from_gradient,
    "standardize_features": loop_standardize_features,
    "ascent_step": plain_ascent_step,
}


class TestChapter9Checkers(ExerciseContract):
    EXERCISES = ALL
    LEARNER = LEARNER
    MIN_MISTAKES = 4


# ------------------------------------------------------------------------------ worked numbers
def test_the_worked_grad_cam_example_by_hand():
    # α = (mean of 0.5s, mean of (−1, 0, 0, −1)) = (0.5, −0.5);
    # 0.5·[[1, 0], [2, 1]] − 0.5·[[0, 3], [1, 0]] = [[0.5, −1.5], [0.5, 0.5]], ReLU'd
    result = GRAD_CAM_MAP.cases[0].call(GRAD_CAM_MAP.reference)
    np.testing.assert_array_equal(result, [[0.5, 0.0], [0.5, 0.5]])


def test_the_worked_ascent_step_by_hand():
    # x + 0.1 · (g − 2 · 0.5 · x) = x + 0.1 · (g − x)
    result = ASCENT_STEP.cases[0].call(ASCENT_STEP.reference)
    np.testing.assert_allclose(result, [0.55, -0.9, 2.0 + 0.1 * (-2.0 - 2.0)])


# ----------------------------------------------------------------- references vs cnnlib/oracles
def _model():
    return Sequential(
        [
            Conv2D(3, 3, padding="same", activation="relu"),
            MaxPool2D(2),
            Conv2D(4, 3, activation="relu"),
            Flatten(),
            Dense(3),
        ],
        input_shape=(2, 8, 8),
        seed=4,
        dtype=np.float64,
    )


def test_the_grad_cam_reference_is_interprets(rng):
    model = _model()
    x = rng.standard_normal((3, 2, 8, 8))
    result = interpret.grad_cam(model, x, [0, 1, 2])
    for n in range(3):
        mine = GRAD_CAM_MAP.reference(result.activations[n], result.gradients[n])
        np.testing.assert_allclose(mine, result.cam[n], rtol=1e-12, atol=1e-15)


def test_the_saliency_reference_is_interprets(rng):
    model = _model()
    x = rng.standard_normal((2, 2, 8, 8))
    gradient = interpret.input_gradient(model, x, 1)
    saliency = interpret.saliency_map(model, x, 1)
    for n in range(2):
        np.testing.assert_array_equal(SALIENCY_FROM_GRADIENT.reference(gradient[n]), saliency[n])


def test_the_standardize_reference_is_sklearns_scaler():
    # the reference is interpret.standardize: scikit-learn is the independent oracle
    for case in STANDARDIZE_FEATURES.cases:
        train, test = case.args
        scaler = StandardScaler().fit(train)
        train_z, test_z = case.call(STANDARDIZE_FEATURES.reference)
        np.testing.assert_allclose(train_z, scaler.transform(train), atol=1e-12)
        np.testing.assert_allclose(test_z, scaler.transform(test), atol=1e-12)


def test_the_ascent_reference_is_one_step_of_activation_maximization(rng):
    model = _model()
    start = rng.standard_normal((1, 2, 8, 8))
    result = interpret.activation_maximization(
        model, "dense_1", [2], steps=1, lr=0.05, l2=0.3, start=start
    )
    gradient = interpret.input_gradient(model, start, 2)  # the unit is the class score
    expected = ASCENT_STEP.reference(start, gradient, 0.05, 0.3)
    np.testing.assert_allclose(result.images, expected, rtol=1e-12, atol=1e-14)
