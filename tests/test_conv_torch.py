"""cnnlib.conv against PyTorch (CPU): outputs and all three gradients, ~300 configurations.

PyTorch is an independent implementation of the same convolution (cross-correlation,
NCHW, weights (F, C/groups, k_h, k_w)). CI installs it (``pip install torch==2.13.0``);
without it these tests are skipped with that reason. The worst relative errors per
dtype are printed at the end of the run.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pytest
from oracles import torch_or_skip

from cnnlib import conv
from cnnlib.conv import fast, winograd
from cnnlib.geometry import resolve_padding2d

torch = torch_or_skip()
F = torch.nn.functional

#: worst relative error seen, per (dtype, quantity), reported by conftest.py
WORST: dict[tuple[str, str], float] = defaultdict(float)
TOLERANCE = {"float64": 1e-9, "float32": 2e-4}


def _random_config(rng: np.random.Generator) -> dict:
    """A random valid convolution covering the issue's sweep."""
    while True:
        groups = int(rng.choice([1, 1, 1, 2, 3]))
        c = groups * int(rng.integers(1, 4))
        f = groups * int(rng.integers(1, 4))
        kh, kw = (int(v) for v in rng.integers(1, 6, size=2))
        if rng.random() < 0.3:
            kw = kh
        stride = [1, 2, 3, (1, 2), (2, 3), (3, 1)][int(rng.integers(6))]
        dilation = [1, 1, 2, 3, (1, 2), (3, 1)][int(rng.integers(6))]
        kind = ["int", "pair", "same", "valid", "explicit"][int(rng.integers(5))]
        padding = {
            "int": int(rng.integers(0, 3)),
            "pair": (int(rng.integers(0, 3)), int(rng.integers(0, 3))),
            "same": "same",
            "valid": "valid",
            "explicit": tuple(tuple(int(v) for v in rng.integers(0, 3, size=2)) for _ in range(2)),
        }[kind]
        n = int(rng.choice([1, 1, 2, 3]))
        h, w = (int(v) for v in rng.integers(3, 15, size=2))
        try:
            conv.conv_spec(
                (n, c, h, w), (f, c // groups, kh, kw), stride, padding, dilation, groups
            )
        except ValueError:
            continue
        return {
            "shape": (n, c, h, w),
            "weights": (f, c // groups, kh, kw),
            "bias": bool(rng.random() < 0.7),
            "stride": stride,
            "padding": padding,
            "dilation": dilation,
            "groups": groups,
            "dtype": "float64" if rng.random() < 0.5 else "float32",
            "seed": int(rng.integers(2**31)),
        }


_GENERATOR = np.random.default_rng(2026)
CONFIGS = [_random_config(_GENERATOR) for _ in range(300)]
# the edge cases the issue names, always present
CONFIGS += [
    {
        "shape": (1, 1, 10, 10),
        "weights": (1, 1, 3, 3),
        "bias": True,
        "stride": 2,
        "padding": 0,
        "dilation": 1,
        "groups": 1,
        "dtype": dtype,
        "seed": 1,
    }  # batch 1, one channel, excluded pixels
    for dtype in ("float32", "float64")
] + [
    {
        "shape": (2, 3, 9, 7),
        "weights": (4, 3, 2, 5),
        "bias": False,
        "stride": (3, 2),
        "padding": "same",
        "dilation": (2, 1),
        "groups": 1,
        "dtype": dtype,
        "seed": 2,
    }  # non-square, "same" with stride
    for dtype in ("float32", "float64")
]
# layers wide enough for the fast path's Winograd route (3×3, stride 1, ≥ 32 channels)
CONFIGS += [
    {
        "shape": (2, c, h, w),
        "weights": (f, c, 3, 3),
        "bias": bias,
        "stride": 1,
        "padding": padding,
        "dilation": 1,
        "groups": 1,
        "dtype": dtype,
        "seed": 10 + i,
    }
    for i, (c, f, h, w, padding, bias, dtype) in enumerate(
        [
            (32, 32, 8, 8, 1, True, "float32"),
            (32, 48, 7, 9, 0, False, "float32"),
            (40, 32, 9, 6, "same", True, "float64"),
            (32, 32, 5, 5, ((2, 0), (1, 1)), True, "float64"),
        ]
    )
]


def _describe(cfg: dict) -> str:
    return (
        f"x{cfg['shape']} w{cfg['weights']} s={cfg['stride']} p={cfg['padding']} "
        f"d={cfg['dilation']} g={cfg['groups']} {cfg['dtype']}{'' if cfg['bias'] else ' no-bias'}"
    )


def _torch_reference(x, w, b, dy, cfg):
    """PyTorch's y, dx, dw, db; asymmetric padding (TensorFlow-style "same") via F.pad."""
    (top, bottom), (left, right) = resolve_padding2d(
        cfg["padding"], cfg["shape"][2:], cfg["weights"][2:], cfg["stride"], cfg["dilation"]
    )
    xt = torch.tensor(x, requires_grad=True)
    wt = torch.tensor(w, requires_grad=True)
    bt = torch.tensor(b, requires_grad=True) if b is not None else None
    padded = F.pad(xt, (left, right, top, bottom))
    y = F.conv2d(padded, wt, bt, cfg["stride"], 0, cfg["dilation"], cfg["groups"])
    y.backward(torch.tensor(dy))
    db = bt.grad.numpy() if bt is not None else torch.tensor(dy).sum(dim=(0, 2, 3)).numpy()
    return y.detach().numpy(), xt.grad.numpy(), wt.grad.numpy(), db


def _relative(ours: np.ndarray, theirs: np.ndarray) -> float:
    scale = max(float(np.abs(theirs).max()), 1.0)
    return float(np.abs(ours.astype(np.float64) - theirs.astype(np.float64)).max() / scale)


@pytest.mark.parametrize("cfg", CONFIGS, ids=[f"{i:03d}" for i in range(len(CONFIGS))])
def test_fast_path_matches_pytorch(cfg):
    rng = np.random.default_rng(cfg["seed"])
    dtype = np.dtype(cfg["dtype"])
    x = rng.standard_normal(cfg["shape"]).astype(dtype)
    w = rng.standard_normal(cfg["weights"]).astype(dtype)
    b = rng.standard_normal(cfg["weights"][0]).astype(dtype) if cfg["bias"] else None
    kwargs = {k: cfg[k] for k in ("stride", "padding", "dilation", "groups")}
    y = conv.conv2d(x, w, b, **kwargs)
    dy = rng.standard_normal(y.shape).astype(dtype)
    ours = (y, *conv.conv2d_backward(dy, x, w, **kwargs))
    theirs = _torch_reference(x, w, b, dy, cfg)
    for name, mine, reference in zip(("y", "dx", "dw", "db"), ours, theirs, strict=True):
        assert mine.shape == reference.shape, f"{name}: {_describe(cfg)}"
        assert mine.dtype == dtype, f"{name} has dtype {mine.dtype}"
        error = _relative(mine, reference)
        WORST[(cfg["dtype"], name)] = max(WORST[(cfg["dtype"], name)], error)
        assert error < TOLERANCE[cfg["dtype"]], (
            f"{name}: relative error {error:.2e} for {_describe(cfg)}"
        )


@pytest.mark.parametrize("cfg", CONFIGS[::6], ids=[f"{i:03d}" for i in range(0, len(CONFIGS), 6)])
def test_loops_match_pytorch(cfg):
    """The readable loop version agrees with PyTorch too (on every sixth configuration)."""
    rng = np.random.default_rng(cfg["seed"])
    x = rng.standard_normal(cfg["shape"])
    w = rng.standard_normal(cfg["weights"])
    b = rng.standard_normal(cfg["weights"][0]) if cfg["bias"] else None
    kwargs = {k: cfg[k] for k in ("stride", "padding", "dilation", "groups")}
    y = conv.conv2d_naive(x, w, b, **kwargs)
    dy = rng.standard_normal(y.shape)
    ours = (y, *conv.conv2d_backward_naive(dy, x, w, **kwargs))
    for name, mine, reference in zip(
        ("y", "dx", "dw", "db"), ours, _torch_reference(x, w, b, dy, cfg), strict=True
    ):
        assert _relative(mine, reference) < TOLERANCE["float64"], f"{name}: {_describe(cfg)}"


def test_the_sweep_covers_what_the_issue_names():
    def any_(predicate):
        return any(predicate(c) for c in CONFIGS)

    pairs = lambda v: v if isinstance(v, tuple) else (v, v)  # noqa: E731
    assert {pairs(c["stride"])[0] for c in CONFIGS} >= {1, 2, 3}
    assert {pairs(c["dilation"])[0] for c in CONFIGS} >= {1, 2, 3}
    assert any_(lambda c: isinstance(c["padding"], int) and c["padding"] > 0)
    assert any_(lambda c: isinstance(c["padding"], tuple) and isinstance(c["padding"][0], int))
    assert any_(lambda c: c["padding"] == "same" and pairs(c["stride"]) != (1, 1))
    assert any_(lambda c: c["weights"][2] != c["weights"][3])
    assert any_(lambda c: c["shape"][0] == 1 and c["shape"][1] == 1)
    assert any_(lambda c: c["groups"] > 1)
    assert {c["dtype"] for c in CONFIGS} == {"float32", "float64"}
    assert any_(
        lambda c: (
            conv.conv_spec(
                c["shape"], c["weights"], c["stride"], c["padding"], c["dilation"], c["groups"]
            ).padded_shape[0]
            % pairs(c["stride"])[0]
            != 0
        )
    ), "some configurations must exclude pixels"


# Layers as large as the benchmark's: their column matrices exceed fast.CHUNK_FROM_BYTES, so
# the forward pass works in chunks of images and the backward pass gathers them again.
# Winograd's tiles are transformed a few images at a time too.
LARGE = {
    "dilated": ((64, 16, 32, 32), (32, 16, 3, 3), {"padding": 2, "dilation": 2}),
    "strided": ((64, 16, 32, 32), (32, 16, 3, 3), {"stride": 2, "padding": 1}),
    "lenet-batch-256": ((256, 6, 14, 14), (16, 6, 5, 5), {}),
    "winograd": ((8, 64, 28, 28), (64, 64, 3, 3), {"padding": 1}),
}


@pytest.mark.parametrize("name", list(LARGE))
def test_large_layers_in_chunks_match_pytorch(name, rng):
    shape, weights, kwargs = LARGE[name]
    x = rng.standard_normal(shape, dtype=np.float32)
    w = rng.standard_normal(weights, dtype=np.float32)
    b = rng.standard_normal(weights[0], dtype=np.float32)
    workspace = conv.Workspace()
    for _ in range(2):  # the second pass reuses the workspace's buffers
        y, saved = conv.conv2d_forward(x, w, b, workspace=workspace, **kwargs)
        if name == "winograd":
            assert isinstance(saved, winograd.WinogradTiles)
            assert len(saved.v) > 1, "the tiles were transformed whole, not in chunks"
        else:
            assert isinstance(saved, fast.Columns)
            assert saved.matrix is None, "the columns were kept whole, not gathered in chunks"
        assert 1 < saved.chunk < shape[0]
        dy = rng.standard_normal(y.shape, dtype=np.float32)
        ours = (y, *conv.conv2d_backward_columns(dy, w, saved))
        cfg = {"shape": shape, "weights": weights, "groups": 1, "bias": True, **kwargs}
        cfg = {"stride": 1, "padding": 0, "dilation": 1} | cfg
        theirs = _torch_reference(x, w, b, dy, cfg)
        for label, mine, reference in zip(("y", "dx", "dw", "db"), ours, theirs, strict=True):
            error = _relative(mine, reference)
            assert error < TOLERANCE["float32"], f"{label}: relative error {error:.2e} ({name})"
