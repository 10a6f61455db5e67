"""The built HTML, read as files: every internal link and anchor resolves, figures suit dark mode.

Offline by construction: links to other hosts are not followed (the browser tests make sure no
page *loads* anything from another host); everything else must exist in the build.
"""

from __future__ import annotations

import html.parser
from collections import defaultdict
from pathlib import Path
from urllib.parse import unquote, urldefrag, urlparse

import numpy as np
import pytest
from PIL import Image

pytestmark = pytest.mark.slow


class _Links(html.parser.HTMLParser):
    """The ids a page defines and the URLs it points at (href and src)."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        for key in ("id", "name"):
            if values.get(key) and (key == "id" or tag == "a"):
                self.ids.add(str(values[key]))
        for key in ("href", "src"):
            if values.get(key):
                self.urls.append(str(values[key]))


def _parse(path: Path) -> _Links:
    parser = _Links()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def _internal(url: str) -> bool:
    parsed = urlparse(url)
    return not parsed.scheme and not parsed.netloc and not url.startswith(("mailto:", "data:"))


def _html_pages(built: Path) -> list[Path]:
    return [
        p.resolve() for p in built.rglob("*.html") if p.relative_to(built).parts[0] != "_static"
    ]


def _check_links(built: Path) -> tuple[int, dict[str, list[str]]]:
    """How many internal links the pages under ``built`` hold, and the broken ones by page."""
    pages = {path: _parse(path) for path in _html_pages(built)}
    broken: dict[str, list[str]] = defaultdict(list)
    checked = 0
    for page, links in pages.items():
        for url in filter(_internal, links.urls):
            checked += 1
            target_url, fragment = urldefrag(url)
            target_path = unquote(urlparse(target_url).path)  # without "?v=digest"
            target = (page.parent / target_path).resolve() if target_path else page
            if target.is_dir():
                target = target / "index.html"
            if not target.exists():
                broken[page.name].append(f"{url} (no such file)")
            elif fragment and target.suffix == ".html":
                ids = pages[target].ids if target in pages else _parse(target).ids
                if unquote(fragment) not in ids:
                    broken[page.name].append(f"{url} (no anchor #{fragment})")
    return checked, broken


def test_every_internal_link_and_anchor_resolves(built_book):
    checked, broken = _check_links(built_book)
    assert checked > 500, f"only {checked} internal links found: is the build complete?"
    assert not broken, "\n".join(f"{page}: {', '.join(urls[:8])}" for page, urls in broken.items())


def test_the_link_check_finds_a_missing_file_and_a_broken_anchor(tmp_path):
    (tmp_path / "a.html").write_text(
        '<p id="here"></p><a href="b.html#there">b</a><a href="#here">up</a>'
        '<img src="gone.png"><a href="https://example.org/x">elsewhere</a>'
    )
    (tmp_path / "b.html").write_text('<p id="elsewhere"></p><a href="a.html#here">a</a>')
    checked, broken = _check_links(tmp_path)
    assert checked == 4  # the external link is not followed
    assert dict(broken) == {
        "a.html": ["b.html#there (no anchor #there)", "gone.png (no such file)"]
    }


def test_figures_are_opaque_so_dark_mode_cannot_hide_their_text(built_book):
    """A transparent PNG with black labels turns unreadable on the dark theme's background."""
    images = sorted((built_book / "_images").glob("*.png"))
    assert len(images) >= 20
    transparent = []
    for path in images:
        with Image.open(path) as image:
            if image.mode in {"RGBA", "LA"} or "transparency" in image.info:
                alpha = np.asarray(image.convert("RGBA"))[..., 3]
                if alpha.min() < 255:
                    transparent.append(f"{path.name} ({np.mean(alpha < 255):.0%} transparent)")
    assert not transparent, f"figures with a transparent background: {transparent}"
