"""The fixture project with Arabic and French versions (tests/test_rtl.py), read in chromium: an
Arabic page is right to left on a phone, its first line starts at the right, the Arabic web font
is fetched only where Arabic is written, and axe finds nothing on the Arabic, French and
side-by-side pages."""

from __future__ import annotations

import pytest

from test_rtl import ARABIC_SENTENCE, world_project

from .browsing import SUB_PATH
from .conftest import _serve, _visiting
from .test_browser_pages import STRUCTURE_RULES, WCAG_TAGS, _axe

FIRST_SCREEN = {"width": 360, "height": 640}
ARABIC_PAGE = "2025/kenegaraan/ar/"


@pytest.fixture(scope="module")
def world_site(tmp_path_factory):
    from speechgen.build import build
    from speechgen.config import load_config

    project = world_project(tmp_path_factory.mktemp("rtl-browser") / "project")
    build(load_config(project), out=project / "site", pdf=False, search=False, card_pdfs=False)
    return project / "site"


@pytest.fixture(scope="module")
def world_server(world_site):
    yield from _serve(world_site, SUB_PATH)


@pytest.fixture
def visit_world(browser, world_server):
    yield from _visiting(browser, world_server)


def _fonts_fetched(page) -> list[str]:
    return page.evaluate("performance.getEntriesByType('resource').map(e => e.name)"
                         ".filter(n => n.endsWith('.woff2')).map(n => n.split('/').pop())")


def test_an_arabic_page_is_right_to_left_on_a_phone(visit_world, artifacts) -> None:
    page, response = visit_world.open(ARABIC_PAGE, FIRST_SCREEN)
    assert response.status == 200
    assert page.evaluate("document.dir") == "rtl"
    assert page.evaluate("getComputedStyle(document.body).direction") == "rtl"
    # the first line of the first paragraph starts at the right edge of the text column
    first = page.locator(".speech-body > #p-1")
    assert ARABIC_SENTENCE in first.inner_text()
    line = first.evaluate("""p => {
        const range = document.createRange();
        range.selectNodeContents(p);
        const rects = [...range.getClientRects()];
        const top = Math.min(...rects.map(r => r.top));
        const row = rects.filter(r => Math.abs(r.top - top) < 2);
        const box = p.getBoundingClientRect();
        return {right: Math.max(...row.map(r => r.right)), left: Math.min(...row.map(r => r.left)),
                boxRight: box.right, boxLeft: box.left};
    }""")
    assert abs(line["right"] - line["boxRight"]) <= 1, line
    # the Arabic is drawn with the bundled web font; no page scrolls sideways
    assert "noto-naskh-arabic-regular.woff2" in _fonts_fetched(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= FIRST_SCREEN["width"]
    page.screenshot(path=str(artifacts / "screenshot-arabic-phone.png"))


def test_a_latin_page_fetches_no_arabic_font(visit_world) -> None:
    # the Indonesian page links to its Arabic version, whose name is in Arabic script
    page, _ = visit_world.open("2025/kenegaraan/", FIRST_SCREEN)
    assert page.evaluate("document.dir") in ("", "ltr")
    assert page.locator(".lang-switch a[hreflang='ar'][dir='rtl']").count() == 1
    assert not [name for name in _fonts_fetched(page) if "arabic" in name]


@pytest.mark.parametrize("dest", [ARABIC_PAGE, "2025/kenegaraan/fr/", "2025/kenegaraan/berdampingan/", "tahun/2025/"])
def test_axe_finds_nothing_on_arabic_french_and_side_by_side_pages(visit_world, axe_source, artifacts, dest) -> None:
    page, response = visit_world.open(dest, FIRST_SCREEN)
    assert response.status == 200
    found = _axe(page, axe_source, {"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]})
    found += _axe(page, axe_source, {"runOnly": {"type": "rule", "values": STRUCTURE_RULES}, "resultTypes": ["violations"]})
    assert found == [], found
    if dest.endswith("berdampingan/"):
        cell = page.locator(".pair-cell[lang='ar']").first
        assert cell.evaluate("e => getComputedStyle(e).direction") == "rtl"
        assert page.locator(".pair-cell[lang='fr']").first.evaluate("e => getComputedStyle(e).direction") == "ltr"
        page.set_viewport_size({"width": 1280, "height": 900})
        page.screenshot(path=str(artifacts / "screenshot-side-by-side-arabic.png"))
