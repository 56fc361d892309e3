"""The Jinja environment: the project's templates/ first, the bundled theme after.

A project template may extend the bundled one of the same name as "!default/speech.html".
Autoescape is on for every template and undefined variables are errors.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from pathlib import Path

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment
from babel.dates import format_date as babel_format_date

from speechgen import deps
from speechgen.errors import Problems

THEME_DIR = Path(__file__).parent / "theme"

# Interface words (pages, PDFs), Indonesian first. A page in another language uses that
# language's words; a language without its own set here gets the English ones.
LABELS: dict[str, dict[str, str]] = {
    "id": {
        "home": "Beranda", "archive": "Arsip", "years": "Tahun", "speakers": "Pembicara",
        "occasions": "Acara", "contents": "Daftar isi", "speaker": "Pembicara", "date": "Tanggal",
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
    },
    "en": {
        "home": "Home", "archive": "Archive", "years": "Years", "speakers": "Speakers",
        "occasions": "Occasions", "contents": "Contents", "speaker": "Speaker", "date": "Date",
        "occasion": "Occasion", "place": "Place", "language": "Language", "translations": "Translations",
        "latest": "Latest speeches", "all_speeches": "All speeches", "speeches": "speeches",
        "skip": "Skip to content", "search": "Search", "not_found": "Page not found",
        "not_found_text": "The page you are looking for does not exist. Go back home to see all speeches.",
        "feed": "Atom feed", "download_pdf": "Download PDF", "pages": "pages",
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
    },
}
LANGUAGE_NAMES = {"id": "Bahasa Indonesia", "en": "English"}


def label(lang: str, key: str) -> str:
    return LABELS.get(lang, LABELS["en"]).get(key) or LABELS["en"][key]


# The house style for the interface's own languages; every other language gets CLDR's long date.
DATE_PATTERNS = {"id": "d MMMM y", "en": "d MMMM y"}


def format_date(value: dt.date, lang: str) -> str:
    """'15 Agustus 2025', '15 August 2025', '15 de agosto de 2025' (CLDR month names via Babel)."""
    return babel_format_date(value, DATE_PATTERNS.get(lang, "long"), locale=lang.replace("-", "_"))


def language_name(lang: str) -> str:
    """A language's name in itself: from the table above, else from CLDR."""
    if lang in LANGUAGE_NAMES:
        return LANGUAGE_NAMES[lang]
    from babel import Locale

    return Locale.parse(lang.replace("-", "_")).get_display_name() or lang


class _Environment(ImmutableSandboxedEnvironment):
    """Jinja's sandbox (templates are the site's code, but reach no Python internals), with every
    read of a model object noted for the build's dependency record."""

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


def load_templates(project_templates: Path | None, problems: Problems) -> Templates:
    """The project's templates/ over the bundled theme; only regular files whose real path is
    inside their folder (a symlink out of the project is refused, naming the file)."""
    project_files = _read_folder(project_templates, problems) if project_templates is not None else {}
    theme_files = _read_folder(THEME_DIR / "templates", problems)
    digest = hashlib.sha256()
    for origin, files in (("project", project_files), ("theme", theme_files)):
        for name, data in sorted(files.items()):
            digest.update(f"{origin}/{name}".encode() + b"\0" + hashlib.sha256(data).digest())
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
    )
    env.filters["date"] = format_date
    env.globals["label"] = label
    env.globals["language_name"] = language_name
    css = project_files.get(PRINT_CSS, b"").decode("utf-8", "replace")
    return Templates(env, digest.hexdigest(), css)


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


def template_error(exc: Exception, page: str) -> tuple[str, int | None, str]:
    """Where in a template a render error happened: (file, line, message)."""
    import traceback

    filename, line = "templates", None
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename.endswith(".html") or frame.filename.endswith(".xml") or "templates" in frame.filename:
            filename, line = frame.filename, frame.lineno
    message = exc.message if isinstance(exc, jinja2.TemplateError) and exc.message else str(exc)
    if isinstance(exc, jinja2.UndefinedError):
        message = f"undefined variable: {message}"
    return filename, line, f"{message} (while rendering {page})"
