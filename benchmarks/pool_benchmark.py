"""Benchmark cnnlib's max pooling against loops, a reshape reduction and PyTorch.

Usage::

    python benchmarks/pool_benchmark.py               # 1 thread, every shape
    python benchmarks/pool_benchmark.py --threads 2

For each shape ``(N, C, H, W, k, stride, pad)`` it times, float32, the forward pass and the
forward + backward pass of:

``loops``
    a window-by-window loop (one image, scaled to the batch) — the textbook version;
``reshape``
    ``x.reshape(N, C, H/k, k, W/k, k).max(axis=(3, 5))`` and an argmax over the same view
    for the backward pass — a common vectorisation, only possible for non-overlapping
    windows that tile the image (blank otherwise);
``cnnlib``
    :class:`cnnlib.layers.MaxPool2D` as a network runs it: ``forward(training=True)``
    records each window's winning tap, ``backward`` routes the gradient to it — k² strided
    slices and element-wise maxima, no copy of the windows;
``torch``
    ``torch.nn.functional.max_pool2d`` and its autograd backward (CPU), when installed.

Timing follows ``conv_benchmark.py`` (same process, same thread count, interleaved samples
each preceded by an untimed run, medians). The table reports milliseconds per call and the
ratio cnnlib ÷ torch.
"""

from __future__ import annotations

import argparse
import gc
import sys

from conv_benchmark import Case, blas_description, geomean, keep_freed_memory, measure

if __name__ == "__main__":
    keep_freed_memory()

import numpy as np  # after the allocator settings
from threadpoolctl import threadpool_limits

from cnnlib.layers import MaxPool2D

try:
    import torch
except ImportError:
    torch = None

SHAPES = [
    (64, 32, 28, 28, 2, 2, 0),  # after a first conv block
    (64, 64, 14, 14, 2, 2, 0),
    (256, 6, 24, 24, 2, 2, 0),  # LeNet-5
    (64, 96, 27, 27, 3, 2, 0),  # AlexNet's overlapping pooling
    (16, 64, 112, 112, 3, 2, 1),  # ResNet's stem, padded and overlapping
]
MODES = (("forward", "forward"), ("both", "forward + backward"))


def tiles(shape: tuple[int, ...]) -> bool:
    """Whether the windows tile the image exactly, so that the reshape version applies."""
    _, _, h, w, k, s, p = shape
    return k == s and p == 0 and h % k == 0 and w % k == 0


def loops_forward(x: np.ndarray, k: int, s: int, p: int) -> np.ndarray:
    padded = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)), constant_values=-np.inf)
    out_h = (padded.shape[2] - k) // s + 1
    out_w = (padded.shape[3] - k) // s + 1
    y = np.empty((*x.shape[:2], out_h, out_w), dtype=x.dtype)
    for i in range(out_h):
        for j in range(out_w):
            y[:, :, i, j] = padded[:, :, i * s : i * s + k, j * s : j * s + k].max(axis=(2, 3))
    return y


def loops_backward(dy: np.ndarray, x: np.ndarray, k: int, s: int, p: int) -> np.ndarray:
    padded = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)), constant_values=-np.inf)
    dx = np.zeros_like(padded)
    n, c, out_h, out_w = dy.shape
    images, channels = np.indices((n, c))
    for i in range(out_h):
        for j in range(out_w):
            window = padded[:, :, i * s : i * s + k, j * s : j * s + k].reshape(n, c, -1)
            first = window.argmax(axis=2)  # the first maximum, as PyTorch
            rows, cols = i * s + first // k, j * s + first % k
            dx[images, channels, rows, cols] += dy[:, :, i, j]  # (n, c) distinct targets
    return dx[:, :, p : p + x.shape[2], p : p + x.shape[3]]


def reshape_forward(x: np.ndarray, k: int) -> np.ndarray:
    n, c, h, w = x.shape
    return x.reshape(n, c, h // k, k, w // k, k).max(axis=(3, 5))


def reshape_both(x: np.ndarray, dy: np.ndarray, k: int) -> np.ndarray:
    n, c, h, w = x.shape
    windows = x.reshape(n, c, h // k, k, w // k, k).transpose(0, 1, 2, 4, 3, 5)
    flat = windows.reshape(n, c, h // k, w // k, k * k)
    winner = flat.argmax(axis=4)
    dx = np.zeros_like(flat)
    np.put_along_axis(dx, winner[..., None], dy[..., None], axis=4)
    return dx.reshape(n, c, h // k, w // k, k, k).transpose(0, 1, 2, 4, 3, 5).reshape(x.shape)


def make_case(shape: tuple[int, ...], rng: np.random.Generator) -> Case:
    n, c, h, w, k, s, p = shape
    x = rng.standard_normal((n, c, h, w), dtype=np.float32)
    layer = MaxPool2D(k, stride=s, padding=p)
    layer.build(x.shape[1:], dtype=np.float32)
    y = layer.forward(x)
    dy = rng.standard_normal(y.shape, dtype=np.float32)
    one, dy_one = x[:1], dy[:1]

    def ours_both() -> None:
        layer.forward(x, training=True)
        layer.backward(dy)

    runs = {
        "loops": {
            "forward": lambda: loops_forward(one, k, s, p),
            "both": lambda: (loops_forward(one, k, s, p), loops_backward(dy_one, one, k, s, p)),
        },
        "cnnlib": {"forward": lambda: layer.forward(x), "both": ours_both},
    }
    if tiles(shape):
        runs["reshape"] = {
            "forward": lambda: reshape_forward(x, k),
            "both": lambda: reshape_both(x, dy, k),
        }
    if torch is not None:
        xt = torch.from_numpy(x).requires_grad_()
        dyt = torch.from_numpy(dy)

        def torch_forward() -> None:
            with torch.no_grad():
                torch.nn.functional.max_pool2d(xt, k, s, p)

        def torch_both() -> None:
            out = torch.nn.functional.max_pool2d(xt, k, s, p)
            xt.grad = None
            out.backward(dyt)

        runs["torch"] = {"forward": torch_forward, "both": torch_both}
    return Case(shape, 0, runs, {"loops": float(n)})


def check_agreement(shape: tuple[int, ...], rng: np.random.Generator) -> None:
    """Every implementation gives the same forward and backward on a small batch."""
    _, c, h, w, k, s, p = shape
    x = rng.standard_normal((2, c, h, w), dtype=np.float32)
    layer = MaxPool2D(k, stride=s, padding=p)
    y = layer.forward(x, training=True)
    dy = rng.standard_normal(y.shape, dtype=np.float32)
    dx = layer.backward(dy)
    assert np.array_equal(loops_forward(x, k, s, p), y)
    assert np.allclose(loops_backward(dy, x, k, s, p), dx, atol=1e-6)
    if tiles(shape):
        assert np.array_equal(reshape_forward(x, k), y)
        assert np.array_equal(reshape_both(x, dy, k), dx)


def report(
    results: list[tuple[tuple[int, ...], dict[str, dict[str, float]]]], threads: int
) -> None:
    names = ["loops", "reshape", "cnnlib", "torch"]
    names = [n for n in names if any(n in seconds for _, seconds in results)]
    print(f"\nMax-pooling benchmark, float32, {threads} thread(s); median ms per call")
    print(f"NumPy {np.__version__} with {blas_description()}", end="")
    print(f"; PyTorch {torch.__version__}" if torch is not None else "")
    print("(loops: one image, scaled to the batch; reshape: non-overlapping windows only)\n")
    for mode, label in MODES:
        header = f"| {'N, C, H, W, k, s, p':<25} |" + "".join(f" {n:>9} |" for n in names)
        extra = " cnnlib ÷ torch |" if "torch" in names else ""
        print(f"{label}\n{header}{extra}")
        print("|" + "-" * 27 + "|" + "".join("-" * 11 + "|" for _ in names) + "-" * len(extra))
        for shape, seconds in results:
            row = f"| {', '.join(map(str, shape)):<25} |"
            for name in names:
                value = seconds.get(name, {}).get(mode)
                row += f" {value * 1e3:>9.2f} |" if value is not None else f" {'—':>9} |"
            if "torch" in names:
                row += f" {seconds['cnnlib'][mode] / seconds['torch'][mode]:>14.2f} |"
            print(row)
        print()
    if "torch" in names:
        for mode, label in MODES:
            ratios = [s["cnnlib"][mode] / s["torch"][mode] for _, s in results]
            print(
                f"cnnlib ÷ torch, {label}: "
                f"geometric mean {geomean(ratios):.2f}, worst {max(ratios):.2f}"
            )
    speedups = [s["loops"]["both"] / s["cnnlib"]["both"] for _, s in results]
    print(f"cnnlib vs loops, forward + backward: {geomean(speedups):,.0f}× faster (geometric mean)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--threads", type=int, default=1, help="threads (default 1)")
    parser.add_argument("--samples", type=int, default=15, help="timed samples per implementation")
    parser.add_argument("--loop-samples", type=int, default=1, help="samples of the loop version")
    args = parser.parse_args(argv)
    if torch is None:
        print("PyTorch is not installed: comparing cnnlib with loops and reshapes only.")
    else:
        torch.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    results = []
    with threadpool_limits(args.threads):
        for shape in SHAPES:
            check_agreement(shape, rng)
            case = make_case(shape, rng)
            results.append((shape, measure(case, args.samples, args.loop_samples)))
            del case
            gc.collect()
            print(f"measured {shape}", file=sys.stderr)
    report(results, args.threads)
    return 0


if __name__ == "__main__":
    sys.exit(main())
