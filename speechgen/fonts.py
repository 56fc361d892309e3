"""Which characters the archival PDFs can draw: the cmaps of the bundled print fonts and of a
project's `[pdf] fonts`, read once with fontTools.

A PDF is drawn with these fonts and nothing else (speechgen/render/pdf.py gives WeasyPrint a
fontconfig with no font folders), so a character none of them has would print as an empty box
pointing past the end of the embedded font. The build refuses it instead, naming the file and
line: `missing_glyphs` finds those characters in a source's lines, `glyph_problem` says it.
Pure apart from reading font files, which are cached by path and stamps (`stamps`).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

FONTS_DIR = Path(__file__).resolve().parent / "theme" / "fonts"
# The book's family (four styles), Arabic script (two weights) and one face of arrows,
# operators and symbols.
BUNDLED = tuple(FONTS_DIR / name for name in (
    "NotoSerif-Regular.ttf", "NotoSerif-Italic.ttf", "NotoSerif-Bold.ttf", "NotoSerif-BoldItalic.ttf",
    "NotoNaskhArabic-Regular.ttf", "NotoNaskhArabic-Bold.ttf", "SpeechgenSymbols-Regular.ttf"))
FONT_SUFFIXES = (".ttf", ".otf", ".woff", ".woff2")
MAX_FONT_BYTES = 64 * 1024 * 1024            # the PDF fetcher's limit for any file

# Characters that are never drawn, so need no glyph: the HTML whitespace that layout turns into
# spaces and line breaks, and Unicode's default-ignorable code points (soft hyphen, zero-width
# joiners, direction marks, BOM, variation selectors, tags...), which Pango shapes as nothing.
# Any other control or format character is drawn as a box by Pango, so it needs a glyph too.
_WHITESPACE = frozenset("\t\n\f\r\u2029")
_IGNORABLE_RANGES = ((0x00AD, 0x00AD), (0x034F, 0x034F), (0x061C, 0x061C), (0x115F, 0x1160),
                     (0x17B4, 0x17B5), (0x180B, 0x180F), (0x200B, 0x200F), (0x202A, 0x202E),
                     (0x2060, 0x206F), (0x3164, 0x3164), (0xFE00, 0xFE0F), (0xFEFF, 0xFEFF),
                     (0xFFA0, 0xFFA0), (0xFFF0, 0xFFF8), (0x1BCA0, 0x1BCA3), (0x1D173, 0x1D17A),
                     (0xE0000, 0xE0FFF))


def ignorable(char: str) -> bool:
    """True for a character that is never drawn (no glyph needed)."""
    code = ord(char)
    return char in _WHITESPACE or any(low <= code <= high for low, high in _IGNORABLE_RANGES)


@dataclass(frozen=True)
class FontFace:
    """What a font file says about itself: enough for an @font-face rule."""

    path: Path
    family: str
    weight: int          # 100..900
    italic: bool
    chars: frozenset[int]


class FontError(ValueError):
    """A file that is not a usable font; the message says why, without the path."""


def read_face(path: Path) -> FontFace:
    """The family, weight, style and characters of a TrueType/OpenType (or WOFF, WOFF2) font.
    Raises FontError for anything else. Cached by path and stamps."""
    return _by_stat(path, _read_face)


def stamps(path: Path) -> tuple[int, int, int, int]:
    """What tells a font file's versions apart without reading it, for the caches of a long-lived
    process (`serve`): size, both times and inode. A font replaced under the same name, even in
    the same tick of the clock, has another change time or inode. Raises OSError."""
    stat = os.stat(path)
    return stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino


def _by_stat(path: Path, read):
    """`read(path, size, stamps)`: a cached reading, asked again when the file changes."""
    try:
        found = stamps(path)
    except OSError as exc:
        raise FontError(f"cannot be read: {exc.strerror or exc}") from None
    return read(str(path), found[0], found)


@functools.lru_cache(maxsize=64)
def _read_face(path: str, size: int, _stamps: tuple) -> FontFace:
    from fontTools.ttLib import TTFont, TTLibError

    if not path.lower().endswith(FONT_SUFFIXES):
        raise FontError(f"must be a font file ({', '.join(FONT_SUFFIXES)})")
    if size > MAX_FONT_BYTES:
        raise FontError(f"larger than {MAX_FONT_BYTES // (1024 * 1024)} MB")
    try:
        with TTFont(path, lazy=True, fontNumber=0) as font:
            cmap = font.getBestCmap() or {}
            names = font["name"] if "name" in font else None
            family = ""
            if names is not None:
                family = str(names.getDebugName(16) or names.getDebugName(1) or "")
            weight, italic = 400, False
            if "OS/2" in font:
                weight = min(900, max(100, round(font["OS/2"].usWeightClass / 100) * 100))
                italic = bool(font["OS/2"].fsSelection & 1)
            elif "head" in font:
                italic = bool(font["head"].macStyle & 2)
    except (TTLibError, OSError, KeyError, ValueError, AssertionError, ImportError) as exc:
        raise FontError(f"is not a TrueType or OpenType font ({type(exc).__name__})") from None
    if not cmap:
        raise FontError("has no Unicode character map")
    return FontFace(Path(path), family.strip() or Path(path).stem, weight, italic, frozenset(cmap))


@dataclass(frozen=True)
class Metrics:
    """What a line of a font measures: each character's advance, and the ascent and descent
    (`hhea`, as Pango reads them), all in em."""

    advances: Mapping[int, float]
    ascent: float
    descent: float       # below the baseline, positive


def metrics(path: Path) -> Metrics:
    """A font's advances and vertical metrics (the card sheet lays its lines out with them).
    Raises FontError as `read_face` does. Cached by path and stamps."""
    return _by_stat(path, _metrics)


@functools.lru_cache(maxsize=32)
def _metrics(path: str, size: int, _stamps: tuple) -> Metrics:
    from fontTools.ttLib import TTFont, TTLibError

    _read_face(path, size, _stamps)              # the same checks first: a font, not too large
    try:
        with TTFont(path, lazy=True, fontNumber=0) as font:
            em = font["head"].unitsPerEm
            widths = font["hmtx"].metrics
            advances = {code: widths[name][0] / em for code, name in (font.getBestCmap() or {}).items()
                        if name in widths}
            ascent, descent = font["hhea"].ascent / em, abs(font["hhea"].descent) / em
    except (TTLibError, OSError, KeyError, ValueError, AssertionError, ZeroDivisionError) as exc:
        raise FontError(f"is not a TrueType or OpenType font ({type(exc).__name__})") from None
    return Metrics(advances, ascent, descent)


def font_problem(path: Path) -> str | None:
    """Why a `[pdf] fonts` entry cannot be used, or None. (Where it may live is the caller's rule:
    a regular file under static/.)"""
    try:
        read_face(path)
    except FontError as exc:
        return str(exc)
    return None


def coverage(fonts: Iterable[Path] = ()) -> frozenset[int]:
    """Every character the bundled fonts and `fonts` (a project's `[pdf] fonts`) have a glyph
    for: what books, card sheets and link previews can draw (one rule for all three)."""
    return _coverage(versions(fonts))


def versions(fonts: Iterable[Path]) -> tuple[tuple[str, tuple | None], ...]:
    """Font files as a cache key: each path with its stamps (None when it cannot be read, which
    `read_face` then reports)."""
    def stamped(path: Path) -> tuple | None:
        try:
            return stamps(path)
        except OSError:
            return None
    return tuple((str(Path(f)), stamped(Path(f))) for f in fonts)


@functools.lru_cache(maxsize=16)
def _coverage(fonts: tuple[tuple[str, tuple | None], ...]) -> frozenset[int]:
    chars: set[int] = set()
    for path in (*BUNDLED, *(Path(f) for f, _ in fonts)):
        chars |= read_face(path).chars
    return frozenset(chars)


Lines = Mapping[int, str] | Iterable[tuple[int, str]] | str


def missing_glyphs(text_by_line: Lines, fonts: Iterable[Path] = (),
                   have: frozenset[str] | None = None) -> list[tuple[int, str]]:
    """Characters that neither the bundled fonts nor `fonts` can draw, each once, with the line
    it first appears on, in order of appearance: [(line, char), ...].

    `text_by_line` is a whole text (lines counted from 1), a mapping line -> text, or pairs
    (line, text), e.g. a source file's lines, front matter included. `have`: those fonts'
    characters as `coverage` gives them, when the caller has them already."""
    if have is None:
        have = _coverage_chars(versions(fonts))
    if isinstance(text_by_line, str):
        whole = text_by_line
        pairs: list[tuple[int, str]] = []          # split only when something is missing
    else:
        pairs = sorted(text_by_line.items()) if isinstance(text_by_line, Mapping) else list(text_by_line)
        whole = "".join(text for _, text in pairs)
    # The common case, every character drawable, costs one set difference over the whole text.
    lacking = {c for c in set(whole) - have if not ignorable(c)}
    if not lacking:
        return []
    if isinstance(text_by_line, str):
        pairs = list(enumerate(text_by_line.split("\n"), 1))      # U+2028 breaks no source line
    found: dict[str, int] = {}
    for line, text in pairs:
        for char in dict.fromkeys(text):          # each character once, in order
            if char in lacking and char not in found:
                found[char] = line
    return [(line, char) for char, line in found.items()]


@functools.lru_cache(maxsize=16)
def _coverage_chars(fonts: tuple[tuple[str, tuple | None], ...]) -> frozenset[str]:
    return frozenset(map(chr, _coverage(fonts)))


def glyph_problem(char: str) -> str:
    """The build error for a character no font has, after `file:line: `."""
    return (f"character U+{ord(char):04X} {char!r} has no glyph in the bundled fonts; "
            "add a font in [pdf] fonts")


MAX_NAMED = 40          # characters one message names; the rest are counted


def glyphs_problem(found: list[tuple[int, str]]) -> tuple[int, str]:
    """One file's glyph error, one line whatever the number of characters: (the first line, the
    message after `file:line: `) from `missing_glyphs`' answer. A single character is said as
    `glyph_problem` says it; several are listed in order, each line's after `(line N)` when they
    are on more than one line."""
    if len(found) == 1:
        return found[0][0], glyph_problem(found[0][1])
    named = found[:MAX_NAMED]
    several_lines = len({line for line, _ in named}) > 1
    groups: list[str] = []
    for index, (line, char) in enumerate(named):
        groups.append(f"U+{ord(char):04X} {char!r}")
        last_of_line = index + 1 == len(named) or named[index + 1][0] != line
        if several_lines and last_of_line:
            groups[-1] += f" (line {line})"
    more = f" and {len(found) - len(named)} more" if len(found) > len(named) else ""
    return found[0][0], (f"{len(found)} characters have no glyph in the bundled fonts: "
                         f"{', '.join(groups)}{more}; add a font in [pdf] fonts")
