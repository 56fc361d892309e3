"""Hostile and broken input: clear errors, nothing published, nothing lost, nothing active."""

from __future__ import annotations

import json
import os
import posixpath
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import tree_bytes
from speechgen import yamlsafe
from speechgen.build import build
from speechgen.cli import main
from speechgen.config import load_config
from speechgen.errors import OutputError
from speechgen.graph import relative
from speechgen.markdown import render
from speechgen.reader import MAX_SOURCE_BYTES, SEGMENT_RE, split_front_matter
from speechgen.writer import safe_dest

HOSTILE_TITLE = 'Pidato <script>alert("x")</script> & <b onmouseover=alert(1)>tebal</b>'


def write_speech(project: Path, name: str, front: str, body: str = "Teks.\n") -> Path:
    path = project / "speeches" / "2025" / name
    path.write_text(f"---\n{front}---\n\n{body}", encoding="utf-8")
    return path


# --- 3. slugs and ids -------------------------------------------------------------------------

@pytest.mark.parametrize("slug", ["..", "/abs", "a/../b", '""', "a\\b", "\"a\\0b\"", "\"a\\u200bb\"",
                                  "\"a\\u202eb\"", "A", "-a", "a.b", "con/", "\"a\\u2028b\""])
def test_bad_slugs_are_refused_naming_the_file(project: Path, slug: str) -> None:
    write_speech(project, "lain.id.md", f"title: X\nspeaker: Y\ndate: 2025-01-01\nslug: {slug}\n")
    result = CliRunner().invoke(main, ["build", str(project)])
    assert result.exit_code == 1, result.output
    assert "speeches/2025/lain.id.md:5: slug" in result.output or "lain.id.md:5: slug must not be empty" in result.output \
        or "lain.id.md:5: slug must be text" in result.output
    assert not (project / "site").exists()


@pytest.mark.parametrize("name", ["a\u200bb.id.md", "a\u202eb.id.md", "A b.id.md"])
def test_bad_file_stems_are_refused(project: Path, name: str) -> None:
    write_speech(project, name, "title: X\nspeaker: Y\ndate: 2025-01-01\n")
    result = CliRunner().invoke(main, ["build", str(project)])
    assert result.exit_code == 1
    assert "is not a valid slug; rename the file or set `slug:`" in result.output


@given(st.text(max_size=40))
def test_any_accepted_segment_is_plain(text: str) -> None:
    if SEGMENT_RE.match(text):
        assert "/" not in text and ".." not in text and "\\" not in text and text == text.strip()
        assert all(c.isascii() and (c.isalnum() or c == "-") for c in text)
        assert posixpath.normpath(f"site/{text}") == f"site/{text}"


@given(st.text(max_size=60))
def test_writer_never_accepts_a_path_that_escapes(dest: str) -> None:
    try:
        path = safe_dest(dest)
    except OutputError:
        return
    resolved = posixpath.normpath(posixpath.join("/out", str(path)))
    assert resolved.startswith("/out/") and "\x00" not in resolved


segment = st.from_regex(r"[a-z0-9]{1,8}", fullmatch=True)
dest_strategy = st.lists(segment, min_size=0, max_size=4).map(lambda parts: "/".join(parts + ["index.html"]))


@given(dest_strategy, dest_strategy)
def test_relative_links_land_on_their_target(a: str, b: str) -> None:
    link = relative(a, b)
    assert not link.startswith("/")
    assert posixpath.normpath(posixpath.join(posixpath.dirname(a), link)) == b


# --- 1. front matter as a property --------------------------------------------------------------

yaml_text = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=40)


@given(title=yaml_text.filter(lambda t: t.strip()))
def test_quoted_front_matter_text_round_trips(title: str) -> None:
    quoted = json.dumps(title, ensure_ascii=False)   # a valid double-quoted YAML scalar
    tree, problems = yamlsafe.load(f"title: {quoted}\nspeaker: X\n")
    assert problems == []
    assert tree.value["title"].value == title and tree.value["title"].line == 1


@given(st.text(max_size=300))
@settings(suppress_health_check=[HealthCheck.too_slow])
def test_front_matter_parsing_never_crashes(text: str) -> None:
    split = split_front_matter(text)
    if isinstance(split, str):
        return
    yaml_part, _, first_line = split
    tree, problems = yamlsafe.load(yaml_part, first_line=2)
    for problem in problems:
        assert problem.line is None or 1 <= problem.line <= text.count("\n") + 2


# --- 2. sizes and pathological Markdown ---------------------------------------------------------

def test_oversized_source_is_refused(project: Path) -> None:
    path = write_speech(project, "besar.id.md", "title: X\nspeaker: Y\ndate: 2025-01-01\n", "a" * MAX_SOURCE_BYTES)
    result = CliRunner().invoke(main, ["build", str(project)])
    assert result.exit_code == 1
    assert f"speeches/2025/besar.id.md: file is {path.stat().st_size:,} bytes; the limit is {MAX_SOURCE_BYTES:,}" in result.output


@pytest.mark.parametrize("body", ["[" * 60000 + "]" * 60000, ">" * 100000, "*a **a " * 40000, "![" * 60000,
                                  "|a" * 3000 + "|\n" + "|-" * 3000 + "|\n" + ("|x" * 3000 + "|\n") * 20])
def test_pathological_markdown_finishes(body: str) -> None:
    # A safety bound, not a benchmark: each case takes well under a second here.
    started = time.monotonic()
    render(body[:MAX_SOURCE_BYTES])
    assert time.monotonic() - started < 20


# --- 4. content never becomes active ------------------------------------------------------------

def test_markup_in_titles_and_body_stays_text_everywhere(project: Path) -> None:
    write_speech(project, "jahat.id.md",
                 f"title: {json.dumps(HOSTILE_TITLE)}\nspeaker: \"</script><script>alert(2)</script>\"\n"
                 "date: 2025-03-03\noccasion: \"<i>x</i>\"\n",
                 '<script>alert(3)</script>\n\n[klik](javascript:alert(4))\n\n<img src=x onerror=alert(5)>\n\n'
                 '[a](<javascript:alert(6)>) [b](jav&#x09;ascript:alert(7))\n')
    build(load_config(project))
    site = project / "site"
    for path in site.rglob("*"):
        if path.suffix not in (".html", ".xml", ".txt"):
            continue          # manifest.json is data, read below; never served as a page
        text = path.read_text()
        assert "<script>alert" not in text, path
        assert "<b onmouseover" not in text and "<img src=x" not in text and "<i>x</i>" not in text, path
        assert 'href="javascript:' not in text.lower() and "href=\"jav" not in text.lower(), path
    page = (site / "2025/jahat/index.html").read_text()
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page
    raw = page.split('<script type="application/ld+json">')[1].split("</script>")[0]
    assert json.loads(raw)["name"] == HOSTILE_TITLE            # JSON-LD keeps the text, escaped for <script>
    assert json.loads(raw)["creator"]["name"] == "</script><script>alert(2)</script>"
    manifest = json.loads((site / "manifest.json").read_text())
    titles = [v["title"] for s in manifest["speeches"] for v in s["languages"].values()]
    assert HOSTILE_TITLE in titles
    feed = (site / "feeds/id.xml").read_text()
    assert "<title>Pidato &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in feed


def test_markup_in_recipient_names_stays_text(project: Path) -> None:
    (project / "recipients.yaml").write_text(
        "recipients:\n  - id: dpr\n    name: \"<script>alert(1)</script> DPR\"\n    group: lembaga-negara\n"
        "  - id: arsip\n    name: \"<script>alert(1)</script> DPR\"\n")
    build(load_config(project))
    for path in (project / "site").rglob("*.html"):
        assert "<script>alert(1)" not in path.read_text(), path
    manifest = json.loads((project / "site/manifest.json").read_text())
    names = [c["name"] for s in manifest["speeches"] for c in s.get("copies", [])]
    assert all(name == "<script>alert(1)</script> DPR" for name in names)


# --- 6. templates ------------------------------------------------------------------------------

def test_missing_included_template_names_the_template(project: Path) -> None:
    (project / "templates").mkdir()
    (project / "templates/home.html").write_text('{% extends "!default/home.html" %}\n'
                                                 '{% block main %}{% include "tidak-ada.html" %}{% endblock %}\n')
    result = CliRunner().invoke(main, ["build", str(project)])
    assert result.exit_code == 1
    assert "tidak-ada.html" in result.output and "Traceback" not in result.output


# --- 9. output folder --------------------------------------------------------------------------

@pytest.mark.parametrize("where", [".", "..", "/", "speeches", "foreign"])
def test_dangerous_output_folders_are_refused_by_the_cli(project: Path, where: str) -> None:
    (project / "foreign").mkdir()
    (project / "foreign/thesis.txt").write_text("keep")
    before = tree_bytes(project)
    out = where if where == "/" else str(project / where)
    result = CliRunner().invoke(main, ["build", str(project), "--out", out])
    assert result.exit_code == 1
    assert "refusing" in result.output or "not made by speechgen" in result.output
    assert tree_bytes(project) == before


# --- 10. interrupted build ---------------------------------------------------------------------

def test_killed_build_leaves_previous_output_and_is_cleaned_next_time(project: Path, tmp_path: Path) -> None:
    build(load_config(project))
    before = tree_bytes(project / "site")
    script = textwrap.dedent(f"""
        import os, signal
        from pathlib import Path
        from speechgen.model import Artifact
        from speechgen.writer import write_site
        def artifacts():
            yield Artifact("index.html", b"half")
            os.kill(os.getpid(), signal.SIGKILL)     # killed mid-build
        write_site(artifacts(), Path({str(project / 'site')!r}), Path({str(project)!r}))
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True)
    assert result.returncode == -signal.SIGKILL
    assert tree_bytes(project / "site") == before
    assert list(project.glob(".site.tmp-*")), "the killed build should have left its temp folder"
    build(load_config(project))
    assert not list(project.glob(".site.tmp-*"))
    assert tree_bytes(project / "site") == before


# --- 8. recipients: a URL too long for the printed code ------------------------------------------

@pytest.mark.parametrize("repeat, message", [
    (500, "speechgen.toml:3: [site] base_url makes copy URLs of 3060 bytes, and a QR code at error "
          "correction M holds at most 2331"),
    (250, "speechgen.toml:"),          # fits a code, but its modules would print too small
])
def test_url_too_long_for_the_printed_code_is_refused(project: Path, repeat: int, message: str) -> None:
    config = project / "speechgen.toml"
    config.write_text(config.read_text().replace(
        'base_url = "https://pidato.example.go.id/arsip/"',
        f'base_url = "https://pidato.example.go.id/{"arsip-" * repeat}/"'))
    result = CliRunner().invoke(main, ["build", str(project), "--no-pdf"])
    assert result.exit_code == 1, result.output
    assert message in result.output and "Traceback" not in result.output
    if repeat == 250:
        assert "under module_min_mm = 0.4" in result.output
    assert not (project / "site").exists()


# --- 5. files a speech points at ---------------------------------------------------------------

@pytest.mark.parametrize("src, expected", [
    ("https://cdn.example.com/x.png", "image 'https://cdn.example.com/x.png' not found: images must be files in static/"),
    ("/static/bom.png", "image '/static/bom.png' has too many pixels to open safely; the limit is 40,000,000 pixels"),
    ("/static/besar.png", "image '/static/besar.png' is 9000x5000 pixels; the limit is 40,000,000 pixels"),
    ("/static/bukan-gambar.png", "image '/static/bukan-gambar.png' is not a PNG, JPEG, GIF, WEBP or SVG image"),
])
def test_images_from_the_network_bombs_and_non_images_are_refused(project: Path, src: str, expected: str) -> None:
    from PIL import Image

    Image.new("1", (20000, 20000)).save(project / "static/bom.png")       # ~50 KB on disk, 400 MB decoded
    Image.new("1", (9000, 5000)).save(project / "static/besar.png")
    (project / "static/bukan-gambar.png").write_bytes(b"<svg onload=alert(1)>")
    write_speech(project, "gambar.id.md", "title: X\nspeaker: Y\ndate: 2025-01-01\n", f"![Gambar]({src})\n")
    started = time.monotonic()
    result = CliRunner().invoke(main, ["build", str(project), "--no-pdf"])
    assert result.exit_code == 1
    assert f"speeches/2025/gambar.id.md: {expected}" in result.output
    assert time.monotonic() - started < 30
    assert not (project / "site").exists()


def test_file_and_data_images_never_become_images(project: Path) -> None:
    write_speech(project, "berkas.id.md", "title: X\nspeaker: Y\ndate: 2025-01-01\n",
                 "![nol](file:///dev/zero) ![data](data:image/svg+xml;base64,PHN2Zz4=)\n")
    build(load_config(project))
    page = (project / "site/2025/berkas/index.html").read_text()
    assert "<img" not in page.split('class="speech-body"')[1]


@pytest.mark.pdf
def test_markup_in_titles_stays_text_in_pdf_metadata_and_cards(project: Path) -> None:
    import subprocess

    from pypdf import PdfReader

    # One speech, one recipient whose name is markup: the book and the card sheet both print text.
    for path in (project / "speeches").rglob("*.md"):
        path.unlink()
    (project / "recipients.yaml").write_text(
        'recipients:\n  - id: dpr\n    name: "<b>DPR</b> & <script>x</script>"\n')
    write_speech(project, "jahat.id.md",
                 f"title: {json.dumps(HOSTILE_TITLE)}\nspeaker: \"<i>Presiden</i>\"\ndate: 2025-03-03\n"
                 "recipients: [dpr]\n")
    build(load_config(project), pdf=True)
    site = project / "site"
    info = PdfReader(site / "2025/jahat/jahat.id.pdf").metadata
    assert info.title == HOSTILE_TITLE and info.author == "<i>Presiden</i>"
    cards = subprocess.run(["pdftotext", str(site / "2025/jahat/kartu-qr.pdf"), "-"],
                           capture_output=True, text=True, check=True).stdout
    assert "<b>DPR</b> & <script>x</script>" in cards
    assert 'Pidato <script>alert("x")</script>' in " ".join(cards.split())
