"""Batched 2-D convolution, NCHW, weights ``(F, C / groups, k_h, k_w)`` (chapters 1, 3 and 6).

Three implementations of the same function, tested equal:

``conv2d_naive`` / ``conv2d_backward_naive``
    four nested loops that read like the formula;
``conv2d_positionwise`` / ``conv2d_backward_positionwise``
    one loop over output positions, one matrix product each;
``conv2d`` / ``conv2d_backward``
    the fast path that the layers use: im2col + GEMM, col2im for ``dx``, and Winograd's
    F(2×2, 3×3) for wide 3×3 layers (``conv2d_forward`` and ``conv2d_backward_columns``
    keep the columns, or tiles, between the two; a ``Workspace`` keeps the buffers).
"""

from cnnlib.conv.fast import (
    Columns,
    conv2d,
    conv2d_backward,
    conv2d_backward_columns,
    conv2d_forward,
)
from cnnlib.conv.naive import (
    conv2d_backward_naive,
    conv2d_backward_positionwise,
    conv2d_naive,
    conv2d_positionwise,
)
from cnnlib.conv.spec import ConvSpec, conv_spec
from cnnlib.conv.workspace import Workspace

__all__ = [
    "Columns",
    "ConvSpec",
    "Workspace",
    "conv2d",
    "conv2d_backward",
    "conv2d_backward_columns",
    "conv2d_backward_naive",
    "conv2d_backward_positionwise",
    "conv2d_forward",
    "conv2d_naive",
    "conv2d_positionwise",
    "conv_spec",
]
