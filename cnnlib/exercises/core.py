"""The machinery behind every ``check_<name>`` function.

An :class:`Exercise` holds the reference implementation, a list of :class:`Case` inputs
(edge cases included) and a list of recognisable :class:`Mistake` implementations. Its
:meth:`Exercise.check` calls the learner's function on every case and, at the first wrong
answer, raises :class:`ExerciseError` with

* the call that went wrong, in Python syntax;
* what is wrong: the type, the shape (expected vs got) or the first differing index with
  both values;
* when the learner's output equals the output of a known mistake, that mistake in plain
  words.
"""

from __future__ import annotations

import copy
import numbers
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["Case", "Exercise", "ExerciseError", "Mistake", "compare", "describe_value"]


def random_grid(*shape: int, seed: int, scale: float = 2.0) -> np.ndarray[Any, Any]:
    """The checkers' test inputs: values in ``[−scale, scale]`` with two decimals.

    Readable in a message, exact enough to compare, and (almost surely) without ties.
    """
    return np.round(np.random.default_rng(seed).uniform(-scale, scale, size=shape), 2)


class ExerciseError(AssertionError):
    """A learner's function gave a wrong answer; the message says precisely what is wrong."""


@dataclass(frozen=True)
class Case:
    """One input for the learner's function.

    Parameters
    ----------
    args, kwargs
        The call's arguments. They are deep-copied for every call, so a function that
        modifies its inputs cannot corrupt later cases.
    note
        What this case tests, in a few words (shown when it fails).
    """

    args: tuple[Any, ...]
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    note: str = ""

    def call(self, fn: Callable[..., Any]) -> Any:
        """Call ``fn`` on fresh copies of the arguments."""
        return fn(*copy.deepcopy(self.args), **copy.deepcopy(dict(self.kwargs)))

    def signature(self, name: str) -> str:
        """The call as Python source, arrays shortened to their shape when large."""
        parts = [describe_value(arg) for arg in self.args]
        parts += [f"{key}={describe_value(value)}" for key, value in self.kwargs.items()]
        return f"{name}({', '.join(parts)})"


@dataclass(frozen=True)
class Mistake:
    """A recognisable wrong implementation and the advice for whoever made it."""

    explanation: str
    implementation: Callable[..., Any]


def describe_value(value: Any) -> str:
    """Short, readable text for a value: small arrays in full, large ones by shape."""
    if isinstance(value, np.ndarray):
        if value.size <= 16:
            body = np.array2string(value, separator=", ").replace("\n", "")
            return f"np.array({' '.join(body.split())})"
        return f"<array of shape {value.shape}, dtype {value.dtype}>"
    return repr(value)


def _format_number(value: Any) -> str:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return f"{value:.6g}"
    return repr(value)


def _compare_arrays(got: Any, expected: np.ndarray[Any, Any]) -> str | None:
    if not isinstance(got, np.ndarray):
        kind = type(got).__name__
        if isinstance(got, list | tuple):
            return (
                f"your function returned a {kind}; expected a NumPy array of shape {expected.shape}"
            )
        return f"your function returned {describe_value(got)} ({kind}); expected a NumPy array"
    if got.shape != expected.shape:
        return f"your output has shape {got.shape}, expected {expected.shape}"
    if got.dtype.kind not in "iuf" and got.size:
        return f"your output has dtype {got.dtype}; expected real numbers like {expected.dtype}"
    close = np.isclose(got, expected, rtol=1e-6, atol=1e-9, equal_nan=True)
    if close.all():
        return None
    wrong = np.argwhere(~close)
    index = tuple(int(i) for i in wrong[0])
    return (
        f"first difference at index {index}: yours {_format_number(got[index])}, "
        f"expected {_format_number(expected[index])} ({len(wrong)} of {got.size} entries differ)"
    )


def _compare_integers(got: Any, expected: int) -> str | None:
    if isinstance(got, bool) or not isinstance(got, numbers.Real):
        kind = type(got).__name__
        return f"your function returned {describe_value(got)} ({kind}); expected an integer"
    if not isinstance(got, numbers.Integral):
        if float(got) == expected:
            return (
                f"your function returned {got!r}, a float; expected the integer {expected}. "
                "Sizes and counts are whole numbers: use // (floor division) or int(...)"
            )
        return f"your function returned {got!r}, a float; expected the integer {expected}"
    if int(got) != expected:
        return f"your function returned {int(got)}, expected {expected}"
    return None


def compare(got: Any, expected: Any) -> str | None:
    """Describe how ``got`` differs from ``expected``, or return ``None`` if they agree.

    Arrays must match in type and shape and agree to ``rtol=1e-6``; integers must be
    integers (a float ``3.0`` for a size of 3 is reported); floats must agree to ``1e-6``;
    NaN matches NaN (in arrays too); tuples are compared entry by entry.
    """
    if isinstance(expected, np.ndarray):
        return _compare_arrays(got, expected)
    if isinstance(expected, bool):
        return (
            None
            if got is expected or got == expected
            else f"your function returned {got!r}, expected {expected!r}"
        )
    if isinstance(expected, numbers.Integral):
        return _compare_integers(got, int(expected))
    if isinstance(expected, numbers.Real):
        if isinstance(got, bool) or not isinstance(got, numbers.Real):
            return f"your function returned {describe_value(got)}; expected a number"
        if np.isclose(float(got), float(expected), rtol=1e-6, atol=1e-9, equal_nan=True):
            return None  # NaN matches NaN, as in arrays: a mistake may produce it
        return f"your function returned {_format_number(got)}, expected {_format_number(expected)}"
    if isinstance(expected, tuple):
        if not isinstance(got, tuple | list) or len(got) != len(expected):
            return (
                f"your function returned {describe_value(got)}; "
                f"expected a tuple of {len(expected)} values"
            )
        for position, (mine, theirs) in enumerate(zip(got, expected, strict=True)):
            problem = compare(mine, theirs)
            if problem:
                return f"entry {position} of the tuple: {problem}"
        return None
    return None if got == expected else f"your function returned {got!r}, expected {expected!r}"


def _same_inputs(before: tuple[Any, ...], after: tuple[Any, ...]) -> bool:
    for old, new in zip(before, after, strict=True):
        if isinstance(old, np.ndarray) and not (
            isinstance(new, np.ndarray)
            and old.shape == new.shape
            and np.array_equal(old, new, equal_nan=True)
        ):
            return False
    return True


def _same_behaviour(first: Callable[..., Any], second: Callable[..., Any], case: Case) -> bool:
    """Whether two functions give equal answers (or both fail) on ``case``."""
    outcomes = []
    for fn in (first, second):
        try:
            outcomes.append(case.call(fn))
        except Exception:
            outcomes.append(None)
    if outcomes[0] is None or outcomes[1] is None:
        return outcomes[0] is None and outcomes[1] is None
    return compare(outcomes[0], outcomes[1]) is None


@dataclass(frozen=True)
class Exercise:
    """An exercise: the function to write, its reference, the cases and the known mistakes.

    Parameters
    ----------
    name
        The name of the function the learner writes.
    reference
        A correct implementation with the same signature.
    cases
        Inputs to try, in order; put the simplest first so the first failure is the
        easiest to understand.
    mistakes
        Known wrong implementations; when the learner's output equals one of them on the
        failing case, its explanation is added to the message.
    highlight
        What passing proves, for the success line (e.g. "including the floor problem").
    """

    name: str
    reference: Callable[..., Any]
    cases: Sequence[Case]
    mistakes: Sequence[Mistake] = ()
    highlight: str = ""

    def _diagnose(
        self, learner_fn: Callable[..., Any], case: Case, got: Any, expected: Any
    ) -> str | None:
        """Name the known mistake that explains the learner's answers, if any.

        A mistake that reproduces the learner's output on *every* case is preferred; one
        that only reproduces the failing case is the fallback. (Two different mistakes can
        agree on one input — a transposed and a rotated kernel coincide for some kernels.)
        """
        candidates = []
        for mistake in self.mistakes:
            try:
                wrong = case.call(mistake.implementation)
            except Exception:  # a mistake that crashes on this case cannot explain it
                continue
            if compare(wrong, expected) is not None and compare(got, wrong) is None:
                candidates.append(mistake)
        for mistake in candidates:
            if all(
                _same_behaviour(learner_fn, mistake.implementation, other) for other in self.cases
            ):
                return mistake.explanation
        return candidates[0].explanation if candidates else None

    def _fail(self, case: Case, problem: str, hint: str | None = None) -> ExerciseError:
        lines = [f"{self.name} is not right yet.", f"  call:    {case.signature(self.name)}"]
        if case.note:
            lines.append(f"  case:    {case.note}")
        lines.append(f"  problem: {problem}")
        if hint:
            lines.append(f"  likely cause: {hint}")
        return ExerciseError("\n".join(lines))

    def check(self, learner_fn: Callable[..., Any]) -> bool:
        """Run ``learner_fn`` on every case; print one line and return ``True`` if all pass.

        Raises
        ------
        ExerciseError
            At the first case whose answer is wrong, with what is wrong and, when the
            mistake is recognisable, its likely cause.
        TypeError
            If ``learner_fn`` is not callable.
        """
        if not callable(learner_fn):
            raise TypeError(
                f"check_{self.name} expects your function itself, e.g. "
                f"check_{self.name}({self.name}); got {describe_value(learner_fn)}"
            )
        for case in self.cases:
            expected = case.call(self.reference)
            arguments = copy.deepcopy(case.args)
            try:
                got = learner_fn(*arguments, **copy.deepcopy(dict(case.kwargs)))
            except NotImplementedError:
                raise ExerciseError(
                    f"{self.name} still raises NotImplementedError: replace the "
                    "`raise NotImplementedError` line of the stub with your code, run that "
                    "cell, then run this check again."
                ) from None
            except Exception as error:
                raise self._fail(
                    case, f"your function raised {type(error).__name__}: {error}"
                ) from error
            if not _same_inputs(case.args, arguments):
                raise self._fail(
                    case,
                    "your function changed its input array in place; work on a copy "
                    "(e.g. np.pad returns a new array) so the caller's data stays intact",
                )
            problem = compare(got, expected)
            if problem:
                raise self._fail(case, problem, self._diagnose(learner_fn, case, got, expected))
        extra = f" — {self.highlight}" if self.highlight else ""
        print(f"✔ {self.name} passed all {len(self.cases)} checks{extra}.")
        return True
