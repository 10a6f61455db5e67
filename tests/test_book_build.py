"""The book builds with warnings as errors, exactly as `make book` runs it.

The build itself is the session fixture ``built_book`` in conftest.py, shared with the
browser and link tests."""

from __future__ import annotations

import pytest
from notebooks import toc_documents


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
