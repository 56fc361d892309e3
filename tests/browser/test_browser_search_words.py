"""Search that counts honestly, in chromium against a built site whose words begin one another
("getting" and "gettysburg", "gettysburg" and "gettysburgian"): pages with the whole word come
first and are counted; pages with a longer word it begins are counted apart, under their own
heading; the matched words are marked in each result and on the page a result opens."""

from __future__ import annotations

import pytest

from .browsing import PHONE
from .conftest import _serve, _visiting
from .test_browser_pages import STRUCTURE_RULES, WCAG_TAGS, _axe

SPEECHES = {
    "gettysburg-1.en": "Four score at Gettysburg, the field where they fell.",
    "gettysburg-2.en": "We remember Gettysburg and its dead; a Gettysburgian remembers too.",
    "getting-1.en": "We are getting better at getting things done.",
    "getting-2.en": "Getting water to the villages is our work.",
    "getting-3.en": "The getter of the harvest is the farmer.",
    "gettysburgian.en": "A Gettysburgian came to the capital.",
    "tani.id": "Petani menanam padi di sawah; hasil panen desa tumbuh.",
}
# a long speech: the hit is far down, and the page opens on it
FILLER = "\n\n".join(f"Paragraph {n} speaks of roads, ports and schools." for n in range(80))


@pytest.fixture(scope="module")
def words_site(tmp_path_factory):
    from speechgen.build import build
    from speechgen.config import load_config

    root = tmp_path_factory.mktemp("search-words") / "project"
    (root / "speeches").mkdir(parents=True)
    (root / "speechgen.toml").write_text('[site]\ntitle = "Arsip Kata"\nbase_url = "https://arsip.example.go.id/"\n'
                                         'publisher = "Sekretariat Uji"\nlanguages = ["id", "en"]\n'
                                         '[pdf]\nenabled = false\n')
    for n, (name, body) in enumerate(SPEECHES.items()):
        slug, lang = name.split(".")
        folder = root / "speeches" / str(2000 + n)
        folder.mkdir()
        text = f"{FILLER}\n\n{body}" if slug == "gettysburg-1" else body
        (folder / f"{slug}.{lang}.md").write_text(
            f"---\ntitle: Address {n}\nspeaker: Test Speaker\ndate: {2000 + n}-08-17\noccasion: Test\n---\n\n{text}\n")
    build(load_config(root), card_pdfs=False)
    return root / "site"


@pytest.fixture(scope="module")
def words_server(words_site):
    yield from _serve(words_site, "/")


@pytest.fixture
def visit_words(browser, words_server):
    yield from _visiting(browser, words_server)


def _ask(visit, query: str):
    page, _ = visit.open(f"cari/?q={query}", PHONE)
    page.wait_for_function("(s => s.textContent.trim() && !s.textContent.includes('…'))"
                           "(document.getElementById('search-status'))")
    return page


def _slugs(page, selector: str) -> list[str]:
    return sorted(href.split("?")[0].split("/")[1] for href in page.locator(f"{selector} a.speech-link").evaluate_all(
        "as => as.map(a => a.getAttribute('href'))"))


def test_a_word_never_counts_the_pages_that_only_have_a_longer_word_it_begins(visit_words) -> None:
    page = _ask(visit_words, "gettysburg")
    # 2 pages with the whole word; 1 with "Gettysburgian" only, counted apart
    assert _slugs(page, "#search-results") == ["2000", "2001"]
    assert _slugs(page, "#search-partial") == ["2005"]
    status = page.locator("#search-status").inner_text()
    assert status.startswith("2 pidato ditemukan") and "1 pidato lain hanya memuat kata yang berawalan sama" in status
    assert page.locator("#search-partial-title").is_visible()
    # never a page that has only "getting"
    assert not {"2002", "2003", "2004"} & set(_slugs(page, "#search-results") + _slugs(page, "#search-partial"))


def test_the_shorter_word_puts_whole_words_first_and_the_longer_ones_apart(visit_words) -> None:
    page = _ask(visit_words, "getting")
    # "getting" whole (or "Getting"); its stem also begins "Gettysburg": those come after, apart
    assert _slugs(page, "#search-results") == ["2002", "2003"]
    # Gettysburg (twice), Gettysburgian, getter: four, five results shown at a time
    assert set(_slugs(page, "#search-partial")) < {"2000", "2001", "2004", "2005"}
    assert page.locator("#search-partial li").count() == 3
    status = page.locator("#search-status").inner_text()
    assert status.startswith("2 pidato ditemukan") and "4 pidato lain" in status
    page.locator("#search-more").click()
    page.wait_for_function("document.querySelectorAll('#search-partial li').length === 4")
    assert _slugs(page, "#search-partial") == ["2000", "2001", "2004", "2005"]
    # the whole-word results come before the others on the page too
    first_apart = page.locator("#search-partial li").first.bounding_box()["y"]
    assert page.locator("#search-results li").last.bounding_box()["y"] < first_apart


def test_only_longer_words_says_no_page_has_the_whole_word(visit_words) -> None:
    page = _ask(visit_words, "gettysbu")
    assert page.locator("#search-results li").count() == 0
    assert page.locator("#search-status").inner_text().startswith("Tidak ada pidato yang memuat kata itu secara utuh.")
    assert page.locator("#search-partial li").count() == 3


def test_matched_words_are_marked_in_the_result_and_on_the_page_it_opens(visit_words, axe_source, artifacts) -> None:
    page = _ask(visit_words, "gettysburg")
    marks = page.locator("#search-results li mark").evaluate_all("ms => ms.map(m => m.textContent.toLowerCase())")
    assert marks and all("gettysburg" in m for m in marks)
    found = _axe(page, axe_source, {"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]})
    found += _axe(page, axe_source, {"runOnly": {"type": "rule", "values": STRUCTURE_RULES}, "resultTypes": ["violations"]})
    assert found == []
    page.screenshot(path=str(artifacts / "screenshot-search-words.png"), full_page=True)
    long_one = page.locator("#search-results a.speech-link[href*='/2000/']")
    assert long_one.get_attribute("href").endswith("?highlight=gettysburg")
    with page.expect_navigation():
        long_one.click()
    page.wait_for_selector("mark.search-hit")
    hits = page.locator(".speech-body mark.search-hit")
    assert hits.evaluate_all("ms => ms.map(m => m.textContent)") == ["Gettysburg"]
    # the page opens on the hit, far down the text
    box = hits.first.bounding_box()
    assert page.evaluate("scrollY") > 1000 and 0 <= box["y"] <= PHONE["height"] - box["height"]
    # the whole word only: "Gettysburgian" on the other page stays unmarked
    other, _ = visit_words.open("2001/gettysburg-2/en/index.html?highlight=gettysburg", PHONE)
    other.wait_for_selector("mark.search-hit")
    assert other.locator("mark.search-hit").evaluate_all("ms => ms.map(m => m.textContent)") == ["Gettysburg"]
    # without the parameter, nothing is fetched or marked
    plain, _ = visit_words.open("2001/gettysburg-2/en/index.html", PHONE)
    assert plain.locator("mark").count() == 0
    assert not plain.evaluate("performance.getEntriesByType('resource').some(e => e.name.includes('highlight.js'))")


def _search_getting(page) -> list[str]:
    """The URLs a first search for "getting" fetched, once its results are in."""
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.focus("#q")
    page.fill("#q", "getting")
    page.wait_for_function("(s => s.textContent.trim() && !s.textContent.includes('…'))"
                           "(document.getElementById('search-status'))")
    page.wait_for_load_state("networkidle")
    assert _slugs(page, "#search-results") == ["2002", "2003"]       # the English whole word, by its stemmer
    return requested


def test_each_language_has_its_engine_from_one_packed_script_fetched_once(visit_words) -> None:
    """An engine for each language, each with its own stemmer (its own WebAssembly), both made
    from one script: every bundle's pagefind.js is the same file, which the build packs once
    (gzip: 46 KB to 13 KB where a host sends files as they are) and the page fetches once."""
    page, _ = visit_words.open("cari/", PHONE)
    requested = _search_getting(page)
    assert sorted(u.rsplit("/", 1)[1] for u in requested if "/wasm." in u) == ["wasm.en.pagefind", "wasm.id.pagefind"]
    assert [u.rsplit("/", 2)[1:] for u in requested if "pagefind.js" in u] == [["pagefind", "pagefind.js.gz"]]


@pytest.mark.parametrize("host", ["unpacks it", "lacks it"])
def test_a_host_that_unpacks_the_packed_script_or_lacks_it_still_searches(visit_words, words_site, host) -> None:
    """A host may send the packed script unpacked (it sets Content-Encoding for .gz files), or a
    project's older output may lack it: the page takes the script as it comes, or the bundle's own."""
    page = visit_words.page(PHONE)
    plain = sorted(words_site.glob("pagefind/*/pagefind.js"))[0].read_bytes()

    def answer(route) -> None:
        if host == "lacks it":
            route.fulfill(status=404, body="not found")
        else:
            route.fulfill(status=200, body=plain, headers={"content-type": "application/gzip"})

    page.route(lambda url: url.endswith("/pagefind.js.gz"), answer)
    page.goto(visit_words.server + "cari/", wait_until="load")
    requested = _search_getting(page)
    own = [u for u in requested if u.endswith("/pagefind.js")]
    assert len(own) == (1 if host == "lacks it" else 0)



def test_a_host_that_forbids_blob_scripts_still_searches(visit_words) -> None:
    """A static host may send a Content-Security-Policy that allows scripts from the site only
    (and WebAssembly, which Pagefind needs): the engine made from a blob is refused there, and
    each bundle's own script serves instead."""
    page = visit_words.page(PHONE)

    def with_policy(route) -> None:
        response = route.fetch()
        route.fulfill(response=response, headers={**response.headers,
                                                  "content-security-policy":
                                                  "script-src 'self' 'unsafe-inline' 'wasm-unsafe-eval'"})

    page.route(lambda url: "/cari/" in url, with_policy)
    refused: list[str] = []
    page.on("console", lambda message: refused.append(message.text)
            if "Content Security Policy" in message.text else None)
    page.goto(visit_words.server + "cari/?q=getting", wait_until="load")
    status = page.locator("#search-status")
    for _ in range(100):                # polled from here: the page's policy refuses a predicate's eval
        if status.inner_text().strip() and "…" not in status.inner_text():
            break
        page.wait_for_timeout(100)
    assert _slugs(page, "#search-results") == ["2002", "2003"]
    assert any("blob:" in text for text in refused), refused
