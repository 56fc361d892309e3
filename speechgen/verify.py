"""`speechgen verify FILE.pdf --site DIR-or-URL`: is a downloaded PDF the one that was published?

The PDF's SHA-256 is compared with every PDF the site's manifest.json lists. The site is either a
built output folder or the public URL of the site (or of its manifest.json).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import stat
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from speechgen import signing
from speechgen.config import Unreadable, read_capped
from speechgen.errors import SpeechgenError
from speechgen.graph import MANIFEST, MANIFEST_SIGNATURE
from speechgen.model import fingerprint

TIMEOUT = 20.0                          # seconds for the whole manifest download, redirects included
MAX_MANIFEST_BYTES = 64 * 1024 * 1024
MAX_PDF_BYTES = 512 * 1024 * 1024      # what `verify` reads whole to check a signature
MAX_REDIRECTS = 5
LOOPBACK = ("127.0.0.1", "localhost", "::1")


class VerifyError(SpeechgenError):
    """The PDF or the manifest could not be read."""


@dataclass(frozen=True)
class Match:
    speech: str                         # speech id, e.g. "2025/pidato-kenegaraan"
    lang: str
    title: str
    date: str
    url: str                            # the public URL of the PDF
    edition: int = 0                    # its edition (0: a manifest without editions)
    editions: int = 0                   # how many editions the speech has in this language
    released: bool = True               # False: the latest PDF of a build, not yet released
    superseded: str = ""                # the date of the next edition, if any
    superseded_note: str = ""           # and what it corrected
    withdrawn: str = ""                 # the day the speech was withdrawn, if it was
    withdrawn_note: str = ""            # and why (in the PDF's language)
    earlier_revision: bool = False      # an edition's revision before `speechgen renew` added a timestamp
    latest_url: str = ""                # where the latest edition is, for a superseded one

    @property
    def latest(self) -> bool:
        return not self.superseded

    @property
    def withdrawal(self) -> str:
        """'ditarik pada / withdrawn on 2025-09-01: why', or "" for a speech not withdrawn."""
        if not self.withdrawn:
            return ""
        return f"ditarik pada / withdrawn on {self.withdrawn}" + (f": {self.withdrawn_note}" if self.withdrawn_note else "")


@dataclass(frozen=True)
class Verdict:
    sha256: str
    manifest: str                       # where the manifest was read from ("" without --site)
    match: Match | None
    signature: object | None = None     # signing.SignatureReport of the PDF, when a pin was given
    manifest_signature: object | None = None   # of manifest.json.p7s, when a pin and a site were given
    manifest_signed: bool = False       # the site has a manifest signature at all
    maintained: bool = False            # the listed edition, with validation data (DSS, timestamps) added since
    renewals: tuple = ()                # signing.Renewal chain from the pinned certificate to the signer's (keys rollover)
    renewal_problems: tuple[str, ...] = ()   # why no such chain was accepted

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.sha256)


def sha256_file(path: Path) -> str:
    """The SHA-256 of a regular file, streamed; a FIFO or a device (/dev/zero) is refused."""
    digest = hashlib.sha256()
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            raise VerifyError(f"{_printable(str(path))}: not a regular file; give the PDF file itself")
        fd = os.open(path, flags)
        with os.fdopen(fd, "rb") as f:
            if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                raise VerifyError(f"{_printable(str(path))}: not a regular file; give the PDF file itself")
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
    except (OSError, ValueError) as exc:
        raise VerifyError(f"{_printable(str(path))}: cannot read: {getattr(exc, 'strerror', None) or exc}") from None
    return digest.hexdigest()


def url_problem(url: str) -> str | None:
    """Why a manifest may not be read from `url`, or None: https anywhere, plain http only on
    this machine (a preview), nothing else. The same rule for the address given and every
    redirect."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port                      # raises ValueError when out of range or not a number
    except ValueError:
        return "not a valid URL"
    if parts.scheme not in ("http", "https") or not host:
        return "not an https:// address"
    if parts.username or parts.password:
        return "a manifest address must not hold a user name or password"
    # A manifest read over plain http could be swapped on the way: only https proves anything
    # (http is allowed for a preview on this machine).
    if parts.scheme == "http" and host not in LOOPBACK:
        return ("use the site's https:// address; over plain http the manifest could be altered "
                "on the way (gunakan https)")
    return None


def load_manifest(site: str) -> tuple[dict, str]:
    """The manifest of a built folder, or of a site URL (http or https); and where it was
    actually read from (after any redirect)."""
    data, where, _ = _manifest_bytes(site)
    return _parse(data, _printable(where)), where


def _manifest_bytes(site: str) -> tuple[bytes, str, bytes | None]:
    """The manifest's bytes, where they were read from, and its signature (manifest.json.p7s
    beside it) if the site has one."""
    scheme = site.partition("://")[0].lower() if "://" in site else ""
    if scheme:
        problem = url_problem(site) if scheme in ("http", "https") else "not an https:// address"
        if problem:
            raise VerifyError(f"{_printable(site)}: {problem}")
        url = site if site.endswith(".json") else urljoin(site if site.endswith("/") else site + "/", MANIFEST)
        data, read_from = _download(url)
        try:
            signature, _ = _download(urljoin(read_from, MANIFEST_SIGNATURE))
        except VerifyError:
            signature = None
        return data, read_from, signature
    path = Path(site)
    try:
        if path.is_dir():
            path = path / MANIFEST
        data = read_capped(path, MAX_MANIFEST_BYTES)
    except Unreadable as exc:
        raise VerifyError(f"{_printable(str(path))}: {exc}") from None
    except (OSError, ValueError):              # missing, unreadable, a NUL in the name
        raise VerifyError(f"{_printable(str(path))}: no manifest here; give --site the built site "
                          "folder or the site's URL (manifest tidak ditemukan)") from None
    try:
        signature = read_capped(path.parent / MANIFEST_SIGNATURE, MAX_MANIFEST_BYTES)
    except (Unreadable, OSError, ValueError):
        signature = None
    return data, str(path), signature


def _printable(text: str, limit: int = 300) -> str:
    """Text from the command line or a server, for a message: controls (a NUL, an escape) and
    bytes that are not UTF-8 shown as escapes, and no longer than `limit`."""
    if not text.isprintable():
        text = text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
        text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
    return text if len(text) <= limit else text[:limit] + "…"


class _Deadline:
    """One time limit for a whole download: when it passes, every connection it knows is shut,
    which ends a read blocked on a server that sends one byte now and then."""

    def __init__(self, seconds: float):
        self.end = time.monotonic() + seconds
        self.expired = False
        self._lock = threading.Lock()
        self._connections: list = []
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True
        self._timer.start()

    def left(self) -> float:
        return max(0.001, self.end - time.monotonic())

    def track(self, connection) -> None:
        with self._lock:
            self._connections.append(connection)

    def _expire(self) -> None:
        import socket

        with self._lock:
            self.expired = True
            for connection in self._connections:
                sock = getattr(connection, "sock", None)
                if sock is not None:
                    try:
                        sock.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass

    def cancel(self) -> None:
        self._timer.cancel()


def _opener(deadline: _Deadline):
    """urllib (so a proxy set in the environment is used) whose connections the deadline can
    shut, and whose redirects are each checked with `url_problem`, never from https to http."""
    import http.client
    import urllib.request

    class HTTPConnection(http.client.HTTPConnection):
        def connect(self) -> None:
            deadline.track(self)
            self.timeout = deadline.left()
            super().connect()

    class HTTPSConnection(http.client.HTTPSConnection):
        def connect(self) -> None:
            deadline.track(self)
            self.timeout = deadline.left()
            super().connect()

    class HTTPHandler(urllib.request.HTTPHandler):
        def http_open(self, req):
            return self.do_open(HTTPConnection, req)

    class HTTPSHandler(urllib.request.HTTPSHandler):
        def https_open(self, req):
            return self.do_open(HTTPSConnection, req, context=self._context)

    class Redirects(urllib.request.HTTPRedirectHandler):
        max_redirections = MAX_REDIRECTS

        def http_error_302(self, req, fp, code, msg, headers):
            location = headers.get("location") or headers.get("uri")
            if location:                # before urllib's own checks, so the message names both ends
                _check_redirect(req.full_url, urljoin(req.full_url, location))
            return super().http_error_302(req, fp, code, msg, headers)

        http_error_301 = http_error_303 = http_error_307 = http_error_308 = http_error_302

        def redirect_request(self, req, fp, code, msg, headers, newurl):
            _check_redirect(req.full_url, newurl)
            return super().redirect_request(req, fp, code, msg, headers, newurl)

    return urllib.request.build_opener(HTTPHandler, HTTPSHandler, Redirects)


def _check_redirect(origin: str, target: str) -> None:
    """A redirect is followed only to an address that could be given directly, and never from
    https down to plain http."""
    problem = url_problem(target)
    if problem is None and urlsplit(origin).scheme == "https" and urlsplit(target).scheme != "https":
        problem = "a redirect from https to plain http is not followed"
    if problem is not None:
        raise VerifyError(f"{_printable(origin)}: redirects to {_printable(target)}: {problem}")


def _download(url: str) -> tuple[bytes, str]:
    """The manifest's bytes and the URL they were read from, within one deadline (`TIMEOUT`)
    for the connection, every redirect and the whole body."""
    import http.client
    import urllib.error
    import urllib.request

    deadline = _Deadline(TIMEOUT)
    request = urllib.request.Request(url, headers={"User-Agent": "speechgen-verify"})
    read_from = url
    try:
        with _opener(deadline).open(request, timeout=deadline.left()) as response:
            read_from = response.geturl()
            length = response.headers.get("Content-Length", "")
            if length.isdigit() and int(length) > MAX_MANIFEST_BYTES:
                raise VerifyError(f"{_printable(read_from)}: the manifest is larger than {MAX_MANIFEST_BYTES:,} bytes")
            chunks, size = [], 0
            while size <= MAX_MANIFEST_BYTES:
                chunk = response.read1(1 << 16) if hasattr(response, "read1") else response.read(1 << 16)
                if deadline.expired:
                    break
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
    except VerifyError:
        if deadline.expired:
            raise VerifyError(f"{_printable(read_from)}: the manifest did not arrive within {TIMEOUT:g} s") from None
        raise
    except urllib.error.HTTPError as exc:
        raise VerifyError(f"{_printable(exc.geturl() or read_from)}: HTTP {exc.code} {_printable(str(exc.reason))}") from None
    except (urllib.error.URLError, OSError, http.client.HTTPException, ValueError) as exc:
        if deadline.expired:
            raise VerifyError(f"{_printable(read_from)}: the manifest did not arrive within {TIMEOUT:g} s") from None
        reason = getattr(exc, "reason", None) or exc
        raise VerifyError(f"{_printable(read_from)}: cannot download the manifest: {_printable(str(reason))}") from None
    finally:
        deadline.cancel()
    if deadline.expired:
        raise VerifyError(f"{_printable(read_from)}: the manifest did not arrive within {TIMEOUT:g} s")
    if size > MAX_MANIFEST_BYTES:
        raise VerifyError(f"{_printable(read_from)}: the manifest is larger than {MAX_MANIFEST_BYTES:,} bytes")
    return b"".join(chunks), read_from


def _parse(data: bytes, where: str) -> dict:
    try:
        manifest = json.loads(data.decode("utf-8"))
    except RecursionError:             # json refuses to go deeper than Python's recursion limit
        raise VerifyError(f"{where}: not a speechgen manifest (lists and objects nested too "
                          "deeply)") from None
    except (UnicodeDecodeError, ValueError):
        raise VerifyError(f"{where}: not a speechgen manifest (not JSON)") from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("speeches"), list):
        raise VerifyError(f"{where}: not a speechgen manifest (no speeches list)")
    return manifest


def find(manifest: dict, sha256: str) -> Match | None:
    """The speech, language and edition whose PDF has this SHA-256: any released edition
    (`languages.<lang>.editions`), or the latest PDF (`languages.<lang>.pdf`)."""
    for speech in manifest["speeches"]:
        languages = speech.get("languages") if isinstance(speech, dict) else None
        for lang, entry in (languages.items() if isinstance(languages, dict) else ()):
            if not isinstance(entry, dict):
                continue
            pdf = entry.get("pdf") if isinstance(entry.get("pdf"), dict) else {}
            editions = [e for e in entry.get("editions") or [] if isinstance(e, dict)] \
                if isinstance(entry.get("editions"), list) else []
            withdrawn = speech.get("withdrawn") if isinstance(speech.get("withdrawn"), dict) else {}
            notes = withdrawn.get("notes") if isinstance(withdrawn.get("notes"), dict) else {}
            found = Match(str(speech.get("id", "")), lang, str(entry.get("title", "")),
                          str(speech.get("date", "")), "", withdrawn=str(withdrawn.get("date", "") or ""),
                          withdrawn_note=str(notes.get(lang) or withdrawn.get("note", "") or ""))
            for n, edition in enumerate(editions):
                # a renewed edition (`speechgen renew`) lists its earlier revisions: each is that edition
                revisions = edition.get("revisions") if isinstance(edition.get("revisions"), list) else []
                if sha256 in {str(edition.get("sha256", "")).lower(), *(str(r).lower() for r in revisions)}:
                    following = editions[n + 1] if n + 1 < len(editions) else None
                    if following is None and pdf.get("released") is False:
                        following = {"date": "", "note": ""}     # an unreleased edition follows
                    return dataclasses.replace(
                        found, url=str(edition.get("url", "")), edition=_int(edition.get("edition")),
                        earlier_revision=str(edition.get("sha256", "")).lower() != sha256,
                        editions=max(len(editions), _int(pdf.get("edition"))),
                        superseded=str(following.get("date", "") or "-") if following else "",
                        superseded_note=str(following.get("note", "")) if following else "",
                        latest_url=str(pdf.get("url", "") or editions[-1].get("url", "")) if following else "")
            if str(pdf.get("sha256", "")).lower() == sha256:
                return dataclasses.replace(found, url=str(pdf.get("url", "")), edition=_int(pdf.get("edition")),
                                           editions=_int(pdf.get("edition")),
                                           released=pdf.get("released", True) is not False)
    return None


def _int(value) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def verify(pdf: Path, site: str | None, *, certificate: Path | None = None,
           fingerprint: str | None = None, tsa_certificates: tuple[Path, ...] = ()) -> Verdict:
    """The PDF against the site's manifest (`site`), and, with a pinned certificate or
    fingerprint, its signature and the manifest's, offline. `tsa_certificates` are roots trusted
    for timestamps only (a TSA that is not under the publisher's certification authority)."""
    sha256 = sha256_file(pdf)
    pinned = certificate is not None or fingerprint is not None
    pin: dict = {}
    if pinned:
        try:
            pin = dict(certificate=read_capped(certificate, signing.MAX_CERTIFICATE_BYTES) if certificate else None,
                       fingerprint=signing.parse_fingerprint(fingerprint) if fingerprint else None)
        except (Unreadable, OSError) as exc:
            raise VerifyError(f"{_printable(str(certificate))}: cannot read the certificate: "
                              f"{getattr(exc, 'strerror', None) or exc}") from None
        stamps = []
        for path in tsa_certificates:
            try:
                stamps.append(read_capped(path, signing.MAX_CERTIFICATE_BYTES))
            except (Unreadable, OSError) as exc:
                raise VerifyError(f"{_printable(str(path))}: cannot read the TSA certificate: "
                                  f"{getattr(exc, 'strerror', None) or exc}") from None
            if not signing.certificates_in(stamps[-1]):
                raise VerifyError(f"{_printable(str(path))}: not a certificate (PEM or DER); give the root "
                                  "certificate of the time-stamping authority")
    report = None
    data = None
    if pinned:
        data = _read_pdf(pdf)
        report = signing.check_pdf_signature(data, **pin, tsa_roots=tuple(stamps))
    if site is None:
        return Verdict(sha256, "", None, signature=report)
    raw, where, p7s = _manifest_bytes(site)
    manifest = _parse(raw, _printable(where))
    manifest_report = None
    if pinned and p7s is not None:
        manifest_report = signing.check_manifest_signature(raw, p7s, **pin, tsa_roots=tuple(stamps))
    renewals, renewal_problems = (), ()
    if manifest_report is not None and not manifest_report.ok and manifest_report.intact \
            and manifest_report.fingerprint not in manifest_report.pinned and signing.renewals_in(p7s):
        # Signed with a renewed certificate: the statements the manifest's signature carries, each
        # signed by the certificate it renews, lead from the pinned certificate to the signer's.
        chain, refused = signing.follow_renewals(p7s, manifest_report.fingerprint, **pin)
        renewal_problems = tuple(refused)
        if chain:
            renewals = tuple(chain)
            manifest_report = signing.check_manifest_signature(
                raw, p7s, certificate=pin["certificate"], fingerprint=manifest_report.fingerprint)
            if report is not None and report.signed and not report.ok and \
                    report.fingerprint in {step.new for step in chain}:
                report = signing.check_pdf_signature(data, certificate=pin["certificate"],
                                                     fingerprint=report.fingerprint)
    match, maintained = find(manifest, sha256), False
    if match is None:
        match = _maintained_edition(data if data is not None else _read_pdf(pdf), manifest, report)
        maintained = match is not None
    return Verdict(sha256, where, match, signature=report, manifest_signature=manifest_report,
                   manifest_signed=p7s is not None, maintained=maintained, renewals=renewals,
                   renewal_problems=renewal_problems)


MAX_REVISIONS = 64                      # revision boundaries of one PDF tried against the manifest


def _read_pdf(pdf: Path) -> bytes:
    try:
        return read_capped(pdf, MAX_PDF_BYTES)
    except (Unreadable, OSError) as exc:
        raise VerifyError(f"{_printable(str(pdf))}: cannot read: {getattr(exc, 'strerror', None) or exc}") from None


def _maintained_edition(data: bytes, manifest: dict, report) -> Match | None:
    """Signature maintenance (issue 29): the listed edition whose bytes are the file's leading
    bytes up to a revision boundary (an `%%EOF`), when all that follows the publisher's signature
    is validation data (/DSS, document timestamps), as pyHanko's difference analysis finds it. The
    edition is then this file, as signed, with evidence added since."""
    import re

    if not data.startswith(b"%PDF-"):
        return None
    if report is None:
        try:
            report = signing.check_pdf_signature(data)
        except signing.SigningError:
            return None
    if not (report.signed and report.intact and report.maintained and report.signed_bytes):
        return None
    ends = sorted({e for m in re.finditer(rb"%%EOF(\r\n|\r|\n)?", data) for e in (m.start() + 5, m.end())})
    for end in [e for e in ends if report.signed_bytes <= e < len(data)][-MAX_REVISIONS:]:
        found = find(manifest, hashlib.sha256(data[:end]).hexdigest())
        if found is not None:
            return found
    return None
