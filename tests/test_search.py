"""The Pagefind index: speech pages only, one index per language, the same bytes every time."""

from __future__ import annotations

import json
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
    bundle = project / "site" / "pagefind" / "0"
    dests = {p.relative_to(project / "site").as_posix() for p in bundle.rglob("*") if p.is_file()}
    assert {"pagefind/0/pagefind.js", "pagefind/0/pagefind-entry.json"} <= dests
    assert not any("pagefind-ui" in d or "playground" in d for d in dests)
    entry = json.loads((bundle / "pagefind-entry.json").read_bytes())
    assert {k: v["page_count"] for k, v in entry["languages"].items()} == {"id": 2, "en": 1}
    assert "search index: 1 of 1 shards re-indexed" in lines
    assert sorted(p.name for p in project.iterdir() if p.name.startswith(".")) == []
    assert not (project / "pagefind").exists() and not (Path.cwd() / "pagefind").exists()


def test_without_pagefind_the_build_goes_on_and_says_so(project: Path, monkeypatch) -> None:
    from speechgen.render import search

    monkeypatch.setattr(search, "available", lambda: False)    # as if not installed
    lines: list[str] = []
    build(load_config(project), log=lines.append, card_pdfs=False, cache=Cache.disabled())
    assert any("search index skipped" in line and "pagefind" in line for line in lines)
    assert not (project / "site" / "pagefind").exists()
    assert (project / "site" / "cari" / "index.html").is_file()


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
