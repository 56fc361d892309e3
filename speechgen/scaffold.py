"""`speechgen new` and `speechgen init`: files an editor starts from, complete and buildable."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from speechgen.config import CONFIG_NAME, load_config
from speechgen.errors import SpeechgenError
from speechgen.markdown import slugify
from speechgen.reader import SEGMENT_RE

_CONFIG = """\
# speechgen project settings. Every key is described in speechgen's README.
[site]
title = "{title}"
base_url = "https://pidato.example.go.id/"   # the address the site will be published at (https)
default_language = "id"
languages = ["id", "en"]
publisher = ""

[pdf]
page_size = "A4"
variant = "pdf/a-3b"

[qr]
error_correction = "M"
"""

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
    """A value safe to write after `key: `: always double-quoted, so YAML reads it back as text."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def new_speech(project: Path, title: str, *, date: dt.date | None = None, lang: str | None = None,
               speaker: str = "Nama Pembicara", slug: str | None = None) -> Path:
    """Write speeches/<year>/<slug>.<lang>.md with complete front matter; return its path."""
    config = load_config(project)
    lang = lang or config.site.default_language
    if lang not in config.site.languages:
        raise ScaffoldError(f"language {lang!r} is not in [site] languages {list(config.site.languages)} "
                            f"of {CONFIG_NAME}")
    date = date or dt.date.today()
    slug = slug or slugify(title)[:80].strip("-")
    if not SEGMENT_RE.match(slug):
        raise ScaffoldError(f"cannot make a slug from {title!r}; give one with --slug")
    path = config.speeches_dir / str(date.year) / f"{slug}.{lang}.md"
    if path.exists():
        raise ScaffoldError(f"{path}: already exists; not overwritten")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(_fill(_SPEECH, title=_yaml_text(title), speaker=_yaml_text(speaker),
                          date=date.isoformat(), status="draft", body=_SAMPLE_BODY), encoding="utf-8")
    return path


def init_project(folder: Path, *, title: str = "Arsip Pidato") -> list[Path]:
    """A new project that builds as it is: config, recipients, one sample speech."""
    if folder.exists() and any(folder.iterdir()):
        raise ScaffoldError(f"{folder}: folder is not empty; choose a new folder")
    today = dt.date.today()
    files = {
        CONFIG_NAME: _fill(_CONFIG, title=title.replace('"', "'")),
        "recipients.yaml": _RECIPIENTS,
        f"speeches/{today.year}/contoh.id.md": _fill(
            _SPEECH, title=_yaml_text("Contoh Pidato"), speaker=_yaml_text("Nama Pembicara"),
            date=today.isoformat(), status="published", body=_SAMPLE_BODY),
        "static/.keep": "",
        "templates/.keep": "",
        ".gitignore": "site/\n.speechgen-cache/\n",
    }
    written = []
    for rel, text in files.items():
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
