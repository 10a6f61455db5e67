"""Sphinx additions for the book: API entries that link to their chapter, one copy of each script.

Loaded through ``sphinx.local_extensions`` in ``_config.yml``.

Chapter links
    cnnlib's docstrings say where a function is derived in plain words, "(chapter 4)", so
    that ``help()`` reads well. In the HTML API reference every such mention becomes a link
    to the chapter, and a function or class that does not name a chapter itself gets a
    "Derived in" line built from the chapters its module names.
One copy of each script
    An inline script added with ``app.add_js_file(None, body=...)`` after the HTML
    builder started is stored with the file name ``None``; before writing, Sphinx 7.4's
    ``prepare_writing`` adds every such registered asset again, as ``""``. The two do not
    compare equal, so sphinx-thebe's and sphinx-togglebutton's configuration scripts
    appear twice, and a second ``const THEBE_JS_URL`` is a JavaScript error on every page.
    Each page's scripts and stylesheets are kept once, ``None`` and ``""`` counting as one.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import re
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx

# "chapter 4", "Chapter 8", "chapters 1, 3 and 6": only the plural takes a list, so that
# "chapter 7, 3 filters" names chapter 7 alone
MENTION = re.compile(r"\b(?:[Cc]hapters\s+\d+(?:(?:,\s*|\s+and\s+|\s+or\s+)\d+)*|[Cc]hapter\s+\d+)")
NUMBER = re.compile(r"\d+")


@functools.cache
def chapter_documents(srcdir: Path) -> dict[int, str]:
    """Chapter number → document name, from the notebooks' names (``book/04_pooling``).

    Read once per build (autodoc asks for every docstring).
    """
    documents = {}
    for path in sorted((srcdir / "book").glob("[0-9][0-9]_*.ipynb")):
        documents[int(path.name[:2])] = f"book/{path.stem}"
    return documents


def link_chapters(text: str, documents: dict[int, str]) -> str:
    """Turn each mention of a known chapter in ``text`` into a ``:doc:`` link."""

    def link(number: re.Match[str]) -> str:
        value = int(number.group())
        if value not in documents:
            return number.group()
        return f":doc:`{value} </{documents[value]}>`"

    return MENTION.sub(lambda mention: NUMBER.sub(link, mention.group()), text)


def chapters_named(text: str) -> list[int]:
    """The chapter numbers ``text`` mentions, in order, without repeats."""
    found: list[int] = []
    for match in MENTION.finditer(text):
        for number in NUMBER.findall(match.group()):
            if int(number) not in found:
                found.append(int(number))
    return found


def _module_chapters(name: str) -> list[int]:
    """Chapters named by a module's docstring, or else by its package's."""
    while name:
        module = importlib.import_module(name)
        found = chapters_named(inspect.getdoc(module) or "")
        if found:
            return found
        name = name.rpartition(".")[0]
    return []


def _process_docstring(
    app: Sphinx, what: str, name: str, obj: Any, options: Any, lines: list[str]
) -> None:
    documents = chapter_documents(Path(app.srcdir))
    mentioned = chapters_named("\n".join(lines))
    lines[:] = [link_chapters(line, documents) for line in lines]
    if what not in {"function", "class"} or mentioned:
        return
    module = getattr(obj, "__module__", None) or name.rpartition(".")[0]
    chapters = [n for n in _module_chapters(module) if n in documents]
    if chapters:
        words = ", ".join(str(n) for n in chapters[:-1])
        listed = f"{words} and {chapters[-1]}" if words else str(chapters[0])
        noun = "chapters" if len(chapters) > 1 else "chapter"
        lines.extend(["", link_chapters(f"Derived in {noun} {listed}.", documents)])


def _one_copy_of_each_asset(
    app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any
) -> None:
    for key in ("script_files", "css_files"):
        assets = context.get(key)
        if not assets:
            continue
        seen: set[tuple[str, str]] = set()
        unique = []
        for asset in assets:
            # an inline script has no file: None or "" (see the module docstring)
            filename = getattr(asset, "filename", asset) or ""
            attributes = sorted(getattr(asset, "attributes", {}).items())
            identity = (str(filename), repr(attributes))
            if identity not in seen:
                seen.add(identity)
                unique.append(asset)
        context[key] = unique


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("autodoc-process-docstring", _process_docstring)
    app.connect("html-page-context", _one_copy_of_each_asset)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
