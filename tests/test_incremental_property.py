"""The engine's invariant, property-based: after any sequence of edits, an incremental build gives
exactly the bytes of a clean build of the same sources in a fresh folder with no cache.

Hypothesis makes random projects (speeches, translations, recipients, a project template that may
read any field of any speech, static files, config) and random edits of every kind; after each edit
the project is rebuilt incrementally and compared with a clean build. A failed build must fail the
same way in both. Bounded to about a minute.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings, strategies as st

from conftest import tree_bytes
from speechgen.build import build
from speechgen.cache import Cache
from speechgen.config import load_config
from speechgen.errors import SpeechgenError
from speechgen.writer import MARKER

WORDS = ["rakyat", "negara", "desa", "pulau", "guru", "laut", "arsip", "adil", "maju", "pangan"]
TEXT = st.lists(st.sampled_from(WORDS), min_size=1, max_size=4).map(" ".join)
STEMS = ["alfa", "beta", "gama", "delta", "eko"]
YEARS = ["2023", "2024", "2025"]

# Project templates that read what the bundled ones do not: any field of any speech.
TEMPLATES = {
    "home.html": [
        '{% extends "!default/home.html" %}{% block main %}{{ super() }}'
        '{% for s in site.speeches[:1] %}<div class="latest">{{ s.primary.body_html | safe }}</div>{% endfor %}'
        "{% endblock %}",
        '{% extends "!default/home.html" %}{% block main %}'
        "{% for s in site.speeches | sort(attribute='slug') %}<p>{{ s.primary.place }} {{ s.primary.subtitle }}"
        " {{ s.recipients | join(',') }} {{ s.status }}</p>{% endfor %}{% endblock %}",
        '{% extends "!default/home.html" %}{% block main %}<p>{{ site.recipients | length }}'
        "{% for r in site.recipients %} {{ r.name }}{% endfor %}</p>{% endblock %}",
    ],
    "speech.html": [
        '{% extends "!default/speech.html" %}{% block speech_kicker %}'
        '<p class="kicker">{{ site.speeches | map(attribute="speaker") | join(";") }}</p>{% endblock %}',
        '{% extends "!default/speech.html" %}{% block speech_kicker %}'
        '<p class="kicker">{{ (site.speeches | last).primary.headings | length }}</p>{% endblock %}',
    ],
    "archive.html": [
        '{% extends "!default/archive.html" %}{% block main %}{{ super() }}'
        "{% for s in page.archive.speeches %}<p>{{ s.primary.summary }}</p>{% endfor %}{% endblock %}",
    ],
}


def front_matter(fields: dict) -> str:
    lines = ["---"]
    for key, value in fields.items():
        lines.append(f"{key}: {json.dumps(value, ensure_ascii=False)}")  # JSON is valid YAML
    return "\n".join(lines) + "\n---\n"


def speech_file(fields: dict, body: str) -> str:
    return front_matter(fields) + "\n" + body + "\n"


@st.composite
def projects(draw) -> dict[str, str | bytes]:
    files: dict[str, str | bytes] = {
        "speechgen.toml": '[site]\ntitle = "Arsip"\nbase_url = "https://arsip.example.go.id/p/"\n'
                          'languages = ["id", "en"]\n[pdf]\nenabled = false\n',
        "recipients.yaml": "recipients:\n  - {id: dpr, name: Dewan, group: lembaga}\n"
                           "  - {id: mpr, name: Majelis, group: lembaga}\n",
        "static/a.txt": b"satu",
    }
    for stem in draw(st.lists(st.sampled_from(STEMS), min_size=1, max_size=3, unique=True)):
        year = draw(st.sampled_from(YEARS))
        fields = {"title": draw(TEXT), "speaker": draw(st.sampled_from(["Ani", "Budi"])),
                  "date": f"{year}-0{draw(st.integers(1, 9))}-1{draw(st.integers(0, 9))}",
                  "occasion": draw(st.sampled_from(["Sidang", "Hari Guru"]))}
        if draw(st.booleans()):
            fields["recipients"] = ["lembaga"]
        files[f"speeches/{year}/{stem}.id.md"] = speech_file(fields, f"## {draw(TEXT)}\n\n{draw(TEXT)}.")
        if draw(st.booleans()):
            files[f"speeches/{year}/{stem}.en.md"] = speech_file({**fields, "title": draw(TEXT)}, draw(TEXT) + ".")
    return files


def _speeches(files) -> list[str]:
    return sorted(k for k in files if k.startswith("speeches/"))


def _split(text: str) -> tuple[dict, str]:
    head, _, body = text[4:].partition("\n---\n")
    fields = {}
    for line in head.splitlines():
        key, _, value = line.partition(": ")
        fields[key] = json.loads(value)
    return fields, body


EDITS = st.sampled_from(["body", "title", "subtitle", "speaker", "date", "occasion", "place", "status",
                         "recipients", "slug", "add", "delete", "rename", "translate", "untranslate",
                         "recipients.yaml", "template", "untemplate", "static", "config"])


def apply(files: dict, edit: str, data) -> None:
    """One edit of the kind named, with details drawn from `data`."""
    speeches = _speeches(files)
    if edit in ("add",) or not speeches:
        stem = data.draw(st.sampled_from(STEMS + ["zeta"]))
        year = data.draw(st.sampled_from(YEARS))
        files[f"speeches/{year}/{stem}.id.md"] = speech_file(
            {"title": data.draw(TEXT), "speaker": "Citra", "date": f"{year}-12-01"}, data.draw(TEXT))
        return
    path = data.draw(st.sampled_from(speeches))
    if edit == "recipients.yaml":
        files["recipients.yaml"] = data.draw(st.sampled_from([
            "recipients:\n  - {id: dpr, name: Dewan Baru, group: lembaga}\n  - {id: mpr, name: Majelis, group: lembaga}\n",
            "recipients:\n  - {id: dpr, name: Dewan, group: lembaga}\n",
            "recipients:\n  - {id: dpr, name: Dewan, group: lembaga}\n  - {id: mpr, name: Majelis, group: lembaga}\n"
            "  - {id: dpd, name: Dewan Daerah, group: lembaga}\n"]))
        return
    if edit == "template":
        name = data.draw(st.sampled_from(sorted(TEMPLATES)))
        files[f"templates/{name}"] = data.draw(st.sampled_from(TEMPLATES[name]))
        return
    if edit == "untemplate":
        for key in [k for k in files if k.startswith("templates/")][:1]:
            del files[key]
        return
    if edit == "static":
        files[data.draw(st.sampled_from(["static/a.txt", "static/b.txt"]))] = data.draw(st.binary(min_size=1, max_size=8))
        return
    if edit == "config":
        files["speechgen.toml"] = data.draw(st.sampled_from([
            '[site]\ntitle = "Arsip Baru"\nbase_url = "https://arsip.example.go.id/p/"\nlanguages = ["id", "en"]\n[pdf]\nenabled = false\n',
            '[site]\ntitle = "Arsip"\nbase_url = "https://arsip.example.go.id/p/"\nlanguages = ["id", "en"]\n'
            'publisher = "Sekretariat"\ndescription = "Pidato"\n[pdf]\nenabled = false\n',
            '[site]\ntitle = "Arsip"\nbase_url = "https://arsip.example.go.id/p/"\nlanguages = ["id", "en"]\n'
            '[pdf]\nenabled = false\n[qr]\nenabled = false\n',
            '[site]\ntitle = "Arsip"\nbase_url = "https://lain.example.go.id/"\nlanguages = ["id", "en"]\n[pdf]\nenabled = false\n']))
        return
    if edit == "delete":
        del files[path]
        return
    year, name = path.split("/")[1:]
    stem, lang = name.split(".")[:2]
    if edit == "rename":
        new = data.draw(st.sampled_from(STEMS + ["zeta"]))
        for other in [p for p in speeches if p.startswith(f"speeches/{year}/{stem}.")]:
            files[other.replace(f"/{stem}.", f"/{new}.")] = files.pop(other)
        return
    if edit == "translate":
        fields, body = _split(files[path])
        files[f"speeches/{year}/{stem}.en.md"] = speech_file({**fields, "title": data.draw(TEXT)}, body + " (en)")
        return
    if edit == "untranslate":
        files.pop(f"speeches/{year}/{stem}.en.md", None)
        return
    if edit in ("date", "slug"):               # translations share these: edit every language
        value = (f"{year}-0{data.draw(st.integers(1, 9))}-2{data.draw(st.integers(0, 8))}" if edit == "date"
                 else data.draw(st.sampled_from([f"{stem}-baru", stem])))
        for other in [p for p in speeches if p.startswith(f"speeches/{year}/{stem}.")]:
            fields, body = _split(files[other])
            files[other] = speech_file({**fields, edit: value}, body)
        return
    fields, body = _split(files[path])
    if edit == "body":
        body = body + "\n" + data.draw(TEXT) + ".\n"
    elif edit == "status":
        fields["status"] = data.draw(st.sampled_from(["draft", "published"]))
    elif edit == "recipients":
        fields["recipients"] = data.draw(st.sampled_from([["lembaga"], ["dpr"], ["mpr", "dpr"], []]))
    elif edit == "speaker":
        fields["speaker"] = data.draw(st.sampled_from(["Ani", "Budi", "Citra"]))
    else:                                # title, subtitle, occasion, place
        fields[edit] = data.draw(TEXT)
    files[path] = speech_file(fields, body)


def write_tree(root: Path, files: dict) -> None:
    """Make `root` hold exactly `files` (the speechgen output and dot folders aside)."""
    for path in [p for p in root.rglob("*") if p.is_file()]:
        rel = path.relative_to(root).as_posix()
        if not rel.startswith(("site/", ".")) and rel not in files:
            path.unlink()
    for rel, content in files.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        data = content.encode() if isinstance(content, str) else content
        if not target.exists() or target.read_bytes() != data:
            target.write_bytes(data)


def outcome(project: Path, out: Path, cache: Cache | None) -> dict[str, bytes] | list[str]:
    """The published files, or the sorted problems of a failed build."""
    try:
        build(load_config(project), out=out, pdf=False, card_pdfs=False, search=False, cache=cache)
    except SpeechgenError as error:
        return sorted(error.lines())
    return {k: v for k, v in tree_bytes(out).items() if k != MARKER}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(start=projects(), edits=st.lists(EDITS, min_size=1, max_size=5), data=st.data())
def test_every_edit_gives_the_clean_build(start, edits, data) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        project = root / "project"
        project.mkdir()
        files = dict(start)
        write_tree(project, files)
        outcome(project, project / "site", None)            # the first build fills the cache
        for step, edit in enumerate(edits):
            apply(files, edit, data)
            write_tree(project, files)
            incremental = outcome(project, project / "site", None)
            clean_project = root / f"clean-{step}"
            shutil.copytree(project, clean_project, ignore=shutil.ignore_patterns("site", ".site*"))
            clean = outcome(clean_project, root / f"clean-{step}-site", Cache.disabled())
            assert incremental == clean, f"after {edits[:step + 1]}"
