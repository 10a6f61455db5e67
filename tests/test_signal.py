"""cnnlib.signal against SciPy, the sources' worked examples and the definitions."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.signal
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from cnnlib import geometry, signal

X4 = np.array([[1, 2, 3, 0], [0, 1, 2, 3], [3, 0, 1, 2], [2, 3, 0, 1]])
K2 = np.array([[1, 0], [-1, 1]])


def grids(max_side: int = 9):
    """Hypothesis strategy: small float64 2-D arrays of any shape."""
    return st.tuples(st.integers(1, max_side), st.integers(1, max_side)).flatmap(
        lambda shape: arrays(np.float64, shape, elements=st.floats(-10, 10, width=64))
    )


# ------------------------------------------------------------------ hand-worked examples


def test_the_4x4_sliding_window_example():
    y = signal.correlate2d(X4, K2)
    assert y[0].tolist() == [2, 3, 4]  # the three steps worked out in the text
    # the remaining windows, worked by hand: e.g. y[1, 0] = 0·1 + 1·0 + 3·(−1) + 0·1 = −3
    assert y.tolist() == [[2, 3, 4], [-3, 2, 3], [4, -3, 2]]
    assert y.dtype.kind == "i"  # integer examples stay exact


def test_the_3x3_patch_example():
    patch = np.array([[1, 2, 0], [0, 1, 1], [5, 0, 1]])
    edge = np.array([[1, 0, -1]] * 3)
    assert signal.correlate2d(patch, edge).tolist() == [[4]]


def test_dilation_picks_every_dth_input():
    # the sources' 1-D example: d=1 uses x0, x1, x2 and d=2 uses x0, x2, x4
    x = 10 ** np.arange(7)[None, :]
    w = np.ones((1, 3), dtype=int)
    assert signal.correlate2d(x, w)[0, 0] == 111
    assert signal.correlate2d(x, w, dilation=2)[0, 0] == 10101


def test_rot180_and_dilate2d_by_hand():
    assert signal.rot180([[1, 2], [3, 4]]).tolist() == [[4, 3], [2, 1]]
    assert signal.dilate2d([[1, 2], [3, 4]], 2).tolist() == [[1, 0, 2], [0, 0, 0], [3, 0, 4]]
    assert signal.dilate2d([[1, 2, 3]], (1, 3)).tolist() == [[1, 0, 0, 2, 0, 0, 3]]
    stack = np.arange(24).reshape(2, 3, 2, 2)
    assert np.array_equal(signal.rot180(stack), np.rot90(stack, 2, axes=(2, 3)))


# ------------------------------------------------------------------------- SciPy oracle


@given(image=grids(), kernel=grids(5), mode=st.sampled_from(["valid", "same", "full"]))
def test_correlate2d_matches_scipy_at_stride_1(image, kernel, mode):
    if mode == "valid" and (kernel.shape[0] > image.shape[0] or kernel.shape[1] > image.shape[1]):
        with pytest.raises(ValueError, match="do not fit"):
            signal.correlate2d(image, kernel, mode)
        return
    expected = scipy.signal.correlate2d(image, kernel, mode)
    np.testing.assert_allclose(
        signal.correlate2d(image, kernel, mode), expected, rtol=1e-12, atol=1e-9
    )


@given(
    image=grids(12),
    kernel=grids(4),
    mode=st.sampled_from(["valid", "full"]),
    stride=st.tuples(st.integers(1, 4), st.integers(1, 4)),
)
def test_strided_correlation_is_the_stride_1_result_subsampled(image, kernel, mode, stride):
    if mode == "valid" and (kernel.shape[0] > image.shape[0] or kernel.shape[1] > image.shape[1]):
        return
    expected = scipy.signal.correlate2d(image, kernel, mode)[:: stride[0], :: stride[1]]
    np.testing.assert_allclose(signal.correlate2d(image, kernel, mode, stride), expected, atol=1e-9)


@given(image=grids(12), kernel=grids(5), stride=st.integers(1, 4))
def test_same_mode_with_stride_pads_by_the_tensorflow_rule(image, kernel, stride):
    h, w = image.shape
    kh, kw = kernel.shape
    pads = []
    for n, k in ((h, kh), (w, kw)):  # TensorFlow's rule, written out independently
        out = -(-n // stride)
        total = max((out - 1) * stride + k - n, 0)
        pads.append((total // 2, total - total // 2))
    padded = np.pad(image, pads)
    expected = scipy.signal.correlate2d(padded, kernel, "valid")[::stride, ::stride]
    got = signal.correlate2d(image, kernel, "same", stride)
    assert got.shape == (-(-h // stride), -(-w // stride))
    np.testing.assert_allclose(got, expected, atol=1e-9)


@given(image=grids(), kernel=grids(5), dilation=st.tuples(st.integers(1, 3), st.integers(1, 3)))
def test_dilated_correlation_equals_correlation_with_the_zero_filled_kernel(
    image, kernel, dilation
):
    dilated = signal.dilate2d(kernel, dilation)
    expected = scipy.signal.correlate2d(image, dilated, "full")
    np.testing.assert_allclose(
        signal.correlate2d(image, kernel, "full", dilation=dilation), expected, atol=1e-9
    )


@given(image=grids(), kernel=grids(5), mode=st.sampled_from(["valid", "same", "full"]))
def test_convolve2d_matches_scipy(image, kernel, mode):
    if mode == "valid" and (kernel.shape[0] > image.shape[0] or kernel.shape[1] > image.shape[1]):
        return
    got = signal.convolve2d(image, kernel, mode)
    full = scipy.signal.convolve2d(image, kernel, "full")
    if mode != "same":
        expected = scipy.signal.convolve2d(image, kernel, mode)
    else:
        # SciPy centres "same" on the full result; for even kernels it keeps the other
        # half-pixel. cnnlib pads (k − 1)//2 before, so its crop starts at k − 1 − that.
        top = kernel.shape[0] - 1 - (kernel.shape[0] - 1) // 2
        left = kernel.shape[1] - 1 - (kernel.shape[1] - 1) // 2
        expected = full[top : top + image.shape[0], left : left + image.shape[1]]
        if kernel.shape[0] % 2 and kernel.shape[1] % 2:
            np.testing.assert_allclose(expected, scipy.signal.convolve2d(image, kernel, "same"))
    np.testing.assert_allclose(got, expected, atol=1e-9)


@given(kernel=grids(5))
def test_rot180_twice_is_the_identity(kernel):
    assert np.array_equal(signal.rot180(signal.rot180(kernel)), kernel)
    assert np.array_equal(signal.rot180(kernel), np.rot90(kernel, 2))


def test_convolution_is_correlation_with_the_rotated_kernel(rng):
    image, kernel = rng.normal(size=(6, 7)), rng.normal(size=(3, 2))
    for mode in ("valid", "same", "full"):
        np.testing.assert_array_equal(
            signal.convolve2d(image, kernel, mode),
            signal.correlate2d(image, signal.rot180(kernel), mode),
        )


# --------------------------------------------------------------------- dtypes and NaN


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32, np.int64])
def test_dtype_is_kept(dtype, rng):
    image = (rng.normal(size=(5, 5)) * 10).astype(dtype)
    kernel = (rng.normal(size=(3, 3)) * 10).astype(dtype)
    assert signal.correlate2d(image, kernel).dtype == dtype
    assert signal.convolve2d(image, kernel, "full").dtype == dtype


def test_nan_propagates_like_arithmetic():
    image = np.ones((4, 4))
    image[0, 0] = np.nan
    y = signal.correlate2d(image, np.ones((2, 2)))
    assert np.isnan(y[0, 0])
    assert np.isfinite(y[1:, :]).all()
    assert np.isfinite(y[:, 1:]).all()


# ------------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("image", "kernel", "kwargs", "error", "pattern"),
    [
        (
            np.ones((1, 4, 4)),
            np.ones((2, 2)),
            {},
            ValueError,
            r"image must be a 2-D array \(H, W\), got 3-D with shape \(1, 4, 4\)",
        ),
        (
            np.ones((4, 4)),
            np.ones(2),
            {},
            ValueError,
            r"kernel must be a 2-D array \(k_h, k_w\), got 1-D",
        ),
        (
            np.ones((4, 4), dtype=bool),
            np.ones((2, 2)),
            {},
            TypeError,
            r"image must hold real numbers .* got dtype bool",
        ),
        (np.ones((4, 4), dtype=complex), np.ones((2, 2)), {}, TypeError, r"got dtype complex128"),
        (np.array([["a"] * 4] * 4), np.ones((2, 2)), {}, TypeError, r"got dtype <U1"),
        (np.ones((0, 4)), np.ones((2, 2)), {}, ValueError, r"image is empty \(shape \(0, 4\)\)"),
        (
            np.ones((4, 4)),
            np.ones((5, 2)),
            {},
            ValueError,
            r"do not fit along the height .* spans 5 pixels .* = 0",
        ),
        (
            np.ones((4, 4)),
            np.ones((2, 2)),
            {"mode": "half"},
            ValueError,
            r"mode must be one of 'valid', 'same', 'full', got 'half'",
        ),
        (
            np.ones((4, 4)),
            np.ones((2, 2)),
            {"stride": 0},
            ValueError,
            r"stride must be positive, got 0",
        ),
        (
            np.ones((4, 4)),
            np.ones((2, 2)),
            {"dilation": (1, 0)},
            ValueError,
            r"dilation\[1\] \(width\) must be positive, got 0",
        ),
        (
            np.ones((4, 4)),
            np.ones((2, 2)),
            {"stride": 1.5},
            TypeError,
            r"stride must be an int or a pair",
        ),
    ],
)
def test_bad_input_gets_a_clear_error(image, kernel, kwargs, error, pattern):
    with pytest.raises(error, match=pattern):
        signal.correlate2d(image, kernel, **kwargs)


def test_convolve2d_errors_name_convolve2d():
    with pytest.raises(ValueError, match=r"^convolve2d: image .* do not fit"):
        signal.convolve2d(np.ones((3, 3)), np.ones((4, 4)))


def test_rot180_and_dilate2d_reject_1d_input():
    with pytest.raises(ValueError, match=r"rot180: kernel must have at least 2 dimensions"):
        signal.rot180([1, 2, 3])
    with pytest.raises(ValueError, match=r"dilate2d: array must have at least 2 dimensions"):
        signal.dilate2d([1, 2, 3], 2)
    with pytest.raises(ValueError, match=r"factor must be positive"):
        signal.dilate2d([[1, 2]], 0)


def test_output_size_agrees_with_geometry(rng):
    image, kernel = rng.normal(size=(11, 8)), rng.normal(size=(3, 4))
    for mode in ("valid", "same", "full"):
        for stride in (1, 2, 3):
            y = signal.correlate2d(image, kernel, mode, stride)
            assert y.shape == (
                geometry.conv_output_size(11, 3, stride, mode),
                geometry.conv_output_size(8, 4, stride, mode),
            )
