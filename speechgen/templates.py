"""The Jinja environment: the project's templates/ first, the bundled theme after.

A project template may extend the bundled one of the same name as "!default/speech.html".
Autoescape is on for every template and undefined variables are errors.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment, safe_range
from babel.dates import format_date as babel_format_date
from markupsafe import Markup, escape

from speechgen import deps
from speechgen.errors import Problems

THEME_DIR = Path(__file__).parent / "theme"

# Interface words (pages, PDFs), Indonesian first. A page in another language uses that
# language's words; a language without its own set here gets the English ones.
LABELS: dict[str, dict[str, str]] = {
    "id": {
        "edition_word": "Edisi", "editions": "Edisi", "corrected": "Dikoreksi", "corrected_on": "Dikoreksi pada", "recipient": "Penerima",
        "certificate": "Sertifikat penerbit (SHA-256)",
        "unreleased": "belum dirilis", "latest_edition": "edisi terbaru",
        "pdf_not_made": "PDF belum dibuat pada build ini",
        "what_changed": "Apa yang berubah", "changes_title": "Perubahan pada edisi {n}",
        "changes_intro": "Perbedaan kata demi kata antara edisi {a} dan edisi {b}. Teks yang dihapus dicoret, teks yang ditambahkan digarisbawahi.",
        "deleted": "dihapus", "inserted": "ditambahkan", "words_changed": "{d} kata dihapus, {i} kata ditambahkan",
        "title_word": "Judul", "back_to_speech": "Kembali ke pidato",
        "card_edition": "Kartu QR Anda mencetak sidik edisi {n}.",
        "card_superseded": "Pidato ini dikoreksi sesudah kartu dicetak; edisi terbaru adalah edisi {m}. Edisi {n} tetap tersedia dan sah.",
        "edition_list": "Semua edisi",
        "home": "Beranda", "archive": "Arsip", "years": "Tahun", "speakers": "Pembicara",
        "occasions": "Acara", "contents": "Daftar isi", "to_top": "Ke atas", "speaker": "Pembicara", "date": "Tanggal",
        "occasion": "Acara", "place": "Tempat", "language": "Bahasa", "translations": "Terjemahan",
        "latest": "Pidato terbaru", "all_speeches": "Semua pidato", "speeches": "pidato",
        "skip": "Langsung ke isi", "search": "Cari", "not_found": "Halaman tidak ditemukan",
        "not_found_text": "Halaman yang Anda cari tidak ada. Kembali ke beranda untuk melihat semua pidato.",
        "feed": "Umpan Atom", "download_pdf": "Unduh PDF", "pages": "halaman",
        "fingerprint": "Sidik SHA-256", "copy_for": "Salinan untuk", "read_full": "Baca pidato lengkap",
        "sample": "Contoh", "footnotes": "Catatan kaki", "published_by": "Diterbitkan oleh",
        "verify_hint": "Cocokkan sidik ini dengan yang tercetak pada kartu QR.",
        "side_by_side": "Baca berdampingan",
        "no_login": "Tautan ini tidak pernah meminta login atau pembayaran.", "copy_number": "Salinan nomor",
        "copy_public": "Versi publik pidato ini", "opening": "Pembukaan",
        "accessibility": "Aksesibilitas", "paragraph": "Paragraf", "search_site": "Cari pidato",
        "all": "Semua", "previous": "Sebelumnya", "next": "Berikutnya", "page_of": "Halaman {n} dari {m}",
        "listing_pages": "Halaman daftar", "all_years": "Semua tahun", "all_speakers": "Semua pembicara",
        "all_occasions": "Semua acara",
        "colophon": "Kolofon", "online": "Daring", "source": "Naskah sumber", "format": "Format",
        "colophon_text": "Salinan arsip ini memuat naskah sumbernya sebagai berkas lampiran.",
        "scan_phone": "Pindai dengan kamera ponsel", "edition": "Edisi {n}",
        "table": "Tabel", "search_words": "Kata dalam pidato", "searching": "Mencari…",
        "search_none": "Tidak ada pidato yang cocok.", "search_found": "{n} pidato ditemukan",
        "search_found_one": "1 pidato ditemukan", "search_more": "Tampilkan lebih banyak",
        "search_partial": "{n} pidato lain hanya memuat kata yang berawalan sama.",
        "search_partial_one": "1 pidato lain hanya memuat kata yang berawalan sama.",
        "search_none_whole": "Tidak ada pidato yang memuat kata itu secara utuh.",
        "search_partial_title": "Kata yang berawalan sama",
        "search_unavailable": "Pencarian tidak tersedia di sini (misalnya saat dibuka langsung dari disk). Gunakan daftar arsip di bawah.",
        "search_needs_js": "Pencarian memerlukan JavaScript. Semua pidato tetap dapat dibuka melalui daftar arsip di bawah.",
        "search_description": "Cari pidato menurut kata di dalam naskahnya.",
        "accessibility_statement": "Pernyataan Aksesibilitas",
        "withdrawn_on": "Ditarik pada", "moved": "Halaman ini telah pindah ke",
        "embargo_title": "Belum tersedia", "embargo_until": "Tersedia mulai {when}",
        "embargo_text": "Salinan Anda terbuka di alamat ini pada waktu tersebut. Simpan kartu QR Anda.",
        "embargo_mark": "EMBARGO: belum terbit, terbit {when}",
    },
    "en": {
        "edition_word": "Edition", "editions": "Editions", "corrected": "Corrected", "corrected_on": "Corrected on", "recipient": "Recipient",
        "certificate": "Publisher's certificate (SHA-256)",
        "unreleased": "not yet released", "latest_edition": "latest edition",
        "pdf_not_made": "PDF not made in this build",
        "what_changed": "What changed", "changes_title": "Changes in edition {n}",
        "changes_intro": "Word-by-word difference between edition {a} and edition {b}. Deleted text is struck through, inserted text is underlined.",
        "deleted": "deleted", "inserted": "inserted", "words_changed": "{d} words deleted, {i} words inserted",
        "title_word": "Title", "back_to_speech": "Back to the speech",
        "card_edition": "Your QR card shows the fingerprint of edition {n}.",
        "card_superseded": "This speech was corrected after the card was printed; the latest is edition {m}. Edition {n} stays available and authentic.",
        "edition_list": "All editions",
        "home": "Home", "archive": "Archive", "years": "Years", "speakers": "Speakers",
        "occasions": "Occasions", "contents": "Contents", "to_top": "Back to top", "speaker": "Speaker", "date": "Date",
        "occasion": "Occasion", "place": "Place", "language": "Language", "translations": "Translations",
        "latest": "Latest speeches", "all_speeches": "All speeches", "speeches": "speeches", "speeches_one": "speech",
        "skip": "Skip to content", "search": "Search", "not_found": "Page not found",
        "not_found_text": "The page you are looking for does not exist. Go back home to see all speeches.",
        "feed": "Atom feed", "download_pdf": "Download PDF", "pages": "pages", "pages_one": "page",
        "fingerprint": "SHA-256 fingerprint", "copy_for": "Copy for", "read_full": "Read the full speech",
        "sample": "Sample", "footnotes": "Footnotes", "published_by": "Published by",
        "verify_hint": "Compare this fingerprint with the one printed on the QR card.",
        "side_by_side": "Read side by side",
        "no_login": "This link never asks for a login or payment.", "copy_number": "Copy number",
        "copy_public": "The public page of this speech", "opening": "Opening",
        "accessibility": "Accessibility", "paragraph": "Paragraph", "search_site": "Search speeches",
        "all": "All", "previous": "Previous", "next": "Next", "page_of": "Page {n} of {m}",
        "listing_pages": "Listing pages", "all_years": "All years", "all_speakers": "All speakers",
        "all_occasions": "All occasions",
        "colophon": "Colophon", "online": "Online", "source": "Source text", "format": "Format",
        "colophon_text": "This archive copy carries its source text as an attached file.",
        "scan_phone": "Scan with your phone's camera", "edition": "Edition {n}",
        "table": "Table", "search_words": "Words in a speech", "searching": "Searching…",
        "search_none": "No speech matches.", "search_found": "{n} speeches found",
        "search_found_one": "1 speech found", "search_more": "Show more",
        "search_partial": "{n} more speeches only contain words that begin the same way.",
        "search_partial_one": "1 more speech only contains a word that begins the same way.",
        "search_none_whole": "No speech contains the whole word.",
        "search_partial_title": "Words that begin the same way",
        "search_unavailable": "Search is not available here (for example when opened straight from disk). Use the archive listings below.",
        "search_needs_js": "Search needs JavaScript. Every speech can still be reached from the archive listings below.",
        "search_description": "Find a speech by any word in its text.",
        "accessibility_statement": "Accessibility statement",
        "withdrawn_on": "Withdrawn on", "moved": "This page has moved to",
        "embargo_title": "Not yet available", "embargo_until": "Available from {when}",
        "embargo_text": "Your copy opens at this address at that moment. Keep your QR card.",
        "embargo_mark": "EMBARGO: not yet published, published {when}",
    },
}
LANGUAGE_NAMES = {"id": "Bahasa Indonesia", "en": "English"}
# A counted word (`count`) may have one entry per CLDR plural category of its language, as
# "<key>_<category>" ("speeches_one": "speech"); the plain key is the "other" form, and the only
# one a language without plural forms (Indonesian) needs.


def words_language(lang: str) -> str:
    """The language of the words a page in `lang` shows: its own set, its base language's
    ('id' for 'id-ID'), else English (documented in docs/readers.md; the build warns)."""
    if lang in LABELS:
        return lang
    base = lang.split("-")[0]
    return base if base in LABELS else "en"


def label(lang: str, key: str) -> str:
    return LABELS[words_language(lang)].get(key) or LABELS["en"][key]


def foreign_words(lang: str) -> bool:
    """True when a page in `lang` shows words of another language (English, for a language
    LABELS has no words for): those words are then marked with their own `lang`."""
    return words_language(lang) != lang.split("-")[0]


def words(lang: str, key: str) -> Markup:
    """A label as HTML for the text of a page in `lang`: escaped, and inside
    `<span lang="en">` when the page's language has no words of its own, so that a screen reader
    says them with an English voice. (Attributes and <title> take `label`, which is plain.)"""
    text = escape(label(lang, key))
    if not foreign_words(lang):
        return text
    return Markup('<span lang="{}">{}</span>').format(words_language(lang), text)


def plural_category(lang: str, n: int) -> str:
    """CLDR's plural category of `n` in `lang` ('one', 'two', 'few', 'many', 'other', 'zero')."""
    try:
        return _locale(lang).plural_form(abs(n))
    except ValueError:
        return "other"


def count_label(lang: str, n: int, key: str) -> str:
    """The word for `n` things in the words a page in `lang` shows, by the plural rules of those
    words' language: count_label('en', 1, 'speeches') == 'speech'."""
    own = words_language(lang)
    form = plural_category(own, n)
    return (LABELS[own].get(f"{key}_{form}") or LABELS[own].get(key)
            or LABELS["en"].get(f"{key}_{plural_category('en', n)}") or LABELS["en"][key])


def count(lang: str, n: int, key: str) -> Markup:
    """'1 speech', '3 speeches', '3 pidato' as HTML for a page in `lang` (the word marked as
    `words` marks it)."""
    word = escape(count_label(lang, n, key))
    if foreign_words(lang):
        word = Markup('<span lang="{}">{}</span>').format(words_language(lang), word)
    return Markup("{} {}").format(n, word)


def direction(lang: str) -> str:
    """'rtl' or 'ltr': the writing direction of a language by CLDR (Babel's character order);
    'ltr' for a code CLDR does not know."""
    try:
        return "rtl" if _locale(lang).character_order == "right-to-left" else "ltr"
    except ValueError:
        return "ltr"


@functools.lru_cache(maxsize=64)
def _locale(lang: str):
    from babel import Locale, UnknownLocaleError

    try:
        return Locale.parse(lang.replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError) as exc:
        raise ValueError(str(exc)) from None


def lang_attrs(code: str, within: str) -> Markup:
    """` lang="ar" dir="rtl"` for an element in `code` inside a page (or block) in `within`: its
    `lang`, and its `dir` when its direction differs, which also isolates it from the text
    around it (an inline element with `dir` is bidi-isolated). Asked about 25 times a page for
    the same few pairs: plain strings' answers are kept (Markup's `format` is slow)."""
    if type(code) is str and type(within) is str:
        return _lang_attrs(code, within)
    return _lang_attrs.__wrapped__(code, within)      # a Markup or other value from a project template


@functools.lru_cache(maxsize=256)
def _lang_attrs(code: str, within: str) -> Markup:
    attrs = Markup(' lang="{}"').format(code)
    if direction(code) != direction(within):
        attrs += Markup(' dir="{}"').format(direction(code))
    return attrs


def other_words(lang: str, languages) -> list[str]:
    """The site's other interface languages, in the site's order, each once: the words a
    two-language label shows after the page's own (none on a one-language site)."""
    own = words_language(lang)
    out: list[str] = []
    for code in languages:
        words = words_language(code)
        if words != own and words not in out:
            out.append(words)
    return out


def untranslated(languages) -> list[str]:
    """The site's languages the interface has no words for (their pages use English words)."""
    return [code for code in languages if words_language(code) == "en" and code.split("-")[0] != "en"]


def words_warning(languages) -> str | None:
    """The build's and check's warning about `untranslated` languages, or None."""
    missing = untranslated(languages)
    if not missing:
        return None
    return (f"no interface words for {', '.join(missing)}: headings, buttons and labels on "
            f"{'its' if len(missing) == 1 else 'their'} pages are in English (speechgen's LABELS "
            "has words for " + ", ".join(LABELS) + ")")


# The house style for the interface's own languages; every other language gets CLDR's long date.
DATE_PATTERNS = {"id": "d MMMM y", "en": "d MMMM y"}


def format_date(value: dt.date, lang: str) -> str:
    """'15 Agustus 2025', '15 August 2025', '15 de agosto de 2025' (CLDR month names via Babel)."""
    return babel_format_date(value, DATE_PATTERNS.get(lang, "long"), locale=lang.replace("-", "_"))


# Indonesia's zones by their offset, as Indonesians write a time ("09.00 WIB"); another offset as UTC±hh:mm.
ZONE_NAMES = {7 * 3600: "WIB", 8 * 3600: "WITA", 9 * 3600: "WIT", 0: "UTC"}


def format_moment(value: dt.datetime, lang: str) -> str:
    """'16 Agustus 2025, 09.00 WIB', '16 August 2025, 9:00 AM WIB': the date as `format_date`,
    the time in the language's own short form (CLDR via Babel), in the moment's own offset."""
    from babel.dates import format_time

    offset = value.utcoffset()
    seconds = int(offset.total_seconds()) if offset is not None else 0
    zone = ZONE_NAMES.get(seconds)
    if zone is None:
        sign, rest = ("+" if seconds >= 0 else "-"), abs(seconds)
        zone = f"UTC{sign}{rest // 3600:02d}:{rest % 3600 // 60:02d}"
    clock = format_time(value.replace(tzinfo=None), "short", locale=lang.replace("-", "_"))
    return f"{format_date(value.date(), lang)}, {clock} {zone}"


def grouped(hex_digits: str) -> str:
    """A SHA-256 in groups of four, upper case, as printed: 'AB12 CD34 ...'."""
    return " ".join(hex_digits[i:i + 4].upper() for i in range(0, len(hex_digits), 4))


def language_name(lang: str) -> str:
    """A language's name in itself, as a menu shows it: from the table above, else from CLDR,
    its first letter capitalised as CLDR's context transforms do for a menu or list
    ('Français', 'Español'; a script without case is left as it is)."""
    if lang in LANGUAGE_NAMES:
        return LANGUAGE_NAMES[lang]
    try:
        name = _locale(lang).get_display_name() or lang
    except ValueError:
        return lang
    return name[:1].upper() + name[1:]


# What one render of a template may take: a page, a book's HTML or a card sheet part. A project
# template that loops without end, recurses or builds a huge text stops with its file and line.
RENDER_SECONDS = 30.0
MAX_TEMPLATE_INT = 10_000_000          # a number passed to a filter or function (width, count, ...)
MAX_TEMPLATE_TEXT = 16 * 1024 * 1024   # characters (or items) one `*` may make
_render = threading.local()


class TemplateLimit(jinja2.TemplateRuntimeError):
    """A template went past a render limit (time, size, recursion)."""


def _check_deadline() -> None:
    deadline = getattr(_render, "deadline", None)
    if deadline is not None and time.monotonic() > deadline:
        _render.deadline = None          # said once; the error unwinds the render
        raise TemplateLimit(f"the template took longer than {RENDER_SECONDS:g} s to render "
                            "(a loop without end?)")


def _check_arguments(args, kwargs) -> None:
    _check_deadline()
    for value in (*args, *kwargs.values()):
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_TEMPLATE_INT:
            raise TemplateLimit(f"the number {value:,} is larger than a template may pass "
                                f"({MAX_TEMPLATE_INT:,})")


def _guarded(function):
    """A filter as templates call it: Jinja calls filters directly, past the sandbox's `call`, so
    `"x"|center(10**9)` is stopped here."""
    @functools.wraps(function)                 # keeps Jinja's pass_context & co. marks
    def guarded(*args, **kwargs):
        _check_arguments(args, kwargs)
        return function(*args, **kwargs)
    return guarded


class _Range:
    """`range()` in a template: the sandbox's size limit, and the render's time limit on every
    1,024 steps, so nested loops cannot run for ever."""

    def __init__(self, *args: int) -> None:
        self.values = safe_range(*args)

    def __len__(self) -> int:
        return len(self.values)

    def __iter__(self):
        for n, value in enumerate(self.values):
            if not n & 1023:
                _check_deadline()
            yield value


class _Template(jinja2.Template):
    """A render with a deadline; Python's own limits (recursion, overflow, memory) said as a
    template error at the template's line, like any other."""

    def render(self, *args, **kwargs):
        outer = getattr(_render, "deadline", None)
        if outer is None:
            _render.deadline = time.monotonic() + RENDER_SECONDS
        try:
            return super().render(*args, **kwargs)
        except (RecursionError, OverflowError, MemoryError) as exc:
            what = {RecursionError: "recursion deeper than Python allows (a macro that calls itself without end?)",
                    OverflowError: f"a number too large: {exc}",
                    MemoryError: "more memory than a page may take"}[type(exc)]
            raise TemplateLimit(what).with_traceback(exc.__traceback__) from None
        finally:
            if outer is None:
                _render.deadline = None


class _Environment(ImmutableSandboxedEnvironment):
    """Jinja's sandbox (templates are the site's code, but reach no Python internals), with every
    read of a model object noted for the build's dependency record, and a render's limits."""

    template_class = _Template
    intercepted_binops = frozenset(["*", "**"])

    def call_binop(self, context, operator, left, right):
        _check_deadline()
        if operator == "**" and isinstance(right, int) and right > 64 and not (
                isinstance(left, int) and abs(left) <= 1):
            raise TemplateLimit(f"{left!r} ** {right!r}: a number too large for a template")
        if operator == "*":
            for text, times in ((left, right), (right, left)):
                if isinstance(text, (str, list, tuple)) and isinstance(times, int) \
                        and len(text) * times > MAX_TEMPLATE_TEXT:
                    raise TemplateLimit(f"a text or list of {len(text) * times:,} characters or items: "
                                        "more than a page may hold")
        return super().call_binop(context, operator, left, right)

    def call(__self, __context, __obj, *args, **kwargs):  # noqa: N805 - Jinja's own signature
        _check_arguments(args, kwargs)
        return super().call(__context, __obj, *args, **kwargs)

    def getattr(self, obj, attribute):
        deps.note(obj, attribute)
        return super().getattr(obj, attribute)

    def getitem(self, obj, argument):
        deps.note(obj, argument)
        return super().getitem(obj, argument)


def _finalize(value):
    deps.note(value)            # an object printed whole has been read whole
    return value


@dataclass(frozen=True)
class Templates:
    """Every template the build may use, read once: the renderers never touch the disk."""

    env: jinja2.Environment
    digest: str                  # SHA-256 over every file, the project's and the theme's
    print_css: str               # the project's templates/print.css ("" without one)


def load_templates(project_templates: Path | None, problems: Problems,
                   compiled: jinja2.BytecodeCache | None = None) -> Templates:
    """The project's templates/ over the bundled theme; only regular files whose real path is
    inside their folder (a symlink out of the project is refused, naming the file). `compiled`:
    where templates compiled by an earlier build are kept (the build's memo), or None."""
    project_files = _read_folder(project_templates, problems) if project_templates is not None else {}
    theme_files = _read_folder(THEME_DIR / "templates", problems)
    digest = hashlib.sha256()
    for origin, files in (("project", project_files), ("theme", theme_files)):
        for name, data in sorted(files.items()):
            digest.update(f"{origin}/{name}".encode() + b"\0" + hashlib.sha256(data).digest())
    key = (str(project_templates), digest.hexdigest())
    known = _COMPILED.get(key)
    if known is not None:                # the same templates as a build before in this process (serve)
        known.env.bytecode_cache = compiled          # this build's memo (`check` keeps nothing)
        return known
    bundled = _MemoryLoader(_texts(theme_files), str(THEME_DIR / "templates"))
    env = _Environment(
        loader=jinja2.ChoiceLoader([_MemoryLoader(_texts(project_files), "templates"),
                                    jinja2.PrefixLoader({"!default": bundled}), bundled]),
        autoescape=True,                 # every template, whatever its extension
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        finalize=_finalize,
        bytecode_cache=compiled,
    )
    env.globals["range"] = _Range
    env.filters["date"] = format_date
    env.filters["moment"] = format_moment
    env.filters["grouped"] = grouped
    env.globals["label"] = label
    env.globals["label_html"] = words          # names a template's own variables are unlikely to take
    env.globals["count_words"] = count
    env.globals["direction"] = direction
    env.globals["lang_attrs"] = lang_attrs
    env.globals["language_name"] = language_name
    env.filters.update({name: _guarded(function) for name, function in env.filters.items()})
    css = project_files.get(PRINT_CSS, b"").decode("utf-8", "replace")
    templates = Templates(env, digest.hexdigest(), css)
    _COMPILED.clear()                    # only the latest: an edited template never piles up
    _COMPILED[key] = templates
    return templates


# The environment of the last templates read, by their folder and digest: a preview server's
# rebuild finds its templates compiled already. Jinja keeps what it compiled inside the environment.
_COMPILED: dict[tuple[str, str], Templates] = {}


PRINT_CSS = "print.css"          # PROJECT/templates/print.css, applied after the theme's print.css
MAX_TEMPLATE_BYTES = 4 * 1024 * 1024


def _read_folder(folder: Path, problems: Problems) -> dict[str, bytes]:
    if not folder.exists():
        return {}
    if folder.is_symlink() or not folder.is_dir():
        problems.add(folder, None, "must be a folder inside the project, not a link or a file")
        return {}
    real = folder.resolve()
    files: dict[str, bytes] = {}
    for path in sorted(folder.rglob("*")):
        if path.is_dir() and not path.is_symlink():
            continue
        name = path.relative_to(folder).as_posix()
        if path.is_symlink() and not path.resolve().is_relative_to(real):
            problems.add(path, None, "links to a file outside the templates folder; templates are "
                         "read only from inside the project")
            continue
        if not path.is_file():
            problems.add(path, None, "is not a regular file")
            continue
        if path.stat().st_size > MAX_TEMPLATE_BYTES:
            problems.add(path, None, f"is larger than {MAX_TEMPLATE_BYTES:,} bytes")
            continue
        files[name] = path.read_bytes()
    return files


class _MemoryLoader(jinja2.BaseLoader):
    """Templates read once; messages name them as files (`templates/speech.html:3`)."""

    def __init__(self, texts: dict[str, str], folder: str) -> None:
        self.texts = texts
        self.folder = folder

    def get_source(self, environment, template):
        if template not in self.texts:
            raise jinja2.TemplateNotFound(template)
        return self.texts[template], f"{self.folder}/{template}", lambda: True

    def list_templates(self):
        return sorted(self.texts)


def _texts(files: dict[str, bytes]) -> dict[str, str]:
    out = {}
    for name, data in files.items():
        try:
            out[name] = data.decode("utf-8")
        except UnicodeDecodeError:
            continue             # not a template (an image a print template shows, say)
    return out


def check_templates(env: jinja2.Environment, names: list[str], problems: Problems) -> None:
    """Compile every template up front, so a syntax error names its file and line before any work."""
    for name in names:
        try:
            env.get_template(name)
        except jinja2.TemplateSyntaxError as exc:
            problems.add(exc.filename or name, exc.lineno,
                         f"template syntax error: {exc.message}")
        except jinja2.TemplateNotFound as exc:
            problems.add(name, None, f"template not found: {exc.name}")


TEMPLATE_SUFFIXES = (".html", ".xml", ".txt", ".css", ".j2")


def template_error(exc: Exception, page: str) -> tuple[str, int | None, str]:
    """Where in a template a render error happened: (file, line, message)."""
    import traceback

    filename, line = "templates", None
    for frame in traceback.extract_tb(exc.__traceback__):   # the innermost template's frame, never speechgen's
        if frame.filename.endswith(TEMPLATE_SUFFIXES):
            filename, line = frame.filename, frame.lineno
    message = exc.message if isinstance(exc, jinja2.TemplateError) and exc.message else str(exc)
    if isinstance(exc, jinja2.UndefinedError):
        message = f"undefined variable: {message}"
    return filename, line, f"{message} (while rendering {page})"
