"""What every exercise checker promises, tested once for all chapters.

A chapter's test module subclasses :class:`ExerciseContract` with its exercises::

    class TestChapter4Checkers(ExerciseContract):
        EXERCISES = {"max_pool2d": (MAX_POOL2D, exercises.check_max_pool2d), ...}
        LEARNER = {"max_pool2d": loop_max_pool2d, ...}  # solutions written without cnnlib

and ``conftest.py`` parametrizes the tests below over them: ``name`` over the exercises,
``mistake`` over every ``(name, index)`` of a known mistake.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pytest

from cnnlib import exercises
from cnnlib.exercises import ExerciseError
from cnnlib.exercises.core import _same_behaviour, compare


def _safe_call(case, fn):
    try:
        return case.call(fn)
    except Exception as error:
        return error


class ExerciseContract:
    """The contract; subclasses named ``Test…`` give ``EXERCISES`` and ``LEARNER``."""

    EXERCISES: ClassVar[dict[str, tuple[Any, Any]]] = {}
    LEARNER: ClassVar[dict[str, Any]] = {}
    #: Each exercise names at least this many mistakes.
    MIN_MISTAKES: ClassVar[int] = 1

    def test_a_correct_solution_passes_with_one_friendly_line(self, name, capsys):
        exercise, check = self.EXERCISES[name]
        assert check(self.LEARNER[name]) is True
        printed = capsys.readouterr().out.strip().splitlines()
        assert len(printed) == 1
        assert printed[0].startswith(f"✔ {name} passed all {len(exercise.cases)} checks")

    def test_the_reference_passes_its_own_check(self, name, capsys):
        exercise, check = self.EXERCISES[name]
        assert check(exercise.reference) is True
        assert capsys.readouterr().out.startswith(f"✔ {name} passed")

    def test_the_reference_disagrees_with_every_mistake_somewhere(self, name):
        exercise, _ = self.EXERCISES[name]
        assert len(exercise.mistakes) >= self.MIN_MISTAKES
        for mistake in exercise.mistakes:
            assert any(
                compare(_safe_call(case, mistake.implementation), case.call(exercise.reference))
                for case in exercise.cases
            ), mistake.explanation

    def test_no_two_mistakes_behave_alike_on_every_case(self, name):
        """Otherwise the second could never be named: the first would always win."""
        exercise, _ = self.EXERCISES[name]
        mistakes = exercise.mistakes
        for first in range(len(mistakes)):
            for second in range(first + 1, len(mistakes)):
                assert not all(
                    _same_behaviour(
                        mistakes[first].implementation, mistakes[second].implementation, case
                    )
                    for case in exercise.cases
                ), (mistakes[first].explanation, mistakes[second].explanation)

    def test_every_known_mistake_is_named(self, mistake):
        name, index = mistake
        exercise, check = self.EXERCISES[name]
        known = exercise.mistakes[index]
        with pytest.raises(ExerciseError) as info:
            check(known.implementation)
        message = str(info.value)
        assert message.startswith(f"{name} is not right yet.")
        assert f"likely cause: {known.explanation}" in message

    def test_a_stub_is_told_to_write_the_function(self, name):
        _, check = self.EXERCISES[name]

        def stub(*args, **kwargs):
            raise NotImplementedError(f"Exercise: write {name}")

        with pytest.raises(ExerciseError, match=f"{name} still raises NotImplementedError"):
            check(stub)

    def test_the_checker_is_exported(self, name):
        """``from cnnlib.exercises import check_<name>`` gives the checker tested here."""
        _, check = self.EXERCISES[name]
        assert f"check_{name}" in exercises.__all__
        assert getattr(exercises, f"check_{name}") is check

    def test_checkers_refuse_something_that_is_not_a_function(self, name):
        _, check = self.EXERCISES[name]
        with pytest.raises(TypeError, match=f"check_{name} expects your function itself"):
            check(np.zeros(3))


def parametrize_contract(metafunc: pytest.Metafunc) -> None:
    """Parametrize ``name`` and ``mistake`` from the test class's ``EXERCISES``."""
    cls = metafunc.cls
    if cls is None or not issubclass(cls, ExerciseContract):
        return
    if "name" in metafunc.fixturenames:
        metafunc.parametrize("name", list(cls.EXERCISES))
    if "mistake" in metafunc.fixturenames:
        pairs = [
            (name, index)
            for name, (exercise, _) in cls.EXERCISES.items()
            for index in range(len(exercise.mistakes))
        ]
        metafunc.parametrize("mistake", pairs, ids=[f"{n}-{i}" for n, i in pairs])
