"""The smaller things a reader holds: the changes page's paragraphs link to the speech and keep
their lists, footnote markers on the side-by-side page stay on it, og:locale is a locale, the 404
page searches, and the PDF cover names its edition."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from speechgen.reader import numbered_blocks
from speechgen.render.changes import compare
from speechgen.render.html import og_locale


def test_a_changed_list_keeps_its_items_and_each_change_knows_its_paragraph_number() -> None:
    older = "---\ntitle: T\n---\n\n## Bagian\n\nSatu dua.\n\n- apel merah\n- jeruk\n\nTiga.\n"
    newer = "---\ntitle: T\n---\n\n## Bagian\n\nSatu dua.\n\n- apel hijau\n- jeruk\n- mangga\n\nTiga empat.\n"
    found = compare(numbered_blocks(older), numbered_blocks(newer))
    by_number = {p.number: p for p in found.paragraphs}
    assert set(by_number) == {3, 4}                    # p-3 is the list, p-4 the last paragraph
    listed = by_number[3]
    assert listed.list == "ul"
    assert [[(piece.kind, piece.text) for piece in item] for item in listed.items] == [
        [("same", "apel"), ("deleted", "merah"), ("inserted", "hijau")], [("same", "jeruk")], [("inserted", "mangga")]]
    assert by_number[4].list == ""
    assert (found.deleted, found.inserted) == (2, 4)   # words, not the items' marks


@pytest.mark.parametrize("lang, expected", [("en", "en_US"), ("id", "id_ID"), ("ar", "ar_EG"), ("fr", "fr_FR"),
                                            ("en-GB", "en_GB"), ("en-US", "en_US"), ("zh-Hant", "zh_TW")])
def test_og_locale_is_a_locale_from_cldr(lang: str, expected: str) -> None:
    assert og_locale(lang) == expected


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """The sample project (a corrected two-language speech with footnotes, a list of changes)."""
    from speechgen.build import build
    from speechgen.config import load_config

    out = tmp_path_factory.mktemp("details") / "site"
    build(load_config(Path(__file__).resolve().parents[1]), out=out, search=False)
    return out


def test_the_changes_page_links_each_paragraph_to_its_place_in_the_speech(site: Path) -> None:
    page = (site / "2025/pidato-kenegaraan/perubahan/2/index.html").read_text()
    links = re.findall(r'<p class="change-where"><a href="([^"]+)">Paragraf (\d+)</a>', page)
    assert links and all(href == f"../../index.html#p-{n}" for href, n in links)
    speech = (site / "2025/pidato-kenegaraan/index.html").read_text()
    assert all(f'id="p-{n}"' in speech for _, n in links)


def test_footnote_markers_on_the_side_by_side_page_lead_to_footnotes_on_it(site: Path) -> None:
    page = (site / "2025/pidato-kenegaraan/berdampingan/index.html").read_text()
    refs = re.findall(r'<sup class="footnote-ref"><a href="([^"]+)" id="([^"]+)"', page)
    assert len(refs) >= 4
    ids = set(re.findall(r'\sid="([^"]+)"', page))
    for href, own in refs:
        assert href.startswith("#") and href[1:] in ids, href           # on this page
        assert f'href="#{own}"' in page                                 # and back again
    assert {href[:4] for href, _ in refs} == {"#id-", "#en-"}           # each language its own
    assert len(ids) == len(re.findall(r'\sid="', page))                 # no id twice


def test_og_locale_on_a_speech_page(site: Path) -> None:
    page = (site / "2025/pidato-kenegaraan/index.html").read_text()
    assert '<meta property="og:locale" content="id_ID">' in page
    assert '<meta property="og:locale:alternate" content="en_US">' in page
    english = (site / "2025/pidato-kenegaraan/en/index.html").read_text()
    assert '<meta property="og:locale" content="en_US">' in english


def test_the_404_page_has_a_search_box_that_asks_the_search_page(site: Path) -> None:
    page = (site / "404.html").read_text()
    form = re.search(r'<form class="search-form" role="search" action="([^"]+)" method="get">(.*?)</form>', page, re.S)
    assert form is not None
    assert form[1] == "/arsip/cari/index.html"          # served at any depth: from the site's root path
    assert (site / "cari/index.html").is_file()
    assert 'name="q"' in form[2] and '<label for="q">' in form[2]


def test_the_pdf_cover_names_its_edition_in_the_speechs_words(tmp_path: Path) -> None:
    from speechgen.build import build
    from speechgen.config import load_config

    (tmp_path / "speeches/2025").mkdir(parents=True)
    (tmp_path / "speechgen.toml").write_text('[site]\ntitle = "Arsip"\nbase_url = "https://a.example.go.id/"\n'
                                             'languages = ["id", "en"]\n')
    (tmp_path / "speeches/2025/uji.id.md").write_text("---\ntitle: Pidato Uji\nspeaker: Presiden Uji\n"
                                                      "date: 2025-08-16\n---\n\nIsi pidato.\n")
    (tmp_path / "speeches/2025/uji.en.md").write_text("---\ntitle: Test Speech\nspeaker: President Test\n"
                                                      "date: 2025-08-16\n---\n\nThe text.\n")
    build(load_config(tmp_path), out=tmp_path / "site", search=False, pdf=True)
    for name, word, date in (("uji.id.pdf", "EDISI", "16 Agustus 2025"), ("uji.en.pdf", "EDITION", "16 August 2025")):
        cover = subprocess.run(["pdftotext", "-f", "1", "-l", "1", "-layout", str(tmp_path / "site/2025/uji" / name), "-"],
                               capture_output=True, check=True, text=True).stdout
        lines = [" ".join(line.split()).replace(" ", "") for line in cover.splitlines() if line.strip()]
        assert word in lines, cover                       # letter-spaced small capitals, read back
        assert lines[lines.index(word) + 1] == f"1·{date}".replace(" ", ""), cover


@pytest.mark.pdf
def test_a_corrected_list_shows_as_a_list_on_the_changes_page(tmp_path: Path) -> None:
    from speechgen.build import build
    from speechgen.config import load_config
    from speechgen.release import release

    (tmp_path / "speeches/2025").mkdir(parents=True)
    (tmp_path / "speechgen.toml").write_text('[site]\ntitle = "Arsip"\nbase_url = "https://a.example.go.id/"\n')
    source = tmp_path / "speeches/2025/uji.id.md"
    source.write_text("---\ntitle: Pidato Uji\nspeaker: Presiden Uji\ndate: 2025-08-16\n---\n\n"
                      "Pembukaan.\n\n- apel merah\n- jeruk\n\nPenutup.\n")
    build(load_config(tmp_path), pdf=True, jobs=1, search=False, card_pdfs=False)
    release(load_config(tmp_path), jobs=1)
    source.write_text(source.read_text().replace("- apel merah\n- jeruk\n", "- apel hijau\n- jeruk\n- mangga\n").replace(
        "\n---\n", '\ncorrections:\n  - date: 2025-09-01\n    note: "Buah diperbaiki."\n---\n', 1))
    build(load_config(tmp_path), pdf=True, jobs=1, search=False, card_pdfs=False)
    page = (tmp_path / "site/2025/uji/perubahan/2/index.html").read_text()
    assert '<a href="../../index.html#p-2">Paragraf 2</a>' in page
    items = re.search(r"<ul>(.*?)</ul>", page[page.index('class="changes-body"'):], re.S)
    assert items is not None
    lis = re.findall(r"<li>(.*?)</li>", items[1], re.S)
    plain = [re.sub(r'<span class="visually-hidden">[^<]*</span>', "", li) for li in lis]
    assert plain == ["apel <del>merah</del> <ins>hijau</ins>", "jeruk", "<ins>mangga</ins>"]
    assert 'id="p-2"' in (tmp_path / "site/2025/uji/index.html").read_text()
