"""Hostile and broken input: clear errors, nothing published, nothing lost, nothing active."""

from __future__ import annotations

import json
import os
import posixpath
import re
import shutil
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


def test_a_project_or_output_folder_whose_path_is_not_utf8_is_refused_clearly(project: Path, tmp_path: Path) -> None:
    """Such a path cannot be named in a page, a key or the search indexer's arguments: a clear
    error at once, never a traceback, nothing written."""
    odd = Path(os.fsdecode(os.fsencode(str(tmp_path)) + b"/proyek-\xff"))
    shutil.copytree(project, odd)
    result = CliRunner().invoke(main, ["build", str(odd)])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "proyek-\\xff: the project folder's path is not UTF-8; rename the folder" in result.output
    assert not (odd / "site").exists()
    out = Path(os.fsdecode(os.fsencode(str(tmp_path)) + b"/situs-\xff"))
    result = CliRunner().invoke(main, ["build", str(project), "--out", str(out)])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "situs-\\xff: the output folder's path is not UTF-8; choose another --out" in result.output
    assert not out.exists()


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
    assert f"speeches/2025/gambar.id.md:7: {expected}" in result.output      # the image's line
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


# --- 11. files that are not files, names that are not names ------------------------------------
# The same promise as tests/fixtures/invalid/: the exact message, exit 1, no traceback, nothing
# published and the previous site byte for byte. These cases cannot live in a fixture folder (a
# FIFO, a link to /dev/zero, a 2 GB sparse file, a name that is not UTF-8), so each is made here.

def _fifo(path: Path) -> None:
    os.mkfifo(path)


def _sparse(path: Path) -> None:
    with open(path, "wb") as f:
        f.truncate(2 * 1024 ** 3)               # 2 GB that takes no disk: read whole, it would hang


def _replace(path: Path, make) -> None:
    if path.exists() or path.is_symlink():
        path.unlink()
    make(path)


def _link_out(project: Path, rel: str) -> None:
    """A link to a well-formed speech outside the project: publishing it would leak the file."""
    outside = project.parent / "luar.md"
    outside.write_text("---\ntitle: Rahasia\nspeaker: Y\ndate: 2025-01-01\n---\n\nRahasia.\n")
    os.symlink(outside, project / rel)


SPECIAL_FILES = {
    "speech-link-to-dev-zero": (lambda p: os.symlink("/dev/zero", p / "speeches/2025/nol.id.md"),
                                "speeches/2025/nol.id.md: links to a file outside the project; copy the file in instead"),
    "speech-fifo": (lambda p: _fifo(p / "speeches/2025/pipa.id.md"),
                    "speeches/2025/pipa.id.md: is not a regular file but a FIFO (named pipe); only ordinary files are read"),
    "speech-sparse-2gb": (lambda p: _sparse(p / "speeches/2025/besar.id.md"),
                          "speeches/2025/besar.id.md: file is 2,147,483,648 bytes; the limit is 524,288"),
    "speech-link-out-of-project": (lambda p: _link_out(p, "speeches/2025/luar.id.md"),
                                   "speeches/2025/luar.id.md: links to a file outside the project; copy the file in instead"),
    "speech-link-loop": (lambda p: os.symlink("lingkar.id.md", p / "speeches/2025/lingkar.id.md"),
                         "speeches/2025/lingkar.id.md: is a link that leads back to itself; replace it with the file"),
    "speech-name-not-utf8": (lambda p: (p / "speeches/2025").joinpath(os.fsdecode(b"pidato-\xff.id.md")).write_text("x"),
                             "speeches/2025/pidato-\\xff.id.md: file name is not UTF-8; rename the file"),
    "recipients-link-to-dev-zero": (lambda p: _replace(p / "recipients.yaml", lambda q: os.symlink("/dev/zero", q)),
                                    "recipients.yaml: links to a file outside the project; copy the file in instead"),
    "recipients-fifo": (lambda p: _replace(p / "recipients.yaml", _fifo),
                        "recipients.yaml: is not a regular file but a FIFO (named pipe); only ordinary files are read"),
    "recipients-sparse-2gb": (lambda p: _replace(p / "recipients.yaml", _sparse),
                              "recipients.yaml: file is 2,147,483,648 bytes; the limit is 8,388,608"),
    "recipients-too-large": (lambda p: (p / "recipients.yaml").write_text("recipients:\n" + "# " + "x" * 8 * 1024 * 1024 + "\n"),
                             "recipients.yaml: file is 8,388,623 bytes; the limit is 8,388,608"),
    "recipients-dangling-link": (lambda p: _replace(p / "recipients.yaml", lambda q: os.symlink("hilang.yaml", q)),
                                 "recipients.yaml: is a link to a file that does not exist"),
    "recipients-folder": (lambda p: _replace(p / "recipients.yaml", lambda q: q.mkdir()),
                          "recipients.yaml: is not a regular file but a folder; only ordinary files are read"),
    "config-link-to-dev-zero": (lambda p: _replace(p / "speechgen.toml", lambda q: os.symlink("/dev/zero", q)),
                                "speechgen.toml: is not a regular file but a character device; only ordinary files are read"),
    "config-fifo": (lambda p: _replace(p / "speechgen.toml", _fifo),
                    "speechgen.toml: is not a regular file but a FIFO (named pipe); only ordinary files are read"),
    "config-sparse-2gb": (lambda p: _replace(p / "speechgen.toml", _sparse),
                          "speechgen.toml: file is 2,147,483,648 bytes; the limit is 262,144"),
    "static-name-not-utf8": (lambda p: (p / "static").joinpath(os.fsdecode(b"lambang-\xff.png")).write_bytes(b"x"),
                             "static/lambang-\\xff.png: file name is not UTF-8; rename it (a page could not name it, nor a host store it)"),
    "static-fifo": (lambda p: _fifo(p / "static/pipa.png"),
                    "static/pipa.png: is not a regular file (a FIFO, a device, a socket or a broken link); only ordinary files are published"),
    "static-link-to-dev-zero": (lambda p: os.symlink("/dev/zero", p / "static/nol.png"),
                                "static/nol.png: is not a regular file (a FIFO, a device, a socket or a broken link); only ordinary files are published"),
}


@pytest.mark.parametrize("case", sorted(SPECIAL_FILES))
def test_files_that_are_not_files_are_refused_with_a_message(case: str, tmp_path: Path, monkeypatch) -> None:
    from conftest import copy_project

    make, expected = SPECIAL_FILES[case]
    project = copy_project(tmp_path / "p")
    runner = CliRunner()
    assert runner.invoke(main, ["build", str(project), "-q"]).exit_code == 0
    before = tree_bytes(project / "site")

    broken = copy_project(tmp_path / "broken")
    make(broken)
    monkeypatch.chdir(broken)
    started = time.monotonic()
    result = runner.invoke(main, ["build", ".", "--out", str(project / "site")])
    assert time.monotonic() - started < 20, "read whole, or hung"
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert expected in result.output.splitlines(), result.output
    assert "nothing was published" in result.output
    assert tree_bytes(project / "site") == before


# --- 12. YAML from its whole grammar: an answer or a message, always, in seconds ----------------

from speechgen.config import load_config as _load_config      # noqa: E402
from speechgen.errors import Problems                          # noqa: E402
from speechgen.reader import read_recipients, read_source      # noqa: E402

_words = st.sampled_from(["Pidato", "NO", "yes", "on", "~", "null", "true", "2025-08-15", "2025-02-30",
                          "12", "-0x1F", "1_000", "0o17", "1e999", ".nan", "190:20:30", "=", "<<", "a b",
                          "dpr", "lembaga-negara", "9" * 5000, "x" * 300])
_quoted = st.one_of(                                   # escapes (\u202e, \u0000, \ud800) and raw text
    st.text(st.characters(codec="utf-8", max_codepoint=0xFFFF), max_size=12).map(lambda t: json.dumps(t)),
    st.text(st.characters(codec="utf-8", exclude_categories=("Cc",)), max_size=12).map(
        lambda t: json.dumps(t, ensure_ascii=False)))
_tags = st.sampled_from(["!!str ", "!!int ", "!!float ", "!!bool ", "!!null ", "!!timestamp ",
                         "!!binary ", "!!set ", "!!omap ", "!!map ", "!!seq ", "!foo ", "! ", "!<tag:yaml.org,2002:int> ",
                         "!!python/object/apply:os.system ", "!!merge "])
_names = st.sampled_from(["a", "b", "c"])


def _node(depth: int):
    """A flow node: a scalar, an alias, or a list or mapping of nodes, each perhaps tagged or
    anchored (anchors may repeat; aliases may name nothing, or the node they are in)."""
    scalar = st.one_of(_words, _quoted)
    alias = _names.map(lambda n: f"*{n}")
    deep = st.integers(30, 200_000).map(lambda n: "[" * n + "]" * n)     # as deep as a source allows
    if depth <= 0:
        leaf = st.one_of(scalar, scalar, scalar, alias, deep)
    else:
        child = _node(depth - 1)
        key = st.one_of(scalar, child)                                   # complex keys too
        leaf = st.one_of(
            scalar, alias,
            st.lists(child, max_size=4).map(lambda items: "[" + ", ".join(items) + "]"),
            st.lists(st.tuples(st.booleans(), key, child), max_size=3).map(
                lambda pairs: "{" + ", ".join(f"{'? ' if q else ''}{k}: {v}" for q, k, v in pairs) + "}"))
    return st.tuples(st.one_of(st.just(""), _names.map(lambda n: f"&{n} ")),
                     st.one_of(st.just(""), _tags), leaf).map("".join)


_keys = st.sampled_from(["title", "speaker", "date", "subtitle", "occasion", "place", "slug", "recipients",
                         "status", "language", "<<", "extra", "? [title]", "? {a: b}", "&k title", "*a"])


@st.composite
def front_matter(draw) -> str:
    lines = []
    for _ in range(draw(st.one_of(st.just(0), st.integers(0, 5)))):
        key = draw(_keys)
        lines.append(f"{key}: {draw(_node(3))}" if not key.startswith("?") else f"{key}\n: {draw(_node(2))}")
    draw(st.randoms()).shuffle(lines)
    if draw(st.booleans()):                  # nearly valid: the text keys hold whatever YAML makes
        lines[:0] = [f"title: {draw(st.one_of(_quoted, _node(0)))}", f"speaker: {draw(_quoted)}", "date: 2025-08-15",
                     f"{draw(st.sampled_from(['subtitle', 'occasion', 'place']))}: {draw(st.one_of(_quoted, _node(1)))}"]
    if draw(st.integers(0, 2)) == 0:         # an alias chain: the billion laughs, or a few aliases
        levels, width = draw(st.integers(1, 12)), draw(st.integers(1, 12))
        lines.append(f"l0: &l0 [{', '.join(['lol'] * width)}]")
        lines += [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * width)}]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


def _unseen(text: str) -> list[str]:
    """Controls, format characters (bidi, zero-width), separators and surrogates in a text."""
    import unicodedata

    return [c for c in text if unicodedata.category(c) in ("Cc", "Cf", "Cs", "Zl", "Zp")]


@pytest.fixture(scope="module")
def grammar_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from conftest import copy_project

    return copy_project(tmp_path_factory.mktemp("grammar") / "p")


@given(front=front_matter())
@settings(max_examples=300, deadline=3000, suppress_health_check=[HealthCheck.too_slow,
          HealthCheck.function_scoped_fixture, HealthCheck.data_too_large])
def test_front_matter_from_the_whole_yaml_grammar_never_crashes_or_hangs(grammar_project: Path, front: str) -> None:
    config = _load_config(grammar_project)
    path = grammar_project / "speeches/2025/uji.id.md"
    path.write_text(f"---\n{front}---\n\nTeks.\n", encoding="utf-8")
    problems = Problems(config.root)
    started = time.monotonic()
    parsed = read_source(path, config, problems)               # never raises
    assert time.monotonic() - started < 3
    lines = front.count("\n") + 4
    for problem in problems.items:
        assert problem.line is None or 1 <= problem.line <= lines, problem
        str(problem).encode("utf-8")                            # printable as it is
    assert (parsed is None) == bool(problems.items)
    if parsed is not None:                                      # what is accepted shows as it reads
        version = parsed.version
        for text in (version.title, version.speaker, version.subtitle, version.occasion, version.place):
            assert isinstance(text, str) and not _unseen(text), ascii(text)
    tree, _ = yamlsafe.load(front, first_line=2)
    yamlsafe.plain(tree)                                        # a tree, never a loop or a bomb
    # The same text as recipients.yaml, at the top and as one recipient.
    for text in (front, "recipients:\n  - " + front.replace("\n", "\n    ")):
        config.recipients_file.write_text(text, encoding="utf-8")
        problems = Problems(config.root)
        started = time.monotonic()
        recipients = read_recipients(config, problems)
        assert time.monotonic() - started < 3
        assert all(isinstance(r.name, str) and not _unseen(r.name) for r in recipients)
        for problem in problems.items:
            str(problem).encode("utf-8")


@pytest.mark.parametrize("levels, width", [(7, 9), (9, 9), (30, 2), (5, 40)])
def test_alias_bombs_are_refused_in_milliseconds(levels: int, width: int) -> None:
    text = f"a0: &a0 [{', '.join(['lol'] * width)}]\n" + "".join(
        f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * width)}]\n" for i in range(1, levels))
    started = time.monotonic()
    tree, problems = yamlsafe.load(text, first_line=2)
    assert time.monotonic() - started < 1
    assert tree is None and len(problems) == 1
    assert "aliases repeat more than 100,000 values" in problems[0].message


def test_aliases_that_repeat_a_little_are_read() -> None:
    tree, problems = yamlsafe.load("alamat: &alamat Jalan Medan Merdeka\nlain: *alamat\nd: &d [a, b]\ne: [*d, *d]\n")
    assert problems == []
    assert yamlsafe.plain(tree) == {"alamat": "Jalan Medan Merdeka", "lain": "Jalan Medan Merdeka",
                                    "d": ["a", "b"], "e": [["a", "b"], ["a", "b"]]}


@pytest.mark.parametrize("text, expected", [
    ("a: &a [&a x, *a]\nb: *a\n", {"a": ["x", "x"], "b": "x"}),     # an alias names the latest &a
    ("a: &a x\nb: &a [*a]\n", "alias *a is inside the value &a names: a value cannot contain itself"),
    ("a: &a {b: &a [*a]}\n", "alias *a is inside the value &a names: a value cannot contain itself"),
    ("a: [*a]\n", "alias *a names no earlier &a"),
])
def test_anchors_given_again_and_aliases_inside_their_value(text: str, expected) -> None:
    tree, problems = yamlsafe.load(text)
    if isinstance(expected, dict):
        assert problems == [] and yamlsafe.plain(tree) == expected
    else:
        assert [p.message for p in problems] == [expected]


def test_nesting_as_deep_as_the_source_allows_is_refused_at_once() -> None:
    started = time.monotonic()
    tree, problems = yamlsafe.load("recipients: " + "[" * 250_000 + "]" * 250_000 + "\n", first_line=2)
    assert time.monotonic() - started < 1          # libyaml alone takes minutes, then crashes
    assert [p.message for p in problems] == ["lists and mappings are nested more than 32 levels deep"]
    assert [p.line for p in problems] == [2]


def test_nesting_refused_in_our_words_whatever_the_library_says(monkeypatch) -> None:
    # PyYAML 6.0.4's libyaml stops at a depth limit of its own, in its own words; another release
    # may word it otherwise. The reader still says what is wrong in its words, at the right line.
    monkeypatch.setattr(yamlsafe, "_NESTING_LIMIT", re.compile("(?!)"))
    tree, problems = yamlsafe.load("a: 1\nrecipients: " + "[" * 5_000 + "]" * 5_000 + "\n", first_line=2)
    assert tree is None
    assert [(p.line, p.message) for p in problems] == [(3, "lists and mappings are nested more than 32 levels deep")]
    # a plain syntax error is not taken for nesting
    assert [p.message for p in yamlsafe.load("a: [b, [c, d\n")[1]] == [
        "YAML syntax error: did not find expected ',' or ']'"]


def test_signing_imports_print_no_library_deprecation_warning() -> None:
    # pyHanko imports cryptography's deprecated DSA classes; an editor's `release` must not show it
    result = subprocess.run([sys.executable, "-W", "default", "-c",
                             "import speechgen.signing, pyhanko.sign.signers, pyhanko.sign.validation"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "Warning" not in result.stderr, result.stderr


# --- 13. every command with hostile arguments: a message or a usage error, never a traceback ---

def _hostile_cli_cases(tmp: Path, project: Path) -> list[tuple[list[str], int, str]]:
    """(arguments, exit code, a line the output holds)."""
    fifo = tmp / "fifo"
    pdf = tmp / "x.pdf"
    long = "a" * 70_000
    p = str(project)
    return [
        (["build", long], 1, "cannot open the project folder: File name too long"),
        (["build", p, "--out", "/dev/null"], 1, "/dev/null: exists and is not a folder"),
        (["build", str(fifo)], 1, "speechgen.toml: not found"),
        (["build", p, "-j", "0"], 2, "Usage:"),
        (["check", long], 1, "cannot open the project folder: File name too long"),
        (["check", "/dev/null"], 1, "speechgen.toml: not found"),
        (["new", "", "-p", p], 1, "title must not be empty"),
        (["new", "Pidato \u202eatadip", "-p", p], 1, "contains U+202E (RIGHT-TO-LEFT OVERRIDE)"),
        (["new", "X", "--speaker", "Presiden\u200b", "-p", p], 1, "contains U+200B (ZERO WIDTH SPACE)"),
        (["new", "\x00", "-p", p], 1, "contains the control character U+0000"),
        (["new", "X", "--slug", "../../etc", "-p", p], 1, "slug '../../etc' must be a plain path segment"),
        (["new", "X", "--slug", "lpt1", "-p", p], 1, "slug 'lpt1' is a device name Windows reserves"),
        (["new", "X", "--lang", "../x", "-p", p], 1, "language '../x' is not in [site] languages"),
        (["new", "X", "--date", "2025-02-30", "-p", p], 2, "Usage:"),
        (["new", "X" * 600_000, "-p", p], 1, "larger than a build reads; shorten them"),
        (["new", "X", "-p", long], 1, "cannot open the project folder: File name too long"),
        (["init", long], 1, "cannot use this folder: File name too long"),
        (["init", "/dev/null"], 1, "/dev/null: exists and is not a folder; choose a new folder"),
        (["init", str(fifo)], 1, "exists and is not a folder; choose a new folder"),
        (["init", str(tmp / "t"), "--title", " "], 1, "title must not be empty"),
        (["init", str(tmp / "u"), "--title", "A\nB"], 1, "contains the control character U+000A"),
        (["verify", str(pdf), "--site", "/dev/zero"], 1, "/dev/zero: is not a regular file but a character device"),
        (["verify", str(pdf), "--site", str(fifo)], 1, "is not a regular file but a FIFO (named pipe)"),
        (["verify", str(pdf), "--site", "\x00"], 1, "\\x00: no manifest here"),
        (["verify", str(pdf), "--site", long], 1, "no manifest here"),
        (["verify", "/dev/zero", "--site", p], 1, "/dev/zero: not a regular file; give the PDF file itself"),
        (["verify", str(fifo), "--site", p], 1, "not a regular file; give the PDF file itself"),
        (["verify", str(pdf), "--site", "https://"], 1, "https://: not an https:// address"),
        (["verify", str(pdf), "--site", "https://[::1"], 1, "https://[::1: not a valid URL"),
        (["verify", str(pdf), "--site", "https://x:99999/"], 1, "https://x:99999/: not a valid URL"),
        (["verify", str(pdf), "--site", "ftp://x/"], 1, "ftp://x/: not an https:// address"),
        (["verify", str(pdf), "--site", "https://a:b@x/"], 1, "must not hold a user name or password"),
        (["verify", str(pdf), "--site", "https://exa mple.com/"], 1, "cannot download the manifest"),
        (["verify", str(pdf), "--site", "https://\x00/"], 1, "\\x00"),
        (["serve", p, "--port", "70000"], 1, "cannot listen on 127.0.0.1:70000: the port must be a number from 0 to 65535"),
        (["serve", p, "--port", "-1"], 1, "the port must be a number from 0 to 65535"),
        (["serve", p, "--port", "x"], 2, "Usage:"),
    ]


def test_every_command_with_hostile_arguments_answers_without_a_traceback(tmp_path: Path) -> None:
    from conftest import copy_project

    project = copy_project(tmp_path / "p")
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "x.pdf").write_bytes(b"%PDF-1.7\n")
    before = tree_bytes(project)
    failures = []
    for args, code, expected in _hostile_cli_cases(tmp_path, project):
        started = time.monotonic()
        result = CliRunner().invoke(main, args)
        shown = [a[:40] for a in args]
        if result.exit_code != code or expected not in result.output or "Traceback" in result.output \
                or not (result.exception is None or isinstance(result.exception, SystemExit)) \
                or time.monotonic() - started > 20:
            failures.append(f"{shown}: exit {result.exit_code}, {result.exception!r}\n{result.output[:400]}")
    assert not failures, "\n\n".join(failures)
    assert tree_bytes(project) == before                # no command wrote into the project


@pytest.mark.parametrize("args", [["build", "\x00"], ["build", ".", "--out", "\x00"], ["check", "\x00"],
                                  ["new", "X", "-p", "\x00"], ["init", "\x00"]])
def test_a_nul_in_a_path_argument_is_a_usage_error(args: list[str]) -> None:
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit), result.exception


# --- 14. what the editor commands write, the build reads -------------------------------------

@pytest.mark.parametrize("title", ["A \\ B", 'Arsip "Pidato" \\n\\t', "Arsip\u00a0Pidato ✓ \\u0000"])
def test_init_writes_a_config_that_parses_whatever_the_title(tmp_path: Path, title: str) -> None:
    import tomllib

    result = CliRunner().invoke(main, ["init", str(tmp_path / "baru"), "--title", title])
    assert result.exit_code == 0, result.output
    assert tomllib.loads((tmp_path / "baru/speechgen.toml").read_text())["site"]["title"] == title
    assert _load_config(tmp_path / "baru").site.title == title
    built = CliRunner().invoke(main, ["build", str(tmp_path / "baru"), "-q"])
    assert built.exit_code == 0, built.output


@pytest.mark.parametrize("date", ["0001-01-01", "0999-12-31", "9999-12-31"])
def test_new_with_a_far_date_writes_a_speech_the_build_accepts(project: Path, date: str) -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["new", "Pidato Jauh", "--date", date, "--project", str(project)])
    assert result.exit_code == 0, result.output
    assert (project / "speeches" / date[:4] / "pidato-jauh.id.md").is_file()
    built = runner.invoke(main, ["build", str(project), "--drafts", "-q"])
    assert built.exit_code == 0, built.output
    assert (project / "site" / date[:4] / "pidato-jauh/index.html").is_file()


# --- 15. heading ids never take one the page uses ---------------------------------------------

def test_built_in_ids_list_every_id_the_theme_writes() -> None:
    from speechgen.markdown import BUILT_IN_IDS

    theme = Path(__file__).parent.parent / "speechgen/theme/templates"
    written = {m for path in theme.rglob("*") if path.is_file()
               for m in re.findall(r'\bid="([^"{]+)"', path.read_text(encoding="utf-8"))}
    assert written and written <= BUILT_IN_IDS, written - BUILT_IN_IDS


@pytest.mark.parametrize("heading", ["Isi", "Judul", "toc-title", "fn1", "FN 2", "fnref1", "p-3", "q",
                                     "Search Results", "pembukaan"])
def test_a_heading_never_takes_a_built_in_id(heading: str) -> None:
    from speechgen.markdown import BUILT_IN_IDS

    rendered = render(f"## {heading}\n\nTeks.[^1] Lagi.[^2]\n\n[^1]: Satu.\n[^2]: Dua.\n")
    anchor = rendered.headings[0].id
    assert anchor not in BUILT_IN_IDS and not re.fullmatch(r"p-\d+|fn\d+|fnref\d+(:\d+)?", anchor)
    ids = re.findall(r'\bid="([^"]+)"', rendered.html)
    assert len(ids) == len(set(ids)), ids


def test_speech_pages_have_unique_ids_whatever_the_headings(project: Path) -> None:
    write_speech(project, "judul.id.md", "title: X\nspeaker: Y\ndate: 2025-01-01\n",
                 "## Isi\n\nA.[^1]\n\n## Judul\n\n## fn1\n\n## toc-title\n\n## Pembukaan\n\n[^1]: Catatan.\n")
    build(load_config(project))
    page = (project / "site/2025/judul/index.html").read_text()
    ids = re.findall(r'\bid="([^"]+)"', page)
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    assert 'href="#fn1"' in page and 'id="fn1"' in page


# --- 16. static files: a stated list of types, SVGs without script ----------------------------

CLEAN_SVG = ('<?xml version="1.0" encoding="UTF-8"?>\n'
             '<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">\n'
             '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
             'xmlns:inkscape="http://www.inkscape.org/namespaces/inkscape" width="10" height="10">\n'
             '<defs><linearGradient id="g"><stop offset="0" stop-color="red"/></linearGradient></defs>\n'
             '<style>.a { fill: url(#g); }</style>\n'
             '<rect class="a" width="5" height="5" style="fill: url(#g)" inkscape:label="x"/>\n'
             '<use xlink:href="#g"/><a href="#g"><text>Peta</text></a>\n'
             '<image width="1" height="1" href="data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1Pe'
             'AAAADElEQVR4nGM4wcAAAAJcAMlDyBJGAAAAAElFTkSuQmCC"/>\n'
             '</svg>\n')


def test_allowed_static_files_and_clean_svgs_are_published(project: Path) -> None:
    for name in ("peta.svg", "gaya.css", "lampiran.pdf", "data.csv", "teks.txt", "huruf.woff2", "suara.mp3",
                 "Laporan 2024 (final).docx", "foto.JPG"):
        (project / "static" / name).write_text(CLEAN_SVG if name.endswith(".svg") else "x")
    (project / "static/.keep").write_text("")
    (project / "static/.git").mkdir()
    (project / "static/.git/config").write_text("[core]")
    write_speech(project, "peta.id.md", "title: X\nspeaker: Y\ndate: 2025-01-01\n", "![Peta](/static/peta.svg)\n")
    result = CliRunner().invoke(main, ["build", str(project), "-q"])
    assert result.exit_code == 0, result.output
    published = {p.name for p in (project / "site/static").iterdir()}
    assert published == {"lambang.png", "peta.svg", "gaya.css", "lampiran.pdf", "data.csv", "teks.txt",
                         "huruf.woff2", "suara.mp3", "Laporan 2024 (final).docx", "foto.JPG"}


@pytest.mark.parametrize("css, found", [
    ("fill: url(#g)", None), ("fill: url( '#g' )", None), ('fill: URL("#g")', None), ("a { b: url(#x) url(#y) }", None),
    ("fill: url(https://x.example/a)", "https://x.example/a"), ("fill: url( 'x.svg#g' )", "x.svg#g"),
    ("@IMPORT 'a.css';", "@import"), ("background: url()", "url()"), ("b: url(#g) url(data:image/png,x)", "data:image/png,x"),
])
def test_css_in_an_svg_may_refer_only_to_its_own_parts(css: str, found: str | None) -> None:
    from speechgen.reader import _css_reference

    assert _css_reference(css) == found


@pytest.mark.pdf
def test_a_clean_svg_with_the_standard_doctype_prints_in_the_pdf(project: Path) -> None:
    (project / "static/peta.svg").write_text(CLEAN_SVG)
    for path in (project / "speeches").rglob("*.md"):
        path.unlink()
    write_speech(project, "peta.id.md", "title: X\nspeaker: Y\ndate: 2025-01-01\n", "![Peta](/static/peta.svg)\n")
    report = build(load_config(project), pdf=True, card_pdfs=False)
    assert report.speeches == 1
    assert (project / "site/2025/peta/peta.id.pdf").read_bytes().startswith(b"%PDF")


@pytest.mark.parametrize("svg, expected", [
    ('<svg xmlns="http://www.w3.org/2000/svg"><script xmlns="http://www.w3.org/1999/xhtml">x</script></svg>',
     ":1: SVG has a <script> element"),
    ('<svg xmlns="http://www.w3.org/2000/svg"><rect ONMOUSEOVER="x"/></svg>', ':1: SVG has the event handler ONMOUSEOVER="x"'),
    ('<svg xmlns="http://www.w3.org/2000/svg"><use href="other.svg#x"/></svg>',
     ":1: SVG refers to 'other.svg#x' from <use>"),
    ('<svg xmlns="http://www.w3.org/2000/svg"><image href="data:image/svg+xml;base64,PHN2Zz4="/></svg>',
     ":1: SVG refers to 'data:image/svg+xml;base64,PHN2Zz4=' from <image>"),
    ('<svg xmlns="http://www.w3.org/2000/svg"><rect fill="url(https://x.example/a.svg#g)"/></svg>',
     ":1: SVG refers to 'https://x.example/a.svg#g' in its fill attribute"),
    ('<svg xmlns="http://www.w3.org/2000/svg"><style>a{}</style><style>b { background: url(//x.example/p) }</style></svg>',
     ":1: SVG refers to '//x.example/p' in a <style> element"),
    ('<svg xmlns="http://www.w3.org/2000/svg"><animate attributeName="onclick" to="x"/></svg>',
     ":1: SVG animates the attribute 'onclick' of another element"),
    ('<svg xmlns="http://www.w3.org/2000/svg"><FOREIGNOBJECT/></svg>', ":1: SVG has a <foreignObject> element"),
    ('<!DOCTYPE svg [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]><svg xmlns="http://www.w3.org/2000/svg">&b;</svg>',
     ":1: SVG declares entities in its DOCTYPE"),
    ('<svg><rect/></svg>', ":1: is not an SVG image: its root element is <svg>, not <svg> in the SVG namespace"),
    ('', ":1: is not a well-formed SVG: no element found"),
])
def test_svgs_that_could_run_or_load_are_refused_naming_the_file(project: Path, svg: str, expected: str) -> None:
    (project / "static/x.svg").write_text(svg)
    result = CliRunner().invoke(main, ["build", str(project), "-q"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert f"static/x.svg{expected}" in result.output, result.output
    assert not (project / "site").exists()


# --- 17. done by the engine, held here too: config values and folders that lead out --------------

@pytest.mark.parametrize("value", ["inf", "-inf", "nan", "0", "-1", "1e309", "3601"])
def test_a_pdf_timeout_out_of_range_is_a_message(project: Path, value: str) -> None:
    with open(project / "speechgen.toml", "a") as f:
        f.write(f"\n[pdf]\ntimeout = {value}\n")
    result = CliRunner().invoke(main, ["build", str(project)])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert "speechgen.toml:9: [pdf] timeout must be more than 0 and at most 3600 seconds" in result.output


@pytest.mark.parametrize("folder, expected", [
    ("static", "static: must be a folder inside the project, not a link out of it; nothing outside the project is published"),
    ("templates", "templates: must be a folder inside the project, not a link or a file"),
])
def test_static_or_templates_linked_out_of_the_project_publish_nothing(project: Path, tmp_path: Path,
                                                                       folder: str, expected: str) -> None:
    import shutil

    outside = tmp_path / "luar"
    outside.mkdir()
    (outside / "rahasia.txt").write_text("rahasia")
    (outside / "speech.html").write_text("{{ 7 * 7 }} rahasia")
    if (project / folder).exists():
        shutil.rmtree(project / folder)
    os.symlink(outside, project / folder)
    result = CliRunner().invoke(main, ["build", str(project)])
    assert result.exit_code == 1
    assert any(line.endswith(expected) for line in result.output.splitlines()), result.output
    assert not (project / "site").exists()
