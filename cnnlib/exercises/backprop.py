"""Checkers for the exercises of chapter 3, "Backpropagation through a convolution".

Each ``check_<name>(fn)`` runs the learner's ``fn`` against a reference built from
:mod:`cnnlib.conv`, :mod:`cnnlib.signal` and :mod:`cnnlib.gradcheck` on the chapter's worked
examples first and then on edge cases (a batch, several channels, non-square inputs and
kernels, strides that exclude pixels, padding, ``1 × 1`` kernels), and names the usual
mistakes when it recognises them: a flipped kernel, an ignored stride, padding or bias,
channels that were not summed, an output one pixel too small, a gradient that was not
dilated, excluded pixels that were not trimmed, a missing rotation, a one-sided difference.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from cnnlib import conv, geometry, gradcheck, signal
from cnnlib.exercises.core import Case, Exercise, Mistake, random_grid

__all__ = [
    "check_conv2d",
    "check_kernel_gradient",
    "check_numerical_gradient",
    "check_strided_input_gradient",
]

Array = NDArray[Any]


# The chapter's worked example: a 3×3 input, a 2×2 kernel, stride 1, a 2×2 output gradient.
_X3 = np.array([[1, 2, 3], [4, 5, 6], [7, 8, 9]], dtype=float)
_K2 = np.array([[1, 0], [-1, 2]], dtype=float)
_DY2 = np.array([[1, -2], [3, 1]], dtype=float)


# ------------------------------------------------------------------------- conv2d (loops)
def _conv2d(x: Array, w: Array, b: Array | None = None, stride: int = 1, padding: int = 0) -> Array:
    return conv.conv2d(x, w, b, stride, padding)


def _cropped(
    size: Callable[[int, int, int, int], int], fixed_stride: int | None = None
) -> Callable[..., Array]:
    """A convolution cut to ``size(n, k, stride, padding)`` rows and columns.

    With ``fixed_stride`` given, the windows move by that instead of the stride asked for.
    """

    def wrong(
        x: Array, w: Array, b: Array | None = None, stride: int = 1, padding: int = 0
    ) -> Array:
        step = stride if fixed_stride is None else fixed_stride
        y = conv.conv2d(x, w, b, step, padding)
        rows = size(x.shape[2], w.shape[2], stride, padding)
        cols = size(x.shape[3], w.shape[3], stride, padding)
        return y[:, :, :rows, :cols]

    return wrong


def _first_channel_only(
    x: Array, w: Array, b: Array | None = None, stride: int = 1, padding: int = 0
) -> Array:
    return conv.conv2d(x[:, :1], w[:, :1], b, stride, padding)


def _channels_averaged(
    x: Array, w: Array, b: Array | None = None, stride: int = 1, padding: int = 0
) -> Array:
    return conv.conv2d(x, w / x.shape[1], b, stride, padding)


def _one_sided_padding(
    x: Array, w: Array, b: Array | None = None, stride: int = 1, padding: int = 0
) -> Array:
    return conv.conv2d(x, w, b, stride, ((padding, 0), (padding, 0)))


def _conv_case(
    x_shape: tuple[int, int, int, int],
    w_shape: tuple[int, int, int, int],
    seed: int,
    *,
    bias: bool,
    stride: int = 1,
    padding: int = 0,
    note: str,
) -> Case:
    x = random_grid(*x_shape, seed=seed)
    w = random_grid(*w_shape, seed=seed + 1)
    b = random_grid(w_shape[0], seed=seed + 2) if bias else None
    kwargs: dict[str, Any] = {"b": b}
    if stride != 1:
        kwargs["stride"] = stride
    if padding:
        kwargs["padding"] = padding
    return Case((x, w), kwargs, note=note)


CONV2D = Exercise(
    name="conv2d",
    reference=_conv2d,
    cases=(
        Case(
            (_X3[None, None], _K2[None, None]),
            {"b": None},
            note="the chapter's worked example: a 3×3 input and a 2×2 kernel, as a batch",
        ),
        _conv_case((1, 1, 4, 4), (1, 1, 2, 2), 1, bias=True, note="one channel with a bias"),
        _conv_case((1, 3, 5, 5), (2, 3, 3, 3), 3, bias=True, note="3 input channels, 2 filters"),
        _conv_case(
            (2, 2, 5, 7), (3, 2, 2, 3), 5, bias=False, note="a batch of 2, non-square sizes"
        ),
        _conv_case((1, 2, 5, 5), (2, 2, 3, 3), 7, bias=True, stride=2, note="stride 2"),
        _conv_case(
            (2, 2, 10, 10),
            (2, 2, 3, 3),
            9,
            bias=True,
            stride=2,
            note="stride 2 on 10×10: the last row and column are excluded",
        ),
        _conv_case((1, 2, 4, 4), (3, 2, 3, 3), 11, bias=True, padding=1, note="padding 1"),
        _conv_case(
            (2, 3, 6, 5),
            (2, 3, 3, 2),
            13,
            bias=False,
            stride=2,
            padding=2,
            note="padding 2 and stride 2 with a 3×2 kernel",
        ),
        _conv_case(
            (2, 4, 3, 4), (2, 4, 1, 1), 15, bias=True, note="1×1 filters: channels mixed per pixel"
        ),
        _conv_case((1, 2, 3, 4), (2, 2, 3, 4), 17, bias=True, note="kernel as large as the input"),
    ),
    mistakes=(
        Mistake(
            "you flipped the kernel: that is true convolution. A convolutional layer computes "
            "a cross-correlation — W[f, c, m, n] multiplies x[c, i·s + m, j·s + n], no rotation",
            lambda x, w, b=None, stride=1, padding=0: conv.conv2d(
                x, signal.rot180(w), b, stride, padding
            ),
        ),
        Mistake(
            "you ignored the stride: output (i, j) reads the window that starts at row "
            "i·stride, column j·stride, and H_out = ⌊(H + 2p − k_h)/stride⌋ + 1",
            lambda x, w, b=None, stride=1, padding=0: conv.conv2d(x, w, b, 1, padding),
        ),
        Mistake(
            "the output has the right size for the stride but the windows move one pixel at "
            "a time: output (i, j) starts at row i·stride, column j·stride of the padded input",
            _cropped(lambda n, k, s, p: (n + 2 * p - k) // s + 1, fixed_stride=1),
        ),
        Mistake(
            "you ignored the padding: add `padding` rows and columns of zeros on every side "
            "(np.pad on the last two axes) before sliding the window",
            lambda x, w, b=None, stride=1, padding=0: conv.conv2d(x, w, b, stride, 0),
        ),
        Mistake(
            "you padded only the top and left; `padding` zeros go on every side, so the "
            "padded input is (H + 2p) × (W + 2p)",
            _one_sided_padding,
        ),
        Mistake(
            "you ignored the bias: when b is given, add b[f] to every output of filter f",
            lambda x, w, b=None, stride=1, padding=0: conv.conv2d(x, w, None, stride, padding),
        ),
        Mistake(
            "you used only the first input channel; a filter spans all C channels: sum "
            "W[f, c] ⋆ x[c] over every c",
            _first_channel_only,
        ),
        Mistake(
            "you averaged over the input channels; a filter *sums* its C per-channel "
            "correlations (then adds one bias)",
            _channels_averaged,
        ),
        Mistake(
            "your output is one row and one column too small: you forgot the + 1 in "
            "H_out = ⌊(H + 2p − k_h)/stride⌋ + 1 (the first window sits at position 0)",
            _cropped(lambda n, k, s, p: (n + 2 * p - k) // s),
        ),
        Mistake(
            "your output is too small: you divided the + 1 by the stride as well; only "
            "(H + 2p − k_h) is divided: H_out = ⌊(H + 2p − k_h)/stride⌋ + 1",
            _cropped(lambda n, k, s, p: (n + 2 * p - k + 1) // s),
        ),
        Mistake(
            "you convolved only the first image of the batch; the output has one map per "
            "image: shape (N, F, H_out, W_out)",
            lambda x, w, b=None, stride=1, padding=0: conv.conv2d(x[:1], w, b, stride, padding),
        ),
    ),
    highlight="batches, channels, stride 2 with excluded pixels, padding and bias",
)


def check_conv2d(fn: Callable[..., Any]) -> bool:
    """Check ``fn(x, w, b=None, stride=1, padding=0)``, a batched convolution (``ex-conv2d``).

    ``x`` is ``(N, C, H, W)``, ``w`` is ``(F, C, k_h, k_w)``, ``b`` is ``None`` or ``(F,)``,
    and ``padding`` zeros go on every side; the answer is ``(N, F, H_out, W_out)``, as
    :func:`cnnlib.conv.conv2d` computes it.

    Raises
    ------
    cnnlib.exercises.ExerciseError
        With the first wrong case, what is wrong and the likely mistake.
    """
    return CONV2D.check(fn)


# ------------------------------------------------------------------------ kernel gradient
def _used(n: int, k: int, out: int, stride: int) -> int:
    """Pixels the windows reach along an axis: the rest were excluded by the stride."""
    return stride * (out - 1) + k


def _kernel_gradient(x: Array, dy: Array, kernel_shape: tuple[int, int], stride: int = 1) -> Array:
    rows = _used(x.shape[0], kernel_shape[0], dy.shape[0], stride)
    cols = _used(x.shape[1], kernel_shape[1], dy.shape[1], stride)
    return signal.correlate2d(x[:rows, :cols], signal.dilate2d(dy, stride))


def _trimmed(x: Array, dy: Array, kernel_shape: tuple[int, int], stride: int) -> Array:
    rows = _used(x.shape[0], kernel_shape[0], dy.shape[0], stride)
    cols = _used(x.shape[1], kernel_shape[1], dy.shape[1], stride)
    return x[:rows, :cols]


def _kernel_case(
    x: Array, kernel_shape: tuple[int, int], seed: int, *, stride: int = 1, note: str
) -> Case:
    out_h = geometry.conv_output_size(x.shape[0], kernel_shape[0], stride)
    out_w = geometry.conv_output_size(x.shape[1], kernel_shape[1], stride)
    dy = random_grid(out_h, out_w, seed=seed)
    kwargs = {"stride": stride} if stride != 1 else {}
    return Case((x, dy, kernel_shape), kwargs, note=note)


KERNEL_GRADIENT = Exercise(
    name="kernel_gradient",
    reference=_kernel_gradient,
    cases=(
        Case((_X3, _DY2, (2, 2)), note="the chapter's worked example: dK = X ⋆ dY"),
        _kernel_case(random_grid(5, 6, seed=21), (2, 3), 22, note="a non-square 2×3 kernel"),
        _kernel_case(
            random_grid(5, 5, seed=23), (3, 3), 24, stride=2, note="stride 2, no pixel excluded"
        ),
        _kernel_case(
            random_grid(10, 10, seed=25),
            (3, 3),
            26,
            stride=2,
            note="stride 2 on 10×10: the last row and column are excluded",
        ),
        _kernel_case(
            random_grid(7, 8, seed=27),
            (2, 2),
            28,
            stride=3,
            note="stride 3 (two zeros between gradient entries), 2 rows excluded",
        ),
        _kernel_case(
            random_grid(5, 4, seed=29), (1, 1), 30, stride=2, note="a 1×1 kernel with stride 2"
        ),
        _kernel_case(random_grid(3, 4, seed=31), (3, 4), 32, note="kernel as large as the input"),
    ),
    mistakes=(
        Mistake(
            "you forgot to dilate the output gradient: with stride s, insert s − 1 zeros "
            "between its rows and columns (signal.dilate2d(dy, s)) before correlating — "
            "output (i, j) read the input at row i·s + m, not i + m",
            lambda x, dy, ks, stride=1: signal.correlate2d(_trimmed(x, dy, ks, stride), dy),
        ),
        Mistake(
            "you forgot to trim the excluded pixels: the last (H − k_h) mod s rows (and "
            "columns) were never read by a window, so drop them from x before correlating; "
            "then dK has the kernel's shape",
            lambda x, dy, ks, stride=1: signal.correlate2d(x, signal.dilate2d(dy, stride)),
        ),
        Mistake(
            "you used the stride-1 formula dK = X ⋆ dY as it is; with a stride the output "
            "gradient must be dilated (s − 1 zeros between entries) and the excluded pixels "
            "trimmed from x",
            lambda x, dy, ks, stride=1: signal.correlate2d(x, dy),
        ),
        Mistake(
            "you ignored the stride: output (i, j) read the window that starts at row i·s, "
            "column j·s, so dK[m, n] = Σ dY[i, j]·x[i·s + m, j·s + n]",
            lambda x, dy, ks, stride=1: signal.correlate2d(x, dy)[: ks[0], : ks[1]],
        ),
        Mistake(
            "you convolved (flipped dY) instead of correlating: weight K[m, n] met "
            "x[i·s + m, j·s + n] in output (i, j), so dK[m, n] = Σ dY[i, j]·x[i·s + m, "
            "j·s + n] — a plain cross-correlation, no rotation",
            lambda x, dy, ks, stride=1: signal.convolve2d(
                _trimmed(x, dy, ks, stride), signal.dilate2d(dy, stride)
            ),
        ),
        Mistake(
            "your kernel gradient is rotated by 180° (as when the arguments are swapped, "
            "dY ⋆ X instead of X ⋆ dY); only dX needs the rotated kernel, dK is X ⋆ dY",
            lambda x, dy, ks, stride=1: signal.rot180(_kernel_gradient(x, dy, ks, stride)),
        ),
        Mistake(
            "you averaged over the output positions; a shared weight collects the *sum* of "
            "the gradients of every output it helped compute",
            lambda x, dy, ks, stride=1: _kernel_gradient(x, dy, ks, stride) / dy.size,
        ),
    ),
    highlight="dK = X ⋆ dilated dY, with excluded pixels trimmed",
)


def check_kernel_gradient(fn: Callable[..., Any]) -> bool:
    """Check ``fn(x, dy, kernel_shape, stride=1)``, the kernel gradient (``ex-kernel-gradient``).

    The layer computed ``y = correlate2d(x, K, stride=stride)`` ("valid", one channel) with a
    kernel of ``kernel_shape``, and ``dy`` is dL/dy; the answer is dL/dK, the correlation of
    ``x`` (trimmed of excluded pixels) with ``dy`` dilated by the stride.

    Raises
    ------
    cnnlib.exercises.ExerciseError
        With the first wrong case, what is wrong and the likely mistake.
    """
    return KERNEL_GRADIENT.check(fn)


# ----------------------------------------------------------------- strided input gradient
def _at_top_left(values: Array, shape: tuple[int, int]) -> Array:
    """``values`` in the top-left corner of zeros of ``shape`` (excluded pixels stay 0)."""
    out = np.zeros(shape, dtype=values.dtype)
    rows, cols = min(values.shape[0], shape[0]), min(values.shape[1], shape[1])
    out[:rows, :cols] = values[:rows, :cols]
    return out


def _strided_input_gradient(
    dy: Array, kernel: Array, input_shape: tuple[int, int], stride: int = 1
) -> Array:
    full = signal.convolve2d(signal.dilate2d(dy, stride), kernel, "full")
    return _at_top_left(full, input_shape)


def _at_bottom_right(values: Array, shape: tuple[int, int]) -> Array:
    out = np.zeros(shape, dtype=values.dtype)
    out[shape[0] - values.shape[0] :, shape[1] - values.shape[1] :] = values
    return out


def _input_case(
    input_shape: tuple[int, int], kernel: Array, seed: int, *, stride: int = 1, note: str
) -> Case:
    out_h = geometry.conv_output_size(input_shape[0], kernel.shape[0], stride)
    out_w = geometry.conv_output_size(input_shape[1], kernel.shape[1], stride)
    kwargs = {"stride": stride} if stride != 1 else {}
    return Case((random_grid(out_h, out_w, seed=seed), kernel, input_shape), kwargs, note=note)


STRIDED_INPUT_GRADIENT = Exercise(
    name="strided_input_gradient",
    reference=_strided_input_gradient,
    cases=(
        Case(
            (_DY2, _K2, (3, 3)),
            note="the chapter's worked example: dX = dY full-convolved with K",
        ),
        _input_case((4, 6), random_grid(2, 3, seed=41), 42, note="a non-square 2×3 kernel"),
        _input_case(
            (5, 5), random_grid(3, 3, seed=43), 44, stride=2, note="stride 2, nothing excluded"
        ),
        _input_case(
            (10, 10),
            random_grid(3, 3, seed=45),
            46,
            stride=2,
            note="stride 2 on 10×10: the last row and column get no gradient",
        ),
        _input_case(
            (7, 8),
            random_grid(2, 2, seed=47),
            48,
            stride=3,
            note="stride 3 (two zeros between gradient entries), 2 rows excluded",
        ),
        _input_case((5, 4), np.array([[1.5]]), 49, stride=2, note="a 1×1 kernel with stride 2"),
        _input_case((3, 4), random_grid(3, 4, seed=50), 51, note="kernel as large as the input"),
    ),
    mistakes=(
        Mistake(
            "you did not rotate the kernel (or rotated it twice: a true convolution with "
            "rot180(K) flips it back). Input pixel p received dY[i]·K[p − i·s], the kernel "
            "index running backwards: a full convolution with K, i.e. a full correlation "
            "with rot180(K)",
            lambda dy, k, shape, stride=1: _at_top_left(
                signal.correlate2d(signal.dilate2d(dy, stride), k, "full"), shape
            ),
        ),
        Mistake(
            "you forgot to dilate the output gradient: with stride s neighbouring outputs "
            "started s pixels apart, so insert s − 1 zeros between the entries of dY "
            "(signal.dilate2d(dy, s)) before the full convolution",
            lambda dy, k, shape, stride=1: _at_top_left(signal.convolve2d(dy, k, "full"), shape),
        ),
        Mistake(
            "you forgot to dilate the output gradient: with stride s neighbouring outputs "
            "started s pixels apart, so insert s − 1 zeros between the entries of dY "
            "(signal.dilate2d(dy, s)) before the full convolution",
            lambda dy, k, shape, stride=1: signal.convolve2d(dy, k, "full"),
        ),
        Mistake(
            "your gradient is smaller than the input: the excluded pixels (the last "
            "(H − k_h) mod s rows and columns) are missing. Put the full convolution in the "
            "top-left corner of zeros shaped like the input",
            lambda dy, k, shape, stride=1: signal.convolve2d(
                signal.dilate2d(dy, stride), k, "full"
            ),
        ),
        Mistake(
            "you put the zeros of the excluded pixels at the top and left; the excluded "
            "pixels are the *last* rows and columns, which no window reached: the full "
            "convolution goes in the top-left corner",
            lambda dy, k, shape, stride=1: _at_bottom_right(
                signal.convolve2d(signal.dilate2d(dy, stride), k, "full"), shape
            ),
        ),
    ),
    highlight="dX = dilated dY full-convolved with K, excluded pixels zero",
)


def check_strided_input_gradient(fn: Callable[..., Any]) -> bool:
    """Check ``fn(dy, kernel, input_shape, stride=1)``, dL/dX (``ex-strided-input-gradient``).

    The layer computed ``y = correlate2d(x, kernel, stride=stride)`` ("valid", one channel)
    on an input of ``input_shape``, and ``dy`` is dL/dy. The answer has ``input_shape``: the
    full convolution of the dilated ``dy`` with ``kernel`` in its top-left corner, zeros on
    the excluded pixels.

    Raises
    ------
    cnnlib.exercises.ExerciseError
        With the first wrong case, what is wrong and the likely mistake.
    """
    return STRIDED_INPUT_GRADIENT.check(fn)


# --------------------------------------------------------------------- numerical gradient
@dataclass(frozen=True)
class _Loss:
    """A scalar function of an array with a readable ``repr`` for the checker's messages."""

    formula: str
    fn: Callable[[NDArray[np.float64]], Any]

    def __call__(self, x: NDArray[np.float64]) -> float:
        return float(self.fn(x))

    def __repr__(self) -> str:
        return f"<f(x) = {self.formula}>"


def _numerical_gradient(f: _Loss, x: NDArray[np.float64], eps: float = 1e-6) -> Array:
    return gradcheck.numerical_gradient(f, x.copy(), eps=eps)


def _one_sided(f: _Loss, x: NDArray[np.float64], eps: float = 1e-6) -> Array:
    point, grad = x.copy(), np.zeros_like(x)
    base = f(point)
    for index in np.ndindex(x.shape):
        point[index] += eps
        grad[index] = (f(point) - base) / eps
        point[index] = x[index]
    return grad


def _without_the_two(f: _Loss, x: NDArray[np.float64], eps: float = 1e-6) -> Array:
    return 2 * _numerical_gradient(f, x, eps)


def _not_restored(f: _Loss, x: NDArray[np.float64], eps: float = 1e-6) -> Array:
    point, grad = x.copy(), np.zeros_like(x)
    for index in np.ndindex(x.shape):
        point[index] += eps
        plus = f(point)
        point[index] -= 2 * eps
        grad[index] = (plus - f(point)) / (2 * eps)  # ... and point[index] stays at x − eps
    return grad


def _all_at_once(f: _Loss, x: NDArray[np.float64], eps: float = 1e-6) -> Array:
    slope = (f(x + eps) - f(x - eps)) / (2 * eps)
    return np.full_like(x, slope)


_WEIGHTS = np.array([1.0, -2.0, 3.0])
_IMAGE = random_grid(4, 4, seed=61)
_KERNEL = np.array([[1.0, -1.0], [0.5, 2.0]])
_UPSTREAM = random_grid(3, 3, seed=62)

NUMERICAL_GRADIENT = Exercise(
    name="numerical_gradient",
    reference=_numerical_gradient,
    cases=(
        Case(
            (_Loss("sum(x**2)", lambda x: np.sum(x**2)), np.array([1.0, 2.0, 3.0])),
            note="the gradient of Σ x² is 2x",
        ),
        Case(
            (_Loss("sum(x**3)", lambda x: np.sum(x**3)), np.array([1.0, -2.0, 0.5])),
            {"eps": 0.1},
            note="a large step shows the method: central differences give 3x² + eps²",
        ),
        Case(
            (
                _Loss("(x[0] - 2*x[1] + 3*x[2])**2", lambda x: (x @ _WEIGHTS) ** 2),
                np.array([0.5, -1.0, 2.0]),
            ),
            {"eps": 0.01},
            note="every partial derivative depends on every entry of x",
        ),
        Case(
            (
                _Loss(
                    "sum(tanh(correlate2d(x, K)))",
                    lambda x: np.sum(np.tanh(signal.correlate2d(x, _KERNEL))),
                ),
                _IMAGE,
            ),
            {"eps": 1e-3},
            note="a 2-D input through a convolution and a tanh",
        ),
        Case(
            (
                _Loss(
                    "sum(G * correlate2d(x, K))",
                    lambda x: np.sum(_UPSTREAM * signal.correlate2d(x, _KERNEL)),
                ),
                _IMAGE,
            ),
            note="the loss Σ G ⊙ (X ⋆ K): the gradient is G full-correlated with rot180(K)",
        ),
    ),
    mistakes=(
        Mistake(
            "you took a one-sided difference (f(x + eps) − f(x))/eps; its error shrinks only "
            "like eps. Use the central difference (f(x + eps) − f(x − eps))/(2·eps), whose "
            "error shrinks like eps²",
            _one_sided,
        ),
        Mistake(
            "your gradient is twice too large: the central difference spans x − eps to "
            "x + eps, a distance of 2·eps, so divide by 2·eps",
            _without_the_two,
        ),
        Mistake(
            "you did not restore x after perturbing an entry: it stayed at x − eps, so every "
            "later partial derivative was measured at a shifted point. Put the original "
            "value back before moving to the next entry",
            _not_restored,
        ),
        Mistake(
            "you perturbed every entry at once; that measures the slope along the diagonal "
            "direction (the sum of all partial derivatives). Move one entry at a time",
            _all_at_once,
        ),
    ),
    highlight="central differences, one entry at a time",
)


def check_numerical_gradient(fn: Callable[..., Any]) -> bool:
    """Check ``fn(f, x, eps=1e-6)``, central differences (``ex-numerical-gradient``).

    ``f`` maps a float64 array to a scalar; the answer, shaped like ``x``, holds
    ``(f(x + eps·e_k) − f(x − eps·e_k)) / (2·eps)`` for every entry ``k``.

    Raises
    ------
    cnnlib.exercises.ExerciseError
        With the first wrong case, what is wrong and the likely mistake.
    """
    return NUMERICAL_GRADIENT.check(fn)
