"""cnnlib.gradcheck: numerical gradients of known functions, and readable failure reports."""

from __future__ import annotations

import numpy as np
import pytest

from cnnlib import gradcheck
from cnnlib.gradcheck import GradientCheckError


def test_numerical_gradient_of_known_functions(rng):
    x = rng.standard_normal((3, 4))
    np.testing.assert_allclose(
        gradcheck.numerical_gradient(lambda v: np.sum(v**3), x), 3 * x**2, rtol=1e-7, atol=1e-9
    )
    np.testing.assert_allclose(
        gradcheck.numerical_gradient(lambda v: np.sum(np.sin(v)), x),
        np.cos(x),
        rtol=1e-7,
        atol=1e-9,
    )
    upstream = rng.standard_normal((3, 4))
    np.testing.assert_allclose(
        gradcheck.numerical_gradient(np.exp, x, upstream),
        upstream * np.exp(x),
        rtol=1e-7,
        atol=1e-9,
    )


def test_numerical_gradient_restores_its_input(rng):
    x = rng.standard_normal(5)
    before = x.copy()
    gradcheck.numerical_gradient(lambda v: np.sum(v**2), x)
    np.testing.assert_array_equal(x, before)


def test_relative_error_definition():
    assert gradcheck.relative_error([2.0], [2.0]) == 0.0
    assert gradcheck.relative_error([1.0, 3.0], [1.0, 1.0]) == pytest.approx(
        0.5
    )  # |3 − 1| / (3 + 1)
    assert gradcheck.relative_error([0.0], [0.0]) == 0.0
    with pytest.raises(ValueError, match="shapes differ"):
        gradcheck.relative_error([1.0], [1.0, 2.0])


def test_a_correct_backward_passes(rng):
    a, b = rng.standard_normal((3, 4)), rng.standard_normal((4, 2))
    reports = gradcheck.check_gradients(
        lambda a, b: np.tanh(a @ b), _tanh_matmul_backward, {"a": a, "b": b}
    )
    assert [r.name for r in reports] == ["a", "b"]
    assert all(r.passed and r.error < 1e-7 for r in reports)


def _tanh_matmul_backward(dy, a, b):
    dz = dy * (1 - np.tanh(a @ b) ** 2)
    return {"a": dz @ b.T, "b": a.T @ dz}


def test_a_wrong_backward_is_reported_with_the_worst_entry(rng):
    a, b = rng.standard_normal((3, 4)), rng.standard_normal((4, 2))

    def wrong(dy, a, b):
        grads = _tanh_matmul_backward(dy, a, b)
        grads["b"] = grads["b"].copy()
        grads["b"][2, 1] *= -1  # one wrong entry
        return grads

    with pytest.raises(GradientCheckError) as info:
        gradcheck.check_gradients(lambda a, b: np.tanh(a @ b), wrong, {"a": a, "b": b})
    message = str(info.value)
    assert message.startswith("gradient check failed:")
    assert "a: max relative error" in message
    assert "— ok" in message
    assert "b: max relative error 1.00e+00 at index (2, 1)" in message
    assert "FAILED (tolerance 1e-06)" in message


def test_shape_and_count_mistakes_are_named(rng):
    x = rng.standard_normal(4)
    with pytest.raises(
        GradientCheckError,
        match=r"x: the analytic gradient has shape \(3,\), but x has shape \(4,\)",
    ):
        gradcheck.check_gradients(lambda x: 2 * x, lambda dy, x: [2 * dy[:3]], {"x": x})
    with pytest.raises(GradientCheckError, match="backward returned 2 gradients for 1 inputs"):
        gradcheck.check_gradients(lambda x: 2 * x, lambda dy, x: [dy, dy], {"x": x})
    with pytest.raises(GradientCheckError, match=r"backward returned no gradient for \['x'\]"):
        gradcheck.check_gradients(lambda x: 2 * x, lambda dy, x: {"y": dy}, {"x": x})


def test_float32_is_refused_with_advice():
    with pytest.raises(
        TypeError,
        match=r"x has dtype float32; numerical gradients need float64 .* x.astype\(np.float64\)",
    ):
        gradcheck.numerical_gradient(np.sum, np.ones(3, np.float32))


def test_array_output_needs_an_upstream_gradient():
    with pytest.raises(
        ValueError, match=r"f returned an array of shape \(3,\); pass the upstream gradient"
    ):
        gradcheck.numerical_gradient(lambda v: 2 * v, np.ones(3))


def test_nan_gradients_fail(rng):
    x = rng.standard_normal(3)
    with pytest.raises(GradientCheckError, match="FAILED"):
        gradcheck.check_gradients(lambda x: 2 * x, lambda dy, x: [np.full(3, np.nan)], {"x": x})
