"""QR cards: the codes of every recipient's copy, one card sheet (PDF) and a mailroom list (CSV) per speech.

The card is what the mailroom prints and sends instead of a printed book: it names the
institution, carries a serial, the QR code of the institution's own copy page, the same URL in
plain text, and the PDF's short fingerprint to compare with the page.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

import jinja2
from markupsafe import Markup, escape

from speechgen.cache import Cache, key as cache_key
from speechgen.config import key_line
from speechgen.errors import ConfigError, Problems, RenderError
from speechgen.graph import Copy, Site
from speechgen.model import Artifact, PdfInfo, Speech
from speechgen.render.qr import Logo, QrCode, QrMaker, QrProblem, load_logo
from speechgen.templates import THEME_DIR, format_date

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


def render_cards(site: Site, pdfs: Mapping[tuple[str, str], PdfInfo], *, card_pdfs: bool = True,
                 log=lambda message: None) -> list[Artifact]:
    """QR codes (PNG + SVG) of every copy; per speech the card sheet PDF and the mailroom CSV.
    The caller has checked the base_url first (`check_base_url`), before any other work."""
    config = site.config
    if not config.qr.enabled or not site.copies:
        return []
    layout = LAYOUTS[config.qr.card_size]
    logo = _logo(site)
    maker = QrMaker(layout.qr_mm, config.qr.error_correction, logo, store=Cache(config.root, "qr"))
    _check_url_capacity(site, "H" if logo else config.qr.error_correction)
    made = maker.make_all([site.url(site.copy_dest(c)) for c in site.copies])
    # Keyed by the copy's output path (a Copy holds dicts, so it cannot be a key itself).
    codes = {site.copy_dest(c): made[site.url(site.copy_dest(c))] for c in site.copies}
    _check_module_size(site, layout, codes)

    artifacts: list[Artifact] = []
    for copy in site.copies:
        code = codes[site.copy_dest(copy)]
        artifacts.append(Artifact(site.qr_dest(copy, "png"), code.png))
        artifacts.append(Artifact(site.qr_dest(copy, "svg"), code.svg))
    for speech in site.speeches:
        copies = site.copies_of(speech)
        if not copies:
            continue
        pdf = pdfs.get((speech.id, speech.primary.lang))
        fingerprint = pdf.fingerprint if pdf is not None else ""
        artifacts.append(Artifact(site.cards_dest(speech, "csv"), mailroom_csv(site, copies, fingerprint)))
        if card_pdfs:
            html = card_sheet_html(site, speech, copies, codes, layout, fingerprint, logo, _emblem(site, logo))
            dest = site.cards_dest(speech, "pdf")
            artifacts.append(Artifact(dest, _to_pdf(site, dest, html, len(copies))))
    log(f"made {len(codes)} QR codes for {len({c.speech.id for c in site.copies})} speeches")
    return artifacts


def check_base_url(site: Site, preview: bool = False) -> None:
    """Printed codes cannot be corrected later: they must point at https, never plain http."""
    base_url = site.config.site.base_url
    if preview or urlsplit(base_url).scheme == "https":
        return
    problems = Problems(site.config.root)
    problems.add(site.config.path, key_line(site.config.path, "site", "base_url"),
                 f"[site] base_url {base_url!r} must start with https:// to print QR codes "
                 "(kode QR hanya untuk alamat https://); or set [qr] enabled = false")
    problems.raise_if_any(ConfigError)


def _logo(site: Site) -> Logo | None:
    """`[qr] logo`, laid over the codes and printed as the cards' emblem."""
    return _image(site, "qr", "logo", site.config.qr.logo)


def _emblem(site: Site, logo: Logo | None) -> str:
    """The cards' emblem: the QR logo, or else the PDFs' cover emblem (`[pdf] emblem`)."""
    if logo is None:
        logo = _image(site, "pdf", "emblem", getattr(site.config.pdf, "emblem", ""))
    return logo.data_uri() if logo is not None else ""


def _image(site: Site, section: str, key: str, name: str) -> Logo | None:
    """A PNG or JPEG under static/, validated and re-encoded; a bad one is a config error."""
    config = site.config
    if not name:
        return None
    problems = Problems(config.root)
    line = key_line(config.path, section, key)
    path = (config.root / name.lstrip("/")).resolve()
    static = config.static_dir.resolve()
    if not path.is_relative_to(static) or not path.is_file():
        problems.add(config.path, line, f"[{section}] {key} {name!r} must be a PNG or JPEG file "
                     "in static/ (harus berkas PNG atau JPEG di static/)")
    elif path.suffix.lower() not in (".png", ".jpg", ".jpeg"):
        problems.add(config.path, line, f"[{section}] {key} {name!r} must be a .png, .jpg or .jpeg file")
    else:
        try:
            return load_logo(path)
        except QrProblem as exc:
            problems.add(config.path, line, f"[{section}] {exc}")
    problems.raise_if_any(ConfigError)
    return None


# Bytes a QR code holds at its largest (version 40), by error correction level (ISO/IEC 18004).
CAPACITY = {"L": 2953, "M": 2331, "Q": 1663, "H": 1273}


def _check_url_capacity(site: Site, level: str) -> None:
    """A URL no QR code can hold is the config's problem, said before any code is drawn."""
    longest = max((site.url(site.copy_dest(c)) for c in site.copies), key=lambda u: len(u.encode()))
    if len(longest.encode()) <= CAPACITY[level]:
        return
    problems = Problems(site.config.root)
    problems.add(site.config.path, key_line(site.config.path, "site", "base_url"),
                 f"[site] base_url makes copy URLs of {len(longest.encode())} bytes, and a QR code at "
                 f"error correction {level} holds at most {CAPACITY[level]}; use a shorter base_url "
                 "(URL terlalu panjang untuk kode QR)")
    problems.raise_if_any(ConfigError)


def _check_module_size(site: Site, layout: CardLayout, codes: Mapping[str, QrCode]) -> None:
    """A module printed smaller than module_min_mm does not scan reliably from paper."""
    config = site.config
    code = min(codes.values(), key=lambda c: c.module_mm)
    if code.module_mm >= config.qr.module_min_mm:
        return
    problems = Problems(config.root)
    problems.add(config.path, key_line(config.path, "qr", "card_size") or key_line(config.path, "qr", None),
                 f"[qr] card_size {layout.name} prints the QR code of {code.url} with modules of "
                 f"{code.module_mm:.2f} mm, under module_min_mm = {config.qr.module_min_mm} "
                 f"({code.modules} modules in {code.size_mm:.1f} mm); use a larger card_size or a "
                 "shorter base_url (modul QR terlalu kecil untuk dicetak)")
    problems.raise_if_any(ConfigError)


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


def card_sheet_html(site: Site, speech: Speech, copies: tuple[Copy, ...], codes: Mapping[str, QrCode],
                    layout: CardLayout, fingerprint: str, logo: Logo | None, emblem: str = "") -> str:
    """The card sheet: `layout.per_sheet` cards to an A4 page, in card order (rows, left to right)."""
    env = _environment()
    version = speech.primary
    cards = []
    for copy in copies:
        code = codes[site.copy_dest(copy)]
        cards.append(dict(recipient=copy.recipient, serial=serial(copy), qr=code.module_data_uri(),
                          qr_mm=f"{code.size_mm:.3f}", url=url_markup(code.url), plate=_plate_box(code)))
    sheets = [cards[i:i + layout.per_sheet] for i in range(0, len(cards), layout.per_sheet)]
    return env.get_template("cards.html").render(
        site=site, config=site.config, speech=speech, version=version, layout=layout, sheets=sheets,
        origin=layout.origin, marks=_marks_svg(layout), date=format_date(version.date, version.lang),
        fingerprint=fingerprint, logo=logo.data_uri() if logo is not None else "", emblem=emblem,
        fonts=_font_faces(),
    )


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


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(THEME_DIR / "print")),
                             autoescape=True, undefined=jinja2.StrictUndefined,
                             trim_blocks=True, lstrip_blocks=True)
    return env


def _font_faces() -> Markup:
    """The bundled fonts, so every machine draws the cards with the same glyphs."""
    faces = []
    for name in FONTS:
        path = THEME_DIR / "fonts" / name
        if path.is_file():
            weight = "bold" if "Bold" in name else "normal"
            faces.append(f"@font-face {{ font-family: 'Card Serif'; font-weight: {weight}; font-style: normal; "
                         f"src: url('{path.resolve().as_uri()}') format('truetype'); }}")
    return Markup("\n".join(faces))


# The sheet's time limit grows with its cards: about 17 ms of CPU each, so 0.1 s a card is ample
# on a busy machine while still stopping a render that hangs.
SECONDS_PER_CARD = 0.1


def _to_pdf(site: Site, dest: str, html: str, cards: int) -> bytes:
    """The sheet from the cache when nothing that makes it changed; WeasyPrint otherwise."""
    from importlib.metadata import version

    from speechgen.render import pdf

    cache = Cache(site.config.root, "cards")
    fonts = b"".join(p.read_bytes() for p in (THEME_DIR / "fonts" / n for n in FONTS) if p.is_file())
    entry = cache_key("cards", version("weasyprint"), html, fonts)
    cached = cache.get(entry)
    if cached is not None and cached.startswith(b"%PDF-"):
        return cached
    try:
        timeout = site.config.pdf.timeout + SECONDS_PER_CARD * cards
        data = pdf.render_card_sheet(html, site.config, timeout)
    except (pdf.ResourceRefused, pdf.RenderTimeout) as exc:
        reason = str(exc) or (f"took longer than {timeout:g} s ([pdf] timeout = "
                              f"{site.config.pdf.timeout:g} s and {SECONDS_PER_CARD:g} s a card)")
        raise RenderError(f"{dest}: cannot make the card sheet: {reason}") from None
    cache.put(entry, data)
    return data
