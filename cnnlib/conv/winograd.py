r"""Winograd's minimal filtering F(2×2, 3×3): 3×3 stride-1 convolutions with fewer products.

A 2×2 block of outputs of a 3×3 convolution reads a 4×4 tile ``d`` of the input. Written
directly it costs 36 multiplications; Winograd's algorithm :cite:`lavin2016winograd`
computes it with 16, as

.. math:: Y = A^\top \big[ (G\, g\, G^\top) \odot (B^\top d\, B) \big] A,

with the 3×3 kernel ``g`` and the constant matrices

.. math:: B^\top = \begin{pmatrix} 1&0&-1&0\\ 0&1&1&0\\ 0&-1&1&0\\ 0&1&0&-1 \end{pmatrix},
          \quad G = \begin{pmatrix} 1&0&0\\ ½&½&½\\ ½&-½&½\\ 0&0&1 \end{pmatrix},
          \quad A^\top = \begin{pmatrix} 1&1&1&0\\ 0&1&-1&-1 \end{pmatrix}.

Summed over input channels, the element-wise product becomes, for each of the 16 tile
positions ``(ξ, ν)``, a matrix product ``U_ξν (F × C) · V_ξν (C × tiles)`` — 16 GEMMs with
16/36 of the multiplications of im2col's one. The transforms with ``Bᵀ`` and ``Aᵀ`` only
add and subtract. The backward pass applies the transposed transforms:

.. math:: dM = A\, dY\, A^\top, \quad dU = dM\, V^\top, \quad dV = U^\top dM, \quad
          dd = B\, dV\, B^\top, \quad dg = G^\top dU\, G,

and the tile gradients ``dd`` are added back into the overlapping input tiles.

Dilation ``d`` at stride 1 splits into ``d_h·d_w`` independent undilated convolutions: the
outputs ``(a + d_h i, b + d_w j)`` only read the input pixels ``(a + d_h i', b + d_w j')``.
Tiles are gathered from the polyphase split of the padded input with steps
``(2 d_h, 2 d_w)`` (:mod:`cnnlib.conv.phases`), where every tile element is a contiguous
run, and the wide layout of :mod:`cnnlib.conv.fast` (one spare column per tile row, zeroed)
keeps those runs long. Numerically the transforms are exact in binary (entries 0, ±1, ±½),
so results agree with im2col to rounding.

:mod:`cnnlib.conv.fast` uses this path for undilated 3×3 stride-1 convolutions without
groups and with at least :data:`WINOGRAD_FROM` input and output channels, where the
savings in the GEMMs outweigh the cost of the transforms; the module itself also handles
dilation (the tests run it on dilated layers too).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from cnnlib.conv.phases import merge_phases, split_phases
from cnnlib.conv.spec import ConvSpec, images_per_chunk
from cnnlib.conv.workspace import Workspace, buffer, zeroed

__all__ = [
    "A_T",
    "B_T",
    "CHUNK_BYTES",
    "WINOGRAD_FROM",
    "G",
    "TileGrid",
    "WinogradTiles",
    "applies",
    "backward",
    "forward",
    "tile_grid",
]

#: Winograd is used from this many input and output channels (for 3×3 kernels, stride 1,
#: dilation 1): below that, its small GEMMs and its transforms cost more than they save.
WINOGRAD_FROM = 32
#: Images are transformed and multiplied about this many bytes of input tiles at a time,
#: so that the transforms work in cache. Measured on 64 channels of 56×56 (3.3 MB of tiles
#: per image), one image at a time made the forward pass 1.7× faster than eight at once.
CHUNK_BYTES = 1 << 22

B_T = np.array([[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]], dtype=np.int8)
G = np.array([[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]])
A_T = np.array([[1, 1, 1, 0], [0, 1, -1, -1]], dtype=np.int8)
_GG = np.kron(G, G)  # (16, 9): the kernel transform G g Gᵀ on a flattened 3×3 kernel


def applies(spec: ConvSpec) -> bool:
    """Whether :mod:`cnnlib.conv.fast` computes this convolution with Winograd's algorithm."""
    return (
        spec.kernel == (3, 3)
        and spec.stride == (1, 1)
        and spec.dilation == (1, 1)
        and spec.groups == 1
        and min(spec.in_channels, spec.filters) >= WINOGRAD_FROM
    )


@dataclass(frozen=True)
class TileGrid:
    """How the outputs are covered by 2×2 tiles, per dilation phase.

    Attributes
    ----------
    phases
        ``(d_h, d_w)``: the independent undilated convolutions.
    tiles
        ``(t_h, t_w)``: tiles per phase, covering ``⌈H_out / d_h⌉ × ⌈W_out / d_w⌉`` outputs.
    """

    phases: tuple[int, int]
    tiles: tuple[int, int]

    @property
    def steps(self) -> tuple[int, int]:
        """The polyphase steps ``(2 d_h, 2 d_w)`` that turn tiles into offsets."""
        return 2 * self.phases[0], 2 * self.phases[1]

    @property
    def phase_shape(self) -> tuple[int, int]:
        """The size of each polyphase image, one more row and column than there are tiles."""
        return self.tiles[0] + 1, self.tiles[1] + 1

    @property
    def run(self) -> int:
        """Tile columns per image and phase, ``t_h`` rows of ``t_w + 1`` (one spare)."""
        return self.tiles[0] * (self.tiles[1] + 1)


def tile_grid(spec: ConvSpec) -> TileGrid:
    """The 2×2 tiles that cover the outputs of ``spec``, per dilation phase."""
    dh, dw = spec.dilation
    rows, cols = -(-spec.out_height // dh), -(-spec.out_width // dw)
    return TileGrid((dh, dw), (-(-rows // 2), -(-cols // 2)))


@dataclass(frozen=True)
class WinogradTiles:
    """What the backward pass needs from a Winograd forward pass.

    Attributes
    ----------
    spec
        The convolution's sizes.
    grid
        The tiling.
    v
        The transformed input tiles ``Bᵀ d B`` of each chunk of :attr:`chunk` images:
        ``(16, C, tiles)`` each.
    u
        The transformed kernels ``G g Gᵀ``: ``(16, F, C)``.
    workspace
        Where the large arrays live.
    chunk
        Images per chunk (see :data:`CHUNK_BYTES`).
    positive
        For a convolution fused with a ReLU (:func:`cnnlib.conv.conv2d_forward`), where
        its output ``(N, F, H_out, W_out)`` was positive; ``None`` otherwise.
    """

    spec: ConvSpec
    grid: TileGrid
    v: tuple[NDArray[Any], ...]
    u: NDArray[Any]
    workspace: Workspace | None
    chunk: int
    positive: NDArray[Any] | None = None  # of bool


def _combine(coefficients: NDArray[Any], rows: NDArray[Any], out: NDArray[Any]) -> None:
    """``out[i] = Σ_k coefficients[i, k] · rows[k]`` for a small matrix of 0 and ±1.

    One NumPy operation per term, on whole contiguous rows.
    """
    for i, row in enumerate(coefficients):
        terms = [(int(c), k) for k, c in enumerate(row) if c]
        (c0, k0), rest = terms[0], terms[1:]
        if rest and c0 == 1:
            (c1, k1), rest = rest[0], rest[1:]
            (np.add if c1 == 1 else np.subtract)(rows[k0], rows[k1], out=out[i])
        elif rest and rest[0][0] == 1:  # −a + b = b − a
            (_, k1), rest = rest[0], rest[1:]
            np.subtract(rows[k1], rows[k0], out=out[i])
        elif c0 == 1:
            np.copyto(out[i], rows[k0])
        else:
            np.negative(rows[k0], out=out[i])
        for c, k in rest:
            (np.add if c == 1 else np.subtract)(out[i], rows[k], out=out[i])


def _transform(
    matrix: NDArray[Any], data: NDArray[Any], scratch: NDArray[Any], out: NDArray[Any]
) -> None:
    """``out[i, j] = Σ_{k, l} matrix[i, k] · matrix[j, l] · data[k, l]`` (i.e. ``M d Mᵀ``).

    ``data`` is ``(q, q, …)``, ``out`` is ``(p, p, …)`` and ``scratch`` is ``(p, q, …)``.
    """
    p, q = matrix.shape
    _combine(matrix, data.reshape(q, -1), scratch.reshape(p, -1))
    for i in range(p):
        _combine(matrix, scratch[i], out[i])


def _tile_origins(grid: TileGrid) -> list[tuple[int, int, int, int]]:
    """Where each tile element of each dilation phase starts in the polyphase images.

    Element ``(α, β)`` of the tiles of dilation phase ``(a, b)`` — padded pixel
    ``((2 t_i + α) d_h + a, (2 t_j + β) d_w + b)`` — lies in polyphase image
    ``((α mod 2) d_h + a, (β mod 2) d_w + b)`` at offset ``(⌊α/2⌋, ⌊β/2⌋)``. Returns
    ``(4α + β, p, image, start)`` with ``p = a·d_w + b`` and ``start`` the flat offset.
    """
    (dh, dw), (_, width) = grid.phases, grid.phase_shape
    origins = []
    for alpha in range(4):
        for beta in range(4):
            for a in range(dh):
                for b in range(dw):
                    phase = ((alpha % 2) * dh + a) * (2 * dw) + (beta % 2) * dw + b
                    start = (alpha // 2) * width + beta // 2
                    origins.append((alpha * 4 + beta, a * dw + b, phase, start))
    return origins


def _placements(spec: ConvSpec, grid: TileGrid) -> list[tuple[int, int, slice, slice]]:
    """Where output element ``(a', b')`` of the tiles of each dilation phase goes.

    Returns ``(2a' + b', p, rows, cols)``: the tiles' outputs land at output rows
    ``a' d_h + a :: 2 d_h`` and columns ``b' d_w + b :: 2 d_w`` (as many as exist).
    """
    dh, dw = grid.phases
    placed = []
    for out_a in range(2):
        for out_b in range(2):
            for a in range(dh):
                for b in range(dw):
                    rows = slice(out_a * dh + a, spec.out_height, 2 * dh)
                    cols = slice(out_b * dw + b, spec.out_width, 2 * dw)
                    placed.append((out_a * 2 + out_b, a * dw + b, rows, cols))
    return placed


def _images_per_chunk(spec: ConvSpec, grid: TileGrid, itemsize: int) -> int:
    """How many images to transform and multiply at a time (see :data:`CHUNK_BYTES`)."""
    per_image = 16 * spec.in_channels * grid.phases[0] * grid.phases[1] * grid.run * itemsize
    return images_per_chunk(spec.batch, per_image, CHUNK_BYTES)


def forward(
    x: NDArray[Any],
    w: NDArray[Any],
    b: NDArray[Any] | None,
    spec: ConvSpec,
    workspace: Workspace | None,
) -> tuple[NDArray[Any], WinogradTiles]:
    """The forward pass on checked arrays (see the module docstring).

    Large batches are processed :data:`CHUNK_BYTES` of tiles at a time.
    """
    grid = tile_grid(spec)
    channels, filters = spec.in_channels, spec.filters
    u = (_GG @ w.reshape(filters * channels, 9).T).reshape(16, filters, channels).astype(x.dtype)
    y = np.empty(spec.output_shape, dtype=x.dtype)
    chunk = _images_per_chunk(spec, grid, x.itemsize)
    parts = spec.chunks(chunk)
    # the tiles of all chunks stay for the backward pass: one buffer, a slot per chunk
    per_image = 16 * channels * grid.phases[0] * grid.phases[1] * grid.run
    kept = buffer(workspace, "wino.v", (len(parts), per_image * chunk), x.dtype)
    v = []
    for index, (first, last, part) in enumerate(parts):
        v.append(kept[index, : per_image * part.batch].reshape(16, channels, -1))
        _forward_images(x[first:last], u, b, part, grid, workspace, v[-1], y[first:last])
    return y, WinogradTiles(spec, grid, tuple(v), u, workspace, chunk)


def _forward_images(
    x: NDArray[Any],
    u: NDArray[Any],
    b: NDArray[Any] | None,
    spec: ConvSpec,
    grid: TileGrid,
    workspace: Workspace | None,
    v: NDArray[Any],
    y: NDArray[Any],
) -> None:
    """The forward pass for some images: their tiles into ``v``, their outputs into ``y``."""
    channels, filters, batch = spec.in_channels, spec.filters, spec.batch
    dh, dw = grid.phases
    phases = dh * dw
    th, tw = grid.tiles
    run = grid.run
    dtype = x.dtype
    source = split_phases(x, spec, grid.steps, grid.phase_shape, workspace, "wino.input")
    flat = source.reshape(len(source), channels, batch, -1)
    # d: the 16 tile elements, each a (C, phases, N, run) block of contiguous runs
    tiles = v.reshape(16, channels, phases, batch, run)
    for element, p, phase, start in _tile_origins(grid):
        tiles[element, :, p] = flat[phase, :, :, start : start + run]
    spare = tiles.reshape(16, channels, phases, batch, th, tw + 1)
    spare[..., tw] = 0  # the spare column wrapped into the next row: no tile reads it
    scratch = buffer(workspace, "wino.scratch", (4, 4, channels * phases * batch * run), dtype)
    # Bᵀ d B, computed back into the same buffer through the scratch
    _transform(B_T, tiles.reshape(4, 4, -1), scratch, v.reshape(4, 4, -1))
    m = buffer(workspace, "wino.m", (16, filters, v.shape[2]), dtype)
    np.matmul(u, v, out=m)  # (16, F, tiles): the 16 GEMMs
    out_scratch = buffer(workspace, "wino.out", (2, 4, m.shape[1] * m.shape[2]), dtype)
    y_tiles = buffer(workspace, "wino.y", (2, 2, filters, phases, batch, th, tw + 1), dtype)
    _transform(A_T, m.reshape(4, 4, -1), out_scratch, y_tiles.reshape(2, 2, -1))
    by_channel = y.transpose(1, 0, 2, 3)
    bias = None if b is None else b[:, None, None, None]
    for element, p, rows, cols in _placements(spec, grid):
        target = by_channel[:, :, rows, cols]
        values = y_tiles[element // 2, element % 2, :, p, :, : target.shape[2], : target.shape[3]]
        if bias is None:
            np.copyto(target, values)
        else:
            np.add(values, bias, out=target)


def backward(
    grad: NDArray[Any], w: NDArray[Any], cache: WinogradTiles, input_grad: bool
) -> tuple[NDArray[Any] | None, NDArray[Any], NDArray[Any]]:
    """Gradients ``(dx, dw, db)`` from the forward pass's tiles (see the module docstring)."""
    spec = cache.spec
    dx = np.empty(spec.input_shape, grad.dtype) if input_grad else None
    du = np.zeros(cache.u.shape, grad.dtype)  # (16, F, C)
    for (first, last, part), v in zip(spec.chunks(cache.chunk), cache.v, strict=True):
        out = None if dx is None else dx[first:last]
        du += _backward_images(grad[first:last], part, cache, v, out)
    dw = (_GG.T @ du.reshape(16, -1)).T.reshape(spec.weight_shape)
    db = grad.sum(axis=(0, 2, 3))
    return dx, dw.astype(w.dtype), db.astype(w.dtype)


def _backward_images(
    grad: NDArray[Any],
    spec: ConvSpec,
    cache: WinogradTiles,
    v: NDArray[Any],
    dx: NDArray[Any] | None,
) -> NDArray[Any]:
    """``dU`` for some images, and their ``dx`` into ``dx`` unless it is ``None``."""
    grid, workspace = cache.grid, cache.workspace
    channels, filters, batch = spec.in_channels, spec.filters, spec.batch
    dh, dw_ = grid.phases
    phases = dh * dw_
    th, tw = grid.tiles
    dtype = grad.dtype
    # dY per tile, (2, 2, F, phases, N, t_h, t_w + 1); the spare column and the tiles past the
    # output's edge keep their zeros, since only real outputs are ever written
    shape = (2, 2, filters, phases, batch, th, tw + 1)
    dy_tiles = zeroed(workspace, "wino.dy", shape, dtype, region=spec)
    by_channel = grad.transpose(1, 0, 2, 3)
    for element, p, rows, cols in _placements(spec, grid):
        values = by_channel[:, :, rows, cols]
        dy_tiles[element // 2, element % 2, :, p, :, : values.shape[2], : values.shape[3]] = values
    scratch = buffer(
        workspace, "wino.dm_scratch", (4, 2, filters * phases * batch * grid.run), dtype
    )
    dm = buffer(workspace, "wino.dm", (16, filters, phases * batch * grid.run), dtype)
    _transform(A_T.T, dy_tiles.reshape(2, 2, -1), scratch, dm.reshape(4, 4, -1))
    du: NDArray[Any] = np.matmul(dm, v.transpose(0, 2, 1))  # (16, F, C)
    if dx is not None:
        dv = buffer(workspace, "wino.dv", (16, channels, dm.shape[2]), dtype)
        np.matmul(cache.u.transpose(0, 2, 1), dm, out=dv)  # (16, C, tiles)
        dd_scratch = buffer(workspace, "wino.dd_scratch", (4, 4, dv.shape[1] * dv.shape[2]), dtype)
        dd = buffer(workspace, "wino.dd", (16, channels, phases, batch, grid.run), dtype)
        _transform(B_T.T, dv.reshape(4, 4, -1), dd_scratch, dd.reshape(4, 4, -1))
        height, width = grid.phase_shape
        full = ((2 * dh) * (2 * dw_), channels, batch, (height + 1) * width)
        dphases = zeroed(workspace, "wino.dx", full, dtype)
        run = grid.run
        for element, p, phase, start in _tile_origins(grid):
            dphases[phase, :, :, start : start + run] += dd[element, :, p]
        by_phase = dphases.reshape(len(dphases), channels, batch, height + 1, width)
        merge_phases(by_phase, spec, grid.steps, dx)
    return du
