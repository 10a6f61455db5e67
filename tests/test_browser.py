"""The built book in a real browser: every page renders fully with no network.

Playwright for Python drives Debian's Chromium (``/usr/bin/chromium``, or the browser named
by ``CNNLIB_CHROMIUM``); Playwright's own browser download is never used. The book is served
on 127.0.0.1 and every request to any other host is refused and counted as a failure, so a
page that needs the internet (a CDN script, a web font) fails here.

Without Chromium these tests skip with that reason; ``.ci/run`` installs it and sets
``CNNLIB_REQUIRE_BROWSER=1``, which turns the skip into a failure.
"""

from __future__ import annotations

import functools
import http.server
import importlib
import inspect
import os
import re
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
import yaml
from notebooks import ROOT, toc_documents, toc_notebooks
from playwright.sync_api import sync_playwright

import cnnlib

pytestmark = pytest.mark.slow

# The flags Chromium needs in a sandbox without a network: no background connections (they
# would fail by the dozen), no GPU, no first-run work.
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# What MathJax must have replaced: TeX delimiters left in the text mean math did not render.
RAW_TEX = re.compile(r"\$\$|\\\[|\\\]|\\\(|\\\)")


def _chromium() -> str:
    candidate = os.environ.get("CNNLIB_CHROMIUM") or shutil.which("chromium") or ""
    for path in (candidate, "/usr/bin/chromium", "/usr/bin/chromium-browser"):
        if path and Path(path).exists():
            return path
    message = "Chromium not found (apt-get install chromium, or set CNNLIB_CHROMIUM)"
    if os.environ.get("CNNLIB_REQUIRE_BROWSER") == "1":
        pytest.fail(f"CNNLIB_REQUIRE_BROWSER=1 but {message}")
    pytest.skip(message)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def site(built_book: Path) -> Iterator[str]:
    """The built book served on 127.0.0.1; yields its base URL."""
    handler = functools.partial(_QuietHandler, directory=str(built_book))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    executable = _chromium()
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=executable, args=CHROMIUM_FLAGS, headless=True
        )
        yield chromium
        chromium.close()


@dataclass
class Visit:
    """What a page did while it loaded."""

    page: Any
    problems: list[str] = field(default_factory=list)


def _open(browser: Any, url: str) -> Visit:
    """Load ``url`` offline and wait until MathJax has typeset it; record every problem."""
    context = browser.new_context()
    page = context.new_page()
    visit = Visit(page)
    local = urlparse(url).netloc

    def route(request_route: Any) -> None:
        if urlparse(request_route.request.url).netloc == local:
            request_route.continue_()
        else:
            visit.problems.append(f"request to another host: {request_route.request.url}")
            request_route.abort()

    context.route("**/*", route)
    page.on("console", lambda m: m.type == "error" and visit.problems.append(f"console: {m.text}"))
    page.on("pageerror", lambda e: visit.problems.append(f"page error: {e}"))
    page.on(
        "requestfailed",
        lambda r: visit.problems.append(f"failed request: {r.url} ({r.failure})"),
    )
    page.on(
        "response",
        lambda r: r.status >= 400 and visit.problems.append(f"HTTP {r.status}: {r.url}"),
    )
    page.goto(url, wait_until="load")
    # the site's root index.html only redirects (meta refresh) to book/index.html
    page.wait_for_load_state("networkidle")
    if page.evaluate("() => document.querySelector('.math') !== null"):
        page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise")
        page.evaluate("() => MathJax.startup.promise")
    # every image (figures, animations) decoded, lazy ones included
    page.evaluate(
        """() => Promise.all([...document.images].map(img => {
               img.loading = 'eager';
               return img.decode().catch(() => null);
           }))"""
    )
    page.wait_for_load_state("networkidle")
    return visit


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """One test per page of the book: the pages are the toc's documents plus Sphinx's own."""
    if "page_path" in metafunc.fixturenames:
        pages = [f"{doc}.html" for doc in toc_documents()]
        pages += ["index.html", "genindex.html", "py-modindex.html", "search.html"]
        metafunc.parametrize("page_path", pages)


# "owner/name" of the repository the launch buttons point at, as _config.yml names it
REPOSITORY = urlparse(
    yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))["repository"]["url"]
).path.strip("/")
CHAPTERS = {f"book/{path.stem}.html": path.stem for path in toc_notebooks()}


def _chapter_problems(page: Any, stem: str) -> list[str]:
    """What a chapter notebook's page lacks: launch buttons, math, figures, closed solutions."""
    links = page.evaluate("() => [...document.querySelectorAll('a')].map(a => a.href)")
    notebook = f"book/{stem}.ipynb"
    problems = [
        f"no {name} button for {notebook}"
        for name, url in [
            (
                "Colab",
                f"https://colab.research.google.com/github/{REPOSITORY}/blob/main/{notebook}",
            ),
            ("Binder", f"https://mybinder.org/v2/gh/{REPOSITORY}/main?urlpath=tree/{notebook}"),
        ]
        if url not in links
    ]
    if stem == "00_preface":
        return problems
    counts = page.evaluate(
        """() => ({math: document.querySelectorAll('mjx-container').length,
                   images: [...document.images].filter(i => i.naturalWidth > 0).length,
                   solutions: document.querySelectorAll('.solution.dropdown').length,
                   closed: document.querySelectorAll('.solution.dropdown.toggle-hidden')
                       .length})"""
    )
    if counts["math"] < 10:
        problems.append(f"only {counts['math']} typeset formulas")
    if counts["images"] < 2:
        problems.append(f"only {counts['images']} images shown")
    if counts["solutions"] < 3:
        problems.append(f"{counts['solutions']} solutions")
    if counts["closed"] != counts["solutions"]:
        problems.append("a solution is open before any click")
    return problems


def test_the_page_loads_offline_with_math_figures_and_no_errors(browser, site, page_path):
    visit = _open(browser, site + page_path)
    page = visit.page
    if page_path == "index.html":
        assert page.url == f"{site}book/index.html", "the root should redirect to book/index.html"
    math = page.evaluate(
        """() => [...document.querySelectorAll('.math')].map(e => ({
               typeset: e.querySelector('mjx-container') !== null,
               error: e.querySelector('mjx-merror') !== null,
               text: e.textContent.slice(0, 80)}))"""
    )
    untypeset = [m["text"] for m in math if not m["typeset"] or m["error"]]
    prose = page.evaluate(
        """() => { const body = document.querySelector('main') || document.body;
                   const copy = body.cloneNode(true);
                   copy.querySelectorAll('pre, code, script, style, mjx-container, .highlight')
                       .forEach(e => e.remove());
                   return copy.innerText; }"""
    )
    raw = sorted({match.group() for match in RAW_TEX.finditer(prose)})
    images = page.evaluate(
        """() => [...document.images].map(img => ({
               src: img.getAttribute('src'), ok: img.complete && img.naturalWidth > 0}))"""
    )
    broken = [image["src"] for image in images if not image["ok"]]
    mathjax = page.evaluate(
        "() => [...document.scripts].filter(s => /mathjax/i.test(s.src)).map(s => s.src)"
    )
    chapter = _chapter_problems(page, CHAPTERS[page_path]) if page_path in CHAPTERS else []
    page.context.close()
    assert len(mathjax) <= 1, f"{page_path}: MathJax loaded {len(mathjax)} times: {mathjax}"
    assert not math or mathjax, f"{page_path}: math but no MathJax script"
    assert not visit.problems, f"{page_path}: " + "\n".join(visit.problems)
    assert not untypeset, f"{page_path}: math not typeset: {untypeset[:5]}"
    assert not raw, f"{page_path}: raw TeX delimiters {raw} left in the text"
    assert not broken, f"{page_path}: images that did not load: {broken}"
    assert not chapter, f"{page_path}: " + "; ".join(chapter)


def test_solutions_are_closed_until_clicked(browser, site):
    visit = _open(browser, f"{site}book/01_convolution.html")
    page = visit.page
    solutions = page.locator(".solution.dropdown")
    assert solutions.count() >= 3
    for index in range(solutions.count()):
        solution = solutions.nth(index)
        body = solution.locator(".cell, p:not(.admonition-title)").first
        assert not body.is_visible(), f"solution {index + 1} is open before any click"
    first = solutions.first
    first.locator("button.toggle-button").click()
    first.locator(".cell").first.wait_for(state="visible")
    assert "toggle-hidden" not in (first.get_attribute("class") or "")
    page.context.close()


def test_search_finds_stride(browser, site):
    visit = _open(browser, f"{site}search.html?q=stride")
    page = visit.page
    page.wait_for_function(
        "() => document.querySelectorAll('#search-results li').length > 0", timeout=20_000
    )
    links = page.evaluate(
        "() => [...document.querySelectorAll('#search-results li a')].map(a => a.href)"
    )
    page.context.close()
    assert any("01_convolution.html" in link for link in links), links[:10]
    assert not visit.problems, visit.problems


def _public_functions() -> dict[str, set[str]]:
    """Every public function and class of cnnlib's modules, with the ids it may have.

    Autodoc gives an object the id of the module it is documented under, which for a
    re-exported function (``cnnlib.conv.conv2d``) may differ from where it is defined.
    """
    names: dict[str, set[str]] = {}
    for submodule in cnnlib._SUBMODULES:
        module = importlib.import_module(f"cnnlib.{submodule}")
        exported = getattr(module, "__all__", None) or [
            name for name in vars(module) if not name.startswith("_")
        ]
        for name in exported:
            value = getattr(module, name)
            if not (inspect.isfunction(value) or inspect.isclass(value)):
                continue
            if getattr(value, "__module__", "").startswith("cnnlib"):
                ids = {f"{module.__name__}.{name}", f"{value.__module__}.{value.__qualname__}"}
                names[f"{module.__name__}.{name}"] = ids
    return names


def test_the_api_reference_lists_every_public_function(browser, site):
    visit = _open(browser, f"{site}book/api.html")
    documented = set(
        visit.page.evaluate("() => [...document.querySelectorAll('dt[id]')].map(dt => dt.id)")
    )
    unlinked = visit.page.evaluate(
        """() => [...document.querySelectorAll('dl.py.function > dt[id], dl.py.class > dt[id]')]
               .filter(dt => !dt.closest('dd'))
               .filter(dt => ![...dt.nextElementSibling.querySelectorAll('a')]
                   .some(a => /book\\/\\d\\d_\\w+\\.html$/.test(a.href)))
               .map(dt => dt.id)"""
    )
    visit.page.context.close()
    missing = sorted(name for name, ids in _public_functions().items() if not ids & documented)
    assert not missing, f"not in the API reference: {missing}"
    assert not unlinked, f"API entries with no link to the chapter that derives them: {unlinked}"


# The works the chapters build on; each must be cited by a chapter and listed once.
CITED_WORKS = [
    "Gradient-Based Learning Applied to Document Recognition",  # LeNet
    "ImageNet Classification with Deep Convolutional Neural Networks",  # AlexNet
    "Very Deep Convolutional Networks for Large-Scale Image Recognition",  # VGG
    "Network In Network",
    "Multi-Scale Context Aggregation by Dilated Convolutions",
    "Delving Deep into Rectifiers",  # He initialisation
    "Adam: A Method for Stochastic Optimization",
    "Grad-CAM",
    "Gaussian Error Linear Units",
    "CS231n",
]


def test_the_bibliography_lists_the_works_the_chapters_cite(browser, site):
    visit = _open(browser, f"{site}book/bibliography.html")
    entries = visit.page.evaluate(
        "() => [...document.querySelectorAll('.citation, div[role=doc-bibliography] > *')]"
        ".map(e => e.innerText)"
    )
    visit.page.context.close()
    text = "\n".join(entries)
    missing = [title for title in CITED_WORKS if title.lower() not in text.lower()]
    assert not missing, f"missing from the bibliography: {missing}"
    visit = _open(browser, f"{site}book/01_convolution.html")
    targets = visit.page.evaluate(
        "() => [...document.querySelectorAll('a[href*=\"bibliography.html#\"]')].map(a => a.href)"
    )
    for target in targets[:3]:  # a citation in the text jumps to its entry
        visit.page.goto(target)
        anchor = target.split("#", 1)[1]
        assert visit.page.locator(f"[id='{anchor}']").count() == 1, target
    visit.page.context.close()
    assert targets, "chapter 1 cites no work"
