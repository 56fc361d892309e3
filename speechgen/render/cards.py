"""QR cards: the codes of every recipient's copy, one card sheet (PDF) and a mailroom list (CSV) per speech.

The card is what the mailroom prints and sends instead of a printed book: it names the
institution, carries a serial, the QR code of the institution's own copy page, the same URL in
plain text, and the PDF's short fingerprint to compare with the page. Pure: values in, bytes out;
the card template (`print/cards.html`) can be overridden like every other.

Cards go on the sheets in stack-cut order: with S sheets of K places, place k (0-based, reading
order) of sheet s (0-based) carries card k·S + s + 1. Cutting the whole stack of sheets at once
then gives K piles, each a run of consecutive numbers (pile 1: cards 1..S). A place whose number
would be past the total stays empty; those are always the last places of a sheet.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

import jinja2
from markupsafe import Markup, escape

from speechgen.errors import Problem, RenderError, SourceError
from speechgen.graph import Copy, Site
from speechgen.model import Speech
from speechgen.render.qr import Logo, QrCode
from speechgen.templates import THEME_DIR, format_date, label, template_error

MAILROOM_FIELDS = ("no", "id", "name", "group", "address", "url", "fingerprint", "sheet", "slot")
SHEET_MM = (210.0, 297.0)                      # A4 portrait
FONTS = ("NotoSerif-Regular.ttf", "NotoSerif-Bold.ttf")


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
                 layout: CardLayout | None = None) -> bytes:
    """The mailroom's list: one row per card, in card order, with the sheet and place it is printed
    on (default: the configured card size). UTF-8 with BOM so spreadsheets read it; every cell
    quoted and guarded against running as a formula."""
    layout = layout or LAYOUTS[site.config.qr.card_size]
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow(MAILROOM_FIELDS)
    for copy in copies:
        r = copy.recipient
        sheet, slot = place(copy.number, copy.total, layout)
        row = (copy.serial, r.id, r.name, r.group, r.address, site.url(site.copy_dest(copy)), fingerprint,
               str(sheet), str(slot))
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


def url_markup(url: str) -> Markup:
    """The URL as printed: the domain emphasised so a reader can check whose site it is."""
    parts = urlsplit(url)
    head = f"{parts.scheme}://"
    rest = url[len(head) + len(parts.netloc):]
    return Markup(f'{escape(head)}<b class="domain">{escape(parts.netloc)}</b>{escape(rest)}')


CARDS_TEMPLATE = "print/cards.html"


def card_sheet_html(env: jinja2.Environment, site: Site, speech: Speech, copies: tuple[Copy | None, ...],
                    codes: Mapping[str, QrCode], layout: CardLayout, fingerprint: str,
                    logo: Logo | None, emblem: str = "", *, edition: int | None = None) -> str:
    """Card sheets: `copies` are the places of whole sheets in reading order (a part of `parts()`),
    None for an empty place; `layout.per_sheet` places to an A4 page. `codes` are by copy URL.
    `edition` is printed beside the fingerprint when given. Raises SourceError naming the
    template's file and line."""
    version = speech.primary
    sheets: list[list[dict]] = []
    for start in range(0, len(copies), layout.per_sheet):
        sheet = list(copies[start:start + layout.per_sheet])
        while sheet and sheet[-1] is None:       # an empty place is the end of its sheet
            sheet.pop()
        if None in sheet:
            raise ValueError("an empty place on a card sheet must come after its cards")
        sheets.append([_card(site, copy, codes) for copy in sheet if copy is not None])
    languages = site.config.site.languages
    try:
        return env.get_template(CARDS_TEMPLATE).render(
            site=site, config=site.config, speech=speech, version=version, layout=layout, sheets=sheets,
            origin=layout.origin, marks=_marks_svg(layout), date=format_date(version.date, version.lang),
            fingerprint=fingerprint, logo=logo.data_uri() if logo is not None else "", emblem=emblem,
            fonts=_font_faces(), scan=_words(languages, "scan_phone"),
            edition=_words(languages, "edition", n=edition) if edition is not None else "",
        )
    except (jinja2.TemplateError, TypeError, KeyError, AttributeError, ValueError) as exc:
        raise SourceError([Problem(*template_error(exc, site.cards_dest(speech)))]) from None


def _card(site: Site, copy: Copy, codes: Mapping[str, QrCode]) -> dict:
    code = codes[site.url(site.copy_dest(copy))]
    return dict(recipient=copy.recipient, serial=copy.serial, qr=code.module_data_uri(),
                qr_mm=f"{code.size_mm:.3f}", url=url_markup(code.url), plate=_plate_box(code))


def _words(languages: tuple[str, ...], key: str, **values: object) -> str:
    """A label in each of the site's languages, once each: 'Pindai ... / Scan ...'."""
    return " / ".join(dict.fromkeys(label(lang, key).format(**values) for lang in languages))


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


def _font_faces() -> Markup:
    """The bundled fonts, so every machine draws the cards with the same glyphs."""
    faces = []
    for name in FONTS:
        weight = "bold" if "Bold" in name else "normal"
        faces.append(f"@font-face {{ font-family: 'Card Serif'; font-weight: {weight}; font-style: normal; "
                     f"src: url('{(THEME_DIR / 'fonts' / name).as_uri()}') format('truetype'); }}")
    return Markup("\n".join(faces))


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
    from speechgen.render import pdf

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
