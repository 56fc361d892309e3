"""Paragraph anchors: the Nth top-level block is p-N in every language; side by side pairs them."""

from __future__ import annotations

import re

from pathlib import Path

import pytest

from speechgen.build import build
from speechgen.config import load_config
from speechgen.markdown import paragraphs, render

BODY = """Pembuka.

## Ekonomi

- satu
- dua

|a|b|
|-|-|
|1|2|

> kutipan

```
kode
```

Penutup[^1].

[^1]: Catatan.
"""


def test_every_top_level_block_is_numbered_in_order() -> None:
    html = render(BODY).html
    assert '<p id="p-1">Pembuka.</p>' in html
    assert '<div class="p-heading" id="p-2">\n<h2 id="ekonomi">Ekonomi</h2>\n</div>' in html
    assert '<ul id="p-3">' in html
    assert '<div class="table-wrap" id="p-4" role="region" tabindex="0" aria-label="a, b">\n<table>' in html
    assert '<blockquote id="p-5">' in html
    assert '<div class="p-code" id="p-6">\n<pre><code>kode' in html
    assert '<p id="p-7">Penutup' in html
    assert "p-8" not in html                  # footnotes are not a paragraph of the speech
    assert html.count('id="p-') == 7          # nested blocks (list items, quoted <p>) get none


def test_paragraphs_split_the_body_back_without_footnotes() -> None:
    blocks = paragraphs(render(BODY).html)
    assert [n for n, _ in blocks] == [1, 2, 3, 4, 5, 6, 7]
    assert blocks[0] == (1, '<p id="p-1">Pembuka.</p>')
    assert blocks[4][1] == '<blockquote id="p-5">\n<p>kutipan</p>\n</blockquote>'
    assert "Catatan" not in blocks[-1][1] and "footnote" in blocks[-1][1]


def test_the_same_structure_gets_the_same_numbers_in_another_language() -> None:
    english = BODY.replace("Pembuka", "Opening").replace("Ekonomi", "Economy").replace("Penutup", "Closing")
    id_blocks, en_blocks = paragraphs(render(BODY).html), paragraphs(render(english).html)
    assert [n for n, _ in id_blocks] == [n for n, _ in en_blocks]
    assert "Closing" in dict(en_blocks)[7] and "Penutup" in dict(id_blocks)[7]


def test_a_heading_cannot_take_a_paragraph_anchor() -> None:
    rendered = render("## P 3\n\nTeks.\n")
    assert rendered.headings[0].id == "p-3-2"
    assert rendered.html.count('id="p-3"') == 0


@pytest.fixture
def built(project: Path) -> Path:
    build(load_config(project))
    return project / "site"


def test_side_by_side_page_pairs_each_paragraph_number(built: Path) -> None:
    html = (built / "2025/kenegaraan/berdampingan/index.html").read_text()
    assert '<html lang="id">' in html
    row = html.split('<div class="pair" id="p-1">')[1].split('<div class="pair" id="p-2">')[0]
    assert '<div class="pair-cell" lang="id">' in row and '<div class="pair-cell" lang="en">' in row
    # inside a row blocks lose their ids: p-N appears once per page
    assert html.count('id="p-1"') == 1
    speech = (built / "2025/kenegaraan/index.html").read_text()
    assert 'href="berdampingan/index.html"' in speech
    sitemap = (built / "sitemap.xml").read_text()
    assert "berdampingan" not in sitemap


def test_side_by_side_notes_a_different_number_of_paragraphs(built: Path) -> None:
    # the fixture's English text has 5 top-level blocks, the Indonesian 7
    html = (built / "2025/kenegaraan/berdampingan/index.html").read_text()
    assert "Jumlah paragraf berbeda" in html and "paired by number" in html
    # each language's name in its own language (isolated), its count beside it
    assert re.sub(r"<[^>]+>", "", html).count("Bahasa Indonesia: 7, English: 5") == 1
    assert '<span lang="en">English</span>: 5' in html
    rows = html.split('<div class="pair" id="p-')[1:]
    assert [r.split('"')[0] for r in rows] == ["1", "2", "3", "4", "5", "6", "7"]
    assert "Thank you." in rows[4] and "Terima kasih." in rows[6]
    assert all(r.count('<p class="missing">') == 1 for r in rows[5:])
    assert all('<p class="missing">' not in r for r in rows[:5])


def test_search_and_accessibility_pages_exist_in_both_languages(built: Path) -> None:
    search = (built / "cari/index.html").read_text()
    assert 'src="../_assets/search.js"' in search and "<noscript>" in search
    assert 'href="../tahun/2025/index.html"' in search     # the plain listing without JavaScript
    statement = (built / "aksesibilitas/index.html").read_text()
    assert "WCAG 2.2" in statement and '<section aria-labelledby="a11y-en" lang="en">' in statement
    home = (built / "index.html").read_text()
    assert 'href="aksesibilitas/index.html"' in home and 'href="cari/index.html"' in home
