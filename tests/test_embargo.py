"""`embargo:`: a speech is in no public byte of the output before its moment, its copy URLs answer
ahead with a placeholder, its cards go to the private folder; at the moment a build (and publish)
makes it public, and a build across the moment equals a clean build."""

from __future__ import annotations

import datetime as dt
import gzip
import io
import json
import shutil
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import build_fails, copy_project, search_view, tree_bytes
from test_publish import _credentials, bucket, objects, s3  # noqa: F401 - the SeaweedFS fixtures
from speechgen import graph
from speechgen.build import build
from speechgen.cli import main
from speechgen.config import load_config
from speechgen.errors import SourceError
from speechgen.writer import MARKER

MOMENT = "2025-08-16T09:00:00+07:00"
BEFORE = dt.datetime.fromisoformat("2025-08-16T08:59:59+07:00")
AFTER = dt.datetime.fromisoformat(MOMENT)
ID_SOURCE = "speeches/2025/kenegaraan.id.md"
EN_SOURCE = "speeches/2025/kenegaraan.en.md"
# Words found nowhere else in the project: the Indonesian and English title, the speaker, the body.
SECRETS = ("Zamrud Kaliandra", "Emerald Kaliandra", "Presiden Kaliandra", "rahasiakalimaya", "secretkalimaya")
SPEECH_PAGE = "2025/kenegaraan/index.html"


def embargoed(project: Path, moment: str = MOMENT, *, en_moment: str | None = None) -> Path:
    """The fixture's state address under an embargo (in its Indonesian file, for both languages;
    `en_moment`: the English file's own), with a title, speaker and body word found nowhere else."""
    source = project / ID_SOURCE
    text = source.read_text().replace("title: Pidato Uji Kenegaraan", "title: Pidato Zamrud Kaliandra")
    text = text.replace("speaker: Presiden Uji", "speaker: Presiden Kaliandra")
    text = text.replace("unikpembukaan.", "unikpembukaan rahasiakalimaya.")
    if moment:
        text = text.replace("date: 2025-08-15\n", f"date: 2025-08-15\nembargo: {moment}\n", 1)
    source.write_text(text)
    english = project / EN_SOURCE
    text = english.read_text().replace("title: Test State Address", "title: Emerald Kaliandra Address")
    text = text.replace("speaker: Presiden Uji", "speaker: Presiden Kaliandra")
    text = text.replace("uniqueopening.", "uniqueopening secretkalimaya.")
    if en_moment:
        text = text.replace("date: 2025-08-15\n", f"date: 2025-08-15\nembargo: {en_moment}\n", 1)
    english.write_text(text)
    return project


def comparable(files: dict[str, bytes]) -> dict[str, bytes]:
    """A site as a reader gets it: the search index by what it finds (how it is split depends on
    the build's history), without the writer's record of it."""
    return search_view({d: b for d, b in files.items() if d != MARKER})


def readable(dest: str, data: bytes) -> bytes:
    """What a reader could get out of an output file: its bytes, a gzip-compressed file's bytes
    (Pagefind's index, fragments, metadata), a PDF's text, lower-cased."""
    found = [data]
    if data[:2] == b"\x1f\x8b":
        found.append(gzip.decompress(data))
    if dest.endswith(".pdf"):
        import pdfplumber

        with pdfplumber.open(io.BytesIO(data)) as pdf:
            found.append("\n".join(page.extract_text() or "" for page in pdf.pages).encode())
            found.append(json.dumps(pdf.metadata, default=str, ensure_ascii=False).encode())
    return b"\n".join(found).lower()


def leaks(files: dict[str, bytes], secrets=SECRETS) -> dict[str, list[str]]:
    """Each output file that holds any of the secrets (or its lower-cased, unescaped form)."""
    found = {}
    for dest, data in files.items():
        text = readable(dest, data)
        hits = [s for s in secrets if s.lower().encode() in text]
        if hits:
            found[dest] = hits
    return found


@pytest.fixture
def drawn(monkeypatch: pytest.MonkeyPatch) -> list[tuple]:
    """The text inputs of every link preview drawn (a PNG's pixels hide its text)."""
    from speechgen.render import preview

    calls: list[tuple] = []
    real = preview.preview_png

    def recording(title, speaker, date_text, site_title, *rest):
        calls.append((title, speaker, date_text, site_title))
        return real(title, speaker, date_text, site_title, *rest)
    monkeypatch.setattr(preview, "preview_png", recording)
    return calls


@pytest.fixture
def fresh_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A cache of this test's own: every output is made, none recalled from another test."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("SPEECHGEN_CACHE_DIR", str(folder))
    return folder


@pytest.mark.pdf
def test_nothing_of_it_in_any_output_before_its_moment_all_of_it_after(
        tmp_path: Path, drawn: list, fresh_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("pagefind")
    project = embargoed(copy_project(tmp_path / "project"))
    config = load_config(project)
    site = project / "site"

    report = build(config, at=BEFORE, jobs=1)
    files = tree_bytes(site)
    assert leaks(files) == {}
    assert drawn and not [c for c in drawn if any(s in " ".join(c) for s in SECRETS)]
    assert SPEECH_PAGE not in files and not any(d.startswith("2025/kenegaraan/en/") for d in files)
    assert not any(d.endswith(".pdf") and "kenegaraan" in d for d in files)        # no book, no card sheet
    assert set(report.embargoed) == {("2025/kenegaraan", "id", MOMENT), ("2025/kenegaraan", "en", MOMENT)}
    assert report.speeches == 1                        # only the old speech is public
    listed = json.loads(files["manifest.json"])
    assert [s["id"] for s in listed["speeches"]] == ["2024/lama"]
    assert b"kenegaraan" not in files["sitemap.xml"] and b"kenegaraan" not in files["feeds/id.xml"]
    # The copy URLs answer; the card sheet, which prints the title, waits beside the site.
    assert b"Tersedia mulai 16 Agustus 2025, 09.00 WIB" in files["2025/kenegaraan/salinan/dpr/index.html"]
    private = graph.private_folder(site)
    assert private.parent == site.parent and (private / "2025/kenegaraan/kartu-qr.pdf").is_file()
    assert b"kaliandra" in readable("x.pdf", (private / "2025/kenegaraan/kartu-qr.pdf").read_bytes())

    drawn.clear()
    report = build(config, at=AFTER, jobs=1)
    after = tree_bytes(site)
    assert report.embargoed == ()
    found = leaks(after)
    assert {"Zamrud Kaliandra", "Presiden Kaliandra", "rahasiakalimaya"} <= set(found[SPEECH_PAGE])
    assert "secretkalimaya" in found["2025/kenegaraan/en/index.html"]
    assert "rahasiakalimaya" in found["2025/kenegaraan/kenegaraan.id.pdf"]          # the book, by its text
    assert "Zamrud Kaliandra" in found["manifest.json"] and "Zamrud Kaliandra" in found["feeds/id.xml"]
    assert "Zamrud Kaliandra" in found["2025/kenegaraan/kartu-qr.pdf"]
    assert any(c[0] == "Pidato Zamrud Kaliandra" and c[1] == "Presiden Kaliandra" for c in drawn)
    # Search finds it: the word is in Pagefind's (compressed) word index, and its fragment names the page.
    index = [d for d in found if d.startswith("pagefind/") and d.endswith(".pf_index")]
    fragments = [json.loads(gzip.decompress(after[d])[len(b"pagefind_dcd"):]) for d in found
                 if d.startswith("pagefind/") and d.endswith(".pf_fragment") and "rahasiakalimaya" in found[d]]
    assert index and any(f["url"] == "/2025/kenegaraan/index.html" for f in fragments)
    assert not private.exists()
    assert b"Zamrud Kaliandra" in after["2025/kenegaraan/salinan/dpr/index.html"]   # the copy itself now

    # Built across the moment, the site is byte for byte the site a clean build makes.
    monkeypatch.setenv("SPEECHGEN_CACHE_DIR", str(tmp_path / "clean-cache"))
    build(config, at=AFTER, out=tmp_path / "clean", jobs=1)
    assert comparable(tree_bytes(tmp_path / "clean")) == comparable(after)


def test_copy_urls_answer_ahead_naming_the_recipient_and_the_moment(tmp_path: Path) -> None:
    import zxingcpp
    from PIL import Image

    project = embargoed(copy_project(tmp_path / "project"))
    site = project / "site"
    build(load_config(project), at=BEFORE, search=False)
    names = {"dpr": "Dewan Perwakilan Rakyat", "mpr": "Majelis Permusyawaratan Rakyat", "arsip": "Arsip Nasional"}
    for ident, name in names.items():
        folder = site / "2025/kenegaraan/salinan" / ident
        page = (folder / "index.html").read_text()
        assert f"Salinan untuk</span> <strong class=\"copy-recipient\" dir=\"auto\">{name}</strong>" in page
        assert "Tersedia mulai 16 Agustus 2025, 09.00 WIB" in page
        assert "Available from 16 August 2025, 9:00\u202fAM WIB" in page      # CLDR: a narrow space
        assert '<time datetime="2025-08-16T09:00:00+07:00">' in page and 'name="robots" content="noindex"' in page
        assert not [s for s in SECRETS if s in page] and "Sidang Tahunan" not in page
        code = zxingcpp.read_barcodes(Image.open(folder / "qr.png"))
        assert [c.text for c in code] == [f"https://pidato.example.go.id/arsip/2025/kenegaraan/salinan/{ident}/"]
    assert b"salinan" not in (site / "sitemap.xml").read_bytes()
    assert not (site / "static/lambang.png").exists()   # the image only the held speech shows waits too
    # The cards and the mailroom list, as any proof sheet, in the private folder beside the site.
    private = graph.private_folder(site) / "2025/kenegaraan"
    rows = (private / "kartu-qr.csv").read_text("utf-8-sig").splitlines()
    assert len(rows) == 4 and all('"proof"' in row for row in rows[1:])
    assert not (site / "2025/kenegaraan/kartu-qr.csv").exists()


@pytest.mark.pdf
def test_released_ahead_final_cards_go_out_the_edition_waits(tmp_path: Path) -> None:
    from speechgen.release import release

    project = embargoed(copy_project(tmp_path / "project"))
    config = load_config(project)
    assert len(release(config, jobs=1)) == 3           # the embargoed speech is released as usual
    site = project / "site"
    build(config, at=BEFORE, search=False, jobs=1)
    files = tree_bytes(site)
    assert leaks(files) == {} and not any("kenegaraan" in d and d.endswith(".pdf") for d in files)
    ledger = (project / "editions.txt").read_text()
    kept = [line.split()[4] for line in ledger.splitlines() if line.startswith("2025/kenegaraan")]
    assert len(kept) == 2 and not any(sha.encode() in files["SHA256SUMS"] for sha in kept)
    rows = (graph.private_folder(site) / "2025/kenegaraan/kartu-qr.csv").read_text("utf-8-sig").splitlines()
    assert all('"final"' in row for row in rows[1:])   # final cards, printed and posted ahead
    build(config, at=AFTER, search=False, jobs=1)
    assert (site / "2025/kenegaraan/kenegaraan.id.edisi-1.pdf").is_file()
    assert all(sha in (site / "SHA256SUMS").read_text() for sha in kept)
    # Put off before its moment: allowed; after it (the speech went out): refused, at its line.
    source = project / ID_SOURCE
    source.write_text(source.read_text().replace(f"embargo: {MOMENT}", "embargo: 2025-08-17T09:00:00+07:00"))
    build(config, at=BEFORE, search=False, jobs=1)
    with pytest.raises(SourceError) as refused:
        build(config, at=AFTER, search=False, jobs=1)
    assert f"{ID_SOURCE}:6: embargo: 2025/kenegaraan (id) edition 1 was released under the embargo {MOMENT}, " \
           "which has passed" in "\n".join(refused.value.lines())


def test_a_renamed_speechs_old_copy_urls_answer_ahead_too(tmp_path: Path) -> None:
    project = embargoed(copy_project(tmp_path / "project"))
    source = project / ID_SOURCE
    source.write_text(source.read_text().replace("date: 2025-08-15\n", "date: 2025-08-15\naliases: [2025/lama-sekali]\n", 1))
    site = project / "site"
    build(load_config(project), at=BEFORE, search=False)
    old = (site / "2025/lama-sekali/salinan/dpr/index.html").read_text()
    assert "Tersedia mulai 16 Agustus 2025, 09.00 WIB" in old and not [s for s in SECRETS if s in old]
    assert not (site / "2025/lama-sekali/index.html").exists()
    build(load_config(project), at=AFTER, search=False)
    assert 'http-equiv="refresh"' in (site / "2025/lama-sekali/salinan/dpr/index.html").read_text()


def test_a_later_translation_waits_for_its_own_moment(tmp_path: Path) -> None:
    project = embargoed(copy_project(tmp_path / "project"), "", en_moment="2025-08-17T09:00:00+07:00")
    site = project / "site"
    report = build(load_config(project), at=dt.datetime.fromisoformat("2025-08-16T12:00:00+07:00"), search=False)
    files = tree_bytes(site)
    assert report.embargoed == (("2025/kenegaraan", "en", "2025-08-17T09:00:00+07:00"),)
    assert leaks(files, ("Emerald Kaliandra", "secretkalimaya")) == {}
    assert b"rahasiakalimaya" in files[SPEECH_PAGE] and b'"en/index.html"' not in files[SPEECH_PAGE]
    assert not any(d.startswith(("2025/kenegaraan/en/", "2025/kenegaraan/berdampingan/")) for d in files)
    assert b"Zamrud Kaliandra" in files["2025/kenegaraan/salinan/dpr/index.html"]     # the copy is open
    build(load_config(project), at=dt.datetime.fromisoformat("2025-08-17T09:00:00+07:00"), search=False)
    assert b"secretkalimaya" in (site / "2025/kenegaraan/en/index.html").read_bytes()
    assert (site / "2025/kenegaraan/berdampingan/index.html").is_file()
    assert (site / "static/lambang.png").is_file()      # shown by the Indonesian text, public all along


def test_an_unchanged_project_is_built_again_when_its_moment_passes(tmp_path: Path) -> None:
    """A build from cron at the moment must not replay the build before it."""
    opens = dt.datetime.now(dt.timezone.utc).replace(microsecond=0) + dt.timedelta(seconds=4)
    project = embargoed(copy_project(tmp_path / "project"), opens.isoformat())
    config = load_config(project)
    page = project / "site" / SPEECH_PAGE
    first = build(config, search=False)
    assert not page.exists() and first.embargoed
    again = build(config, search=False)
    assert again.unchanged and again.embargoed == first.embargoed and not page.exists()
    private = graph.private_folder(project / "site")
    shutil.rmtree(private)                 # the office's card sheets, lost: made again
    build(config, search=False)
    assert (private / "2025/kenegaraan/kartu-qr.pdf").is_file()
    time.sleep(max(0.0, (opens - dt.datetime.now(dt.timezone.utc)).total_seconds()) + 0.2)
    opened = build(config, search=False)
    assert not opened.unchanged and opened.embargoed == () and b"rahasiakalimaya" in page.read_bytes()
    # --at: the same moment is the same site; one across the moment is another
    assert build(config, search=False).unchanged
    assert not build(config, search=False, at=opens - dt.timedelta(seconds=1)).unchanged
    assert not page.exists()


def test_the_summary_lists_each_embargoed_speech_and_at_needs_an_offset(tmp_path: Path) -> None:
    project = embargoed(copy_project(tmp_path / "project"))
    result = CliRunner().invoke(main, ["build", str(project), "--no-search", "--no-pdf", "--at", "2025-08-16T08:00:00+07:00"])
    assert result.exit_code == 0, result.output
    assert f"Embargo: 2025/kenegaraan (id) tidak diterbitkan sampai / not published until {MOMENT}" in result.output
    assert "Embargo: 2025/kenegaraan (en)" in result.output
    for bad in ("2025-08-16T08:00:00", "tomorrow"):
        result = CliRunner().invoke(main, ["build", str(project), "--no-search", "--at", bad])
        assert result.exit_code == 2 and "Traceback" not in result.output and "--at" in result.output


def test_check_warns_of_an_embargo_passed_and_still_set(tmp_path: Path) -> None:
    project = embargoed(copy_project(tmp_path / "project"))      # 2025: long past by the clock
    result = CliRunner().invoke(main, ["check", str(project)])
    assert result.exit_code == 0, result.output
    assert f"{ID_SOURCE}:6: embargo {MOMENT} has passed and is still set" in result.output


def test_the_preview_shows_embargoed_speeches_marked(tmp_path: Path) -> None:
    project = embargoed(copy_project(tmp_path / "project"))
    build(load_config(project), at=BEFORE, search=False, unseal=True, preview=True)
    page = (project / "site" / SPEECH_PAGE).read_text()
    assert "rahasiakalimaya" in page
    assert "EMBARGO: belum terbit, terbit 16 Agustus 2025, 09.00 WIB" in page
    assert "EMBARGO" in (project / "site/2025/kenegaraan/salinan/dpr/index.html").read_text()
    assert "EMBARGO" not in (project / "site/2024/lama/index.html").read_text()


@pytest.mark.parametrize("value, message", [
    ("2025-08-16T09:00:00", "embargo '2025-08-16T09:00:00' has no offset from UTC"),
    ("2025-08-16", "embargo '2025-08-16' has no time of day"),
    ("16 Agustus 2025 jam 9", "embargo '16 Agustus 2025 jam 9' is not a time"),
    ("[2025]", "embargo must be a time such as 2025-08-16T09:00:00+07:00, not a list"),
])
def test_an_embargo_that_is_not_a_moment_is_refused_at_its_line(tmp_path: Path, value: str, message: str) -> None:
    project = embargoed(copy_project(tmp_path / "project"), value)
    build_fails(project, f"{ID_SOURCE}:6: {message}")


def test_an_embargo_cannot_take_back_a_released_speech(released_project: Path) -> None:
    source = released_project / ID_SOURCE      # the text as released, an embargo added
    source.write_text(source.read_text().replace("date: 2025-08-15\n", "date: 2025-08-15\nembargo: 2030-01-01T09:00:00+07:00\n"))
    build_fails(released_project, f"{ID_SOURCE}:6: embargo: 2025/kenegaraan (id) edition 1 was released on "
                "2025-08-15 without an embargo, so it is public in the published site")


# --- publish: nothing of it in the bucket before the moment, all of it after ---------------------

def test_publish_before_and_after_the_moment(tmp_path: Path, s3, bucket: str) -> None:
    project = embargoed(copy_project(tmp_path / "project"))
    config = load_config(project)
    target = f"s3://{bucket}/arsip"

    def published() -> dict[str, bytes]:
        client = s3.client()
        return {key[len("arsip/"):]: client.get_object(Bucket=bucket, Key=key)["Body"].read()
                for key in objects(s3, bucket, "arsip/")}

    def publish() -> None:
        result = CliRunner().invoke(main, ["publish", str(project), "--to", target, "--endpoint", s3.endpoint])
        assert result.exit_code == 0, result.output

    build(config, at=BEFORE)
    publish()
    before = published()
    assert "2025/kenegaraan/salinan/dpr/index.html" in before and SPEECH_PAGE not in before
    assert leaks(before) == {}
    build(config, at=AFTER)
    publish()
    after = published()
    assert b"rahasiakalimaya" in after[SPEECH_PAGE]
    assert b"Zamrud Kaliandra" in after["2025/kenegaraan/salinan/dpr/index.html"]
    assert any(d.endswith(".pf_index") and b"rahasiakalimaya" in gzip.decompress(data)
               for d, data in after.items() if d.startswith("pagefind/"))
