"""tools/book_extras.py: chapter mentions in docstrings become links; duplicate scripts go."""

from __future__ import annotations

from types import SimpleNamespace

from book_extras import _one_copy_of_each_asset, chapters_named, link_chapters

DOCS = {1: "book/01_convolution", 3: "book/03_backpropagation", 6: "book/06_im2col"}


def test_every_number_of_a_mention_links_to_its_chapter():
    text = "Batched convolution (chapters 1, 3 and 6)."
    assert link_chapters(text, DOCS) == (
        "Batched convolution (chapters :doc:`1 </book/01_convolution>`, "
        ":doc:`3 </book/03_backpropagation>` and :doc:`6 </book/06_im2col>`)."
    )
    assert link_chapters("See Chapter 3", DOCS) == "See Chapter :doc:`3 </book/03_backpropagation>`"


def test_unknown_chapters_and_other_numbers_stay_text():
    assert link_chapters("chapter 12, 3 filters", DOCS) == "chapter 12, 3 filters"
    assert link_chapters("a 3×3 kernel", DOCS) == "a 3×3 kernel"


def test_the_chapters_a_text_names_in_order_without_repeats():
    assert chapters_named("chapter 6; chapters 1 and 6, or chapter 3") == [6, 1, 3]
    assert chapters_named("no chapters here") == []


def test_an_inline_script_listed_as_none_and_as_empty_is_kept_once():
    def script(filename, **attributes):
        return SimpleNamespace(filename=filename, attributes=attributes)

    context = {
        "script_files": [
            script("_static/a.js"),
            script(None, body="const X = 1;"),
            script("", body="const X = 1;"),
            script("", body="const Y = 2;"),
            script("_static/a.js"),
        ]
    }
    _one_copy_of_each_asset(None, "page", "page.html", context, None)
    kept = [(s.filename, s.attributes) for s in context["script_files"]]
    assert kept == [
        ("_static/a.js", {}),
        (None, {"body": "const X = 1;"}),
        ("", {"body": "const Y = 2;"}),
    ]
