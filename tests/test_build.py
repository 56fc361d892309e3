"""End to end: the fixture project becomes a site whose pages, links, feeds and manifest hold up."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conftest import tree_bytes
from sitecheck import broken_links, external_refs, parse
from speechgen import __version__
from speechgen.build import build
from speechgen.config import load_config

ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def site(project: Path) -> Path:
    build(load_config(project))
    return project / "site"


def test_every_page_exists_where_the_url_rules_say(site: Path) -> None:
    for dest in ["index.html", "404.html", "2025/kenegaraan/index.html", "2025/kenegaraan/en/index.html",
                 "2024/lama/index.html", "tahun/2025/index.html", "tahun/2024/index.html",
                 "pembicara/presiden-uji/index.html", "acara/sidang-tahunan/index.html",
                 "feeds/id.xml", "feeds/en.xml", "sitemap.xml", "robots.txt", "manifest.json",
                 "static/lambang.png", "_assets/style.css"]:
        assert (site / dest).is_file(), dest


def test_drafts_are_left_out_unless_asked(project: Path, site: Path) -> None:
    assert not (site / "2024/draf").exists()
    assert "Draf Rahasia" not in (site / "index.html").read_text()
    build(load_config(project), drafts=True, out=project / "with-drafts")
    assert "Draf Rahasia" in (project / "with-drafts/2024/draf/index.html").read_text()


def test_links_resolve_and_nothing_loads_from_another_host(site: Path) -> None:
    assert broken_links(site) == []
    assert external_refs(site) == []


def test_speech_page_content(site: Path) -> None:
    html = (site / "2025/kenegaraan/index.html").read_text()
    assert '<html lang="id">' in html
    assert "<h1 id=\"judul\">Pidato Uji Kenegaraan</h1>" in html
    assert "15 Agustus 2025" in html
    assert "Presiden Uji" in html and "Gedung Uji" in html and "Sidang Tahunan" in html
    # table of contents with stable ids, footnotes, table
    assert '<h2 id="ekonomi-pangan">Ekonomi &amp; Pangan</h2>' in html
    assert '<a href="#ekonomi-pangan">Ekonomi &amp; Pangan</a>' in html
    assert 'class="footnotes"' in html and "Catatan kaki uji." in html
    assert "<table>" in html and "Pertanian" in html
    # language switch with hreflang, canonical from base_url
    assert '<a href="en/index.html" hreflang="en" lang="en" rel="alternate">English</a>' in html
    assert '<link rel="canonical" href="https://pidato.example.go.id/arsip/2025/kenegaraan/">' in html
    assert '<link rel="alternate" hreflang="en" href="https://pidato.example.go.id/arsip/2025/kenegaraan/en/">' in html
    # image from static/ rewritten relative to the page
    assert 'src="../../static/lambang.png" alt="Lambang uji"' in html
    assert '<meta property="og:title" content="Pidato Uji Kenegaraan">' in html
    assert f'<meta name="generator" content="speechgen {__version__}">' in html
    assert "recipients: [lembaga-negara" not in html      # the Markdown source stays out of the page


def test_english_page_has_english_date_and_words(site: Path) -> None:
    html = (site / "2025/kenegaraan/en/index.html").read_text()
    assert '<html lang="en">' in html
    assert "15 August 2025" in html
    assert ">Contents<" in html and ">Speaker<" in html
    assert '<a href="../index.html" hreflang="id" lang="id" rel="alternate">Bahasa Indonesia</a>' in html
    assert 'href="../../../_assets/style.css"' in html


def test_jsonld_describes_the_speech_and_its_translation(site: Path) -> None:
    html = (site / "2025/kenegaraan/index.html").read_text()
    raw = html.split('<script type="application/ld+json">')[1].split("</script>")[0]
    data = json.loads(raw)
    assert "Article" in data["@type"] and "CreativeWork" in data["@type"]
    assert data["creator"]["name"] == "Presiden Uji"
    assert data["dateCreated"] == "2025-08-15"
    assert data["inLanguage"] == "id"
    assert data["workTranslation"][0]["inLanguage"] == "en"
    assert data["workTranslation"][0]["url"] == "https://pidato.example.go.id/arsip/2025/kenegaraan/en/"


def test_home_lists_latest_first_and_archives_group(site: Path) -> None:
    home = (site / "index.html").read_text()
    assert home.index("Pidato Uji Kenegaraan") < home.index("Pidato Lama")
    year = (site / "tahun/2024/index.html").read_text()
    assert "Pidato Lama" in year and "Pidato Uji Kenegaraan" not in year
    speaker = (site / "pembicara/menteri-uji/index.html").read_text()
    assert "Pidato Lama" in speaker and "Pidato Uji" not in speaker
    occasion = (site / "acara/sidang-tahunan/index.html").read_text()
    assert "Pidato Lama" in occasion and "Pidato Uji Kenegaraan" in occasion


def test_feeds_are_atom_per_language(site: Path) -> None:
    feed = ET.parse(site / "feeds/en.xml").getroot()
    entries = feed.findall(f"{ATOM}entry")
    assert [e.findtext(f"{ATOM}title") for e in entries] == ["Test State Address"]
    assert entries[0].find(f"{ATOM}link").get("href") == "https://pidato.example.go.id/arsip/2025/kenegaraan/en/"
    id_feed = ET.parse(site / "feeds/id.xml").getroot()
    assert [e.findtext(f"{ATOM}title") for e in id_feed.findall(f"{ATOM}entry")] == ["Pidato Uji Kenegaraan", "Pidato Lama"]


def test_sitemap_and_robots(site: Path) -> None:
    root = ET.parse(site / "sitemap.xml").getroot()
    locs = [u.findtext("{http://www.sitemaps.org/schemas/sitemap/0.9}loc") for u in root]
    assert "https://pidato.example.go.id/arsip/" in locs
    assert "https://pidato.example.go.id/arsip/2025/kenegaraan/en/" in locs
    assert not any("404" in loc for loc in locs)
    assert "Sitemap: https://pidato.example.go.id/arsip/sitemap.xml" in (site / "robots.txt").read_text()


def test_manifest_contract(site: Path) -> None:
    data = json.loads((site / "manifest.json").read_text())
    assert data["base_url"] == "https://pidato.example.go.id/arsip/"
    assert data["generator"].startswith("speechgen ")
    first = data["speeches"][0]
    assert first["id"] == "2025/kenegaraan" and first["date"] == "2025-08-15"
    assert first["languages"]["en"] == {
        "title": "Test State Address", "path": "2025/kenegaraan/en/index.html",
        "url": "https://pidato.example.go.id/arsip/2025/kenegaraan/en/"}
    for speech in data["speeches"]:
        for entry in speech["languages"].values():
            assert (site / entry["path"]).is_file()


def test_404_links_from_the_site_root_path(site: Path) -> None:
    refs = [ref for _, _, ref in parse(site / "404.html").refs]
    assert "/arsip/_assets/style.css" in refs


def test_build_is_deterministic(project: Path, tmp_path: Path) -> None:
    config = load_config(project)
    build(config, out=tmp_path / "a")
    build(config, out=tmp_path / "b")
    assert tree_bytes(tmp_path / "a") == tree_bytes(tmp_path / "b")


def test_check_mode_writes_nothing(project: Path) -> None:
    report = build(load_config(project), write=False)
    assert report.out is None and report.files > 10
    assert not (project / "site").exists()


def test_template_override_extends_bundled(project: Path) -> None:
    (project / "templates").mkdir()
    (project / "templates/speech.html").write_text(
        '{% extends "!default/speech.html" %}{% block speech_kicker %}<p class="kicker">DIUBAH</p>{% endblock %}')
    build(load_config(project))
    html = (project / "site/2025/kenegaraan/index.html").read_text()
    assert '<p class="kicker">DIUBAH</p>' in html and "Pidato Uji Kenegaraan" in html
