"""The engine's promises: dependencies by construction, a cache that is not input, one place for
paths, preflight before any rendering, check and serve that write nothing into the project."""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import search_view, tree_bytes
from speechgen import graph
from speechgen.build import build
from speechgen.cache import Cache, default_folder
from speechgen.cli import main
from speechgen.config import load_config
from speechgen.errors import ConfigError, SourceError
from speechgen.writer import MARKER

PACKAGE = Path(__file__).parent.parent / "speechgen"


def published(folder: Path) -> dict[str, bytes]:
    return search_view({k: v for k, v in tree_bytes(folder).items() if k != MARKER})


def clean(project: Path, tmp_path: Path, name: str = "clean") -> dict[str, bytes]:
    fresh = tmp_path / f"{name}-project"
    shutil.copytree(project, fresh, ignore=shutil.ignore_patterns("site", ".site*"))
    build(load_config(fresh), out=tmp_path / name, card_pdfs=False, cache=Cache.disabled())
    return published(tmp_path / name)


def test_a_home_template_showing_the_latest_body_follows_that_body(project: Path, tmp_path: Path) -> None:
    """The stale page the hand-kept cache keys missed: home reads another speech's body."""
    (project / "templates").mkdir()
    (project / "templates/home.html").write_text(
        '{% extends "!default/home.html" %}{% block main %}{{ super() }}'
        '<div id="latest">{{ site.speeches[0].primary.body_html | safe }}</div>{% endblock %}')
    build(load_config(project), card_pdfs=False)
    source = project / "speeches/2025/kenegaraan.id.md"
    source.write_text(source.read_text() + "\nKalimat baru di akhir pidato terbaru.\n")
    report = build(load_config(project), card_pdfs=False)
    home = (project / "site/index.html").read_text()
    assert "Kalimat baru di akhir pidato terbaru." in home
    assert published(project / "site") == clean(project, tmp_path)
    assert report.rendered < 30                 # what read the body, not every page


def test_a_value_a_template_is_handed_is_keyed_by_what_it_holds() -> None:
    """deps.shallow, the key of a value handed to a template: plain values by repr, long texts by
    their digest (never by their length), model objects by their token, containers item by item."""
    from markupsafe import Markup

    from speechgen import deps
    from speechgen.model import Recipient

    long_a, long_b = "a" * 2000, "a" * 1999 + "b"
    assert deps.shallow(long_a) != deps.shallow(long_b)
    assert deps.shallow(long_a) == deps.shallow("a" * 2000) and long_a[:30] not in deps.shallow(long_a)
    assert deps.shallow(Markup(long_a)) != deps.shallow(long_a)         # a markup text is not a plain one
    assert deps.shallow(Markup(long_a)) != deps.shallow(Markup(long_b))
    assert [deps.shallow(v) for v in ("x", 3, 2.5, True, None)] == ["'x'", "3", "2.5", "True", "None"]
    one, other = Recipient("dpr", "Dewan"), Recipient("dpr", "Dewan Perwakilan Rakyat")
    assert deps.token(one) == deps.token(other) == "recipient:dpr"      # an object by its name only
    assert deps.shallow({"to": [one, "x"]}) == "{'to':[recipient:dpr,'x']}"
    assert deps.token("recipient:dpr") is None and deps.token(3) is None

    @dataclasses.dataclass(frozen=True)
    class Listed(Recipient):          # a model class's subclass is named as its model class
        rank: int = 0

    assert deps.token(Listed("dpr", "Dewan")) == "recipient:dpr"
    assert deps.token(Markup("x")) is None and deps.token(Markup("y")) is None      # asked twice


def test_a_forged_or_foreign_cache_entry_is_a_miss(project: Path, tmp_path: Path, monkeypatch) -> None:
    """Someone who can write the cache folder (a shared CI cache, say) but does not hold this
    machine's key replaces every page record with one pointing at a script; nothing of it is
    published. A cache folder committed with the sources is not even read."""
    import hashlib
    import json

    expected = clean(project, tmp_path)
    build(load_config(project), card_pdfs=False)
    folder = default_folder(project)
    ours = os.environ["XDG_STATE_HOME"]
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "other-machine"))
    forger = Cache(folder)                                 # the same folder, another machine's key
    monkeypatch.setenv("XDG_STATE_HOME", ours)
    evil = b"<!doctype html><script>alert(1)</script>"
    evil_sha = hashlib.sha256(evil).hexdigest()
    forged = 0
    for entry in (p for p in (folder / "trace").rglob("*") if p.is_file()):
        head = entry.read_bytes()[len(b"speechgen-cache 2\n") + 32:].partition(b"\n")[0]
        record = {**json.loads(head), "sha256": evil_sha, "bytes": len(evil)}
        forged_entry = json.dumps(record).encode() + (b"\n" + evil if record.get("inline") else b"")
        forger.put("trace", entry.name, forged_entry)
        forged += 1
    forger.put("blob", evil_sha, evil)
    (project / ".speechgen-cache" / "html" / "ab").mkdir(parents=True)   # an old-style folder too
    (project / ".speechgen-cache" / "html" / "ab" / ("ab" * 32)).write_bytes(evil)
    shutil.rmtree(project / "site")                        # nothing to link from: all from the cache
    report = build(load_config(project), card_pdfs=False)
    assert forged >= 15
    assert b"<script>alert" not in b"".join(published(project / "site").values())
    assert published(project / "site") == expected
    assert report.rendered >= forged                        # every forged record was refused


def test_check_writes_nothing_into_the_project_nor_the_cache(project: Path) -> None:
    build(load_config(project), card_pdfs=False)
    before = tree_bytes(project)
    cache = default_folder(project)
    cached = tree_bytes(cache)
    (project / "speeches/2024/lama.id.md").write_text(
        (project / "speeches/2024/lama.id.md").read_text() + "\nSuntingan yang belum dibangun.\n")
    before["speeches/2024/lama.id.md"] = (project / "speeches/2024/lama.id.md").read_bytes()
    result = CliRunner().invoke(main, ["check", str(project)])
    assert result.exit_code == 0, result.output
    assert tree_bytes(project) == before
    assert tree_bytes(cache) == cached


def test_the_card_sheet_template_can_be_overridden(project: Path) -> None:
    pypdf = pytest.importorskip("pypdf")
    (project / "templates/print").mkdir(parents=True)
    (project / "templates/print/cards.html").write_text(
        '{% extends "!default/print/cards.html" %}{% block card_footer %}KARTU-PROYEK{% endblock %}')
    build(load_config(project), pdf=False)
    text = "".join(p.extract_text() for p in pypdf.PdfReader(project / "site/2025/kenegaraan/kartu-qr.pdf").pages)
    assert "KARTU-PROYEK" in text


def test_any_cldr_language_builds_and_an_unknown_one_is_a_config_error(project: Path) -> None:
    toml = project / "speechgen.toml"
    toml.write_text(toml.read_text().replace('languages = ["id", "en"]', 'languages = ["id", "en", "es-419"]'))
    (project / "speeches/2024/lama.es-419.md").write_text(
        "---\ntitle: Discurso antiguo\nspeaker: Menteri Uji\ndate: 2024-01-02\n---\n\nTexto.\n")
    build(load_config(project), card_pdfs=False)
    page = (project / "site/2024/lama/es-419/index.html").read_text()
    assert 'lang="es-419"' in page and "2 de enero de 2024" in page
    toml.write_text(toml.read_text().replace('"es-419"]', '"zz"]'))
    with pytest.raises(ConfigError, match=r"speechgen.toml:\d+: \[site\] languages lists 'zz' is not a language CLDR knows"):
        load_config(project)


def test_preflight_reports_config_and_sources_together_before_any_rendering(project: Path, monkeypatch) -> None:
    from speechgen.render import pdf

    monkeypatch.setattr(pdf, "render_books", lambda *a, **k: pytest.fail("rendered before preflight"))
    toml = project / "speechgen.toml"
    toml.write_text(toml.read_text() + '[pdf]\nemblem = "static/missing.png"\n[qr]\nlogo = "speechgen.toml"\n')
    (project / "speeches/2024/lama.id.md").write_text("---\ntitle: X\n---\n")
    with pytest.raises(SourceError) as error:
        build(load_config(project), pdf=True)
    lines = error.value.lines()
    assert any(line.startswith("speechgen.toml:") and "[pdf] emblem 'static/missing.png'" in line for line in lines)
    assert any(line.startswith("speechgen.toml:") and "[qr] logo 'speechgen.toml'" in line for line in lines)
    assert any(line.startswith("speeches/2024/lama.id.md:1: front matter is missing") for line in lines)


def test_two_outputs_on_one_path_or_a_file_where_a_folder_is_needed_are_refused(project: Path) -> None:
    config = load_config(project)
    outputs = (graph.Output("a/index.html", "page", "page A"), graph.Output("A/INDEX.html", "file", "file B"),
               graph.Output("b", "file", "file C"), graph.Output("b/x.pdf", "pdf", "book D"),
               graph.Output("pagefind", "search", "the index"), graph.Output("pagefind/x.js", "file", "file E"))
    with pytest.raises(SourceError) as error:
        graph._check_claims(outputs, config)
    text = str(error.value)
    assert "file B: claims the URL 'A/INDEX.html' that page A also claims" in text
    assert "book D: needs the folder 'b', which file C claims as a file" in text
    assert "file E: claims a path inside pagefind/, the search index's folder" in text


def test_every_output_of_a_build_is_in_the_inventory(project: Path) -> None:
    config = load_config(project)
    from speechgen import reader

    site = graph.make_site(config, reader.read_project(config), graph.Options(pdf=True, cards=True, search=True))
    build(config, pdf=True, jobs=1)
    files = {k for k in tree_bytes(project / "site") if k != MARKER}
    inventory = {o.dest for o in site.outputs if o.kind != "search"}
    assert files - inventory == {f for f in files if f.startswith("pagefind/")}
    assert inventory <= files


LITERALS = re.compile(r"""["'](?:feeds/|_assets/|pagefind/|cari/|aksesibilitas/|tahun/|pembicara/|acara/|"""
                      r"""SHA256SUMS|manifest\.json|sitemap\.xml["']|robots\.txt["']|salinan|kartu-qr|index\.html|404\.html)""")


def test_no_module_but_the_graph_spells_an_output_path() -> None:
    found = []
    for path in sorted(PACKAGE.rglob("*")):
        if path.suffix not in (".py", ".html", ".xml", ".txt", ".js") or path.name == "graph.py":
            continue
        for number, line in enumerate(path.read_text("utf-8").splitlines(), 1):
            code = line.split("#")[0] if path.suffix == ".py" else line
            if LITERALS.search(code) and "PAGE_TEMPLATES" not in line and '"feed.xml", "sitemap.xml"' not in line:
                found.append(f"{path.relative_to(PACKAGE)}:{number}: {line.strip()}")
    assert found == []


def test_a_character_no_font_has_is_a_build_error_with_its_line(project: Path) -> None:
    source = project / "speeches/2024/lama.id.md"
    source.write_text(source.read_text() + "\nKata Sanskerta: अ.\n")
    with pytest.raises(SourceError) as error:
        build(load_config(project), pdf=True)
    line = len(source.read_text().splitlines())
    assert f"speeches/2024/lama.id.md:{line}: character U+0905 'अ' has no glyph in the bundled fonts; " \
        "add a font in [pdf] fonts" in error.value.lines()
    build(load_config(project), pdf=False)                  # no PDF: nothing prints it


def test_bodies_rendered_ahead_are_the_ones_reading_finds(project: Path, tmp_path: Path, monkeypatch) -> None:
    """A cold build renders the missing bodies ahead (in workers when there are many), and
    reading then finds every one in the cache: each body is rendered once, and the site is the
    site of a build that rendered each while reading."""
    from speechgen import memo as memo_module
    from speechgen import markdown

    expected = clean(project, tmp_path)
    monkeypatch.setattr(memo_module, "MARKDOWN_AHEAD_MIN", 1)
    original = markdown.render
    calls = []

    def counted(body: str, first_line: int):
        calls.append(first_line)
        return original(body, first_line)
    monkeypatch.setattr(markdown, "render", counted)
    said = []
    build(load_config(project), card_pdfs=False, log=said.append)
    sources = [p for p in (project / "speeches").rglob("*.md")]
    assert any("rendered ahead" in line for line in said)
    assert len(calls) == len(sources)                    # not once ahead and again while reading
    assert published(project / "site") == expected


def test_the_ahead_pass_reads_only_sources_changed_since_it_last_saw_them(project: Path, tmp_path: Path,
                                                                         monkeypatch) -> None:
    """On an edit, rendering ahead does not read every source to find the one new body: a source
    at the size and stamps it last saw with its body in the cache is passed over. A hint that is
    wrong (the body gone from the cache) costs a render while reading, never a wrong page."""
    import traceback

    from speechgen import memo as memo_module
    from speechgen import reader

    monkeypatch.setattr(memo_module, "RACY_NS", 0)             # no source is "too recent" here
    monkeypatch.setattr(memo_module, "MARKDOWN_AHEAD_MIN", 1)   # the cold build renders ahead
    build(load_config(project), card_pdfs=False)
    original = reader.read_project_file
    ahead: list[str] = []

    def counted(path, *args, **kwargs):
        if any(frame.name == "bodies" for frame in traceback.extract_stack()):
            ahead.append(path.name)
        return original(path, *args, **kwargs)
    monkeypatch.setattr(reader, "read_project_file", counted)
    source = project / "speeches/2025/kenegaraan.id.md"
    source.write_text(source.read_text() + "\nKalimat baru.\n")
    build(load_config(project), card_pdfs=False)
    assert set(ahead) == {"kenegaraan.id.md"}                   # the edited source only
    hints = [p for p in (default_folder(project) / "ahead").rglob("*") if p.is_file()]
    assert len(hints) == 1, hints                               # every hint in one entry, not a file each
    assert "Kalimat baru." in (project / "site/2025/kenegaraan/index.html").read_text()

    shutil.rmtree(default_folder(project) / "markdown")         # every hint is now wrong
    source.write_text(source.read_text() + "\nKalimat kedua.\n")
    build(load_config(project), card_pdfs=False)
    assert published(project / "site") == clean(project, tmp_path)


def test_an_unchanged_source_is_not_parsed_again_and_its_body_made_only_when_asked(
        project: Path, tmp_path: Path, monkeypatch) -> None:
    """A source read before at the same stamps is not parsed again (its front matter, checks and
    body): the site is the clean build's, and a template that shows another speech's body still
    gets that body (rendered from the Markdown cache when asked for)."""
    from speechgen import memo as memo_module
    from speechgen import reader, texts

    (project / "templates").mkdir()
    (project / "templates/home.html").write_text(
        '{% extends "!default/home.html" %}{% block main %}{{ super() }}'
        '<div id="latest">{{ site.speeches[0].primary.body_html | safe }}</div>{% endblock %}')
    monkeypatch.setattr(memo_module, "RACY_NS", 0)
    build(load_config(project), card_pdfs=False)
    parsed: list[str] = []
    original = reader.read_source

    def counted(path, *args, **kwargs):
        parsed.append(path.name)
        return original(path, *args, **kwargs)
    monkeypatch.setattr(reader, "read_source", counted)
    old = project / "speeches/2024/lama.id.md"
    old.write_text(old.read_text().replace("Teks lama.", "Teks lama, disunting."))
    home = project / "templates/home.html"               # every page made again: bodies asked for
    home.write_text(home.read_text().replace('<div id="latest">', '<div id="latest" class="baru">'))
    monkeypatch.setattr(texts, "STORE", texts.Texts())   # a new process: no text of the last build
    build(load_config(project), card_pdfs=False)
    assert parsed == ["lama.id.md"]                              # the edited source only
    home = (project / "site/index.html").read_text()
    assert "kata unikpembukaan" in home.split('<div id="latest" class="baru">')[1]    # an unparsed source's body
    assert published(project / "site") == clean(project, tmp_path)


def test_a_remembered_reading_is_used_only_while_the_file_holds_its_bytes(project: Path, tmp_path: Path,
                                                                          monkeypatch) -> None:
    """Even with stamps that collide (faked here: every file looks as it was), a file whose bytes
    changed is read again."""
    from speechgen import memo as memo_module

    monkeypatch.setattr(memo_module, "RACY_NS", 0)
    original = memo_module.key
    monkeypatch.setattr(memo_module, "key", lambda kind, *parts: original(kind, *parts[:2]) if kind == "parsed"
                        else original(kind, *parts))
    build(load_config(project), card_pdfs=False)
    source = project / "speeches/2024/lama.id.md"
    text = source.read_text()
    source.write_text(text.replace("Teks lama.", "Teks baru."))     # the same size
    assert len(source.read_bytes()) == len(text.encode())
    build(load_config(project), card_pdfs=False, search=False)
    assert "Teks baru." in (project / "site/2024/lama/index.html").read_text()
