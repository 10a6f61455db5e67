"""The exercise checkers: correct code passes, each known mistake gets its own explanation."""

from __future__ import annotations

import numpy as np
import pytest
from exercise_contract import ExerciseContract

from cnnlib import exercises
from cnnlib.exercises import ExerciseError
from cnnlib.exercises.convolution import CORRELATE, DILATE, OUTPUT_SIZE, PARAMS
from cnnlib.exercises.core import Case, Exercise, Mistake, compare

ALL = {
    "conv_output_size": (OUTPUT_SIZE, exercises.check_conv_output_size),
    "correlate2d": (CORRELATE, exercises.check_correlate2d),
    "conv_params": (PARAMS, exercises.check_conv_params),
    "dilate_kernel": (DILATE, exercises.check_dilate_kernel),
}


# Learner-style solutions, written independently of cnnlib (plain loops and arithmetic).
def loop_output_size(n, kernel_size, stride=1, padding=0):
    return (n + 2 * padding - kernel_size) // stride + 1


def loop_correlate2d(image, kernel, stride=1):
    kh, kw = kernel.shape
    out = np.zeros(((image.shape[0] - kh) // stride + 1, (image.shape[1] - kw) // stride + 1))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = np.sum(
                image[i * stride : i * stride + kh, j * stride : j * stride + kw] * kernel
            )
    return out


def loop_conv_params(kernel_size, in_channels, filters, bias=True):
    return (kernel_size * kernel_size * in_channels + bias) * filters


def loop_dilate_kernel(kernel, dilation):
    rows, cols = kernel.shape
    out = np.zeros((dilation * (rows - 1) + 1, dilation * (cols - 1) + 1))
    for r in range(rows):
        for c in range(cols):
            out[r * dilation, c * dilation] = kernel[r, c]
    return out


LEARNER = {
    "conv_output_size": loop_output_size,
    "correlate2d": loop_correlate2d,
    "conv_params": loop_conv_params,
    "dilate_kernel": loop_dilate_kernel,
}


class TestChapter1Checkers(ExerciseContract):
    EXERCISES = ALL
    LEARNER = LEARNER


@pytest.mark.exercise("correlate2d")
def test_an_ignored_stride_reports_both_shapes():
    def no_stride(image, kernel, stride=1):
        return loop_correlate2d(image, kernel)

    with pytest.raises(ExerciseError) as info:
        exercises.check_correlate2d(no_stride)
    message = str(info.value)
    assert "your output has shape (3, 3), expected (2, 2)" in message
    assert "stride=2" in message
    assert "case:    stride 2" in message
    assert "you ignored the stride" in message


@pytest.mark.exercise("correlate2d")
def test_a_wrong_value_reports_the_first_differing_index():
    def off_by_bias(image, kernel, stride=1):
        out = loop_correlate2d(image, kernel, stride)
        out[1, 2] += 1.0
        return out

    with pytest.raises(ExerciseError) as info:
        exercises.check_correlate2d(off_by_bias)
    message = str(info.value)
    assert (
        "first difference at index (1, 2): yours 4, expected 3 (1 of 9 entries differ)" in message
    )
    assert "likely cause" not in message  # not a known mistake: no guess


@pytest.mark.exercise("correlate2d")
def test_a_flipped_kernel_is_recognised_as_true_convolution():
    def convolve(image, kernel, stride=1):
        return loop_correlate2d(image, kernel[::-1, ::-1], stride)

    with pytest.raises(ExerciseError, match="you flipped the kernel: that is true convolution"):
        exercises.check_correlate2d(convolve)


@pytest.mark.exercise("correlate2d")
def test_returning_a_list_is_reported():
    with pytest.raises(ExerciseError, match="returned a list; expected a NumPy array of shape"):
        exercises.check_correlate2d(
            lambda image, kernel, stride=1: loop_correlate2d(image, kernel, stride).tolist()
        )


@pytest.mark.exercise("conv_output_size")
def test_a_float_size_is_reported_with_advice():
    with pytest.raises(ExerciseError) as info:
        exercises.check_conv_output_size(
            lambda n, k, stride=1, padding=0: (n + 2 * padding - k) / stride + 1
        )
    assert "returned 3.0, a float; expected the integer 3" in str(info.value)
    assert "use // (floor division)" in str(info.value)


def test_a_stub_gets_told_to_write_the_function():
    def stub(n, kernel_size, stride=1, padding=0):
        raise NotImplementedError("Exercise ex-conv-output-size: write conv_output_size")

    with pytest.raises(ExerciseError, match="conv_output_size still raises NotImplementedError"):
        exercises.check_conv_output_size(stub)


def test_a_crash_is_reported_with_the_call_and_chained():
    def crash(image, kernel, stride=1):
        return image[100, 100]

    with pytest.raises(ExerciseError) as info:
        exercises.check_correlate2d(crash)
    assert "your function raised IndexError" in str(info.value)
    assert "call:    correlate2d(np.array([[1., 2., 3., 0.]" in str(info.value)
    assert isinstance(info.value.__cause__, IndexError)


def test_changing_the_input_in_place_is_reported():
    def scribbles(image, kernel, stride=1):
        image[0, 0] = 99.0
        return loop_correlate2d(image, kernel, stride)

    with pytest.raises(ExerciseError, match="changed its input array in place"):
        exercises.check_correlate2d(scribbles)


def test_exercise_error_is_an_assertion_error():
    assert issubclass(ExerciseError, AssertionError)


def test_passing_a_call_instead_of_the_function_is_a_type_error():
    with pytest.raises(
        TypeError,
        match=r"expects your function itself, e.g. check_conv_params\(conv_params\); got 760",
    ):
        exercises.check_conv_params(760)


def test_compare_handles_tuples_and_floats():
    assert compare((1, 2), (1, 2)) is None
    assert compare((1, 3), (1, 2)) == "entry 1 of the tuple: your function returned 3, expected 2"
    assert compare(0.1 + 0.2, 0.3) is None
    assert compare(0.31, 0.3) == "your function returned 0.31, expected 0.3"
    assert compare(float("nan"), float("nan")) is None  # a mistake may produce NaN
    assert compare(float("nan"), 0.3) == "your function returned nan, expected 0.3"
    assert compare(np.array([np.nan]), np.array([np.nan])) is None
    assert compare("3", 3) == "your function returned '3' (str); expected an integer"


def test_a_new_exercise_needs_only_a_reference_cases_and_mistakes(capsys):
    square = Exercise(
        name="square",
        reference=lambda x: x * x,
        cases=(Case((3,), note="three"), Case((-2,), note="a negative number")),
        mistakes=(Mistake("you doubled instead of squaring", lambda x: 2 * x),),
    )
    assert square.check(lambda x: x**2)
    with pytest.raises(ExerciseError, match="likely cause: you doubled instead of squaring"):
        square.check(lambda x: x + x)
    assert "✔ square passed all 2 checks." in capsys.readouterr().out
