"""Benchmark cnnlib's convolution against loops and PyTorch, in one process.

Usage::

    python benchmarks/conv_benchmark.py                 # 1 thread, all seven shapes
    python benchmarks/conv_benchmark.py --threads 2 --samples 15

For each shape ``(N, C, H, W, F, k, stride, pad, dilation)`` it times, float32:

``loops``
    :func:`cnnlib.conv.conv2d_naive` (+ ``conv2d_backward_naive``) on one image, scaled
    to the batch — the version a learner writes first;
``positionwise``
    one matrix product per output position (the sources' vectorised code);
``fast``
    :func:`cnnlib.conv.conv2d_forward` + :func:`cnnlib.conv.conv2d_backward_columns`
    with a :class:`cnnlib.conv.Workspace`, as a layer uses them;
``torch``
    ``torch.nn.functional.conv2d`` and its autograd backward (CPU), when installed.

Samples are interleaved (one run of each implementation per round) and every sample is
preceded by one untimed run of the same implementation, so that caches, allocator state
and idle BLAS/OpenMP threads treat everybody alike. Each implementation runs with the same
number of threads (threadpoolctl for NumPy's BLAS, ``torch.set_num_threads``). The table
reports median times, the ratio fast ÷ torch and effective GFLOP/s (2·MACs of the forward
pass; forward + backward counts three times that).

On machines where page faults are expensive, large temporary arrays dominate timings; the
script re-executes itself with glibc's malloc told to keep freed memory
(``MALLOC_MMAP_THRESHOLD_``, ``MALLOC_TRIM_THRESHOLD_``), for every implementation alike.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

MALLOC_SETTINGS = {"MALLOC_MMAP_THRESHOLD_": "33554432", "MALLOC_TRIM_THRESHOLD_": "4294967296"}


def keep_freed_memory() -> None:
    """Re-execute this script with glibc's malloc told to keep freed memory (see above).

    glibc reads these settings when the process starts, hence the re-execution; a script
    calls this first thing under ``if __name__ == "__main__"``.
    """
    if any(os.environ.get(k) != v for k, v in MALLOC_SETTINGS.items()):
        os.environ.update(MALLOC_SETTINGS)
        os.execv(sys.executable, [sys.executable, *sys.argv])


if __name__ == "__main__":
    keep_freed_memory()

import numpy as np  # noqa: E402 - after the allocator settings
from threadpoolctl import threadpool_info, threadpool_limits  # noqa: E402

from cnnlib import conv  # noqa: E402

try:
    import torch
except ImportError:  # the benchmark still compares cnnlib with its own loops
    torch = None

SHAPES = [
    (64, 1, 28, 28, 6, 5, 1, 0, 1),
    (64, 6, 12, 12, 16, 5, 1, 0, 1),
    (64, 3, 32, 32, 32, 3, 1, 1, 1),
    (64, 32, 16, 16, 64, 3, 1, 1, 1),
    (8, 64, 56, 56, 64, 3, 1, 1, 1),
    (64, 16, 32, 32, 32, 3, 2, 1, 1),
    (64, 16, 32, 32, 32, 3, 1, 2, 2),
]
TARGET_GEOMEAN, TARGET_WORST = 1.5, 2.5


@dataclass
class Case:
    """One shape with its arrays and the callables to time."""

    shape: tuple[int, ...]
    flops: int
    runs: dict[str, dict[str, Callable[[], object]]]
    scale: dict[str, float]


@dataclass
class Result:
    """The medians measured for one shape (the arrays themselves are freed)."""

    shape: tuple[int, ...]
    flops: int
    seconds: dict[str, dict[str, float]]


def make_case(shape: tuple[int, ...], rng: np.random.Generator) -> Case:
    n, c, h, w, f, k, s, p, d = shape
    x = rng.standard_normal((n, c, h, w), dtype=np.float32)
    weights = rng.standard_normal((f, c, k, k), dtype=np.float32) * np.float32(0.1)
    bias = rng.standard_normal(f, dtype=np.float32)
    workspace = conv.Workspace()
    y, _ = conv.conv2d_forward(x, weights, bias, s, p, d, workspace=workspace)
    dy = rng.standard_normal(y.shape, dtype=np.float32)
    spec = conv.conv_spec(x.shape, weights.shape, s, p, d)

    def fast_both() -> None:
        _, columns = conv.conv2d_forward(x, weights, bias, s, p, d, workspace=workspace)
        conv.conv2d_backward_columns(dy, weights, columns)

    one, dy_one = x[:1], dy[:1]
    runs: dict[str, dict[str, Callable[[], object]]] = {
        "loops": {
            "forward": lambda: conv.conv2d_naive(one, weights, bias, s, p, d),
            "both": lambda: (
                conv.conv2d_naive(one, weights, bias, s, p, d),
                conv.conv2d_backward_naive(dy_one, one, weights, s, p, d),
            ),
        },
        "positionwise": {
            "forward": lambda: conv.conv2d_positionwise(x, weights, bias, s, p, d),
            "both": lambda: (
                conv.conv2d_positionwise(x, weights, bias, s, p, d),
                conv.conv2d_backward_positionwise(dy, x, weights, s, p, d),
            ),
        },
        "fast": {
            "forward": lambda: conv.conv2d_forward(x, weights, bias, s, p, d, workspace=workspace),
            "both": fast_both,
        },
    }
    if torch is not None:
        xt = torch.from_numpy(x).requires_grad_()
        wt = torch.from_numpy(weights).requires_grad_()
        bt = torch.from_numpy(bias).requires_grad_()
        dyt = torch.from_numpy(dy)

        def torch_forward() -> None:
            with torch.no_grad():
                torch.nn.functional.conv2d(xt, wt, bt, s, p, d)

        def torch_both() -> None:
            out = torch.nn.functional.conv2d(xt, wt, bt, s, p, d)
            xt.grad = wt.grad = bt.grad = None
            out.backward(dyt)

        runs["torch"] = {"forward": torch_forward, "both": torch_both}
    return Case(shape, spec.flops, runs, {"loops": float(n)})


def measure(case: Case, samples: int, loop_samples: int) -> dict[str, dict[str, float]]:
    """Median seconds per pass for each implementation and mode, samples interleaved."""
    times: dict[str, dict[str, list[float]]] = {
        name: {mode: [] for mode in modes} for name, modes in case.runs.items()
    }
    for mode in next(iter(case.runs.values())):  # e.g. "forward", then "both"
        for round_index in range(samples):
            for name, modes in case.runs.items():
                if name == "loops" and round_index >= loop_samples:
                    continue
                run = modes[mode]
                run()  # untimed: warm caches and let idle threads of the other side settle
                start = time.perf_counter()
                run()
                times[name][mode].append(time.perf_counter() - start)
    return {
        name: {
            mode: statistics.median(values) * case.scale.get(name, 1.0)
            for mode, values in modes.items()
        }
        for name, modes in times.items()
    }


def geomean(values: list[float]) -> float:
    return math.exp(sum(math.log(v) for v in values) / len(values))


def blas_description() -> str:
    """NumPy's BLAS and the CPU kernel it picked (it bounds every GEMM of the fast path)."""
    for pool in threadpool_info():
        if pool.get("user_api") == "blas":
            return (
                f"{pool.get('internal_api')} {pool.get('version')}, "
                f"kernel {pool.get('architecture', '?')}"
            )
    return "unknown BLAS"


def report(results: list[Result], threads: int) -> dict[str, float]:
    names = list(results[0].seconds)
    print(f"\nConvolution benchmark, float32, {threads} thread(s); median ms per call")
    print(f"NumPy {np.__version__} with {blas_description()}", end="")
    print(f"; PyTorch {torch.__version__}" if torch is not None else "")
    print("(loops: one image, scaled to the batch)\n")
    for mode, label, factor in (("forward", "forward", 1), ("both", "forward + backward", 3)):
        header = f"| {'N, C, H, W, F, k, s, p, d':<31} |" + "".join(f" {n:>12} |" for n in names)
        extra = (
            " fast ÷ torch | fast GFLOP/s | torch GFLOP/s |"
            if "torch" in names
            else " fast GFLOP/s |"
        )
        print(f"{label}\n{header}{extra}")
        print(
            "|"
            + "-" * 33
            + "|"
            + "".join("-" * 14 + "|" for _ in names)
            + "-" * (len(extra) - 1)
            + "|"
        )
        for case in results:
            timing = case.seconds
            row = f"| {', '.join(map(str, case.shape)):<31} |"
            row += "".join(f" {timing[n][mode] * 1e3:>12.2f} |" for n in names)
            fast_gflops = factor * case.flops / timing["fast"][mode] / 1e9
            if "torch" in names:
                ratio = timing["fast"][mode] / timing["torch"][mode]
                torch_gflops = factor * case.flops / timing["torch"][mode] / 1e9
                row += f" {ratio:>12.2f} | {fast_gflops:>12.1f} | {torch_gflops:>13.1f} |"
            else:
                row += f" {fast_gflops:>12.1f} |"
            print(row)
        print()
    summary: dict[str, float] = {}
    loops_speedup = [r.seconds["loops"]["both"] / r.seconds["fast"]["both"] for r in results]
    summary["fast_vs_loops_geomean_speedup"] = geomean(loops_speedup)
    speedup = summary["fast_vs_loops_geomean_speedup"]
    print(f"fast path vs loops, forward + backward: {speedup:,.0f}× faster (geometric mean)")
    if "torch" in names:
        for mode in ("forward", "both"):
            ratios = [r.seconds["fast"][mode] / r.seconds["torch"][mode] for r in results]
            summary[f"{mode}_geomean"] = geomean(ratios)
            summary[f"{mode}_worst"] = max(ratios)
        met = summary["both_geomean"] <= TARGET_GEOMEAN and summary["both_worst"] <= TARGET_WORST
        print(
            f"fast ÷ torch, forward: geometric mean {summary['forward_geomean']:.2f}, "
            f"worst {summary['forward_worst']:.2f}"
        )
        print(
            f"fast ÷ torch, forward + backward: geometric mean {summary['both_geomean']:.2f}, "
            f"worst {summary['both_worst']:.2f} — target ≤ {TARGET_GEOMEAN} and ≤ {TARGET_WORST} "
            f"(at 1 thread): {'met' if met else 'NOT met'}"
        )
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--threads", type=int, default=1, help="threads for BLAS and PyTorch (default 1)"
    )
    parser.add_argument("--samples", type=int, default=11, help="timed samples per implementation")
    parser.add_argument(
        "--loop-samples", type=int, default=1, help="samples of the (slow) loop version"
    )
    parser.add_argument(
        "--shapes", type=int, nargs="*", help="indices of the shapes to run (default all)"
    )
    parser.add_argument("--json", help="also write the medians and ratios to this file")
    args = parser.parse_args(argv)
    if torch is None:
        print("PyTorch is not installed: comparing cnnlib with its own loops only.")
    else:
        torch.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    chosen = [SHAPES[i] for i in args.shapes] if args.shapes else SHAPES
    results = []
    with threadpool_limits(args.threads):
        for shape in chosen:
            case = make_case(shape, rng)
            seconds = measure(case, args.samples, args.loop_samples)
            results.append(Result(case.shape, case.flops, seconds))
            del case  # free this shape's arrays and buffers before the next one
            gc.collect()
            print(f"measured {shape}", file=sys.stderr)
    summary = report(results, args.threads)
    if args.json:
        payload = {
            "threads": args.threads,
            "summary": summary,
            "shapes": [{"shape": r.shape, "seconds": r.seconds} for r in results],
        }
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(payload, handle, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
