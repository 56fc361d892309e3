"""Any script, any reader: the fixture project with an Arabic and a French version beside its
Indonesian and English ones (issue 30, items 1-3). Directions come from CLDR, English fallback
words are marked, counts follow CLDR's plural rules, language names are capitalised for a menu,
and the Arabic PDF is laid out right to left with the bundled Arabic font, no project font."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import copy_project
from speechgen.build import build
from speechgen.config import load_config
from speechgen.errors import SourceError

# Sample texts, fictional: a test speech and its test translations.
ARABIC_SENTENCE = "هذا نص تجريبي للاختبار فقط"
ARABIC = f"""---
title: خطاب الدولة التجريبي
subtitle: نص تجريبي
speaker: الرئيس التجريبي
date: 2025-08-15
occasion: الجلسة السنوية
place: قاعة الاختبار
recipients: [lembaga-negara, arsip]
---

افتتاح بكلمة فريدة. {ARABIC_SENTENCE}، وقال "أهلا" للجميع.

## الاقتصاد والغذاء

مضمون قسم الاقتصاد.[^1]

| القطاع | القيمة |
|---|---:|
| الزراعة | 12 |

![شعار تجريبي](/static/lambang.png)

## الختام

شكرا لكم.

[^1]: حاشية تجريبية.
"""
FRENCH = """---
title: Discours d'essai sur l'état de la nation
subtitle: Texte d'essai
speaker: Président d'essai
date: 2025-08-15
occasion: Session annuelle
place: Salle d'essai
recipients: [lembaga-negara, arsip]
---

Ouverture avec le mot uniqueouverture.

## Économie et alimentation

Contenu de la section économie.[^1]

| Secteur | Valeur |
|---|---:|
| Agriculture | 12 |

![Emblème d'essai](/static/lambang.png)

## Clôture

Merci.

[^1]: Note d'essai.
"""
ARABIC_RECIPIENT = "المكتبة الوطنية التجريبية"


def world_project(dest: Path) -> Path:
    """The fixture project in four languages: id, en, ar (right to left) and fr (no interface
    words: English ones, marked), and a recipient whose name is in Arabic."""
    project = copy_project(dest)
    config = project / "speechgen.toml"
    text = config.read_text()
    assert 'languages = ["id", "en"]' in text
    config.write_text(text.replace('languages = ["id", "en"]', 'languages = ["id", "en", "ar", "fr"]'))
    (project / "speeches/2025/kenegaraan.ar.md").write_text(ARABIC, "utf-8")
    (project / "speeches/2025/kenegaraan.fr.md").write_text(FRENCH, "utf-8")
    recipients = project / "recipients.yaml"
    recipients.write_text(recipients.read_text() + f"  - id: maktaba\n    name: {ARABIC_RECIPIENT}\n    group: arsip\n",
                          "utf-8")
    return project


BOOKS: dict[str, str] = {}          # the books' HTML by language, as the build made them


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    from speechgen.render import pdf

    project = world_project(tmp_path_factory.mktemp("rtl") / "project")
    make_job = pdf.make_job

    def recording(site, env, speech, version, context, print_css):
        job = make_job(site, env, speech, version, context, print_css)
        BOOKS[version.lang] = job.html
        return job

    pdf.make_job = recording
    try:
        build(load_config(project), pdf=True, card_pdfs=False, search=False, jobs=2, cache=_no_cache())
    finally:
        pdf.make_job = make_job
    return project / "site"


def _no_cache():
    from speechgen.cache import Cache

    return Cache.disabled()            # every book rendered here, so every book's HTML is seen


def _page(site: Path, dest: str) -> str:
    return (site / dest).read_text("utf-8")


def _speech_page(site: Path, lang: str) -> str:
    return _page(site, f"2025/kenegaraan/{'' if lang == 'id' else lang + '/'}index.html")


def _html_tag(page: str) -> str:
    return re.search(r"<html[^>]*>", page)[0]


# --- direction --------------------------------------------------------------------------------

def test_arabic_pages_are_right_to_left_and_the_others_are_not(site: Path) -> None:
    assert _html_tag(_speech_page(site, "ar")) == '<html lang="ar" dir="rtl">'
    for lang in ("id", "en", "fr"):
        assert _html_tag(_speech_page(site, lang)) == f'<html lang="{lang}">'


def test_side_by_side_columns_carry_their_own_direction(site: Path) -> None:
    page = _page(site, "2025/kenegaraan/berdampingan/index.html")
    assert _html_tag(page) == '<html lang="id">'
    cells = re.findall(r'<div class="pair-cell"([^>]*)>', page)
    assert ' lang="ar" dir="rtl"' in cells and ' lang="fr"' in cells and ' lang="en"' in cells
    # the language switch: the Arabic name isolated in its own direction, the others not
    assert re.search(r'<a [^>]*hreflang="ar" lang="ar" dir="rtl">العربية</a>', page)
    assert re.search(r'<a [^>]*hreflang="fr" lang="fr">Français</a>', page)


def test_on_an_arabic_page_left_to_right_parts_are_isolated(site: Path) -> None:
    page = _speech_page(site, "ar")
    assert re.search(r'<a [^>]*hreflang="id" lang="id" dir="ltr"[^>]*>Bahasa Indonesia</a>', page)
    assert '<span aria-current="true" lang="ar">العربية</span>' in page
    # the footer's feed links in left-to-right languages
    assert re.search(r'hreflang="en" lang="en" dir="ltr">Atom feed \(English\)</a>', page)


def test_a_copy_page_isolates_a_right_to_left_name(site: Path) -> None:
    copies = [p for p in site.rglob("index.html") if ARABIC_RECIPIENT in p.read_text("utf-8")
              and 'class="copy-recipient"' in p.read_text("utf-8")]
    assert copies
    page = copies[0].read_text("utf-8")
    assert f'<strong class="copy-recipient" dir="auto">{ARABIC_RECIPIENT}</strong>' in page
    assert f"\u2068{ARABIC_RECIPIENT}\u2069" in re.search(r"<title>.*?</title>", page, re.S)[0]


# --- interface words --------------------------------------------------------------------------

@pytest.mark.parametrize("lang", ["ar", "fr"])
def test_english_fallback_words_are_marked_english(site: Path, lang: str) -> None:
    page = _speech_page(site, lang)
    assert '<dt><span lang="en">Speaker</span></dt>' in page
    assert '<span lang="en">Download PDF</span>' in page
    assert '<a class="skip-link" href="#isi"><span lang="en">Skip to content</span></a>' in page
    # attributes and the title stay plain text
    assert 'aria-label="Archive"' in page and '<span lang="en">' not in re.search(r"<title>.*?</title>", page, re.S)[0]
    # no English word left unmarked in the page's text (outside attributes)
    text = re.sub(r"<(script|style)\b.*?</\1>", "", page, flags=re.S)
    text = re.sub(r'<span lang="en"[^>]*>[^<]*</span>|<[^>]*lang="en"[^>]*>.*?</', "", text, flags=re.S)
    for word in ("Download PDF", "Speaker", "Skip to content", "Home", "Accessibility"):
        assert f">{word}<" not in text, word


def test_pages_with_words_of_their_own_mark_nothing_english(site: Path) -> None:
    for lang in ("id", "en"):
        page = _speech_page(site, lang)
        assert "<dt><span lang=" not in page


def test_counts_follow_cldr_plural_rules(site: Path) -> None:
    from speechgen.templates import count, count_label

    index = _page(site, "en/tahun/index.html") if (site / "en/tahun/index.html").is_file() else None
    assert count_label("en", 1, "speeches") == "speech" and count_label("en", 2, "speeches") == "speeches"
    assert count_label("en", 0, "speeches") == "speeches" and count_label("id", 1, "speeches") == "pidato"
    assert count_label("fr", 0, "pages") == "pages"          # English words, English rules
    assert str(count("ar", 1, "pages")) == '1 <span lang="en">page</span>'
    # an English listing of years: a year with one speech says "(1 speech)"
    pages = [p.read_text("utf-8") for p in site.rglob("index.html")]
    listings = [p for p in pages if 'class="archive-index"' in p and '<html lang="en"' in p]
    assert listings or index is None
    text = "".join(listings)
    assert "(1 speeches)" not in "".join(pages)
    if listings:
        assert re.search(r"\(1 speech\)", text)


def test_language_names_are_capitalised_for_a_menu() -> None:
    from speechgen.templates import language_name

    assert language_name("fr") == "Français" and language_name("es") == "Español"
    assert language_name("ar") == "العربية" and language_name("id") == "Bahasa Indonesia"


# --- the Arabic PDF ---------------------------------------------------------------------------

def _pdf(site: Path, lang: str) -> Path:
    found = [p for p in site.rglob("*.pdf") if p.name.endswith(f".{lang}.pdf") and "kenegaraan" in p.name]
    assert found, sorted(p.name for p in site.rglob("*.pdf"))
    return found[0]


def test_the_arabic_pdf_reads_in_logical_order_with_the_bundled_arabic_font(site: Path) -> None:
    if not shutil.which("pdftotext"):
        pytest.skip("pdftotext (poppler-utils) is missing")
    path = _pdf(site, "ar")
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True).stdout.decode()
    assert ARABIC_SENTENCE in text
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, check=True).stdout.decode()
    assert "Speechgen-Arabic" in fonts          # the bundled Noto Naskh Arabic
    # CLDR's Arabic quotation marks, not straight ones
    assert "”أهلا“" in text


def test_the_arabic_pdf_is_right_to_left_and_says_its_language(site: Path) -> None:
    import pikepdf
    import pdfplumber

    path = _pdf(site, "ar")
    with pikepdf.open(path) as pdf:
        assert str(pdf.Root.Lang) == "ar"
    with pdfplumber.open(path) as pdf:
        number = next(n for n in range(1, len(pdf.pages) + 1) if ARABIC_SENTENCE in subprocess.run(
            ["pdftotext", "-enc", "UTF-8", "-f", str(n), "-l", str(n), str(path), "-"],
            capture_output=True, check=True).stdout.decode())
        page = pdf.pages[number - 1]
        body = [c for c in page.chars if page.height * 0.1 < c["top"] < page.height * 0.85]   # no running head or folio
        top = min(c["top"] for c in body)
        line = [c for c in body if abs(c["top"] - top) < 3]       # the first paragraph, one short line
        rule = next(r for r in page.lines + page.rects if r["width"] > page.width / 2)   # the table's full measure
        # right to left: the line starts at the right edge of the measure and ends well short of its left
        assert abs(max(c["x1"] for c in line) - rule["x1"]) < 2, (max(c["x1"] for c in line), rule["x1"])
        assert min(c["x0"] for c in line) > rule["x0"] + 20


def test_the_arabic_pdf_cover_labels_are_english_marked_english(site: Path) -> None:
    from speechgen.templates import LABELS

    assert "ar" not in LABELS                 # when Arabic words exist, the cover uses them
    book = BOOKS["ar"]
    assert _html_tag(book) == '<html lang="ar" dir="rtl">'
    assert '<dt><span lang="en">Speaker</span></dt><dd>الرئيس التجريبي</dd>' in book
    assert '<p class="cover-url" dir="ltr">https://' in book        # a URL reads left to right
    assert _html_tag(BOOKS["fr"]) == '<html lang="fr">' and '<span lang="en">Speaker</span>' in BOOKS["fr"]
    assert "<dt>Pembicara</dt>" in BOOKS["id"] and '<span lang="en">' not in BOOKS["id"]
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", "-l", "1", str(_pdf(site, "ar")), "-"],
                          capture_output=True, check=True).stdout.decode()
    assert "PEAKER" in text and "الرئيس التجريبي" in text       # (letter-spaced capitals: "S PEAKER")


# --- the glyph check --------------------------------------------------------------------------

def test_arabic_needs_no_project_font_and_a_missing_glyph_is_one_line_per_file(tmp_path: Path) -> None:
    from speechgen import fonts

    assert fonts.missing_glyphs(ARABIC) == []
    project = world_project(tmp_path / "project")
    assert "fonts" not in (project / "speechgen.toml").read_text()
    source = project / "speeches/2025/kenegaraan.ar.md"
    source.write_text(source.read_text("utf-8") + "\nأبجدية أخرى: ሀለሐ 𓀀\n\nوأيضا: ꦲꦏ\n", "utf-8")
    with pytest.raises(SourceError) as error:
        build(load_config(project), pdf=True, card_pdfs=False, search=False, jobs=1)
    lines = [line for line in error.value.lines() if "kenegaraan.ar.md" in line]
    first = len(ARABIC.splitlines()) + 2
    assert lines == [f"speeches/2025/kenegaraan.ar.md:{first}: 6 characters have no glyph in the bundled fonts: "
                     f"U+1200 'ሀ', U+1208 'ለ', U+1210 'ሐ', U+13000 '𓀀' (line {first}), "
                     f"U+A9B2 'ꦲ', U+A98F 'ꦏ' (line {first + 2}); add a font in [pdf] fonts"]


def test_an_arabic_recipient_name_prints_on_its_card_with_the_bundled_font(tmp_path: Path) -> None:
    """One font rule: what the books draw, the cards draw. An Arabic name needs no project font,
    its glyphs are the bundled Naskh's, and it sits inside its card like any other."""
    import pdfplumber

    from speechgen.render.cards import LAYOUTS
    from test_card_geometry import geometry_faults

    project = world_project(tmp_path / "project")
    build(load_config(project), pdf=False, card_pdfs=True, search=False, jobs=1)
    sheet = project / "site/2025/kenegaraan/kartu-qr.pdf"
    with pdfplumber.open(sheet) as document:
        drawn = {c["fontname"].split("+")[-1] for page in document.pages for c in page.chars
                 if c["text"] in ARABIC_RECIPIENT and c["text"] != " "}
    assert drawn and all("Arabic" in name for name in drawn), drawn
    text = subprocess.run(["pdftotext", str(sheet), "-"], capture_output=True, text=True, check=True).stdout
    assert all(char in text for char in set(ARABIC_RECIPIENT) - {" "})
    assert geometry_faults(sheet, LAYOUTS["A6"]) == []
