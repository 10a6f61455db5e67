"""cnnlib.interpret against independent oracles: PyTorch's autograd, central differences,
scikit-learn's logistic regression and SciPy's Gaussian filter."""

from __future__ import annotations

import numpy as np
import pytest
from oracles import torch_or_skip
from scipy import ndimage
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from cnnlib import Sequential, datasets, interpret
from cnnlib.gradcheck import numerical_gradient, relative_error
from cnnlib.layers import Conv2D, Dense, Dropout, Flatten, MaxPool2D, ReLU, Softmax
from cnnlib.pretrained import load_mnist_cnn


def _torch():
    """PyTorch, the oracle of the gradient tests (CI installs it); skip where it is missing."""
    torch = torch_or_skip()
    torch.set_num_threads(1)
    return torch


# ------------------------------------------------------------------------------ helpers
def small_cnn(seed=0, dtype=np.float64, softmax=False):
    """A small classifier with every kind of layer the chapter's model has."""
    layers = [
        Conv2D(4, 3, padding="same", activation="relu"),
        MaxPool2D(2),
        Conv2D(6, 3, padding=1),
        ReLU(),
        Flatten(),
        Dropout(0.5),
        Dense(8, activation="relu"),
        Dense(5),
    ]
    if softmax:
        layers.append(Softmax())
    model = Sequential(layers, input_shape=(2, 8, 8), seed=seed, dtype=dtype)
    rng = np.random.default_rng(seed + 100)
    for layer in model.layers:  # non-zero biases, so that they are tested too
        if "bias" in layer.params:
            layer.params["bias"][...] = 0.1 * rng.standard_normal(layer.params["bias"].shape)
    return model


def to_torch(model):
    """The same network in PyTorch, as a list of modules (dropout omitted: inference)."""
    torch = _torch()
    dtype = torch.float64 if model.dtype == np.float64 else torch.float32
    modules = []
    for layer in model.layers:
        if isinstance(layer, Conv2D):
            weight = torch.tensor(layer.params["weight"], dtype=dtype)
            padding = "same" if layer.padding == "same" else layer.padding
            conv = torch.nn.Conv2d(
                weight.shape[1], weight.shape[0], weight.shape[2:], padding=padding, dtype=dtype
            )
            conv.weight.data = weight
            conv.bias.data = torch.tensor(layer.params["bias"], dtype=dtype)
            modules.append(conv)
        elif isinstance(layer, Dense):
            weight = torch.tensor(layer.params["weight"], dtype=dtype)
            linear = torch.nn.Linear(weight.shape[1], weight.shape[0], dtype=dtype)
            linear.weight.data = weight
            linear.bias.data = torch.tensor(layer.params["bias"], dtype=dtype)
            modules.append(linear)
        elif isinstance(layer, MaxPool2D):
            modules.append(torch.nn.MaxPool2d(layer.kernel_size))
        elif isinstance(layer, Flatten):
            modules.append(torch.nn.Flatten())
        elif isinstance(layer, ReLU):
            modules.append(torch.nn.ReLU())
        elif isinstance(layer, Dropout | Softmax):
            modules.append(torch.nn.Identity())  # scores are the logits before a softmax
        else:
            raise AssertionError(f"no PyTorch twin for {layer}")
        if getattr(layer, "activation_name", None) == "relu":
            modules[-1] = torch.nn.Sequential(modules[-1], torch.nn.ReLU())
    return modules


def torch_input_gradient(modules, x, classes):
    torch = _torch()
    inputs = torch.tensor(x, requires_grad=True)
    scores = torch.nn.Sequential(*modules)(inputs)
    scores[torch.arange(len(x)), torch.tensor(classes)].sum().backward()
    return inputs.grad.numpy(), scores.detach().numpy()


def torch_grad_cam(modules, x, classes, index, size):
    torch = _torch()
    inputs = torch.tensor(x)
    activations = torch.nn.Sequential(*modules[: index + 1])(inputs).detach().requires_grad_()
    scores = torch.nn.Sequential(*modules[index + 1 :])(activations)
    (gradients,) = torch.autograd.grad(
        scores[torch.arange(len(x)), torch.tensor(classes)].sum(), activations
    )
    weights = gradients.mean(dim=(2, 3))
    cam = torch.relu((weights[:, :, None, None] * activations).sum(dim=1))
    heatmap = torch.nn.functional.interpolate(
        cam[:, None], size=size, mode="bilinear", align_corners=False
    )[:, 0]
    return weights.numpy(), cam.detach().numpy(), heatmap.detach().numpy()


@pytest.fixture(scope="module")
def digits():
    x, y = datasets.load_mnist("train-5k")
    return x, y


@pytest.fixture(scope="module")
def pretrained():
    return load_mnist_cnn()


# ----------------------------------------------------------------------- input gradients
@pytest.mark.parametrize("softmax", [False, True])
def test_input_gradient_matches_torch_autograd(rng, softmax):
    model = small_cnn(softmax=softmax)
    x = rng.standard_normal((5, 2, 8, 8))
    classes = np.array([0, 4, 2, 2, 1])
    mine = interpret.input_gradient(model, x, classes)
    theirs, _ = torch_input_gradient(to_torch(model), x, classes)
    assert mine.shape == x.shape
    assert relative_error(mine, theirs) < 1e-10


def test_input_gradient_matches_central_differences(rng):
    model = small_cnn(seed=3)
    x = rng.standard_normal((3, 2, 8, 8))
    classes = np.array([1, 3, 0])

    def score(images):
        return np.sum(interpret.class_scores(model, images)[np.arange(3), classes])

    numerical = numerical_gradient(score, x.copy())
    analytic = interpret.input_gradient(model, x, classes)
    assert relative_error(analytic, numerical) < 1e-6


def test_one_class_for_all_and_the_predicted_class_by_default(rng):
    model = small_cnn()
    x = rng.standard_normal((4, 2, 8, 8))
    predicted = interpret.class_scores(model, x).argmax(axis=1)
    np.testing.assert_array_equal(
        interpret.input_gradient(model, x), interpret.input_gradient(model, x, predicted)
    )
    np.testing.assert_array_equal(
        interpret.input_gradient(model, x, 3), interpret.input_gradient(model, x, np.full(4, 3))
    )


def test_gradients_leave_the_model_as_it_was(rng):
    model = small_cnn()
    x = rng.standard_normal((2, 2, 8, 8))
    before = [value.copy() for _, value in model.parameters()]
    flags = [layer.needs_input_grad for layer in model.layers]
    out = model.predict(x)
    interpret.input_gradient(model, x, 1)
    interpret.grad_cam(model, x, 1)
    assert [layer.needs_input_grad for layer in model.layers] == flags
    assert flags[0] is False
    for old, (_, new) in zip(before, model.parameters(), strict=True):
        np.testing.assert_array_equal(old, new)
    np.testing.assert_array_equal(model.predict(x), out)


def test_saliency_is_the_largest_absolute_gradient_over_channels(rng):
    model = small_cnn()
    x = rng.standard_normal((3, 2, 8, 8))
    theirs, _ = torch_input_gradient(to_torch(model), x, [2, 2, 2])
    saliency = interpret.saliency_map(model, x, 2)
    assert saliency.shape == (3, 8, 8)
    np.testing.assert_allclose(saliency, np.abs(theirs).max(axis=1), rtol=1e-10, atol=1e-14)


def test_pretrained_saliency_matches_torch_in_float32(pretrained, digits):
    x = digits[0][:6]
    classes = digits[1][:6]
    theirs, scores = torch_input_gradient(to_torch(pretrained), x, classes)
    np.testing.assert_allclose(interpret.class_scores(pretrained, x), scores, rtol=1e-4, atol=1e-4)
    saliency = interpret.saliency_map(pretrained, x, classes)
    expected = np.abs(theirs).max(axis=1)
    assert np.max(np.abs(saliency - expected)) < 1e-4 * np.max(expected)


# ------------------------------------------------------------------------------ Grad-CAM
def test_upsampling_is_torch_bilinear(rng):
    torch = _torch()
    maps = rng.standard_normal((2, 7, 5))
    for size in [(28, 28), (14, 10), (7, 5), (3, 2)]:
        mine = interpret.upsample_bilinear(maps, size)
        theirs = torch.nn.functional.interpolate(
            torch.tensor(maps)[:, None], size=size, mode="bilinear", align_corners=False
        )[:, 0].numpy()
        np.testing.assert_allclose(mine, theirs, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("layer", [None, "conv2d_1", 0, "relu_1"])
def test_grad_cam_matches_torch(rng, layer):
    model = small_cnn()
    x = rng.standard_normal((4, 2, 8, 8))
    classes = np.array([0, 1, 2, 4])
    result = interpret.grad_cam(model, x, classes, layer=layer)
    index = {None: 2, "conv2d_1": 0, 0: 0, "relu_1": 3}[layer]  # by default the last Conv2D
    weights, cam, heatmap = torch_grad_cam(to_torch(model), x, classes, index, (8, 8))
    np.testing.assert_allclose(result.weights, weights, rtol=1e-9, atol=1e-13)
    np.testing.assert_allclose(result.cam, cam, rtol=1e-9, atol=1e-13)
    np.testing.assert_allclose(result.heatmap, heatmap, rtol=1e-9, atol=1e-13)
    np.testing.assert_array_equal(result.classes, classes)
    assert result.layer == model.layers[index].name


def test_grad_cam_defaults_to_the_last_convolution(pretrained, digits):
    x, y = digits[0][:4], digits[1][:4]
    result = interpret.grad_cam(pretrained, x, y)
    assert result.layer == "conv2d_4"
    assert result.cam.shape == (4, 14, 14)
    assert result.heatmap.shape == (4, 28, 28)
    assert result.weights.shape == (4, 32)
    assert np.all(result.cam >= 0)
    _, cam, heatmap = torch_grad_cam(to_torch(pretrained), x, y, 4, (28, 28))
    scale = np.max(cam)
    assert np.max(np.abs(result.cam - cam)) < 1e-4 * scale
    assert np.max(np.abs(result.heatmap - heatmap)) < 1e-4 * scale


def test_layer_gradient_is_the_gradient_grad_cam_pools(rng):
    model = small_cnn()
    x = rng.standard_normal((2, 2, 8, 8))
    activations, gradients = interpret.layer_gradient(model, x, "maxpool2d_1", 3)
    weights, _, _ = torch_grad_cam(to_torch(model), x, [3, 3], 1, (8, 8))
    assert activations.shape == gradients.shape == (2, 4, 4, 4)
    np.testing.assert_allclose(gradients.mean(axis=(2, 3)), weights, rtol=1e-9, atol=1e-13)
    result = interpret.grad_cam(model, x, 3, layer="maxpool2d_1")
    np.testing.assert_array_equal(result.activations, activations)


# ------------------------------------------------------------------------- feature maps
def test_layer_outputs_are_every_layer_in_order(rng):
    model = small_cnn(dtype=np.float32)
    x = rng.standard_normal((3, 2, 8, 8)).astype(np.float32)
    outputs = interpret.layer_outputs(model, x)
    assert list(outputs) == [layer.name for layer in model.layers]
    assert outputs["conv2d_1"].shape == (3, 4, 8, 8)
    assert outputs["maxpool2d_1"].shape == (3, 4, 4, 4)
    np.testing.assert_array_equal(outputs["dense_2"], model.predict(x))
    np.testing.assert_array_equal(interpret.feature_maps(model, x, "relu_1"), outputs["relu_1"])
    np.testing.assert_array_equal(interpret.feature_maps(model, x, -1), outputs["dense_2"])
    torch, modules = _torch(), to_torch(model)
    conv = torch.nn.Sequential(*modules[:2])(torch.tensor(x)).detach().numpy()
    np.testing.assert_allclose(outputs["maxpool2d_1"], conv, rtol=1e-5, atol=1e-6)


# --------------------------------------------------------------- activation maximisation
def test_one_ascent_step_follows_the_numerical_gradient(rng):
    model = small_cnn(seed=1)
    start = 0.5 * rng.standard_normal((2, 2, 8, 8))
    units = [1, 3]
    lr, l2 = 1e-3, 0.2
    result = interpret.activation_maximization(
        model, "conv2d_2", units, steps=1, lr=lr, l2=l2, start=start
    )

    def unit_values(images):
        maps = interpret.feature_maps(model, images, "conv2d_2")
        return np.sum([maps[i, u].mean() for i, u in enumerate(units)])

    gradient = numerical_gradient(unit_values, start.copy())
    expected = start + lr * (gradient - 2 * l2 * start)
    assert relative_error(result.images, expected) < 1e-6
    first = [
        interpret.feature_maps(model, start, "conv2d_2")[i, u].mean() for i, u in enumerate(units)
    ]
    np.testing.assert_allclose(result.activation[0], first)
    np.testing.assert_allclose(
        result.objective[0], np.array(first) - l2 * np.sum(start**2, axis=(1, 2, 3))
    )


@pytest.mark.parametrize("jitter", [0, 2])
def test_the_recorded_activations_are_those_of_the_images_after_each_step(rng, jitter):
    model = small_cnn(seed=2)
    start = rng.standard_normal((2, 2, 8, 8))
    units, l2 = [0, 5], 0.1

    def run(steps):
        return interpret.activation_maximization(
            model, "conv2d_2", units, steps=steps, lr=0.1, l2=l2, jitter=jitter, start=start
        )

    result = run(3)
    for step in range(4):
        images = run(step).images  # the same seeded path, stopped after `step` steps
        maps = interpret.feature_maps(model, images, "conv2d_2")
        expected = np.array([maps[i, u].mean() for i, u in enumerate(units)])
        np.testing.assert_allclose(result.activation[step], expected, rtol=1e-12)
        penalty = l2 * np.sum(images**2, axis=(1, 2, 3))
        np.testing.assert_allclose(result.objective[step], expected - penalty, rtol=1e-12)


def test_activation_maximization_increases_its_objective(pretrained):
    result = interpret.activation_maximization(
        pretrained,
        "dense_2",
        [0, 3, 7],
        steps=30,
        lr=1.0,
        l2=0.05,
        blur=0.5,
        jitter=1,
        clip=(0.0, 1.0),
        seed=0,
    )
    assert result.images.shape == (3, 1, 28, 28)
    assert result.activation.shape == result.objective.shape == (31, 3)
    assert np.all(result.objective[-1] > result.objective[0] + 1.0)
    assert np.all(result.activation[-1] > result.activation[0])
    assert result.images.min() >= 0.0
    assert result.images.max() <= 1.0
    # the images are recognised as the class they were made for
    assert list(interpret.class_scores(pretrained, result.images).argmax(axis=1)) == [0, 3, 7]


def test_activation_maximization_is_seeded(pretrained):
    def run(seed):
        return interpret.activation_maximization(
            pretrained, "conv2d_2", [5], steps=3, lr=0.1, jitter=2, seed=seed
        ).images

    np.testing.assert_array_equal(run(0), run(0))
    assert not np.array_equal(run(0), run(1))


def test_l2_penalty_shrinks_the_image(pretrained):
    def norm(l2):
        images = interpret.activation_maximization(
            pretrained, "conv2d_3", [2], steps=20, lr=0.05, l2=l2
        ).images
        return float(np.sum(images**2))

    assert norm(1.0) < norm(0.0)


def test_gaussian_blur_is_scipys_gaussian_filter(rng):
    images = rng.standard_normal((2, 1, 9, 11))
    for sigma in (0.5, 1.0, 1.7):
        expected = ndimage.gaussian_filter(
            images, sigma=(0, 0, sigma, sigma), mode="nearest", truncate=3.0
        )
        np.testing.assert_allclose(interpret.gaussian_blur(images, sigma), expected, atol=1e-12)
    np.testing.assert_array_equal(interpret.gaussian_blur(images, 0), images)


# ------------------------------------------------------------------------------ probes
def test_standardize_is_sklearns_standard_scaler(rng):
    train = rng.standard_normal((50, 6)) * [1, 2, 3, 4, 5, 6] + 7
    train[:, 2] = 4.0  # a constant feature (a dead unit): centred, not divided by zero
    test = rng.standard_normal((20, 6))
    scaler = StandardScaler().fit(train)
    train_z, test_z, mean, std = interpret.standardize(train, test)
    np.testing.assert_allclose(train_z, scaler.transform(train), atol=1e-12)
    np.testing.assert_allclose(test_z, scaler.transform(test), atol=1e-12)
    np.testing.assert_allclose(mean, scaler.mean_)
    assert std[2] == 0
    assert np.all(np.isfinite(test_z))


@pytest.mark.parametrize("layer", ["input", "maxpool2d_2", "dense_1"])
def test_probe_accuracy_is_close_to_sklearns_logistic_regression(pretrained, digits, layer):
    x, y = digits
    order = np.random.default_rng(0).permutation(len(x))
    train, test = order[:1000], order[1000:2000]
    chosen = x[order[:2000]]
    features = chosen if layer == "input" else interpret.feature_maps(pretrained, chosen, layer)
    features = features.reshape(2000, -1)
    weight_decay = 1e-3
    probe = interpret.linear_probe(
        features[:1000], y[train], features[1000:], y[test], weight_decay=weight_decay
    )
    train_z, test_z, _, _ = interpret.standardize(features[:1000], features[1000:])
    # the same penalty: mean cross-entropy + wd/2 |W|² is sklearn's C = 1 / (n · wd)
    sk = LogisticRegression(C=1 / (1000 * weight_decay), max_iter=2000).fit(train_z, y[train])
    expected = sk.score(test_z, y[test])
    assert abs(probe.test_accuracy - expected) < 0.03, (probe.test_accuracy, expected)
    assert abs(probe.train_accuracy - sk.score(train_z, y[train])) < 0.03
    predicted = probe.predict(features[1000:]).argmax(axis=1)
    assert np.mean(predicted == y[test]) == pytest.approx(probe.test_accuracy)


def test_probe_layers_covers_the_input_and_every_layer_that_computes(pretrained, digits):
    x, y = digits
    results = interpret.probe_layers(pretrained, x[:300], y[:300], x[300:500], y[300:500], epochs=3)
    names = [r.layer for r in results]
    assert names == [
        "input",
        "conv2d_1",
        "conv2d_2",
        "maxpool2d_1",
        "conv2d_3",
        "conv2d_4",
        "maxpool2d_2",
        "dense_1",
        "dense_2",
    ]
    assert results[0].features == 784
    assert results[-1].shape == (10,)
    assert results[1].features == 16 * 28 * 28
    assert all(0 <= r.test_accuracy <= 1 for r in results)
    # the network's own logits, read by a linear probe, classify like the network
    assert results[-1].test_accuracy > 0.9


# ------------------------------------------------------------------------- sanity checks
def test_randomize_weights_copies_and_redraws(pretrained):
    random = interpret.randomize_weights(pretrained, ["dense_2", 0], seed=1)
    original = dict(pretrained.parameters())
    changed = dict(random.parameters())
    for key in original:
        if key.startswith(("dense_2.", "conv2d_1.")):
            assert not np.array_equal(original[key], changed[key]), key
        else:
            np.testing.assert_array_equal(original[key], changed[key])
    ratio = changed["dense_2.weight"].std() / original["dense_2.weight"].std()
    assert 0.9 < ratio < 1.1
    assert np.all(changed["dense_2.bias"] == 0)
    every = interpret.randomize_weights(pretrained)
    assert every is not pretrained
    # by default every layer with weights is redrawn
    for key, value in every.parameters():
        assert not np.array_equal(original[key], value), key


# -------------------------------------------------------------------------- bad arguments
def test_unknown_layers_are_refused_with_the_list_of_layers(rng):
    model = small_cnn()
    x = rng.standard_normal((1, 2, 8, 8))
    with pytest.raises(ValueError, match=r"no layer 'conv9'; its layers are \['conv2d_1'"):
        interpret.grad_cam(model, x, 0, layer="conv9")
    with pytest.raises(ValueError, match="layer index 12 is out of range for a model of 8 layers"):
        interpret.feature_maps(model, x, 12)
    with pytest.raises(TypeError, match=r"by its name .* or its index"):
        interpret.feature_maps(model, x, 1.5)
    with pytest.raises(ValueError, match="no layer 'nope'"):
        interpret.activation_maximization(model, "nope", 0)


def test_classes_out_of_range_are_refused(rng):
    model = small_cnn()
    x = rng.standard_normal((2, 2, 8, 8))
    with pytest.raises(
        ValueError, match=r"target_class 5 is out of range: the model has 5 classes \(0 … 4\)"
    ):
        interpret.saliency_map(model, x, 5)
    with pytest.raises(ValueError, match="target_class -1 is out of range"):
        interpret.grad_cam(model, x, [0, -1])
    with pytest.raises(ValueError, match=r"one per image \(2\)"):
        interpret.input_gradient(model, x, [0, 1, 2])
    with pytest.raises(TypeError, match="integer class"):
        interpret.input_gradient(model, x, 1.5)
    with pytest.raises(
        ValueError, match=r"unit 6 is out of range: conv2d_2 has 6 channels \(0 … 5\)"
    ):
        interpret.activation_maximization(model, "conv2d_2", [0, 6])


def test_other_bad_arguments(rng):
    model = small_cnn()
    with pytest.raises(
        ValueError, match=r"x has shape \(2, 8, 8\); this model expects \(N, 2, 8, 8\)"
    ):
        interpret.saliency_map(model, rng.standard_normal((2, 8, 8)), 0)
    with pytest.raises(ValueError, match="Grad-CAM needs a layer with feature maps"):
        interpret.grad_cam(model, rng.standard_normal((1, 2, 8, 8)), 0, layer="dense_1")
    with pytest.raises(ValueError, match="does not come before the class scores"):
        interpret.layer_gradient(model, rng.standard_normal((1, 2, 8, 8)), "dense_2", 0)
    with pytest.raises(TypeError, match="cnnlib Sequential"):
        interpret.layer_outputs(object(), np.zeros((1, 2, 8, 8)))
    with pytest.raises(ValueError, match="1000 and 10 feature rows but 999 and 10 labels"):
        interpret.linear_probe(
            np.zeros((1000, 3)), np.zeros(999, int), np.zeros((10, 3)), np.zeros(10, int)
        )


# ------------------------------------------------------------------------------ copies
def test_a_float64_copy_predicts_like_the_original_and_leaves_it_alone(pretrained, digits):
    x = digits[0][:50]
    copy64 = interpret.with_dtype(pretrained, np.float64)
    assert copy64.dtype == np.float64
    assert all(value.dtype == np.float64 for _, value in copy64.parameters())
    assert all(value.dtype == np.float32 for _, value in pretrained.parameters())
    assert copy64.architecture()["layers"] == pretrained.architecture()["layers"]
    np.testing.assert_allclose(copy64.predict(x), pretrained.predict(x), rtol=1e-4, atol=1e-4)


def test_the_pretrained_input_gradient_matches_central_differences_in_float64(pretrained, digits):
    # faint noise breaks the exact ties of the blank background (max pooling, ReLU kinks),
    # where the network has no unique gradient; a pixel whose ±h step still crosses a kink
    # is possible, so nearly all (not all) pixels must agree
    model64 = interpret.with_dtype(pretrained, np.float64)
    x = digits[0][7:8].astype(np.float64)
    x = x + np.random.default_rng(1).uniform(0, 0.05, size=x.shape)
    label = int(digits[1][7])

    def score(images):
        return interpret.class_scores(model64, images)[0, label]

    numerical = numerical_gradient(score, x.copy(), eps=1e-7)
    analytic = interpret.input_gradient(model64, x, label)
    error = np.abs(analytic - numerical) / np.max(np.abs(numerical))
    assert np.mean(error < 1e-6) >= 0.99
    assert np.median(error) < 1e-8
