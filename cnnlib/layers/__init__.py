"""Layers of a convolutional network (chapters 4 and 5).

Every layer implements :class:`Layer`: ``forward(x, training)``, ``backward(grad)``, and
``params`` / ``grads`` dictionaries. Layers are built on their first input (or by the
model), so only the output size needs to be given, as in Keras.
"""

from cnnlib.layers.activations import ELU, GELU, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh
from cnnlib.layers.base import Layer
from cnnlib.layers.conv import Conv2D, LocallyConnected2D
from cnnlib.layers.core import Dense, Dropout, Flatten
from cnnlib.layers.pooling import (
    AvgPool2D,
    ConcatPool2D,
    GlobalAvgPool2D,
    GlobalMaxPool2D,
    MaxPool2D,
    MinPool2D,
)

__all__ = [
    "ELU",
    "GELU",
    "LAYERS",
    "AvgPool2D",
    "ConcatPool2D",
    "Conv2D",
    "Dense",
    "Dropout",
    "Flatten",
    "GlobalAvgPool2D",
    "GlobalMaxPool2D",
    "Layer",
    "LeakyReLU",
    "LocallyConnected2D",
    "MaxPool2D",
    "MinPool2D",
    "ReLU",
    "Sigmoid",
    "Softmax",
    "Tanh",
]

#: Every layer class, by name (how a saved model is rebuilt).
LAYERS: dict[str, type[Layer]] = {
    cls.__name__: cls
    for cls in (
        AvgPool2D,
        ConcatPool2D,
        Conv2D,
        Dense,
        Dropout,
        ELU,
        Flatten,
        GELU,
        GlobalAvgPool2D,
        GlobalMaxPool2D,
        LeakyReLU,
        LocallyConnected2D,
        MaxPool2D,
        MinPool2D,
        ReLU,
        Sigmoid,
        Softmax,
        Tanh,
    )
}
