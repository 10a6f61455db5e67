"""cnnlib.layers: every layer gradient-checked in float64, shapes checked by name, configs.

The gradient checks compare each layer's ``backward`` with central differences of its
``forward`` (``cnnlib.gradcheck.check_layer``) for the input and every parameter; the worst
relative error per layer is collected in ``WORST`` and printed at the end of the run.
"""

from __future__ import annotations

import numpy as np
import pytest
from oracles import torch_or_skip

from cnnlib import Sequential, gradcheck, init, layers
from cnnlib.layers import (
    ELU,
    GELU,
    AvgPool2D,
    ConcatPool2D,
    Conv2D,
    Dense,
    Dropout,
    Flatten,
    GlobalAvgPool2D,
    GlobalMaxPool2D,
    LeakyReLU,
    LocallyConnected2D,
    MaxPool2D,
    MinPool2D,
    ReLU,
    Sigmoid,
    Softmax,
    Tanh,
)

#: Worst relative error of each gradient check, by case id (printed by conftest.py).
WORST: dict[str, float] = {}

IMAGES = (2, 3, 7, 6)  # N, C, H, W: non-square on purpose
VECTORS = (3, 5)

CASES = {
    "conv2d": (lambda: Conv2D(4, 3), IMAGES),
    "conv2d-stride2-same": (lambda: Conv2D(4, 3, stride=2, padding="same"), IMAGES),
    "conv2d-dilation2-pad1": (lambda: Conv2D(2, (2, 3), padding=1, dilation=2), IMAGES),
    "conv2d-groups3-nobias": (lambda: Conv2D(6, 3, groups=3, use_bias=False), IMAGES),
    "conv2d-relu": (lambda: Conv2D(4, 3, activation="relu"), IMAGES),
    "conv2d-winograd": (lambda: Conv2D(32, 3, padding=1), (1, 32, 6, 5)),
    "conv2d-winograd-relu": (lambda: Conv2D(32, 3, padding=1, activation="relu"), (1, 32, 6, 5)),
    "locally-connected": (lambda: LocallyConnected2D(3, 3, stride=2, padding=1), IMAGES),
    "dense": (lambda: Dense(4), VECTORS),
    "dense-tanh-nobias": (lambda: Dense(4, use_bias=False, activation="tanh"), VECTORS),
    "flatten": (lambda: Flatten(), IMAGES),
    "relu": (lambda: ReLU(), IMAGES),
    "leaky-relu": (lambda: LeakyReLU(0.1), IMAGES),
    "elu": (lambda: ELU(), IMAGES),
    "gelu": (lambda: GELU(), IMAGES),
    "gelu-tanh": (lambda: GELU(approximate="tanh"), IMAGES),
    "sigmoid": (lambda: Sigmoid(), IMAGES),
    "tanh": (lambda: Tanh(), IMAGES),
    "softmax": (lambda: Softmax(), VECTORS),
    "dropout": (lambda: Dropout(0.4), IMAGES),
    "maxpool-2": (lambda: MaxPool2D(2), IMAGES),
    "maxpool-3-s2-p1": (lambda: MaxPool2D(3, stride=2, padding=1), IMAGES),
    "minpool-3-s1": (lambda: MinPool2D(3, stride=1), IMAGES),
    "avgpool-3-s2-p1": (lambda: AvgPool2D(3, stride=2, padding=1), IMAGES),
    "global-avg": (lambda: GlobalAvgPool2D(), IMAGES),
    "global-max": (lambda: GlobalMaxPool2D(), IMAGES),
    "concat-pool": (lambda: ConcatPool2D(3, stride=2), IMAGES),
}


def _away_from_kinks(shape, seed):
    """Distinct values in ±2, evenly spaced and at least 0.02 from zero, shuffled.

    ReLU-style kinks at 0 and max-pooling ties are where a function is not differentiable;
    a central difference with ``eps = 1e-5`` must not straddle one, so the values keep
    further apart than that.
    """
    rng = np.random.default_rng(seed)
    size = int(np.prod(shape))
    values = np.linspace(0.02, 2, size) * np.where(np.arange(size) % 2, 1, -1)
    return rng.permutation(values).reshape(shape)


@pytest.mark.parametrize("case", list(CASES))
def test_every_layer_passes_a_gradient_check_in_float64(case):
    make, shape = CASES[case]
    layer = make()
    x = _away_from_kinks(shape, seed=len(case))
    reports = gradcheck.check_layer(layer, x, tolerance=1e-6)
    assert [r.name for r in reports] == ["x", *layer.params]
    WORST[case] = max(r.error for r in reports)


def test_every_layer_class_is_gradient_checked():
    checked = {type(make()).__name__ for make, _ in CASES.values()}
    assert checked == set(layers.LAYERS)


def test_a_wrong_backward_fails_the_gradient_check():
    class Doubled(ReLU):
        def _backward(self, grad):
            return 2 * super()._backward(grad)

    with pytest.raises(gradcheck.GradientCheckError, match="x"):
        gradcheck.check_layer(Doubled(), _away_from_kinks(IMAGES, seed=0))


# ------------------------------------------------------------------------ shapes
def test_output_shapes_follow_the_geometry():
    assert Conv2D(8, 3, stride=2, padding=1).build((3, 32, 32)) == (8, 16, 16)
    assert Conv2D(8, (3, 5), padding="same").build((3, 10, 11)) == (8, 10, 11)
    assert MaxPool2D(3, stride=2).build((4, 13, 13)) == (4, 6, 6)
    assert ConcatPool2D(2).build((4, 8, 8)) == (8, 4, 4)
    assert GlobalAvgPool2D().build((4, 8, 8)) == (4,)
    assert Flatten().build((4, 4, 3)) == (48,)
    assert LocallyConnected2D(5, 3).build((2, 6, 6)) == (5, 4, 4)
    assert Dense(7).build((48,)) == (7,)


def test_a_wrong_input_shape_names_the_layer_and_both_shapes(rng):
    layer = Conv2D(4, 3, name="conv_a")
    layer.build((3, 8, 8))
    with pytest.raises(ValueError, match=r"conv_a \(Conv2D\).*\(N, 3, 8, 8\).*\(2, 1, 8, 8\)"):
        layer.forward(rng.normal(size=(2, 1, 8, 8)))
    dense = Dense(3, name="head")
    dense.build((10,))
    with pytest.raises(ValueError, match=r"head \(Dense\).*\(N, 10\).*\(4, 12\)"):
        dense.forward(np.zeros((4, 12)))
    dense.forward(np.zeros((4, 10)), training=True)
    with pytest.raises(ValueError, match=r"head \(Dense\).*output gradient.*\(N, 3\).*\(4, 2\)"):
        dense.backward(np.zeros((4, 2)))


def test_a_dense_layer_on_images_suggests_flatten():
    with pytest.raises(ValueError, match=r"Dense.*\(N, 3, 4, 4\).*Flatten"):
        Dense(3).build((3, 4, 4))


def test_conv_on_vectors_and_impossible_geometry_are_named():
    with pytest.raises(ValueError, match=r"Conv2D.*\(N, C, H, W\).*\(N, 10\)"):
        Conv2D(3, 3).build((10,))
    with pytest.raises(ValueError, match=r"conv2d_big \(Conv2D\).*kernel"):
        Conv2D(3, 7, name="conv2d_big").build((1, 5, 5))
    with pytest.raises(ValueError, match=r"MaxPool2D"):
        MaxPool2D(4).build((1, 3, 3))


def test_integer_and_empty_batches_are_refused():
    layer = ReLU()
    layer.build((3,))
    with pytest.raises(TypeError, match="dtype int64; expected float32 or float64"):
        layer.forward(np.zeros((2, 3), dtype=np.int64))
    with pytest.raises(ValueError, match="the batch is empty"):
        layer.forward(np.zeros((0, 3)))


@pytest.mark.parametrize("case", list(CASES))
def test_backward_without_a_training_forward_is_explained(case, rng):
    make, shape = CASES[case]
    layer = make()
    with pytest.raises(RuntimeError, match=r"\(\w+\): backward needs a forward pass"):
        layer.backward(np.ones(shape))  # before any forward pass
    y = layer.forward(rng.normal(size=shape))
    with pytest.raises(RuntimeError, match=rf"{layer.name} .*training=True"):
        layer.backward(np.ones_like(y))


def test_unknown_activation_and_initialiser_list_the_choices():
    with pytest.raises(ValueError, match=r"unknown activation 'relux'.*relu"):
        Dense(3, activation="relux")
    with pytest.raises(ValueError, match="he_normal"):
        Dense(3, kernel_initializer="kaiming")


def test_bad_hyperparameters_are_named():
    with pytest.raises(ValueError, match="Dense: units must be positive, got 0"):
        Dense(0)
    with pytest.raises(ValueError, match=r"Dropout: rate must be in \[0, 1\), got 1"):
        Dropout(1)
    with pytest.raises(ValueError, match="GELU: approximate"):
        GELU(approximate="fast")


# ---------------------------------------------------------------- behaviour
def test_layers_keep_float32(rng):
    for make, shape in CASES.values():
        layer = make()
        y = layer.forward(rng.normal(size=shape).astype(np.float32), training=True)
        assert y.dtype == np.float32, layer
        dx = layer.backward(np.ones_like(y))
        assert dx is not None, layer
        assert dx.dtype == np.float32, layer
        for name, grad in layer.grads.items():
            assert grad.dtype == np.float32
            assert grad.shape == layer.params[name].shape


def test_activations_match_their_definitions():
    x = np.linspace(-4, 4, 81)[None, :]
    assert np.allclose(ReLU().forward(x), np.maximum(x, 0))
    assert np.allclose(LeakyReLU(0.2).forward(x), np.where(x > 0, x, 0.2 * x))
    assert np.allclose(ELU(1.5).forward(x), np.where(x > 0, x, 1.5 * np.expm1(x)))
    assert np.allclose(Sigmoid().forward(x), 1 / (1 + np.exp(-x)))
    assert np.allclose(Tanh().forward(x), np.tanh(x))
    from scipy.special import erf

    assert np.allclose(GELU().forward(x), x * 0.5 * (1 + erf(x / np.sqrt(2))), atol=1e-15)
    assert np.allclose(GELU(approximate="tanh").forward(x), GELU().forward(x), atol=1e-3)
    # derivative of ReLU at exactly 0 is 0, as in PyTorch
    relu = ReLU()
    relu.forward(np.zeros((1, 3)), training=True)
    assert np.all(relu.backward(np.ones((1, 3))) == 0)


def test_sigmoid_and_softmax_do_not_overflow():
    big = np.array([[-1000.0, 0.0, 1000.0]])
    with np.errstate(over="raise", invalid="raise"):
        assert np.array_equal(Sigmoid().forward(big), [[0.0, 0.5, 1.0]])
        probabilities = Softmax().forward(big)
    assert np.allclose(probabilities, [[0, 0, 1]])
    assert np.all(np.isfinite(probabilities))
    shifted = Softmax().forward(np.array([[1.0, 2.0, 3.0]]) + 500)
    assert np.allclose(shifted, Softmax().forward(np.array([[1.0, 2.0, 3.0]])))


def test_layers_match_pytorch_modules(rng):
    torch = torch_or_skip()
    x = rng.normal(size=IMAGES)
    pairs = [
        (ReLU(), torch.nn.ReLU()),
        (LeakyReLU(0.1), torch.nn.LeakyReLU(0.1)),
        (ELU(0.7), torch.nn.ELU(0.7)),
        (GELU(), torch.nn.GELU()),
        (GELU(approximate="tanh"), torch.nn.GELU(approximate="tanh")),
        (Sigmoid(), torch.nn.Sigmoid()),
        (Tanh(), torch.nn.Tanh()),
        (Flatten(), torch.nn.Flatten()),
        (MaxPool2D(3, stride=2, padding=1), torch.nn.MaxPool2d(3, 2, 1)),
        (AvgPool2D(2), torch.nn.AvgPool2d(2)),
    ]
    for ours, theirs in pairs:
        xt = torch.tensor(x, requires_grad=True)
        yt = theirs(xt)
        dy = rng.normal(size=tuple(yt.shape))
        yt.backward(torch.tensor(dy))
        y = ours.forward(x, training=True)
        assert np.allclose(y, yt.detach().numpy(), rtol=1e-12, atol=1e-14), ours
        assert np.allclose(ours.backward(dy), xt.grad.numpy(), rtol=1e-12, atol=1e-14), ours
    logits = rng.normal(size=(4, 6))
    assert np.allclose(Softmax().forward(logits), torch.softmax(torch.tensor(logits), 1).numpy())


def test_dense_and_locally_connected_match_their_formulas(rng):
    x = rng.normal(size=(3, 5))
    dense = Dense(4)
    y = dense.forward(x)
    assert np.allclose(y, x @ dense.params["weight"].T + dense.params["bias"])
    # a locally connected layer whose per-position filters are all equal is a convolution
    images = rng.normal(size=(2, 3, 6, 5))
    local, conv = LocallyConnected2D(4, 3, stride=2, padding=1), Conv2D(4, 3, stride=2, padding=1)
    local.build(images.shape[1:], dtype=np.float64)
    conv.build(images.shape[1:], dtype=np.float64)
    local.params["weight"][...] = conv.params["weight"].reshape(4, -1)
    local.params["bias"][...] = rng.normal(size=4)[:, None, None]
    conv.params["bias"][...] = local.params["bias"][:, 0, 0]
    assert np.allclose(local.forward(images), conv.forward(images))
    assert local.count_params() == 3 * 3 * (4 * 27 + 4)


def test_dropout_zeroes_and_rescales_in_training_only(rng):
    layer = Dropout(0.25)
    layer.build((1000,), np.random.default_rng(1), np.float64)
    x = np.ones((50, 1000))
    assert layer.forward(x) is x  # inference: identity
    y = layer.forward(x, training=True)
    kept = y != 0
    assert np.allclose(y[kept], 1 / 0.75)
    assert abs(kept.mean() - 0.75) < 0.01
    assert abs(y.mean() - 1) < 0.02  # inverted dropout keeps the expectation
    assert np.array_equal(layer.backward(np.ones_like(x)), y)


def test_initialisers_have_the_documented_scale():
    rng = np.random.default_rng(3)
    shape = (256, 64, 3, 3)  # fan_in 576, fan_out 2304
    assert init.fans(shape) == (576, 2304)
    assert abs(init.he_normal(shape, rng, np.float64).std() - np.sqrt(2 / 576)) < 1e-3
    assert abs(init.he_uniform(shape, rng, np.float64).std() - np.sqrt(2 / 576)) < 1e-3
    glorot = np.sqrt(2 / (576 + 2304))
    assert abs(init.xavier_normal(shape, rng, np.float64).std() - glorot) < 1e-3
    assert abs(init.xavier_uniform(shape, rng, np.float64).std() - glorot) < 1e-3
    assert np.abs(init.he_uniform(shape, rng, np.float64)).max() <= np.sqrt(6 / 576)
    assert init.he_normal(shape, rng, np.float32).dtype == np.float32
    assert not init.zeros(shape, rng, np.float64).any()


def test_initial_weights_come_from_the_generator():
    def weights(seed):
        layer = Conv2D(4, 3)
        layer.build((2, 5, 5), np.random.default_rng(seed), np.float64)
        return layer.params["weight"]

    assert np.array_equal(weights(1), weights(1))
    assert not np.array_equal(weights(1), weights(2))


# ----------------------------------------------------------------- describing
def test_repr_is_the_constructor_call():
    assert repr(Conv2D(32, 3, padding="same")) == "Conv2D(32, 3, padding='same')"
    assert repr(Dense(10, activation="relu")) == "Dense(10, activation='relu')"
    assert repr(MaxPool2D(3, stride=2)) == "MaxPool2D(3, stride=2)"
    assert repr(Dropout(0.5)) == "Dropout(0.5)"
    assert repr(ReLU()) == "ReLU()"
    assert repr(LeakyReLU(0.2)) == "LeakyReLU(0.2)"
    assert repr(MaxPool2D(2)) == "MaxPool2D(2)"  # the window is always shown


@pytest.mark.parametrize("case", list(CASES))
def test_a_layer_rebuilt_from_its_config_is_the_same_layer(case):
    layer = CASES[case][0]()
    clone = type(layer)(**layer.config())
    assert repr(clone) == repr(layer)
    shape = CASES[case][1][1:]
    assert clone.build(shape) == layer.build(shape)
    assert clone.count_params() == layer.count_params()
    copy = layer.unbuilt_copy()  # the same, unbuilt, under the built layer's name
    assert (type(copy), repr(copy), copy.name) == (type(layer), repr(layer), layer.name)
    assert not copy.built
    assert layer.built
    assert layer.unbuilt_copy(name="other").name == "other"


def test_parameter_counts():
    conv = Conv2D(32, 3)
    conv.build((3, 32, 32))
    assert conv.count_params() == 32 * 3 * 9 + 32
    no_bias = Conv2D(32, 3, use_bias=False)
    no_bias.build((3, 8, 8))
    assert no_bias.count_params() == 32 * 3 * 9
    dense = Dense(10)
    dense.build((1024,))
    assert dense.count_params() == 10_250
    for parameterless in (ReLU(), MaxPool2D(2), Flatten(), Dropout(0.5), GlobalAvgPool2D()):
        parameterless.build((4, 8, 8))
        assert parameterless.count_params() == 0


@pytest.mark.parametrize(
    ("filters", "shape"), [(4, (3, 2, 9, 8)), (32, (2, 32, 6, 5))], ids=["im2col", "winograd"]
)
def test_a_conv2d_relu_is_the_same_as_a_conv2d_then_a_relu_layer(filters, shape, rng):
    """Conv2D fuses its "relu" into the convolution; the numbers must not change, ∞ included."""
    fused = Sequential([Conv2D(filters, 3, padding=1, activation="relu")])
    apart = Sequential([Conv2D(filters, 3, padding=1), ReLU()])
    x = rng.standard_normal(shape).astype(np.float32)
    fused.build(shape[1:])
    apart.build(shape[1:])
    apart.layers[0].params = {k: v.copy() for k, v in fused.layers[0].params.items()}
    np.testing.assert_array_equal(fused.predict(x), apart.predict(x))
    y = fused.layers[0].forward(x, training=True)
    np.testing.assert_array_equal(
        y, apart.layers[1].forward(apart.layers[0].forward(x, True), True)
    )
    grad = rng.standard_normal(y.shape).astype(np.float32)
    grad.reshape(-1)[::7] = np.inf
    with np.errstate(invalid="ignore", over="ignore"):
        dx = fused.layers[0].backward(grad)
        expected = apart.layers[0].backward(apart.layers[1].backward(grad))
    np.testing.assert_array_equal(dx, expected)
    for name, value in fused.layers[0].grads.items():
        np.testing.assert_array_equal(value, apart.layers[0].grads[name], err_msg=name)


def test_relu_backward_gives_zero_where_the_input_was_negative_even_for_inf_gradients():
    # the fast path multiplies by the 0/1 mask, where 0·∞ would be NaN; PyTorch gives 0
    relu = ReLU()
    relu.forward(np.array([[-1.0, 2.0, -3.0, 4.0]]), training=True)
    grad = relu.backward(np.array([[np.inf, np.inf, np.nan, -np.inf]]))
    assert grad[0, 0] == 0
    assert grad[0, 1] == np.inf
    assert grad[0, 2] == 0
    assert grad[0, 3] == -np.inf


def _channels_first(x: np.ndarray) -> np.ndarray:
    """The same values, laid out (C, N, H, W) in memory, as a convolution returns them."""
    return np.ascontiguousarray(x.transpose(1, 0, 2, 3)).transpose(1, 0, 2, 3)


@pytest.mark.parametrize(
    "make",
    [lambda: MaxPool2D(2), lambda: MaxPool2D(3, stride=2, padding=1), lambda: MinPool2D(2)],
    ids=["max-2", "max-3-s2-p1", "min-2"],
)
@pytest.mark.parametrize("grad_order", ["nchw", "channels-first"])
def test_a_pool_on_a_channels_first_batch_equals_pytorch_and_keeps_its_order(make, grad_order, rng):
    """A conv's output is (C, N, H, W) in memory; pooling it must give PyTorch's numbers
    (ties included), in that memory order, whatever order the gradient comes back in."""
    torch = torch_or_skip()
    x = rng.normal(size=(3, 4, 8, 8)).round(1)  # rounding makes ties within windows
    layer = make()
    layer.build(x.shape[1:])
    theirs = (
        torch.nn.MaxPool2d(layer.kernel_size, layer.stride, layer.padding)
        if isinstance(layer, MaxPool2D)
        else lambda t: -torch.nn.functional.max_pool2d(-t, 2)
    )
    xt = torch.tensor(x, requires_grad=True)
    yt = theirs(xt)
    dy = rng.normal(size=tuple(yt.shape))
    yt.backward(torch.tensor(dy))
    y = layer.forward(_channels_first(x), training=True)
    np.testing.assert_array_equal(y, yt.detach().numpy())
    assert y.transpose(1, 0, 2, 3).flags.c_contiguous  # the order came through
    dx = layer.backward(_channels_first(dy) if grad_order == "channels-first" else dy)
    # overlapping windows add their shares in another order than PyTorch: allclose
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-12, atol=1e-14)
    assert dx.transpose(1, 0, 2, 3).flags.c_contiguous
    inference = layer.forward(_channels_first(x))
    np.testing.assert_array_equal(inference, y)
    assert inference.transpose(1, 0, 2, 3).flags.c_contiguous
