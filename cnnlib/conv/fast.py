r"""The fast path: convolution as matrix products (im2col + GEMM, col2im for ``dx``).

With the filters as rows ``W_row`` (``F × C·k_h·k_w``, per group) and the input's windows
as columns ``X_col`` (:mod:`cnnlib.im2col`):

.. math:: Y = W_\text{row} X_\text{col} + b, \qquad
          dW_\text{row} = dY\, X_\text{col}^\top, \qquad
          db = dY\,\mathbf 1, \qquad
          dX = \operatorname{col2im}(W_\text{row}^\top dY).

Three GEMMs do almost all the work. The rest is copying, and the layout is chosen to keep
the copies cheap (chapter 6 measures the choices):

* **One GEMM for the whole batch.** The column matrix is "channels first": rows
  ``(c, m, l)``, columns ``(n, i, j)``. Small images would make tiny per-image GEMMs.
* **The bias is a row of ones.** A last row of ones in ``X_col`` and the bias as a last
  column of ``W_row`` add the bias inside the forward GEMM and make ``db`` come out of the
  ``dW`` GEMM.
* **Phases turn strides into offsets.** The padded input is split into ``s_h·s_w`` phase
  images (every ``s``-th pixel, starting at each offset); each kernel tap then reads one
  phase at a fixed offset with stride 1, so im2col and col2im copy contiguous runs instead
  of every other pixel. At stride 1 there is a single phase, the padded image.
* **Wide rows when they are almost free.** A tap's values for one output row are
  ``W_out`` consecutive pixels of a phase, so the copy is a series of short runs. When the
  phase is at most 1/16 wider than the output (or the output narrower than
  :data:`cnnlib.conv.fast.WIDE_BELOW`) the columns cover the phase's whole width instead,
  so that a tap reads one run of ``H_out·W_q`` values. The extra columns wrap into the next
  row: they are zeroed after the copy, dropped from ``Y`` and get a zero gradient.
* **Narrow rows in two steps.** Otherwise, for outputs narrower than
  :data:`cnnlib.conv.fast.TWO_STEPS_BELOW`, each kernel column ``l`` first gets a copy of
  the ``W_out`` pixels it reads in every row; a tap ``(m, l)`` is then one run of
  ``H_out·W_out`` values of that copy, instead of ``H_out`` runs of ``W_out``. At stride 1
  the copies are taken straight from the input (a reused buffer keeps the padding's
  zeros), and all the taps are gathered in one strided copy. col2im undoes it: each kernel
  column sums its taps into one block, added back in one go.
* **col2im a few images at a time**: ``Wᵀ·dY`` is formed for a block of images of about
  :data:`SCATTER_CHUNK_BYTES` and added into its windows while it is still in cache.
* **col2im by kernel rows at stride 1.** Kernel column ``l`` moves a gradient ``l·d_w``
  pixels to the right: in the wide layout, a shift of the whole flat ``dY``. One GEMM of
  the filters, laid out as ``(m, c) × (l, f)``, with the ``k_w`` shifted copies of ``dY``
  stacked, gives each kernel row's sum over its taps; the ``k_h`` sums are then added into
  ``dx`` as long runs, instead of ``k_h·k_w`` adds of short ones
  (:data:`BY_KERNEL_ROWS_UP_TO`).
* **Winograd for wide 3×3 layers.** Undilated 3×3 stride-1 layers with many channels use
  :mod:`cnnlib.conv.winograd`, which needs 16 multiplications per 2×2 block of outputs
  instead of 36.
* **Large batches a few images at a time.** When the column matrix would be larger than
  :data:`CHUNK_FROM_BYTES`, the forward pass gathers and multiplies about
  :data:`CHUNK_BYTES` of columns at a time, while they are in cache, and keeps only the
  input; the backward pass gathers each chunk again (cheap, in cache) for ``dW`` and ``dx``.
* **Reused buffers.** A :class:`cnnlib.conv.Workspace` keeps the large temporary arrays
  between calls: fresh memory costs page faults on every call.

:func:`cnnlib.conv.conv2d_forward` keeps the column matrix (or Winograd's tiles) so the
backward pass does not rebuild it — or, for a batch gathered in chunks, the input.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import as_strided
from numpy.typing import ArrayLike, NDArray

from cnnlib.conv import winograd
from cnnlib.conv.phases import merge_phases, split_phases
from cnnlib.conv.spec import (
    ConvSpec,
    as_float_arrays,
    check_output_gradient,
    conv_spec,
    images_per_chunk,
)
from cnnlib.conv.workspace import Workspace, buffer, zeroed
from cnnlib.geometry import IntOrPair, Padding2D

__all__ = [
    "BY_KERNEL_ROWS_UP_TO",
    "CHUNK_BYTES",
    "CHUNK_FROM_BYTES",
    "TWO_STEPS_BELOW",
    "WIDE_BELOW",
    "Columns",
    "Workspace",
    "conv2d",
    "conv2d_backward",
    "conv2d_backward_columns",
    "conv2d_forward",
    "through_relu",
]

#: Outputs narrower than this use the wide column layout (see the module docstring); others
#: use it only when it computes at most 1/16 more columns than the output has. 0: the extra
#: GEMM columns cost more than the long runs save — measured on 5×5 layers with 8- and
#: 10-pixel-wide outputs (LeNet's second convolution), the compact layout is 10–13 % faster
#: forward + backward.
WIDE_BELOW = 0
#: In the compact layout, outputs narrower than this are gathered in two steps (see the
#: module docstring). Measured at batch 64: 30–35 % faster for 8- and 24-pixel-wide
#: outputs of 5×5 kernels, 5 % at 16 pixels for 3×3, 35 % slower at 32 pixels, where the
#: runs are long already and the extra copy costs more than it saves. The backward pass of
#: LeNet's second convolution is 6–17 % faster with col2im in two steps too.
TWO_STEPS_BELOW = 32
#: col2im forms ``Wᵀ·dY`` for about this many bytes of products at a time (whole images),
#: so that they are added into ``dx`` while still in cache: measured at batch 256 on
#: LeNet's 5×5 layers, 12–18 % faster than all at once. Forming it one kernel tap at a time
#: instead (a ``C × N·H_out·W_q`` block per tap) was 1–2× slower on every layer measured,
#: from 16 to 64 channels: its GEMMs are too thin.
SCATTER_CHUNK_BYTES = 1 << 22
#: Column matrices larger than this are gathered and multiplied in chunks of images (see
#: the module docstring); smaller ones are kept whole from the forward to the backward pass.
#: Measured at batch 64, forward + backward: 16 % faster in chunks for a 7.8 MB matrix (3
#: channels, 32×32, 3×3), 15 % slower for a 5.2 MB one (1 channel, 28×28, 5×5).
CHUNK_FROM_BYTES = 6 << 20
#: About this many bytes of columns per chunk. Measured at batch 64 on the 3×3 benchmark
#: layers of 8–38 MB: 1–2 MB chunks made forward + backward 5–20 % faster than whole.
CHUNK_BYTES = 1 << 21
#: At stride 1, col2im sums each kernel row's taps inside one GEMM (see the module
#: docstring) when ``F ≤ BY_KERNEL_ROWS_UP_TO · k_h·C`` (per group): the ``k_w`` shifted
#: copies of ``dY`` it stacks are then at most this many times the size of the per-tap
#: products they replace. Measured at batch 64, forward + backward: 10–25 % faster on 5×5
#: and 7×7 layers with 1–16 channels (17 % on LeNet's second convolution), 4 % on a
#: dilated 3×3 layer with 16 → 32 channels; 9 % slower with 3 → 32 channels.
BY_KERNEL_ROWS_UP_TO = 2


@dataclass(frozen=True)
class Columns:
    """What the backward pass needs from a forward pass: the column matrix, or the input.

    Attributes
    ----------
    spec
        The convolution's sizes.
    matrix
        ``(groups, C/groups·k_h·k_w [+ 1], N·H_out·row_width)``; the optional last row of
        ones carries the bias. ``None`` when the columns were gathered in chunks.
    row_width
        Outputs computed per row: ``W_out``, or the padded width ``W_p`` in the wide
        layout (the extra ones are discarded).
    ones_row
        Whether the matrix ends with the bias's row of ones.
    workspace
        Where the matrix lives; the backward pass keeps its own buffers there too.
    inputs
        The (checked) input, kept instead of ``matrix`` when the columns were gathered in
        chunks of :attr:`chunk` images; the backward pass gathers them again.
    chunk
        Images per chunk (the whole batch when ``matrix`` is kept).
    positive
        For a convolution fused with a ReLU: where its output was positive, ``(F, N,
        H_out, W_out)`` (the GEMM's layout); ``None`` otherwise.
    """

    spec: ConvSpec
    matrix: NDArray[Any] | None
    row_width: int
    ones_row: bool
    workspace: Workspace | None = None
    inputs: NDArray[Any] | None = None
    chunk: int = 0
    positive: NDArray[Any] | None = None  # of bool


@dataclass(frozen=True)
class _Layout:
    """How the columns of one convolution are gathered.

    The padded input is split into ``s_h·s_w`` *phase* images, phase ``(a, b)`` holding the
    padded pixels ``(a + s_h·i, b + s_w·j)``. Kernel tap ``(m, l)`` of output ``(i, j)``
    reads padded pixel ``(i s_h + m d_h, j s_w + l d_w)``, which is pixel
    ``(i + ⌊m d_h / s_h⌋, j + ⌊l d_w / s_w⌋)`` of phase ``(m d_h mod s_h, l d_w mod s_w)``:
    every tap becomes a stride-1 read of one phase. (At stride 1 there is one phase, the
    padded image itself.)
    """

    phase_shape: tuple[int, int]
    row_width: int

    @property
    def wide(self) -> bool:
        return self.row_width == self.phase_shape[1]

    @property
    def two_steps(self) -> bool:
        """Compact and narrow: im2col and col2im go through kernel columns."""
        return not self.wide and self.row_width < TWO_STEPS_BELOW


def _layout(spec: ConvSpec) -> _Layout:
    """Phase sizes, and whether the columns are wide (see the module docstring)."""
    height, width = spec.padded_shape
    sh, sw = spec.stride
    phase_shape = (-(-height // sh), -(-width // sw))
    wide = spec.out_width < WIDE_BELOW or phase_shape[1] * 16 <= spec.out_width * 17
    return _Layout(phase_shape, phase_shape[1] if wide else spec.out_width)


_Taps = tuple[tuple[int, int, int, int, int, int], ...]


@lru_cache(maxsize=256)  # called on every pass: computed once per geometry
def _tap_offsets(spec: ConvSpec) -> _Taps:
    """For each tap ``(m, l)``: the phase ``(a, b)`` it reads and its offset ``(r, c)`` there."""
    (sh, sw), (dh, dw) = spec.stride, spec.dilation
    return tuple(
        (m, l, (m * dh) % sh, (l * dw) % sw, (m * dh) // sh, (l * dw) // sw)
        for m in range(spec.kernel[0])
        for l in range(spec.kernel[1])
    )


def _gather(
    x: NDArray[Any],
    spec: ConvSpec,
    workspace: Workspace | None,
    ones_row: bool,
    positive: NDArray[Any] | None = None,
) -> Columns:
    """im2col into the channels-first layout, with an optional row of ones per group.

    ``positive``, a fused ReLU's mask still to be filled, is kept with the columns.
    """
    channels, batch, groups = spec.in_channels, spec.batch, spec.groups
    per_group = channels // groups
    kh, kw = spec.kernel
    layout = _layout(spec)
    row_width = layout.row_width
    rows = per_group * kh * kw
    width = batch * spec.out_height * row_width
    matrix = buffer(workspace, "cols", (groups, rows + ones_row, width), x.dtype)
    if ones_row:
        matrix[:, rows] = 1
    # views with one axis per index (reshapes that only split axes)
    tap_rows = matrix[:, :rows].reshape(groups, per_group, kh, kw, batch, -1)
    if layout.two_steps:
        _gather_in_two_steps(tap_rows, x, spec, layout, workspace)
        return Columns(spec, matrix, row_width, ones_row, workspace, positive=positive)
    phases = split_phases(x, spec, spec.stride, layout.phase_shape, workspace, "input")
    sw = spec.stride[1]
    height_q, width_q = layout.phase_shape
    if layout.wide:
        flat = phases.reshape(len(phases), groups, per_group, batch, -1)
        run = spec.out_height * width_q
        for m, l, a, b, r, c in _tap_offsets(spec):
            start = r * width_q + c
            tap_rows[:, :, m, l] = flat[a * sw + b, :, :, :, start : start + run]
        # The extra columns wrapped into pixels their tap never reads: zero them, so that
        # dW = dY·colsᵀ is exact even when such a pixel is NaN or infinite.
        extra = tap_rows.reshape(groups, per_group, kh, kw, batch, spec.out_height, row_width)
        extra[..., spec.out_width :] = 0
    else:
        grid = tap_rows.reshape(groups, per_group, kh, kw, batch, spec.out_height, row_width)
        source = phases.reshape(len(phases), groups, per_group, batch, height_q + 1, width_q)
        for m, l, a, b, r, c in _tap_offsets(spec):
            window = source[a * sw + b, :, :, :, r : r + spec.out_height, c : c + row_width]
            grid[:, :, m, l] = window
    return Columns(spec, matrix, row_width, ones_row, workspace, positive=positive)


def _gather_in_two_steps(
    tap_rows: NDArray[Any],
    x: NDArray[Any],
    spec: ConvSpec,
    layout: _Layout,
    workspace: Workspace | None,
) -> None:
    """Compact-layout im2col through one copy per kernel column (see the module docstring).

    ``tap_rows`` is the column matrix as ``(groups, C/groups, k_h, k_w, N, H_out·W_out)``;
    ``x`` the input.
    """
    groups, per_group, _, _, batch, _ = tap_rows.shape
    height_q, width_q = layout.phase_shape
    width, run = spec.out_width, spec.out_height * spec.out_width
    taps = _tap_offsets(spec)
    # one copy per (phase row a, kernel column l): all the pixels column l reads there
    columns, slot = _kernel_columns(taps)
    shape = (len(columns), groups, per_group, batch, height_q + 1, width)
    if spec.stride == (1, 1):
        # one phase, the input itself, unpadded: kernel column l is copy l and tap (m, l)
        # starts m·d_h rows down it, so every tap is gathered in one strided copy
        shifted = zeroed(workspace, "cols.shifted", shape, x.dtype, region=spec)
        _shift_columns(x, spec, columns, shifted)
        flat = shifted.reshape(len(columns), groups, per_group, batch, -1)
        step_g, step_c, step_n, step_r = flat.strides[1:]
        down = spec.dilation[0] * width * flat.itemsize  # the next kernel row
        strides = (step_g, step_c, down, flat.strides[0], step_n, step_r)
        np.copyto(tap_rows, as_strided(flat, tap_rows.shape, strides, writeable=False))
        return
    phases = split_phases(x, spec, spec.stride, layout.phase_shape, workspace, "input")
    source = phases.reshape(len(phases), groups, per_group, batch, height_q + 1, width_q)
    shifted = buffer(workspace, "cols.shifted", shape, x.dtype)
    sw = spec.stride[1]
    for i, (a, _, b, c) in enumerate(columns):
        shifted[i] = source[a * sw + b, :, :, :, :, c : c + width]
    flat = shifted.reshape(len(columns), groups, per_group, batch, -1)
    for m, l, a, _, r, _ in taps:
        tap_rows[:, :, m, l] = flat[slot[a, l], :, :, :, r * width : r * width + run]


def _shift_columns(
    x: NDArray[Any],
    spec: ConvSpec,
    columns: tuple[tuple[int, int, int, int], ...],
    shifted: NDArray[Any],
) -> None:
    """At stride 1, ``shifted[l]`` ← the padded input's columns ``c_l … c_l + W_out − 1``.

    ``shifted`` is ``(k_w, groups, C/groups, N, H_p + 1, W_out)`` and holds zeros wherever
    the padding falls (a reused buffer keeps them: only the image's pixels are written).
    """
    (top, _), (left, _) = spec.padding
    height, width = spec.height, spec.width
    by_channel = x.transpose(1, 0, 2, 3).reshape((*shifted.shape[1:4], height, width))
    for i, (_, _, _, c) in enumerate(columns):
        first = max(0, left - c)  # the first output column whose pixel is in the image
        last = min(spec.out_width, width + left - c)
        if first < last:
            source = by_channel[..., first + c - left : last + c - left]
            shifted[i, :, :, :, top : top + height, first:last] = source


@lru_cache(maxsize=256)
def _kernel_columns(
    taps: _Taps,
) -> tuple[tuple[tuple[int, int, int, int], ...], dict[tuple[int, int], int]]:
    """The kernel columns of the two-step layout: ``(a, l, b, c)`` each, and their index.

    Kernel column ``l`` reads phase ``(a, b)`` from column offset ``c`` (one entry per phase
    row ``a`` that its taps use); the index maps ``(a, l)`` to its position in the list.
    """
    columns = tuple(sorted({(a, l, b, c) for _, l, a, b, _, c in taps}))
    return columns, {(a, l): i for i, (a, l, _, _) in enumerate(columns)}


def _scatter_in_two_steps(
    w: NDArray[Any],
    dy_rows: NDArray[Any],
    spec: ConvSpec,
    workspace: Workspace | None,
    out: NDArray[Any] | None = None,
) -> NDArray[Any]:
    """``dx`` for the compact layout of narrow outputs: :func:`_gather_in_two_steps` undone.

    ``dy_rows`` is ``(groups, F/groups, N·H_out·W_out)``. For a few images at a time,
    ``Wᵀ·dY`` is formed; each kernel column first sums its taps, shifted by their rows,
    into one block as wide as the output (long runs), and that block is then added into
    the phase it came from. Without the wide layout's extra columns the GEMM is smaller.
    """
    groups, per_group = spec.groups, spec.in_channels // spec.groups
    sw = spec.stride[1]
    height_q, width_q = _layout(spec).phase_shape
    width, run = spec.out_width, spec.out_height * spec.out_width
    shape = (spec.stride[0] * sw, groups, per_group, spec.batch, height_q + 1, width_q)
    dphases = zeroed(workspace, "dx", shape, dy_rows.dtype)
    taps = _tap_offsets(spec)
    columns, slot = _kernel_columns(taps)
    for first, last, blocks in _input_products(w, dy_rows, spec, run):
        sums_shape = (len(columns), groups, per_group, last - first, (height_q + 1) * width)
        sums = buffer(workspace, "dx.columns", sums_shape, dy_rows.dtype)
        started: set[int] = set()
        for tap, (_, l, a, _, r, _) in enumerate(taps):
            column, start = sums[slot[a, l]], r * width
            if slot[a, l] in started:
                column[..., start : start + run] += blocks[:, tap]
            else:  # a column's first tap is copied in, and only the rest cleared
                started.add(slot[a, l])
                column[..., :start] = 0
                column[..., start + run :] = 0
                column[..., start : start + run] = blocks[:, tap]
        by_row = sums.reshape(len(columns), groups, per_group, last - first, height_q + 1, width)
        for i, (a, _, b, c) in enumerate(columns):
            dphases[a * sw + b, :, :, first:last, :, c : c + width] += by_row[i]
    by_channel = dphases.reshape(len(dphases), spec.in_channels, spec.batch, height_q + 1, width_q)
    return merge_phases(by_channel, spec, spec.stride, out)


def _input_products(
    w: NDArray[Any], dy_rows: NDArray[Any], spec: ConvSpec, run: int
) -> Iterator[tuple[int, int, NDArray[Any]]]:
    """``Wᵀ·dY`` a few images at a time (:data:`SCATTER_CHUNK_BYTES`), for col2im.

    ``dy_rows`` is ``(groups, F/groups, N·run)``, ``run`` outputs per image. Yields
    ``(first, last, blocks)`` with ``blocks[g, tap, c]`` the ``(last − first, run)`` products
    of kernel tap ``tap`` (row-major ``(m, l)``) for input channel ``c`` of group ``g``.
    """
    groups, batch = spec.groups, spec.batch
    per_group, f_per_group = spec.in_channels // groups, spec.filters // groups
    taps = spec.kernel[0] * spec.kernel[1]
    # Wᵀ per group with rows (tap, c): the product's rows for one tap are one block
    by_tap = w.reshape(groups, f_per_group, per_group, taps).transpose(0, 3, 2, 1)
    stacked = by_tap.reshape(groups, taps * per_group, f_per_group)
    chunk = max(1, SCATTER_CHUNK_BYTES // (stacked.shape[1] * run * dy_rows.itemsize))
    for first in range(0, batch, chunk):
        last = min(batch, first + chunk)
        part = _matmul(stacked, dy_rows[:, :, first * run : last * run])
        yield first, last, part.reshape(groups, taps, per_group, last - first, run)


def _scatter(
    w: NDArray[Any],
    dy_wide: NDArray[Any],
    spec: ConvSpec,
    workspace: Workspace | None,
    out: NDArray[Any] | None = None,
) -> NDArray[Any]:
    """``dx``: col2im of ``Wᵀ·dY``, every column added back into the window it came from.

    ``dy_wide`` is laid out in the wide layout (one row per phase width, zeros in the extra
    columns), whatever layout the forward pass used: each tap's contribution is then one
    long run to add. ``Wᵀ·dY`` is formed a few images at a time
    (:data:`SCATTER_CHUNK_BYTES`), so that each block of products is still in cache when it
    is added into its windows.
    """
    groups, batch = spec.groups, spec.batch
    per_group = spec.in_channels // groups
    sw = spec.stride[1]
    height_q, width_q = _layout(spec).phase_shape
    shape = (spec.stride[0] * sw, groups, per_group, batch, (height_q + 1) * width_q)
    dphases = zeroed(workspace, "dx", shape, dy_wide.dtype)
    run = spec.out_height * width_q
    offsets = [(a * sw + b, r * width_q + c) for _, _, a, b, r, c in _tap_offsets(spec)]
    for first, last, blocks in _input_products(w, dy_wide, spec, run):
        for tap, (phase, start) in enumerate(offsets):
            dphases[phase, :, :, first:last, start : start + run] += blocks[:, tap]
    by_channel = dphases.reshape(len(dphases), spec.in_channels, batch, height_q + 1, width_q)
    return merge_phases(by_channel, spec, spec.stride, out)


def _by_kernel_rows(spec: ConvSpec) -> bool:
    """Whether col2im sums kernel rows in its GEMM (see :data:`BY_KERNEL_ROWS_UP_TO`)."""
    filters, channels = spec.filters // spec.groups, spec.in_channels // spec.groups
    return spec.stride == (1, 1) and filters <= BY_KERNEL_ROWS_UP_TO * spec.kernel[0] * channels


def _scatter_by_kernel_rows(
    w: NDArray[Any],
    dy_rows: NDArray[Any],
    row_width: int,
    spec: ConvSpec,
    workspace: Workspace | None,
    out: NDArray[Any] | None = None,
) -> NDArray[Any]:
    """``dx`` at stride 1: a kernel row's taps summed by the GEMM, the rows added after.

    ``dy_rows`` is ``(groups, F/groups, N·H_out·row_width)``, laid out as the forward
    pass laid out its columns (``row_width`` outputs per row). Kernel column ``l`` moves a
    gradient ``l·d_w`` pixels to the right; in the wide layout (``W_p`` per row, zeros in
    the extra columns) that is a shift of the whole flat array, since each row's
    ``(k_w − 1)·d_w`` trailing zeros absorb what wraps into the next row. With the ``k_w``
    shifted copies of ``dY`` stacked as rows ``(l, f)``, one GEMM with the filters laid out
    as ``(m, c) × (l, f)`` gives ``Z_m = Σ_l W_{m,l}ᵀ·shift_l(dY)`` for every kernel row
    ``m``; each ``Z_m`` is then added into ``dx`` ``m·d_h`` rows down: one long run per
    image and channel, instead of one add per tap.
    """
    groups, batch, dtype = spec.groups, spec.batch, dy_rows.dtype
    per_group, f_per_group = spec.in_channels // groups, spec.filters // groups
    kh, kw = spec.kernel
    dh, dw = spec.dilation
    height_p, width_p = spec.padded_shape
    run = spec.out_height * width_p  # one image's outputs in the wide layout
    by_rows = w.reshape(groups, f_per_group, per_group, kh, kw).transpose(0, 3, 2, 4, 1)
    stacked = by_rows.reshape(groups, kh * per_group, kw * f_per_group)
    shape = (1, groups, per_group, batch, (height_p + 1) * width_p)
    dphases = buffer(workspace, "dx", shape, dtype)
    per_image = (kw * f_per_group + kh * per_group) * groups * run * dtype.itemsize
    chunk = min(batch, max(1, SCATTER_CHUNK_BYTES // per_image))
    # copy 0 of each block is dY laid out wide: only its real columns are written, and a
    # reused buffer keeps the extra ones at zero (they sit at the same place in every block)
    stack = (groups, kw, f_per_group, chunk * run)
    blocks = zeroed(workspace, "dx.shifted", stack, dtype, region="dY wide in copy 0")
    real = dy_rows.reshape(groups, f_per_group, batch, spec.out_height, row_width)
    for first in range(0, batch, chunk):
        last = min(batch, first + chunk)
        length = (last - first) * run
        shifted = blocks[..., :length]
        dy_wide = shifted[:, 0]
        by_row = dy_wide.reshape(groups, f_per_group, last - first, spec.out_height, width_p)
        np.copyto(by_row[..., : spec.out_width], real[:, :, first:last, :, : spec.out_width])
        for l in range(1, kw):
            step = l * dw
            shifted[:, l, :, :step] = 0
            shifted[:, l, :, step:] = dy_wide[:, :, : length - step]
        products = _matmul(stacked, shifted.reshape(groups, kw * f_per_group, length))
        rows = products.reshape(groups, kh, per_group, last - first, run)
        target = dphases[0, :, :, first:last]
        target[..., :run] = rows[:, 0]  # kernel row 0 is copied in, the rest cleared
        target[..., run:] = 0
        for m in range(1, kh):
            start = m * dh * width_p
            target[..., start : start + run] += rows[:, m]
    by_channel = dphases.reshape(1, spec.in_channels, batch, height_p + 1, width_p)
    return merge_phases(by_channel, spec, spec.stride, out)


def _filter_rows(w: NDArray[Any], spec: ConvSpec, b: NDArray[Any] | None) -> NDArray[Any]:
    """Filters as rows per group, ``(groups, F/groups, C/groups·k_h·k_w [+ 1])``.

    With a bias it becomes the last column, to meet the column matrix's row of ones.
    """
    rows = w.reshape(spec.groups, spec.filters // spec.groups, -1)
    if b is None:
        return rows
    bias = b.reshape(spec.groups, spec.filters // spec.groups, 1)
    return np.concatenate([rows, bias], axis=2)


def _matmul(a: NDArray[Any], b: NDArray[Any]) -> NDArray[Any]:
    """Product of two stacks of matrices; a plain 2-D GEMM when there is one group."""
    product: NDArray[Any] = (a[0] @ b[0])[None] if a.shape[0] == 1 else np.matmul(a, b)
    return product


def _images_per_chunk(spec: ConvSpec, row_width: int, itemsize: int) -> int:
    """How many images' columns to gather at a time (see :data:`CHUNK_FROM_BYTES`)."""
    taps = spec.in_channels // spec.groups * spec.kernel[0] * spec.kernel[1] + 1
    per_image = spec.groups * taps * spec.out_height * row_width * itemsize
    if per_image * spec.batch <= CHUNK_FROM_BYTES:
        return spec.batch
    return images_per_chunk(spec.batch, per_image, CHUNK_BYTES)


def _multiply(
    w_rows: NDArray[Any],
    columns: Columns,
    out: NDArray[Any] | None = None,
    positive: NDArray[np.bool_] | None = None,
) -> NDArray[Any]:
    """``Y = W_row · X_col`` as NCHW, the discarded columns of the wide layout dropped.

    Written into ``out`` if given. Otherwise, in the compact layout, ``Y`` is returned as
    the product itself seen through a transpose, ``(N, F, H_out, W_out)`` with channels
    outermost in memory: NumPy treats it like any array, and the layers after it read it
    as fast, so a copy into NCHW order would only cost a pass over the output.
    With ``positive`` (``(F, N, H_out, W_out)``), the product goes through a ReLU and
    ``positive`` records where it was above zero.
    """
    assert columns.matrix is not None
    spec = columns.spec
    full = _matmul(w_rows, columns.matrix)  # (G, F/G, N·H_out·row_width)
    rows = full.reshape(spec.filters, spec.batch, spec.out_height, columns.row_width)
    real = rows[:, :, :, : spec.out_width]
    if positive is not None:
        np.greater(real, 0, out=positive)
        # in the GEMM's layout: a strided ReLU on the way into `out` is slower than the copy
        _relu_in_place(full, spec.out_height * columns.row_width, columns.workspace)
    by_image = real.transpose(1, 0, 2, 3)
    if out is None and columns.row_width == spec.out_width:
        return by_image
    if out is None:
        out = np.empty(spec.output_shape, dtype=full.dtype)
    np.copyto(out, by_image)
    return out


def _relu_in_place(values: NDArray[Any], row: int, workspace: Workspace | None) -> None:
    """``values = max(values, 0)`` for a contiguous array whose size ``row`` divides.

    The maximum is taken against a row of zeros: against the scalar 0, ``np.maximum``
    runs a loop 2–3× slower (NumPy 2.4).
    """
    zeros = zeroed(workspace, "relu.zeros", (row,), values.dtype, "never written")
    by_row = values.reshape(-1, row)
    np.maximum(by_row, zeros, out=by_row)


def _forward(
    x: NDArray[Any],
    w: NDArray[Any],
    b: NDArray[Any] | None,
    spec: ConvSpec,
    workspace: Workspace | None,
    relu: bool = False,
) -> tuple[NDArray[Any], Columns | winograd.WinogradTiles]:
    """The forward pass on checked arrays: gather, one GEMM, its product as NCHW.

    3×3 stride-1 layers with enough channels go through :mod:`cnnlib.conv.winograd`;
    large batches are processed in chunks of images (:data:`CHUNK_FROM_BYTES`). With
    ``relu``, the product goes through a ReLU, and where it let values through is recorded.
    """
    if winograd.applies(spec):
        y, tiles = winograd.forward(x, w, b, spec, workspace)
        if not relu:
            return y, tiles
        positive = np.greater(y, 0, out=buffer(workspace, "relu", y.shape, np.dtype(bool)))
        _relu_in_place(y, spec.out_height * spec.out_width, workspace)
        return y, replace(tiles, positive=positive)
    w_rows = _filter_rows(w, spec, b)
    shape = (spec.filters, spec.batch, spec.out_height, spec.out_width)
    positive = buffer(workspace, "relu", shape, np.dtype(bool)) if relu else None
    row_width = _layout(spec).row_width
    chunk = _images_per_chunk(spec, row_width, x.itemsize)
    if chunk == spec.batch:
        columns = _gather(x, spec, workspace, b is not None, positive)
        return _multiply(w_rows, columns, None, positive), columns
    y = np.empty(spec.output_shape, dtype=x.dtype)
    for first, last, part in spec.chunks(chunk):
        columns = _gather(x[first:last], part, workspace, b is not None)
        _multiply(
            w_rows, columns, y[first:last], None if positive is None else positive[:, first:last]
        )
    return y, Columns(spec, None, row_width, b is not None, workspace, x, chunk, positive)


def conv2d_forward(
    x: ArrayLike,
    w: ArrayLike,
    b: ArrayLike | None = None,
    stride: IntOrPair = 1,
    padding: Padding2D = 0,
    dilation: IntOrPair = 1,
    groups: int = 1,
    workspace: Workspace | None = None,
    relu: bool = False,
) -> tuple[NDArray[Any], Columns | winograd.WinogradTiles]:
    """:func:`conv2d` that also returns what its backward pass needs.

    That is the column matrix (:class:`Columns`), or for a Winograd layer its transformed
    tiles (:class:`cnnlib.conv.winograd.WinogradTiles`); pass it to
    :func:`conv2d_backward_columns`.

    Parameters
    ----------
    x, w, b, stride, padding, dilation, groups
        As in :func:`conv2d`.
    workspace
        Buffers to reuse between calls (see :class:`Workspace`); ``None`` allocates afresh.
    relu
        Fuse a ReLU: return ``max(0, conv2d(x, w, b))``, computed as the product is copied
        into place, and record where it was positive. The backward pass then expects the
        gradient of that output and passes it through the ReLU on its way into the GEMMs.
        Saves two passes over the output forward and two backward, against a separate
        :class:`~cnnlib.layers.activations.ReLU`.

    Returns
    -------
    tuple
        ``(y, columns)``: the output ``(N, F, H_out, W_out)`` and the saved columns. ``y``
        may be channels-first in memory (see :func:`conv2d`).
    """
    owner = "conv2d"
    x_arr, w_arr, b_arr = as_float_arrays(x, w, b, owner=owner)
    spec = conv_spec(x_arr.shape, w_arr.shape, stride, padding, dilation, groups, owner=owner)
    return _forward(x_arr, w_arr, b_arr, spec, workspace, relu)


def _output_gradient_rows(
    grad: NDArray[Any],
    spec: ConvSpec,
    row_width: int,
    workspace: Workspace | None,
    name: str,
    positive: NDArray[np.bool_] | None = None,
) -> NDArray[Any]:
    """``dy`` laid out like a GEMM output: ``(groups, F/groups, N·H_out·row_width)``.

    In the wide layout the extra outputs get a zero gradient; a reused buffer keeps those
    zeros, since only the real outputs are written. With ``positive`` (a fused ReLU's
    mask, ``(F, N, H_out, W_out)``), ``dy`` is zeroed where the ReLU's output was not.
    """
    shape = (spec.filters, spec.batch, spec.out_height, row_width)
    if row_width == spec.out_width:
        rows = buffer(workspace, name, shape, grad.dtype)
    else:
        rows = zeroed(workspace, name, shape, grad.dtype, region=spec.out_width)
    real, by_filter = rows[:, :, :, : spec.out_width], grad.transpose(1, 0, 2, 3)
    if positive is None:
        np.copyto(real, by_filter)
    else:
        through_relu(by_filter, positive, real)
    return rows.reshape(spec.groups, spec.filters // spec.groups, -1)


def through_relu(
    grad: NDArray[Any], positive: NDArray[np.bool_], out: NDArray[Any] | None = None
) -> NDArray[Any]:
    """The gradient through a ReLU: ``grad`` where its output was positive, else exactly 0.

    A product with the 0/1 mask is branch-free and several times faster than ``np.where``;
    only when ``grad`` holds an infinity or NaN (``0·∞`` is NaN) is ``np.where``'s exact 0,
    PyTorch's result, needed.
    """
    if np.isfinite(grad).all():
        product: NDArray[Any] = np.multiply(grad, positive, out=out)
        return product
    exact = np.where(positive, grad, grad.dtype.type(0))
    if out is None:
        return exact
    np.copyto(out, exact)
    return out


def conv2d_backward_columns(
    dy: ArrayLike,
    w: ArrayLike,
    columns: Columns | winograd.WinogradTiles,
    input_grad: bool = True,
) -> tuple[NDArray[Any] | None, NDArray[Any], NDArray[Any]]:
    """Gradients of a convolution from the columns (or tiles) its forward pass kept.

    Parameters
    ----------
    dy
        ``(N, F, H_out, W_out)``, the gradient of the loss with respect to the output.
    w
        The filters used in the forward pass.
    columns
        From :func:`conv2d_forward`.
    input_grad
        Compute ``dx``; a network's first layer does not need it (``dx`` is then ``None``).

    Returns
    -------
    tuple
        ``(dx, dw, db)``: ``dx`` in the input's dtype, ``dw`` and ``db`` in ``w``'s.
    """
    spec = columns.spec
    w_arr = np.asarray(w)
    if isinstance(columns, winograd.WinogradTiles):
        grad = check_output_gradient(dy, spec, columns.u.dtype, "conv2d_backward")
        if columns.positive is not None:
            grad = through_relu(grad, columns.positive)
        return winograd.backward(grad, w_arr, columns, input_grad)
    grad = check_output_gradient(dy, spec, _dtype(columns), "conv2d_backward")
    positive = columns.positive
    if columns.matrix is not None:
        dx, products = _backward_part(grad, w_arr, columns, positive, input_grad)
    else:  # gather the columns again, a chunk of images at a time
        assert columns.inputs is not None
        dx = np.empty(spec.input_shape, grad.dtype) if input_grad else None
        rows = spec.weight_shape[1] * spec.kernel[0] * spec.kernel[1] + 1
        products = np.zeros((spec.groups, spec.filters // spec.groups, rows), grad.dtype)
        for first, last, part in spec.chunks(columns.chunk):
            cols = _gather(columns.inputs[first:last], part, columns.workspace, columns.ones_row)
            out = None if dx is None else dx[first:last]
            mask = None if positive is None else positive[:, first:last]
            products += _backward_part(grad[first:last], w_arr, cols, mask, input_grad, out)[1]
    dw = products[:, :, :-1].reshape(spec.weight_shape)
    db = products[:, :, -1].reshape(spec.filters)
    return dx, dw.astype(w_arr.dtype), db.astype(w_arr.dtype)


def _dtype(columns: Columns) -> np.dtype[Any]:
    """The dtype the forward pass computed in."""
    kept = columns.matrix if columns.matrix is not None else columns.inputs
    assert kept is not None
    return kept.dtype


def _backward_part(
    grad: NDArray[Any],
    w: NDArray[Any],
    columns: Columns,
    positive: NDArray[np.bool_] | None,
    input_grad: bool,
    out: NDArray[Any] | None = None,
) -> tuple[NDArray[Any] | None, NDArray[Any]]:
    """``dx`` (into ``out`` if given) and ``[dW | db]`` per group for some images.

    ``columns`` holds the matrix of exactly the images of ``grad``; ``positive``, for a
    fused ReLU, the mask of those images. The products ``dY·X_colᵀ`` end with ``db``:
    against the row of ones, or else the row sums of ``dY`` appended.
    """
    assert columns.matrix is not None
    spec, workspace, dtype = columns.spec, columns.workspace, columns.matrix.dtype
    dy_rows = _output_gradient_rows(grad, spec, columns.row_width, workspace, "dy", positive)
    products = _matmul(dy_rows, columns.matrix.transpose(0, 2, 1))
    if not columns.ones_row:
        products = np.concatenate([products, dy_rows.sum(axis=2, keepdims=True)], axis=2)
    if not input_grad:
        return None, products
    w_arr = w.astype(dtype, copy=False)
    if _by_kernel_rows(spec):
        dx = _scatter_by_kernel_rows(w_arr, dy_rows, columns.row_width, spec, workspace, out)
        return dx, products
    layout = _layout(spec)  # as the forward pass laid the columns out
    if layout.two_steps:
        return _scatter_in_two_steps(w_arr, dy_rows, spec, workspace, out), products
    if not layout.wide:  # col2im adds long runs in the wide layout: re-lay dy out (masked)
        shape = (spec.filters, spec.batch, spec.out_height, spec.out_width)
        laid_out = dy_rows.reshape(shape).transpose(1, 0, 2, 3)
        wide = layout.phase_shape[1]
        dy_rows = _output_gradient_rows(laid_out, spec, wide, workspace, "dy.wide")
    return _scatter(w_arr, dy_rows, spec, workspace, out), products


def conv2d(
    x: ArrayLike,
    w: ArrayLike,
    b: ArrayLike | None = None,
    stride: IntOrPair = 1,
    padding: Padding2D = 0,
    dilation: IntOrPair = 1,
    groups: int = 1,
) -> NDArray[Any]:
    r"""2-D convolution (cross-correlation) of a batch: the fast path.

    .. math:: Y[n, f, i, j] = b[f] + \sum_{c, m, l} W[f, c, m, l]\,
              X_p[n, c,\; i s_h + m d_h,\; j s_w + l d_w]

    Parameters
    ----------
    x
        Input ``(N, C, H, W)``, float32 or float64; the output has the same dtype.
    w
        Filters ``(F, C / groups, k_h, k_w)``, PyTorch's layout.
    b
        Optional bias ``(F,)``.
    stride, dilation
        An int or a pair ``(height, width)``.
    padding
        An int, a pair ``(pad_h, pad_w)``, ``((top, bottom), (left, right))``, ``"valid"``
        or ``"same"`` (``ceil(n / stride)`` outputs, as in TensorFlow).
    groups
        Split channels and filters into this many independent groups; ``groups = C`` with
        ``F = C`` is a depthwise convolution.

    Returns
    -------
    numpy.ndarray
        ``(N, F, H_out, W_out)`` with
        ``H_out = ⌊(H + p_top + p_bottom − d_h(k_h − 1) − 1)/s_h⌋ + 1`` (likewise ``W_out``).
        It is often the matrix product itself seen through a transpose, laid out
        ``(F, N, H_out, W_out)`` in memory: copying it into NCHW order would cost a pass over
        the output for nothing, since NumPy (and the next layer) read it as fast. Call
        ``np.ascontiguousarray`` on it if something needs C order.

    Raises
    ------
    ValueError
        Wrong number of dimensions, channel mismatch between ``x`` and ``w``, a bias of
        the wrong length, a stride or dilation below 1, negative padding, or a kernel
        larger than the padded input (the message shows the output-size formula).
    TypeError
        Integer, boolean, complex or object arrays.

    See Also
    --------
    cnnlib.conv.conv2d_naive : the same computation with loops.

    Examples
    --------
    >>> x = np.arange(16.0).reshape(1, 1, 4, 4)
    >>> conv2d(x, np.ones((1, 1, 2, 2)), stride=2)[0, 0]
    array([[10., 18.],
           [42., 50.]])
    """
    return conv2d_forward(x, w, b, stride, padding, dilation, groups)[0]


def conv2d_backward(
    dy: ArrayLike,
    x: ArrayLike,
    w: ArrayLike,
    stride: IntOrPair = 1,
    padding: Padding2D = 0,
    dilation: IntOrPair = 1,
    groups: int = 1,
) -> tuple[NDArray[Any], NDArray[Any], NDArray[Any]]:
    r"""Gradients ``(dx, dw, db)`` of :func:`conv2d`: the fast path.

    .. math:: dW = X_p \star dY, \quad db = \sum dY, \quad
              dX = \operatorname{crop}\big(\operatorname{dilate}_s(dY) *_\text{full}
              \operatorname{dilate}_d(W)\big)

    computed as GEMMs with the input's column matrix and a col2im (see the module
    docstring). Chapter 3 derives the formulas.

    Parameters
    ----------
    dy
        Gradient of the loss with respect to the output, ``(N, F, H_out, W_out)``.
    x, w, stride, padding, dilation, groups
        Exactly as given to :func:`conv2d`.

    Returns
    -------
    tuple of numpy.ndarray
        ``dx`` ``(N, C, H, W)`` in ``x``'s dtype; ``dw`` and ``db`` in ``w``'s dtype.
    """
    x_arr, w_arr, _ = as_float_arrays(x, w, owner="conv2d_backward")
    spec = conv_spec(x_arr.shape, w_arr.shape, stride, padding, dilation, groups)
    dx, dw, db = conv2d_backward_columns(dy, w, _forward(x_arr, w_arr, None, spec, None)[1])
    assert dx is not None
    return dx, dw, db
