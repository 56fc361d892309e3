"""The link preview of a speech page: a 1200x630 PNG (Open Graph `og:image`, JSON-LD `image`)
with the emblem, the title, the speaker and the date, drawn with Pillow in the bundled fonts.

Pure: values in, PNG bytes out; the same values give the same bytes. Each character is drawn in
the first font that has a glyph for it: the text's own face (regular or bold serif), the other
bundled fonts, then the project's `[pdf] fonts` (a title in two scripts takes each from its font,
on one baseline), as books and cards fall back.
"""

from __future__ import annotations

import functools
import io
import os
import zlib
from pathlib import Path

from speechgen import fonts

SIZE = (1200, 630)
MARGIN = 72
BACKGROUND = (253, 252, 249)
INK = (27, 29, 33)
MUTED = (77, 83, 92)
ACCENT = (138, 28, 28)
REGULAR = fonts.FONTS_DIR / "NotoSerif-Regular.ttf"
BOLD = fonts.FONTS_DIR / "NotoSerif-Bold.ttf"
TITLE_SIZES = (64, 56, 48, 42, 36)            # the largest whose lines fit the title's box
TITLE_TOP, TITLE_BOTTOM = 196, 462


RAMP = 40           # palette: 0 the accent, 1-32 the emblem, RAMP-255 from ink to background


def _level(colour: tuple[int, int, int]) -> int:
    """The palette index of the ramp from ink to background nearest to `colour`."""
    t = sum(c - i for c, i in zip(colour, INK)) / sum(b - i for b, i in zip(BACKGROUND, INK))
    return RAMP + round(min(1.0, max(0.0, t)) * (255 - RAMP))


def preview_png(title: str, speaker: str, date_text: str, site_title: str,
                emblem_png: bytes | None = None, extra_fonts: tuple[Path, ...] = ()) -> bytes:
    """Drawn straight into palette places (a ramp from ink to background,
    the accent, the emblem's own colours): the text keeps its anti-aliasing, and the PNG needs
    no colour quantizing, which took most of the time. What every preview of the site shares
    is drawn once (`_base`); this draws the title and the foot on a copy of it."""
    from PIL import ImageDraw

    head = _font(site_title.upper(), REGULAR, 26, extra_fonts)
    base, colours = _base(site_title, emblem_png or b"", head)
    image = base.copy()
    draw = ImageDraw.Draw(image)
    draw.fontmode = "L"             # anti-aliased: a glyph's edge blends palette places along the ramp
    x = MARGIN

    width = SIZE[0] - 2 * MARGIN
    for size in TITLE_SIZES:
        font = _font(title, BOLD, size, extra_fonts)
        lines = _wrap(draw, title, font, width)
        if len(lines) * int(size * 1.22) <= TITLE_BOTTOM - TITLE_TOP:
            break
    room = (TITLE_BOTTOM - TITLE_TOP) // int(size * 1.22)
    if len(lines) > room:
        lines = lines[:room - 1] + [_fit(draw, " ".join(lines[room - 1:]), font, width)]
    y = TITLE_TOP
    for line in lines:
        font.draw(draw, (x, y), line, RAMP)
        y += int(size * 1.22)

    foot = " · ".join(t for t in (speaker, date_text) if t)
    small = _font(foot, REGULAR, 32, extra_fonts)
    small.draw(draw, (x, FOOT_TOP), _fit(draw, foot, small, width), RAMP)

    palette = list(_RAMP_PALETTE)       # a copy: a preview with an emblem writes its colours in
    palette[3:3 + len(colours)] = colours
    image.putpalette(palette)
    out = io.BytesIO()
    # zlib's run-length strategy (Pillow passes `compress_type` to zlib as its strategy): 1.7 ms
    # against 2.3 ms for the default at level 3, and 3-5 % more bytes; level 6 took twice the time.
    image.save(out, "PNG", compress_level=3, compress_type=zlib.Z_RLE)
    return out.getvalue()


FOOT_TOP = SIZE[1] - MARGIN - 38        # the speaker and date, below the rule at RULE_Y
RULE_Y = SIZE[1] - MARGIN - 58


@functools.lru_cache(maxsize=4)
def _base(site_title: str, emblem_png: bytes, head) -> tuple:
    """What every preview of a site shares, drawn once: the accent bar, the emblem, the site's
    title (in `head`, the font `_font` chose, loaded again when its file changes) and the rule
    above the foot; with the emblem's colours. Nothing here overlaps what each preview draws (its
    title from TITLE_TOP to TITLE_BOTTOM, the foot below the rule), so a preview drawn on a copy
    has the pixels of one drawn whole. Never drawn on: each preview copies it."""
    from PIL import Image, ImageDraw

    image = Image.new("P", SIZE, 255)
    draw = ImageDraw.Draw(image)
    draw.fontmode = "L"
    draw.rectangle((0, 0, 18, SIZE[1]), fill=0)
    x = MARGIN
    top = MARGIN - 16
    emblem = _emblem(emblem_png) if emblem_png else None
    x_head = x + emblem[0].width + 28 if emblem is not None else x
    for n, line in enumerate(_wrap(draw, site_title.upper(), head, SIZE[0] - x_head - MARGIN)[:2]):
        head.draw(draw, (x_head, top + 20 + n * 34), line, _level(MUTED))
    draw.line((x, RULE_Y, SIZE[0] - MARGIN, RULE_Y), fill=_level((216, 212, 200)), width=2)
    colours: list[int] = []
    if emblem is not None:
        own, colours = emblem
        image.paste(own, (x, top))
    return image, colours


# The previews' palette: the accent, 32 places for the emblem, the ramp from ink to background.
_RAMP_PALETTE = tuple([*ACCENT] + [0, 0, 0] * (RAMP - 1) + [
    round(i + (b - i) * ((level - RAMP) / (255 - RAMP))) for level in range(RAMP, 256)
    for i, b in zip(INK, BACKGROUND)])


@functools.lru_cache(maxsize=4)
def _emblem(emblem_png: bytes):
    """The emblem at its size on the card, laid over the background, in at most 32 colours of its
    own: (its image in palette places 1-32, those colours). Made once for every preview."""
    from PIL import Image

    with Image.open(io.BytesIO(emblem_png)) as found:
        emblem = found.convert("RGBA")
    emblem.thumbnail((110, 110))
    flat = Image.new("RGB", emblem.size, BACKGROUND)
    flat.paste(emblem, (0, 0), emblem)
    own = flat.quantize(colors=32, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    colours = own.getpalette()[:32 * 3]
    shifted = own.point(lambda v: v + 1)
    return shifted, colours


def _font(text: str, preferred: Path, size: int, extra: tuple[Path, ...]) -> "_Chain":
    """The faces `text` is drawn in: the preferred one, then every other font a character of it
    needs (the first that has its glyph)."""
    read: dict[Path, frozenset[int]] = {}

    def chars(path: Path) -> frozenset[int]:         # each file looked at once a text, not once a character
        if path not in read:
            read[path] = fonts.read_face(path).chars
        return read[path]

    chain = [preferred]
    for char in {ord(c) for c in text if not c.isspace()}:
        if not any(char in chars(path) for path in chain):
            found = next((path for path in (*fonts.BUNDLED, *extra) if char in chars(path)), None)
            if found is not None:
                chain.append(found)
    order = {path: n for n, path in enumerate((preferred, *fonts.BUNDLED, *extra))}
    chain.sort(key=order.__getitem__)               # the same faces in the same order, whatever the text
    return _Chain(tuple((_load_font(path, size), chars(path)) for path in chain),
                  tuple((str(path), size, fonts.stamps(path)) for path in chain))


class _Chain:
    """Faces tried in order for each character; a text is drawn run by run on one baseline (the
    first face's), each run in its face."""

    def __init__(self, faces: tuple, key: tuple) -> None:
        self.faces = faces
        self.key = key               # the files and size: equal chains draw alike (`_base` is kept by it)
        self.ascent = faces[0][0].getmetrics()[0]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Chain) and other.key == self.key

    def __hash__(self) -> int:
        return hash(self.key)

    def runs(self, text: str) -> list[tuple[str, object]]:
        found: list[tuple[str, object]] = []
        for char in text:
            face = found[-1][1] if found and char.isspace() else next(
                (font for font, chars in self.faces if ord(char) in chars), self.faces[0][0])
            if found and found[-1][1] is face:
                found[-1] = (found[-1][0] + char, face)
            else:
                found.append((char, face))
        return found

    def length(self, draw, text: str) -> float:
        """A text's width: each word of a site's titles measured once, not once a preview (a
        site's titles share most of their words; measuring was a sixth of a preview's time)."""
        key = (self.key, text, draw.mode, draw.fontmode)
        found = _LENGTHS.get(key)
        if found is None:
            if len(_LENGTHS) >= 8192:
                _LENGTHS.clear()
            found = _LENGTHS[key] = sum(draw.textlength(run, font=face) for run, face in self.runs(text))
        return found

    def draw(self, draw, xy: tuple[int, int], text: str, fill: int) -> None:
        x, y = xy
        for run, face in self.runs(text):
            draw.text((x, y + self.ascent), run, font=face, fill=fill, anchor="ls")
            x += draw.textlength(run, font=face)


_LENGTHS: dict = {}          # (faces, text, modes) -> width, for `_Chain.length`


def _load_font(path: Path, size: int):
    # By the file as it is now: a font replaced under its name (a long-running preview) is loaded again.
    info = os.stat(path)
    return _load(str(path), size, info.st_size, info.st_mtime_ns)


@functools.lru_cache(maxsize=64)
def _load(path: str, size: int, file_size: int, mtime_ns: int):
    from PIL import ImageFont

    with open(path, "rb") as handle:          # from bytes: FreeType keeps no handle on a file that may change
        return ImageFont.truetype(io.BytesIO(handle.read()), size)


def _wrap(draw, text: str, font, width: int) -> list[str]:
    """Words into lines of at most `width`, each word measured once (a line is its words and
    spaces: kerning across a space is left out)."""
    lines: list[str] = []
    line: list[str] = []
    used = 0.0
    space = font.length(draw, " ")
    for word in text.split():
        wide = font.length(draw, word)
        if line and used + space + wide > width:
            lines.append(" ".join(line))
            line, used = [word], wide
        else:
            used = used + space + wide if line else wide
            line.append(word)
    if line:
        lines.append(" ".join(line))
    return lines or [""]


def _fit(draw, text: str, font, width: int) -> str:
    if font.length(draw, text) <= width:
        return text
    while text and font.length(draw, text + "…") > width:
        text = text[:-1]
    return text + "…"


FAVICON_SIZE = 64


def favicon_png(emblem_png: bytes | None, site_title: str) -> bytes:
    """The site's icon: the emblem (or QR logo) fitted in a square, else the title's first
    letter on the theme's accent colour."""
    from PIL import Image, ImageDraw

    if emblem_png:
        with Image.open(io.BytesIO(emblem_png)) as emblem:
            emblem = emblem.convert("RGBA")
            emblem.thumbnail((FAVICON_SIZE, FAVICON_SIZE), Image.Resampling.LANCZOS)
            icon = Image.new("RGBA", (FAVICON_SIZE, FAVICON_SIZE), (0, 0, 0, 0))
            icon.paste(emblem, ((FAVICON_SIZE - emblem.width) // 2, (FAVICON_SIZE - emblem.height) // 2), emblem)
    else:
        icon = Image.new("RGBA", (FAVICON_SIZE, FAVICON_SIZE), ACCENT + (255,))
        letter = next((c for c in site_title if c.isalnum()), "·").upper()
        font = _font(letter, BOLD, 44, ()).runs(letter)[0][1]        # one letter: one face
        draw = ImageDraw.Draw(icon)
        draw.text((FAVICON_SIZE / 2, FAVICON_SIZE / 2), letter, font=font, fill=(255, 255, 255), anchor="mm")
    out = io.BytesIO()
    icon.save(out, "PNG")
    return out.getvalue()
