"""Chapter 2 checkers: correct code passes, each known mistake gets its own explanation."""

from __future__ import annotations

import numpy as np
import pytest
from exercise_contract import ExerciseContract

from cnnlib import exercises, signal
from cnnlib.exercises import ExerciseError
from cnnlib.exercises.correlation import COMPOSE, CONVOLVE, INPUT_GRADIENT, ROT180

ALL = {
    "rot180": (ROT180, exercises.check_rot180),
    "convolve2d": (CONVOLVE, exercises.check_convolve2d),
    "compose_kernels": (COMPOSE, exercises.check_compose_kernels),
    "input_gradient": (INPUT_GRADIENT, exercises.check_input_gradient),
}


# Learner-style solutions, written independently of cnnlib (plain loops and indexing).
def loop_rot180(kernel):
    rows, cols = kernel.shape
    out = np.zeros((rows, cols))
    for m in range(rows):
        for n in range(cols):
            out[m, n] = kernel[rows - 1 - m, cols - 1 - n]
    return out


def loop_convolve2d(image, kernel):
    kh, kw = kernel.shape
    out = np.zeros((image.shape[0] - kh + 1, image.shape[1] - kw + 1))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            # output (i, j) of the valid part is full-convolution index (i + kh − 1, j + kw − 1)
            for m in range(kh):
                for n in range(kw):
                    out[i, j] += kernel[m, n] * image[i + kh - 1 - m, j + kw - 1 - n]
    return out


def loop_compose_kernels(first, second):
    (ah, aw), (bh, bw) = first.shape, second.shape
    out = np.zeros((ah + bh - 1, aw + bw - 1))
    for m in range(ah):
        for n in range(aw):
            for a in range(bh):
                for b in range(bw):
                    out[m + a, n + b] += first[m, n] * second[a, b]  # offsets add up
    return out


def loop_input_gradient(grad_output, kernel):
    kh, kw = kernel.shape
    out = np.zeros((grad_output.shape[0] + kh - 1, grad_output.shape[1] + kw - 1))
    for i in range(grad_output.shape[0]):
        for j in range(grad_output.shape[1]):
            # output (i, j) read X[i + m, j + n] with weight K[m, n]: send its gradient back
            out[i : i + kh, j : j + kw] += grad_output[i, j] * kernel
    return out


LEARNER = {
    "rot180": loop_rot180,
    "convolve2d": loop_convolve2d,
    "compose_kernels": loop_compose_kernels,
    "input_gradient": loop_input_gradient,
}


class TestChapter2Checkers(ExerciseContract):
    EXERCISES = ALL
    LEARNER = LEARNER


def test_the_reference_solutions_agree_with_the_definitions(rng):
    """The references are what the chapter claims: composing and backpropagating."""
    x = rng.normal(size=(7, 8))
    first, second = rng.normal(size=(3, 2)), rng.normal(size=(2, 4))
    stacked = signal.correlate2d(signal.correlate2d(x, first), second)
    merged = signal.correlate2d(x, COMPOSE.reference(first, second))
    np.testing.assert_allclose(stacked, merged, atol=1e-12)

    kernel = rng.normal(size=(3, 2))
    grad_output = rng.normal(size=signal.correlate2d(x, kernel).shape)
    step = 1e-6
    numerical = np.zeros_like(x)
    for index in np.ndindex(*x.shape):
        bumped = [x.copy(), x.copy()]
        bumped[0][index] += step
        bumped[1][index] -= step
        losses = [np.sum(grad_output * signal.correlate2d(b, kernel)) for b in bumped]
        numerical[index] = (losses[0] - losses[1]) / (2 * step)
    np.testing.assert_allclose(INPUT_GRADIENT.reference(grad_output, kernel), numerical, atol=1e-7)


@pytest.mark.exercise("rot180")
def test_a_quarter_turn_reports_the_first_differing_index():
    with pytest.raises(ExerciseError) as info:
        exercises.check_rot180(np.rot90)
    message = str(info.value)
    assert message.splitlines()[:4] == [
        "rot180 is not right yet.",
        "  call:    rot180(np.array([[1., 2., 3.], [4., 5., 6.], [7., 8., 9.]]))",
        "  case:    the chapter's 3×3 kernel 1 … 9",
        "  problem: first difference at index (0, 0): yours 3, expected 9 (8 of 9 entries differ)",
    ]
    assert "likely cause: you turned the kernel by 90°" in message


@pytest.mark.exercise("rot180")
def test_a_transpose_reports_the_shape_of_a_non_square_kernel():
    def transposes_rectangles(kernel):
        return kernel.T if kernel.shape[0] != kernel.shape[1] else loop_rot180(kernel)

    with pytest.raises(ExerciseError) as info:
        exercises.check_rot180(transposes_rectangles)
    message = str(info.value)
    assert "case:    a non-square 2×3 kernel" in message
    assert "problem: your output has shape (3, 2), expected (2, 3)" in message
    assert "likely cause: you transposed the kernel" in message


@pytest.mark.exercise("convolve2d")
def test_a_correlation_is_recognised_on_the_first_worked_example():
    def correlate(image, kernel):
        kh, kw = kernel.shape
        out = np.zeros((image.shape[0] - kh + 1, image.shape[1] - kw + 1))
        for i in range(out.shape[0]):
            for j in range(out.shape[1]):
                out[i, j] = np.sum(image[i : i + kh, j : j + kw] * kernel)
        return out

    with pytest.raises(ExerciseError) as info:
        exercises.check_convolve2d(correlate)
    message = str(info.value)
    assert "case:    the 4×4 example of chapter 1, convolved this time" in message
    assert "problem: first difference at index (0, 0): yours 2, expected 0 (9 of 9 entries" in (
        message
    )
    assert "likely cause: you did not flip the kernel: that is cross-correlation" in message


@pytest.mark.exercise("input_gradient")
def test_same_padding_in_the_backward_pass_reports_both_shapes():
    def same_padding(grad_output, kernel):
        kh, kw = kernel.shape
        padded = np.pad(grad_output, ((kh - 1) // 2, (kw - 1) // 2))
        rotated = kernel[::-1, ::-1]
        out = np.zeros((padded.shape[0] - kh + 1, padded.shape[1] - kw + 1))
        for i in range(out.shape[0]):
            for j in range(out.shape[1]):
                out[i, j] = np.sum(padded[i : i + kh, j : j + kw] * rotated)
        return out

    with pytest.raises(ExerciseError) as info:
        exercises.check_input_gradient(same_padding)
    message = str(info.value)
    assert "problem: your output has shape (2, 2), expected (4, 4)" in message
    assert "likely cause: you padded the gradient by (k − 1)//2, as for 'same'" in message


@pytest.mark.exercise("compose_kernels")
def test_an_elementwise_product_reports_the_shape():
    with pytest.raises(ExerciseError) as info:
        exercises.check_compose_kernels(lambda first, second: first * second)
    message = str(info.value)
    assert "case:    two 3×3 box blurs make one 5×5 blur" in message
    assert "problem: your output has shape (3, 3), expected (5, 5)" in message
    assert "likely cause: you multiplied the kernels entry by entry" in message
