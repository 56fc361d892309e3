"""A signed project end to end: `[signing] certificate`, the key from the environment, signed
editions at release, the signed manifest, the certificate on the site and the cards, `verify`.
Checked independently of speechgen: pyHanko's validator with the certificate as the only trust
root, `openssl cms -verify` for the manifest, qpdf for the file."""

from __future__ import annotations

import asyncio
import hashlib
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import copy_project, tree_bytes
from speechgen import signing
from speechgen.cli import main

pytestmark = pytest.mark.pdf

PASSPHRASE = "kata-sandi-uji"


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("keys")
    cert, key = signing.new_sample_keys(folder / "publisher", "Penerbit Uji", PASSPHRASE, 30)
    other_cert, other_key = signing.new_sample_keys(folder / "other", "Penerbit Lain", PASSPHRASE, 30)
    return dict(cert=cert, key=key, other_cert=other_cert, other_key=other_key)


@pytest.fixture
def project(tmp_path: Path, keys, monkeypatch: pytest.MonkeyPatch) -> Path:
    project = copy_project(tmp_path / "project")
    shutil.copy(keys["cert"], project / "publisher.pem")
    with (project / "speechgen.toml").open("a") as f:
        f.write('\n[signing]\ncertificate = "publisher.pem"\n')
    monkeypatch.delenv(signing.KEY_ENV, raising=False)
    monkeypatch.delenv(signing.PASSPHRASE_ENV, raising=False)
    return project


def _with_key(monkeypatch: pytest.MonkeyPatch, key: Path, passphrase: str = PASSPHRASE) -> None:
    monkeypatch.setenv(signing.KEY_ENV, str(key))
    monkeypatch.setenv(signing.PASSPHRASE_ENV, passphrase)


def _run(*args: str):
    return CliRunner().invoke(main, list(args))


def _validate(data: bytes, trust: Path):
    """pyHanko's own validator, the certificate the only trust root, nothing fetched."""
    from pyhanko.keys import load_cert_from_pemder
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import async_validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext
    import io

    reader = PdfFileReader(io.BytesIO(data))
    assert len(reader.embedded_signatures) == 1
    context = ValidationContext(trust_roots=[load_cert_from_pemder(str(trust))], allow_fetching=False)
    return asyncio.run(async_validate_pdf_signature(reader.embedded_signatures[0], context))


def test_a_sample_certificate_builds_without_the_timestamp_warning(project: Path, keys, monkeypatch) -> None:
    """The README's quick start signs the sample with a SAMPLE certificate, which proves nothing to
    anyone: its build says nothing of timestamps (a real certificate's does, tests/test_ltv.py)."""
    _with_key(monkeypatch, keys["key"])
    result = _run("build", str(project), "--no-search", "--no-pdf")
    assert result.exit_code == 0, result.output
    assert (project / "site/manifest.json.p7s").exists()
    assert "warning" not in result.output and "timestamp" not in result.output, result.output


def test_without_the_key_the_build_is_unsigned_and_says_so(project: Path, keys) -> None:
    result = _run("build", str(project), "--no-search")
    assert result.exit_code == 0, result.output
    assert "unsigned: SPEECHGEN_SIGNING_KEY" in result.output
    site = project / "site"
    assert not (site / "manifest.json.p7s").exists()
    published = site / "publisher.pem"
    assert signing.certificate_fingerprint(published.read_bytes()) == signing.certificate_fingerprint(keys["cert"].read_bytes())
    fingerprint = signing.certificate_fingerprint(keys["cert"].read_bytes())
    grouped = " ".join(fingerprint[i:i + 4].upper() for i in range(0, 64, 4))
    assert grouped in (site / "index.html").read_text()                  # in every page's footer
    assert '"sha256": "%s"' % fingerprint in (site / "manifest.json").read_text()
    before = tree_bytes(site)
    result = _run("build", str(project), "--no-search", "--require-signed")
    assert result.exit_code == 1 and "--require-signed: no signing key" in result.output
    assert tree_bytes(site) == before


def test_with_the_key_the_manifest_is_signed_and_openssl_verifies_it(project: Path, keys, monkeypatch) -> None:
    _with_key(monkeypatch, keys["key"])
    result = _run("build", str(project), "--no-search", "--require-signed")
    assert result.exit_code == 0, result.output
    site = project / "site"
    command = ["openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", str(site / "manifest.json.p7s"),
               "-content", str(site / "manifest.json"), "-CAfile", str(site / "publisher.pem"),
               "-purpose", "any", "-out", "/dev/null"]
    ok = subprocess.run(command, capture_output=True, text=True)
    assert ok.returncode == 0 and "Verification successful" in ok.stderr, ok.stderr
    # another publisher's certificate does not verify it
    command[command.index("-CAfile") + 1] = str(keys["other_cert"])
    assert subprocess.run(command, capture_output=True).returncode != 0
    # and a changed manifest fails
    tampered = project / "tampered.json"
    tampered.write_bytes((site / "manifest.json").read_bytes().replace(b"Arsip", b"Arsiq", 1))
    command[command.index("-CAfile") + 1] = str(site / "publisher.pem")
    command[command.index("-content") + 1] = str(tampered)
    assert subprocess.run(command, capture_output=True).returncode != 0


def test_release_signs_each_edition_and_verify_names_the_signer(project: Path, keys, monkeypatch) -> None:
    _with_key(monkeypatch, keys["key"])
    result = _run("release", str(project), "-j", "1")
    assert result.exit_code == 0, result.output
    kept = project / "editions/2025/kenegaraan/kenegaraan.id.edisi-1.pdf"
    status = _validate(kept.read_bytes(), keys["cert"])
    assert status.intact and status.valid and status.trusted and status.coverage.name == "ENTIRE_FILE"
    assert subprocess.run(["qpdf", "--check", str(kept)], capture_output=True).returncode == 0
    result = _run("build", str(project), "--no-search")
    assert result.exit_code == 0, result.output
    site = project / "site"
    served = site / "2025/kenegaraan/kenegaraan.id.pdf"
    assert served.read_bytes() == kept.read_bytes()
    result = _run("verify", str(served), "--site", str(site), "--certificate", str(keys["cert"]))
    assert result.exit_code == 0, result.output
    assert "signed by Penerbit Uji" in result.output and "intact, by the pinned certificate" in result.output
    fingerprint = signing.certificate_fingerprint(keys["cert"].read_bytes())
    assert _run("verify", str(served), "--fingerprint", fingerprint.upper()).exit_code == 0
    # pinned to another publisher: not proven
    result = _run("verify", str(served), "--certificate", str(keys["other_cert"]))
    assert result.exit_code == 1
    # a byte changed inside the signed range
    data = bytearray(served.read_bytes())
    at = data.index(b"Pidato Uji Kenegaraan") if b"Pidato Uji Kenegaraan" in data else len(data) // 3
    data[at] ^= 0x01
    tampered = project / "tampered.pdf"
    tampered.write_bytes(bytes(data))
    result = _run("verify", str(tampered), "--certificate", str(keys["cert"]))
    assert result.exit_code == 1 and "Traceback" not in result.output
    # the cards print the publisher's certificate fingerprint
    sheet = subprocess.run(["pdftotext", str(site / "2025/kenegaraan/kartu-qr.pdf"), "-"],
                           capture_output=True, text=True, check=True).stdout
    grouped = " ".join(fingerprint[i:i + 4].upper() for i in range(0, 64, 4))
    assert grouped[:39] in " ".join(sheet.split())


def test_release_without_the_key_records_nothing(project: Path) -> None:
    result = _run("release", str(project), "-j", "1")
    assert result.exit_code == 1 and "SPEECHGEN_SIGNING_KEY is not" in result.output
    assert not (project / "editions.txt").exists() and not (project / "editions").exists()


@pytest.mark.parametrize("case", ["wrong passphrase", "another key", "key inside the project"])
def test_a_bad_key_fails_before_anything_is_published(project: Path, keys, monkeypatch, case: str) -> None:
    _run("build", str(project), "--no-search")
    before = tree_bytes(project / "site")
    if case == "wrong passphrase":
        _with_key(monkeypatch, keys["key"], "salah")
    elif case == "another key":
        _with_key(monkeypatch, keys["other_key"])
    else:
        inside = project / "kunci" / "publisher-key.p12"
        inside.parent.mkdir()
        shutil.copy(keys["key"], inside)
        _with_key(monkeypatch, inside)
    for command in (["build", str(project), "--no-search"], ["release", str(project), "-j", "1"]):
        result = _run(*command)
        assert result.exit_code == 1, (case, result.output)
        assert "Traceback" not in result.output
    assert tree_bytes(project / "site") == before
    assert not (project / "editions.txt").exists()


def test_a_certificate_that_is_not_in_the_project(project: Path, keys) -> None:
    config = project / "speechgen.toml"
    config.write_text(config.read_text().replace('certificate = "publisher.pem"',
                                                 f'certificate = "{keys["other_cert"]}"'))
    result = _run("build", str(project), "--no-search")
    assert result.exit_code == 1
    assert "speechgen.toml:" in result.output and "must be a file inside the project" in result.output
