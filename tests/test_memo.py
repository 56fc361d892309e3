"""The one memo: only `memo.py` makes cache keys and reads or keeps cached results; the build's
options are one value, and the keyword form is the same build."""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

import pytest

from conftest import tree_bytes
from speechgen.build import BuildOptions, build
from speechgen.cache import Cache
from speechgen.config import load_config

PACKAGE = Path(__file__).resolve().parent.parent / "speechgen"
CACHE_CALLS = {"get", "put", "has"}


def _cache_users(path: Path) -> list[str]:
    """Where a module makes a cache key or reads or writes cache entries itself."""
    found = []
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module == "speechgen.cache" \
                and any(alias.name == "key" for alias in node.names):
            found.append(f"{path.name}:{node.lineno}: imports the cache's key")
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in CACHE_CALLS \
                and isinstance(node.func.value, ast.Name) and node.func.value.id in ("store", "cache"):
            found.append(f"{path.name}:{node.lineno}: {node.func.value.id}.{node.func.attr}()")
    return found


def test_only_the_memo_makes_keys_and_touches_entries() -> None:
    modules = [p for p in PACKAGE.rglob("*.py") if p.name not in ("memo.py", "cache.py")]
    assert len(modules) > 20
    assert [f for path in modules for f in _cache_users(path)] == []
    assert _cache_users(PACKAGE / "memo.py")          # the check sees what it looks for


def test_options_and_keywords_build_the_same_site(project: Path, tmp_path: Path) -> None:
    config = load_config(project)
    one = build(config, BuildOptions(out=tmp_path / "one", search=False, cache=Cache.disabled()))
    two = build(config, out=tmp_path / "two", search=False, cache=Cache.disabled())
    assert one.rendered == two.rendered > 0
    assert tree_bytes(tmp_path / "one") == tree_bytes(tmp_path / "two")
    # options given and a keyword on top: the keyword wins
    three = build(config, BuildOptions(out=tmp_path / "one", search=False), out=tmp_path / "three",
                  cache=Cache.disabled())
    assert three.out == tmp_path / "three" and tree_bytes(tmp_path / "three") == tree_bytes(tmp_path / "one")


def test_options_are_one_frozen_value() -> None:
    options = BuildOptions(drafts=True)
    with pytest.raises(AttributeError):
        options.drafts = False          # type: ignore[misc]
    with pytest.raises(TypeError):
        BuildOptions(draft=True)        # type: ignore[call-arg]   a typo is an error, not ignored


def test_an_edit_checks_unchanged_outputs_by_the_last_builds_index(project: Path, monkeypatch) -> None:
    """After one body edit, the pages and previews the edit did not touch are proven unchanged
    from the last build's index (one entry), not from a record each; the site equals a clean
    build's. With the index gone, every output's own record is read again."""
    from speechgen import memo

    store = Cache(project.parent / "cache")
    config = load_config(project)
    build(config, cache=store, search=False)
    source = sorted((project / "speeches").rglob("*.md"))[0]
    read: list[str] = []
    real_get = Cache.get

    def counting(self, kind, entry):
        if kind == "trace":
            read.append(entry)
        return real_get(self, kind, entry)

    monkeypatch.setattr(Cache, "get", counting)
    source.write_text(source.read_text("utf-8") + "\nSatu paragraf baru.\n", "utf-8")
    build(load_config(project), cache=store, search=False)
    pages = len(list((project / "site").rglob("*.html")))
    # the edited speech's pages (and what lists it) are rendered; nothing else reads its record
    assert 0 < len(read) <= 12, f"{len(read)} records read for {pages} pages"
    edited = tree_bytes(project / "site")

    monkeypatch.setattr(Cache, "get", real_get)
    clean = project.parent / "clean"
    build(load_config(project), out=clean, cache=Cache.disabled(), search=False)
    assert tree_bytes(clean) == edited

    monkeypatch.setattr(Cache, "get", counting)
    read.clear()
    store.put("index", memo.index_key((project / "site").absolute()), b"not an index")
    source.write_text(source.read_text("utf-8") + "\nDan satu lagi.\n", "utf-8")
    build(load_config(project), cache=store, search=False)
    assert len(read) > 20                 # the index unreadable: each output by its record


def test_templates_compiled_by_a_build_are_not_compiled_again(project: Path, monkeypatch) -> None:
    """A build in a new process takes the templates an earlier build compiled from the cache:
    nothing compiled, the same site. An edited template is compiled again, alone; a forged or
    torn entry is compiled again, never used."""
    from speechgen import templates

    compiled: list[str] = []
    real_compile = templates._Environment.compile

    def counting(self, source, name=None, filename=None, raw=False, defer_init=False):
        if not raw:
            compiled.append(name)
        return real_compile(self, source, name, filename, raw, defer_init)

    monkeypatch.setattr(templates._Environment, "compile", counting)
    store = Cache(project.parent / "cache")

    def build_anew(out: str) -> list[str]:
        templates._COMPILED.clear()            # what a new process starts with
        compiled.clear()
        build(load_config(project), out=project.parent / out, cache=store, search=False, pdf=False)
        return list(compiled)

    first = build_anew("one")
    assert len(first) >= 8, first
    assert build_anew("two") == []
    assert tree_bytes(project.parent / "one") == tree_bytes(project.parent / "two")

    (project / "templates").mkdir(exist_ok=True)
    (project / "templates" / "base.html").write_text(
        "{% extends '!default/base.html' %}{% block nav_extra %}<span>Dicetak ulang</span>{% endblock %}", "utf-8")
    again = build_anew("three")
    assert again == ["base.html"], again       # the project's; the bundled base it extends was kept
    assert "Dicetak ulang" in (project.parent / "three" / "index.html").read_text("utf-8")

    for entry in (store.folder / "jinja").rglob("*"):
        if entry.is_file():
            entry.write_bytes(entry.read_bytes()[:-7] + b"forged!")
    fourth = build_anew("four")                # (its pages are reused: only preflight's compile)
    assert len(fourth) >= 8 and "base.html" in fourth and set(fourth) <= set(first + again), fourth
    assert tree_bytes(project.parent / "four") == tree_bytes(project.parent / "three")


@pytest.mark.pdf
def test_the_fonts_characters_are_remembered_by_the_fonts_bytes(project: Path, monkeypatch) -> None:
    """The glyph check reads the fonts' character maps once: a build in a new process takes them
    from the cache. A project font replaced under the same name with one that draws more is read
    again: a speech using its new characters builds; the old font's answer is never taken."""
    from speechgen import fonts, memo
    from speechgen.errors import SourceError
    from test_pdfa import _font_with

    store = Cache(project.parent / "cache")
    read: list[int] = []
    monkeypatch.setattr(memo, "fonts_coverage", lambda paths=(): (read.append(1), fonts.coverage(paths))[1])
    (project / "static/fonts").mkdir(parents=True, exist_ok=True)
    _font_with(project / "static/fonts/tambahan.ttf", " अश", "Uji Tambahan")
    with (project / "speechgen.toml").open("a", encoding="utf-8") as handle:
        handle.write('\n[pdf]\nfonts = ["static/fonts/tambahan.ttf"]\n')
    source = project / "speeches/2024/lama.id.md"

    def build_anew(text: str) -> None:
        fonts._coverage.cache_clear()
        fonts._coverage_chars.cache_clear()
        source.write_text(source.read_text("utf-8") + f"\n{text}\n", "utf-8")
        build(load_config(project), cache=store, search=False, pdf=True, jobs=1)

    build_anew("Raja अश.")
    assert len(read) == 1
    build_anew("Raja अश lagi.")
    assert len(read) == 1                           # remembered: no font read
    with pytest.raises(SourceError, match="U\\+0915"):
        build_anew("Raja अशक.")                     # क: not in the font
    assert len(read) == 1
    _font_with(project / "static/fonts/tambahan.ttf", " अशक", "Uji Tambahan")    # same name, more glyphs
    build_anew("Raja अशक sekali lagi.")
    assert len(read) == 2
    clean = project.parent / "clean"
    build(load_config(project), out=clean, cache=Cache.disabled(), search=False, pdf=True, jobs=1)
    assert tree_bytes(clean) == tree_bytes(project / "site")      # a clean build agrees


def test_the_last_readings_records_are_one_entry_kept_only_when_they_change(project: Path,
                                                                            monkeypatch) -> None:
    """Reading takes every source's remembered record from one cache entry (one read, not one a
    source), keeps it again only when the records changed, and an edited source is parsed again."""
    from speechgen import memo, reader

    store = Cache(project.parent / "cache")
    build(load_config(project), cache=store, search=False)
    calls: list[tuple[str, str]] = []
    real_get, real_put = Cache.get, Cache.put
    monkeypatch.setattr(Cache, "get", lambda self, kind, entry: (calls.append(("get", kind)),
                                                                 real_get(self, kind, entry))[1])
    monkeypatch.setattr(Cache, "put", lambda self, kind, entry, data: (calls.append(("put", kind)),
                                                                       real_put(self, kind, entry, data))[1])
    parsed: list[str] = []
    real_read = reader.read_source
    monkeypatch.setattr(reader, "read_source", lambda path, *a: (parsed.append(path.name), real_read(path, *a))[1])

    (project / "static" / "catatan.txt").write_text("berkas baru", "utf-8")    # not a source
    build(load_config(project), cache=store, search=False)
    assert calls.count(("get", "sources")) == 1 and ("put", "sources") not in calls, calls
    assert parsed == [] and ("get", "parsed") not in calls

    calls.clear()
    source = project / "speeches/2024/lama.id.md"
    source.write_text(source.read_text("utf-8") + "\nSatu paragraf baru.\n", "utf-8")
    build(load_config(project), cache=store, search=False)
    assert parsed == ["lama.id.md"]
    assert calls.count(("get", "sources")) == 1 and calls.count(("put", "sources")) == 1
    kept = memo._records(real_get(store, "sources", memo.sources_key()))
    assert len(kept) == len(list((project / "speeches").rglob("*.md")))       # the draft's too


def test_a_link_preview_is_one_cache_entry_and_comes_back_without_being_drawn(project: Path,
                                                                              monkeypatch) -> None:
    """A preview is kept with its bytes in its record (one cache file, not a record and a blob);
    with the output gone, the next build writes it from that record, drawing nothing, byte for
    byte the same."""
    from speechgen.render import preview

    store = Cache(project.parent / "cache")
    build(load_config(project), cache=store, search=False)
    before = tree_bytes(project / "site")
    previews = [d for d in before if d.endswith(".png") and "pratinjau" in d]
    assert previews, sorted(before)
    assert store.count("blob") == 0            # no PDFs here: nothing else keeps a blob
    drawn: list[str] = []
    monkeypatch.setattr(preview, "preview_png", lambda title, *a, **k: drawn.append(title) or b"")
    shutil.rmtree(project / "site")
    build(load_config(project), cache=store, search=False)
    assert drawn == [] and tree_bytes(project / "site") == before
