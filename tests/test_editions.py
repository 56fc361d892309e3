"""Editions: `speechgen release` freezes PDFs; a released text changes only with a correction;
every edition stays at its own URL, in the manifest, SHA256SUMS, cards and `verify`."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import copy_project, refused, tree_bytes
from speechgen.build import build
from speechgen.cli import main
from speechgen.config import load_config
from speechgen.errors import SourceError
from speechgen.reader import numbered_blocks
from speechgen.release import release
from speechgen.render.changes import compare

pytestmark = pytest.mark.pdf

SPEECH = "speeches/2025/kenegaraan.id.md"
OLD_WORDS = "Isi bagian ekonomi."            # present in the fixture's body (checked below)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _build(project: Path, **options):
    options.setdefault("card_pdfs", False)
    options.setdefault("search", False)
    return build(load_config(project), pdf=True, jobs=1, **options)


def _correct(project: Path, old: str, new: str, date: str = "2025-09-01",
             note: str = "Angka diperbaiki.") -> None:
    source = project / SPEECH
    text = source.read_text("utf-8")
    assert old in text
    text = text.replace(old, new, 1)
    if note:
        text = text.replace("\n---\n", f'\ncorrections:\n  - date: {date}\n    note: "{note}"\n---\n', 1)
    source.write_text(text, "utf-8")


@pytest.fixture(scope="module")
def released(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixture project, released once (edition 1 of every PDF)."""
    project = copy_project(tmp_path_factory.mktemp("released") / "project")
    report = _build(project)
    assert sorted(report.unreleased) == [("2024/lama", "id"), ("2025/kenegaraan", "en"),
                                         ("2025/kenegaraan", "id")]
    added = release(load_config(project), jobs=1)
    assert [(e.speech, e.lang, e.number) for e in added] == [
        ("2025/kenegaraan", "id", 1), ("2025/kenegaraan", "en", 1), ("2024/lama", "id", 1)]
    return project


@pytest.fixture
def project(released: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "project"
    shutil.copytree(released, copy, ignore=shutil.ignore_patterns("site"))
    return copy


def test_release_writes_the_ledger_and_keeps_the_bytes(project: Path) -> None:
    ledger = (project / "editions.txt").read_text()
    lines = [line.split() for line in ledger.splitlines() if not line.startswith("#")]
    assert [(l[0], l[1], l[2]) for l in lines] == [("2024/lama", "id", "1"), ("2025/kenegaraan", "en", "1"),
                                                   ("2025/kenegaraan", "id", "1")]
    for speech, lang, number, date, sha, size, pages, _text, source_sha in lines:
        slug = speech.split("/")[1]
        kept = project / "editions" / speech / f"{slug}.{lang}.edisi-{number}.pdf"
        assert _sha(kept) == sha and kept.stat().st_size == int(size) and int(pages) >= 1
        assert _sha(kept.with_suffix(".md")) == source_sha
        assert kept.with_suffix(".md").read_bytes() == (project / f"speeches/{speech.split('/')[0]}/{slug}.{lang}.md").read_bytes()
    # the speech's date is edition 1's date
    assert [l[3] for l in lines] == ["2024-01-02", "2025-08-15", "2025-08-15"]

    report = _build(project)
    assert report.unreleased == ()
    site = project / "site"
    for speech, lang, number, _date, sha, *_ in lines:
        slug = speech.split("/")[1]
        assert _sha(site / speech / f"{slug}.{lang}.pdf") == sha            # the latest, at its usual URL
        assert _sha(site / speech / f"{slug}.{lang}.edisi-{number}.pdf") == sha   # and at its own
    sums = (site / "SHA256SUMS").read_text()
    assert f"{lines[2][4]}  2025/kenegaraan/kenegaraan.id.edisi-1.pdf" in sums
    manifest = json.loads((site / "manifest.json").read_text())
    entry = next(s for s in manifest["speeches"] if s["id"] == "2025/kenegaraan")["languages"]["id"]
    assert entry["pdf"]["edition"] == 1 and entry["pdf"]["released"] is True
    assert entry["editions"] == [{
        "edition": 1, "date": "2025-08-15", "note": "", "sha256": lines[2][4],
        "path": "2025/kenegaraan/kenegaraan.id.edisi-1.pdf",
        "url": "https://pidato.example.go.id/arsip/2025/kenegaraan/kenegaraan.id.edisi-1.pdf",
        "pages": int(lines[2][6]), "bytes": int(lines[2][5])}]
    # nothing left to release
    assert release(load_config(project), jobs=1) == []


def test_a_template_change_never_alters_a_released_pdf(project: Path) -> None:
    _build(project)
    before = _sha(project / "site/2025/kenegaraan/kenegaraan.id.pdf")
    theme = Path(__file__).parent.parent / "speechgen/theme/templates/print/book.html"
    override = project / "templates/print/book.html"
    override.parent.mkdir(parents=True, exist_ok=True)
    override.write_text(theme.read_text().replace("<main class=\"body\">", "<main class=\"body\"><p>TEMPLATE CHANGED</p>"))
    # a new speech is built with the changed template ...
    (project / "speeches/2025/baru.id.md").write_text(
        "---\ntitle: Pidato Baru\nspeaker: Menteri Uji\ndate: 2025-10-01\n---\n\nTeks baru.\n")
    report = _build(project)
    assert report.unreleased == (("2025/baru", "id"),)
    new_pdf = project / "site/2025/baru/baru.id.pdf"
    text = subprocess.run(["pdftotext", str(new_pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "TEMPLATE CHANGED" in text
    # ... and the released ones keep their bytes
    assert _sha(project / "site/2025/kenegaraan/kenegaraan.id.pdf") == before


def test_a_silent_correction_is_refused_and_nothing_changes(project: Path) -> None:
    _build(project)
    before = tree_bytes(project / "site")
    _correct(project, OLD_WORDS, "Teks yang diubah diam-diam", note="")
    with pytest.raises(SourceError) as caught:
        _build(project)
    message = str(caught.value)
    assert "kenegaraan.id.md:1:" in message and "changes only with a correction" in message
    assert "editions.txt line" in message
    assert tree_bytes(project / "site") == before
    result = CliRunner().invoke(main, ["build", str(project)])
    assert result.exit_code == 1 and "Traceback" not in result.output


def test_a_correction_makes_the_second_edition(project: Path) -> None:
    _build(project)
    first = _sha(project / "site/2025/kenegaraan/kenegaraan.id.edisi-1.pdf")
    _correct(project, OLD_WORDS, "Isi bagian ekonomi yang dikoreksi.", note="Paragraf pertama diperbaiki.")
    report = _build(project)
    assert report.unreleased == (("2025/kenegaraan", "id"),)
    site = project / "site"
    manifest = json.loads((site / "manifest.json").read_text())
    entry = next(s for s in manifest["speeches"] if s["id"] == "2025/kenegaraan")["languages"]["id"]
    assert entry["pdf"]["edition"] == 2 and entry["pdf"]["released"] is False
    assert [e["edition"] for e in entry["editions"]] == [1]
    assert not (site / "2025/kenegaraan/kenegaraan.id.edisi-2.pdf").exists()   # not released: no URL of its own yet

    result = CliRunner().invoke(main, ["release", str(project), "-j", "1"])
    assert result.exit_code == 0, result.output
    assert "2025/kenegaraan (id): edisi/edition 2, 2025-09-01" in result.output
    report = _build(project)
    assert report.unreleased == ()
    assert _sha(site / "2025/kenegaraan/kenegaraan.id.edisi-1.pdf") == first        # edition 1 stays
    second = _sha(site / "2025/kenegaraan/kenegaraan.id.edisi-2.pdf")
    assert second != first and _sha(site / "2025/kenegaraan/kenegaraan.id.pdf") == second
    text = subprocess.run(["pdftotext", str(site / "2025/kenegaraan/kenegaraan.id.pdf"), "-"],
                          capture_output=True, text=True, check=True).stdout
    assert "Paragraf pertama diperbaiki." in text and "dikoreksi" in text     # the colophon names it
    manifest = json.loads((site / "manifest.json").read_text())
    entry = next(s for s in manifest["speeches"] if s["id"] == "2025/kenegaraan")["languages"]["id"]
    assert [(e["edition"], e["date"], e["note"], e["sha256"]) for e in entry["editions"]] == [
        (1, "2025-08-15", "", first), (2, "2025-09-01", "Paragraf pertama diperbaiki.", second)]
    sums = (site / "SHA256SUMS").read_text()
    assert f"{first}  2025/kenegaraan/kenegaraan.id.edisi-1.pdf" in sums
    assert f"{second}  2025/kenegaraan/kenegaraan.id.edisi-2.pdf" in sums

    # the speech page lists both editions; the changes page marks the words
    page = (site / "2025/kenegaraan/index.html").read_text()
    assert "kenegaraan.id.edisi-1.pdf" in page and "kenegaraan.id.edisi-2.pdf" in page
    assert "perubahan/2/" in page and "Paragraf pertama diperbaiki." in page
    changes = (site / "2025/kenegaraan/perubahan/2/index.html").read_text()
    assert re.search(r"<ins><span class=\"visually-hidden\">\[ditambahkan: </span>[^<]*dikoreksi", changes)
    assert '<meta name="robots" content="noindex">' in changes
    # the English page has one edition: no list, no changes page
    assert not (site / "2025/kenegaraan/en/perubahan").exists()


def test_cards_keep_the_first_edition_and_the_copy_page_says_so(project: Path) -> None:
    _correct(project, OLD_WORDS, "Isi bagian ekonomi yang dikoreksi.", note="Paragraf pertama diperbaiki.")
    release(load_config(project), jobs=1)
    _build(project, card_pdfs=True)
    site = project / "site"
    first = _sha(site / "2025/kenegaraan/kenegaraan.id.edisi-1.pdf")
    short = " ".join(first[i:i + 4] for i in range(0, 16, 4))
    sheet = subprocess.run(["pdftotext", str(site / "2025/kenegaraan/kartu-qr.pdf"), "-"],
                           capture_output=True, text=True, check=True).stdout
    assert "Edisi 1" in sheet and short in " ".join(sheet.split())
    csv_text = (site / "2025/kenegaraan/kartu-qr.csv").read_text("utf-8-sig")
    assert short in csv_text
    copy = next((site / "2025/kenegaraan/salinan").glob("*/index.html")).read_text()
    assert "Kartu QR Anda mencetak sidik edisi 1." in copy
    assert "edisi terbaru adalah edisi 2" in copy and short in copy


def test_verify_knows_every_edition(project: Path) -> None:
    _correct(project, OLD_WORDS, "Isi bagian ekonomi yang dikoreksi.", note="Paragraf pertama diperbaiki.")
    release(load_config(project), jobs=1)
    _build(project)
    site = project / "site"
    old = site / "2025/kenegaraan/kenegaraan.id.edisi-1.pdf"
    runner = CliRunner()
    result = runner.invoke(main, ["verify", str(old), "--site", str(site)])
    assert result.exit_code == 0, result.output
    assert "authentic, edisi/edition 1 of 2, superseded on 2025-09-01: Paragraf pertama diperbaiki." in result.output
    result = runner.invoke(main, ["verify", str(old), "--site", str(site), "--latest"])
    assert result.exit_code == 1 and "not the latest edition" in result.output
    latest = site / "2025/kenegaraan/kenegaraan.id.pdf"
    result = runner.invoke(main, ["verify", str(latest), "--site", str(site), "--latest"])
    assert result.exit_code == 0 and "edisi/edition 2 of 2" in result.output and "superseded" not in result.output
    forged = project / "forged.pdf"
    forged.write_bytes(old.read_bytes() + b"\n%tampered\n")
    assert runner.invoke(main, ["verify", str(forged), "--site", str(site)]).exit_code == 1


def test_require_released(project: Path) -> None:
    (project / "speeches/2025/baru.id.md").write_text(
        "---\ntitle: Pidato Baru\nspeaker: Menteri Uji\ndate: 2025-10-01\n---\n\nTeks baru.\n")
    result = CliRunner().invoke(main, ["build", str(project), "--require-released", "--no-search"])
    assert result.exit_code == 1
    assert "speeches/2025/baru.id.md:1: edition 1 is not released" in result.output
    assert not (project / "site").exists()
    release(load_config(project), jobs=1)
    result = CliRunner().invoke(main, ["build", str(project), "--require-released", "--no-search"])
    assert result.exit_code == 0, result.output
    assert "not yet released" not in result.output


# --- bad input: each names the file and line, and publishes nothing ------------------------------

def _fails(project: Path, *expected: str) -> str:
    return refused(project, *expected)


def test_a_ledger_line_that_no_longer_matches_its_bytes(project: Path) -> None:
    _build(project)
    ledger = project / "editions.txt"
    lines = ledger.read_text().splitlines(keepends=True)
    number = next(i for i, line in enumerate(lines, 1) if line.startswith("2025/kenegaraan id 1"))
    fields = lines[number - 1].split(" ")
    fields[4] = "0" * 64
    lines[number - 1] = " ".join(fields)
    ledger.write_text("".join(lines))
    _fails(project, f"editions.txt:{number}: 2025/kenegaraan (id) edition 1: "
                    "editions/2025/kenegaraan/kenegaraan.id.edisi-1.pdf has SHA-256")


def test_kept_bytes_changed_by_hand(project: Path) -> None:
    _build(project)
    kept = project / "editions/2025/kenegaraan/kenegaraan.en.edisi-1.pdf"
    kept.write_bytes(kept.read_bytes() + b"%\n")
    _fails(project, "editions.txt:", "kenegaraan.en.edisi-1.pdf has SHA-256", "a released edition never changes")


def test_a_missing_edition_file(project: Path) -> None:
    _build(project)
    (project / "editions/2024/lama/lama.id.edisi-1.pdf").unlink()
    _fails(project, "editions.txt:", "2024/lama (id) edition 1: its kept PDF editions/2024/lama/lama.id.edisi-1.pdf is missing")


def test_a_malformed_ledger_line(project: Path) -> None:
    _build(project)
    ledger = project / "editions.txt"
    ledger.write_text(ledger.read_text() + "2025/kenegaraan id three\n")
    count = len(ledger.read_text().splitlines())
    _fails(project, f"editions.txt:{count}: 3 fields where a ledger line has 9")


def test_a_correction_dated_before_the_edition_it_corrects(project: Path) -> None:
    _build(project)
    _correct(project, OLD_WORDS, "Isi bagian ekonomi yang dikoreksi.", date="2025-08-01")
    _fails(project, f"{SPEECH}:", "correction 1 is dated 2025-08-01, before edition 1 (the speech's date, 2025-08-15)")


def test_two_corrections_with_no_text_change(project: Path) -> None:
    _build(project)
    source = project / SPEECH
    source.write_text(source.read_text().replace(
        "\n---\n", '\ncorrections:\n  - date: 2025-09-01\n    note: "Satu."\n  - date: 2025-09-02\n    note: "Dua."\n---\n', 1))
    out = _fails(project, f"{SPEECH}:")
    assert "waits for a release" in out


def test_a_correction_with_no_text_change(project: Path) -> None:
    _build(project)
    _correct(project, "---\ntitle", "---\ntitle")      # the text as released, with an entry
    _fails(project, f"{SPEECH}:", "correction 1 changes nothing: the text is as released in edition 1")


def test_a_released_speech_cannot_disappear(project: Path) -> None:
    _build(project)
    (project / "speeches/2024/lama.id.md").unlink()
    _fails(project, "editions.txt:", "2024/lama (id) was released (edition 1) but has no published source any more")


def test_a_correction_on_a_speech_never_released(tmp_path: Path) -> None:
    fresh = copy_project(tmp_path / "fresh")
    source = fresh / SPEECH
    source.write_text(source.read_text().replace(
        "\n---\n", '\ncorrections:\n  - date: 2025-09-01\n    note: "Satu."\n---\n', 1))
    _fails(fresh, f"{SPEECH}:", "correction 1 corrects an edition that was never released")


def test_the_fixture_body_holds_the_words_the_tests_change() -> None:
    assert OLD_WORDS in (Path(__file__).parent / "fixtures/project" / SPEECH).read_text()


# --- the word-level difference ---------------------------------------------------------------------

def test_compare_marks_deleted_and_inserted_words_by_paragraph() -> None:
    older = "---\ntitle: Judul\n---\n\nSatu dua tiga.\n\nEmpat lima.\n\nEnam.\n"
    newer = "---\ntitle: Judul Baru\n---\n\nSatu dua tiga.\n\nEmpat LIMA.\n\nEnam.\n\nTujuh.\n"
    found = compare(numbered_blocks(older), numbered_blocks(newer))
    shown = [(p.number, [(x.kind, x.text) for x in p.pieces]) for p in found.paragraphs]
    assert shown == [
        (0, [("same", "Judul"), ("inserted", "Baru")]),
        (2, [("same", "Empat"), ("deleted", "lima."), ("inserted", "LIMA.")]),
        (4, [("inserted", "Tujuh.")]),
    ]
    assert (found.deleted, found.inserted) == (1, 3)
    assert compare(numbered_blocks(older), numbered_blocks(older)).paragraphs == ()


def test_a_summary_is_not_text_and_needs_no_correction(project: Path) -> None:
    source = project / SPEECH
    source.write_text(source.read_text().replace("\n---\n", '\nsummary: "Ringkasan untuk pratinjau tautan."\n---\n', 1))
    report = _build(project)
    assert report.unreleased == ()
    page = (project / "site/2025/kenegaraan/index.html").read_text()
    assert '<meta name="description" content="Ringkasan untuk pratinjau tautan.">' in page
    source.write_text(source.read_text().replace("Ringkasan untuk pratinjau tautan.", "x" * 301))
    with pytest.raises(SourceError, match="summary has 301 characters"):
        _build(project)
