"""Renames keep printed URLs: a released speech renamed with `aliases: ["<old id>"]` keeps every
old URL answering (pages as redirect pages, PDFs and editions as the same bytes), its editions
stay under the old id and its next edition follows them; bad aliases name the file and line."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import build_fails, copy_project, tree_bytes
from speechgen.build import build
from speechgen.cli import main
from speechgen.config import load_config
from speechgen.release import release

OLD = "2025/kenegaraan"
NEW = "2025/pidato-negara"
BASE = "https://pidato.example.go.id/arsip/"


def _build(project: Path, **options):
    options.setdefault("search", False)
    options.setdefault("card_pdfs", False)
    return build(load_config(project), pdf=True, jobs=1, **options)


def _rename(project: Path, aliases: str = f'["{OLD}"]') -> None:
    """kenegaraan.{id,en}.md -> pidato-negara.{id,en}.md, the old id listed in the id file."""
    folder = project / "speeches/2025"
    for lang in ("id", "en"):
        old = folder / f"kenegaraan.{lang}.md"
        text = old.read_text("utf-8")
        if lang == "id" and aliases:
            text = text.replace("\n---\n", f"\naliases: {aliases}\n---\n", 1)
        (folder / f"pidato-negara.{lang}.md").write_text(text, "utf-8")
        old.unlink()


@pytest.fixture
def project(released_project: Path) -> Path:
    _build(released_project)           # the site as released, before any rename
    return released_project


def _redirects_to(html: str, target: str) -> None:
    """A redirect page: noindex, canonical and meta refresh to `target`, and a visible link."""
    assert '<meta name="robots" content="noindex">' in html
    assert f'<link rel="canonical" href="{BASE}{target}">' in html
    refresh = re.search(r'<meta http-equiv="refresh" content="0; url=([^"]+)">', html)
    assert refresh is not None, html
    assert f'<a href="{refresh[1]}">{BASE}{target}</a>' in html
    assert "Halaman ini telah pindah ke" in html and "This page has moved to" in html


@pytest.mark.pdf
def test_a_renamed_speech_keeps_every_old_url(project: Path) -> None:
    site = project / "site"
    before = tree_bytes(site)
    ledger = (project / "editions.txt").read_bytes()
    _rename(project, aliases="")
    result = CliRunner().invoke(main, ["build", str(project), "--no-search", "--no-pdf"])
    assert result.exit_code == 1
    assert f"{OLD} (id) was released (edition 1) but has no published source any more" in result.output
    assert f'list the old id in the new file: `aliases: ["{OLD}"]`' in result.output

    source = project / "speeches/2025/pidato-negara.id.md"
    source.write_text(source.read_text().replace("\n---\n", f'\naliases: ["{OLD}"]\n---\n', 1))
    report = _build(project)
    assert report.unreleased == ()                   # still released: edition 1, under the old id
    assert (project / "editions.txt").read_bytes() == ledger
    after = tree_bytes(site)

    # Old pages answer with a redirect to the new ones: speech pages, translations, copies.
    for old, new in ((f"{OLD}/index.html", f"{NEW}/"), (f"{OLD}/en/index.html", f"{NEW}/en/"),
                     (f"{OLD}/berdampingan/index.html", f"{NEW}/berdampingan/"),
                     (f"{OLD}/salinan/dpr/index.html", f"{NEW}/salinan/dpr/"),
                     (f"{OLD}/salinan/arsip/index.html", f"{NEW}/salinan/arsip/")):
        _redirects_to(after[old].decode(), new)
        assert f"{new}index.html" in after
    # Old PDFs and editions: the same bytes at the same URLs; the new speech's latest too.
    for lang in ("id", "en"):
        for name in (f"kenegaraan.{lang}.pdf", f"kenegaraan.{lang}.edisi-1.pdf"):
            assert after[f"{OLD}/{name}"] == before[f"{OLD}/{name}"], name
        assert after[f"{NEW}/pidato-negara.{lang}.pdf"] == before[f"{OLD}/kenegaraan.{lang}.pdf"]
    # The new speech is the one listed; the old URLs are in no sitemap.
    assert f"{NEW}/" in after["sitemap.xml"].decode() and f"{OLD}/" not in after["sitemap.xml"].decode()
    assert f"{NEW}/" in after["index.html"].decode() and f"{OLD}/" not in after["index.html"].decode()
    listed = json.loads(after["manifest.json"])
    entry = next(s for s in listed["speeches"] if s["id"] == NEW)
    assert entry["aliases"] == [OLD]
    assert entry["languages"]["id"]["editions"][0]["path"] == f"{OLD}/kenegaraan.id.edisi-1.pdf"
    result = CliRunner().invoke(main, ["verify", str(site / OLD / "kenegaraan.id.edisi-1.pdf"), "--site", str(site)])
    assert result.exit_code == 0 and f"({NEW}, id, 2025-08-15)" in result.output, result.output
    assert "authentic, edisi/edition 1 of 1" in result.output


@pytest.mark.pdf
def test_the_next_edition_of_a_renamed_speech_follows_its_old_ones(project: Path) -> None:
    _rename(project)
    source = project / "speeches/2025/pidato-negara.id.md"
    text = source.read_text().replace("Isi bagian ekonomi.", "Isi bagian ekonomi yang dikoreksi.")
    source.write_text(text.replace("\n---\n", '\ncorrections:\n  - date: 2025-09-01\n    note: "Angka."\n---\n', 1))
    report = _build(project)
    assert report.unreleased == ((NEW, "id"),)
    added = release(load_config(project), jobs=1)
    assert [(e.speech, e.lang, e.number) for e in added] == [(NEW, "id", 2)]
    _build(project)
    site = project / "site"
    assert (site / NEW / "pidato-negara.id.edisi-2.pdf").read_bytes() == \
        (project / "editions" / NEW / "pidato-negara.id.edisi-2.pdf").read_bytes()
    assert (site / OLD / "kenegaraan.id.edisi-1.pdf").read_bytes() == \
        (project / "editions" / OLD / "kenegaraan.id.edisi-1.pdf").read_bytes()
    # The old latest URL serves the latest released edition; the old changes page redirects.
    assert (site / OLD / "kenegaraan.id.pdf").read_bytes() == (site / NEW / "pidato-negara.id.pdf").read_bytes()
    _redirects_to((site / OLD / "perubahan/2/index.html").read_text(), f"{NEW}/perubahan/2/")
    changes = (site / NEW / "perubahan/2/index.html").read_text()
    assert "dikoreksi" in changes
    result = CliRunner().invoke(main, ["verify", str(site / OLD / "kenegaraan.id.edisi-1.pdf"), "--site", str(site)])
    assert "edisi/edition 1 of 2, superseded on 2025-09-01: Angka." in result.output, result.output


# --- bad aliases: each names the file and line -------------------------------------------------------

def _fails(project: Path, *expected: str) -> None:
    build_fails(project, *expected)


BAD = [
    ('"2025/lama"', ":7: aliases must be a list of the ids this speech had before"),
    ("[]", ":7: aliases must be a list of the ids this speech had before"),
    ('["lama"]', ":7: alias 'lama' must be a speech id <year>/<slug>"),
    ('["2025/Lama Baru"]', ":7: alias '2025/Lama Baru': the slug must be a plain path segment"),
    ('["2025/con"]', ":7: alias '2025/con': the slug must be"),
    ('["2025/kenegaraan"]', ":7: alias '2025/kenegaraan' is this speech's own id"),
    ('["2024/lama"]', ":7: alias '2024/lama' is the id of another speech"),
    ('["2024/tua", "2024/tua"]', ":7: alias '2024/tua' is listed twice"),
]


@pytest.mark.parametrize(("aliases", "message"), BAD, ids=[b[0] for b in BAD])
def test_bad_aliases(tmp_path: Path, aliases: str, message: str) -> None:
    fresh = copy_project(tmp_path / "fresh")
    source = fresh / "speeches/2025/kenegaraan.id.md"
    lines = source.read_text().split("\n")
    lines.insert(6, f"aliases: {aliases}")                 # line 7, inside the front matter
    source.write_text("\n".join(lines))
    _fails(fresh, f"speeches/2025/kenegaraan.id.md{message}")


def test_two_speeches_claiming_one_old_id(tmp_path: Path) -> None:
    fresh = copy_project(tmp_path / "fresh")
    for name in ("speeches/2025/kenegaraan.id.md", "speeches/2024/lama.id.md"):
        source = fresh / name
        source.write_text(source.read_text().replace("\n---\n", '\naliases: ["2023/tua"]\n---\n', 1))
    _fails(fresh, "alias '2023/tua' is also claimed by")
