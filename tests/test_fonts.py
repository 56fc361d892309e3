"""speechgen.fonts: which characters the bundled print fonts (and a project's [pdf] fonts) can
draw, and the build error for one they cannot. Pure: no PDF is rendered here."""

from __future__ import annotations

from pathlib import Path

import pytest

from speechgen import fonts
from test_pdfa import _font_with

REAL_SPEECH = """\
---
title: "Pidato — “Kenegaraan” 2025"
speaker: Presiden Uji
---

Inflasi −0,2 %; target ≤ 3 dan ≥ 1 → naik ↑, turun ↓ ⇒ ≠ ≈ ± × ÷ ∞ √ ∑ ∆ ∈ ✓ ✔ ✗ ★ ● ■ □ ◆ ☐ ☑.
Tanda • … ‰ ° ′ ″ € £ ₹ ₽ № © ® ™ § ¶ † ‡ ½ ¼ ¾ ⅓ ⅔ ① ② – — ‘ ’ ‚ „ « » ‹ › fi ﬂ.
Ελληνική Δημοκρατία ἀρχή; Российская Федерация, Україна, Беларусь, Српска ђ љ њ ћ џ; Қазақстан.
Đà Nẵng, Zürich, Kraków, Ærøskøbing, İstanbul, Şanlıurfa, Čeština, Ğ ǅ ǈ ȘȚ ə ŋ ʻokina.
Zero-width and invisible: a\u200db\u200cc\u00add\ufeffe\u2060f\ufe0fg\u061ch\U000e0001j, tab\tand CR\r.
"""


def test_the_bundled_fonts_cover_latin_greek_cyrillic_and_the_common_symbols() -> None:
    assert fonts.missing_glyphs(REAL_SPEECH) == []
    have = fonts.coverage()
    for block, (low, high) in {"Basic Latin": (0x20, 0x7E), "Latin-1": (0xA0, 0xFF),
                               "Latin Extended-A": (0x100, 0x17F), "Latin Extended-B": (0x180, 0x24F),
                               "Latin Extended Additional": (0x1E00, 0x1EFF), "Cyrillic": (0x400, 0x4FF),
                               "Greek Extended": (0x1F00, 0x1F15), "Arrows": (0x2190, 0x21FF),
                               "Mathematical Operators": (0x2200, 0x22FF), "Geometric Shapes": (0x25A0, 0x25FF)
                               }.items():
        lacking = [hex(c) for c in range(low, high + 1) if c not in have and chr(c).isprintable()]
        assert not lacking, (block, lacking)


def test_missing_glyphs_names_each_character_once_with_its_first_line() -> None:
    text = "baik\nनमस्ते dan अ lagi अ\n中文 😀\n\n中"
    assert fonts.missing_glyphs(text) == [
        (2, "न"), (2, "म"), (2, "स"), (2, "्"), (2, "त"), (2, "े"), (2, "अ"),
        (3, "中"), (3, "文"), (3, "😀")]
    # a mapping of lines, or (line, text) pairs, as a reader that keeps line numbers has them
    assert fonts.missing_glyphs({7: "ok", 12: "x → अ"}) == [(12, "अ")]
    assert fonts.missing_glyphs([(3, "ok"), (9, "😀 ok")]) == [(9, "😀")]


def test_the_message_is_the_one_the_build_prints() -> None:
    assert fonts.glyph_problem("अ") == ("character U+0905 'अ' has no glyph in the bundled fonts; "
                                         "add a font in [pdf] fonts")
    assert fonts.glyph_problem("😀").startswith("character U+1F600 '😀' has no glyph")


def test_only_what_layout_never_draws_is_ignored() -> None:
    """Pango draws nothing for default-ignorable characters and whitespace, and a box for any
    other control or format character (checked against WeasyPrint in test_pdfa)."""
    assert fonts.missing_glyphs("a\u061cb\U000e0001c\U0001d173d\u180ee\u2029f\tg") == []
    assert fonts.missing_glyphs("a\ufff9b\u0085d\u0001e") == [(1, "\ufff9"), (1, "\x85"), (1, "\x01")]


def test_a_project_font_adds_its_characters(tmp_path: Path) -> None:
    deva = _font_with(tmp_path / "deva.ttf", " अशोक", "Uji Deva")
    assert fonts.missing_glyphs("Raja अशोक 中", [deva]) == [(1, "中")]
    face = fonts.read_face(deva)
    assert (face.family, face.weight, face.italic) == ("Uji Deva", 400, False)
    assert fonts.font_problem(deva) is None


@pytest.mark.parametrize("name, data, problem", [
    ("notes.txt", b"hello", "must be a font file (.ttf, .otf, .woff, .woff2)"),
    ("broken.ttf", b"\x00\x01\x00\x00garbage", "is not a TrueType or OpenType font"),
    ("missing.ttf", None, "cannot be read: No such file or directory"),
])
def test_a_file_that_is_not_a_font_is_a_problem(tmp_path: Path, name: str, data: bytes | None, problem: str) -> None:
    path = tmp_path / name
    if data is not None:
        path.write_bytes(data)
    assert problem in (fonts.font_problem(path) or "")
    assert fonts.missing_glyphs("abc", []) == []          # the bundled fonts alone still load


def test_the_bundled_files_are_the_ones_the_stylesheet_names() -> None:
    css = (fonts.FONTS_DIR.parent / "print.css").read_text()
    for path in fonts.BUNDLED:
        assert path.is_file() and f"url(fonts/{path.name})" in css
