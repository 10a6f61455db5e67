"""cnnlib.datasets: IDX parsing, the download path against a real local HTTP server (with a
mirror that fails and a file that is corrupted), the bundled digits and the official files."""

from __future__ import annotations

import functools
import gzip
import hashlib
import http.server
import struct
import threading
from pathlib import Path

import numpy as np
import pytest

from cnnlib import datasets
from cnnlib.datasets import DatasetUnavailable, IDXFormatError

#: Digit counts of the official test set (10,000 images), as published with MNIST.
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def _idx_bytes(array: np.ndarray, code: int = 0x08) -> bytes:
    header = b"\x00\x00" + bytes([code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(datasets._IDX_TYPES[code]).tobytes()


def _write(path: Path, data: bytes, compress: bool = True) -> Path:
    path.write_bytes(gzip.compress(data) if compress else data)
    return path


# ------------------------------------------------------------------------------- IDX
def test_read_idx_round_trips_every_type(tmp_path):
    rng = np.random.default_rng(0)
    for code, dtype in datasets._IDX_TYPES.items():
        values = (rng.normal(size=(3, 4, 5)) * 50).astype(np.dtype(dtype).newbyteorder("="))
        path = _write(tmp_path / f"{code}.idx.gz", _idx_bytes(values, code))
        read = datasets.read_idx(path)
        assert read.dtype == values.dtype
        assert read.dtype.isnative
        np.testing.assert_array_equal(read, values)
    plain = _write(tmp_path / "plain.idx", _idx_bytes(np.arange(6, dtype=np.uint8)), False)
    np.testing.assert_array_equal(datasets.read_idx(plain), np.arange(6))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x01\x00\x08\x01\x00\x00\x00\x01x", "not an IDX file .*two zero bytes"),
        (b"\x00\x00\x07\x01\x00\x00\x00\x01x", "unknown IDX type code 0x07"),
        (b"\x00\x00\x08\x03\x00\x00", "header of 3 dimensions is cut short"),
        (
            b"\x00\x00\x08\x02\x00\x00\x00\x02\x00\x00\x00\x03abc",
            r"promises shape \(2, 3\).*3 bytes",
        ),
        (b"", "not an IDX file"),
    ],
)
def test_a_malformed_idx_file_is_named_with_what_is_wrong(tmp_path, data, message):
    with pytest.raises(IDXFormatError, match=message):
        datasets.read_idx(_write(tmp_path / "bad.gz", data))


def test_a_file_that_is_not_gzip_is_reported(tmp_path):
    path = tmp_path / "broken.gz"
    path.write_bytes(b"this is not gzip")
    with pytest.raises(IDXFormatError, match="not a readable gzip file"):
        datasets.read_idx(path)


# -------------------------------------------------------------- a real local HTTP server
class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # keep the test output clean
        pass


@pytest.fixture
def server(tmp_path):
    """An HTTP server on 127.0.0.1 serving tmp_path/www; yields its base URL."""
    root = tmp_path / "www"
    root.mkdir()
    handler = functools.partial(_QuietHandler, directory=str(root))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", root
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture
def small_mnist(monkeypatch, tmp_path):
    """A stand-in "test" split of 12 images: IDX files whose hashes cnnlib is told."""
    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, size=(12, 28, 28)).astype(np.uint8)
    labels = rng.integers(0, 10, size=12).astype(np.uint8)
    files = {
        "t10k-images-idx3-ubyte.gz": gzip.compress(_idx_bytes(images), mtime=0),
        "t10k-labels-idx1-ubyte.gz": gzip.compress(_idx_bytes(labels), mtime=0),
    }
    hashes = {name: hashlib.sha256(data).hexdigest() for name, data in files.items()}
    monkeypatch.setattr(datasets, "MNIST_FILES", {**datasets.MNIST_FILES, **hashes})
    monkeypatch.setitem(datasets._SPLITS, "test", (*files, 12))
    return files, images, labels


def test_download_falls_back_to_the_next_mirror_and_caches(server, small_mnist, tmp_path):
    url, root = server
    files, images, labels = small_mnist
    (root / "good").mkdir()
    for name, data in files.items():
        (root / "good" / name).write_bytes(data)
    cache = tmp_path / "cache"
    mirrors = [f"{url}/missing/", f"{url}/good/"]  # the first answers 404
    x, y = datasets.load_mnist("test", mirrors=mirrors, directory=cache)
    assert x.shape == (12, 1, 28, 28)
    assert x.dtype == np.float32
    np.testing.assert_array_equal(np.round(x[:, 0] * 255).astype(np.uint8), images)
    np.testing.assert_array_equal(y, labels)
    assert sorted(p.name for p in (cache / "mnist").iterdir()) == sorted(files)
    # cached: no server needed any more
    raw, _ = datasets.load_mnist("test", raw=True, mirrors=["http://127.0.0.1:9/"], directory=cache)
    np.testing.assert_array_equal(raw[:, 0], images)


def test_a_corrupted_download_is_detected_reported_and_not_cached(server, small_mnist, tmp_path):
    url, root = server
    files, _, _ = small_mnist
    for name, data in files.items():
        corrupted = bytearray(data)
        if "labels" in name:
            corrupted[-5] ^= 0xFF
        (root / name).write_bytes(bytes(corrupted))
    cache = tmp_path / "cache"
    with pytest.raises(DatasetUnavailable) as info:
        datasets.load_mnist("test", mirrors=[f"{url}/"], directory=cache)
    message = str(info.value)
    assert "t10k-labels-idx1-ubyte.gz" in message
    assert "hash" in message.lower()
    # the images were fine and stay cached; the corrupted labels were not kept, nor any temp file
    assert [p.name for p in (cache / "mnist").iterdir()] == ["t10k-images-idx3-ubyte.gz"]


def test_a_corrupted_cached_file_is_replaced(server, small_mnist, tmp_path):
    url, root = server
    files, _, labels = small_mnist
    for name, data in files.items():
        (root / name).write_bytes(data)
    cache = tmp_path / "cache" / "mnist"
    cache.mkdir(parents=True)
    (cache / "t10k-labels-idx1-ubyte.gz").write_bytes(b"half a download")
    _, y = datasets.load_mnist("test", mirrors=[f"{url}/"], directory=cache.parent)
    np.testing.assert_array_equal(y, labels)


def test_offline_and_not_cached_says_what_is_missing_and_how_to_fix_it(small_mnist, tmp_path):
    with pytest.raises(DatasetUnavailable) as info:
        datasets.load_mnist("test", mirrors=["http://127.0.0.1:9/"], directory=tmp_path)
    message = str(info.value)
    assert "t10k-images-idx3-ubyte.gz is not in" in message
    assert str(tmp_path / "mnist") in message
    assert "http://127.0.0.1:9/t10k-images-idx3-ubyte.gz" in message
    assert "CNNLIB_DATA_DIR" in message
    assert "SHA-256" in message


def test_the_cache_directory_comes_from_cnnlib_data_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("CNNLIB_DATA_DIR", str(tmp_path))
    assert datasets.data_dir() == tmp_path
    monkeypatch.delenv("CNNLIB_DATA_DIR")
    assert datasets.data_dir().name == "cnnlib"


def test_unknown_splits_and_files_are_refused():
    with pytest.raises(ValueError, match="unknown split 'valid'; choose 'train-5k', 'train'"):
        datasets.load_mnist("valid")
    with pytest.raises(ValueError, match=r"unknown file 'mnist\.zip'"):
        datasets.fetch("mnist.zip")


# ----------------------------------------------------------------- the real datasets
def test_load_digits_is_scikit_learns_digits_as_nchw():
    x, y = datasets.load_digits()
    assert x.shape == (1797, 1, 8, 8)
    assert x.dtype == np.float32
    assert (x.min(), x.max()) == (0.0, 1.0)
    assert y.dtype == np.int64
    assert np.bincount(y).tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
    raw, _ = datasets.load_digits(raw=True)
    assert raw.dtype == np.uint8
    assert raw.max() == 16
    np.testing.assert_allclose(x, raw / 16)


def test_the_bundled_5k_sample_has_500_of_each_digit():
    x, y = datasets.load_mnist("train-5k")
    assert x.shape == (5000, 1, 28, 28)
    assert x.dtype == np.float32
    assert np.bincount(y).tolist() == [500] * 10
    raw, _ = datasets.load_mnist("train-5k", raw=True)
    assert raw.dtype == np.uint8
    np.testing.assert_allclose(x, raw / np.float32(255))
    # digits: dark background, bright strokes, roughly centred in the 28×28 frame
    assert np.median(raw) == 0
    assert raw.max() == 255
    mass = x[:, 0].sum(axis=0)
    rows, cols = np.nonzero(mass > mass.max() * 0.05)
    assert 10 <= rows.mean() <= 18
    assert 10 <= cols.mean() <= 18


def _official_test_files_available() -> bool:
    directory = datasets.data_dir() / "mnist"
    return all((directory / name).exists() for name in datasets._SPLITS["test"][:2])


official = pytest.mark.skipif(
    not _official_test_files_available(),
    reason="the official MNIST test files are not cached here (CI points CNNLIB_DATA_DIR at "
    "them; elsewhere cnnlib.datasets.load_mnist('test') downloads them once)",
)


@official
def test_the_official_test_set_parses_into_its_published_counts():
    x, y = datasets.load_mnist("test")
    assert x.shape == (10_000, 1, 28, 28)
    assert np.bincount(y).tolist() == TEST_COUNTS
    assert y[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]  # the well-known first ten
    raw, _ = datasets.load_mnist("test", raw=True)
    assert raw.dtype == np.uint8
    assert raw.max() == 255


@official
def test_the_bundled_sample_is_not_in_the_test_set():
    test, _ = datasets.load_mnist("test", raw=True)
    sample, _ = datasets.load_mnist("train-5k", raw=True)
    seen = {image.tobytes() for image in test}
    assert not any(image.tobytes() in seen for image in sample)


@official
def test_the_real_files_download_from_a_local_mirror(server, tmp_path):
    url, root = server
    source = datasets.data_dir() / "mnist"
    for name in datasets._SPLITS["test"][:2]:
        (root / name).write_bytes((source / name).read_bytes())
    x, y = datasets.load_mnist("test", mirrors=[f"{url}/"], directory=tmp_path)
    assert np.bincount(y).tolist() == TEST_COUNTS
    assert x.shape[0] == 10_000


# ------------------------------------------------------------------ augmentation
def test_shift_images_moves_each_image_by_its_own_whole_pixel_shift():
    rng = np.random.default_rng(3)
    images = np.zeros((50, 2, 9, 9), dtype=np.float32)
    images[:, :, 4, 4] = np.arange(1, 51)[:, None]  # one bright pixel per image, in the centre
    shifted = datasets.shift_images(images, rng, max_shift=2)
    assert shifted.shape == images.shape
    assert shifted.dtype == np.float32
    moves = set()
    for n in range(50):
        rows, cols = np.nonzero(shifted[n, 0])
        assert len(rows) == 1  # moved, not blurred
        assert shifted[n, 0, rows[0], cols[0]] == n + 1
        assert np.array_equal(shifted[n, 1], shifted[n, 0])  # every channel alike
        moves.add((rows[0] - 4, cols[0] - 4))
    assert moves <= {(a, b) for a in range(-2, 3) for b in range(-2, 3)}
    assert len(moves) > 10  # the shifts vary


def test_shift_images_fills_with_zeros_and_zero_shift_is_the_identity():
    images = np.ones((20, 1, 5, 5))
    shifted = datasets.shift_images(images, np.random.default_rng(0), max_shift=1)
    assert set(np.unique(shifted)) <= {0.0, 1.0}
    assert np.all(shifted.sum(axis=(1, 2, 3)) >= 16)  # at most one row and one column lost
    same = datasets.shift_images(images, np.random.default_rng(0), max_shift=0)
    np.testing.assert_array_equal(same, images)
    with pytest.raises(ValueError, match=r"images must be \(N, C, H, W\)"):
        datasets.shift_images(np.ones((5, 5)), np.random.default_rng(0))
