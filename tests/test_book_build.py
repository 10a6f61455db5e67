"""The book builds with warnings as errors, exactly as `make book` runs it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from notebooks import ROOT, toc_documents


@pytest.fixture(scope="session")
def built_book(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the book once per session into a temporary folder; return its html folder."""
    out = tmp_path_factory.mktemp("book")
    # the same program and flags as `make book`, from this environment
    command = [
        str(Path(sys.executable).parent / "jupyter-book"),
        "build",
        str(ROOT),
        "--path-output",
        str(out),
        "-W",
        "-n",
        "--keep-going",
    ]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        pytest.fail(
            f"jupyter-book build failed ({result.returncode}):\n"
            f"{result.stdout[-6000:]}\n{result.stderr[-6000:]}"
        )
    return out / "_build" / "html"


@pytest.mark.slow
def test_every_page_is_built(built_book):
    assert (built_book / "index.html").exists()
    for doc in toc_documents():
        assert (built_book / f"{doc}.html").exists(), doc


@pytest.mark.slow
def test_solutions_are_dropdowns_and_notebooks_have_launch_buttons(built_book):
    chapter = (built_book / "book" / "01_convolution.html").read_text(encoding="utf-8")
    assert chapter.count('class="solution dropdown admonition"') == 4
    repository = "cnns-from-scratch/cnns-from-scratch"
    assert f"mybinder.org/v2/gh/{repository}/main?urlpath=tree/book/01_convolution.ipynb" in chapter
    assert (
        f"colab.research.google.com/github/{repository}/blob/main/book/01_convolution.ipynb"
        in chapter
    )


@pytest.mark.slow
def test_the_install_cell_is_removed_from_the_html(built_book):
    chapter = (built_book / "book" / "01_convolution.html").read_text(encoding="utf-8")
    assert "find_spec" not in chapter
