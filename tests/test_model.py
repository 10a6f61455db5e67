"""cnnlib.Sequential: the same network as in PyTorch takes the same steps; summary and
parameter counts of the sources' CIFAR model; saving and loading; training that fails loudly."""

from __future__ import annotations

import os
import re
import signal

import numpy as np
import pytest
from oracles import torch_or_skip

import cnnlib as cl
from cnnlib import datasets
from cnnlib.layers import (
    Conv2D,
    Dense,
    Dropout,
    Flatten,
    GlobalAvgPool2D,
    MaxPool2D,
    ReLU,
    Sigmoid,
    Tanh,
)
from cnnlib.losses import BinaryCrossEntropy, CrossEntropy, MeanSquaredError
from cnnlib.model import TrainingDiverged
from cnnlib.optim import SGD, Adam


# ------------------------------------------------------------- PyTorch parity
def _tiny_cnn(dtype):
    """Conv → ReLU → Conv (32 → 8 channels: the Winograd path) → ReLU → MaxPool → Flatten →
    Dense → Tanh → Dense, on 2×8×8 inputs."""
    return cl.Sequential(
        [
            Conv2D(32, 3, padding=1),
            ReLU(),
            Conv2D(8, 3, padding=1),
            ReLU(),
            MaxPool2D(2),
            Flatten(),
            Dense(16),
            Tanh(),
            Dense(5),
        ],
        input_shape=(2, 8, 8),
        seed=3,
        dtype=dtype,
    )


def _same_in_torch(torch, model, dtype):
    nn = torch.nn
    net = nn.Sequential(
        nn.Conv2d(2, 32, 3, padding=1),
        nn.ReLU(),
        nn.Conv2d(32, 8, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(128, 16),
        nn.Tanh(),
        nn.Linear(16, 5),
    ).to(torch.float64 if dtype == np.float64 else torch.float32)
    ours = [value for _, value in model.parameters()]
    theirs = list(net.parameters())
    assert [p.shape for p in ours] == [tuple(t.shape) for t in theirs]
    with torch.no_grad():
        for mine, tensor in zip(ours, theirs, strict=True):
            tensor.copy_(torch.tensor(mine))
    return net


OPTIMIZERS = {
    "sgd": (lambda: SGD(0.1), lambda torch, p: torch.optim.SGD(p, 0.1)),
    "sgd-nesterov-wd": (
        lambda: SGD(0.05, momentum=0.9, nesterov=True, weight_decay=1e-3),
        lambda torch, p: torch.optim.SGD(p, 0.05, momentum=0.9, nesterov=True, weight_decay=1e-3),
    ),
    "adam": (lambda: Adam(0.01), lambda torch, p: torch.optim.Adam(p, 0.01)),
}

#: Relative tolerance on every loss and on every final weight array (norm-wise). float64
#: agrees to rounding (measured 2e-14). float32 sums in a different order (GEMM, Winograd,
#: oneDNN), and eight large momentum steps on noise amplify those roundings (measured 1e-4
#: for Nesterov with lr 0.05, 2e-5 for SGD, 1e-6 for Adam), so 5e-4.
TOLERANCE = {np.float64: 1e-10, np.float32: 5e-4}


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_a_tiny_cnn_takes_the_same_steps_as_pytorch(name, dtype):
    torch = torch_or_skip()
    make_ours, make_theirs = OPTIMIZERS[name]
    model = _tiny_cnn(dtype)
    net = _same_in_torch(torch, model, dtype)
    model.compile(loss=CrossEntropy(), optimizer=make_ours())
    optimizer = make_theirs(torch, net.parameters())
    rng = np.random.default_rng(7)
    ours_losses, their_losses = [], []
    for _ in range(8):
        x = rng.normal(size=(6, 2, 8, 8)).astype(dtype)
        y = rng.integers(0, 5, 6)
        ours_losses.append(model.train_on_batch(x, y))
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(net(torch.tensor(x)), torch.tensor(y))
        loss.backward()
        optimizer.step()
        their_losses.append(loss.item())
    tolerance = TOLERANCE[dtype]
    np.testing.assert_allclose(ours_losses, their_losses, rtol=tolerance)
    for (key, mine), tensor in zip(model.parameters(), net.parameters(), strict=True):
        theirs = tensor.detach().numpy()
        error = np.linalg.norm(mine - theirs) / np.linalg.norm(theirs)
        assert error <= tolerance, f"{key}: relative error {error:.1e} (norm-wise)"


def test_a_binary_classifier_takes_the_same_steps_as_pytorch():
    torch = torch_or_skip()
    model = cl.Sequential([Dense(6), ReLU(), Dense(1)], input_shape=(4,), seed=1, dtype="float64")
    net = torch.nn.Sequential(
        torch.nn.Linear(4, 6), torch.nn.ReLU(), torch.nn.Linear(6, 1)
    ).double()
    with torch.no_grad():
        for (_, mine), tensor in zip(model.parameters(), net.parameters(), strict=True):
            tensor.copy_(torch.tensor(mine))
    model.compile(BinaryCrossEntropy(from_logits=True), SGD(0.5, momentum=0.5))
    optimizer = torch.optim.SGD(net.parameters(), 0.5, momentum=0.5)
    rng = np.random.default_rng(2)
    for _ in range(6):
        x, y = rng.normal(size=(10, 4)), rng.integers(0, 2, (10, 1)).astype(float)
        ours = model.train_on_batch(x, y)
        optimizer.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(
            net(torch.tensor(x)), torch.tensor(y)
        )
        loss.backward()
        optimizer.step()
        assert ours == pytest.approx(loss.item(), rel=1e-12)


# ------------------------------------------------------------ the CIFAR model
def test_the_cifar_models_shapes_and_parameter_count(capsys):
    model = cl.architectures.cifar_cnn()  # the sources' Keras CIFAR-10 model
    shapes = [layer.output_shape for layer in model.layers]
    assert shapes == [
        (32, 30, 30),
        (32, 15, 15),
        (64, 13, 13),
        (64, 6, 6),
        (64, 4, 4),
        (1024,),
        (64,),
        (10,),
    ]
    # by hand: (k·k·C_in + 1)·F per conv, (inputs + 1)·units per dense
    by_hand = (9 * 3 + 1) * 32 + (9 * 32 + 1) * 64 + (9 * 64 + 1) * 64 + (1024 + 1) * 64
    by_hand += (64 + 1) * 10
    assert model.count_params() == by_hand == 122_570
    model.summary()
    printed = capsys.readouterr().out
    assert "Total params: 122,570" in printed
    for shape, params in [("(32, 30, 30)", "896"), ("(1024,)", "0"), ("(64,)", "65,600")]:
        assert re.search(rf"{re.escape(shape)}\s+{params}\s", printed), (shape, params)
    # activation memory per image, float32: 32·30·30·4 bytes = 112.5 KiB for the first layer
    assert "112.5 KiB" in printed


def test_a_layer_that_cannot_take_the_shape_is_named_with_both_shapes():
    with pytest.raises(ValueError, match=r"dense_x \(Dense\).*\(N, 8, 4, 4\).*Flatten"):
        cl.Sequential([Conv2D(8, 3), Dense(3, name="dense_x")], input_shape=(1, 6, 6))
    with pytest.raises(ValueError, match=r"too_big \(Conv2D\)"):
        cl.Sequential([MaxPool2D(2), Conv2D(3, 5, name="too_big")], input_shape=(1, 6, 6))


def _gap_model():
    return cl.Sequential(
        [Conv2D(4, 3, activation="relu"), MaxPool2D(2), Conv2D(5, 3), GlobalAvgPool2D()],
        input_shape=(2, 10, 10),
        seed=3,
    )


def test_with_input_shape_runs_a_global_pooling_model_on_larger_images():
    torch = torch_or_skip()
    small = _gap_model()
    large = small.with_input_shape((2, 17, 23))
    assert large.input_shape == (2, 17, 23)
    assert large.output_shape == (5,)
    assert [layer.name for layer in large.layers] == [layer.name for layer in small.layers]
    x = np.random.default_rng(0).normal(size=(3, 2, 17, 23)).astype(np.float32)
    conv1, conv2 = small.layers[0], small.layers[2]
    t = lambda a: torch.from_numpy(np.asarray(a))  # noqa: E731
    hidden = torch.relu(
        torch.nn.functional.conv2d(t(x), t(conv1.params["weight"]), t(conv1.params["bias"]))
    )
    hidden = torch.nn.functional.max_pool2d(hidden, 2)
    out = torch.nn.functional.conv2d(hidden, t(conv2.params["weight"]), t(conv2.params["bias"]))
    np.testing.assert_allclose(large.predict(x), out.mean(dim=(2, 3)).numpy(), rtol=1e-5, atol=1e-6)


def test_with_input_shape_copies_the_weights_and_leaves_the_model_alone():
    small = _gap_model()
    before = [value.copy() for _, value in small.parameters()]
    large = small.with_input_shape((2, 12, 12))
    for (_, value), (_, copied) in zip(small.parameters(), large.parameters(), strict=True):
        assert not np.shares_memory(value, copied)
        copied += 1.0
    for (_, value), old in zip(small.parameters(), before, strict=True):
        np.testing.assert_array_equal(value, old)
    assert small.input_shape == (2, 10, 10)


def test_a_float64_copy_predicts_what_the_model_does():
    model = _gap_model()
    double = model.copy(np.float64)
    assert double.dtype == np.float64
    assert all(value.dtype == np.float64 for _, value in double.parameters())
    assert model.copy().dtype == np.float32
    x = np.random.default_rng(1).normal(size=(4, 2, 10, 10))
    np.testing.assert_allclose(double.predict(x), model.predict(x), rtol=1e-5, atol=1e-6)
    with pytest.raises(RuntimeError, match="copy"):
        cl.Sequential([Conv2D(2, 3)]).copy()


def test_with_input_shape_names_the_dense_layer_that_fixes_the_size():
    model = cl.Sequential([Conv2D(4, 3), Flatten(), Dense(3, name="head")], input_shape=(1, 8, 8))
    with pytest.raises(
        ValueError, match=r"head\.weight \(layer 2\).*\(3, 144\).*\(3, 256\).*GlobalAvgPool2D"
    ):
        model.with_input_shape((1, 10, 10))
    with pytest.raises(ValueError, match=r"cannot take this shape"):
        _gap_model().with_input_shape((2, 5, 5))
    with pytest.raises(RuntimeError, match="with_input_shape"):
        cl.Sequential([Conv2D(2, 3)]).with_input_shape((1, 8, 8))


# ------------------------------------------------------------------ training
def _bars(n, seed):
    """Horizontal (class 0) vs vertical (class 1) bars in noise: learnable in a few epochs."""
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 0.3, size=(n, 1, 8, 8)).astype(np.float32)
    y = rng.integers(0, 2, n)
    where = rng.integers(1, 7, n)
    for i in range(n):
        if y[i] == 0:
            x[i, 0, where[i], :] += 1.5
        else:
            x[i, 0, :, where[i]] += 1.5
    return x, y


def _small_model(seed=0):
    model = cl.Sequential(
        [Conv2D(4, 3, activation="relu"), MaxPool2D(2), Flatten(), Dense(2)],
        input_shape=(1, 8, 8),
        seed=seed,
    )
    model.compile(loss=CrossEntropy(), optimizer=Adam(0.01))
    return model


def test_fit_learns_and_reports_per_epoch_metrics():
    x, y = _bars(256, seed=0)
    xv, yv = _bars(128, seed=1)
    model = _small_model()
    history = model.fit(x, y, epochs=8, batch_size=32, validation_data=(xv, yv), progress=False)
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy", "lr", "time"}
    assert history.epochs == 8
    assert history["loss"][-1] < history["loss"][0]
    metrics = model.evaluate(xv, yv)
    assert metrics["accuracy"] >= 0.95
    assert metrics == pytest.approx(
        {"loss": history["val_loss"][-1], "accuracy": history["val_accuracy"][-1]}
    )
    predicted = model.predict(xv).argmax(axis=1)
    assert np.mean(predicted == yv) == pytest.approx(metrics["accuracy"])
    # other batch sizes may round differently in the last bit (BLAS blocks by size)
    np.testing.assert_allclose(model.predict(xv, batch_size=7), model(xv), rtol=1e-5, atol=1e-6)


def test_training_twice_with_the_same_seed_gives_the_same_history():
    x, y = _bars(96, seed=0)
    runs = []
    for _ in range(2):
        model = _small_model(seed=5)
        model.layers.insert(3, Dropout(0.3))
        model.build((1, 8, 8))
        history = model.fit(x, y, epochs=2, batch_size=16, progress=False)
        runs.append({k: v for k, v in history.history.items() if k != "time"})
    assert runs[0] == runs[1]
    other = _small_model(seed=6).fit(x, y, epochs=2, batch_size=16, progress=False)
    assert other["loss"] != runs[0]["loss"]


def test_the_progress_bar_is_shown_and_can_be_turned_off(capsys):
    x, y = _bars(64, seed=0)
    model = _small_model()
    model.fit(x, y, epochs=2, batch_size=32)
    assert "epoch 2/2" in capsys.readouterr().err
    model.fit(x, y, epochs=1, batch_size=32, progress=False)
    captured = capsys.readouterr()
    assert captured.err == captured.out == ""


def test_a_schedule_sets_the_learning_rate_per_epoch():
    x, y = _bars(32, seed=0)
    history = _small_model().fit(
        x, y, epochs=3, batch_size=16, progress=False, schedule=lambda e: 0.01 / (e + 1)
    )
    assert history["lr"] == pytest.approx([0.01, 0.005, 0.01 / 3])


def test_ctrl_c_stops_after_the_current_step_and_keeps_the_history(capsys):
    x, y = _bars(64, seed=0)
    model = _small_model()

    def schedule(epoch):
        if epoch == 2:
            os.kill(os.getpid(), signal.SIGINT)  # as if the user pressed Ctrl-C
        return 0.01

    history = model.fit(x, y, epochs=5, batch_size=16, progress=False, schedule=schedule)
    assert history.interrupted
    assert history.epochs == 2
    assert "Training interrupted in epoch 3 after 0 of 4 batches" in capsys.readouterr().out
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_a_nan_loss_stops_training_and_names_the_epoch_and_batch():
    x, y = _bars(100, seed=0)
    x[70, 0, 3, 3] = np.nan  # sample 70 is in batch 3 of 4 (batches of 32, in order)
    model = _small_model()
    twin = _small_model()
    with pytest.raises(TrainingDiverged, match=r"loss became nan in epoch 1, batch 3 of 4"):
        model.fit(x, y, epochs=2, batch_size=32, shuffle=False, progress=False)
    # the weights are those after batch 2: the bad step was not taken
    twin.train_on_batch(x[:32], y[:32])
    twin.train_on_batch(x[32:64], y[32:64])
    for (key, a), (_, b) in zip(model.parameters(), twin.parameters(), strict=True):
        assert np.array_equal(a, b), key


def test_a_diverging_learning_rate_is_caught():
    x, y = _bars(64, seed=0)
    model = cl.Sequential([Flatten(), Dense(2)], input_shape=(1, 8, 8))
    model.compile(MeanSquaredError(), SGD(lr=50.0))
    onehot = np.eye(2)[y]
    with (
        np.errstate(over="ignore", invalid="ignore"),
        pytest.raises(TrainingDiverged, match=r"in epoch \d+, batch \d+ of 4.*smaller learning"),
    ):
        model.fit(x, onehot, epochs=50, batch_size=16, progress=False)


def test_a_sigmoid_classifier_reports_binary_accuracy():
    x, y = _bars(128, seed=3)
    model = cl.Sequential(
        [Conv2D(4, 3, activation="relu"), GlobalAvgPool2D(), Dense(1), Sigmoid()],
        input_shape=(1, 8, 8),
    )
    model.compile(BinaryCrossEntropy(), Adam(0.05))
    labels = y.reshape(-1, 1).astype(np.float32)
    model.fit(x, labels, epochs=8, batch_size=16, progress=False)
    metrics = model.evaluate(x, labels)
    expected = np.mean((model.predict(x)[:, 0] > 0.5) == (y == 1))
    assert metrics["accuracy"] == pytest.approx(expected)


# ------------------------------------------------------------------ bad input
def test_a_model_must_be_compiled_first():
    model = cl.Sequential([Flatten(), Dense(2)], input_shape=(1, 4, 4))
    x, y = np.zeros((2, 1, 4, 4)), np.array([0, 1])
    for call in (model.fit, model.evaluate, model.train_on_batch):
        with pytest.raises(RuntimeError, match=r"compile the model first.*model.compile\("):
            call(x, y)


def test_x_and_y_must_have_the_same_length():
    model = _small_model()
    with pytest.raises(ValueError, match="fit: x has 4 samples but y has 3 targets"):
        model.fit(np.zeros((4, 1, 8, 8)), [0, 1, 0], progress=False)
    with pytest.raises(ValueError, match="y has a scalar"):
        model.train_on_batch(np.zeros((4, 1, 8, 8)), 1)


def test_empty_and_misshapen_inputs_are_refused():
    model = _small_model()
    with pytest.raises(ValueError, match=r"fit: x is empty \(shape \(0, 1, 8, 8\)\)"):
        model.fit(np.zeros((0, 1, 8, 8)), np.zeros(0, dtype=int), progress=False)
    with pytest.raises(ValueError, match=r"predict: x has shape \(3, 8, 8\); .*\(N, 1, 8, 8\)"):
        model.predict(np.zeros((3, 8, 8)))
    with pytest.raises(TypeError, match="expected numbers"):
        model.predict(np.array([["a"]]))


def test_labels_out_of_range_are_named_during_fit():
    model = _small_model()
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 2\).*label 2 at index 1"):
        model.fit(np.zeros((3, 1, 8, 8)), [0, 2, 1], shuffle=False, progress=False)


def test_bad_arguments_to_fit_and_constructor():
    model = _small_model()
    x, y = _bars(8, seed=0)
    with pytest.raises(ValueError, match="fit: batch_size must be positive, got 0"):
        model.fit(x, y, batch_size=0)
    with pytest.raises(TypeError, match="fit: epochs must be an integer"):
        model.fit(x, y, epochs=2.5)
    with pytest.raises(TypeError, match=r"write Conv2D\(32, 3\), not Conv2D"):
        cl.Sequential([Conv2D])
    relu = ReLU()
    with pytest.raises(ValueError, match="layer names must be unique"):
        cl.Sequential([relu, relu])
    with pytest.raises(ValueError, match="at least one layer"):
        cl.Sequential([])
    with pytest.raises(TypeError, match=r"loss must be a cnnlib\.losses\.Loss"):
        model.compile("crossentropy", Adam())
    with pytest.raises(RuntimeError, match="not built yet"):
        cl.Sequential([Dense(2)]).count_params()


def test_a_model_without_input_shape_is_built_on_its_first_batch():
    model = cl.Sequential([Conv2D(3, 3), Flatten(), Dense(2)])
    assert not model.built
    assert model.predict(np.zeros((2, 1, 5, 5))).shape == (2, 2)
    assert model.input_shape == (1, 5, 5)
    assert model.count_params() == 3 * 9 + 3 + 27 * 2 + 2


# ------------------------------------------------------------- save and load
def test_save_and_load_round_trip(tmp_path):
    x, y = _bars(64, seed=0)
    model = cl.Sequential(
        [
            Conv2D(4, (3, 2), stride=(1, 2), padding="same", activation="relu"),
            MaxPool2D(2),
            Dropout(0.2),
            Flatten(),
            Dense(3, activation="tanh"),
            Dense(2),
        ],
        input_shape=(1, 8, 8),
    )
    model.compile(CrossEntropy(), Adam(0.01))
    model.fit(x, y, epochs=1, batch_size=16, progress=False)
    path = model.save(tmp_path / "model.npz")
    loaded = cl.Sequential.load(path)
    assert [repr(a) for a in loaded.layers] == [repr(b) for b in model.layers]
    assert [a.name for a in loaded.layers] == [b.name for b in model.layers]
    assert np.array_equal(loaded.predict(x), model.predict(x))
    with np.load(path, allow_pickle=False) as data:  # plain arrays, no pickle
        assert all(data[key].dtype != object for key in data.files)


def test_load_weights_refuses_a_different_architecture(tmp_path):
    path = _small_model().save(tmp_path / "small.npz")
    other = cl.Sequential(
        [Conv2D(8, 3, activation="relu"), MaxPool2D(2), Flatten(), Dense(2)],
        input_shape=(1, 8, 8),
    )
    with pytest.raises(ValueError, match=r"differs at layer 0: the file has Conv2D\(filters=4"):
        other.load_weights(path)
    shorter = cl.Sequential([Conv2D(4, 3, activation="relu"), MaxPool2D(2)], input_shape=(1, 8, 8))
    with pytest.raises(ValueError, match=r"differs at layer 2: the file has Flatten.*no layer"):
        shorter.load_weights(path)
    wider = cl.Sequential([Flatten(), Dense(2)], input_shape=(1, 9, 9))
    with pytest.raises(ValueError, match=r"saved for inputs \(1, 8, 8\).*takes \(1, 9, 9\)"):
        wider.load_weights(path)
    same = _small_model(seed=9)
    same.load_weights(path)
    assert np.array_equal(
        same.predict(np.ones((1, 1, 8, 8))), _small_model().predict(np.ones((1, 1, 8, 8)))
    )


def test_load_refuses_files_it_did_not_write(tmp_path):
    plain = tmp_path / "plain.npz"
    np.savez(plain, weights=np.zeros(3))
    with pytest.raises(ValueError, match=r"not a model saved by cnnlib\.Sequential\.save"):
        cl.Sequential.load(plain)
    pickled = tmp_path / "pickled.npz"
    np.savez(pickled, __architecture__=np.array([{"evil": 1}], dtype=object))
    with pytest.raises(ValueError, match="allow_pickle"):
        cl.Sequential.load(pickled)
    path = _small_model().save(tmp_path / "small.npz")
    with np.load(path) as data:
        arrays = dict(data)
    arrays["7.weight"] = np.zeros(2)
    tampered = tmp_path / "tampered.npz"
    np.savez(tampered, **arrays)
    with pytest.raises(
        ValueError, match=r"weights for parameters this model does not have: \['7.weight'\]"
    ):
        cl.Sequential.load(tampered)
    arrays.pop("7.weight")
    arrays["3.weight"] = np.zeros((2, 5))
    np.savez(tampered, **arrays)
    with pytest.raises(
        ValueError, match=r"dense_\d+\.weight \(layer 3\) has shape \(2, 5\) in the"
    ):
        cl.Sequential.load(tampered)


def test_augment_transforms_every_training_batch_with_the_models_generator():
    x, y = _bars(64, seed=0)
    seen = []

    def flip(batch, rng):
        seen.append((batch.shape, type(rng).__name__))
        return batch[:, :, ::-1, :]

    model = _small_model()
    model.fit(x, y, epochs=2, batch_size=16, progress=False, augment=flip)
    assert seen == [((16, 1, 8, 8), "Generator")] * 8
    first = _small_model(seed=1).fit(
        x, y, epochs=1, batch_size=16, progress=False, augment=datasets.shift_images
    )
    again = _small_model(seed=1).fit(
        x, y, epochs=1, batch_size=16, progress=False, augment=datasets.shift_images
    )
    assert first["loss"] == again["loss"]  # the shifts come from the model's seed
    with pytest.raises(ValueError, match=r"augment turned a batch of shape \(16, 1, 8, 8\) into"):
        model.fit(x, y, batch_size=16, progress=False, augment=lambda b, rng: b[:, :, :4])


def _relu_pool_model() -> cl.Sequential:
    """Two convolution-ReLU + max-pooling pairs (one with overlapping, padded windows)."""
    return cl.Sequential(
        [
            Conv2D(4, 3, padding=1, activation="relu"),
            MaxPool2D(2),
            Conv2D(3, 3, activation="relu"),
            MaxPool2D(3, stride=2, padding=1),
            Flatten(),
            Dense(5),
        ],
        input_shape=(2, 10, 10),
        dtype=np.float64,
    )


@pytest.mark.parametrize("blowup", [None, np.inf, np.nan])
def test_a_relu_convolution_before_max_pooling_gives_the_layers_own_numbers(blowup):
    """Sequential runs Conv2D(relu) → MaxPool2D as convolution → pooling → ReLU (they commute);
    outputs and gradients must be those of the layers called one by one, bit for bit, with
    ties and all-negative windows (the inputs are rounded) and infinite or NaN gradients."""
    model = _relu_pool_model()
    units = model._units()
    assert [type(unit).__name__ for unit in units] == ["PoolThenReLU"] * 2 + ["Flatten", "Dense"]
    rng = np.random.default_rng(3)
    x = rng.normal(size=(4, 2, 10, 10)).round(1)
    model.layers[0].params["bias"][0] = -50.0  # every window of filter 0: a negative maximum
    y = model._forward(x, training=True)
    dy = rng.normal(size=y.shape)
    if blowup is not None:
        dy[1, 2] = blowup
    with np.errstate(invalid="ignore", over="ignore"):
        model._backward(dy)
    fused = {
        f"{layer.name}.{name}": grad.copy()
        for layer in model.layers
        for name, grad in layer.grads.items()
    }
    h = x
    for layer in model.layers:  # one by one: each convolution applies its own ReLU
        h = layer.forward(h, training=True)
    np.testing.assert_array_equal(h, y)
    g = dy
    with np.errstate(invalid="ignore", over="ignore"):
        for layer in reversed(model.layers):
            g = layer.backward(g)
    apart = {
        f"{layer.name}.{name}": grad for layer in model.layers for name, grad in layer.grads.items()
    }
    assert len(fused) == 6
    assert fused.keys() == apart.keys()
    for name, value in fused.items():
        np.testing.assert_array_equal(value, apart[name], err_msg=name)
    assert np.all(model.layers[0].forward(x) >= 0)  # alone, a convolution keeps its ReLU


def test_a_changed_activation_is_seen_by_the_passes():
    model = _relu_pool_model()
    x = np.random.default_rng(4).normal(size=(2, 2, 10, 10))
    model.predict(x)
    model.layers[0].activation = None  # no ReLU any more: nothing to move after the pooling
    assert model._units()[0] is model.layers[0]
    h = x
    for layer in model.layers:
        h = layer.forward(h)
    np.testing.assert_array_equal(model.predict(x), h)


def test_a_subclassed_convolution_is_left_alone():
    class Custom(Conv2D):  # may compute anything: the passes must call it as it is
        pass

    model = cl.Sequential([Custom(2, 3, activation="relu"), MaxPool2D(2)], input_shape=(1, 6, 6))
    assert model._units() == model.layers
