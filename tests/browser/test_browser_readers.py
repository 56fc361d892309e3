"""What a reader meets on a phone: the scanned copy's first screen, wide tables, a long table of
contents, search while typing, and a site in English only (no doubled label, no unmarked
Indonesian). Measured in chromium, checked with axe."""

from __future__ import annotations

import re

import pytest

from speechgen.templates import LABELS

from .browsing import DESKTOP, PHONE, _folder, page_types
from .test_browser_pages import STRUCTURE_RULES, WCAG_TAGS, _axe

FIRST_SCREEN = {"width": 360, "height": 640}


@pytest.fixture(scope="module")
def types(built_site, manifest) -> dict[str, str]:
    return page_types(built_site, manifest)


def _bilingual(manifest: dict) -> dict:
    return next(s for s in manifest["speeches"] if len(s["languages"]) > 1)


@pytest.fixture(scope="module")
def copy_dest(manifest) -> str:
    """A copy of the sample's corrected two-language speech (a table, footnotes, two editions)."""
    return _folder(_bilingual(manifest)["copies"][0]["path"])


# --- the copy page a scanned card opens -------------------------------------------------------

def test_copy_page_first_screen_names_the_institution_and_offers_read_and_pdf(visit, manifest, copy_dest,
                                                                             artifacts) -> None:
    page, _ = visit.open(copy_dest, FIRST_SCREEN)
    copy = _bilingual(manifest)["copies"][0]
    name = page.locator(".copy-recipient")
    assert name.inner_text() == copy["name"]
    read = page.locator(".copy-actions a[href='#naskah']")
    pdf = page.locator(".copy-actions a[download]")
    for what, element in (("institution", name), ("read", read), ("PDF", pdf)):
        box = element.bounding_box()
        assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= 640, (what, box)
    page.screenshot(path=str(artifacts / "screenshot-copy-phone.png"))
    # what the copy page always had: the card's edition, every edition, the serial, translations
    assert page.locator(".card-edition .fingerprint").count() == 1
    assert page.locator(".edition-list > li").count() == 2
    assert re.fullmatch(r"\S+ \S+ \d{3}/\d{3}", page.locator(".copy-number").inner_text().strip())
    assert page.locator(".lang-switch a[hreflang='en']").count() == 1


def test_copy_page_holds_the_whole_speech_and_keeps_naming_the_institution(visit, types, copy_dest) -> None:
    page, _ = visit.open(copy_dest, FIRST_SCREEN)
    public, _ = visit.open(types["speech-id"], FIRST_SCREEN)
    blocks = "els => els.map(e => e.id + ' ' + e.textContent.trim())"
    assert page.locator("#naskah > [id^='p-']").evaluate_all(blocks) == \
        public.locator(".speech-body > [id^='p-']").evaluate_all(blocks)
    assert page.locator("#naskah .footnotes li").count() == public.locator(".speech-body .footnotes li").count() > 0
    # read: one tap lands on the first paragraph, below the band that names the institution
    page.locator(".copy-actions a[href='#naskah']").click()
    page.wait_for_function("location.hash === '#naskah'")
    band = page.locator(".copy-for").bounding_box()
    first = page.locator("#naskah > #p-1").bounding_box()
    assert first["y"] >= band["y"] + band["height"] - 1 and first["y"] < 640
    # far down the text the institution is still named on screen
    page.locator("#naskah > [id^='p-']").last.scroll_into_view_if_needed()
    box = page.locator(".copy-recipient").bounding_box()
    assert page.evaluate("scrollY") > 1000 and 0 <= box["y"] and box["y"] + box["height"] <= 640


def test_copy_page_contents_and_details_box_line_up_on_a_phone(visit, copy_dest) -> None:
    page, _ = visit.open(copy_dest, PHONE)
    page.locator(".toc summary").click()
    # the heading list has no bullets to sit on its grey rule
    styles = page.locator(".toc li").evaluate_all("els => els.map(e => getComputedStyle(e).listStyleType)")
    assert styles and set(styles) == {"none"}
    rule = page.locator(".toc").evaluate("e => e.getBoundingClientRect().left + parseFloat(getComputedStyle(e).borderLeftWidth)")
    lefts = page.locator(".toc li a").evaluate_all("els => els.map(e => e.getBoundingClientRect().left)")
    assert min(lefts) > rule + 8
    # the details box: names in one column, values in another, on every row
    for part in ("dt", "dd"):
        xs = page.locator(f".speech-facts {part}").evaluate_all("els => els.map(e => Math.round(e.getBoundingClientRect().left))")
        assert len(xs) >= 3 and len(set(xs)) == 1, (part, xs)


# --- tables wider than the phone --------------------------------------------------------------

@pytest.mark.parametrize("kind, word", [("speech-id", "Tabel"), ("speech-en", "Table")])
def test_a_wide_table_scrolls_in_a_named_region_reached_by_keyboard(visit, types, kind, word) -> None:
    page, _ = visit.open(types[kind], {"width": 360, "height": 740})
    box = page.locator(".speech-body .table-wrap").first
    assert box.get_attribute("role") == "region" and box.get_attribute("tabindex") == "0"
    assert re.fullmatch(rf"{word}: \S.*", box.get_attribute("aria-label") or "")
    sizes = box.evaluate("e => [e.scrollWidth, e.clientWidth]")
    assert sizes[0] > sizes[1], f"the sample's table should be wider than a 360 px phone: {sizes}"
    assert page.evaluate("document.documentElement.scrollWidth") <= 360      # the page itself does not
    assert "radial-gradient" in box.evaluate("e => getComputedStyle(e).backgroundImage")   # the edge shadow
    for _ in range(60):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.classList.contains('table-wrap')"):
            break
    else:
        raise AssertionError("Tab never reached the table")
    page.keyboard.press("ArrowRight")
    page.wait_for_function("document.activeElement.scrollLeft > 0")
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"


def test_tables_scroll_on_the_english_only_site_too(visit_english) -> None:
    page, _ = visit_english.open("2025/state-address/", PHONE)
    box = page.locator(".speech-body .table-wrap")
    assert box.get_attribute("aria-label") == "Table: Province, Harvest 2023 (tonnes), Harvest 2024 (tonnes), " \
        "Harvest 2025 (tonnes), Change since 2023, Share of the national total"
    assert box.get_attribute("role") == "region" and box.get_attribute("tabindex") == "0"
    assert box.evaluate("e => e.scrollWidth > e.clientWidth + 100")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


# --- a long table of contents -----------------------------------------------------------------

def test_a_long_table_of_contents_folds_on_a_phone_and_opens_on_a_desktop(visit_english) -> None:
    dest = "2025/state-address/"
    phone, _ = visit_english.open(dest, FIRST_SCREEN)
    toc = phone.locator("details.toc-fold")
    assert toc.evaluate("e => e.open") is False
    assert phone.locator(".toc li").count() >= 18 and not phone.locator(".toc li a").first.is_visible()
    fold = phone.locator(".toc summary").bounding_box()
    assert fold["height"] >= 44 and fold["y"] + fold["height"] <= 1.5 * 640    # not screens down
    text_top = phone.locator(".speech-body > #p-1").bounding_box()["y"]
    assert text_top < fold["y"] + 200
    phone.locator(".toc summary").click()
    assert phone.locator(".toc li a").first.is_visible()
    assert phone.locator(".speech-body > #p-1").bounding_box()["y"] > text_top + 18 * 40    # what folding saves
    desktop, _ = visit_english.open(dest, DESKTOP)
    assert desktop.locator("details.toc-fold").evaluate("e => e.open") is True
    assert desktop.locator(".toc li a").first.is_visible()
    # without JavaScript it is folded and opens with a tap
    still, _ = visit_english.open(dest, PHONE, java_script_enabled=False)
    assert not still.locator(".toc li a").first.is_visible()
    still.locator(".toc summary").click()
    assert still.locator(".toc li a").first.is_visible()


# --- search while typing ----------------------------------------------------------------------

_COUNT_SEARCHES = """() => { window.searches = []; window.searched = []; window.typed = [];
  document.addEventListener("input", () => window.typed.push(performance.now()), true);
  const replace = history.replaceState.bind(history);
  history.replaceState = (state, title, url) => {
    window.searches.push(url); window.searched.push(performance.now()); return replace(state, title, url); }; }"""


def test_search_answers_while_typing_with_each_result_dated_and_in_its_language(visit, types) -> None:
    page = visit.page(PHONE)
    page.add_init_script(f"({_COUNT_SEARCHES})()")
    page.goto(visit.server + types["search"])
    page.locator("#q").press_sequentially("irigasi", delay=60)      # no Enter
    page.wait_for_selector("#search-results li")
    page.wait_for_timeout(400)
    searches, searched, typed = page.evaluate("[window.searches, window.searched, window.typed]")
    assert len(typed) == len("irigasi") and searches[-1] == "?q=irigasi"
    # a search only after a pause in the typing (a machine that stalls between two keys makes a
    # pause, and a search of what was typed so far; keys within DELAY of each other make none)
    for url, moment in zip(searches, searched):
        before = [t for t in typed if t <= moment]
        assert moment - before[-1] >= 240, (url, moment - before[-1])
    pauses = sum(1 for a, b in zip(typed, typed[1:]) if b - a >= 250)
    assert len(searches) <= pauses + 1, (searches, typed)
    results = page.locator("#search-results li")
    facts = [(results.nth(i).get_attribute("lang"), results.nth(i).locator(".speech-meta").inner_text(),
              results.nth(i).locator(".speech-meta time").get_attribute("datetime"))
             for i in range(results.count())]
    assert (None, "15 Agustus 2025 · Bahasa Indonesia", "2025-08-15") in facts
    english, _ = visit.open(types["search"] + "?q=irrigation", PHONE)
    english.wait_for_selector("#search-results li")
    first = english.locator("#search-results li").first
    assert first.get_attribute("lang") == "en"
    assert first.locator(".speech-meta").inner_text() == "15 August 2025 · English"
    # a changed query replaces the results, and a query with no match says so
    page.locator("#q").fill("zzzzqqq")
    page.wait_for_function("document.getElementById('search-status').textContent.includes('Tidak ada')")
    assert page.locator("#search-results li").count() == 0
    assert page.locator("#search-status span[lang=en]").inner_text() == "/ No speech matches."


def test_search_on_the_english_only_site(visit_english) -> None:
    page, _ = visit_english.open("cari/?q=harvest", PHONE)
    page.wait_for_selector("#search-results li")
    assert page.locator("#search-status").inner_text() == "1 speech found"
    assert page.locator("#search-results .speech-meta").inner_text() == "15 August 2025"    # no language: one only
    description = page.locator("meta[name=description]").get_attribute("content")
    assert description == LABELS["en"]["search_description"]


# --- a site in English only -------------------------------------------------------------------

ENGLISH_PAGES = {"home": "", "year": "tahun/2025/", "years": "tahun/", "speaker": "pembicara/president-test/",
                 "speech": "2025/state-address/", "copy": "2025/state-address/salinan/council/",
                 "search": "cari/?q=harvest", "no-result": "cari/?q=zzzzqqq"}
# Indonesian interface words: any of them in an English page must sit inside lang="id".
_INDONESIAN = sorted({v for key, v in LABELS["id"].items()
                      if v != LABELS["en"][key] and not re.search(r"\{\w\}", v) and len(v) > 3}, key=len)

# Every text on the page with the language it is marked as: text nodes, names and the title.
_TEXTS = """() => {
  const out = [];
  const marked = el => { for (; el; el = el.parentElement) if (el.lang) return el.lang; return ''; };
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    if (node.nodeValue.trim() && !node.parentElement.closest('script, style, template'))
      out.push([node.nodeValue.trim(), marked(node.parentElement)]);
  }
  for (const el of document.querySelectorAll('[aria-label], [title], [alt], [placeholder]'))
    for (const name of ['aria-label', 'title', 'alt', 'placeholder'])
      if (el.hasAttribute(name)) out.push([el.getAttribute(name), marked(el)]);
  out.push([document.title, marked(document.documentElement)]);
  return out;
}"""


def _unmarked_indonesian(page) -> list[tuple[str, str]]:
    found = []
    for text, lang in page.evaluate(_TEXTS):
        for word in _INDONESIAN:
            if re.search(rf"(?<!\w){re.escape(word)}(?!\w)", text) and not lang.startswith("id"):
                found.append((word, text[:80]))
    return found


_DOUBLED = """() => {
  const found = [];
  for (const el of document.querySelectorAll('body *')) {
    if (!el.childNodes.length || getComputedStyle(el).display === 'none') continue;
    const text = el.innerText || '';
    for (const line of text.split('\\n')) {
      const parts = line.split(/ [·\\/] /).map(p => p.trim()).filter(Boolean);
      for (let i = 1; i < parts.length; i++) if (parts[i] === parts[i - 1]) found.push(line.trim());
    }
  }
  return [...new Set(found)];
}"""


@pytest.mark.parametrize("kind", list(ENGLISH_PAGES) + ["404", "accessibility"])
def test_an_english_only_site_says_each_thing_once_and_marks_any_other_language(visit_english, axe_source,
                                                                                kind) -> None:
    dest = {"404": "not/here/", "accessibility": "aksesibilitas/"}.get(kind) or ENGLISH_PAGES[kind]
    page, response = visit_english.open(dest, PHONE)
    assert response.status == (404 if kind == "404" else 200)
    if "?q=" in dest:
        page.wait_for_function("document.getElementById('search-status').textContent.trim() !== ''"
                               " && !/…/.test(document.getElementById('search-status').textContent)")
    assert page.evaluate("document.documentElement.lang") == "en"
    assert page.evaluate(_DOUBLED) == []
    assert _unmarked_indonesian(page) == []
    if kind == "accessibility":          # on an English-only site, no Indonesian section at all
        assert page.locator("[lang|=id]").count() == 0
    found = _axe(page, axe_source, {"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]})
    found += _axe(page, axe_source, {"runOnly": {"type": "rule", "values": STRUCTURE_RULES},
                                     "resultTypes": ["violations"]})
    assert found == []
