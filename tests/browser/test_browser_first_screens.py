"""What a reader sees before scrolling, measured in chromium at 360x640 (a small phone): the copy
page a card opens names whose copy it is, the title, the date, the edition and its fingerprint,
and offers Read and Download; a corrected speech says so near the top, with a link to what
changed; the header is at most 64 px tall; the copy page's sticky band at most two lines."""

from __future__ import annotations

import pytest

from .browsing import DESKTOP, _folder, page_types

FIRST_SCREEN = {"width": 360, "height": 640}
HEADER_MAX = 64
LONG_NAME = ("Dewan Perwakilan Rakyat Daerah Provinsi Contoh Raya beserta Sekretariat Jenderal, Badan "
             "Keahlian, Pusat Kajian Anggaran dan Perpustakaan Parlemen Republik Contoh")


@pytest.fixture(scope="module")
def types(built_site, manifest) -> dict[str, str]:
    return page_types(built_site, manifest)


def _corrected(manifest: dict) -> dict:
    """The sample's speech with a second edition (id and en), and its copies."""
    return next(s for s in manifest["speeches"]
                if all(len(entry.get("editions", [])) > 1 for entry in s["languages"].values()))


def _on_first_screen(page, selector: str) -> dict:
    box = page.locator(selector).first.bounding_box()
    assert box is not None, f"{selector} is not shown"
    assert box["y"] >= 0 and box["y"] + box["height"] <= FIRST_SCREEN["height"], (selector, box)
    return box


def _lines(page, selector: str) -> float:
    """How many lines of text an element's box is tall (without its padding and borders)."""
    return page.locator(selector).evaluate("""e => { const s = getComputedStyle(e);
        const inner = e.getBoundingClientRect().height - ['paddingTop', 'paddingBottom', 'borderTopWidth',
            'borderBottomWidth'].reduce((sum, side) => sum + parseFloat(s[side]), 0);
        return inner / parseFloat(s.lineHeight); }""")


def test_a_copy_page_shows_whose_copy_what_when_which_edition_and_both_actions_without_scrolling(
        visit, manifest, artifacts) -> None:
    speech = _corrected(manifest)
    page, _ = visit.open(_folder(speech["copies"][0]["path"]), FIRST_SCREEN)
    assert page.evaluate("scrollY") == 0
    for selector in (".copy-recipient", "h1", ".copy-summary time", ".copy-summary .fingerprint",
                     ".copy-actions a[href='#naskah']", ".copy-actions a[download]", ".correction-notice"):
        _on_first_screen(page, selector)
    editions = speech["languages"]["id"]["editions"]
    summary = page.locator(".copy-summary").inner_text()
    assert f"Edisi {len(editions)}" in summary and "15 Agustus 2025" in summary
    # the fingerprint shown first is the one of the PDF that Download gives
    shown = page.locator(".copy-summary .fingerprint").inner_text()
    assert shown == page.locator(".pdf-facts .fingerprint").inner_text()
    assert shown.replace(" ", "") == editions[-1]["sha256"][:16]
    page.screenshot(path=str(artifacts / "screenshot-copy-first-screen.png"))


@pytest.mark.parametrize("lang, words, link", [("id", "Dikoreksi pada 20 Agustus 2025", "Apa yang berubah"),
                                                ("en", "Corrected on 20 August 2025", "What changed")])
def test_a_corrected_speech_says_so_near_the_top_with_a_link_to_what_changed(visit, manifest, lang, words,
                                                                             link) -> None:
    speech = _corrected(manifest)
    number = len(speech["languages"][lang]["editions"])
    pages = [_folder(speech["languages"][lang]["path"])]
    if lang == "id":
        pages.append(_folder(speech["copies"][0]["path"]))
    for dest in pages:
        page, _ = visit.open(dest, FIRST_SCREEN)
        notice = page.locator(".correction-notice")
        assert notice.count() == 1, dest
        _on_first_screen(page, ".correction-notice")
        text = notice.inner_text()
        assert text.startswith(words + ": ") and text.endswith("— " + link), text
        target = notice.locator("a")
        assert target.inner_text() == link
        with page.expect_navigation():
            target.click()
        assert page.url.endswith((f"perubahan/{number}/", f"perubahan/{number}/index.html")), page.url
        assert page.locator(".edition-note").count() == 1
    # a speech never corrected says nothing of the kind
    once = next(s for s in manifest["speeches"] if len(s["languages"]["id"].get("editions", [])) == 1)
    page, _ = visit.open(_folder(once["languages"]["id"]["path"]), FIRST_SCREEN)
    assert page.locator(".correction-notice").count() == 0


@pytest.mark.parametrize("width", [320, 360])
def test_the_header_is_at_most_64px_on_a_phone(visit, types, width) -> None:
    page = visit.page({"width": width, "height": 640})
    heights = {}
    for kind in ("home", "speech-id", "speech-en", "copy", "search", "404", "changes"):
        if kind in types:
            page.goto(visit.server + types[kind])
            header = page.locator(".site-header").bounding_box()
            heights[kind] = header["height"]
            # each of its links is still a 44 px target, and none is cut off or hidden
            for box in page.locator(".site-header a").evaluate_all(
                    "els => els.map(a => { const r = a.getBoundingClientRect();"
                    " return [a.textContent.trim(), r.height, r.width, r.right]; })"):
                assert box[1] >= 44 and box[2] >= 44 and box[3] <= width, box
    assert heights and max(heights.values()) <= HEADER_MAX, heights
    # the site's title is whole in the link's name, however it is cut on screen
    title = page.locator(".site-title")
    assert title.inner_text() == "Arsip Pidato Kenegaraan (Contoh)"


def test_the_header_on_a_desktop_is_one_row_with_the_whole_title(visit, types) -> None:
    page, _ = visit.open(types["speech-id"], DESKTOP)
    title = page.locator(".site-title")
    assert title.evaluate("e => e.scrollHeight <= e.clientHeight + 1")      # nothing cut off
    assert page.locator(".site-header").bounding_box()["height"] <= 80


def test_the_sticky_band_is_at_most_two_lines_for_a_long_name_which_the_page_gives_whole(visit, manifest) -> None:
    speech = _corrected(manifest)
    copy = speech["copies"][0]
    page, _ = visit.open(_folder(copy["path"]), FIRST_SCREEN)
    assert _lines(page, ".copy-for") <= 2.05
    # the longest name an institution might have: still two lines, cut with an ellipsis
    page.evaluate("name => { document.querySelector('.copy-recipient').textContent = name;"
                  " document.querySelector('.copy-recipient-full').textContent = name; }", LONG_NAME)
    assert _lines(page, ".copy-for") <= 2.05
    band = page.locator(".copy-for")
    assert band.evaluate("e => e.scrollHeight > e.clientHeight")           # more than it shows
    assert band.evaluate("e => getComputedStyle(e).webkitLineClamp") == "2"
    assert page.locator(".copy-recipient").inner_text() == LONG_NAME       # read whole by a screen reader
    # the whole name is on the page, in the details box
    full = page.locator(".copy-recipient-full")
    assert full.inner_text() == LONG_NAME and full.is_visible()
    assert full.evaluate("e => e.scrollHeight <= e.clientHeight + 1")
    # Read and Download are still on the first screen
    _on_first_screen(page, ".copy-actions a[download]")
    # the band stays two lines while the page scrolls
    page.locator("#naskah > [id^='p-']").last.scroll_into_view_if_needed()
    box = band.bounding_box()
    assert box["y"] >= 0 and _lines(page, ".copy-for") <= 2.05


def test_the_built_copy_page_names_the_recipient_whole(built_site, manifest) -> None:
    copy = _corrected(manifest)["copies"][0]
    html = (built_site / copy["path"]).read_text("utf-8")
    assert f'<dd dir="auto" class="copy-recipient-full">{copy["name"]}</dd>' in html
