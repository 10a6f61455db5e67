"""Write the learner notebooks: the chapters with every exercise solution replaced by a stub.

Usage::

    python tools/learner.py            # writes learner/<chapter>.ipynb (git-ignored)
    python tools/learner.py --out DIR

In each gated solution (``solution-start`` … ``solution-end``), every function keeps its
signature and docstring and gets the body ``raise NotImplementedError(...)``; imports are
kept. The markdown that opens the solution becomes a "Your turn" note, the one that
closes it disappears, and all outputs are cleared so the notebook starts fresh. The
checker cell after each stub tells the learner precisely what is still wrong.
"""

from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path
from typing import Any

import nbformat
from notebooks import ROOT, SOLUTION_END, SOLUTION_START, read, solution_cells, toc_notebooks, write

DEFAULT_OUT = ROOT / "learner"


def stub_source(source: str, label: str) -> str:
    """The learner's version of one solution cell.

    Imports stay; each top-level function keeps its decorators, signature and docstring
    and raises ``NotImplementedError``.

    Raises
    ------
    ValueError
        If the cell holds anything but imports and function definitions (a convention of
        the book: the solution *is* the functions).
    """
    tree = ast.parse(source)
    lines = source.splitlines()
    pieces: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            pieces.append(ast.get_source_segment(source, node) or "")
        elif isinstance(node, ast.FunctionDef):
            first = min([node.lineno] + [d.lineno for d in node.decorator_list])
            has_doc = ast.get_docstring(node, clean=False) is not None
            last_header = node.body[0].end_lineno if has_doc else node.body[0].lineno - 1
            assert last_header is not None
            header = "\n".join(lines[first - 1 : last_header])
            indent = " " * (node.body[0].col_offset)
            message = f"Exercise {label}: write {node.name}, then run the check below."
            pieces.append(f"{header}\n{indent}raise NotImplementedError({message!r})")
        else:
            raise ValueError(
                f"solution {label}: a solution cell may only hold imports and functions; "
                f"found {type(node).__name__} on line {node.lineno}"
            )
    return "\n\n\n".join(pieces) + "\n"


def learner_notebook(notebook: Any) -> tuple[Any, int]:
    """Return the learner version of ``notebook`` and the number of stubbed functions."""
    stubbed = 0
    solutions = solution_cells(notebook)
    cells = []
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "markdown" and SOLUTION_END.search(cell.source):
            continue
        if cell.cell_type == "markdown" and (start := SOLUTION_START.search(cell.source)):
            cell = nbformat.v4.new_markdown_cell(
                f"**Your turn ({start['label']}).** Replace the `raise NotImplementedError` line "
                "below with your code, run the cell, then run the check that follows."
            )
        elif index in solutions:
            source = stub_source(cell.source, solutions[index])
            stubbed += source.count("raise NotImplementedError(")
            cell.source = source
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        cells.append(cell)
    notebook.cells = cells
    return notebook, stubbed


def write_learner_notebooks(
    out: Path = DEFAULT_OUT, sources: list[Path] | None = None
) -> list[tuple[Path, int]]:
    """Write a learner notebook for each chapter notebook; return ``(path, stubs)`` pairs."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for source in sources or toc_notebooks():
        notebook, stubs = learner_notebook(read(source))
        target = out / source.name
        write(notebook, target)
        written.append((target, stubs))
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help="output folder (default: learner/)"
    )
    args = parser.parse_args(argv)
    written = write_learner_notebooks(args.out.resolve())
    for path, stubs in written:
        shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
        print(f"wrote {shown}: {stubs} exercise stub{'s' if stubs != 1 else ''}")
    total = sum(stubs for _, stubs in written)
    print(
        f"{len(written)} learner notebooks, {total} exercises to solve. Open them with `make lab`."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
