"""The MNIST CNN shipped in cnnlib/pretrained: what tools/train_mnist_cnn.py says it is, as
accurate as the package claims (checked here on the official test set), and installed with
the package."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
import zipfile
from fnmatch import fnmatch
from importlib import resources
from pathlib import Path

import numpy as np
import pytest
from notebooks import ROOT
from test_datasets import official
from train_mnist_cnn import build_model

from cnnlib import datasets, metrics
from cnnlib.pretrained import load_mnist_cnn, weights_path


@pytest.fixture(scope="module")
def model():
    return load_mnist_cnn()


def test_it_loads_with_the_architecture_of_the_training_script(model):
    assert model.architecture() == build_model(seed=0).architecture()
    assert model.input_shape == (1, 28, 28)
    assert model.output_shape == (10,)
    assert model.count_params() == 117_434


def test_the_file_is_small_float32_and_not_the_untrained_weights(model):
    path = weights_path()
    assert path.stat().st_size < 600 * 1024
    fresh = dict(build_model(seed=0).parameters())
    for name, value in model.parameters():
        assert value.dtype == np.float32, name
        assert not np.array_equal(value, fresh[name]), f"{name} was never trained"


def test_it_classifies_the_bundled_training_sample(model):
    x, y = datasets.load_mnist("train-5k")
    assert metrics.accuracy(model.predict(x), y) >= 0.98


@official
def test_it_reaches_98_percent_on_the_official_test_set(model):
    x, y = datasets.load_mnist("test")
    predicted = model.predict(x).argmax(axis=1)
    # counted by hand rather than with cnnlib.metrics: an independent check of the claim
    correct = sum(int(p == t) for p, t in zip(predicted.tolist(), y.tolist(), strict=True))
    assert correct / 10_000 >= 0.98


def test_the_weights_are_package_data():
    shipped = resources.files("cnnlib.pretrained").joinpath("mnist_cnn.npz")
    assert shipped.is_file()
    assert weights_path() == Path(str(shipped)), "the default is the shipped MNIST CNN"
    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"][
        "setuptools"
    ]["package-data"]["cnnlib"]
    assert any(fnmatch("pretrained/mnist_cnn.npz", pattern) for pattern in patterns)


def test_an_unknown_weights_file_is_refused_with_what_ships():
    with pytest.raises(
        FileNotFoundError, match=r"no weights file 'vgg.npz'; shipped: \['mnist_cnn.npz'\]"
    ):
        weights_path("vgg.npz")


@pytest.mark.slow
def test_a_built_wheel_contains_the_weights(tmp_path):
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(
        ROOT / "cnnlib", source / "cnnlib", ignore=shutil.ignore_patterns("__pycache__")
    )
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--quiet",
            "--disable-pip-version-check",
            "-w",
            str(tmp_path / "dist"),
            str(source),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = (tmp_path / "dist").glob("cnnlib-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        assert "cnnlib/pretrained/mnist_cnn.npz" in archive.namelist()
        assert "cnnlib/pretrained/__init__.py" in archive.namelist()
