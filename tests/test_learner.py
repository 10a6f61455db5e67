"""`make learner`: stubs keep signatures and docstrings, raise, and checkers explain them."""

from __future__ import annotations

import ast
import inspect

import nbformat
import pytest
from learner import learner_notebook, main, stub_source, write_learner_notebooks
from nbclient import NotebookClient
from notebooks import read, solution_cells, toc_notebooks

CHAPTERS_WITH_EXERCISES = [path for path in toc_notebooks() if solution_cells(read(path))]


def test_stub_keeps_decorators_signature_and_docstring():
    source = '''import numpy as np


@staticmethod
def f(
    x: np.ndarray,
    k: int = 3,
) -> np.ndarray:
    """Multi-line
    docstring."""
    y = x * k
    return y
'''
    stub = stub_source(source, "ex-demo")
    assert "import numpy as np" in stub
    assert "@staticmethod\ndef f(\n    x: np.ndarray,\n    k: int = 3,\n) -> np.ndarray:" in stub
    assert '"""Multi-line\n    docstring."""' in stub
    assert "y = x * k" not in stub
    assert "return y" not in stub
    assert stub.rstrip().endswith(
        "raise NotImplementedError('Exercise ex-demo: write f, then run the check below.')"
    )
    ast.parse(stub)


def test_stub_without_docstring_and_several_functions():
    stub = stub_source("def a(x):\n    return 1\n\n\ndef b(y):\n    return 2\n", "ex-two")
    assert stub.count("raise NotImplementedError(") == 2
    assert "return" not in stub


def test_solution_cells_may_only_hold_imports_and_functions():
    with pytest.raises(
        ValueError, match="may only hold imports and functions; found Assign on line 2"
    ):
        stub_source("import math\nanswer = 42\n", "ex-bad")


def test_unbalanced_solution_markers_are_refused():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("```{solution-start} ex-a\n:class: dropdown\n```")]
    with pytest.raises(ValueError, match="never closed"):
        solution_cells(nb)
    nb.cells = [nbformat.v4.new_markdown_cell("```{solution-end}\n```")]
    with pytest.raises(ValueError, match="solution-end without solution-start"):
        solution_cells(nb)


def test_every_chapter_with_exercises_is_written(tmp_path, capsys):
    assert main(["--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    for chapter in toc_notebooks():
        assert (tmp_path / chapter.name).exists(), chapter.name
    assert "exercise stub" in printed
    assert "learner notebooks" in printed


@pytest.mark.parametrize("chapter", CHAPTERS_WITH_EXERCISES, ids=lambda p: p.stem)
def test_stubs_keep_signatures_and_docstrings_and_raise(chapter):
    original = read(chapter)
    solutions = solution_cells(original)
    learner, stubs = learner_notebook(read(chapter))
    assert stubs >= 3, "every chapter has at least three exercises"
    learner_sources = [cell.source for cell in learner.cells if cell.cell_type == "code"]
    for index in solutions:
        reference_ns: dict[str, object] = {}
        exec(original.cells[index].source, reference_ns)
        stub_cell = next(
            s for s in learner_sources if "NotImplementedError" in s and _defines(s, reference_ns)
        )
        stub_ns: dict[str, object] = {}
        exec(stub_cell, stub_ns)
        for name, solution in reference_ns.items():
            if not inspect.isfunction(solution):
                continue
            stub = stub_ns[name]
            assert inspect.signature(stub) == inspect.signature(solution), name
            assert inspect.getdoc(stub) == inspect.getdoc(solution), name
            with pytest.raises(NotImplementedError, match=f"write {name}"):
                stub(*[None] * len(inspect.signature(stub).parameters))
    markdown = "\n".join(c.source for c in learner.cells if c.cell_type == "markdown")
    assert "solution-start" not in markdown
    assert "solution-end" not in markdown
    assert markdown.count("**Your turn") == len(set(solutions.values()))
    assert all(not c.get("outputs") for c in learner.cells if c.cell_type == "code")


def _defines(source: str, namespace: dict[str, object]) -> bool:
    names = {n.name for n in ast.parse(source).body if isinstance(n, ast.FunctionDef)}
    return bool(names) and names <= set(namespace)


@pytest.mark.slow
@pytest.mark.parametrize("chapter", CHAPTERS_WITH_EXERCISES, ids=lambda p: p.stem)
def test_a_learner_notebook_runs_and_only_the_checkers_complain(chapter, tmp_path):
    """Run the learner notebook top to bottom: every error is a checker saying 'write it'."""
    ((path, _),) = write_learner_notebooks(tmp_path, [chapter])
    notebook = read(path)
    NotebookClient(
        notebook,
        kernel_name="python3",
        allow_errors=True,
        timeout=600,
        resources={"metadata": {"path": str(chapter.parent)}},
    ).execute()
    errors = [
        (cell.source, output)
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
        if output.output_type == "error"
    ]
    checker_cells = [
        c for c in notebook.cells if c.cell_type == "code" and c.source.startswith("check_")
    ]
    assert len(errors) == len(checker_cells) >= 3
    for source, output in errors:
        assert source.startswith("check_"), source
        assert output.ename == "ExerciseError"
        assert "still raises NotImplementedError" in output.evalue
