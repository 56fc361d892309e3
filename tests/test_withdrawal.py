"""Withdrawal: `withdrawn: {date, note}` on a released speech takes it out of every listing
(home, archives, feeds, sitemap, search) and keeps its pages, copy pages and editions, each with
a notice; `verify` and the manifest say so; bad input names the file and line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import build_fails, copy_project, search_view, tree_bytes
from speechgen.build import build
from speechgen.cli import main
from speechgen.config import load_config

SPEECH = "speeches/2025/kenegaraan.id.md"
TRANSLATION = "speeches/2025/kenegaraan.en.md"
PAGE = "2025/kenegaraan/index.html"
PAGE_EN = "2025/kenegaraan/en/index.html"
COPY = "2025/kenegaraan/salinan/dpr/index.html"
EDITION = "2025/kenegaraan/kenegaraan.id.edisi-1.pdf"
LATEST = "2025/kenegaraan/kenegaraan.id.pdf"
NOTE = "Ditarik atas permintaan penyelenggara."
NOTICE = f"Ditarik pada <time datetime=\"2025-09-01\">1 September 2025</time></strong>: {NOTE}"


def _build(project: Path, **options):
    options.setdefault("card_pdfs", False)
    options.setdefault("search", False)
    return build(load_config(project), pdf=True, jobs=1, **options)


def _front(project: Path, source: str, lines: str) -> None:
    """Add front matter lines to a source (before its closing '---')."""
    path = project / source
    path.write_text(path.read_text("utf-8").replace("\n---\n", f"\n{lines}\n---\n", 1), "utf-8")


def _withdraw(project: Path, source: str = SPEECH, note: str = NOTE) -> None:
    _front(project, source, f'withdrawn:\n  date: 2025-09-01\n  note: "{note}"')


@pytest.fixture
def project(released_project: Path) -> Path:
    return released_project


@pytest.mark.pdf
def test_a_withdrawn_speech_is_listed_nowhere_and_kept_with_a_notice(project: Path) -> None:
    search = pytest.importorskip("speechgen.render.search").available()
    site = project / "site"
    _build(project, search=search)
    before = tree_bytes(site)
    assert "2025/kenegaraan/" in before["index.html"].decode()      # listed, before
    ledger = (project / "editions.txt").read_bytes()

    _withdraw(project)
    report = _build(project, search=search)      # front matter only: no correction needed
    assert report.unreleased == ()
    assert (project / "editions.txt").read_bytes() == ledger
    after = tree_bytes(site)

    # Listed nowhere: home, archives, feeds, sitemap, search.
    for dest in ("index.html", "acara/sidang-tahunan/index.html", "feeds/id.xml", "feeds/en.xml",
                 "sitemap.xml"):
        assert "2025/kenegaraan" in before[dest].decode() or dest == "feeds/en.xml", dest
        assert "2025/kenegaraan" not in after[dest].decode(), dest
        assert "2024/lama" in after[dest].decode() or dest == "feeds/en.xml", dest   # the other one is
    for dest, link in (("index.html", "tahun/2025/"), ("index.html", "pembicara/presiden-uji/"),
                       ("tahun/index.html", "2025/"), ("pembicara/index.html", "presiden-uji/")):
        assert link in before[dest].decode() and link not in after[dest].decode(), (dest, link)
    assert "tahun/2025/index.html" in before and "tahun/2025/index.html" not in after
    assert "pembicara/presiden-uji/index.html" in before and "pembicara/presiden-uji/index.html" not in after
    if search:
        found = json.loads(search_view(after)["pagefind (what a reader finds)"])
        assert not any("kenegaraan" in url for url in found), sorted(found)
        assert any("2024/lama" in url for url in found)

    # Kept: pages, copy pages, every PDF byte for byte; each page says so, near the top.
    for dest in (EDITION, LATEST, "2025/kenegaraan/kenegaraan.en.edisi-1.pdf", "2025/kenegaraan/kenegaraan.en.pdf"):
        assert after[dest] == before[dest], dest
    page = after[PAGE].decode()
    assert NOTICE in page
    assert page.index(NOTICE) < page.index('class="speech-body"')
    assert '<meta name="robots" content="noindex">' in page
    assert 'lang="en" class="alt-lang">Withdrawn on <time datetime="2025-09-01">1 September 2025</time>' in page
    english = after[PAGE_EN].decode()
    assert "Withdrawn on <time datetime=\"2025-09-01\">1 September 2025</time></strong>: " + NOTE in english
    copy = after[COPY].decode()
    assert NOTICE in copy and copy.index(NOTICE) < copy.index('id="naskah"')
    assert NOTICE in after["2025/kenegaraan/berdampingan/index.html"].decode()

    # The manifest says it; verify says it, and the PDF stays authentic.
    listed = json.loads(after["manifest.json"])
    entry = next(s for s in listed["speeches"] if s["id"] == "2025/kenegaraan")
    assert entry["withdrawn"] == {"date": "2025-09-01", "note": NOTE, "notes": {"id": NOTE, "en": NOTE}}
    assert entry["languages"]["id"]["editions"][0]["path"] == EDITION
    assert "withdrawn" not in next(s for s in listed["speeches"] if s["id"] == "2024/lama")
    result = CliRunner().invoke(main, ["verify", str(site / EDITION), "--site", str(site)])
    assert result.exit_code == 0, result.output
    assert "authentic, edisi/edition 1 of 1" in result.output
    assert f"ditarik pada / withdrawn on 2025-09-01: {NOTE}" in result.output


@pytest.mark.pdf
def test_a_note_per_language_and_the_changes_page(project: Path) -> None:
    """A note in each language's file is that language's note; a correction's changes page says
    the speech was withdrawn too. The text still changes only with a correction."""
    source = project / SPEECH
    source.write_text(source.read_text("utf-8").replace("Isi bagian ekonomi.", "Isi bagian ekonomi baru."))
    _withdraw(project)
    _withdraw(project, TRANSLATION, "Withdrawn at the request of the organisers.")
    result = CliRunner().invoke(main, ["build", str(project), "--no-search"])
    assert result.exit_code == 1 and "the text differs from edition 1" in result.output, result.output
    _front(project, SPEECH, 'corrections:\n  - date: 2025-08-20\n    note: "Angka diperbaiki."')
    _build(project)
    site = project / "site"
    changes = (site / "2025/kenegaraan/perubahan/2/index.html").read_text()
    assert NOTICE in changes
    assert "Withdrawn on" in changes and "Withdrawn at the request of the organisers." in changes
    english = (site / PAGE_EN).read_text()
    assert ": Withdrawn at the request of the organisers." in english
    listed = json.loads((site / "manifest.json").read_bytes())
    entry = next(s for s in listed["speeches"] if s["id"] == "2025/kenegaraan")
    assert entry["withdrawn"]["notes"] == {"id": NOTE, "en": "Withdrawn at the request of the organisers."}
    result = CliRunner().invoke(main, ["verify", str(site / "2025/kenegaraan/kenegaraan.en.edisi-1.pdf"),
                                       "--site", str(site)])
    assert "withdrawn on 2025-09-01: Withdrawn at the request of the organisers." in result.output, result.output


# --- bad input: each names the file and line, and publishes nothing ------------------------------

def _fails(project: Path, *expected: str) -> None:
    build_fails(project, *expected)
    assert not (project / "site").exists()


BAD = [
    ("withdrawn: 2025-09-01", "withdrawn must be a mapping with `date:` and `note:`"),
    ('withdrawn:\n  note: "Ditarik."', "withdrawn has no `date:`"),
    ('withdrawn:\n  date: 2025-02-30\n  note: "Ditarik."', "withdrawn: date 2025-02-30 is not a real day"),
    ('withdrawn:\n  date: 1 September 2025\n  note: "Ditarik."', "must be written YYYY-MM-DD"),
    ('withdrawn:\n  date: 2025-08-01\n  note: "Ditarik."', "withdrawn: date 2025-08-01 is before the speech's date (2025-08-15)"),
    ("withdrawn:\n  date: 2025-09-01", "withdrawn has no `note:`"),
    ('withdrawn:\n  date: 2025-09-01\n  note: ""', "withdrawn: note must be text that says why it was withdrawn"),
    ('withdrawn:\n  date: 2025-09-01\n  note: "Ditarik."\n  by: Sekretariat', "withdrawn: unknown key 'by'"),
    ('withdrawn:\n  date: 2025-09-01\n  note: {fr: "Retiré."}', "note language 'fr' is not in [site] languages"),
]


@pytest.mark.parametrize(("lines", "message"), BAD, ids=[b[1][:40] for b in BAD])
def test_bad_withdrawal(tmp_path: Path, lines: str, message: str) -> None:
    fresh = copy_project(tmp_path / "fresh")
    _front(fresh, SPEECH, lines)
    line = 1 + (fresh / SPEECH).read_text().splitlines().index(next(
        x for x in (fresh / SPEECH).read_text().splitlines() if x.startswith("withdrawn")))
    where = {"withdrawn has no": line, "withdrawn must": line}
    at = next((n for prefix, n in where.items() if message.startswith(prefix)), None)
    _fails(fresh, f"{SPEECH}:{at}: {message}" if at else f"{SPEECH}:", message)


def test_translations_withdrawn_on_two_days(tmp_path: Path) -> None:
    fresh = copy_project(tmp_path / "fresh")
    _withdraw(fresh)
    _front(fresh, TRANSLATION, 'withdrawn:\n  date: 2025-09-02\n  note: "Withdrawn."')
    _fails(fresh, f"{TRANSLATION}:", "withdrawn: date 2025-09-02 differs from 2025-09-01 in its translation "
           "kenegaraan.id.md")


def test_a_speech_never_released_is_not_withdrawn_but_deleted_or_drafted(tmp_path: Path) -> None:
    fresh = copy_project(tmp_path / "fresh")
    _withdraw(fresh)
    line = (fresh / SPEECH).read_text().splitlines().index("withdrawn:") + 1
    _fails(fresh, f"{SPEECH}:{line}: withdrawn: this speech was never released",
           "delete its file or set `status: draft` instead")


def test_withdrawal_is_not_text() -> None:
    """The ledger's text-sha256 (what needs a correction to change) never sees a withdrawal."""
    from speechgen.reader import text_digest
    import datetime as dt

    values = {"title": "Pidato", "speaker": "Presiden"}
    day = dt.date(2025, 8, 15)
    assert text_digest(values, day, "Teks.") == text_digest(dict(values, withdrawn="x"), day, "Teks.")


def test_a_remembered_reading_keeps_withdrawal_and_aliases(tmp_path: Path) -> None:
    """The build remembers what reading found (`parsed_record`); both come back as they were."""
    from speechgen import memo, reader
    from speechgen.errors import Problems

    fresh = copy_project(tmp_path / "fresh")
    _front(fresh, SPEECH, 'withdrawn: {date: 2025-09-01, note: {id: "Ditarik.", en: "Withdrawn."}}\n'
                          'aliases: ["2025/pidato-lama"]')
    config = load_config(fresh)
    problems = Problems(config.root)
    parsed = reader.read_source((fresh / SPEECH).resolve(), config, problems)
    assert problems.items == [] and parsed is not None
    assert parsed.withdrawn is not None and parsed.withdrawn.note("en") == "Withdrawn."
    assert parsed.aliases == (("2025/pidato-lama", 10),)
    assert memo.parsed_from_record(memo.parsed_record(parsed), parsed.path) == parsed
