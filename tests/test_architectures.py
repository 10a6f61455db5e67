"""The classic networks: published parameter counts, PyTorch twins built by hand, the
FC-to-conv conversion against a sliding-window loop, receptive fields against gradients."""

from __future__ import annotations

import numpy as np
import pytest
from oracles import torch_or_skip
from test_geometry import torch_receptive_rows

from cnnlib import Sequential, architectures
from cnnlib.layers import (
    AvgPool2D,
    Conv2D,
    Dense,
    Dropout,
    Flatten,
    GlobalAvgPool2D,
    MaxPool2D,
    ReLU,
    Softmax,
)

# Published counts, from the literature and the frameworks' model zoos (not from cnnlib):
# LeNet-5 as usually reproduced; TensorFlow's CIFAR-10 CNN tutorial (model.summary());
# torchvision's alexnet (the one-stream variant); Caffe's bvlc_alexnet (two groups);
# VGG-16 (Simonyan & Zisserman, configuration D, 138M; torchvision vgg16).
PUBLISHED = {
    "lenet5": 61_706,
    "cifar_cnn": 122_570,
    "alexnet": 61_100_840,
    "alexnet_grouped": 60_965_224,
    "vgg16": 138_357_544,
}


# ------------------------------------------------------------- the same networks in torch
def torch_lenet5(nn, padding=0):
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=padding),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(400, 120),
        nn.ReLU(),
        nn.Linear(120, 84),
        nn.ReLU(),
        nn.Linear(84, 10),
    )


def torch_cifar(nn):
    return nn.Sequential(
        nn.Conv2d(3, 32, 3),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(64, 64, 3),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(1024, 64),
        nn.ReLU(),
        nn.Linear(64, 10),
    )


def torch_alexnet(nn, grouped=False):
    """torchvision.models.alexnet written out (without the adaptive pool, an identity at
    224×224), or the 2012 two-group network."""
    g = 2 if grouped else 1
    c1, c2, c3, c4, c5 = (96, 256, 384, 384, 256) if grouped else (64, 192, 384, 256, 256)
    return nn.Sequential(
        nn.Conv2d(3, c1, 11, stride=4, padding=0 if grouped else 2),
        nn.ReLU(),
        nn.MaxPool2d(3, 2),
        nn.Conv2d(c1, c2, 5, padding=2, groups=g),
        nn.ReLU(),
        nn.MaxPool2d(3, 2),
        nn.Conv2d(c2, c3, 3, padding=1),
        nn.ReLU(),
        nn.Conv2d(c3, c4, 3, padding=1, groups=g),
        nn.ReLU(),
        nn.Conv2d(c4, c5, 3, padding=1, groups=g),
        nn.ReLU(),
        nn.MaxPool2d(3, 2),
        nn.Flatten(),
        nn.Dropout(),
        nn.Linear(256 * 6 * 6, 4096),
        nn.ReLU(),
        nn.Dropout(),
        nn.Linear(4096, 4096),
        nn.ReLU(),
        nn.Linear(4096, 1000),
    )


def torch_vgg16(nn):
    layers, channels = [], 3
    for filters, convs in [(64, 2), (128, 2), (256, 3), (512, 3), (512, 3)]:
        for _ in range(convs):
            layers += [nn.Conv2d(channels, filters, 3, padding=1), nn.ReLU()]
            channels = filters
        layers.append(nn.MaxPool2d(2, 2))
    layers += [
        nn.Flatten(),
        nn.Linear(512 * 7 * 7, 4096),
        nn.ReLU(),
        nn.Dropout(),
        nn.Linear(4096, 4096),
        nn.ReLU(),
        nn.Dropout(),
        nn.Linear(4096, 1000),
    ]
    return nn.Sequential(*layers)


def _torch_count(net):
    return sum(p.numel() for p in net.parameters())


#: PyTorch module → the cnnlib layer in its place (ReLUs are fused into cnnlib's layers).
_KINDS = {
    "Conv2d": "Conv2D",
    "MaxPool2d": "MaxPool2D",
    "Flatten": "Flatten",
    "Linear": "Dense",
    "Dropout": "Dropout",
}


def _layer_kinds(net):
    """The order of layers in a PyTorch twin, named as cnnlib's; dropout included."""
    return [_KINDS[type(m).__name__] for m in net.modules() if type(m).__name__ in _KINDS]


def _load_into_torch(torch, model, net):
    """Copy cnnlib's weights into the torch twin, weight layer by weight layer."""
    ours = [layer for layer in model.layers if layer.params]
    theirs = [m for m in net if isinstance(m, torch.nn.Conv2d | torch.nn.Linear)]
    assert len(ours) == len(theirs)
    with torch.no_grad():
        for layer, module in zip(ours, theirs, strict=True):
            assert tuple(module.weight.shape) == layer.params["weight"].shape
            module.weight.copy_(torch.from_numpy(layer.params["weight"]))
            module.bias.copy_(torch.from_numpy(layer.params["bias"]))
    return net.eval()


def _give_biases(model, rng):
    """Builders start with zero biases; random ones make the comparisons stricter."""
    for layer in model.layers:
        if "bias" in layer.params:
            layer.params["bias"][...] = rng.normal(0, 0.1, layer.params["bias"].shape)


@pytest.fixture(scope="module")
def vgg():
    """VGG-16 is 553 MB of weights: build it once for the whole module."""
    return architectures.vgg16(seed=0)


# ------------------------------------------------------------------ parameter counts
@pytest.mark.parametrize(
    ("build", "published", "twin"),
    [
        (lambda: architectures.lenet5(), "lenet5", lambda nn: torch_lenet5(nn)),
        (lambda: architectures.lenet5((1, 28, 28)), "lenet5", lambda nn: torch_lenet5(nn, 2)),
        (lambda: architectures.cifar_cnn(), "cifar_cnn", torch_cifar),
        (lambda: architectures.alexnet(), "alexnet", torch_alexnet),
        (
            lambda: architectures.alexnet("grouped"),
            "alexnet_grouped",
            lambda nn: torch_alexnet(nn, grouped=True),
        ),
    ],
    ids=["lenet5-32", "lenet5-28", "cifar", "alexnet", "alexnet-grouped"],
)
def test_parameter_counts_match_the_published_ones_and_torch(build, published, twin):
    torch = torch_or_skip()
    model = build()
    with torch.device("meta"):  # shapes only: no memory for the weights
        net = twin(torch.nn)
    assert model.count_params() == PUBLISHED[published] == _torch_count(net)
    ours = [p.shape for _, p in model.parameters()]
    assert ours == [tuple(p.shape) for p in net.parameters()]
    assert [type(layer).__name__ for layer in model.layers] == _layer_kinds(net)


def test_vgg16_has_the_published_count_and_torchs_layer_shapes(vgg, capsys):
    torch = torch_or_skip()
    with torch.device("meta"):
        net = torch_vgg16(torch.nn)
        x = torch.empty(1, 3, 224, 224)
        torch_shapes = []
        for module in net:
            x = module(x)
            if not isinstance(module, torch.nn.ReLU | torch.nn.Dropout):
                torch_shapes.append(tuple(x.shape[1:]))
    assert vgg.count_params() == PUBLISHED["vgg16"] == _torch_count(net)
    assert [p.shape for _, p in vgg.parameters()] == [tuple(p.shape) for p in net.parameters()]
    assert [type(layer).__name__ for layer in vgg.layers] == _layer_kinds(net), "dropout too"
    ours = [layer.output_shape for layer in vgg.layers if not isinstance(layer, Dropout)]
    assert ours == torch_shapes
    vgg.summary()
    printed = capsys.readouterr().out
    assert "Total params: 138,357,544" in printed
    assert "(512, 7, 7)" in printed
    assert "(25088,)" in printed


def test_vgg16_forward_gives_1000_scores_for_one_image(vgg):
    x = np.random.default_rng(0).normal(size=(1, 3, 224, 224)).astype(np.float32)
    scores = vgg.predict(x)
    assert scores.shape == (1, 1000)
    assert scores.dtype == np.float32
    assert np.all(np.isfinite(scores))
    assert scores.std() > 0


# ------------------------------------------------------------ forward passes vs torch
@pytest.mark.parametrize(
    ("build", "twin", "shape"),
    [
        (lambda: architectures.lenet5(seed=1), lambda nn: torch_lenet5(nn), (4, 1, 32, 32)),
        (
            lambda: architectures.lenet5((1, 28, 28), seed=2),
            lambda nn: torch_lenet5(nn, 2),
            (4, 1, 28, 28),
        ),
        (lambda: architectures.cifar_cnn(seed=3), torch_cifar, (4, 3, 32, 32)),
        (lambda: architectures.alexnet(seed=4), torch_alexnet, (1, 3, 224, 224)),
        (
            lambda: architectures.alexnet("grouped", seed=5),
            lambda nn: torch_alexnet(nn, grouped=True),
            (1, 3, 227, 227),
        ),
    ],
    ids=["lenet5-32", "lenet5-28", "cifar", "alexnet", "alexnet-grouped"],
)
def test_forward_pass_matches_torch(build, twin, shape, rng):
    torch = torch_or_skip()
    model = build()
    _give_biases(model, rng)
    net = _load_into_torch(torch, model, twin(torch.nn))
    x = rng.normal(size=shape).astype(np.float32)
    ours = model.predict(x)
    with torch.no_grad():
        theirs = net(torch.from_numpy(x)).numpy()
    assert ours.shape == theirs.shape == (shape[0], model.output_shape[0])
    scale = np.abs(theirs).max()
    assert np.abs(ours - theirs).max() / scale < 1e-4


def test_softmax_and_class_options():
    model = architectures.cifar_cnn(classes=7, softmax=True)
    assert isinstance(model.layers[-1], Softmax)
    assert model.output_shape == (7,)
    p = model.predict(np.random.default_rng(0).normal(size=(3, 3, 32, 32)))
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-5)
    tanh = architectures.lenet5(activation="tanh", classes=2)
    assert tanh.layers[0].activation_name == "tanh"
    assert tanh.output_shape == (2,)
    assert architectures.alexnet(dropout=0, classes=5).count_params() == (
        PUBLISHED["alexnet"] - 4097 * 1000 + 4097 * 5
    )


@pytest.mark.parametrize(
    ("call", "error", "pattern"),
    [
        (lambda: architectures.lenet5((1, 30, 30)), ValueError, r"32×32 .*got 30×30"),
        (lambda: architectures.lenet5((28, 28)), ValueError, r"input_shape must be \(C, H, W\)"),
        (lambda: architectures.cifar_cnn(classes=0), ValueError, "classes"),
        (lambda: architectures.alexnet("two"), ValueError, "'single' or 'grouped'"),
        (lambda: architectures.vgg16(dropout=1.0), ValueError, r"dropout must be in \[0, 1\)"),
    ],
)
def test_bad_arguments_are_named(call, error, pattern):
    with pytest.raises(error, match=pattern):
        call()


# -------------------------------------------------------------------- FC → conv
def _crop_scores(model, image, size, stride):
    """The original model on every crop of ``image`` at ``stride``: a plain loop."""
    _, height, width = image.shape
    rows = range(0, height - size + 1, stride)
    cols = range(0, width - size + 1, stride)
    grid = np.zeros((model.output_shape[0], len(rows), len(cols)), dtype=np.float32)
    for i, top in enumerate(rows):
        for j, left in enumerate(cols):
            crop = image[None, :, top : top + size, left : left + size]
            grid[:, i, j] = model.predict(crop)[0]
    return grid


@pytest.mark.parametrize(
    ("build", "size", "stride", "larger"),
    [
        (lambda: architectures.lenet5(seed=1), 32, 4, (44, 52)),
        (lambda: architectures.cifar_cnn(seed=2), 32, 4, (48, 40)),
        (lambda: architectures.cifar_cnn(seed=3, softmax=True), 32, 4, (36, 44)),
    ],
    ids=["lenet5", "cifar", "cifar-softmax"],
)
def test_converted_head_on_a_larger_image_equals_the_sliding_window_loop(
    build, size, stride, larger, rng
):
    model = build()
    _give_biases(model, rng)
    converted = architectures.dense_to_conv(model)
    image = rng.normal(size=(model.input_shape[0], *larger)).astype(np.float32)
    big = converted.with_input_shape((model.input_shape[0], *larger))
    grid = big.predict(image[None])[0]
    expected = _crop_scores(model, image, size, stride)
    assert (
        grid.shape
        == expected.shape
        == (
            model.output_shape[0],
            (larger[0] - size) // stride + 1,
            (larger[1] - size) // stride + 1,
        )
    )
    np.testing.assert_allclose(grid, expected, rtol=1e-4, atol=1e-5 * np.abs(expected).max())


def test_converted_model_keeps_scores_names_and_counts(rng):
    model = Sequential(
        [
            Conv2D(4, 3, activation="relu"),
            MaxPool2D(2),
            Flatten(),
            Dropout(0.5),
            Dense(6, activation="relu", name="fc1"),
            ReLU(),
            Dense(3, use_bias=False, name="scores"),
        ],
        input_shape=(2, 8, 8),
        seed=4,
    )
    _give_biases(model, rng)
    converted = architectures.dense_to_conv(model)
    names = [layer.name for layer in converted.layers]
    assert names == ["conv2d_1", "maxpool2d_1", "dropout_1", "fc1_conv", "relu_1", "scores_conv"]
    fc1, scores = converted.layers[3], converted.layers[5]
    assert fc1.params["weight"].shape == (6, 4, 3, 3)
    assert scores.params["weight"].shape == (3, 6, 1, 1)
    assert "bias" not in scores.params
    assert converted.count_params() == model.count_params()
    assert converted.output_shape == (3, 1, 1)
    x = rng.normal(size=(5, 2, 8, 8)).astype(np.float32)
    np.testing.assert_allclose(
        converted.predict(x).reshape(5, 3), model.predict(x), rtol=1e-5, atol=1e-6
    )
    # the weights are copies: changing the converted model leaves the original alone
    before = model.layers[4].params["weight"].copy()
    fc1.params["weight"] += 1
    np.testing.assert_array_equal(model.layers[4].params["weight"], before)


def test_converted_weights_are_the_dense_rows_reshaped_in_c_order(rng):
    model = architectures.lenet5(seed=5)
    converted = architectures.dense_to_conv(model)
    dense = model.layers[5].params["weight"]  # (120, 400) reading a 16×5×5 volume
    conv = converted.layers[4].params["weight"]  # (120, 16, 5, 5)
    for unit, channel, row, col in [(0, 0, 0, 0), (7, 3, 2, 4), (119, 15, 4, 4)]:
        assert conv[unit, channel, row, col] == dense[unit, channel * 25 + row * 5 + col]


def test_dense_to_conv_refuses_what_it_cannot_convert():
    gap = Sequential([Conv2D(3, 3), GlobalAvgPool2D(), Dense(2)], input_shape=(1, 6, 6))
    with pytest.raises(ValueError, match="no Flatten layer"):
        architectures.dense_to_conv(gap)
    only_flatten = Sequential([Conv2D(3, 3), Flatten(), ReLU()], input_shape=(1, 6, 6))
    with pytest.raises(ValueError, match="no Dense layer follows flatten_1"):
        architectures.dense_to_conv(only_flatten)
    twice = Sequential(
        [Conv2D(3, 3), Flatten(), Dense(4), Flatten(), Dense(2)], input_shape=(1, 6, 6)
    )
    with pytest.raises(ValueError, match=r"flatten_2 \(Flatten\) follows the Flatten"):
        architectures.dense_to_conv(twice)
    with pytest.raises(RuntimeError, match="build the model first"):
        architectures.dense_to_conv(Sequential([Conv2D(3, 3), Flatten(), Dense(2)]))
    with pytest.raises(TypeError, match="expected a cnnlib Sequential"):
        architectures.dense_to_conv([Dense(2)])


def test_a_flatten_head_fixes_the_size_and_the_converted_one_does_not():
    model = architectures.cifar_cnn()
    with pytest.raises(ValueError, match=r"dense_1\.weight"):
        model.with_input_shape((3, 64, 64))
    big = architectures.dense_to_conv(model).with_input_shape((3, 64, 64))
    assert big.output_shape == (10, 9, 9)


# ------------------------------------------------------------------- receptive fields
def test_receptive_fields_of_the_classic_nets_are_the_published_ones(vgg):
    # Araujo, Norris & Sim, "Computing receptive fields of convolutional neural networks"
    # (Distill, 2019): AlexNet 195, VGG-16 212 at the last pooling layer
    alex = architectures.receptive_fields_of(architectures.alexnet())
    assert alex[-1][1].size == 195
    assert alex[-1][1].jump == 32
    fields = architectures.receptive_fields_of(vgg)
    assert len(fields) == 18
    assert fields[-1][1].size == 212
    assert fields[-1][1].jump == 32
    assert fields[-2][1].size == 196  # conv5_3
    assert [f.size for _, f in fields[:2]] == [3, 5]
    lenet = architectures.receptive_fields_of(architectures.lenet5())
    assert [f.size for _, f in lenet] == [5, 6, 14, 16]
    assert [name for name, _ in lenet] == ["conv2d_1", "maxpool2d_1", "conv2d_2", "maxpool2d_2"]


def test_receptive_fields_of_a_model_with_padding_match_torch():
    torch = torch_or_skip()
    model = Sequential(
        [
            Conv2D(2, 5, padding="same"),
            AvgPool2D(3, stride=2, padding=1),
            Conv2D(2, 3, stride=2, dilation=2, padding=1),
            ReLU(),
            MaxPool2D(2),
            Flatten(),
            Dense(2),
        ],
        input_shape=(1, 64, 64),
    )
    fields = architectures.receptive_fields_of(model)
    assert [name for name, _ in fields] == ["conv2d_1", "avgpool2d_1", "conv2d_2", "maxpool2d_1"]
    steps = [("conv", 5, 1, 2, 1), ("pool", 3, 2, 1, 1), ("conv", 3, 2, 1, 2), ("pool", 2, 2, 0, 1)]
    for unit in (3, 4):
        first, final = torch_receptive_rows(torch, steps, 200, unit)
        field = fields[-1][1]
        assert final - first + 1 == field.size
        assert (first + final) / 2 == field.start + unit * field.jump
    assert architectures.receptive_fields_of(model, axis=1) == fields
    with pytest.raises(ValueError, match="axis must be 0"):
        architectures.receptive_fields_of(model, axis=2)
