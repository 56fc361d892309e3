"""Every page type, read in chromium: WCAG 2.2 A/AA by axe-core, phone widths, keyboard, search."""

from __future__ import annotations

import re

import pytest

from .browsing import DESKTOP, PHONE, copy_screenshot, page_types

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
# Best-practice rules that back what the theme promises: landmarks, one h1, headings in order.
STRUCTURE_RULES = ["landmark-one-main", "region", "page-has-heading-one", "heading-order",
                   "landmark-no-duplicate-banner", "landmark-no-duplicate-contentinfo", "skip-link"]
TYPES = ["home", "year", "years", "speaker", "speech-id", "speech-en", "side-by-side", "copy", "search",
         "accessibility", "404", "changes"]


@pytest.fixture(scope="module")
def types(built_site, manifest) -> dict[str, str]:
    return page_types(built_site, manifest)


def _dest(types: dict[str, str], kind: str) -> str:
    if kind not in types:
        pytest.skip(f"the sample site has no {kind} page (copy pages need recipients and the copy renderer)")
    return types[kind]


def _axe(page, axe_source: str, options: dict) -> list[dict]:
    page.add_script_tag(content=axe_source)
    result = page.evaluate("options => axe.run(document, options)", options)
    return [{"rule": v["id"], "impact": v["impact"], "help": v["help"],
             "nodes": [n["target"] for n in v["nodes"]][:5]} for v in result["violations"]]


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_no_wcag_22_aa_violation(visit, types, axe_source, scheme) -> None:
    """Every page type; light at desktop width, dark on a phone. One page, navigated, for speed."""
    page = visit.page(PHONE if scheme == "dark" else DESKTOP, color_scheme=scheme)
    found, checked = {}, []
    for kind in TYPES:
        if kind not in types:      # copy pages exist only when the sample has recipients
            continue
        response = page.goto(visit.server + types[kind])
        assert response.status == (404 if kind == "404" else 200), kind
        if kind == "search":      # the results list is part of the page a reader sees
            page.fill("#q", "irigasi")
            page.press("#q", "Enter")
            page.wait_for_selector("#search-results li")
        wcag = _axe(page, axe_source, {"runOnly": {"type": "tag", "values": WCAG_TAGS},
                                       "resultTypes": ["violations"]})
        structure = _axe(page, axe_source, {"runOnly": {"type": "rule", "values": STRUCTURE_RULES},
                                            "resultTypes": ["violations"]})
        if wcag or structure:
            found[kind] = wcag + structure
        # lang on the page, one h1, and a skip link that leads to <main>
        assert page.evaluate("document.documentElement.lang") in ("id", "en"), kind
        assert page.locator("h1").count() == 1, kind
        assert page.locator("a.skip-link").get_attribute("href") == "#isi", kind
        assert page.locator("main#isi").count() == 1, kind
        checked.append(kind)
    assert found == {}, f"{scheme}: {found}"
    assert {"home", "year", "speaker", "speech-id", "speech-en", "search", "404"} <= set(checked)


def test_no_sideways_scrolling_on_a_phone(visit, types) -> None:
    page = visit.page(PHONE)
    wide = []
    for width in (320, 360):
        page.set_viewport_size({"width": width, "height": 740})
        for kind in TYPES:
            if kind in types:
                page.goto(visit.server + types[kind])
                overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
                if overflow > 0:
                    wide.append((width, kind, overflow))
    assert wide == [], f"pages wider than the phone (width, kind, extra px): {wide}"


def test_tap_targets_are_at_least_44px_on_a_phone(visit, types) -> None:
    page, _ = visit.open(types["speech-id"], PHONE)
    small = page.evaluate("""() => [...document.querySelectorAll(
        '.site-header a, .lang-switch a, .speech-actions a, .toc a, .site-footer a')]
        .map(a => [a.textContent.trim(), a.getBoundingClientRect().height])
        .filter(([, h]) => h < 44)""")
    assert small == []


def test_keyboard_only_from_home_to_a_speech_pdf(visit, types, manifest, artifacts) -> None:
    speech = next(s for s in manifest["speeches"] if len(s["languages"]) > 1)
    pdf = speech["languages"]["id"].get("pdf")
    if pdf is None:
        pytest.skip("the sample site was built without PDFs, so a speech page has no PDF link")
    page, _ = visit.open(types["home"], PHONE)
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.className")
    assert focused == "skip-link" and page.locator(".skip-link").bounding_box()["y"] >= 0
    target = speech["languages"]["id"]["path"]
    _tab_to(page, lambda href: href.endswith(target))
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none", "keyboard focus must be visible"
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith("/arsip/" + target)
    _tab_to(page, lambda href: href.endswith(".pdf"))
    with page.expect_download() as download:
        page.keyboard.press("Enter")
    assert download.value.suggested_filename.endswith(".pdf")
    path = artifacts / download.value.suggested_filename
    download.value.save_as(path)
    assert path.read_bytes()[:5] == b"%PDF-"
    # "paragraph 12" is the same place in the PDF: the page's p-N anchors are its named destinations
    from pypdf import PdfReader

    html_ids = set(page.locator(".speech-body > [id^='p-']").evaluate_all("els => els.map(e => e.id)"))
    assert html_ids and html_ids <= set(PdfReader(path).named_destinations)


def _tab_to(page, wanted, limit: int = 80) -> None:
    for _ in range(limit):
        page.keyboard.press("Tab")
        href = page.evaluate("document.activeElement.getAttribute('href') || ''")
        if href and wanted(href):
            return
    raise AssertionError(f"no such link within {limit} Tab presses")


def test_search_finds_a_speech_by_a_word_from_its_body(visit, types) -> None:
    page, _ = visit.open(types["search"], PHONE)
    page.fill("#q", "irigasi")            # in the Indonesian body, not in any title
    page.press("#q", "Enter")
    page.wait_for_selector("#search-results li")
    links = page.locator("#search-results a").evaluate_all("as => as.map(a => a.getAttribute('href').split('?')[0])")
    assert "../2025/pidato-kenegaraan/index.html" in links
    assert not any("salinan" in href or "berdampingan" in href for href in links)
    assert "irigasi" in page.locator("#search-results mark").first.inner_text().lower()
    assert re.search(r"\d+ pidato ditemukan", page.locator("#search-status").inner_text())
    page.locator("#search-results a").first.click()
    page.wait_for_load_state()
    assert page.url.split("?")[0].endswith("/2025/pidato-kenegaraan/index.html")
    assert page.url.endswith("?highlight=irigasi") and page.locator("mark.search-hit").count() > 0


def test_search_finds_the_english_version_too(visit, types) -> None:
    page, _ = visit.open(types["search"] + "?q=irrigation", PHONE)
    page.wait_for_selector("#search-results li")
    result = page.locator("#search-results li").first
    assert result.get_attribute("lang") == "en"
    assert result.locator("a").get_attribute("href").split("?")[0] == "../2025/pidato-kenegaraan/en/index.html"


def test_search_page_without_javascript_still_lists_the_archive(visit, types) -> None:
    page, _ = visit.open(types["search"], PHONE, java_script_enabled=False)
    assert "Search needs JavaScript" in page.locator("main").inner_text()
    years = page.locator(".archive-nav a").evaluate_all("as => as.map(a => a.getAttribute('href'))")
    assert "../tahun/2025/index.html" in years


def test_side_by_side_pairs_paragraphs_by_their_shared_number(visit, types) -> None:
    page, _ = visit.open(types["side-by-side"] + "#p-5", DESKTOP)
    row = page.locator("#p-5")
    cells = row.locator(".pair-cell")
    assert [cells.nth(i).get_attribute("lang") for i in range(cells.count())] == ["id", "en"]
    # the same paragraph number on each language's own page holds that cell's text
    for i, path in enumerate(["../index.html", "../en/index.html"]):
        cell_text = cells.nth(i).locator("> :not(.cell-lang)").first.inner_text().strip()
        own, _ = visit.open(types["side-by-side"] + path + "#p-5", PHONE)
        assert own.locator("#p-5").inner_text().strip() == cell_text
    # side by side on a desktop, one above the other on a phone
    first, second = (cells.nth(i).bounding_box() for i in range(2))
    assert second["x"] > first["x"] + 200 and abs(second["y"] - first["y"]) < 5
    phone, _ = visit.open(types["side-by-side"], PHONE)
    a, b = (phone.locator("#p-5 .pair-cell").nth(i).bounding_box() for i in range(2))
    assert b["y"] > a["y"] + a["height"] - 1


def test_screenshots_at_phone_and_desktop_width(visit, types, artifacts) -> None:
    shots = [("speech-phone", types["speech-id"], PHONE, False),
             ("home-desktop", types["home"], DESKTOP, False),
             ("side-by-side-desktop", types["side-by-side"], DESKTOP, False),
             ("search-phone", types["search"] + "?q=irigasi", PHONE, False)]
    for name, dest, viewport, full in shots:
        page, _ = visit.open(dest, viewport)
        if "q=" in dest:
            page.wait_for_selector("#search-results li")
        loaded = page.evaluate("document.fonts.ready.then(fs => [...fs]"
                               ".filter(f => f.status === 'loaded').map(f => f.family))")
        assert "Noto Serif Web" in [family.strip('"') for family in loaded]   # from _assets/fonts/
        path = artifacts / f"screenshot-{name}.png"
        page.screenshot(path=str(path), full_page=full)
        assert path.stat().st_size > 10_000      # a real rendering, not a blank page
        if name in ("speech-phone", "home-desktop"):    # the two the README shows
            copy_screenshot(path, f"screenshot-{name}.png")


PAGE_BUDGET = 60 * 1024          # HTML + CSS + JS per page, as in bench/page_weight.py
SEARCH_BUDGET = 400 * 1024       # the search page after a first query (Pagefind runtime and indexes)


def _weigh(page, skip=(".pdf", ".woff", ".woff2", ".ttf", ".otf")) -> dict[str, int]:
    """Bytes of every response body the page receives, PDFs and fonts aside; cache off."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    sizes: dict[str, int] = {}
    page.on("requestfinished", lambda r: sizes.__setitem__(r.url, r.sizes()["responseBodySize"])
            if not r.url.split("?")[0].endswith(skip) else None)
    return sizes


def test_page_weight_stays_within_budget(visit, types) -> None:
    heavy = []
    page = visit.page(PHONE)
    sizes = _weigh(page)
    for kind in TYPES:
        if kind in types:
            sizes.clear()
            page.goto(visit.server + types[kind], wait_until="load")
            if sum(sizes.values()) > PAGE_BUDGET:
                heavy.append((kind, sum(sizes.values())))
    assert heavy == [], f"over {PAGE_BUDGET} bytes: {heavy}"
    sizes.clear()
    page.goto(visit.server + types["search"] + "?q=irigasi", wait_until="load")
    page.wait_for_selector("#search-results li")
    page.wait_for_load_state("networkidle")
    print("search after a query:", sum(sizes.values()), "bytes:", sizes)
    assert any(re.search(r"/pagefind/[a-z-]+-\d+/wasm\.", url) for url in sizes)     # the first shard's engine
    assert sum(sizes.values()) <= SEARCH_BUDGET, sizes


def test_search_opened_from_disk_points_to_the_listings(browser, built_site) -> None:
    context = browser.new_context(viewport=PHONE)
    try:
        page = context.new_page()
        page.goto((built_site / "cari/index.html").as_uri())
        page.fill("#q", "irigasi")
        page.press("#q", "Enter")
        page.wait_for_function("document.getElementById('search-status').textContent.includes('arsip')")
        assert "daftar arsip" in page.locator("#search-status").inner_text()
        assert page.locator("#search-status span[lang=en]").count() == 1
        assert page.locator(".archive-nav a").count() >= 2
    finally:
        context.close()


def test_what_changed_is_told_without_colour(visit, types) -> None:
    """The sample's corrected speech: its changes page marks each deleted and inserted run by
    strike-through and underline, and says it in words a screen reader reads."""
    page, _ = visit.open(_dest(types, "changes"))
    deleted, inserted = page.locator("del").first, page.locator("ins").first
    assert "line-through" in deleted.evaluate("e => getComputedStyle(e).textDecorationLine")
    assert "underline" in inserted.evaluate("e => getComputedStyle(e).textDecorationLine")
    # what the accessibility tree reads: the words, not a colour
    assert re.match(r"^\[(dihapus|deleted): .+\]$", " ".join(deleted.text_content().split()))
    assert re.match(r"^\[(ditambahkan|inserted): .+\]$", " ".join(inserted.text_content().split()))
    assert "12,6%" in deleted.text_content() and "12,8%" in inserted.text_content()
    # the speech page lists both editions, each at its own URL, and links here
    speech, _ = visit.open(types["speech-id"])
    links = speech.locator(".edition-list a[download]").evaluate_all("els => els.map(e => e.getAttribute('href'))")
    assert [h.rsplit("/", 1)[-1] for h in links] == ["pidato-kenegaraan.id.edisi-1.pdf", "pidato-kenegaraan.id.edisi-2.pdf"]
    for href in links:
        assert speech.request.get(speech.url.rsplit("/", 1)[0] + "/" + href).status == 200


def _search(page, query: str) -> None:
    page.fill("#q", query)
    page.press("#q", "Enter")
    page.wait_for_function("!document.getElementById('search-status').textContent.startsWith('Mencari')")


def _result_links(page) -> list[str]:
    # each link carries the words it was found by (?highlight=), for the page to mark
    return page.locator("#search-results a").evaluate_all("as => as.map(a => a.getAttribute('href').split('?')[0])")


def test_search_shows_an_edit_once_and_never_the_old_text(visit_edited) -> None:
    page, _ = visit_edited.open("cari/", PHONE)
    _search(page, "safirbaru")                   # only in the edit: found through the recent bundle
    assert _result_links(page) == ["../2003/pidato-3/index.html"]
    assert page.locator("#search-status").inner_text().startswith("1 pidato ditemukan")
    _search(page, "zamrudlama")                  # only in the old text: its shard entry is hidden
    assert _result_links(page) == []
    assert page.locator("#search-status").inner_text().startswith("Tidak ada pidato yang cocok")
    _search(page, "nomor 3")                     # both the old and the new entry match: shown once
    assert _result_links(page).count("../2003/pidato-3/index.html") == 1


def test_search_shows_five_results_then_more_on_request(visit_edited) -> None:
    from .conftest import EDITED_SPEECHES

    page, _ = visit_edited.open("cari/", PHONE)
    _search(page, "irigasi")
    assert page.locator("#search-status").inner_text().startswith(f"{EDITED_SPEECHES} pidato ditemukan")
    assert len(_result_links(page)) == 5
    more = page.locator("#search-more")
    seen = []
    while more.is_visible():
        count = len(_result_links(page))
        more.click()
        page.wait_for_function(f"document.querySelectorAll('#search-results li').length > {count}")
        seen.append(len(_result_links(page)))
        focused = page.evaluate("document.activeElement.getAttribute('href').split('?')[0]")
        assert focused == _result_links(page)[count]         # the focus moves to the first new result
    assert seen == [10, 12]
    links = _result_links(page)
    assert len(set(links)) == EDITED_SPEECHES == len(links)


def test_the_search_engine_loads_while_the_reader_comes_to_the_field(visit_edited) -> None:
    """Nothing of the index is fetched with the page; the engine, its entries and metadata are
    fetched when the field takes the focus (while the reader types), the words' chunks and the
    results' fragments only with a query."""
    page, _ = visit_edited.open("cari/", PHONE)
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.wait_for_timeout(300)
    assert [url for url in requested if "/pagefind/" in url] == []
    page.focus("#q")
    for _ in range(50):                              # until the engine and every merged index's meta are in
        if any(u.endswith("pagefind.js.gz") for u in requested) and any(u.endswith(".pf_meta") for u in requested):
            break
        page.wait_for_timeout(100)
    page.wait_for_load_state("networkidle")
    assert any(u.endswith("/pagefind/pagefind.js.gz") for u in requested)     # the engine, as the build packed it
    assert any(u.endswith(".pf_meta") for u in requested)
    assert [u for u in requested if "/index/" in u or "/fragment/" in u] == []
    before = len(requested)
    _search(page, "irigasi")
    assert len(_result_links(page)) == 5
    asked = requested[before:]
    assert any("/index/" in u for u in asked) and any("/fragment/" in u for u in asked)
    assert not any(u.endswith("pagefind.js") for u in asked)     # loaded once, at the focus
