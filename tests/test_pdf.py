"""Archival PDFs, opened and read back: PDF/A, fonts, outline, text, source, checksums, bytes.

Rendering costs about a second a book, so the fixture project is built once for the module; the
hostile cases use a project with a single speech and one worker.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
from pathlib import Path

import pikepdf
import pypdf
import pytest
from click.testing import CliRunner
from PIL import Image

from conftest import copy_project
from speechgen.build import build
from speechgen.cache import Cache, key
from speechgen.cli import main
from speechgen.config import load_config
from speechgen.errors import SourceError
from speechgen.render import pdf as pdf_module

pytestmark = pytest.mark.pdf

BOOKS = {("2025/kenegaraan", "id"): "Pidato Uji Kenegaraan",
         ("2025/kenegaraan", "en"): "Test State Address",
         ("2024/lama", "id"): None}


def with_pdf_settings(project: Path, text: str = 'emblem = "static/lambang.png"\n') -> Path:
    with (project / "speechgen.toml").open("a") as f:
        f.write("\n[pdf]\n" + text)
    return project


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    project = with_pdf_settings(copy_project(tmp_path_factory.mktemp("pdf") / "project"))
    calls: list[tuple[int, int]] = []
    build(load_config(project), pdf=True, jobs=2, card_pdfs=False, progress=lambda done, total: calls.append((done, total)))
    assert calls[0] == (0, 3) and calls[-1] == (3, 3)
    manifest = json.loads((project / "site" / "manifest.json").read_text())
    return project, manifest


def pdf_entries(manifest: dict) -> dict[tuple[str, str], dict]:
    return {(s["id"], lang): entry["pdf"] for s in manifest["speeches"]
            for lang, entry in s["languages"].items()}


def test_every_version_has_a_pdf_in_the_manifest_with_true_sums(built) -> None:
    project, manifest = built
    entries = pdf_entries(manifest)
    assert set(entries) == set(BOOKS)
    sums = (project / "site" / "SHA256SUMS").read_text().splitlines()
    for (speech_id, lang), pdf in entries.items():
        data = (project / "site" / pdf["path"]).read_bytes()
        assert pdf["path"] == f"{speech_id}/{speech_id.split('/')[1]}.{lang}.pdf"
        assert pdf["url"] == "https://pidato.example.go.id/arsip/" + pdf["path"]
        assert pdf["sha256"] == hashlib.sha256(data).hexdigest() and pdf["bytes"] == len(data)
        assert pdf["pages"] == len(pypdf.PdfReader(io.BytesIO(data)).pages) >= 3
        assert f"{pdf['sha256']}  {pdf['path']}" in sums
    # the sums file is what `sha256sum -c` reads
    check = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=project / "site", capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr


def test_speech_page_links_the_pdf_with_size_pages_and_fingerprint(built) -> None:
    project, manifest = built
    pdf = pdf_entries(manifest)[("2025/kenegaraan", "en")]
    page = (project / "site/2025/kenegaraan/en/index.html").read_text()
    assert 'href="../kenegaraan.en.pdf"' in page
    fingerprint = " ".join(pdf["sha256"][i:i + 4] for i in range(0, 16, 4))
    assert fingerprint in page and f"{pdf['pages']} pages" in page


def test_pdfa_3u_tagged_with_metadata_from_the_speech(built) -> None:
    project, _ = built
    with pikepdf.open(project / "site/2025/kenegaraan/kenegaraan.id.pdf") as pdf:
        meta = pdf.open_metadata()
        assert meta["pdfaid:part"] == "3" and meta["pdfaid:conformance"] == "U"      # the default claim
        assert meta["dc:title"] == "Pidato Uji Kenegaraan"
        assert meta["xmp:CreateDate"].startswith("2025-08-15") and meta["xmp:ModifyDate"].startswith("2025-08-15")
        assert str(pdf.Root.Lang) == "id"
        assert pdf.Root.MarkInfo.Marked is True and "/StructTreeRoot" in pdf.Root
        assert "/OutputIntents" in pdf.Root
        info = pdf.docinfo
        assert str(info.Author) == "Presiden Uji" and str(info.Subject) == "Sidang Tahunan"
        assert "Presiden Uji" in str(info.Keywords) and "Gedung Uji" in str(info.Keywords)
        assert str(info.CreationDate).startswith("D:20250815")
        structure = _structure(pdf.Root.StructTreeRoot)
        assert {"/H1", "/H2", "/Table", "/TH", "/Figure"} <= structure["types"]
        assert "Lambang uji" in structure["alts"]


def _structure(node, found=None) -> dict:
    found = found or {"types": set(), "alts": set()}
    if isinstance(node, pikepdf.Dictionary):
        if "/S" in node:
            found["types"].add(str(node.S))
        if "/Alt" in node:
            found["alts"].add(str(node.Alt))
        if node.get("/K") is not None:
            _structure(node.K, found)
    elif isinstance(node, pikepdf.Array):
        for child in node:
            _structure(child, found)
    return found


def test_every_font_is_embedded_and_bundled(built) -> None:
    project, _ = built
    for path in (project / "site").rglob("*.pdf"):
        with pikepdf.open(path) as pdf:
            fonts = {}
            for page in pdf.pages:
                for font in page.Resources.get("/Font", {}).values():
                    descriptor = (font.DescendantFonts[0] if "/DescendantFonts" in font else font).FontDescriptor
                    fonts[str(font.BaseFont)] = any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3"))
        assert fonts and all(fonts.values()), (path, fonts)
        # subset ('ABCDEF+') and only the bundled family: no fallback font from this machine
        assert all(name[7] == "+" and name[8:].startswith("Speechgen-Serif") for name in fonts), fonts
    listed = subprocess.run(["pdffonts", str(project / "site/2025/kenegaraan/kenegaraan.id.pdf")],
                            capture_output=True, text=True, check=True).stdout.splitlines()[2:]
    assert listed and all(line.split()[-5:-3] == ["yes", "yes"] for line in listed), listed


def test_outline_text_footnotes_and_contents_pages(built) -> None:
    project, _ = built
    reader = pypdf.PdfReader(project / "site/2025/kenegaraan/kenegaraan.id.pdf")
    outline = reader.outline
    titles = [item.title for item in _flatten(outline)]
    assert titles[0] == "Pidato Uji Kenegaraan"
    assert {"Daftar isi", "Ekonomi & Pangan", "Penutup"} <= set(titles)
    pages = [page.extract_text() for page in reader.pages]
    cover = pages[0]
    for text in ("Pidato Uji Kenegaraan", "Teks uji", "Presiden Uji", "Sidang Tahunan", "Gedung Uji",
                 "15 Agustus 2025", "SEKRETARIAT UJI"):
        assert text in cover
    body = next(n for n, text in enumerate(pages) if "unikpembukaan" in text)
    # the footnote is printed at the foot of the page that calls it
    assert "Catatan kaki uji." in pages[body]
    assert pages[body].index("Catatan kaki uji.") > pages[body].index("Terima kasih")
    # the contents page gives the page each heading is really on
    contents = pages[1]
    for heading in ("Ekonomi & Pangan", "Penutup"):
        number = next(n for n, text in enumerate(pages) if n > 1 and heading in text) + 1
        line = next(line for line in contents.splitlines() if heading in line)
        assert line.rstrip().endswith(str(number)), line
    # running header with the title, and the page number alone in the footer, as in a printed
    # book (it read "3 / 4" before issue 14)
    lines = [line.strip() for line in pages[body].splitlines() if line.strip()]
    assert "Pidato Uji Kenegaraan" in lines and lines[-1] == str(body + 1)
    assert not any(" / " in line for line in lines)
    english = pypdf.PdfReader(project / "site/2025/kenegaraan/kenegaraan.en.pdf").pages[0].extract_text()
    assert "Test State Address" in english and "15 August 2025" in english


def _flatten(outline):
    for item in outline:
        if isinstance(item, list):
            yield from _flatten(item)
        else:
            yield item


def test_the_markdown_source_is_embedded_as_an_associated_file(built) -> None:
    project, _ = built
    source = (project / "speeches/2025/kenegaraan.en.md").read_bytes()
    with pikepdf.open(project / "site/2025/kenegaraan/kenegaraan.en.pdf") as pdf:
        assert list(pdf.attachments) == ["kenegaraan.en.md"]
        assert pdf.attachments["kenegaraan.en.md"].get_file().read_bytes() == source
        associated = list(pdf.Root.AF)
        assert len(associated) == 1 and associated[0].AFRelationship == "/Source"


def test_qpdf_check_passes(built) -> None:
    project, _ = built
    for path in (project / "site").rglob("*.pdf"):
        result = subprocess.run(["qpdf", "--check", str(path)], capture_output=True, text=True)
        assert result.returncode == 0 and "No syntax or stream encoding errors" in result.stdout, result.stdout


def test_the_same_sources_anywhere_give_the_same_bytes(built, tmp_path: Path) -> None:
    project, _ = built
    # another folder, another name and no cache: rendered again from scratch
    other = with_pdf_settings(copy_project(tmp_path / "elsewhere"))
    build(load_config(other), pdf=True, jobs=1, card_pdfs=False)
    first = {p.relative_to(project / "site"): p.read_bytes() for p in (project / "site").rglob("*.pdf")}
    second = {p.relative_to(other / "site"): p.read_bytes() for p in (other / "site").rglob("*.pdf")}
    assert first == second and len(first) == 3
    assert (project / "site/SHA256SUMS").read_bytes() == (other / "site/SHA256SUMS").read_bytes()


def test_cover_and_body_render_to_png(built, tmp_path: Path) -> None:
    project, _ = built
    pdf = project / "site/2025/kenegaraan/kenegaraan.id.pdf"
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(pdf), str(tmp_path / "page")], check=True)
    cover = Image.open(tmp_path / "page-1.png").convert("RGB")
    width, height = cover.size
    # the emblem (a red square) is drawn at the top centre of the cover
    top = cover.crop((width // 3, 0, 2 * width // 3, height // 3))
    assert any(r > 120 and g < 60 and b < 60 for _, (r, g, b) in top.getcolors(100_000))
    body = Image.open(tmp_path / "page-3.png").convert("L")
    ink = sum(count for count, value in body.getcolors(256) if value < 128)
    assert ink > 500, "the body page is blank"


def test_an_unchanged_speech_is_never_rendered_again(built) -> None:
    project, _ = built
    result = CliRunner().invoke(main, ["build", str(project), "-j", "1", "-v"])
    assert result.exit_code == 0, result.output
    assert "PDF: 3 books, 3 from the cache, 0 to render" in result.output
    # one speech changed: only its book is rendered again
    speech = project / "speeches/2024/lama.id.md"
    original = speech.read_text()
    speech.write_text(original + "\nParagraf baru.\n")
    try:
        result = CliRunner().invoke(main, ["build", str(project), "-j", "1", "-v"])
        assert "PDF: 3 books, 2 from the cache, 1 to render" in result.output, result.output
        assert "PDF 1/1" in result.output       # no terminal: a plain progress line
    finally:
        speech.write_text(original)
    assert "--no-pdf" in CliRunner().invoke(main, ["build", "--help"]).output


# --- the cache alone -------------------------------------------------------------------------

def test_cache_round_trip_and_corrupt_entries_are_misses(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "cache")
    entry = key("pdf", "html", b"bytes")
    assert entry != key("pdf", "htm", b"lbytes") and len(entry) == 64
    assert cache.get("blob", entry) is None
    cache.put("blob", entry, b"%PDF-data")
    assert cache.get("blob", entry) == b"%PDF-data"
    stored = next((tmp_path / "cache" / "blob").rglob(entry))
    stored.write_bytes(stored.read_bytes()[:-2] + b"XX")     # torn or tampered
    assert cache.get("blob", entry) is None
    stored.write_bytes(b"")
    assert cache.get("blob", entry) is None
    with pytest.raises(ValueError):
        cache.get("blob", "../../etc/passwd")


# --- hostile sources -------------------------------------------------------------------------

@pytest.fixture
def single(tmp_path: Path) -> Path:
    """The fixture project with one speech in one language: a hostile render costs one book."""
    project = copy_project(tmp_path / "project")
    shutil.rmtree(project / "speeches/2025")
    (project / "speeches/2024/draf.id.md").unlink()
    return project


def override_book(project: Path, head: str = "", body: str = "") -> None:
    folder = project / "templates" / "print"
    folder.mkdir(parents=True)
    (folder / "book.html").write_text(
        '{% extends "!default/print/book.html" %}\n'
        f"{{% block head %}}{head}{{% endblock %}}\n"
        f"{{% block body %}}{{{{ super() }}}}{body}{{% endblock %}}\n")


def build_fails(project: Path) -> str:
    with pytest.raises(SourceError) as error:
        build(load_config(project), pdf=True, jobs=1, card_pdfs=False)
    assert not (project / "site").exists()
    return str(error.value)


def test_attachment_links_in_a_template_embed_nothing(single: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("rahasia")
    override_book(single, head=f'<link rel="attachment" href="{secret.as_uri()}">'
                               '<link rel="attachment" href="speechgen.toml">',
                  body='<a rel="attachment" href="recipients.yaml">lampiran</a>')
    build(load_config(single), pdf=True, jobs=1, card_pdfs=False)
    with pikepdf.open(single / "site/2024/lama/lama.id.pdf") as pdf:
        assert list(pdf.attachments) == ["lama.id.md"]
    data = (single / "site/2024/lama/lama.id.pdf").read_bytes()
    assert b"rahasia" not in data


@pytest.mark.parametrize("src, expected", [
    ("file:///dev/zero", "/dev/zero: outside the project's static/ and templates/ folders"),
    ("../../../../../../../../dev/zero", "/dev/zero: outside the project's static/ and templates/ folders"),
    ("../secret.png", "secret.png: outside the project's static/ and templates/ folders"),
    ("static/nope.png", "static/nope.png: missing or not a regular file"),
    ("https://example.com/x.png", "https://example.com/x.png: PDFs load nothing from the network"),
    ("data:text/html,<b>x</b>", "only data: images and fonts are allowed"),
])
def test_a_resource_outside_the_project_fails_the_build_clearly(single: Path, src: str, expected: str) -> None:
    (single.parent / "secret.png").write_bytes((single / "static/lambang.png").read_bytes())
    override_book(single, body=f'<img src="{src}" alt="x">')
    message = build_fails(single)
    assert message.startswith("speeches/2024/lama.id.md: cannot make the PDF: ")
    assert expected in message


def test_a_symlink_out_of_the_project_is_refused(single: Path, tmp_path: Path) -> None:
    # (the reader already refuses links in static/; templates/ is read by the book alone)
    (tmp_path / "outside.png").write_bytes((single / "static/lambang.png").read_bytes())
    override_book(single, body='<img src="templates/link.png" alt="x">')
    os.symlink(tmp_path / "outside.png", single / "templates/link.png")
    message = build_fails(single)
    # refused where templates are read, before any book is laid out
    assert "templates/link.png: links to a file outside the templates folder" in message


def test_a_stylesheet_cannot_reach_the_network_and_a_slow_render_is_stopped(single: Path) -> None:
    (single / "templates").mkdir()
    (single / "templates/print.css").write_text('@import url("http://example.com/x.css");\n')
    assert "http://example.com/x.css: PDFs load nothing from the network" in build_fails(single)
    (single / "templates/print.css").unlink()
    with_pdf_settings(single, "timeout = 0.01\n")
    assert "rendering took longer than [pdf] timeout = 0.01 s" in build_fails(single)


def test_an_emblem_outside_static_is_a_config_error(single: Path) -> None:
    with_pdf_settings(single, 'emblem = "speechgen.toml"\n')
    message = build_fails(single)
    assert "speechgen.toml:9: [pdf] emblem 'speechgen.toml' must be a PNG or JPEG file in static/" in message


def test_long_tables_repeat_their_header_and_no_heading_ends_a_page(single: Path) -> None:
    speech = single / "speeches/2024/lama.id.md"
    head, _, _ = speech.read_text().partition("\n---\n")
    rows = "".join(f"| Baris {n} | {n * 7} |\n" for n in range(1, 90))
    sections = "".join(f"\n## Bagian {n}\n\n" + "Kalimat isi yang cukup panjang untuk mengisi baris. " * (5 + n % 9) + "\n"
                       for n in range(1, 30))
    speech.write_text(head + "\n---\n\nPembuka.\n\n| Kolomkepala | Nilai |\n|---|---:|\n" + rows + sections)
    build(load_config(single), pdf=True, jobs=1, card_pdfs=False)
    pages = [p.extract_text() for p in pypdf.PdfReader(single / "site/2024/lama/lama.id.pdf").pages]
    with_table = [n for n, text in enumerate(pages) if "Baris " in text]
    assert len(with_table) >= 2, "the table should span pages"
    assert all("Kolomkepala" in pages[n] for n in with_table)
    for n, text in enumerate(pages[2:], 2):
        lines = [line for line in text.splitlines() if line.strip()]
        body = [line for line in lines if line.strip() != str(n + 1)
                and line.strip() != "Pidato Lama"]        # footer (the page number) and running title
        assert not body[-1].startswith("Bagian "), f"page {n + 1} ends with the heading {body[-1]!r}"


def test_books_render_while_other_threads_run(single: Path, tmp_path: Path) -> None:
    """With threads running (the preview server does), workers come from a fork server, not a
    fork of this process; the bytes are the same as from a single-threaded build."""
    import threading

    stop = threading.Event()
    thread = threading.Thread(target=stop.wait, daemon=True)
    thread.start()
    try:
        assert pdf_module._pool_context().get_start_method() == "forkserver"
        build(load_config(single), pdf=True, jobs=1, card_pdfs=False)
    finally:
        stop.set()
    thread.join()
    other = copy_project(tmp_path / "other")
    shutil.rmtree(other / "speeches/2025")
    (other / "speeches/2024/draf.id.md").unlink()
    build(load_config(other), pdf=True, jobs=1, card_pdfs=False)
    assert (single / "site/2024/lama/lama.id.pdf").read_bytes() == (other / "site/2024/lama/lama.id.pdf").read_bytes()


_IMPORT_PROBE = r"""
import ctypes.util, subprocess, sys
searched, started = [], []
usual = ctypes.util.find_library
ctypes.util.find_library = lambda name: searched.append(name) or usual(name)
start = subprocess.Popen.__init__
subprocess.Popen.__init__ = lambda self, args, *a, **k: started.append(args) or start(self, args, *a, **k)
if sys.argv[1] == "fails once":         # the first import of WeasyPrint fails as a missing library would
    class Once:
        failed = False
        def find_spec(self, name, path=None, target=None):
            if name == "weasyprint" and not Once.failed:
                Once.failed = True
                raise OSError("cannot load library 'libpango-1.0-0'")
    sys.meta_path.insert(0, Once())
from speechgen.render import pdf
pdf.load_weasyprint()
import weasyprint
data = weasyprint.HTML(string="<p>Halo</p>").write_pdf()
assert data.startswith(b"%PDF-")
assert ctypes.util.find_library is not None and ctypes.util.find_library("c")
print(len(searched), len(started))
"""


@pytest.mark.parametrize("case", ["plain", "fails once"])
def test_weasyprint_is_imported_without_library_search_helpers(case: str) -> None:
    """A PDF or card worker imports WeasyPrint afresh: no `gcc`/`ld`/`ldconfig` runs for it, the
    library search is given back afterwards, and an import that fails that way is tried the usual way."""
    import sys

    out = subprocess.run([sys.executable, "-c", _IMPORT_PROBE, case], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    searched, started = map(int, out.stdout.split())
    if case == "plain":
        assert (searched, started) == (1, 1)       # only the probe's own find_library("c")
    else:
        assert searched > 1                        # the usual search ran for the second import
