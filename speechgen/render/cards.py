"""QR cards: the codes of every recipient's copy, one card sheet (PDF) and a mailroom list (CSV) per speech.

The card is what the mailroom prints and sends instead of a printed book: it names the
institution, carries a serial, the QR code of the institution's own copy page, the same URL in
plain text, and the first released edition's short fingerprint to compare with the page (a
speech with no released edition gets a proof sheet instead: marked, no fingerprint). Pure:
values in, bytes out; the card template (`print/cards.html`) can be overridden like every other.

Layout by rule: every size and line break is decided here, with the advances of the fonts the
sheet embeds (the bundled ones, then the project's `[pdf] fonts`), and every text block gets a
fixed place (`FRAMES`), so nothing can push into anything else; a text that does not fit even at
its smallest size is a build error naming its file and line (`layout_problems`).

Cards go on the sheets in stack-cut order: with S sheets of K places, place k (0-based, reading
order) of sheet s (0-based) carries card k·S + s + 1. Cutting the whole stack of sheets at once
then gives K piles, each a run of consecutive numbers (pile 1: cards 1..S). A place whose number
would be past the total stays empty; those are always the last places of a sheet.
"""

from __future__ import annotations

import csv
import dataclasses
import functools
import io
import posixpath
import re
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import jinja2
from markupsafe import Markup, escape

from speechgen import fonts as font_files
from speechgen.config import key_line
from speechgen.errors import Problem, RenderError, SourceError, display_path
from speechgen.graph import Copy, Site
from speechgen.model import Speech
from speechgen.render import pdf
from speechgen.render.qr import Logo, QrCode
from speechgen.templates import THEME_DIR, format_date, grouped, site_words, template_error

MAILROOM_FIELDS = ("no", "id", "name", "group", "address", "url", "fingerprint", "sheet", "slot", "status")
SHEET_MM = (210.0, 297.0)                      # A4 portrait
FONTS = ("NotoSerif-Regular.ttf", "NotoSerif-Bold.ttf")
ARABIC = ("NotoNaskhArabic-Regular.ttf", "NotoNaskhArabic-Bold.ttf")     # the books' Arabic script, on cards too


@dataclass(frozen=True)
class CardLayout:
    """A card's printed size and where its QR code goes; the sheet holds as many as fit."""

    name: str
    width_mm: float
    height_mm: float
    qr_mm: float                               # wanted printed size of the code, quiet zone included

    @property
    def grid(self) -> tuple[int, int]:
        return int(SHEET_MM[0] // self.width_mm), int(SHEET_MM[1] // self.height_mm)

    @property
    def per_sheet(self) -> int:
        cols, rows = self.grid
        return cols * rows

    @property
    def origin(self) -> tuple[float, float]:
        """Top-left of the grid: the cards are centred on the sheet."""
        cols, rows = self.grid
        return (SHEET_MM[0] - cols * self.width_mm) / 2, (SHEET_MM[1] - rows * self.height_mm) / 2


# A6 portrait: four to an A4 sheet. A7 landscape: eight to an A4 sheet.
LAYOUTS = {
    "A6": CardLayout("A6", 105.0, 148.0, 56.0),
    "A7": CardLayout("A7", 105.0, 74.0, 32.0),
}


def first_edition(site: Site, speech: Speech):
    """The released edition a speech's final cards name for good (its primary language's first),
    or None: then its card sheet is a proof."""
    return site.editions.first(speech, speech.primary.lang) if site.editions is not None else None


def proofs(site: Site) -> tuple[str, ...]:
    """The speeches whose card sheet is a proof: sent to recipients, no released edition yet."""
    if not site.config.qr.enabled:
        return ()
    return tuple(s.id for s in (*site.speeches, *site.sealed) if site.copies_of(s) and first_edition(site, s) is None)


def sheet_count(total: int, layout: CardLayout) -> int:
    """How many sheets `total` cards fill (at least one)."""
    return max(1, -(-total // layout.per_sheet))


def place(number: int, total: int, layout: CardLayout) -> tuple[int, int]:
    """Where card `number` of `total` is printed, in stack-cut order: (sheet, place on the sheet),
    both counted from 1, places in reading order (rows, left to right)."""
    slot, sheet = divmod(number - 1, sheet_count(total, layout))
    return sheet + 1, slot + 1


def slots(copies: tuple[Copy, ...], layout: CardLayout) -> tuple[Copy | None, ...]:
    """Every place of every sheet, sheet after sheet in reading order: the copy printed there, or
    None for a place left empty. `copies` are in card order (number 1 first)."""
    sheets, total = sheet_count(len(copies), layout), len(copies)
    return tuple(copies[k * sheets + s] if k * sheets + s < total else None
                 for s in range(sheets) for k in range(layout.per_sheet))


def mailroom_csv(site: Site, copies: tuple[Copy, ...], fingerprint: str,
                 layout: CardLayout | None = None, *, proof: bool = False) -> bytes:
    """The mailroom's list: one row per card, in card order, with the sheet and place it is printed
    on (default: the configured card size) and whether the sheet is a `proof` (no released
    edition yet: no fingerprint) or `final`. UTF-8 with BOM so spreadsheets read it; every cell
    quoted and guarded against running as a formula."""
    layout = layout or LAYOUTS[site.config.qr.card_size]
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow(MAILROOM_FIELDS)
    for copy in copies:
        r = copy.recipient
        sheet, slot = place(copy.number, copy.total, layout)
        row = (copy.serial, r.id, r.name, r.group, r.address, site.url(site.copy_dest(copy)),
               "" if proof else fingerprint, str(sheet), str(slot), "proof" if proof else "final")
        writer.writerow([_cell(text) for text in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


# What a spreadsheet may take for one cell: the whole text, or a piece of it between separators
# when it splits on another one than ours (Indonesian Excel splits on ';'), or on tabs or lines.
_PIECES = re.compile(r"([,;\t\r\n])")
_FORMULA = ("=", "+", "-", "@")


def _cell(text: str) -> str:
    """The text with a leading ' before every piece that starts (after spaces and quotes, which
    spreadsheets may trim) with = + - or @, and before a text that starts with a tab or line
    break: no spreadsheet runs any of it as a formula."""
    pieces = _PIECES.split(text)
    guarded = "".join("'" + piece if n % 2 == 0 and piece.lstrip(" \t\r\n\"\u00a0").startswith(_FORMULA)
                      else piece for n, piece in enumerate(pieces))
    return "'" + guarded if text.startswith(("\t", "\r")) else guarded


CARDS_TEMPLATE = "print/cards.html"
MIN_PT = 6.0                     # nothing on a card or its sheet is printed smaller
PT = 25.4 / 72                   # mm in a point
PROOF_MARK = "CETAK COBA — belum dirilis / PROOF — not released"
SAFE_LINES = ("Tautan ini tidak pernah meminta login atau pembayaran.", "This link never asks for a login or payment.")
# A line is laid out by Pango, not by adding advances: kerning only narrows the bundled serif, but
# a project's face may shape wider (Arabic joining forms, marks): keep room for it.
PROJECT_SLACK = 1.06
GAP_EM = 0.05                    # the least room between the glyph boxes of two lines of a block


# --- the fonts a card draws with: those preflight checked every character against -------------

class CardFonts:
    """The faces a card sheet draws with, in the order a character falls back through them: the
    bundled serif (regular or bold), the bundled symbols, then the project's `[pdf] fonts`.
    Measures text with their advances (fontTools) so sizes and line breaks are decided here."""

    def __init__(self, project: tuple[Path, ...] = ()) -> None:
        serif = {"normal": font_files.FONTS_DIR / FONTS[0], "bold": font_files.FONTS_DIR / FONTS[1]}
        arabic = {"normal": font_files.FONTS_DIR / ARABIC[0], "bold": font_files.FONTS_DIR / ARABIC[1]}
        symbols = font_files.FONTS_DIR / "SpeechgenSymbols-Regular.ttf"
        faces = [font_files.read_face(path) for path in project]
        families = list(dict.fromkeys(face.family for face in faces))
        rules = [f"@font-face {{ font-family: 'Card Serif'; font-weight: {weight}; font-style: normal; "
                 f"src: url('{path.as_uri()}') format('truetype'); }}" for weight, path in serif.items()]
        rules += [f"@font-face {{ font-family: 'Card Arabic'; font-weight: {weight}; font-style: normal; "
                  f"src: url('{path.as_uri()}') format('truetype'); }}" for weight, path in arabic.items()]
        for face in faces:
            rules.append(f"@font-face {{ font-family: {_css_string(face.family)}; font-weight: {face.weight}; "
                         f"font-style: {'italic' if face.italic else 'normal'}; "
                         f"src: url({_css_string(face.path.resolve().as_uri())}); }}")
        self.css = Markup("\n".join(rules))
        self.family = Markup(", ".join(["'Card Serif'", "'Speechgen Symbols'", "'Card Arabic'",
                                        *map(_css_string, families)]))

        def stack(weight: int, serif_path: Path, arabic_path: Path) -> tuple[font_files.Metrics, ...]:
            # as CSS matching picks a face of each family: upright first, then the nearest weight
            chosen = [min((f for f in faces if f.family == family), key=lambda f: (f.italic, abs(f.weight - weight)))
                      for family in families]
            return tuple(font_files.metrics(path)
                         for path in (serif_path, symbols, arabic_path, *(f.path for f in chosen)))

        self.regular = stack(400, serif["normal"], arabic["normal"])
        self.bold = stack(700, serif["bold"], arabic["bold"])
        # Measured as drawn: the serif and the symbols; Arabic is shaped (joined forms), so it is
        # measured with the slack a project's font gets.
        self._bundled = {id(f) for f in (*self.regular[:2], *self.bold[:2])}
        self._widths: dict[tuple[str, bool], float] = {}

    def face(self, char: str, bold: bool) -> font_files.Metrics:
        """The face Pango draws `char` with: the first in the stack that has it."""
        faces = self.bold if bold else self.regular
        code = ord(char)
        return next((f for f in faces if code in f.advances), faces[0])

    def width(self, text: str, bold: bool) -> float:
        """The advance of `text` at 1 pt, in mm."""
        known = self._widths.get((text, bold))
        if known is None:
            known = 0.0
            for char in text:
                if not font_files.ignorable(char):
                    face = self.face(char, bold)
                    known += face.advances.get(ord(char), 0.6) * (1.0 if id(face) in self._bundled else PROJECT_SLACK)
            known *= PT
            self._widths[(text, bold)] = known
        return known


def _css_string(text: str) -> str:
    return '"' + "".join(c if c not in '"\\\n' else f"\\{ord(c):x} " for c in text) + '"'


def card_fonts(project: tuple[Path, ...] = ()) -> CardFonts:
    """The card's fonts with the project's, measured once per version of their files (a long-lived
    `serve` sees a font replaced under the same name)."""
    return _card_fonts(project, font_files.versions(project))


@functools.lru_cache(maxsize=8)
def _card_fonts(project: tuple[Path, ...], _versions: tuple) -> CardFonts:
    return CardFonts(project)


# --- text blocks: a size, explicit lines, a fixed box -------------------------------------------

Run = tuple[str, bool]                   # text, bold
Token = tuple[Run, ...]                  # never broken inside; the empty token is a forced line break
BREAK: Token = ()


@dataclass(frozen=True)
class Slot:
    """What a block of text may take on a card: its width and the height of its glyph boxes (mm),
    its largest and smallest size (pt), at most `lines` lines and at least `leading` em apart."""

    width: float
    height: float
    size: float
    floor: float
    lines: int
    leading: float = 1.2
    align: str = "left"


@dataclass(frozen=True)
class Line:
    markup: Markup
    rtl: bool = False


@dataclass(frozen=True)
class Fitted:
    """A block's text as it prints: its size, line pitch and lines, and where its glyph boxes
    start and end below the top of its first line (mm)."""

    size: float
    pitch: float                         # mm
    lines: tuple[Line, ...]
    ink_top: float
    ink_bottom: float

    @property
    def height(self) -> float:
        return self.ink_bottom - self.ink_top


@dataclass(frozen=True)
class Block:
    """A fitted block placed on its card: `top` is its first line's top, so its glyph boxes run
    from `top + text.ink_top` to `top + text.ink_bottom`."""

    name: str
    left: float
    top: float
    width: float
    align: str
    text: Fitted


def words(text: str, bold: bool = False, more: bool = False) -> tuple[Token, ...]:
    """A text's words, each with the space after it (the last too when `more` follows): a line
    breaks only between words."""
    parts = [w for w in text.split(" ") if w]
    return tuple(((w + (" " if more or n < len(parts) - 1 else ""), bold),) for n, w in enumerate(parts))


def url_tokens(url: str) -> tuple[Token, ...]:
    """A URL in pieces that each end with a '/': it breaks only after one, never at a hyphen or
    inside a segment. The scheme stays with the domain, which is bold so a reader can check whose
    site it is."""
    parts = urlsplit(url)
    head = f"{parts.scheme}://"
    rest = url[len(head) + len(parts.netloc):]
    pieces = re.findall(r"[^/]*/|[^/]+$", rest)
    first: Token = ((head, False), (parts.netloc, True)) + (((pieces[0], False),) if pieces else ())
    return (first, *(((piece, False),) for piece in pieces[1:]))


def fit(tokens: tuple[Token, ...], slot: Slot, fonts: CardFonts) -> Fitted | None:
    """The largest size from `slot.size` down to `slot.floor` (by quarter points) at which the
    tokens wrap into at most `slot.lines` lines of `slot.width` whose glyph boxes take at most
    `slot.height`; None when even the floor does not fit."""
    steps = int(round((slot.size - slot.floor) / 0.25))
    for step in range(steps + 1):
        size = slot.size - step * 0.25
        lines = _wrap(tokens, slot.width / size, fonts)
        if lines is None or len(lines) > slot.lines:
            continue
        fitted = _fitted(lines, size, slot.leading, fonts)
        if fitted.height <= slot.height:
            return fitted
    return None


def _wrap(tokens: tuple[Token, ...], width: float, fonts: CardFonts) -> list[list[Token]] | None:
    """Tokens into lines of at most `width` (mm at 1 pt), greedily; None if one token is wider."""
    lines: list[list[Token]] = []
    line: list[Token] = []
    used = 0.0
    for token in tokens:
        if token == BREAK:
            lines.append(line)
            line, used = [], 0.0
            continue
        bare = _width(_stripped(token), fonts)
        if bare > width:
            return None
        if line and used + bare > width:
            lines.append(line)
            line, used = [], 0.0
        line.append(token)
        used += _width(token, fonts)
    lines.append(line)
    return lines


def _width(token: Token, fonts: CardFonts) -> float:
    return sum(fonts.width(text, bold) for text, bold in token)


def _stripped(token: Token) -> Token:
    """The token as it ends a line: without its trailing space."""
    if not token:
        return token
    text, bold = token[-1]
    return (*token[:-1], (text.rstrip(" "), bold))


def _fitted(lines: list[list[Token]], size: float, leading: float, fonts: CardFonts) -> Fitted:
    """Where the lines' glyph boxes fall, as a PDF reader measures them: from `descent` below the
    baseline to 1 em above that, in the face that draws each character. Each line is its own line
    box of height `pitch`; its baseline sits where CSS puts it, half the leading below the top of
    the tallest face's content. The pitch grows until no line's boxes reach the next line's."""
    strut = fonts.regular[0]
    rows = []
    for line in lines:
        runs = [(text, bold) for token in line[:-1] for text, bold in token] + list(_stripped(line[-1]) if line else ())
        faces = {id(f): f for text, bold in runs for f in (fonts.face(c, bold) for c in text)} or {id(strut): strut}
        used = list(faces.values())
        rows.append((runs,
                     max(f.ascent - f.descent for f in (strut, *used)),    # the line's tallest content, em
                     max(1 - f.descent for f in used),                      # box top above the baseline
                     max(f.descent for f in used)))                         # box bottom below it
    pitch = leading
    for (_, c_above, _, below), (_, c_next, top_next, _) in zip(rows, rows[1:]):
        pitch = max(pitch, below + top_next + (c_above - c_next) / 2 + GAP_EM)
    tops, bottoms = [], []
    for n, (_, content, top, bottom) in enumerate(rows):
        baseline = n * pitch + (content + pitch) / 2
        tops.append(baseline - top)
        bottoms.append(baseline + bottom)
    mm = size * PT
    # One direction for the whole text, from its first strong character (Unicode's paragraph
    # rule): a Latin name that ends in Arabic keeps every line left to right, as it is read.
    rtl = _rtl("".join(text for runs, *_ in rows for text, _ in runs))
    return Fitted(size, pitch * mm, tuple(_line(runs, rtl) for runs, *_ in rows), min(tops) * mm, max(bottoms) * mm)


def _line(runs: list[Run], rtl: bool) -> Line:
    merged: list[list] = []
    for text, bold in runs:
        if merged and merged[-1][1] == bold:
            merged[-1][0] += text
        else:
            merged.append([text, bold])
    markup = Markup("").join(Markup("<b>{}</b>").format(t) if b else escape(t) for t, b in merged if t)
    return Line(markup, rtl)


def _rtl(text: str) -> bool:
    """True when the first strong character is right-to-left: the line starts at the right."""
    for char in text:
        kind = unicodedata.bidirectional(char)
        if kind in ("R", "AL"):
            return True
        if kind == "L":
            return False
    return False


# --- where everything goes on a card ------------------------------------------------------------

@dataclass(frozen=True)
class Frame:
    """Where a card size puts its parts (mm from the card's top left) and what its texts may
    take. Every slot's height is the most its glyph boxes may take and the slots are stacked, so
    no text can reach another, the code, or within `margin` of a cut line."""

    margin: float                # sides, top and bottom: no glyph box nearer the cut
    emblem: float                # side of the emblem's square, at the top left
    serial: Slot
    publisher: Slot              # its width: what the emblem and the serial leave
    column: tuple[float, float]  # left and width of the title-to-name column
    stack: float                 # where that column starts
    title: Slot
    date: Slot
    label: Slot
    name: Slot
    code: tuple[float | None, float, float]  # left (None: centred), top and side of the code's square:
                                             # the code's size rounds to whole 300 dpi pixels a module
    scan: tuple[float, float, Slot]      # left, width, slot: under the code
    foot: tuple[float, float, float]     # left, width and top of the footer
    url: Slot
    mark: Slot                   # the fingerprint, or the proof's mark
    cert: Slot
    safe: Slot
    gap: float = 0.8


def _slot(width: float, height: float, size: float, floor: float, lines: int, leading: float = 1.2,
          align: str = "left") -> Slot:
    return Slot(width, height, size, max(floor, MIN_PT), lines, leading, align)


FRAMES = {
    # A6 portrait: the code in the middle, the words above it and the footer below
    "A6": Frame(margin=6.0, emblem=11.0,
                serial=_slot(40, 4, 8, 7, 1, align="right"), publisher=_slot(0, 11, 6.5, 6, 3, 1.15),
                column=(8.0, 89.0), stack=18.0,
                title=_slot(89, 12.5, 12, 8, 3, 1.15), date=_slot(89, 3.6, 8, 7, 1),
                label=_slot(89, 3.6, 8, 7, 1), name=_slot(89, 11.5, 11, 6.5, 3, 1.15),
                code=(None, 52.3, 58.0), scan=(8.0, 89.0, _slot(89, 3.4, 7.5, 6, 1, align="center")),
                foot=(6.5, 92.0, 115.3),
                url=_slot(92, 7.4, 7, 6, 3, 1.15, "center"), mark=_slot(92, 5.2, 7, 6, 2, 1.15, "center"),
                cert=_slot(92, 5.2, 6.5, 6, 2, 1.15, "center"), safe=_slot(92, 5.4, 6.5, 6, 2, 1.15, "center")),
    # A7 landscape: the code on the left with the scan line under it, the words on the right,
    # the URL and the footer across the whole card below both
    "A7": Frame(margin=4.5, emblem=7.0,
                serial=_slot(30, 3.2, 7.5, 6.5, 1, align="right"), publisher=_slot(0, 7.2, 6, 6, 3, 1.1),
                column=(40.0, 60.5), stack=13.0,
                title=_slot(60.5, 11.0, 8.5, 6, 4, 1.15), date=_slot(60.5, 2.8, 6.5, 6, 1),
                label=_slot(60.5, 2.8, 6.5, 6, 1), name=_slot(60.5, 9.5, 8.5, 6, 3, 1.15),
                code=(5.0, 5.0, 33.0), scan=(5.0, 33.0, _slot(33, 6.8, 6.5, 6, 3, 1.1, "center")),
                foot=(4.5, 96.0, 46.4),
                url=_slot(96, 7.0, 7, 6, 3, 1.1), mark=_slot(96, 3.0, 6.5, 6, 1),
                cert=_slot(96, 4.6, 6, 6, 2, 1.1), safe=_slot(96, 4.6, 6, 6, 2, 1.1)),
}


@dataclass(frozen=True)
class CardText:
    """What a speech's cards print beside each card's own name, serial and URL."""

    publisher: str
    title: str
    date: str
    scan: str
    mark: tuple[Token, ...]              # the fingerprint line, or the proof's mark
    proof: bool
    cert: tuple[Token, ...]


class Misfit(Exception):
    """A text that does not fit its place on the card even at the smallest size: which text."""

    def __init__(self, what: str, text: str, slot: Slot) -> None:
        super().__init__(what)
        self.what, self.text, self.slot = what, text, slot


def card_blocks(frame: Frame, layout: CardLayout, text: CardText, serial: str, name: str, url: str,
                fonts: CardFonts, emblem: bool) -> tuple[Block, ...]:
    """Every text block of one card, placed. Raises Misfit for a text that does not fit."""
    blocks: list[Block] = []
    right = layout.width_mm - frame.column[0] if layout.name == "A6" else layout.width_mm - 5.0

    def fitted(what: str, tokens: tuple[Token, ...], slot: Slot, shown: str = "") -> Fitted:
        done = _fit_cached(tokens, slot, fonts)
        if done is None:
            raise Misfit(what, shown or "".join(t for token in tokens for t, _ in token), slot)
        return done

    def place(what: str, tokens: tuple[Token, ...], slot: Slot, left: float, top: float, shown: str = "") -> float:
        """The block with its glyph boxes' top at `top`; where they end."""
        done = fitted(what, tokens, slot, shown)
        blocks.append(Block(what, left, top - done.ink_top, slot.width, slot.align, done))
        return top + done.height

    head_left = frame.column[0]
    head_top = frame.margin
    serial_tokens = ((("No. " + serial, True),),)
    serial_fit = fitted("serial", serial_tokens, frame.serial)
    serial_width = _width(_stripped(serial_tokens[0]), fonts) * serial_fit.size
    blocks.append(Block("serial", right - frame.serial.width, head_top - serial_fit.ink_top, frame.serial.width,
                        "right", serial_fit))
    publisher_left = head_left + (frame.emblem + 2.5 if emblem else 0.0)
    publisher_slot = dataclasses.replace(frame.publisher, width=right - serial_width - 2.5 - publisher_left)
    place("publisher", words(text.publisher), publisher_slot, publisher_left, head_top)

    left, width = frame.column
    top = frame.stack
    top = place("title", words(text.title, bold=True), frame.title, left, top) + frame.gap
    top = place("date", words(text.date), frame.date, left, top) + frame.gap * 1.5
    top = place("label", words("Untuk / For:"), frame.label, left, top) + frame.gap / 2
    place("name", words(name, bold=True), frame.name, left, top)

    scan_left, _, scan_slot = frame.scan
    place("scan", words(text.scan), scan_slot, scan_left, frame.code[1] + frame.code[2] + 1.0)

    # the URL under the code; the fingerprint (or the proof's mark), certificate and safety line
    # stand on the bottom margin, in slots whose heights together leave the URL's slot free
    foot_left, _, foot_top = frame.foot
    place("url", url_tokens(url), frame.url, foot_left, foot_top, url)
    below = [("proof" if text.proof else "mark", text.mark, frame.mark)]
    if text.cert:
        below.append(("cert", text.cert, frame.cert))
    below.append(("safe", (*words(SAFE_LINES[0]), BREAK, *words(SAFE_LINES[1])), frame.safe))
    bottom = layout.height_mm - frame.margin
    for what, tokens, slot in reversed(below):
        done = fitted(what, tokens, slot)
        bottom -= done.height
        blocks.append(Block(what, foot_left, bottom - done.ink_top, slot.width, slot.align, done))
        bottom -= frame.gap
    return tuple(blocks)


@functools.lru_cache(maxsize=4096)
def _fit_cached(tokens: tuple[Token, ...], slot: Slot, fonts: CardFonts) -> Fitted | None:
    return fit(tokens, slot, fonts)


def card_text(site: Site, speech: Speech, fingerprint: str, edition: int | None, proof: bool) -> CardText:
    """The words every card of a speech shares."""
    config = site.config
    version = speech.primary
    if proof:
        mark: tuple[Token, ...] = words(PROOF_MARK, bold=True)
    else:
        head = words("Sidik PDF / PDF fingerprint:", more=True) if fingerprint else ()
        shown = ((_words(site, "edition", n=edition) + (" · " if fingerprint else ""), False),) \
            if edition is not None else ()
        mark = (*head, *((shown,) if shown else ()), *((((fingerprint, True),),) if fingerprint else ()))
    cert: tuple[Token, ...] = ()
    if site.certificate:
        cert = (*words("Sertifikat penerbit / Publisher certificate SHA-256:"), BREAK,
                *words(grouped(site.certificate)))
    return CardText((config.site.publisher or config.site.title).upper(), version.title,
                    format_date(version.date, version.lang), _words(site, "scan_phone"), mark, proof, cert)


def layout_problems(site: Site, speech: Speech, copies: tuple[Copy, ...], layout: CardLayout,
                    fonts: tuple[Path, ...] = (), *, fingerprint: str = "", edition: int | None = None,
                    proof: bool = False, emblem: bool = False) -> list[Problem]:
    """Every text of a speech's cards that does not fit its place even at its smallest size:
    a name or URL as `recipients.yaml:LINE`, the title as its speech file's line, the publisher
    as speechgen.toml's; each once. Empty when every card lays out."""
    text = card_text(site, speech, "" if proof else fingerprint, None if proof else edition, proof)
    frame, faces = FRAMES[layout.name], card_fonts(tuple(fonts))
    found: dict[str, Problem] = {}
    for copy in copies:
        try:
            card_blocks(frame, layout, text, copy.serial, copy.recipient.name, site.url(site.copy_dest(copy)),
                        faces, emblem)
        except Misfit as misfit:
            problem = _misfit_problem(site, speech, copy, layout, misfit)
            found.setdefault(str(problem), problem)
    return list(found.values())


def _misfit_problem(site: Site, speech: Speech, copy: Copy, layout: CardLayout, misfit: Misfit) -> Problem:
    config = site.config
    slot = misfit.slot
    room = f"{slot.lines} line{'s' if slot.lines > 1 else ''} at {slot.floor:g} pt on {layout.name} cards"
    recipients = display_path(config.recipients_file, config.root)
    if misfit.what == "name":
        return Problem(recipients, copy.recipient.line,
                       f"the name of recipient {copy.recipient.id!r} ({len(misfit.text)} characters) does not fit "
                       f"in {room}; shorten it (nama terlalu panjang untuk kartu)")
    if misfit.what == "url":
        return Problem(recipients, copy.recipient.line,
                       f"the copy URL {misfit.text} does not fit in {room}, broken only after a '/'; shorten "
                       "the recipient id, the speech's slug or [site] base_url (URL terlalu panjang untuk kartu)")
    if misfit.what == "title":
        source = speech.primary.source
        return Problem(display_path(source, config.root), _front_matter_line(speech.primary.source_text, "title"),
                       f"the title ({len(misfit.text)} characters) does not fit in {room}; shorten it "
                       "(judul terlalu panjang untuk kartu)")
    key = "publisher" if config.site.publisher else "title"
    return Problem(display_path(config.path, config.root), key_line(config.path, "site", key),
                   f"[site] {key} does not fit in the card's head ({room}); shorten it "
                   "(terlalu panjang untuk kartu)")


def _front_matter_line(source: str, key: str) -> int | None:
    for number, line in enumerate(source.split("\n")[:200], 1):
        if line.startswith(f"{key}:"):
            return number
    return None


def card_sheet_html(env: jinja2.Environment, site: Site, speech: Speech, copies: tuple[Copy | None, ...],
                    codes: Mapping[str, QrCode], layout: CardLayout, fingerprint: str,
                    logo: Logo | None, emblem: str = "", *, edition: int | None = None, proof: bool = False,
                    fonts: tuple[Path, ...] = (), cover: bool = False) -> str:
    """Card sheets: `copies` are the places of whole sheets in reading order (a part of `parts()`),
    None for an empty place; `layout.per_sheet` places to an A4 page. `codes` are by copy URL.
    `edition` is printed beside the fingerprint when given; a `proof` card prints the proof's
    mark instead of both. `fonts` are the project's `[pdf] fonts` (real paths). `cover` puts the
    print shop's page first. Raises SourceError naming the template's file and line, or the
    file and line of a text that does not fit (see `layout_problems`)."""
    version = speech.primary
    faces = card_fonts(tuple(fonts))
    frame = FRAMES[layout.name]
    text = card_text(site, speech, "" if proof else fingerprint, None if proof else edition, proof)
    sheets: list[list[dict]] = []
    problems: list[Problem] = []
    for start in range(0, len(copies), layout.per_sheet):
        sheet = list(copies[start:start + layout.per_sheet])
        while sheet and sheet[-1] is None:       # an empty place is the end of its sheet
            sheet.pop()
        if None in sheet:
            raise ValueError("an empty place on a card sheet must come after its cards")
        cards = []
        for copy in sheet:
            assert copy is not None
            try:
                cards.append(_card(site, copy, codes, layout, frame, text, faces, bool(emblem)))
            except Misfit as misfit:
                problems.append(_misfit_problem(site, speech, copy, layout, misfit))
        sheets.append(cards)
    if problems:
        raise SourceError(list({str(p): p for p in problems}.values()))
    total = next((c.total for c in copies if c is not None), 0)
    try:
        return env.get_template(CARDS_TEMPLATE).render(
            site=site, config=site.config, speech=speech, version=version, layout=layout, sheets=sheets,
            interface_words=site_words(site.config.words),       # what a project's cards.html gets from label()
            origin=layout.origin, marks=_marks_svg(layout), date=format_date(version.date, version.lang),
            fingerprint="" if proof else fingerprint, logo=logo.data_uri() if logo is not None else "",
            emblem=emblem, fonts=faces.css, family=faces.family, proof=proof, proof_mark=PROOF_MARK,
            scan=text.scan, frame=frame, min_pt=MIN_PT,
            edition=_words(site, "edition", n=edition) if edition is not None and not proof else "",
            cover=_cover(site, speech, layout, total) if cover else None,
        )
    except (jinja2.TemplateError, TypeError, KeyError, AttributeError, ValueError) as exc:
        raise SourceError([Problem(*template_error(exc, site.cards_dest(speech)))]) from None


def _card(site: Site, copy: Copy, codes: Mapping[str, QrCode], layout: CardLayout, frame: Frame,
          text: CardText, fonts: CardFonts, emblem: bool) -> dict:
    url = site.url(site.copy_dest(copy))
    code = codes[url]
    box_left, box_top, side = frame.code
    size = min(code.size_mm, side)              # never past its square (a code a few 0.1 mm smaller scans alike)
    box_left = box_left if box_left is not None else (layout.width_mm - side) / 2
    left, top = box_left + (side - size) / 2, box_top + (side - size) / 2
    blocks = card_blocks(frame, layout, text, copy.serial, copy.recipient.name, code.url, fonts, emblem)
    return dict(recipient=copy.recipient, serial=copy.serial, qr=code.module_data_uri(), qr_mm=f"{size:.3f}",
                qr_left=f"{left:.3f}", qr_top=f"{top:.3f}", url=code.url, plate=_plate_box(code),
                blocks=blocks)


def _cover(site: Site, speech: Speech, layout: CardLayout, total: int) -> dict:
    """What the print shop's first page says: size, count, how to print and cut, the piles."""
    sheets = sheet_count(total, layout)
    cols, rows = layout.grid
    piles = []
    for k in range(layout.per_sheet):
        first, last = k * sheets + 1, min((k + 1) * sheets, total)
        piles.append(dict(place=k + 1, first=first, last=last, empty=first > total,
                          col=k % cols, row=k // cols))
    return dict(total=total, sheets=sheets, first_page=2, last_page=sheets + 1, piles=piles,
                csv=posixpath.basename(site.cards_dest(speech, "csv")), cols=cols, rows=rows)


def _words(site: Site, key: str, **values: object) -> str:
    """A label in each of the site's languages, once each: 'Pindai ... / Scan ...'."""
    interface = site_words(site.config.words)
    return " / ".join(dict.fromkeys(interface.label(lang, key).format(**values)
                                    for lang in site.config.site.languages))


def _plate_box(code: QrCode) -> dict | None:
    """Where the logo sits over the code, in % of the code's printed size (its quiet zone included)."""
    if code.plate is None:
        return None
    offset, side = code.plate
    pad = side / 12
    return dict(left=f"{100 * (offset + pad) / code.modules:.3f}%", size=f"{100 * (side - 2 * pad) / code.modules:.3f}%",
                plate_left=f"{100 * offset / code.modules:.3f}%", plate_size=f"{100 * side / code.modules:.3f}%")


def _crop_marks(layout: CardLayout, length: float = 8.0) -> Iterator[dict]:
    """Marks along every cut line: from the sheet's edges inwards, and a cross where cuts meet."""
    cols, rows = layout.grid
    x0, y0 = layout.origin
    xs = [x0 + i * layout.width_mm for i in range(cols + 1)]
    ys = [y0 + j * layout.height_mm for j in range(rows + 1)]
    width, height = SHEET_MM
    for x in xs:
        if 0.2 < x < width - 0.2:              # a cut the sheet's own edge does not already make
            yield dict(x=x, y=0, w=0, h=length)
            yield dict(x=x, y=height - length, w=0, h=length)
    for y in ys:
        if 0.2 < y < height - 0.2:
            yield dict(x=0, y=y, w=length, h=0)
            yield dict(x=width - length, y=y, w=length, h=0)
    for x in xs[1:-1]:
        for y in ys[1:-1]:
            yield dict(x=x - length / 2, y=y, w=length, h=0)
            yield dict(x=x, y=y - length / 2, w=0, h=length)


def _marks_svg(layout: CardLayout) -> str:
    """The crop marks as one image behind every sheet: drawn once, not thousands of boxes."""
    import base64

    width, height = SHEET_MM
    lines = "".join(f'<path d="M{m["x"]:.2f} {m["y"]:.2f}l{m["w"]:.2f} {m["h"]:.2f}"/>' for m in _crop_marks(layout))
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}mm" height="{height}mm" '
           f'viewBox="0 0 {width} {height}"><g stroke="#000" stroke-width="0.2" fill="none">{lines}</g></svg>')
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("ascii")).decode("ascii")


# The sheet's time limit grows with its cards: about 17 ms of CPU each, so 0.1 s a card is ample
# on a busy machine while still stopping a render that hangs.
SECONDS_PER_CARD = 0.1


CARDS_PER_PART = 200             # cards one worker lays out at a time (a multiple of every layout's cards per sheet)


def parts(copies: tuple[Copy, ...], layout: CardLayout) -> list[tuple[Copy | None, ...]]:
    """A speech's card places (`slots()`: stack-cut order over all its sheets) in parts of whole
    sheets, about CARDS_PER_PART places each, laid out apart and joined into one sheet file."""
    if not copies:
        return [()]
    every = slots(copies, layout)
    size = max(1, CARDS_PER_PART // layout.per_sheet) * layout.per_sheet
    return [every[i:i + size] for i in range(0, len(every), size)]


def sheet_pdfs(site: Site, speech: Speech, htmls: list[str], cards: list[int], jobs: int | None,
               stop=None) -> list[bytes]:
    """The parts' PDFs, laid out by WeasyPrint in worker processes behind the books' fetcher and
    a time limit that grows with the cards."""
    config = site.config
    timeouts = [config.pdf.timeout + SECONDS_PER_CARD * n for n in cards]
    allowed = tuple(str(p.resolve()) for p in (THEME_DIR, config.static_dir, config.templates_dir))
    made = pdf.render_sheets(htmls, allowed, config.root.resolve().as_uri() + "/", timeouts, jobs, stop)
    failed = [(n, why) for n, why in enumerate(made, 1) if isinstance(why, str)]
    if failed:
        n, why = failed[0]
        raise RenderError(f"{site.cards_dest(speech)}: cannot make the card sheet (part {n}): {why} "
                          f"([pdf] timeout = {config.pdf.timeout:g} s and {SECONDS_PER_CARD:g} s a card)")
    return made      # type: ignore[return-value]
