"""cnnlib.pooling against PyTorch — overlapping windows, padding, tied maxima, NaN — and gradchecks."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from oracles import torch_or_skip

from cnnlib import gradcheck, pooling

torch = torch_or_skip()
F = torch.nn.functional


def _torch_pool(kind, x, dy, kernel, stride, padding):
    xt = torch.tensor(x, requires_grad=True)
    stride = kernel if stride is None else stride
    if kind == "max":
        y = F.max_pool2d(xt, kernel, stride, padding)
    elif kind == "min":
        y = -F.max_pool2d(-xt, kernel, stride, padding)
    else:
        y = F.avg_pool2d(xt, kernel, stride, padding)  # count_include_pad=True
    y.backward(torch.tensor(dy))
    return y.detach().numpy(), xt.grad.numpy()


OURS = {
    "max": (pooling.max_pool2d, pooling.max_pool2d_backward),
    "min": (pooling.min_pool2d, pooling.min_pool2d_backward),
    "avg": (pooling.avg_pool2d, pooling.avg_pool2d_backward),
}


@settings(max_examples=150, deadline=None)
@given(
    kind=st.sampled_from(["max", "min", "avg"]),
    n=st.integers(1, 2),
    c=st.integers(1, 3),
    h=st.integers(2, 9),
    w=st.integers(2, 9),
    kernel=st.sampled_from([1, 2, 3, (2, 3), (3, 1)]),
    stride=st.sampled_from([None, 1, 2, 3, (2, 1)]),
    padding=st.sampled_from([0, 1, (1, 0)]),
    levels=st.sampled_from([2, 3, 1000]),  # few distinct values: many ties
    nan=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_pooling_matches_pytorch(kind, n, c, h, w, kernel, stride, padding, levels, nan, seed):
    kh, kw = (kernel, kernel) if isinstance(kernel, int) else kernel
    ph, pw = (padding, padding) if isinstance(padding, int) else padding
    assume(2 * ph <= kh and 2 * pw <= kw and kh <= h + 2 * ph and kw <= w + 2 * pw)
    rng = np.random.default_rng(seed)
    x = rng.integers(0, levels, size=(n, c, h, w)).astype(np.float64)
    if nan and kind != "avg":
        x[rng.random(x.shape) < 0.15] = np.nan
    forward, backward = OURS[kind]
    y = forward(x, kernel, stride, padding)
    dy = rng.standard_normal(y.shape)
    expected_y, expected_dx = _torch_pool(kind, x, dy, kernel, stride, padding)
    if kind == "avg":  # sums may round differently in the last bit
        np.testing.assert_allclose(y, expected_y, rtol=1e-12)
    else:  # a maximum is one of the inputs: exactly equal, NaN included
        np.testing.assert_array_equal(y, expected_y)
    np.testing.assert_allclose(backward(dy, x, kernel, stride, padding), expected_dx, atol=1e-12)


@pytest.mark.parametrize("kind", ["max", "min"])
@pytest.mark.parametrize("nan", [False, True], ids=["finite", "with-nan"])
@pytest.mark.parametrize(
    ("shape", "kernel"),
    [((3, 2, 8, 6), 2), ((2, 3, 6, 9), 3), ((2, 2, 4, 9), (2, 3)), ((1, 2, 3, 3), 1)],
    ids=["2x2", "3x3", "2x3", "1x1"],
)
def test_windows_that_tile_the_image_match_pytorch(kind, nan, shape, kernel, rng):
    """The tap-by-tap path (kernel = stride, no padding, kernel divides the image), with
    three levels of values so that most windows tie, and NaN in some of them."""
    x = rng.integers(0, 3, size=shape).astype(np.float64)
    if nan:
        x[rng.random(shape) < 0.1] = np.nan
    spec = pooling.pool_spec(shape, kernel, None, 0, "test")
    assert pooling._tiled_taps(x, spec) is not None, "this geometry takes the tiled path"
    forward, backward = OURS[kind]
    y = forward(x, kernel)
    dy = rng.standard_normal(y.shape)
    expected_y, expected_dx = _torch_pool(kind, x, dy, kernel, None, 0)
    np.testing.assert_array_equal(y, expected_y)
    np.testing.assert_array_equal(backward(dy, x, kernel), expected_dx)


def test_ties_go_to_the_first_maximum_in_row_major_order():
    x = np.array([[5.0, 5.0], [5.0, 5.0]])[None, None]
    dx = pooling.max_pool2d_backward(np.ones((1, 1, 1, 1)), x, 2)
    np.testing.assert_array_equal(dx[0, 0], [[1, 0], [0, 0]])
    x = np.array([[1.0, 7.0], [7.0, 7.0]])[None, None]
    np.testing.assert_array_equal(
        pooling.max_pool2d_backward(np.ones((1, 1, 1, 1)), x, 2)[0, 0], [[0, 1], [0, 0]]
    )


def test_overlapping_windows_add_up_at_a_shared_maximum():
    """3×3 windows with stride 2 share a column; a maximum there collects from both."""
    x = np.zeros((1, 1, 3, 5))
    x[0, 0, 1, 2] = 9.0  # inside both windows
    dx = pooling.max_pool2d_backward(np.array([[[[1.0, 2.0]]]]), x, 3, stride=2)
    assert dx[0, 0, 1, 2] == 3.0
    assert dx.sum() == 3.0


def test_the_sources_2x2_example():
    x = np.array([[1.0, 1, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0], [1, 2, 3, 4]])[None, None]
    np.testing.assert_array_equal(pooling.max_pool2d(x, 2)[0, 0], [[6, 8], [3, 4]])
    np.testing.assert_array_equal(pooling.avg_pool2d(x, 2)[0, 0], [[3.25, 5.25], [2, 2]])
    np.testing.assert_array_equal(pooling.min_pool2d(x, 2)[0, 0], [[1, 2], [1, 0]])


def test_global_pooling_matches_pytorch(rng):
    x = rng.integers(0, 3, size=(2, 3, 4, 5)).astype(np.float64)
    x[0, 1, 2, 3] = np.nan
    dy = rng.standard_normal((2, 3))
    xt = torch.tensor(x, requires_grad=True)
    y = F.adaptive_max_pool2d(xt, 1)[:, :, 0, 0]
    y.backward(torch.tensor(dy))
    np.testing.assert_array_equal(pooling.global_max_pool2d(x), y.detach().numpy())
    np.testing.assert_allclose(pooling.global_max_pool2d_backward(dy, x), xt.grad.numpy())
    xt = torch.tensor(x, requires_grad=True)
    y = F.adaptive_avg_pool2d(xt, 1)[:, :, 0, 0]
    y.backward(torch.tensor(dy))
    np.testing.assert_allclose(pooling.global_avg_pool2d(x), y.detach().numpy())
    np.testing.assert_allclose(pooling.global_avg_pool2d_backward(dy, x), xt.grad.numpy())


def test_concat_pooling_is_max_then_average(rng):
    x = rng.standard_normal((2, 3, 6, 6))
    y = pooling.concat_pool2d(x, 2)
    assert y.shape == (2, 6, 3, 3)
    np.testing.assert_array_equal(y[:, :3], pooling.max_pool2d(x, 2))
    np.testing.assert_allclose(y[:, 3:], pooling.avg_pool2d(x, 2))


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("max", (2, None, 0)),
        ("max", (3, 2, 1)),
        ("min", (2, 1, 0)),
        ("avg", (3, 2, 1)),
        ("concat", (2, None, 0)),
    ],
)
def test_pooling_gradients_match_central_differences(name, args, rng):
    x = rng.standard_normal((2, 2, 6, 5))  # continuous values: no ties, no kinks near h
    concat = (pooling.concat_pool2d, pooling.concat_pool2d_backward)
    forward, backward = concat if name == "concat" else OURS[name]
    gradcheck.check_gradients(
        lambda x: forward(x, *args), lambda dy, x: [backward(dy, x, *args)], {"x": x}
    )


@pytest.mark.parametrize(
    ("call", "error", "pattern"),
    [
        (
            lambda: pooling.max_pool2d(np.zeros((4, 4)), 2),
            ValueError,
            r"max_pool2d: x must be a 4-D array \(N, C, H, W\), got 2-D",
        ),
        (
            lambda: pooling.max_pool2d(np.zeros((1, 1, 4, 4), int), 2),
            TypeError,
            r"max_pool2d: x has dtype int64",
        ),
        (
            lambda: pooling.avg_pool2d(np.zeros((1, 1, 4, 4)), 2, padding=2),
            ValueError,
            r"padding \(2, 2\) is more than half the kernel \(2, 2\)",
        ),
        (
            lambda: pooling.max_pool2d(np.zeros((1, 1, 2, 2)), 3),
            ValueError,
            r"along the height: impossible geometry",
        ),
        (
            lambda: pooling.max_pool2d(np.zeros((1, 1, 4, 4)), 2, stride=0),
            ValueError,
            r"stride must be positive, got 0",
        ),
        (
            lambda: pooling.max_pool2d_backward(np.zeros((1, 1, 3, 3)), np.zeros((1, 1, 4, 4)), 2),
            ValueError,
            r"dy has shape \(1, 1, 3, 3\), expected the output shape .* = \(1, 1, 2, 2\)",
        ),
    ],
)
def test_bad_input_is_named(call, error, pattern):
    with pytest.raises(error, match=pattern):
        call()


@pytest.mark.parametrize(
    "backward", [pooling.max_pool2d_backward, pooling.min_pool2d_backward], ids=["max", "min"]
)
def test_a_backward_pass_names_itself_for_a_bad_input(backward):
    """The forward search runs inside the backward function: its errors name the latter."""
    name = backward.__name__
    with pytest.raises(ValueError, match=rf"^{name}: x must be a 4-D array"):
        backward(np.zeros((1, 1, 2, 2)), np.zeros((4, 4)), 2)
    with pytest.raises(TypeError, match=rf"^{name}: x has dtype int64"):
        backward(np.zeros((1, 1, 2, 2)), np.zeros((1, 1, 4, 4), int), 2)


def test_dtype_is_kept(rng):
    x = rng.standard_normal((1, 2, 4, 4)).astype(np.float32)
    for forward, backward in OURS.values():
        y = forward(x, 2)
        assert y.dtype == np.float32
        assert backward(np.ones_like(y), x, 2).dtype == np.float32


def test_pool2d_with_winners_gives_what_route_to_winners_needs(rng):
    x = rng.normal(size=(2, 3, 7, 6))
    dy = rng.normal(size=(2, 3, 4, 3))  # ⌊(7 + 2 − 3)/2⌋ + 1 = 4 by ⌊(6 + 2 − 3)/2⌋ + 1 = 3
    for kind, forward, backward in (
        ("max", pooling.max_pool2d, pooling.max_pool2d_backward),
        ("min", pooling.min_pool2d, pooling.min_pool2d_backward),
    ):
        y, taps, spec = pooling.pool2d_with_winners(x, 3, 2, 1, kind)
        np.testing.assert_array_equal(y, forward(x, 3, 2, 1))
        np.testing.assert_array_equal(
            pooling.route_to_winners(dy, taps, spec), backward(dy, x, 3, 2, 1)
        )
    spec = pooling.pool_spec(x.shape, 3, 2, 1, "test")
    np.testing.assert_array_equal(
        pooling.spread_to_windows(dy, spec), pooling.avg_pool2d_backward(dy, x, 3, 2, 1)
    )
    with pytest.raises(ValueError, match="kind must be 'max' or 'min', got 'mean'"):
        pooling.pool2d_with_winners(x, 2, kind="mean")


def test_max_pool2d_with_argmax_gives_each_windows_winning_tap():
    x = np.array([[1.0, 3, 2, 4], [5, 6, 1, 2], [7, 0, 9, 8], [1, 2, 3, 4]])[None, None]
    y, taps = pooling.max_pool2d_with_argmax(x, 2)
    np.testing.assert_array_equal(y[0, 0], [[6, 4], [7, 9]])
    # 6 at (1, 1) → tap 1·2 + 1; 4 at (0, 1) → 1; 7 and 9 at (0, 0) → 0
    np.testing.assert_array_equal(taps[0, 0], [[3, 1], [0, 0]])
    assert taps.dtype == np.uint8
    x = np.zeros((1, 1, 17, 17))
    x[0, 0, 16, 16] = 1.0  # the last of 289 taps: more than a uint8 holds
    _, taps = pooling.max_pool2d_with_argmax(x, 17)
    assert taps.dtype == np.uint16
    assert taps[0, 0, 0, 0] == 16 * 17 + 16


@pytest.mark.parametrize("args", [(2, None, 0), (3, 2, 1)], ids=["disjoint", "overlapping"])
@pytest.mark.parametrize("kind", ["max", "min"])
def test_infinite_and_nan_gradients_reach_only_the_winners(kind, args, rng):
    """0·∞ would be NaN: a non-finite dY must not leak into the elements that lost."""
    x = rng.standard_normal((1, 2, 6, 6))
    forward, backward = OURS[kind]
    dy = rng.standard_normal(forward(x, *args).shape)
    dy[0, 0, 0, 0], dy[0, 1, 1, 1], dy[0, 1, 0, 1] = np.inf, -np.inf, np.nan
    _, expected_dx = _torch_pool(kind, x, dy, *args)
    np.testing.assert_array_equal(backward(dy, x, *args), expected_dx)


@pytest.mark.parametrize(
    ("kwargs", "error", "pattern"),
    [
        ({"stride": True}, TypeError, r"stride must be an int or a pair"),
        ({"kernel_size": 2.0}, TypeError, r"kernel_size must be an int or a pair"),
        ({"padding": (0, False)}, TypeError, r"padding\[1\] \(width\) must be an integer"),
    ],
)
def test_the_spec_cache_never_lets_a_refused_value_through(kwargs, error, pattern):
    """A cache keyed on values alone would accept True for 1 and 2.0 for 2 (equal, same hash)."""
    arguments = {"kernel_size": 2, "stride": 1, "padding": 0}
    valid = pooling.pool_spec((1, 1, 4, 4), owner="test", **arguments)
    assert pooling.pool_spec((1, 1, 4, 4), owner="test", **arguments) is valid, "cached"
    assert [t[:2] for t in valid.taps] == [(0, 0), (0, 1), (1, 0), (1, 1)]
    with pytest.raises(error, match=pattern):
        pooling.pool_spec((1, 1, 4, 4), owner="test", **{**arguments, **kwargs})
