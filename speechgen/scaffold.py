"""`speechgen new` and `speechgen init`: files an editor starts from, complete and buildable."""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Callable
from pathlib import Path

from speechgen.config import CONFIG_NAME, load_config
from speechgen.errors import SpeechgenError
from speechgen.markdown import slugify
from speechgen.reader import (MAX_SOURCE_BYTES, RESERVED_RULE, SEGMENT_RE, SEGMENT_RULE, SOURCE_NAME_RE,
                              reserved_name, split_front_matter, text_problem)
from speechgen.yamlsafe import load as load_yaml

_CONFIG = """\
# speechgen project settings. Every key is described in speechgen's README.
[site]
title = {title}
base_url = "https://pidato.example.go.id/"   # the address the site will be published at (https)
default_language = "id"
languages = ["id", "en"]
publisher = ""

[pdf]
page_size = "A4"
variant = "pdf/a-3b"
# Files named here are paths from this folder, under static/ (berkas: jalur dari folder ini):
# emblem = "static/lambang.png"     # the cover's emblem, a PNG or JPEG

[qr]
error_correction = "M"
# logo = "static/logo.png"          # laid over every QR code

# Interface words for a language speechgen has none for, or other words for one it has
# (kata antarmuka; the keys are in speechgen/labels.py):
# [words.fr]
# download_pdf = "Télécharger le PDF"
"""

# What `init` writes for the user to replace: `check` warns while any is left (before cards are
# printed with an example address on them).
PLACEHOLDER_SPEAKER = "Nama Pembicara"
PLACEHOLDER_TITLE = "Contoh Pidato"
PLACEHOLDER_RECIPIENT = "contoh-lembaga"
PLACEHOLDER_TEXT = "Ganti dengan naskah pidato"

_RECIPIENTS = """\
# Recipient institutions: each gets its own copy page and a printed QR card.
recipients:
  - id: contoh-lembaga
    name: Lembaga Contoh
    short_name: LC
    group: lembaga-negara
    address: Jalan Contoh No. 1
"""

_SPEECH = """\
---
title: {title}
subtitle: ""
speaker: {speaker}
date: {date}
occasion: ""
place: ""
recipients: []
status: {status}
---

{body}
"""

_SAMPLE_BODY = """\
*Naskah contoh. Ganti dengan naskah pidato. / A sample text: replace it with the speech.*

Saudara-saudara sebangsa dan setanah air,

## Bagian pertama

Tulis naskah di sini dengan Markdown: judul bagian, tabel dan catatan kaki.[^1]

[^1]: Contoh catatan kaki.
"""


class ScaffoldError(SpeechgenError):
    pass


def _fill(template: str, **values: str) -> str:
    return template.format(**values)


def _yaml_text(value: str) -> str:
    """A value safe to write after `key: `: always double-quoted, so YAML reads it back as text.
    (`_check_text` has refused every control character, so none needs an escape here.)"""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _toml_text(value: str) -> str:
    """A TOML basic string that reads back as `value`: backslash, quote and every control
    character escaped."""
    out = []
    for char in value:
        if char in '"\\':
            out.append("\\" + char)
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\u{ord(char):04X}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def _check_text(what: str, value: str) -> str:
    """The text as a build will read it, or ScaffoldError saying why a build would refuse it."""
    if not value.strip():
        raise ScaffoldError(f"{what} must not be empty")
    unseen = text_problem(value)
    if unseen is not None:
        raise ScaffoldError(f"{what} {value!r} {unseen}")
    return value.strip()


def _shown(path: Path) -> str:
    text = str(path).replace("\x00", "\\x00")
    return text if len(text) <= 200 else text[:200] + "…"


def _write(path: Path, text: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("x", encoding="utf-8") as f:       # never over a file made meanwhile
            f.write(text)
    except FileExistsError:
        raise ScaffoldError(f"{path}: already exists; not overwritten") from None
    except OSError as exc:
        raise ScaffoldError(f"{exc.filename or path}: cannot write: {exc.strerror or exc}") from None


def new_speech(project: Path, title: str, *, date: dt.date | None = None, lang: str | None = None,
               speaker: str = "Nama Pembicara", slug: str | None = None,
               warn: Callable[[str], None] = lambda message: None) -> Path:
    """Write speeches/<year>/<slug>.<lang>.md with complete front matter; return its path. A
    speech of the same title and date already there (a translation meant?) is said to `warn`."""
    config = load_config(project)
    lang = _language(config, lang or config.site.default_language)
    date = date or dt.date.today()
    title = _check_text("title", title)
    speaker = _check_text("speaker", speaker)
    given = slug is not None
    slug = slug if given else slugify(title)[:80].strip("-")
    if not SEGMENT_RE.match(slug):
        raise ScaffoldError(f"slug {slug!r} must be {SEGMENT_RULE}" if given
                            else f"cannot make a slug from {title!r}; give one with --slug")
    if reserved_name(slug):
        raise ScaffoldError(f"slug {slug!r} {RESERVED_RULE}; give another with --slug")
    # The folder is the year in four digits, as the build reads it: 0001, 0999, 2025.
    path = config.speeches_dir / f"{date.year:04d}" / f"{slug}.{lang}.md"
    if path.exists():
        raise ScaffoldError(f"{path}: already exists; not overwritten")
    text = _fill(_SPEECH, title=_yaml_text(title), speaker=_yaml_text(speaker),
                 date=date.isoformat(), status="draft", body=_SAMPLE_BODY)
    if len(text.encode("utf-8")) > MAX_SOURCE_BYTES:
        raise ScaffoldError(f"the title and speaker make a file over {MAX_SOURCE_BYTES:,} bytes, "
                            "larger than a build reads; shorten them")
    twins = {other.name.split(".")[0]: other for other in reversed(_sources_of_year(config, date.year))
             if _same_speech(other, title, date) and other.name.split(".")[0] != slug}
    _write(path, text)
    for stem, other in sorted(twins.items()):
        warn(f"{_relative(other, config.root)} has the same title and date: if {path.name} is its "
             f"translation, remove it and run `speechgen new --translation-of {date.year:04d}/{stem} "
             f"--lang {lang}` (sama judul dan tanggal: terjemahan? pakai --translation-of)")
    return path


# Keys a translation writes in its own language; the rest it shares with the original (`date`,
# `slug`) or takes from it (`recipients`, once per speech).
_TRANSLATED = ("title", "subtitle", "speaker", "occasion", "place", "summary")
_TRANSLATE_NOTE = "# terjemahkan / translate"


def new_translation(project: Path, original: str, lang: str | None) -> Path:
    """Write the translation into `lang` of the speech `original` (YEAR/STEM, as its file is
    speeches/YEAR/STEM.<lang>.md): the same folder and stem, so the build joins the two; the
    shared keys copied; the keys to translate holding the original's text, each marked; the
    original's body to translate; as a draft. Returns its path."""
    config = load_config(project)
    if lang is None:
        raise ScaffoldError("--translation-of needs --lang: the language of the translation "
                            f"(one of {list(config.site.languages)})")
    lang = _language(config, lang)
    year, _, stem = original.strip().strip("/").partition("/")
    if year.startswith("speeches/"):
        year = year[len("speeches/"):]
    folder = config.speeches_dir / year
    found = sorted(folder.glob(f"{stem}.*.md")) if stem and year.isdigit() and "/" not in stem else []
    found = [f for f in found if (m := SOURCE_NAME_RE.match(f.name)) and m["stem"] == stem]
    if not found:
        known = sorted({f"{f.parent.name}/{f.name.split('.')[0]}" for f in config.speeches_dir.glob("*/*.md")})
        close = difflib.get_close_matches(original.strip().strip("/"), known, n=1)
        raise ScaffoldError(f"--translation-of {original}: no speech {_relative(folder, config.root)}/"
                            f"{stem or '?'}.<lang>.md (tidak ada pidato itu)"
                            + (f"; did you mean {close[0]}?" if close else
                               "; give it as YEAR/NAME, e.g. 2025/pidato-kenegaraan"))
    path = folder / f"{stem}.{lang}.md"
    if path.exists():
        raise ScaffoldError(f"{path}: already exists; not overwritten (terjemahan ini sudah ada)")
    order = {code: i for i, code in enumerate(config.site.languages)}
    source = min(found, key=lambda f: order.get(SOURCE_NAME_RE.match(f.name)["lang"], 99))
    try:
        raw = source.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScaffoldError(f"{source}: cannot read: {getattr(exc, 'strerror', None) or exc}") from None
    split = split_front_matter(raw)
    tree = load_yaml(split[0], first_line=2)[0] if not isinstance(split, str) else None
    if tree is None or not isinstance(tree.value, dict):
        raise ScaffoldError(f"{source}:1: its front matter cannot be read; fix it first (`speechgen check`)")
    values = {key: located.value for key, located in tree.value.items()}
    lines = ["---"]
    for key in ("title", "subtitle", "speaker", "date", "occasion", "place", "slug", "summary"):
        value = values.get(key)
        if value is None or (key == "slug" and value == stem):
            continue
        if key == "date":
            lines.append(f"date: {value}")
        elif isinstance(value, str):
            lines.append(f"{key}: {_yaml_text(value)}" + (f"   {_TRANSLATE_NOTE}" if key in _TRANSLATED else ""))
    lines += ["status: draft", "---", ""]
    text = "\n".join(lines) + "\n" + split[1].lstrip("\n")
    _write(path, text)
    return path


def _language(config, lang: str) -> str:
    if lang not in config.site.languages:
        close = difflib.get_close_matches(lang, config.site.languages, n=1)
        raise ScaffoldError(f"language {lang!r} is not in [site] languages {list(config.site.languages)} "
                            f"of {CONFIG_NAME}" + (f"; did you mean {close[0]!r}?" if close else ""))
    return lang


def _sources_of_year(config, year: int) -> list[Path]:
    folder = config.speeches_dir / f"{year:04d}"
    try:
        return sorted(f for f in folder.glob("*.md") if SOURCE_NAME_RE.match(f.name))
    except OSError:
        return []


def _same_speech(path: Path, title: str, date: dt.date) -> bool:
    """Whether the source at `path` has this title (case and spaces aside) and date."""
    try:
        split = split_front_matter(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        return False
    if isinstance(split, str):
        return False
    tree = load_yaml(split[0], first_line=2)[0]
    if tree is None or not isinstance(tree.value, dict):
        return False
    got = {key: located.value for key, located in tree.value.items()}
    fold = lambda text: " ".join(str(text).split()).casefold()   # noqa: E731
    return fold(got.get("title", "")) == fold(title) and str(got.get("date", "")) == date.isoformat()


def _relative(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def init_project(folder: Path, *, title: str = "Arsip Pidato") -> list[Path]:
    """A new project that builds as it is: config, recipients, one sample speech."""
    title = _check_text("title", title)
    try:
        if folder.exists() or folder.is_symlink():
            if not folder.is_dir():
                raise ScaffoldError(f"{folder}: exists and is not a folder; choose a new folder")
            if any(folder.iterdir()):
                raise ScaffoldError(f"{folder}: folder is not empty; choose a new folder")
    except ValueError:
        raise ScaffoldError(f"{_shown(folder)}: the path contains a NUL character") from None
    except OSError as exc:
        raise ScaffoldError(f"{_shown(folder)}: cannot use this folder: {exc.strerror or exc}") from None
    today = dt.date.today()
    files = {
        CONFIG_NAME: _fill(_CONFIG, title=_toml_text(title)),
        "recipients.yaml": _RECIPIENTS,
        f"speeches/{today.year}/contoh.id.md": _fill(
            _SPEECH, title=_yaml_text("Contoh Pidato"), speaker=_yaml_text("Nama Pembicara"),
            date=today.isoformat(), status="published", body=_SAMPLE_BODY),
        "static/.keep": "",
        "templates/.keep": "",
        ".gitignore": "site/\nsite-embargo/\n",     # embargoed speeches' card sheets print their titles
    }
    written = []
    for rel, text in files.items():
        path = folder / rel
        _write(path, text)
        written.append(path)
    return written
