"""QR cards: the codes of every recipient's copy, one card sheet (PDF) and a mailroom list (CSV) per speech.

The card is what the mailroom prints and sends instead of a printed book: it names the
institution, carries a serial, the QR code of the institution's own copy page, the same URL in
plain text, and the PDF's short fingerprint to compare with the page. Pure: values in, bytes out;
the card template (`print/cards.html`) can be overridden like every other.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

import jinja2
from markupsafe import Markup, escape

from speechgen.errors import Problem, RenderError, SourceError
from speechgen.graph import Copy, Site
from speechgen.model import Speech
from speechgen.render.qr import Logo, QrCode
from speechgen.templates import THEME_DIR, format_date, template_error

MAILROOM_FIELDS = ("no", "id", "name", "group", "address", "url", "fingerprint")
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


def serial(copy: Copy) -> str:
    """'007/150': zero-padded to the width of the total, at least three digits."""
    width = max(3, len(str(copy.total)))
    return f"{copy.number:0{width}d}/{copy.total:0{width}d}"


def mailroom_csv(site: Site, copies: tuple[Copy, ...], fingerprint: str) -> bytes:
    """The mailroom's list: one row per card, in card order. UTF-8 with BOM so spreadsheets read it."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(MAILROOM_FIELDS)
    for copy in copies:
        r = copy.recipient
        writer.writerow([serial(copy), r.id, _cell(r.name), _cell(r.group), _cell(r.address),
                         site.url(site.copy_dest(copy)), fingerprint])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _cell(text: str) -> str:
    # A leading = + - @ makes a spreadsheet run the cell as a formula.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def url_markup(url: str) -> Markup:
    """The URL as printed: the domain emphasised so a reader can check whose site it is."""
    parts = urlsplit(url)
    head = f"{parts.scheme}://"
    rest = url[len(head) + len(parts.netloc):]
    return Markup(f'{escape(head)}<b class="domain">{escape(parts.netloc)}</b>{escape(rest)}')


CARDS_TEMPLATE = "print/cards.html"


def card_sheet_html(env: jinja2.Environment, site: Site, speech: Speech, copies: tuple[Copy, ...],
                    codes: Mapping[str, QrCode], layout: CardLayout, fingerprint: str,
                    logo: Logo | None, emblem: str = "") -> str:
    """The card sheet: `layout.per_sheet` cards to an A4 page, in card order (rows, left to right).
    `codes` are by copy URL. Raises SourceError naming the template's file and line."""
    version = speech.primary
    cards = []
    for copy in copies:
        code = codes[site.url(site.copy_dest(copy))]
        cards.append(dict(recipient=copy.recipient, serial=serial(copy), qr=code.module_data_uri(),
                          qr_mm=f"{code.size_mm:.3f}", url=url_markup(code.url), plate=_plate_box(code)))
    sheets = [cards[i:i + layout.per_sheet] for i in range(0, len(cards), layout.per_sheet)]
    try:
        return env.get_template(CARDS_TEMPLATE).render(
            site=site, config=site.config, speech=speech, version=version, layout=layout, sheets=sheets,
            origin=layout.origin, marks=_marks_svg(layout), date=format_date(version.date, version.lang),
            fingerprint=fingerprint, logo=logo.data_uri() if logo is not None else "", emblem=emblem,
            fonts=_font_faces(),
        )
    except (jinja2.TemplateError, TypeError, KeyError, AttributeError, ValueError) as exc:
        raise SourceError([Problem(*template_error(exc, site.cards_dest(speech)))]) from None


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


def parts(copies: tuple[Copy, ...]) -> list[tuple[Copy, ...]]:
    """A speech's cards in parts of CARDS_PER_PART, laid out apart and joined into one sheet file."""
    return [copies[i:i + CARDS_PER_PART] for i in range(0, len(copies), CARDS_PER_PART)] or [()]


def sheet_pdfs(site: Site, speech: Speech, htmls: list[str], cards: list[int], jobs: int | None) -> list[bytes]:
    """The parts' PDFs, laid out by WeasyPrint in worker processes behind the books' fetcher and
    a time limit that grows with the cards."""
    from speechgen.render import pdf

    config = site.config
    timeouts = [config.pdf.timeout + SECONDS_PER_CARD * n for n in cards]
    allowed = tuple(str(p.resolve()) for p in (THEME_DIR, config.static_dir, config.templates_dir))
    made = pdf.render_sheets(htmls, allowed, config.root.resolve().as_uri() + "/", timeouts, jobs)
    failed = [(n, why) for n, why in enumerate(made, 1) if isinstance(why, str)]
    if failed:
        n, why = failed[0]
        raise RenderError(f"{site.cards_dest(speech)}: cannot make the card sheet (part {n}): {why} "
                          f"([pdf] timeout = {config.pdf.timeout:g} s and {SECONDS_PER_CARD:g} s a card)")
    return made      # type: ignore[return-value]
