"""Scratch buffers that a convolution layer reuses from call to call."""

from __future__ import annotations

import math
from collections.abc import Hashable
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["Workspace", "buffer", "zeroed"]

_UNKNOWN = object()  # what a buffer handed out by `empty` holds: anything


class Workspace:
    """Scratch buffers that one convolution layer reuses from call to call.

    The column matrices of a large layer take tens of megabytes. Allocating them afresh on
    every call makes the operating system map and zero new pages each time, which can cost
    as much as filling them; a layer that keeps a workspace pays that once. A buffer is
    overwritten by the next call that uses the same workspace, so give every layer its
    own, and keep no references to what :func:`cnnlib.conv.conv2d_forward` saved across
    calls.
    """

    def __init__(self) -> None:
        self._buffers: dict[str, NDArray[Any]] = {}
        self._regions: dict[str, object] = {}

    def _get(
        self, name: str, shape: tuple[int, ...], dtype: np.dtype[Any]
    ) -> tuple[NDArray[Any], bool]:
        """A view of ``shape`` at the start of the flat buffer ``name``, grown if too small.

        Requests of different sizes (a batch processed in unequal chunks, an epoch's last
        short batch) share one buffer instead of reallocating it each time.
        """
        dtype = np.dtype(dtype)
        size = math.prod(shape)
        flat = self._buffers.get(name)
        if flat is not None and flat.dtype == dtype and flat.size >= size:
            return flat[:size].reshape(shape), False
        flat = np.zeros(size, dtype=dtype)
        self._buffers[name] = flat
        return flat.reshape(shape), True

    def empty(self, name: str, shape: tuple[int, ...], dtype: np.dtype[Any]) -> NDArray[Any]:
        """The buffer called ``name``, with any contents; the caller overwrites all of it."""
        buffer, _ = self._get(name, shape, dtype)
        self._regions[name] = _UNKNOWN
        return buffer

    def zeros(
        self,
        name: str,
        shape: tuple[int, ...],
        dtype: np.dtype[Any],
        region: Hashable | None = None,
    ) -> NDArray[Any]:
        """The buffer called ``name``, all zeros.

        ``region`` names what the caller will write into it — e.g. the geometry that
        decides which pixels of a padded buffer hold data. When the buffer was last handed
        out for the same region and shape, everything else still holds zeros and it is not
        cleared again; otherwise (``None``, another region or shape, a new buffer) it is.
        """
        buffer, fresh = self._get(name, shape, dtype)
        key = _UNKNOWN if region is None else (shape, region)
        if not fresh and (key is _UNKNOWN or self._regions.get(name) != key):
            buffer.fill(0)
        self._regions[name] = key
        return buffer


def buffer(
    workspace: Workspace | None, name: str, shape: tuple[int, ...], dtype: np.dtype[Any]
) -> NDArray[Any]:
    """A scratch array whose contents the caller overwrites completely."""
    return np.empty(shape, dtype) if workspace is None else workspace.empty(name, shape, dtype)


def zeroed(
    workspace: Workspace | None,
    name: str,
    shape: tuple[int, ...],
    dtype: np.dtype[Any],
    region: Hashable | None = None,
) -> NDArray[Any]:
    """A scratch array of zeros (see :meth:`Workspace.zeros` for ``region``)."""
    if workspace is None:
        return np.zeros(shape, dtype)
    return workspace.zeros(name, shape, dtype, region)
