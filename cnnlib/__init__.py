"""cnnlib: convolutional neural networks from scratch, in NumPy.

The library behind the book *CNNs from Scratch*. Its modules mirror the chapters:

``geometry``
    Output sizes, padding, parameter and memory counts, receptive fields (chapter 1).
``signal``
    Single-channel textbook operations: cross-correlation, convolution, ``rot180``
    (chapters 1 and 2).
``conv``
    Batched NCHW convolution and its backward pass: readable loops and the fast
    im2col + GEMM path (chapters 1, 3 and 6).
``im2col``
    ``im2col`` and ``col2im`` (chapter 6).
``gradcheck``
    Numerical gradients and gradient checks (chapter 3).
``pooling``
    Max, average, min, global and concat pooling, with their backward passes (chapter 4).
``layers``, ``losses``, ``optim``, ``init``
    The pieces of a network: layers, loss functions, optimisers, initialisers (chapter 5).
``model``
    ``Sequential`` (also ``cnnlib.Sequential``): build, train, evaluate, save (chapters 5, 8).
``architectures``
    LeNet-5, the sources' CIFAR network, AlexNet, VGG-16; FC-to-conv conversion and
    receptive fields of a model (chapter 7).
``datasets``
    Real digits: scikit-learn's 8×8 digits, MNIST (bundled sample, official files) (chapter 8).
``metrics``
    Accuracy, the confusion matrix and its most confused pairs (chapter 8).
``interpret``
    Looking inside a trained network: feature maps, saliency, Grad-CAM, activation
    maximisation, linear probes (chapter 9).
``pretrained``
    Trained weights that ship with cnnlib: the MNIST CNN of chapter 9.
``viz``
    The figures and animations the book draws.
``exercises``
    Checkers that give learners precise feedback on their exercise solutions.

Submodules are imported on first use, so ``import cnnlib`` stays cheap and
``cnnlib.viz`` only loads Matplotlib when you ask for it.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_SUBMODULES = (
    "geometry",
    "signal",
    "conv",
    "im2col",
    "pooling",
    "gradcheck",
    "init",
    "layers",
    "losses",
    "optim",
    "model",
    "architectures",
    "datasets",
    "metrics",
    "interpret",
    "pretrained",
    "viz",
    "exercises",
)

__all__ = ["Sequential", "__version__", *_SUBMODULES]


def __getattr__(name: str) -> Any:
    """Import a submodule the first time it is used as an attribute (PEP 562)."""
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    if name == "Sequential":
        return importlib.import_module(f"{__name__}.model").Sequential
    raise AttributeError(f"module 'cnnlib' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
