"""Signed publications (issue 17): PDFs signed with PAdES B-B and the manifest with a detached CMS
signature, checked here independently of speechgen's own checking code: pyHanko's validator
with the certificate as the only trust root for PDFs, `openssl cms -verify` for the manifest.

Keys and certificates are made with cryptography in fixtures (RSA 2048 and P-256, fast); the
PDFs are real PDF/A builds of the fixture project.
"""

from __future__ import annotations

import asyncio
import io
import os
import re
import select
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pikepdf
import pytest
from click.testing import CliRunner
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from conftest import copy_project
from speechgen import signing
from speechgen.build import build
from speechgen.cli import main
from speechgen.config import load_config
from speechgen.signing import SigningError

pytestmark = pytest.mark.pdf

ROOT = Path(__file__).resolve().parent.parent
UTC = timezone.utc
WIB = timezone(timedelta(hours=7))
WHEN = datetime(2025, 8, 16, 9, 30, tzinfo=WIB)         # an edition's signing time
NOW = datetime(2025, 8, 20, 12, 0, tzinfo=UTC)          # the machine's clock when loading the key
PASSPHRASE = "kata sandi rahasia"
JAVA = Path("/usr/share/java")
PREFLIGHT_JARS = ("preflight.jar", "pdfbox2.jar", "fontbox2.jar", "xmpbox.jar", "commons-logging.jar",
                  "javax.activation.jar", "jaxb-api.jar")
DOCUMENT_SIGNING = x509.ObjectIdentifier("1.3.6.1.5.5.7.3.36")   # id-kp-documentSigning (RFC 9336)


# --- keys and certificates ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Identity:
    key: object
    certificate: x509.Certificate
    pem: bytes                          # the certificate, PEM
    p12: Path                           # key and certificate, PKCS#12 with PASSPHRASE


def _usage(**overrides) -> x509.KeyUsage:
    flags = dict(digital_signature=True, content_commitment=True, key_encipherment=False,
                 data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
                 encipher_only=False, decipher_only=False)
    flags.update(overrides)
    return x509.KeyUsage(**flags)


def make_identity(folder: Path, name: str, *, key=None, valid=(datetime(2024, 1, 1, tzinfo=UTC),
                  datetime(2034, 1, 1, tzinfo=UTC)), issuer: Identity | None = None, ca: bool = False,
                  usage: x509.KeyUsage | None = None, extended: list | None = None,
                  organization: str = "Sekretariat Uji") -> Identity:
    key = key or rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name),
                         x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization)])
    builder = (x509.CertificateBuilder().subject_name(subject)
               .issuer_name(issuer.certificate.subject if issuer else subject)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(valid[0]).not_valid_after(valid[1])
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
               .add_extension(usage or (_usage(key_cert_sign=True, crl_sign=True) if ca else _usage()),
                              critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False))
    if issuer is not None:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()), critical=False)
    if extended:
        builder = builder.add_extension(x509.ExtendedKeyUsage(extended), critical=False)
    certificate = builder.sign(issuer.key if issuer else key, hashes.SHA256())
    p12 = folder / f"{re.sub(r'[^a-z0-9]+', '-', name.lower())}.p12"
    p12.write_bytes(pkcs12.serialize_key_and_certificates(
        name.encode(), key, certificate, [issuer.certificate] if issuer else None,
        serialization.BestAvailableEncryption(PASSPHRASE.encode())))
    return Identity(key, certificate, certificate.public_bytes(serialization.Encoding.PEM), p12)


@dataclass(frozen=True)
class Pki:
    folder: Path                        # outside any project: where the key files are
    project: Path                       # a project folder holding publisher.pem
    publisher: Identity
    other: Identity                     # someone else's certificate and key
    ec: Identity                        # the publisher's, with a P-256 key
    short: Identity                     # valid 2025-01-01 .. 2025-12-31 only
    root: Identity                      # a certification authority
    issued: Identity                    # a publisher certificate that authority issued
    issued_short: Identity              # one it issued for 2025 only


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    folder = tmp_path_factory.mktemp("keys")
    project = tmp_path_factory.mktemp("signed-project")
    (project / "speechgen.toml").write_text("[site]\ntitle = \"Uji\"\nbase_url = \"https://example.go.id/\"\n")
    publisher = make_identity(folder, "Sekretariat Uji")
    (project / "publisher.pem").write_bytes(publisher.pem)
    root = make_identity(folder, "Otoritas Sertifikat Uji", ca=True, organization="Otoritas Uji")
    return Pki(
        folder=folder, project=project, publisher=publisher,
        other=make_identity(folder, "Penerbit Lain", organization="Bukan Penerbit"),
        ec=make_identity(folder, "Sekretariat Uji EC", key=ec.generate_private_key(ec.SECP256R1())),
        short=make_identity(folder, "Sekretariat Uji Singkat", valid=(datetime(2025, 1, 1, tzinfo=UTC),
                                                                     datetime(2025, 12, 31, tzinfo=UTC))),
        root=root,
        issued=make_identity(folder, "Sekretariat Uji Resmi", issuer=root, extended=[DOCUMENT_SIGNING]),
        issued_short=make_identity(folder, "Sekretariat Uji 2025", issuer=root, valid=(
            datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 12, 31, tzinfo=UTC))),
    )


def signer_for(pki: Pki, identity: Identity, now: datetime = NOW) -> signing.Signer:
    """A signer for `identity`, its certificate copied into the project under its own name."""
    name = f"{identity.p12.stem}.pem"
    (pki.project / name).write_bytes(identity.pem)
    return signing.load_signer(pki.project, Path(name), identity.p12, PASSPHRASE, now)


@pytest.fixture(scope="session")
def publisher(pki: Pki) -> signing.Signer:
    return signing.load_signer(pki.project, Path("publisher.pem"), pki.publisher.p12, PASSPHRASE, NOW)


# --- PDFs -----------------------------------------------------------------------------------------------

def _built_pdf(folder: Path, variant: str) -> bytes:
    project = copy_project(folder / "project")
    with (project / "speechgen.toml").open("a") as f:
        f.write(f'\n[pdf]\nvariant = "{variant}"\n')
    build(load_config(project), pdf=True, jobs=1, card_pdfs=False)
    return (project / "site/2025/kenegaraan/kenegaraan.id.pdf").read_bytes()


@pytest.fixture(scope="module")
def pdf(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A PDF/A-3b speech as the build renders it, with its Markdown source attached."""
    return _built_pdf(tmp_path_factory.mktemp("a3b"), "pdf/a-3b")


@pytest.fixture(scope="module")
def signed(pdf: bytes, publisher: signing.Signer) -> bytes:
    return signing.sign_pdf(pdf, publisher, WHEN, reason="Edisi 1", location="Jakarta")


def validate(data: bytes, trust: bytes, moment: datetime | None = None):
    """pyHanko's own validator, not speechgen's code: the first signature, with `trust` (a PEM
    certificate) as the only trust root."""
    from asn1crypto import pem, x509 as asn1_x509
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import async_validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    root = asn1_x509.Certificate.load(pem.unarmor(trust)[2])
    reader = PdfFileReader(io.BytesIO(data))
    context = ValidationContext(trust_roots=[root], allow_fetching=False, moment=moment)
    return asyncio.run(async_validate_pdf_signature(reader.embedded_signatures[0], context))


# --- signing PDFs ----------------------------------------------------------------------------------------

def test_a_signed_pdf_validates_with_the_certificate_as_the_only_trust_root(signed: bytes, pki: Pki) -> None:
    from pyhanko.sign.validation.status import SignatureCoverageLevel

    status = validate(signed, pki.publisher.pem)
    assert status.intact and status.valid and status.trusted, status.pretty_print_details()
    assert status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    assert status.signing_cert.dump() == pki.publisher.certificate.public_bytes(serialization.Encoding.DER)
    # and not with someone else's certificate as the trust root
    assert not validate(signed, pki.other.pem).trusted


def test_the_signature_is_pades_b_b_invisible_and_states_the_editions_time(signed: bytes) -> None:
    from asn1crypto import cms

    pdf = pikepdf.open(io.BytesIO(signed))
    fields = list(pdf.Root.AcroForm.Fields)
    assert len(fields) == 1
    field = fields[0]
    assert field.FT == "/Sig" and str(field.T) == "Penerbit"
    assert list(field.Rect) == [0, 0, 0, 0] and int(field.F) & 4 and not int(field.F) & (1 | 2 | 32)
    value = field.V
    assert value.SubFilter == "/ETSI.CAdES.detached" and value.Filter == "/Adobe.PPKLite"
    assert str(value.M) == "D:20250816093000+07'00'"
    assert str(value.Reason) == "Edisi 1" and str(value.Location) == "Jakarta"
    signed_data = cms.ContentInfo.load(bytes(value.Contents))["content"]
    attributes = {a["type"].native for a in signed_data["signer_infos"][0]["signed_attrs"]}
    # PAdES B-B: the signer's certificate is bound by ESS signing-certificate-v2; no signing-time
    # attribute (the time is /M)
    assert {"content_type", "message_digest", "signing_certificate_v2"} <= attributes
    assert "signing_time" not in attributes


def test_signing_keeps_every_byte_and_the_pdfa_metadata(pdf: bytes, signed: bytes, tmp_path: Path) -> None:
    assert signed.startswith(pdf) and len(signed) > len(pdf)          # an incremental update
    with pikepdf.open(io.BytesIO(pdf)) as before, pikepdf.open(io.BytesIO(signed)) as after:
        assert after.Root.Metadata.read_bytes() == before.Root.Metadata.read_bytes()
        assert after.open_metadata()["pdfaid:part"] == "3"
        assert after.open_metadata()["pdfaid:conformance"] == "B"
        assert dict(after.docinfo.items()) == dict(before.docinfo.items())
        intents = list(after.Root.OutputIntents)
        assert len(intents) == 1 and intents[0].S == "/GTS_PDFA1"
        assert intents[0].DestOutputProfile.read_bytes() == before.Root.OutputIntents[0].DestOutputProfile.read_bytes()
        attached = {name: spec.get_file().read_bytes() for name, spec in after.attachments.items()}
        assert attached and attached == {name: spec.get_file().read_bytes()
                                         for name, spec in before.attachments.items()}
        assert after.Root.AF[0].AFRelationship == "/Source"
        assert after.trailer.ID[0] == before.trailer.ID[0] and after.trailer.ID[1] != before.trailer.ID[1]
    (tmp_path / "signed.pdf").write_bytes(signed)
    checked = subprocess.run(["qpdf", "--check", str(tmp_path / "signed.pdf")], capture_output=True, text=True)
    assert checked.returncode == 0 and "No syntax or stream encoding errors" in checked.stdout, \
        checked.stdout + checked.stderr


def test_a_signed_pdfa_1b_passes_pdfbox_preflight(tmp_path_factory: pytest.TempPathFactory, publisher,
                                                   pki: Pki) -> None:
    """Preflight validates PDF/A-1b only (see tests/test_pdfa.py): it asks every widget, the
    invisible signature's included, for an appearance stream."""
    missing = [jar for jar in PREFLIGHT_JARS if not (JAVA / jar).exists()]
    assert shutil.which("java") and not missing, \
        f"PDFBox Preflight is not installed (bash .ci/setup --test installs it): {missing}"
    folder = tmp_path_factory.mktemp("a1b")
    path = folder / "signed.pdf"
    path.write_bytes(signing.sign_pdf(_built_pdf(folder, "pdf/a-1b"), publisher, WHEN))
    classpath = ":".join(str(JAVA / jar) for jar in PREFLIGHT_JARS)
    result = subprocess.run(["java", "-cp", classpath, "org.apache.pdfbox.preflight.Validator_A1b", str(path)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0 and "The file signed.pdf is a valid PDF/A-1b file" in result.stdout, \
        result.stdout + result.stderr
    assert validate(path.read_bytes(), pki.publisher.pem).trusted


@pytest.mark.parametrize("which", ["publisher", "ec"])
def test_signing_is_reproducible(pdf: bytes, pki: Pki, which: str) -> None:
    """The same PDF, key and time give the same bytes (RSA PKCS#1 v1.5; ECDSA with RFC 6979
    nonces); another time gives other bytes."""
    signer = signer_for(pki, getattr(pki, which))
    first = signing.sign_pdf(pdf, signer, WHEN, reason="Edisi 1")
    assert signing.sign_pdf(pdf, signer, WHEN, reason="Edisi 1") == first
    assert signing.sign_pdf(pdf, signer, WHEN + timedelta(seconds=1), reason="Edisi 1") != first
    assert validate(first, getattr(pki, which).pem).trusted


def test_a_signing_time_outside_the_certificate_is_refused(pdf: bytes, pki: Pki) -> None:
    signer = signer_for(pki, pki.short, now=datetime(2025, 6, 1, tzinfo=UTC))
    with pytest.raises(SigningError) as error:
        signing.sign_pdf(pdf, signer, datetime(2026, 1, 5, tzinfo=UTC), name="kenegaraan.id.pdf")
    assert str(error.value).startswith("kenegaraan.id.pdf: cannot be signed with the time 2026-01-05")
    assert "valid only from 2025-01-01 00:00 UTC to 2025-12-31 00:00 UTC" in str(error.value)
    with pytest.raises(ValueError, match="time zone"):
        signing.sign_pdf(pdf, signer, datetime(2025, 8, 16))


def test_a_signed_or_broken_pdf_is_not_signed(signed: bytes, publisher) -> None:
    with pytest.raises(SigningError, match=r"^kenegaraan.id.pdf: is already signed"):
        signing.sign_pdf(signed, publisher, WHEN, name="kenegaraan.id.pdf")
    with pytest.raises(SigningError, match=r"^kenegaraan.id.pdf: not a PDF that can be signed"):
        signing.sign_pdf(b"%PDF-1.7\nnot really\n", publisher, WHEN, name="kenegaraan.id.pdf")


# --- checking PDFs -----------------------------------------------------------------------------------------

def test_check_reports_the_signer_time_and_a_whole_intact_trusted_signature(signed: bytes, pki: Pki) -> None:
    report = signing.check_pdf_signature(signed, certificate=pki.publisher.pem)
    assert report.ok and report.signed and report.intact and report.trusted and report.covers_whole_file
    assert not report.changed_after_signing and report.problems == ()
    assert report.signer == "Sekretariat Uji" and report.organization == "Sekretariat Uji"
    assert report.signed_at == WHEN and not report.sample
    der = pki.publisher.certificate.public_bytes(serialization.Encoding.DER)
    assert report.fingerprint == signing.certificate_fingerprint(der)
    by_fingerprint = signing.check_pdf_signature(signed, fingerprint=report.fingerprint.upper())
    assert by_fingerprint.ok


def test_an_unsigned_pdf_is_reported_unsigned(pdf: bytes, pki: Pki) -> None:
    report = signing.check_pdf_signature(pdf, certificate=pki.publisher.pem)
    assert not report.signed and not report.ok and report.problems == ("the PDF is not signed",)
    with pytest.raises(SigningError, match="not a PDF that can be read"):
        signing.check_pdf_signature(b"<html>not a pdf</html>", certificate=pki.publisher.pem)


def test_a_byte_changed_in_the_signed_range_is_not_intact(signed: bytes, pdf: bytes, pki: Pki) -> None:
    start = pdf.index(b"stream\n", 2000) + len(b"stream\n") + 20      # inside compressed stream data
    tampered = bytearray(signed)
    tampered[start] ^= 0x01
    tampered = bytes(tampered)
    independent = validate(tampered, pki.publisher.pem)
    assert not independent.intact
    report = signing.check_pdf_signature(tampered, certificate=pki.publisher.pem)
    assert report.signed and not report.intact and not report.ok
    assert "the signed bytes were changed: the digest does not match" in report.problems


def _update_after_signing(signed: bytes) -> bytes:
    """What someone holding the signed file can do: an incremental update that changes it."""
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    writer = IncrementalPdfFileWriter(io.BytesIO(signed))
    writer.root["/Lang"] = generic.TextStringObject("en")
    page = writer.root["/Pages"]["/Kids"][0].get_object()
    page["/Contents"] = writer.add_object(generic.StreamObject(stream_data=b"BT /F1 24 Tf (Palsu) Tj ET"))
    writer.update_container(page)
    writer.update_root()
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_an_update_after_signing_is_reported_as_changed(signed: bytes, pki: Pki) -> None:
    from pyhanko.sign.validation.status import SignatureCoverageLevel

    changed = _update_after_signing(signed)
    assert changed.startswith(signed)
    independent = validate(changed, pki.publisher.pem)
    assert independent.intact and independent.coverage == SignatureCoverageLevel.ENTIRE_REVISION
    report = signing.check_pdf_signature(changed, certificate=pki.publisher.pem)
    assert report.intact and report.trusted                  # the signed revision itself is sound
    assert report.changed_after_signing and not report.covers_whole_file and not report.ok
    assert any(p.startswith("changed after signing: an incremental update follows the signature")
               for p in report.problems), report.problems


def test_a_signature_by_another_certificate_is_not_trusted(pdf: bytes, pki: Pki) -> None:
    forged = signing.sign_pdf(pdf, signer_for(pki, pki.other), WHEN)
    assert validate(forged, pki.other.pem).trusted and not validate(forged, pki.publisher.pem).trusted
    report = signing.check_pdf_signature(forged, certificate=pki.publisher.pem)
    assert report.intact and not report.trusted and not report.ok
    assert report.signer == "Penerbit Lain"
    assert "not trusted: not made with the pinned certificate" in report.problems
    publisher = signing.certificate_fingerprint(pki.publisher.pem)
    pinned = signing.check_pdf_signature(forged, fingerprint=publisher)
    assert not pinned.trusted and not pinned.ok
    assert pinned.problems[0].startswith("signed with the certificate ")
    assert pinned.problems[0].endswith(f"not the pinned {signing.fingerprint_for_print(publisher)}")
    unpinned = signing.check_pdf_signature(forged)
    assert not unpinned.trusted and unpinned.problems[0].startswith("no certificate pinned")


def test_without_a_timestamp_the_certificate_is_judged_now_not_at_the_stated_time(pdf: bytes, pki: Pki) -> None:
    """B-B has no timestamp: the time a signature states (/M) is only the signer's word, so the
    certificate is judged at the present. Valid then: trusted; expired since: refused."""
    signer = signer_for(pki, pki.short, now=datetime(2025, 6, 1, tzinfo=UTC))
    data = signing.sign_pdf(pdf, signer, WHEN)
    assert datetime.now(UTC) > pki.short.certificate.not_valid_after_utc
    report = signing.check_pdf_signature(data, certificate=pki.short.pem, now=datetime(2025, 9, 1, tzinfo=UTC))
    assert report.ok and report.signed_at == WHEN and not report.timestamped
    report = signing.check_pdf_signature(data, certificate=pki.short.pem)
    assert report.intact and not report.trusted and not report.ok
    assert report.problems[0].startswith("the signer's certificate is not valid now (")
    assert "no timestamp proves when it signed" in report.problems[0]


def test_a_backdated_signature_is_refused(pdf: bytes, pki: Pki, tmp_path: Path) -> None:
    """Signed today with a certificate that expired in 2020, claiming 2020-06-01: before issue 29
    this was "intact, by the pinned certificate". Refused, by speechgen and by pyHanko at the
    present time; `verify` says nothing is authentic on stdout."""
    old = make_identity(pki.folder, "Sekretariat Uji 2020", issuer=pki.root,
                        valid=(datetime(2019, 6, 1, tzinfo=UTC), datetime(2020, 12, 31, tzinfo=UTC)))
    claimed = datetime(2020, 6, 1, 10, 0, tzinfo=UTC)
    data = signing.sign_pdf(pdf, signer_for(pki, old, now=claimed), claimed)
    assert not validate(data, pki.root.pem).trusted               # pyHanko, judging now
    assert validate(data, pki.root.pem, moment=claimed).trusted   # what /M alone would have allowed
    for pin in (old.pem, pki.root.pem):                           # the certificate itself, or its authority
        report = signing.check_pdf_signature(data, certificate=pin)
        assert report.intact and not report.ok and report.signed_at == claimed
        assert "is not valid now" in report.problems[0]
    fingerprint = signing.certificate_fingerprint(old.pem)
    (tmp_path / "root.pem").write_bytes(pki.root.pem)
    (tmp_path / "backdated.pdf").write_bytes(data)
    for pin in (["--certificate", str(tmp_path / "root.pem")], ["--fingerprint", fingerprint]):
        result = CliRunner().invoke(main, ["verify", str(tmp_path / "backdated.pdf"), *pin])
        assert result.exit_code == 1, result.stdout
        assert "Traceback" not in result.stdout + result.stderr
        assert "intact" not in result.stdout and "authentic" not in result.stdout and "Cocok" not in result.stdout
        assert "is not valid now" in result.stderr
        # the signer's fingerprint next to the pinned one
        pinned = fingerprint if pin[0] == "--fingerprint" else signing.certificate_fingerprint(pki.root.pem)
        assert f"signer's certificate: {signing.fingerprint_for_print(fingerprint)}" in result.stderr
        assert f"pinned:              {signing.fingerprint_for_print(pinned)}" in result.stderr


def test_a_signing_time_outside_the_certificate_is_not_trusted(pdf: bytes, pki: Pki) -> None:
    """Signed the usual way with pyHanko, at the clock's time, after the certificate expired: a
    self-signed certificate is its own trust anchor, whose dates path validation ignores, so the
    check compares the stated signing time with the certificate itself."""
    from asn1crypto import keys as asn1_keys, x509 as asn1_x509
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers
    from pyhanko.sign.fields import SigSeedSubFilter

    der = serialization.Encoding.DER
    signer = signers.SimpleSigner(
        signing_cert=asn1_x509.Certificate.load(pki.short.certificate.public_bytes(der)),
        signing_key=asn1_keys.PrivateKeyInfo.load(pki.short.key.private_bytes(
            der, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())),
        cert_registry=None)
    out = signers.PdfSigner(signers.PdfSignatureMetadata(field_name="Late", subfilter=SigSeedSubFilter.PADES),
                            signer).sign_pdf(IncrementalPdfFileWriter(io.BytesIO(pdf)))
    report = signing.check_pdf_signature(out.getvalue(), certificate=pki.short.pem)
    assert report.intact and not report.trusted and not report.ok
    assert report.signed_at > pki.short.certificate.not_valid_after_utc
    assert report.problems[0].startswith("the signer's certificate is not valid now (")
    assert "it is valid from 2025-01-01 00:00 UTC to 2025-12-31 00:00 UTC)" in report.problems[0]


def test_a_certificate_issued_by_an_authority_is_trusted_through_it_or_pinned_itself(pdf: bytes, pki: Pki) -> None:
    data = signing.sign_pdf(pdf, signer_for(pki, pki.issued), WHEN)
    assert validate(data, pki.root.pem).trusted
    assert signing.check_pdf_signature(data, certificate=pki.root.pem).ok
    assert signing.check_pdf_signature(data, certificate=pki.issued.pem).ok
    assert not signing.check_pdf_signature(data, certificate=pki.publisher.pem).trusted
    # a certificate the authority issued for 2025, with no timestamp: trusted while it is valid,
    # refused once it has expired (judged now, as pyHanko judges it)
    data = signing.sign_pdf(pdf, signer_for(pki, pki.issued_short, now=datetime(2025, 6, 1, tzinfo=UTC)), WHEN)
    assert not validate(data, pki.root.pem).trusted                         # judged now: expired
    assert validate(data, pki.root.pem, moment=WHEN).trusted
    assert signing.check_pdf_signature(data, certificate=pki.root.pem, now=datetime(2025, 9, 1, tzinfo=UTC)).ok
    assert not signing.check_pdf_signature(data, certificate=pki.root.pem).ok


# --- the manifest ------------------------------------------------------------------------------------------

MANIFEST = b'{"speeches": [{"id": "2025/kenegaraan", "languages": {}}]}\n'


def openssl_verify(folder: Path, manifest: bytes, p7s: bytes, trust: bytes, *extra: str):
    """The command the README gives, run as an IT department would."""
    (folder / "manifest.json").write_bytes(manifest)
    (folder / "manifest.json.p7s").write_bytes(p7s)
    (folder / "publisher.pem").write_bytes(trust)
    return subprocess.run(["openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", "manifest.json.p7s",
                           "-content", "manifest.json", "-CAfile", "publisher.pem", "-purpose", "any",
                           *extra, "-out", os.devnull], cwd=folder, capture_output=True, text=True)


def test_the_manifest_signature_verifies_with_openssl(publisher, pki: Pki, tmp_path: Path) -> None:
    p7s = signing.sign_manifest(MANIFEST, publisher)
    assert signing.sign_manifest(MANIFEST, publisher) == p7s                 # reproducible
    result = openssl_verify(tmp_path, MANIFEST, p7s, pki.publisher.pem)
    assert result.returncode == 0 and "Verification successful" in result.stderr, result.stderr
    changed = openssl_verify(tmp_path, MANIFEST.replace(b"kenegaraan", b"kenegaraam"), p7s, pki.publisher.pem)
    assert changed.returncode != 0 and "Verification failure" in changed.stderr
    other = openssl_verify(tmp_path, MANIFEST, p7s, pki.other.pem)
    assert other.returncode != 0 and "Verification failure" in other.stderr


def test_an_ec_signed_manifest_is_reproducible_and_verifies(pki: Pki, tmp_path: Path) -> None:
    signer = signer_for(pki, pki.ec)
    p7s = signing.sign_manifest(MANIFEST, signer)
    assert signing.sign_manifest(MANIFEST, signer) == p7s
    assert openssl_verify(tmp_path, MANIFEST, p7s, pki.ec.pem).returncode == 0


def test_openssl_flags_for_a_certificate_an_authority_issued(pki: Pki, tmp_path: Path) -> None:
    """Pinning a certificate that is not self-signed needs -partial_chain; one with a
    document-signing extended key usage needs -purpose any (the default purpose is e-mail)."""
    p7s = signing.sign_manifest(MANIFEST, signer_for(pki, pki.issued))
    assert openssl_verify(tmp_path, MANIFEST, p7s, pki.issued.pem, "-partial_chain").returncode == 0
    assert openssl_verify(tmp_path, MANIFEST, p7s, pki.issued.pem).returncode != 0
    assert openssl_verify(tmp_path, MANIFEST, p7s, pki.root.pem).returncode == 0
    without_purpose = subprocess.run(
        ["openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", "manifest.json.p7s", "-content",
         "manifest.json", "-CAfile", "publisher.pem", "-out", os.devnull], cwd=tmp_path, capture_output=True, text=True)
    assert without_purpose.returncode != 0 and "certificate purpose" in without_purpose.stderr


def test_check_manifest_signature(publisher, pki: Pki) -> None:
    p7s = signing.sign_manifest(MANIFEST, publisher)
    report = signing.check_manifest_signature(MANIFEST, p7s, certificate=pki.publisher.pem)
    assert report.ok and report.signer == "Sekretariat Uji" and report.problems == ()
    assert signing.check_manifest_signature(MANIFEST, p7s, fingerprint=report.fingerprint).ok
    changed = signing.check_manifest_signature(MANIFEST + b" ", p7s, certificate=pki.publisher.pem)
    assert not changed.intact and not changed.ok
    assert changed.problems == ("the signed bytes were changed: the digest does not match",)
    other = signing.check_manifest_signature(MANIFEST, p7s, certificate=pki.other.pem)
    assert other.intact and not other.trusted and not other.ok
    wrong_pin = signing.check_manifest_signature(MANIFEST, p7s, fingerprint="ab" * 32)
    assert not wrong_pin.trusted
    with pytest.raises(SigningError, match="not a detached CMS signature"):
        signing.check_manifest_signature(MANIFEST, b"\x30\x03garbage", certificate=pki.publisher.pem)


# --- loading the key: every bad input ------------------------------------------------------------------------

def load(pki: Pki, key: Path | None, passphrase: str | None = PASSPHRASE, now: datetime = NOW,
         certificate: str = "publisher.pem") -> signing.Signer:
    return signing.load_signer(pki.project, Path(certificate), key, passphrase, now)


def test_a_wrong_or_missing_passphrase(pki: Pki) -> None:
    with pytest.raises(SigningError) as error:
        load(pki, pki.publisher.p12, "salah")
    assert str(error.value) == (f"{pki.publisher.p12}: wrong passphrase (the key file does not open with "
                                "SPEECHGEN_SIGNING_PASSPHRASE); set the passphrase it was made with")
    with pytest.raises(SigningError, match="protected by a passphrase; set SPEECHGEN_SIGNING_PASSPHRASE"):
        load(pki, pki.publisher.p12, None)


def test_an_expired_or_not_yet_valid_certificate(pki: Pki) -> None:
    with pytest.raises(SigningError) as error:
        load(pki, pki.publisher.p12, now=datetime(2034, 6, 1, tzinfo=UTC))
    assert str(error.value) == ("publisher.pem: the certificate expired on 2034-01-01 00:00 UTC; renew it "
                                "and configure the new one")
    with pytest.raises(SigningError) as error:
        load(pki, pki.publisher.p12, now=datetime(2023, 6, 1, tzinfo=UTC))
    assert str(error.value).startswith("publisher.pem: the certificate is not valid yet: it is valid from "
                                       "2024-01-01 00:00 UTC")


def test_a_key_that_does_not_match_the_certificate(pki: Pki) -> None:
    with pytest.raises(SigningError) as error:
        load(pki, pki.other.p12)
    assert str(error.value).startswith(f"{pki.other.p12}: the private key does not match the certificate "
                                       "publisher.pem (Sekretariat Uji); use the key")


def test_a_pkcs12_without_a_key_or_not_a_pkcs12(pki: Pki, tmp_path: Path) -> None:
    only_certificate = tmp_path / "only-certificate.p12"
    only_certificate.write_bytes(pkcs12.serialize_key_and_certificates(
        b"publisher", None, pki.publisher.certificate, None,
        serialization.BestAvailableEncryption(PASSPHRASE.encode())))
    with pytest.raises(SigningError, match=r"holds no private key \(only certificates\); export it again"):
        load(pki, only_certificate)
    pem_key = tmp_path / "key.pem"
    pem_key.write_bytes(pki.publisher.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                        serialization.NoEncryption()))
    with pytest.raises(SigningError, match=r"key.pem: not a PKCS#12 \(.p12/.pfx\) file; export"):
        load(pki, pem_key)
    with pytest.raises(SigningError, match="missing.p12: not found; set SPEECHGEN_SIGNING_KEY"):
        load(pki, tmp_path / "missing.p12")
    with pytest.raises(SigningError, match="SPEECHGEN_SIGNING_KEY is not set"):
        load(pki, None)


def test_a_key_inside_the_project_is_refused(pki: Pki, tmp_path: Path) -> None:
    inside = pki.project / "keys/publisher-key.p12"
    inside.parent.mkdir(exist_ok=True)
    shutil.copy(pki.publisher.p12, inside)
    link_in = tmp_path / "looks-outside.p12"                # a link outside to the key inside
    link_in.symlink_to(inside)
    link_out = pki.project / "keys/link.p12"                 # a link inside to a key outside
    link_out.symlink_to(pki.publisher.p12)
    project_link = tmp_path / "project-link"                 # the project reached by another name
    project_link.symlink_to(pki.project)
    for key in (inside, link_in, link_out, project_link / "keys/publisher-key.p12"):
        with pytest.raises(SigningError) as error:
            load(pki, key)
        assert "the private key is inside the project folder" in str(error.value), key
        assert "move it out of the project and set SPEECHGEN_SIGNING_KEY" in str(error.value)
    assert load(pki, pki.publisher.p12).fingerprint == signing.certificate_fingerprint(pki.publisher.pem)


def test_a_certificate_that_is_not_a_pem_certificate_or_lies_outside(pki: Pki, tmp_path: Path) -> None:
    def refused(name: str, data: bytes | None = None) -> str:
        if data is not None:
            (pki.project / name).write_bytes(data)
        with pytest.raises(SigningError) as error:
            load(pki, pki.publisher.p12, certificate=name)
        return str(error.value)

    der = pki.publisher.certificate.public_bytes(serialization.Encoding.DER)
    assert refused("der.pem", der) == ("der.pem: not a PEM certificate; it is DER; convert it with "
                                       "`openssl x509 -inform DER -in FILE -out publisher.pem`")
    assert refused("text.pem", b"hello\n").startswith("text.pem: not a PEM certificate")
    assert refused("damaged.pem", b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n") \
        .startswith("damaged.pem: the PEM certificate is damaged")
    key_pem = pki.publisher.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                              serialization.NoEncryption())
    assert refused("key.pem", key_pem).startswith("key.pem: holds a PRIVATE KEY; a private key must never be "
                                                  "in the project")
    assert refused("two.pem", pki.publisher.pem + pki.other.pem).startswith("two.pem: holds 2 certificates")
    assert refused("missing.pem").startswith("missing.pem: not found")
    outside = tmp_path / "publisher.pem"
    outside.write_bytes(pki.publisher.pem)
    assert "the certificate must be a file inside the project" in refused(str(outside))
    (pki.project / "link.pem").unlink(missing_ok=True)
    (pki.project / "link.pem").symlink_to(outside)
    assert refused("link.pem").startswith("link.pem: the certificate must be a file inside the project")


def test_a_certificate_not_for_signing_or_a_short_key(pki: Pki) -> None:
    not_for_signing = make_identity(pki.folder, "Hanya Enkripsi", usage=_usage(
        digital_signature=False, content_commitment=False, key_encipherment=True))
    with pytest.raises(SigningError, match=r"the certificate is not for signing \(its key usage"):
        signer_for(pki, not_for_signing)
    short = make_identity(pki.folder, "Kunci Pendek", key=rsa.generate_private_key(65537, 1024))
    with pytest.raises(SigningError, match="the RSA key has 1024 bits; use a key of at least 2048 bits"):
        signer_for(pki, short)


def test_signer_from_env(pki: Pki) -> None:
    environ = {"SPEECHGEN_SIGNING_PASSPHRASE": PASSPHRASE}
    assert signing.signer_from_env(pki.project, Path("publisher.pem"), environ, NOW) is None
    assert signing.signer_from_env(pki.project, Path("publisher.pem"), {"SPEECHGEN_SIGNING_KEY": " "}, NOW) is None
    environ["SPEECHGEN_SIGNING_KEY"] = str(pki.publisher.p12)
    signer = signing.signer_from_env(pki.project, Path("publisher.pem"), environ, NOW)
    assert signer is not None and signer.subject == "Sekretariat Uji"
    assert "key=" not in repr(signer)                    # the private key is never printed


# --- fingerprints ---------------------------------------------------------------------------------------------

def test_the_fingerprint_is_what_openssl_prints(pki: Pki, tmp_path: Path) -> None:
    (tmp_path / "publisher.pem").write_bytes(pki.publisher.pem)
    printed = subprocess.run(["openssl", "x509", "-noout", "-fingerprint", "-sha256", "-in", "publisher.pem"],
                             cwd=tmp_path, capture_output=True, text=True, check=True).stdout.strip()
    fingerprint = signing.certificate_fingerprint(pki.publisher.pem)
    assert printed.split("=", 1)[1].replace(":", "").lower() == fingerprint
    assert signing.certificate_fingerprint(pki.publisher.certificate.public_bytes(serialization.Encoding.DER)) \
        == fingerprint
    assert signing.parse_fingerprint(printed) == fingerprint
    grouped = signing.fingerprint_for_print(fingerprint)
    assert re.fullmatch(r"([0-9A-F]{4} ){15}[0-9A-F]{4}", grouped)
    assert signing.parse_fingerprint(grouped) == fingerprint
    with pytest.raises(SigningError, match="is not a SHA-256 fingerprint: it needs 64 hexadecimal digits"):
        signing.parse_fingerprint(fingerprint[:40])
    with pytest.raises(SigningError, match="not a certificate"):
        signing.certificate_fingerprint(b"nothing")


# --- sample keys and `speechgen keys new` -------------------------------------------------------------------------

def test_sample_keys_are_marked_open_with_the_passphrase_and_sign(tmp_path: Path, pdf: bytes) -> None:
    cert_path, key_path = signing.new_sample_keys(tmp_path / "keys", "Sekretariat Negara", PASSPHRASE, 30)
    assert (cert_path.name, key_path.name) == ("publisher.pem", "publisher-key.p12")
    assert key_path.stat().st_mode & 0o777 == 0o600
    certificate = x509.load_pem_x509_certificate(cert_path.read_bytes())
    assert certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "Sekretariat Negara (SAMPLE)"
    assert certificate.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == \
        "SAMPLE – not a real publisher"
    assert certificate.issuer == certificate.subject and certificate.public_key().key_size == 3072
    usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and usage.content_commitment and not usage.key_cert_sign
    days = certificate.not_valid_after_utc - certificate.not_valid_before_utc
    assert timedelta(days=30) <= days <= timedelta(days=30, minutes=10)
    opened = subprocess.run(["openssl", "pkcs12", "-in", str(key_path), "-passin", "env:PW", "-noout"],
                            env={**os.environ, "PW": PASSPHRASE}, capture_output=True, text=True)
    assert opened.returncode == 0, opened.stderr
    wrong = subprocess.run(["openssl", "pkcs12", "-in", str(key_path), "-passin", "pass:salah", "-noout"],
                           capture_output=True, text=True)
    assert wrong.returncode != 0
    project = tmp_path / "project"
    project.mkdir()
    shutil.copy(cert_path, project / "publisher.pem")
    signer = signing.load_signer(project, Path("publisher.pem"), key_path, PASSPHRASE, datetime.now(UTC))
    data = signing.sign_pdf(pdf, signer, datetime.now(UTC))
    assert validate(data, cert_path.read_bytes()).trusted
    report = signing.check_pdf_signature(data, certificate=cert_path.read_bytes())
    assert report.ok and report.sample and report.signer == "Sekretariat Negara (SAMPLE)"


def test_sample_keys_are_never_made_inside_a_project_or_over_files(tmp_path: Path) -> None:
    project = copy_project(tmp_path / "project")
    with pytest.raises(SigningError) as error:
        signing.new_sample_keys(project / "deep/keys", "Uji", PASSPHRASE, 30)
    assert f"is inside the speechgen project {project.resolve()}; the private key must never be in a project" \
        in str(error.value)
    assert not (project / "deep").exists()
    signing.new_sample_keys(tmp_path / "keys", "Uji", PASSPHRASE, 30)
    before = (tmp_path / "keys/publisher-key.p12").read_bytes()
    with pytest.raises(SigningError, match="publisher.pem: exists already; nothing was written"):
        signing.new_sample_keys(tmp_path / "keys", "Uji", PASSPHRASE, 30)
    assert (tmp_path / "keys/publisher-key.p12").read_bytes() == before
    with pytest.raises(SigningError, match="the passphrase is empty"):
        signing.new_sample_keys(tmp_path / "other", "Uji", "", 30)


def test_keys_new_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPEECHGEN_SIGNING_PASSPHRASE", PASSPHRASE)
    result = CliRunner().invoke(main, ["keys", "new", "--out", str(tmp_path / "keys"), "--name", "Setneg"])
    assert result.exit_code == 0, result.output
    assert "SAMPLE" in result.output and "not a real publisher" in result.output
    assert f"{tmp_path / 'keys/publisher.pem'}  sertifikat / certificate (public)" in result.output
    assert f"{tmp_path / 'keys/publisher-key.p12'}  kunci privat / private key" in result.output
    fingerprint = signing.certificate_fingerprint((tmp_path / "keys/publisher.pem").read_bytes())
    assert signing.fingerprint_for_print(fingerprint) in result.output
    help_text = CliRunner().invoke(main, ["keys", "new", "--help"]).output
    assert "SAMPLE" in help_text and "outside the project" in help_text and "--days" in help_text


def test_keys_new_refuses_a_project_folder_and_a_missing_passphrase(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    project = copy_project(tmp_path / "project")
    monkeypatch.setenv("SPEECHGEN_SIGNING_PASSPHRASE", PASSPHRASE)
    inside = CliRunner().invoke(main, ["keys", "new", "--out", str(project / "keys")])
    assert inside.exit_code == 1 and "the private key must never be in a project" in inside.output
    assert not (project / "keys").exists()
    monkeypatch.delenv("SPEECHGEN_SIGNING_PASSPHRASE")
    no_passphrase = CliRunner().invoke(main, ["keys", "new", "--out", str(tmp_path / "keys")])
    assert no_passphrase.exit_code == 1
    assert "no passphrase: set SPEECHGEN_SIGNING_PASSPHRASE, or run `speechgen keys new` in a terminal" \
        in no_passphrase.output
    assert not (tmp_path / "keys").exists()


def test_keys_new_asks_for_the_passphrase_on_a_terminal(tmp_path: Path) -> None:
    """On a terminal the passphrase is typed twice, not echoed, and protects the key."""
    import pty

    env = {k: v for k, v in os.environ.items() if k != "SPEECHGEN_SIGNING_PASSPHRASE"}
    env["PYTHONPATH"] = str(ROOT)
    out = tmp_path / "keys"
    pid, fd = pty.fork()
    if pid == 0:                                     # the child: speechgen on the terminal
        os.execve(sys.executable, [sys.executable, "-m", "speechgen", "keys", "new", "--out", str(out)], env)
    seen, answered, deadline = b"", 0, time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 1)
        if not ready:
            continue
        try:
            chunk = os.read(fd, 4096)
        except OSError:                              # the child closed the terminal
            break
        if not chunk:
            break
        seen += chunk
        if seen.count(b"passphrase") + seen.count(b"Repeat") > answered and answered < 2 \
                and seen.rstrip().endswith(b":"):
            os.write(fd, PASSPHRASE.encode() + b"\n")
            answered += 1
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    text = seen.decode(errors="replace")
    assert os.waitstatus_to_exitcode(status) == 0, text
    assert answered == 2 and PASSPHRASE not in text
    assert "SAMPLE" in text and (out / "publisher-key.p12").exists()
    project = tmp_path / "project"
    project.mkdir()
    shutil.copy(out / "publisher.pem", project / "publisher.pem")
    assert signing.load_signer(project, Path("publisher.pem"), out / "publisher-key.p12", PASSPHRASE,
                               datetime.now(UTC))


def test_signing_and_checking_work_inside_a_running_event_loop(pdf: bytes, signed: bytes, publisher, pki: Pki) -> None:
    """A notebook or a test that drives a browser runs an event loop in its thread."""
    async def inside():
        again = signing.sign_pdf(pdf, publisher, WHEN, reason="Edisi 1", location="Jakarta")
        report = signing.check_pdf_signature(again, certificate=pki.publisher.pem)
        p7s = signing.sign_manifest(b"{}\n", publisher)
        return again, report, signing.check_manifest_signature(b"{}\n", p7s, certificate=pki.publisher.pem)

    again, report, manifest = asyncio.run(inside())
    assert again == signed and report.ok and manifest.ok
