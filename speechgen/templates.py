"""The Jinja environment: the project's templates/ first, the bundled theme after.

A project template may extend the bundled one of the same name as "!default/speech.html".
Autoescape is on for every template and undefined variables are errors.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import jinja2
from babel.dates import format_date as babel_format_date

from speechgen.errors import Problems, SourceError

THEME_DIR = Path(__file__).parent / "theme"

# Interface words, Indonesian first. A page in another language uses that language's words.
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
    },
}
LANGUAGE_NAMES = {"id": "Bahasa Indonesia", "en": "English"}


def label(lang: str, key: str) -> str:
    return LABELS.get(lang, LABELS["en"]).get(key) or LABELS["en"][key]


def format_date(value: dt.date, lang: str) -> str:
    """'15 Agustus 2025' in Indonesian, '15 August 2025' in English (CLDR month names via Babel)."""
    return babel_format_date(value, "d MMMM y", locale=lang.replace("-", "_"))


def language_name(lang: str) -> str:
    return LANGUAGE_NAMES.get(lang, lang)


def make_environment(project_templates: Path | None) -> jinja2.Environment:
    bundled = jinja2.FileSystemLoader(str(THEME_DIR / "templates"))
    loaders: list[jinja2.BaseLoader] = []
    if project_templates is not None and project_templates.is_dir():
        loaders.append(jinja2.FileSystemLoader(str(project_templates)))
    loaders.append(jinja2.PrefixLoader({"!default": bundled}))
    loaders.append(bundled)
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=True,                 # every template, whatever its extension
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["date"] = format_date
    env.globals["label"] = label
    env.globals["language_name"] = language_name
    return env


def check_templates(env: jinja2.Environment, names: list[str], root: Path) -> None:
    """Load every template up front, so a syntax error names its file and line before any work."""
    problems = Problems(root)
    for name in names:
        try:
            env.get_template(name)
        except jinja2.TemplateSyntaxError as exc:
            problems.add(exc.filename or name, exc.lineno, f"template syntax error: {exc.message}")
        except jinja2.TemplateNotFound as exc:
            problems.add(name, None, f"template not found: {exc.name}")
    problems.raise_if_any(SourceError)


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
