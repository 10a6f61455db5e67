"""cnnlib.geometry against the sources' hand-worked numbers and brute-force enumeration."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from oracles import torch_or_skip

from cnnlib import geometry, signal

# ---------------------------------------------------------------- output size, worked examples


@pytest.mark.parametrize(
    ("n", "k", "s", "p", "expected", "source"),
    [
        (4, 2, 1, 0, 3, "4×4 input, 2×2 kernel: a 3×3 output"),
        (7, 3, 2, 0, 3, "(7 − 3)/2 + 1 = 3"),
        (7, 3, 5, 0, 1, "(7 − 3)/5 + 1 = 1.8, floored"),
        (32, 5, 1, 2, 32, "32×32 input, 5×5 filters, pad 2 → 32"),
        (227, 11, 4, 0, 55, "AlexNet: (227 − 11)/4 + 1 = 55"),
        (32, 3, 1, 0, 30, "CIFAR model conv1: 32 → 30"),
        (15, 3, 1, 0, 13, "CIFAR model conv2: 15 → 13"),
        (6, 3, 1, 0, 4, "CIFAR model conv3: 6 → 4"),
        (30, 2, 2, 0, 15, "CIFAR model pool1: 30 → 15"),
        (13, 2, 2, 0, 6, "CIFAR model pool2: 13 → 6 (floor)"),
        (224, 3, 1, 1, 224, "3×3 with padding 1 preserves 224"),
    ],
)
def test_output_size_matches_the_sources(n, k, s, p, expected, source):
    assert geometry.conv_output_size(n, k, stride=s, padding=p) == expected, source


def test_output_size_with_dilation_uses_the_effective_kernel():
    # a 3-tap kernel with dilation 2 spans 5 pixels: (9 − 5)/1 + 1 = 5
    assert geometry.effective_kernel_size(3, 2) == 5
    assert geometry.conv_output_size(9, 3, dilation=2) == 5
    assert geometry.conv_output_size(9, 3, stride=2, padding=2, dilation=3) == 4  # ⌊(13 − 7)/2⌋ + 1


@given(
    n=st.integers(1, 40),
    k=st.integers(1, 9),
    s=st.integers(1, 5),
    before=st.integers(0, 5),
    after=st.integers(0, 5),
    d=st.integers(1, 4),
)
def test_output_size_counts_the_window_positions(n, k, s, before, after, d):
    span = d * (k - 1) + 1
    padded = n + before + after
    positions = list(range(0, padded - span + 1, s))  # brute force: every window start
    if not positions:
        with pytest.raises(ValueError, match="impossible geometry"):
            geometry.conv_output_size(n, k, s, (before, after), d)
        return
    assert geometry.conv_output_size(n, k, s, (before, after), d) == len(positions)
    last_read = positions[-1] + span  # first padded pixel no window reads
    assert geometry.excluded_pixels(n, k, s, (before, after), d) == padded - last_read


def test_excluded_pixels_of_the_sources_examples():
    assert geometry.excluded_pixels(10, 3, stride=2) == 1  # the 10×10, 3×3, stride-2 animation
    assert geometry.excluded_pixels(7, 3, stride=5) == 4
    assert geometry.excluded_pixels(7, 3, stride=2) == 0


# ------------------------------------------------------------------------------- padding


@pytest.mark.parametrize("k", [1, 3, 5, 7, 9, 11])
def test_same_padding_of_odd_kernels_is_half_the_kernel(k):
    assert geometry.same_padding(20, k) == ((k - 1) // 2, (k - 1) // 2)


@pytest.mark.parametrize(("k", "expected"), [(2, (0, 1)), (4, (1, 2)), (6, (2, 3))])
def test_same_padding_of_even_kernels_puts_the_extra_zero_after(k, expected):
    assert geometry.same_padding(20, k) == expected


def test_same_padding_with_stride_follows_tensorflow():
    # TensorFlow's documented example: width 13, filter 6, stride 5, "SAME" → 3 outputs,
    # 3 zeros of padding, 1 on the left and 2 on the right.
    assert geometry.same_padding(13, 6, stride=5) == (1, 2)
    assert geometry.conv_output_size(13, 6, stride=5, padding="same") == 3


@given(n=st.integers(1, 60), k=st.integers(1, 9), s=st.integers(1, 6), d=st.integers(1, 3))
def test_same_padding_gives_ceil_n_over_s(n, k, s, d):
    before, after = geometry.same_padding(n, k, s, d)
    assert 0 <= after - before <= 1
    assert geometry.conv_output_size(n, k, s, "same", d) == math.ceil(n / s)


def test_full_padding_makes_the_output_grow_by_k_minus_one():
    assert geometry.full_padding(3) == (2, 2)
    assert geometry.full_padding(3, dilation=2) == (4, 4)
    assert geometry.conv_output_size(4, 3, padding="full") == 6


def test_resolve_padding2d_accepts_every_documented_form():
    size, k = (8, 6), 3
    assert geometry.resolve_padding2d(1, size, k) == ((1, 1), (1, 1))
    assert geometry.resolve_padding2d((1, 2), size, k) == ((1, 1), (2, 2))
    assert geometry.resolve_padding2d(((0, 1), (2, 3)), size, k) == ((0, 1), (2, 3))
    assert geometry.resolve_padding2d("valid", size, k) == ((0, 0), (0, 0))
    assert geometry.resolve_padding2d("same", size, (2, 3)) == ((0, 1), (1, 1))
    assert geometry.resolve_padding2d("full", size, (2, 3)) == ((1, 1), (2, 2))


def test_conv_output_shape_of_the_sources_example():
    # 32×32×2 input, ten 5×5 filters, stride 1, pad 2 → 32×32×10
    assert geometry.conv_output_shape((2, 32, 32), 10, 5, padding=2) == (10, 32, 32)
    # non-square everything
    assert geometry.conv_output_shape((3, 10, 7), 4, (3, 2), (2, 1), (1, 0)) == (4, 5, 6)


# -------------------------------------------------------------------------------- errors


def test_impossible_geometry_shows_the_formula_with_the_numbers():
    with pytest.raises(ValueError, match="impossible geometry") as info:
        geometry.conv_output_size(4, 5)
    message = str(info.value)
    assert "⌊(4 + 2·0 − 1·(5 − 1) − 1) / 1⌋ + 1 = 0" in message
    assert "spans 5 pixels" in message
    assert "n + p = 4 + 0 = 4" in message


def test_impossible_dilated_geometry_names_the_dilation():
    with pytest.raises(ValueError, match=r"kernel_size=3 with dilation=3 spans 7 pixels"):
        geometry.conv_output_size(6, 3, dilation=3)


@pytest.mark.parametrize(
    ("kwargs", "error", "pattern"),
    [
        ({"stride": 0}, ValueError, r"stride must be positive, got 0"),
        ({"stride": -2}, ValueError, r"stride must be positive, got -2"),
        ({"dilation": 0}, ValueError, r"dilation must be positive, got 0"),
        ({"padding": -1}, ValueError, r"padding must be non-negative, got -1"),
        ({"padding": (1, -1)}, ValueError, r"padding after must be non-negative, got -1"),
        ({"padding": "half"}, ValueError, r"padding must be one of 'valid', 'same', 'full'"),
        ({"stride": 2.0}, TypeError, r"stride must be an integer, got 2.0 \(float\)"),
        ({"stride": True}, TypeError, r"stride must be an integer, got True \(bool\)"),
        ({"padding": (1, 2, 3)}, TypeError, r"padding pair must be \(before, after\)"),
    ],
)
def test_bad_hyper_parameters_are_named(kwargs, error, pattern):
    with pytest.raises(error, match=pattern):
        geometry.conv_output_size(10, 3, **kwargs)


def test_bad_sizes_are_named():
    with pytest.raises(ValueError, match="input size n must be positive, got 0"):
        geometry.conv_output_size(0, 3)
    with pytest.raises(ValueError, match="kernel_size must be positive"):
        geometry.conv_output_size(5, 0)
    with pytest.raises(ValueError, match=r"input_shape must be \(C, H, W\)"):
        geometry.conv_output_shape((32, 32), 4, 3)
    # the function called and the axis, not the helper that found the impossible size
    with pytest.raises(ValueError, match=r"^conv_output_shape \(width\): impossible geometry"):
        geometry.conv_output_shape((1, 8, 4), 1, 5)
    with pytest.raises(TypeError, match=r"mixed padding"):
        geometry.resolve_padding2d((1, (1, 2)), (5, 5), 3)  # type: ignore[arg-type]


# ------------------------------------------------------------------------ parameter counts


def test_parameter_counts_of_the_sources():
    assert geometry.conv_params(5, in_channels=3, filters=10) == 760  # 10 × (5·5·3 + 1)
    assert geometry.conv_params(5, in_channels=2, filters=10) == 510  # the same with depth 2
    assert geometry.conv_params(3, in_channels=20, filters=1, bias=False) == 180
    assert geometry.conv_params(5, in_channels=3, filters=1, bias=False) == 75
    assert geometry.conv_params(11, in_channels=3, filters=96) == 34_944  # AlexNet conv1
    assert geometry.locally_connected_params(55, 11, 3, 96) == 105_705_600  # without sharing
    assert geometry.dense_params(200 * 200 * 3, 1, bias=False) == 120_000
    assert geometry.dense_params(7 * 7 * 512, 4096, bias=False) == 102_760_448  # ≈ 102 M
    # three 3×3 layers vs one 7×7 on C channels: 27C² vs 49C² (no bias)
    c = 64
    assert 3 * geometry.conv_params(3, c, c, bias=False) == 27 * c * c
    assert geometry.conv_params(7, c, c, bias=False) == 49 * c * c


def test_parameter_count_by_counting_array_entries(rng):
    weights = rng.normal(size=(7, 4, 3, 2))  # (F, C, kh, kw)
    bias = np.zeros(7)
    assert geometry.conv_params((3, 2), 4, 7) == weights.size + bias.size


def test_memory_of_the_sources_example():
    # three 224×224×64 volumes ≈ 9.6 M activations; with their gradients ≈ 72 MiB (float32)
    values = 3 * 224 * 224 * 64
    assert values == 9_633_792
    assert geometry.memory_bytes((3, 224, 224, 64)) == values * 4
    assert 2 * geometry.memory_bytes(values) / 2**20 == pytest.approx(73.5, abs=0.1)
    assert geometry.memory_bytes(10, "float64") == 80


# -------------------------------------------------------------------------- receptive field


def test_receptive_field_examples():
    assert geometry.receptive_field([(3, 1)] * 3) == 7  # three 3×3 see what one 7×7 sees
    assert geometry.receptive_field([(7, 1)]) == 7
    assert geometry.receptive_field([(3, 1, 2), (3, 1, 2)]) == 9
    assert geometry.receptive_field([(3, 1), (2, 2), (3, 1)]) == 8
    assert geometry.receptive_field([]) == 1
    with pytest.raises(ValueError, match=r"layer 0 must be \(kernel_size, stride\)"):
        geometry.receptive_field([(3,)])


def _receptive_field_by_impulses(layers: list[tuple[int, int, int]], n: int) -> int:
    """Extent of the input pixels that change output 0 of a stack of 1-D correlations.

    Dilated kernels leave holes, so the extent (last influential pixel + 1, the first being
    pixel 0) is measured rather than the count.
    """
    last = -1
    for i in range(n):
        x = np.zeros((1, n))
        x[0, i] = 1.0
        for k, s, d in layers:
            x = signal.correlate2d(x, np.ones((1, k)), stride=(1, s), dilation=(1, d))
        if x[0, 0] != 0:
            last = i
    return last + 1


@settings(deadline=None)  # up to 4 correlations per example: slow on a loaded machine
@given(
    st.lists(
        st.tuples(st.integers(1, 4), st.integers(1, 3), st.integers(1, 2)), min_size=1, max_size=4
    )
)
def test_receptive_field_matches_impulse_responses(layers):
    size = geometry.receptive_field(layers)
    assert _receptive_field_by_impulses(layers, n=size + 40) == size


# ------------------------------------------------ receptive fields layer by layer (chapter 7)
def test_receptive_fields_hand_worked():
    three = geometry.receptive_fields([(3, 1)] * 3, paddings=[1, 1, 1])
    assert three == [
        geometry.FieldOfView(3, 1, 0.0),
        geometry.FieldOfView(5, 1, 0.0),
        geometry.FieldOfView(7, 1, 0.0),
    ]
    assert geometry.receptive_fields([(7, 1)]) == [geometry.FieldOfView(7, 1, 3.0)]
    # conv 3×3 valid, pool 2×2: r = 3 + 1·1 = 4, j = 2, first centre (0 + 1) + 0.5·1 = 1.5
    assert geometry.receptive_fields([(3, 1), (2, 2)])[-1] == geometry.FieldOfView(4, 2, 1.5)
    # dilation 2 spans 5 pixels
    assert geometry.receptive_fields([(3, 1, 2)], paddings=[2]) == [geometry.FieldOfView(5, 1, 0.0)]
    assert geometry.receptive_fields([]) == []
    with pytest.raises(ValueError, match="2 layers but 1 paddings"):
        geometry.receptive_fields([(3, 1), (3, 1)], paddings=[1])
    with pytest.raises(ValueError, match="layer 1 padding"):
        geometry.receptive_fields([(3, 1), (3, 1)], paddings=[1, -1])


def test_receptive_fields_layer_by_layer_match_impulse_responses():
    layers = [(3, 1, 1), (2, 2, 1), (3, 1, 2), (5, 3, 1)]
    fields = geometry.receptive_fields(layers)
    for n, field in enumerate(fields, start=1):
        assert field.size == _receptive_field_by_impulses(layers[:n], n=field.size + 40)
        assert field.size == geometry.receptive_field(layers[:n])
    # hand-worked: r = 3, 3 + 1·1, 4 + 2·2·2, 12 + 4·2·1; j = 1, 2, 2, 6
    assert [(f.size, f.jump) for f in fields] == [(3, 1), (4, 2), (12, 2), (20, 6)]


def torch_receptive_rows(torch, steps, size, unit):
    """Rows of the input that influence output row ``unit``, by backpropagation.

    Each step ``(kind, k, s, p, d)`` is a convolution of ones or an average pooling, in 2-D
    on a ``size × 3`` image; the gradient of one output value reveals the rows it sees.
    """
    x = torch.ones(1, 1, size, 3, dtype=torch.float64, requires_grad=True)
    h = x
    for kind, k, s, p, d in steps:
        if kind == "conv":
            w = torch.ones(1, 1, k, 1, dtype=torch.float64)
            h = torch.nn.functional.conv2d(h, w, stride=(s, 1), padding=(p, 0), dilation=(d, 1))
        else:
            h = torch.nn.functional.avg_pool2d(h, (k, 1), (s, 1), (p, 0))
    h[0, 0, unit, 1].backward()
    rows = np.flatnonzero(x.grad[0, 0, :, 1].numpy())
    return rows.min(), rows.max()


@pytest.mark.parametrize("seed", range(12))
def test_receptive_fields_match_torch_gradients(seed):
    torch = torch_or_skip()

    gen = np.random.default_rng(seed)
    steps = []
    for _ in range(gen.integers(1, 5)):
        if gen.random() < 0.6:
            k, d = int(gen.integers(1, 6)), int(gen.integers(1, 3))
            steps.append(("conv", k, int(gen.integers(1, 3)), int(gen.integers(0, k)), d))
        else:
            k = int(gen.integers(2, 4))
            steps.append(
                ("pool", k, int(gen.integers(1, k + 1)), int(gen.integers(0, k // 2 + 1)), 1)
            )
    fields = geometry.receptive_fields(
        [(k, s, d) for _, k, s, _, d in steps], [p for *_, p, _ in steps]
    )
    last = fields[-1]
    size = 4 * last.size + 8 * last.jump + 20
    unit = int(np.ceil(last.size / last.jump)) + 1  # well inside: its field misses the padding
    first, final = torch_receptive_rows(torch, steps, size, unit)
    assert final - first + 1 == last.size
    assert (first + final) / 2 == last.start + unit * last.jump
