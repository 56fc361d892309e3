"""Markdown is untrusted: raw HTML is escaped, unsafe links dropped, headings get stable ids."""

from __future__ import annotations

from speechgen.markdown import render, slugify


def test_raw_html_is_escaped_never_passed_through() -> None:
    html = render('<script>alert(1)</script>\n\n<img src=x onerror="alert(1)">\n').html
    assert "<script" not in html and "<img" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in html


def test_unsafe_link_schemes_are_not_links() -> None:
    for url in ("javascript:alert(1)", "JaVaScRiPt:alert(1)", "vbscript:x", "data:text/html;base64,AAAA",
                "file:///etc/passwd"):
        html = render(f"[klik]({url})").html
        assert "<a " not in html, url
    assert '<a href="https://example.go.id/">ok</a>' in render("[ok](https://example.go.id/)").html
    assert '<a href="/static/a.pdf">lampiran</a>' in render("[lampiran](/static/a.pdf)").html


def test_heading_ids_are_stable_and_unique() -> None:
    rendered = render("## Ekonomi & Pangan\n\n## Ekonomi & Pangan\n\n### Pendidikan Tinggi\n")
    assert [h.id for h in rendered.headings] == ["ekonomi-pangan", "ekonomi-pangan-2", "pendidikan-tinggi"]
    assert [h.level for h in rendered.headings] == [2, 2, 3]
    assert '<h2 id="ekonomi-pangan">' in rendered.html


def test_slugify_folds_accents_and_never_returns_empty() -> None:
    assert slugify("Café Ñusantara") == "cafe-nusantara"
    assert slugify("!!!") == "bagian"


def test_images_and_lines_are_reported() -> None:
    rendered = render("Teks\n\n![Lambang](/static/l.png)\n", first_line=10)
    assert rendered.images == [("/static/l.png", "Lambang", 12)]


def test_footnotes_and_tables() -> None:
    html = render("Teks[^a]\n\n|a|b|\n|-|-:|\n|1|2|\n\n[^a]: Catatan\n").html
    assert 'class="footnote-ref"' in html and "Catatan" in html
    assert "<table>" in html and 'style="text-align:right"' in html
