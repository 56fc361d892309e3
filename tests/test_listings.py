"""No page grows with the archive: home, archives and their indexes are cut into bounded pages."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from speechgen import graph
from speechgen.build import build
from speechgen.cache import Cache
from speechgen.config import load_config


def archive(root: Path, count: int) -> Path:
    """`count` speeches, each in a year of its own (the stress case for archive navigation)."""
    (root / "speeches").mkdir(parents=True)
    (root / "speechgen.toml").write_text('[site]\ntitle = "Arsip"\nbase_url = "https://arsip.example.go.id/"\n'
                                         "[pdf]\nenabled = false\n")
    for n in range(count):
        year = 1000 + n
        folder = root / "speeches" / str(year)
        folder.mkdir()
        (folder / f"pidato-{n}.id.md").write_text(
            f"---\ntitle: Pidato {n}\nspeaker: Pembicara {n % 3}\ndate: {year}-01-02\noccasion: Acara {n % 2}\n---\n\nIsi {n}.\n")
    return root


def largest_listing(site: Path) -> dict[str, int]:
    sizes = {}
    for path in site.rglob("index.html"):
        rel = path.relative_to(site).as_posix()
        if rel == "index.html" or rel.startswith(("tahun/", "pembicara/", "acara/", "cari/")):
            sizes[rel] = path.stat().st_size
    return sizes


def test_listing_pages_stay_bounded_as_the_archive_grows(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(graph, "PER_PAGE", 10)
    sizes = {}
    for count in (30, 300):
        project = archive(tmp_path / str(count), count)
        build(load_config(project), search=False, card_pdfs=False, cache=Cache.disabled())
        sizes[count] = largest_listing(project / "site")
    small, large = max(sizes[30].values()), max(sizes[300].values())
    assert large <= small * 1.3, (small, large)
    home = (tmp_path / "300/site/index.html").read_text()
    assert len(re.findall(r'class="speech-link"', home)) == graph.HOME_LATEST
    # every year can still be reached, from the index's pages, which chain one to the next
    site = tmp_path / "300/site"
    index_pages = [site / "tahun/index.html"] + sorted(site.glob("tahun/halaman-*/index.html"))
    years = set()
    for page in index_pages:
        years |= set(re.findall(r'<a href="(?:\.\./)*(?:tahun/)?(\d{4})/index.html">', page.read_text()))
    assert len(years) == 300 and len(index_pages) == 30
    assert 'rel="next" href="../halaman-3/index.html"' in (site / "tahun/halaman-2/index.html").read_text()


@pytest.mark.parametrize("speeches", [60])
def test_a_speaker_with_many_speeches_gets_pages(tmp_path: Path, monkeypatch, speeches: int) -> None:
    monkeypatch.setattr(graph, "PER_PAGE", 10)
    project = archive(tmp_path / "p", speeches)
    build(load_config(project), search=False, card_pdfs=False, cache=Cache.disabled())
    site = project / "site"
    first = (site / "pembicara/pembicara-0/index.html").read_text()
    assert "Halaman 1 dari 1" not in first and 'rel="next" href="halaman-2/index.html"' in first
    assert (site / "pembicara/pembicara-0/halaman-2/index.html").is_file()
    assert not (site / "pembicara/pembicara-0/halaman-3/index.html").exists()    # 20 speeches, 10 a page
