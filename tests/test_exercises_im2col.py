"""Chapter 6 checkers: correct code passes, each known mistake gets its own explanation."""

from __future__ import annotations

import numpy as np
import pytest
from exercise_contract import ExerciseContract
from oracles import torch_or_skip

from cnnlib import exercises
from cnnlib.exercises import ExerciseError
from cnnlib.exercises.im2col import COL2IM, CONV2D_BACKWARD_IM2COL, CONV2D_IM2COL, IM2COL

ALL = {
    "im2col": (IM2COL, exercises.check_im2col),
    "col2im": (COL2IM, exercises.check_col2im),
    "conv2d_im2col": (CONV2D_IM2COL, exercises.check_conv2d_im2col),
    "conv2d_backward_im2col": (CONV2D_BACKWARD_IM2COL, exercises.check_conv2d_backward_im2col),
}


# Learner-style solutions, written independently of cnnlib (plain loops and numpy).
def loop_im2col(x, kernel_size, stride=1, padding=0):
    k, s, p = kernel_size, stride, padding
    n_images, channels, height, width = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    out_h, out_w = (height + 2 * p - k) // s + 1, (width + 2 * p - k) // s + 1
    cols = np.zeros((channels * k * k, n_images * out_h * out_w))
    for n in range(n_images):
        for i in range(out_h):
            for j in range(out_w):
                column = (n * out_h + i) * out_w + j
                for c in range(channels):
                    for m in range(k):
                        for l in range(k):
                            cols[(c * k + m) * k + l, column] = xp[n, c, i * s + m, j * s + l]
    return cols


def loop_col2im(cols, input_shape, kernel_size, stride=1, padding=0):
    k, s, p = kernel_size, stride, padding
    n_images, channels, height, width = input_shape
    out_h, out_w = (height + 2 * p - k) // s + 1, (width + 2 * p - k) // s + 1
    padded = np.zeros((n_images, channels, height + 2 * p, width + 2 * p))
    for n in range(n_images):
        for i in range(out_h):
            for j in range(out_w):
                column = (n * out_h + i) * out_w + j
                for c in range(channels):
                    for m in range(k):
                        for l in range(k):
                            padded[n, c, i * s + m, j * s + l] += cols[(c * k + m) * k + l, column]
    return padded[:, :, p : p + height, p : p + width]


def gemm_conv2d(x, w, b=None, stride=1, padding=0):
    n_images, (filters, _, k, _) = x.shape[0], w.shape
    out_h = (x.shape[2] + 2 * padding - k) // stride + 1
    out_w = (x.shape[3] + 2 * padding - k) // stride + 1
    y = w.reshape(filters, -1) @ loop_im2col(x, k, stride, padding)
    y = y.reshape(filters, n_images, out_h, out_w).transpose(1, 0, 2, 3)
    if b is not None:
        y = y + b[None, :, None, None]
    return y


def gemm_conv2d_backward(dy, x, w, stride=1, padding=0):
    filters, k = w.shape[0], w.shape[2]
    dy_rows = dy.transpose(1, 0, 2, 3).reshape(filters, -1)
    dw = (dy_rows @ loop_im2col(x, k, stride, padding).T).reshape(w.shape)
    dx = loop_col2im(w.reshape(filters, -1).T @ dy_rows, x.shape, k, stride, padding)
    return dx, dw, dy.sum(axis=(0, 2, 3))


LEARNER = {
    "im2col": loop_im2col,
    "col2im": loop_col2im,
    "conv2d_im2col": gemm_conv2d,
    "conv2d_backward_im2col": gemm_conv2d_backward,
}


class TestChapter6Checkers(ExerciseContract):
    EXERCISES = ALL
    LEARNER = LEARNER
    MIN_MISTAKES = 5


# ----------------------------------------------------------------- references vs PyTorch
def _kwargs(case):
    return {"stride": case.kwargs.get("stride", 1), "padding": case.kwargs.get("padding", 0)}


def test_the_im2col_reference_is_torch_unfold():
    torch = torch_or_skip()
    for case in IM2COL.cases:
        x, k = case.args
        unfolded = torch.nn.functional.unfold(torch.from_numpy(x), k, **_kwargs(case)).numpy()
        expected = unfolded.transpose(1, 0, 2).reshape(unfolded.shape[1], -1)
        np.testing.assert_array_equal(case.call(IM2COL.reference), expected)


def test_the_col2im_reference_is_torch_fold():
    torch = torch_or_skip()
    for case in COL2IM.cases:
        cols, (n, _, h, w), k = case.args
        per_image = torch.from_numpy(cols.reshape(cols.shape[0], n, -1).transpose(1, 0, 2).copy())
        expected = torch.nn.functional.fold(per_image, (h, w), k, **_kwargs(case)).numpy()
        np.testing.assert_allclose(case.call(COL2IM.reference), expected, atol=1e-12)


def test_the_convolution_references_are_torchs_with_autograd():
    torch = torch_or_skip()
    for case in CONV2D_IM2COL.cases:
        tensors = [torch.from_numpy(a) for a in case.args]
        expected = torch.nn.functional.conv2d(*tensors, **_kwargs(case)).numpy()
        np.testing.assert_allclose(case.call(CONV2D_IM2COL.reference), expected, atol=1e-12)
    for case in CONV2D_BACKWARD_IM2COL.cases:
        dy, x, w = case.args
        xt = torch.from_numpy(x).requires_grad_()
        wt = torch.from_numpy(w).requires_grad_()
        bt = torch.zeros(w.shape[0], dtype=torch.float64, requires_grad=True)
        torch.nn.functional.conv2d(xt, wt, bt, **_kwargs(case)).backward(torch.from_numpy(dy))
        for got, want in zip(
            case.call(CONV2D_BACKWARD_IM2COL.reference), (xt, wt, bt), strict=True
        ):
            np.testing.assert_allclose(got, want.grad.numpy(), atol=1e-12)


# ---------------------------------------------------------------------- precise messages
@pytest.mark.exercise("im2col")
def test_channel_last_rows_are_named_on_the_figures_example():
    def channel_last(x, kernel_size, stride=1, padding=0):
        cols = loop_im2col(x, kernel_size, stride, padding)
        c, k = x.shape[1], kernel_size
        return cols.reshape(c, k * k, -1).transpose(1, 0, 2).reshape(c * k * k, -1)

    with pytest.raises(ExerciseError) as info:
        exercises.check_im2col(channel_last)
    message = str(info.value)
    assert (
        message.splitlines()[1]
        == "  call:    im2col(<array of shape (1, 2, 3, 3), dtype float64>, 2)"
    )
    assert "problem: first difference at index (1, 0): yours 10, expected 2" in message
    assert "likely cause: your rows are ordered channel-last, (m, l, c)" in message


@pytest.mark.exercise("im2col")
def test_a_forgotten_stride_reports_both_shapes():
    with pytest.raises(ExerciseError) as info:
        exercises.check_im2col(lambda x, k, stride=1, padding=0: loop_im2col(x, k, 1, padding))
    message = str(info.value)
    assert "case:    stride 2: four disjoint windows, so 4 columns, not 9" in message
    assert "problem: your output has shape (4, 9), expected (4, 4)" in message
    assert "likely cause: your windows move one pixel at a time" in message


@pytest.mark.exercise("col2im")
def test_assigned_overlaps_are_named_on_the_columns_of_ones():
    def assigning(cols, input_shape, kernel_size, stride=1, padding=0):
        k = kernel_size
        out_w = input_shape[3] - k + 1  # enough for the first case: one image, one channel
        dx = np.zeros(input_shape)
        for column in range(cols.shape[1]):
            i, j = divmod(column, out_w)
            dx[0, 0, i : i + k, j : j + k] = cols[:, column].reshape(k, k)
        return dx

    with pytest.raises(ExerciseError) as info:
        exercises.check_col2im(assigning)
    message = str(info.value)
    assert message.splitlines()[1] == (
        "  call:    col2im(np.array([[1., 1., 1., 1.], [1., 1., 1., 1.], [1., 1., 1., 1.], "
        "[1., 1., 1., 1.]]), (1, 1, 3, 3), 2)"
    )
    assert "problem: first difference at index (0, 0, 0, 1): yours 1, expected 2" in message
    assert "likely cause: you assigned each window" in message


@pytest.mark.exercise("col2im")
def test_an_inverse_instead_of_an_adjoint_is_named():
    def averaging(cols, input_shape, kernel_size, stride=1, padding=0):
        ones = np.ones_like(cols)
        total = loop_col2im(cols, input_shape, kernel_size, stride, padding)
        counts = loop_col2im(ones, input_shape, kernel_size, stride, padding)
        return total / np.maximum(counts, 1)

    with pytest.raises(ExerciseError) as info:
        exercises.check_col2im(averaging)
    assert "likely cause: you averaged the overlapping values" in str(info.value)


@pytest.mark.exercise("conv2d_im2col")
def test_a_batch_reshaped_without_transposing_is_named():
    def no_transpose(x, w, b=None, stride=1, padding=0):
        y = gemm_conv2d(x[:1], w, b, stride, padding)  # right for one image
        rows = w.reshape(w.shape[0], -1) @ loop_im2col(x, w.shape[2], stride, padding)
        y = rows.reshape(x.shape[0], w.shape[0], *y.shape[2:])
        return y if b is None else y + b[None, :, None, None]

    with pytest.raises(ExerciseError) as info:
        exercises.check_conv2d_im2col(no_transpose)
    message = str(info.value)
    assert "case:    a batch of 2, 3 filters, a bias" in message
    assert "likely cause: you reshaped the GEMM's (F, N·H_out·W_out) output straight" in message


@pytest.mark.exercise("conv2d_backward_im2col")
def test_a_backward_pass_that_assigns_is_named_at_the_overlap():
    def assigning(dy, x, w, stride=1, padding=0):
        _, dw, db = gemm_conv2d_backward(dy, x, w, stride, padding)
        filters, k = w.shape[0], w.shape[2]
        dcols = w.reshape(filters, -1).T @ dy.transpose(1, 0, 2, 3).reshape(filters, -1)
        out_h, out_w = dy.shape[2:]
        dx = np.zeros(x.shape)
        for n in range(x.shape[0]):
            for i in range(out_h):
                for j in range(out_w):
                    column = (n * out_h + i) * out_w + j
                    window = dcols[:, column].reshape(x.shape[1], k, k)
                    dx[n, :, i * stride : i * stride + k, j * stride : j * stride + k] = window
        return dx, dw, db

    with pytest.raises(ExerciseError) as info:
        exercises.check_conv2d_backward_im2col(assigning)
    message = str(info.value)
    assert "problem: entry 0 of the tuple: first difference" in message
    assert "likely cause: your dx assigns each window instead of adding it" in message
