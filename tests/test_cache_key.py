"""A cache a CI can restore: `SPEECHGEN_CACHE_KEY` authenticates the entries in place of the
machine's key, and names the cache folder in place of the project's path.

A CI runner checks the project out afresh (new stamps, new inodes, perhaps another folder) on a
machine with a key of its own, and restores the cache folder an earlier run saved. With the same
`SPEECHGEN_CACHE_KEY` nothing is rendered again and the site is a clean build's, byte for byte;
without it, or with another key, every entry is a miss and the site is still the clean build's.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import copy_project, tree_bytes
from speechgen import markdown, reader
from speechgen.build import build
from speechgen.cache import Cache, default_folder
from speechgen.cli import main
from speechgen.config import load_config

KEY = "ci-secret-" + "0123456789abcdef" * 3
OTHER_KEY = "ci-secret-" + "fedcba9876543210" * 3


def clean(project: Path, tmp: Path) -> dict[str, bytes]:
    """The project built in a fresh folder with no cache at all: the reference."""
    fresh = tmp / "clean"
    shutil.copytree(project, fresh, ignore=shutil.ignore_patterns("site"))
    build(load_config(fresh), out=tmp / "clean-site", cache=Cache.disabled())
    return tree_bytes(tmp / "clean-site")


def new_runner(monkeypatch: pytest.MonkeyPatch, tmp: Path, name: str) -> None:
    """Another machine: a key file of its own (made on first use), the cache where CI restores it."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp / name / "state"))
    monkeypatch.setenv("SPEECHGEN_CACHE_DIR", str(tmp / name / "cache"))


def checkout(project: Path, dest: Path) -> Path:
    """A fresh checkout: the same bytes at another path, every file with new stamps and inodes."""
    shutil.copytree(project, dest, ignore=shutil.ignore_patterns("site"), copy_function=shutil.copyfile)
    later = time.time() + 60
    for path in dest.rglob("*"):
        os.utime(path, (later, later))
    return dest


def restore(saved: Path, runner_cache: Path) -> None:
    """The CI's cache step: the saved folder's files written again (new stamps) on the runner."""
    shutil.copytree(saved, runner_cache, copy_function=shutil.copyfile)
    assert any(runner_cache.rglob("*"))


def counted_work(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every source parsed and body rendered from here on."""
    work: list[str] = []
    parse, render = reader.read_source, markdown.render
    monkeypatch.setattr(reader, "read_source", lambda path, *a, **k: work.append(f"parse {path.name}") or parse(path, *a, **k))
    monkeypatch.setattr(markdown, "render", lambda body, *a, **k: work.append("markdown") or render(body, *a, **k))
    return work


@pytest.fixture
def saved(project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, int]:
    """A first CI run with the key: the project built, its cache folder saved. The checkout is
    then gone, as on a runner that is thrown away."""
    new_runner(monkeypatch, tmp_path, "runner-1")
    monkeypatch.setenv("SPEECHGEN_CACHE_KEY", KEY)
    report = build(load_config(project), out=tmp_path / "site-1")
    assert report.rendered > 20
    saved = tmp_path / "saved-cache"
    shutil.move(default_folder(project), saved)
    shutil.rmtree(project)
    shutil.rmtree(tmp_path / "runner-1")
    shutil.rmtree(tmp_path / "site-1")
    return saved, report.rendered


def second_run(saved: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, key: str | None):
    """The next CI run: another runner, a fresh checkout elsewhere, the saved cache restored where
    this build looks for its cache."""
    new_runner(monkeypatch, tmp_path, "runner-2")
    if key is None:
        monkeypatch.delenv("SPEECHGEN_CACHE_KEY", raising=False)
    else:
        monkeypatch.setenv("SPEECHGEN_CACHE_KEY", key)
    fresh = checkout(copy_project(tmp_path / "fixture-copy"), tmp_path / "checkout-2")
    restore(saved, default_folder(fresh))
    work = counted_work(monkeypatch)
    report = build(load_config(fresh), out=tmp_path / "site-2")
    return report, work, tree_bytes(tmp_path / "site-2"), fresh


def test_the_same_key_restores_every_output_in_a_fresh_checkout(saved, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    report, work, site, fresh = second_run(saved[0], tmp_path, monkeypatch, KEY)
    assert report.rendered == 0                       # no page, preview, search shard, QR code or sheet
    assert work == []                                 # no source parsed, no body rendered
    assert site == clean(fresh, tmp_path)


@pytest.mark.parametrize("key", [None, OTHER_KEY])
def test_without_the_key_or_with_another_the_restored_cache_is_all_misses(
        saved, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, key: str | None) -> None:
    report, work, site, fresh = second_run(saved[0], tmp_path, monkeypatch, key)
    assert report.rendered == saved[1]                # everything made again, as the first run did
    sources = len(list((fresh / "speeches").rglob("*.md")))
    assert sum(w.startswith("parse ") for w in work) == sources and "markdown" in work
    assert site == clean(fresh, tmp_path)


@pytest.mark.pdf
def test_books_are_restored_too(project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The archival PDFs, what a CI build pays most for, record the files WeasyPrint read by their
    place in the project or the theme: found again in a checkout elsewhere."""
    new_runner(monkeypatch, tmp_path, "runner-1")
    monkeypatch.setenv("SPEECHGEN_CACHE_KEY", KEY)
    build(load_config(project), out=tmp_path / "site-1", card_pdfs=False)
    new_runner(monkeypatch, tmp_path, "runner-2")
    restore(tmp_path / "runner-1" / "cache", tmp_path / "runner-2" / "cache")
    fresh = checkout(project, tmp_path / "checkout-2")
    shutil.rmtree(project)
    messages: list[str] = []
    report = build(load_config(fresh), out=tmp_path / "site-2", card_pdfs=False, log=messages.append)
    assert "PDF: 3 books, 3 from the cache, 0 to render" in messages
    assert report.rendered == 0
    assert tree_bytes(tmp_path / "site-2") == tree_bytes(tmp_path / "site-1")


def test_the_folder_is_named_by_the_key_not_the_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPEECHGEN_CACHE_DIR", str(tmp_path / "cache"))
    here, there = tmp_path / "a" / "arsip", tmp_path / "b" / "arsip"
    assert default_folder(here) != default_folder(there)          # the machine's cache: by path
    monkeypatch.setenv("SPEECHGEN_CACHE_KEY", KEY)
    assert default_folder(here) == default_folder(there)
    assert default_folder(here).parent == tmp_path / "cache"
    assert KEY not in str(default_folder(here))
    monkeypatch.setenv("SPEECHGEN_CACHE_KEY", OTHER_KEY)
    other = default_folder(here)
    monkeypatch.setenv("SPEECHGEN_CACHE_KEY", KEY)
    assert other != default_folder(here)


@pytest.mark.parametrize("value", ["pendek", " " * 40, "a" * 31, "a" * 20 + "\x07" * 12])
def test_an_unusable_key_is_a_clear_error(project: Path, monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("SPEECHGEN_CACHE_KEY", value)
    result = CliRunner().invoke(main, ["build", str(project), "--no-search", "--no-pdf"])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert "SPEECHGEN_CACHE_KEY" in result.output and "at least 32" in result.output
    assert not (project / "site").exists()


def test_a_key_with_its_newline_is_the_same_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A secret pasted with a trailing newline (as `echo` and most secret stores give it)."""
    monkeypatch.setenv("SPEECHGEN_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("SPEECHGEN_CACHE_KEY", KEY)
    plain = default_folder(tmp_path)
    monkeypatch.setenv("SPEECHGEN_CACHE_KEY", KEY + "\n")
    assert default_folder(tmp_path) == plain
