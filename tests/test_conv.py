"""cnnlib.conv: the fast path equals the loops, SciPy and numerical gradients; bad input named."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.signal
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from cnnlib import conv, gradcheck
from cnnlib.conv import fast, winograd

# --------------------------------------------------------------------------- strategies


@st.composite
def configs(draw: st.DrawFn, groups: bool = True) -> dict:
    """A small, valid convolution: arrays (float64) and hyper-parameters."""
    g = draw(st.sampled_from([1, 2, 3])) if groups else 1
    c = g * draw(st.integers(1, 2))
    f = g * draw(st.integers(1, 2))
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    stride = draw(st.sampled_from([1, 2, 3, (1, 2), (3, 1)]))
    dilation = draw(st.sampled_from([1, 2, (1, 3), (2, 1)]))
    padding = draw(
        st.sampled_from(
            [0, 1, 2, (0, 1), (2, 0), "valid", "same", ((0, 2), (1, 0)), ((3, 1), (0, 2))]
        )
    )
    h, w = draw(st.integers(1, 9)), draw(st.integers(1, 9))
    n = draw(st.integers(1, 3))
    try:
        spec = conv.conv_spec((n, c, h, w), (f, c // g, kh, kw), stride, padding, dilation, g)
    except ValueError:
        assume(False)
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    return {
        "x": rng.standard_normal((n, c, h, w)),
        "w": rng.standard_normal((f, c // g, kh, kw)),
        "b": rng.standard_normal(f) if draw(st.booleans()) else None,
        "dy": rng.standard_normal(spec.output_shape),
        "kwargs": {"stride": stride, "padding": padding, "dilation": dilation, "groups": g},
    }


# Each layout of the fast path must be right, whatever the heuristics pick for a shape.
PATHS = {
    "heuristic": {},
    "always-wide": {"WIDE_BELOW": 10**9},
    "always-compact": {"WIDE_BELOW": 0, "_FORCE_COMPACT": True},
    "compact-in-two-steps": {"WIDE_BELOW": 0, "_FORCE_COMPACT": True, "TWO_STEPS_BELOW": 10**9},
    "compact-in-one-step": {"WIDE_BELOW": 0, "_FORCE_COMPACT": True, "TWO_STEPS_BELOW": 0},
    "one-product-col2im": {"SCATTER_CHUNK_BYTES": 10**12},
    "one-image-at-a-time-col2im": {"SCATTER_CHUNK_BYTES": 1},
    "col2im-by-kernel-rows-at-every-stride-1": {"BY_KERNEL_ROWS_UP_TO": 10**9},
    "col2im-by-kernel-rows-one-image-at-a-time": {
        "BY_KERNEL_ROWS_UP_TO": 10**9,
        "SCATTER_CHUNK_BYTES": 1,
    },
    "col2im-tap-by-tap": {"BY_KERNEL_ROWS_UP_TO": 0},
    "col2im-tap-by-tap-in-two-steps": {
        "BY_KERNEL_ROWS_UP_TO": 0,
        "WIDE_BELOW": 0,
        "_FORCE_COMPACT": True,
        "TWO_STEPS_BELOW": 10**9,
    },
    "winograd-wherever-it-applies": {"_WINOGRAD_FROM": 1},
    "chunks-of-one-image": {"CHUNK_FROM_BYTES": 0, "CHUNK_BYTES": 1},
    "chunks-of-two-images": {"CHUNK_FROM_BYTES": 0, "_CHUNK_IMAGES": 2},
    "winograd-one-image-at-a-time": {"_WINOGRAD_FROM": 1, "_WINOGRAD_CHUNK_BYTES": 1},
}


@pytest.fixture(params=list(PATHS))
def path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    settings_ = dict(PATHS[request.param])
    if "_WINOGRAD_FROM" in settings_:
        monkeypatch.setattr(winograd, "WINOGRAD_FROM", settings_.pop("_WINOGRAD_FROM"))
    if "_WINOGRAD_CHUNK_BYTES" in settings_:
        monkeypatch.setattr(winograd, "CHUNK_BYTES", settings_.pop("_WINOGRAD_CHUNK_BYTES"))
    if "_CHUNK_IMAGES" in settings_:
        images = settings_.pop("_CHUNK_IMAGES")
        monkeypatch.setattr(fast, "_images_per_chunk", lambda *_: images)
    if settings_.pop("_FORCE_COMPACT", False):
        real = fast._layout
        monkeypatch.setattr(
            fast, "_layout", lambda spec: fast._Layout(real(spec).phase_shape, spec.out_width)
        )
    for name, value in settings_.items():
        monkeypatch.setattr(fast, name, value)
    return request.param


# ------------------------------------------------------------------- fast path ≡ loops


# the `path` fixture only patches module constants; it is meant to hold for every example
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(case=configs())
def test_fast_forward_and_backward_equal_the_loops(case, path):
    x, w, b, dy, kw = case["x"], case["w"], case["b"], case["dy"], case["kwargs"]
    np.testing.assert_allclose(
        conv.conv2d(x, w, b, **kw), conv.conv2d_naive(x, w, b, **kw), atol=1e-12
    )
    for fast_grad, loop_grad in zip(
        conv.conv2d_backward(dy, x, w, **kw),
        conv.conv2d_backward_naive(dy, x, w, **kw),
        strict=True,
    ):
        np.testing.assert_allclose(fast_grad, loop_grad, atol=1e-12)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(case=configs(), blowup=st.sampled_from([None, np.inf, -np.inf, np.nan]))
def test_a_fused_relu_equals_the_loops_then_a_relu(case, blowup, path):
    """``relu=True``: max(0, conv) forward; backward, the loops' gradients of the output
    gradient zeroed where the output was not positive — exactly zero even where that
    gradient is infinite or NaN (0·∞ would be NaN), as PyTorch's ReLU gives."""
    x, w, b, dy, kw = case["x"], case["w"], case["b"], case["dy"], case["kwargs"]
    if blowup is not None:
        dy[np.unravel_index(np.arange(0, dy.size, 3), dy.shape)] = blowup
    z = conv.conv2d_naive(x, w, b, **kw)
    y, saved = conv.conv2d_forward(x, w, b, workspace=conv.Workspace(), relu=True, **kw)
    np.testing.assert_allclose(y, np.maximum(z, 0), atol=1e-12)
    through = np.where(z > 0, dy, 0.0)
    with np.errstate(invalid="ignore", over="ignore"):  # ∞ − ∞ in the sums
        expected = conv.conv2d_backward_naive(through, x, w, **kw)
        got = conv.conv2d_backward_columns(dy, w, saved)
    for name, fast_grad, loop_grad in zip(("dx", "dw", "db"), got, expected, strict=True):
        if blowup is None:
            np.testing.assert_allclose(fast_grad, loop_grad, atol=1e-12, err_msg=name)
        else:  # where the ReLU let ∞ or NaN through, sums differ: compare where it did not
            finite = np.isfinite(loop_grad)
            np.testing.assert_array_equal(np.isfinite(fast_grad), finite, err_msg=name)
            np.testing.assert_allclose(fast_grad[finite], loop_grad[finite], atol=1e-12)


@settings(max_examples=40, deadline=None)
@given(case=configs(groups=False))
def test_positionwise_equals_the_loops(case):
    x, w, b, dy, kw = case["x"], case["w"], case["b"], case["dy"], case["kwargs"]
    kw = {k: v for k, v in kw.items() if k != "groups"}
    np.testing.assert_allclose(
        conv.conv2d_positionwise(x, w, b, **kw), conv.conv2d_naive(x, w, b, **kw), atol=1e-12
    )
    for a, c in zip(
        conv.conv2d_backward_positionwise(dy, x, w, **kw),
        conv.conv2d_backward_naive(dy, x, w, **kw),
        strict=True,
    ):
        np.testing.assert_allclose(a, c, atol=1e-12)


@pytest.mark.parametrize("chunked", [False, True], ids=["whole", "in-chunks"])
@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(first=configs(), second=configs())
def test_a_reused_workspace_gives_the_same_results(first, second, chunked, monkeypatch):
    """One workspace across calls of different shapes, as a layer would keep it.

    In chunks, the buffers are also shared by chunks of different sizes.
    """
    if chunked:
        monkeypatch.setattr(fast, "_images_per_chunk", lambda spec, *_: max(1, spec.batch - 1))
    workspace = conv.Workspace()
    for case in (first, second, first, second):
        x, w, b, dy, kw = case["x"], case["w"], case["b"], case["dy"], case["kwargs"]
        y, columns = conv.conv2d_forward(x, w, b, workspace=workspace, **kw)
        np.testing.assert_allclose(y, conv.conv2d_naive(x, w, b, **kw), atol=1e-12)
        grads = conv.conv2d_backward_columns(dy, w, columns)
        for fast_grad, loop_grad in zip(
            grads, conv.conv2d_backward_naive(dy, x, w, **kw), strict=True
        ):
            np.testing.assert_allclose(fast_grad, loop_grad, atol=1e-12)


@pytest.mark.parametrize("chunk_bytes", [winograd.CHUNK_BYTES, 1], ids=["whole", "per-image"])
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    n=st.integers(1, 3),
    c=st.integers(1, 3),
    f=st.integers(1, 3),
    h=st.integers(1, 9),
    w=st.integers(1, 9),
    padding=st.sampled_from([0, 1, 2, (0, 2), ((2, 0), (1, 3)), "same"]),
    dilation=st.sampled_from([1, 2, 3, (1, 2), (3, 1)]),
    bias=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_winograd_equals_the_loops_with_any_dilation(
    n, c, f, h, w, padding, dilation, bias, seed, chunk_bytes, monkeypatch
):
    """The Winograd module itself also handles dilation (fast only routes dilation 1 to it).

    ``per-image``: every image is a chunk of its own.
    """
    monkeypatch.setattr(winograd, "CHUNK_BYTES", chunk_bytes)
    try:
        spec = conv.conv_spec((n, c, h, w), (f, c, 3, 3), 1, padding, dilation)
    except ValueError:
        assume(False)
    rng = np.random.default_rng(seed)
    x, k = rng.standard_normal((n, c, h, w)), rng.standard_normal((f, c, 3, 3))
    b = rng.standard_normal(f) if bias else None
    workspace = conv.Workspace()
    for _ in range(2):  # the second call reuses the workspace's buffers
        y, tiles = winograd.forward(x, k, b, spec, workspace)
        kw = {"padding": padding, "dilation": dilation}
        np.testing.assert_allclose(y, conv.conv2d_naive(x, k, b, **kw), atol=1e-12)
        dy = rng.standard_normal(y.shape)
        for ours, loops in zip(
            winograd.backward(dy, k, tiles, True),
            conv.conv2d_backward_naive(dy, x, k, **kw),
            strict=True,
        ):
            np.testing.assert_allclose(ours, loops, atol=1e-12)


def test_wide_3x3_layers_take_the_winograd_path(rng):
    x, w = rng.standard_normal((2, 32, 6, 6)), rng.standard_normal((32, 32, 3, 3))
    _, saved = conv.conv2d_forward(x, w, padding=1)
    assert isinstance(saved, winograd.WinogradTiles)
    _, saved = conv.conv2d_forward(x, w, padding=1, dilation=2)
    assert isinstance(saved, fast.Columns)
    _, saved = conv.conv2d_forward(x[:, :16], w[:, :16], padding=1)
    assert isinstance(saved, fast.Columns)


@pytest.mark.parametrize("channels", [3, 32], ids=["im2col", "winograd"])
def test_the_first_layer_can_skip_dx(channels, rng):
    x, w = rng.standard_normal((2, channels, 8, 8)), rng.standard_normal((32, channels, 3, 3))
    y, columns = conv.conv2d_forward(x, w)
    dx, dw, db = conv.conv2d_backward_columns(np.ones_like(y), w, columns, input_grad=False)
    assert dx is None
    _, dw_full, db_full = conv.conv2d_backward(np.ones_like(y), x, w)
    np.testing.assert_allclose(dw, dw_full)
    np.testing.assert_allclose(db, db_full)


# ------------------------------------------------------------- worked examples and SciPy


def test_the_4x4_sliding_window_example_batched():
    x = np.array([[1, 2, 3, 0], [0, 1, 2, 3], [3, 0, 1, 2], [2, 3, 0, 1]], dtype=float)[None, None]
    k = np.array([[1, 0], [-1, 1]], dtype=float)[None, None]
    assert conv.conv2d(x, k)[0, 0].tolist() == [[2, 3, 4], [-3, 2, 3], [4, -3, 2]]


@settings(max_examples=40, deadline=None)
@given(
    h=st.integers(3, 10),
    w=st.integers(3, 10),
    k=st.sampled_from([1, 3, 5]),
    seed=st.integers(0, 1000),
)
def test_single_channel_matches_scipy(h, w, k, seed):
    assume(k <= min(h, w))
    rng = np.random.default_rng(seed)
    image, kernel = rng.standard_normal((h, w)), rng.standard_normal((k, k))
    for mode in ("valid", "same"):
        ours = conv.conv2d(image[None, None], kernel[None, None], padding=mode)[0, 0]
        np.testing.assert_allclose(ours, scipy.signal.correlate2d(image, kernel, mode), atol=1e-12)
    full = conv.conv2d(image[None, None], kernel[None, None], padding=k - 1)[0, 0]
    np.testing.assert_allclose(full, scipy.signal.correlate2d(image, kernel, "full"), atol=1e-12)


def test_depthwise_convolution_is_one_correlation_per_channel(rng):
    x, w = rng.standard_normal((2, 3, 7, 6)), rng.standard_normal((3, 1, 3, 3))
    y = conv.conv2d(x, w, padding="same", groups=3)
    for n in range(2):
        for c in range(3):
            expected = scipy.signal.correlate2d(x[n, c], w[c, 0], "same")
            np.testing.assert_allclose(y[n, c], expected, atol=1e-12)


def test_im2col_layout_matches_the_sources_example():
    y = conv.conv2d(
        np.zeros((1, 3, 227, 227), np.float32), np.zeros((96, 3, 11, 11), np.float32), stride=4
    )
    assert y.shape == (1, 96, 55, 55)


# ----------------------------------------------------------------------- gradient checks


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"stride": 2},
        {"stride": 2, "padding": 1},
        {"stride": (2, 3), "padding": (1, 2), "dilation": (2, 1)},
        {"padding": "same", "dilation": 2},
        {"stride": 3, "padding": ((0, 2), (1, 0))},  # excluded pixels on both axes
        {"groups": 2, "padding": 1},
    ],
    ids=lambda kw: ", ".join(f"{k}={v}" for k, v in kw.items()) or "plain",
)
def test_gradients_match_central_differences(kwargs, rng):
    x = rng.standard_normal((2, 4, 7, 8))
    w = rng.standard_normal((4, 4 // kwargs.get("groups", 1), 3, 2))
    b = rng.standard_normal(4)
    reports = gradcheck.check_gradients(
        lambda x, w, b: conv.conv2d(x, w, b, **kwargs),
        lambda dy, x, w, b: conv.conv2d_backward(dy, x, w, **kwargs),
        {"x": x, "w": w, "b": b},
    )
    assert all(report.error < 1e-6 for report in reports), reports


def test_excluded_pixels_get_exactly_zero_gradient(rng):
    x, w = rng.standard_normal((1, 1, 10, 10)), rng.standard_normal((1, 1, 3, 3))
    y = conv.conv2d(x, w, stride=2)
    dx, _, _ = conv.conv2d_backward(rng.standard_normal(y.shape), x, w, stride=2)
    assert np.all(dx[0, 0, -1, :] == 0)
    assert np.all(dx[0, 0, :, -1] == 0)
    assert np.all(dx[0, 0, :-1, :-1] != 0)


# ------------------------------------------------------------------------ dtypes and NaN


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_input_dtype_is_kept(dtype, rng):
    x = rng.standard_normal((2, 3, 6, 6)).astype(dtype)
    w = rng.standard_normal((4, 3, 3, 3)).astype(dtype)
    y = conv.conv2d(x, w, np.zeros(4, dtype))
    dx, dw, db = conv.conv2d_backward(np.ones_like(y), x, w)
    assert y.dtype == dx.dtype == dw.dtype == db.dtype == dtype


def test_float64_weights_on_float32_input_compute_in_float32(rng):
    x = rng.standard_normal((1, 2, 5, 5)).astype(np.float32)
    w = rng.standard_normal((3, 2, 3, 3))
    y = conv.conv2d(x, w)
    assert y.dtype == np.float32
    _, dw, db = conv.conv2d_backward(np.ones_like(y), x, w)
    assert dw.dtype == db.dtype == np.float64  # gradients come back in the weights' dtype


@pytest.mark.parametrize(
    "kwargs", [{}, {"stride": 2}, {"padding": "same"}, {"stride": 3, "dilation": 2}]
)
def test_nan_propagates_like_arithmetic(kwargs, rng):
    x = rng.standard_normal((1, 2, 11, 9))
    x[0, 1, 4, 0] = np.nan  # one pixel of the first column
    w = rng.standard_normal((3, 2, 3, 3))
    fast_y, loop_y = conv.conv2d(x, w, **kwargs), conv.conv2d_naive(x, w, **kwargs)
    np.testing.assert_array_equal(np.isnan(fast_y), np.isnan(loop_y))
    dy = rng.standard_normal(fast_y.shape)
    for fast_grad, loop_grad in zip(
        conv.conv2d_backward(dy, x, w, **kwargs),
        conv.conv2d_backward_naive(dy, x, w, **kwargs),
        strict=True,
    ):
        np.testing.assert_array_equal(np.isnan(fast_grad), np.isnan(loop_grad))
        np.testing.assert_allclose(fast_grad, loop_grad, atol=1e-12)  # equal_nan by default


# ---------------------------------------------------------------------------- bad input

FUNCTIONS = {
    "conv2d": lambda x, w, b=None, **kw: conv.conv2d(x, w, b, **kw),
    "conv2d_naive": lambda x, w, b=None, **kw: conv.conv2d_naive(x, w, b, **kw),
}


@pytest.mark.parametrize("name", list(FUNCTIONS))
@pytest.mark.parametrize(
    ("x_shape", "w_shape", "kwargs", "error", "pattern"),
    [
        (
            (3, 8, 8),
            (4, 3, 3, 3),
            {},
            ValueError,
            r"x must be a 4-D array \(N, C, H, W\), got 3-D with shape \(3, 8, 8\); add a batch axis with x\[None\]",
        ),
        (
            (1, 3, 8, 8),
            (4, 3, 3),
            {},
            ValueError,
            r"w must be a 4-D array \(F, C/groups, k_h, k_w\), got 3-D",
        ),
        (
            (2, 3, 8, 8),
            (4, 2, 3, 3),
            {},
            ValueError,
            r": channel mismatch — x \(2, 3, 8, 8\) has C=3 channels but w \(4, 2, 3, 3\) expects 2",
        ),
        (
            (2, 4, 8, 8),
            (4, 1, 3, 3),
            {"groups": 2},
            ValueError,
            r"expects 1 per group × 2 groups = 2",
        ),
        (
            (2, 3, 8, 8),
            (4, 1, 3, 3),
            {"groups": 2},
            ValueError,
            r"groups=2 must divide both the input channels C=3 and the filters F=4",
        ),
        (
            (1, 1, 4, 4),
            (1, 1, 5, 5),
            {},
            ValueError,
            r"do not fit along the height: impossible geometry .* ⌊\(4 \+ 2·0 − 1·\(5 − 1\) − 1\) / 1⌋ \+ 1 = 0",
        ),
        ((1, 1, 8, 8), (1, 1, 3, 3), {"stride": 0}, ValueError, r"stride must be positive, got 0"),
        (
            (1, 1, 8, 8),
            (1, 1, 3, 3),
            {"dilation": (1, -1)},
            ValueError,
            r"dilation\[1\] \(width\) must be positive, got -1",
        ),
        (
            (1, 1, 8, 8),
            (1, 1, 3, 3),
            {"padding": -1},
            ValueError,
            r"\(height\): padding must be non-negative, got -1",
        ),
        (
            (1, 1, 8, 8),
            (1, 1, 3, 3),
            {"padding": "full-ish"},
            ValueError,
            r"padding must be one of 'valid', 'same', 'full'",
        ),
        ((0, 1, 8, 8), (1, 1, 3, 3), {}, ValueError, r"x is empty \(shape \(0, 1, 8, 8\)\)"),
    ],
)
def test_bad_geometry_is_named(name, x_shape, w_shape, kwargs, error, pattern):
    with pytest.raises(error, match=pattern) as info:
        FUNCTIONS[name](np.zeros(x_shape), np.zeros(w_shape), **kwargs)
    assert str(info.value).startswith(f"{name}"), "the message names the function"


@pytest.mark.parametrize(
    ("dtype", "pattern"),
    [
        (
            np.int64,
            r"x has dtype int64; expected float32 or float64 — convert it with x.astype\(np.float32\)",
        ),
        (np.bool_, r"x has dtype bool"),
        (np.complex128, r"x has dtype complex128; .* real floating-point numbers"),
        (object, r"x has dtype object"),
    ],
)
def test_non_float_input_is_a_type_error(dtype, pattern):
    with pytest.raises(TypeError, match=pattern):
        conv.conv2d(np.zeros((1, 1, 4, 4), dtype=dtype), np.zeros((1, 1, 3, 3)))


def test_a_bias_of_the_wrong_length_is_named():
    with pytest.raises(
        ValueError, match=r"b must have shape \(F,\) = \(4,\), one bias per filter; got \(3,\)"
    ):
        conv.conv2d(np.zeros((1, 3, 5, 5)), np.zeros((4, 3, 3, 3)), np.zeros(3))


def test_an_output_gradient_of_the_wrong_shape_is_named():
    with pytest.raises(
        ValueError,
        match=r"dy has shape \(1, 4, 4, 4\), expected the output shape \(N, F, H_out, W_out\) = \(1, 4, 3, 3\)",
    ):
        conv.conv2d_backward(np.zeros((1, 4, 4, 4)), np.zeros((1, 3, 5, 5)), np.zeros((4, 3, 3, 3)))
    with pytest.raises(ValueError, match=r"^conv2d_backward_naive: dy has shape"):
        conv.conv2d_backward_naive(
            np.zeros((1, 4, 4, 4)), np.zeros((1, 3, 5, 5)), np.zeros((4, 3, 3, 3))
        )


@pytest.mark.parametrize(
    ("kwargs", "error", "pattern"),
    [
        ({"stride": True}, TypeError, r"stride must be an int or a pair"),
        ({"stride": (1, True)}, TypeError, r"stride\[1\] \(width\) must be an integer"),
        ({"dilation": 1.0}, TypeError, r"dilation must be an int or a pair"),
        ({"groups": np.float64(1)}, TypeError, r"groups must be an integer"),
        ({"stride": 0}, ValueError, r"stride must be positive"),
    ],
)
def test_the_spec_cache_never_lets_a_refused_value_through(kwargs, error, pattern):
    """True == 1 and 1.0 == 1 with equal hashes: a cache keyed on values alone would
    return the spec computed for the valid 1, so such values must still be checked."""
    shapes = (2, 3, 8, 8), (4, 3, 3, 3)
    valid = conv.conv_spec(*shapes, stride=1, dilation=1, groups=1)
    assert conv.conv_spec(*shapes, stride=1, dilation=1, groups=1) is valid, "cached"
    with pytest.raises(error, match=pattern):
        conv.conv_spec(*shapes, **kwargs)
    uncached = conv.conv_spec(*shapes, stride=[1, 1])  # a list is not hashable
    assert uncached == valid
    assert uncached is not valid


@pytest.mark.parametrize("wide", [False, True], ids=["compact", "wide"])
@pytest.mark.parametrize("padding", [0, 2])
def test_col2im_by_kernel_rows_in_blocks_with_a_shorter_last_one(wide, padding, monkeypatch, rng):
    """Five images in blocks of two: the last block is shorter, and the buffer that keeps
    the wide dY's zero columns is reused from block to block and from call to call."""
    x, w = rng.standard_normal((5, 3, 9, 8)), rng.standard_normal((4, 3, 3, 3))
    spec = conv.conv_spec(x.shape, w.shape, 1, padding)
    assert fast._by_kernel_rows(spec)
    run = spec.out_height * spec.padded_shape[1]
    monkeypatch.setattr(fast, "SCATTER_CHUNK_BYTES", 2 * (3 * 4 + 3 * 3) * run * x.itemsize)
    if wide:
        monkeypatch.setattr(fast, "WIDE_BELOW", 10**9)
    dy = rng.standard_normal(spec.output_shape)
    expected = conv.conv2d_backward_naive(dy, x, w, padding=padding)[0]
    workspace = conv.Workspace()
    for _ in range(2):
        _, saved = conv.conv2d_forward(x, w, padding=padding, workspace=workspace)
        np.testing.assert_allclose(conv.conv2d_backward_columns(dy, w, saved)[0], expected)
