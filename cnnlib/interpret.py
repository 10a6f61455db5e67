r"""Looking inside a trained network (chapter 9).

Five ways to ask a :class:`~cnnlib.model.Sequential` what it has learned:

``layer_outputs(model, x)``, ``feature_maps(model, x, layer)``
    The output of every layer (or of one) for a batch: the feature maps.
``input_gradient``, ``saliency_map``
    How the score :math:`y_c` of a class changes with every input pixel,
    :math:`\partial y_c / \partial x`, and the saliency map
    :math:`S_{ij} = \max_{ch} |\partial y_c / \partial x_{ch,ij}|`
    :cite:`simonyan2014saliency`.
``grad_cam``
    Grad-CAM :cite:`selvaraju2017gradcam`: channel weights
    :math:`\alpha_k = \frac{1}{hw}\sum_{ij} \partial y_c / \partial A_{k,ij}` from the
    gradient at a convolution layer's output :math:`A`, the map
    :math:`\mathrm{ReLU}(\sum_k \alpha_k A_k)`, upsampled to the input size.
``activation_maximization``
    Gradient ascent on the input to make one unit, channel or class score as large as
    possible, with an L2 penalty and optional blur and jitter :cite:`erhan2009visualizing`.
``linear_probe``, ``probe_layers``
    A softmax-regression classifier trained on the frozen features of each layer: how
    linearly decodable the classes are at that depth :cite:`alain2016probes`.

The gradients are computed with the layers' own ``forward(x, training=True)`` and
``backward(grad)``, so they are exactly those that training uses. Dropout is treated as
the identity, as at inference. Computing a gradient overwrites the layers' ``grads`` (as a
training step does) but never their parameters; the model's ``needs_input_grad`` flags are
restored afterwards. Class scores are the model's outputs, or the logits before a final
``Softmax``/``Sigmoid`` layer.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from cnnlib._validation import check_int
from cnnlib.layers import Conv2D, Dense, Dropout, Flatten, Layer, Sigmoid, Softmax
from cnnlib.losses import CrossEntropy
from cnnlib.metrics import accuracy
from cnnlib.model import Sequential
from cnnlib.optim import Adam

__all__ = [
    "ActivationMaximization",
    "GradCAM",
    "LinearProbe",
    "ProbeResult",
    "activation_maximization",
    "class_scores",
    "feature_maps",
    "find_layer",
    "gaussian_blur",
    "grad_cam",
    "input_gradient",
    "layer_gradient",
    "layer_outputs",
    "linear_probe",
    "probe_layers",
    "randomize_weights",
    "saliency_map",
    "standardize",
    "upsample_bilinear",
    "with_dtype",
]

#: Any NumPy array.
Array = NDArray[Any]
#: A layer of a model, named by its position in ``model.layers`` (negative counts from the
#: end) or by its name, e.g. ``-1`` or ``"conv2d_4"``.
LayerRef = int | str


# ------------------------------------------------------------------------------ plumbing
def _model(model: object, owner: str) -> Sequential:
    if not isinstance(model, Sequential):
        raise TypeError(f"{owner}: model must be a cnnlib Sequential, got {type(model).__name__}")
    if not model.built:
        raise ValueError(f"{owner}: the model is not built yet; give it an input_shape")
    return model


def find_layer(model: Sequential, layer: LayerRef) -> int:
    """The position of ``layer`` in ``model.layers``: by name, or by index (negative too).

    Raises
    ------
    ValueError
        For a name the model does not have (the message lists its layers) or an index out
        of range.
    TypeError
        For anything but a string or an integer.
    """
    model = _model(model, "find_layer")
    names = [each.name for each in model.layers]
    ref: object = layer
    if isinstance(ref, str):
        if ref not in names:
            raise ValueError(f"the model has no layer {ref!r}; its layers are {names}")
        return names.index(ref)
    if isinstance(ref, bool) or not isinstance(ref, numbers.Integral):
        raise TypeError(
            f"a layer is given by its name (e.g. {names[0]!r}) or its index, got {ref!r}"
        )
    count, position = len(names), int(ref)
    if not -count <= position < count:
        raise ValueError(
            f"layer index {position} is out of range for a model of {count} layers "
            f"(0 … {count - 1}, or −1 … −{count} from the end)"
        )
    return position % count


def _identity(layer: Layer) -> bool:
    """Layers that change nothing at inference: dropout."""
    return isinstance(layer, Dropout)


def _score_layers(model: Sequential) -> int:
    """How many layers produce the class scores: all, or all but a final softmax/sigmoid."""
    last = model.layers[-1]
    return len(model.layers) - 1 if isinstance(last, Softmax | Sigmoid) else len(model.layers)


def _forward(model: Sequential, x: Array, stop: int, training: bool) -> list[Array]:
    """Outputs of layers ``0 … stop`` (inclusive); dropout passes its input through."""
    outputs = []
    for layer in model.layers[: stop + 1]:
        x = x if _identity(layer) else layer.forward(x, training)
        outputs.append(x)
    return outputs


def _apply(layer: Layer, x: Array, batch_size: int = 256) -> Array:
    """One layer in inference mode, a batch at a time (bounds the convolutions' memory)."""
    parts = [layer.forward(x[i : i + batch_size], False) for i in range(0, len(x), batch_size)]
    return np.concatenate(parts)


def _backward(model: Sequential, grad: Array, top: int, bottom: int) -> Array:
    """Back through layers ``top … bottom + 1``: ``∂/∂(output of layer bottom)``.

    ``bottom = −1`` gives the gradient with respect to the model's input.
    """
    for index in range(top, bottom, -1):
        layer = model.layers[index]
        if _identity(layer):
            continue
        result = layer.backward(grad)
        assert result is not None  # _gradient switched needs_input_grad on
        grad = result
    return grad


def _gradient(
    model: Sequential,
    x: Array,
    top: int,
    seed: Callable[[Array], Array],
    bottom: int,
) -> tuple[list[Array], Array]:
    """Forward to layer ``top``, seed ``∂J/∂(its output)``, back to layer ``bottom``.

    Returns the outputs of layers ``0 … top`` and ``∂J/∂(output of bottom)`` (``∂J/∂x`` for
    ``bottom = −1``).
    """
    flags = [layer.needs_input_grad for layer in model.layers]
    try:
        for layer in model.layers:
            layer.needs_input_grad = True
        outputs = _forward(model, x, top, training=True)
        grad = _backward(model, seed(outputs[top]).astype(model.dtype, copy=False), top, bottom)
    finally:
        for layer, flag in zip(model.layers, flags, strict=True):
            layer.needs_input_grad = flag
    return outputs, grad


def _targets(target: ArrayLike | None, scores: Array, owner: str) -> NDArray[np.int64]:
    """One class per sample: the given ones (int or N ints), or the predicted ones."""
    n, classes = scores.shape
    if target is None:
        predicted: NDArray[np.int64] = scores.argmax(axis=1).astype(np.int64)
        return predicted
    array = np.asarray(target)
    if array.dtype.kind not in "iu":
        raise TypeError(
            f"{owner}: target_class must be an integer class or N of them, got {target!r}"
        )
    if array.ndim == 0:
        array = np.full(n, int(array))
    if array.shape != (n,):
        raise ValueError(
            f"{owner}: target_class must be one class or one per image ({n}), "
            f"got shape {array.shape}"
        )
    bad = np.flatnonzero((array < 0) | (array >= classes))
    if bad.size:
        raise ValueError(
            f"{owner}: target_class {int(array[bad[0]])} is out of range: the model has "
            f"{classes} classes (0 … {classes - 1})"
        )
    return array.astype(np.int64)


def _score_seed(
    target: ArrayLike | None, owner: str
) -> tuple[Callable[[Array], Array], dict[str, NDArray[np.int64]]]:
    """The seed ``∂y_c/∂scores`` (one-hot rows), and where it records the classes chosen."""
    chosen: dict[str, NDArray[np.int64]] = {}

    def seed(scores: Array) -> Array:
        if scores.ndim != 2:
            raise ValueError(
                f"{owner}: the model's scores must be (N, classes), got shape {scores.shape}"
            )
        picked = chosen["classes"] = _targets(target, scores, owner)
        onehot = np.zeros_like(scores)
        onehot[np.arange(len(scores)), picked] = 1
        return onehot

    return seed, chosen


# --------------------------------------------------------------------------- feature maps
def layer_outputs(model: Sequential, x: ArrayLike) -> dict[str, Array]:
    """The output of every layer for the batch ``x``, in inference mode, by layer name.

    Parameters
    ----------
    model
        A built :class:`~cnnlib.model.Sequential`.
    x
        ``(N, *model.input_shape)``.

    Returns
    -------
    dict
        ``{layer name: output}`` in the order of the layers; a convolution's output is
        ``(N, F, H, W)``: ``F`` feature maps per image.
    """
    model = _model(model, "layer_outputs")
    batch = model.check_inputs(x, "layer_outputs")
    outputs = _forward(model, batch, len(model.layers) - 1, training=False)
    return {layer.name: out for layer, out in zip(model.layers, outputs, strict=True)}


def feature_maps(model: Sequential, x: ArrayLike, layer: LayerRef) -> Array:
    """The output of one layer for the batch ``x`` (inference mode).

    Raises
    ------
    ValueError
        If the model has no such layer.
    """
    model = _model(model, "feature_maps")
    index = find_layer(model, layer)
    batch = model.check_inputs(x, "feature_maps")
    return _forward(model, batch, index, training=False)[index]


def class_scores(model: Sequential, x: ArrayLike) -> Array:
    """The class scores ``(N, K)``: the outputs, or the logits before a final softmax."""
    model = _model(model, "class_scores")
    batch = model.check_inputs(x, "class_scores")
    return _forward(model, batch, _score_layers(model) - 1, training=False)[-1]


# ------------------------------------------------------------------------------ saliency
def input_gradient(model: Sequential, x: ArrayLike, target_class: ArrayLike | None = None) -> Array:
    r"""The gradient of each image's class score with respect to its pixels.

    .. math:: G[n] = \frac{\partial y_{c_n}(x_n)}{\partial x_n}

    computed by one backward pass through the model's layers (chapter 9).

    Parameters
    ----------
    model
        A built classifier.
    x
        ``(N, *model.input_shape)``.
    target_class
        The class ``c`` whose score is differentiated: one for all images, one per image,
        or ``None`` for each image's predicted class.

    Returns
    -------
    numpy.ndarray
        Shaped like ``x``.

    Raises
    ------
    ValueError
        If a target class is out of range or ``x`` has the wrong shape.
    """
    owner = "input_gradient"
    model = _model(model, owner)
    batch = model.check_inputs(x, owner)
    seed, _ = _score_seed(target_class, owner)
    _, grad = _gradient(model, batch, _score_layers(model) - 1, seed, -1)
    return grad


def saliency_map(model: Sequential, x: ArrayLike, target_class: ArrayLike | None = None) -> Array:
    r"""Simonyan et al.'s saliency map: the largest absolute input gradient per pixel.

    .. math:: S[n, i, j] = \max_{ch} \left|
              \frac{\partial y_{c_n}}{\partial x_n[ch, i, j]} \right|

    It shows which pixels would change the class score most if they changed a little — a
    local, first-order statement about the score, not a proof of what the network "uses".

    Parameters
    ----------
    model, x, target_class
        As for :func:`input_gradient`; ``x`` must be images ``(N, C, H, W)``.

    Returns
    -------
    numpy.ndarray
        ``(N, H, W)``, non-negative.
    """
    gradient = input_gradient(model, x, target_class)
    if gradient.ndim != 4:
        raise ValueError(
            f"saliency_map: needs image inputs (N, C, H, W), got inputs of shape {gradient.shape}"
        )
    saliency: Array = np.abs(gradient).max(axis=1)
    return saliency


# ------------------------------------------------------------------------------ Grad-CAM
def upsample_bilinear(maps: ArrayLike, size: tuple[int, int]) -> Array:
    """Resize ``(N, h, w)`` maps to ``(N, H, W)`` by bilinear interpolation.

    Pixel centres are aligned as in PyTorch's ``interpolate(mode="bilinear",
    align_corners=False)``: output pixel ``i`` samples the input at
    ``(i + ½)·h/H − ½``, clamped to the image.
    """
    array = np.asarray(maps)
    if array.ndim != 3:
        raise ValueError(f"upsample_bilinear: maps must be (N, h, w), got shape {array.shape}")
    height = check_int(size[0], "size[0]", owner="upsample_bilinear", minimum=1)
    width = check_int(size[1], "size[1]", owner="upsample_bilinear", minimum=1)
    rows = _interpolation_matrix(array.shape[1], height, array.dtype)
    cols = _interpolation_matrix(array.shape[2], width, array.dtype)
    result: Array = rows @ array @ cols.T
    return result


def _interpolation_matrix(source: int, target: int, dtype: Any) -> Array:
    """``(target, source)`` weights of 1-D linear interpolation (PyTorch's convention)."""
    position = (np.arange(target) + 0.5) * (source / target) - 0.5
    position = np.clip(position, 0, None)
    low = np.minimum(np.floor(position).astype(np.int64), source - 1)
    high = np.minimum(low + 1, source - 1)
    share = position - low
    matrix = np.zeros((target, source), dtype=np.float64)
    np.add.at(matrix, (np.arange(target), low), 1 - share)
    np.add.at(matrix, (np.arange(target), high), share)
    return matrix.astype(dtype if np.dtype(dtype).kind == "f" else np.float64)


@dataclass(frozen=True)
class GradCAM:
    r"""What :func:`grad_cam` computed.

    Attributes
    ----------
    heatmap
        ``(N, H, W)``: ``cam`` upsampled to the input size.
    cam
        ``(N, h, w)``: :math:`\mathrm{ReLU}(\sum_k \alpha_k A_k)` at the layer's resolution.
    weights
        ``(N, K)``: the channel weights :math:`\alpha_k`.
    activations, gradients
        ``(N, K, h, w)``: the layer's output :math:`A` and :math:`\partial y_c / \partial A`.
    classes
        ``(N,)``: the class explained for each image.
    layer
        The layer's name.
    """

    heatmap: Array
    cam: Array
    weights: Array
    activations: Array = field(repr=False)
    gradients: Array = field(repr=False)
    classes: NDArray[np.int64]
    layer: str


def _last_conv(model: Sequential) -> int:
    for index in range(len(model.layers) - 1, -1, -1):
        if isinstance(model.layers[index], Conv2D):
            return index
    raise ValueError("grad_cam: the model has no Conv2D layer; name the layer to explain")


def _class_gradient_at(
    model: Sequential, x: ArrayLike, index: int, target_class: ArrayLike | None, owner: str
) -> tuple[Array, Array, NDArray[np.int64]]:
    """Layer ``index``'s output ``A``, ``∂y_c/∂A`` and the classes ``c`` explained."""
    top = _score_layers(model) - 1
    if index >= top:
        raise ValueError(
            f"{owner}: {model.layers[index].name} does not come before the class scores; "
            "choose an earlier layer"
        )
    batch = model.check_inputs(x, owner)
    seed, chosen = _score_seed(target_class, owner)
    outputs, grad = _gradient(model, batch, top, seed, index)
    return outputs[index], grad, chosen["classes"]


def layer_gradient(
    model: Sequential,
    x: ArrayLike,
    layer: LayerRef,
    target_class: ArrayLike | None = None,
) -> tuple[Array, Array]:
    r"""A layer's output :math:`A` and the gradient :math:`\partial y_c / \partial A`.

    Parameters
    ----------
    model, x, target_class
        As for :func:`input_gradient`.
    layer
        The layer's name or index; it must come before the class scores.

    Returns
    -------
    tuple
        ``(A, ∂y_c/∂A)``, both shaped like the layer's output for the batch.
    """
    owner = "layer_gradient"
    model = _model(model, owner)
    activations, grad, _ = _class_gradient_at(
        model, x, find_layer(model, layer), target_class, owner
    )
    return activations, grad


def grad_cam(
    model: Sequential,
    x: ArrayLike,
    target_class: ArrayLike | None = None,
    layer: LayerRef | None = None,
) -> GradCAM:
    r"""Grad-CAM: where in the image the evidence for class ``c`` lies, seen from a layer.

    With :math:`A_k` the ``k``-th feature map of a convolution layer (``h × w``) and
    :math:`y_c` the class score,

    .. math:: \alpha_k = \frac{1}{hw} \sum_{i,j} \frac{\partial y_c}{\partial A_{k,ij}},
              \qquad L_c = \mathrm{ReLU}\Big(\sum_k \alpha_k A_k\Big),

    and :math:`L_c` is upsampled bilinearly to the input size
    :cite:`selvaraju2017gradcam`. The ReLU keeps only the regions whose features raise the
    score. The map is as coarse as the layer: a 14 × 14 layer gives 2 × 2-pixel blocks.

    Parameters
    ----------
    model, x, target_class
        As for :func:`input_gradient`; ``x`` must be images ``(N, C, H, W)``.
    layer
        The convolution layer to look from (name or index); by default the last
        ``Conv2D``.

    Raises
    ------
    ValueError
        If the layer's output is not feature maps ``(K, h, w)``, or the layer is unknown.
    """
    owner = "grad_cam"
    model = _model(model, owner)
    index = _last_conv(model) if layer is None else find_layer(model, layer)
    chosen = model.layers[index]
    assert chosen.output_shape is not None
    assert model.input_shape is not None
    if len(chosen.output_shape) != 3 or len(model.input_shape) != 3:
        raise ValueError(
            f"{owner}: Grad-CAM needs a layer with feature maps (K, h, w) on image inputs; "
            f"{chosen.name} outputs {chosen.output_shape}"
        )
    activations, gradients, classes = _class_gradient_at(model, x, index, target_class, owner)
    weights = gradients.mean(axis=(2, 3))
    cam = np.maximum(np.einsum("nk,nkhw->nhw", weights, activations), 0)
    heatmap = upsample_bilinear(cam, (model.input_shape[1], model.input_shape[2]))
    return GradCAM(
        heatmap=heatmap,
        cam=cam,
        weights=weights,
        activations=activations,
        gradients=gradients,
        classes=classes,
        layer=chosen.name,
    )


# ------------------------------------------------------------------ activation maximisation
def gaussian_blur(images: ArrayLike, sigma: float) -> Array:
    """Blur ``(…, H, W)`` images with a Gaussian of standard deviation ``sigma`` pixels.

    The kernel is truncated at ``3σ`` (rounded to whole pixels) and normalised; borders
    repeat the edge pixels, as in ``scipy.ndimage.gaussian_filter(mode="nearest")``.
    ``sigma = 0`` returns a copy.
    """
    array = np.array(images, copy=True)
    if sigma < 0:
        raise ValueError(f"gaussian_blur: sigma must be non-negative, got {sigma}")
    if sigma == 0:
        return array
    radius = int(3 * sigma + 0.5)  # as scipy.ndimage.gaussian_filter(truncate=3)
    taps = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    taps /= taps.sum()
    for axis in (-2, -1):
        widths = [(0, 0)] * array.ndim
        widths[axis] = (radius, radius)
        padded = np.pad(array, widths, mode="edge")
        size = array.shape[axis]
        blurred = np.zeros_like(array)
        for offset, tap in enumerate(taps):
            blurred += tap * np.take(padded, np.arange(offset, offset + size), axis=axis)
        array = blurred
    return array


@dataclass(frozen=True)
class ActivationMaximization:
    r"""What :func:`activation_maximization` found.

    Attributes
    ----------
    images
        ``(N, *input_shape)``: one optimised input per unit.
    units
        ``(N,)``: the unit, channel or class each image maximises.
    layer
        The layer's name.
    activation
        ``(steps + 1, N)``: the activation :math:`a(x)` before the first and after every step.
    objective
        ``(steps + 1, N)``: :math:`a(x) - \lambda \lVert x \rVert^2`.
    """

    images: Array
    units: NDArray[np.int64]
    layer: str
    activation: Array = field(repr=False)
    objective: Array = field(repr=False)


def _unit_values(output: Array, units: NDArray[np.int64]) -> Array:
    """Each sample's unit: a channel's mean over positions, or a vector's entry."""
    picked = output[np.arange(len(output)), units]
    values: Array = picked.reshape(len(output), -1).mean(axis=1)
    return values


def activation_maximization(
    model: Sequential,
    layer: LayerRef,
    units: int | Sequence[int] | ArrayLike,
    *,
    steps: int = 100,
    lr: float = 0.1,
    l2: float = 0.0,
    blur: float = 0.0,
    blur_every: int = 4,
    jitter: int = 0,
    clip: tuple[float, float] | None = None,
    start: ArrayLike | None = None,
    seed: int = 0,
) -> ActivationMaximization:
    r"""Find inputs that excite one unit, channel or class score as much as possible.

    For the unit's activation :math:`a(x)` — a channel's mean over positions for a
    convolution layer, one entry for a dense layer (the class score for the last one) —
    gradient ascent on the penalised objective

    .. math:: J(x) = a(x) - \lambda \lVert x \rVert^2, \qquad
              x \leftarrow x + \eta\,\big(\nabla_x a(x) - 2 \lambda x\big)

    starting from faint noise :cite:`erhan2009visualizing`. The L2 penalty keeps the image
    from growing without bound; optional regularisers make the result look less like
    high-frequency noise :cite:`yosinski2015understanding`: ``jitter`` shifts the image by
    a random offset before each gradient (rolling it back after), ``blur`` smooths it
    every ``blur_every`` steps, ``clip`` keeps pixels in a valid range. Each unit gets its
    own image; all are optimised together in one batch.

    Parameters
    ----------
    model
        A built model.
    layer
        The layer (name or index) whose unit is maximised.
    units
        One unit (channel) index, or several: one image each.
    steps, lr, l2
        The number of steps, :math:`\eta` and :math:`\lambda`.
    blur, blur_every
        The Gaussian blur's standard deviation in pixels (0 for none) and how often.
    jitter
        The largest random shift in pixels (0 for none).
    clip
        ``(low, high)`` pixel limits, e.g. ``(0, 1)`` for MNIST; ``None`` for none.
    start
        The initial images ``(N, *input_shape)`` (or one, for every unit); by default
        Gaussian noise of standard deviation 0.01 around 0.
    seed
        Seeds the initial noise and the jitter.

    Raises
    ------
    ValueError
        If the layer is unknown or a unit is out of range.
    """
    owner = "activation_maximization"
    model = _model(model, owner)
    index = find_layer(model, layer)
    chosen = model.layers[index]
    assert chosen.output_shape is not None
    assert model.input_shape is not None
    wanted = np.atleast_1d(np.asarray(units))
    if wanted.dtype.kind not in "iu" or wanted.ndim != 1:
        raise TypeError(f"{owner}: units must be an integer or a list of integers, got {units!r}")
    count = chosen.output_shape[0]
    bad = np.flatnonzero((wanted < 0) | (wanted >= count))
    if bad.size:
        raise ValueError(
            f"{owner}: unit {int(wanted[bad[0]])} is out of range: {chosen.name} has "
            f"{count} {'channels' if len(chosen.output_shape) == 3 else 'units'} (0 … {count - 1})"
        )
    steps = check_int(steps, "steps", owner=owner, minimum=0)
    blur_every = check_int(blur_every, "blur_every", owner=owner, minimum=1)
    jitter = check_int(jitter, "jitter", owner=owner, minimum=0)
    if l2 < 0 or blur < 0:
        raise ValueError(f"{owner}: l2 and blur must be non-negative, got {l2} and {blur}")
    wanted = wanted.astype(np.int64)
    rng = np.random.default_rng(seed)
    shape = (len(wanted), *model.input_shape)
    if start is None:
        x = 0.01 * rng.standard_normal(shape)
    else:
        x = np.broadcast_to(np.asarray(start, dtype=np.float64), shape).copy()
    x = x.astype(model.dtype)
    if clip is not None:
        x = np.clip(x, *clip)

    def seed_grad(output: Array) -> Array:
        grad = np.zeros_like(output)
        positions = int(np.prod(output.shape[2:], dtype=np.int64))
        grad[np.arange(len(output)), wanted] = 1.0 / positions
        return grad

    activations: list[Array] = []
    objectives: list[Array] = []

    def record(images: Array, output: Array | None = None) -> None:
        """``a(x)`` and ``J(x)``, from the layer's ``output`` for ``images`` if it is known."""
        if output is None:
            output = _forward(model, images, index, training=False)[index]
        activation = _unit_values(output, wanted).astype(np.float64)
        norm = np.sum(images.astype(np.float64) ** 2, axis=tuple(range(1, images.ndim)))
        activations.append(activation)
        objectives.append(activation - l2 * norm)

    for step in range(steps):
        dy, dx = map(int, rng.integers(-jitter, jitter + 1, size=2)) if jitter else (0, 0)
        shifted = np.roll(x, (dy, dx), axis=(-2, -1))
        outputs, grad = _gradient(model, shifted, index, seed_grad, -1)
        # unshifted, the gradient's forward pass has already computed a(x)
        record(x, outputs[index] if dy == dx == 0 else None)
        grad = np.roll(grad, (-dy, -dx), axis=(-2, -1))
        x = x + lr * (grad - 2 * l2 * x)  # Python floats keep float32 arrays float32
        if blur and (step + 1) % blur_every == 0:
            x = gaussian_blur(x, blur).astype(model.dtype)
        if clip is not None:
            x = np.clip(x, *clip)
    record(x)
    return ActivationMaximization(
        images=x,
        units=wanted,
        layer=chosen.name,
        activation=np.array(activations),
        objective=np.array(objectives),
    )


# ------------------------------------------------------------------------- linear probes
def _statistics(features: Array) -> tuple[Array, Array]:
    """Each feature's mean and standard deviation, accumulated in float64."""
    mean = features.mean(axis=0, dtype=np.float64)
    std = np.sqrt(
        np.mean(np.square(features - mean.astype(features.dtype)), axis=0, dtype=np.float64)
    )
    return mean, std


def standardize(
    train: ArrayLike, test: ArrayLike | None = None
) -> tuple[Array, Array | None, Array, Array]:
    r"""Scale every feature to mean 0 and standard deviation 1 *on the training set*.

    .. math:: z = \frac{x - \mu_{\text{train}}}{\sigma_{\text{train}}}

    Features that are constant on the training set (:math:`\sigma = 0`, e.g. a dead
    ReLU's) are only centred. The test set is scaled with the training statistics: it is
    data the probe must not have seen.

    Returns
    -------
    tuple
        ``(train_z, test_z, mean, std)``; ``test_z`` is ``None`` without a test set.
    """
    train_array = np.asarray(train, dtype=np.float64)
    if train_array.ndim != 2:
        raise ValueError(f"standardize: features must be (N, D), got shape {train_array.shape}")
    mean, std = _statistics(train_array)
    scale = np.where(std > 0, std, 1.0)
    test_z = None
    if test is not None:
        test_array = np.asarray(test, dtype=np.float64)
        if test_array.ndim != 2 or test_array.shape[1] != train_array.shape[1]:
            raise ValueError(
                f"standardize: test features must be (M, {train_array.shape[1]}), "
                f"got shape {test_array.shape}"
            )
        test_z = (test_array - mean) / scale
    return (train_array - mean) / scale, test_z, mean, std


def _scaled(features: Array, mean: Array, std: Array) -> NDArray[np.float32]:
    """``(x − μ) / σ`` in float32 (σ = 0 → 1), without a float64 copy of the features."""
    scale = np.where(std > 0, std, 1.0).astype(np.float32)
    shifted = features.astype(np.float32) - mean.astype(np.float32)
    result: NDArray[np.float32] = shifted / scale
    return result


@dataclass(frozen=True)
class LinearProbe:
    """A trained linear probe (:func:`linear_probe`).

    Attributes
    ----------
    model
        ``Sequential([Dense(K)])`` on the standardised features.
    mean, std
        The training set's feature statistics (applied before the probe).
    train_accuracy, test_accuracy
        The probe's accuracy on the features it was trained on and on held-out ones.
    """

    model: Sequential = field(repr=False)
    mean: Array = field(repr=False)
    std: Array = field(repr=False)
    train_accuracy: float
    test_accuracy: float

    def predict(self, features: ArrayLike) -> Array:
        """Class scores ``(N, K)`` for features ``(N, D)`` (standardised like the training set)."""
        return self.model.predict(_scaled(_flat(features, "features"), self.mean, self.std))


def _flat(features: ArrayLike, name: str) -> Array:
    array = np.asarray(features)
    if array.ndim < 2 or array.shape[0] == 0:
        raise ValueError(f"linear_probe: {name} must be (N, ...) features, got {array.shape}")
    return array.reshape(len(array), -1)


def linear_probe(
    train_features: ArrayLike,
    train_labels: ArrayLike,
    test_features: ArrayLike,
    test_labels: ArrayLike,
    *,
    classes: int | None = None,
    epochs: int = 30,
    batch_size: int = 100,
    lr: float = 1e-2,
    weight_decay: float = 1e-3,
    seed: int = 0,
) -> LinearProbe:
    r"""Train a softmax-regression probe on frozen features; report its accuracies.

    The features (flattened to ``(N, D)``) are standardised with the training set's
    statistics, then a single :class:`~cnnlib.layers.core.Dense` layer with ``K`` outputs is
    trained with :class:`~cnnlib.losses.CrossEntropy` and :class:`~cnnlib.optim.Adam`
    (weight decay :math:`\mu` is an L2 penalty :math:`\frac{\mu}{2}\lVert W \rVert^2` on
    the mean loss) :cite:`alain2016probes`. The probe is linear, so its accuracy measures
    how *linearly* separable the classes are in these features — not everything the layer
    knows.

    Parameters
    ----------
    train_features, train_labels
        ``(N, …)`` features and ``N`` integer labels for training the probe.
    test_features, test_labels
        Held-out features and labels for its accuracy.
    classes
        ``K``; by default one more than the largest label.
    epochs, batch_size, lr, weight_decay, seed
        The training: Adam's learning rate and weight decay, mini-batches from a seeded
        shuffle; weights start at zero (the problem is convex).

    Returns
    -------
    LinearProbe
    """
    train_x, test_x = _flat(train_features, "train_features"), _flat(test_features, "test_features")
    train_y = np.asarray(train_labels).astype(np.int64)
    test_y = np.asarray(test_labels).astype(np.int64)
    if len(train_y) != len(train_x) or len(test_y) != len(test_x):
        raise ValueError(
            f"linear_probe: {len(train_x)} and {len(test_x)} feature rows but "
            f"{len(train_y)} and {len(test_y)} labels"
        )
    if classes is None:
        classes = int(max(train_y.max(), test_y.max())) + 1
    classes = check_int(classes, "classes", owner="linear_probe", minimum=2)
    mean, std = _statistics(train_x)
    train_32 = _scaled(train_x, mean, std)
    probe = Sequential(
        [Dense(classes, kernel_initializer="zeros")],
        input_shape=(train_32.shape[1],),
        seed=seed,
    )
    probe.compile(CrossEntropy(), Adam(lr, weight_decay=weight_decay))
    probe.fit(train_32, train_y, epochs=epochs, batch_size=batch_size, progress=False)
    train_accuracy = accuracy(probe.predict(train_32), train_y)
    test_accuracy = accuracy(probe.predict(_scaled(test_x, mean, std)), test_y)
    return LinearProbe(probe, mean, std, train_accuracy, test_accuracy)


@dataclass(frozen=True)
class ProbeResult:
    """One row of :func:`probe_layers`: a layer and its probe's accuracies."""

    layer: str
    shape: tuple[int, ...]
    features: int
    train_accuracy: float
    test_accuracy: float


def probe_layers(
    model: Sequential,
    x_train: ArrayLike,
    y_train: ArrayLike,
    x_test: ArrayLike,
    y_test: ArrayLike,
    **probe_options: Any,
) -> list[ProbeResult]:
    """A linear probe on the raw input and on the output of every layer, in order.

    Layers whose output only repeats their input (``Flatten``, ``Dropout``) are skipped;
    the first row is the raw input (``"input"``), the last the class scores. The features
    are computed in inference mode, one layer at a time, so that only one layer's
    features are held in memory.

    Parameters
    ----------
    model
        The trained model, frozen.
    x_train, y_train
        Images and labels to train each probe on.
    x_test, y_test
        Held-out images and labels to measure it on.
    probe_options
        Passed on to :func:`linear_probe` (``epochs``, ``lr``, ``weight_decay``, …).

    Returns
    -------
    list of ProbeResult
    """
    owner = "probe_layers"
    model = _model(model, owner)
    train = model.check_inputs(x_train, owner)
    test = model.check_inputs(x_test, owner)
    classes = int(model.output_shape[0]) if model.output_shape else None
    probe_options.setdefault("classes", classes)
    results = []

    def probe(name: str, a: Array, b: Array) -> None:
        found = linear_probe(a, y_train, b, y_test, **probe_options)
        features = int(np.prod(a.shape[1:]))
        results.append(
            ProbeResult(
                name, tuple(a.shape[1:]), features, found.train_accuracy, found.test_accuracy
            )
        )

    probe("input", train, test)
    for layer in model.layers:
        if _identity(layer):
            continue
        train, test = _apply(layer, train), _apply(layer, test)
        if not isinstance(layer, Flatten):
            probe(layer.name, train, test)
    return results


# ------------------------------------------------------------------------------- copies
def with_dtype(model: Sequential, dtype: Any) -> Sequential:
    """A copy of ``model`` that computes in ``dtype``: float64 for gradient checks.

    The architecture and the weights (cast to ``dtype``) are copied; the original model
    is not touched.

    Examples
    --------
    >>> from cnnlib.layers import Dense
    >>> model = Sequential([Dense(2)], input_shape=(3,))
    >>> with_dtype(model, np.float64).parameters()[0][1].dtype
    dtype('float64')
    """
    return _model(model, "with_dtype").copy(dtype)


# -------------------------------------------------------------------------- sanity checks
def randomize_weights(
    model: Sequential, layers: Sequence[LayerRef] | None = None, seed: int = 0
) -> Sequential:
    """A copy of ``model`` with the weights of some layers redrawn at random.

    The sanity check of Adebayo et al. :cite:`adebayo2018sanity`: an explanation that
    barely changes when the weights it claims to explain are destroyed explains the input,
    not the model. Each chosen layer's weights are redrawn from a normal distribution with
    the trained weights' standard deviation (so the activations keep their scale), biases
    are zeroed; the original model is not touched, and the copy (as from
    :meth:`~cnnlib.model.Sequential.copy`) is not compiled.

    Parameters
    ----------
    model
        The trained model.
    layers
        The layers to randomise (names or indices); by default every layer with weights.
    seed
        Seeds the new weights.
    """
    clone = _model(model, "randomize_weights").copy()
    chosen = (
        range(len(clone.layers))
        if layers is None
        else sorted({find_layer(clone, layer) for layer in layers})
    )
    rng = np.random.default_rng(seed)
    for index in chosen:
        params = clone.layers[index].params
        for name, value in params.items():
            if name == "weight":
                value[...] = rng.normal(0.0, float(value.std()) or 1.0, value.shape)
            else:
                value[...] = 0
    return clone
