"""Argument checks shared by every module.

Each check names the function that received the bad value (``owner``), the parameter,
what it got and what it expected, so an error message is enough to fix the call.
"""

from __future__ import annotations

import functools
import numbers
from collections.abc import Callable, Sequence
from typing import ParamSpec, TypeVar

import numpy as np
from numpy.typing import NDArray

_P = ParamSpec("_P")
_R = TypeVar("_R")

__all__ = ["cache_plain_calls", "check_int", "int_pair", "is_plain", "real_array"]


def check_int(value: object, name: str, *, owner: str, minimum: int) -> int:
    """Return ``value`` as an ``int`` after checking its type and lower bound.

    Raises
    ------
    TypeError
        If ``value`` is not an integer (``bool`` and ``float`` are refused: ``2.0`` as a
        stride is almost always a bug upstream).
    ValueError
        If ``value < minimum``.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(
            f"{owner}: {name} must be an integer, got {value!r} ({type(value).__name__})"
        )
    as_int = int(value)
    if as_int < minimum:
        bound = "positive" if minimum == 1 else f"at least {minimum}"
        if minimum == 0:
            bound = "non-negative"
        raise ValueError(f"{owner}: {name} must be {bound}, got {as_int}")
    return as_int


def int_pair(value: object, name: str, *, owner: str, minimum: int) -> tuple[int, int]:
    """Return ``value`` as ``(height, width)``: an int is used for both axes.

    Raises
    ------
    TypeError
        If ``value`` is neither an integer nor a sequence of two integers.
    ValueError
        If an entry is below ``minimum``.
    """
    if isinstance(value, Sequence) and not isinstance(value, str):
        if len(value) != 2:
            raise TypeError(
                f"{owner}: {name} must be an int or a pair (height, width), got {value!r}"
            )
        return (
            check_int(value[0], f"{name}[0] (height)", owner=owner, minimum=minimum),
            check_int(value[1], f"{name}[1] (width)", owner=owner, minimum=minimum),
        )
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{owner}: {name} must be an int or a pair (height, width), got {value!r}")
    single = check_int(value, name, owner=owner, minimum=minimum)
    return single, single


def is_plain(*values: object) -> bool:
    """Whether ``values`` are built only of exact ``int``, ``str``, ``None`` and tuples of them.

    Such arguments are safe keys for a cache of checked results: ``bool``, ``float`` and
    NumPy scalars compare equal to ints (``True == 1``) but must still reach the checks
    that refuse them, and lists are not hashable.
    """
    for value in values:
        if type(value) is tuple:
            if not is_plain(*value):
                return False
        elif type(value) not in (int, str, type(None)):
            return False
    return True


def cache_plain_calls(check: Callable[_P, _R]) -> Callable[_P, _R]:
    """Decorate a check that computes sizes: calls with plain arguments are cached.

    Layers ask for the same sizes at every batch. Only calls whose arguments pass
    :func:`is_plain` are cached; the others (and every call that raises) are checked again
    each time, so no refused value can hide behind an equal cached one.
    """
    cached = functools.lru_cache(maxsize=256)(check)

    @functools.wraps(check)
    def checked(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        if is_plain(*args, *kwargs.values()):
            return cached(*args, **kwargs)  # type: ignore[arg-type]
        return check(*args, **kwargs)

    return checked


def real_array(value: object, name: str, *, owner: str, axes: Sequence[str]) -> NDArray[np.generic]:
    """Return ``value`` as a real (integer or floating point) array with ``len(axes)`` dimensions.

    Parameters
    ----------
    value
        Anything ``np.asarray`` accepts.
    name, owner
        Parameter and function names for the error message.
    axes
        Names of the expected axes, e.g. ``("H", "W")``; only their number is enforced.

    Raises
    ------
    TypeError
        For boolean, complex, object or string data: none of them is a real number.
    ValueError
        For the wrong number of dimensions, or an empty array.
    """
    array = np.asarray(value)
    layout = "(" + ", ".join(axes) + ")"
    if array.dtype.kind not in "iuf":
        raise TypeError(
            f"{owner}: {name} must hold real numbers (integer or floating point), "
            f"got dtype {array.dtype}"
        )
    if array.ndim != len(axes):
        raise ValueError(
            f"{owner}: {name} must be a {len(axes)}-D array {layout}, "
            f"got {array.ndim}-D with shape {array.shape}"
        )
    if array.size == 0:
        raise ValueError(f"{owner}: {name} is empty (shape {array.shape}); expected {layout}")
    return array
