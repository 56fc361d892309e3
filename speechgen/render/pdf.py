"""Archival PDFs: every speech in every language becomes a PDF/A book. The only module that imports
WeasyPrint, and only inside a worker process that really renders.

The parent renders the print template with Jinja (cheap); the build sends the books it has no
record of to a pool of worker processes (`render_books`). A worker lays the book
out with WeasyPrint under three guards: a URL fetcher that reads only regular files under the
project's static/ and templates/ folders and the bundled theme (never the network), a time limit
per book, and errors that stop the build instead of leaving an image out. It returns the bytes,
the page count and every file it read with its SHA-256, which is what the book depends on.

Fonts: every render gets a fontconfig with no font folders (`theme/fonts/fonts.conf`), so the
only fonts are the ones the stylesheets load with @font-face: the bundled Noto Serif, Noto Naskh
Arabic and Speechgen Symbols, and a project's `[pdf] fonts`. A book is laid out in its language's
direction (`<html dir="rtl">` for a language CLDR writes right to left). No font of the machine can enter a PDF, and a character
that none of them has fails the render (`speechgen.fonts` finds it earlier, with its line).
PDF/A finishing: no `/Interpolate true`, XMP namespaces declared on each rdf:Description, one
/AF entry per associated file; with PDF/A-1b, images lose their transparency (flattened on white).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import hashlib
import html as html_lib
import logging
import mimetypes
import multiprocessing
import os
import re
import shutil
import sys
import signal
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

import jinja2
from markupsafe import Markup

from speechgen import __version__
from speechgen import fonts as font_files
from speechgen.errors import Problem, SourceError
from speechgen.graph import Site
from speechgen.model import Correction, PdfInfo, Speech, Version
from speechgen.templates import THEME_DIR, direction, site_words, template_error
from speechgen.workers import context as workers_context, cores as workers_cores, pool as workers_pool

BOOK_TEMPLATE = "print/book.html"
PRINT_TEMPLATES = [BOOK_TEMPLATE]
STYLESHEET = THEME_DIR / "print.css"
FONTS_DIR = THEME_DIR / "fonts"
FONTCONFIG_FILE = FONTS_DIR / "fonts.conf"     # no font folders: fonts come from @font-face only
# Faces every render loads, books and card sheets alike: a character the text's family lacks
# falls back to them, never to the machine.
SYMBOLS_FACE = ('@font-face { font-family: "Speechgen Symbols"; '
                'src: url(fonts/SpeechgenSymbols-Regular.ttf); }')
# A book sees the project and the theme at fixed addresses, mapped to the real folders by the
# fetcher: WeasyPrint names images after their URL, so real paths would change the bytes.
PROJECT_URL = "file:///speechgen/project/"
THEME_URL = "file:///speechgen/theme/"
MAX_RESOURCE_BYTES = 64 * 1024 * 1024
DATA_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp", "image/svg+xml",
              "font/ttf", "font/otf", "font/woff", "font/woff2")
CSS_PAGE_SIZES = {"A4": "A4", "A5": "A5", "B5": "B5", "Letter": "letter"}
# The type area of each page size: body size and side margins that give a measure of about 66
# characters of Noto Serif (0.51 em a character in Indonesian and English prose), the middle of
# the 60-75 a book reader expects; the full width of A4 at 11 pt held about 90.
PAGE_GEOMETRY = {            # size: (body font size pt, top, sides, bottom margin in mm)
    "A4": (11.5, 24, 37, 26), "Letter": (11.5, 22, 40, 24),
    "B5": (11, 20, 23, 22), "A5": (10, 16, 15, 18),
}
# Quotation marks by language (CLDR's delimiters; Babel does not carry them): primary open and
# close, secondary open and close. Any other language gets the English (and Indonesian) marks.
QUOTES = {
    "en": "“”‘’", "de": "„“‚‘", "cs": "„“‚‘", "sk": "„“‚‘", "da": "»«›‹", "fr": "«»“”",
    "ru": "«»„“", "uk": "«»„“", "pl": "„”«»", "nl": "‘’“”", "ja": "「」『』", "zh": "“”‘’",
    "es": "«»“”", "it": "«»“”", "pt": "“”‘’", "ar": "”“’‘",
}
VARIANT_LABELS = {"pdf/a-1b": "PDF/A-1b", "pdf/a-2b": "PDF/A-2b", "pdf/a-3b": "PDF/A-3b",
                  "pdf/a-2u": "PDF/A-2u", "pdf/a-3u": "PDF/A-3u", "pdf/a-2a": "PDF/A-2a", "pdf/a-3a": "PDF/A-3a",
                  "pdf/ua-1": "PDF/UA-1", "none": "PDF"}
# The variants whose files may carry an attachment (the Markdown source, as an associated file):
# PDF/A-3, and the files that claim no PDF/A. PDF/A-1 and -2 get none, and so no trace of one.
ATTACHING = ("pdf/a-3b", "pdf/a-3u", "pdf/a-3a", "pdf/ua-1", "none")
MAX_GLYPH_PROBLEMS = 5              # characters named when a book has glyphs no font has
Log = Callable[[str], None]
Progress = Callable[[int, int], None]     # (books done, books to render)


@dataclass(frozen=True)
class Job:
    """Everything a worker needs to make one book: plain, picklable data."""

    name: str                                   # '2025/x (id)', for messages
    html: str
    base_url: str                               # PROJECT_URL
    stylesheets: tuple[tuple[str, str], ...]    # (css text, base URL)
    allowed: tuple[str, ...]                    # real paths of the folders a render may read
    mounts: tuple[tuple[str, str], ...]         # (PROJECT_URL or THEME_URL, real folder)
    variant: str
    identifier: str
    attachment_name: str
    attachment: bytes
    created: str                                # YYYY-MM-DD
    timeout: float
    flatten: bool = False                       # PDF/A-1b: images lose their alpha channel
    ua: bool = False                            # PDF/UA-1 claimed too ([pdf] ua)


class ResourceRefused(BaseException):
    """A resource a book may not load. A BaseException, like WeasyPrint's FatalURLFetchingError,
    so that no `except Exception` inside WeasyPrint turns it into a missing image."""


class RenderTimeout(BaseException):
    """The book took longer than [pdf] timeout."""


# --- the parent: HTML for each book, and the pool ----------------------------------------------

def book_context(site: Site, speech: Speech, version: Version, emblem: str, edition=None) -> dict:
    """What the book template gets: plain values, computed here from the speech and config.
    `edition` (an `editions.Pending`) is the edition this book will be: its number, date and note."""
    config = site.config
    lang = version.lang
    created = version.date.isoformat()
    modified = edition.date.isoformat() if edition is not None else created
    keywords = [k for k in (version.speaker, version.occasion, version.place, speech.year,
                            config.site.publisher) if k]
    font_size, top, sides, bottom = PAGE_GEOMETRY.get(config.pdf.page_size, PAGE_GEOMETRY["A4"])
    interface = site_words(config.words)
    return dict(
        site=site, config=config, speech=speech, version=version, lang=lang,
        t=functools.partial(interface.html, lang), tp=functools.partial(interface.label, lang),
        interface_words=interface, dir=direction(lang),
        canonical=site.url(site.speech_dest(speech, lang)),
        emblem=emblem, body=Markup(print_body(version.body_html, config.site.base_url, lang)),
        toc=[h for h in version.headings if h.level <= 3],
        keywords=keywords, created=created, modified=modified, edition=edition,
        edition_note=Correction(edition.date, edition.notes).note(lang) if edition is not None and edition.notes else "",
        page_size=CSS_PAGE_SIZES.get(config.pdf.page_size, "A4"),
        page_margin=f"{top}mm {sides}mm {bottom}mm", font_size=f"{font_size:g}pt",
        generator_version=__version__, source_name=f"{speech.slug}.{lang}.md",
        source_sha256=hashlib.sha256(version.source_text.encode("utf-8")).hexdigest(),
        variant_label=VARIANT_LABELS.get(config.pdf.variant, config.pdf.variant)
        + (", PDF/UA-1" if config.pdf.ua and config.pdf.variant.startswith("pdf/a") else ""),
    )


def make_job(site: Site, env: jinja2.Environment, speech: Speech, version: Version, context: dict,
             print_css: str) -> Job:
    """The book's HTML from its template, and everything a worker needs to lay it out.
    Raises SourceError naming the template's file and line."""
    config = site.config
    lang = version.lang
    try:
        text = env.get_template(BOOK_TEMPLATE).render(context)
    except (jinja2.TemplateError, TypeError, KeyError, AttributeError, ValueError) as exc:
        raise SourceError([Problem(*template_error(exc, site.pdf_dest(speech, lang)))]) from None
    sheets = [(_theme_stylesheet(), THEME_URL)]
    project_fonts = project_font_stylesheet(site)
    if project_fonts:
        sheets.append((project_fonts, PROJECT_URL))
    if print_css:
        sheets.append((print_css, PROJECT_URL + "templates/"))
    return Job(
        name=f"{speech.id} ({lang})", html=text, base_url=PROJECT_URL, stylesheets=tuple(sheets),
        allowed=tuple(str(p.resolve()) for p in (THEME_DIR, config.static_dir, config.templates_dir)),
        mounts=((PROJECT_URL, str(config.root.resolve())), (THEME_URL, str(THEME_DIR.resolve()))),
        variant=config.pdf.variant,
        # The same speech and language keep one document identifier across revisions.
        identifier=hashlib.sha256(f"{config.site.base_url}|{speech.id}|{lang}".encode()).hexdigest()[:32],
        attachment_name=context["source_name"], attachment=version.source_text.encode("utf-8"),
        created=context["created"], timeout=config.pdf.timeout, flatten=config.pdf.variant == "pdf/a-1b",
        ua=config.pdf.ua or config.pdf.variant == "pdf/ua-1",
    )


BOOK_FAMILIES = ("Speechgen Serif", "Speechgen Arabic", "Speechgen Symbols")


def project_font_stylesheet(site: Site) -> str:
    """@font-face rules for the project's `[pdf] fonts` (files under static/, checked by
    preflight), each under the family its file names, added to the book's font stack after the
    bundled families. Raises SourceError naming speechgen.toml when a file is not a font."""
    config = site.config
    names = tuple(getattr(config.pdf, "fonts", ()) or ())
    faces, families = [], []
    for name in names:
        try:
            face = font_files.read_face(config.root / name)
        except font_files.FontError as exc:
            raise SourceError([Problem(config.path, None, f"[pdf] fonts {name!r} {exc}")]) from None
        faces.append(f"@font-face {{ font-family: {_css_string(face.family)}; "
                     f"src: url({_css_string(PROJECT_URL + Path(name).as_posix())}); "
                     f"font-weight: {face.weight}; font-style: {'italic' if face.italic else 'normal'}; }}")
        families.append(face.family)
    if not faces:
        return ""
    stack = ", ".join(_css_string(f) for f in dict.fromkeys((*BOOK_FAMILIES, *families)))
    return "\n".join(faces) + f"\nhtml {{ font-family: {stack}; }}\n"


def _css_string(text: str) -> str:
    return '"' + "".join(c if c not in '"\\\n' else f"\\{ord(c):x} " for c in text) + '"'


@functools.cache
def _theme_stylesheet() -> str:
    return STYLESHEET.read_text("utf-8")


def sha256sums(pdfs: Iterable[PdfInfo]) -> bytes:
    """`SHA256SUMS` at the site root, in the format `sha256sum -c` reads."""
    return "".join(f"{p.sha256}  {p.dest}\n" for p in sorted(pdfs, key=lambda p: p.dest)).encode("utf-8")


_FOOTNOTES = re.compile(r'(?:<hr class="footnotes-sep"\s*/?>\s*)?<section class="footnotes">(.*?)</section>\s*', re.S)
_FOOTNOTE_ITEM = re.compile(r'<li id="fn(\d+)" class="footnote-item">(.*?)</li>', re.S)
_FOOTNOTE_REF = re.compile(r'<sup class="footnote-ref"><a href="#fn(\d+)" id="fnref\d+(?::\d+)?">[^<]*</a></sup>')
_BACKREF = re.compile(r'\s*<a href="#fnref[^"]*" class="footnote-backref">[^<]*</a>')
_BLOCK_TAG = re.compile(r"<(?:ul|ol|table|pre|blockquote|div|h\d)\b")
_ROOT_HREF = re.compile(r'(\shref)="/(?!/)')
_ROOT_SRC = re.compile(r'(\ssrc)="/(?!/)')


def print_body(body_html: str, base_url: str, lang: str = "en") -> str:
    """The web body made printable: footnotes move to their call (CSS `float: footnote` puts them
    at the foot of that page), site links become public URLs, images project-relative files, and
    straight quotes become the language's quotation marks."""
    body = typeset_quotes(_ROOT_SRC.sub(r'\1="', body_html), lang)
    body = _ROOT_HREF.sub(lambda m: f'{m[1]}="{html_lib.escape(base_url, quote=True)}', body)
    found = _FOOTNOTES.search(body)
    if not found:
        return body
    notes: dict[str, str] = {}
    for number, content in _FOOTNOTE_ITEM.findall(found[1]):
        content = _BACKREF.sub("", content).strip()
        if _BLOCK_TAG.search(content):
            return body             # a footnote with lists or tables: keep them as endnotes
        content = re.sub(r"</p>\s*<p>", "<br />", content)
        notes[number] = re.sub(r"</?p>", "", content).strip()
    used: set[str] = set()

    def call(match: re.Match) -> str:
        number = match[1]
        if number in notes and number not in used:
            used.add(number)
            return f'<span class="footnote">{notes[number]}</span>'
        return f'<sup class="footnote-ref">{number}</sup>'

    moved = _FOOTNOTE_REF.sub(call, body[:found.start()]) + body[found.end():]
    return moved if used == set(notes) else body


_MARKUP = re.compile(r"(<[^>]*>)")
_VERBATIM = re.compile(r"<(/?)(code|pre|kbd|samp|script|style)\b", re.I)
_STRAIGHT = re.compile(r"&quot;|&#34;|&#x22;|&#39;|&#x27;|[\"']", re.I)
_OPENS_AFTER = set(" \t\n\u00a0\u202f([{<\u2013\u2014-/")


def typeset_quotes(html: str, lang: str) -> str:
    """Straight quotes in the text of `html` (never in tags or code) as the language's marks:
    "a" -> “a”, 'a' -> ‘a’ (Indonesian and English), „a“ in German, «a» in French; an apostrophe
    inside a word (Jum'at) -> ’."""
    base = lang.split("-")[0].lower()
    first_open, first_close, second_open, second_close = QUOTES.get(base, QUOTES["en"])
    if base == "fr":
        first_open, first_close = "«\u202f", "\u202f»"
    out: list[str] = []
    verbatim = 0
    before = " "                      # the character before, across tags
    open_second = 0
    for piece in _MARKUP.split(html):
        if piece.startswith("<"):
            tag = _VERBATIM.match(piece)
            if tag:
                verbatim = max(0, verbatim + (-1 if tag[1] else 1))
            out.append(piece)
            continue
        if verbatim or not piece:
            out.append(piece)
            if piece:
                before = html_lib.unescape(piece)[-1:] or before
            continue
        text = html_lib.unescape(piece)
        chars: list[str] = []
        for index, char in enumerate(text):
            after = text[index + 1:index + 2]
            if char == '"':
                char = first_open if before in _OPENS_AFTER or before in (first_open, second_open) else first_close
            elif char == "'":
                if before.isalnum() and after.isalnum():
                    char = "’"                              # Jum'at, don't
                elif before in _OPENS_AFTER or before in (first_open, second_open):
                    char, open_second = second_open, open_second + 1
                elif open_second:
                    char, open_second = second_close, open_second - 1
                else:
                    char = "’"                              # the students' books
            chars.append(char)
            before = char
        out.append(html_lib.escape("".join(chars), quote=False))
    return "".join(out)


Rendered = tuple[bytes, int, tuple[tuple[str, str], ...]]   # PDF bytes, pages, files read (path, sha256)


def render_books(misses: list[tuple[str, Job]], jobs: int | None, progress: Progress | None,
                 stop: Callable[[], bool] | None = None) -> Iterable[tuple[str, Rendered | str]]:
    """Render in worker processes, results in any order. A worker that outlives its time limit
    (stuck somewhere the in-worker alarm cannot reach) stops the whole pool; so does `stop()`
    turning True (asked every STOP_POLL seconds while waiting), and then the results end early."""
    if not misses:
        return
    cores = workers_cores()
    workers = max(1, min(jobs or cores, len(misses)))
    context = _pool_context()
    hard_limit = max(job.timeout for _, job in misses) + 60    # startup and import slack
    # A worker is replaced after BOOKS_PER_WORKER books: WeasyPrint's caches grow with every book
    # (840 MB per worker after a few hundred), and a fresh fork costs about half a second.
    with workers_pool(context, workers, maxtasksperchild=BOOKS_PER_WORKER) as pool:
        results = pool.imap_unordered(_work, misses)
        finished: set[str] = set()
        for count in range(1, len(misses) + 1):
            waited = 0.0
            while True:
                step = hard_limit if stop is None else STOP_POLL
                try:
                    entry, outcome = results.next(timeout=step)
                    break
                except multiprocessing.TimeoutError:
                    waited += step
                    if stop is not None and stop():
                        pool.terminate()
                        return
                    if waited < hard_limit:
                        continue
                    pool.terminate()
                    for entry, _ in misses:
                        if entry not in finished:
                            yield entry, f"no result within {hard_limit:.0f} s (a worker hung or died)"
                    return
            finished.add(entry)
            if progress:
                progress(count, len(misses))
            yield entry, outcome


BOOKS_PER_WORKER = 25
STOP_POLL = 0.1                  # seconds between two questions to render_books' `stop`


def _pool_context():
    """The books' and card sheets' workers: forked, or from a fork server that has imported this
    module (`workers.context`)."""
    return workers_context(__name__)


# --- the worker: WeasyPrint behind the fetcher -------------------------------------------------

def _work(item: tuple[str, Job]) -> tuple[str, Rendered | str]:
    entry, job = item
    try:
        return entry, render_job(job)
    except ResourceRefused as exc:
        return entry, str(exc)
    except RenderTimeout:
        return entry, f"rendering took longer than [pdf] timeout = {job.timeout:g} s"
    except Exception as exc:  # noqa: BLE001 - reported with the speech's name, never a traceback
        return entry, f"{type(exc).__name__}: {exc}"


def load_weasyprint() -> None:
    """Import WeasyPrint (once per process) without its library lookups' helper processes.

    WeasyPrint opens each native library (Pango, HarfBuzz, fontconfig, ...) by trying several
    names; for every name the dynamic loader does not take, cffi asks `ctypes.util.find_library`,
    which on Linux runs `ldconfig -p`, `gcc` and `ld` to search (16 `gcc` runs an import, about
    0.15 s of its 0.35 s). Every worker imports WeasyPrint afresh. On Linux the loader itself finds
    each library under the soname that comes later in WeasyPrint's list, so the search is skipped
    while WeasyPrint is imported; if that import fails all the same, it is tried again as usual."""
    if "weasyprint" in sys.modules or not sys.platform.startswith("linux"):
        return
    import ctypes.util

    with _ENVIRONMENT:
        search = ctypes.util.find_library
        ctypes.util.find_library = lambda name: None
        try:
            import weasyprint  # noqa: F401
            return
        except OSError:
            for name in [n for n in sys.modules if n == "weasyprint" or n.startswith("weasyprint.")]:
                del sys.modules[name]
        finally:
            ctypes.util.find_library = search
    import weasyprint  # noqa: F401,F811 - the usual search, and its error if it fails too


def render_job(job: Job) -> Rendered:
    """One book: (PDF bytes, page count, files read). Raises ResourceRefused, RenderTimeout or an error."""
    load_weasyprint()
    from weasyprint import Attachment

    def finish(document, fonts, fetcher) -> bytes:
        day = dt.datetime.fromisoformat(job.created).replace(tzinfo=dt.timezone.utc)
        source = Attachment(string=job.attachment, url_fetcher=fetcher, name=job.attachment_name,
                            description="Markdown source", created=day, modified=day,
                            relationship="Source")
        return document.write_pdf(
            pdf_variant=None if job.variant == "none" else job.variant,
            pdf_identifier=job.identifier.encode("ascii"), pdf_tags=True,
            attachments=[source] if job.variant in ATTACHING else [],
            finisher=functools.partial(finish_pdf, archival=job.variant.startswith("pdf/a"), ua=job.ua))

    return _render(job.html, job.base_url, job.stylesheets, job.allowed, job.mounts, job.timeout, finish,
                   flatten=job.flatten)


def finish_pdf(document, pdf, archival: bool = True, ua: bool = False) -> None:
    """What WeasyPrint 70 leaves for PDF/A to fix, done on its PDF objects before they are written.

    - The catalog's /AF lists an attachment twice (from the name tree and from the file
      specification); PDF/A-3 wants each associated file once.
    - Images carry `/Interpolate true` where `image-rendering` is `auto` (print.css sets
      `crisp-edges`, a project's stylesheet might not); PDF/A forbids it (6.2.8-3 / 6.2.4).
    - The XMP declares every namespace on rdf:RDF; validators (PDFBox: "Schema is not set ...
      pdfaid") read them from each rdf:Description, so each one declares its own. It also gets
      the document's language (`dc:language`), `xmp:MetadataDate` (its ModifyDate, else its
      CreateDate: the speech's dates, so reproducible) and, with `ua`, `pdfuaid:part` 1.
    - Running heads and page numbers (the @page margin boxes) are drawn as tagged content whose
      structure elements WeasyPrint leaves out of the tree; they are marked as pagination
      artifacts instead, as PDF/UA asks, and their MCIDs leave the parent tree.
    """
    import pydyf

    if "AF" in pdf.catalog:
        pdf.catalog["AF"] = pydyf.Array(dict.fromkeys(pdf.catalog["AF"]))
    if "StructTreeRoot" in pdf.catalog:
        _margins_as_artifacts(pdf)
    if not archival and not ua:
        return
    for item in pdf.objects:
        if isinstance(item, pydyf.Stream) and item.extra.get("Subtype") == "/Image":
            if "Interpolate" in item.extra:
                item.extra["Interpolate"] = "false"
    reference = pdf.catalog.get("Metadata")
    if reference:
        number = reference.split()[0] if isinstance(reference, (bytes, str)) else reference.number
        metadata = pdf.objects[int(number)]
        packet = b"\n".join(pydyf._to_bytes(part) for part in metadata.stream)
        lang = str(pdf.catalog.get("Lang", "") or "").strip("()") if "Lang" in pdf.catalog else ""
        packet = xmp_with_more(packet, lang=document.metadata.lang or lang, ua=ua and archival)
        metadata.stream = [xmp_with_local_namespaces(packet)]


_RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
_XMP_NS = {"dc": "http://purl.org/dc/elements/1.1/", "xmp": "http://ns.adobe.com/xap/1.0/",
           "pdfuaid": "http://www.aiim.org/pdfua/ns/id/"}


def xmp_with_more(packet: bytes, *, lang: str = "", ua: bool = False) -> bytes:
    """The XMP packet with `dc:language` (an rdf:Bag of the document's language), `xmp:MetadataDate`
    (the packet's ModifyDate, else its CreateDate; none without either) and, with `ua`, `pdfuaid:part` 1, each in an rdf:Description of its own; what the packet
    already says is left as it is."""
    from xml.etree import ElementTree

    start = packet.index(b"<rdf:RDF")
    end = packet.index(b"</rdf:RDF>") + len(b"</rdf:RDF>")
    for prefix, uri in {"rdf": _RDF, **_XMP_NS}.items():
        ElementTree.register_namespace(prefix, uri)
    root = ElementTree.fromstring(packet[start:end])
    have = {child.tag for description in root for child in description} | \
        {name for description in root for name in description.attrib}

    def description():
        return ElementTree.SubElement(root, f"{{{_RDF}}}Description", {f"{{{_RDF}}}about": ""})

    if lang and f"{{{_XMP_NS['dc']}}}language" not in have:
        bag = ElementTree.SubElement(ElementTree.SubElement(description(), f"{{{_XMP_NS['dc']}}}language"),
                                     f"{{{_RDF}}}Bag")
        ElementTree.SubElement(bag, f"{{{_RDF}}}li").text = lang
    dates = {child.tag: child.text for d in root for child in d}
    metadata_date = dates.get(f"{{{_XMP_NS['xmp']}}}ModifyDate") or dates.get(f"{{{_XMP_NS['xmp']}}}CreateDate")
    if metadata_date and f"{{{_XMP_NS['xmp']}}}MetadataDate" not in have:
        ElementTree.SubElement(description(), f"{{{_XMP_NS['xmp']}}}MetadataDate").text = metadata_date
    if ua and f"{{{_XMP_NS['pdfuaid']}}}part" not in have:
        ElementTree.SubElement(description(), f"{{{_XMP_NS['pdfuaid']}}}part").text = "1"
    rdf = ElementTree.tostring(root, encoding="utf-8", xml_declaration=False)
    return packet[:start] + rdf + packet[end:]


def _number(reference) -> int:
    return int(reference.split()[0] if isinstance(reference, (bytes, str)) else reference.number)


def _margins_as_artifacts(pdf) -> None:
    """Content WeasyPrint tagged but left out of the structure tree (the @page margin boxes:
    running heads and page numbers) becomes `/Artifact <</Type /Pagination>>` marked content,
    and its MCIDs' entries in the parent tree become null."""
    import pydyf

    objects = pdf.objects
    root = objects[_number(pdf.catalog["StructTreeRoot"])]
    reachable: set[int] = set()
    pending = [root]
    while pending:
        element = pending.pop()
        kids = element.get("K") if isinstance(element, dict) else None
        for kid in kids if isinstance(kids, list) else ([kids] if kids is not None else []):
            if isinstance(kid, (bytes, str)) and kid.strip().endswith(b"R" if isinstance(kid, bytes) else "R"):
                number = _number(kid)
                if number not in reachable:
                    reachable.add(number)
                    pending.append(objects[number])
            elif isinstance(kid, dict):
                pending.append(kid)
    nums = objects[_number(root["ParentTree"])]["Nums"]
    pages = [objects[number] for number in pdf.pages["Kids"][::3]]      # pydyf: number, 0, 'R'
    for index in range(0, len(nums), 2):
        page_number, mapped = nums[index], nums[index + 1]
        if not isinstance(mapped, list) or not isinstance(page_number, int) or page_number >= len(pages):
            continue
        orphans = {mcid for mcid, ref in enumerate(mapped)
                   if isinstance(ref, (bytes, str)) and _number(ref) not in reachable}
        if not orphans:
            continue
        for mcid in orphans:
            mapped[mcid] = "null"
        contents = pages[page_number]["Contents"]
        for reference in contents if isinstance(contents, list) else [contents]:
            stream = objects[_number(reference)].stream
            for at, item in enumerate(stream):
                if isinstance(item, dict) and item.get("MCID") in orphans and at > 0:
                    stream[at - 1] = "/Artifact"
                    stream[at] = pydyf.Dictionary({"Type": "/Pagination"})


def xmp_with_local_namespaces(packet: bytes) -> bytes:
    """The same XMP packet with each rdf:Description declaring the namespaces it uses."""
    from xml.etree import ElementTree

    start = packet.index(b"<rdf:RDF")
    end = packet.index(b"</rdf:RDF>") + len(b"</rdf:RDF>")
    root = ElementTree.fromstring(packet[start:end])
    rdf_here = f' xmlns:rdf="{_RDF}"'.encode()      # declared once on rdf:RDF, as rdf must be
    descriptions = b"".join(ElementTree.tostring(element, encoding="utf-8", xml_declaration=False)
                            .replace(rdf_here, b"", 1) for element in root)
    rdf = f'<rdf:RDF xmlns:rdf="{_RDF}">'.encode() + descriptions + b"</rdf:RDF>"
    return packet[:start] + rdf + packet[end:]


@functools.cache
def _bundled_fonts_only():
    """WeasyPrint's FontConfiguration on a fontconfig that has no font folders: the fonts are
    the ones @font-face rules load, and nothing installed on the machine (FONTCONFIG_FILE is read
    when the configuration is made; it is set for that moment only)."""
    from weasyprint.text.fonts import FontConfiguration

    class BundledFontsOnly(FontConfiguration):
        def __init__(self) -> None:
            with _ENVIRONMENT:
                saved = {name: os.environ.get(name) for name in ("FONTCONFIG_FILE", "FONTCONFIG_SYSROOT")}
                os.environ["FONTCONFIG_FILE"] = str(FONTCONFIG_FILE)
                os.environ.pop("FONTCONFIG_SYSROOT", None)
                try:
                    super().__init__()
                finally:
                    for name, value in saved.items():
                        if value is None:
                            os.environ.pop(name, None)
                        else:
                            os.environ[name] = value

    return BundledFontsOnly


_ENVIRONMENT = threading.Lock()      # process-wide state changed for a moment: the environment, ctypes


@contextlib.contextmanager
def _bundled_fonts() -> Iterator:
    """A font configuration for one render, and its folder removed when the render is done.
    WeasyPrint copies every @font-face file into a temporary folder of its own (1.3 MB with the
    bundled fonts) and removes it only when the configuration is garbage collected, which never
    happens in a pool worker that ends with `os._exit`: every cold build left folders in the
    temporary directory, thousands over a few archive builds."""
    fonts = _bundled_fonts_only()()
    try:
        yield fonts
    finally:
        folder, fonts._folder = fonts._folder, None      # WeasyPrint's own attribute (text/fonts.py)
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)


def _render(text: str, base_url: str, stylesheets: Iterable[tuple[str, str]], allowed: Iterable[str],
            mounts: Iterable[tuple[str, str]], timeout: float, finish: Callable, flatten: bool = False) -> Rendered:
    from weasyprint import CSS, HTML

    with _guarded(timeout), _bundled_fonts() as fonts:
        fetcher = project_fetcher(allowed, mounts, flatten=flatten)
        sheets = [CSS(string=css, base_url=base, url_fetcher=fetcher, font_config=fonts)
                  for css, base in stylesheets]
        document = HTML(string=text, base_url=base_url, url_fetcher=fetcher).render(
            stylesheets=sheets, font_config=fonts)
        # Nothing a template names is attached: <link rel=attachment> and <a rel=attachment>
        # embed nothing; `finish` attaches what the caller means to.
        document.metadata.attachments = []
        for page in document.pages:
            page.links[:] = [link for link in page.links if link[0] != "attachment"]
        data = finish(document, fonts, fetcher)
    return data, len(document.pages), tuple(sorted(fetcher.read))


@contextlib.contextmanager
def _guarded(timeout: float) -> Iterator[list[str]]:
    """A render under a time limit whose WeasyPrint errors fail it: an image that would not
    decode must stop the build rather than print without it, and a character no loaded font has
    (WeasyPrint draws a .notdef box pointing past the end of the font) must not print at all."""
    errors: list[str] = []
    missing: dict[int, None] = {}

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.levelno >= logging.ERROR:
                errors.append(record.getMessage())
            elif str(record.msg).startswith(".notdef glyph rendered") and len(record.args or ()) == 2:
                missing[int(record.args[1])] = None

    handler = Collect(level=logging.WARNING)
    logger = logging.getLogger("weasyprint")
    level = logger.level
    if logger.getEffectiveLevel() > logging.WARNING:
        logger.setLevel(logging.WARNING)        # the missing-glyph warning must reach us
    logger.addHandler(handler)
    cancel = _alarm(timeout)
    try:
        yield errors
    finally:
        cancel()
        logger.removeHandler(handler)
        logger.setLevel(level)
    if missing:
        shown = [font_files.glyph_problem(chr(code)) for code in list(missing)[:MAX_GLYPH_PROBLEMS]]
        more = len(missing) - len(shown)
        errors.extend(shown[:-1] + [shown[-1] + (f" (and {more} more characters)" if more else "")])
    if errors:
        raise ResourceRefused("; ".join(dict.fromkeys(errors)))


def _alarm(seconds: float) -> Callable[[], None]:
    """Raise RenderTimeout in this (main) thread after `seconds`; returns the cancel function."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        return lambda: None

    def expire(signum, frame):
        raise RenderTimeout()

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)

    def cancel() -> None:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    return cancel


def project_fetcher(allowed: Iterable[str], mounts: Iterable[tuple[str, str]] = (), flatten: bool = False):
    """A WeasyPrint URL fetcher that reads only regular files under `allowed` folders (real
    paths, so no symlink leads out) and `data:` images and fonts, and refuses everything else
    loudly. `mounts` maps fixed file URLs (PROJECT_URL, THEME_URL) to real folders. `flatten`
    (PDF/A-1b, which allows no transparency) lays PNG, GIF and WebP images with an alpha
    channel on white."""
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    roots = tuple(Path(os.path.realpath(a)) for a in allowed)
    folders = tuple((urlsplit(prefix).path, Path(real)) for prefix, real in mounts)

    class ProjectFetcher(URLFetcher):
        def __init__(self) -> None:
            super().__init__(timeout=1, allowed_protocols=("file", "data"), allow_redirects=False,
                             fail_on_errors=True)
            self.read: set[tuple[str, str]] = set()     # (real path, sha256): what the output depends on

        def fetch(self, url: str, headers=None):
            scheme = url.partition(":")[0].lower()
            if scheme == "data":
                media = url[5:].partition(",")[0].partition(";")[0].strip().lower()
                if media not in DATA_TYPES:
                    raise ResourceRefused(f"{url[:40]}...: only data: images and fonts are allowed")
                return super().fetch(url, headers)      # decoded by urllib, no network
            if scheme != "file":
                raise ResourceRefused(f"{url}: PDFs load nothing from the network; put the file in static/")
            parts = urlsplit(url)
            if parts.netloc not in ("", "localhost"):
                raise ResourceRefused(f"{url}: not a local file")
            wanted = url2pathname(parts.path)
            for prefix, folder in folders:
                if wanted.startswith(prefix):
                    real = Path(os.path.realpath(folder / wanted[len(prefix):]))
                    wanted = wanted[len(prefix):] if prefix == urlsplit(PROJECT_URL).path else wanted
                    break
            else:
                real = Path(os.path.realpath(wanted))
            if not any(real.is_relative_to(root) for root in roots):
                raise ResourceRefused(f"{wanted}: outside the project's static/ and templates/ folders; "
                                      "a PDF may only use files there")
            if not real.is_file():
                raise ResourceRefused(f"{wanted}: missing or not a regular file")
            if real.stat().st_size > MAX_RESOURCE_BYTES:
                raise ResourceRefused(f"{wanted}: larger than {MAX_RESOURCE_BYTES // (1024 * 1024)} MB")
            mime = mimetypes.guess_type(real.name)[0] or "application/octet-stream"
            data = real.read_bytes()
            self.read.add((str(real), hashlib.sha256(data).hexdigest()))
            if flatten and mime in ("image/png", "image/gif", "image/webp"):
                data, mime = flattened(data), "image/png"
            return URLFetcherResponse(url, data, {"Content-Type": mime})

    return ProjectFetcher()


def flattened(data: bytes) -> bytes:
    """An image without transparency: laid on white if it has an alpha channel or a transparent
    colour, else the same bytes. (Pillow refuses to decode past its pixel limit: left as it is.)"""
    import io

    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.mode not in ("RGBA", "LA", "PA") and "transparency" not in image.info:
                return data
            rgba = image.convert("RGBA")
    except (OSError, ValueError, Image.DecompressionBombError):
        return data
    flat = Image.new("RGB", rgba.size, "white")
    flat.paste(rgba, mask=rgba.getchannel("A"))
    out = io.BytesIO()
    flat.save(out, format="PNG", optimize=False)
    return out.getvalue()


# --- QR card sheets (render/cards.py makes the HTML) -------------------------------------------
# In this process, not the pool: one sheet per speech, and its QR codes are inline data: images.

def render_card_sheet(html: str, allowed: Iterable[str], base_url: str, timeout: float) -> bytes:
    """A card sheet's HTML as PDF bytes, behind the same fetcher as the books and a time limit."""
    load_weasyprint()
    from weasyprint import CSS, HTML

    with _guarded(timeout), _bundled_fonts() as fonts:
        fetcher = project_fetcher(allowed, ((THEME_URL, str(THEME_DIR.resolve())),))
        # The symbols face, for arrows and operators in a title: the sheet names only its serif.
        symbols = CSS(string=SYMBOLS_FACE, base_url=THEME_URL, url_fetcher=fetcher, font_config=fonts)
        data = HTML(string=html, base_url=base_url, url_fetcher=fetcher).write_pdf(
            stylesheets=[symbols], font_config=fonts,
            pdf_identifier=_sheet_identifier(html, base_url))
    return data


def _sheet_identifier(html: str, base_url: str) -> bytes:
    """A card sheet's document identifier, from its HTML less where the project and the theme
    are on this machine (a project font's `file:` URL): the same sheet built in another folder
    is the same file."""
    placeless = html.replace(base_url, "project:/").replace(THEME_DIR.resolve().as_uri(), "theme:")
    return hashlib.sha256(placeless.encode("utf-8")).hexdigest()[:32].encode("ascii")


def render_sheets(htmls: list[str], allowed: tuple[str, ...], base_url: str, timeouts: list[float],
                  jobs: int | None, stop: Callable[[], bool] | None = None) -> list[bytes | str]:
    """Parts of card sheets laid out in worker processes, side by side: a part's layout never
    weighs on the build process. Each result is the PDF's bytes or why it failed; [] when
    `stop()` turned True while they were laid out (the workers are stopped)."""
    if not htmls:
        return []
    cores = workers_cores()
    workers = max(1, min(jobs or cores, len(htmls)))
    items = [(html, allowed, base_url, timeout) for html, timeout in zip(htmls, timeouts)]
    with workers_pool(_pool_context(), workers, maxtasksperchild=1) as pool:     # a fresh worker each: memory back
        pending = pool.map_async(_sheet_work, items, chunksize=1)
        while not pending.ready():
            pending.wait(STOP_POLL if stop is not None else None)
            if stop is not None and not pending.ready() and stop():
                pool.terminate()
                return []
        return pending.get()


def _sheet_work(item: tuple[str, tuple[str, ...], str, float]) -> bytes | str:
    html, allowed, base_url, timeout = item
    try:
        return render_card_sheet(html, allowed, base_url, timeout)
    except ResourceRefused as exc:
        return str(exc)
    except RenderTimeout:
        return f"took longer than {timeout:g} s"
    except Exception as exc:  # noqa: BLE001 - reported with the sheet's name, never a traceback
        return f"{type(exc).__name__}: {exc}"


def join(parts: list[bytes]) -> bytes:
    """PDFs one after the other as one PDF, with an identifier made from their bytes (the same
    parts always give the same file)."""
    if len(parts) == 1:
        return parts[0]
    import io

    import pikepdf

    with pikepdf.Pdf.new() as joined:
        sources = [pikepdf.Pdf.open(io.BytesIO(part)) for part in parts]
        try:
            for source in sources:
                joined.pages.extend(source.pages)
            # What the parts say of the whole document (a card sheet's output intent) goes with it.
            if "/OutputIntents" in sources[0].Root:
                intents = sources[0].make_indirect(sources[0].Root.OutputIntents)   # copy_foreign takes indirect objects
                joined.Root.OutputIntents = joined.copy_foreign(intents)
            out = io.BytesIO()
            joined.save(out, deterministic_id=True, linearize=False)
        finally:
            for source in sources:
                source.close()
    return out.getvalue()
