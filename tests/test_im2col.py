"""im2col and col2im: the definition, the sources' sizes, and adjointness."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from oracles import torch_or_skip

from cnnlib import conv
from cnnlib.im2col import col2im, column_memory, im2col, im2col_strided, window_view


def _definition(x, kh, kw, stride, dilation):
    """Column (n, i, j), row (c, m, l) = x[n, c, i·s + m·d, j·s + l·d]: written as loops."""
    n, c, h, w = x.shape
    out_h = (h - dilation * (kh - 1) - 1) // stride + 1
    out_w = (w - dilation * (kw - 1) - 1) // stride + 1
    cols = np.zeros((c * kh * kw, n * out_h * out_w))
    for b in range(n):
        for i in range(out_h):
            for j in range(out_w):
                column = (b * out_h + i) * out_w + j
                for ch in range(c):
                    for m in range(kh):
                        for l in range(kw):
                            row = (ch * kh + m) * kw + l
                            cols[row, column] = x[
                                b, ch, i * stride + m * dilation, j * stride + l * dilation
                            ]
    return cols


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(1, 2),
    c=st.integers(1, 3),
    h=st.integers(2, 8),
    w=st.integers(2, 8),
    kh=st.integers(1, 3),
    kw=st.integers(1, 3),
    stride=st.integers(1, 3),
    padding=st.integers(0, 2),
    dilation=st.integers(1, 2),
    seed=st.integers(0, 999),
)
def test_im2col_and_the_window_view_follow_the_definition(
    n, c, h, w, kh, kw, stride, padding, dilation, seed
):
    assume(dilation * (kh - 1) < h + 2 * padding and dilation * (kw - 1) < w + 2 * padding)
    x = np.random.default_rng(seed).standard_normal((n, c, h, w))
    padded = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    expected = _definition(padded, kh, kw, stride, dilation)
    np.testing.assert_array_equal(im2col(x, (kh, kw), stride, padding, dilation), expected)
    np.testing.assert_array_equal(im2col_strided(x, (kh, kw), stride, padding, dilation), expected)
    view = window_view(x, (kh, kw), stride, padding, dilation)
    out_h = (h + 2 * padding - dilation * (kh - 1) - 1) // stride + 1
    out_w = (w + 2 * padding - dilation * (kw - 1) - 1) // stride + 1
    assert view.shape == (n, c, out_h, out_w, kh, kw)
    i, j, m, l = out_h - 1, out_w - 1, kh - 1, kw - 1  # the last tap of the last window
    assert (
        view[-1, -1, i, j, m, l]
        == padded[-1, -1, i * stride + m * dilation, j * stride + l * dilation]
    )


def test_the_sources_alexnet_example():
    cols = im2col(np.zeros((1, 3, 227, 227), np.float32), 11, stride=4)
    assert cols.shape == (363, 3025)  # 11·11·3 rows, 55·55 columns
    assert cols.dtype == np.float32
    filters = np.zeros((96, 363), np.float32)
    assert (filters @ cols).shape == (96, 3025)  # reshapes to 55×55×96


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(1, 2),
    c=st.integers(1, 3),
    h=st.integers(2, 9),
    w=st.integers(2, 9),
    k=st.integers(1, 3),
    stride=st.integers(1, 3),
    padding=st.integers(0, 2),
    dilation=st.integers(1, 2),
    seed=st.integers(0, 999),
)
def test_col2im_is_the_adjoint_of_im2col(n, c, h, w, k, stride, padding, dilation, seed):
    """⟨im2col(x), v⟩ = ⟨x, col2im(v)⟩ for all x, v: col2im is im2col's transpose."""
    assume(dilation * (k - 1) < min(h, w) + 2 * padding)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, c, h, w))
    cols = im2col(x, k, stride, padding, dilation)
    v = rng.standard_normal(cols.shape)
    back = col2im(v, x.shape, k, stride, padding, dilation)
    assert np.isclose(np.sum(cols * v), np.sum(x * back))


def test_col2im_counts_how_often_each_pixel_is_read():
    counts = col2im(im2col(np.ones((1, 1, 4, 4)), 3, padding=1), (1, 1, 4, 4), 3, padding=1)[0, 0]
    np.testing.assert_array_equal(counts, [[4, 6, 6, 4], [6, 9, 9, 6], [6, 9, 9, 6], [4, 6, 6, 4]])


def test_convolution_is_a_matrix_product_of_the_columns(rng):
    x, w = rng.standard_normal((2, 3, 7, 6)), rng.standard_normal((4, 3, 3, 2))
    cols = im2col(x, (3, 2), stride=2, padding=1)
    y = (w.reshape(4, -1) @ cols).reshape(4, 2, 4, 4).transpose(1, 0, 2, 3)
    np.testing.assert_allclose(y, conv.conv2d_naive(x, w, stride=2, padding=1), atol=1e-12)


def test_bad_input():
    with pytest.raises(ValueError, match=r"im2col: x must be a 4-D array \(N, C, H, W\), got 2-D"):
        im2col(np.zeros((4, 4)), 2)
    with pytest.raises(
        ValueError,
        # 2×2 windows of a 4×4 image: 1·2·2 = 4 rows, 3·3 = 9 columns
        match=r"col2im: cols has shape \(4, 8\), but input \(1, 1, 4, 4\) with this kernel, stride, padding and dilation needs \(C·k_h·k_w, N·H_out·W_out\) = \(4, 9\)$",
    ):
        col2im(np.zeros((4, 8)), (1, 1, 4, 4), 2)
    with pytest.raises(ValueError, match=r"col2im: input_shape must be \(N, C, H, W\)"):
        col2im(np.zeros((4, 9)), (4, 4), 2)
    with pytest.raises(
        ValueError, match=r"im2col: x \(1, 1, 2, 2\) and w \(1, 1, 3, 3\) do not fit"
    ):
        im2col(np.zeros((1, 1, 2, 2)), 3)


# ------------------------------------------- strided views and the memory count (chapter 6)
def test_the_strided_columns_match_torch_unfold(rng):
    torch = torch_or_skip()
    x = rng.standard_normal((3, 4, 9, 8))
    for kernel, stride, padding, dilation in (((3, 2), 2, 1, 1), (3, 1, 2, 2), (1, 3, 0, 1)):
        unfolded = torch.nn.functional.unfold(
            torch.from_numpy(x), kernel, dilation=dilation, padding=padding, stride=stride
        ).numpy()  # (N, C·k_h·k_w, L), rows ordered (c, m, l) as in cnnlib
        expected = unfolded.transpose(1, 0, 2).reshape(unfolded.shape[1], -1)
        np.testing.assert_array_equal(
            im2col_strided(x, kernel, stride, padding, dilation), expected
        )


def test_a_window_view_without_padding_copies_nothing_and_is_read_only():
    x = np.arange(2 * 3 * 6 * 5, dtype=np.float32).reshape(2, 3, 6, 5)
    view = window_view(x, 3, stride=2)
    assert np.shares_memory(view, x)
    assert view.dtype == np.float32
    # stepping one output to the right moves the window by the stride: 2 floats = 8 bytes
    assert view.strides == (360, 120, 40, 8, 20, 4)
    with pytest.raises(ValueError, match="read-only"):
        view[0, 0, 0, 0, 0, 0] = 1.0
    padded = window_view(x, 3, padding=1)
    assert not np.shares_memory(padded, x)
    assert padded[0, 0, 0, 0, 0, 0] == 0  # a padding zero
    columns = im2col_strided(x, 3, stride=2)
    assert not np.shares_memory(columns, x)  # the reshape copied


def test_strided_columns_are_a_new_array_even_where_the_reshape_needs_no_copy():
    # a 1×1 kernel on one image reads the pixels in order, and a full-width kernel on one
    # channel reads its rows as columns: the transposed view reshapes without copying, and
    # would be a read-only alias of x
    x = np.arange(3 * 4 * 5, dtype=float).reshape(1, 3, 4, 5)
    for image, kernel in ((x, 1), (x[:, :1], (1, 5))):
        columns = im2col_strided(image, kernel)
        assert not np.shares_memory(columns, image)
        assert columns.flags.writeable
        np.testing.assert_array_equal(columns, im2col(image, kernel))


def test_column_memory_counts_the_sources_example():
    cost = column_memory((1, 3, 227, 227), 11, stride=4)
    # (227 − 11)/4 + 1 = 55 positions per axis, 11·11·3 = 363 numbers per window
    assert cost.shape == (363, 55 * 55) == (363, 3025)
    assert cost.input_values == 227 * 227 * 3 == 154_587
    assert cost.column_values == 363 * 3025 == 1_098_075
    assert cost.input_bytes == 4 * 154_587
    assert cost.column_bytes == 4 * 1_098_075 == 4_392_300
    assert cost.duplication == pytest.approx(1_098_075 / 154_587)
    assert column_memory((128, 3, 227, 227), 11, 4, dtype=np.float64).column_bytes == (
        8 * 128 * 1_098_075
    )


@settings(max_examples=30, deadline=None)
@given(
    n=st.integers(1, 3),
    c=st.integers(1, 3),
    h=st.integers(3, 9),
    w=st.integers(3, 9),
    k=st.integers(1, 3),
    stride=st.integers(1, 3),
    padding=st.integers(0, 1),
    dtype=st.sampled_from([np.float32, np.float64]),
)
def test_column_memory_is_what_im2col_allocates(n, c, h, w, k, stride, padding, dtype):
    cols = im2col(np.zeros((n, c, h, w), dtype), k, stride, padding)
    cost = column_memory((n, c, h, w), k, stride, padding, dtype=dtype)
    assert cost.shape == cols.shape
    assert cost.column_bytes == cols.nbytes
    assert cost.input_bytes == np.zeros((n, c, h, w), dtype).nbytes


def test_bad_input_to_the_strided_versions():
    with pytest.raises(ValueError, match=r"window_view: x must be a 4-D array"):
        window_view(np.zeros((4, 4)), 2)
    with pytest.raises(TypeError, match=r"window_view: x must hold real numbers"):
        window_view(np.zeros((1, 1, 4, 4), dtype=bool), 2)
    with pytest.raises(ValueError, match=r"column_memory: input_shape must be \(N, C, H, W\)"):
        column_memory((4, 4), 2)
    with pytest.raises(ValueError, match=r"column_memory: x \(1, 1, 2, 2\) and w \(1, 1, 3, 3\)"):
        column_memory((1, 1, 2, 2), 3)
