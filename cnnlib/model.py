"""``Sequential``: a stack of layers trained by backpropagation (chapters 5 and 8).

Used like Keras::

    model = Sequential([Conv2D(32, 3, padding="same"), ReLU(), MaxPool2D(2),
                        Flatten(), Dense(10)], input_shape=(1, 28, 28), seed=0)
    model.compile(loss=CrossEntropy(), optimizer=Adam(1e-3))
    history = model.fit(x, y, epochs=5, batch_size=64, validation_data=(xv, yv))

Everything random — initial weights, the order of the samples, dropout masks — comes
from generators seeded by ``seed``, so the same model trained twice gives the same history.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import math
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, DTypeLike, NDArray
from tqdm import tqdm

from cnnlib._validation import check_int
from cnnlib.layers import LAYERS, Layer
from cnnlib.layers._fusion import PoolThenReLU, fuse
from cnnlib.layers.base import shape_text
from cnnlib.losses import Loss
from cnnlib.optim import Optimizer

__all__ = ["History", "Sequential", "TrainingDiverged"]

_FORMAT = "cnnlib.Sequential/1"


class TrainingDiverged(FloatingPointError):
    """The loss became NaN or infinite; the message names the epoch and the batch.

    The weights are those from before the step that would have used the bad loss.
    """


class History:
    """Per-epoch metrics of :meth:`Sequential.fit`, as in Keras: ``history.history["loss"]``.

    Attributes
    ----------
    history
        ``"loss"``, ``"accuracy"`` (for classifiers), ``"val_loss"``, ``"val_accuracy"`` (with
        validation data), ``"lr"`` and ``"time"`` (seconds per epoch): one value per epoch.
    interrupted
        Whether training was stopped early with Ctrl-C.
    """

    def __init__(self) -> None:
        self.history: dict[str, list[float]] = {}
        self.interrupted = False

    def append(self, metrics: dict[str, float]) -> None:
        """Record one epoch's metrics."""
        for key, value in metrics.items():
            self.history.setdefault(key, []).append(float(value))

    @property
    def epochs(self) -> int:
        """Completed epochs."""
        return len(self.history.get("loss", []))

    def __getitem__(self, key: str) -> list[float]:
        """The values of one metric, epoch by epoch."""
        return self.history[key]

    def __repr__(self) -> str:
        """Epoch count and final values."""
        last = ", ".join(f"{k}={v[-1]:.4g}" for k, v in self.history.items() if k != "time")
        return f"<History: {self.epochs} epochs{'' if not last else ', ' + last}>"


@contextlib.contextmanager
def _deferred_interrupts() -> Iterator[Callable[[], bool]]:
    """Hold Ctrl-C until the current training step is complete.

    Yields a function that says whether Ctrl-C was pressed; the training loop asks it
    between steps, so a step is never cut in half. Off the main thread (where signal
    handlers cannot be installed) Ctrl-C interrupts as usual.
    """
    pressed = False

    def handler(signum: int, frame: object) -> None:
        nonlocal pressed
        pressed = True

    if threading.current_thread() is not threading.main_thread():
        yield lambda: False
        return
    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield lambda: pressed
    finally:
        signal.signal(signal.SIGINT, previous)


class Sequential:
    """A stack of layers, each feeding the next.

    A ``Conv2D(activation="relu")`` directly followed by a ``MaxPool2D`` is run as
    convolution → pooling → ReLU: the two commute, so the numbers are those of the layers
    one by one, and the ReLU works on the pooled map, a quarter of the values.

    Parameters
    ----------
    layers
        :class:`cnnlib.layers.Layer` instances, in order.
    input_shape
        The shape of one sample, e.g. ``(1, 28, 28)``: the model is built at once. Without
        it, the model is built on the first batch it sees.
    seed
        Seeds the initial weights, the shuffling and the dropout masks.
    dtype
        float32 for training; float64 for gradient checks.
    """

    def __init__(
        self,
        layers: Sequence[Layer],
        input_shape: Sequence[int] | None = None,
        seed: int = 0,
        dtype: DTypeLike = np.float32,
    ) -> None:
        self.layers = list(layers)
        for index, layer in enumerate(self.layers):
            if not isinstance(layer, Layer):
                raise TypeError(
                    f"Sequential: layer {index} is {layer!r}, not a cnnlib layer "
                    "(write Conv2D(32, 3), not Conv2D)"
                )
        _number_by_kind(self.layers)
        names = [layer.name for layer in self.layers]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"Sequential: layer names must be unique, repeated: {duplicates}")
        if len(self.layers) == 0:
            raise ValueError("Sequential: give at least one layer")
        self.seed = int(seed)
        self.dtype = np.dtype(dtype)
        if self.dtype.kind != "f":
            raise TypeError(f"Sequential: dtype must be float32 or float64, got {self.dtype}")
        seeds = np.random.SeedSequence(self.seed).spawn(4)
        self._init_rng = np.random.default_rng(seeds[0])
        self._shuffle_rng = np.random.default_rng(seeds[1])
        self._noise_rng = np.random.default_rng(seeds[2])
        self._augment_rng = np.random.default_rng(seeds[3])
        self.input_shape: tuple[int, ...] | None = None
        self.output_shape: tuple[int, ...] | None = None
        self.loss: Loss | None = None
        self.optimizer: Optimizer | None = None
        self._plan: tuple[tuple[Any, ...], list[Layer | PoolThenReLU]] | None = None
        if input_shape is not None:
            self.build(input_shape)

    # ----------------------------------------------------------------- building
    def build(self, input_shape: Sequence[int]) -> None:
        """Build every layer for samples of ``input_shape``, creating the parameters.

        Raises
        ------
        ValueError
            If a layer cannot take the shape the previous one produces (the message names
            the layer and both shapes).
        """
        shape = tuple(int(n) for n in input_shape)
        self.input_shape = shape
        for index, layer in enumerate(self.layers):
            layer.needs_input_grad = index > 0  # nobody uses the first layer's dx
            rng = self._noise_rng if layer.stochastic else self._init_rng
            shape = layer.build(shape, rng, self.dtype)
        self.output_shape = shape

    @property
    def built(self) -> bool:
        """Whether the parameters exist."""
        return self.output_shape is not None

    def compile(self, loss: Loss, optimizer: Optimizer) -> None:
        """Choose the loss to minimise and the optimiser that minimises it."""
        if not isinstance(loss, Loss):
            raise TypeError(f"compile: loss must be a cnnlib.losses.Loss, got {loss!r}")
        if not isinstance(optimizer, Optimizer):
            raise TypeError(
                f"compile: optimizer must be a cnnlib.optim.Optimizer, got {optimizer!r}"
            )
        self.loss, self.optimizer = loss, optimizer

    # -------------------------------------------------------------- parameters
    def parameters(self) -> list[tuple[str, NDArray[Any]]]:
        """``(layer.param, array)`` for every parameter, in a fixed order."""
        return [
            (f"{layer.name}.{name}", value)
            for layer in self.layers
            for name, value in layer.params.items()
        ]

    def count_params(self) -> int:
        """The number of learnable values."""
        self._require_built("count_params")
        return sum(layer.count_params() for layer in self.layers)

    # ----------------------------------------------------------------- passes
    def check_inputs(self, x: ArrayLike, owner: str = "Sequential") -> NDArray[Any]:
        """``x`` as a batch this model takes, in its dtype; builds an unbuilt model from it.

        Parameters
        ----------
        x
            A batch ``(N, *input_shape)`` of real numbers.
        owner
            The name error messages begin with (the caller's).

        Returns
        -------
        numpy.ndarray
            ``x`` in the model's dtype (not copied when it already is).

        Raises
        ------
        TypeError
            If ``x`` does not hold numbers.
        ValueError
            If ``x`` is not a non-empty batch of the model's input shape.
        """
        array = np.asarray(x)
        if array.dtype.kind not in "fiub":
            raise TypeError(f"{owner}: x has dtype {array.dtype}; expected numbers")
        if not self.built:
            if array.ndim < 2:
                raise ValueError(f"{owner}: x must be a batch (N, ...), got shape {array.shape}")
            self.build(array.shape[1:])
        assert self.input_shape is not None
        if array.shape[1:] != self.input_shape or array.ndim != len(self.input_shape) + 1:
            raise ValueError(
                f"{owner}: x has shape {array.shape}; this model expects "
                f"{shape_text(self.input_shape)}"
            )
        if array.shape[0] == 0:
            raise ValueError(f"{owner}: x is empty (shape {array.shape})")
        return array.astype(self.dtype, copy=False)

    def _forward(self, x: NDArray[Any], training: bool) -> NDArray[Any]:
        for unit in self._units():
            x = unit.forward(x, training)
        return x

    def _backward(self, grad: NDArray[Any]) -> None:
        for unit in reversed(self._units()):
            next_grad = unit.backward(grad)
            if next_grad is None:
                break
            grad = next_grad

    def _units(self) -> list[Layer | PoolThenReLU]:
        """The layers as the passes run them: a convolution's ReLU after its max pooling.

        ``Conv2D(activation="relu")`` followed by ``MaxPool2D`` is run as convolution →
        pooling → ReLU, the same numbers with a quarter of the ReLU's work
        (:mod:`cnnlib.layers._fusion`). Worked out again if :attr:`layers` or their
        activations change.
        """
        key = tuple((layer, getattr(layer, "activation", None)) for layer in self.layers)
        if self._plan is None or self._plan[0] != key:
            self._plan = (key, fuse(self.layers))
        return self._plan[1]

    def __call__(self, x: ArrayLike) -> NDArray[Any]:
        """The output for a batch, in inference mode."""
        return self._forward(self.check_inputs(x, "Sequential"), training=False)

    def predict(self, x: ArrayLike, batch_size: int = 256) -> NDArray[Any]:
        """The model's outputs (class scores, logits or probabilities) for ``x``, in batches."""
        batch_size = check_int(batch_size, "batch_size", owner="predict", minimum=1)
        array = self.check_inputs(x, "predict")
        parts = [
            self._forward(array[start : start + batch_size], training=False)
            for start in range(0, len(array), batch_size)
        ]
        return np.concatenate(parts)

    # --------------------------------------------------------------- training
    def _require_built(self, owner: str) -> None:
        if not self.built:
            raise RuntimeError(
                f"{owner}: the model is not built yet; "
                "give input_shape=... or call it on data first"
            )

    def _require_compiled(self, owner: str) -> tuple[Loss, Optimizer]:
        if self.loss is None or self.optimizer is None:
            raise RuntimeError(
                f"{owner}: compile the model first, e.g. "
                "model.compile(loss=CrossEntropy(), optimizer=Adam(1e-3))"
            )
        return self.loss, self.optimizer

    def _check_pair(
        self, x: ArrayLike, y: ArrayLike, owner: str
    ) -> tuple[NDArray[Any], NDArray[Any]]:
        inputs = self.check_inputs(x, owner)
        targets = np.asarray(y)
        if targets.ndim == 0 or len(targets) != len(inputs):
            count = "a scalar" if targets.ndim == 0 else f"{len(targets)} targets"
            raise ValueError(f"{owner}: x has {len(inputs)} samples but y has {count}")
        return inputs, targets

    def train_on_batch(self, x: ArrayLike, y: ArrayLike) -> float:
        """One step of gradient descent on one batch; returns the loss before the step.

        Raises
        ------
        TrainingDiverged
            If the loss is NaN or infinite; the step is then not taken.
        """
        loss_fn, optimizer = self._require_compiled("train_on_batch")
        inputs, targets = self._check_pair(x, y, "train_on_batch")
        return self._step(inputs, targets, loss_fn, optimizer, where="")[0]

    def _step(
        self,
        inputs: NDArray[Any],
        targets: NDArray[Any],
        loss_fn: Loss,
        optimizer: Optimizer,
        where: str,
    ) -> tuple[float, NDArray[Any]]:
        """One step; returns the loss before it and the batch's outputs (for the accuracy)."""
        out = self._forward(inputs, training=True)
        loss, grad = loss_fn.forward(out, targets)
        if not math.isfinite(loss):
            raise TrainingDiverged(
                f"the loss became {loss}{where}; the weights are those from before this step. "
                "Try a smaller learning rate, or check the inputs for NaN."
            )
        self._backward(grad.astype(self.dtype, copy=False))
        params, grads = [], []
        for layer in self.layers:
            for name, value in layer.params.items():
                params.append(value)
                grads.append(layer.grads[name])
        optimizer.step(params, grads)
        return loss, out

    def _augmented(
        self,
        augment: Callable[[NDArray[Any], np.random.Generator], NDArray[Any]],
        batch: NDArray[Any],
    ) -> NDArray[Any]:
        result = np.asarray(augment(batch, self._augment_rng))
        if result.shape != batch.shape:
            raise ValueError(
                f"fit: augment turned a batch of shape {batch.shape} into {result.shape}; "
                "it must keep the shape"
            )
        return result.astype(self.dtype, copy=False)

    def _accuracy(self, out: NDArray[Any], targets: NDArray[Any], loss_fn: Loss) -> float | None:
        if loss_fn.kind == "multiclass":
            labels = targets if targets.ndim == 1 else targets.argmax(axis=1)
            return float(np.mean(out.argmax(axis=1) == labels))
        if loss_fn.kind == "binary":
            threshold = 0.0 if getattr(loss_fn, "from_logits", False) else 0.5
            predicted = out.reshape(len(out), -1)[:, 0] > threshold
            return float(np.mean(predicted == (targets.reshape(len(targets), -1)[:, 0] >= 0.5)))
        return None

    def evaluate(self, x: ArrayLike, y: ArrayLike, batch_size: int = 256) -> dict[str, float]:
        """The loss (and, for a classifier, the accuracy) on ``(x, y)``."""
        loss_fn, _ = self._require_compiled("evaluate")
        batch_size = check_int(batch_size, "batch_size", owner="evaluate", minimum=1)
        inputs, targets = self._check_pair(x, y, "evaluate")
        total, correct, counted = 0.0, 0.0, 0
        for start in range(0, len(inputs), batch_size):
            out = self._forward(inputs[start : start + batch_size], training=False)
            part = targets[start : start + batch_size]
            total += loss_fn(out, part) * len(out)
            accuracy = self._accuracy(out, part, loss_fn)
            if accuracy is not None:
                correct += accuracy * len(out)
                counted += len(out)
        result = {"loss": total / len(inputs)}
        if counted:
            result["accuracy"] = correct / counted
        return result

    def fit(
        self,
        x: ArrayLike,
        y: ArrayLike,
        epochs: int = 1,
        batch_size: int = 32,
        validation_data: tuple[ArrayLike, ArrayLike] | None = None,
        shuffle: bool = True,
        progress: bool = True,
        schedule: Callable[[int], float] | None = None,
        augment: Callable[[NDArray[Any], np.random.Generator], NDArray[Any]] | None = None,
    ) -> History:
        """Train for ``epochs`` passes over ``(x, y)`` in shuffled mini-batches.

        Parameters
        ----------
        x, y
            Inputs ``(N, *input_shape)`` and targets (labels for a classifier).
        epochs, batch_size
            How long and in which portions.
        validation_data
            ``(x_val, y_val)``, evaluated after every epoch.
        shuffle
            Draw a new order of the samples for every epoch (from the model's seed).
        progress
            Show a progress bar with the running loss (tqdm); ``False`` for none.
        schedule
            ``epoch → learning rate``, applied at the start of every epoch (epochs count
            from 0).
        augment
            ``(batch_x, rng) → batch_x``, applied to every training batch before its step,
            e.g. ``cnnlib.datasets.shift_images``; ``rng`` is the model's own (seeded).

        Returns
        -------
        History
            Loss and accuracy per epoch. Ctrl-C stops training after the current step and
            returns the history so far, with ``history.interrupted`` set.

        Raises
        ------
        TrainingDiverged
            If the loss becomes NaN or infinite; the message names the epoch and the batch.
        """
        loss_fn, optimizer = self._require_compiled("fit")
        epochs = check_int(epochs, "epochs", owner="fit", minimum=0)
        batch_size = check_int(batch_size, "batch_size", owner="fit", minimum=1)
        inputs, targets = self._check_pair(x, y, "fit")
        if validation_data is not None:
            val_x, val_y = self._check_pair(*validation_data, "fit (validation_data)")
        history = History()
        n = len(inputs)
        batches = math.ceil(n / batch_size)
        with _deferred_interrupts() as interrupted:
            for epoch in range(epochs):
                if schedule is not None:
                    optimizer.lr = float(schedule(epoch))
                order = self._shuffle_rng.permutation(n) if shuffle else np.arange(n)
                started = time.perf_counter()
                total, correct, counted = 0.0, 0.0, 0
                bar = tqdm(
                    total=batches,
                    desc=f"epoch {epoch + 1}/{epochs}",
                    disable=not progress,
                    leave=True,
                    unit="batch",
                )
                with bar:
                    for number in range(batches):
                        if interrupted():
                            history.interrupted = True
                            print(_interruption(epoch, number, batches, history.epochs))
                            return history
                        chosen = order[number * batch_size : (number + 1) * batch_size]
                        batch_x, batch_y = inputs[chosen], targets[chosen]
                        if augment is not None:
                            batch_x = self._augmented(augment, batch_x)
                        where = f" in epoch {epoch + 1}, batch {number + 1} of {batches}"
                        loss, out = self._step(batch_x, batch_y, loss_fn, optimizer, where)
                        total += loss * len(chosen)
                        accuracy = self._accuracy(out, batch_y, loss_fn)
                        if accuracy is not None:
                            correct += accuracy * len(chosen)
                            counted += len(chosen)
                        bar.update()
                        bar.set_postfix(loss=f"{total / ((number * batch_size) + len(chosen)):.4f}")
                metrics = {"loss": total / n}
                if counted:
                    metrics["accuracy"] = correct / counted
                if validation_data is not None:
                    metrics.update({f"val_{k}": v for k, v in self.evaluate(val_x, val_y).items()})
                metrics["lr"] = optimizer.lr
                metrics["time"] = time.perf_counter() - started
                history.append(metrics)
        return history

    # ---------------------------------------------------------------- reporting
    def summary(self) -> None:
        """Print, per layer, the output shape, the parameters and the activation memory."""
        self._require_built("summary")
        assert self.input_shape is not None
        itemsize = self.dtype.itemsize
        rows = [("Layer (type)", "Output shape", "Param #", "Activations / image")]
        activations = 0
        for layer in self.layers:
            assert layer.output_shape is not None
            size = math.prod(layer.output_shape) * itemsize
            activations += size
            rows.append(
                (
                    f"{layer.name} ({type(layer).__name__})",
                    str(layer.output_shape),
                    f"{layer.count_params():,}",
                    _bytes(size),
                )
            )
        widths = [max(len(row[i]) for row in rows) for i in range(4)]
        lines = [f"Sequential: input {self.input_shape}, {self.dtype}"]
        rule = "─" * (sum(widths) + 6)
        for index, row in enumerate(rows):
            cells = [row[0].ljust(widths[0]), row[1].ljust(widths[1])]
            cells += [row[2].rjust(widths[2]), row[3].rjust(widths[3])]
            lines.append("  ".join(cells))
            if index == 0:
                lines.append(rule)
        total = self.count_params()
        lines.append(rule)
        lines.append(f"Total params: {total:,} ({_bytes(total * itemsize)} as {self.dtype})")
        lines.append(
            f"Activations per image: {_bytes(activations)} (kept for the backward pass while "
            "training; a batch of 64 needs 64 times that)"
        )
        print("\n".join(lines))

    # ------------------------------------------------------------ saving/loading
    def architecture(self) -> dict[str, Any]:
        """Everything needed to rebuild the model, JSON-friendly."""
        self._require_built("architecture")
        assert self.input_shape is not None
        architecture: dict[str, Any] = json.loads(
            json.dumps(
                {
                    "format": _FORMAT,
                    "input_shape": list(self.input_shape),
                    "dtype": self.dtype.name,
                    "seed": self.seed,
                    "layers": [
                        {
                            "class": type(layer).__name__,
                            "name": layer.name,
                            "config": layer.config(),
                        }
                        for layer in self.layers
                    ],
                }
            )
        )
        return architecture

    def save(self, path: str | Path) -> Path:
        """Write the architecture and the weights to an ``.npz`` file (no pickle)."""
        target = Path(path)
        # Typed Any: numpy's stubs read ``**kwds`` as its bool ``allow_pickle`` argument,
        # which only exists from NumPy 2.1 (older versions would store it as an array).
        arrays: dict[str, Any] = dict(self._weights_by_position())
        arrays["__architecture__"] = np.array(json.dumps(self.architecture()))
        with target.open("wb") as handle:
            np.savez(handle, **arrays)
        return target

    @classmethod
    def load(cls, path: str | Path) -> Sequential:
        """Rebuild a model saved by :meth:`save` (architecture and weights)."""
        architecture, weights = _read(path)
        model = cls(
            _rebuilt_layers(architecture, str(path)),
            input_shape=architecture["input_shape"],
            seed=architecture["seed"],
            dtype=architecture["dtype"],
        )
        model._assign(weights, path)
        return model

    def with_input_shape(self, input_shape: Sequence[int]) -> Sequential:
        """The same network, with copies of its weights, built for samples of ``input_shape``.

        Convolutions and pooling slide the same weights over any image size, so a network
        made of them (with a global-pooling head, or a dense head converted to convolutions)
        runs unchanged on larger images (chapter 7). A ``Flatten`` followed by ``Dense``
        fixes the size: the dense weight matrix has one column per flattened feature.

        Parameters
        ----------
        input_shape
            The new shape of one sample, e.g. ``(1, 36, 36)`` for a model built on
            ``(1, 28, 28)``.

        Returns
        -------
        Sequential
            A new, uncompiled model with the same layer classes, configurations and names;
            this model is left as it is.

        Raises
        ------
        ValueError
            If a layer cannot take the new shape, or if one of its parameters would need a
            different shape (the message names the layer and both shapes).
        """
        return self._copy(tuple(int(n) for n in input_shape), self.dtype, "with_input_shape")

    def copy(self, dtype: DTypeLike | None = None) -> Sequential:
        """The same network with copies of its weights, optionally in another dtype.

        ``model.copy(np.float64)`` is the model to gradient-check; this model is left as it
        is. The copy is not compiled.
        """
        return self._copy(None, self.dtype if dtype is None else np.dtype(dtype), "copy")

    def _copy(
        self, input_shape: tuple[int, ...] | None, dtype: np.dtype[Any], owner: str
    ) -> Sequential:
        """Rebuild the layers from :meth:`architecture` and copy every weight across."""
        self._require_built(owner)
        assert self.input_shape is not None
        shape = self.input_shape if input_shape is None else input_shape
        model = Sequential(_rebuilt_layers(self.architecture(), owner), seed=self.seed, dtype=dtype)
        try:
            model.build(shape)
        except ValueError as error:
            raise ValueError(
                f"{owner}{shape}: the layers cannot take this shape: {error}"
            ) from error
        for index, (old, new) in enumerate(zip(self.layers, model.layers, strict=True)):
            for name, value in old.params.items():
                target = new.params[name]
                if target.shape != value.shape:
                    raise ValueError(
                        f"{owner}{shape}: {old.name}.{name} (layer {index}) has shape "
                        f"{value.shape}, but inputs of shape {shape} need {target.shape}: a "
                        "Flatten + Dense head fixes the input size (use GlobalAvgPool2D, or "
                        "turn the dense layers into convolutions)"
                    )
                target[...] = value
        return model

    def load_weights(self, path: str | Path) -> None:
        """Load the weights saved by :meth:`save` into this model.

        Raises
        ------
        ValueError
            If the file was saved from a different architecture; the message names the
            first difference.
        """
        architecture, weights = _read(path)
        mine = self.architecture()
        if architecture["input_shape"] != mine["input_shape"]:
            raise ValueError(
                f"{path}: saved for inputs {tuple(architecture['input_shape'])}, but this model "
                f"takes {tuple(mine['input_shape'])}"
            )
        pairs = itertools.zip_longest(architecture["layers"], mine["layers"])
        for index, (a, b) in enumerate(pairs):
            if a is None or b is None or (a["class"], a["config"]) != (b["class"], b["config"]):
                raise ValueError(
                    f"{path}: the saved architecture differs at layer {index}: the file has "
                    f"{_describe(a)}, this model has {_describe(b)}"
                )
        self._assign(weights, path)

    def _weights_by_position(self) -> list[tuple[str, NDArray[Any]]]:
        """``("<layer index>.<param>", array)`` for every parameter.

        File keys that do not depend on layer names, so that weights load into any model of
        the same architecture.
        """
        return [
            (f"{index}.{name}", value)
            for index, layer in enumerate(self.layers)
            for name, value in layer.params.items()
        ]

    def _assign(self, weights: dict[str, NDArray[Any]], path: str | Path) -> None:
        mine = self._weights_by_position()
        extra = sorted(set(weights) - {key for key, _ in mine})
        if extra:
            raise ValueError(f"{path}: weights for parameters this model does not have: {extra}")
        for key, value in mine:
            index, name = key.split(".", 1)
            described = f"{self.layers[int(index)].name}.{name} (layer {index})"
            if key not in weights:
                raise ValueError(f"{path}: no weights for {described}")
            if weights[key].shape != value.shape:
                raise ValueError(
                    f"{path}: {described} has shape {weights[key].shape} in the file, "
                    f"{value.shape} here"
                )
            value[...] = weights[key]


def _rebuilt_layers(architecture: dict[str, Any], source: str) -> list[Layer]:
    """Fresh, unbuilt layers from :meth:`Sequential.architecture`'s description."""
    layers = []
    for entry in architecture["layers"]:
        if entry["class"] not in LAYERS:
            raise ValueError(f"{source}: unknown layer class {entry['class']!r}")
        # JSON has no tuples: pairs such as kernel_size=(3, 2) come back as lists
        config = {
            key: tuple(value) if isinstance(value, list) else value
            for key, value in entry["config"].items()
        }
        layers.append(LAYERS[entry["class"]](**config, name=entry["name"]))
    return layers


def _number_by_kind(layers: Sequence[Layer]) -> None:
    """Name the layers that were not given a name ``<kind>_<i>``, counting within the model.

    So a model's summary reads ``conv2d_1, conv2d_2, dense_1`` however many models the
    session built before it. A layer already in another model keeps its name.
    """
    counts: dict[str, int] = {}
    for layer in layers:
        kind = type(layer).__name__.lower()
        counts[kind] = counts.get(kind, 0) + 1
        if layer.auto_named:
            layer.rename(f"{kind}_{counts[kind]}")
            layer.auto_named = False


def _interruption(epoch: int, number: int, batches: int, complete: int) -> str:
    """What ``fit`` prints when Ctrl-C stops it before batch ``number`` of ``epoch``."""
    epochs = f"{complete} complete epoch" + ("" if complete == 1 else "s")
    return (
        f"Training interrupted in epoch {epoch + 1} after {number} of {batches} batches; the "
        f"model keeps the weights of its last step, and the history holds {epochs}."
    )


def _describe(entry: dict[str, Any] | None) -> str:
    if entry is None:
        return "no layer"
    arguments = ", ".join(f"{k}={v!r}" for k, v in entry["config"].items())
    return f"{entry['class']}({arguments})"


def _read(path: str | Path) -> tuple[dict[str, Any], dict[str, NDArray[Any]]]:
    with np.load(path, allow_pickle=False) as data:
        if "__architecture__" not in data:
            raise ValueError(f"{path}: not a model saved by cnnlib.Sequential.save")
        architecture = json.loads(str(data["__architecture__"]))
        if architecture.get("format") != _FORMAT:
            raise ValueError(f"{path}: unknown format {architecture.get('format')!r}")
        weights = {key: data[key] for key in data.files if key != "__architecture__"}
    return architecture, weights


def _bytes(count: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if count < 1024 or unit == "GiB":
            return f"{count:,.0f} {unit}" if unit == "B" else f"{count:,.1f} {unit}"
        count /= 1024
    return f"{count:.1f} GiB"
