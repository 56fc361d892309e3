"""A build asked to stop (`cancel()`, what `serve` does on an edit or Ctrl+C) stops in the stage it
is in, including the Markdown pass of a cold archive, and leaves the output as it was."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import copy_project, tree_bytes
from speechgen import build as build_module
from speechgen import memo
from speechgen.build import Cancelled, build
from speechgen.config import load_config


def _many_speeches(project: Path, count: int) -> None:
    folder = project / "speeches" / "1990"
    folder.mkdir(parents=True)
    for number in range(count):
        paragraphs = "\n\n".join(f"Paragraf {number}-{p}: kalimat contoh arsip nomor {p} untuk uji."
                                 for p in range(20))
        (folder / f"pidato-{number:03d}.id.md").write_text(
            f"---\ntitle: Pidato contoh {number}\nspeaker: Pembicara Contoh\ndate: 1990-01-{number % 28 + 1:02d}\n"
            f"occasion: Contoh\nplace: Jakarta\n---\n\n{paragraphs}\n", encoding="utf-8")


def test_a_cancelled_build_stops_in_the_markdown_pass_and_leaves_the_output(tmp_path: Path, monkeypatch) -> None:
    project = copy_project(tmp_path / "project")
    build(load_config(project), search=False, pdf=False, card_pdfs=False)
    before = tree_bytes(project / "site")
    _many_speeches(project, memo.MARKDOWN_AHEAD_MIN + 60)

    asked = []

    def read_project(*args, **kwargs):
        raise AssertionError("the sources were read after the build was asked to stop")

    monkeypatch.setattr(build_module.reader, "read_project", read_project)
    with pytest.raises(Cancelled):
        build(load_config(project), search=False, pdf=False, card_pdfs=False, jobs=2,
              cancel=lambda: asked.append(1) or len(asked) > 1)
    assert len(asked) == 2                 # asked while the bodies were rendered: the second answer stopped it
    assert tree_bytes(project / "site") == before
    assert sorted(p.name for p in project.iterdir() if p.name.startswith(".site")) == []


def test_a_cancelled_build_stops_while_reading_the_sources(tmp_path: Path, monkeypatch) -> None:
    project = copy_project(tmp_path / "project")
    _many_speeches(project, 80)             # fewer than the Markdown pass takes on: read one by one
    asked = []
    monkeypatch.setattr(build_module.editions, "plan", lambda *a, **k: pytest.fail("planned after the stop"))
    with pytest.raises(Cancelled):
        build(load_config(project), search=False, pdf=False, card_pdfs=False,
              cancel=lambda: asked.append(1) or True)
    assert asked == [1]                     # the first question came while reading, and stopped it
    assert not (project / "site").exists()


def test_a_build_stopped_while_the_search_index_is_made_leaves_no_scratch_and_no_indexer(
        tmp_path: Path, monkeypatch) -> None:
    """Stopped while Pagefind indexes the first of three shards (the next shard's pages being
    copied beside it): no further run starts, the runs' scratch folders are gone, no indexer is
    left running, and the output is as it was (built before without the index)."""
    import os

    from speechgen import graph
    from speechgen.render import search

    project = copy_project(tmp_path / "project")
    build(load_config(project), search=False, pdf=False, card_pdfs=False)
    before = tree_bytes(project / "site")
    monkeypatch.setattr(graph, "SHARD_PAGES", 1)        # three shards to index: id-0, id-1, en-0
    runs = []
    real_start = search.start_index

    def start(scratch):
        run = real_start(scratch)
        runs.append(run)
        return run

    monkeypatch.setattr(search, "start_index", start)
    with pytest.raises(Cancelled):
        build(load_config(project), pdf=False, card_pdfs=False, cancel=lambda: bool(runs))
    assert len(runs) == 1                   # the stop came during the first run: no other started
    assert runs[0].process.poll() is not None
    with pytest.raises(ProcessLookupError):
        os.kill(runs[0].process.pid, 0)
    assert tree_bytes(project / "site") == before
    assert sorted(p.name for p in project.iterdir() if p.name.startswith(".site")) == []
