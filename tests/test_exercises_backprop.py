"""Chapter 3 checkers: correct code passes, each known mistake gets its own explanation."""

from __future__ import annotations

import numpy as np
import pytest
from exercise_contract import ExerciseContract

from cnnlib import exercises
from cnnlib.exercises import ExerciseError
from cnnlib.exercises.backprop import (
    CONV2D,
    KERNEL_GRADIENT,
    NUMERICAL_GRADIENT,
    STRIDED_INPUT_GRADIENT,
)
from cnnlib.exercises.core import compare

ALL = {
    "conv2d": (CONV2D, exercises.check_conv2d),
    "kernel_gradient": (KERNEL_GRADIENT, exercises.check_kernel_gradient),
    "strided_input_gradient": (STRIDED_INPUT_GRADIENT, exercises.check_strided_input_gradient),
    "numerical_gradient": (NUMERICAL_GRADIENT, exercises.check_numerical_gradient),
}


# Learner-style solutions, written independently of cnnlib (plain loops and numpy).
def loop_conv2d(x, w, b=None, stride=1, padding=0):
    n_images, channels, height, width = x.shape
    filters, _, kh, kw = w.shape
    xp = np.zeros((n_images, channels, height + 2 * padding, width + 2 * padding))
    xp[:, :, padding : padding + height, padding : padding + width] = x
    out_h = (height + 2 * padding - kh) // stride + 1
    out_w = (width + 2 * padding - kw) // stride + 1
    y = np.zeros((n_images, filters, out_h, out_w))
    for n in range(n_images):
        for f in range(filters):
            for i in range(out_h):
                for j in range(out_w):
                    top, left = i * stride, j * stride
                    window = xp[n, :, top : top + kh, left : left + kw]
                    y[n, f, i, j] = np.sum(window * w[f])
            if b is not None:
                y[n, f] += b[f]
    return y


def loop_kernel_gradient(x, dy, kernel_shape, stride=1):
    kh, kw = kernel_shape
    dk = np.zeros((kh, kw))
    for i in range(dy.shape[0]):
        for j in range(dy.shape[1]):
            top, left = i * stride, j * stride
            dk += dy[i, j] * x[top : top + kh, left : left + kw]
    return dk


def loop_strided_input_gradient(dy, kernel, input_shape, stride=1):
    kh, kw = kernel.shape
    dx = np.zeros(input_shape)
    for i in range(dy.shape[0]):
        for j in range(dy.shape[1]):
            top, left = i * stride, j * stride
            dx[top : top + kh, left : left + kw] += dy[i, j] * kernel
    return dx


def loop_numerical_gradient(f, x, eps=1e-6):
    grad = np.zeros(x.shape)
    flat = x.reshape(-1).copy()
    for k in range(flat.size):
        step = np.zeros(flat.size)
        step[k] = eps
        plus = f((flat + step).reshape(x.shape))
        minus = f((flat - step).reshape(x.shape))
        grad.reshape(-1)[k] = (plus - minus) / (2 * eps)
    return grad


LEARNER = {
    "conv2d": loop_conv2d,
    "kernel_gradient": loop_kernel_gradient,
    "strided_input_gradient": loop_strided_input_gradient,
    "numerical_gradient": loop_numerical_gradient,
}


class TestChapter3Checkers(ExerciseContract):
    EXERCISES = ALL
    LEARNER = LEARNER
    MIN_MISTAKES = 3


@pytest.mark.parametrize("name", list(ALL))
def test_the_learner_solution_agrees_with_the_reference_on_the_worked_example(name):
    exercise, _ = ALL[name]
    first = exercise.cases[0]
    assert "worked example" in first.note or name == "numerical_gradient"
    assert compare(first.call(LEARNER[name]), first.call(exercise.reference)) is None


@pytest.mark.exercise("conv2d")
def test_conv2d_an_ignored_stride_reports_both_shapes():
    def no_stride(x, w, b=None, stride=1, padding=0):
        return loop_conv2d(x, w, b, 1, padding)

    with pytest.raises(ExerciseError) as info:
        exercises.check_conv2d(no_stride)
    message = str(info.value)
    assert "case:    stride 2\n" in message
    assert "stride=2" in message
    assert "problem: your output has shape (1, 2, 3, 3), expected (1, 2, 2, 2)" in message
    assert "likely cause: you ignored the stride" in message


@pytest.mark.exercise("conv2d")
def test_conv2d_a_wrong_value_reports_the_first_differing_index():
    def one_wrong_output(x, w, b=None, stride=1, padding=0):
        y = loop_conv2d(x, w, b, stride, padding)
        y[0, 0, 1, 0] += 1.0
        return y

    with pytest.raises(ExerciseError) as info:
        exercises.check_conv2d(one_wrong_output)
    message = str(info.value)
    # the worked example: Y[1, 0] = 4·1 + 5·0 + 7·(−1) + 8·2 = 13
    assert (
        "problem: first difference at index (0, 0, 1, 0): yours 14, expected 13 "
        "(1 of 4 entries differ)" in message
    )
    assert "call:    conv2d(np.array([[[[1., 2., 3.]," in message
    assert "likely cause" not in message  # not a known mistake: no guess


@pytest.mark.exercise("conv2d")
def test_conv2d_a_true_convolution_is_recognised():
    def convolve(x, w, b=None, stride=1, padding=0):
        return loop_conv2d(x, w[:, :, ::-1, ::-1], b, stride, padding)

    with pytest.raises(ExerciseError, match="you flipped the kernel: that is true convolution"):
        exercises.check_conv2d(convolve)


@pytest.mark.exercise("conv2d")
def test_conv2d_a_forgotten_bias_is_recognised_on_the_first_case_with_a_bias():
    def no_bias(x, w, b=None, stride=1, padding=0):
        return loop_conv2d(x, w, None, stride, padding)

    with pytest.raises(ExerciseError) as info:
        exercises.check_conv2d(no_bias)
    message = str(info.value)
    assert "case:    one channel with a bias" in message
    assert "likely cause: you ignored the bias" in message


@pytest.mark.exercise("conv2d")
def test_conv2d_summing_channels_in_the_wrong_way_is_recognised():
    def averaged(x, w, b=None, stride=1, padding=0):
        return loop_conv2d(x, w / x.shape[1], b, stride, padding)

    with pytest.raises(ExerciseError) as info:
        exercises.check_conv2d(averaged)
    assert "case:    3 input channels, 2 filters" in str(info.value)
    assert "you averaged over the input channels" in str(info.value)


@pytest.mark.exercise("conv2d")
def test_conv2d_an_off_by_one_size_names_the_missing_plus_one():
    def no_plus_one(x, w, b=None, stride=1, padding=0):
        return loop_conv2d(x, w, b, stride, padding)[:, :, :-1, :-1]

    with pytest.raises(ExerciseError) as info:
        exercises.check_conv2d(no_plus_one)
    message = str(info.value)
    assert "your output has shape (1, 1, 1, 1), expected (1, 1, 2, 2)" in message
    assert "you forgot the + 1" in message


@pytest.mark.exercise("conv2d")
def test_conv2d_the_cases_cover_what_the_chapter_promises():
    calls = [(case.args, dict(case.kwargs)) for case in CONV2D.cases]
    assert any(x.shape[0] > 1 for (x, _), _ in calls)  # a batch
    assert any(x.shape[1] > 1 for (x, _), _ in calls)  # several channels
    assert any(x.shape[2] != x.shape[3] for (x, _), _ in calls)  # non-square input
    assert any(w.shape[2] != w.shape[3] for (_, w), _ in calls)  # non-square kernel
    assert any(kw.get("padding", 0) > 0 for _, kw in calls)
    assert any(kw["b"] is None for _, kw in calls)
    assert any(kw["b"] is not None for _, kw in calls)
    excluded = [
        (x.shape[2] + 2 * kw.get("padding", 0) - w.shape[2]) % kw.get("stride", 1)
        for (x, w), kw in calls
    ]
    assert any(e > 0 for e in excluded)


# ---------------------------------------------------------------------- kernel gradient
@pytest.mark.exercise("kernel_gradient")
def test_kernel_gradient_untrimmed_input_reports_the_shape_and_the_cause():
    def untrimmed(x, dy, kernel_shape, stride=1):
        dilated = np.zeros((stride * (dy.shape[0] - 1) + 1, stride * (dy.shape[1] - 1) + 1))
        dilated[::stride, ::stride] = dy
        rows, cols = x.shape[0] - dilated.shape[0] + 1, x.shape[1] - dilated.shape[1] + 1
        out = np.zeros((rows, cols))
        for m in range(rows):
            for n in range(cols):
                out[m, n] = np.sum(x[m : m + dilated.shape[0], n : n + dilated.shape[1]] * dilated)
        return out

    with pytest.raises(ExerciseError) as info:
        exercises.check_kernel_gradient(untrimmed)
    message = str(info.value)
    assert "case:    stride 2 on 10×10: the last row and column are excluded" in message
    assert "problem: your output has shape (4, 4), expected (3, 3)" in message
    assert "likely cause: you forgot to trim the excluded pixels" in message


@pytest.mark.exercise("kernel_gradient")
def test_kernel_gradient_windows_that_ignore_the_stride_are_recognised():
    def one_pixel_steps(x, dy, kernel_shape, stride=1):
        return loop_kernel_gradient(x, dy, kernel_shape, 1)

    with pytest.raises(ExerciseError) as info:
        exercises.check_kernel_gradient(one_pixel_steps)
    message = str(info.value)
    assert "case:    stride 2, no pixel excluded" in message
    assert "likely cause: you ignored the stride" in message


# --------------------------------------------------------------- strided input gradient
@pytest.mark.exercise("strided_input_gradient")
def test_strided_input_gradient_without_rotation_reports_the_first_index():
    def no_rotation(dy, kernel, input_shape, stride=1):
        return loop_strided_input_gradient(dy, kernel[::-1, ::-1], input_shape, stride)

    with pytest.raises(ExerciseError) as info:
        exercises.check_strided_input_gradient(no_rotation)
    message = str(info.value)
    # dX[0, 0] = dY[0, 0]·K[0, 0] = 1·1, but the unrotated kernel sends dY[0, 0]·K[1, 1] = 2
    assert "problem: first difference at index (0, 0): yours 2, expected 1" in message
    assert "likely cause: you did not rotate the kernel" in message


@pytest.mark.exercise("strided_input_gradient")
def test_strided_input_gradient_missing_excluded_pixels_reports_the_shape():
    def too_small(dy, kernel, input_shape, stride=1):
        kh, kw = kernel.shape
        used = (stride * (dy.shape[0] - 1) + kh, stride * (dy.shape[1] - 1) + kw)
        return loop_strided_input_gradient(dy, kernel, used, stride)

    with pytest.raises(ExerciseError) as info:
        exercises.check_strided_input_gradient(too_small)
    message = str(info.value)
    assert "problem: your output has shape (9, 9), expected (10, 10)" in message
    assert "likely cause: your gradient is smaller than the input" in message


# ------------------------------------------------------------------- numerical gradient
@pytest.mark.exercise("numerical_gradient")
def test_numerical_gradient_one_sided_is_caught_by_the_large_step():
    def forward_difference(f, x, eps=1e-6):
        grad = np.zeros(x.shape)
        base = f(x)
        for index in np.ndindex(x.shape):
            moved = x.copy()
            moved[index] += eps
            grad[index] = (f(moved) - base) / eps
        return grad

    with pytest.raises(ExerciseError) as info:
        exercises.check_numerical_gradient(forward_difference)
    message = str(info.value)
    assert "call:    numerical_gradient(<f(x) = sum(x**3)>, np.array([ 1. , -2. , 0.5]), " in (
        message
    )
    assert "eps=0.1)" in message
    assert "first difference at index (0,): yours 3.31, expected 3.01" in message
    assert "likely cause: you took a one-sided difference" in message


@pytest.mark.exercise("numerical_gradient")
def test_numerical_gradient_that_modifies_x_in_place_is_told_to_copy():
    def in_place(f, x, eps=1e-6):
        grad = np.zeros(x.shape)
        for index in np.ndindex(x.shape):
            x[index] += eps
            plus = f(x)
            x[index] -= 2 * eps
            grad[index] = (plus - f(x)) / (2 * eps)
        return grad

    with pytest.raises(ExerciseError, match="changed its input array in place"):
        exercises.check_numerical_gradient(in_place)


@pytest.mark.exercise("numerical_gradient")
def test_numerical_gradient_that_restores_x_in_place_passes(capsys):
    def restoring(f, x, eps=1e-6):
        grad = np.zeros(x.shape)
        for index in np.ndindex(x.shape):
            original = x[index]
            x[index] = original + eps
            plus = f(x)
            x[index] = original - eps
            minus = f(x)
            x[index] = original
            grad[index] = (plus - minus) / (2 * eps)
        return grad

    assert exercises.check_numerical_gradient(restoring)
    assert "✔ numerical_gradient passed all 5 checks" in capsys.readouterr().out


def test_the_losses_print_their_formula_not_an_address():
    f = NUMERICAL_GRADIENT.cases[0].args[0]
    assert repr(f) == "<f(x) = sum(x**2)>"
    assert f(np.array([1.0, 2.0])) == 5.0
