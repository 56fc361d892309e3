"""`verify` as a reader uses it: the site in this folder checked when a certificate is pinned, the
latest edition's address given for a superseded one, SAMPLE said once."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from speechgen import signing
from speechgen.cli import main
from speechgen.config import load_config
from speechgen.release import release

pytestmark = pytest.mark.pdf
PASSPHRASE = "kata-sandi-uji"


def _run(*args: str):
    return CliRunner().invoke(main, list(args))


def _released_signed(project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The project signed by a sample publisher and released; that publisher's certificate."""
    cert, key = signing.new_sample_keys(tmp_path / "keys", "Penerbit Uji", PASSPHRASE, 30)
    shutil.copy(cert, project / "publisher.pem")
    with (project / "speechgen.toml").open("a") as f:
        f.write('\n[signing]\ncertificate = "publisher.pem"\n')
    monkeypatch.setenv(signing.KEY_ENV, str(key))
    monkeypatch.setenv(signing.PASSPHRASE_ENV, PASSPHRASE)
    assert _run("release", str(project), "-j", "1").exit_code == 0
    return cert


def test_latest_on_a_superseded_edition_gives_the_latest_address(released_project: Path) -> None:
    from test_editions import OLD_WORDS, _build, _correct

    project = released_project
    _correct(project, OLD_WORDS, "Isi bagian ekonomi yang dikoreksi.", note="Paragraf pertama diperbaiki.")
    release(load_config(project), jobs=1)
    _build(project)
    site = project / "site"
    result = _run("verify", str(site / "2025/kenegaraan/kenegaraan.id.edisi-1.pdf"), "--site", str(site), "--latest")
    assert result.exit_code == 1
    base = load_config(project).site.base_url
    assert f"the latest (terbaru): {base}2025/kenegaraan/kenegaraan.id.pdf" in result.output, result.output


def test_a_pinned_certificate_checks_the_site_here_and_says_sample_once(project: Path, tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    cert = _released_signed(project, tmp_path, monkeypatch)
    assert _run("build", str(project), "--no-search").exit_code == 0
    served = project / "site/2025/kenegaraan/kenegaraan.id.pdf"
    monkeypatch.chdir(project)                    # the reader is where the site was built
    result = _run("verify", str(served), "--certificate", str(cert))
    assert result.exit_code == 0, result.output
    assert "manifest.json: ditandatangani oleh / signed by Penerbit Uji" in result.output   # the site here
    signed = [line for line in result.output.splitlines() if "signed by" in line]
    assert signed and all(line.count("SAMPLE") == 1 for line in signed), signed


def test_a_pinned_pdf_from_elsewhere_is_not_judged_by_an_unrelated_site_here(project: Path, tmp_path: Path,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """A reader with some other site built in the current folder verifies a PDF they downloaded:
    that site's manifest has nothing to say about it."""
    cert = _released_signed(project, tmp_path, monkeypatch)
    downloaded = tmp_path / "unduhan.pdf"
    shutil.copy(next((project / "editions").rglob("*.pdf")), downloaded)
    elsewhere = tmp_path / "elsewhere"
    shutil.copytree(project, elsewhere, ignore=shutil.ignore_patterns("site", "editions", "editions.txt"))
    other_cert, other_key = signing.new_sample_keys(tmp_path / "other", "Penerbit Lain", PASSPHRASE, 30)
    shutil.copy(other_cert, elsewhere / "publisher.pem")
    monkeypatch.setenv(signing.KEY_ENV, str(other_key))
    assert _run("build", str(elsewhere), "--no-search").exit_code == 0      # another publisher's site, signed
    monkeypatch.chdir(elsewhere)
    result = _run("verify", str(downloaded), "--certificate", str(cert))
    assert result.exit_code == 0, result.output
    assert "manifest.json" not in result.output
