"""Helpers shared by the notebook tools and their tests.

The chapter notebooks are the ones listed in ``_toc.yml``; everything here reads that
file so that a new chapter needs no other registration.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import nbformat
import yaml

ROOT = Path(__file__).resolve().parent.parent

#: Markdown cells that open and close a gated sphinx-exercise solution.
SOLUTION_START = re.compile(r"^```\{solution-start\}\s+(?P<label>\S+)", re.MULTILINE)
SOLUTION_END = re.compile(r"^```\{solution-end\}", re.MULTILINE)


def _toc_files(entries: list[dict[str, Any]]) -> list[str]:
    files: list[str] = []
    for entry in entries:
        if "file" in entry:
            files.append(entry["file"])
        for key in ("chapters", "sections", "parts"):
            files.extend(_toc_files(entry.get(key, [])))
    return files


def toc_documents(root: Path = ROOT) -> list[str]:
    """Every document of the book, in reading order, as paths without suffix."""
    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))
    return [toc["root"], *_toc_files(toc.get("parts", []) + toc.get("chapters", []))]


def toc_notebooks(root: Path = ROOT) -> list[Path]:
    """The chapter notebooks (``.ipynb``) of the book, in reading order."""
    paths = [root / f"{doc}.ipynb" for doc in toc_documents(root)]
    return [path for path in paths if path.exists()]


def read(path: Path) -> Any:
    """Read a notebook as an nbformat v4 node."""
    return nbformat.read(path, as_version=4)


def write(notebook: Any, path: Path) -> None:
    """Write a notebook with nbformat's stable JSON layout."""
    nbformat.validate(notebook)
    nbformat.write(notebook, path)


def solution_cells(notebook: Any) -> dict[int, str]:
    """Indices of the code cells inside gated solutions, mapped to the exercise label.

    Raises
    ------
    ValueError
        If a solution is opened twice, closed without being opened, or left open.
    """
    inside: str | None = None
    found: dict[int, str] = {}
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "markdown":
            start = SOLUTION_START.search(cell.source)
            end = SOLUTION_END.search(cell.source)
            if start:
                if inside is not None:
                    raise ValueError(
                        f"cell {index}: solution {start['label']} opened inside {inside}"
                    )
                inside = start["label"]
            if end:
                if inside is None:
                    raise ValueError(f"cell {index}: solution-end without solution-start")
                inside = None
        elif cell.cell_type == "code" and inside is not None:
            found[index] = inside
    if inside is not None:
        raise ValueError(f"solution {inside} is never closed with solution-end")
    return found
