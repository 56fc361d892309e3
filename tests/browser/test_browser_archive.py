"""A generated 1,000-speech archive in chromium: the home page and every listing stay small, and
every speech is still reachable from them."""

from __future__ import annotations

import pytest

from .browsing import PHONE
from .test_browser_pages import STRUCTURE_RULES, WCAG_TAGS, _axe

MAX_ELEMENTS = 600               # the sample's home page has about 200; 226 speeches listed whole had 1,488
MAX_BYTES = 40_000


@pytest.mark.parametrize("dest", ["", "tahun/", "pembicara/", "acara/", "tahun/1500/", "pembicara/pembicara-50/"])
def test_listings_of_a_1000_speech_archive_stay_bounded_in_the_browser(visit_archive, archive_site, axe_source,
                                                                      dest) -> None:
    page, response = visit_archive.open(dest, viewport=PHONE)
    assert response.status == 200
    assert len(response.body()) <= MAX_BYTES, (dest, len(response.body()))
    elements = page.evaluate("document.querySelectorAll('*').length")
    assert elements <= MAX_ELEMENTS, (dest, elements)
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    if dest == "":
        assert page.locator("a.speech-link").count() == 10          # the latest ten, newest first
        assert page.locator("a.speech-link").first.inner_text() == "Pidato Nomor 999"
    violations = _axe(page, axe_source, {"runOnly": {"type": "tag", "values": WCAG_TAGS},
                                        "resultTypes": ["violations"]})
    violations += _axe(page, axe_source, {"runOnly": {"type": "rule", "values": STRUCTURE_RULES},
                                         "resultTypes": ["violations"]})
    assert violations == [], (dest, violations)


def test_the_oldest_speech_is_reached_from_the_home_page_by_links_alone(visit_archive) -> None:
    """Home -> the index of years -> its pages, one after the next -> the year -> the speech."""
    page, _ = visit_archive.open("")
    page.locator("a[href$='tahun/index.html']").first.click()
    for _ in range(20):
        link = page.locator("a[href$='1026/index.html']")
        if link.count():
            break
        page.locator("a[rel=next]").first.click()
    link.first.click()
    page.locator("a.speech-link").first.click()
    assert page.locator("h1").inner_text() == "Pidato Nomor 0"
