"""A build without PDFs (`--no-pdf`, the preview's first pass) keeps the archive whole: every
released edition is served with its kept bytes, a pending correction builds its pages, and
`--require-released` still refuses what is not released."""

from __future__ import annotations

import hashlib
import http.client
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from speechgen.cli import main

pytestmark = pytest.mark.pdf

SPEECH = "speeches/2025/kenegaraan.id.md"
EDITION_1 = "2025/kenegaraan/kenegaraan.id.edisi-1.pdf"


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def project(released_project: Path) -> Path:
    return released_project


def _correct(project: Path) -> None:
    source = project / SPEECH
    text = source.read_text("utf-8")
    assert "Isi bagian ekonomi." in text
    text = text.replace("Isi bagian ekonomi.", "Isi bagian ekonomi yang dikoreksi.", 1)
    text = text.replace("\n---\n", '\ncorrections:\n  - date: 2025-09-01\n    note: "Angka diperbaiki."\n---\n', 1)
    source.write_text(text, "utf-8")


def _build(project: Path, *options: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["build", str(project), "--no-search", *options])
    assert "Traceback" not in result.output
    return result.exit_code, result.output


def _kept(project: Path) -> dict[str, str]:
    """Every released edition's served path and the SHA-256 the ledger gives it."""
    kept = {}
    for line in (project / "editions.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            speech, lang, number, _date, sha, *_ = line.split()
            slug = speech.split("/")[1]
            kept[f"{speech}/{slug}.{lang}.edisi-{number}.pdf"] = sha
    assert kept
    return kept


def test_no_pdf_serves_every_released_edition_with_its_kept_bytes(project: Path) -> None:
    code, output = _build(project, "--no-pdf")
    assert code == 0, output
    site = project / "site"
    sums = (site / "SHA256SUMS").read_text()
    listed = json.loads((site / "manifest.json").read_text())
    in_manifest = {e["path"]: e["sha256"] for s in listed["speeches"] for entry in s["languages"].values()
                   for e in entry.get("editions", [])}
    for path, sha in _kept(project).items():
        assert _sha((site / path).read_bytes()) == sha, path
        assert f"{sha}  {path}" in sums
        assert in_manifest[path] == sha
    # the latest, released as it is, is served at its plain URL too
    assert _sha((site / "2025/kenegaraan/kenegaraan.id.pdf").read_bytes()) == _kept(project)[EDITION_1]


def test_a_full_build_then_no_pdf_loses_no_released_edition(project: Path) -> None:
    assert _build(project)[0] == 0
    before = {p.relative_to(project / "site").as_posix(): p.read_bytes()
              for p in (project / "site").rglob("*.edisi-*.pdf")}
    assert EDITION_1 in before
    assert _build(project, "--no-pdf")[0] == 0
    after = {p.relative_to(project / "site").as_posix(): p.read_bytes()
             for p in (project / "site").rglob("*.edisi-*.pdf")}
    assert after == before


def test_a_pending_correction_builds_its_pages_without_pdfs(project: Path) -> None:
    _correct(project)
    code, output = _build(project, "--no-pdf")
    assert code == 0, output
    assert "Belum dirilis / not yet released (1): 2025/kenegaraan (id)" in output
    site = project / "site"
    changes = (site / "2025/kenegaraan/perubahan/2/index.html").read_text()
    assert "dikoreksi" in changes and "Angka diperbaiki." in changes
    assert "PDF belum dibuat pada build ini" in changes          # edition 2 has no PDF yet, and says so
    page = (site / "2025/kenegaraan/index.html").read_text()
    assert "Edisi 2" in page and "belum dirilis" in page
    assert _sha((site / EDITION_1).read_bytes()) == _kept(project)[EDITION_1]
    assert not (site / "2025/kenegaraan/kenegaraan.id.pdf").exists()   # its new PDF is not made


def test_require_released_applies_without_pdfs(project: Path) -> None:
    assert _build(project, "--no-pdf", "--require-released")[0] == 0
    _correct(project)
    (project / "site").mkdir(exist_ok=True)
    before = sorted(p.name for p in (project / "site").iterdir())
    code, output = _build(project, "--no-pdf", "--require-released")
    assert code == 1
    assert f"{SPEECH}:1: edition 2 is not released (--require-released)" in output
    assert sorted(p.name for p in (project / "site").iterdir()) == before


def test_the_preview_shows_a_pending_correction(project: Path) -> None:
    from speechgen.serve import Server

    _correct(project)
    server = Server(project, port=0, log=lambda message: None, interval=0.05)
    server.start()
    try:
        port = server.httpd.server_address[1]
        for path in ("/2025/kenegaraan/", "/2025/kenegaraan/perubahan/2/"):
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            connection.request("GET", path, headers={"Host": f"127.0.0.1:{port}"})
            response = connection.getresponse()
            body = response.read().decode("utf-8")
            connection.close()
            assert response.status == 200, (path, body[:300])
            assert "dikoreksi" in body
    finally:
        server.stop()
