"""Editors' commands: new, init, check and serve, used as an editor would."""

from __future__ import annotations

import json
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner

from speechgen.cli import main
from speechgen.serve import STATUS_PATH, Server


def test_init_makes_a_project_that_builds(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["init", str(tmp_path / "baru")])
    assert result.exit_code == 0, result.output
    result = runner.invoke(main, ["build", str(tmp_path / "baru")])
    assert result.exit_code == 0, result.output
    assert "Contoh Pidato" in (tmp_path / "baru/site/index.html").read_text()


def test_init_refuses_a_non_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "isi.txt").write_text("x")
    result = CliRunner().invoke(main, ["init", str(tmp_path)])
    assert result.exit_code == 1 and "not empty" in result.output
    assert (tmp_path / "isi.txt").read_text() == "x"


def test_new_writes_a_draft_in_the_right_folder_that_builds(project: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["new", "Hari Pahlawan: \"Uji\" #1", "--date", "2025-11-10",
                                  "--lang", "en", "--project", str(project)])
    assert result.exit_code == 0, result.output
    path = project / "speeches/2025/hari-pahlawan-uji-1.en.md"
    assert str(path.resolve()) in result.output
    text = path.read_text()
    for key in ("title:", "subtitle:", "speaker:", "date: 2025-11-10", "occasion:", "place:",
                "recipients:", "status: draft"):
        assert key in text
    assert runner.invoke(main, ["build", str(project), "-q"]).exit_code == 0
    assert not (project / "site/2025/hari-pahlawan-uji-1").exists()        # a draft
    assert runner.invoke(main, ["build", str(project), "--drafts", "-q"]).exit_code == 0
    page = (project / "site/2025/hari-pahlawan-uji-1/en/index.html").read_text()
    assert "Hari Pahlawan: &#34;Uji&#34; #1" in page
    again = runner.invoke(main, ["new", "Hari Pahlawan: \"Uji\" #1", "--date", "2025-11-10",
                                 "--lang", "en", "--project", str(project)])
    assert again.exit_code == 1 and "already exists" in again.output


def test_new_refuses_unknown_language(project: Path) -> None:
    result = CliRunner().invoke(main, ["new", "X", "--lang", "fr", "--project", str(project)])
    assert result.exit_code == 1 and "language 'fr' is not in [site] languages" in result.output


def test_check_passes_a_good_project_and_writes_nothing(project: Path) -> None:
    result = CliRunner().invoke(main, ["check", str(project)])
    assert result.exit_code == 0, result.output
    assert "Baik / OK" in result.output and "3 kode QR/QR codes checked" in result.output
    assert not (project / "site").exists()


def test_check_reads_every_qr_code_back(project: Path) -> None:
    from speechgen.build import build
    from speechgen.check import qr_round_trip
    from speechgen.config import load_config

    build(load_config(project), card_pdfs=False)
    site = project / "site"
    assert qr_round_trip(site) == []
    dpr, mpr = "2025/kenegaraan/salinan/dpr/qr.png", "2025/kenegaraan/salinan/mpr/qr.png"
    (site / dpr).unlink()
    (site / dpr).write_bytes((site / mpr).read_bytes())
    problems = [str(p) for p in qr_round_trip(site)]
    assert problems == [f"{dpr}: QR code reads ['https://pidato.example.go.id/arsip/2025/kenegaraan/salinan/mpr/'], "
                        "expected 'https://pidato.example.go.id/arsip/2025/kenegaraan/salinan/dpr/'"]


def test_check_lists_broken_links_and_anchors(project: Path) -> None:
    (project / "speeches/2024/lama.id.md").write_text(
        "---\ntitle: Pidato Lama\nspeaker: Menteri Uji\ndate: 2024-01-02\n---\n\n"
        "Lihat [bagian](#tidak-ada) dan [pidato lain](/2023/hilang/index.html).\n")
    result = CliRunner().invoke(main, ["check", str(project)])
    assert result.exit_code == 1
    assert "2024/lama/index.html" in result.output
    assert "link '#tidak-ada': no element with id 'tidak-ada'" in result.output
    assert "link '../../2023/hilang/index.html' leads to no file in the site" in result.output
    assert not (project / "site").exists()


def test_check_reports_source_errors(project: Path) -> None:
    (project / "speeches/2024/lama.id.md").write_text("---\ntitle: X\n---\n")
    result = CliRunner().invoke(main, ["check", str(project)])
    assert result.exit_code == 1
    assert "speeches/2024/lama.id.md:1: front matter is missing the required key 'speaker'" in result.output


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def _wait_for(condition, seconds: float = 15.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def test_serve_previews_edits_and_survives_errors(project: Path) -> None:
    before = sorted(p.relative_to(project).as_posix() for p in project.rglob("*"))
    server = Server(project, port=0, log=lambda message: None, interval=0.1)
    server.start()
    try:
        assert server.url.startswith("http://127.0.0.1:")
        status, page = _get(server.url + "2024/lama/index.html")
        assert status == 200 and "Teks lama." in page and STATUS_PATH in page
        assert not (project / "site").exists()          # never touches site/

        source = project / "speeches/2024/lama.id.md"
        source.write_text(source.read_text().replace("Teks lama.", "Teks yang baru diubah."))
        assert _wait_for(lambda: "Teks yang baru diubah." in _get(server.url + "2024/lama/index.html")[1])

        source.write_text("---\ntitle: X\ndate: 2024-02-30\n---\n")           # broken
        assert _wait_for(lambda: json.loads(_get(server.url + STATUS_PATH[1:])[1])["errors"])
        errors = json.loads(_get(server.url + STATUS_PATH[1:])[1])["errors"]
        assert any("lama.id.md:3: date 2024-02-30 is not a real day" in e for e in errors)
        # the last good preview is still served
        assert "Teks yang baru diubah." in _get(server.url + "2024/lama/index.html")[1]
        assert _get(server.url + "tidak/ada")[0] == 404
    finally:
        server.stop()
    assert not server.tmp.exists()
    # nothing written into the project: no site/, no cache, no temporary folder
    assert sorted(p.relative_to(project).as_posix() for p in project.rglob("*")) == before


def test_check_warns_about_every_placeholder_init_left(tmp_path: Path) -> None:
    runner = CliRunner()
    project = tmp_path / "baru"
    assert runner.invoke(main, ["init", str(project)]).exit_code == 0
    result = runner.invoke(main, ["check", str(project)])
    assert result.exit_code == 0, result.output
    year = next((project / "speeches").iterdir()).name
    for expected in ("speechgen.toml:4: [site] base_url 'https://pidato.example.go.id/' is an example address",
                     "speechgen.toml:7: [site] publisher is empty",
                     f"speeches/{year}/contoh.id.md:4: speaker is still the placeholder 'Nama Pembicara'",
                     f"speeches/{year}/contoh.id.md:2: title is still the placeholder 'Contoh Pidato'",
                     "the body still holds the sample text",
                     "recipients.yaml:3: recipient 'contoh-lembaga' is the sample institution"):
        assert expected in result.output, result.output
    assert "6 peringatan/warnings" in result.output
    # replaced, the warnings go
    config = project / "speechgen.toml"
    config.write_text(config.read_text().replace("pidato.example.go.id", "pidato.setneg.go.id")
                      .replace('publisher = ""', 'publisher = "Sekretariat"'))
    result = runner.invoke(main, ["check", str(project)])
    assert "base_url" not in result.output and "publisher is empty" not in result.output
    assert "4 peringatan/warnings" in result.output


def test_new_says_draft_and_the_build_lists_drafts_left_out(tmp_path: Path) -> None:
    runner = CliRunner()
    project = tmp_path / "p"
    assert runner.invoke(main, ["init", str(project)]).exit_code == 0
    result = runner.invoke(main, ["new", "Pidato Baru", "--date", "2025-03-01", "--project", str(project)])
    assert result.exit_code == 0 and "draf / draft" in result.output
    result = runner.invoke(main, ["build", str(project), "--no-search"])
    assert result.exit_code == 0, result.output
    assert "Draf dilewati / drafts left out (1): speeches/2025/pidato-baru.id.md" in result.output
    assert not (project / "site/2025/pidato-baru").exists()


@pytest.mark.pdf
def test_serve_shows_an_edit_first_and_its_pdf_follows(project: Path) -> None:
    """Two passes: the pages with the edit (the PDF still the old one or absent, `pending`), then
    the PDF, cards and index, and a second reload."""
    server = Server(project, port=0, log=lambda message: None, interval=0.05)
    server.start()
    try:
        def status() -> dict:
            return json.loads(_get(server.url + STATUS_PATH[1:])[1])

        first = status()
        assert first["pending"] is False and (server.out / "2024/lama/lama.id.pdf").is_file()
        source = project / "speeches/2024/lama.id.md"
        source.write_text(source.read_text().replace("Teks lama.", "Teks yang baru diubah."))
        seen = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            now = status()
            page = _get(server.url + "2024/lama/index.html")[1]
            seen.append((now["version"], now["pending"], "Teks yang baru diubah." in page))
            if now["version"] >= first["version"] + 2 and not now["pending"]:
                break
            time.sleep(0.02)
        # the edited page was served while the PDF was still being made, then the pass ended
        assert (first["version"] + 1, True, True) in seen, seen[:20]
        assert seen[-1] == (first["version"] + 2, False, True)
        text = subprocess.run(["pdftotext", str(server.out / "2024/lama/lama.id.pdf"), "-"],
                              capture_output=True, text=True, check=True).stdout
        assert "Teks yang baru diubah." in text
    finally:
        server.stop()


@pytest.mark.pdf
def test_serve_stops_a_second_pass_when_the_speech_is_edited_again(project: Path) -> None:
    """An edit while the PDFs are made stops that pass; the new edit is built at once, without
    waiting the watcher's poll interval, and its PDF follows."""
    said: list[tuple[float, str]] = []
    server = Server(project, port=0, log=lambda line: said.append((time.monotonic(), line)), interval=3.0)
    server.start()
    try:
        source = project / "speeches/2024/lama.id.md"
        source.write_text(source.read_text().replace("Teks lama.", "Suntingan pertama."))
        # the first edit's pages are up and its PDF is being made: edit again (its page first, so
        # that "pending" is the edit's pass, not the start's)
        assert _wait_for(lambda: "Suntingan pertama." in _get(server.url + "2024/lama/")[1]
                         and json.loads(_get(server.url + STATUS_PATH[1:])[1])["pending"])
        source.write_text(source.read_text().replace("Suntingan pertama.", "Suntingan kedua."))
        assert _wait_for(lambda: any("edited again" in line for _, line in said))
        stopped = next(at for at, line in said if "edited again" in line)
        assert _wait_for(lambda: any(at > stopped and line.startswith("Berubah") for at, line in said))
        changed = next(at for at, line in said if at > stopped and line.startswith("Berubah"))
        assert changed - stopped < 1.0, said            # not the 3 s interval

        def settled() -> bool:
            status = json.loads(_get(server.url + STATUS_PATH[1:])[1])
            pdf = server.out / "2024/lama/lama.id.pdf"
            return not status["pending"] and pdf.is_file() and "Suntingan kedua." in subprocess.run(
                ["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
        assert _wait_for(settled)
        assert "Suntingan kedua." in _get(server.url + "2024/lama/index.html")[1]
    finally:
        server.stop()
