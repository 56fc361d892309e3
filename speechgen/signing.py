"""Signing what speechgen publishes, and checking those signatures offline.

The publisher's certificate is a public PEM file in the project (`[signing] certificate`); its
private key is a PKCS#12 file outside the project, named by `SPEECHGEN_SIGNING_KEY` and opened
with `SPEECHGEN_SIGNING_PASSPHRASE`. PDFs get a PAdES baseline B-B signature in an incremental
update that leaves every byte of the PDF/A file, its metadata included, as it was; the manifest
gets a detached CMS signature that `openssl cms -verify` checks. Both are reproducible: the same
bytes, key and signing time give the same signed bytes. With a time-stamping authority
(`[signing] timestamp_url`) editions are PAdES B-LTA and the manifest's signature carries a
timestamp; `renew_pdf` appends a fresh document timestamp to a released edition (`speechgen
renew`); renewal statements carry the publisher's certificates over time (`keys rollover`).
`verify` judges each signature at the time a trusted timestamp proves, else at the present.

Only this module imports pyHanko and cryptography; values in, bytes out, nothing written except
by `new_sample_keys` and `rollover`.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
import re
import warnings
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Mapping

from speechgen.config import Unreadable, read_capped
from speechgen.errors import SpeechgenError

KEY_ENV = "SPEECHGEN_SIGNING_KEY"
PASSPHRASE_ENV = "SPEECHGEN_SIGNING_PASSPHRASE"
CERTIFICATE_NAME = "publisher.pem"
KEY_NAME = "publisher-key.p12"
FIELD_NAME = "Penerbit"                  # the signature field readers list ("publisher")
SAMPLE_ORGANIZATION = "SAMPLE – not a real publisher"
DIGEST = "sha256"
MAX_CERTIFICATE_BYTES = 256 * 1024
MAX_KEY_BYTES = 1024 * 1024
MIN_RSA_BITS = 2048
PROJECT_MARKER = "speechgen.toml"

# pyHanko imports cryptography's DSA classes (which it offers, speechgen never uses) and cryptography
# warns of their deprecation on every import: a note for pyHanko's maintainers, not for an editor.
# Silenced only where pyHanko's own modules raise it; any other warning still shows.
warnings.filterwarnings("ignore", message="DSA is deprecated", module=r"pyhanko(\.|$)")


def _run(coroutine):
    """pyHanko's coroutine to its end: here, or in a thread of its own when this thread already
    runs an event loop (a notebook, a test driving a browser), where asyncio.run cannot."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


class SigningError(SpeechgenError):
    """A key, certificate or signature that cannot be used; the message says what to do."""


@dataclass(frozen=True, eq=False)
class Signer:
    """The publisher's certificate and the private key that matches it, ready to sign."""

    certificate: bytes                  # DER of the configured certificate
    chain: tuple[bytes, ...]            # DER of the other certificates in the PKCS#12 (CA chain)
    key: object = field(repr=False)     # a cryptography RSA or EC private key

    @property
    def fingerprint(self) -> str:
        return certificate_fingerprint(self.certificate)

    @property
    def subject(self) -> str:
        return _subject_text(_x509(self.certificate))

    @property
    def valid_from(self) -> datetime:
        return _x509(self.certificate).not_valid_before_utc

    @property
    def valid_until(self) -> datetime:
        return _x509(self.certificate).not_valid_after_utc


@dataclass(frozen=True)
class SignatureReport:
    """What an offline check of one signature found.

    For a PDF, `covers_whole_file` is False and `changed_after_signing` True when an incremental
    update follows the signature; for the manifest (a detached signature over the whole file)
    `covers_whole_file` is always True when signed.
    """

    signed: bool
    signer: str = ""                    # the certificate's common name (or whole subject)
    organization: str = ""              # its O, when it has one
    fingerprint: str = ""               # SHA-256 (hex) of the signer's certificate
    signed_at: datetime | None = None   # the time the signature states (/M); not a timestamp
    judged_at: datetime | None = None   # when the certificate was judged: a timestamp's time, else now
    timestamped: bool = False           # `judged_at` is a trusted timestamp's time (B-T or later)
    pinned: tuple[str, ...] = ()        # SHA-256 of the pinned certificate and/or the pinned fingerprint
    intact: bool = False                # the digest matches and the signature value verifies
    trusted: bool = False               # made with the pinned certificate (or one it issued)
    covers_whole_file: bool = False
    maintained: bool = False            # only validation data (/DSS, document timestamps) follows the signature
    signed_bytes: int = 0               # the length of the signed revision: the file as it was signed
    changed_after_signing: bool = False
    sample: bool = False                # signed with a sample certificate from `keys new`
    problems: tuple[str, ...] = ()      # why it is not intact, trusted or whole, in words
    notes: tuple[str, ...] = ()         # what else a reader should know (a timestamp that proves nothing here)

    @property
    def ok(self) -> bool:
        return self.signed and self.intact and self.trusted and (self.covers_whole_file or self.maintained)


# --- certificates ---------------------------------------------------------------------------------

def _x509(der: bytes):
    from cryptography import x509

    return x509.load_der_x509_certificate(der)


def _der_certificates(data: bytes) -> list[bytes]:
    """Every certificate in PEM text, or the one certificate of DER bytes; [] for anything else."""
    from cryptography import x509

    if b"-----BEGIN" in data:
        try:
            return [c.public_bytes(_encoding("DER")) for c in x509.load_pem_x509_certificates(data)]
        except ValueError:
            return []
    try:
        return [x509.load_der_x509_certificate(data).public_bytes(_encoding("DER"))]
    except ValueError:
        return []


def certificates_in(data: bytes) -> int:
    """How many certificates PEM text or DER bytes hold (0: none)."""
    return len(_der_certificates(data))


def _encoding(name: str):
    from cryptography.hazmat.primitives import serialization

    return getattr(serialization.Encoding, name)


def certificate_fingerprint(pem_or_der: bytes) -> str:
    """The SHA-256 of a certificate's DER bytes, as 64 lowercase hex digits (what
    `openssl x509 -noout -fingerprint -sha256` prints, without the colons)."""
    found = _der_certificates(pem_or_der)
    if not found:
        raise SigningError("not a certificate (PEM or DER); give the publisher's certificate file")
    return hashlib.sha256(found[0]).hexdigest()


def pem(der: bytes) -> bytes:
    """A certificate's DER bytes as the PEM text the site publishes (`publisher.pem`)."""
    import base64

    body = base64.b64encode(der).decode("ascii")
    lines = [body[i:i + 64] for i in range(0, len(body), 64)]
    return ("-----BEGIN CERTIFICATE-----\n" + "\n".join(lines) + "\n-----END CERTIFICATE-----\n").encode("ascii")


def fingerprint_for_print(fingerprint: str) -> str:
    """The whole fingerprint in 16 groups of 4 uppercase digits, for pages and cards:
    'AB12 CD34 … 9F0E'. All 256 bits: a shortened pin could be matched by a forged certificate."""
    digits = parse_fingerprint(fingerprint).upper()
    return " ".join(digits[i:i + 4] for i in range(0, 64, 4))


def parse_fingerprint(text: str) -> str:
    """A SHA-256 fingerprint as a person may type or paste it (any case, with colons or spaces,
    openssl's `sha256 Fingerprint=` prefix) -> 64 lowercase hex digits."""
    digits = re.sub(r"[\s:]", "", re.sub(r"(?i)^\s*(sha-?256\s*(fingerprint)?\s*[=:]?)", "", text)).lower()
    if not re.fullmatch(r"[0-9a-f]{64}", digits):
        raise SigningError(f"{text[:100]!r} is not a SHA-256 fingerprint: it needs 64 hexadecimal "
                           "digits, as `openssl x509 -noout -fingerprint -sha256 -in publisher.pem` prints")
    return digits


def _name_part(certificate, oid) -> str:
    values = certificate.subject.get_attributes_for_oid(oid)
    return str(values[0].value) if values else ""


def _subject_text(certificate) -> str:
    from cryptography.x509.oid import NameOID

    common = _name_part(certificate, NameOID.COMMON_NAME)
    organization = _name_part(certificate, NameOID.ORGANIZATION_NAME)
    if common and organization and organization != common:
        return f"{common} ({organization})"
    return common or organization or certificate.subject.rfc4514_string()


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _within_project(path: Path, project_root: Path) -> bool:
    """Whether `path` is in the project as written or once every link is followed."""
    written, root = Path(os.path.abspath(path)), Path(os.path.abspath(project_root))
    try:
        resolved, real_root = path.resolve(), project_root.resolve()
    except (OSError, RuntimeError):
        resolved, real_root = written, root
    return any(_inside(p, r) for p in (written, resolved) for r in (root, real_root))


def _read(path: Path, shown: str, limit: int, when_missing: str) -> bytes:
    """A certificate's or key's bytes (an ordinary file of at most `limit` bytes), or the reason
    it cannot be read as a SigningError naming it as the user wrote it."""
    try:
        return read_capped(path, limit)
    except Unreadable as exc:
        raise SigningError(f"{shown}: {exc}") from None
    except FileNotFoundError:
        raise SigningError(f"{shown}: not found; {when_missing}") from None
    except OSError as exc:
        raise SigningError(f"{shown}: cannot be read: {exc.strerror or exc}") from None


def read_certificate(project_root: Path, certificate: Path) -> bytes:
    """The DER bytes of the publisher's certificate: one PEM certificate in a file inside the
    project (`certificate` is relative to the project or absolute)."""
    path = certificate if certificate.is_absolute() else project_root / certificate
    shown = _shown(path, project_root)
    try:
        inside = _inside(path.resolve(), project_root.resolve())
    except (OSError, RuntimeError):     # a loop of links
        inside = False
    if not inside:
        raise SigningError(f"{shown}: the certificate must be a file inside the project (it is public "
                           "and published with the site); copy it into the project folder")
    data = _read(path, shown, MAX_CERTIFICATE_BYTES, f"make a sample with `speechgen keys new --out DIR` and "
                 f"copy its {CERTIFICATE_NAME} here, or put the publisher's certificate here")
    if b"PRIVATE KEY-----" in data or b"-----BEGIN ENCRYPTED" in data:
        raise SigningError(f"{shown}: holds a PRIVATE KEY; a private key must never be in the project. "
                           f"Move it out of the project now, give its PKCS#12 file with {KEY_ENV}, "
                           "and keep only the public certificate here")
    if b"-----BEGIN CERTIFICATE-----" not in data:
        hint = ("it is DER; convert it with `openssl x509 -inform DER -in FILE -out publisher.pem`"
                if _der_certificates(data) else "give the publisher's certificate as PEM text "
                "(-----BEGIN CERTIFICATE-----)")
        raise SigningError(f"{shown}: not a PEM certificate; {hint}")
    found = _der_certificates(data)
    if not found:
        raise SigningError(f"{shown}: the PEM certificate is damaged and cannot be read; export the "
                           "publisher's certificate again")
    if len(found) > 1:
        raise SigningError(f"{shown}: holds {len(found)} certificates; keep only the publisher's own "
                           "certificate in it (CA certificates come from the PKCS#12 key file)")
    return found[0]


def read_trust(project_root: Path, certificate: str) -> tuple[bytes, ...]:
    """`[signing] tsa_certificate`: the root certificate(s) of a time-stamping authority that is
    not under the publisher's certification authority, a PEM file inside the project; () when
    not set."""
    if not certificate:
        return ()
    path = Path(certificate) if Path(certificate).is_absolute() else project_root / certificate
    shown = _shown(path, project_root)
    data = _read(path, shown, MAX_CERTIFICATE_BYTES, "give the root certificate of the time-stamping "
                 "authority ([signing] tsa_certificate)")
    if b"PRIVATE KEY-----" in data or not _der_certificates(data):
        raise SigningError(f"{shown}: [signing] tsa_certificate is not a certificate (PEM); give the root "
                           "certificate of the time-stamping authority")
    return (data,)


def _shown(path: Path, project_root: Path) -> str:
    """A path as written: relative to the project when it is in it (links not followed)."""
    absolute = Path(os.path.abspath(path))
    try:
        return absolute.relative_to(os.path.abspath(project_root)).as_posix()
    except ValueError:
        return str(absolute)


# --- the key ----------------------------------------------------------------------------------------

def load_signer(project_root: Path, certificate: Path, key_path: Path | None, passphrase: str | None,
                now: datetime) -> Signer:
    """The publisher's certificate (in the project) with its private key (a PKCS#12 file outside
    the project), checked: the key opens, matches the certificate, and the certificate is valid
    at `now`."""
    from cryptography.hazmat.primitives.serialization import pkcs12

    _check_time(now, "now")
    der = read_certificate(project_root, certificate)
    shown_certificate = _shown(certificate if certificate.is_absolute() else project_root / certificate,
                               project_root)
    publisher = _x509(der)
    _check_usable(publisher, shown_certificate)
    if key_path is None:
        raise SigningError(f"{KEY_ENV} is not set: give the path of the publisher's PKCS#12 key file "
                           "(outside the project)")
    shown_key = str(Path(os.path.abspath(key_path)))
    if _within_project(key_path, project_root):
        raise SigningError(f"{shown_key}: the private key is inside the project folder, where it could be "
                           "committed or published; move it out of the project and set "
                           f"{KEY_ENV} to its new path")
    data = _read(key_path, shown_key, MAX_KEY_BYTES,
                 f"set {KEY_ENV} to the path of the publisher's PKCS#12 (.p12) key file")
    try:
        bundle = pkcs12.load_pkcs12(data, passphrase.encode("utf-8") if passphrase is not None else None)
    except (ValueError, TypeError):
        if not _is_pkcs12(data):
            raise SigningError(f"{shown_key}: not a PKCS#12 (.p12/.pfx) file; export the key with its "
                               "certificate as PKCS#12, e.g. `openssl pkcs12 -export -inkey key.pem -in "
                               "publisher.pem -out publisher-key.p12`") from None
        if passphrase is None:
            raise SigningError(f"{shown_key}: the key file is protected by a passphrase; set "
                               f"{PASSPHRASE_ENV}") from None
        raise SigningError(f"{shown_key}: wrong passphrase (the key file does not open with "
                           f"{PASSPHRASE_ENV}); set the passphrase it was made with") from None
    except Exception as exc:            # an algorithm this cryptography build lacks, and the like
        raise SigningError(f"{shown_key}: cannot be opened: {exc}; export it again as PKCS#12 "
                           "with AES encryption") from None
    if bundle.key is None:
        raise SigningError(f"{shown_key}: the PKCS#12 file holds no private key (only certificates); "
                           "export it again with the private key")
    _check_key(bundle.key, shown_key)
    if _public_der(bundle.key.public_key()) != _public_der(publisher.public_key()):
        raise SigningError(f"{shown_key}: the private key does not match the certificate "
                           f"{shown_certificate} ({_subject_text(publisher)}); use the key that "
                           "certificate was issued for, or configure that key's certificate")
    if now < publisher.not_valid_before_utc:
        raise SigningError(f"{shown_certificate}: the certificate is not valid yet: it is valid from "
                           f"{_when(publisher.not_valid_before_utc)}; check this machine's clock or "
                           "wait until then")
    if now > publisher.not_valid_after_utc:
        raise SigningError(f"{shown_certificate}: the certificate expired on "
                           f"{_when(publisher.not_valid_after_utc)}; renew it and configure the new one")
    chain = tuple(c.certificate.public_bytes(_encoding("DER")) for c in bundle.additional_certs)
    chain = tuple(c for c in chain if c != der)
    return Signer(certificate=der, chain=chain, key=bundle.key)


def signer_from_env(project_root: Path, certificate: Path, environ: Mapping[str, str],
                    now: datetime) -> Signer | None:
    """The signer named by SPEECHGEN_SIGNING_KEY and SPEECHGEN_SIGNING_PASSPHRASE, or None when
    no key is set (the build goes on unsigned)."""
    key = environ.get(KEY_ENV, "")
    if not key.strip():
        return None
    return load_signer(project_root, certificate, Path(key).expanduser(), environ.get(PASSPHRASE_ENV), now)


def _is_pkcs12(data: bytes) -> bool:
    from asn1crypto import pkcs12 as asn1_pkcs12

    try:
        pfx = asn1_pkcs12.Pfx.load(data, strict=True)
        return pfx["version"].native in ("v3", 3) and pfx["auth_safe"]["content_type"].native is not None
    except (ValueError, TypeError, KeyError):
        return False


def _public_der(public_key) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return public_key.public_bytes(serialization.Encoding.DER,
                                   serialization.PublicFormat.SubjectPublicKeyInfo)


def _check_key(key, shown: str) -> None:
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    if isinstance(key, rsa.RSAPrivateKey):
        if key.key_size < MIN_RSA_BITS:
            raise SigningError(f"{shown}: the RSA key has {key.key_size} bits; use a key of at least "
                               f"{MIN_RSA_BITS} bits")
    elif not isinstance(key, ec.EllipticCurvePrivateKey):
        raise SigningError(f"{shown}: the key is {type(key).__name__.removeprefix('_')}; speechgen signs "
                           "with RSA or EC (ECDSA) keys, which every PDF reader verifies")


def _check_usable(certificate, shown: str) -> None:
    """A certificate whose key usage forbids signing documents would make signatures no reader
    accepts: refused before anything is signed."""
    from cryptography import x509

    try:
        usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return
    if not (usage.digital_signature or usage.content_commitment):
        raise SigningError(f"{shown}: the certificate is not for signing (its key usage has neither "
                           "digitalSignature nor nonRepudiation); use a document-signing certificate")


def _check_time(moment: datetime, name: str) -> None:
    if not isinstance(moment, datetime) or moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be a datetime with a time zone, not {moment!r}")


def _when(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


# --- signing ------------------------------------------------------------------------------------------

def _pyhanko_signer(signer: Signer):
    """pyHanko's signer over our key, signing deterministically: RSA PKCS#1 v1.5 has no random
    part, and ECDSA uses RFC 6979 nonces (cryptography's deterministic_signing)."""
    from asn1crypto import x509 as asn1_x509
    from cryptography.hazmat.primitives.asymmetric import ec, padding
    from pyhanko.sign import signers
    from pyhanko.sign.general import get_pyca_cryptography_hash
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    class _Deterministic(signers.Signer):
        async def async_sign_raw(self, data: bytes, digest_algorithm: str, dry_run: bool = False) -> bytes:
            algorithm = get_pyca_cryptography_hash(digest_algorithm)
            key = signer.key
            if isinstance(key, ec.EllipticCurvePrivateKey):
                deterministic = {"deterministic_signing": True} if deterministic_ecdsa() else {}
                return key.sign(data, ec.ECDSA(algorithm, **deterministic))
            return key.sign(data, padding.PKCS1v15(), algorithm)

    store = SimpleCertificateStore()
    store.register_multiple([asn1_x509.Certificate.load(der) for der in signer.chain])
    return _Deterministic(signing_cert=asn1_x509.Certificate.load(signer.certificate), cert_registry=store)


def deterministic_ecdsa() -> bool:
    """Whether ECDSA signatures here use RFC 6979 nonces (cryptography 44 or later on OpenSSL
    3.2 or later). Without them an EC key still signs validly, but each signing gives other
    bytes; RSA signatures are deterministic everywhere."""
    try:
        from cryptography.hazmat.backends.openssl.backend import backend

        return bool(backend.ecdsa_deterministic_supported())
    except (ImportError, AttributeError):
        return False


def _incremental_writer(data: bytes, second_id: bytes):
    """pyHanko's incremental writer, made to leave the document's metadata alone and to give the
    update a document ID derived from its inputs rather than a random one.

    pyHanko otherwise rewrites the Info dictionary and the XMP packet (a Producer and ModDate of
    the moment of signing, which breaks PDF/A's rule that both agree, and reproducibility), and
    draws the second half of the trailer /ID from os.urandom."""
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    class _Update(IncrementalPdfFileWriter):
        def _update_meta(self) -> None:
            pass                        # the signature states its own time; the metadata stays

    writer = _Update(io.BytesIO(data))
    first = writer._document_id[0] if "/ID" in writer.prev.trailer else \
        generic.ByteStringObject(hashlib.sha256(b"id" + data).digest()[:16])
    writer._document_id = generic.ArrayObject([first, generic.ByteStringObject(second_id)])
    return writer


def _read_failure(exc: BaseException) -> bool:
    """Whether pyHanko failed on the bytes it was given (a damaged or hostile file), rather than
    on a fault of speechgen's; RecursionError is a file nested deeper than the parser goes."""
    from pyhanko.pdf_utils.misc import PdfError

    return isinstance(exc, (PdfError, ValueError, KeyError, TypeError, IndexError, AttributeError,
                            RecursionError, OverflowError, NotImplementedError))


def _reason(exc: BaseException) -> str:
    """A reading failure in a few words, on one line."""
    if isinstance(exc, RecursionError):
        return "objects nested too deeply"
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 200 else text[:200] + "…"


def sign_pdf(data: bytes, signer: Signer, when: datetime, *, reason: str = "", location: str = "",
             name: str = "PDF", timestamp_url: str = "", trust: tuple[bytes, ...] = ()) -> bytes:
    """`data` (a PDF/A file) with the publisher's PAdES baseline B-B signature, invisible, added
    as an incremental update: every byte of `data` stays, metadata included. `when` is the signing
    time the signature states (the edition's date); the same `data`, key and `when` give the same
    bytes. `name` names the PDF in messages.

    With `timestamp_url` (an RFC 3161 time-stamping authority), PAdES baseline B-LTA instead: the
    signature carries the TSA's timestamp over its value (B-T); a second update adds a /DSS with
    the certificates and the OCSP responses or CRLs of the signer's and the TSA's chains, fetched
    now (B-LT), and a document timestamp over all of it (B-LTA). The metadata still stays as it
    was; a timestamp is new each time, so such bytes are not reproducible. A TSA, OCSP responder
    or CRL that cannot be reached is a SigningError, and nothing is returned. `trust` (PEM or DER
    certificates: `[signing] tsa_certificate`) adds roots for a TSA whose root is not the
    publisher's."""
    from pyhanko.sign import signers
    from pyhanko.sign.fields import SigSeedSubFilter

    _check_time(when, "when")
    if not signer.valid_from <= when <= signer.valid_until:
        raise SigningError(f"{name}: cannot be signed with the time {when.isoformat()}: the certificate "
                           f"({signer.subject}) is valid only from {_when(signer.valid_from)} to "
                           f"{_when(signer.valid_until)}; sign with a time inside that period")
    second_id = hashlib.sha256(hashlib.sha256(data).digest() + signer.certificate
                               + when.isoformat().encode()).digest()[:16]
    try:
        writer = _incremental_writer(data, second_id)
        already = list(writer.prev.embedded_signatures)
    except Exception as exc:            # pyHanko's reader on bytes that are not a sound PDF
        if not _read_failure(exc):
            raise
        raise SigningError(f"{name}: not a PDF that can be signed ({exc}); render it again") from None
    if already:
        raise SigningError(f"{name}: is already signed; sign the PDF as it was rendered, once")
    metadata = signers.PdfSignatureMetadata(
        field_name=FIELD_NAME, md_algorithm=DIGEST, subfilter=SigSeedSubFilter.PADES,
        reason=reason or None, location=location or None)
    if timestamp_url:
        return _sign_lta(writer, metadata, signer, when, timestamp_url, name, trust)
    pdf_signer = signers.PdfSigner(metadata, _pyhanko_signer(signer))
    try:
        _invisible_field(writer)
        return _run(_sign_at(pdf_signer, writer, when))
    except Exception as exc:
        if not _read_failure(exc):
            raise
        raise SigningError(f"{name}: cannot be signed: {_reason(exc)}") from None


TIMESTAMP_FIELD = "CapWaktu"            # the document timestamp's field ("timestamp")
NETWORK_TIMEOUT = 20                    # seconds for each request to the TSA, OCSP responder, CRL
# An OCSP response fetched while signing is produced after the validation context was made (the
# TSA's is fetched after its timestamp came back): pyHanko's default tolerance of one second would
# call it "too recent".
FETCH_TOLERANCE = timedelta(minutes=5)


def _sign_lta(writer, metadata, signer: Signer, when: datetime, timestamp_url: str, name: str,
              trust: tuple[bytes, ...] = ()) -> bytes:
    """PAdES B-LTA (see `sign_pdf`): the signature with its timestamp, then one update holding the
    /DSS and a document timestamp. Every certificate in the signer's and the TSA's chains must
    have revocation data that can be fetched now, else nothing is signed."""
    from pyhanko.sign.general import SigningError as PyhankoSigningError
    from pyhanko.sign.timestamps.common_utils import TimestampRequestError
    from pyhanko_certvalidator.errors import PathBuildingError, PathValidationError, ValidationError

    try:
        return _run(_sign_lta_async(writer, metadata, signer, when, timestamp_url, trust))
    except (TimestampRequestError, OSError, TimeoutError) as exc:
        raise SigningError(f"{name}: cannot be signed: the time-stamping authority {timestamp_url} did not "
                           f"answer ({_reason(exc)}); check [signing] timestamp_url and the network, then "
                           "release again (otoritas cap waktu tidak menjawab)") from None
    except (PathBuildingError, PathValidationError, ValidationError, PyhankoSigningError) as exc:
        raise SigningError(f"{name}: cannot be signed with validation data: {_reason(exc)}. Every "
                           "certificate of the publisher's and the TSA's chains needs an OCSP responder or "
                           "CRL that answers now, and the PKCS#12 file must hold the intermediate and root "
                           "certificates; a TSA under another root needs that root as [signing] "
                           "tsa_certificate (data validasi tidak dapat diambil)") from None
    except Exception as exc:
        if not _read_failure(exc) and not type(exc).__module__.startswith(("aiohttp", "pyhanko")):
            raise
        raise SigningError(f"{name}: cannot be signed: {_reason(exc)}") from None


async def _sign_lta_async(writer, metadata, signer: Signer, when: datetime, timestamp_url: str,
                          trust: tuple[bytes, ...] = ()) -> bytes:
    import dataclasses

    from asn1crypto import x509 as asn1_x509
    from pyhanko.sign import signers
    from pyhanko.sign.timestamps import HTTPTimeStamper
    from pyhanko.sign.validation import DocumentSecurityStore
    from pyhanko_certvalidator import ValidationContext
    from pyhanko_certvalidator.fetchers.aiohttp_fetchers import AIOHttpFetcherBackend
    from pyhanko_certvalidator.fetchers.aiohttp_fetchers.util import LazySession

    session = LazySession()
    try:
        backend = AIOHttpFetcherBackend(session, per_request_timeout=NETWORK_TIMEOUT)
        timestamper = HTTPTimeStamper(timestamp_url, timeout=NETWORK_TIMEOUT, session=session)
        chain = [asn1_x509.Certificate.load(der) for der in signer.chain]
        roots = [c for c in chain if c.self_signed == "maybe" or c.self_signed == "yes"]
        own = asn1_x509.Certificate.load(signer.certificate)
        if own.self_signed in ("maybe", "yes"):
            roots.append(own)
        roots += [asn1_x509.Certificate.load(der) for given in trust for der in _der_certificates(given)]
        # Revocation data is required here: an archive must not freeze a signature whose
        # certificates cannot be checked (a TSA or OCSP responder that does not answer is an error).
        context = ValidationContext(trust_roots=roots, other_certs=chain, allow_fetching=True,
                                    revocation_mode="require", fetcher_backend=backend,
                                    time_tolerance=FETCH_TOLERANCE)
        metadata = dataclasses.replace(metadata, embed_validation_info=True, validation_context=context,
                                       use_pades_lta=False)
        pdf_signer = signers.PdfSigner(metadata, _pyhanko_signer(signer), timestamper=timestamper)
        _invisible_field(writer)
        signing = pdf_signer.init_signing_session(writer)
        signing.system_time = when
        validation = await signing.perform_presign_validation(writer)
        reserved = await signing.estimate_signature_container_size(validation, tight=False)
        document = signing.prepare_tbs_document(validation_info=validation, bytes_reserved=reserved)
        digest, output = document.digest_tbs_document()
        from pyhanko.sign.signers.pdf_cms import PdfCMSSignedAttributes

        await document.perform_signature(document_digest=digest.document_digest,
                                         pdf_cms_signed_attrs=PdfCMSSignedAttributes(signing_time=when))
        signed = output.getvalue()
        # The /DSS and the document timestamp, in one update that leaves the metadata alone.
        update = _incremental_writer(signed, hashlib.sha256(b"lta" + signed).digest()[:16])
        DocumentSecurityStore.supply_dss_in_writer(
            update, None, paths=validation.validation_paths, validation_context=context,
            ocsps=validation.ocsps_to_embed, crls=validation.crls_to_embed, embed_roots=True)
        stamped = await signers.PdfTimeStamper(timestamper, field_name=TIMESTAMP_FIELD).async_timestamp_pdf(
            update, DIGEST, validation_context=None)
        return stamped.getvalue()
    finally:
        await session.close()           # the TSA's and the fetchers' one HTTP session


def _invisible_field(writer) -> None:
    """The signature field, invisible (a zero rectangle, printable as PDF/A asks) and with an
    empty appearance stream: PDF/A-2 and -3 exempt a zero rectangle from needing one, but PDF/A-1
    validators (PDFBox Preflight) ask every widget for an appearance."""
    from pyhanko.pdf_utils import generic
    from pyhanko.sign.fields import SigFieldSpec, append_signature_field, enumerate_sig_fields

    append_signature_field(writer, SigFieldSpec(sig_field_name=FIELD_NAME))
    _, _, reference = next(enumerate_sig_fields(writer, with_name=FIELD_NAME))
    appearance = generic.StreamObject({
        generic.NameObject("/Type"): generic.NameObject("/XObject"),
        generic.NameObject("/Subtype"): generic.NameObject("/Form"),
        generic.NameObject("/BBox"): generic.ArrayObject([generic.NumberObject(0)] * 4),
    }, stream_data=b"")
    reference.get_object()[generic.NameObject("/AP")] = generic.DictionaryObject(
        {generic.NameObject("/N"): writer.add_object(appearance)})
    _tag_widget(writer, reference)


WIDGET_TEXT = "Tanda tangan penerbit / Publisher's signature"


def _tag_widget(writer, reference) -> None:
    """The signature widget as PDF/UA asks of a tagged file: a `/TU` (its name for assistive
    technology), a /Form structure element under the document's (an object reference to the
    widget, with the same words as /Alt), its /StructParent in the parent tree, and the page's
    tab order by structure. A file without a structure tree is left as it is."""
    from pyhanko.pdf_utils import generic

    widget = reference.get_object()
    widget[generic.NameObject("/TU")] = generic.TextStringObject(WIDGET_TEXT)
    root = writer.root
    if "/StructTreeRoot" not in root:
        return
    tree_ref = root.raw_get("/StructTreeRoot")
    tree = tree_ref.get_object()
    parent_tree = tree["/ParentTree"]
    if "/Nums" not in parent_tree:
        return                          # a parent tree with /Kids: not what WeasyPrint writes
    nums = parent_tree["/Nums"]
    keys = [int(nums[i]) for i in range(0, len(nums), 2)]
    key = int(tree.get("/ParentTreeNextKey", max(keys, default=-1) + 1))
    kids = tree["/K"]
    document_ref = kids.raw_get(0) if isinstance(kids, generic.ArrayObject) else tree.raw_get("/K")
    document = document_ref.get_object()
    page_ref = writer.find_page_for_modification(0)[0] if "/P" not in widget else widget.raw_get("/P")
    form = generic.DictionaryObject({
        generic.NameObject("/Type"): generic.NameObject("/StructElem"),
        generic.NameObject("/S"): generic.NameObject("/Form"),
        generic.NameObject("/P"): document_ref,
        generic.NameObject("/Pg"): page_ref,
        generic.NameObject("/Alt"): generic.TextStringObject(WIDGET_TEXT),
        generic.NameObject("/K"): generic.DictionaryObject({
            generic.NameObject("/Type"): generic.NameObject("/OBJR"),
            generic.NameObject("/Obj"): reference,
            generic.NameObject("/Pg"): page_ref}),
    })
    form_ref = writer.add_object(form)
    if not isinstance(document.get("/K"), generic.ArrayObject):
        document[generic.NameObject("/K")] = generic.ArrayObject(
            [document.raw_get("/K")] if "/K" in document else [])
    document["/K"].append(form_ref)
    widget[generic.NameObject("/StructParent")] = generic.NumberObject(key)
    nums.append(generic.NumberObject(key))
    nums.append(form_ref)
    tree[generic.NameObject("/ParentTreeNextKey")] = generic.NumberObject(key + 1)
    page = page_ref.get_object()
    page[generic.NameObject("/Tabs")] = generic.NameObject("/S")
    for changed in (document, parent_tree, tree, page):
        writer.update_container(changed)


@dataclass(frozen=True)
class LastTimestamp:
    """The most recent timestamp in a signed PDF: its time, and the certificate of the TSA that
    made it (which must outlive the evidence, or be covered by a later timestamp)."""

    at: datetime
    tsa: str                            # the TSA certificate's subject, in words
    tsa_until: datetime                 # when that certificate expires
    document: bool                      # a document timestamp (else the signature's own timestamp)


def last_timestamp(data: bytes) -> LastTimestamp | None:
    """The PDF's last timestamp: its last document timestamp, else its signature's timestamp;
    None for a PDF with neither (unsigned, or PAdES B-B). SigningError for bytes that are not a
    PDF pyHanko can read."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation.generic_cms import extract_certificate_info, extract_tst_data_iter

    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        stamps = list(reader.embedded_timestamp_signatures)
        token, document = (stamps[-1].signed_data, True) if stamps else (None, False)
        if token is None:
            regular = list(reader.embedded_regular_signatures)
            tokens = list(extract_tst_data_iter(regular[0].signer_info, signed=False)) if regular else []
            if not tokens:
                return None
            token = tokens[-1]
        from asn1crypto import tsp

        tst = token["encap_content_info"]["content"].parsed
        if not isinstance(tst, tsp.TSTInfo):
            tst = tsp.TSTInfo.load(bytes(token["encap_content_info"]["content"]))
        certificate = _x509(extract_certificate_info(token).signer_cert.dump())
    except Exception as exc:
        if not _read_failure(exc):
            raise
        raise SigningError(f"not a PDF whose timestamps can be read ({_reason(exc)})") from None
    return LastTimestamp(tst["gen_time"].native, _subject_text(certificate), certificate.not_valid_after_utc,
                         document)


def renewal_field(reader) -> str:
    """The name of the next document timestamp's field, one the PDF (a pyHanko reader) does not
    have yet: CapWaktu, CapWaktu-2, CapWaktu-3, ..."""
    from pyhanko.sign.fields import enumerate_sig_fields

    names = {name for name, _, _ in enumerate_sig_fields(reader)}
    number = 1
    while (TIMESTAMP_FIELD if number == 1 else f"{TIMESTAMP_FIELD}-{number}") in names:
        number += 1
    return TIMESTAMP_FIELD if number == 1 else f"{TIMESTAMP_FIELD}-{number}"


def maintenance_only(old: bytes, data: bytes) -> bool:
    """True when `data` is `old` (a signed PDF) followed only by the updates `renew_pdf` appends:
    validation data (/DSS) and document timestamps, at least one, as pyHanko's difference analysis
    judges the updates after `old`'s last signature (ETSI EN 319 142-1 "LTA updates"). False for
    anything else: other bytes first, another kind of change, a new signature of approval, or
    bytes pyHanko cannot read. How `speechgen renew` knows its own renewal, interrupted."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.diff_analysis import DEFAULT_DIFF_POLICY, ModificationLevel
    from pyhanko.sign.validation.pdf_embedded import SuspiciousModification

    if len(data) <= len(old) or not data.startswith(old):
        return False
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        signatures = list(reader.embedded_signatures)

        def end(signature) -> int:
            *_, second, length = (int(n) for n in signature.sig_object["/ByteRange"])
            return second + length

        before = [s for s in signatures if end(s) <= len(old)]
        after = [s for s in signatures if end(s) > len(old)]
        if not before or not after or any(s.sig_object.get("/Type") != "/DocTimeStamp" for s in after):
            return False
        last = max(before, key=end)
        try:
            last.compute_integrity_info(DEFAULT_DIFF_POLICY)
        except SuspiciousModification:       # raised as well as returned, by the rule that sees it
            return False
        result = last.diff_result
        if result is None or isinstance(result, SuspiciousModification):
            return False
        return result.modification_level.value <= ModificationLevel.LTA_UPDATES.value
    except Exception as exc:
        if not _read_failure(exc):
            raise
        return False


def renew_pdf(data: bytes, timestamp_url: str, *, name: str = "PDF", trust: tuple[bytes, ...] = ()) -> bytes:
    """`data` (a released edition, signed with a timestamp) with one incremental update: a /DSS
    holding the certificates and the OCSP responses or CRLs, fetched now, of the chain of the TSA
    that made its last timestamp and of the TSA at `timestamp_url`, then a fresh document
    timestamp over all of it (PAdES archival timestamp renewal, ETSI EN 319 142-1 B-LTA). Every
    byte of `data` stays: it is the new bytes' prefix; the metadata is left as it was.

    The TSAs' chains must end at a root the file's /DSS or the timestamps carry, or one of
    `trust` (DER or PEM certificates). A TSA, OCSP responder or CRL that does not answer is a
    SigningError, and nothing is returned."""
    from pyhanko.sign.general import SigningError as PyhankoSigningError
    from pyhanko.sign.timestamps.common_utils import TimestampRequestError
    from pyhanko_certvalidator.errors import PathBuildingError, PathValidationError, ValidationError

    if last_timestamp(data) is None:
        raise SigningError(f"{name}: carries no timestamp to renew (PAdES B-B or unsigned)")
    try:
        return _run(_renew_async(data, timestamp_url, trust))
    except (TimestampRequestError, OSError, TimeoutError) as exc:
        raise SigningError(f"{name}: cannot be renewed: the time-stamping authority {timestamp_url} did not "
                           f"answer ({_reason(exc)}); check [signing] timestamp_url and the network, then "
                           "run `speechgen renew` again; nothing was changed (otoritas cap waktu tidak "
                           "menjawab)") from None
    except (PathBuildingError, PathValidationError, ValidationError) as exc:
        raise SigningError(f"{name}: cannot be renewed with validation data: {_reason(exc)}. The chains of "
                           "the TSA that made the last timestamp and of the TSA at [signing] timestamp_url "
                           "need an OCSP responder or CRL that answers now, and a root the file or "
                           "[signing] tsa_certificate gives; nothing was changed (data validasi tidak dapat "
                           "diambil)") from None
    except PyhankoSigningError as exc:
        raise SigningError(f"{name}: cannot be renewed: {_reason(exc)}; nothing was changed") from None
    except SigningError:
        raise
    except Exception as exc:
        if not _read_failure(exc) and not type(exc).__module__.startswith(("aiohttp", "pyhanko")):
            raise
        raise SigningError(f"{name}: cannot be renewed: {_reason(exc)}; nothing was changed") from None


async def _renew_async(data: bytes, timestamp_url: str, trust: tuple[bytes, ...]) -> bytes:
    from asn1crypto import x509 as asn1_x509
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign import signers
    from pyhanko.sign.signers.pdf_signer import TimestampDSSContentSettings
    from pyhanko.sign.timestamps import HTTPTimeStamper
    from pyhanko.sign.validation import DocumentSecurityStore
    from pyhanko.sign.validation.generic_cms import extract_tst_data_iter
    from pyhanko_certvalidator import CertificateValidator, ValidationContext
    from pyhanko_certvalidator.fetchers.aiohttp_fetchers import AIOHttpFetcherBackend
    from pyhanko_certvalidator.fetchers.aiohttp_fetchers.util import LazySession

    reader = PdfFileReader(io.BytesIO(data), strict=False)
    stamps = list(reader.embedded_timestamp_signatures)
    if stamps:
        token = stamps[-1].signed_data
    else:
        token = list(extract_tst_data_iter(reader.embedded_regular_signatures[0].signer_info, signed=False))[-1]
    # Certificates the file already carries (the /DSS, the last token) to build the TSAs' paths
    # with; the self-signed ones among them, and those given, are the roots.
    known = [c.chosen for c in token["certificates"] if c.name == "certificate"]
    try:
        dss = DocumentSecurityStore.read_dss(reader)
        known += list(dss.load_certs())
    except Exception as exc:            # no /DSS yet: only the token's certificates
        if not _read_failure(exc) and type(exc).__name__ != "NoDSSFoundError":
            raise
    known += [asn1_x509.Certificate.load(der) for given in trust for der in _der_certificates(given)]
    roots = [c for c in known if c.self_signed in ("maybe", "yes")]
    tsa_cert = _tst_signer(token)
    session = LazySession()
    try:
        backend = AIOHttpFetcherBackend(session, per_request_timeout=NETWORK_TIMEOUT)
        context = ValidationContext(trust_roots=roots, other_certs=known, allow_fetching=True,
                                    revocation_mode="require", fetcher_backend=backend,
                                    time_tolerance=FETCH_TOLERANCE)
        path = await CertificateValidator(tsa_cert, validation_context=context).async_validate_usage(
            set(), {"time_stamping"})
        timestamper = HTTPTimeStamper(timestamp_url, timeout=NETWORK_TIMEOUT, session=session)
        update = _incremental_writer(data, hashlib.sha256(b"renew" + data).digest()[:16])
        DocumentSecurityStore.supply_dss_in_writer(update, None, paths=(path,), validation_context=context,
                                                   embed_roots=True)
        stamped = await signers.PdfTimeStamper(timestamper, field_name=renewal_field(reader)).async_timestamp_pdf(
            update, DIGEST, validation_context=context,
            dss_settings=TimestampDSSContentSettings(update_before_ts=True, include_vri=False))
        return stamped.getvalue()
    finally:
        await session.close()


def _tst_signer(token):
    from pyhanko.sign.validation.generic_cms import extract_certificate_info

    return extract_certificate_info(token).signer_cert


async def _sign_at(pdf_signer, writer, when: datetime) -> bytes:
    """pyHanko's PdfSigner.async_sign_pdf, with the signing time set to `when` instead of the
    clock (the session takes it from datetime.now())."""
    from pyhanko.sign.signers.pdf_cms import PdfCMSSignedAttributes

    session = pdf_signer.init_signing_session(writer)
    session.system_time = when
    validation = await session.perform_presign_validation(writer)      # None: no validation context
    reserved = await session.estimate_signature_container_size(validation, tight=False)
    document = session.prepare_tbs_document(validation_info=validation, bytes_reserved=reserved)
    digest, output = document.digest_tbs_document()
    signed = await document.perform_signature(document_digest=digest.document_digest,
                                              pdf_cms_signed_attrs=PdfCMSSignedAttributes(signing_time=when))
    await signed.post_signature_processing(output)
    return output.getvalue()


def sign_manifest(data: bytes, signer: Signer, *, timestamp_url: str = "", previous: bytes | None = None,
                  renewals: tuple[bytes, ...] = ()) -> bytes:
    """A detached CMS signature (DER) over `data`, for `manifest.json.p7s`. Its signed attributes
    are the content type, the digest, the signer's certificate (ESS signing-certificate-v2) and
    the algorithms (RFC 6211); no signing time, so the same manifest gives the same bytes. Check
    it with:

        openssl cms -verify -binary -inform DER -in manifest.json.p7s -content manifest.json \\
            -CAfile publisher.pem -purpose any -out /dev/null

    With `timestamp_url` (RFC 3161), the signature also carries the TSA's timestamp over its value
    (an unsigned signature-time-stamp attribute), which proves when the manifest was signed. A
    timestamp is new each time, so `previous` (the signature the last build wrote) is given back
    as it is when it already signs these bytes, with this certificate, carries an intact
    timestamp and the same renewals: a build whose manifest did not change contacts no TSA and
    changes no byte. A TSA that does not answer is a SigningError.

    `renewals` are the project's renewal statements (`keys rollover`), each signed by the
    certificate it renews: they travel in an unsigned attribute (they prove themselves), and
    every certificate they name joins the signature's certificates, so the signature lists the
    publisher's certificates over time."""
    renewals = tuple(renewals)
    if timestamp_url and previous is not None and _reusable(previous, data, signer) \
            and renewals_in(previous) == list(renewals):
        return previous
    signed = _sign_cms(data, signer, timestamp_url, detached=True, what="the manifest")
    return _with_renewals(signed, renewals) if renewals else signed


def _sign_cms(data: bytes, signer: Signer, timestamp_url: str, *, detached: bool, what: str) -> bytes:
    """A CMS signature over `data` (detached, or carrying it), with the TSA's signature timestamp
    when `timestamp_url` is given."""
    from pyhanko.sign.timestamps.common_utils import TimestampRequestError

    async def sign() -> bytes:
        from pyhanko.sign.timestamps import HTTPTimeStamper
        from pyhanko_certvalidator.fetchers.aiohttp_fetchers.util import LazySession

        if not timestamp_url:
            return (await _pyhanko_signer(signer).async_sign_general_data(data, DIGEST, detached=detached)).dump()
        session = LazySession()
        try:
            timestamper = HTTPTimeStamper(timestamp_url, timeout=NETWORK_TIMEOUT, session=session)
            signed = await _pyhanko_signer(signer).async_sign_general_data(data, DIGEST, detached=detached,
                                                                            timestamper=timestamper)
            return signed.dump()
        finally:
            await session.close()

    try:
        return _run(sign())
    except (TimestampRequestError, OSError, TimeoutError) as exc:
        raise SigningError(f"{what} cannot be signed: the time-stamping authority {timestamp_url} did not "
                           f"answer ({_reason(exc)}); check [signing] timestamp_url and the network, then "
                           "try again; nothing was changed (otoritas cap waktu tidak menjawab)") from None
    except Exception as exc:
        if not _read_failure(exc) and not type(exc).__module__.startswith(("aiohttp", "pyhanko")):
            raise
        raise SigningError(f"{what} cannot be signed: {_reason(exc)}") from None


def read_previous(path: Path) -> bytes | None:
    """The manifest signature a previous build left at `path`, if there is one (any problem: None,
    and the manifest is signed afresh)."""
    try:
        if path.is_symlink() or not path.is_file():
            return None
        data = path.read_bytes() if path.stat().st_size <= MAX_KEY_BYTES else None
    except OSError:
        return None
    return data


def _reusable(previous: bytes, data: bytes, signer: Signer) -> bool:
    """Whether `previous` is this signer's intact detached signature over `data`, carrying an
    intact signature timestamp (whoever judges it later judges the TSA)."""
    from asn1crypto import cms
    from pyhanko.sign.general import extract_signer_info
    from pyhanko.sign.validation.generic_cms import (async_validate_detached_cms, extract_certificate_info,
                                                     extract_tst_data_iter, message_imprint_checker,
                                                     validate_tst_signed_data)
    from pyhanko_certvalidator import ValidationContext

    _quiet()
    try:
        signed_data = cms.ContentInfo.load(previous, strict=True)["content"]
        info = extract_signer_info(signed_data)
        if extract_certificate_info(signed_data).signer_cert.dump() != signer.certificate:
            return False
        digests = [a["values"][0].native for a in info["signed_attrs"] if a["type"].native == "message_digest"]
        if digests != [hashlib.sha256(data).digest()]:
            return False
        tokens = list(extract_tst_data_iter(info, signed=False))
        if len(tokens) != 1:
            return False
        nobody = ValidationContext(trust_roots=[], allow_fetching=False)
        stamp = _run(validate_tst_signed_data(tokens[0], nobody, message_imprint_checker(info)))
        status = _run(async_validate_detached_cms(data, signed_data, signer_validation_context=nobody))
        return bool(stamp["intact"] and stamp["valid"] and status.intact and status.valid)
    except Exception as exc:
        if not _read_failure(exc):
            raise
        return False


# --- checking ------------------------------------------------------------------------------------------

def _pins(certificate: bytes | None, fingerprint: str | None) -> tuple[bytes | None, str | None]:
    pinned = None
    if certificate is not None:
        found = _der_certificates(certificate)
        if not found:
            raise SigningError("the pinned certificate is not a certificate (PEM or DER); give the "
                               f"publisher's {CERTIFICATE_NAME} or the certification authority's certificate")
        pinned = found[0]
    return pinned, parse_fingerprint(fingerprint) if fingerprint is not None else None


def _pinned_fingerprints(pinned: bytes | None, fingerprint: str | None) -> tuple[str, ...]:
    return tuple(dict.fromkeys([*([hashlib.sha256(pinned).hexdigest()] if pinned else []),
                                *([fingerprint] if fingerprint else [])]))


def _pin_problems(signer_der: bytes, pinned: bytes | None, fingerprint: str | None, at: datetime,
                  proven: bool) -> list[str]:
    """What speaks against the signer before pyHanko validates: no pin, a signer's certificate
    without the pinned fingerprint, and a certificate not valid at `at` (checked here: a
    self-signed certificate is its own trust anchor, whose dates path validation does not look
    at). `proven`: `at` is a trusted timestamp's time; else it is the present, since the time a
    signature states (/M) is only the signer's word."""
    problems = []
    if pinned is None and fingerprint is None:
        problems.append("no certificate pinned: give the publisher's certificate (or its certification "
                        "authority's) or its SHA-256 fingerprint to check who signed")
    if fingerprint is not None:
        actual = hashlib.sha256(signer_der).hexdigest()
        if actual != fingerprint:
            problems.append(f"signed with the certificate {fingerprint_for_print(actual)}, not the "
                            f"pinned {fingerprint_for_print(fingerprint)}")
    certificate = _x509(signer_der)
    valid = f"{_when(certificate.not_valid_before_utc)} to {_when(certificate.not_valid_after_utc)}"
    if not certificate.not_valid_before_utc <= at <= certificate.not_valid_after_utc:
        if proven:
            problems.append(f"the signer's certificate was not valid at {_when(at)}, the time the "
                            f"timestamp proves (it is valid from {valid})")
        else:
            problems.append(f"the signer's certificate is not valid now ({_when(at)}; it is valid from "
                            f"{valid}) and no timestamp proves when it signed: the time the signature "
                            "states is only the signer's word (tanpa cap waktu, waktu tanda tangan "
                            "tidak terbukti)")
    return problems


def _context(signer_der: bytes, pinned: bytes | None, fingerprint: str | None, at: datetime,
             problems: list[str], **more):
    """pyHanko's validation context trusting only the pin (nothing when a problem was found),
    judging at `at`, fetching nothing."""
    from asn1crypto import x509 as asn1_x509
    from pyhanko_certvalidator import ValidationContext

    roots = []
    if not problems:
        if fingerprint is not None:
            roots.append(asn1_x509.Certificate.load(signer_der))
        if pinned is not None:
            roots.append(asn1_x509.Certificate.load(pinned))
    return ValidationContext(trust_roots=roots, allow_fetching=False, moment=at,
                             revocation_mode="soft-fail", **more)


def _usage():
    from pyhanko.sign.validation.settings import KeyUsageConstraints

    return KeyUsageConstraints(key_usage={"digital_signature", "non_repudiation"},
                               match_all_key_usages=False)


def _quiet() -> None:
    """pyHanko logs every failed path as a warning with its traceback; with no logging set up
    Python would print those to the terminal. What they say is in the report."""
    import logging

    for name in ("pyhanko", "pyhanko_certvalidator"):
        logger = logging.getLogger(name)
        if not any(isinstance(h, logging.NullHandler) for h in logger.handlers):
            logger.addHandler(logging.NullHandler())


def _status_problems(status, pin_problems: list[str]) -> list[str]:
    if not status.intact:
        return ["the signed bytes were changed: the digest does not match"]
    if not status.valid:
        return ["the signature value does not verify with the signer's certificate"]
    problems = list(pin_problems)
    if not problems and not status.trusted:
        if status.validation_path is None:
            problems.append("not trusted: not made with the pinned certificate")
        else:
            indication = getattr(status.trust_problem_indic, "name", "") or "unknown problem"
            problems.append(f"not trusted: {_indication_words(indication)}")
    return problems


def _indication_words(indication: str) -> str:
    words = {"REVOKED": "the certificate is revoked",
             "REVOKED_NO_POE": "the certificate is revoked",
             "CHAIN_CONSTRAINTS_FAILURE": "the certificate is not allowed to sign documents",
             "SIG_CONSTRAINTS_FAILURE": "the certificate is not allowed to sign documents",
             "NO_CERTIFICATE_CHAIN_FOUND": "not made with the pinned certificate",
             "OUT_OF_BOUNDS_NO_POE": "the certificate had expired and nothing proves the signature is older",
             "REVOCATION_OUT_OF_BOUNDS_NO_POE": "the revocation data is too old or missing",
             "TRY_LATER": "no revocation data for a certificate in the chain"}
    return words.get(indication, indication.replace("_", " ").lower())


def is_sample(der: bytes) -> bool:
    """A certificate `speechgen keys new` made for trying signing (its organisation says SAMPLE)."""
    from cryptography.x509.oid import NameOID

    try:
        return _name_part(_x509(der), NameOID.ORGANIZATION_NAME) == SAMPLE_ORGANIZATION
    except ValueError:
        return False


def _report_signer(der: bytes) -> dict:
    from cryptography.x509.oid import NameOID

    certificate = _x509(der)
    organization = _name_part(certificate, NameOID.ORGANIZATION_NAME)
    return {"signer": _name_part(certificate, NameOID.COMMON_NAME) or certificate.subject.rfc4514_string(),
            "organization": organization, "fingerprint": hashlib.sha256(der).hexdigest(),
            "sample": organization == SAMPLE_ORGANIZATION}


def check_pdf_signature(data: bytes, *, certificate: bytes | None = None, fingerprint: str | None = None,
                        now: datetime | None = None, tsa_roots: tuple[bytes, ...] = ()) -> SignatureReport:
    """The publisher's signature in a PDF, checked offline with pyHanko's validator: the pinned
    certificate (PEM or DER; the publisher's own or the certification authority's that issued it)
    is the only trust root, or the signer's certificate must have the pinned SHA-256 fingerprint
    (both when both are given). The certificate is judged at the time a trusted timestamp proves,
    else at `now` (the present): never at the time the signature merely states. The first
    signature is the publisher's; every other signature in the file is looked at too, and
    anything added after it, another signature included, shows as `changed_after_signing`.
    `tsa_roots` (PEM or DER) are trusted for timestamps only: the root of a TSA that is not the
    publisher's certification authority; never for the signer."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.diff_analysis import ModificationLevel
    from pyhanko.sign.validation import async_validate_pdf_signature
    from pyhanko.sign.validation.status import SignatureCoverageLevel

    _quiet()
    now = now or datetime.now(timezone.utc)
    _check_time(now, "now")
    pinned, fingerprint = _pins(certificate, fingerprint)
    pins = _pinned_fingerprints(pinned, fingerprint)
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        every = list(reader.embedded_signatures)
        regular = [s for s in every if s.sig_object_type == "/Sig"]
    except Exception as exc:            # pyHanko's reader on bytes that are not a sound PDF
        if not _read_failure(exc):
            raise
        raise SigningError(f"not a PDF that can be read ({_reason(exc)})") from None
    if not regular:
        return SignatureReport(signed=False, pinned=pins, problems=("the PDF is not signed",))
    embedded = regular[0]
    try:
        signer_der = embedded.signer_cert.dump()
        signed_at = embedded.self_reported_timestamp
        status, judged_at, timestamped, pin_problems = None, now, False, []
        notes: list[str] = []
        if _has_signature_timestamp(embedded) and (pinned is not None or fingerprint is not None):
            roots = _tsa_roots(tsa_roots)
            status, proven, why = _validate_at_proven_time(embedded, signer_der, pinned, fingerprint, now, roots)
            if proven is not None:
                judged_at, timestamped = proven, True
                pin_problems = _pin_problems(signer_der, pinned, fingerprint, proven, proven=True)
            else:
                status = None
                untrusted = _untrusted_tsa(reader, embedded, pinned, signer_der if fingerprint else None, roots)
                notes.append(untrusted or f"its timestamp proves nothing here ({why}): judged at the present time")
        if status is None:
            pin_problems = _pin_problems(signer_der, pinned, fingerprint, now, proven=False)
            context = _context(signer_der, pinned, fingerprint, now, pin_problems)
            status = _run(async_validate_pdf_signature(embedded, signer_validation_context=context,
                                                       key_usage_settings=_usage()))
    except Exception as exc:
        if not _read_failure(exc):
            raise
        return SignatureReport(signed=True, pinned=pins, problems=(f"the signature cannot be read ({_reason(exc)})",))
    problems = _status_problems(status, pin_problems)
    if problems and notes:
        problems += notes
    coverage = status.coverage
    whole = coverage == SignatureCoverageLevel.ENTIRE_FILE
    changed = coverage == SignatureCoverageLevel.ENTIRE_REVISION
    # Signature maintenance (PAdES LTA): a /DSS and document timestamps added after the
    # signature change nothing signed; the file is still the edition as signed.
    others = [s for s in every if s is not embedded and s.sig_object_type == "/Sig"]
    maintained = (changed and status.modification_level == ModificationLevel.LTA_UPDATES and not others
                  and all(_intact_timestamp(s) for s in every if s.sig_object_type == "/DocTimeStamp"))
    if changed and not maintained:
        level = status.modification_level
        what = {ModificationLevel.LTA_UPDATES: "validation data (DSS or timestamps) was added",
                ModificationLevel.FORM_FILLING: "form fields were filled or signatures added",
                ModificationLevel.ANNOTATIONS: "annotations were added"}.get(level, "the document was changed")
        more = len(others)
        problems.append(f"changed after signing: an incremental update follows the signature ({what}"
                        f"{f'; {more} more signature(s)' if more else ''}); this is not the file as signed")
    elif not whole and not changed:
        problems.append("the signature does not cover the file (its byte range leaves parts out)")
    _, first, start, second = (int(n) for n in embedded.byte_range)
    return SignatureReport(signed=True, signed_at=signed_at, judged_at=judged_at, timestamped=timestamped,
                           pinned=pins, intact=bool(status.intact and status.valid),
                           trusted=bool(status.trusted) and not pin_problems and status.intact,
                           covers_whole_file=whole, maintained=maintained, signed_bytes=start + second,
                           changed_after_signing=changed and not maintained, problems=tuple(problems),
                           notes=tuple(notes), **_report_signer(signer_der))


def _has_signature_timestamp(embedded) -> bool:
    from pyhanko.sign.validation.generic_cms import extract_tst_data_iter

    return any(True for _ in extract_tst_data_iter(embedded.signer_info, signed=False))


def _intact_timestamp(embedded) -> bool:
    """A document timestamp whose token matches the bytes it covers (who issued it is judged by
    the LTA validation, when it is needed)."""
    from pyhanko.sign.validation import async_validate_pdf_timestamp
    from pyhanko_certvalidator import ValidationContext

    try:
        status = _run(async_validate_pdf_timestamp(embedded, ValidationContext(allow_fetching=False, trust_roots=[]),
                                                   skip_diff=True))
        return bool(status.intact and status.valid)
    except Exception as exc:
        if not _read_failure(exc):
            raise
        return False


def _tsa_roots(given: tuple[bytes, ...]) -> list:
    from asn1crypto import x509 as asn1_x509

    found = [der for data in given for der in _der_certificates(data)]
    if given and not found:
        raise SigningError("the TSA certificate given is not a certificate (PEM or DER); give the root "
                           "certificate of the time-stamping authority")
    return [asn1_x509.Certificate.load(der) for der in found]


def _untrusted_tsa(reader, embedded, pinned: bytes | None, signer_der: bytes | None, roots: list) -> str:
    """Words for a timestamp whose TSA's chain leads to no trusted root (the pin, or a given TSA
    root), naming the TSA; "" when its chain is trusted (then something else failed)."""
    from asn1crypto import x509 as asn1_x509
    from pyhanko.sign.validation import DocumentSecurityStore
    from pyhanko.sign.validation.generic_cms import extract_tst_data_iter
    from pyhanko_certvalidator import CertificateValidator, ValidationContext
    from pyhanko_certvalidator.errors import PathBuildingError

    trusted = list(roots) + [asn1_x509.Certificate.load(d) for d in (pinned, signer_der) if d is not None]
    try:
        tokens = list(extract_tst_data_iter(embedded.signer_info, signed=False))
        tokens += [s.signed_data for s in reader.embedded_timestamp_signatures]
        others = []
        try:
            others = list(DocumentSecurityStore.read_dss(reader).load_certs())
        except Exception as exc:
            if not _read_failure(exc) and type(exc).__name__ != "NoDSSFoundError":
                raise
        for token in tokens:
            tsa = _tst_signer(token)
            certs = others + [c.chosen for c in token["certificates"] if c.name == "certificate"]
            context = ValidationContext(trust_roots=trusted, other_certs=certs, allow_fetching=False,
                                        revocation_mode="soft-fail")
            try:
                _run(CertificateValidator(tsa, validation_context=context).async_validate_usage(set()))
            except PathBuildingError:
                subject = _subject_text(_x509(tsa.dump()))
                return (f"the time-stamping authority {subject} is not trusted: its chain leads to no pinned "
                        "certificate; give its root with --tsa-certificate ROOT.pem (otoritas cap waktu tidak "
                        "dipercaya): judged at the present time")
            except Exception as exc:
                if not _read_failure(exc) and not type(exc).__module__.startswith(("pyhanko", "asn1crypto")):
                    raise
    except Exception as exc:
        if not _read_failure(exc):
            raise
    return ""


def _validate_at_proven_time(embedded, signer_der: bytes, pinned: bytes | None, fingerprint: str | None,
                             now: datetime, tsa_roots: list | None = None):
    """pyHanko's AdES LTA validation (ETSI EN 319 102-1): the signature's timestamp and the chain
    of document timestamps prove when the signature existed; certificates and revocation data
    come only from the file (its /DSS), nothing is fetched. The pin is the only trust root, for
    the signer and the TSA alike. Returns (the pyHanko status, the proven time, "") or
    (None, None, why not)."""
    from asn1crypto import x509 as asn1_x509
    from pyhanko.sign.ades.report import AdESPassed
    from pyhanko.sign.validation.ades import ades_lta_validation
    from pyhanko.sign.validation.policy_decl import (PdfSignatureValidationSpec, RevinfoOnlineFetchingRule,
                                                     RevocationInfoGatheringSpec, SignatureValidationSpec)
    from pyhanko_certvalidator.context import CertValidationPolicySpec
    from pyhanko_certvalidator.ltv.types import ValidationTimingInfo
    from pyhanko_certvalidator.policy_decl import REQUIRE_REVINFO, CertRevTrustPolicy
    from pyhanko_certvalidator.registry import SimpleTrustManager

    roots = ([asn1_x509.Certificate.load(pinned)] if pinned is not None else []) + \
        ([asn1_x509.Certificate.load(signer_der)] if fingerprint is not None else [])
    policy = CertValidationPolicySpec(trust_manager=SimpleTrustManager.build(trust_roots=roots),
                                      revinfo_policy=CertRevTrustPolicy(REQUIRE_REVINFO))
    # The TSAs: the pin, and the TSA roots given for timestamps only (never for the signer).
    stamps = CertValidationPolicySpec(trust_manager=SimpleTrustManager.build(trust_roots=roots + list(tsa_roots)),
                                      revinfo_policy=CertRevTrustPolicy(REQUIRE_REVINFO)) if tsa_roots else None
    spec = PdfSignatureValidationSpec(SignatureValidationSpec(
        cert_validation_policy=policy, ts_cert_validation_policy=stamps,
        revinfo_gathering_policy=RevocationInfoGatheringSpec(
            online_fetching_rule=RevinfoOnlineFetchingRule.LOCAL_ONLY),
        key_usage_settings=_usage()))
    timing = ValidationTimingInfo(validation_time=now, best_signature_time=now, point_in_time_validation=True)
    result = _run(ades_lta_validation(embedded, spec, timing_info=timing))
    if result.ades_subindic != AdESPassed.OK or result.api_status is None:
        return None, None, _indication_words(getattr(result.ades_subindic, "name", "unknown"))
    timestamp = result.api_status.timestamp_validity
    proven = timestamp.timestamp if timestamp is not None else result.best_signature_time
    return result.api_status, min(proven, result.best_signature_time), ""


def check_manifest_signature(manifest: bytes, p7s: bytes, *, certificate: bytes | None = None,
                             fingerprint: str | None = None, now: datetime | None = None,
                             tsa_roots: tuple[bytes, ...] = ()) -> SignatureReport:
    """The detached CMS signature `p7s` (DER, or PEM as openssl may write it) over `manifest`,
    checked offline with pyHanko's CMS validator against the pin: at the time its signature
    timestamp proves, when it carries one whose TSA the pinned certificate vouches for (at the
    present), else at the present time."""
    from asn1crypto import cms

    _quiet()
    now = now or datetime.now(timezone.utc)
    _check_time(now, "now")
    pinned, fingerprint = _pins(certificate, fingerprint)
    pins = _pinned_fingerprints(pinned, fingerprint)
    try:
        if p7s.lstrip().startswith(b"-----BEGIN"):
            from asn1crypto import pem

            p7s = pem.unarmor(p7s)[2]
        content = cms.ContentInfo.load(p7s, strict=True)
        if content["content_type"].native != "signed_data":
            raise ValueError("not CMS signed data")
        signed_data = content["content"]
        if signed_data["encap_content_info"]["content"].native is not None:
            raise ValueError("the signature carries its content; expected a detached signature")
        from pyhanko.sign.general import extract_signer_info
        from pyhanko.sign.validation.generic_cms import extract_certificate_info

        extract_signer_info(signed_data)
        signer_der = extract_certificate_info(signed_data).signer_cert.dump()
    except Exception as exc:
        if not _read_failure(exc):
            raise
        raise SigningError(f"not a detached CMS signature that can be read ({_reason(exc)}); expected "
                           "the manifest's signature file as the site published it") from None
    return _check_detached(manifest, signed_data, signer_der, pinned, fingerprint, pins, now, _tsa_roots(tsa_roots))


def _check_detached(content: bytes, signed_data, signer_der: bytes, pinned: bytes | None, fingerprint: str | None,
                    pins: tuple[str, ...], now: datetime, tsa_roots: list | None = None) -> SignatureReport:
    """A CMS signature over `content` (see `check_manifest_signature`)."""
    from pyhanko.sign.validation.generic_cms import async_validate_detached_cms
    from pyhanko_certvalidator import ValidationContext

    try:
        others = [c for c in signed_data["certificates"] if c.name == "certificate"]
        proven, notes = _manifest_time(signed_data, pinned, others, now, tsa_roots or [])
        judged_at = proven or now
        pin_problems = _pin_problems(signer_der, pinned, fingerprint, judged_at, proven=proven is not None)
        context = _context(signer_der, pinned, fingerprint, judged_at, pin_problems)
        stamps = _context(signer_der, pinned, None, now, [], other_certs=[c.chosen for c in others]) \
            if pinned is not None else ValidationContext(trust_roots=[], allow_fetching=False)
        status = _run(async_validate_detached_cms(content, signed_data, signer_validation_context=context,
                                                  ts_validation_context=stamps, key_usage_settings=_usage()))
    except Exception as exc:
        if not _read_failure(exc):
            raise
        return SignatureReport(signed=True, pinned=pins, problems=(f"the signature cannot be read ({_reason(exc)})",))
    problems = _status_problems(status, pin_problems)
    if problems and notes:
        problems += notes
    return SignatureReport(signed=True, judged_at=judged_at, timestamped=proven is not None, pinned=pins,
                           intact=bool(status.intact and status.valid),
                           trusted=bool(status.trusted) and not pin_problems and status.intact,
                           covers_whole_file=True, notes=tuple(notes),
                           problems=tuple(problems), **_report_signer(signer_der))


def _manifest_time(signed_data, pinned: bytes | None, others, now: datetime,
                   tsa_roots: list | None = None) -> tuple[datetime | None, list[str]]:
    """The time the manifest signature's timestamp proves, or None (and why, in words): the token
    must cover the signature value, be intact, and come from a TSA the pinned certificate (a
    root) vouches for, judged now, nothing fetched. A fingerprint alone pins the publisher's
    certificate, which vouches for no TSA."""
    from pyhanko.sign.general import extract_signer_info
    from pyhanko.sign.validation.generic_cms import (extract_tst_data_iter, message_imprint_checker,
                                                     validate_tst_signed_data)
    from pyhanko.sign.validation.status import TimestampSignatureStatus

    info = extract_signer_info(signed_data)
    tokens = list(extract_tst_data_iter(info, signed=False))
    if not tokens:
        return None, []
    if pinned is None and not tsa_roots:
        return None, ["its timestamp proves nothing here (a fingerprint pins no time-stamping authority; "
                      "pin the root certificate, or give the TSA's with --tsa-certificate): judged at the "
                      "present time"]
    from asn1crypto import x509 as asn1_x509
    from pyhanko_certvalidator import ValidationContext

    roots = ([asn1_x509.Certificate.load(pinned)] if pinned is not None else []) + list(tsa_roots or [])
    context = ValidationContext(trust_roots=roots, allow_fetching=False, moment=now, revocation_mode="soft-fail",
                                other_certs=[c.chosen for c in others])
    intact = False
    for token in tokens:
        stamp = TimestampSignatureStatus(**_run(validate_tst_signed_data(token, context,
                                                                         message_imprint_checker(info))))
        if stamp.trusted:
            return stamp.timestamp, []
        intact |= bool(stamp.intact and stamp.valid)
    if intact:
        return None, ["its timestamp proves nothing here: the time-stamping authority is not trusted (its "
                      "chain leads to no pinned certificate; give its root with --tsa-certificate ROOT.pem; "
                      "otoritas cap waktu tidak dipercaya): judged at the present time"]
    return None, ["its timestamp proves nothing here (not intact, or its time-stamping authority is not "
                  "vouched for by the pinned certificate): judged at the present time"]


# --- renewal statements (keys rollover) ------------------------------------------------------------

RENEWALS_DIR = "certificates"            # the project's folder of renewal statements
RENEWAL_KIND = "speechgen certificate renewal"
# The unsigned attribute of manifest.json.p7s that carries the statements: an OID derived from a
# UUID (ITU-T X.667, arc 2.25), which needs no registration.
RENEWALS_OID = "2.25.151271226732618505226934768318100042512"
MAX_STATEMENT_BYTES = 256 * 1024
MAX_RENEWALS = 64


@dataclass(frozen=True)
class Renewal:
    """One renewal statement: the certificate `old` vouches, with its key, for `new` from `date`."""

    date: str
    old: str                            # SHA-256 of the certificate that signed the statement
    new: str                            # SHA-256 of the certificate it names
    signer: str = ""                    # the old certificate's subject, in words


def renewal_statement(old: Signer, new_certificate: bytes, when: datetime, timestamp_url: str = "") -> bytes:
    """The statement, signed with the OLD key (CMS carrying a small JSON text, DER), that the
    publisher's certificate is renewed by `new_certificate` (PEM or DER) from `when`'s day on.
    With `timestamp_url` the signature carries the TSA's timestamp, which lets the statement be
    checked after the old certificate expired. `openssl cms -verify -inform DER -in FILE
    -CAfile OLD.pem -purpose any` prints the text."""
    import json

    _check_time(when, "when")
    found = _der_certificates(new_certificate)
    if not found:
        raise SigningError("the new certificate is not a certificate (PEM or DER); give the renewed "
                           "publisher certificate")
    new = found[0]
    if new == old.certificate:
        raise SigningError("the new certificate is the one in use now; give the renewed certificate")
    certificate = _x509(new)
    _check_usable(certificate, "the new certificate")
    if when > certificate.not_valid_after_utc:
        raise SigningError(f"the new certificate expired on {_when(certificate.not_valid_after_utc)}; give a "
                           "certificate that is valid")
    text = json.dumps({"kind": RENEWAL_KIND, "date": when.astimezone(timezone.utc).date().isoformat(),
                       "old": old.fingerprint, "new": hashlib.sha256(new).hexdigest(),
                       "subject": _subject_text(certificate), "certificate": pem(new).decode("ascii")},
                      ensure_ascii=False, indent=1).encode("utf-8") + b"\n"
    return _sign_cms(text, old, timestamp_url, detached=False, what="the renewal statement")


def statement_name(statement: bytes) -> str:
    """The file name a statement is kept under in `certificates/`: its date and the new
    certificate's fingerprint (first 16 digits)."""
    fields, _, _ = _statement(statement)
    return f"{fields['date']}-{fields['new'][:16]}.p7m"


def _statement(data: bytes):
    """(its fields, its SignedData, its signed text) for a renewal statement; ValueError if it is not one."""
    import json

    from asn1crypto import cms
    from pyhanko.sign.validation.generic_cms import extract_certificate_info

    content = cms.ContentInfo.load(data, strict=True)
    if content["content_type"].native != "signed_data":
        raise ValueError("not CMS signed data")
    signed_data = content["content"]
    text = signed_data["encap_content_info"]["content"]
    if text.native is None:
        raise ValueError("carries no statement")
    text = bytes(text.native) if not isinstance(text.native, bytes) else text.native
    fields = json.loads(text.decode("utf-8"))
    if not isinstance(fields, dict) or fields.get("kind") != RENEWAL_KIND:
        raise ValueError("not a renewal statement")
    for name in ("old", "new"):
        if not isinstance(fields.get(name), str) or not re.fullmatch(r"[0-9a-f]{64}", fields[name]):
            raise ValueError(f"no {name} certificate fingerprint")
    if not isinstance(fields.get("date"), str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", fields["date"]):
        raise ValueError("no date")
    named = _der_certificates(str(fields.get("certificate", "")).encode("ascii", "replace"))
    if len(named) != 1 or hashlib.sha256(named[0]).hexdigest() != fields["new"]:
        raise ValueError("the certificate it names is not the one its fingerprint says")
    signer = extract_certificate_info(signed_data).signer_cert.dump()
    if hashlib.sha256(signer).hexdigest() != fields["old"]:
        raise ValueError("not signed by the certificate it says it renews")
    return fields, signed_data, text


def read_statements(project_root: Path) -> tuple[bytes, ...]:
    """The project's renewal statements (`certificates/*.p7m`), oldest first; one that cannot be
    read as a statement is a SigningError naming it."""
    folder = project_root / RENEWALS_DIR
    if not folder.is_dir():
        return ()
    found = []
    for path in sorted(folder.glob("*.p7m")):
        data = _read(path, _shown(path, project_root), MAX_STATEMENT_BYTES, "")
        try:
            _statement(data)
        except Exception as exc:
            if not _read_failure(exc) and not isinstance(exc, UnicodeDecodeError):
                raise
            raise SigningError(f"{_shown(path, project_root)}: not a renewal statement ({_reason(exc)}); "
                               "keep only what `speechgen keys rollover` wrote in "
                               f"{RENEWALS_DIR}/") from None
        found.append(data)
    if len(found) > MAX_RENEWALS:
        raise SigningError(f"{RENEWALS_DIR}/: {len(found)} renewal statements; at most {MAX_RENEWALS}")
    return tuple(found)


def certificate_history(statements: tuple[bytes, ...]) -> list[dict[str, str]]:
    """The publisher's certificates over time, oldest first, as the renewal statements name them
    (for the manifest's `certificates`): each certificate's SHA-256, the day it took over
    (`from`) and the certificate whose key vouched for it (`vouched_for_by`), the day it was
    renewed (`until`). Each statement's signature travels in `manifest.json.p7s`, where `verify`
    checks it; [] without statements."""
    found = sorted((_statement(data)[0] for data in statements), key=lambda fields: fields["date"])
    history: list[dict[str, str]] = []
    for fields in found:
        if not history or history[-1]["sha256"] != fields["old"]:
            history.append({"sha256": fields["old"]})
        history[-1]["until"] = fields["date"]
        history.append({"sha256": fields["new"], "from": fields["date"], "vouched_for_by": fields["old"]})
    return history


def _with_renewals(der: bytes, renewals: tuple[bytes, ...]) -> bytes:
    """The signature `der` with the statements in its unsigned attributes, and the certificates
    they name among its certificates."""
    from asn1crypto import cms, core

    content = cms.ContentInfo.load(der)
    signed_data = content["content"]
    info = signed_data["signer_infos"][0]
    attributes = [] if isinstance(info["unsigned_attrs"], core.Void) else list(info["unsigned_attrs"])
    attributes.append(cms.CMSAttribute({"type": RENEWALS_OID,
                                        "values": [core.Any.load(r) for r in renewals]}))
    info["unsigned_attrs"] = cms.CMSAttributes(attributes)
    have = {c.chosen.dump() for c in signed_data["certificates"]}
    extra = []
    for statement in renewals:
        _, inner, _ = _statement(statement)
        for certificate in inner["certificates"]:
            if certificate.name == "certificate" and certificate.chosen.dump() not in have:
                have.add(certificate.chosen.dump())
                extra.append(certificate)
    if extra:
        signed_data["certificates"] = cms.CertificateSet(list(signed_data["certificates"]) + extra)
    return content.dump(force=True)


def renewals_in(p7s: bytes) -> list[bytes]:
    """The renewal statements a manifest signature carries (none when it cannot be read)."""
    from asn1crypto import cms, core

    try:
        info = cms.ContentInfo.load(p7s)["content"]["signer_infos"][0]
        if isinstance(info["unsigned_attrs"], core.Void):
            return []
        return [value.dump() for attribute in info["unsigned_attrs"]
                if attribute["type"].dotted == RENEWALS_OID for value in attribute["values"]][:MAX_RENEWALS]
    except Exception as exc:
        if not _read_failure(exc):
            raise
        return []


def follow_renewals(p7s: bytes, target: str, *, certificate: bytes | None = None, fingerprint: str | None = None,
                    now: datetime | None = None) -> tuple[list[Renewal], list[str]]:
    """The chain of renewal statements, carried by the manifest signature `p7s`, from the pinned
    certificate (or fingerprint) to the certificate whose SHA-256 is `target`: each statement
    signed by a certificate already vouched for (the pin, then each certificate a checked
    statement named), checked as any signature is (at the time its timestamp proves, else now).
    Returns (the chain, oldest first; [] when none reaches `target`) and what was refused."""
    _quiet()
    now = now or datetime.now(timezone.utc)
    pinned, fingerprint = _pins(certificate, fingerprint)
    trusted = {fp: [] for fp in _pinned_fingerprints(pinned, fingerprint)}
    refused: list[str] = []
    statements = []
    for data in renewals_in(p7s):
        try:
            statements.append(_statement(data))
        except Exception as exc:
            if not _read_failure(exc) and not isinstance(exc, UnicodeDecodeError):
                raise
            refused.append(f"a renewal statement cannot be read ({_reason(exc)})")
    statements.sort(key=lambda found: found[0]["date"])
    progress = True
    while progress and target not in trusted:
        progress = False
        for fields, signed_data, text in statements:
            if fields["new"] in trusted:
                continue
            vouched = fields["old"] in trusted
            if not vouched and pinned is None:
                continue
            signer_der = _signer_der(signed_data)
            report = _check_detached(text, _detached(signed_data), signer_der, pinned,
                                     fields["old"] if vouched else None, (), now)
            step = Renewal(fields["date"], fields["old"], fields["new"], report.signer)
            if report.intact and report.trusted:
                trusted[fields["new"]] = trusted.get(fields["old"], []) + [step]
                progress = True
            else:
                refused.append(f"the renewal statement of {fields['date']} naming "
                               f"{fingerprint_for_print(fields['new'])} is refused: "
                               + "; ".join(report.problems or ("not signed by the certificate it renews",)))
    if target not in trusted and statements and not refused:
        refused.append(f"no renewal statement signed by the pinned certificate leads to "
                       f"{fingerprint_for_print(target)}")
    return trusted.get(target, []), refused


def _detached(signed_data):
    """A copy of an encapsulating SignedData without its content: the signature is over the signed
    attributes (the content's digest among them), so it checks the same, as a detached one."""
    from asn1crypto import cms

    copy = signed_data.copy()
    copy["encap_content_info"] = cms.ContentInfo({"content_type": "data"})
    return copy


def rollover(project_root: Path, certificate: Path, new_certificate: Path, environ: Mapping[str, str],
             timestamp_url: str, now: datetime) -> tuple[Path, str]:
    """`speechgen keys rollover`: the key of the certificate in use (`certificate`, opened from
    the environment as for signing) signs a statement naming `new_certificate`, kept as
    `certificates/<date>-<new>.p7m`; then `certificate` is replaced by the new one. Returns the
    statement's path and the new fingerprint. The caller holds the project's lock."""
    old = signer_from_env(project_root, certificate, environ, now)
    if old is None:
        raise SigningError(f"{KEY_ENV} is not set: give the PKCS#12 key file of the certificate in use "
                           f"({_shown(project_root / certificate, project_root)}); it signs the statement")
    try:
        new = read_capped(new_certificate, MAX_CERTIFICATE_BYTES)
    except (Unreadable, OSError) as exc:
        raise SigningError(f"{new_certificate}: cannot read the new certificate: "
                           f"{getattr(exc, 'strerror', None) or exc}") from None
    if b"PRIVATE KEY-----" in new:
        raise SigningError(f"{new_certificate}: holds a PRIVATE KEY; give the new public certificate only")
    statement = renewal_statement(old, new, now, timestamp_url)
    folder = project_root / RENEWALS_DIR
    target = folder / statement_name(statement)
    der = _der_certificates(new)[0]
    written: list[Path] = []
    try:
        folder.mkdir(exist_ok=True)
        _write_new(target, statement, 0o644, written)
        path = certificate if certificate.is_absolute() else project_root / certificate
        temporary = path.with_name(f".{path.name}.rollover-tmp")
        temporary.unlink(missing_ok=True)
        _write_new(temporary, pem(der), 0o644, written)
        os.replace(temporary, path)
    except FileExistsError:
        raise SigningError(f"{_shown(target, project_root)}: exists already: this renewal was made "
                           "before") from None
    except OSError as exc:
        for made in written:
            made.unlink(missing_ok=True)
        raise SigningError(f"{exc.filename or folder}: cannot write: {exc.strerror or exc}") from None
    return target, hashlib.sha256(der).hexdigest()


def _signer_der(signed_data) -> bytes:
    from pyhanko.sign.validation.generic_cms import extract_certificate_info

    return extract_certificate_info(signed_data).signer_cert.dump()


# --- sample keys -------------------------------------------------------------------------------------

def project_above(folder: Path) -> Path | None:
    """The speechgen project `folder` is in (itself or a parent holding speechgen.toml), if any."""
    try:
        folder = folder.resolve()
    except (OSError, RuntimeError):
        folder = Path(os.path.abspath(folder))
    for candidate in (folder, *folder.parents):
        if (candidate / PROJECT_MARKER).exists():
            return candidate
    return None


def check_key_folder(out_dir: Path) -> None:
    """Refuses a folder for a private key that is inside a speechgen project."""
    project = project_above(out_dir)
    if project is not None:
        raise SigningError(f"{out_dir}: is inside the speechgen project {project}; the private key must "
                           "never be in a project, where it could be committed or published. Choose a "
                           "folder outside it (e.g. ~/.config/speechgen/keys) and copy only "
                           f"{CERTIFICATE_NAME} into the project")


def new_sample_keys(out_dir: Path, name: str, passphrase: str, days: int) -> tuple[Path, Path]:
    """A self-signed SAMPLE certificate (`publisher.pem`) and its RSA-3072 key as a PKCS#12 file
    protected by `passphrase` (`publisher-key.p12`, mode 0600) in `out_dir`, valid for `days`
    days from now. The subject says it is a sample. Refuses a folder inside a speechgen project
    (the key must never be in one) and files that already exist."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.hazmat.primitives.serialization import pkcs12
    from cryptography.x509.oid import NameOID

    check_key_folder(out_dir)
    if not passphrase:
        raise SigningError("the passphrase is empty; the key file must be protected by a passphrase")
    if not 1 <= days <= 3650:
        raise SigningError(f"--days {days}: a sample certificate is valid from 1 to 3650 days")
    name = " ".join(name.split())
    if not name:
        raise SigningError("the name is empty; give the publisher's name, e.g. --name \"Sekretariat Negara\"")
    common = name if "SAMPLE" in name.upper() else f"{name} (SAMPLE)"
    if len(common) > 64:
        raise SigningError(f"the name {name!r} is too long for a certificate (64 characters at most, "
                           "with \" (SAMPLE)\")")
    cert_path, key_path = out_dir / CERTIFICATE_NAME, out_dir / KEY_NAME
    for path in (cert_path, key_path):
        if path.exists() or path.is_symlink():
            raise SigningError(f"{path}: exists already; nothing was written. Choose another --out "
                               "folder, or remove the old sample files first")

    key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common),
                         x509.NameAttribute(NameOID.ORGANIZATION_NAME, SAMPLE_ORGANIZATION)])
    start = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(minutes=5)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject).issuer_name(subject).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start).not_valid_after(start + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                     crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    p12 = pkcs12.serialize_key_and_certificates(
        common.encode("utf-8"), key, certificate, None,
        serialization.BestAvailableEncryption(passphrase.encode("utf-8")))
    written: list[Path] = []
    try:
        out_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        _write_new(key_path, p12, 0o600, written)
        _write_new(cert_path, certificate.public_bytes(serialization.Encoding.PEM), 0o644, written)
    except OSError as exc:
        for path in written:            # no half pair left behind
            path.unlink(missing_ok=True)
        raise SigningError(f"{exc.filename or out_dir}: cannot write: {exc.strerror or exc}") from None
    return cert_path, key_path


def _write_new(path: Path, data: bytes, mode: int, written: list[Path]) -> None:
    """Writes a file that must not exist yet, with `mode` from the start (never readable by
    others, even for a moment, when mode is 0600)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), mode)
    written.append(path)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
