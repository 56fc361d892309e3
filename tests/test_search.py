"""The Pagefind index: speech pages only, one index per language, the same bytes every time."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

from speechgen import graph, reader
from speechgen.build import build
from speechgen.cache import Cache
from speechgen.config import load_config
from speechgen.render.search import search_pages

pytest.importorskip("pagefind")


def test_only_public_speech_pages_are_indexed(project: Path) -> None:
    config = load_config(project)
    site = graph.make_site(config, reader.read_project(config))
    assert search_pages(site) == ["2025/kenegaraan/index.html", "2025/kenegaraan/en/index.html",
                                  "2024/lama/index.html"]


def test_index_has_a_language_each_and_leaves_no_scratch(project: Path) -> None:
    lines: list[str] = []
    build(load_config(project), log=lines.append, card_pdfs=False)
    # one language to a shard: a query fetches a part of each shard's index, so no shard holds two
    for lang, pages in (("id", 2), ("en", 1)):
        bundle = project / "site" / "pagefind" / f"{lang}-0"
        dests = {p.relative_to(project / "site").as_posix() for p in bundle.rglob("*") if p.is_file()}
        assert {f"pagefind/{lang}-0/pagefind.js", f"pagefind/{lang}-0/pagefind-entry.json"} <= dests
        assert not any("pagefind-ui" in d or "playground" in d for d in dests)
        entry = json.loads((bundle / "pagefind-entry.json").read_bytes())
        assert {k: v["page_count"] for k, v in entry["languages"].items()} == {lang: pages}
    assert sorted(p.name for p in (project / "site" / "pagefind").iterdir() if p.is_dir()) == ["en-0", "id-0"]
    assert "search index: 2 of 2 shards re-indexed, 0 pages in the recent bundle" in lines
    assert sorted(p.name for p in project.iterdir() if p.name.startswith(".")) == []
    assert not (project / "pagefind").exists() and not (Path.cwd() / "pagefind").exists()


def test_the_search_page_fetches_pagefinds_script_packed_once_for_every_bundle(project: Path) -> None:
    """Every bundle's pagefind.js is the same file; the build packs it once (gzip, no time in its
    header), and the search page names the packed file (search.js unpacks it)."""
    import gzip
    import re

    build(load_config(project), card_pdfs=False, pdf=False)
    site = project / "site"
    packed = (site / "pagefind" / "pagefind.js.gz").read_bytes()
    scripts = {p.read_bytes() for p in (site / "pagefind").glob("*/pagefind.js")}
    assert len(scripts) == 1 and gzip.decompress(packed) == scripts.pop()
    assert packed[4:8] == b"\0\0\0\0" and len(packed) < 20_000          # no time; 46 KB packed to about 13 KB
    page = (site / "cari" / "index.html").read_text("utf-8")
    assert re.search(r'data-engine="\.\./pagefind/pagefind\.js\.gz"', page)


def test_without_pagefind_the_build_goes_on_and_says_so(project: Path, monkeypatch) -> None:
    from speechgen.render import search

    monkeypatch.setattr(search, "available", lambda: False)    # as if not installed
    lines: list[str] = []
    build(load_config(project), log=lines.append, card_pdfs=False, cache=Cache.disabled())
    assert any("search index skipped" in line and "pagefind" in line for line in lines)
    assert not (project / "site" / "pagefind").exists()
    assert (project / "site" / "cari" / "index.html").is_file()


def test_the_indexer_is_run_as_the_binary_itself_and_a_missing_one_is_a_clear_error(
        project: Path, monkeypatch) -> None:
    """Pagefind's binary is run directly (no Python launcher started for every shard); a binary
    path that names no program (`PAGEFIND_BINARY_PATH`) is the build's error, naming the output,
    and the previous site stays as it was."""
    from pagefind.service import get_executable

    from speechgen.errors import SourceError
    from speechgen.render import search

    search.indexer.cache_clear()
    assert search.indexer() == (str(get_executable()),)
    build(load_config(project), card_pdfs=False, cache=Cache.disabled())
    before = {p: p.read_bytes() for p in (project / "site").rglob("*") if p.is_file()}
    monkeypatch.setenv("PAGEFIND_BINARY_PATH", str(project / "no-such-pagefind"))
    search.indexer.cache_clear()
    try:
        with pytest.raises(SourceError, match="cannot make the search index: the pagefind binary could "
                                              "not be run: No such file or directory"):
            build(load_config(project), card_pdfs=False, cache=Cache.disabled())
    finally:
        search.indexer.cache_clear()
    assert {p: p.read_bytes() for p in (project / "site").rglob("*") if p.is_file()} == before


def test_the_index_is_the_same_bytes_every_time(project: Path, tmp_path: Path) -> None:
    runs = []
    for n in range(3):
        out = tmp_path / f"out{n}"
        build(load_config(project), out=out, card_pdfs=False, cache=Cache.disabled())
        runs.append({p.relative_to(out).as_posix(): p.read_bytes()
                     for p in (out / "pagefind").rglob("*") if p.is_file()})
    assert runs[0] and all(run == runs[0] for run in runs[1:])


def test_no_search_leaves_the_index_out(project: Path) -> None:
    from click.testing import CliRunner

    from speechgen.cli import main

    result = CliRunner().invoke(main, ["build", str(project), "--no-search", "--no-pdf", "-q"])
    assert result.exit_code == 0, result.output
    assert not (project / "site" / "pagefind").exists()
    assert (project / "site" / "cari" / "index.html").is_file()


def test_the_indexer_gets_the_pages_words_without_their_ids(project: Path) -> None:
    """Pagefind would keep each numbered paragraph's text a second time as an anchor: the pages it
    gets have no ids, and the results' fragments carry the text once, all of it."""
    import gzip
    import re

    from speechgen.render.search import indexed_copy

    build(load_config(project), card_pdfs=False)
    page = (project / "site" / "2025" / "kenegaraan" / "index.html").read_bytes()
    assert b' id="p-1"' in page
    copy = indexed_copy(page)
    assert b" id=" not in copy and b'data-pagefind-body' in copy
    assert re.sub(rb"<[^>]*>", b"", copy) == re.sub(rb"<[^>]*>", b"", page)      # every word kept
    paragraphs = [re.sub(r"<[^>]*>", "", p).strip() for p in re.findall(
        r'<p id="p-\d+">(.*?)</p>', page.decode("utf-8"), re.S)]
    assert len(paragraphs) >= 2
    fragments = {}
    for path in (project / "site" / "pagefind" / "id-0" / "fragment").glob("*.pf_fragment"):
        data = json.loads(gzip.decompress(path.read_bytes())[len(b"pagefind_dcd"):])
        fragments[data["url"]] = data
    assert len(fragments) == 2 and all(data["anchors"] == [] for data in fragments.values())
    content = fragments["/2025/kenegaraan/index.html"]["content"]
    assert all(" ".join(text.split()) in content for text in paragraphs)


# --- an edit goes into the recent bundle ------------------------------------------------------

LAMA = "2024/lama/index.html"


def _fragments(bundle: Path) -> dict[str, tuple[str, str]]:
    """Each page's Pagefind id and text in a bundle, by its output path."""
    import gzip

    found = {}
    for path in (bundle / "fragment").glob("*.pf_fragment"):
        data = json.loads(gzip.decompress(path.read_bytes())[len(b"pagefind_dcd"):])
        found[data["url"].lstrip("/")] = (path.stem, data["content"])
    return found


def _edit(project: Path, text: str) -> None:
    source = project / "speeches" / "2024" / "lama.id.md"
    source.write_text(source.read_text("utf-8").replace("Teks lama.", text), "utf-8")


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_an_edit_goes_into_the_recent_bundle_and_hides_the_shard_entry(project: Path) -> None:
    site = project / "site"
    build(load_config(project), card_pdfs=False)
    shard = _files(site / "pagefind" / "id-0")
    old_id, old_text = _fragments(site / "pagefind" / "id-0")[LAMA]
    assert json.loads((site / "pagefind" / "recent.json").read_bytes()) == \
        {"bundle": None, "languages": [], "hidden": []}

    _edit(project, "Teks lama, kini dengan zamrud.")
    lines: list[str] = []
    build(load_config(project), log=lines.append, card_pdfs=False)
    assert "search index: 0 of 2 shards re-indexed, 1 pages in the recent bundle" in lines
    assert _files(site / "pagefind" / "id-0") == shard                 # the shard is as it was
    listed = json.loads((site / "pagefind" / "recent.json").read_bytes())
    assert listed == {"bundle": "recent/", "languages": ["id"], "hidden": [old_id]}
    recent = _fragments(site / "pagefind" / "recent")
    assert list(recent) == [LAMA] and "zamrud" in recent[LAMA][1] and "zamrud" not in old_text
    entry = json.loads((site / "pagefind" / "recent" / "pagefind-entry.json").read_bytes())
    assert {k: v["page_count"] for k, v in entry["languages"].items()} == {"id": 1}

    (project / "speeches" / "2024" / "lama.id.md").write_text(
        (project / "speeches" / "2024" / "lama.id.md").read_text("utf-8").replace(
            "Teks lama, kini dengan zamrud.", "Teks lama."), "utf-8")
    lines.clear()
    build(load_config(project), log=lines.append, card_pdfs=False)
    assert "search index: 0 of 2 shards re-indexed, 0 pages in the recent bundle" in lines
    assert json.loads((site / "pagefind" / "recent.json").read_bytes())["hidden"] == []
    assert not (site / "pagefind" / "recent").exists()


def test_too_many_changed_pages_index_their_shard_again(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from speechgen import indexing as indexing_module

    site = project / "site"
    build(load_config(project), card_pdfs=False)
    monkeypatch.setattr(indexing_module, "SEARCH_RECENT_MAX", 0)
    _edit(project, "Teks lama, kini dengan zamrud.")
    lines: list[str] = []
    build(load_config(project), log=lines.append, card_pdfs=False)
    assert "search index: 1 of 2 shards re-indexed, 0 pages in the recent bundle" in lines
    assert "zamrud" in _fragments(site / "pagefind" / "id-0")[LAMA][1]
    assert json.loads((site / "pagefind" / "recent.json").read_bytes()) == \
        {"bundle": None, "languages": [], "hidden": []}


def test_a_removed_speech_is_hidden_and_a_lost_shard_indexed_again(project: Path) -> None:
    site = project / "site"
    build(load_config(project), card_pdfs=False)
    old_id = _fragments(site / "pagefind" / "id-0")[LAMA][0]
    (project / "speeches" / "2024" / "lama.id.md").unlink()
    lines: list[str] = []
    build(load_config(project), log=lines.append, card_pdfs=False)
    assert "search index: 0 of 2 shards re-indexed, 0 pages in the recent bundle" in lines
    assert json.loads((site / "pagefind" / "recent.json").read_bytes()) == \
        {"bundle": None, "languages": [], "hidden": [old_id]}

    shutil.rmtree(site)                   # the shards' files are gone: they are indexed again
    lines.clear()
    build(load_config(project), log=lines.append, card_pdfs=False)
    assert "search index: 2 of 2 shards re-indexed, 0 pages in the recent bundle" in lines
    assert LAMA not in _fragments(site / "pagefind" / "id-0")
    assert json.loads((site / "pagefind" / "recent.json").read_bytes())["hidden"] == []


def test_shards_hold_one_language_each_and_at_most_their_share_of_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    """A first query fetches a part of every shard's index: one language to a shard, as few shards
    as SHARD_PAGES allows, each page in exactly one, and a page's shard follows its speech."""
    from types import SimpleNamespace

    from speechgen import graph

    monkeypatch.setattr(graph, "SHARD_PAGES", 10)
    pages = [SimpleNamespace(kind="speech", indexed=True, speech=SimpleNamespace(id=f"{1950 + n}/pidato-{n}"),
                             lang=lang, dest=f"{1950 + n}/pidato-{n}/{lang}.html")
             for n in range(100) for lang in (("id", "en") if n % 2 else ("id",))]
    pages.append(SimpleNamespace(kind="copy", indexed=False, speech=pages[0].speech, lang="id", dest="x.html"))
    shards = graph._search_shards(pages)
    by_lang = {lang: [s for s in shards if s.languages == (lang,)] for lang in ("id", "en")}
    assert len(by_lang["id"]) == 10 and len(by_lang["en"]) == 5 and len(shards) == 15
    assert sorted(d for s in shards for d in s.pages) == sorted(p.dest for p in pages if p.kind == "speech")
    assert max(len(s.pages) for s in shards) <= 2 * graph.SHARD_PAGES        # spread by a hash, about even
    for shard in shards:
        lang = shard.languages[0]
        assert shard.dest.startswith(f"pagefind/{lang}-") and all(d.endswith(f"/{lang}.html") for d in shard.pages)
    again = {d: s.dest for s in graph._search_shards(pages[:-1]) for d in s.pages}
    assert again == {d: s.dest for s in shards for d in s.pages}              # the same pages, the same shards


def test_the_next_shards_pages_are_copied_while_pagefind_runs_and_each_shard_gets_its_own(
        project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The indexer's thread copies the next shard's pages while Pagefind indexes this one (the
    copies were a tenth of the chain a cold build waits for last), and reads a bundle once the
    next run is under way. Each shard still gets exactly its own pages: its bundle has the bytes
    of a run of that shard alone."""
    from speechgen.render import search

    monkeypatch.setattr(graph, "SHARD_PAGES", 1)        # three shards: id-0, id-1, en-0
    events: list[tuple[str, Path]] = []
    real_start, real_finish, real_copy = search.start_index, search.finish_index, search.copy_pages

    def start(scratch):
        events.append(("start", scratch))
        return real_start(scratch)

    def finish(run, scratch, bundle):
        made = real_finish(run, scratch, bundle)
        events.append(("end", scratch))
        return made

    def copy(pages, scratch):
        events.append(("copy", scratch))
        real_copy(pages, scratch)

    monkeypatch.setattr(search, "start_index", start)
    monkeypatch.setattr(search, "finish_index", finish)
    monkeypatch.setattr(search, "copy_pages", copy)
    config = load_config(project)
    build(config, card_pdfs=False, cache=Cache.disabled())
    runs = [scratch for kind, scratch in events if kind == "start"]
    assert len(runs) == 3 and len(set(runs)) == 3
    for before, after in zip(runs, runs[1:]):
        copied = events.index(("copy", after))
        assert events.index(("start", before)) < copied < events.index(("end", before)), events

    site = graph.make_site(config, reader.read_project(config))
    assert sorted(s.dest for s in site.search_shards) == ["pagefind/en-0", "pagefind/id-0", "pagefind/id-1"]
    out = project / "site"
    for shard in site.search_shards:
        alone = search.build_index([(d, out / d) for d in shard.pages], tmp_path / shard.dest, shard.dest)
        assert {dest: path.read_bytes() for dest, path in alone} == {
            p.relative_to(out).as_posix(): p.read_bytes() for p in (out / shard.dest).rglob("*") if p.is_file()}
