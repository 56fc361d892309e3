"""The Pagefind index: built in memory from speech pages only, one index per language."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from speechgen import graph, reader, templates
from speechgen.config import load_config
from speechgen.render import html
from speechgen.render.search import render_search_index, search_pages

pytest.importorskip("pagefind")


def _site_and_pages(project: Path):
    config = load_config(project)
    site = graph.make_site(config, reader.read_project(config))
    env = templates.make_environment(config.templates_dir)
    return site, list(html.render_site(site, env))


def test_only_public_speech_pages_are_indexed(project: Path) -> None:
    site, _ = _site_and_pages(project)
    assert search_pages(site) == ["2025/kenegaraan/index.html", "2025/kenegaraan/en/index.html",
                                  "2024/lama/index.html"]


def test_index_has_a_language_each_and_stays_in_memory(project: Path) -> None:
    site, pages = _site_and_pages(project)
    lines: list[str] = []
    files = render_search_index(site, pages, lines.append)
    dests = {a.dest for a in files}
    assert {"pagefind/pagefind.js", "pagefind/pagefind-entry.json"} <= dests
    assert all(d.startswith("pagefind/") for d in dests)
    assert not any("pagefind-ui" in d or "playground" in d for d in dests)
    entry = json.loads(next(a.data for a in files if a.dest == "pagefind/pagefind-entry.json"))
    assert {k: v["page_count"] for k, v in entry["languages"].items()} == {"id": 2, "en": 1}
    assert lines == [f"search index: 3 pages, {len(files)} files"]
    assert not (project / "pagefind").exists() and not (Path.cwd() / "pagefind").exists()


def test_without_pagefind_the_build_goes_on_and_says_so(project: Path, monkeypatch) -> None:
    site, pages = _site_and_pages(project)
    monkeypatch.setitem(sys.modules, "pagefind.index", None)   # import fails as if not installed
    lines: list[str] = []
    assert render_search_index(site, pages, lines.append) == []
    assert lines and "search index skipped" in lines[0] and "pagefind" in lines[0]


def test_the_index_is_the_same_bytes_every_time(project: Path) -> None:
    site, pages = _site_and_pages(project)
    runs = [{a.dest: a.data for a in render_search_index(site, pages)} for _ in range(4)]
    assert all(run == runs[0] for run in runs[1:])
