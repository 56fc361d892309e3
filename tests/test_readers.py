"""What readers get from the bodies and templates, read from the built files: tables in named
scroll boxes (and whole in the PDF), interface words from one table per language with no label
doubled, feed links that hreflang accepts, and a search page with a description.
The same pages in a browser: tests/browser/test_browser_readers.py."""

from __future__ import annotations

import re
from pathlib import Path

import pypdf
import pytest

from browser.browsing import WIDE_TABLE, english_only_project
from speechgen.build import build
from speechgen.config import load_config
from speechgen.markdown import localize, paragraphs, render
from speechgen.templates import LABELS, label, other_words, untranslated, words_language, words_warning

# --- tables -----------------------------------------------------------------------------------

BODY = """Pembuka.[^1]

| Sektor | Nilai "riil" <b> |
|---|---:|
| Pertanian | 12 |

- butir

  | a | b |
  |---|---|
  | 1 | 2 |

> | |
> |---|
> | kosong |

[^1]: Catatan.
"""


def test_every_table_is_a_focusable_region_named_by_its_header_row() -> None:
    html = render(BODY).html
    assert ('<div class="table-wrap" id="p-2" role="region" tabindex="0" '
            'aria-label="Sektor, Nilai &quot;riil&quot; &lt;b&gt;">\n<table>') in html
    # a table in a list or a quote scrolls too, without a paragraph number of its own
    assert '<li>\n<p>butir</p>\n<div class="table-wrap" role="region" tabindex="0" aria-label="a, b">\n<table>' in html
    assert '<blockquote id="p-4">\n<div class="table-wrap" role="region" tabindex="0" aria-label="">' in html
    assert html.count('<div class="table-wrap"') == html.count("<table>") == 3
    assert html.count("</table>\n</div>") == 3
    assert [n for n, _ in paragraphs(html)] == [1, 2, 3, 4]


def test_a_body_takes_the_words_of_its_page() -> None:
    html = render(BODY).html
    indonesian = localize(html, label("id", "table"), label("id", "footnotes"))
    assert 'aria-label="Tabel: Sektor, Nilai &quot;riil&quot; &lt;b&gt;"' in indonesian
    assert 'aria-label="Tabel: a, b"' in indonesian and 'aria-label="Tabel"' in indonesian
    assert '<section class="footnotes">\n<h2 class="footnotes-title" data-pagefind-ignore>Catatan kaki</h2>' in indonesian
    english = localize(html, label("en", "table"), label("en", "footnotes"))
    assert 'aria-label="Table: a, b"' in english and ">Footnotes</h2>" in english
    assert localize(render("Teks.\n").html, "Tabel", "Catatan kaki") == render("Teks.\n").html


def test_the_source_cannot_write_a_table_box_of_its_own() -> None:
    html = render('`<div class="table-wrap" aria-label="x">`\n\n    <section class="footnotes">\n').html
    assert localize(html, "Tabel", "Catatan kaki") == html


@pytest.mark.pdf
def test_a_wide_table_is_whole_in_the_pdf(project: Path) -> None:
    """The web's scroll box is a plain block in the PDF: every column printed, nothing clipped."""
    speech = project / "speeches/2024/lama.id.md"
    head, _, _ = speech.read_text().partition("\n---\n")
    speech.write_text(head + "\n---\n\nPembuka.\n\n" + WIDE_TABLE)
    build(load_config(project), pdf=True, jobs=1, card_pdfs=False)
    text = " ".join(p.extract_text() for p in pypdf.PdfReader(project / "site/2024/lama/lama.id.pdf").pages)
    text = " ".join(text.split())
    for cell in ("Province", "Share of the national", "North Province", "1,402,750", "21.4%", "16.0%"):
        assert cell in text, cell


# --- words, one table per language ------------------------------------------------------------

def test_every_language_has_every_word() -> None:
    # plural forms ("speeches_one") exist only where CLDR gives the language that category
    plain = lambda words: {k for k in words if not re.search(r"_(zero|one|two|few|many)\Z", k)}  # noqa: E731
    assert plain(LABELS["id"]) == plain(LABELS["en"])
    for lang in LABELS:                      # a plural form only beside its plain ("other") word
        assert {re.sub(r"_[a-z]+\Z", "", k) for k in set(LABELS[lang]) - plain(LABELS[lang])} <= plain(LABELS[lang])
    assert all(LABELS[lang][key].strip() for lang in LABELS for key in LABELS[lang])


def test_a_language_without_words_falls_back_to_english_and_is_named_in_a_warning() -> None:
    assert words_language("id-ID") == "id" and words_language("en-GB") == "en" and words_language("fr") == "en"
    assert label("fr", "contents") == "Contents" and label("id-ID", "contents") == "Daftar isi"
    assert untranslated(["id", "en", "en-GB", "fr", "jv"]) == ["fr", "jv"]
    assert words_warning(["id", "en"]) is None
    warning = words_warning(["id", "fr"])
    assert warning is not None and warning.startswith("no interface words for fr:") and "English" in warning
    # a two-language label adds each other set of words once, never the page's own again
    assert other_words("id", ["id", "en"]) == ["en"]
    assert other_words("en", ["en"]) == [] and other_words("en", ["id", "en"]) == ["id"]
    assert other_words("id", ["id", "en", "fr", "en-GB"]) == ["en"]
    assert other_words("fr", ["id", "en", "fr"]) == ["id"]


@pytest.fixture(scope="module")
def english_site(tmp_path_factory) -> Path:
    project = english_only_project(tmp_path_factory.mktemp("english") / "project")
    build(load_config(project))
    return project / "site"


def _pages(site: Path, skip: tuple[str, ...] = ()) -> dict[str, str]:
    return {p.relative_to(site).as_posix(): p.read_text(encoding="utf-8") for p in sorted(site.rglob("*.html"))
            if not p.relative_to(site).as_posix().startswith(skip)}


def test_an_english_only_site_doubles_no_label_and_writes_no_indonesian_word(english_site: Path) -> None:
    pages = _pages(english_site)
    assert len(pages) >= 15
    words = {v for k, v in LABELS["id"].items() if v != LABELS["en"][k] and "{" not in v and len(v) > 3}
    for dest, html in pages.items():
        assert '<html lang="en">' in html, dest
        assert 'lang="id"' not in html and "alt-lang" not in html, dest
        text = re.sub(r"<[^>]+>", " ", re.sub(r"<(script|style)\b.*?</\1>", "", html, flags=re.S))
        found = [w for w in words if re.search(rf"(?<!\w){re.escape(w)}(?!\w)", text)]
        assert found == [], (dest, found)
    home = pages["index.html"]
    assert re.search(r"<h2>Latest speeches</h2>", home)
    search = pages["cari/index.html"]
    assert '<label for="q">Words in a speech</label>' in search
    assert re.search(r'<button class="button" type="submit">Search</button>', search)


def test_a_two_language_site_shows_the_page_language_first_and_marks_the_other(project: Path) -> None:
    build(load_config(project))
    home = (project / "site/index.html").read_text()
    assert '<h2>Pidato terbaru <span lang="en" class="alt-lang">· Latest speeches</span></h2>' in home
    search = (project / "site/cari/index.html").read_text()
    assert '<label for="q">Kata dalam pidato <span lang="en" class="alt-lang">/ Words in a speech</span></label>' in search
    assert '<span data-say="search_found">{n} pidato ditemukan <span lang="en" class="alt-lang">/ {n} speeches found</span></span>' in search
    assert '<span data-language="en" lang="en">English</span>' in search


def test_a_language_with_no_words_builds_in_english_words_saying_each_once(project: Path) -> None:
    toml = project / "speechgen.toml"
    toml.write_text(toml.read_text().replace('languages = ["id", "en"]', 'languages = ["id", "en", "fr"]'))
    english = (project / "speeches/2025/kenegaraan.en.md").read_text()
    (project / "speeches/2025/kenegaraan.fr.md").write_text(english.replace("Test State Address", "Discours d'essai"))
    config = load_config(project)
    build(config)
    assert words_warning(config.site.languages).startswith("no interface words for fr:")
    french = (project / "site/2025/kenegaraan/fr/index.html").read_text()
    # English words on a French page, each marked English for a screen reader's voice
    assert '<html lang="fr">' in french and '<h2 id="toc-title"><span lang="en">Contents</span></h2>' in french
    home = (project / "site/index.html").read_text()
    assert home.count("Latest speeches") == 1


# --- head: feeds and descriptions -------------------------------------------------------------

def test_feed_links_in_the_head_are_absolute_and_the_search_page_is_described(project: Path) -> None:
    build(load_config(project))
    base = "https://pidato.example.go.id/arsip/"
    for dest in ("index.html", "cari/index.html", "2025/kenegaraan/en/index.html", "tahun/2025/index.html"):
        html = (project / "site" / dest).read_text()
        feeds = re.findall(r'<link rel="alternate" type="application/atom\+xml" hreflang="(\w+)"[^>]* href="([^"]+)">', html)
        assert feeds == [("id", base + "feeds/id.xml"), ("en", base + "feeds/en.xml")], dest
    search = (project / "site/cari/index.html").read_text()
    assert f'<meta name="description" content="{LABELS["id"]["search_description"]}">' in search


def test_speech_pages_give_search_results_their_date(project: Path) -> None:
    build(load_config(project))
    html = (project / "site/2025/kenegaraan/en/index.html").read_text()
    assert '<time datetime="2025-08-15" data-pagefind-meta="date, date_iso[datetime]">15 August 2025</time>' in html
