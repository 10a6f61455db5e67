"""Conventions every chapter notebook follows, so nbval and the book can rely on them."""

from __future__ import annotations

import itertools
import re

import nbformat
import pytest
from notebooks import ROOT, read, solution_cells, toc_documents, toc_notebooks

NOTEBOOKS = toc_notebooks()
IDS = [path.stem for path in NOTEBOOKS]


def test_every_toc_entry_exists():
    for doc in toc_documents():
        assert (ROOT / f"{doc}.ipynb").exists() or (ROOT / f"{doc}.md").exists(), doc
    assert len(NOTEBOOKS) >= 2


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebook_is_valid_and_executed_in_order(path):
    notebook = read(path)
    nbformat.validate(notebook)
    assert notebook.metadata == {
        "kernelspec": {
            "display_name": "Python 3 (ipykernel)",
            "language": "python",
            "name": "python3",
        },
        "language_info": {"name": "python"},
    }, "store outputs with `make notebooks` (tools/execute_notebooks.py)"
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert [cell.execution_count for cell in code] == list(range(1, len(code) + 1))
    for cell in code:
        assert "execution" not in cell.metadata, "per-cell timestamps make diffs noisy"
        assert not any(output.output_type == "error" for output in cell.outputs), cell.source[:80]
        streams = [o.name for o in cell.outputs if o.output_type == "stream"]
        kinds = [(o.output_type, o.get("name")) for o in cell.outputs]
        assert all(a != b for a, b in itertools.pairwise(kinds)) or not streams, (
            f"split stream outputs in {cell.source[:60]!r}: re-run tools/execute_notebooks.py"
        )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_first_cell_installs_cnnlib_when_missing_and_is_hidden(path):
    first = read(path).cells[0]
    assert first.cell_type == "code"
    assert "remove-cell" in first.metadata.get("tags", [])
    assert 'find_spec("cnnlib") is None' in first.source
    assert "%pip install" in first.source


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_the_book_shows_outputs(path):
    notebook = read(path)
    visible = [c for c in notebook.cells[1:] if c.cell_type == "code"]
    with_output = [c for c in visible if c.outputs]
    assert len(with_output) >= len(visible) // 2, "most cells should show what they compute"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_every_exercise_has_a_hidden_solution_and_a_checker(path):
    notebook = read(path)
    sources = [cell.source for cell in notebook.cells]
    labels = re.findall(r"```\{exercise\}[^\n]*\n:label: (\S+)", "\n".join(sources))
    solutions = set(solution_cells(notebook).values())
    assert set(labels) == solutions
    for index, label in solution_cells(notebook).items():
        # the solution-start marker makes it a dropdown, hidden until clicked
        opening = next(s for s in reversed(sources[:index]) if "{solution-start}" in s)
        assert f"{{solution-start}} {label}\n:class: dropdown" in opening
        # the cell after the solution-end marker runs the checker on the learner's function
        after = sources[index + 2]
        assert re.match(r"check_\w+\(\w+\)$", after.strip()), after


@pytest.mark.parametrize(
    "path", [p for p in NOTEBOOKS if p.stem != "00_preface"], ids=lambda p: p.stem
)
def test_every_chapter_has_at_least_three_exercises(path):
    assert len(set(solution_cells(read(path)).values())) >= 3, path.stem


def test_split_stream_outputs_are_merged():
    from execute_notebooks import merge_streams

    new = nbformat.v4.new_output
    outputs = [
        new("stream", name="stdout", text="a\n"),
        new("stream", name="stdout", text="b\n"),
        new("stream", name="stderr", text="warning\n"),
        new("display_data", data={"text/plain": "x"}),
        new("stream", name="stdout", text="c\n"),
    ]
    merged = merge_streams(outputs)
    assert [(o.output_type, o.get("text")) for o in merged] == [
        ("stream", "a\nb\n"),
        ("stream", "warning\n"),
        ("display_data", None),
        ("stream", "c\n"),
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_every_output_nbval_ignores_is_checked_by_an_assert(path):
    """A cell whose output nbval skips (timings, training metrics) must still check its claim:
    an ``assert`` in the cell itself or in the code cell right after it."""
    code = [cell for cell in read(path).cells if cell.cell_type == "code"]
    for index, cell in enumerate(code):
        if "nbval-ignore-output" not in cell.metadata.get("tags", []):
            continue
        following = code[index + 1].source if index + 1 < len(code) else ""
        assert re.search(r"^\s*assert\b", cell.source + "\n" + following, re.MULTILINE), (
            f"cell {index + 1} ({cell.source[:60]!r}) hides its output from nbval "
            "and nothing asserts its claim"
        )
