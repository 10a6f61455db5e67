"""Chapter 4 checkers: correct code passes, each known mistake gets its own explanation."""

from __future__ import annotations

import numpy as np
import pytest
from exercise_contract import ExerciseContract

from cnnlib import exercises, gradcheck, pooling
from cnnlib.exercises import ExerciseError
from cnnlib.exercises.pooling import (
    AVG_POOL2D_BACKWARD,
    CONCAT_POOL2D,
    MAX_POOL2D,
    MAX_POOL2D_BACKWARD,
)

ALL = {
    "max_pool2d": (MAX_POOL2D, exercises.check_max_pool2d),
    "max_pool2d_backward": (MAX_POOL2D_BACKWARD, exercises.check_max_pool2d_backward),
    "avg_pool2d_backward": (AVG_POOL2D_BACKWARD, exercises.check_avg_pool2d_backward),
    "concat_pool2d": (CONCAT_POOL2D, exercises.check_concat_pool2d),
}


# Learner-style solutions, written independently of cnnlib (plain loops and numpy).
def loop_max_pool2d(x, kernel_size, stride=None):
    k = kernel_size
    s = k if stride is None else stride
    n_images, channels, height, width = x.shape
    out = np.zeros((n_images, channels, (height - k) // s + 1, (width - k) // s + 1))
    for i in range(out.shape[2]):
        for j in range(out.shape[3]):
            window = x[:, :, i * s : i * s + k, j * s : j * s + k]
            out[:, :, i, j] = window.max(axis=(2, 3))
    return out


def loop_max_pool2d_backward(dy, x, kernel_size, stride=None):
    k = kernel_size
    s = k if stride is None else stride
    dx = np.zeros(x.shape)
    for n in range(x.shape[0]):
        for c in range(x.shape[1]):
            for i in range(dy.shape[2]):
                for j in range(dy.shape[3]):
                    window = x[n, c, i * s : i * s + k, j * s : j * s + k]
                    m, l = np.unravel_index(np.argmax(window), window.shape)
                    dx[n, c, i * s + m, j * s + l] += dy[n, c, i, j]
    return dx


def loop_avg_pool2d_backward(dy, input_shape, kernel_size, stride=None):
    k = kernel_size
    s = k if stride is None else stride
    dx = np.zeros(input_shape)
    for i in range(dy.shape[2]):
        for j in range(dy.shape[3]):
            dx[:, :, i * s : i * s + k, j * s : j * s + k] += dy[:, :, i : i + 1, j : j + 1] / k**2
    return dx


def loop_concat_pool2d(x, kernel_size, stride=None):
    k = kernel_size
    s = k if stride is None else stride
    n_images, channels, height, width = x.shape
    out = np.zeros((n_images, 2 * channels, (height - k) // s + 1, (width - k) // s + 1))
    for i in range(out.shape[2]):
        for j in range(out.shape[3]):
            window = x[:, :, i * s : i * s + k, j * s : j * s + k]
            out[:, :channels, i, j] = window.max(axis=(2, 3))
            out[:, channels:, i, j] = window.mean(axis=(2, 3))
    return out


LEARNER = {
    "max_pool2d": loop_max_pool2d,
    "max_pool2d_backward": loop_max_pool2d_backward,
    "avg_pool2d_backward": loop_avg_pool2d_backward,
    "concat_pool2d": loop_concat_pool2d,
}


class TestChapter4Checkers(ExerciseContract):
    EXERCISES = ALL
    LEARNER = LEARNER
    MIN_MISTAKES = 3


@pytest.mark.parametrize("name", list(ALL))
def test_the_cases_cover_the_edge_cases(name):
    """Batches and channels, non-square maps, overlap, ties (or stride ≠ k) are all tried."""
    exercise, _ = ALL[name]
    notes = " ".join(case.note for case in exercise.cases)
    assert "worked example" in exercise.cases[0].note
    shapes = [
        next(a.shape for a in case.args if isinstance(a, np.ndarray) and a.ndim == 4)
        for case in exercise.cases
    ]
    assert any(n > 1 and c > 1 for n, c, _, _ in shapes)
    assert "overlapping" in notes
    if name != "concat_pool2d":
        assert any(h != w for _, _, h, w in shapes)
        assert "stride 3 > window 2" in notes or "ties" in notes


def test_the_references_are_what_the_chapter_claims(rng):
    """Max pooling's backward is its gradient (no ties); average pooling's too; ties go first."""
    x = rng.normal(size=(2, 2, 7, 6))
    for reference, k, s in (
        (MAX_POOL2D_BACKWARD.reference, 3, 2),
        (MAX_POOL2D_BACKWARD.reference, 2, None),
    ):
        dy = rng.normal(size=pooling.max_pool2d(x, k, s).shape)
        numerical = gradcheck.numerical_gradient(
            lambda v, k=k, s=s: pooling.max_pool2d(v, k, s), x, dy
        )
        np.testing.assert_allclose(reference(dy, x, k, s), numerical, atol=1e-7)
    dy = rng.normal(size=pooling.avg_pool2d(x, 3, 2).shape)
    numerical = gradcheck.numerical_gradient(lambda v: pooling.avg_pool2d(v, 3, 2), x, dy)
    np.testing.assert_allclose(AVG_POOL2D_BACKWARD.reference(dy, x.shape, 3, 2), numerical)
    ties = np.array([[[[5.0, 5.0], [1.0, 5.0]]]])
    routed = MAX_POOL2D_BACKWARD.reference(np.ones((1, 1, 1, 1)), ties, 2)
    assert routed[0, 0].tolist() == [[1.0, 0.0], [0.0, 0.0]]


@pytest.mark.exercise("max_pool2d")
def test_a_stride_of_one_reports_both_shapes_on_the_worked_example():
    def stride_one(x, kernel_size, stride=None):
        return loop_max_pool2d(x, kernel_size, 1 if stride is None else stride)

    with pytest.raises(ExerciseError) as info:
        exercises.check_max_pool2d(stride_one)
    lines = str(info.value).splitlines()
    assert lines[:4] == [
        "max_pool2d is not right yet.",
        "  call:    max_pool2d(np.array([[[[1., 3., 2., 4.], [5., 6., 1., 2.], [7., 0., 9., 8.],"
        " [1., 2., 3., 4.]]]]), 2)",
        "  case:    the chapter's worked example: 2×2 windows, stride 2 by default",
        "  problem: your output has shape (1, 1, 3, 3), expected (1, 1, 2, 2)",
    ]
    assert lines[4].startswith("  likely cause: your stride defaulted to 1")


@pytest.mark.exercise("max_pool2d")
def test_a_zero_start_is_recognised_on_negative_maps_with_the_first_differing_index():
    def zero_start(x, kernel_size, stride=None):
        k = kernel_size
        s = k if stride is None else stride
        n_images, channels, height, width = x.shape
        out = np.zeros((n_images, channels, (height - k) // s + 1, (width - k) // s + 1))
        for n, c, i, j in np.ndindex(*out.shape):
            for m in range(k):
                for l in range(k):
                    out[n, c, i, j] = max(out[n, c, i, j], x[n, c, i * s + m, j * s + l])
        return out

    with pytest.raises(ExerciseError) as info:
        exercises.check_max_pool2d(zero_start)
    message = str(info.value)
    assert "case:    every value is negative: the maximum is negative too" in message
    assert "problem: first difference at index (0, 0, 0, 0): yours 0, expected -0." in message
    assert "(4 of 4 entries differ)" in message
    assert "likely cause: you started the running maximum at 0" in message


@pytest.mark.exercise("max_pool2d")
def test_an_exception_in_the_learners_code_is_reported_with_the_call():
    def crashes_on_overlap(x, kernel_size, stride=None):
        if stride is not None and stride < kernel_size:
            raise IndexError("index 5 is out of bounds for axis 2 with size 5")
        return loop_max_pool2d(x, kernel_size, stride)

    with pytest.raises(ExerciseError) as info:
        exercises.check_max_pool2d(crashes_on_overlap)
    message = str(info.value)
    assert "case:    overlapping 3×3 windows with stride 2, as in AlexNet" in message
    assert "call:    max_pool2d(<array of shape (1, 1, 5, 5), dtype float64>, 3, stride=2)" in (
        message
    )
    assert (
        "problem: your function raised IndexError: index 5 is out of bounds for axis 2 with "
        "size 5" in message
    )


@pytest.mark.exercise("max_pool2d_backward")
def test_the_tie_mask_of_the_sources_is_named_with_the_first_differing_index():
    def mask_every_maximum(dy, x, kernel_size, stride=None):
        k = kernel_size
        s = k if stride is None else stride
        dx = np.zeros(x.shape)
        for n, c, i, j in np.ndindex(*dy.shape):
            window = x[n, c, i * s : i * s + k, j * s : j * s + k]
            dx[n, c, i * s : i * s + k, j * s : j * s + k] += (window == window.max()) * dy[
                n, c, i, j
            ]
        return dx

    with pytest.raises(ExerciseError) as info:
        exercises.check_max_pool2d_backward(mask_every_maximum)
    message = str(info.value)
    assert "case:    ties: the gradient goes to the first maximum in row-major order" in message
    assert "problem: first difference at index (0, 0, 0, 1): yours 1, expected 0" in message
    assert "likely cause: you sent the gradient to every element equal to the window's" in message


@pytest.mark.exercise("max_pool2d_backward")
def test_assignment_is_caught_only_where_windows_overlap():
    def assigns(dy, x, kernel_size, stride=None):
        k = kernel_size
        s = k if stride is None else stride
        dx = np.zeros(x.shape)
        for n, c, i, j in np.ndindex(*dy.shape):
            window = x[n, c, i * s : i * s + k, j * s : j * s + k]
            m, l = np.unravel_index(np.argmax(window), window.shape)
            dx[n, c, i * s + m, j * s + l] = dy[n, c, i, j]
        return dx

    with pytest.raises(ExerciseError) as info:
        exercises.check_max_pool2d_backward(assigns)
    message = str(info.value)
    assert "case:    overlapping 3×3 windows, all won by the centre: it collects all four dY" in (
        message
    )
    assert "problem: first difference at index (0, 0, 2, 2): yours 4, expected 10" in message
    assert "likely cause: you assigned dx[winner] = dy instead of adding" in message


@pytest.mark.exercise("max_pool2d_backward")
def test_a_gradient_shaped_like_the_output_reports_both_shapes():
    with pytest.raises(ExerciseError) as info:
        exercises.check_max_pool2d_backward(lambda dy, x, k, stride=None: dy.copy())
    assert "problem: your output has shape (1, 1, 2, 2), expected (1, 1, 4, 4)" in str(info.value)


@pytest.mark.exercise("max_pool2d_backward")
def test_a_function_that_modifies_its_input_is_told_to_copy():
    def modifies(dy, x, kernel_size, stride=None):
        result = loop_max_pool2d_backward(dy, x, kernel_size, stride)
        x[...] = 0
        return result

    with pytest.raises(ExerciseError, match="changed its input array in place"):
        exercises.check_max_pool2d_backward(modifies)


@pytest.mark.exercise("avg_pool2d_backward")
def test_np_repeat_is_recognised_by_its_shape():
    def repeat(dy, input_shape, kernel_size, stride=None):
        return np.kron(dy, np.ones((1, 1, kernel_size, kernel_size))) / kernel_size**2

    with pytest.raises(ExerciseError) as info:
        exercises.check_avg_pool2d_backward(repeat)
    message = str(info.value)
    assert "case:    5×5 with 2×2 windows: the last row and column get 0" in message
    assert "problem: your output has shape (1, 2, 4, 4), expected (1, 2, 5, 5)" in message
    assert "likely cause: you upsampled dY with np.repeat (or np.kron)" in message


@pytest.mark.exercise("avg_pool2d_backward")
def test_a_missing_division_is_named_on_the_worked_example():
    def no_division(dy, input_shape, kernel_size, stride=None):
        return loop_avg_pool2d_backward(dy, input_shape, kernel_size, stride) * kernel_size**2

    with pytest.raises(ExerciseError) as info:
        exercises.check_avg_pool2d_backward(no_division)
    message = str(info.value)
    assert "call:    avg_pool2d_backward(np.array([[[[1., 2.], [3., 4.]]]]), (1, 1, 4, 4), 2)" in (
        message
    )
    assert "problem: first difference at index (0, 0, 0, 0): yours 1, expected 0.25" in message
    assert "likely cause: you did not divide by the window's size" in message


@pytest.mark.exercise("concat_pool2d")
def test_stacking_reports_the_extra_axis():
    def stack(x, kernel_size, stride=None):
        high = loop_max_pool2d(x, kernel_size, stride)
        mean = loop_concat_pool2d(x, kernel_size, stride)[:, x.shape[1] :]
        return np.stack([high, mean], axis=1)

    with pytest.raises(ExerciseError) as info:
        exercises.check_concat_pool2d(stack)
    message = str(info.value)
    assert "problem: your output has shape (1, 2, 1, 2, 2), expected (1, 2, 2, 2)" in message
    assert "likely cause: you stacked the two poolings on a new axis (np.stack)" in message


@pytest.mark.exercise("concat_pool2d")
def test_a_list_instead_of_an_array_is_reported():
    def returns_list(x, kernel_size, stride=None):
        return [loop_max_pool2d(x, kernel_size, stride)]

    with pytest.raises(ExerciseError) as info:
        exercises.check_concat_pool2d(returns_list)
    assert "returned a list; expected a NumPy array of shape (1, 2, 2, 2)" in str(info.value)
