"""Builds that redo only what changed, and whose output always equals a clean build's."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conftest import search_view, tree_bytes
from speechgen.build import build
from speechgen.cache import Cache, default_folder
from speechgen.config import load_config
from speechgen.writer import MARKER

RENDERED: dict[Path, int] = {}


def published(folder: Path) -> dict[str, bytes]:
    """Every file a reader can get; the writer's own record (with file times) aside."""
    return search_view({k: v for k, v in tree_bytes(folder).items() if k != MARKER})


def rebuild(project: Path) -> dict[str, bytes]:
    RENDERED[project] = build(load_config(project), pdf=False, card_pdfs=False).rendered
    return published(project / "site")


def clean_build(project: Path, out: Path) -> dict[str, bytes]:
    """The same sources copied to a fresh folder and built there with no cache at all."""
    fresh = out.parent / (out.name + "-project")
    shutil.copytree(project, fresh, ignore=shutil.ignore_patterns("site", ".site*"))
    build(load_config(fresh), out=out, pdf=False, card_pdfs=False, cache=Cache.disabled())
    return published(out)


def rendered_pages(project: Path) -> int:
    """How many outputs the last rebuild rendered (the rest it proved unchanged)."""
    return RENDERED[project]


def changed(before: dict[str, bytes], after: dict[str, bytes]) -> set[str]:
    """Output files whose bytes differ (the marker, which records the build's digest, aside)."""
    return {k for k in before.keys() | after.keys() if before.get(k) != after.get(k) and k != MARKER}


@pytest.fixture
def built(project: Path) -> tuple[Path, dict[str, bytes]]:
    return project, rebuild(project)


def test_noop_rebuild_renders_nothing_and_changes_nothing(built) -> None:
    project, first = built
    assert rendered_pages(project) > 20
    assert rebuild(project) == first
    assert rendered_pages(project) == 0


def test_body_edit_rerenders_only_that_speech(built, tmp_path: Path) -> None:
    project, first = built
    source = project / "speeches/2024/lama.id.md"
    source.write_text(source.read_text() + "\nParagraf tambahan.\n")
    after = rebuild(project)
    pages = {k for k in changed(first, after) if k.endswith(".html")}
    assert pages == {"2024/lama/index.html"}     # one language: no side-by-side page, no copies
    # its page, and what read its body: the sitemap (lastmod) and pages listing it by content
    assert rendered_pages(project) <= 8
    assert after == clean_build(project, tmp_path / "clean")


def test_title_edit_rerenders_listings(built, tmp_path: Path) -> None:
    project, first = built
    source = project / "speeches/2024/lama.id.md"
    source.write_text(source.read_text().replace("title: Pidato Lama", "title: Pidato Lama Sekali"))
    after = rebuild(project)
    diff = changed(first, after)
    assert {"index.html", "tahun/2024/index.html", "2024/lama/index.html", "feeds/id.xml"} <= diff
    assert "Pidato Lama Sekali" in after["tahun/2024/index.html"].decode()
    assert after == clean_build(project, tmp_path / "clean")


def test_translation_edit_changes_both_languages_pages(built, tmp_path: Path) -> None:
    project, first = built
    source = project / "speeches/2025/kenegaraan.en.md"
    source.write_text(source.read_text().replace("Economy section.", "Economy section, revised."))
    after = rebuild(project)
    diff = changed(first, after)
    assert "2025/kenegaraan/en/index.html" in diff
    assert "2024/lama/index.html" not in diff
    assert after == clean_build(project, tmp_path / "clean")


def test_template_edit_rerenders_its_pages(built, tmp_path: Path) -> None:
    project, first = built
    (project / "templates").mkdir(exist_ok=True)
    (project / "templates/speech.html").write_text(
        '{% extends "!default/speech.html" %}{% block speech_kicker %}<p class="kicker">BARU</p>{% endblock %}')
    after = rebuild(project)
    assert '<p class="kicker">BARU</p>' in after["2024/lama/index.html"].decode()
    assert '<p class="kicker">BARU</p>' in after["2025/kenegaraan/en/index.html"].decode()
    assert after == clean_build(project, tmp_path / "clean")


def test_static_file_edit_changes_only_that_file(built, tmp_path: Path) -> None:
    project, first = built
    from PIL import Image

    Image.new("RGB", (40, 40), (20, 20, 160)).save(project / "static/lambang.png")
    after = rebuild(project)
    assert {k for k in changed(first, after) if not k.startswith("_assets/")} <= {"static/lambang.png"}
    assert "static/lambang.png" in changed(first, after)
    assert rendered_pages(project) == 0


def test_config_edit_rerenders_everything_that_shows_it(built, tmp_path: Path) -> None:
    project, first = built
    config = project / "speechgen.toml"
    config.write_text(config.read_text().replace('title = "Arsip Uji"', 'title = "Arsip Baru"'))
    after = rebuild(project)
    for dest in ("index.html", "2024/lama/index.html", "2025/kenegaraan/en/index.html"):
        assert "Arsip Baru" in after[dest].decode()
    assert after == clean_build(project, tmp_path / "clean")


def test_corrupt_cache_entries_are_misses(built, tmp_path: Path) -> None:
    project, first = built
    for entry in default_folder(project).rglob("*"):
        if entry.is_file():
            entry.write_bytes(entry.read_bytes()[:-3] + b"xyz")
    shutil.rmtree(project / "site")                 # nothing to link from: every byte from the cache
    assert rebuild(project) == first
    assert rendered_pages(project) > 20             # every entry was refused, so all was rendered
