"""Chapter 5 checkers: correct code passes, each known mistake gets its own explanation."""

from __future__ import annotations

import numpy as np
import pytest
from exercise_contract import ExerciseContract

from cnnlib import exercises, gradcheck, optim
from cnnlib.exercises import ExerciseError
from cnnlib.exercises.layers import CROSS_ENTROPY, DENSE_BACKWARD, SGD_MOMENTUM, SOFTMAX

ALL = {
    "softmax": (SOFTMAX, exercises.check_softmax),
    "cross_entropy": (CROSS_ENTROPY, exercises.check_cross_entropy),
    "dense_backward": (DENSE_BACKWARD, exercises.check_dense_backward),
    "sgd_momentum_step": (SGD_MOMENTUM, exercises.check_sgd_momentum_step),
}


# Learner-style solutions, written independently of cnnlib (plain loops and numpy).
def loop_softmax(z):
    out = np.zeros(z.shape)
    for n in range(z.shape[0]):
        row = np.exp(z[n] - max(z[n]))
        out[n] = row / row.sum()
    return out


def loop_cross_entropy(logits, labels):
    n = len(logits)
    loss = 0.0
    grad = np.zeros(logits.shape)
    for i in range(n):
        m = logits[i].max()
        log_sum = m + np.log(np.sum(np.exp(logits[i] - m)))
        loss += (log_sum - logits[i, labels[i]]) / n
        grad[i] = np.exp(logits[i] - log_sum) / n
        grad[i, labels[i]] -= 1 / n
    return loss, grad


def loop_dense_backward(dy, x, w):
    n, units = dy.shape
    dx = np.zeros(x.shape)
    dw = np.zeros(w.shape)
    db = np.zeros(units)
    for s in range(n):
        for u in range(units):
            dx[s] += dy[s, u] * w[u]
            dw[u] += dy[s, u] * x[s]
            db[u] += dy[s, u]
    return dx, dw, db


def plain_sgd_momentum_step(param, grad, velocity, lr, momentum):
    velocity = momentum * velocity + grad
    return param - lr * velocity, velocity


LEARNER = {
    "softmax": loop_softmax,
    "cross_entropy": loop_cross_entropy,
    "dense_backward": loop_dense_backward,
    "sgd_momentum_step": plain_sgd_momentum_step,
}


class TestChapter5Checkers(ExerciseContract):
    EXERCISES = ALL
    LEARNER = LEARNER
    MIN_MISTAKES = 3


def test_the_references_agree_with_the_definitions(rng):
    """Softmax sums to one, the gradients match finite differences, the step is PyTorch's."""
    z = rng.normal(size=(5, 4)) * 3
    p = SOFTMAX.reference(z)
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    np.testing.assert_allclose(p, np.exp(z) / np.exp(z).sum(axis=1, keepdims=True))

    labels = np.array([0, 3, 1, 2, 3])
    loss, grad = CROSS_ENTROPY.reference(z, labels)
    assert loss == pytest.approx(-np.mean(np.log(p[np.arange(5), labels])))
    numerical = gradcheck.numerical_gradient(lambda v: CROSS_ENTROPY.reference(v, labels)[0], z)
    np.testing.assert_allclose(grad, numerical, atol=1e-8)

    x, w, b = rng.normal(size=(3, 4)), rng.normal(size=(2, 4)), rng.normal(size=2)
    dy = rng.normal(size=(3, 2))
    reports = gradcheck.check_gradients(
        lambda x, w, b: x @ w.T + b,
        lambda dy, x, w, b: DENSE_BACKWARD.reference(dy, x, w),
        {"x": x, "w": w, "b": b},
    )
    assert all(report.passed for report in reports)
    np.testing.assert_allclose(DENSE_BACKWARD.reference(dy, x, w)[0], dy @ w)

    param = rng.normal(size=3)
    grads = [rng.normal(size=3) for _ in range(3)]
    sgd = optim.SGD(lr=0.1, momentum=0.9)
    mine, theirs = param.copy(), param.copy()
    # cnnlib's SGD starts its buffer at the first gradient: the same as velocity 0
    velocity = np.zeros(3)
    for g in grads:
        mine, velocity = SGD_MOMENTUM.reference(mine, g, velocity, 0.1, 0.9)
        sgd.step([theirs], [g])
    np.testing.assert_allclose(mine, theirs, rtol=1e-12)


def test_the_chapter_examples_give_the_numbers_the_chapter_prints():
    p = SOFTMAX.reference(np.array([[2.0, 1.0, 0.1]]))
    np.testing.assert_allclose(np.round(p, 3), [[0.659, 0.242, 0.099]])
    loss, _ = CROSS_ENTROPY.reference(np.array([[2.0, 1.0, 0.1]]), np.array([0]))
    assert round(loss, 3) == 0.417
    huge = CROSS_ENTROPY.cases[2]
    assert huge.call(CROSS_ENTROPY.reference)[0] == pytest.approx(1500.0)


# ----------------------------------------------------------------------- precise messages
@pytest.mark.exercise("softmax")
def test_softmax_without_the_shift_reports_nan_and_the_overflow():
    def naive(z):
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)

    with np.errstate(all="ignore"), pytest.raises(ExerciseError) as info:
        exercises.check_softmax(naive)
    message = str(info.value)
    assert "case:    huge logits: e^1000 overflows" in message
    assert "problem: first difference at index (0, 0): yours nan, expected 0.0900306" in message
    assert "likely cause: you exponentiated the logits as they are" in message


@pytest.mark.exercise("softmax")
def test_softmax_over_the_wrong_axis_reports_the_first_differing_index():
    def columns(z):
        e = np.exp(z - z.max(axis=0))
        return e / e.sum(axis=0)

    with pytest.raises(ExerciseError) as info:
        exercises.check_softmax(columns)
    message = str(info.value)
    # a single row: every column holds one value, so each "probability" is 1
    assert message.splitlines()[1:4] == [
        "  call:    softmax(np.array([[2. , 1. , 0.1]]))",
        "  case:    the chapter's example: logits 2, 1, 0.1",
        "  problem: first difference at index (0, 0): yours 1, expected 0.659001 "
        "(3 of 3 entries differ)",
    ]
    assert "likely cause: you normalised over axis 0" in message


@pytest.mark.exercise("softmax")
def test_softmax_that_drops_the_batch_axis_reports_both_shapes():
    def flat(z):
        e = np.exp(z - z.max())
        return (e / e.sum(axis=1, keepdims=True))[0]

    with pytest.raises(ExerciseError) as info:
        exercises.check_softmax(flat)
    assert "problem: your output has shape (3,), expected (1, 3)" in str(info.value)


@pytest.mark.exercise("softmax")
def test_an_exception_in_the_learners_code_is_reported_with_the_call():
    def crashes(z):
        return np.exp(z) / np.sum(np.exp(z), axis=2)

    with pytest.raises(ExerciseError) as info:
        exercises.check_softmax(crashes)
    message = str(info.value)
    assert "call:    softmax(np.array([[2. , 1. , 0.1]]))" in message
    assert "problem: your function raised AxisError: axis 2 is out of bounds" in message


@pytest.mark.exercise("cross_entropy")
def test_cross_entropy_summed_over_the_batch_names_the_mean():
    def summed(logits, labels):
        loss, grad = loop_cross_entropy(logits, labels)
        return loss * len(logits), grad * len(logits)

    with pytest.raises(ExerciseError) as info:
        exercises.check_cross_entropy(summed)
    message = str(info.value)
    assert "case:    a batch of 4 samples" in message
    assert "problem: entry 0 of the tuple: your function returned" in message
    assert "likely cause: you summed the loss (and its gradient) over the batch" in message


@pytest.mark.exercise("cross_entropy")
def test_cross_entropy_with_log_of_softmax_reports_inf():
    def log_of_softmax(logits, labels):
        n = len(logits)
        p = loop_softmax(logits)
        with np.errstate(divide="ignore"):
            loss = -np.mean(np.log(p[np.arange(n), labels]))
        grad = p.copy()
        grad[np.arange(n), labels] -= 1
        return loss, grad / n

    with pytest.raises(ExerciseError) as info:
        exercises.check_cross_entropy(log_of_softmax)
    message = str(info.value)
    assert "case:    huge logits" in message
    assert "problem: entry 0 of the tuple: your function returned inf, expected 1500" in message
    assert "likely cause: you took the log of a probability that underflowed to 0" in message


@pytest.mark.exercise("cross_entropy")
def test_cross_entropy_returning_only_the_loss_is_told_to_return_a_pair():
    with pytest.raises(ExerciseError) as info:
        exercises.check_cross_entropy(lambda logits, labels: loop_cross_entropy(logits, labels)[0])
    assert "expected a tuple of 2 values" in str(info.value)


@pytest.mark.exercise("dense_backward")
def test_dense_backward_transposed_weight_gradient_reports_both_shapes():
    def transposed(dy, x, w):
        dx, dw, db = loop_dense_backward(dy, x, w)
        return dx, dw.T, db

    with pytest.raises(ExerciseError) as info:
        exercises.check_dense_backward(transposed)
    message = str(info.value)
    assert "case:    one sample, a square 2×2 weight matrix" in message
    assert "problem: entry 1 of the tuple: first difference at index (0, 1)" in message
    assert "likely cause: your weight gradient is transposed" in message


@pytest.mark.exercise("dense_backward")
def test_dense_backward_unsummed_bias_reports_the_shape():
    def per_sample_bias(dy, x, w):
        dx, dw, _ = loop_dense_backward(dy, x, w)
        return dx, dw, dy

    with pytest.raises(ExerciseError) as info:
        exercises.check_dense_backward(per_sample_bias)
    message = str(info.value)
    assert "problem: entry 2 of the tuple: your output has shape (1, 2), expected (2,)" in message
    assert "likely cause: you did not sum the bias gradient over the batch" in message


@pytest.mark.exercise("dense_backward")
def test_dense_backward_with_w_transposed_crashes_on_rectangles_with_a_clear_message():
    """Square cases come first, so the mistake is named; a learner who only fails on
    rectangles sees numpy's own error with the call."""

    def square_only(dy, x, w):
        if w.shape[0] == w.shape[1]:
            return loop_dense_backward(dy, x, w)
        return dy @ w.T, dy.T @ x, dy.sum(axis=0)

    with pytest.raises(ExerciseError) as info:
        exercises.check_dense_backward(square_only)
    message = str(info.value)
    assert "case:    the chapter's worked example: 2 samples, 3 features, 2 units" in message
    assert "problem: your function raised ValueError: matmul" in message


@pytest.mark.exercise("sgd_momentum_step")
def test_sgd_momentum_classical_convention_is_named():
    def classical(param, grad, velocity, lr, momentum):
        velocity = momentum * velocity - lr * grad
        return param + velocity, velocity

    with pytest.raises(ExerciseError) as info:
        exercises.check_sgd_momentum_step(classical)
    message = str(info.value)
    assert message.splitlines()[1:3] == [
        "  call:    sgd_momentum_step(np.array([ 1., -2.]), np.array([0.5, 1. ]), "
        "np.array([ 0.2, -0.4]), 0.1, 0.9)",
        "  case:    the chapter's worked example",
    ]
    assert "likely cause: you used the classical convention" in message


@pytest.mark.exercise("sgd_momentum_step")
def test_sgd_momentum_in_place_update_is_told_to_copy():
    def in_place(param, grad, velocity, lr, momentum):
        velocity *= momentum
        velocity += grad
        param -= lr * velocity
        return param, velocity

    with pytest.raises(ExerciseError, match="changed its input array in place"):
        exercises.check_sgd_momentum_step(in_place)
