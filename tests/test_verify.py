"""`speechgen verify`: a recipient can tell whether a downloaded PDF is the published one."""

from __future__ import annotations

import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import copy_project
from speechgen.build import build
from speechgen.cli import main
from speechgen.config import load_config


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = copy_project(tmp_path_factory.mktemp("verify") / "project")
    build(load_config(project), pdf=True, card_pdfs=False)
    return project / "site"


@pytest.fixture
def served(site: Path):
    """The built site over HTTP on loopback, as a recipient would reach it."""
    handler = partial(_Quiet, directory=str(site))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args) -> None:
        pass


def verify(*args: str):
    return CliRunner().invoke(main, ["verify", *args])


@pytest.mark.pdf
def test_the_published_pdf_matches(site: Path) -> None:
    result = verify(str(site / "2025/kenegaraan/kenegaraan.en.pdf"), "--site", str(site))
    assert result.exit_code == 0, result.output
    assert "Cocok / Match: kenegaraan.en.pdf is the published PDF of 'Test State Address'" in result.output
    assert "(2025/kenegaraan, en, 2025-08-15)" in result.output
    assert "https://pidato.example.go.id/arsip/2025/kenegaraan/kenegaraan.en.pdf" in result.output


@pytest.mark.pdf
def test_a_changed_pdf_does_not_match(site: Path, tmp_path: Path) -> None:
    data = bytearray((site / "2025/kenegaraan/kenegaraan.id.pdf").read_bytes())
    data[len(data) // 2] ^= 0x01                     # one bit, somewhere in the middle
    changed = tmp_path / "kenegaraan.id.pdf"
    changed.write_bytes(bytes(data))
    result = verify(str(changed), "--site", str(site / "manifest.json"))
    assert result.exit_code == 1
    assert "Tidak cocok / No match: kenegaraan.id.pdf is not a PDF published in" in result.output
    # the mailroom list is published too, but it is not a speech's PDF
    assert verify(str(site / "2025/kenegaraan/kartu-qr.csv"), "--site", str(site)).exit_code == 1


@pytest.mark.pdf
def test_verify_against_the_site_url(site: Path, served: str) -> None:
    pdf = str(site / "2024/lama/lama.id.pdf")
    for where in (served, served.rstrip("/"), served + "manifest.json"):
        result = verify(pdf, "--site", where)
        assert result.exit_code == 0, result.output
        assert "'Pidato Lama'" in result.output
    missing = verify(pdf, "--site", served + "tidak-ada/")
    assert missing.exit_code == 1
    assert "tidak-ada/manifest.json: HTTP 404" in missing.output
    assert "Traceback" not in missing.output


def test_a_folder_without_a_manifest_is_a_clear_error(tmp_path: Path) -> None:
    pdf = tmp_path / "x.pdf"
    pdf.write_bytes(b"%PDF-1.7\n")
    result = verify(str(pdf), "--site", str(tmp_path))
    assert result.exit_code == 1
    assert "manifest.json: no manifest here" in result.output
    (tmp_path / "manifest.json").write_text("[1, 2]")
    result = verify(str(pdf), "--site", str(tmp_path))
    assert result.exit_code == 1 and "not a speechgen manifest" in result.output
    assert verify(str(tmp_path / "absent.pdf")).exit_code == 2      # a usage error


def test_a_remote_manifest_over_plain_http_is_refused(tmp_path) -> None:
    from click.testing import CliRunner
    from speechgen.cli import main

    pdf = tmp_path / "x.pdf"
    pdf.write_bytes(b"%PDF-1.7 not really")
    result = CliRunner().invoke(main, ["verify", str(pdf), "--site", "http://pidato.example.go.id/arsip/"])
    assert result.exit_code == 1
    assert "use the site's https:// address" in result.output
