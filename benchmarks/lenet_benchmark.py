"""Benchmark one LeNet-5 training step: cnnlib's Sequential against the same network in PyTorch.

Usage::

    python benchmarks/lenet_benchmark.py                  # 1 thread, batches 64 and 256
    python benchmarks/lenet_benchmark.py --threads 2 --batches 64 256 1024

A step is what ``Sequential.train_on_batch`` does: the forward pass, the cross-entropy loss,
the backward pass and an SGD-with-momentum update, in float32 on 28×28 digits. PyTorch runs
the same network (``nn.Sequential``, ``F.cross_entropy``, ``optim.SGD``) from the same
initial weights. Timing follows ``conv_benchmark.py``: one process, the same thread count,
interleaved samples each preceded by an untimed step, medians; the table gives ms per step
and the ratio cnnlib ÷ PyTorch.
"""

from __future__ import annotations

import argparse
import sys

from conv_benchmark import Case, blas_description, keep_freed_memory, measure

if __name__ == "__main__":
    keep_freed_memory()

import numpy as np  # after the allocator settings
from threadpoolctl import threadpool_limits

import cnnlib as cl

try:
    import torch
except ImportError:
    torch = None

TARGETS = {64: 1.0, 256: 1.3}


def lenet(seed: int = 0) -> cl.Sequential:
    """LeNet-5 for 28×28 digits (:func:`cnnlib.architectures.lenet5`), compiled for SGD."""
    model = cl.architectures.lenet5((1, 28, 28), seed=seed)
    model.compile(cl.losses.CrossEntropy(), cl.optim.SGD(0.01, momentum=0.9))
    return model


def torch_lenet(model: cl.Sequential):  # type: ignore[no-untyped-def]
    nn = torch.nn
    net = nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2),
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
    with torch.no_grad():
        for (_, mine), tensor in zip(model.parameters(), net.parameters(), strict=True):
            tensor.copy_(torch.from_numpy(mine))
    return net


def make_case(batch: int, rng: np.random.Generator) -> Case:
    x = rng.random((batch, 1, 28, 28), dtype=np.float32)
    y = rng.integers(0, 10, batch)
    model = lenet()
    runs = {"cnnlib": {"step": lambda: model.train_on_batch(x, y)}}
    if torch is not None:
        net = torch_lenet(model)
        optimizer = torch.optim.SGD(net.parameters(), 0.01, momentum=0.9)
        xt, yt = torch.from_numpy(x), torch.from_numpy(y)

        def torch_step() -> None:
            optimizer.zero_grad()
            loss = torch.nn.functional.cross_entropy(net(xt), yt)
            loss.backward()
            optimizer.step()

        runs["torch"] = {"step": torch_step}
    return Case((batch,), 0, runs, {})


def check_same_steps(rng: np.random.Generator) -> float:
    """The two networks take the same steps: the largest relative loss difference over 5."""
    if torch is None:
        return float("nan")
    model = lenet(seed=1)
    net = torch_lenet(model)
    optimizer = torch.optim.SGD(net.parameters(), 0.01, momentum=0.9)
    worst = 0.0
    for _ in range(5):
        x = rng.random((32, 1, 28, 28), dtype=np.float32)
        y = rng.integers(0, 10, 32)
        ours = model.train_on_batch(x, y)
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(net(torch.from_numpy(x)), torch.from_numpy(y))
        loss.backward()
        optimizer.step()
        worst = max(worst, abs(ours - loss.item()) / abs(loss.item()))
    return worst


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--threads", type=int, default=1, help="threads (default 1)")
    # on a shared machine a median of 21 steps moved by ±4 % from run to run, of 51 by ±2 %
    parser.add_argument("--samples", type=int, default=51, help="timed steps per implementation")
    parser.add_argument("--batches", type=int, nargs="*", default=[64, 256], help="batch sizes")
    args = parser.parse_args(argv)
    if torch is None:
        print("PyTorch is not installed: nothing to compare with.")
        return 1
    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    rows = []
    with threadpool_limits(args.threads):
        agreement = check_same_steps(rng)
        for batch in args.batches:
            seconds = measure(make_case(batch, rng), args.samples, 0)
            rows.append((batch, seconds["cnnlib"]["step"], seconds["torch"]["step"]))
    print(f"\nLeNet-5 training step (forward, backward, SGD), float32, {args.threads} thread(s)")
    print(f"NumPy {np.__version__} with {blas_description()}; PyTorch {torch.__version__}")
    print(f"same steps as PyTorch: largest relative loss difference over 5 steps {agreement:.1e}\n")
    print("| batch | cnnlib ms | torch ms | cnnlib ÷ torch | target |")
    print("|-------|-----------|----------|----------------|--------|")
    for batch, ours, theirs in rows:
        target = TARGETS.get(batch)
        verdict = (
            ""
            if target is None
            else f"≤ {target} {'met' if ours / theirs <= target else 'NOT met'}"
        )
        print(
            f"| {batch:>5} | {ours * 1e3:>9.2f} | {theirs * 1e3:>8.2f} | {ours / theirs:>14.2f} "
            f"| {verdict} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
