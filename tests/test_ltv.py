"""Evidence that outlives the certificate (issue 29): PAdES B-LTA editions, checked against a
real test PKI that `certomancer animate` serves on loopback (a TSA, an OCSP responder, CRLs):
root -> intermediate -> publisher, and a publisher certificate that expired in 2020.

Independently of speechgen's own checking code, every edition is validated with pyHanko's AdES
LTA validation with nothing fetched (everything must be embedded), at a time after the
publisher's certificate has expired.
"""

from __future__ import annotations

import asyncio
import io
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from speechgen import signing

pytestmark = pytest.mark.pdf

UTC = timezone.utc
PKI_CONFIG = Path(__file__).parent / "pki" / "certomancer.yml"
PASSPHRASE = "kata sandi uji"
KEYS = ("root", "interm", "interm-ocsp", "tsa", "tsa-short", "other-root", "other-tsa", "publisher", "publisher-old")


@dataclass(frozen=True)
class Pki:
    folder: Path                        # outside any project: key files and certificates
    url: str                            # http://127.0.0.1:PORT, certomancer's services
    tsa: str                            # the TSA's URL
    root: Path                          # root.pem
    publisher: Path                     # publisher.pem (the leaf)
    publisher_key: Path                 # publisher.p12: key, leaf, intermediate and root
    old: Path                           # old.pem: expired 2020-12-31
    old_key: Path
    expires: datetime                   # when publisher.pem expires
    tsa_short: str = ""                 # a TSA whose certificate ends in 200 days
    tsa_short_until: datetime | None = None
    other_tsa: str = ""                 # a TSA under another root (other-root.pem)
    other_root: Path | None = None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _write_keys(folder: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    folder.mkdir(parents=True)
    for name in KEYS:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        (folder / f"{name}.key.pem").write_bytes(key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))


def _wait_for(port: int, process: subprocess.Popen, seconds: float = 30) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if process.poll() is not None:
            raise RuntimeError(f"certomancer animate stopped: {process.stderr.read().decode(errors='replace')}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("certomancer animate did not start within 30 s")


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory):
    """The test PKI, served by `certomancer animate` on a free loopback port for the session."""
    from certomancer.registry import CertomancerConfig

    folder = tmp_path_factory.mktemp("pki")
    _write_keys(folder / "keys")
    now = datetime.now(UTC).replace(microsecond=0)
    start, expires = now - timedelta(days=1), now + timedelta(days=365)
    stamp = "%Y-%m-%dT%H:%M:%S+0000"
    config = folder / "certomancer.yml"
    config.write_text(PKI_CONFIG.read_text().replace("{ca_from}", (now - timedelta(days=2)).strftime(stamp))
                      .replace("{publisher_from}", start.strftime(stamp))
                      .replace("{publisher_to}", expires.strftime(stamp))
                      .replace("{tsa_short_to}", (now + timedelta(days=200)).strftime(stamp)))
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    process = subprocess.Popen([sys.executable, "-m", "certomancer", "--config", str(config),
                                "--service-url-prefix", url, "animate", "--port", str(port), "--no-web-ui"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=folder)
    try:
        _wait_for(port, process)
        arch = CertomancerConfig.from_file(str(config), external_url_prefix=url).get_pki_arch("speechgen")
        pem = lambda label: signing.pem(arch.get_cert(label).dump())
        (folder / "root.pem").write_bytes(pem("root"))
        (folder / "publisher.pem").write_bytes(pem("publisher"))
        (folder / "old.pem").write_bytes(pem("publisher-old"))
        (folder / "publisher.p12").write_bytes(arch.package_pkcs12("publisher", password=PASSPHRASE.encode()))
        (folder / "old.p12").write_bytes(arch.package_pkcs12("publisher-old", password=PASSPHRASE.encode()))
        (folder / "other-root.pem").write_bytes(pem("other-root"))
        yield Pki(folder, url, f"{url}/speechgen/tsa/tsa", folder / "root.pem", folder / "publisher.pem",
                  folder / "publisher.p12", folder / "old.pem", folder / "old.p12", expires,
                  f"{url}/speechgen/tsa/tsa-short", now + timedelta(days=200),
                  f"{url}/speechgen/tsa/other-tsa", folder / "other-root.pem")
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def publisher_signer(pki: Pki, project: Path, key: Path | None = None, certificate: Path | None = None,
                     now: datetime | None = None) -> signing.Signer:
    shutil.copy(certificate or pki.publisher, project / "publisher.pem")
    return signing.load_signer(project, Path("publisher.pem"), key or pki.publisher_key, PASSPHRASE,
                               now or datetime.now(UTC))


def ades_lta(data: bytes, root: Path, at: datetime):
    """pyHanko's own AdES LTA validation of the first signature, trusting only `root`, with
    nothing fetched and revocation data required, at the time `at`."""
    from pyhanko.keys import load_cert_from_pemder
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation.ades import ades_lta_validation
    from pyhanko.sign.validation.policy_decl import (PdfSignatureValidationSpec, RevinfoOnlineFetchingRule,
                                                     RevocationInfoGatheringSpec, SignatureValidationSpec)
    from pyhanko_certvalidator.context import CertValidationPolicySpec
    from pyhanko_certvalidator.ltv.types import ValidationTimingInfo
    from pyhanko_certvalidator.policy_decl import REQUIRE_REVINFO, CertRevTrustPolicy
    from pyhanko_certvalidator.registry import SimpleTrustManager

    spec = PdfSignatureValidationSpec(SignatureValidationSpec(
        cert_validation_policy=CertValidationPolicySpec(
            trust_manager=SimpleTrustManager.build(trust_roots=[load_cert_from_pemder(str(root))]),
            revinfo_policy=CertRevTrustPolicy(REQUIRE_REVINFO)),
        revinfo_gathering_policy=RevocationInfoGatheringSpec(
            online_fetching_rule=RevinfoOnlineFetchingRule.LOCAL_ONLY)))
    reader = PdfFileReader(io.BytesIO(data))
    timing = ValidationTimingInfo(validation_time=at, best_signature_time=at, point_in_time_validation=True)
    return asyncio.run(ades_lta_validation(reader.embedded_regular_signatures[0], spec, timing_info=timing))


@pytest.fixture(scope="module")
def pdf(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    from conftest import copy_project
    from speechgen.build import build
    from speechgen.config import load_config

    project = copy_project(tmp_path_factory.mktemp("lta") / "project")
    build(load_config(project), pdf=True, jobs=1, card_pdfs=False)
    return (project / "site/2025/kenegaraan/kenegaraan.id.pdf").read_bytes()


def _released(pki: Pki, folder: Path, monkeypatch: pytest.MonkeyPatch, timestamp_url: str | None = None):
    """The fixture project with the publisher's certificate and the TSA, `speechgen release`d with
    the key from the environment; returns the project and the command's result."""
    from click.testing import CliRunner

    from conftest import copy_project
    from speechgen.cli import main

    project = copy_project(folder / "project")
    shutil.copy(pki.publisher, project / "publisher.pem")
    with (project / "speechgen.toml").open("a") as f:
        f.write(f'\n[signing]\ncertificate = "publisher.pem"\ntimestamp_url = "{timestamp_url or pki.tsa}"\n')
    monkeypatch.setenv(signing.KEY_ENV, str(pki.publisher_key))
    monkeypatch.setenv(signing.PASSPHRASE_ENV, PASSPHRASE)
    return project, CliRunner().invoke(main, ["release", str(project), "-j", "1"])


@pytest.fixture(scope="module")
def lta_project(pki: Pki, tmp_path_factory: pytest.TempPathFactory) -> Path:
    monkeypatch = pytest.MonkeyPatch()
    try:
        project, result = _released(pki, tmp_path_factory.mktemp("released-lta"), monkeypatch)
        assert result.exit_code == 0, result.output
        assert "timestamp_url is not set" not in result.output
        from click.testing import CliRunner

        from speechgen.cli import main

        built = CliRunner().invoke(main, ["build", str(project), "--no-search"])
        assert built.exit_code == 0, built.output
    finally:
        monkeypatch.undo()
    return project


def _kept(project: Path) -> list[Path]:
    return sorted((project / "editions").rglob("*.pdf"))


def test_every_released_edition_is_b_lta_and_validates_offline_after_the_certificate_expired(
        lta_project: Path, pki: Pki) -> None:
    from pyhanko.sign.ades.report import AdESPassed

    later = pki.expires + timedelta(days=365)
    editions = _kept(lta_project)
    assert len(editions) == 3
    for path in editions:
        result = ades_lta(path.read_bytes(), pki.root, later)
        assert result.ades_subindic == AdESPassed.OK, (path, result.failure_msg)
        # speechgen's own check, at the same later time, pinned to the root
        report = signing.check_pdf_signature(path.read_bytes(), certificate=pki.root.read_bytes(), now=later)
        assert report.ok and report.timestamped and report.maintained, report.problems
        assert report.judged_at < pki.expires < later


@pytest.mark.skipif(shutil.which("faketime") is None, reason="Debian's faketime is not installed")
def test_verify_run_after_the_certificate_expired_says_authentic(lta_project: Path, pki: Pki) -> None:
    """`speechgen verify` itself, its clock set by faketime to a year after the publisher's
    certificate expired (not a validation time handed in): the B-LTA edition is authentic, its
    time proven by the timestamp."""
    import os

    site = lta_project / "site"
    later = pki.expires + timedelta(days=365)
    env = {k: v for k, v in os.environ.items() if k not in (signing.KEY_ENV, signing.PASSPHRASE_ENV)}
    result = subprocess.run(["faketime", "-f", f"@{later:%Y-%m-%d %H:%M:%S}", sys.executable, "-m", "speechgen",
                             "verify", str(site / "2025/kenegaraan/kenegaraan.id.pdf"), "--site", str(site),
                             "--certificate", str(pki.root)], capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Cocok / Match" in result.stdout and result.stdout.count("time proven by a timestamp") == 2
    # the signed revision alone (the signature and its timestamp, without the /DSS added after it)
    # has no revocation data to prove anything with at that time
    data = _kept(lta_project)[0].read_bytes()
    assert signing.check_pdf_signature(data[:data.index(b"%%EOF", data.index(b"/ByteRange")) + 6],
                                       certificate=pki.root.read_bytes(), now=later).ok is False


def test_the_edition_holds_signature_timestamp_dss_and_document_timestamp_only(lta_project: Path) -> None:
    import pikepdf
    from asn1crypto import cms

    data = _kept(lta_project)[0].read_bytes()
    pdf = pikepdf.open(io.BytesIO(data))
    fields = {str(f.T): f for f in pdf.Root.AcroForm.Fields}
    assert set(fields) == {signing.FIELD_NAME, signing.TIMESTAMP_FIELD}
    assert fields[signing.TIMESTAMP_FIELD].V.Type == "/DocTimeStamp"
    assert fields[signing.TIMESTAMP_FIELD].V.SubFilter == "/ETSI.RFC3161"
    signature = cms.ContentInfo.load(bytes(fields[signing.FIELD_NAME].V.Contents))["content"]
    unsigned = [a["type"].native for a in signature["signer_infos"][0]["unsigned_attrs"]]
    assert unsigned == ["signature_time_stamp_token"]
    dss = pdf.Root.DSS
    # publisher + intermediate + TSA (+ the OCSP responder and the root), each with revocation data
    assert len(dss.Certs) >= 4 and len(dss.OCSPs) >= 1 and len(dss.CRLs) >= 1
    # three revisions: the rendered PDF/A, the signature, the /DSS with the document timestamp
    assert data.count(b"%%EOF") == 3
    # PDF/A stays: the XMP packet and the Info dictionary are those the renderer wrote
    xmp = bytes(pdf.Root.Metadata.read_bytes())
    assert b"pdfaid:part" in xmp and b"pyHanko" not in xmp
    assert "pyHanko" not in str(pdf.docinfo.get("/Producer", ""))
    original = pikepdf.open(io.BytesIO(data[:data.index(b"%%EOF") + 6]))
    assert bytes(original.Root.Metadata.read_bytes()) == xmp
    assert dict(original.docinfo.items()) == dict(pdf.docinfo.items())


def test_verify_with_the_root_pinned_says_authentic(lta_project: Path, pki: Pki) -> None:
    from click.testing import CliRunner

    from speechgen.cli import main

    site = lta_project / "site"
    pdf = site / "2025/kenegaraan/kenegaraan.id.pdf"
    result = CliRunner().invoke(main, ["verify", str(pdf), "--site", str(site), "--certificate", str(pki.root)])
    assert "Cocok / Match: kenegaraan.id.pdf is the published PDF" in result.stdout, result.output
    assert "PDF: ditandatangani oleh / signed by Sekretariat Uji" in result.stdout
    assert "intact, by the pinned certificate" in result.stdout
    assert "time proven by a timestamp" in result.stdout
    assert "manifest.json: ditandatangani oleh / signed by Sekretariat Uji" in result.stdout
    assert result.stdout.count("time proven by a timestamp") == 2          # the manifest's and the PDF's
    assert result.exit_code == 0, result.output


def test_an_unreachable_tsa_is_a_clear_error_and_nothing_is_frozen(pki: Pki, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    port = _free_port()                 # nothing listens there
    project, result = _released(pki, tmp_path, monkeypatch, timestamp_url=f"http://127.0.0.1:{port}/tsa")
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert f"the time-stamping authority http://127.0.0.1:{port}/tsa did not answer" in result.output
    assert not (project / "editions.txt").exists() or not (project / "editions.txt").read_text().strip()
    assert _kept(project) == []


def _signed_without_tsa(pki: Pki, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The fixture project signed by the PKI's publisher, with no [signing] timestamp_url."""
    from conftest import copy_project

    project = copy_project(tmp_path / "project")
    shutil.copy(pki.publisher, project / "publisher.pem")
    with (project / "speechgen.toml").open("a") as f:
        f.write('\n[signing]\ncertificate = "publisher.pem"\n')
    monkeypatch.setenv(signing.KEY_ENV, str(pki.publisher_key))
    monkeypatch.setenv(signing.PASSPHRASE_ENV, PASSPHRASE)
    return project


def test_without_a_tsa_release_warns_once(pki: Pki, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from speechgen.cli import main

    project = _signed_without_tsa(pki, tmp_path, monkeypatch)
    result = CliRunner().invoke(main, ["release", str(project), "-j", "1"])
    assert result.exit_code == 0, result.output
    assert result.output.count("timestamp_url is not set: the signatures (PAdES B-B) cannot prove their time") == 1
    report = signing.check_pdf_signature(_kept(project)[0].read_bytes(), certificate=pki.root.read_bytes())
    assert report.ok and not report.timestamped
    # and once the certificate has expired, a B-B edition proves nothing
    later = signing.check_pdf_signature(_kept(project)[0].read_bytes(), certificate=pki.root.read_bytes(),
                                        now=pki.expires + timedelta(days=1))
    assert not later.ok and "no timestamp proves when it signed" in later.problems[0]


def test_an_expired_certificate_cannot_be_timestamped_into_validity(pki: Pki, pdf: bytes, tmp_path: Path) -> None:
    """The backdating case with a TSA: signed claiming 2020-06-01 with a certificate that expired
    at the end of 2020; the TSA's time is today's, so nothing is signed."""
    claimed = datetime(2020, 6, 1, tzinfo=UTC)
    old = publisher_signer(pki, tmp_path, key=pki.old_key, certificate=pki.old, now=claimed)
    with pytest.raises(signing.SigningError) as caught:
        signing.sign_pdf(pdf, old, claimed, timestamp_url=pki.tsa)
    assert "cannot be signed with validation data" in str(caught.value)


def test_later_maintenance_keeps_the_edition(lta_project: Path, pki: Pki, tmp_path: Path) -> None:
    """A /DSS update and a document timestamp appended to a released edition with pyHanko's own
    tools: the file is still that edition, and authentic."""
    from click.testing import CliRunner
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers
    from pyhanko.sign.timestamps import HTTPTimeStamper
    from pyhanko.sign.validation import DocumentSecurityStore

    from speechgen.cli import main

    site = lta_project / "site"
    edition = (site / "2025/kenegaraan/kenegaraan.id.pdf").read_bytes()
    out = io.BytesIO(edition)
    DocumentSecurityStore.add_dss(out, sig_contents=None, certs=[], force_write=True)
    writer = IncrementalPdfFileWriter(io.BytesIO(out.getvalue()))
    stamped = signers.PdfTimeStamper(HTTPTimeStamper(pki.tsa)).timestamp_pdf(writer, "sha256", in_place=False)
    maintained = tmp_path / "kenegaraan.id.pdf"
    maintained.write_bytes(stamped.getvalue())
    assert maintained.read_bytes().startswith(edition) and maintained.read_bytes() != edition
    report = signing.check_pdf_signature(maintained.read_bytes(), certificate=pki.root.read_bytes())
    assert report.ok and report.maintained, report.problems
    result = CliRunner().invoke(main, ["verify", str(maintained), "--site", str(site)])
    assert result.exit_code == 0, result.output
    assert "as signed, with validation data added since" in result.stdout
    result = CliRunner().invoke(main, ["verify", str(maintained), "--site", str(site), "--certificate", str(pki.root)])
    assert "PDF: ditandatangani oleh / signed by" in result.stdout and "intact" in result.stdout, result.output
    # anything else appended (here: a second signature) is not maintenance
    writer = IncrementalPdfFileWriter(io.BytesIO(maintained.read_bytes()))
    forged = tmp_path / "forged.pdf"
    forged.write_bytes(_sign_again(writer, pki))
    result = CliRunner().invoke(main, ["verify", str(forged), "--site", str(site)])
    assert result.exit_code == 1 and "Tidak cocok / No match" in result.output


def _sign_again(writer, pki: Pki) -> bytes:
    from pyhanko.sign import signers

    signer = signers.SimpleSigner.load_pkcs12(str(pki.publisher_key), passphrase=PASSPHRASE.encode())
    return signers.PdfSigner(signers.PdfSignatureMetadata(field_name="Lain"), signer).sign_pdf(writer).getvalue()


# --- the manifest's signature carries a timestamp -------------------------------------------------

def test_the_manifest_signature_carries_a_timestamp_and_outlives_the_certificate(lta_project: Path, pki: Pki,
                                                                                 tmp_path: Path) -> None:
    from asn1crypto import cms

    site = lta_project / "site"
    manifest, p7s = (site / "manifest.json").read_bytes(), (site / "manifest.json.p7s").read_bytes()
    signer_info = cms.ContentInfo.load(p7s)["content"]["signer_infos"][0]
    assert [a["type"].native for a in signer_info["unsigned_attrs"]] == ["signature_time_stamp_token"]
    later = pki.expires + timedelta(days=365)
    report = signing.check_manifest_signature(manifest, p7s, certificate=pki.root.read_bytes(), now=later)
    assert report.ok and report.timestamped, report.problems
    assert report.judged_at < pki.expires < later
    # the timestamp covers this signature value, not any other: moved onto another signature, it proves nothing
    assert not signing.check_manifest_signature(manifest + b" ", p7s, certificate=pki.root.read_bytes()).ok
    # a fingerprint pins no TSA: judged at the present, which is after the certificate expired
    pinned = signing.check_manifest_signature(manifest, p7s, fingerprint=signing.certificate_fingerprint(
        pki.publisher.read_bytes()), now=later)
    assert not pinned.ok and not pinned.timestamped
    assert any("pin the root certificate" in p for p in pinned.problems), pinned.problems
    # openssl still reads it (unsigned attributes are for whoever knows them)
    (tmp_path / "m.json").write_bytes(manifest)
    (tmp_path / "m.p7s").write_bytes(p7s)
    checked = subprocess.run(["openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", str(tmp_path / "m.p7s"),
                              "-content", str(tmp_path / "m.json"), "-CAfile", str(pki.root), "-purpose", "any",
                              "-out", "/dev/null"], capture_output=True, text=True)
    assert checked.returncode == 0 and "Verification successful" in checked.stderr, checked.stderr


def test_an_untimestamped_manifest_signature_dies_with_the_certificate(pki: Pki, tmp_path: Path) -> None:
    signer = publisher_signer(pki, tmp_path)
    p7s = signing.sign_manifest(b"{}", signer)
    root = pki.root.read_bytes()
    assert signing.check_manifest_signature(b"{}", p7s, certificate=root).ok
    later = signing.check_manifest_signature(b"{}", p7s, certificate=root, now=pki.expires + timedelta(days=1))
    assert not later.ok and not later.timestamped
    assert "no timestamp proves when it signed" in later.problems[0]


def _build(project: Path):
    from click.testing import CliRunner

    from speechgen.cli import main

    return CliRunner().invoke(main, ["build", str(project), "--no-search"])


def test_an_unchanged_manifest_keeps_its_signature_and_asks_no_tsa(lta_project: Path, pki: Pki, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """A timestamp is new each time: a build whose manifest did not change gives back the previous
    signature, byte for byte, without contacting the TSA (here: an address where nothing listens)."""
    project = tmp_path / "project"
    shutil.copytree(lta_project, project, symlinks=True)
    monkeypatch.setenv(signing.KEY_ENV, str(pki.publisher_key))
    monkeypatch.setenv(signing.PASSPHRASE_ENV, PASSPHRASE)
    before = (project / "site/manifest.json.p7s").read_bytes()
    config = project / "speechgen.toml"
    dead = f"http://127.0.0.1:{_free_port()}/tsa"
    config.write_text(config.read_text().replace(pki.tsa, dead))
    result = _build(project)
    assert result.exit_code == 0, result.output
    assert (project / "site/manifest.json.p7s").read_bytes() == before
    # a changed manifest needs a new timestamp: the TSA's silence is a clear error, the site stays
    site_before = (project / "site/manifest.json").read_bytes()
    recipients = project / "recipients.yaml"
    recipients.write_text(recipients.read_text().replace("Arsip Nasional", "Arsip Nasional RI"))
    result = _build(project)
    assert result.exit_code == 1, result.output
    assert f"the time-stamping authority {dead} did not answer" in result.output
    assert "Traceback" not in result.output
    assert (project / "site/manifest.json").read_bytes() == site_before
    assert (project / "site/manifest.json.p7s").read_bytes() == before
    # with the TSA back, the changed manifest gets a fresh timestamp
    config.write_text(config.read_text().replace(dead, pki.tsa))
    result = _build(project)
    assert result.exit_code == 0, result.output
    after = (project / "site/manifest.json.p7s").read_bytes()
    assert after != before
    report = signing.check_manifest_signature((project / "site/manifest.json").read_bytes(), after,
                                              certificate=pki.root.read_bytes())
    assert report.ok and report.timestamped, report.problems


def test_without_a_tsa_the_build_warns_once_and_stays_reproducible(pki: Pki, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    project = _signed_without_tsa(pki, tmp_path, monkeypatch)
    from click.testing import CliRunner

    from speechgen.cli import main

    first = CliRunner().invoke(main, ["build", str(project), "--no-search", "--no-pdf"])
    assert first.exit_code == 0, first.output
    assert first.output.count("signatures cannot prove their time") == 1, first.output
    other = CliRunner().invoke(main, ["build", str(project), "--no-search", "--no-pdf", "--out", str(tmp_path / "b")])
    assert other.exit_code == 0, other.output
    assert (project / "site/manifest.json.p7s").read_bytes() == (tmp_path / "b/manifest.json.p7s").read_bytes()


# --- a TSA under another root ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def other_tsa_project(pki: Pki, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Released and built with a TSA whose root is not the publisher's: its root named by
    [signing] tsa_certificate, so that release can gather its validation data."""
    from click.testing import CliRunner

    from speechgen.cli import main

    monkeypatch = pytest.MonkeyPatch()
    try:
        folder = tmp_path_factory.mktemp("other-tsa")
        from conftest import copy_project

        project = copy_project(folder / "project")
        shutil.copy(pki.publisher, project / "publisher.pem")
        shutil.copy(pki.other_root, project / "tsa-root.pem")
        with (project / "speechgen.toml").open("a") as f:
            f.write(f'\n[signing]\ncertificate = "publisher.pem"\ntimestamp_url = "{pki.other_tsa}"\n'
                    'tsa_certificate = "tsa-root.pem"\n')
        monkeypatch.setenv(signing.KEY_ENV, str(pki.publisher_key))
        monkeypatch.setenv(signing.PASSPHRASE_ENV, PASSPHRASE)
        for args in (["release", str(project), "-j", "1"], ["build", str(project), "--no-search"]):
            result = CliRunner().invoke(main, args)
            assert result.exit_code == 0, result.output
    finally:
        monkeypatch.undo()
    return project


def test_a_tsa_under_another_root_is_trusted_only_when_given(other_tsa_project: Path, pki: Pki) -> None:
    from click.testing import CliRunner

    from speechgen.cli import main

    data = _kept(other_tsa_project)[0].read_bytes()
    root, other = pki.root.read_bytes(), pki.other_root.read_bytes()
    later = pki.expires + timedelta(days=30)
    # after the publisher's certificate expired, the timestamp proves the time only with the TSA's root
    refused = signing.check_pdf_signature(data, certificate=root, now=later)
    assert not refused.ok and not refused.timestamped
    assert any("Cap Waktu Lain (Otoritas Lain) is not trusted" in p for p in refused.problems), refused.problems
    trusted = signing.check_pdf_signature(data, certificate=root, now=later, tsa_roots=(other,))
    assert trusted.ok and trusted.timestamped and trusted.judged_at < pki.expires, trusted.problems
    # a TSA root vouches for timestamps only, never for the signer
    assert not signing.check_pdf_signature(data, certificate=other, tsa_roots=(root,), now=later).ok
    assert not signing.check_pdf_signature(data, certificate=other, tsa_roots=(root,)).ok
    # verify today: authentic either way, and says when the TSA is not trusted
    site = other_tsa_project / "site"
    pdf = site / "2025/kenegaraan/kenegaraan.id.pdf"
    plain = CliRunner().invoke(main, ["verify", str(pdf), "--site", str(site), "--certificate", str(pki.root)])
    assert plain.exit_code == 0, plain.output
    assert "Cap Waktu Lain (Otoritas Lain) is not trusted" in plain.stdout
    assert "time proven by a timestamp" not in plain.stdout
    given = CliRunner().invoke(main, ["verify", str(pdf), "--site", str(site), "--certificate", str(pki.root),
                                      "--tsa-certificate", str(pki.other_root)])
    assert given.exit_code == 0, given.output
    assert given.stdout.count("time proven by a timestamp") == 2 and "not trusted" not in given.stdout
